import ArgumentParser
import ComplianceStore
import FleetCore
import Foundation
import Planner
import PolicyEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fluxfleet plan`: what a remediation would change, cluster by cluster, without changing anything.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show, cluster by cluster, what remediation would change (a dry run; nothing is changed).",
        discussion: """
            Evaluates the policies over the inventory (as scan does) and decides, for every cluster an \
            assignment covers (clusters under notScopes are not in the plan): change, noop, blocked, \
            deferred or skipped.

            Precedence: skipped first (tagged \(PlanOptions.defaultNeverTouchTag)=true, every \
            DeployIfNotExists result exempt, or only DoNotEnforce assignments without \
            --include-do-not-enforce); then, for a cluster that needs a change, blocked > deferred > \
            change, with the stable reason codes of the eligibility table (aksServicePrincipal, \
            fluxV1Present, arcExpired, aksStopped, arcOffline, extensionBusy, …) and the planner's own \
            (conflictingAssignments, replaceNeedsFlag, extensionMissing, extensionNameMismatch, \
            policyError, unsupportedResourceType), each with its remedy. A cluster that needs no change \
            is noop whatever its preflight says.

            A change is a DeployIfNotExists result that is NonCompliant, a strict-view drift, a Failed \
            resource or an extension outside N-2 support (or too old for ARM64 nodes). Actions run in \
            this order: delete-flux-v1 (only with --migrate-flux-v1), then install-extension, \
            repair-extension or upgrade-extension, then create-configuration, update-configuration \
            (with the field-level diff) or replace-configuration (scope or namespace changed: only with \
            --allow-replace, because Flux prunes what it deployed).

            The human view marks + create, ~ update, -/+ replace, - delete, ! blocked, … deferred, and \
            ends with a summary line. --output json (and the file --out writes, atomically) is the \
            versioned plan document: formatVersion 1, inputs (inventory and its digest, the policies' \
            digest, the evaluation time, the options), a summary and per cluster its fingerprint (a \
            SHA-256 of the observed state the decision rests on, without status timestamps), decision, \
            reason, remedy and actions (kind, resourceId, apiVersion, body, diff). Secrets stay \
            references ({"$secretReference": …}); credentials in URLs and literal secrets are masked.

            With --db PATH the evaluation behind the plan is recorded in the compliance history as a \
            run of kind plan (as scan records its runs); without it plan writes nothing but --out.

            Exit codes: 0 (also when changes are planned, unless --detailed-exitcode); 2 with \
            --detailed-exitcode when any cluster has a change; 1 runtime failure; 64 usage (a missing \
            path, an unwritable --out); 65 invalid inventory or policy documents; 73 when another run \
            holds the --db writer lease. Clusters that are only blocked or deferred are not changes.

            Examples:
              fluxfleet plan --inventory fleet-examples/demo
              fluxfleet plan --inventory fleet/ --include-do-not-enforce --out plan.json
              fluxfleet plan --inventory snapshot/ --detailed-exitcode --output json
            """
    )

    @OptionGroup var inputs: PolicyInputs

    @Option(name: .long, help: "Output format: table or json.")
    var output: ScanOutput = .table

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also write the plan document (JSON) to this file, replaced atomically.", valueName: "plan.json"))
    var out: String?

    @Flag(name: .long, help: "Exit 2 when the plan has changes (0 when none, 1 on error).")
    var detailedExitcode = false

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

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Record the plan's evaluation in this compliance history as a run of kind plan (default: nothing is written).",
            valueName: "path"))
    var db: String?

    func validate() throws {
        if let fluxLatest, SemanticVersion(fluxLatest) == nil {
            throw ValidationError("--flux-latest '\(fluxLatest)' is not a version like 1.19.5")
        }
        if neverTouchTag.isEmpty { throw ValidationError("--never-touch-tag must not be empty") }
    }

    func run() throws {
        let startedAt = StoreTime.iso(Int64(time(nil)))
        let now = try inputs.evaluationTime()
        let (inventory, bundle) = try inputs.load()
        // Take the writer lease before the evaluation, so a concurrent run fails at once (exit 73).
        let history = try db.map { try Self.openForWriting($0) }
        var catalog = FluxVersionCatalog.builtIn
        if let fluxLatest, let version = SemanticVersion(fluxLatest) { catalog = catalog.with(latest: version) }
        let options = PlanOptions(
            allowReplace: allowReplace, migrateFluxV1: migrateFluxV1, includeDoNotEnforce: includeDoNotEnforce,
            neverTouchTag: neverTouchTag, catalog: catalog)
        let scan = PolicyEvaluator.scan(fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: now))
        let plan = Planner.plan(
            scan: scan, fleet: inventory.fleet, bundle: bundle, options: options,
            inputs: PlanInputs(
                inventory: inputs.inventory, inventoryDigest: ScanCommand.digest(of: inventory),
                policies: inputs.policies, policiesDigest: bundle.digest, evaluatedAt: now))
        if let history, let db {
            let run = ScanRun(
                inventory: inputs.inventory, policies: inputs.policies, policiesDigest: bundle.digest,
                evaluatedAt: now, clusters: inventory.fleet.clusters.count)
            do {
                let outcome = try history.record(
                    scan: scan, fleet: inventory.fleet, run: run, kind: .plan, startedAt: startedAt,
                    finishedAt: StoreTime.iso(Int64(time(nil))), inventoryDigest: plan.inputs.inventoryDigest,
                    assignmentNames: ScanCommand.assignmentNames(bundle))
                Console.stderr("recorded plan run \(outcome.runID) in \(db): \(outcome.rowsAdded) row(s) added")
            } catch {
                throw report(error)
            }
            history.close()
        }
        let document = plan.jsonBytes()
        if let out {
            do {
                try Data(document).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                Console.error(
                    "cannot write the plan to '\(out)': \(error.localizedDescription) — pass a writable --out path")
                throw ExitStatus.usage.code
            }
        }
        switch output {
        case .table:
            let color = isatty(1) == 1 && (getenv("NO_COLOR").map { $0.pointee == 0 } ?? true)
            Console.out(plan.table(color: color))
        case .json:
            Console.out(document)
        }
        if let out { Console.stderr("wrote the plan to \(out) (\(document.count) bytes)") }
        if detailedExitcode && plan.hasChanges { throw ExitStatus.changes.code }
    }

    /// Opens the compliance history for writing under the writer lease, or exits with the documented code.
    private static func openForWriting(_ path: String) throws -> ComplianceStore {
        do {
            let store = try ComplianceStore(path: path, access: .write(LeaseRequest(holder: "fluxfleet plan")))
            for warning in store.warnings { Console.warning(warning) }
            return store
        } catch {
            throw report(error)
        }
    }
}
