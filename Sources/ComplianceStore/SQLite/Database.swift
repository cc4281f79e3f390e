import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One SQLite connection: open flags, pragmas, cached prepared statements and transactions.
///
/// Not thread-safe: use a connection from one thread at a time (SQLite itself is built
/// serialized, so separate connections in separate threads are fine). Statements prepared through
/// ``statement(_:)`` are cached by their SQL text and reused, so a loop inside a transaction
/// prepares each statement once.
public final class Database {
    /// The database file.
    public let path: String
    let handle: OpaquePointer
    private var cache: [String: Statement] = [:]
    private var transactionDepth = 0

    /// How a connection opens its file.
    public enum OpenMode: Sendable {
        /// Read and write; create the file (mode 0600) when it does not exist.
        case create
        /// Read and write an existing file.
        case readWrite
        /// Read only (the file must exist).
        case readOnly
    }

    /// Opens (or creates) a database.
    ///
    /// A new file is created here with mode 0600 before SQLite opens it, whatever the umask, so
    /// that the database never exists readable by others; SQLite gives its `-wal` and `-shm`
    /// files the same mode. The connection is set up with WAL journaling (except read-only),
    /// `synchronous = NORMAL` (durable against process crashes; the last commits may be lost on
    /// power loss), foreign keys on and a busy timeout.
    ///
    /// - Parameters:
    ///   - path: The database file.
    ///   - mode: Whether to create it, write it or only read it.
    ///   - busyTimeoutMilliseconds: How long a statement waits for another connection's lock.
    /// - Throws: ``SQLiteError`` when the file cannot be created or opened, or is not a database.
    public init(path: String, mode: OpenMode = .create, busyTimeoutMilliseconds: Int32 = 5000) throws(SQLiteError) {
        self.path = path
        if case .create = mode { try Self.createPrivateFile(path) }
        var db: OpaquePointer?
        let flags: Int32
        switch mode {
        case .create, .readWrite: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        case .readOnly: flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
        }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: "\(message) (\(path))", sql: nil)
        }
        self.handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        var enabled: Int32 = 0
        _ = fluxfleet_sqlite3_db_config_bool(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, &enabled)
        _ = fluxfleet_sqlite3_db_config_bool(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &enabled)
        do {
            // Reading the schema here makes a file that is not a database fail now, with its path.
            _ = try scalarInt("PRAGMA user_version")
            if case .readOnly = mode {
                try execute("PRAGMA foreign_keys = ON")
            } else {
                try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
            }
            try execute("PRAGMA temp_store = MEMORY")
        } catch {
            cache.removeAll()
            sqlite3_close_v2(db)
            throw SQLiteError(code: error.code, message: "\(error.message) (\(path))", sql: error.sql)
        }
    }

    deinit {
        cache.removeAll()  // finalizes every statement before the connection closes
        sqlite3_close_v2(handle)
    }

    /// Creates `path` with mode 0600 if it does not exist (the mode is set explicitly, so the umask
    /// cannot widen or narrow it).
    static func createPrivateFile(_ path: String) throws(SQLiteError) {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            let err = errno
            if err == EEXIST { return }
            throw SQLiteError(
                code: SQLITE_CANTOPEN,
                message: "cannot create \(path): \(String(cString: strerror(err)))", sql: nil)
        }
        defer { close(fd) }
        if fchmod(fd, 0o600) != 0 {
            let err = errno
            throw SQLiteError(
                code: SQLITE_CANTOPEN, message: "cannot set mode 0600 on \(path): \(String(cString: strerror(err)))",
                sql: nil)
        }
    }

    // MARK: - Statements

    /// Runs one or more statements without parameters (schema changes, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// The prepared statement for `sql`, from the cache (prepared on first use), reset and unbound.
    public func statement(_ sql: String) throws(SQLiteError) -> Statement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        let statement = try Statement(database: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// The first column of the first row of a query as an integer (0 when there is no row).
    public func scalarInt(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try statement(sql)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : 0
    }

    /// The number of rows the last INSERT, UPDATE or DELETE changed.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// The rowid of the last INSERT.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Whether a transaction is open on this connection.
    public var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: - Transactions

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// `BEGIN IMMEDIATE` takes the write lock at once (waiting up to the busy timeout), so two
    /// writers never deadlock upgrading a read lock. Nested calls join the outer transaction.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body()
        }
        try execute("BEGIN IMMEDIATE")
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if inTransaction { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// The SQLite library version, such as `3.40.1`.
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
