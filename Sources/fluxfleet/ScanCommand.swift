import ArgumentParser
import FleetCore
import Foundation
import PolicyEngine

/// The output formats of `fluxfleet scan`.
enum ScanOutput: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// Inventory and policies options shared by scan and explain.
struct PolicyInputs: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The snapshot: a file or a directory of files.", valueName: "path"))
    var inventory: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Azure Policy documents (definitions/, initiatives/, assignments/, exemptions/).", valueName: "dir"))
    var policies: String = "policies"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The evaluation time, ISO 8601 UTC (default: now). Exemption expiry, utcNow() and staleness use it.",
            valueName: "time"))
    var now: String?

    /// The evaluation time as ISO 8601 UTC.
    func evaluationTime() throws -> String {
        if let now {
            guard ISO8601DateFormatter().date(from: now) != nil else {
                throw ValidationError("--now '\(now)' is not an ISO 8601 time like 2026-11-21T18:00:00Z")
            }
            return now
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    /// Loads the inventory and the policies, or exits with the documented code.
    func load() throws -> (Inventory, PolicyBundle) {
        let inventory: Inventory
        do {
            inventory = try SnapshotReader.load(path: self.inventory)
        } catch {
            throw report(error)
        }
        guard FileManager.default.fileExists(atPath: policies) else {
            Console.error(
                "cannot read policies directory '\(policies)': No such file or directory — pass --policies DIR (the layout: definitions/, initiatives/, assignments/, exemptions/)"
            )
            throw ExitStatus.usage.code
        }
        let loaded = PolicyLoader.load(directory: policies, aliasValidator: AliasCatalog.isKnown)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        for diagnostic in loaded.diagnostics { Console.stderr("\(diagnostic)") }
        if !errors.isEmpty {
            Console.error(
                "\(errors.count) problem(s) in '\(policies)'; run `fluxfleet policy validate \(policies)` for the list")
            throw ExitStatus.dataError.code
        }
        return (inventory, loaded.bundle)
    }
}

/// `fluxfleet scan`: evaluate the assignments over every cluster.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Evaluate Azure Policy assignments over every cluster: Azure's view and FluxFleet's strict view.",
        discussion: """
            Loads the policy documents (Azure's own JSON: definitions, initiatives, assignments, \
            exemptions) and evaluates every assignment over every cluster in scope, as Azure Policy \
            would: one result per evaluated resource × assignment × policy, Compliant, NonCompliant, \
            Exempt, Unknown or Error, with every failing condition (expression, path, actual, target, \
            operator). Beside it, the strict view compares each DeployIfNotExists desired resource \
            field by field with the observed one and reads Flux's own runtime state.

            Exit code 0 whatever is found, unless --fail-on-noncompliant (then 2 when anything is \
            NonCompliant or Error); 65 when the policy documents are invalid.
            """
    )

    @OptionGroup var inputs: PolicyInputs

    @Option(name: .long, help: "Output format: table or json.")
    var output: ScanOutput = .table

    @Flag(name: .long, help: "Exit 2 when any result is NonCompliant or Error.")
    var failOnNoncompliant = false

    func run() throws {
        let now = try inputs.evaluationTime()
        let (inventory, bundle) = try inputs.load()
        let scan = PolicyEvaluator.scan(fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: now))
        let report = ScanReport(
            scan: scan,
            run: ScanRun(
                inventory: inputs.inventory, policies: inputs.policies, policiesDigest: bundle.digest, evaluatedAt: now,
                clusters: inventory.fleet.clusters.count),
            fleet: inventory.fleet)
        switch output {
        case .table: Console.out(report.table())
        case .json: Console.out(report.jsonBytes())
        }
        // Every result counts here, not each resource's worst state: an Error under one assignment
        // must fail the run even if another assignment finds the resource Compliant.
        if failOnNoncompliant && scan.results.contains(where: { $0.state == .nonCompliant || $0.state == .error }) {
            throw ExitStatus.changes.code
        }
    }
}
