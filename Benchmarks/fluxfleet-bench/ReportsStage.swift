// The report stage: every report format rendered from a year of history at fleet scale.
//
// Registered from main.swift by the lead; until then it can be called as
//   runReportsStage(inventory: path, policies: options.policies, repeats: options.repeats)
// from a `--stage reports` case (one child process, like the other stages). It prints one JSON
// line for building the data, one for the summary and one per format.

import FleetCore
import FleetGenerator
import Foundation
import PolicyEngine
import Reports

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Days of history the stage synthesises (one scan a day).
let reportHistoryDays = 365

/// The share of clusters whose compliance changes on a given day.
let reportDailyChurn = 0.02

/// A year of daily scans ending at the generator's reference time: a trend point per day and the
/// state intervals that 2% daily churn leaves behind, deterministic for a given scan.
///
/// Each day, 2% of the clusters each flip one of their results between NonCompliant and
/// Compliant (picked with a fixed-seed generator); each result's intervals end in the state the
/// scan found, so the history leads to the present. Trend points count distinct resources by the
/// state they had that day.
func synthesiseHistory(_ data: inout ReportData) {
    var random = SplitMix(seed: 0x5EED)
    let results = data.results
    let endDay = referenceDay()
    let startDay = endDay - reportHistoryDays + 1
    var byCluster: [String: [Int]] = [:]
    for (i, result) in results.enumerated() { byCluster[result.clusterId, default: []].append(i) }
    let clusterIds = data.clusters.map(\.id).filter { byCluster[$0] != nil }
    // Flip days per result, in order.
    var flips: [Int: [Int]] = [:]
    let perDay = max(1, Int((Double(clusterIds.count) * reportDailyChurn).rounded()))
    for day in (startDay + 1)...endDay {
        for _ in 0..<perDay {
            let cluster = clusterIds[Int(random.next() % UInt64(clusterIds.count))]
            let candidates = byCluster[cluster]!.filter {
                results[$0].state == .compliant || results[$0].state == .nonCompliant
            }
            guard !candidates.isEmpty else { continue }
            flips[candidates[Int(random.next() % UInt64(candidates.count))], default: []].append(day)
        }
    }
    func iso(_ day: Int) -> String {
        let (y, m, d) = CivilDate.date(daysSinceEpoch: Int64(day))
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T18:00:00Z"
    }
    func flipped(_ state: ComplianceState) -> ComplianceState { state == .compliant ? .nonCompliant : .compliant }
    var intervals: [ReportInterval] = []
    intervals.reserveCapacity(results.count + flips.values.reduce(0) { $0 + $1.count })
    // Per day, the change in distinct-resource counts (each result is taken as its own resource here).
    var delta = Array(repeating: 0, count: reportHistoryDays + 1)  // NonCompliant count change on a day
    var nonCompliantAtStart = 0
    for (i, result) in results.enumerated() {
        let days = (flips[i] ?? []).sorted()
        var state = days.count % 2 == 0 ? result.state : flipped(result.state)
        if state == .nonCompliant { nonCompliantAtStart += 1 }
        var from = startDay
        for day in days where day > from {
            intervals.append(
                ReportInterval(
                    resourceId: result.resourceId, clusterId: result.clusterId, assignmentId: result.assignmentId,
                    policyDefinitionReferenceId: result.policyDefinitionReferenceId, state: state, from: iso(from),
                    to: iso(day)))
            delta[day - startDay] += state == .nonCompliant ? -1 : 1
            state = flipped(state)
            from = day
        }
        intervals.append(
            ReportInterval(
                resourceId: result.resourceId, clusterId: result.clusterId, assignmentId: result.assignmentId,
                policyDefinitionReferenceId: result.policyDefinitionReferenceId, state: state, from: iso(from),
                to: nil))
    }
    // The last point is the scan itself; earlier ones move its NonCompliant count by the day's flips,
    // scaled from results to distinct resources.
    let summary = ReportSummary(data)
    let now = summary.resources
    let scale = results.isEmpty ? 0 : Double(now.total) / Double(results.count)
    var nonCompliantResults = Array(repeating: 0, count: reportHistoryDays)
    var running = nonCompliantAtStart
    for offset in 0..<reportHistoryDays {
        running += delta[offset]
        nonCompliantResults[offset] = running
    }
    var trend: [ReportRunPoint] = []
    for offset in 0..<reportHistoryDays {
        let shift = Double(nonCompliantResults[offset] - nonCompliantResults[reportHistoryDays - 1]) * scale
        let nc = min(now.total - now.exempt - now.unknown - now.error, max(0, now.nonCompliant + Int(shift)))
        trend.append(
            ReportRunPoint(
                runId: Int64(offset + 1), at: iso(startDay + offset), resources: now.total,
                compliant: now.total - nc - now.exempt - now.unknown - now.error, nonCompliant: nc, exempt: now.exempt,
                unknown: now.unknown, error: now.error))
    }
    data.run.id = Int64(reportHistoryDays)
    data.trend = trend
    data.intervals = intervals
}

/// The day (since 1970-01-01) of the generator's reference time, `2026-11-21T18:00:00Z`.
func referenceDay() -> Int {
    let parts = FleetGenerator.referenceTime.prefix(10).split(separator: "-").compactMap { Int64($0) }
    guard parts.count == 3 else { fail("unexpected reference time \(FleetGenerator.referenceTime)") }
    return Int(CivilDate.daysSinceEpoch(year: parts[0], month: parts[1], day: parts[2]))
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The policies of `directory` with every assignment re-scoped to the whole tenant and no
/// exemptions, so each generated cluster is evaluated under every assignment (the repository's two
/// assignments of the gitops-baseline initiative: about nine results per cluster).
func reportBenchmarkPolicies(_ directory: String) -> PolicyBundle {
    let loaded = PolicyLoader.load(directory: directory)
    guard !loaded.hasErrors, !loaded.bundle.assignments.isEmpty else {
        fail("policies in \(directory) do not load: \(loaded.diagnostics.prefix(3))")
    }
    var bundle = loaded.bundle
    bundle.assignments = bundle.assignments.map {
        var assignment = $0
        assignment.scope = "/"
        assignment.notScopes = []
        return assignment
    }
    bundle.exemptions = []
    return bundle
}

/// Builds the report data for `inventory`: a scan of the benchmark policies plus a synthesised year.
func reportBenchmarkData(inventory path: String, policies: String) throws -> ReportData {
    let inventory = try SnapshotReader.load(path: path)
    let bundle = reportBenchmarkPolicies(policies)
    let scan = PolicyEvaluator.scan(
        fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: FleetGenerator.referenceTime))
    let run = ScanRun(
        inventory: path, policies: policies, policiesDigest: bundle.digest, evaluatedAt: FleetGenerator.referenceTime,
        clusters: inventory.fleet.clusters.count)
    var data = ReportData(scan: scan, run: run, fleet: inventory.fleet, kind: "scan", bundle: bundle)
    synthesiseHistory(&data)
    return data
}

/// The wall-clock and on-CPU seconds of `body` (CPU time of this thread: on a shared machine it
/// leaves out the time spent waiting for a core, which wall-clock time includes).
func wallAndCPUSeconds(_ body: () -> Void) -> (wall: Double, cpu: Double) {
    func cpuNow() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
    let cpuStart = cpuNow()
    let wall = seconds(body)
    return (wall, cpuNow() - cpuStart)
}

/// Times the summary and every format's rendering over a year of history for `inventory`, printing
/// one JSON line each (the best of `repeats`); with `writeTo`, also writes each output there
/// (`report.<extension>`) to look at.
func runReportsStage(inventory path: String, policies: String, repeats: Int = 3, writeTo: String? = nil) {
    var data: ReportData?
    let build: Double
    do {
        build = try seconds { data = try reportBenchmarkData(inventory: path, policies: policies) }
    } catch {
        fail("reports on \(path): \(error)")
    }
    let report = data!
    emit([
        ("case", .string("report-data")), ("clusters", .int(report.clusters.count)),
        ("results", .int(report.results.count)), ("strict", .int(report.strict.count)),
        ("trendPoints", .int(report.trend.count)), ("intervals", .int(report.intervals.count)),
        ("seconds", rounded(build)),
    ])
    let options = ReportOptions()
    var summary: ReportSummary?
    var best = (wall: Double.infinity, cpu: Double.infinity)
    for _ in 0..<max(repeats, 1) {
        let t = wallAndCPUSeconds { summary = ReportSummary(report, options: options) }
        best = (min(best.wall, t.wall), min(best.cpu, t.cpu))
    }
    emit([
        ("case", .string("report-summary")), ("clusters", .int(report.clusters.count)),
        ("seconds", rounded(best.wall)), ("cpuSeconds", rounded(best.cpu)),
        ("flapping", .int(summary!.flapping.count)),
        ("compliancePercent", rounded(summary!.resources.compliancePercent, 2)),
    ])
    for format in ReportFormat.allCases {
        var bytes: [UInt8] = []
        var render = (wall: Double.infinity, cpu: Double.infinity)
        var total = (wall: Double.infinity, cpu: Double.infinity)
        for _ in 0..<max(repeats, 1) {
            let r = wallAndCPUSeconds {
                bytes = ReportRenderer.render(report, summary: summary!, format: format, options: options)
            }
            render = (min(render.wall, r.wall), min(render.cpu, r.cpu))
            let t = wallAndCPUSeconds { bytes = ReportRenderer.render(report, format: format, options: options) }
            total = (min(total.wall, t.wall), min(total.cpu, t.cpu))
        }
        if let writeTo {
            try? FileManager.default.createDirectory(atPath: writeTo, withIntermediateDirectories: true)
            let file = "\(writeTo)/report.\(format.fileExtension)"
            guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
                fail("cannot write \(file)")
            }
        }
        emit([
            ("case", .string("report-\(format.rawValue)")), ("clusters", .int(report.clusters.count)),
            ("outputBytes", .int(bytes.count)), ("renderSeconds", rounded(render.wall)),
            ("renderCPUSeconds", rounded(render.cpu)), ("seconds", rounded(total.wall)),
            ("cpuSeconds", rounded(total.cpu)),
        ])
    }
}
