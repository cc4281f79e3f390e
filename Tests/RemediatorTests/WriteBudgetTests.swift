import ARMEmulator
import FleetCore
import Planner
import PolicyEngine
import Remediator
import Testing

@Suite("ARM's write budget over several subscriptions")
struct WriteBudgetTests {
    /// The fluxfleet-bench `remediate` stage at a fifth of its size: 400 clusters without Flux over 2 subscriptions
    /// (200 per subscription, as in the benchmark), planned with the project's policies, applied with ARM's real
    /// limits on the emulator's virtual clock.
    ///
    /// Per subscription the window runs from the start of the run (a full bucket) to its last write, and ARM
    /// allows 200 + 10 × window seconds writes in it.
    @Test(
        "400 clusters, 2 subscriptions, ARM's limits: writes ≥ 90% of 200 + 10/s per subscription, no 429, no failure")
    func sustainsBudget() throws {
        let inputs = try DemoInputs()
        var bundle = inputs.bundle
        var assignment = try #require(bundle.assignments.first { $0.enforcementMode == .default })
        assignment.scope = "/"
        assignment.notScopes = []
        bundle.assignments = [assignment]
        bundle.exemptions = []
        let fleet = try GeneratedFleet.fleet(400, subscriptions: 2)
        var configuration = EmulatorConfiguration()
        configuration.extensionProvisioningDelay = 5_000
        configuration.configurationProvisioningDelay = 5_000
        #expect(configuration.throttling == .arm)
        let harness = EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration))
        let now = EmulatorClock.iso8601(harness.now)
        let scan = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: ScanOptions(now: now))
        let plan = Planner.plan(scan: scan, fleet: fleet, bundle: bundle, inputs: PlanInputs(evaluatedAt: now))
        #expect(plan.clusters.count == 400)
        #expect(plan.clusters.allSatisfy { $0.actions.map(\.kind) == [.installExtension, .createConfiguration] })

        var options = RemediatorOptions()
        options.maxInFlight = 400
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal(), options: options)
        let start = harness.now
        let summary = remediator.apply(
            plan.clusters, waves: [Wave(name: "all", selector: .rest, maxParallel: 400)], run: "r")

        #expect(summary.outcomes(.succeeded).count == 400)
        #expect(summary.outcomes(.failed).isEmpty)
        #expect(harness.state.statistics.throttled == 0)
        #expect(summary.statistics.throttled == 0)
        var writes = 0
        var allowed = 0.0
        for number in 0..<2 {
            let prefix = "/subscriptions/\(GeneratedFleet.subscription(number))/"
            let sent = harness.writes.filter { $0.url.hasPrefix(prefix) }
            let last = try #require(sent.last?.at)
            let budget = 200 + 10 * Double(last - start) / 1000
            #expect(sent.count == 400)
            #expect(Double(sent.count) / budget >= 0.9, "subscription \(number): \(sent.count) of \(budget)")
            writes += sent.count
            allowed += budget
        }
        #expect(Double(writes) / allowed >= 0.9)
        // The budget was the limit: the run waited on the buckets.
        #expect(summary.statistics.throttleWait > 0)
    }

    @Test("deletes spend a bucket of their own, corrected from the -deletes header; writes keep theirs")
    func deleteBucket() {
        var limiter = SubscriptionRateLimiter(
            limits: ARMRateLimits(writeBurst: 2, writeRefillPerSecond: 1, readBurst: 5, readRefillPerSecond: 1))
        #expect(RequestClass(method: "delete") == .delete)
        #expect(RequestClass(method: "PATCH") == .write)
        #expect(limiter.limits.deleteBurst == 2 && limiter.limits.deleteRefillPerSecond == 1)
        let first = limiter.take("s", .delete, at: 0)
        let second = limiter.take("s", .delete, at: 0)
        let third = limiter.take("s", .delete, at: 0)
        #expect(first && second && !third)
        let writesLeft = limiter.remaining("s", .write, at: 0)
        #expect(writesLeft == 2)
        let answer = ARMHTTPResponse(
            status: 200,
            headers: [
                "x-ms-ratelimit-remaining-subscription-deletes": "1",
                "x-ms-ratelimit-remaining-subscription-writes": "0",
            ])
        limiter.observe(answer, subscription: "s", kind: .delete, at: 0)
        let deletesAfter = limiter.remaining("s", .delete, at: 0)
        let writesAfter = limiter.remaining("s", .write, at: 0)
        #expect(deletesAfter == 1 && writesAfter == 2)
    }
}
