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

/// The planner's flags, shared by `plan`, `apply` (when it plans) and `run`.
struct PlanFlags: ParsableArguments {
    @Flag(
        name: .long,
        help: "Plan replace-configuration when a configuration's scope or namespace changed (destructive with prune).")
    var allowReplace = false

    @Flag(name: .long, help: "Plan deleting Flux v1 sourceControlConfigurations before installing Flux v2.")
    var migrateFluxV1 = false

    @Flag(name: .long, help: "Remediate DoNotEnforce assignments too (they are skipped otherwise).")
    var includeDoNotEnforce = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The tag that marks a cluster never to be touched (when its value is true).",
            valueName: "name"))
    var neverTouchTag: String = PlanOptions.defaultNeverTouchTag

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The newest microsoft.flux version, for the N-2 support check (default: \(FluxVersionCatalog.builtIn.latest)).",
            valueName: "version"))
    var fluxLatest: String?

    func validate() throws {
        if let fluxLatest, SemanticVersion(fluxLatest) == nil {
            throw ValidationError("--flux-latest '\(fluxLatest)' is not a version like 1.19.5")
        }
        if neverTouchTag.isEmpty { throw ValidationError("--never-touch-tag must not be empty") }
    }

    /// The planner options these flags ask for, with the rollout file's change windows and never-touch tag (an
    /// explicit --never-touch-tag wins over the file's).
    func options(_ rollout: Rollout? = nil) -> PlanOptions {
        var catalog = FluxVersionCatalog.builtIn
        if let fluxLatest, let version = SemanticVersion(fluxLatest) { catalog = catalog.with(latest: version) }
        let options = PlanOptions(
            allowReplace: allowReplace, migrateFluxV1: migrateFluxV1, includeDoNotEnforce: includeDoNotEnforce,
            neverTouchTag: neverTouchTag, catalog: catalog)
        guard let rollout else { return options }
        var merged = rollout.planOptions(options)
        if neverTouchTag != PlanOptions.defaultNeverTouchTag { merged.neverTouchTag = neverTouchTag }
        return merged
    }
}

/// One evaluation of the policies over an inventory, and the plan made from it.
struct Evaluation {
    /// The inventory evaluated.
    let inventory: Inventory
    /// What the inventory was read from, as recorded (a path, or an endpoint).
    let inventoryLabel: String
    /// The policies.
    let bundle: PolicyBundle
    /// The policies directory as given.
    let policiesPath: String
    /// The evaluation time.
    let now: String
    /// The results.
    let scan: ScanResult
    /// The plan made from them.
    let plan: Plan

    /// Evaluates and plans.
    init(
        inventory: Inventory, inventoryLabel: String, inventoryDigest: String, bundle: PolicyBundle,
        policiesPath: String, now: String, options: PlanOptions
    ) {
        self.inventory = inventory
        self.inventoryLabel = inventoryLabel
        self.bundle = bundle
        self.policiesPath = policiesPath
        self.now = now
        scan = PolicyEvaluator.scan(fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: now))
        plan = Planner.plan(
            scan: scan, fleet: inventory.fleet, bundle: bundle, options: options,
            inputs: PlanInputs(
                inventory: inventoryLabel, inventoryDigest: inventoryDigest,
                policies: policiesPath, policiesDigest: bundle.digest, evaluatedAt: now))
    }

    /// The run description the store records.
    var scanRun: ScanRun {
        ScanRun(
            inventory: inventoryLabel, policies: policiesPath, policiesDigest: bundle.digest, evaluatedAt: now,
            clusters: inventory.fleet.clusters.count)
    }

    /// Records the evaluation as a run of `kind`; prints one line about it to stderr.
    @discardableResult
    func record(into store: ComplianceStore, kind: RunKind, startedAt: String) throws -> Int64 {
        do {
            let outcome = try store.record(
                scan: scan, fleet: inventory.fleet, run: scanRun, kind: kind, startedAt: startedAt,
                finishedAt: StoreTime.iso(Int64(time(nil))), inventoryDigest: plan.inputs.inventoryDigest,
                assignmentNames: ScanCommand.assignmentNames(bundle))
            Console.stderr(
                "recorded \(kind.rawValue) run \(outcome.runID) in \(store.path): \(outcome.rowsAdded) row(s) added")
            return outcome.runID
        } catch {
            throw report(error)
        }
    }
}

/// Whether standard output is a terminal that takes colour (`NO_COLOR` unset or empty).
var colorOutput: Bool {
    isatty(1) == 1 && (getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)
}

/// Writes bytes to a file atomically, or exits 64 naming the path and the flag that gave it.
func writeAtomically(_ bytes: [UInt8], to path: String, what: String, flag: String) throws {
    do {
        try writeFileAtomically(bytes, to: path)
    } catch {
        Console.error("cannot write \(what) to '\(path)': \(error.localizedDescription) — pass a writable \(flag) path")
        throw ExitStatus.usage.code
    }
}

/// Writes into a temporary file beside `path`, flushes it, then renames it over `path` (atomic on POSIX).
func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(
        ".\(url.lastPathComponent).\(getpid()).tmp"
    ).path
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    var failure: Int32 = 0
    bytes.withUnsafeBufferPointer { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                failure = errno == 0 ? EIO : errno
                return
            }
            offset += n
        }
    }
    if failure == 0 && fsync(fd) != 0 { failure = errno }
    close(fd)
    if failure == 0 && rename(temporary, path) != 0 { failure = errno }
    if failure != 0 {
        unlink(temporary)
        throw POSIXError(POSIXErrorCode(rawValue: failure) ?? .EIO)
    }
}
