import FleetCore
import FleetGenerator
import Foundation
import Testing

@testable import PolicyEngine

/// A result of `state` for `resourceId` under `clusterId`.
private func result(_ resourceId: String, _ clusterId: String, _ state: ComplianceState) -> PolicyResult {
    PolicyResult(
        resourceId: resourceId, clusterId: clusterId, assignmentId: "/a", policyDefinitionId: "/d",
        policyDefinitionReferenceId: nil, effect: "Audit", state: state, reasons: [], enforcementMode: .default,
        exemptionId: nil, desiredResources: [], error: nil)
}

private let clusterA = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a"
private let clusterB = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/b"
private let configuration = "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/cfg"

@Suite("ScanResult.summary: each cluster folded alone equals one map over every resource id")
struct ScanSummaryTests {
    @Test("a generated fleet scanned with the baseline: same summary both ways")
    func generatedFleet() throws {
        let url = FileManager.default.temporaryDirectory.appending(
            path: "scan-summary-\(UInt32.random(in: 0...UInt32.max)).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(FleetGenerator(clusters: 400, seed: 5).generate(format: .array)).write(to: url)
        let fleet = try SnapshotReader.load(path: url.path).fleet
        let loaded = PolicyLoader.load(
            directory: repositoryRoot.appending(path: "policies").path, aliasValidator: AliasCatalog.isKnown)
        var bundle = loaded.bundle
        for index in bundle.assignments.indices {
            bundle.assignments[index].scope = "/"
            bundle.assignments[index].notScopes = []
        }
        let scan = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: ScanOptions(now: "2026-11-21T18:00:00Z"))
        #expect(scan.results.count > 1500)
        #expect(scan.summary == scan.summaryByResourceMap)
        #expect(scan.summary.nonCompliant > 0 && scan.summary.compliant > 0)
    }

    @Test(
        "a resource's worst state counts once, also spelled in another case, and results out of order still count right",
        arguments: [
            // In order: A's cluster and configuration (spelled twice), then B.
            [
                result(clusterA, clusterA, .compliant), result(clusterA + configuration, clusterA, .compliant),
                result((clusterA + configuration).uppercased(), clusterA, .nonCompliant),
                result(clusterB, clusterB, .exempt),
            ],
            // A comes back after B: only the map can tell that A's cluster is one resource.
            [
                result(clusterA, clusterA, .compliant), result(clusterB, clusterB, .exempt),
                result(clusterA, clusterA, .nonCompliant), result(clusterA + configuration, clusterA, .compliant),
            ],
            // Clusters in decreasing order.
            [
                result(clusterB, clusterB, .exempt), result(clusterA + configuration, clusterA, .nonCompliant),
                result(clusterA, clusterA, .compliant),
            ],
            // A result whose resource is not under its cluster (it is B's).
            [
                result(clusterA, clusterA, .compliant), result(clusterB, clusterA, .nonCompliant),
                result(clusterB, clusterB, .exempt),
            ],
            // The same cluster in two spellings, as two runs.
            [result(clusterA, clusterA, .compliant), result(clusterA.uppercased(), clusterA.uppercased(), .error)],
        ])
    func edgeCases(results: [PolicyResult]) {
        let scan = ScanResult(results: results, strict: [], diagnostics: [])
        #expect(scan.summary == scan.summaryByResourceMap)
        let distinct = Set(results.map { ResourceIDKey($0.resourceId) }).count
        #expect(scan.summary.resources == distinct)
    }

    @Test("belongs: the cluster itself or a resource under it, ignoring case, never a longer name")
    func belongs() {
        #expect(ScanResult.belongs(clusterA, to: clusterA))
        #expect(ScanResult.belongs(clusterA.uppercased(), to: clusterA))
        #expect(ScanResult.belongs(clusterA + configuration, to: clusterA))
        #expect(!ScanResult.belongs(clusterA + "2", to: clusterA))
        #expect(!ScanResult.belongs(clusterA + "/", to: clusterA))
        #expect(!ScanResult.belongs(clusterB, to: clusterA))
        #expect(!ScanResult.belongs("", to: clusterA))
    }
}
