import ArgumentParser
import ComplianceStore
import FleetCore
import Foundation
import Planner
import Remediator

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fluxfleet resume`: finish an interrupted apply without redoing finished work.
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish an interrupted or partly failed apply run without redoing what already succeeded.",
        discussion: """
            Takes the apply run RUN (default: the newest one left running — its process was killed — or \
            interrupted, halted or partly failed), reads the plan it was applying from the compliance \
            history and its journal, and runs the plan again under the same journal: operations the \
            journal shows succeeded are skipped, operations accepted by ARM are polled instead of sent \
            again, the rest are sent. Clusters the run never touched are read back and fingerprint-checked \
            as `apply` does; clusters it touched are not (their state moved because of the run itself).

            A run killed with `kill -9` leaves its writer lease behind; resume takes it over once it is \
            stale (the holder's process is gone) and says so.

            Requests go where the original run's did: pass the same --arm-endpoint (or none, for Azure) and \
            --auth, or --simulate with \
            --inventory set to the emulated fleet the interrupted run left (its --state-out).

            Exit codes as for apply: 0 done, 75 work still left, 1 runtime failure, 64 usage (no run to \
            resume), 73 database locked.

            Examples:
              fluxfleet resume --arm-endpoint http://127.0.0.1:8080
              fluxfleet resume 42 --arm-endpoint http://127.0.0.1:8080 --max-parallel 10
            """
    )

    @Argument(help: ArgumentHelp("The apply run to resume (default: the newest unfinished one).", valueName: "run"))
    var runID: Int64?

    @Option(
        name: .long,
        help: ArgumentHelp("With --simulate: the emulated fleet to resume against.", valueName: "path"))
    var inventory: String?

    @OptionGroup(title: "Azure (where the interrupted run sent its requests)")
    var azure: AzureConnectionOptions

    @OptionGroup var remediation: RemediationOptions

    @OptionGroup var store: StoreOptions

    func validate() throws {
        try RemediationOptions.checkTarget(simulate: remediation.simulate, endpoint: azure.armEndpoint)
        if remediation.simulate && inventory == nil {
            throw ValidationError(
                "a simulated run's emulator lived in its process: pass --inventory with the fleet it left (--state-out)"
            )
        }
    }

    func run() throws {
        Interrupts.install()
        let startedAt = StoreTime.iso(Int64(time(nil)))
        let history = try store.openForWriting(holder: "fluxfleet resume")
        defer { history.close() }
        let resumed: Int64
        let run: Int64
        let plan: Plan
        do {
            if let runID {
                resumed = runID
            } else if let found = try history.resumableRun() {
                resumed = found.run
                Console.stderr("resuming run \(found.run) (\(found.status.rawValue)), apply run \(found.applyRun)")
            } else {
                Console.error("no apply run to resume in \(store.path): the newest apply finished")
                throw ExitStatus.usage.code
            }
            run = try history.beginResume(of: resumed, startedAt: startedAt)
            guard let stored = try history.planForRun(run) else {
                Console.error(
                    "run \(resumed) has no recorded plan: it cannot be resumed — make a new plan and apply it")
                throw ExitStatus.usage.code
            }
            do {
                (plan, _) = try Plan.read(stored.document, file: "the plan of run \(resumed)")
            } catch {
                Console.error(error.description)
                throw ExitStatus.dataError.code
            }
        } catch let error as StoreError {
            throw report(error)
        }
        let touched: Set<String>
        do {
            touched = Set(try history.journal(chainEndingAt: run).map { $0.clusterId.lowercased() })
        } catch {
            throw report(error)
        }
        Console.stderr(
            "resume run \(run) of run \(resumed): \(touched.count) of \(plan.summary[.change] ?? 0) planned cluster(s) "
                + "already touched (not fingerprint-checked again)")
        let prepared = Prepared(plan: plan, planId: plan.planId, evaluation: nil, inventoryPath: inventory)
        let backend = try prepared.backend(remediation, azure: azure)
        let waves = try remediation.waves(from: nil)
        var apply = try ApplyRun(store: history, run: run)
        apply.execute(plan, backend: backend, waves: waves, options: remediation.remediatorOptions, touched: touched)
        try apply.finish(remediation: remediation, backend: backend)
    }
}
