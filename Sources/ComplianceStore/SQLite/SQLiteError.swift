import CSQLite

/// A failed SQLite call: the result code, SQLite's message and the SQL being run.
///
/// Bound values are never part of it: they may be inventory data (tags, URLs) that must not reach
/// a log. The description reads like GRDB's: `SQLite error 19 (constraint): NOT NULL constraint
/// failed: runs.kind — while executing: INSERT INTO runs …`.
public struct SQLiteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The extended result code (`SQLITE_CONSTRAINT_NOTNULL` is 1299; its primary code is 19).
    public var code: Int32
    /// SQLite's own message (`sqlite3_errmsg`).
    public var message: String
    /// The statement being prepared or run, if any (text only, never the values bound to it).
    public var sql: String?

    /// Creates an error.
    public init(code: Int32, message: String, sql: String?) {
        self.code = code
        self.message = message
        self.sql = sql
    }

    /// The primary result code (the low byte of the extended one).
    public var primaryCode: Int32 { code & 0xFF }

    /// Whether another connection held the lock past the busy timeout.
    public var isBusy: Bool { primaryCode == SQLITE_BUSY || primaryCode == SQLITE_LOCKED }

    /// SQLite's short name for the primary code (`constraint`, `busy`, …).
    public var codeName: String {
        String(cString: sqlite3_errstr(primaryCode)).lowercased()
    }

    /// `SQLite error CODE (name): message — while executing: SQL`.
    public var description: String {
        var text = "SQLite error \(primaryCode) (\(codeName)): \(message)"
        if let sql { text += " — while executing: \(sql)" }
        return text
    }
}
