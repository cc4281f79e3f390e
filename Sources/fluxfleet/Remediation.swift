import ARMEmulator
import ArgumentParser
import AzureARM
import ComplianceStore
import FleetCore
import Foundation
import Planner
import Remediator

/// Where remediation requests go and how the rollout is paced: shared by `apply`, `resume` and `run`.
struct RemediationOptions: ParsableArguments {
    @Flag(
        name: .long,
        help: """
            Apply against the ARM emulator's core in-process, seeded from the inventory, on a virtual clock with \
            ARM's throttling: nothing leaves the machine and no real time is spent waiting.
            """)
    var simulate = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --simulate: write the emulated fleet after the run as an inventory snapshot.", valueName: "path"))
    var stateOut: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With --simulate: inject faults into the emulator (\(FaultPlan.grammar.split(separator: "\n").first ?? "")).",
            valueName: "spec"))
    var faults: String?

    @Option(
        name: .customLong("wave"),
        help: ArgumentHelp(
            "A wave, repeatable, canary first; replaces the rollout file's waves (grammar: `fluxfleet apply --help`).",
            valueName: "selector"))
    var waves: [String] = []

    @Option(name: .long, help: ArgumentHelp("Clusters worked on at once in a wave.", valueName: "n"))
    var maxParallel: Int = 20

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Failures a wave tolerates before the run halts: a count or a share such as 5%.", valueName: "budget"))
    var maxFailures: String = "5%"

    @Flag(name: .long, help: "After writing, wait for Flux to report complianceState Compliant on each configuration.")
    var waitForCompliance = false

    @Option(
        name: .long,
        help: ArgumentHelp("How long to wait for Compliant per cluster, in seconds.", valueName: "seconds"))
    var complianceTimeout: Int = 600

    @Flag(name: .long, help: "Do not ask for confirmation (required when standard input is not a terminal).")
    var yes = false

    func validate() throws {
        if !simulate && stateOut != nil { throw ValidationError("--state-out needs --simulate") }
        if !simulate && faults != nil { throw ValidationError("--faults needs --simulate") }
        if let faults {
            do {
                _ = try FaultPlan(parsing: faults)
            } catch {
                throw ValidationError("--faults: \(error)")
            }
        }
        if maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        if budget == nil {
            throw ValidationError("--max-failures '\(maxFailures)' is not a count (3) or a share (5%)")
        }
        if complianceTimeout < 1 { throw ValidationError("--compliance-timeout must be at least 1 second") }
    }

    /// Checks that requests have at most one place named: --simulate or --arm-endpoint (neither: the cloud's ARM).
    static func checkTarget(simulate: Bool, endpoint: String?) throws {
        if simulate && endpoint != nil {
            throw ValidationError("--simulate and --arm-endpoint exclude each other: pick one")
        }
    }

    /// The failure budget `--max-failures` gives.
    var budget: FailureBudget? {
        if maxFailures.hasSuffix("%") {
            guard let share = Double(maxFailures.dropLast()), share >= 0, share <= 100 else { return nil }
            return .percent(share)
        }
        guard let count = Int(maxFailures), count >= 0 else { return nil }
        return .count(count)
    }

    /// The Remediator's options for this run.
    var remediatorOptions: RemediatorOptions {
        var options = RemediatorOptions()
        options.maxInFlight = max(options.maxInFlight, maxParallel)
        options.waitForCompliance = waitForCompliance
        options.complianceTimeout = Int64(complianceTimeout) * 1000
        return options
    }

    /// The defaults a wave without its own settings takes: --max-parallel and --max-failures.
    var waveDefaults: WaveDefaults {
        WaveDefaults(maxParallel: maxParallel, failureBudget: budget ?? .count(0))
    }

    /// The waves: `--wave` selectors in order, else the rollout file's waves, else one wave of every cluster.
    func waves(from file: Rollout?) throws -> [Wave] {
        if !waves.isEmpty {
            do {
                return try Rollout.waves(fromFlags: waves, defaults: waveDefaults)
            } catch {
                Console.error("\(error)")
                throw ExitStatus.usage.code
            }
        }
        if let file, !file.waves.isEmpty { return file.waves }
        return Rollout.standard(waveDefaults).waves
    }
}

/// The wall clock, for runs against a real endpoint.
final class SystemClock: RemediationClock {
    var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func sleep(until time: Int64) {
        while true {
            let left = time - now
            if left <= 0 || Interrupts.requested && left > 1_000 { return }
            usleep(UInt32(min(left, 500) * 1000))
        }
    }
}

/// Where a remediation's requests go.
enum Backend {
    /// The emulator's core in-process (`--simulate`).
    case simulated(InProcessARM)
    /// A real endpoint over HTTP, with the Key Vault reader of its connection (nil without a credential).
    case endpoint(any ARMTransport, SystemClock, (any KeyVaultSecretReader)?)

    var transport: any ARMTransport {
        switch self {
        case .simulated(let arm): arm
        case .endpoint(let transport, _, _): transport
        }
    }

    var clock: any RemediationClock {
        switch self {
        case .simulated(let arm): arm
        case .endpoint(_, let clock, _): clock
        }
    }

    /// A signed-in ARM endpoint over HTTP, on the wall clock.
    static func endpoint(_ connection: AzureConnection) throws -> Backend {
        .endpoint(try connection.transport(), SystemClock(), try connection.keyVault())
    }

    /// Where Key Vault secret references are read: the connection's vault client (nil under --simulate or
    /// without a credential, so such references are refused with their remedy).
    var keyVault: (any KeyVaultSecretReader)? {
        if case .endpoint(_, _, let reader) = self { return reader }
        return nil
    }

    /// Requests on the wire at once: many to a real endpoint (each waits on the network), one to the in-process
    /// emulator (its requests take no time and its runs stay deterministic).
    func concurrency(_ maxParallel: Int) -> Int {
        if case .endpoint = self { return max(1, maxParallel) }
        return 1
    }

    /// Seeds the in-process emulator from an inventory, its virtual clock starting at `start` (the plan's
    /// evaluation time, so a simulation with `--now` is the same every time).
    static func simulated(_ fleet: Fleet, faults: String?, start: String) throws -> Backend {
        var configuration = EmulatorConfiguration()
        if let faults { configuration.faults = try FaultPlan(parsing: faults) }
        let start = StoreTime.epoch(start).map { $0 * 1000 } ?? Int64(Date().timeIntervalSince1970 * 1000)
        return .simulated(InProcessARM(EmulatorState(inventory: fleet, configuration: configuration, now: start)))
    }

    /// The emulated fleet as an inventory snapshot (nil for a real endpoint).
    var snapshot: [UInt8]? {
        if case .simulated(let arm) = self { return arm.state.snapshot() }
        return nil
    }

    /// The clock's time as ISO 8601 UTC, to the second (as evaluation times are written).
    var isoNow: String { StoreTime.iso(clock.now / 1000) }
}

/// What one remediation did: the Remediator's summary and the clusters refused before it started.
struct RemediationResult {
    var summary: RunSummary
    var refusals: [TargetRefusal]
    /// Whether the run was `--simulate`d.
    var simulated: Bool

    /// The documented exit status: 75 when work is left that a later run can do (failures, a halted wave,
    /// refused targets, an interrupted run), else 0 (also when the only outcome is deferred clusters).
    var exitStatus: ExitStatus {
        if !refusals.isEmpty || !summary.outcomes(.failed).isEmpty || summary.haltedBy != nil { return .resumable }
        if summary.outcomes.contains(where: {
            $0.status == .deferred && ($0.reason == "runHalted" || $0.reason == "interrupted")
        }) {
            return .resumable
        }
        return .success
    }

    /// The text printed at the end of a run.
    var text: String {
        var lines: [String] = []
        if !refusals.isEmpty {
            lines.append("Refused (the cluster changed since the plan was made, or could not be read):")
            for refusal in refusals {
                lines.append("  ! \(refusal.name) [\(refusal.code)]: \(refusal.message) — \(refusal.remedy)")
            }
        }
        lines.append(summary.text)
        let seconds = (summary.finishedAt - summary.startedAt) / 1000
        lines.append(
            "Time: \(ProgressReporter.duration(seconds)) on the run's clock"
                + (simulated ? " (virtual: the emulator's delays and ARM's throttling, no real waiting)" : ""))
        return lines.joined(separator: "\n")
    }
}

/// Runs a plan's changes: re-reads each target, refuses the ones that moved, and applies the rest in waves.
enum Remediation {
    /// Applies `plan` through `backend`, journalling into `journal` under `run`.
    ///
    /// - Parameter touched: Lowercased ids of clusters a resumed run already worked on: they are not
    ///   fingerprint-checked (their state moved because of this very run).
    static func execute(
        _ plan: Plan, backend: Backend, journal: any RemediationJournal, run: String, waves: [Wave],
        options: RemediatorOptions, touched: Set<String> = [], tags fallback: [String: [String: String]] = [:],
        progress: ProgressReporter? = nil, stop: @escaping () -> Bool = { Interrupts.requested }
    ) -> RemediationResult {
        var reader = TargetReader(transport: backend.transport, clock: backend.clock, limits: options.limits)
        let checked = TargetCheck.check(
            plan, reader: &reader, skipping: touched, parallelism: min(8, backend.concurrency(options.maxInFlight)))
        var refused: [String: TargetRefusal] = [:]
        for refusal in checked.refusals { refused[refusal.clusterId.lowercased()] = refusal }
        var masked: [TargetRefusal] = []
        let clusters = plan.clusters.map { cluster -> ClusterPlan in
            guard cluster.decision == .change else { return cluster }
            if let refusal = refused[cluster.clusterId.lowercased()] {
                var copy = cluster
                copy.decision = .blocked
                copy.reason = PlanReason(code: refusal.code, message: refusal.message, remedy: refusal.remedy)
                return copy
            }
            let paths = cluster.actions.flatMap { action in
                DesiredBody.maskedPaths(action.body).map {
                    "\(action.resourceId.split(separator: "/").last ?? ""): \($0)"
                }
            }
            if !paths.isEmpty {
                let refusal = TargetRefusal(
                    clusterId: cluster.clusterId, name: cluster.name, code: "literalSecretMasked",
                    message:
                        "the plan masks a literal secret at \(paths.joined(separator: ", ")), so it cannot be sent",
                    remedy:
                        "give the assignment parameter as {\"fromEnv\": …}, {\"fromFile\": …} or a Key Vault reference",
                    currentFingerprint: nil)
                masked.append(refusal)
                var copy = cluster
                copy.decision = .blocked
                copy.reason = PlanReason(code: refusal.code, message: refusal.message, remedy: refusal.remedy)
                return copy
            }
            return cluster
        }
        var sending = options
        sending.concurrentSends = backend.concurrency(options.maxInFlight)
        let remediator = Remediator(
            transport: backend.transport, clock: backend.clock, journal: journal,
            secrets: ReferenceSecrets(keyVault: backend.keyVault), options: sending)
        remediator.shouldStop = stop
        if let progress { remediator.observer = progress.handle }
        let tags = checked.tags.merging(fallback) { read, _ in read }
        let summary = remediator.apply(clusters, waves: waves, run: run) { tags[$0.lowercased()] ?? [:] }
        var simulated = false
        if case .simulated = backend { simulated = true }
        return RemediationResult(summary: summary, refusals: checked.refusals + masked, simulated: simulated)
    }
}
