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

            --show-permissions prints, instead of the plan, the least privilege applying it needs: for each \
            resource group holding a cluster to change, the ARM actions apply sends (reading the target back, \
            writing extensions or fluxConfigurations, polling their operations, deleting what a replacement or \
            a Flux v1 migration removes), each with the plan actions that need it; and for each Key Vault a \
            secret reference names, the data action that reads a secret. --output json gives the same as a \
            document with a custom role definition ready for az role definition create.

            Exit codes: 0 (also when changes are planned, unless --detailed-exitcode); 2 with \
            --detailed-exitcode when any cluster has a change; 1 runtime failure; 64 usage (a missing \
            path, an unwritable --out); 65 invalid inventory or policy documents; 73 when another run \
            holds the --db writer lease. Clusters that are only blocked or deferred are not changes.

            Examples:
              fluxfleet plan --inventory fleet-examples/demo
              fluxfleet plan --inventory fleet/ --include-do-not-enforce --out plan.json
              fluxfleet plan --inventory snapshot/ --detailed-exitcode --output json
              fluxfleet plan --inventory fleet/ --show-permissions --output json > role.json
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
        help: """
            Print the Azure permissions applying this plan needs instead of the plan: ARM actions per resource \
            group and the Key Vault data action per vault, each with why (--output json adds a custom role \
            definition for az role definition create).
            """)
    var showPermissions = false

    @OptionGroup var flags: PlanFlags

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Record the plan's evaluation (a run of kind plan) and the plan document in this compliance history (default: nothing is written).",
            valueName: "path"))
    var db: String?

    func run() throws {
        let startedAt = StoreTime.iso(Int64(time(nil)))
        let now = try inputs.evaluationTime()
        let (inventory, bundle, digest) = try inputs.load()
        let rollout = try inputs.loadRollout()
        // Take the writer lease before the evaluation, so a concurrent run fails at once (exit 73).
        let history = try db.map { try Self.openForWriting($0) }
        let evaluation = Evaluation(
            inventory: inventory, inventoryLabel: inputs.inventoryLabel, inventoryDigest: digest, bundle: bundle,
            policiesPath: inputs.policies,
            now: now, options: flags.options(rollout))
        let plan = evaluation.plan
        if let history {
            let run = try evaluation.record(into: history, kind: .plan, startedAt: startedAt)
            do {
                _ = try history.savePlan(
                    id: plan.planId, document: plan.jsonBytes(), clusters: plan.clusters.count, run: run,
                    at: startedAt)
            } catch {
                throw report(error)
            }
            history.close()
        }
        let document = plan.jsonBytes()
        if let out { try writeAtomically(document, to: out, what: "the plan", flag: "--out") }
        switch (output, showPermissions) {
        case (.table, false): Console.out(plan.table(color: colorOutput))
        case (.json, false): Console.out(document)
        case (.table, true): Console.out(PlanPermissions(plan: plan).table())
        case (.json, true): Console.out(PlanPermissions(plan: plan).jsonBytes())
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
