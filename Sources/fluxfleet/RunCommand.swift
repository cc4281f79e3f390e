import ArgumentParser
import ComplianceStore
import FleetCore
import Foundation
import Planner
import PolicyEngine
import Remediator
import Reports

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fluxfleet run`: the scheduled job in one command.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The scheduled job: scan → plan → apply (waves) → verify → record → report files.",
        discussion: """
            1. scan: evaluates the policies over the inventory and records the run (as `fluxfleet scan`);
            2. plan: decides per cluster (as `fluxfleet plan`) and prints the summary line;
            3. apply: when there are changes, applies them as `fluxfleet apply` does — targets re-read \
            and fingerprint-checked, waves, ARM's rate limits, retries, the journal;
            4. verify: reads the fleet again (Resource Graph; the emulator with --simulate), evaluates and records \
            it as a scan run, and plans again: clusters that still need a change are listed;
            5. report: writes the compliance reports of the verify run into --report-dir.

            With --simulate everything runs in-process on the ARM emulator's core, seeded from \
            --inventory, with a virtual clock and ARM's throttling: the whole job on a laptop, and a \
            forecast (virtual time, throttling waits) of a real remediation. The database records the \
            simulated runs like real ones (their inventory is marked "(simulated)"); pass --db to keep \
            them apart.

            Exit codes: 0 the fleet converged (deferred clusters are reported, not failures); 75 work \
            left (failures, a halted wave, refused clusters, clusters still needing a change after \
            verify); 1 runtime failure; 64 usage; 65 invalid input; 73 database locked.

            Examples:
              fluxfleet run --inventory fleet-examples/demo --simulate
              fluxfleet run --inventory snapshot/ --simulate --state-out forecast.json --wave 5% --wave rest
              fluxfleet run --management-group platform-prod --auth workload-identity --report-dir reports --yes
              fluxfleet run --inventory snapshot/ --arm-endpoint http://127.0.0.1:8080 --report-dir reports --yes
            """
    )

    @OptionGroup var inputs: PolicyInputs

    @OptionGroup var flags: PlanFlags

    @OptionGroup var remediation: RemediationOptions

    @OptionGroup var store: StoreOptions

    @Option(
        name: .long,
        help: ArgumentHelp("Where the report files go (created if missing).", valueName: "dir"))
    var reportDir: String = "fluxfleet-reports"

    @Option(
        name: .customLong("report-format"),
        help: ArgumentHelp(
            "A report format to write, repeatable (default: every format but table): \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "format"))
    var reportFormats: [ReportFormat] = []

    func validate() throws {
        try RemediationOptions.checkTarget(simulate: remediation.simulate, endpoint: inputs.azure.armEndpoint)
    }

    func run() throws {
        Interrupts.install()
        let startedAt = StoreTime.iso(Int64(time(nil)))
        let now = try inputs.evaluationTime()
        let (inventory, bundle, digest) = try inputs.load()
        let rollout = try inputs.loadRollout(defaults: remediation.waveDefaults)
        let waves = try remediation.waves(from: rollout)
        let history = try store.openForWriting(holder: "fluxfleet run")
        defer { history.close() }

        // 1–2. scan and plan.
        let label = inputs.inventoryLabel + (remediation.simulate ? " (simulated)" : "")
        let evaluation = Evaluation(
            inventory: inventory, inventoryLabel: label, inventoryDigest: digest, bundle: bundle,
            policiesPath: inputs.policies, now: now, options: flags.options(rollout))
        let scanRun = try evaluation.record(into: history, kind: .scan, startedAt: startedAt)
        let plan = evaluation.plan
        Console.out("Scan (run \(scanRun)): \(Self.complianceLine(evaluation.scan))\n\(plan.summaryLine)\n")

        // 3. apply.
        let prepared = Prepared(
            plan: plan, planId: plan.planId, evaluation: evaluation, inventoryPath: inputs.inventory)
        let backend = try prepared.backend(remediation, azure: inputs.azure)
        var exit = ExitStatus.success
        var applied: ApplyRun?
        if plan.hasChanges {
            try Confirmation.ask(plan: plan, yes: remediation.yes || remediation.simulate)
            let outcome = try ApplyRun.start(
                plan: plan, planId: prepared.planId, store: history, startedAt: StoreTime.iso(Int64(time(nil))),
                backend: backend, remediation: remediation, waves: waves)
            applied = outcome
            do {
                try outcome.finish(remediation: remediation, backend: backend)
            } catch let code as ExitCode where code == ExitStatus.resumable.code {
                exit = .resumable
            }
        } else {
            Console.out("Nothing to apply.\n")
        }

        // 4. verify: read the fleet again and evaluate it at the backend's time.
        let (verifyInventory, verifyDigest) = try reread(backend: backend)
        let verify = Evaluation(
            inventory: verifyInventory, inventoryLabel: label, inventoryDigest: verifyDigest, bundle: bundle,
            policiesPath: inputs.policies, now: applied == nil ? now : backend.isoNow, options: flags.options(rollout))
        let verifyRun = try verify.record(into: history, kind: .scan, startedAt: StoreTime.iso(Int64(time(nil))))
        let remaining = verify.plan.clusters.filter { $0.decision == .change }
        Console.out(
            "Verify (run \(verifyRun)): \(Self.complianceLine(verify.scan))\nVerify " + verify.plan.summaryLine + "\n")
        if !remaining.isEmpty {
            Console.out(
                "verify: \(remaining.count) cluster(s) still need a change: "
                    + remaining.prefix(10).map(\.name).joined(separator: ", ") + (remaining.count > 10 ? ", …" : "")
                    + "\n")
            exit = .resumable
        }

        // 5. reports.
        try writeReports(history, run: verifyRun)
        if exit != .success { throw exit.code }
    }

    /// `Compliance 87.5% (14 of 16 resources) · 2 NonCompliant · 0 Error`.
    static func complianceLine(_ scan: ScanResult) -> String {
        let summary = scan.summary
        let percent = String(format: "%.1f", summary.compliancePercent)
        return
            "compliance \(percent)% over \(summary.resources) resource(s): \(summary.compliant) compliant, "
            + "\(summary.nonCompliant) non-compliant, \(summary.exempt) exempt, \(summary.error) error"
    }

    /// The fleet as the backend has it now: the emulator's state under --simulate, else the endpoint's Resource
    /// Graph.
    func reread(backend: Backend) throws -> (Inventory, String) {
        guard let snapshot = backend.snapshot else {
            var live = inputs
            live.inventory = nil
            return try live.loadInventory()
        }
        let path: String
        var temporary: String?
        if let stateOut = remediation.stateOut, FileManager.default.fileExists(atPath: stateOut) {
            path = stateOut
        } else {
            let directory = NSTemporaryDirectory() + "fluxfleet-verify-\(getpid())"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            path = directory + "/fleet.json"
            temporary = directory
            try writeAtomically(snapshot, to: path, what: "the emulated fleet", flag: "TMPDIR")
        }
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        do {
            let loaded = try SnapshotReader.load(path: path, keepsInput: true, digests: true)
            return (loaded, ScanCommand.digest(of: loaded))
        } catch {
            throw report(error)
        }
    }

    /// Writes the report files of `run` into --report-dir.
    func writeReports(_ history: ComplianceStore, run: Int64) throws {
        let formats = reportFormats.isEmpty ? ReportFormat.allCases.filter { $0 != .table } : reportFormats
        do {
            try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true)
        } catch {
            Console.error("cannot create --report-dir '\(reportDir)': \(error.localizedDescription)")
            throw ExitStatus.usage.code
        }
        let data: ReportData
        do {
            data = try history.reportData(run: run, since: ReportWindow(parsing: "30d")!)
        } catch {
            throw report(error)
        }
        var written: [String] = []
        for format in formats {
            let name = "compliance.\(format.fileExtension)"
            try writeAtomically(
                ReportRenderer.render(data, format: format), to: reportDir + "/" + name, what: "the report",
                flag: "--report-dir")
            written.append(name)
        }
        Console.out("Reports: \(written.count) file(s) in \(reportDir)/ (\(written.joined(separator: ", ")))\n")
    }
}
