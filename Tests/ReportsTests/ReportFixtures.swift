import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

/// The demo fleet scanned in-process, and a small hand-built history around it.
enum Fixtures {
    /// The repository root (this file is Tests/ReportsTests/ReportFixtures.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The evaluation time every fixture uses.
    static let now = "2026-11-21T18:00:00Z"

    /// The demo fleet, its policies and the scan of it, as `fluxfleet scan --now 2026-11-21T18:00:00Z` makes them.
    static let demo: (fleet: Fleet, bundle: PolicyBundle, scan: ScanResult, run: ScanRun) = {
        let inventory = try! SnapshotReader.load(path: root.appendingPathComponent("fleet-examples/demo").path)
        let loaded = PolicyLoader.load(
            directory: root.appendingPathComponent("policies").path, aliasValidator: AliasCatalog.isKnown)
        precondition(!loaded.hasErrors, "\(loaded.diagnostics)")
        let scan = PolicyEvaluator.scan(fleet: inventory.fleet, bundle: loaded.bundle, options: ScanOptions(now: now))
        let run = ScanRun(
            inventory: "fleet-examples/demo", policies: "policies", policiesDigest: loaded.bundle.digest,
            evaluatedAt: now, clusters: inventory.fleet.clusters.count)
        return (inventory.fleet, loaded.bundle, scan, run)
    }()

    /// The demo scan as report data, without history.
    static let scanOnly = ReportData(
        scan: demo.scan, run: demo.run, fleet: demo.fleet, kind: "scan", bundle: demo.bundle)

    /// The demo scan with a run id and a history: four earlier runs, a subject fixed after 2 days,
    /// another after 5 days, and one that flaps (4 changes).
    static let withHistory: ReportData = {
        var data = scanOnly
        data.run.id = 5
        data.trend = [
            ReportRunPoint(
                runId: 1, at: "2026-11-17T18:00:00Z", resources: 36, compliant: 16, nonCompliant: 19, exempt: 1,
                unknown: 0, error: 0),
            ReportRunPoint(
                runId: 2, at: "2026-11-18T18:00:00Z", resources: 37, compliant: 18, nonCompliant: 18, exempt: 1,
                unknown: 0, error: 0),
            ReportRunPoint(
                runId: 3, at: "2026-11-19T18:00:00Z", resources: 38, compliant: 21, nonCompliant: 16, exempt: 1,
                unknown: 0, error: 0),
            ReportRunPoint(
                runId: 4, at: "2026-11-20T18:00:00Z", resources: 38, compliant: 20, nonCompliant: 17, exempt: 1,
                unknown: 0, error: 0),
            ReportRunPoint(
                runId: 5, at: now, resources: 38, compliant: 23, nonCompliant: 14, exempt: 1, unknown: 0, error: 0),
        ]
        let prod = assignment("gitops-baseline-prod")
        let dev = assignment("gitops-baseline-dev")
        let eus = cluster("aks-prod-eus-03")
        let weu = cluster("aks-prod-weu-01")
        let flappy = cluster("arc-store-042")
        func interval(_ c: String, _ a: String, _ ref: String, _ s: ComplianceState, _ from: String, _ to: String?)
            -> ReportInterval
        {
            ReportInterval(
                resourceId: c, clusterId: c, assignmentId: a, policyDefinitionReferenceId: ref, state: s, from: from,
                to: to)
        }
        data.intervals = [
            // Fixed after two days.
            interval(eus, prod, "fluxExtension", .nonCompliant, "2026-11-17T18:00:00Z", "2026-11-19T18:00:00Z"),
            interval(eus, prod, "fluxExtension", .compliant, "2026-11-19T18:00:00Z", nil),
            // Fixed after three days.
            interval(weu, prod, "fluxConfiguration", .nonCompliant, "2026-11-17T18:00:00Z", "2026-11-20T18:00:00Z"),
            interval(weu, prod, "fluxConfiguration", .compliant, "2026-11-20T18:00:00Z", nil),
            // Flaps: four changes in the window.
            interval(flappy, dev, "fluxConfiguration", .compliant, "2026-11-17T18:00:00Z", "2026-11-18T18:00:00Z"),
            interval(flappy, dev, "fluxConfiguration", .nonCompliant, "2026-11-18T18:00:00Z", "2026-11-19T18:00:00Z"),
            interval(flappy, dev, "fluxConfiguration", .compliant, "2026-11-19T18:00:00Z", "2026-11-20T18:00:00Z"),
            interval(flappy, dev, "fluxConfiguration", .nonCompliant, "2026-11-20T18:00:00Z", "2026-11-21T06:00:00Z"),
            interval(flappy, dev, "fluxConfiguration", .compliant, "2026-11-21T06:00:00Z", nil),
        ]
        return data
    }()

    /// The id of a demo cluster by name.
    static func cluster(_ name: String) -> String {
        demo.fleet.clusters.first { $0.name == name }!.id.description
    }

    /// The id of a demo assignment by name.
    static func assignment(_ name: String) -> String {
        demo.bundle.assignments.first { $0.name == name }!.id
    }

    /// Renders a format as text.
    static func render(_ data: ReportData, _ format: ReportFormat, _ options: ReportOptions = .init()) -> String {
        String(decoding: ReportRenderer.render(data, format: format, options: options), as: UTF8.self)
    }
}

/// Golden files: compare with `Golden/<name>`; `FLUXFLEET_RECORD_GOLDEN=1` rewrites them.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["FLUXFLEET_RECORD_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record(
                "missing golden file \(name); run with FLUXFLEET_RECORD_GOLDEN=1 to create it",
                sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
            let want = line < e.count ? String(e[line]) : "<end>"
            let got = line < a.count ? String(a[line]) : "<end>"
            Issue.record(
                "\(name) differs at line \(line + 1):\n  expected: \(want)\n  actual:   \(got)\n(FLUXFLEET_RECORD_GOLDEN=1 re-records)",
                sourceLocation: sourceLocation)
        }
    }
}
