import ComplianceStore
import FleetCore
import Foundation
import Planner
import Remediator

/// One apply (or resume) run: its row in the store, its journal, and what it did.
struct ApplyRun {
    let store: ComplianceStore
    let run: Int64
    let journal: StoreJournal
    var result: RemediationResult?

    /// Opens the journal of `run`.
    init(store: ComplianceStore, run: Int64) throws {
        self.store = store
        self.run = run
        do {
            journal = try StoreJournal(store: store, run: run)
        } catch {
            throw report(error)
        }
    }

    /// Claims the plan, opens the run and its journal, and executes the plan's changes.
    static func start(
        plan: Plan, planId: String, store: ComplianceStore, startedAt: String, backend: Backend,
        remediation: RemediationOptions, waves: [Wave]
    ) throws -> ApplyRun {
        let run: Int64
        do {
            run = try store.beginRun(
                RunStart(
                    kind: .apply, startedAt: startedAt, evaluatedAt: plan.inputs.evaluatedAt,
                    inventory: plan.inputs.inventory + (remediation.simulate ? " (simulated)" : ""),
                    inventoryDigest: plan.inputs.inventoryDigest, policies: plan.inputs.policies,
                    policiesDigest: plan.inputs.policiesDigest))
            _ = try store.savePlan(
                id: planId, document: plan.jsonBytes(), clusters: plan.clusters.count, run: run, at: startedAt)
            try store.claimPlan(id: planId, run: run, at: startedAt)
        } catch {
            throw report(error)
        }
        Console.stderr(
            "apply run \(run): plan \(planId.prefix(19))…, \(plan.summary[.change] ?? 0) cluster(s) to change")
        var apply = try ApplyRun(store: store, run: run)
        apply.execute(plan, backend: backend, waves: waves, options: remediation.remediatorOptions, touched: [])
        return apply
    }

    /// Runs the Remediator with progress on stderr.
    mutating func execute(
        _ plan: Plan, backend: Backend, waves: [Wave], options: RemediatorOptions, touched: Set<String>
    ) {
        let progress = ProgressReporter()
        let journal = journal
        result = Remediation.execute(
            plan, backend: backend, journal: journal, run: String(run), waves: waves, options: options,
            touched: touched, progress: progress, stop: { Interrupts.requested || journal.failure != nil })
        progress.finish()
    }

    /// Records the run's end, prints the summary, writes --state-out, and exits with the documented code.
    func finish(remediation: RemediationOptions, backend: Backend) throws {
        guard let result else { return }
        let status = Self.status(result)
        let outcomes = result.summary.outcomes
        do {
            try store.finishApplyRun(
                run, status: status, succeeded: outcomes.filter { $0.status == .succeeded }.count,
                failed: outcomes.filter { $0.status == .failed }.count + result.refusals.count,
                deferred: outcomes.filter { $0.status == .deferred }.count, at: StoreTime.iso(Int64(time(nil))))
        } catch {
            throw report(error)
        }
        Console.out(result.text + "\n")
        if let failure = journal.failure {
            Console.error("the journal could not be written: \(failure) — the run stopped; fix the database and resume")
            throw ExitStatus.failure.code
        }
        if let stateOut = remediation.stateOut, let snapshot = backend.snapshot {
            try writeAtomically(snapshot, to: stateOut, what: "the emulated fleet", flag: "--state-out")
            Console.stderr("wrote the emulated fleet to \(stateOut)")
        }
        let exit = result.exitStatus
        if exit == .resumable {
            Console.stderr("work is left: `fluxfleet resume \(run)` retries what failed or was not reached")
        }
        if exit != .success { throw exit.code }
    }

    /// The run's status in the store.
    static func status(_ result: RemediationResult) -> ApplyRunStatus {
        if Interrupts.requested { return .interrupted }
        if result.summary.haltedBy != nil { return .halted }
        if result.exitStatus == .resumable { return .partial }
        return .succeeded
    }
}
