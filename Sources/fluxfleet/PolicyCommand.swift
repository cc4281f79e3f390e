import ArgumentParser
import FleetCore
import Foundation
import PolicyEngine

/// `fluxfleet policy`: work with the policy documents.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Validate policy documents and explain their results.",
        subcommands: [PolicyValidateCommand.self, PolicyExplainCommand.self]
    )
}

/// `fluxfleet policy validate [DIR]`: every problem at once.
struct PolicyValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check every policy document and report every problem at once (exit 65 if any).",
        discussion: """
            Reports, with file and JSON path: malformed JSON, missing members, unknown parameter types, \
            defaults outside allowedValues, expressions that do not parse or call unknown functions, \
            references to undeclared parameters, unknown aliases, unknown definitions, assignments \
            missing required parameters, exemptions naming unknown assignments or references — with \
            near-miss suggestions.
            """
    )

    @Argument(help: ArgumentHelp("The policies directory.", valueName: "dir"))
    var directory: String = "policies"

    func run() throws {
        guard FileManager.default.fileExists(atPath: directory) else {
            Console.error("cannot read policies directory '\(directory)': No such file or directory")
            throw ExitStatus.usage.code
        }
        let loaded = PolicyLoader.load(directory: directory, aliasValidator: AliasCatalog.isKnown)
        for diagnostic in loaded.diagnostics { Console.out("\(diagnostic)\n") }
        let errors = loaded.diagnostics.filter { $0.severity == .error }.count
        let b = loaded.bundle
        Console.out(
            "\(directory): \(b.definitions.count) definitions, \(b.initiatives.count) initiatives, \(b.assignments.count) assignments, \(b.exemptions.count) exemptions — \(errors == 0 ? "valid" : "\(errors) error(s)")\n"
        )
        if errors > 0 { throw ExitStatus.dataError.code }
    }
}

/// `fluxfleet policy explain`: one cluster's evaluation, leaf by leaf.
struct PolicyExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show how every assignment evaluates on one cluster, with actual and target values per condition.",
        discussion: """
            Like Azure's "determine non-compliance", for every result: the effect, the state, and each \
            condition that decided it (expression, JSON path, actual value, operator, target value), \
            then the strict view of the cluster's Flux resources.
            """
    )

    @OptionGroup var inputs: PolicyInputs

    @Option(name: .long, help: ArgumentHelp("The cluster: its ARM id or its name.", valueName: "id"))
    var cluster: String

    func run() throws {
        let now = try inputs.evaluationTime()
        let (inventory, bundle, _) = try inputs.load(withDigest: false)
        let matches = inventory.fleet.clusters.filter {
            ASCII.equalsIgnoringCase($0.id.description, cluster) || ASCII.equalsIgnoringCase($0.name, cluster)
        }
        guard let target = matches.first else {
            Console.error(
                "no cluster '\(cluster)' in \(inputs.inventoryLabel) — pass its ARM id or name (see `fluxfleet inventory`)"
            )
            throw ExitStatus.usage.code
        }
        if matches.count > 1 {
            Console.error("'\(cluster)' names \(matches.count) clusters; pass the full ARM id")
            throw ExitStatus.usage.code
        }
        let single = Fleet(clusters: [target], findings: [])
        let scan = PolicyEvaluator.scan(
            fleet: single, bundle: bundle, options: ScanOptions(now: now, parallelism: 1, explain: true))
        Console.out(PolicyExplanation(scan: scan, cluster: target).text())
    }
}
