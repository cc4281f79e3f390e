import FleetCore
import Foundation
import Testing

@testable import PolicyEngine

/// A result of `assignment` and `definition` (with `reference`) for the cluster `cluster`.
private func result(
    _ assignment: String, _ definition: String, _ reference: String?, _ effect: String, _ state: ComplianceState,
    cluster: String
) -> PolicyResult {
    PolicyResult(
        resourceId: cluster, clusterId: cluster, assignmentId: assignment, policyDefinitionId: definition,
        policyDefinitionReferenceId: reference, effect: effect, state: state, reasons: [], enforcementMode: .default,
        exemptionId: nil, desiredResources: [], error: nil)
}

private let run = ScanRun(
    inventory: "inventory.json", policies: "policies", policiesDigest: "0", evaluatedAt: "2026-11-21T18:00:00Z",
    clusters: 2)

@Suite("ScanReport: the table's rows and the JSON document written in pieces")
struct ScanRenderingTests {
    @Test("one row per assignment and policy name, in first-seen order, whichever order the results come in")
    func rows() {
        let c1 = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
        let c2 = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c2"
        let results = [
            result("/sub/a1", "/x/policyDefinitions/p1", nil, "Audit", .compliant, cluster: c1),
            // Another definition whose id ends the same: the same policy name, so the same row.
            result("/sub/a1", "/y/policyDefinitions/p1", nil, "Audit", .nonCompliant, cluster: c1),
            result("/sub/a1", "/x/policyDefinitions/deploy", "p2", "Deny", .compliant, cluster: c1),
            result("/sub/a2", "/x/policyDefinitions/p1", nil, "Audit", .error, cluster: c2),
            // Back to the first row after others: counted there; the row shows the last effect seen.
            result("/sub/a1", "/x/policyDefinitions/p1", nil, "AuditIfNotExists", .exempt, cluster: c2),
            // A reference id equal to a definition's last segment joins that row too.
            result("/sub/a2", "/z/policyDefinitions/other", "p1", "Audit", .unknown, cluster: c2),
        ]
        let report = ScanReport(
            scan: ScanResult(results: results, strict: [], diagnostics: []), run: run,
            fleet: Fleet(clusters: [], findings: []))
        let lines = report.table().split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(
            lines[0] == ["ASSIGNMENT", "POLICY", "EFFECT", "COMPLIANT", "NON-COMPLIANT", "EXEMPT", "UNKNOWN", "ERROR"])
        #expect(lines[1] == ["a1", "p1", "AuditIfNotExists", "1", "1", "1", "0", "0"])
        #expect(lines[2] == ["a1", "p2", "Deny", "1", "0", "0", "0", "0"])
        #expect(lines[3] == ["a2", "p1", "Audit", "0", "0", "0", "1", "1"])
        #expect(lines[4] == ["non-compliant:"])
    }

    @Test("the JSON document written in pieces is the document written whole", arguments: [1, 64, 4096])
    func pieces(piece: Int) throws {
        let inventory = try SnapshotReader.load(path: repositoryRoot.appending(path: "fleet-examples/demo").path)
        let loaded = PolicyLoader.load(
            directory: repositoryRoot.appending(path: "policies").path, aliasValidator: AliasCatalog.isKnown)
        #expect(!loaded.hasErrors)
        let scan = PolicyEvaluator.scan(
            fleet: inventory.fleet, bundle: loaded.bundle, options: ScanOptions(now: "2026-11-21T18:00:00Z"))
        let report = ScanReport(scan: scan, run: run, fleet: inventory.fleet)
        var joined: [UInt8] = []
        var count = 0
        report.writeJSON(piece: piece) { bytes in
            joined.append(contentsOf: bytes)
            count += 1
        }
        let whole = report.jsonBytes()
        #expect(joined == whole)
        #expect(whole.last == 0x0A)
        // A piece is flushed after each result or entry that fills it: more results than pieces only when
        // several fit in one.
        #expect(count > 1)
        if piece == 1 { #expect(count == scan.results.count + scan.strict.count + 1) }
    }
}
