import ARMEmulator
import FleetCore
import Foundation
import Planner
import Remediator
import Testing

/// The harness behind a lock, with a real pause in every request so that requests sent together overlap; it counts
/// the most requests on the wire at once.
final class OverlappingTransport: ARMTransport, RemediationClock, @unchecked Sendable {
    let harness: EmulatorHarness
    private let lock = NSLock()
    private var inFlight = 0
    private(set) var mostInFlight = 0

    init(_ harness: EmulatorHarness) { self.harness = harness }

    var now: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return harness.now
    }

    func sleep(until time: Int64) {
        lock.lock()
        harness.sleep(until: time)
        lock.unlock()
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        lock.lock()
        inFlight += 1
        mostInFlight = max(mostInFlight, inFlight)
        lock.unlock()
        usleep(2_000)
        lock.lock()
        defer {
            inFlight -= 1
            lock.unlock()
        }
        return try harness.send(request)
    }
}

@Suite("requests sent together (concurrentSends, for HTTP transports)")
struct ConcurrentSendTests {
    @Test("the demo converges with requests on the wire together, each resource written once, journal in order")
    func demoConverges() throws {
        let inputs = try DemoInputs()
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet))
        let transport = OverlappingTransport(harness)
        let planOptions = PlanOptions(migrateFluxV1: true, includeDoNotEnforce: true)
        let plan = inputs.plan(inputs.fleet, at: harness.now, options: planOptions)
        var options = RemediatorOptions()
        options.concurrentSends = 16
        options.waitForCompliance = true
        let journal = InMemoryJournal()
        let remediator = Remediator(transport: transport, clock: harness, journal: journal, options: options)
        let outcomes = remediator.execute(plan.clusters, run: "run-1")

        let changes = plan.clusters.filter { $0.decision == .change }
        for (outcome, cluster) in zip(outcomes, plan.clusters) where cluster.decision == .change {
            #expect(outcome.status == .succeeded, "\(cluster.name): \(String(describing: outcome.failure))")
            #expect(outcome.operationsDone == cluster.actions.count)
        }
        #expect(transport.mostInFlight > 1, "requests were sent one at a time")
        let planned = Set(changes.flatMap { $0.actions.map { $0.resourceId.lowercased() } })
        #expect(harness.writtenResources.count == planned.count)
        #expect(Set(harness.writtenResources) == planned)
        #expect(remediator.statistics.requests == harness.sent.count)
        // Each operation's journal still reads pending → sent → accepted → succeeded.
        for resource in planned {
            let states = journal.entries.filter { $0.resourceId.lowercased() == resource }.map(\.state)
            #expect(states.first == .pending && states.last == .succeeded, "\(resource): \(states)")
            #expect(states.filter { $0 == .sent }.count == 1, "\(resource) sent more than once: \(states)")
        }
        let replan = inputs.plan(try reload(harness.state), at: harness.now, options: planOptions)
        #expect(replan.clusters.filter { $0.decision == .change }.isEmpty)
    }

    @Test("5xx answers and dropped connections in a batch are retried; 40 clusters converge")
    func faults() throws {
        var configuration = EmulatorConfiguration()
        configuration.faults.serverErrors = FaultRate(percent: 15)
        configuration.faults.droppedConnections = FaultRate(percent: 10)
        configuration.faults.seed = 11
        let fleet = try GeneratedFleet.fleet(40, subscriptions: 2)
        let harness = EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration))
        let transport = OverlappingTransport(harness)
        var options = RemediatorOptions()
        options.concurrentSends = 8
        let body = JSON.object([
            "properties": .object([
                "extensionType": .string("microsoft.flux"), "autoUpgradeMinorVersion": .bool(true),
                "releaseTrain": .string("Stable"),
            ])
        ])
        let remediator = Remediator(transport: transport, clock: harness, journal: InMemoryJournal(), options: options)
        let outcomes = remediator.execute(GeneratedFleet.plans(fleet, body: body), run: "r")
        #expect(outcomes.allSatisfy { $0.status == .succeeded }, "\(outcomes.compactMap(\.failure))")
        #expect(transport.mostInFlight > 1)
        #expect(remediator.statistics.transientRetries > 0)
        #expect(harness.state.statistics.droppedConnections > 0)
    }

    @Test("the target check in lanes finds exactly what one lane finds, reading in parallel")
    func targetCheckLanes() throws {
        // The plan covers 41 clusters; ARM has the first 40 (the last one is gone since the plan was made).
        let planned = try GeneratedFleet.fleet(41, subscriptions: 2)
        let fleet = try GeneratedFleet.fleet(40, subscriptions: 2)
        var plans = GeneratedFleet.plans(planned, body: .object([:]))
        for (index, cluster) in planned.clusters.enumerated() { plans[index].fingerprint = Fingerprint.of(cluster) }
        let plan = Plan(
            inputs: PlanInputs(
                inventory: "generated", inventoryDigest: "", policies: "", policiesDigest: "", evaluatedAt: ""),
            options: PlanOptions(), clusters: plans)
        func check(lanes: Int) throws -> (TargetCheck.Result, Int, Int) {
            let harness = EmulatorHarness(EmulatorState(inventory: fleet))
            // A cluster moves after the plan: it gets the flux extension.
            let moved = GeneratedFleet.clusterID(7, subscription: GeneratedFleet.subscription(1))
            _ = try harness.send(
                ARMHTTPRequest(
                    method: "PUT",
                    url: moved + "/providers/Microsoft.KubernetesConfiguration/extensions/flux?api-version=2025-03-01",
                    body: Array(#"{"properties": {"extensionType": "microsoft.flux"}}"#.utf8)))
            harness.state.advance(to: harness.now + 600_000)
            let transport = OverlappingTransport(harness)
            var reader = TargetReader(transport: transport, clock: transport)
            let result = TargetCheck.check(plan, reader: &reader, parallelism: lanes)
            return (result, reader.requests, transport.mostInFlight)
        }
        let (serial, serialReads, _) = try check(lanes: 1)
        let (parallel, parallelReads, most) = try check(lanes: 6)
        #expect(serial.refusals.map(\.code) == ["fingerprintMoved", "clusterNotFound"])
        #expect(parallel.refusals == serial.refusals)
        #expect(parallel.tags == serial.tags)
        #expect(parallel.tags.count == 40)
        #expect(parallelReads == serialReads)
        #expect(most > 1)
    }
}
