import ComplianceStore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@Suite("SQLite layer", .serialized)
struct DatabaseTests {
    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }

    @Test("a new database and its WAL files get mode 0600 whatever the umask", arguments: [0o000, 0o022, 0o277])
    func fileMode(umaskValue: Int) throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.sqlite").path
        let previous = umask(mode_t(umaskValue))
        defer { umask(previous) }
        let db = try Database(path: path)
        try db.execute("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
        #expect(try mode(path) == 0o600)
        #expect(try mode(path + "-wal") == 0o600)
        #expect(try mode(path + "-shm") == 0o600)
    }

    @Test("an error names the SQL and SQLite's message, never the bound values")
    func errorHidesValues() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Database(path: dir.appendingPathComponent("e.sqlite").path)
        try db.execute("CREATE TABLE t (a TEXT NOT NULL UNIQUE, b TEXT NOT NULL)")
        let insert = "INSERT INTO t (a, b) VALUES (?, ?)"
        try db.statement(insert).run(.text("https://user:hunter2@example.com"), .text("x"))
        do {
            try db.statement(insert).run(.text("https://user:hunter2@example.com"), .text("y"))
            Issue.record("a duplicate insert succeeded")
        } catch {
            #expect(error.sql == insert)
            #expect(error.primaryCode == 19)
            #expect(error.description.contains("UNIQUE constraint failed: t.a"))
            #expect(error.description.contains(insert))
            #expect(!error.description.contains("hunter2"))
        }
        #expect(throws: SQLiteError.self) { _ = try db.statement("SELEC nonsense") }
    }

    @Test("prepared statements are cached per SQL text and reused")
    func statementCache() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Database(path: dir.appendingPathComponent("c.sqlite").path)
        try db.execute("CREATE TABLE t (x INTEGER)")
        let first = try db.statement("INSERT INTO t VALUES (?)")
        try db.transaction {
            for i in 0..<100 { try db.statement("INSERT INTO t VALUES (?)").run(.integer(Int64(i))) }
        }
        #expect(try db.statement("INSERT INTO t VALUES (?)") === first)
        #expect(try db.scalarInt("SELECT sum(x) FROM t") == 4950)
    }

    @Test("a transaction rolls back when its body throws, and commits when it returns")
    func transactions() throws {
        struct Boom: Error {}
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Database(path: dir.appendingPathComponent("t.sqlite").path)
        try db.execute("CREATE TABLE t (x INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.statement("INSERT INTO t VALUES (1)").execute()
                throw Boom()
            }
        }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 0)
        #expect(!db.inTransaction)
        try db.transaction { try db.statement("INSERT INTO t VALUES (2)").execute() }
        #expect(try db.scalarInt("SELECT count(*) FROM t") == 1)
    }

    @Test("typed binds and columns round-trip, including empty text and NULL")
    func bindRoundTrip() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Database(path: dir.appendingPathComponent("b.sqlite").path)
        try db.execute("CREATE TABLE t (a, b, c, d, e)")
        let insert = try db.statement("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
        insert.bind(1, "")
        insert.bind(2, "é✓")
        insert.bind(3, Int64.min)
        insert.bind(4, 2.5)
        insert.bind(5, nil as String?)
        try insert.execute()
        try db.statement("SELECT a, b, c, d, e FROM t").query { row in
            #expect(!row.isNull(0) && row.text(0) == "")
            #expect(row.text(1) == "é✓")
            #expect(row.int64(2) == Int64.min)
            #expect(row.double(3) == 2.5)
            #expect(row.optionalText(4) == nil)
            #expect(row.value(2) == .integer(Int64.min))
            #expect(row.lowercasedText(1) == "é✓" && row.lowercasedText(4) == "")
        }
        try db.statement("SELECT 'Sub/RG/Managed-Cluster_01É'").query { row in
            #expect(row.lowercasedText(0) == "sub/rg/managed-cluster_01É")  // ASCII letters only
        }
    }

    @Test("a file that is not a database is refused naming the file")
    func notADatabase() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("junk.sqlite").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ComplianceStore(path: path, access: .read)
        } throws: { error in
            guard case .notADatabase(let p) = error as? StoreError else { return false }
            return p == path && "\(error)".contains("not a SQLite database")
        }
    }
}

@Suite("times, durations, digests")
struct SupportTests {
    @Test("ISO 8601 times parse to epoch seconds and format back")
    func times() {
        #expect(StoreTime.epoch("1970-01-01T00:00:00Z") == 0)
        #expect(StoreTime.epoch("2026-11-21T18:00:00Z") == 1_795_284_000)
        #expect(StoreTime.epoch("2026-11-21T19:00:00.123+01:00") == 1_795_284_000)
        #expect(StoreTime.epoch("2026-11-21") == 1_795_219_200)
        #expect(StoreTime.epoch("yesterday") == nil)
        #expect(StoreTime.epoch("2026-13-01T00:00:00Z") == nil)
        #expect(StoreTime.iso(1_795_284_000) == "2026-11-21T18:00:00Z")
        #expect(StoreTime.iso(-1) == "1969-12-31T23:59:59Z")
    }

    @Test("durations read 400d, 12h, 2w and refuse the rest")
    func durations() {
        #expect(StoreDuration("400d") == StoreDuration(seconds: 34_560_000))
        #expect(StoreDuration("12h")?.seconds == 43_200)
        #expect(StoreDuration("2w")?.description == "2w")
        #expect(StoreDuration("90s")?.description == "90s")
        #expect(StoreDuration("0d") == nil)
        #expect(StoreDuration("d") == nil)
        #expect(StoreDuration("10y") == nil)
        #expect(StoreDuration("-5d") == nil)
    }

    @Test("--since reads a duration, a time or all")
    func windows() {
        #expect(ReportWindow(parsing: "30d") == .last(StoreDuration(seconds: 2_592_000)))
        #expect(ReportWindow(parsing: "2026-11-01") == .from("2026-11-01"))
        #expect(ReportWindow(parsing: "all") == .all)
        #expect(ReportWindow(parsing: "last month") == nil)
    }
}
