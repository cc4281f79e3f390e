import FleetCore
import Planner
import PolicyEngine
import Testing

/// One decision case: a fleet of one cluster (plus what else it needs), the options, what the plan must say.
struct DecisionCase: CustomTestStringConvertible, Sendable {
    var name: String
    var build: @Sendable (inout Fixture, String) -> Void
    var options = PlanOptions()
    var decision: PlanDecision
    var reason: String?
    var kinds: [PlanActionKind] = []
    var actionReasons: [String]?

    var testDescription: String { name }
}

/// The cluster every case plans (`c1` in subscription A, under the enforced `baseline` assignment).
let caseCluster = Fixture.clusterID("c1")

/// Builds on an AKS cluster `c1` with the extension and the baseline configuration.
@Sendable func onBaseline(_ fixture: inout Fixture, _ id: String) {
    fixture.aks("c1")
    fixture.fluxExtension(on: id)
    fixture.configuration(on: id)
}

let decisionCases: [DecisionCase] = [
    DecisionCase(name: "on the baseline: noop", build: onBaseline, decision: .noop),
    DecisionCase(
        name: "nothing installed: install the extension, then create the configuration",
        build: { f, _ in f.aks("c1") }, decision: .change, kinds: [.installExtension, .createConfiguration],
        actionReasons: ["missing", "missing"]),
    DecisionCase(
        name: "extension only: create the configuration",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id)
        }, decision: .change, kinds: [.createConfiguration]),
    DecisionCase(
        name: "branch drift: update the configuration",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id)
            f.configuration(on: id, branch: "release-2026-10")
        }, decision: .change, kinds: [.updateConfiguration], actionReasons: ["drift"]),
    DecisionCase(
        name: "Failed extension with matching fields: repair (re-PUT)",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id, state: "Failed", version: nil)
            f.configuration(on: id)
        }, decision: .change, kinds: [.repairExtension], actionReasons: ["failed"]),
    DecisionCase(
        name: "Failed configuration with matching fields: update (re-PUT)",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id)
            f.configuration(on: id, state: "Failed", complianceState: "Unknown")
        }, decision: .change, kinds: [.updateConfiguration], actionReasons: ["failed"]),
    DecisionCase(
        name: "extension operation in flight: deferred",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id, state: "Updating")
        }, decision: .deferred, reason: "extensionBusy"),
    DecisionCase(
        name: "configuration operation in flight: deferred",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id)
            f.configuration(on: id, state: "Creating", branch: "old")
        }, decision: .deferred, reason: "configurationBusy"),
    DecisionCase(
        name: "service principal AKS: blocked",
        build: { f, _ in f.aks("c1", servicePrincipal: true) }, decision: .blocked, reason: "aksServicePrincipal"),
    DecisionCase(
        name: "stopped AKS that needs a change: deferred",
        build: { f, _ in f.aks("c1", power: "Stopped") }, decision: .deferred, reason: "aksStopped"),
    DecisionCase(
        name: "stopped AKS on the baseline: noop whatever the preflight says",
        build: { f, id in
            f.aks("c1", power: "Stopped")
            f.fluxExtension(on: id)
            f.configuration(on: id)
        }, decision: .noop),
    DecisionCase(
        name: "blocked outranks deferred",
        build: { f, _ in f.aks("c1", servicePrincipal: true, power: "Stopped") }, decision: .blocked,
        reason: "aksServicePrincipal"),
    DecisionCase(
        name: "cluster operation in flight: deferred",
        build: { f, _ in f.aks("c1", state: "Upgrading") }, decision: .deferred, reason: "clusterBusy"),
    DecisionCase(
        name: "Flux v1 present: blocked without --migrate-flux-v1",
        build: { f, id in
            f.aks("c1")
            f.fluxV1(on: id)
        }, decision: .blocked, reason: "fluxV1Present"),
    DecisionCase(
        name: "Flux v1 present with --migrate-flux-v1: delete it first",
        build: { f, id in
            f.aks("c1")
            f.fluxV1(on: id)
        }, options: PlanOptions(migrateFluxV1: true), decision: .change,
        kinds: [.deleteFluxV1, .installExtension, .createConfiguration]),
    DecisionCase(
        name: "never-touch tag: skipped before any preflight",
        build: { f, _ in f.aks("c1", tags: ["fluxfleet.io/never-touch": "true"], servicePrincipal: true) },
        decision: .skipped, reason: "neverTouchTag"),
    DecisionCase(
        name: "never-touch tag with another value: planned",
        build: { f, _ in f.aks("c1", tags: ["fluxfleet.io/never-touch": "false"]) }, decision: .change,
        kinds: [.installExtension, .createConfiguration]),
    DecisionCase(
        name: "never-touch tag name is an option",
        build: { f, _ in f.aks("c1", tags: ["frozen": "TRUE"]) }, options: PlanOptions(neverTouchTag: "frozen"),
        decision: .skipped, reason: "neverTouchTag"),
    DecisionCase(
        name: "namespace changed: blocked without --allow-replace",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id)
            f.configuration(on: id, namespace: "gitops")
        }, decision: .blocked, reason: "replaceNeedsFlag"),
    DecisionCase(
        name: "scope changed with --allow-replace: replace",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id)
            f.configuration(on: id, scope: "namespace")
        }, options: PlanOptions(allowReplace: true), decision: .change, kinds: [.replaceConfiguration],
        actionReasons: ["scopeChanged"]),
    DecisionCase(
        name: "ARM64 nodes with a pinned 1.6.3: upgrade the extension",
        build: { f, id in
            f.aks("c1", vmSize: "Standard_D4ps_v5")
            f.fluxExtension(on: id, version: "1.6.3", autoUpgrade: false, pinned: "1.6.3")
            f.configuration(on: id)
        }, decision: .change, kinds: [.upgradeExtension], actionReasons: ["extensionTooOldForArm64"]),
    DecisionCase(
        name: "extension outside N-2 support (auto-upgrade on, no drift): upgrade",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id, version: "1.15.2")
            f.configuration(on: id)
        }, decision: .change, kinds: [.upgradeExtension], actionReasons: ["extensionOutsideSupport"]),
    DecisionCase(
        name: "N-2 is relative to the catalog's newest version (--flux-latest)",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id, version: "1.15.2")
            f.configuration(on: id)
        }, options: PlanOptions(catalog: FluxVersionCatalog.builtIn.with(latest: SemanticVersion(1, 16, 0))),
        decision: .noop),
    DecisionCase(
        name: "microsoft.flux under another name: blocked, never a second install",
        build: { f, id in
            f.aks("c1")
            f.fluxExtension(on: id, name: "flux-v2")
        }, decision: .blocked, reason: "extensionNameMismatch"),
    DecisionCase(
        name: "Arc Offline that needs a change: deferred",
        build: { f, _ in f.arc("c1", connectivity: "Offline", lastConnectivity: "2026-11-17T09:12:44Z") },
        decision: .deferred, reason: "arcOffline"),
    DecisionCase(
        name: "Arc Expired: blocked",
        build: { f, _ in f.arc("c1", connectivity: "Expired") }, decision: .blocked, reason: "arcExpired"),
]

@Suite("Planner decisions")
struct PlannerDecisionTests {
    @Test("each decision, reason and action list", arguments: decisionCases)
    func decision(_ example: DecisionCase) throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        let arc = example.name.hasPrefix("Arc")
        example.build(&fixture, arc ? Fixture.clusterID("c1", arc: true) : caseCluster)
        let plan = try fixture.plan(example.options)
        let cluster = try #require(plan.cluster("c1"))
        #expect(cluster.decision == example.decision, "\(cluster.reason.map { "\($0.code): \($0.message)" } ?? "")")
        #expect(cluster.reason?.code == example.reason)
        if example.reason != nil { #expect(cluster.reason?.remedy.isEmpty == false) }
        #expect(cluster.kinds == example.kinds)
        if let reasons = example.actionReasons { #expect(cluster.actions.map(\.reason) == reasons) }
        if example.decision != .change { #expect(cluster.actions.isEmpty) }
    }

    @Test("an update carries the field-level diff and the desired body")
    func updateDiff() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.fluxExtension(on: caseCluster)
        fixture.configuration(on: caseCluster, branch: "release-2026-10")
        let action = try #require(try fixture.plan().cluster("c1")?.actions.first)
        #expect(
            action.diff == [
                PlanDiffEntry(
                    path: "properties.gitRepository.repositoryRef.branch", before: .string("release-2026-10"),
                    after: .string("main"))
            ])
        #expect(
            action.resourceId.hasSuffix(
                "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-baseline"))
        #expect(action.apiVersion == "2025-04-01")
        #expect(action.body?["properties"]?["gitRepository"]?["repositoryRef"]?["branch"] == .string("main"))
    }

    @Test("a create has the whole body and no diff; install comes before create")
    func createBody() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        let install = try #require(cluster.actions.first)
        #expect(install.kind == .installExtension)
        #expect(install.diff.isEmpty)
        #expect(install.body?["properties"]?["extensionType"] == .string("microsoft.flux"))
        #expect(install.resourceId.hasSuffix("/extensions/flux"))
        #expect(cluster.actions.last?.body?["properties"]?["namespace"] == .string("flux-system"))
    }

    @Test("a replace blocked for want of the flag names the changed field and the flag")
    func replaceRemedy() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.fluxExtension(on: caseCluster)
        fixture.configuration(on: caseCluster, namespace: "gitops")
        let reason = try #require(try fixture.plan().cluster("c1")?.reason)
        #expect(reason.message.contains("properties.namespace \"gitops\" → \"flux-system\""), "\(reason.message)")
        #expect(reason.remedy.contains("--allow-replace"))
    }

    @Test(
        "names that break ARM's rules block the cluster before any PUT",
        arguments: [
            ("Gitops-Baseline", "configuration name 'Gitops-Baseline'"),
            ("a-configuration-name-longer-than-30", "configuration name 'a-configuration-name-longer-than-30'"),
            ("-baseline", "configuration name '-baseline'"),
        ])
    func invalidName(_ name: String, _ message: String) throws {
        var fixture = Fixture()
        fixture.assign(
            "baseline",
            parameters: #"""
                "configurationName": {"value": "\#(name)"},
                "repositoryUrl": {"value": "https://github.com/contoso/fleet-gitops"}, "branch": {"value": "main"},
                "kustomizations": {"value": {"infra": {"path": "./infrastructure"}}}
                """#)
        fixture.aks("c1")
        fixture.fluxExtension(on: caseCluster)
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .blocked)
        #expect(cluster.reason?.code == "invalidName")
        #expect(cluster.reason?.message.hasPrefix(message) == true, "\(cluster.reason?.message ?? "")")
    }

    @Test("an invalid kustomization name blocks; valid names plan")
    func kustomizationName() throws {
        for (name, decision) in [("Apps_1", PlanDecision.blocked), ("apps-1", .change)] {
            var fixture = Fixture()
            fixture.assign(
                "baseline",
                parameters: #"""
                    "configurationName": {"value": "gitops-baseline"},
                    "repositoryUrl": {"value": "https://github.com/contoso/fleet-gitops"}, "branch": {"value": "main"},
                    "kustomizations": {"value": {"\#(name)": {"path": "./apps"}}}
                    """#)
            fixture.aks("c1")
            fixture.fluxExtension(on: caseCluster)
            let cluster = try #require(try fixture.plan().cluster("c1"))
            #expect(cluster.decision == decision, "\(name)")
        }
    }

    @Test("blocked and deferred reasons are all listed, blocked first")
    func otherReasons() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1", servicePrincipal: true, power: "Stopped")
        fixture.fluxV1(on: caseCluster)
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.reason?.code == "aksServicePrincipal")
        #expect(cluster.otherReasons.map(\.code) == ["fluxV1Present", "aksStopped"])
    }
}

@Suite("Planner scope, enforcement, exemptions and conflicts")
struct PlannerScopeTests {
    @Test("notScopes and clusters outside every assignment are not in the plan")
    func scope() throws {
        var fixture = Fixture()
        fixture.assign("baseline", notScopes: ["/subscriptions/\(subscriptionA)/resourceGroups/rg-lab"])
        fixture.aks("c1")
        fixture.aks("lab", group: "rg-lab")
        fixture.aks("elsewhere", subscription: subscriptionB)
        let plan = try fixture.plan()
        #expect(plan.clusters.map(\.name) == ["c1"])
    }

    @Test("DoNotEnforce: skipped unless --include-do-not-enforce")
    func doNotEnforce() throws {
        var fixture = Fixture()
        fixture.assign("report-only", enforcement: "DoNotEnforce")
        fixture.aks("c1")
        let skipped = try #require(try fixture.plan().cluster("c1"))
        #expect(skipped.decision == .skipped)
        #expect(skipped.reason?.code == "doNotEnforce")
        #expect(skipped.reason?.remedy.contains("--include-do-not-enforce") == true)
        let included = try #require(try fixture.plan(PlanOptions(includeDoNotEnforce: true)).cluster("c1"))
        #expect(included.decision == .change)
        #expect(included.kinds == [.installExtension, .createConfiguration])
    }

    @Test("DoNotEnforce is skipped first: a blocked cluster is not preflighted")
    func skippedBeforeBlocked() throws {
        var fixture = Fixture()
        fixture.assign("report-only", enforcement: "DoNotEnforce")
        fixture.aks("c1", servicePrincipal: true)
        #expect(try fixture.plan().cluster("c1")?.decision == .skipped)
    }

    @Test("an exempt cluster is skipped and names the exemption")
    func exempt() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.exempt(caseCluster, from: "baseline")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .skipped)
        #expect(cluster.reason?.code == "exempt")
        #expect(cluster.reason?.message.contains("review-0") == true)
    }

    @Test("an enforced assignment beside an exempt one still plans the cluster")
    func exemptFromOneOfTwo() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.assign("baseline-copy")
        fixture.aks("c1")
        fixture.exempt(caseCluster, from: "baseline")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .change)
        #expect(
            cluster.actions.allSatisfy {
                $0.assignmentIds.count == 1 && $0.assignmentIds[0].hasSuffix("/baseline-copy")
            })
    }

    @Test("an exempt extension policy cannot leave a configuration without its extension: blocked")
    func extensionMissing() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.exempt(caseCluster, from: "baseline", references: ["fluxExtension"])
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .blocked)
        #expect(cluster.reason?.code == "extensionMissing")
        #expect(cluster.reason?.remedy.contains("az k8s-extension create") == true)
    }

    @Test("a DeployIfNotExists evaluation error blocks the cluster (the desired state is unknown)")
    func policyError() throws {
        var fixture = Fixture()
        fixture.definitions["broken-extension"] = try Fixture.extensionDefinition(named: "broken-extension") {
            template in
            template["resources"] = (template["resources"] as? [[String: Any]] ?? []).map { resource in
                var resource = resource
                resource["name"] = "[substring(parameters('clusterName'), 5, 100)]"
                return resource
            }
        }
        fixture.assign(
            "broken", definition: "/providers/Microsoft.Authorization/policyDefinitions/broken-extension",
            parameters: "")
        fixture.aks("c1")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .blocked)
        #expect(cluster.reason?.code == "policyError")
        #expect(cluster.reason?.message.hasPrefix("broken/broken-extension failed to evaluate: ") == true)
    }

    @Test("a desired resource of a type FluxFleet does not change: blocked")
    func unsupportedType() throws {
        var fixture = Fixture()
        fixture.definitions["other-type"] = try Fixture.extensionDefinition(named: "other-type") { template in
            template["resources"] = (template["resources"] as? [[String: Any]] ?? []).map { resource in
                var resource = resource
                resource["type"] = "Microsoft.KubernetesConfiguration/privateLinkScopes"
                return resource
            }
        }
        fixture.assign(
            "other", definition: "/providers/Microsoft.Authorization/policyDefinitions/other-type", parameters: "")
        fixture.aks("c1")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .blocked)
        #expect(cluster.reason?.code == "unsupportedResourceType")
    }

    @Test("two assignments wanting different bodies: blocked, naming both")
    func conflict() throws {
        var fixture = Fixture()
        fixture.assign("baseline-main")
        fixture.assign("baseline-release", branch: "release")
        fixture.aks("c1")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .blocked)
        #expect(cluster.reason?.code == "conflictingAssignments")
        let message = cluster.reason?.message ?? ""
        #expect(message.contains("baseline-main") && message.contains("baseline-release"), "\(message)")
    }

    @Test("two assignments wanting the same bodies: one action per resource, both assignments named")
    func agreeingAssignments() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.assign("baseline-copy")
        fixture.aks("c1")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.kinds == [.installExtension, .createConfiguration])
        #expect(cluster.actions.allSatisfy { $0.assignmentIds.count == 2 })
    }

    @Test("a DoNotEnforce conflict does not block an enforced plan")
    func conflictOnlyAmongEnforced() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.assign("report-only", enforcement: "DoNotEnforce", branch: "release")
        fixture.aks("c1")
        let cluster = try #require(try fixture.plan().cluster("c1"))
        #expect(cluster.decision == .change)
        #expect(
            cluster.actions.last?.body?["properties"]?["gitRepository"]?["repositoryRef"]?["branch"] == .string("main"))
    }

    @Test("summary counts and --detailed-exitcode's hasChanges")
    func summary() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        onBaseline(&fixture, caseCluster)
        var plan = try fixture.plan()
        #expect(plan.hasChanges == false)
        #expect(plan.summaryLine == "Plan: no changes; 0 blocked, 0 deferred, 1 unchanged, 0 skipped.")
        fixture.aks("c2")
        fixture.aks("c3", servicePrincipal: true)
        plan = try fixture.plan()
        #expect(plan.hasChanges)
        #expect(plan.summary == [.change: 1, .noop: 1, .blocked: 1, .deferred: 0, .skipped: 0])
        #expect(plan.summaryLine == "Plan: 1 to install, 1 to create; 1 blocked, 0 deferred, 1 unchanged, 0 skipped.")
    }
}

@Suite("Planner human view")
struct PlanTableTests {
    func replacePlan() throws -> Plan {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.fluxExtension(on: caseCluster)
        fixture.configuration(on: caseCluster, namespace: "gitops")
        fixture.aks("c2", power: "Stopped")
        return try fixture.plan(PlanOptions(allowReplace: true))
    }

    @Test("replace is -/+ with its diff; deferred is … with its remedy; the summary line ends it")
    func markers() throws {
        let table = try replacePlan().table()
        #expect(
            table == """
                c1 will change (1 action(s))
                  -/+ replace-configuration gitops-baseline  (scopeChanged)
                        properties.namespace: "gitops" → "flux-system"
                … c2 deferred: aksStopped — powerState Stopped
                    retry: start it (az aks start --resource-group rg --name c2) or wait for its schedule
                Plan: 1 to replace; 0 blocked, 1 deferred, 0 unchanged, 0 skipped.

                """)
    }

    @Test("colour only when asked: red -/+, cyan …")
    func color() throws {
        let plan = try replacePlan()
        #expect(!plan.table().contains("\u{1B}["))
        let colored = plan.table(color: true)
        #expect(colored.contains("\u{1B}[31m-/+\u{1B}[0m replace-configuration"))
        #expect(colored.contains("\u{1B}[36m…\u{1B}[0m"))
    }
}
