import ARMEmulator
import FleetCore
import Planner
import Remediator
import Testing

@Suite("throttling, faults and resume against the emulator")
struct ResilienceTests {
    static let smallLimits = ThrottlingLimits(
        writeBurst: 20, writeRefillPerSecond: 10, readBurst: 50, readRefillPerSecond: 25)

    static func generated(_ count: Int, limits: ThrottlingLimits) throws -> (EmulatorHarness, [ClusterPlan]) {
        let fleet = try GeneratedFleet.fleet(count)
        var configuration = EmulatorConfiguration()
        configuration.throttling = limits
        configuration.extensionProvisioningDelay = 5_000
        return (
            EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration)),
            GeneratedFleet.plans(fleet, body: GeneratedFleet.extensionBody)
        )
    }

    @Test("300 clusters in one subscription with a burst of 20: no 429, no failure, ≥ 90% of the allowed write rate")
    func sustainsRefillRate() throws {
        let (harness, plans) = try Self.generated(300, limits: Self.smallLimits)
        var options = RemediatorOptions()
        options.limits = ARMRateLimits(writeBurst: 20, writeRefillPerSecond: 10, readBurst: 50, readRefillPerSecond: 25)
        options.maxInFlight = 300
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal(), options: options)
        let start = harness.now
        let outcomes = remediator.execute(plans, run: "r")
        #expect(outcomes.allSatisfy { $0.status == .succeeded })
        #expect(harness.state.statistics.throttled == 0)
        #expect(harness.writes.count == 300)
        let lastWrite = try #require(harness.writes.last?.at)
        let allowed = 20 + 10 * Double(lastWrite - start) / 1000
        #expect(Double(harness.writes.count) / allowed >= 0.9, "allowed \(allowed) in \(lastWrite - start) ms")
        #expect(remediator.statistics.throttleWait > 0)
    }

    @Test("a server stricter than the client's limits: the rate-limit headers correct the buckets, no 429")
    func stricterServer() throws {
        let (harness, plans) = try Self.generated(120, limits: Self.smallLimits)
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        #expect(remediator.options.limits == .arm)
        let outcomes = remediator.execute(plans, run: "r")
        #expect(outcomes.allSatisfy { $0.status == .succeeded })
        #expect(harness.state.statistics.throttled == 0)
        #expect(Set(harness.writtenResources).count == 120)
        // 120 writes with a server burst of 20 at 10 per second take at least 10 s.
        let span = try #require(harness.writes.last?.at) - (harness.writes.first?.at ?? 0)
        #expect(span >= 10_000)
    }

    @Test("a 429 storm: the Remediator waits for Retry-After instead of failing")
    func storm() throws {
        let (harness, plans) = try Self.generated(10, limits: Self.smallLimits)
        harness.state.configuration.faults.storms = [ThrottleStorm(start: 0, duration: 30_000)]
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let start = harness.now
        let outcomes = remediator.execute(plans, run: "r")
        #expect(outcomes.allSatisfy { $0.status == .succeeded })
        #expect(remediator.statistics.throttled > 0)
        #expect(remediator.statistics.throttled <= 10)
        #expect(remediator.statistics.throttleWait >= 30_000)
        let accepted = harness.writes.filter { $0.at >= start + 30_000 }
        #expect(Set(accepted.map(\.url)).count == 10)
    }

    @Test("5xx answers and dropped connections are retried; the demo still converges")
    func faults() throws {
        let inputs = try DemoInputs()
        var configuration = EmulatorConfiguration()
        configuration.faults.serverErrors = FaultRate(percent: 15)
        configuration.faults.droppedConnections = FaultRate(percent: 10)
        configuration.faults.seed = 7
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet, configuration: configuration))
        let planOptions = PlanOptions(migrateFluxV1: true, includeDoNotEnforce: true)
        let plan = inputs.plan(inputs.fleet, at: harness.now, options: planOptions)
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let outcomes = remediator.execute(plan.clusters, run: "r")
        #expect(outcomes.filter { $0.status == .failed }.isEmpty, "\(outcomes.compactMap(\.failure))")
        #expect(harness.state.statistics.injectedErrors > 0)
        #expect(harness.state.statistics.droppedConnections > 0)
        #expect(remediator.statistics.transientRetries > 0)
        let replan = inputs.plan(try reload(harness.state), at: harness.now, options: planOptions)
        #expect(replan.clusters.filter { $0.decision == .change }.isEmpty)
    }

    @Test("resuming a run skips the operations the journal shows succeeded and finishes the rest")
    func resume() throws {
        let inputs = try DemoInputs()
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet))
        let planOptions = PlanOptions(migrateFluxV1: true, includeDoNotEnforce: true)
        let plan = inputs.plan(inputs.fleet, at: harness.now, options: planOptions)
        let journal = InMemoryJournal()
        var options = RemediatorOptions()
        options.maxTransientRetries = 0
        options.maxInFlight = 2
        harness.failAfter = 30
        let first = Remediator(transport: harness, clock: harness, journal: journal, options: options)
        let interrupted = first.execute(plan.clusters, run: "r")
        #expect(interrupted.contains { $0.status == .failed })
        let succeededBefore = Set(
            journal.entries.filter { $0.state == .succeeded }.map { $0.resourceId.lowercased() + " " + $0.desiredHash })
        #expect(!succeededBefore.isEmpty)

        harness.failAfter = nil
        let writesBefore = harness.writes.count
        let second = Remediator(transport: harness, clock: harness, journal: journal)
        let resumed = second.execute(plan.clusters, run: "r")
        #expect(resumed.allSatisfy { $0.status != .failed }, "\(resumed.compactMap(\.failure))")
        #expect(resumed.map(\.operationsSkipped).reduce(0, +) == succeededBefore.count)
        // No operation that had succeeded was sent again.
        let rewritten = harness.writtenResources.dropFirst(writesBefore)
        for resource in rewritten {
            #expect(!succeededBefore.contains { $0.hasPrefix(resource + " ") }, "\(resource) written again")
        }
        let replan = inputs.plan(try reload(harness.state), at: harness.now, options: planOptions)
        #expect(replan.clusters.filter { $0.decision == .change }.isEmpty)
    }
}
