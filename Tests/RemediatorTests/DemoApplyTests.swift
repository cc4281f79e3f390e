import ARMEmulator
import FleetCore
import Planner
import Remediator
import Testing

@Suite("applying the demo plan to the emulator")
struct DemoApplyTests {
    @Test("every planned cluster ends Succeeded and Compliant; a new plan has no change left")
    func demoConverges() throws {
        let inputs = try DemoInputs()
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet))
        let planOptions = PlanOptions(migrateFluxV1: true, includeDoNotEnforce: true)
        let plan = inputs.plan(inputs.fleet, at: harness.now, options: planOptions)
        let changes = plan.clusters.filter { $0.decision == .change }
        #expect(changes.count >= 6)
        let kinds = Set(changes.flatMap { $0.actions.map(\.kind) })
        #expect(kinds.isSuperset(of: [.deleteFluxV1, .installExtension, .repairExtension, .createConfiguration]))
        var options = RemediatorOptions()
        options.waitForCompliance = true
        let journal = InMemoryJournal()
        let remediator = Remediator(transport: harness, clock: harness, journal: journal, options: options)
        let outcomes = remediator.execute(plan.clusters, run: "run-1")

        #expect(outcomes.count == plan.clusters.count)
        for (outcome, cluster) in zip(outcomes, plan.clusters) {
            #expect(outcome.clusterId == cluster.clusterId)
            switch cluster.decision {
            case .change:
                #expect(outcome.status == .succeeded, "\(cluster.name): \(String(describing: outcome.failure))")
                #expect(outcome.operationsDone == cluster.actions.count)
            case .deferred: #expect(outcome.status == .deferred)
            case .noop, .blocked, .skipped: #expect(outcome.status == .notRun)
            }
        }
        // Only the planned resources were written, each once.
        let planned = Set(changes.flatMap { $0.actions.map { $0.resourceId.lowercased() } })
        let written = harness.writes.map { String($0.url.split(separator: "?")[0]).lowercased() }
        #expect(Set(written) == planned)
        #expect(written.count == planned.count)

        // Re-scanned, the planned clusters are on the baseline.
        let after = try reload(harness.state)
        let replan = inputs.plan(after, at: harness.now, options: planOptions)
        for cluster in changes {
            let again = try #require(replan.clusters.first { $0.clusterId == cluster.clusterId })
            #expect(again.decision == .noop, "\(cluster.name) still \(again.decision): \(again.actions.map(\.kind))")
        }
        #expect(replan.clusters.filter { $0.decision == .change }.isEmpty)
    }

    @Test("the journal records pending, sent, accepted and succeeded for each operation, in that order")
    func journalOrder() throws {
        let inputs = try DemoInputs()
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet))
        let plan = inputs.plan(inputs.fleet, at: harness.now)
        let journal = InMemoryJournal()
        let remediator = Remediator(transport: harness, clock: harness, journal: journal)
        _ = remediator.execute(plan.clusters, run: "run-1")
        let cluster = try #require(plan.clusters.first { $0.decision == .change })
        for action in cluster.actions {
            let states = journal.entries.filter { $0.resourceId == action.resourceId }.map(\.state)
            #expect(states == [.pending, .sent, .accepted, .succeeded])
            let done = try #require(journal.entries.last { $0.resourceId == action.resourceId })
            #expect(done.requestId != nil)
            #expect(done.desiredHash == DesiredBody.hash(of: action.body))
            #expect(done.action == action.kind.rawValue)
        }
    }
}
