import ArgumentParser
import FleetCore

/// The output formats of `fluxfleet inventory`.
enum InventoryOutput: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
    case csv
}

/// `fluxfleet inventory`: what the fleet looks like and which clusters can take the baseline.
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "List every cluster with its kind, location, tags, Flux resources and eligibility.",
        discussion: """
            Reads a snapshot — a file or a directory of files, each a JSON array of ARM resources, \
            a Resource Graph response ({"data": [...]} or the `az graph query` shape), an ARM list \
            ({"value": [...]}) or NDJSON — and attaches each cluster's microsoft.flux extension, \
            Flux configurations and Flux v1 configurations by id (ignoring case, in any order).

            Eligibility comes from one rule table with stable reason codes: blocked (a person must \
            fix it: aksServicePrincipal, fluxV1Present, arcExpired, …), deferred (a later run \
            retries: aksStopped, arcOffline, clusterBusy, …) or eligible, with advisories when the \
            extension needs repair or an upgrade. Every reason comes with its remedy.

            Examples:
              fluxfleet inventory --inventory fleet-examples/demo
              fluxfleet inventory --inventory fleet.ndjson --output json | jq '.summary'
            """
    )

    @Option(name: .long, help: ArgumentHelp("The snapshot: a file or a directory of files.", valueName: "path"))
    var inventory: String

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: InventoryOutput = .table

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
    }

    func run() throws {
        var catalog = FluxVersionCatalog.builtIn
        if let fluxLatest, let version = SemanticVersion(fluxLatest) { catalog = catalog.with(latest: version) }
        let loaded: Inventory
        do {
            loaded = try SnapshotReader.load(path: inventory)
        } catch {
            throw report(error)
        }
        let report = InventoryReport(inventory: loaded, catalog: catalog)
        switch output {
        case .table: Console.out(report.table())
        case .json: Console.out(report.jsonBytes())
        case .csv: Console.out(report.csv())
        }
    }
}
