import FleetCore
import Planner

/// Which clusters a wave takes (among those no earlier wave took): the Planner's ``ClusterSelector``.
///
/// Text form, as `--wave` and `rollout.json` write it: see ``ClusterSelector/init(parsing:)``.
public typealias WaveSelector = ClusterSelector

/// How many failures a wave tolerates before the run halts.
public enum FailureBudget: Sendable, Hashable {
    /// At most this many failed clusters.
    case count(Int)
    /// At most this share (0…100) of the wave's clusters, rounded down.
    case percent(Double)

    /// The failures allowed in a wave of `size` clusters.
    public func allowed(in size: Int) -> Int {
        switch self {
        case .count(let count): max(0, count)
        case .percent(let share): max(0, Int((Double(size) * share / 100).rounded(.down)))
        }
    }
}

/// One wave of a rollout.
public struct Wave: Sendable, Hashable {
    /// The wave's name (`canary`, `early`, `rest`…).
    public var name: String
    /// Which clusters it takes.
    public var selector: WaveSelector
    /// How many of its clusters are worked on at once.
    public var maxParallel: Int
    /// How long to wait after the wave before the next one starts (ms).
    public var soak: Int64
    /// How many failures it tolerates.
    public var failureBudget: FailureBudget

    /// Creates a wave.
    public init(
        name: String, selector: WaveSelector, maxParallel: Int = 64, soak: Int64 = 0,
        failureBudget: FailureBudget = .count(0)
    ) {
        self.name = name
        self.selector = selector
        self.maxParallel = maxParallel
        self.soak = soak
        self.failureBudget = failureBudget
    }

    /// The clusters of each wave, by index into `clusters`: each cluster in the first wave whose selector takes
    /// it; the last list holds the clusters no wave takes.
    public static func assign(_ clusters: [ClusterPlan], to waves: [Wave], tags: (String) -> [String: String])
        -> [[Int]]
    {
        var lists = Array(repeating: [Int](), count: waves.count + 1)
        for (index, cluster) in clusters.enumerated() {
            let clusterTags = tags(cluster.clusterId)
            let wave = waves.firstIndex {
                $0.selector.matches(clusterId: cluster.clusterId, name: cluster.name, tags: clusterTags)
            }
            lists[wave ?? waves.count].append(index)
        }
        return lists
    }
}

/// What one wave did.
public struct WaveResult: Sendable, Hashable {
    /// The wave's name.
    public var name: String
    /// Clusters with actions in the wave.
    public var clusters: Int
    /// Clusters that succeeded.
    public var succeeded: Int
    /// Clusters that failed.
    public var failed: Int
    /// The failures the wave's budget allowed.
    public var allowedFailures: Int

    /// Whether the wave stayed within its failure budget.
    public var withinBudget: Bool { failed <= allowedFailures }
}

/// The end of a run: one outcome per cluster in plan order, per-wave results, why it halted, counters.
public struct RunSummary: Sendable, Hashable {
    /// One outcome per cluster of the plan, in plan order.
    public var outcomes: [ClusterOutcome]
    /// The waves that ran, in order.
    public var waves: [WaveResult]
    /// The wave that went over its failure budget and halted the run.
    public var haltedBy: String?
    /// Requests, retries and time waiting on throttling during the run.
    public var statistics: RemediationStatistics
    /// When the run started and ended on its clock (ms since 1970).
    public var startedAt: Int64
    /// When the run ended.
    public var finishedAt: Int64

    /// Outcomes with a status.
    public func outcomes(_ status: ClusterOutcome.Status) -> [ClusterOutcome] {
        outcomes.filter { $0.status == status }
    }

    /// The final summary as text: counts, each failure with its reason and remedy, the deferred, throttling.
    public var text: String {
        var lines: [String] = []
        if let haltedBy, let wave = waves.first(where: { $0.name == haltedBy }) {
            lines.append(
                "halted: wave \(wave.name) had \(wave.failed) failure(s), over its budget of \(wave.allowedFailures); later clusters were not touched"
            )
        }
        let interrupted = outcomes.filter { $0.reason == "interrupted" }.count
        if interrupted > 0 {
            lines.append(
                "interrupted: \(interrupted) cluster(s) not finished (operations in flight were drained); resume the run to finish them"
            )
        }
        for wave in waves {
            lines.append("wave \(wave.name): \(wave.succeeded) succeeded, \(wave.failed) failed of \(wave.clusters)")
        }
        for outcome in outcomes(.failed) {
            let failure = outcome.failure
            lines.append(
                "failed \(outcome.name): \(outcome.failedAction?.rawValue ?? "verify"): \(failure?.code ?? "") — \(failure?.message ?? "")"
            )
            if let remedy = failure?.remedy { lines.append("    fix: \(remedy)") }
            if let requestId = outcome.requestId {
                lines.append(
                    "    ARM request id \(requestId)"
                        + (outcome.correlationId.map { ", correlation id \($0)" } ?? ""))
            }
        }
        for outcome in outcomes(.deferred) {
            lines.append("deferred \(outcome.name): \(outcome.reason ?? "")")
        }
        let seconds = Double(statistics.throttleWait) / 1000
        lines.append(
            "\(outcomes(.succeeded).count) succeeded, \(outcomes(.failed).count) failed, \(outcomes(.deferred).count) deferred, \(outcomes(.notRun).count) unchanged or not remediable; \(statistics.requests) request(s), \(statistics.throttled) throttled (429), \(statistics.transientRetries) retried; \(Int(seconds.rounded())) s waiting on throttling"
        )
        return lines.joined(separator: "\n")
    }
}

extension Remediator {
    /// Applies a plan in waves, canary first.
    ///
    /// Each wave runs with its own parallelism; a wave over its failure budget stops starting clusters and halts
    /// the run (later waves end `deferred`, reason `runHalted`); between waves the run soaks. Clusters no wave
    /// takes end `deferred` with the reason `notInAnyWave`. When ``Remediator/shouldStop`` turns true the run
    /// drains (operations already sent finish), cuts a soak short, and every cluster left ends `deferred` with the
    /// reason `interrupted`. ``Remediator/observer`` hears every wave, cluster, throttle wait and soak.
    ///
    /// - Parameter tags: A cluster's tags by id, for tag selectors.
    public func apply(
        _ clusters: [ClusterPlan], waves: [Wave], run: String, tags: (String) -> [String: String] = { _ in [:] }
    ) -> RunSummary {
        let start = clock.now
        let before = statistics
        beginRun(total: clusters.filter { $0.decision == .change }.count)
        defer { endRun() }
        let assignments = Wave.assign(clusters, to: waves, tags: tags)
        var outcomes: [ClusterOutcome?] = Array(repeating: nil, count: clusters.count)
        var results: [WaveResult] = []
        var haltedBy: String?
        var interrupted = false
        func leave(_ members: [Int], _ reason: String) {
            for index in members {
                if clusters[index].decision == .change {
                    let outcome = Self.deferred(clusters[index], reason)
                    record(outcome)
                    outcomes[index] = outcome
                } else {
                    outcomes[index] = execute([clusters[index]], run: run).first
                }
            }
        }
        for (position, wave) in waves.enumerated() {
            let members = assignments[position]
            if !interrupted, shouldStop() { interrupted = true }
            if haltedBy != nil || interrupted {
                leave(members, interrupted ? "interrupted" : "runHalted")
                continue
            }
            let working = members.filter { clusters[$0].decision == .change }
            let allowed = wave.failureBudget.allowed(in: working.count)
            emit(.waveStarted(name: wave.name, clusters: working.count))
            let waveOutcomes = execute(
                members.map { clusters[$0] }, run: run, maxParallel: wave.maxParallel, failureLimit: allowed)
            for (index, outcome) in zip(members, waveOutcomes) { outcomes[index] = outcome }
            let result = WaveResult(
                name: wave.name, clusters: working.count,
                succeeded: waveOutcomes.filter { $0.status == .succeeded }.count,
                failed: waveOutcomes.filter { $0.status == .failed }.count, allowedFailures: allowed)
            results.append(result)
            emit(.waveFinished(result))
            if waveOutcomes.contains(where: { $0.reason == "interrupted" }) { interrupted = true }
            if !result.withinBudget {
                haltedBy = wave.name
            } else if position < waves.count - 1, wave.soak > 0, !working.isEmpty, !interrupted {
                soak(wave)
            }
        }
        leave(assignments[waves.count], "notInAnyWave")
        return RunSummary(
            outcomes: outcomes.enumerated().map { $0.element ?? Self.deferred(clusters[$0.offset], "runHalted") },
            waves: results, haltedBy: haltedBy, statistics: statistics.since(before), startedAt: start,
            finishedAt: clock.now)
    }

    /// Waits `wave.soak` on the clock in steps of at most a second, so that a stop cuts the soak short.
    func soak(_ wave: Wave) {
        let end = clock.now + wave.soak
        emit(.soaking(wave: wave.name, until: end))
        while clock.now < end, !shouldStop() {
            clock.sleep(until: min(end, clock.now + 1_000))
        }
    }

    static func deferred(_ plan: ClusterPlan, _ reason: String) -> ClusterOutcome {
        ClusterOutcome(clusterId: plan.clusterId, name: plan.name, status: .deferred, reason: reason)
    }
}
