import ComplianceStore
import FleetCore
import Foundation
import PolicyEngine
import Remediator
import Reports
import Testing

@Suite("schema version 2: plans and the apply journal")
struct SchemaV2Tests {
    /// The columns of `table` in `schema` (`main` or an attached name).
    static func columns(_ db: Database, _ table: String, schema: String = "main") throws -> [String] {
        var names: [String] = []
        try db.statement("PRAGMA \(schema).table_info(\(table))").query { names.append($0.text(1)) }
        return names
    }

    /// The tables of schema version 1.
    static let version1Tables = [
        "runs", "clusters", "assignments", "rules", "resources", "details", "intervals", "strict_intervals",
        "operations", "lease",
    ]

    @Test("a version 1 database is upgraded in place: every row of every table is kept, and it passes check")
    func version1Upgraded() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Realistic content: two scans of the demo fleet (one result changed) and an interrupted apply
        // with a journal, written by this store, then copied into a version 1 file.
        let source = dir.appendingPathComponent("source.sqlite").path
        do {
            let store = try Fixture.writer(source)
            let scan = Fixture.scan()
            try Fixture.record(store, scan)
            var changed = scan
            let flip = try #require(changed.results.firstIndex { $0.state == .nonCompliant })
            changed.results[flip].state = .compliant
            changed.results[flip].reasons = []
            try Fixture.record(store, changed, now: "2026-11-22T18:00:00Z")
            let apply = try store.beginRun(PlanStoreTests.applyStart("2026-11-22T19:00:00Z"))
            let a = try store.recordOperation(
                run: apply, clusterId: JournalFixture.cluster(1), resourceId: JournalFixture.extensionId(1),
                desiredHash: "sha256:0001", action: "install-extension", at: "2026-11-22T19:00:00Z")
            try store.updateOperation(a, state: .succeeded, at: "2026-11-22T19:00:09Z", requestId: "req-1")
            let b = try store.recordOperation(
                run: apply, clusterId: JournalFixture.cluster(2), resourceId: JournalFixture.extensionId(2),
                desiredHash: "sha256:0001", action: "install-extension", at: "2026-11-22T19:00:01Z")
            try store.updateOperation(b, state: .accepted, at: "2026-11-22T19:00:02Z", requestId: "req-2")
            try store.finishRun(apply, status: "interrupted", at: "2026-11-22T19:01:00Z")
        }
        let path = dir.appendingPathComponent("v1.sqlite").path
        do {
            let db = try Database(path: path)
            try Migrator.migrate(db, to: Array(Schema.migrations.prefix(1)))
            try db.execute("ATTACH DATABASE '\(source)' AS source")
            try db.execute("DELETE FROM resources")  // the empty suffix row comes with the source
            for table in Self.version1Tables {
                let names = try Self.columns(db, table).joined(separator: ", ")
                try db.execute("INSERT INTO main.\(table) (\(names)) SELECT \(names) FROM source.\(table)")
            }
            try db.execute("DETACH DATABASE source")
            #expect(try db.scalarInt("PRAGMA user_version") == 1)
            #expect(try db.scalarInt("SELECT count(*) FROM operations") == 2)
            #expect(try db.scalarInt("SELECT count(*) FROM intervals") > 60)
        }
        // Reading refuses the old file; a writer upgrades it.
        #expect(throws: StoreError.self) { _ = try ComplianceStore(path: path, access: .read) }
        let store = try Fixture.writer(path)
        #expect(store.migration == MigrationOutcome(from: 1, to: Schema.currentVersion))
        #expect(try store.schemaVersion() == Schema.currentVersion)
        let db = store.database
        try db.execute("ATTACH DATABASE '\(source)' AS source")
        for table in Self.version1Tables where table != "lease" {
            let names = try Self.columns(db, table, schema: "source").filter {
                table != "runs"
                    || !["resumes", "clusters_succeeded", "clusters_failed", "clusters_deferred"].contains($0)
            }.joined(separator: ", ")
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
        let check = try store.check()
        #expect(check.ok, "\(check.problems)")
        #expect(
            check.schemaVersion == Schema.currentVersion && check.runs == 3 && check.operations == 2 && check.plans == 0
        )
        // The upgraded journal is the journal: the interrupted apply resumes from it.
        let resumable = try #require(try store.resumableRun())
        #expect(resumable.run == 3 && resumable.status == .interrupted && resumable.planId == nil)
        let resume = try store.beginResume(of: 3, startedAt: "2026-11-22T20:00:00Z")
        let journal = try StoreJournal(store: store, run: resume)
        #expect(
            journal.lastState(
                run: String(resume), clusterId: JournalFixture.cluster(2).uppercased(),
                resourceId: JournalFixture.extensionId(2), desiredHash: "sha256:0001") == .accepted)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = 'operations_key'") == 1)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_v2'") == 0)
        #expect(try db.scalarInt("PRAGMA foreign_keys") == 1)
        #expect(try store.check().ok)
    }

    @Test("check finds a broken journal: two rows for one key, a plan consumed by a scan run")
    func checkCoversTheJournal() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("k.sqlite").path)
        let scan = try Fixture.record(store).runID
        let apply = try JournalFixture.applyRun(store)
        let journal = try StoreJournal(store: store, run: apply)
        journal.record(JournalFixture.entry(run: apply, 1, .pending))
        try store.savePlan(id: "sha256:p", document: [], clusters: 0, run: scan, at: Fixture.now)
        #expect(try store.check().ok)
        try store.database.execute(
            """
            INSERT INTO operations (run, cluster_id, resource_id, desired_hash, action, state, created_at, updated_at)
            SELECT run, upper(cluster_id), resource_id, desired_hash, action, 'sent', created_at, updated_at FROM operations;
            UPDATE plans SET applied_by = \(scan), applied_at = '\(Fixture.now)';
            """)
        let problems = try store.check().problems
        #expect(
            problems.contains {
                $0.contains("1 apply-journal keys (run, cluster, resource, desired body) with more than one row")
            })
        #expect(problems.contains { $0.contains("plans consumed by a run that is not an apply run") })
    }

    @Test("prune deletes the journal and plans of the chains it prunes, and keeps those of the runs it keeps")
    func pruneJournal() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("p.sqlite").path)
        let day = Int64(86_400)
        let start = StoreTime.epoch("2025-01-01T00:00:00Z")!
        func at(_ d: Int64) -> String { StoreTime.iso(start + d * day) }
        func apply(_ d: Int64, plan: String) throws -> Int64 {
            try store.savePlan(id: plan, document: Array(plan.utf8), clusters: 1, run: nil, at: at(d))
            let run = try store.beginRun(PlanStoreTests.applyStart(at(d)))
            try store.claimPlan(id: plan, run: run, at: at(d))
            let journal = try StoreJournal(store: store, run: run)
            journal.record(JournalFixture.entry(run: run, 1, .pending))
            journal.record(JournalFixture.entry(run: run, 2, .pending))
            try #require(journal.failure == nil)
            return run
        }
        try Fixture.record(store, now: at(0))
        // Day 1: an apply interrupted and resumed (an old chain). Day 8: a recent apply.
        let old = try apply(1, plan: "sha256:old")
        try store.finishApplyRun(old, status: .interrupted, succeeded: 0, failed: 0, deferred: 2, at: at(1))
        let oldResume = try store.beginResume(of: old, startedAt: at(2))
        let resumeJournal = try StoreJournal(store: store, run: oldResume)
        resumeJournal.record(JournalFixture.entry(run: oldResume, 1, .succeeded))
        try store.finishApplyRun(oldResume, status: .succeeded, succeeded: 2, failed: 0, deferred: 0, at: at(2))
        // A plan never applied, recorded on day 1 by nothing, and one recorded on day 9.
        try store.savePlan(id: "sha256:unused-old", document: [1], clusters: 1, run: nil, at: at(1))
        try store.savePlan(id: "sha256:unused-new", document: [2], clusters: 1, run: nil, at: at(9))
        let recent = try apply(8, plan: "sha256:recent")
        try store.finishApplyRun(recent, status: .halted, succeeded: 0, failed: 0, deferred: 2, at: at(8))
        try Fixture.record(store, now: at(10))
        #expect(try store.check().problems == [])

        let outcome = try store.prune(olderThan: StoreDuration("5d")!, now: start + 10 * day)
        #expect(outcome.operations == 3)  // two of the apply, one of its resume
        #expect(outcome.plans == 2)  // the old chain's plan and the unused old one
        let runs = try store.runs().map(\.id)
        #expect(!runs.contains(old) && !runs.contains(oldResume))
        #expect(runs.contains(recent))
        #expect(try store.operations(run: recent).count == 2)
        #expect(try store.plan(id: "sha256:recent")?.appliedBy == recent)
        #expect(try store.plan(id: "sha256:unused-new") != nil)
        #expect(try store.plan(id: "sha256:old") == nil && store.plan(id: "sha256:unused-old") == nil)
        #expect(try store.check().problems == [])
    }

    @Test("a chain is pruned whole: an old apply whose resume is kept stays, with its journal")
    func pruneKeepsChains() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("c.sqlite").path)
        let day = Int64(86_400)
        let start = StoreTime.epoch("2025-01-01T00:00:00Z")!
        let apply = try store.beginRun(PlanStoreTests.applyStart(StoreTime.iso(start)))
        let journal = try StoreJournal(store: store, run: apply)
        journal.record(JournalFixture.entry(run: apply, 1, .accepted))
        try store.finishApplyRun(
            apply, status: .interrupted, succeeded: 0, failed: 0, deferred: 1, at: StoreTime.iso(start))
        let resume = try store.beginResume(of: apply, startedAt: StoreTime.iso(start + 20 * day))
        // The resume is the latest run: kept whatever its age, so the apply it finishes is kept too.
        _ = try store.prune(olderThan: StoreDuration("5d")!, now: start + 20 * day)
        #expect(try store.runs().map(\.id) == [apply, resume])
        #expect(try store.operations(run: apply).count == 1)
        #expect(try store.check().ok)
    }

    @Test("reports, trends and last-seen runs are about scans: an apply run in between changes none of them")
    func applyRunsAreNotEvaluations() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("a.sqlite").path)
        let first = try Fixture.record(store).runID
        let before = try store.reportData()
        let apply = try JournalFixture.applyRun(store)
        try store.finishApplyRun(apply, status: .succeeded, succeeded: 0, failed: 0, deferred: 0, at: Fixture.now)
        let after = try store.reportData()
        #expect(after.run.id == first && after.results == before.results && after.trend == before.trend)
        // A cluster missing from the next scan was last seen by the first scan, not by the apply.
        let full = Fixture.demo.fleet
        let gone = try #require(full.clusters.last)
        let fleet = Fleet(clusters: Array(full.clusters.dropLast()), findings: [])
        let next = try Fixture.record(store, fleet: fleet, now: "2026-11-22T18:00:00Z").runID
        #expect(try store.reportData().trend.map(\.runId) == [first, next])
        let lastSeen = try store.database.scalarInt(
            "SELECT last_seen_run FROM clusters WHERE arm_id = '\(gone.id.description)'")
        #expect(lastSeen == first)
        #expect(try store.check().ok)
    }
}
