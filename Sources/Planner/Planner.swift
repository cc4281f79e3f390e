import FleetCore
import PolicyEngine

/// The planner's own reason codes, beside the eligibility table's (DESIGN §5).
public enum PlannerCode {
    /// Skipped: the cluster carries the "never touch" tag.
    public static let neverTouchTag = "neverTouchTag"
    /// Skipped: change windows apply to the cluster and none is open at the plan's evaluation time.
    public static let outsideChangeWindow = "outsideChangeWindow"
    /// Skipped: every DeployIfNotExists result of the cluster is covered by an exemption.
    public static let exempt = "exempt"
    /// Skipped: the only assignments that want a change are DoNotEnforce (no `--include-do-not-enforce`).
    public static let doNotEnforce = "doNotEnforce"
    /// Blocked: two assignments (or two policies) want different bodies for one resource.
    public static let conflictingAssignments = "conflictingAssignments"
    /// Blocked: a configuration's scope or namespace changed, which needs a delete and re-create.
    public static let replaceNeedsFlag = "replaceNeedsFlag"
    /// Blocked: Flux v1 configurations must be deleted first (the eligibility code, with the planner's flag).
    public static let fluxV1Present = "fluxV1Present"
    /// Blocked: a configuration needs the extension, and nothing in the plan installs it.
    public static let extensionMissing = "extensionMissing"
    /// Blocked: the cluster has a `microsoft.flux` extension under another name than the desired one.
    public static let extensionNameMismatch = "extensionNameMismatch"
    /// Blocked: a DeployIfNotExists evaluation failed, so the desired state is unknown.
    public static let policyError = "policyError"
    /// Blocked: the desired resource's type is not one the planner knows how to change.
    public static let unsupportedResourceType = "unsupportedResourceType"
    /// Blocked: a desired configuration, kustomization or namespace name breaks ARM's naming rules.
    public static let invalidName = "invalidName"
}

/// Turns a scan into a plan: per cluster in scope, `change`, `noop`, `blocked`, `deferred` or `skipped`, with
/// ordered actions for a change (DESIGN §5).
///
/// Pure: values in, a plan out. The rules, in order:
/// 1. A cluster is in the plan when an assignment covers it (its scope, not under a `notScopes` entry).
/// 2. `skipped` is decided first: the never-touch tag; then, among the DeployIfNotExists results, when every
///    one is Exempt (`exempt`) or belongs to a DoNotEnforce assignment without `--include-do-not-enforce`
///    (`doNotEnforce`). Skipped clusters are not preflighted.
/// 3. A resource needs a change when its strict view drifts, the observed one is `Failed`, a NonCompliant
///    result wants it, or (the extension) an eligibility advisory asks for an upgrade. No change: `noop`,
///    whatever the preflight says.
/// 4. Otherwise `blocked` (eligibility blockers, conflicting assignments, a replace without the flag, Flux v1
///    without `--migrate-flux-v1`, …) > `deferred` (eligibility deferrals: in-flight operations, stopped,
///    offline) > `change`.
public enum Planner {
    /// The API version used to delete Flux v1 `sourceControlConfigurations`.
    public static let fluxV1APIVersion = "2023-05-01"

    /// Makes the plan.
    ///
    /// - Parameters:
    ///   - scan: The scan of `fleet` with `bundle`.
    ///   - fleet: The fleet the scan evaluated.
    ///   - bundle: The policies the scan evaluated (for scopes and the digest).
    ///   - options: The planner's flags.
    ///   - inputs: The inventory and policies the plan pins (`policiesDigest` defaults to the bundle's).
    public static func plan(
        scan: ScanResult, fleet: Fleet, bundle: PolicyBundle, options: PlanOptions = PlanOptions(),
        inputs: PlanInputs = PlanInputs()
    ) -> Plan {
        var inputs = inputs
        if inputs.policiesDigest.isEmpty { inputs.policiesDigest = bundle.digest }
        var resultsByCluster: [ResourceIDKey: [PolicyResult]] = [:]
        for result in scan.results {
            resultsByCluster[ResourceIDKey(result.clusterId), default: []].append(result)
        }
        var strictByCluster: [ResourceIDKey: [StrictResult]] = [:]
        for entry in scan.strict {
            strictByCluster[ResourceIDKey(entry.clusterId), default: []].append(entry)
        }
        let evaluatedAt = ChangeWindow.parseTime(inputs.evaluatedAt)
        var clusters: [ClusterPlan] = []
        for cluster in fleet.clusters where inScope(cluster, bundle) {
            let key = cluster.id.key
            clusters.append(
                planCluster(
                    cluster, results: resultsByCluster[key] ?? [], strict: strictByCluster[key] ?? [],
                    options: options, evaluatedAt: evaluatedAt))
        }
        return Plan(inputs: inputs, options: options, clusters: clusters)
    }

    /// Whether an assignment covers the cluster: under its scope (a management group covers every cluster) and
    /// under none of its `notScopes`.
    static func inScope(_ cluster: Cluster, _ bundle: PolicyBundle) -> Bool {
        bundle.assignments.contains { assignment in
            let managementGroup = ASCII.lowercased(assignment.scope).contains(
                "/providers/microsoft.management/managementgroups/")
            return (managementGroup || cluster.id.hasPrefix(scope: assignment.scope))
                && !assignment.notScopes.contains { cluster.id.hasPrefix(scope: $0) }
        }
    }

    /// One resource that enforced results want, with every result that wants it.
    struct Wanted {
        var desired: DesiredResource
        var results: [PolicyResult]
        var conflict: (PolicyResult, PolicyResult)?
    }

    static func planCluster(
        _ cluster: Cluster, results: [PolicyResult], strict: [StrictResult], options: PlanOptions,
        evaluatedAt: Int64? = nil
    ) -> ClusterPlan {
        let fingerprint = Fingerprint.of(cluster)
        func decided(_ decision: PlanDecision, _ reason: PlanReason?, others: [PlanReason] = []) -> ClusterPlan {
            ClusterPlan(
                clusterId: cluster.id.description, name: cluster.name, fingerprint: fingerprint, decision: decision,
                reason: reason, otherReasons: others)
        }

        // 1. Skipped first: never touch, exempt, DoNotEnforce.
        if let value = cluster.tags.first(where: { ASCII.equalsIgnoringCase($0.key, options.neverTouchTag) })?.value,
            ASCII.equalsIgnoringCase(value, "true")
        {
            return decided(
                .skipped,
                PlanReason(
                    code: PlannerCode.neverTouchTag, message: "tagged \(options.neverTouchTag)=\(value)",
                    remedy: "remove the tag \(options.neverTouchTag) to let FluxFleet manage the cluster"))
        }
        if let reason = changeWindowReason(cluster, options.changeWindows, at: evaluatedAt) {
            return decided(.skipped, reason)
        }
        let deploy = results.filter { ASCII.equalsIgnoringCase($0.effect, "DeployIfNotExists") }
        let enforced = deploy.filter {
            $0.state != .exempt && ($0.enforcementMode == .default || options.includeDoNotEnforce)
        }
        if enforced.isEmpty, !deploy.isEmpty {
            if let exempt = deploy.first(where: { $0.state == .exempt }) {
                let exemption = exempt.exemptionId.map(lastSegment) ?? "an exemption"
                return decided(
                    .skipped,
                    PlanReason(
                        code: PlannerCode.exempt,
                        message: "exempt by \(exemption) from \(lastSegment(exempt.assignmentId))",
                        remedy: "remediated once the exemption expires or is removed"))
            }
            let assignments = unique(deploy.map { lastSegment($0.assignmentId) })
            return decided(
                .skipped,
                PlanReason(
                    code: PlannerCode.doNotEnforce,
                    message: "assignment \(assignments.joined(separator: ", ")) is DoNotEnforce",
                    remedy: "re-run with --include-do-not-enforce, or set the assignment's enforcementMode to Default"))
        }

        // 2. What the enforced results want, per resource; conflicts; policy errors.
        var blockers: [PlanReason] = []
        for result in enforced where result.state == .error {
            blockers.append(
                PlanReason(
                    code: PlannerCode.policyError,
                    message:
                        "\(lastSegment(result.assignmentId))/\(result.policyDefinitionReferenceId ?? lastSegment(result.policyDefinitionId)) failed to evaluate: \(Redaction.url(result.error ?? "unknown error"))",
                    remedy:
                        "fix the policy (fluxfleet policy explain --cluster \(cluster.name)); the cluster is planned once it evaluates"
                ))
        }
        var wanted: [Wanted] = []
        var index: [ResourceIDKey: Int] = [:]
        for result in enforced where result.state != .error {
            for desired in result.desiredResources {
                let key = ResourceIDKey(desired.id)
                if let at = index[key] {
                    if wanted[at].conflict == nil, wanted[at].desired.body != desired.body,
                        let first = wanted[at].results.first
                    {
                        wanted[at].conflict = (first, result)
                    }
                    wanted[at].results.append(result)
                } else {
                    index[key] = wanted.count
                    wanted.append(Wanted(desired: desired, results: [result]))
                }
            }
        }
        for item in wanted {
            if let (a, b) = item.conflict {
                blockers.append(
                    PlanReason(
                        code: PlannerCode.conflictingAssignments,
                        message:
                            "\(describe(a)) and \(describe(b)) want different bodies for \(item.desired.type) '\(item.desired.name)'",
                        remedy: "make the two assignments agree (same parameters), or exclude the cluster from one"))
            }
        }

        // 3. Actions for what needs a change.
        let verdict = Eligibility.evaluate(cluster, catalog: options.catalog)
        let versionAdvisories = verdict.advisories.filter {
            $0.code == "extensionTooOldForArm64" || $0.code == "extensionOutsideSupport"
        }
        var actions: [PlanAction] = []
        var needsChange = !blockers.isEmpty
        var installsExtension = false
        var extensionNeeded = false
        for item in wanted where item.conflict == nil {
            let desired = item.desired
            let assignments = unique(item.results.map(\.assignmentId))
            let drift = strictDrift(desired, item.results, strict)
            let nonCompliant = item.results.contains { $0.state == .nonCompliant }
            let missing = drift.contains { $0.path.isEmpty }
            let diff = missing ? [] : drift.map(diffEntry)
            func action(_ kind: PlanActionKind, _ reason: String) -> PlanAction {
                PlanAction(
                    kind: kind, resourceId: desired.id, resourceType: desired.type, apiVersion: desired.apiVersion,
                    body: redacted(desired.body), diff: diff, reason: reason, assignmentIds: assignments)
            }
            if isType(desired, "extensions") {
                let ext = cluster.fluxExtension
                if let ext, ResourceIDKey(ext.id.description) != ResourceIDKey(desired.id), isFluxExtension(desired) {
                    needsChange = true
                    blockers.append(
                        PlanReason(
                            code: PlannerCode.extensionNameMismatch,
                            message:
                                "microsoft.flux is installed as '\(ext.name)'; the policy wants it named '\(desired.name)'",
                            remedy:
                                "change the policy's extension name to '\(ext.name)', or delete the extension and let FluxFleet reinstall it"
                        ))
                    continue
                }
                let observed = ResourceIDKey(ext?.id.description ?? "") == ResourceIDKey(desired.id) ? ext : nil
                if missing {
                    actions.append(action(.installExtension, "missing"))
                    installsExtension = true
                } else if observed?.isFailed == true {
                    actions.append(action(.repairExtension, "failed"))
                } else if let advisory = versionAdvisories.first, observed != nil {
                    actions.append(action(.upgradeExtension, advisory.code))
                } else if !drift.isEmpty {
                    let versionFields = drift.contains { entry in
                        ["properties.version", "properties.autoupgrademinorversion", "properties.releasetrain"]
                            .contains(ASCII.lowercased(entry.path))
                    }
                    actions.append(action(versionFields ? .upgradeExtension : .repairExtension, "drift"))
                } else if nonCompliant {
                    actions.append(action(.repairExtension, "nonCompliant"))
                }
            } else if isType(desired, "fluxConfigurations") {
                extensionNeeded = true
                let observed = cluster.fluxConfigurations.first {
                    ResourceIDKey($0.id.description) == ResourceIDKey(desired.id)
                }
                let scopeChanged = drift.contains { entry in
                    let path = ASCII.lowercased(entry.path)
                    return path == "properties.scope" || path == "properties.namespace"
                }
                if missing {
                    actions.append(action(.createConfiguration, "missing"))
                } else if scopeChanged {
                    if options.allowReplace {
                        actions.append(action(.replaceConfiguration, "scopeChanged"))
                    } else {
                        needsChange = true
                        let fields = drift.filter {
                            ["properties.scope", "properties.namespace"].contains(ASCII.lowercased($0.path))
                        }.map { "\($0.path) \(render($0.actual)) → \(render($0.desired))" }
                        blockers.append(
                            PlanReason(
                                code: PlannerCode.replaceNeedsFlag,
                                message:
                                    "configuration '\(desired.name)' must be re-created: \(fields.joined(separator: ", "))",
                                remedy:
                                    "re-run with --allow-replace (the configuration is deleted and re-created; with prune on, Flux deletes what it deployed)"
                            ))
                    }
                } else if !drift.isEmpty {
                    actions.append(action(.updateConfiguration, "drift"))
                } else if observed.map({ ASCII.equalsIgnoringCase($0.provisioningState ?? "", "Failed") }) == true {
                    actions.append(action(.updateConfiguration, "failed"))
                } else if nonCompliant {
                    actions.append(action(.updateConfiguration, "nonCompliant"))
                }
            } else if !drift.isEmpty || nonCompliant {
                needsChange = true
                blockers.append(
                    PlanReason(
                        code: PlannerCode.unsupportedResourceType,
                        message: "a policy wants \(desired.type) '\(desired.name)', which FluxFleet does not change",
                        remedy: "remediate it with Azure Policy's own remediation task, or remove it from the policy"))
            }
        }
        // ARM's naming rules for what a configuration action would PUT.
        for action in actions where action.kind.stage == 2 {
            if let problem = NameRules.problem(
                configurationName: Planner.lastSegment(action.resourceId), body: action.body)
            {
                blockers.append(
                    PlanReason(
                        code: PlannerCode.invalidName, message: problem,
                        remedy:
                            "fix the name in the assignment's parameters (configurationName, kustomizations, configurationNamespace)"
                    ))
            }
        }
        // An extension that a policy does not install (exempt, or not assigned) must exist before a configuration.
        let changesConfiguration = actions.contains { $0.kind.stage == 2 }
        if extensionNeeded, changesConfiguration, cluster.fluxExtension == nil, !installsExtension {
            blockers.append(
                PlanReason(
                    code: PlannerCode.extensionMissing,
                    message: "the microsoft.flux extension is missing and no enforced assignment installs it",
                    remedy:
                        "assign the extension policy to the cluster, or install it: az k8s-extension create --resource-group \(cluster.resourceGroup) --cluster-name \(cluster.name) --cluster-type \(cluster.kind.rawValue) --name flux --extension-type microsoft.flux"
                ))
        }
        needsChange = needsChange || !actions.isEmpty
        guard needsChange else { return decided(.noop, nil) }

        // 4. Preflight: blocked > deferred > change.
        var eligibilityBlockers: [PlanReason] = []
        var deferrals: [PlanReason] = []
        for reason in verdict.reasons {
            let planReason = PlanReason(code: reason.code, message: reason.message, remedy: reason.remedy)
            switch reason.outcome {
            case .blocked:
                if reason.code == PlannerCode.fluxV1Present {
                    if options.migrateFluxV1 { continue }
                    eligibilityBlockers.append(
                        PlanReason(
                            code: reason.code, message: reason.message,
                            remedy: "re-run with --migrate-flux-v1 to delete them first, or " + reason.remedy))
                } else {
                    eligibilityBlockers.append(planReason)
                }
            case .deferred: deferrals.append(planReason)
            case .advisory: break
            }
        }
        let allBlockers = eligibilityBlockers + blockers
        if let first = allBlockers.first {
            return decided(.blocked, first, others: Array(allBlockers.dropFirst()) + deferrals)
        }
        if let first = deferrals.first {
            return decided(.deferred, first, others: Array(deferrals.dropFirst()))
        }
        if options.migrateFluxV1 {
            for v1 in cluster.fluxV1Configurations {
                actions.append(
                    PlanAction(
                        kind: .deleteFluxV1, resourceId: v1.id.description,
                        resourceType: "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
                        apiVersion: fluxV1APIVersion, body: nil,
                        diff: [PlanDiffEntry(path: "", before: fluxV1Summary(v1), after: nil)],
                        reason: PlannerCode.fluxV1Present, assignmentIds: []))
            }
        }
        let ordered = actions.enumerated().sorted { a, b in
            a.element.kind.stage != b.element.kind.stage
                ? a.element.kind.stage < b.element.kind.stage : a.offset < b.offset
        }.map(\.element)
        var plan = decided(.change, nil)
        plan.actions = ordered
        return plan
    }

    /// Why a cluster is outside its change windows, or nil when no window applies to it or one of them is open at
    /// `time` (a plan without a readable evaluation time is outside every window: it cannot show one is open).
    static func changeWindowReason(_ cluster: Cluster, _ windows: [ChangeWindow], at time: Int64?) -> PlanReason? {
        let tags = cluster.tags
        let applying = windows.filter { $0.applies(clusterId: cluster.id.description, name: cluster.name, tags: tags) }
        guard !applying.isEmpty else { return nil }
        let names = applying.map { "'\($0.name)' (\($0.summary))" }.joined(separator: ", ")
        guard let time else {
            return PlanReason(
                code: PlannerCode.outsideChangeWindow,
                message: "change window \(names) applies, and the plan has no evaluation time to check it against",
                remedy: "plan with an evaluation time (fluxfleet plan sets it to now)")
        }
        if applying.contains(where: { $0.isOpen(at: time) }) { return nil }
        let next = applying.compactMap { window in window.nextOpening(after: time).map { (window, $0) } }
            .min { $0.1 < $1.1 }
        let opening = next.map { "; the next opens at \(ChangeWindow.iso8601($0.1)) ('\($0.0.name)')" } ?? ""
        return PlanReason(
            code: PlannerCode.outsideChangeWindow,
            message: "outside change window \(names) at \(ChangeWindow.iso8601(time))\(opening)",
            remedy:
                "plan and apply again inside the window\(next.map { " (from \(ChangeWindow.iso8601($0.1)))" } ?? ""), or change the window in rollout.json"
        )
    }

    /// The strict drift of a desired resource, from the first wanting assignment that has an entry.
    static func strictDrift(_ desired: DesiredResource, _ results: [PolicyResult], _ strict: [StrictResult])
        -> [DriftEntry]
    {
        let key = ResourceIDKey(desired.id)
        for result in results {
            if let entry = strict.first(where: {
                ResourceIDKey($0.resourceId) == key && ASCII.equalsIgnoringCase($0.assignmentId, result.assignmentId)
            }) {
                return entry.drift
            }
        }
        return []
    }

    /// What a Flux v1 deletion removes, in a few fields (the repository URL with credentials masked).
    static func fluxV1Summary(_ v1: FluxV1Configuration) -> JSON {
        var members: [String: JSON] = ["name": .string(v1.name)]
        if let url = v1.repositoryURL { members["repositoryUrl"] = .string(Redaction.url(url)) }
        if let namespace = v1.operatorNamespace { members["operatorNamespace"] = .string(namespace) }
        return .object(members)
    }

    static func diffEntry(_ drift: DriftEntry) -> PlanDiffEntry {
        PlanDiffEntry(path: drift.path, before: drift.actual.map(redacted), after: drift.desired.map(redacted))
    }

    /// A value with write-only secrets and URL credentials masked; secret references stay.
    static func redacted(_ value: JSON) -> JSON {
        Redaction.json(value, secretKeys: SpecDrift.writeOnlySecretKeys)
    }

    static func isType(_ desired: DesiredResource, _ type: String) -> Bool {
        ASCII.equalsIgnoringCase(desired.type, "Microsoft.KubernetesConfiguration/" + type)
    }

    static func isFluxExtension(_ desired: DesiredResource) -> Bool {
        guard case .object(let body) = desired.body,
            case .object(let properties)? = body.first(where: { ASCII.equalsIgnoringCase($0.key, "properties") })?
                .value,
            let type = properties.first(where: { ASCII.equalsIgnoringCase($0.key, "extensionType") })?.value.string
        else { return false }
        return ASCII.equalsIgnoringCase(type, "microsoft.flux")
    }

    static func describe(_ result: PolicyResult) -> String {
        "\(lastSegment(result.assignmentId))/\(result.policyDefinitionReferenceId ?? lastSegment(result.policyDefinitionId))"
    }

    /// Compact JSON, or `(absent)`.
    static func render(_ value: JSON?) -> String {
        guard let value else { return "(absent)" }
        var writer = JSONWriter()
        writer.value(redacted(value))
        return writer.text
    }

    static func lastSegment(_ id: String) -> String {
        id.split(separator: "/").last.map(String.init) ?? id
    }

    static func unique(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert(ASCII.lowercased($0)).inserted }
    }
}

/// ARM's naming rules for Flux configurations (the intersection of the `az k8s-configuration` validators and the
/// Azure Policy built-ins): a configuration or kustomization name is 1–30 lowercase letters, digits and hyphens,
/// starting and ending with a letter or digit; a namespace is a DNS-1123 label (≤ 63, the same alphabet).
enum NameRules {
    /// The first broken rule, or nil.
    static func problem(configurationName: String, body: JSON?) -> String? {
        if !valid(configurationName, maximum: 30) {
            return
                "configuration name '\(configurationName)' must be 1–30 lowercase letters, digits or hyphens, starting and ending with a letter or digit"
        }
        guard case .object(let members)? = body, case .object(let properties)? = members["properties"] else {
            return nil
        }
        if case .string(let namespace)? = properties["namespace"], !valid(namespace, maximum: 63) {
            return "namespace '\(namespace)' must be a DNS-1123 label (1–63 lowercase letters, digits or hyphens)"
        }
        if case .object(let kustomizations)? = properties["kustomizations"] {
            for name in kustomizations.keys.sorted() where !valid(name, maximum: 30) {
                return
                    "kustomization name '\(name)' must be 1–30 lowercase letters, digits or hyphens, starting and ending with a letter or digit"
            }
        }
        return nil
    }

    static func valid(_ name: String, maximum: Int) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maximum).contains(bytes.count) else { return false }
        func alphanumeric(_ c: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
        }
        guard alphanumeric(bytes.first!), alphanumeric(bytes.last!) else { return false }
        return bytes.allSatisfy { alphanumeric($0) || $0 == UInt8(ascii: "-") }
    }
}
