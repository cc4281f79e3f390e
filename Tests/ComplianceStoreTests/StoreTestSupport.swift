import ComplianceStore
import FleetCore
import Foundation
import PolicyEngine

/// Temporary databases and the demo fleet's scan, for the store tests.
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let now = "2026-11-21T18:00:00Z"

    /// A fresh directory, removed by the caller.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The demo fleet and its policies, loaded once.
    static let demo: (fleet: Fleet, bundle: PolicyBundle) = {
        let inventory = try! SnapshotReader.load(path: root.appendingPathComponent("fleet-examples/demo").path)
        let loaded = PolicyLoader.load(
            directory: root.appendingPathComponent("policies").path, aliasValidator: AliasCatalog.isKnown)
        return (inventory.fleet, loaded.bundle)
    }()

    /// Scans `fleet` (default: the demo fleet) at `now`.
    static func scan(_ fleet: Fleet? = nil, now: String = now) -> ScanResult {
        PolicyEvaluator.scan(fleet: fleet ?? demo.fleet, bundle: demo.bundle, options: ScanOptions(now: now))
    }

    /// The run description of a scan.
    static func run(_ fleet: Fleet? = nil, now: String = now) -> ScanRun {
        ScanRun(
            inventory: "fleet-examples/demo", policies: "policies", policiesDigest: demo.bundle.digest,
            evaluatedAt: now,
            clusters: (fleet ?? demo.fleet).clusters.count)
    }

    /// A writer lease request for tests (fixed holder name, this process).
    static func lease(_ holder: String = "test writer", clock: @escaping @Sendable () -> Int64 = { 1_800_000_000 })
        -> LeaseRequest
    {
        LeaseRequest(holder: holder, clock: clock)
    }

    /// Opens a writer store at `path`.
    static func writer(_ path: String, holder: String = "test writer") throws -> ComplianceStore {
        try ComplianceStore(path: path, access: .write(lease(holder)))
    }

    /// Records `scan` of `fleet` at `now`.
    @discardableResult
    static func record(
        _ store: ComplianceStore, _ scan: ScanResult? = nil, fleet: Fleet? = nil, now: String = now
    ) throws -> RecordOutcome {
        try store.record(
            scan: scan ?? self.scan(fleet, now: now), fleet: fleet ?? demo.fleet, run: run(fleet, now: now),
            startedAt: now)
    }

    /// Counts the rows of a table.
    static func count(_ store: ComplianceStore, _ table: String) throws -> Int64 {
        try store.database.scalarInt("SELECT count(*) FROM \(table)")
    }
}
