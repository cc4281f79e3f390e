// The compliance store's stages: recording one scan, and a year of daily scans with churn.

import ComplianceStore
import FleetCore
import FleetGenerator
import Foundation
import PolicyEngine
import Reports

/// A fresh database path in the work directory (removed first, with its WAL files).
func freshDatabase(_ name: String, nextTo inventory: String) -> String {
    let path = URL(fileURLWithPath: inventory).deletingLastPathComponent().appendingPathComponent(name).path
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return path
}

/// The size of a database after a checkpoint (the file alone, the WAL folded in).
func databaseBytes(_ store: ComplianceStore) -> Int {
    try? store.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return (try? FileManager.default.attributesOfItem(atPath: store.path)[.size] as? Int) ?? 0
}

/// The `record` stage: one scan recorded into an empty database, then the same scan again.
///
/// The second record is the unchanged re-scan. Only `record` is timed; the scan is built once beforehand.
func recordStage(inventory path: String, policies: String) throws -> [(String, JSON)] {
    let inventory = try SnapshotReader.load(path: path, keepsInput: true)
    let bundle = benchmarkPolicies(policies)
    let scan = PolicyEvaluator.scan(
        fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: FleetGenerator.referenceTime))
    let run = ScanRun(
        inventory: path, policies: policies, policiesDigest: bundle.digest, evaluatedAt: FleetGenerator.referenceTime,
        clusters: inventory.fleet.clusters.count)
    let db = freshDatabase("record-\(inventory.fleet.clusters.count).sqlite", nextTo: path)
    let store = try ComplianceStore(path: db, access: .write(LeaseRequest(holder: "fluxfleet-bench record")))
    var first: RecordOutcome?
    var cpu = cpuSeconds()
    let t = try seconds {
        first = try store.record(scan: scan, fleet: inventory.fleet, run: run, startedAt: FleetGenerator.referenceTime)
    }
    let cpu1 = cpuSeconds() - cpu
    var again: RecordOutcome?
    cpu = cpuSeconds()
    let t2 = try seconds {
        again = try store.record(scan: scan, fleet: inventory.fleet, run: run, startedAt: FleetGenerator.referenceTime)
    }
    let cpu2 = cpuSeconds() - cpu
    let bytes = databaseBytes(store)
    return [
        ("clusters", .int(inventory.fleet.clusters.count)), ("results", .int(scan.results.count)),
        ("strictEntries", .int(scan.strict.count)), ("rowsAdded", .int(first!.rowsAdded)),
        ("details", .int(first!.detailsAdded)), ("seconds", rounded(t)), ("cpuSeconds", rounded(cpu1)),
        ("rowsPerSecond", .int(Int(Double(first!.rowsAdded) / t))), ("unchangedRescanSeconds", rounded(t2)),
        ("unchangedRescanCpuSeconds", rounded(cpu2)),
        ("unchangedRescanRowsAdded", .int(again!.rowsAdded)), ("databaseBytes", .int(bytes)),
    ]
}

/// A deterministic hash of two numbers, for picking which subjects churn on which day.
func mix(_ a: Int, _ b: Int) -> UInt64 {
    var x = UInt64(truncatingIfNeeded: a) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: b)
    x ^= x >> 31
    x = x &* 0xBF58_476D_1CE4_E5B9
    x ^= x >> 29
    return x
}

/// `year`: 365 daily scans with 2% daily churn, then the report data over the year.
///
/// The fleet is scanned once; each day flips the state (and reasons) of a deterministic 2% of
/// the subjects relative to the day before, and leaves out a rolling 0.05% of the clusters (so
/// every day some clusters are removed and some come back).
func yearStage(inventory path: String, policies: String, days: Int = 365) throws -> [(String, JSON)] {
    let inventory = try SnapshotReader.load(path: path)
    let bundle = benchmarkPolicies(policies)
    let base = PolicyEvaluator.scan(
        fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: FleetGenerator.referenceTime))
    let db = freshDatabase("year-\(inventory.fleet.clusters.count).sqlite", nextTo: path)
    let store = try ComplianceStore(path: db, access: .write(LeaseRequest(holder: "fluxfleet-bench year")))
    let clusters = inventory.fleet.clusters
    var clusterIndex: [String: Int] = [:]
    for (i, cluster) in clusters.enumerated() { clusterIndex[ASCII.lowercased(cluster.id.description)] = i }
    let resultCluster = base.results.map { clusterIndex[ASCII.lowercased($0.clusterId)] ?? 0 }
    let strictCluster = base.strict.map { clusterIndex[ASCII.lowercased($0.clusterId)] ?? 0 }
    let churnReason = PolicyReason(
        expression: "field 'Microsoft.KubernetesConfiguration/fluxConfigurations/complianceState'",
        path: "properties.complianceState", actual: .string("Non-Compliant"), target: .string("Compliant"),
        operator: "equals", message: "Current value must be equal to the target value")
    var current = base.results
    let start = StoreTime.epoch(FleetGenerator.referenceTime)! - Int64(days) * 86_400
    var recordTimes: [Double] = []
    var opened = 0
    var closed = 0
    let total = try seconds {
        for day in 0..<days {
            if day > 0 {
                for i in current.indices where mix(day, i) % 50 == 0 {
                    switch current[i].state {
                    case .compliant:
                        current[i].state = .nonCompliant
                        current[i].reasons = [churnReason]
                    case .nonCompliant:
                        current[i].state = .compliant
                        current[i].reasons = []
                    default:
                        current[i].reasons = [churnReason]
                    }
                }
            }
            let absent = { (cluster: Int) in (cluster + day) % 2000 == 0 }
            var scan = base
            scan.results = current.indices.filter { !absent(resultCluster[$0]) }.map { current[$0] }
            scan.strict = base.strict.indices.filter { !absent(strictCluster[$0]) }.map { base.strict[$0] }
            let fleet = Fleet(clusters: clusters.indices.filter { !absent($0) }.map { clusters[$0] }, findings: [])
            let now = StoreTime.iso(start + Int64(day) * 86_400)
            let run = ScanRun(
                inventory: path, policies: policies, policiesDigest: bundle.digest, evaluatedAt: now,
                clusters: fleet.clusters.count)
            var outcome: RecordOutcome?
            recordTimes.append(
                try seconds { outcome = try store.record(scan: scan, fleet: fleet, run: run, startedAt: now) })
            opened += outcome!.intervalsOpened
            closed += outcome!.intervalsClosed
        }
    }
    let bytes = databaseBytes(store)
    var report: ReportDataSize = (0, 0, 0)
    let reportCPUStart = cpuSeconds()
    let reportTime = try seconds {
        let data = try store.reportData(since: .last(StoreDuration("365d")!))
        report = (data.results.count, data.trend.count, data.intervals.count)
    }
    let reportCPU = cpuSeconds() - reportCPUStart
    let sorted = recordTimes.sorted()
    return [
        ("clusters", .int(clusters.count)), ("days", .int(days)), ("resultsPerDay", .int(base.results.count)),
        ("intervalsOpened", .int(opened)), ("intervalsClosed", .int(closed)), ("seconds", rounded(total)),
        ("recordSecondsMedian", rounded(sorted[sorted.count / 2], 4)),
        ("recordSecondsP90", rounded(sorted[sorted.count * 9 / 10], 4)), ("recordSecondsMax", rounded(sorted.last!, 4)),
        ("databaseBytes", .int(bytes)), ("bytesPerDay", .int(bytes / days)), ("reportDataSeconds", rounded(reportTime)),
        ("reportDataCpuSeconds", rounded(reportCPU)),
        ("reportResults", .int(report.results)), ("reportTrendPoints", .int(report.trend)),
        ("reportIntervals", .int(report.intervals)),
    ]
}

/// `report`: the report data over the year, three times, from the database `year` left next to the
/// inventory (run `--stages year` first); reads only.
func reportStage(inventory path: String) throws -> [(String, JSON)] {
    let inventory = try SnapshotReader.load(path: path)
    let db = URL(fileURLWithPath: path).deletingLastPathComponent()
        .appendingPathComponent("year-\(inventory.fleet.clusters.count).sqlite").path
    guard FileManager.default.fileExists(atPath: db) else { fail("no \(db): run --stages year first") }
    let store = try ComplianceStore(path: db, access: .read)
    var walls: [Double] = []
    var cpus: [Double] = []
    var report: ReportDataSize = (0, 0, 0)
    for _ in 0..<3 {
        let cpu = cpuSeconds()
        walls.append(
            try seconds {
                let data = try store.reportData(since: .last(StoreDuration("365d")!))
                report = (data.results.count, data.trend.count, data.intervals.count)
            })
        cpus.append(cpuSeconds() - cpu)
    }
    return [
        ("clusters", .int(inventory.fleet.clusters.count)), ("reportDataSeconds", .array(walls.map { rounded($0) })),
        ("reportDataCpuSeconds", .array(cpus.map { rounded($0) })), ("reportResults", .int(report.results)),
        ("reportTrendPoints", .int(report.trend)), ("reportIntervals", .int(report.intervals)),
    ]
}

typealias ReportDataSize = (results: Int, trend: Int, intervals: Int)
