import ArgumentParser
import ComplianceStore
import FleetCore
import Foundation
import Planner
import PolicyEngine
import Remediator

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fluxfleet apply`: carry out a plan's changes, cluster by cluster, in waves, journalled.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a plan: install or repair the Flux extension and configurations, in waves, journalled.",
        discussion: """
            Applies PLAN (a file written by `fluxfleet plan --out`), or plans first from --inventory and \
            --policies as `fluxfleet plan` would. Requests go to Azure's ARM (the cloud's endpoint, signed in \
            with --auth: see `Running against Azure` in the README), to --arm-endpoint URL (the emulator \
            on loopback), or, with --simulate, to the ARM emulator's core in-process, seeded from the \
            inventory, on a virtual clock with ARM's throttling. Requests that are due together are sent \
            together (up to --max-parallel clusters), within ARM's per-subscription limits.

            Before anything is written, every cluster with changes is read back from ARM (the cluster and \
            its extensions, fluxConfigurations and Flux v1 configurations) and its fingerprint compared \
            with the plan's: a cluster that moved since the plan was made is refused (fingerprintMoved), \
            the others go ahead. A plan is applied once: its planId is recorded, and applying it again is \
            refused. Secret references in the plan ({"fromEnv": …}, {"fromFile": …}) are resolved only \
            when a request is sent; values are never printed, journalled or stored.

            Per cluster: delete Flux v1 (when planned) → extension PUT → wait for Succeeded → \
            configuration PUT → wait → with --wait-for-compliance, wait for Flux to report Compliant. \
            Waves come from --wave selectors (canary first), each with --max-parallel and \
            --max-failures; a wave over its failure budget halts the run. Requests are paced by \
            per-subscription token buckets matching ARM's limits (writes 200 burst, 10/s; reads 250, \
            25/s), corrected from the x-ms-ratelimit-remaining headers; 429 waits Retry-After; 5xx, \
            timeouts and dropped connections are retried with backoff and jitter.

            Every operation is journalled in the compliance history (--db) before its request and at \
            each state change. Interrupt (Ctrl-C) once to drain — no new cluster starts, the ones in \
            flight finish — twice to abort; `fluxfleet resume` finishes an interrupted run without \
            redoing finished work.

            Exit codes: 0 done (also when the only outcome is deferred clusters); 75 work left that a \
            later run can do (failures, a halted wave, refused clusters, an interrupted run, a plan \
            already applied); 1 runtime failure; 64 usage (also without --yes when standard input is \
            not a terminal); 65 an invalid plan, inventory or policy document; 73 another run holds the \
            database.

            Examples:
              fluxfleet apply plan.json --simulate --yes
              fluxfleet apply --inventory fleet-examples/demo --simulate --state-out after.json --yes
              fluxfleet apply plan.json --wave tag:ring=canary --wave 25% --wave rest --yes
              fluxfleet apply plan.json --arm-endpoint http://127.0.0.1:8080 --yes
            """
    )

    @Argument(
        help: ArgumentHelp(
            "The plan file (`fluxfleet plan --out`); without it, apply plans first.", valueName: "plan.json"))
    var planFile: String?

    @OptionGroup var inputs: PolicyInputs

    @OptionGroup var flags: PlanFlags

    @OptionGroup var remediation: RemediationOptions

    @OptionGroup var store: StoreOptions

    func validate() throws {
        try RemediationOptions.checkTarget(simulate: remediation.simulate, endpoint: inputs.azure.armEndpoint)
        if planFile == nil && inputs.inventory == nil && !inputs.isLive {
            throw ValidationError(
                "give a plan file, or the fleet to plan from (--inventory PATH, --subscription ID or --arm-endpoint URL)"
            )
        }
    }

    func run() throws {
        Interrupts.install()
        let startedAt = StoreTime.iso(Int64(time(nil)))
        let rollout = try inputs.loadRollout(defaults: remediation.waveDefaults)
        let waves = try remediation.waves(from: rollout)
        let prepared = try Prepared.make(planFile: planFile, inputs: inputs, flags: flags, rollout: rollout)
        if !prepared.plan.hasChanges {
            Console.out(prepared.plan.table(color: colorOutput))
            Console.stderr("nothing to apply: the plan has no change decisions")
            return
        }
        try Confirmation.ask(plan: prepared.plan, yes: remediation.yes)
        let history = try store.openForWriting(holder: "fluxfleet apply")
        defer { history.close() }
        if let evaluation = prepared.evaluation {
            try evaluation.record(into: history, kind: .plan, startedAt: startedAt)
        }
        let backend = try prepared.backend(remediation, azure: inputs.azure)
        let outcome = try ApplyRun.start(
            plan: prepared.plan, planId: prepared.planId, store: history, startedAt: startedAt, backend: backend,
            remediation: remediation, waves: waves)
        try outcome.finish(remediation: remediation, backend: backend)
    }
}

/// A plan ready to apply, with what it came from.
struct Prepared {
    var plan: Plan
    var planId: String
    /// The evaluation behind the plan when apply planned it itself.
    var evaluation: Evaluation?
    /// The inventory snapshot path (to seed --simulate).
    var inventoryPath: String?

    static func make(planFile: String?, inputs: PolicyInputs, flags: PlanFlags, rollout: Rollout?) throws -> Prepared {
        if let planFile {
            guard let data = FileManager.default.contents(atPath: planFile) else {
                Console.error("cannot read the plan '\(planFile)' — pass the file `fluxfleet plan --out` wrote")
                throw ExitStatus.usage.code
            }
            do {
                let (plan, planId) = try Plan.read(Array(data), file: planFile)
                return Prepared(
                    plan: plan, planId: planId, evaluation: nil,
                    inventoryPath: inputs.inventory ?? (plan.inputs.inventory.isEmpty ? nil : plan.inputs.inventory))
            } catch {
                Console.error(error.description)
                throw ExitStatus.dataError.code
            }
        }
        let evaluationTime = try inputs.evaluationTime()
        let (loaded, bundle, digest) = try inputs.load()
        let evaluation = Evaluation(
            inventory: loaded, inventoryLabel: inputs.inventoryLabel, inventoryDigest: digest, bundle: bundle,
            policiesPath: inputs.policies, now: evaluationTime, options: flags.options(rollout))
        return Prepared(
            plan: evaluation.plan, planId: evaluation.plan.planId, evaluation: evaluation,
            inventoryPath: inputs.inventory)
    }

    /// The backend the options ask for; `--simulate` is seeded from the plan's inventory.
    func backend(_ options: RemediationOptions, azure: AzureConnectionOptions) throws -> Backend {
        if options.simulate {
            let fleet: Fleet
            if let evaluation {
                fleet = evaluation.inventory.fleet
            } else {
                guard let inventoryPath else {
                    Console.error("--simulate needs the inventory to seed the emulator — pass --inventory PATH")
                    throw ExitStatus.usage.code
                }
                do {
                    fleet = try SnapshotReader.load(path: inventoryPath).fleet
                } catch {
                    throw report(error)
                }
            }
            return try Backend.simulated(fleet, faults: options.faults, start: plan.inputs.evaluatedAt)
        }
        return try Backend.endpoint(AzureConnection.open(azure))
    }
}

/// Asking before changing clusters.
enum Confirmation {
    /// Asks on the terminal unless `yes`; exits 64 when there is no terminal to ask on, 1 when the answer is not
    /// `yes`.
    static func ask(plan: Plan, yes: Bool) throws {
        if yes { return }
        guard isatty(0) == 1 else {
            Console.error(
                "apply changes clusters and standard input is not a terminal to confirm on — pass --yes to apply without asking"
            )
            throw ExitStatus.usage.code
        }
        Console.out(plan.table(color: colorOutput))
        Console.out("\nApply these changes? Only 'yes' is accepted: ")
        guard readLine()?.trimmingCharacters(in: .whitespaces) == "yes" else {
            Console.error("apply cancelled: nothing was changed")
            throw ExitStatus.failure.code
        }
    }
}
