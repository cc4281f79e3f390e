/// One step of the schema history: the SQL that takes a database from `version - 1` to `version`.
public struct Migration: Sendable {
    /// The schema version after this step (`PRAGMA user_version`), counting from 1.
    public var version: Int
    /// What the step does, for people.
    public var summary: String
    /// The statements, run inside the migration's transaction.
    public var sql: String

    /// Creates a step.
    public init(version: Int, summary: String, sql: String) {
        self.version = version
        self.summary = summary
        self.sql = sql
    }
}

/// What ``Migrator/migrate(_:to:)`` did.
public struct MigrationOutcome: Sendable, Hashable {
    /// The schema version found (0 for a new, empty database).
    public var from: Int
    /// The schema version now.
    public var to: Int
    /// Whether anything was changed.
    public var changed: Bool { from != to }

    /// Creates an outcome.
    public init(from: Int, to: Int) {
        self.from = from
        self.to = to
    }
}

/// Applies migrations on `PRAGMA user_version`, all or nothing.
public enum Migrator {
    /// Upgrades `database` in place to the last step of `migrations` (ordered, versions 1, 2, …).
    ///
    /// Every pending step and the new `user_version` run in one `BEGIN IMMEDIATE` transaction:
    /// a failure (or a crash) leaves the database at the version it had. Foreign keys are
    /// enforced by a full `foreign_key_check` before the commit rather than per statement, so a
    /// step may rebuild a table that others reference.
    ///
    /// - Throws: ``StoreError/newerSchema(found:supported:path:)`` when the database comes from a
    ///   newer FluxFleet (it is left untouched), or the SQLite error of a failed step.
    @discardableResult
    public static func migrate(_ database: Database, to migrations: [Migration]) throws -> MigrationOutcome {
        precondition(
            migrations.enumerated().allSatisfy { $0.element.version == $0.offset + 1 }, "migrations must be 1, 2, …")
        let latest = migrations.last?.version ?? 0
        // A quick read first: an up-to-date database (the usual case) takes no write lock.
        let found = Int(try database.scalarInt("PRAGMA user_version"))
        if found > latest { throw StoreError.newerSchema(found: found, supported: latest, path: database.path) }
        if found == latest { return MigrationOutcome(from: found, to: found) }
        // A step may rebuild a table that others reference (SQLite's ALTER TABLE procedure: create the
        // new table, copy, drop the old one, rename). Foreign keys are off while it runs (the pragma
        // is a no-op inside a transaction, hence here) and checked in full before the commit.
        try database.execute("PRAGMA foreign_keys = OFF")
        defer { try? database.execute("PRAGMA foreign_keys = ON") }
        return try database.transaction {
            // Re-read under the write lock: another process may have migrated meanwhile.
            let current = Int(try database.scalarInt("PRAGMA user_version"))
            if current > latest {
                throw StoreError.newerSchema(found: current, supported: latest, path: database.path)
            }
            for step in migrations where step.version > current {
                try database.execute(step.sql)
            }
            var dangling: [String] = []
            try database.statement("PRAGMA foreign_key_check").query { row in
                dangling.append("row \(row.int64(1)) of \(row.text(0)) points to a missing row of \(row.text(2))")
            }
            if !dangling.isEmpty {
                throw SQLiteError(
                    code: 787,
                    message:
                        "migrating to schema version \(latest) would leave broken references (\(dangling.prefix(3).joined(separator: "; "))); the database was left at version \(current)",
                    sql: nil)
            }
            try database.execute("PRAGMA user_version = \(latest)")
            return MigrationOutcome(from: current, to: latest)
        }
    }
}
