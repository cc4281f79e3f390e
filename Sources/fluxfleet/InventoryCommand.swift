import ArgumentParser
import AzureARM
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

            Without --inventory the fleet is read live from Azure Resource Graph: --subscription ID \
            (repeatable), --management-group ID or --resource-group NAME say where, --cloud and --auth \
            how to sign in (see `Running against Azure` in the README), --arm-endpoint URL points at \
            another endpoint such as `arm-emulator`. Pages follow $skipToken, subscriptions go in \
            batches, the quota headers are honoured. --save DIR writes what was read as a snapshot \
            directory that every other command can replay offline with --inventory DIR.

            Examples:
              fluxfleet inventory --inventory fleet-examples/demo
              fluxfleet inventory --inventory fleet.ndjson --output json | jq '.summary'
              fluxfleet inventory --subscription 0b1f6471-1bf0-4dda-aec3-cb9272f09590 --save snapshot/
              fluxfleet inventory --arm-endpoint http://127.0.0.1:8080 --save snapshot/
            """
    )

    @Option(name: .long, help: ArgumentHelp("The snapshot: a file or a directory of files.", valueName: "path"))
    var inventory: String?

    @OptionGroup(title: "Azure (without --inventory the fleet is read from Resource Graph)")
    var azure: AzureConnectionOptions

    @OptionGroup var scope: FleetScopeOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "With a Resource Graph read: save what was read as a snapshot directory (created; must hold no other inventory).",
            valueName: "dir"))
    var save: String?

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: InventoryOutput = .table

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The newest microsoft.flux version, for the N-2 support check (default: \(FluxVersionCatalog.builtIn.latest)).",
            valueName: "version"))
    var fluxLatest: String?

    func validate() throws {
        if (inventory == nil) == (isLive == false) {
            throw ValidationError(
                "give the fleet: --inventory PATH (a snapshot), or --subscription ID / --management-group ID "
                    + "(Azure's Resource Graph), or --arm-endpoint URL (an emulator's) — not both")
        }
        if save != nil && !isLive { throw ValidationError("--save writes a Resource Graph read: drop --inventory") }
        if let fluxLatest, SemanticVersion(fluxLatest) == nil {
            throw ValidationError("--flux-latest '\(fluxLatest)' is not a version like 1.19.5")
        }
    }

    /// Whether the fleet is read from Resource Graph: an endpoint or a scope given.
    var isLive: Bool { azure.armEndpoint != nil || scope.isGiven }

    func run() throws {
        var catalog = FluxVersionCatalog.builtIn
        if let fluxLatest, let version = SemanticVersion(fluxLatest) { catalog = catalog.with(latest: version) }
        let loaded: Inventory
        if isLive {
            let live = try PolicyInputs.readResourceGraph(try AzureConnection.open(azure), scope: scope.scope)
            if let save {
                do {
                    let files = try live.save(to: save)
                    Console.stderr("saved the snapshot to \(save): \(files.joined(separator: ", "))")
                } catch {
                    Console.error(error.description)
                    throw ExitCode(error.category.exitCode)
                }
            }
            loaded = live.inventory
        } else {
            do {
                loaded = try SnapshotReader.load(path: inventory ?? "")
            } catch {
                throw report(error)
            }
        }
        let report = InventoryReport(inventory: loaded, catalog: catalog)
        switch output {
        case .table: Console.out(report.table())
        case .json: Console.out(report.jsonBytes())
        case .csv: Console.out(report.csv())
        }
    }
}
