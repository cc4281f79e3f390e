import ArgumentParser
import ComplianceStore
import FleetCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `--db` option shared by every command that reads or writes the compliance history.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The SQLite compliance history (default: $FLUXFLEET_DB, else ./fluxfleet.sqlite).", valueName: "path"))
    var db: String?

    /// The database path: `--db`, else `FLUXFLEET_DB`, else `fluxfleet.sqlite`.
    var path: String {
        if let db { return db }
        if let env = getenv("FLUXFLEET_DB"), env.pointee != 0 { return String(cString: env) }
        return "fluxfleet.sqlite"
    }

    /// Opens the store for reading, or exits with the documented code.
    func openForReading() throws -> ComplianceStore {
        do {
            return try ComplianceStore(path: path, access: .read)
        } catch {
            throw report(error)
        }
    }

    /// Opens the store for writing under the writer lease, or exits with the documented code.
    ///
    /// `holder` names this run in the lease; exit 73 when another run holds it. Warnings go to stderr.
    func openForWriting(holder: String) throws -> ComplianceStore {
        do {
            let store = try ComplianceStore(path: path, access: .write(LeaseRequest(holder: holder)))
            for warning in store.warnings { Console.warning(warning) }
            return store
        } catch {
            throw report(error)
        }
    }
}

/// The output formats of `fluxfleet history`.
enum HistoryOutput: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// `fluxfleet history`: one cluster's compliance timeline across the recorded runs.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show one cluster's compliance timeline across every recorded run.",
        discussion: """
            Reads the compliance history that `fluxfleet scan` records (see --db) and prints, for \
            each assignment and policy that evaluated the cluster, the periods during which the \
            result kept one state: from the run that first found it to the run that found it \
            changed ("now" while it still holds), with the reasons of that period. The strict \
            view's periods (spec drift, Flux runtime health) follow. The cluster's facts are the \
            latest recorded; a cluster missing from later scans shows when it was last seen.

            CLUSTER is an ARM id (compared ignoring case) or a cluster name, when only one cluster \
            of the history has it.

            Exit codes: 0 shown; 64 no database at --db, or no such cluster (or an ambiguous name: \
            the ids to use are listed); 65 a database from a newer fluxfleet.

            Examples:
              fluxfleet history aks-legacy-spn
              fluxfleet history /subscriptions/…/managedClusters/aks-prod-weu-01 --output json
            """
    )

    @Argument(help: ArgumentHelp("The cluster: its ARM id or its name.", valueName: "cluster"))
    var cluster: String

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "Output format: table or json.")
    var output: HistoryOutput = .table

    func run() throws {
        let opened = try store.openForReading()
        let history: ClusterHistory
        do {
            history = try opened.history(cluster: cluster)
        } catch {
            throw report(error)
        }
        let report = HistoryReport(history: history)
        switch output {
        case .table: Console.out(report.table())
        case .json: Console.out(report.jsonBytes())
        }
    }
}
