import CSQLite
import FleetCore

/// A value bound to a statement parameter or read from a column.
public enum SQLValue: Sendable, Hashable {
    /// NULL.
    case null
    /// An integer.
    case integer(Int64)
    /// A floating-point number.
    case real(Double)
    /// UTF-8 text.
    case text(String)
}

/// A prepared statement with typed bind, step and column helpers.
///
/// Get one from ``Database/statement(_:)`` (cached and reused). Parameters are numbered from 1,
/// columns from 0, as in SQLite.
public final class Statement {
    /// The SQL text (used in error messages; bound values never are).
    public let sql: String
    private let handle: OpaquePointer
    private let db: OpaquePointer

    init(database: Database, sql: String) throws(SQLiteError) {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(database.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw SQLiteError(
                code: sqlite3_extended_errcode(database.handle),
                message: String(cString: sqlite3_errmsg(database.handle)),
                sql: sql)
        }
        self.sql = sql
        self.handle = statement
        self.db = database.handle
    }

    deinit { sqlite3_finalize(handle) }

    private func error() -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(db), message: String(cString: sqlite3_errmsg(db)), sql: sql)
    }

    /// Resets the statement and clears its bindings, so it can run again.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    // MARK: - Binding

    /// Binds an integer to parameter `index`.
    public func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Binds an integer to parameter `index`.
    public func bind(_ index: Int32, _ value: Int) {
        sqlite3_bind_int64(handle, index, Int64(value))
    }

    /// Binds a Boolean (as 0 or 1) to parameter `index`.
    public func bind(_ index: Int32, _ value: Bool) {
        sqlite3_bind_int64(handle, index, value ? 1 : 0)
    }

    /// Binds a double to parameter `index`.
    public func bind(_ index: Int32, _ value: Double) {
        sqlite3_bind_double(handle, index, value)
    }

    /// Binds text to parameter `index` (SQLite copies it).
    public func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { bytes in
            if let base = bytes.baseAddress {
                base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    _ = sqlite3_bind_text(handle, index, $0, Int32(bytes.count), fluxfleet_sqlite3_transient())
                }
            } else {
                _ = sqlite3_bind_text(handle, index, "", 0, fluxfleet_sqlite3_transient())
            }
        }
    }

    /// Binds UTF-8 bytes as text without copying them.
    ///
    /// SQLite reads the bytes when the statement runs (`SQLITE_STATIC`): they must stay valid and
    /// unchanged until the statement has run and is reset or bound again. For text held in a buffer
    /// that outlives the run, such as a block of cluster facts; empty bytes are copied (as `""`).
    func bind(_ index: Int32, unownedText bytes: UnsafeBufferPointer<UInt8>) {
        if let base = bytes.baseAddress, !bytes.isEmpty {
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                _ = sqlite3_bind_text(handle, index, $0, Int32(bytes.count), nil)
            }
        } else {
            _ = sqlite3_bind_text(handle, index, "", 0, fluxfleet_sqlite3_transient())
        }
    }

    /// Binds NULL to parameter `index`.
    func bindNull(_ index: Int32) {
        sqlite3_bind_null(handle, index)
    }

    /// Binds text, or NULL when `value` is nil.
    public func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds an integer, or NULL when `value` is nil.
    public func bind(_ index: Int32, _ value: Int64?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds bytes as a BLOB to parameter `index` (SQLite copies them; an empty array is a zero-length BLOB).
    public func bind(_ index: Int32, blob value: [UInt8]) {
        value.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress, !bytes.isEmpty {
                _ = sqlite3_bind_blob(handle, index, base, Int32(bytes.count), fluxfleet_sqlite3_transient())
            } else {
                _ = sqlite3_bind_zeroblob(handle, index, 0)
            }
        }
    }

    /// Binds any ``SQLValue``.
    public func bind(_ index: Int32, _ value: SQLValue) {
        switch value {
        case .null: sqlite3_bind_null(handle, index)
        case .integer(let v): bind(index, v)
        case .real(let v): bind(index, v)
        case .text(let v): bind(index, v)
        }
    }

    // MARK: - Running

    /// Advances to the next row: true when a row is available, false when the statement is done.
    ///
    /// - Throws: ``SQLiteError`` with the SQL (not the bound values) and SQLite's message.
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = error()
            sqlite3_reset(handle)
            throw failure
        }
    }

    /// Binds `values` to parameters 1…n, runs the statement to completion and resets it.
    public func run(_ values: SQLValue...) throws(SQLiteError) {
        reset()
        for (i, value) in values.enumerated() { bind(Int32(i + 1), value) }
        try execute()
    }

    /// Runs the statement with its current bindings to completion, then resets it (bindings stay).
    public func execute() throws(SQLiteError) {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    /// Binds `values` to parameters 1…n and calls `row` for each result row.
    public func query(_ values: SQLValue..., row: (Statement) throws -> Void) throws {
        reset()
        for (i, value) in values.enumerated() { bind(Int32(i + 1), value) }
        defer { sqlite3_reset(handle) }
        while try step() { try row(self) }
    }

    // MARK: - Columns

    /// Whether column `index` of the current row is NULL.
    public func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` as an integer (0 for NULL).
    public func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// Column `index` as an Int (0 for NULL).
    public func int(_ index: Int32) -> Int { Int(sqlite3_column_int64(handle, index)) }

    /// Column `index` as an integer, nil for NULL.
    public func optionalInt64(_ index: Int32) -> Int64? { isNull(index) ? nil : int64(index) }

    /// Column `index` as a double (0 for NULL).
    public func double(_ index: Int32) -> Double { sqlite3_column_double(handle, index) }

    /// Column `index` as text ("" for NULL).
    public func text(_ index: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    /// Calls `body` with the bytes of text column `index` (empty for NULL), valid only inside `body`.
    func withText<R>(_ index: Int32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let bytes = sqlite3_column_text(handle, index) else {
            return body(UnsafeBufferPointer(start: nil, count: 0))
        }
        return body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, index))))
    }

    /// Column `index` as text with ASCII letters lowercased ("" for NULL), in one copy.
    public func lowercasedText(_ index: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        let text = String(unsafeUninitializedCapacity: count) { out in
            for k in 0..<count {
                let c = bytes[k]
                out[k] = (c &- UInt8(ascii: "A")) < 26 ? c | 0x20 : c
            }
            return count
        }
        // Invalid UTF-8 is repaired the way text(_:) repairs it.
        return text.utf8.count == count ? text : ASCII.lowercased(self.text(index))
    }

    /// Column `index` as bytes (empty for NULL): a BLOB as stored, text as its UTF-8.
    public func blob(_ index: Int32) -> [UInt8] {
        guard let bytes = sqlite3_column_blob(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Column `index` as text, nil for NULL.
    public func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }

    /// Column `index` as an ``SQLValue``.
    public func value(_ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL: .null
        case SQLITE_INTEGER: .integer(int64(index))
        case SQLITE_FLOAT: .real(double(index))
        default: .text(text(index))
        }
    }

    /// The number of columns in a result row.
    public var columnCount: Int32 { sqlite3_column_count(handle) }
}
