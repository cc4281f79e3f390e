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

    @Test(
        "the JSON document is the same in any pieces, written on any number of threads",
        arguments: [(1, 1), (1, 2), (3, 2), (7, 4), (512, 2), (100_000, 1)])
    func pieces(perPiece: Int, parallelism: Int) throws {
        let inventory = try SnapshotReader.load(path: repositoryRoot.appending(path: "fleet-examples/demo").path)
        let loaded = PolicyLoader.load(
            directory: repositoryRoot.appending(path: "policies").path, aliasValidator: AliasCatalog.isKnown)
        #expect(!loaded.hasErrors)
        let scan = PolicyEvaluator.scan(
            fleet: inventory.fleet, bundle: loaded.bundle, options: ScanOptions(now: "2026-11-21T18:00:00Z"))
        #expect(scan.results.count > 20 && scan.strict.count > 5)
        let report = ScanReport(scan: scan, run: run, fleet: inventory.fleet)
        var joined: [UInt8] = []
        var count = 0
        report.writeJSON(perPiece: perPiece, parallelism: parallelism) { bytes in
            joined.append(contentsOf: bytes)
            count += 1
        }
        // One piece with everything, on one thread: the document as a single writer writes it.
        var whole: [UInt8] = []
        report.writeJSON(perPiece: .max, parallelism: 1) { whole.append(contentsOf: $0) }
        #expect(joined == whole)
        #expect(report.jsonBytes() == whole)
        #expect(whole.last == 0x0A)
        #expect(try JSONSerialization.jsonObject(with: Data(whole)) is [String: Any])
        // The head before each array, its pieces, then the rest.
        func pieces(_ n: Int) -> Int { (n + perPiece - 1) / perPiece }
        #expect(count == 3 + pieces(scan.results.count) + pieces(scan.strict.count))
    }

    @Test(
        "the table's lists: the same text from pieces on any number of threads",
        arguments: [(1, 1), (1, 4), (7, 2), (1024, 2), (5000, 3)])
    func lines(perPiece: Int, parallelism: Int) {
        let line: @Sendable (Int, inout String) -> Void = { k, out in out += "  item \(k) é\n" }
        var serial = ""
        for k in 0..<2500 { line(k, &serial) }
        #expect(ScanReport.lines(2500, parallelism: parallelism, perPiece: perPiece, line) == serial)
        #expect(ScanReport.lines(0, parallelism: parallelism, perPiece: perPiece, line) == "")
    }
}
