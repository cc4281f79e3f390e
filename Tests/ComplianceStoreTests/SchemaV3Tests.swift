import ComplianceStore
import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

@Suite("schema version 3: clusters without the unique index on arm_id")
struct SchemaV3Tests {
    /// The id of a cluster the demo scan has results for, and the demo fleet without it.
    static func withoutOneEvaluatedCluster() throws -> (id: String, fleet: Fleet) {
        let id = try #require(Fixture.scan().results.last?.clusterId)
        let clusters = Fixture.demo.fleet.clusters.filter { $0.id.description.lowercased() != id.lowercased() }
        try #require(clusters.count == Fixture.demo.fleet.clusters.count - 1)
        return (id, Fleet(clusters: clusters, findings: []))
    }

    /// The tables of schema version 2.
    static let version2Tables = SchemaV2Tests.version1Tables + ["plans"]

    @Test("a version 2 database is upgraded in place: every row of every table is kept, and it passes check")
    func version2Upgraded() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two scans (one result changed, one cluster missing from the second), an apply with a journal
        // and a plan, written by this store, then copied into a version 2 file.
        let source = dir.appendingPathComponent("source.sqlite").path
        let full = Fixture.demo.fleet
        let (gone, fewer) = try Self.withoutOneEvaluatedCluster()
        do {
            let store = try Fixture.writer(source)
            let scan = Fixture.scan()
            let first = try Fixture.record(store, scan).runID
            var changed = Fixture.scan(fewer, now: "2026-11-22T18:00:00Z")
            let flip = try #require(changed.results.firstIndex { $0.state == .nonCompliant })
            changed.results[flip].state = .compliant
            changed.results[flip].reasons = []
            try Fixture.record(store, changed, fleet: fewer, now: "2026-11-22T18:00:00Z")
            try store.savePlan(id: "sha256:plan", document: [1, 2, 3], clusters: 1, run: first, at: Fixture.now)
            let apply = try store.beginRun(PlanStoreTests.applyStart("2026-11-22T19:00:00Z"))
            let a = try store.recordOperation(
                run: apply, clusterId: JournalFixture.cluster(1), resourceId: JournalFixture.extensionId(1),
                desiredHash: "sha256:0001", action: "install-extension", at: "2026-11-22T19:00:00Z")
            try store.updateOperation(a, state: .succeeded, at: "2026-11-22T19:00:09Z", requestId: "req-1")
            try store.finishRun(apply, status: "interrupted", at: "2026-11-22T19:01:00Z")
        }
        let path = dir.appendingPathComponent("v2.sqlite").path
        do {
            let db = try Database(path: path)
            try Migrator.migrate(db, to: Array(Schema.migrations.prefix(2)))
            try db.execute("ATTACH DATABASE '\(source)' AS source")
            try db.execute("DELETE FROM resources")  // the empty suffix row comes with the source
            for table in Self.version2Tables {
                let names = try SchemaV2Tests.columns(db, table).joined(separator: ", ")
                try db.execute("INSERT INTO main.\(table) (\(names)) SELECT \(names) FROM source.\(table)")
            }
            try db.execute("DETACH DATABASE source")
            #expect(try db.scalarInt("PRAGMA user_version") == 2)
            #expect(
                try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_autoindex_clusters_1'") == 1)
            #expect(try db.scalarInt("SELECT count(*) FROM clusters WHERE removed_run IS NOT NULL") == 1)
        }
        // Reading refuses the old file; a writer upgrades it.
        #expect(throws: StoreError.self) { _ = try ComplianceStore(path: path, access: .read) }
        let store = try Fixture.writer(path)
        #expect(store.migration == MigrationOutcome(from: 2, to: 3))
        #expect(try store.schemaVersion() == 3)
        let db = store.database
        try db.execute("ATTACH DATABASE '\(source)' AS source")
        for table in Self.version2Tables where table != "lease" {
            let names = try SchemaV2Tests.columns(db, table, schema: "source").joined(separator: ", ")
            let missing = try db.scalarInt(
                "SELECT count(*) FROM (SELECT \(names) FROM source.\(table) EXCEPT SELECT \(names) FROM main.\(table))")
            let extra = try db.scalarInt(
                "SELECT count(*) FROM (SELECT \(names) FROM main.\(table) EXCEPT SELECT \(names) FROM source.\(table))")
            #expect(missing == 0 && extra == 0, "\(table): \(missing) row(s) lost, \(extra) row(s) added")
            #expect(
                try db.scalarInt("SELECT count(*) FROM main.\(table)")
                    == db.scalarInt("SELECT count(*) FROM source.\(table)"))
        }
        try db.execute("DETACH DATABASE source")
        #expect(
            try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'clusters' AND type = 'index'") == 0)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_v3'") == 0)
        #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try store.check().problems == [])

        // The upgraded file is read and written as before: the missing cluster comes back (its row is
        // reused, matched ignoring case), the history and the plan are there.
        let outcome = try Fixture.record(store, now: "2026-11-23T18:00:00Z")
        #expect(outcome.clustersAdded == 0 && outcome.clustersUpdated == 1 && outcome.clustersRemoved == 0)
        #expect(try Fixture.count(store, "clusters") == Int64(full.clusters.count))
        #expect(try db.scalarInt("SELECT count(*) FROM clusters WHERE removed_run IS NOT NULL") == 0)
        let history = try store.history(cluster: gone.uppercased())
        #expect(history.removed == nil && !history.entries.isEmpty)
        #expect(try store.plan(id: "sha256:plan")?.clusters == 1)
        #expect(try store.reportData().trend.count == 3)
        #expect(try store.check().problems == [])
    }

    @Test("check finds two cluster rows with one ARM id (ignoring case), which no unique index prevents now")
    func checkFindsDuplicateClusters() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("d.sqlite").path)
        try Fixture.record(store)
        #expect(try store.check().problems == [])
        try store.database.execute(
            """
            INSERT INTO clusters (arm_id, name, kind, provisioned, subscription_id, resource_group, location, tags,
                facts_digest, first_seen_run)
            SELECT upper(arm_id), name, kind, provisioned, subscription_id, resource_group, location, tags, 0, 1
            FROM clusters ORDER BY id LIMIT 1
            """)
        #expect(try store.check().problems == ["1 ARM ids held by more than one cluster row (ignoring case)"])
    }

    @Test("results for a cluster the inventory lacks reuse its row, whatever the case of its id")
    func resultsForUnknownClusterReuseTheRow() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("u.sqlite").path)
        let full = Fixture.demo.fleet
        let scan = Fixture.scan()
        // The inventory lacks a cluster but the scan still has its results (ids upper-cased).
        let (gone, fewer) = try Self.withoutOneEvaluatedCluster()
        var shouting = scan
        for i in shouting.results.indices where shouting.results[i].clusterId == gone {
            shouting.results[i].clusterId = gone.uppercased()
            shouting.results[i].resourceId = shouting.results[i].resourceId.uppercased()
        }
        let first = try Fixture.record(store, shouting, fleet: fewer)
        #expect(first.clustersAdded == full.clusters.count - 1)
        #expect(try Fixture.count(store, "clusters") == Int64(full.clusters.count))
        let second = try Fixture.record(store, scan, fleet: fewer, now: "2026-11-22T18:00:00Z")
        #expect(try Fixture.count(store, "clusters") == Int64(full.clusters.count))
        #expect(second.intervalsOpened == 0 && second.intervalsClosed == 0)
        #expect(try store.check().problems == [])
    }
}
