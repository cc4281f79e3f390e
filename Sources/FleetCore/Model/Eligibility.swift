/// What a rule of the eligibility table means for a cluster.
public enum EligibilityOutcome: String, Sendable, Comparable, CaseIterable {
    /// Nothing can be installed until a person fixes the cause.
    case blocked
    /// Not now; a later run will try again on its own.
    case deferred
    /// Eligible, but the Flux extension needs repair or an upgrade (the planner adds the action).
    case advisory

    /// Orders by severity: blocked, deferred, advisory.
    public static func < (lhs: EligibilityOutcome, rhs: EligibilityOutcome) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One row of the eligibility table: a stable reason code, what it means and how to fix it.
public struct EligibilityRule: Sendable, Hashable {
    /// The stable code shown in every output (`aksServicePrincipal`, `arcOffline`, …).
    public let code: String
    /// Blocked, deferred or advisory.
    public let outcome: EligibilityOutcome
    /// What the rule detects, in one line.
    public let summary: String
    /// How to fix it.
    ///
    /// `{rg}`, `{name}` and `{type}` are replaced with the cluster's resource group, name and
    /// `az` cluster type.
    public let remedy: String
}

/// One rule that applied to one cluster, with its message and remedy filled in.
public struct EligibilityReason: Sendable, Hashable {
    /// The rule's stable code.
    public let code: String
    /// Blocked, deferred or advisory.
    public let outcome: EligibilityOutcome
    /// What is wrong on this cluster.
    public let message: String
    /// What to do about it on this cluster.
    public let remedy: String
}

/// The eligibility of one cluster: every rule that applied, worst first.
public struct EligibilityVerdict: Sendable, Hashable {
    /// Every applicable rule, blocked before deferred before advisory, in table order.
    public let reasons: [EligibilityReason]

    /// Whether the Flux extension and configurations can be installed now.
    public var eligible: Bool { !reasons.contains { $0.outcome != .advisory } }

    /// The first blocking or deferring reason, or nil when eligible.
    public var primary: EligibilityReason? { reasons.first { $0.outcome != .advisory } }

    /// `eligible`, `blocked` or `deferred`.
    public var decision: String { primary?.outcome.rawValue ?? "eligible" }

    /// The advisory reasons (repair or upgrade the extension).
    public var advisories: [EligibilityReason] { reasons.filter { $0.outcome == .advisory } }
}

/// The one eligibility table: `inventory` shows it and the planner decides with it.
///
/// Rules come from the product documentation of the Flux extension and Azure Arc (see
/// DESIGN §5). A cluster may match several; blocked outranks deferred.
public enum Eligibility {
    /// Every rule, in the order they are checked and reported.
    public static let rules: [EligibilityRule] = [
        EligibilityRule(
            code: "aksServicePrincipal", outcome: .blocked,
            summary: "AKS cluster uses a service principal; cluster extensions need a managed identity",
            remedy: "az aks update --resource-group {rg} --name {name} --enable-managed-identity"),
        EligibilityRule(
            code: "fluxV1Present", outcome: .blocked,
            summary: "Flux v1 sourceControlConfigurations are present; they block the Flux v2 extension",
            remedy:
                "migrate them to Flux v2, then delete them: az k8s-configuration delete --resource-group {rg} --cluster-name {name} --cluster-type {type} --name <config>"
        ),
        EligibilityRule(
            code: "arcExpired", outcome: .blocked,
            summary: "Arc connectivity Expired: the cluster's managed identity certificate lapsed",
            remedy:
                "re-onboard the cluster: az connectedk8s delete --resource-group {rg} --name {name}, then az connectedk8s connect"
        ),
        EligibilityRule(
            code: "arcAgentNotInstalled", outcome: .blocked,
            summary: "Arc agents are not installed on the cluster",
            remedy: "install the agents: az connectedk8s connect --resource-group {rg} --name {name}"),
        EligibilityRule(
            code: "clusterFailed", outcome: .blocked,
            summary: "the cluster's last ARM operation failed",
            remedy:
                "reconcile the cluster (AKS: az aks update --resource-group {rg} --name {name}) and check its activity log"
        ),
        EligibilityRule(
            code: "extensionNotClusterScoped", outcome: .blocked,
            summary: "the microsoft.flux extension is installed with namespace scope; Flux must be cluster-scoped",
            remedy:
                "delete the extension and let FluxFleet reinstall it: az k8s-extension delete --resource-group {rg} --cluster-name {name} --cluster-type {type} --name flux"
        ),
        EligibilityRule(
            code: "aksStopped", outcome: .deferred,
            summary: "AKS cluster is stopped",
            remedy: "start it (az aks start --resource-group {rg} --name {name}) or wait for its schedule"),
        EligibilityRule(
            code: "clusterBusy", outcome: .deferred,
            summary: "an ARM operation on the cluster is in progress",
            remedy: "wait for it to finish; the next run retries"),
        EligibilityRule(
            code: "arcOffline", outcome: .deferred,
            summary: "Arc agents are not reaching Azure (Offline); changes queue until they reconnect",
            remedy:
                "restore the cluster's outbound connectivity to Azure; after 90 days offline it expires and must be re-onboarded"
        ),
        EligibilityRule(
            code: "arcConnecting", outcome: .deferred,
            summary: "Arc cluster is still connecting (just onboarded)",
            remedy: "wait for connectivityStatus Connected; the next run retries"),
        EligibilityRule(
            code: "extensionBusy", outcome: .deferred,
            summary: "an operation on the microsoft.flux extension is in progress",
            remedy: "wait for it to finish; the next run retries"),
        EligibilityRule(
            code: "configurationBusy", outcome: .deferred,
            summary: "an operation on a Flux configuration is in progress",
            remedy: "wait for it to finish; the next run retries"),
        EligibilityRule(
            code: "extensionFailed", outcome: .advisory,
            summary: "the microsoft.flux extension is in state Failed",
            remedy:
                "FluxFleet re-applies the extension (repair-extension); if it fails again, read the extension's error"),
        EligibilityRule(
            code: "extensionTooOldForArm64", outcome: .advisory,
            summary: "ARM64 node pools need microsoft.flux 1.7.0 or later",
            remedy: "FluxFleet upgrades the extension (upgrade-extension)"),
        EligibilityRule(
            code: "extensionOutsideSupport", outcome: .advisory,
            summary: "the microsoft.flux version is outside Microsoft's N-2 support window",
            remedy:
                "FluxFleet upgrades the extension (upgrade-extension); enable autoUpgradeMinorVersion to stay current"),
    ]

    /// The rule with a code.
    public static func rule(_ code: String) -> EligibilityRule? { rules.first { $0.code == code } }

    /// Evaluates every rule against one cluster.
    ///
    /// - Parameters:
    ///   - cluster: The cluster with its Flux resources attached.
    ///   - catalog: The version catalog for the version rules.
    public static func evaluate(_ cluster: Cluster, catalog: FluxVersionCatalog = .builtIn) -> EligibilityVerdict {
        var found: [EligibilityReason] = []
        func add(_ code: String, _ detail: String) {
            let rule = rule(code)!
            found.append(
                EligibilityReason(
                    code: code, outcome: rule.outcome, message: detail,
                    remedy: fill(rule.remedy, cluster)))
        }
        let state = cluster.provisioningState.map(ASCII.lowercased)
        let connectivity = cluster.connectivityStatus.map(ASCII.lowercased)

        if cluster.kind == .managedClusters && !cluster.usesManagedIdentity {
            let how = cluster.identityType == nil ? "no identity" : "identity \(cluster.identityType!)"
            add(
                "aksServicePrincipal",
                "service principal \(cluster.servicePrincipalClientId ?? "?") (\(how)); extensions need a managed identity"
            )
        }
        if !cluster.fluxV1Configurations.isEmpty {
            let names = cluster.fluxV1Configurations.map(\.name).joined(separator: ", ")
            add("fluxV1Present", "Flux v1 configuration(s) present: \(names)")
        }
        if cluster.kind == .connectedClusters {
            switch connectivity {
            case "expired":
                add("arcExpired", "connectivity Expired (last connected \(cluster.lastConnectivityTime ?? "unknown"))")
            case "agentnotinstalled":
                add("arcAgentNotInstalled", "connectivity AgentNotInstalled")
            default: break
            }
        }
        if state == "failed" {
            add("clusterFailed", "provisioningState Failed")
        }
        if let ext = cluster.fluxExtension, !ext.isClusterScoped {
            add("extensionNotClusterScoped", "extension '\(ext.name)' is namespace-scoped")
        }
        if cluster.kind == .managedClusters, let power = cluster.powerState, ASCII.equalsIgnoringCase(power, "Stopped")
        {
            add("aksStopped", "powerState Stopped")
        }
        if let state, state != "succeeded", state != "failed" {
            add("clusterBusy", "provisioningState \(cluster.provisioningState!)")
        }
        if cluster.kind == .connectedClusters {
            switch connectivity {
            case "offline":
                add("arcOffline", "connectivity Offline since \(cluster.lastConnectivityTime ?? "an unknown time")")
            case "connecting":
                add("arcConnecting", "connectivity Connecting")
            default: break
            }
        }
        if let ext = cluster.fluxExtension, ext.isBusy {
            add("extensionBusy", "extension '\(ext.name)' is \(ext.provisioningState!)")
        }
        let busy = cluster.fluxConfigurations.filter(\.isBusy)
        if !busy.isEmpty {
            add(
                "configurationBusy",
                busy.map { "configuration '\($0.name)' is \($0.provisioningState!)" }.joined(separator: "; "))
        }
        if let ext = cluster.fluxExtension {
            if ext.isFailed {
                add("extensionFailed", "extension '\(ext.name)' Failed" + (ext.errorMessage.map { ": \($0)" } ?? ""))
            }
            if let text = ext.version, let version = SemanticVersion(text) {
                let arm64Minimum = catalog.minimum(for: "arm64")!
                if cluster.hasArm64Nodes && version < arm64Minimum {
                    let pools = cluster.arm64NodePools.joined(separator: ", ")
                    add(
                        "extensionTooOldForArm64",
                        "extension \(version) is older than \(arm64Minimum), needed by ARM64 pool(s) \(pools)")
                }
                if !catalog.isSupported(version) {
                    add(
                        "extensionOutsideSupport",
                        "extension \(version) is older than \(catalog.oldestSupported) (N-2 of \(catalog.latest))")
                }
            }
        }
        let ordered = found.enumerated().sorted { a, b in
            a.element.outcome != b.element.outcome ? a.element.outcome < b.element.outcome : a.offset < b.offset
        }.map(\.element)
        return EligibilityVerdict(reasons: ordered)
    }

    /// The code of the primary reason (``EligibilityVerdict/primary``), or nil when the cluster is
    /// eligible: `evaluate(cluster).primary?.code` without composing any message or remedy.
    ///
    /// For callers that need only the code for many clusters (the compliance store). It checks the
    /// blocking rules, then the deferring ones, in table order and stops at the first that applies;
    /// the advisory rules never make a primary reason, so they are not checked.
    public static func primaryCode(_ cluster: Cluster) -> String? {
        // This runs for every cluster of every recorded run: the members it reads are found in one
        // pass over each object and compared where they stand (no string is decoded), with the
        // answers of the getters the full evaluation uses.
        var found: [JSONValue?] = []
        cluster.resource.members(topMembers, matching: .ignoringCase, into: &found)
        let identity = found[1]
        if let properties = found[0] {
            properties.members(propertyMembers, matching: .ignoringCase, into: &found)
        } else {
            found = [nil, nil, nil, nil]
        }
        let state = found[0]
        let connectivity = cluster.kind == .connectedClusters ? found[1] : nil
        func stateIs(_ text: String) -> Bool { state?.stringEqualsIgnoringCase(text) ?? false }
        func connectivityIs(_ text: String) -> Bool { connectivity?.stringEqualsIgnoringCase(text) ?? false }
        // Blocked.
        if cluster.kind == .managedClusters {
            // `usesManagedIdentity`.
            let type = identity?.member(ignoringCase: "type")
            let managed =
                type?.stringEqualsIgnoringCase("SystemAssigned") == true
                || type?.stringEqualsIgnoringCase("UserAssigned") == true
            let clientId = found[3]?.member(ignoringCase: "clientId")
            if !managed || (isNonEmptyString(clientId) && !clientId!.stringEqualsIgnoringCase("msi")) {
                return "aksServicePrincipal"
            }
        }
        if !cluster.fluxV1Configurations.isEmpty { return "fluxV1Present" }
        if connectivityIs("Expired") { return "arcExpired" }
        if connectivityIs("AgentNotInstalled") { return "arcAgentNotInstalled" }
        if stateIs("Failed") { return "clusterFailed" }
        if let ext = cluster.fluxExtension, !ext.isClusterScoped { return "extensionNotClusterScoped" }
        // Deferred.
        if cluster.kind == .managedClusters,
            found[2]?.member(ignoringCase: "code")?.stringEqualsIgnoringCase("Stopped") == true
        {
            return "aksStopped"
        }
        if isNonEmptyString(state) && !stateIs("Succeeded") && !stateIs("Failed") { return "clusterBusy" }
        if connectivityIs("Offline") { return "arcOffline" }
        if connectivityIs("Connecting") { return "arcConnecting" }
        if let ext = cluster.fluxExtension, ext.isBusy { return "extensionBusy" }
        if cluster.fluxConfigurations.contains(where: \.isBusy) { return "configurationBusy" }
        return nil
    }

    /// The members of a cluster record ``primaryCode(_:)`` reads: `properties`, `identity`.
    private static let topMembers = JSONMemberNames(["properties", "identity"])
    /// The members of `properties` ``primaryCode(_:)`` reads.
    private static let propertyMembers = JSONMemberNames([
        "provisioningState", "connectivityStatus", "powerState", "servicePrincipalProfile",
    ])

    /// The `az` CLI `--cluster-type` of a cluster.
    static func azClusterType(_ cluster: Cluster) -> String {
        switch cluster.kind {
        case .managedClusters: "managedClusters"
        case .connectedClusters: "connectedClusters"
        case .provisionedClusters: "provisionedClusters"
        }
    }

    /// Replaces `{rg}`, `{name}` and `{type}` in a remedy template.
    static func fill(_ template: String, _ cluster: Cluster) -> String {
        guard template.utf8.contains(UInt8(ascii: "{")) else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let tail = rest[open...]
            if tail.hasPrefix("{rg}") {
                out += cluster.resourceGroup
                rest = tail.dropFirst(4)
            } else if tail.hasPrefix("{name}") {
                out += cluster.name
                rest = tail.dropFirst(6)
            } else if tail.hasPrefix("{type}") {
                out += azClusterType(cluster)
                rest = tail.dropFirst(6)
            } else {
                out += "{"
                rest = tail.dropFirst()
            }
        }
        out += rest
        return out
    }
}
