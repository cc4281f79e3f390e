/// Who holds the single-writer lease of a database.
public struct LeaseHolder: Sendable, Hashable {
    /// What the holder is doing, such as `fluxfleet scan`.
    public var holder: String
    /// Its process id.
    public var pid: Int64
    /// The host it runs on.
    public var host: String
    /// When it took the lease (ISO 8601 UTC).
    public var acquiredAt: String
    /// Its last heartbeat (ISO 8601 UTC).
    public var heartbeatAt: String

    /// Creates a holder description.
    public init(holder: String, pid: Int64, host: String, acquiredAt: String, heartbeatAt: String) {
        self.holder = holder
        self.pid = pid
        self.host = host
        self.acquiredAt = acquiredAt
        self.heartbeatAt = heartbeatAt
    }
}

/// Why the store could not do what was asked.
///
/// Every case says what, where and how to fix it.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// A SQLite call failed (the message names the SQL, never the bound values).
    case sqlite(SQLiteError, path: String)
    /// Another run holds the writer lease.
    case locked(LeaseHolder, path: String)
    /// The database was written by a newer FluxFleet.
    case newerSchema(found: Int, supported: Int, path: String)
    /// The database is older than this FluxFleet and was opened read-only.
    case olderSchema(found: Int, supported: Int, path: String)
    /// There is no database at the path.
    case missing(path: String)
    /// The file exists but is not a SQLite database.
    case notADatabase(path: String)
    /// The database holds no run yet.
    case noRuns(path: String)
    /// A run id that is not in the database.
    case unknownRun(Int64, path: String)
    /// No cluster matches the id or name.
    case unknownCluster(String, path: String)
    /// A cluster name that several clusters share.
    case ambiguousCluster(String, ids: [String], path: String)
    /// The plan was consumed before, by apply run `run` at `at` (ISO 8601 UTC): a plan is applied once.
    case planConsumed(String, run: Int64, at: String, path: String)
    /// A plan id that is not in the database.
    case unknownPlan(String, path: String)
    /// A run that cannot be resumed (not an apply or resume run, already resumed, or finished).
    case notResumable(Int64, reason: String, path: String)
    /// A journal entry for another run than the journal's (the Remediator was given another run id).
    case journalRunMismatch(entry: String, journal: Int64, path: String)

    /// The message for people.
    public var description: String {
        switch self {
        case .sqlite(let error, let path):
            if error.isBusy {
                return
                    "\(path): the database stayed busy (another process is writing it): \(error) — retry when the other run has finished"
            }
            if error.primaryCode == 14 {
                return "\(path): \(error) — check that the directory exists and is writable, or pass another --db"
            }
            return "\(path): \(error)"
        case .locked(let holder, let path):
            return
                "\(path) is locked by another run: \(holder.holder) (pid \(holder.pid) on \(holder.host), since \(holder.acquiredAt), last heartbeat \(holder.heartbeatAt)) — wait for it to finish, or pass another --db"
        case .newerSchema(let found, let supported, let path):
            return
                "\(path) has schema version \(found), but this fluxfleet supports up to version \(supported) — use a newer fluxfleet, or pass another --db"
        case .olderSchema(let found, let supported, let path):
            return
                "\(path) has schema version \(found), older than this fluxfleet's version \(supported) — run `fluxfleet db migrate --db \(path)` (or any scan) to upgrade it in place"
        case .missing(let path):
            return "no database at \(path) — run `fluxfleet scan --db \(path) …` first, or pass --db PATH"
        case .notADatabase(let path):
            return "\(path) is not a SQLite database — pass the fluxfleet database with --db PATH"
        case .noRuns(let path):
            return "\(path) holds no run yet — run `fluxfleet scan --db \(path) …` first"
        case .unknownRun(let id, let path):
            return "\(path) has no run \(id) — `fluxfleet db check --db \(path)` lists the runs it holds"
        case .unknownCluster(let cluster, let path):
            return "\(path) has no cluster '\(cluster)' — give an ARM id or a name as `fluxfleet inventory` prints it"
        case .ambiguousCluster(let name, let ids, let path):
            return
                "\(path) has \(ids.count) clusters named '\(name)' — give the ARM id, one of: \(ids.joined(separator: ", "))"
        case .planConsumed(let id, let run, let at, let path):
            return
                "plan \(id) was already applied by run \(run) at \(at) (\(path)) — a plan is applied once: run `fluxfleet plan` again for a new plan, or `fluxfleet resume` to finish run \(run)"
        case .unknownPlan(let id, let path):
            return
                "\(path) has no plan \(id) — record it first (`fluxfleet plan --db \(path) …`), or pass the right --db"
        case .notResumable(let run, let reason, let path):
            return
                "run \(run) in \(path) cannot be resumed: \(reason) — `fluxfleet db check --db \(path)` lists the runs"
        case .journalRunMismatch(let entry, let journal, let path):
            return
                "\(path): the apply journal of run \(journal) was given an entry of run '\(entry)' — pass the journal's run id to the Remediator (this is a FluxFleet bug: report it)"
        }
    }
}
