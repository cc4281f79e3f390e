import ComplianceStore
import Foundation
import Testing

@Suite("migrations")
struct MigrationTests {
    @Test("an empty file is migrated to the current schema, and re-opening it changes nothing")
    func emptyToCurrent() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.sqlite").path
        let db = try Database(path: path)
        #expect(try db.scalarInt("PRAGMA user_version") == 0)
        let first = try Migrator.migrate(db, to: Schema.migrations)
        #expect(first == MigrationOutcome(from: 0, to: Schema.currentVersion))
        for table in [
            "runs", "clusters", "assignments", "rules", "details", "intervals", "strict_intervals",
            "operations", "lease",
        ] {
            #expect(
                try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '\(table)'") == 1)
        }
        let again = try Migrator.migrate(db, to: Schema.migrations)
        #expect(!again.changed)
        #expect(try db.scalarInt("PRAGMA user_version") == Int64(Schema.currentVersion))
        try db.statement("PRAGMA journal_mode").query { #expect($0.text(0) == "wal") }
    }

    @Test("a database from a newer fluxfleet is refused, naming both versions and what to do, and left untouched")
    func newerRefused() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("new.sqlite").path
        do {
            let db = try Database(path: path)
            try db.execute("CREATE TABLE future (x); PRAGMA user_version = 99")
        }
        for access in [ComplianceStore.Access.read, .write(Fixture.lease())] {
            #expect {
                _ = try ComplianceStore(path: path, access: access)
            } throws: { error in
                let text = "\(error)"
                guard case .newerSchema(99, Schema.currentVersion, path) = error as? StoreError else { return false }
                return text.contains("version 99") && text.contains("up to version \(Schema.currentVersion)")
                    && text.contains("newer fluxfleet")
            }
        }
        let db = try Database(path: path)
        #expect(try db.scalarInt("PRAGMA user_version") == 99)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'runs'") == 0)
    }

    @Test("reading an older database asks for `db migrate`; a writer upgrades it in place, keeping its data")
    func olderUpgradedInPlace() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.sqlite").path
        // A two-step history: version 1 holds data, version 2 adds a column with a default.
        let v1 = Migration(version: 1, summary: "t", sql: "CREATE TABLE t (x INTEGER NOT NULL)")
        let v2 = Migration(version: 2, summary: "t.y", sql: "ALTER TABLE t ADD COLUMN y TEXT NOT NULL DEFAULT 'none'")
        do {
            let db = try Database(path: path)
            try Migrator.migrate(db, to: [v1])
            try db.execute("INSERT INTO t (x) VALUES (7)")
        }
        let db = try Database(path: path)
        let outcome = try Migrator.migrate(db, to: [v1, v2])
        #expect(outcome == MigrationOutcome(from: 1, to: 2))
        try db.statement("SELECT x, y FROM t").query { row in
            #expect(row.int64(0) == 7)
            #expect(row.text(1) == "none")
        }
        // The store's own open: a schema-0 file with tables of its own is older, not newer.
        let older = dir.appendingPathComponent("older.sqlite").path
        do { _ = try Database(path: older) }
        #expect {
            _ = try ComplianceStore(path: older, access: .read)
        } throws: { error in
            guard case .olderSchema(0, Schema.currentVersion, _) = error as? StoreError else { return false }
            return "\(error)".contains("fluxfleet db migrate")
        }
        let store = try Fixture.writer(older)
        #expect(try store.schemaVersion() == Schema.currentVersion)
        #expect(try store.migrate() == MigrationOutcome(from: 0, to: Schema.currentVersion))
        #expect(throws: StoreError.self) { _ = try ComplianceStore(path: older, access: .read).migrate() }
    }

    @Test("a failing step leaves the database at the version it had, with nothing half-applied")
    func failingStepRollsBack() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Database(path: dir.appendingPathComponent("fail.sqlite").path)
        let v1 = Migration(version: 1, summary: "t", sql: "CREATE TABLE t (x)")
        let v2 = Migration(version: 2, summary: "u", sql: "CREATE TABLE u (x)")
        let v3 = Migration(version: 3, summary: "broken", sql: "CREATE TABLE v (x); ALTER TABLE missing ADD y")
        try Migrator.migrate(db, to: [v1])
        #expect(throws: SQLiteError.self) { try Migrator.migrate(db, to: [v1, v2, v3]) }
        #expect(try db.scalarInt("PRAGMA user_version") == 1)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name IN ('u', 'v')") == 0)
    }
}
