import FleetCore
import Foundation
import Planner
import PolicyEngine
import Testing

/// The subscriptions of the fixture fleets.
let subscriptionA = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
let subscriptionB = "5c2e3a9d-8f47-4b6e-9a31-2d0c7e5f1a84"
/// The evaluation time of every fixture.
let fixtureNow = "2026-11-21T18:00:00Z"

/// The repository root (this file is Tests/PlannerTests/PlannerTestSupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A small fleet and policy set written to a temporary directory, scanned and planned like `fluxfleet plan`.
///
/// Cluster and child records are ARM GET shapes; the policies are the repository's own definitions and
/// initiative, with assignments and exemptions written per test.
struct Fixture {
    var records: [String] = []
    var assignments: [String: String] = [:]
    var exemptions: [String: String] = [:]
    var definitions: [String: String] = [:]

    static func clusterID(_ name: String, subscription: String = subscriptionA, group: String = "rg", arc: Bool = false)
        -> String
    {
        let type = arc ? "Microsoft.Kubernetes/connectedClusters" : "Microsoft.ContainerService/managedClusters"
        return "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/\(type)/\(name)"
    }

    static func json(_ value: [String: String]) -> String {
        "{"
            + value.keys.sorted().map { "\(JSONWriter.quote($0)): \(JSONWriter.quote(value[$0]!))" }
            .joined(separator: ", ") + "}"
    }

    /// An AKS cluster; a managed identity unless `servicePrincipal`.
    mutating func aks(
        _ name: String, subscription: String = subscriptionA, group: String = "rg", tags: [String: String] = [:],
        servicePrincipal: Bool = false, power: String = "Running", state: String = "Succeeded",
        vmSize: String = "Standard_D4ds_v5", nodeCount: Int = 3
    ) {
        let id = Self.clusterID(name, subscription: subscription, group: group)
        let identity = servicePrincipal ? "null" : #"{"type": "SystemAssigned", "principalId": "p-\#(name)"}"#
        let client = servicePrincipal ? "c307c1be-e1ab-4f69-8485-c754a68e88d8" : "msi"
        records.append(
            #"{"id": "\#(id)", "name": "\#(name)", "type": "Microsoft.ContainerService/managedClusters", "location": "westeurope", "tags": \#(Self.json(tags)), "identity": \#(identity), "properties": {"provisioningState": "\#(state)", "powerState": {"code": "\#(power)"}, "servicePrincipalProfile": {"clientId": "\#(client)"}, "agentPoolProfiles": [{"name": "system", "mode": "System", "count": \#(nodeCount), "vmSize": "\#(vmSize)", "osType": "Linux"}]}}"#
        )
    }

    /// An Arc connected cluster.
    mutating func arc(
        _ name: String, subscription: String = subscriptionA, group: String = "rg", connectivity: String = "Connected",
        lastConnectivity: String = "2026-11-21T17:55:00Z"
    ) {
        let id = Self.clusterID(name, subscription: subscription, group: group, arc: true)
        records.append(
            #"{"id": "\#(id)", "name": "\#(name)", "type": "Microsoft.Kubernetes/connectedClusters", "location": "westeurope", "tags": {}, "identity": {"type": "SystemAssigned"}, "properties": {"provisioningState": "Succeeded", "connectivityStatus": "\#(connectivity)", "lastConnectivityTime": "\#(lastConnectivity)", "distribution": "k3s"}}"#
        )
    }

    /// The `flux` extension on a cluster (on the baseline unless told otherwise).
    mutating func fluxExtension(
        on cluster: String, name: String = "flux", state: String = "Succeeded", version: String? = "1.19.5",
        autoUpgrade: Bool = true, pinned: String? = nil, settings: String = #"{"multiTenancy.enforce": "false"}"#,
        lastModified: String = "2026-10-05T14:18:22.471Z"
    ) {
        let pinnedJSON = pinned.map { "\"\($0)\"" } ?? "null"
        let versionJSON = version.map { "\"\($0)\"" } ?? "null"
        records.append(
            #"{"id": "\#(cluster)/providers/Microsoft.KubernetesConfiguration/extensions/\#(name)", "name": "\#(name)", "type": "Microsoft.KubernetesConfiguration/extensions", "systemData": {"lastModifiedAt": "\#(lastModified)"}, "properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": \#(autoUpgrade), "releaseTrain": "Stable", "version": \#(pinnedJSON), "scope": {"cluster": {"releaseNamespace": "flux-system"}}, "configurationSettings": \#(settings), "provisioningState": "\#(state)", "currentVersion": \#(versionJSON), "statuses": []}}"#
        )
    }

    /// The baseline `flux` extension as Resource Graph returns it: PascalCase properties, extra columns.
    mutating func fluxExtensionFromResourceGraph(on cluster: String) {
        records.append(
            #"{"id": "\#(cluster)/providers/Microsoft.KubernetesConfiguration/extensions/flux", "name": "flux", "type": "microsoft.kubernetesconfiguration/extensions", "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "kind": "", "location": "", "resourceGroup": "rg", "subscriptionId": "\#(subscriptionA)", "managedBy": "", "sku": null, "plan": null, "tags": null, "zones": null, "extendedLocation": null, "identity": null, "properties": {"ExtensionType": "microsoft.flux", "ProvisioningState": "Succeeded", "InstallState": "Installed", "AutoUpgradeMinorVersion": true, "ReleaseTrain": "Stable", "Version": null, "InstalledVersion": "1.19.5", "Scope": {"cluster": {"ReleaseNamespace": "flux-system"}}, "ConfigurationSettings": {"multiTenancy.enforce": "false"}, "Statuses": [], "ErrorInfo": null}}"#
        )
    }

    /// A Flux configuration on a cluster (the baseline `gitops-baseline` unless told otherwise).
    mutating func configuration(
        on cluster: String, name: String = "gitops-baseline", state: String = "Succeeded", branch: String = "main",
        url: String = "https://github.com/contoso/fleet-gitops", scope: String = "cluster",
        namespace: String = "flux-system", statusUpdatedAt: String = "2026-11-21T17:55:00+00:00",
        complianceState: String = "Compliant", extra: String = "", resourceGraphColumns: Bool = false
    ) {
        let columns =
            resourceGraphColumns
            ? #""tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "kind": "", "location": "", "resourceGroup": "rg", "tags": null, "identity": null, "#
            : ""
        records.append(
            #"{"id": "\#(cluster)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/\#(name)", "name": "\#(name)", "type": "Microsoft.KubernetesConfiguration/fluxConfigurations", \#(columns)"properties": {"scope": "\#(scope)", "namespace": "\#(namespace)", "sourceKind": "GitRepository", "suspend": false, "gitRepository": {"url": "\#(url)", "repositoryRef": {"branch": "\#(branch)"}, "syncIntervalInSeconds": 600, "timeoutInSeconds": 600}, "kustomizations": {"infra": {"name": "infra", "path": "./infrastructure", "dependsOn": [], "timeoutInSeconds": 600, "syncIntervalInSeconds": 600, "prune": true, "force": false, "wait": true}, "apps": {"name": "apps", "path": "./apps", "dependsOn": ["infra"], "timeoutInSeconds": 600, "syncIntervalInSeconds": 600, "prune": true, "force": false, "wait": true}}, \#(extra)"provisioningState": "\#(state)", "complianceState": "\#(complianceState)", "errorMessage": "", "statusUpdatedAt": "\#(statusUpdatedAt)", "statuses": []}}"#
        )
    }

    /// A Flux v1 sourceControlConfiguration.
    mutating func fluxV1(on cluster: String, name: String = "legacy-config") {
        records.append(
            #"{"id": "\#(cluster)/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/\#(name)", "name": "\#(name)", "type": "Microsoft.KubernetesConfiguration/sourceControlConfigurations", "properties": {"repositoryUrl": "git@github.com:contoso/legacy-config.git", "operatorNamespace": "flux-legacy", "operatorType": "Flux", "provisioningState": "Succeeded"}}"#
        )
    }

    /// An assignment of the baseline initiative (or of `definition`) at a subscription.
    mutating func assign(
        _ name: String, subscription: String = subscriptionA, enforcement: String = "Default",
        notScopes: [String] = [], branch: String = "main",
        definition: String = "/providers/Microsoft.Authorization/policySetDefinitions/gitops-baseline",
        parameters: String? = nil
    ) {
        let notScopesJSON = "[" + notScopes.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        let baseline = #"""
            "remediate": {"value": true}, "auditEffect": {"value": "Audit"},
            "configurationName": {"value": "gitops-baseline"},
            "repositoryUrl": {"value": "https://github.com/contoso/fleet-gitops"}, "branch": {"value": "\#(branch)"},
            "kustomizations": {"value": {
              "infra": {"path": "./infrastructure", "dependsOn": [], "prune": true, "syncIntervalInSeconds": 600, "timeoutInSeconds": 600},
              "apps": {"path": "./apps", "dependsOn": ["infra"], "prune": true, "syncIntervalInSeconds": 600, "timeoutInSeconds": 600}}}
            """#
        assignments[name] = #"""
            {"id": "/subscriptions/\#(subscription)/providers/Microsoft.Authorization/policyAssignments/\#(name)",
             "name": "\#(name)", "type": "Microsoft.Authorization/policyAssignments",
             "properties": {"policyDefinitionId": "\#(definition)", "scope": "/subscriptions/\#(subscription)",
               "notScopes": \#(notScopesJSON), "enforcementMode": "\#(enforcement)",
               "parameters": {\#(parameters ?? baseline)}}}
            """#
    }

    /// An exemption of one cluster from an assignment.
    mutating func exempt(
        _ cluster: String, from assignment: String, subscription: String = subscriptionA, references: [String] = []
    ) {
        let referencesJSON = "[" + references.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        exemptions["\(assignment)-\(exemptions.count)"] = #"""
            {"id": "\#(cluster)/providers/Microsoft.Authorization/policyExemptions/review-\#(exemptions.count)",
             "name": "review-\#(exemptions.count)", "type": "Microsoft.Authorization/policyExemptions",
             "properties": {"policyAssignmentId": "/subscriptions/\#(subscription)/providers/Microsoft.Authorization/policyAssignments/\#(assignment)",
               "policyDefinitionReferenceIds": \#(referencesJSON), "exemptionCategory": "Waiver"}}
            """#
    }

    /// The repository's `deploy-flux-extension` definition under another name, changed by `edit` (on the
    /// decoded JSON: `properties.policyRule.then.details.deployment.properties.template` is passed in).
    static func extensionDefinition(named name: String, edit: (inout [String: Any]) -> Void) throws -> String {
        let url = repositoryRoot.appendingPathComponent("policies/definitions/deploy-flux-extension.json")
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        root["id"] = "/providers/Microsoft.Authorization/policyDefinitions/\(name)"
        root["name"] = name
        var properties = try #require(root["properties"] as? [String: Any])
        var rule = try #require(properties["policyRule"] as? [String: Any])
        var then = try #require(rule["then"] as? [String: Any])
        var details = try #require(then["details"] as? [String: Any])
        var deployment = try #require(details["deployment"] as? [String: Any])
        var deploymentProperties = try #require(deployment["properties"] as? [String: Any])
        var template = try #require(deploymentProperties["template"] as? [String: Any])
        edit(&template)
        deploymentProperties["template"] = template
        deployment["properties"] = deploymentProperties
        details["deployment"] = deployment
        then["details"] = details
        rule["then"] = then
        properties["policyRule"] = rule
        root["properties"] = properties
        return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
    }

    /// Writes the fixture, scans it and plans it.
    func plan(_ options: PlanOptions = PlanOptions(), sourceLocation: SourceLocation = #_sourceLocation) throws -> Plan
    {
        let (fleet, bundle) = try load(sourceLocation: sourceLocation)
        let scan = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: ScanOptions(now: fixtureNow))
        return Planner.plan(scan: scan, fleet: fleet, bundle: bundle, options: options)
    }

    /// Writes the fixture and loads the fleet and the policies.
    func load(sourceLocation: SourceLocation = #_sourceLocation) throws -> (Fleet, PolicyBundle) {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: dir) }
        let policies = dir.appendingPathComponent("policies")
        for sub in ["definitions", "initiatives", "assignments", "exemptions"] {
            try fm.createDirectory(at: policies.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        let source = repositoryRoot.appendingPathComponent("policies")
        for sub in ["definitions", "initiatives"] {
            for file in try fm.contentsOfDirectory(atPath: source.appendingPathComponent(sub).path) {
                try fm.copyItem(
                    at: source.appendingPathComponent(sub).appendingPathComponent(file),
                    to: policies.appendingPathComponent(sub).appendingPathComponent(file))
            }
        }
        for (name, text) in definitions {
            try text.write(
                to: policies.appendingPathComponent("definitions/\(name).json"), atomically: true, encoding: .utf8)
        }
        for (name, text) in assignments {
            try text.write(
                to: policies.appendingPathComponent("assignments/\(name).json"), atomically: true, encoding: .utf8)
        }
        for (name, text) in exemptions {
            try text.write(
                to: policies.appendingPathComponent("exemptions/\(name).json"), atomically: true, encoding: .utf8)
        }
        let inventory = dir.appendingPathComponent("fleet.ndjson")
        try (records.joined(separator: "\n") + "\n").write(to: inventory, atomically: true, encoding: .utf8)
        let fleet = try SnapshotReader.load(path: inventory.path).fleet
        let loaded = PolicyLoader.load(directory: policies.path, aliasValidator: AliasCatalog.isKnown)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        #expect(errors.isEmpty, "policy problems: \(errors)", sourceLocation: sourceLocation)
        return (fleet, loaded.bundle)
    }
}

extension Plan {
    /// The plan of the cluster with a name.
    func cluster(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) -> ClusterPlan? {
        let found = clusters.first { $0.name == name }
        #expect(found != nil, "no plan for \(name)", sourceLocation: sourceLocation)
        return found
    }
}

extension ClusterPlan {
    /// The action kinds in order.
    var kinds: [PlanActionKind] { actions.map(\.kind) }
}

/// The demo fleet with the repository's policies, planned at the reference time.
func demoPlan(_ options: PlanOptions = PlanOptions()) throws -> Plan {
    let inventory = try SnapshotReader.load(path: repositoryRoot.appendingPathComponent("fleet-examples/demo").path)
    let loaded = PolicyLoader.load(
        directory: repositoryRoot.appendingPathComponent("policies").path, aliasValidator: AliasCatalog.isKnown)
    let scan = PolicyEvaluator.scan(
        fleet: inventory.fleet, bundle: loaded.bundle, options: ScanOptions(now: fixtureNow))
    return Planner.plan(scan: scan, fleet: inventory.fleet, bundle: loaded.bundle, options: options)
}
