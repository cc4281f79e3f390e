import ARMEmulator
import FleetCore
import Planner
import Remediator
import Testing

/// A transport that hides long-running-operation headers, as some ARM answers lack them.
final class HeaderStripping: ARMTransport {
    let inner: EmulatorHarness
    let hidden: [String]

    init(_ inner: EmulatorHarness, hiding hidden: [String]) {
        self.inner = inner
        self.hidden = hidden.map { $0.lowercased() }
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        var answer = try inner.send(request)
        answer.headers = answer.headers.filter { !hidden.contains($0.key.lowercased()) }
        return answer
    }
}

@Suite("following long-running operations")
struct PollingTests {
    @Test(
        "Azure-AsyncOperation first, else Location, else the resource's provisioningState",
        arguments: [[], ["Azure-AsyncOperation"], ["Azure-AsyncOperation", "Location"]])
    func fallbacks(hidden: [String]) throws {
        let inputs = try DemoInputs()
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet))
        let planOptions = PlanOptions(migrateFluxV1: true, includeDoNotEnforce: true)
        let plan = inputs.plan(inputs.fleet, at: harness.now, options: planOptions)
        let transport = HeaderStripping(harness, hiding: hidden)
        let remediator = Remediator(transport: transport, clock: harness, journal: InMemoryJournal())
        let outcomes = remediator.execute(plan.clusters, run: "r")
        #expect(outcomes.allSatisfy { $0.status != .failed }, "\(outcomes.compactMap(\.failure))")
        let polls = harness.sent.filter { $0.method == "GET" }.map(\.url)
        #expect(polls.contains { $0.contains("/operations/") } == hidden.isEmpty)
        #expect(polls.contains { $0.contains("/operationResults/") } == (hidden.count == 1))
        let replan = inputs.plan(try reload(harness.state), at: harness.now, options: planOptions)
        #expect(replan.clusters.filter { $0.decision == .change }.isEmpty)
    }

    @Test("an operation that ends Failed fails its cluster with the operation's error")
    func failedOperation() throws {
        let inputs = try DemoInputs()
        var configuration = EmulatorConfiguration()
        configuration.faults.failedOperations = FaultRate(percent: 100)
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet, configuration: configuration))
        let plan = inputs.plan(inputs.fleet, at: harness.now)
        let journal = InMemoryJournal()
        let remediator = Remediator(transport: harness, clock: harness, journal: journal)
        let outcomes = remediator.execute(plan.clusters.filter { $0.decision == .change }, run: "r")
        #expect(!outcomes.isEmpty)
        #expect(outcomes.allSatisfy { $0.status == .failed && $0.failure?.code.isEmpty == false })
        #expect(outcomes.allSatisfy { $0.operationsDone == 0 })
        #expect(journal.entries.filter { $0.state == .failed }.count == outcomes.count)
    }
}

@Suite("waiting for Flux compliance")
struct ComplianceWaitTests {
    static func run(complianceDelay: Int64, timeout: Int64) throws -> (outcomes: [ClusterOutcome], elapsed: Int64) {
        let inputs = try DemoInputs()
        var configuration = EmulatorConfiguration()
        configuration.complianceDelay = complianceDelay
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet, configuration: configuration))
        let plan = inputs.plan(inputs.fleet, at: harness.now)
        var options = RemediatorOptions()
        options.waitForCompliance = true
        options.complianceTimeout = timeout
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal(), options: options)
        let start = harness.now
        let outcomes = remediator.execute(plan.clusters.filter { $0.decision == .change }, run: "r")
        return (outcomes, harness.now - start)
    }

    @Test("Compliant within the timeout: the cluster succeeds after Flux reports")
    func compliant() throws {
        let (outcomes, elapsed) = try Self.run(complianceDelay: 20 * 60_000, timeout: 30 * 60_000)
        #expect(!outcomes.isEmpty)
        #expect(outcomes.allSatisfy { $0.status == .succeeded })
        #expect(elapsed >= 20 * 60_000)
    }

    @Test("still Pending at the timeout: the cluster fails with ComplianceTimedOut")
    func timedOut() throws {
        let (outcomes, elapsed) = try Self.run(complianceDelay: 20 * 60_000, timeout: 5 * 60_000)
        #expect(!outcomes.isEmpty)
        #expect(outcomes.allSatisfy { $0.status == .failed && $0.failure?.code == "ComplianceTimedOut" })
        #expect(outcomes.allSatisfy { $0.failedAction == nil })
        #expect(elapsed < 20 * 60_000)
    }
}
