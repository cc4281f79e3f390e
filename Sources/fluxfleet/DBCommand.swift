import ArgumentParser
import ComplianceStore
import FleetCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fluxfleet db`: look after the compliance history database.
struct DBCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Check, prune or migrate the SQLite compliance history.",
        discussion: """
            The history is one SQLite file (default ./fluxfleet.sqlite, or $FLUXFLEET_DB, or \
            --db), mode 0600, in WAL mode. Every scan adds a run; compliance is stored as state \
            intervals, so a scan of an unchanged fleet adds one row. Only one run writes at a \
            time: a writer holds a lease (holder, pid, host, heartbeat) and a second one exits 73 \
            naming it; a lease whose process is gone, or without a heartbeat for 10 minutes, is \
            taken over with a warning.
            """,
        subcommands: [DBCheckCommand.self, DBPruneCommand.self, DBMigrateCommand.self]
    )
}

/// `fluxfleet db check`.
struct DBCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the database's integrity and list its latest runs.",
        discussion: """
            Runs SQLite's integrity_check and foreign_key_check, then FluxFleet's own invariants \
            (at most one open interval per cluster × assignment × policy × resource, intervals \
            that end after they start, no open interval on a removed cluster, no interval from a \
            scan that did not finish), and lists the latest runs and the writer lease. Reads only: \
            safe while another run writes.

            Exit codes: 0 sound; 65 problems found (each is printed; restore the file from a \
            backup, or start a new history with another --db); 64 no database at --db.
            """
    )

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: ArgumentHelp("How many of the latest runs to list.", valueName: "n"))
    var runs = 10

    func run() throws {
        let opened = try store.openForReading()
        do {
            let check = try opened.check()
            Console.out(check.text(path: store.path, runs: try opened.runs(), limit: max(0, runs)))
            if !check.ok {
                Console.error(
                    "\(store.path) failed the check with \(check.problems.count) problem(s) — restore it from a backup, or start a new history with another --db"
                )
                throw ExitStatus.dataError.code
            }
        } catch let error as StoreError {
            throw report(error)
        }
    }
}

/// `fluxfleet db prune`.
struct DBPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete history older than a retention period, keeping the current state.",
        discussion: """
            Deletes the state intervals that ended before the cutoff (now minus --older-than), then \
            the runs before it that nothing left refers to, the reason texts no interval uses and \
            removed clusters with no history left. The current state of every subject is kept, and \
            so is the run where it began, so "since when" stays answerable; the latest run is never \
            deleted. One transaction: an interruption deletes nothing. Takes the writer lease.

            Exit codes: 0 pruned; 64 bad --older-than or no database; 73 another run holds the lease.

            Examples:
              fluxfleet db prune --older-than 400d
              fluxfleet db prune --older-than 26w --vacuum --db history.sqlite
            """
    )

    @OptionGroup var store: StoreOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The retention: a number and a unit, s, m, h, d or w (400d keeps 400 days).", valueName: "age"))
    var olderThan: String

    @Flag(name: .long, help: "Rewrite the file afterwards to give the freed space back to the system.")
    var vacuum = false

    @Option(
        name: .long,
        help: ArgumentHelp("The time the retention counts back from, ISO 8601 UTC (default: now).", valueName: "time"))
    var now: String?

    func validate() throws {
        if StoreDuration(olderThan) == nil {
            throw ValidationError("--older-than '\(olderThan)' is not a duration like 400d, 12h or 26w")
        }
        if let now, StoreTime.epoch(now) == nil {
            throw ValidationError("--now '\(now)' is not an ISO 8601 time like 2026-11-21T18:00:00Z")
        }
    }

    func run() throws {
        guard access(store.path, F_OK) == 0 else { throw report(StoreError.missing(path: store.path)) }
        let opened = try store.openForWriting(holder: "fluxfleet db prune")
        let age = StoreDuration(olderThan)!
        let reference = now.flatMap(StoreTime.epoch) ?? Int64(time(nil))
        do {
            let outcome = try opened.prune(olderThan: age, now: reference, vacuum: vacuum)
            Console.out(
                "pruned \(store.path) before \(outcome.cutoff): \(outcome.runs) run(s), \(outcome.intervals) interval(s), "
                    + "\(outcome.details) reason text(s), \(outcome.clusters) removed cluster(s)\(vacuum ? "; vacuumed" : "")\n"
            )
        } catch {
            throw report(error)
        }
    }
}

/// `fluxfleet db migrate`.
struct DBMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Upgrade the database to this fluxfleet's schema, in place.",
        discussion: """
            Applies every pending schema step in one transaction (an interruption leaves the \
            database as it was). Scans migrate by themselves; this is for read-only commands \
            (history, reports, db check), which refuse an older schema. A database written by a \
            newer fluxfleet is refused and left untouched. Takes the writer lease.

            Exit codes: 0 migrated or already current; 64 no database at --db; 65 a database from \
            a newer fluxfleet; 73 another run holds the lease.
            """
    )

    @OptionGroup var store: StoreOptions

    func run() throws {
        guard access(store.path, F_OK) == 0 else { throw report(StoreError.missing(path: store.path)) }
        let opened = try store.openForWriting(holder: "fluxfleet db migrate")
        let outcome: MigrationOutcome
        do {
            outcome = try opened.migrate()
        } catch {
            throw report(error)
        }
        if outcome.changed {
            Console.out("migrated \(store.path) from schema version \(outcome.from) to \(outcome.to)\n")
        } else {
            Console.out("\(store.path) is already at schema version \(outcome.to)\n")
        }
    }
}
