import ARMEmulator
import FleetCore
import Planner
import Remediator
import Testing

@Suite("stopping, progress events and failure ids")
struct DrainTests {
    static func harness(_ count: Int, servicePrincipal: Set<Int> = []) throws -> (EmulatorHarness, [ClusterPlan]) {
        let fleet = try GeneratedFleet.fleet(count, servicePrincipal: servicePrincipal)
        var configuration = EmulatorConfiguration()
        configuration.extensionProvisioningDelay = 20_000
        return (
            EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration)),
            GeneratedFleet.plans(fleet, body: GeneratedFleet.extensionBody)
        )
    }

    /// The last journal state of every (cluster, resource) the run touched.
    static func lastStates(_ journal: InMemoryJournal) -> [String: JournalState] {
        var states: [String: JournalState] = [:]
        for entry in journal.entries { states[entry.resourceId.lowercased()] = entry.state }
        return states
    }

    @Test("a stop drains: operations in flight finish, nothing new starts, the rest is deferred interrupted")
    func drain() throws {
        let (harness, plans) = try Self.harness(20)
        let journal = InMemoryJournal()
        var options = RemediatorOptions()
        options.maxInFlight = 5
        let remediator = Remediator(transport: harness, clock: harness, journal: journal, options: options)
        let stop = RemediationStop()
        var stopping: [Int] = []
        remediator.observer = { event, _ in
            if case .stopping(let draining) = event { stopping.append(draining) }
        }
        // Ask for the stop once the seventh write has gone out: five clusters are done, two are mid-operation.
        let probe = StopAfterWrites(harness: harness, writes: 7, stop: stop)
        remediator.shouldStop = { probe.check() }
        let summary = remediator.apply(plans, waves: [Wave(name: "all", selector: .rest, maxParallel: 5)], run: "r")

        #expect(harness.writes.count == 7)
        // Reported once, with the clusters it waits for: the two mid-operation, and three whose operation had just
        // succeeded (they end succeeded, nothing more is sent for them).
        #expect(stopping == [5])
        #expect(summary.outcomes(.succeeded).count == 7)
        #expect(summary.outcomes(.failed).isEmpty)
        #expect(summary.outcomes(.deferred).count == 13)
        #expect(summary.outcomes(.deferred).allSatisfy { $0.reason == "interrupted" })
        // The two in flight were followed to Succeeded after the stop: their polls came after the last write.
        let lastWrite = try #require(harness.writes.last?.at)
        #expect(harness.sent.contains { $0.method == "GET" && $0.at >= lastWrite + 20_000 })
        // No operation is left sent or accepted: each ended succeeded, or cancelled before it was sent.
        let states = Self.lastStates(journal)
        #expect(!states.values.contains(.sent) && !states.values.contains(.accepted))
        #expect(states.values.filter { $0 == .succeeded }.count == 7)
        #expect(Set(states.values).isSubset(of: [.succeeded, .cancelled]))
        #expect(summary.text.contains("interrupted: 13 cluster(s) not finished"))
        // A resumed run (same run id, no stop) finishes the rest without repeating the seven.
        let again = Remediator(transport: harness, clock: harness, journal: journal, options: options)
        let outcomes = again.execute(plans, run: "r")
        #expect(outcomes.allSatisfy { $0.status == .succeeded })
        #expect(harness.writes.count == 20)
        #expect(outcomes.map(\.operationsSkipped).reduce(0, +) == 7)
    }

    @Test("a stop while clusters wait on an empty write bucket: the waiting ones stop, the sent ones finish")
    func drainWhileThrottled() throws {
        let fleet = try GeneratedFleet.fleet(80)
        var configuration = EmulatorConfiguration()
        configuration.throttling = ThrottlingLimits(
            writeBurst: 10, writeRefillPerSecond: 2, readBurst: 50, readRefillPerSecond: 25)
        configuration.extensionProvisioningDelay = 5_000
        let harness = EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration))
        var options = RemediatorOptions()
        options.limits = ARMRateLimits(writeBurst: 10, writeRefillPerSecond: 2, readBurst: 50, readRefillPerSecond: 25)
        options.maxInFlight = 80
        let journal = InMemoryJournal()
        let remediator = Remediator(transport: harness, clock: harness, journal: journal, options: options)
        let probe = StopAfterWrites(harness: harness, writes: 15, stop: RemediationStop())
        remediator.shouldStop = { probe.check() }
        let plans = GeneratedFleet.plans(fleet, body: GeneratedFleet.extensionBody)
        let summary = remediator.apply(plans, waves: [Wave(name: "all", selector: .rest)], run: "r")
        #expect(harness.writes.count == 15)
        #expect(harness.state.statistics.throttled == 0)
        #expect(summary.outcomes(.succeeded).count == 15)
        #expect(summary.outcomes(.deferred).count == 65)
        #expect(summary.outcomes(.deferred).allSatisfy { $0.reason == "interrupted" })
        let states = Self.lastStates(journal)
        #expect(states.values.filter { $0 == .succeeded }.count == 15)
        #expect(Set(states.values).isSubset(of: [.succeeded, .cancelled]))
        // The wave works on 64 at a time: 15 sent, 49 waiting on the bucket (cancelled), 16 never started.
        #expect(states.values.filter { $0 == .cancelled }.count == 49)
        #expect(states.count == 64)
    }

    @Test("a stop before the run starts touches nothing; a stop during a soak skips the later waves")
    func stopBetweenWaves() throws {
        let (harness, plans) = try Self.harness(10)
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        remediator.shouldStop = { true }
        let none = remediator.apply(plans, waves: [Wave(name: "all", selector: .rest)], run: "r")
        #expect(harness.sent.isEmpty)
        #expect(none.outcomes.allSatisfy { $0.status == .deferred && $0.reason == "interrupted" })

        let (second, plans2) = try Self.harness(10)
        let soaking = Remediator(transport: second, clock: second, journal: InMemoryJournal())
        var soakSeen = false
        soaking.observer = { event, _ in
            if case .soaking = event { soakSeen = true }
        }
        let start = second.now
        soaking.shouldStop = { soakSeen && second.now >= start + 120_000 }
        let summary = soaking.apply(
            plans2,
            waves: [
                Wave(name: "canary", selector: .clusters(["aks-0", "aks-1"]), soak: 3_600_000),
                Wave(name: "rest", selector: .rest),
            ], run: "r")
        #expect(summary.outcomes(.succeeded).map(\.name) == ["aks-0", "aks-1"])
        #expect(summary.outcomes(.deferred).count == 8)
        #expect(summary.waves.map(\.name) == ["canary"])
        // The hour of soak was cut short by the stop.
        #expect(second.now < start + 3_600_000)
    }

    @Test("progress events: every started cluster finishes, counts add up, throttle waits are reported")
    func progress() throws {
        let fleet = try GeneratedFleet.fleet(60)
        var configuration = EmulatorConfiguration()
        configuration.throttling = ThrottlingLimits(
            writeBurst: 10, writeRefillPerSecond: 5, readBurst: 50, readRefillPerSecond: 25)
        configuration.extensionProvisioningDelay = 5_000
        let harness = EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration))
        var options = RemediatorOptions()
        options.limits = ARMRateLimits(writeBurst: 10, writeRefillPerSecond: 5, readBurst: 50, readRefillPerSecond: 25)
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal(), options: options)
        var started = Set<String>()
        var finished = Set<String>()
        var throttleWaits = 0
        var last = RemediationProgress()
        remediator.observer = { event, progress in
            switch event {
            case .clusterStarted(_, let name): started.insert(name)
            case .clusterFinished(let outcome): finished.insert(outcome.name)
            case .throttled(_, let kind, let wait, let serverSide):
                #expect(kind == .write && wait > 0 && !serverSide)
                throttleWaits += 1
            default: break
            }
            #expect(progress.finished == progress.succeeded + progress.failed + progress.deferred)
            #expect(progress.inFlight >= 0 && progress.inFlight <= 64)
            last = progress
        }
        let plans = GeneratedFleet.plans(fleet, body: GeneratedFleet.extensionBody)
        let summary = remediator.apply(plans, waves: [Wave(name: "all", selector: .rest)], run: "r")
        #expect(summary.outcomes(.succeeded).count == 60)
        #expect(started.count == 60 && finished == started)
        #expect(throttleWaits > 0)
        #expect(last.total == 60 && last.finished == 60 && last.succeeded == 60 && last.inFlight == 0)
        #expect(last.statistics.writes == 60)
        #expect(last.statistics.throttleWait > 0)
        #expect(last.clustersPerMinute > 0)
        #expect(last.estimatedRemaining == 0)
    }

    @Test("a failed cluster carries ARM's request and correlation ids, and the summary shows them")
    func failureIds() throws {
        let (harness, plans) = try Self.harness(3, servicePrincipal: [1])
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let summary = remediator.apply(
            plans, waves: [Wave(name: "all", selector: .rest, failureBudget: .count(1))], run: "r")
        let failed = try #require(summary.outcomes(.failed).first)
        #expect(failed.name == "aks-1")
        let requestId = try #require(failed.requestId)
        #expect(!requestId.isEmpty)
        #expect(failed.correlationId?.isEmpty == false)
        #expect(summary.text.contains("ARM request id \(requestId)"))
    }
}

/// Asks for a stop once the harness has sent `writes` writes.
final class StopAfterWrites {
    let harness: EmulatorHarness
    let writes: Int
    let stop: RemediationStop

    init(harness: EmulatorHarness, writes: Int, stop: RemediationStop) {
        self.harness = harness
        self.writes = writes
        self.stop = stop
    }

    func check() -> Bool {
        if harness.writes.count >= writes, !stop.isRequested { stop.request() }
        return stop.isRequested
    }
}
