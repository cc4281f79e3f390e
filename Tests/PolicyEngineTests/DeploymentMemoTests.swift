import FleetCore
import FleetGenerator
import Foundation
import Testing

@testable import PolicyEngine

/// A cluster record and the policy context that evaluates a deployment for it.
private struct MemoCluster {
    var id: ResourceID
    var context: PolicyExpressionContext

    init(
        _ name: String, subscription: String = "11111111-1111-1111-1111-111111111111", group: String = "rg-fleet",
        arc: Bool = false, location: String = "westeurope", parameters: [String: JSON]
    ) {
        let type = arc ? "Microsoft.Kubernetes/connectedClusters" : "Microsoft.ContainerService/managedClusters"
        let text = "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/\(type)/\(name)"
        id = try! ResourceID(parsing: text)
        let record = observedJSON(
            #"{"id": "\#(text)", "name": "\#(name)", "type": "\#(type)", "location": "\#(location)", "properties": {}}"#
        )
        context = PolicyExpressionContext(
            parameters: parameters, now: "2026-11-21T18:00:00Z",
            resource: PolicyExpressionContext.Resource(json: record, type: type, id: text))
    }
}

/// The deployment-parameters block of the samples: the cluster's own fields plus the assignment's parameters.
private func withClusterParameters(_ deployment: JSON, _ extra: [String: String]) -> JSON {
    guard case .object(var root) = deployment, case .object(var properties)? = root["properties"] else {
        return deployment
    }
    var parameters: [String: JSON] = [
        "clusterName": .object(["value": .string("[field('name')]")])
    ]
    for (name, value) in extra { parameters[name] = .object(["value": .string(value)]) }
    properties["parameters"] = .object(parameters)
    root["properties"] = .object(properties)
    return .object(root)
}

/// Either the resources or the error, for comparing two evaluations.
private func outcome(_ body: () throws(DeploymentError) -> [DesiredResource]) -> Result<
    [DesiredResource], DeploymentError
> {
    do { return .success(try body()) } catch { return .failure(error) }
}

@Suite("DeploymentMemo: a template evaluated once per shape of cluster")
struct DeploymentMemoTests {
    private static let clusters: [(String, String, String, Bool, String)] = [
        ("aks-weu-01", "11111111-1111-1111-1111-111111111111", "rg-fleet", false, "westeurope"),
        ("aks-weu-02", "11111111-1111-1111-1111-111111111111", "rg-fleet", false, "westeurope"),
        ("AKS-NEU-03", "11111111-1111-1111-1111-111111111111", "rg-other", false, "northeurope"),
        ("arc-store-17", "22222222-2222-2222-2222-222222222222", "RG-Edge", true, "eastus2"),
        ("arc-store-18", "22222222-2222-2222-2222-222222222222", "RG-Edge", true, "westeurope"),
        ("aks.with.dots", "33333333-3333-3333-3333-333333333333", "rg(odd).name", false, "westeurope"),
    ]

    private func expectSameAsFull(_ deployment: JSON, parameters: [String: JSON]) -> DeploymentMemo {
        let memo = DeploymentMemo()
        for (name, subscription, group, arc, location) in Self.clusters {
            let cluster = MemoCluster(
                name, subscription: subscription, group: group, arc: arc, location: location, parameters: parameters)
            let full = outcome { () throws(DeploymentError) in
                try DeploymentEvaluator.desiredResources(
                    deployment: deployment, policyParameters: cluster.context, cluster: cluster.id)
            }
            let memoised = outcome { () throws(DeploymentError) in
                try memo.desiredResources(
                    policy: 0, deployment: deployment, policyParameters: cluster.context, cluster: cluster.id)
            }
            #expect(memoised == full, "cluster \(name)")
        }
        return memo
    }

    @Test("the Flux extension: same resources as a full evaluation; the Arc and AKS branches are learned once each")
    func fluxExtension() {
        let deployment = withClusterParameters(
            DeploymentSamples.fluxExtension,
            ["clusterResourceType": "[field('type')]", "helmEnabled": "[parameters('helm')]", "auto": "[true()]"])
        let memo = expectSameAsFull(deployment, parameters: ["helm": .bool(true)])
        // The resource type goes through toLower(): it becomes part of the key; names stay symbols.
        #expect(memo.hits > 0)
        #expect(memo.full == 0)
    }

    @Test("the fluxConfiguration sample with a Key Vault reference and expression keys")
    func fluxConfiguration() {
        let memo = expectSameAsFull(DeploymentSamples.fluxConfiguration, parameters: DeploymentSamples.fluxParameters)
        #expect(memo.hits + memo.misses + memo.full == Self.clusters.count)
    }

    @Test("variables and defaults built from the cluster name and resourceGroup()")
    func variables() {
        let memo = expectSameAsFull(
            withClusterParameters(DeploymentSamples.withVariables, [:]), parameters: [:])
        // Everything the cluster contributes only moves through concat(): one evaluation per odd resource group.
        #expect(memo.hits >= 3)
    }

    @Test("a function that looks into the cluster name makes the name part of the key")
    func lookingIntoTheName() {
        let deployment = deploymentJSON(
            #"""
            {"properties": {
              "parameters": {"clusterName": {"value": "[field('name')]"}},
              "template": {
                "parameters": {"clusterName": {"type": "string"}},
                "resources": [{
                  "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                  "name": "[concat('cfg-', toLower(parameters('clusterName')))]",
                  "apiVersion": "2025-04-01",
                  "scope": "[concat('Microsoft.ContainerService/managedClusters/', parameters('clusterName'))]",
                  "properties": {"namespace": "[substring(parameters('clusterName'), 0, 3)]"}
                }]
              }
            }}
            """#)
        let memo = expectSameAsFull(deployment, parameters: [:])
        // Every cluster has its own name, so nothing can be shared, and nothing is wrong.
        #expect(memo.hits == 0)
        #expect(memo.misses == Self.clusters.count)
    }

    @Test("a template that fails fails the same way through the memo")
    func errors() {
        let deployment = deploymentJSON(
            #"""
            {"properties": {
              "parameters": {"clusterName": {"value": "[field('name')]"}},
              "template": {
                "parameters": {"clusterName": {"type": "string"}},
                "resources": [{
                  "type": "Microsoft.KubernetesConfiguration/extensions", "name": "flux", "apiVersion": "2023-05-01",
                  "scope": "[concat('Microsoft.ContainerService/managedClusters/', parameters('clusterName'))]",
                  "properties": {"extensionType": "[parameters('missing')]"}
                }]
              }
            }}
            """#)
        let memo = expectSameAsFull(deployment, parameters: [:])
        #expect(memo.hits == 0)
    }

    @Test("symbols: found in strings and keys, replaced exactly, never confused with look-alike text")
    func symbols() {
        let symbol = SymbolTrap.symbol(7)
        #expect(symbol == "ffsymq7x07z")
        var slots: Set<Int> = []
        #expect(
            SymbolTrap.collect(.object(["a-\(symbol)": .array([.string("x\(SymbolTrap.symbol(12))")])]), into: &slots))
        #expect(slots == [7, 12])
        #expect(!SymbolTrap.collect(.string("ffsymq7x7z ffsymq7xAAz"), into: &slots))
        let values = (0..<13).map { "v\($0)" }
        #expect(SymbolicText("a/\(symbol)/b\(SymbolTrap.symbol(12))").text(values) == "a/v7/bv12")
        #expect(SymbolTrap.substitute("a/\(symbol)", values) == "a/v7")
        #expect(DeploymentMemo.isPlainName("aks-weu_01.x"))
        #expect(!DeploymentMemo.isPlainName("rg (odd)"))
        #expect(!DeploymentMemo.isPlainName("Providers"))
        #expect(!DeploymentMemo.isPlainName(""))
    }
}

/// The repository root (for `policies/` and `fleet-examples/`).
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

@Suite("Scan with and without the deployment memo")
struct DeploymentMemoScanTests {
    /// Scans `fleet` both ways and expects the same results, desired resources and strict view.
    private func expectSameScan(_ fleet: Fleet, _ bundle: PolicyBundle) {
        var options = ScanOptions(now: "2026-11-21T18:00:00Z")
        let memoised = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: options)
        options.memoizesDeployments = false
        options.memoizesConditions = false
        let full = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: options)
        #expect(memoised.results.count == full.results.count)
        for (a, b) in zip(memoised.results, full.results) {
            #expect(a.resourceId == b.resourceId && a.assignmentId == b.assignmentId)
            #expect(a.state == b.state, "\(a.resourceId)")
            #expect(a.reasons == b.reasons, "\(a.resourceId)")
            #expect(a.desiredResources == b.desiredResources, "\(a.resourceId)")
            #expect(a.error == b.error, "\(a.resourceId)")
        }
        #expect(memoised.strict.count == full.strict.count)
        for (a, b) in zip(memoised.strict, full.strict) {
            #expect(a.resourceId == b.resourceId && a.drift == b.drift && a.runtime == b.runtime, "\(a.resourceId)")
        }
        #expect(memoised.summary == full.summary)
    }

    private func baseline() throws -> PolicyBundle {
        let loaded = PolicyLoader.load(
            directory: repositoryRoot.appending(path: "policies").path, aliasValidator: AliasCatalog.isKnown)
        #expect(!loaded.hasErrors)
        return loaded.bundle
    }

    @Test("the demo fleet with the repository's policies")
    func demo() throws {
        let inventory = try SnapshotReader.load(path: repositoryRoot.appending(path: "fleet-examples/demo").path)
        expectSameScan(inventory.fleet, try baseline())
    }

    @Test("a generated fleet of 400 clusters with the baseline assigned to every subscription")
    func generated() throws {
        let url = FileManager.default.temporaryDirectory.appending(
            path: "memo-\(UInt32.random(in: 0...UInt32.max)).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(FleetGenerator(clusters: 400, seed: 5).generate(format: .array)).write(to: url)
        let inventory = try SnapshotReader.load(path: url.path)
        var bundle = try baseline()
        for index in bundle.assignments.indices {
            bundle.assignments[index].scope = "/"
            bundle.assignments[index].notScopes = []
        }
        expectSameScan(inventory.fleet, bundle)
    }
}
