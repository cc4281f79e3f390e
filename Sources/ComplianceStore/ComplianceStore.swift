import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Who asks for the writer lease, and when a lease left by someone else counts as abandoned.
public struct LeaseRequest: Sendable {
    /// What the writer is doing, such as `fluxfleet scan`.
    public var holder: String
    /// This process's id.
    public var pid: Int64
    /// This host's name.
    public var host: String
    /// A lease whose heartbeat is older than this is stale and taken over.
    public var staleAfterSeconds: Int64
    /// The wall clock, in seconds since 1970.
    public var clock: @Sendable () -> Int64
    /// Whether a process of this host is alive (a dead holder's lease is taken over at once).
    public var isAlive: @Sendable (Int64) -> Bool

    /// Creates a request; the defaults describe this process on this host.
    public init(
        holder: String, pid: Int64 = Int64(getpid()), host: String = LeaseRequest.hostName,
        staleAfterSeconds: Int64 = 600, clock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) },
        isAlive: @escaping @Sendable (Int64) -> Bool = LeaseRequest.processIsAlive
    ) {
        self.holder = holder
        self.pid = pid
        self.host = host
        self.staleAfterSeconds = staleAfterSeconds
        self.clock = clock
        self.isAlive = isAlive
    }

    /// This machine's host name.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether process `pid` exists (signal 0 probes without sending anything).
    public static func processIsAlive(_ pid: Int64) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
    }
}

/// The compliance store: one SQLite database holding runs, clusters, state intervals, the apply
/// journal and the writer lease.
///
/// Open it for reading (reports, history, `db check`) or for writing (scan, prune, migrate). A
/// writer migrates the schema and takes the single-writer lease first; a second writer gets
/// ``StoreError/locked(_:path:)``. Not thread-safe: one store per thread.
public final class ComplianceStore {
    /// The SQLite connection.
    public let database: Database
    /// The database file.
    public var path: String { database.path }
    /// Warnings for people, such as a stale lease taken over (the CLI prints them on stderr).
    public private(set) var warnings: [String] = []
    /// What opening for writing did to the schema (nil when opened for reading).
    public private(set) var migration: MigrationOutcome?
    private var leaseToken: String?
    private let lease: LeaseRequest?
    private var lastHeartbeat: Int64 = 0
    /// Runs this store began (``beginRun(_:)``, ``beginResume(of:startedAt:)``): never stale.
    var begunRuns: Set<Int64> = []

    /// How a store is opened.
    public enum Access: Sendable {
        /// Read only: the database must exist and have the current schema.
        case read
        /// Read and write under the writer lease: the file is created if needed and migrated.
        case write(LeaseRequest)
    }

    /// Opens the store at `path`.
    ///
    /// - Throws: ``StoreError``: `.missing` (reading a file that does not exist), `.notADatabase`,
    ///   `.newerSchema`, `.olderSchema` (reading an old database: migrate first), `.locked` (another
    ///   writer holds the lease), `.sqlite` for anything else.
    public init(path: String, access: Access) throws(StoreError) {
        do {
            switch access {
            case .read:
                guard Self.fileExists(path) else { throw StoreError.missing(path: path) }
                database = try Self.connect(path, .readWrite)
                lease = nil
                let version = Int(try database.scalarInt("PRAGMA user_version"))
                if version > Schema.currentVersion {
                    throw StoreError.newerSchema(found: version, supported: Schema.currentVersion, path: path)
                }
                if version < Schema.currentVersion {
                    throw StoreError.olderSchema(found: version, supported: Schema.currentVersion, path: path)
                }
            case .write(let request):
                database = try Self.connect(path, .create)
                lease = request
                migration = try Migrator.migrate(database, to: Schema.migrations)
                try acquireLease(request)
            }
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error, path: path)
        } catch {
            throw StoreError.sqlite(SQLiteError(code: SQLITE_ERROR, message: "\(error)", sql: nil), path: path)
        }
    }

    private static func connect(_ path: String, _ mode: Database.OpenMode) throws -> Database {
        do {
            return try Database(path: path, mode: mode)
        } catch {
            if error.primaryCode == SQLITE_NOTADB { throw StoreError.notADatabase(path: path) }
            throw StoreError.sqlite(error, path: path)
        }
    }

    private static func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    deinit { releaseLease() }

    /// Gives the writer lease back (also done when the store is released).
    public func close() { releaseLease() }

    /// Runs `body`, turning SQLite errors into ``StoreError/sqlite(_:path:)``.
    func guarded<T>(_ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw StoreError.sqlite(error, path: path)
        } catch {
            throw StoreError.sqlite(SQLiteError(code: SQLITE_ERROR, message: "\(error)", sql: nil), path: path)
        }
    }

    // MARK: - Lease

    /// The current lease holder, if any.
    public func leaseHolder() throws(StoreError) -> LeaseHolder? {
        try guarded {
            let statement = try database.statement(
                "SELECT holder, pid, host, acquired_epoch, heartbeat_epoch FROM lease WHERE id = 1")
            defer { statement.reset() }
            guard try statement.step() else { return nil }
            return LeaseHolder(
                holder: statement.text(0), pid: statement.int64(1), host: statement.text(2),
                acquiredAt: StoreTime.iso(statement.int64(3)), heartbeatAt: StoreTime.iso(statement.int64(4)))
        }
    }

    private func acquireLease(_ request: LeaseRequest) throws {
        let now = request.clock()
        var random = SystemRandomNumberGenerator()
        let token = "\(request.host):\(request.pid):\(String(random.next(), radix: 16))"
        // A plain read first: it never waits, even while the holder is inside a long write
        // transaction, so a second writer is told who holds the lease at once.
        if let holder = try leaseHolder(), let heartbeat = StoreTime.epoch(holder.heartbeatAt),
            holder.host != request.host || request.isAlive(holder.pid),
            now - heartbeat <= request.staleAfterSeconds
        {
            throw StoreError.locked(holder, path: path)
        }
        try database.transaction {
            let read = try database.statement(
                "SELECT holder, pid, host, acquired_epoch, heartbeat_epoch FROM lease WHERE id = 1")
            if try read.step() {
                let holder = LeaseHolder(
                    holder: read.text(0), pid: read.int64(1), host: read.text(2),
                    acquiredAt: StoreTime.iso(read.int64(3)), heartbeatAt: StoreTime.iso(read.int64(4)))
                let heartbeat = read.int64(4)
                read.reset()
                let sameHost = holder.host == request.host
                let dead = sameHost && !request.isAlive(holder.pid)
                let stale = now - heartbeat > request.staleAfterSeconds
                guard dead || stale else { throw StoreError.locked(holder, path: path) }
                let why =
                    dead
                    ? "its process is gone"
                    : "no heartbeat for \(StoreDuration(seconds: max(1, now - heartbeat))), more than \(StoreDuration(seconds: request.staleAfterSeconds))"
                warnings.append(
                    "\(path): taking over the lease of \(holder.holder) (pid \(holder.pid) on \(holder.host), since \(holder.acquiredAt)): \(why)"
                )
            }
            read.reset()
            try database.statement(
                """
                INSERT OR REPLACE INTO lease (id, token, holder, pid, host, acquired_epoch, heartbeat_epoch)
                VALUES (1, ?, ?, ?, ?, ?, ?)
                """
            ).run(
                .text(token), .text(request.holder), .integer(request.pid), .text(request.host), .integer(now),
                .integer(now))
        }
        leaseToken = token
        lastHeartbeat = now
    }

    /// Refreshes the lease's heartbeat (writers call it during long work; ``record(_:)`` does).
    public func heartbeat() throws(StoreError) {
        guard let token = leaseToken, let lease else { return }
        try guarded {
            try database.statement("UPDATE lease SET heartbeat_epoch = ? WHERE id = 1 AND token = ?").run(
                .integer(lease.clock()), .text(token))
        }
    }

    /// Whether the last heartbeat is at least `seconds` old on the lease's clock (the journal then
    /// refreshes it inside its write, so a long apply keeps its lease without extra commits).
    func heartbeatDue(every seconds: Int64) -> Bool {
        guard leaseToken != nil, let lease else { return false }
        return lease.clock() - lastHeartbeat >= seconds
    }

    /// Refreshes the heartbeat when ``heartbeatDue(every:)``.
    func heartbeatIfDue(every seconds: Int64) throws {
        guard let token = leaseToken, let lease else { return }
        let now = lease.clock()
        guard now - lastHeartbeat >= seconds else { return }
        try database.statement("UPDATE lease SET heartbeat_epoch = ? WHERE id = 1 AND token = ?").run(
            .integer(now), .text(token))
        lastHeartbeat = now
    }

    private func releaseLease() {
        guard let token = leaseToken else { return }
        leaseToken = nil
        if database.inTransaction { try? database.execute("ROLLBACK") }
        try? database.statement("DELETE FROM lease WHERE id = 1 AND token = ?").run(.text(token))
    }

    /// Whether this store holds the writer lease.
    public var holdsLease: Bool { leaseToken != nil }

    /// Fails unless the store was opened for writing.
    func requireLease() throws(StoreError) {
        guard leaseToken != nil else {
            throw StoreError.sqlite(
                SQLiteError(code: SQLITE_READONLY, message: "the store was opened for reading", sql: nil), path: path)
        }
    }
}
