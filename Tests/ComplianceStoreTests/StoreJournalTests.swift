import ComplianceStore
import Foundation
import Remediator
import Testing

/// Journal entries for tests.
enum JournalFixture {
    static let t0: Int64 = 1_795_284_000_000  // 2026-11-21T18:00:00Z in ms

    static func cluster(_ n: Int) -> String {
        "/subscriptions/5c2e3a9d-8f47-4b6e-9a31-2d0c7e5f1a84/resourceGroups/rg-\(n % 7)/providers/Microsoft.ContainerService/managedClusters/aks-\(n)"
    }

    static func extensionId(_ n: Int) -> String {
        cluster(n) + "/providers/Microsoft.KubernetesConfiguration/extensions/flux"
    }

    static func entry(
        run: Int64, _ n: Int, _ state: JournalState, at offset: Int64 = 0, requestId: String? = nil,
        errorCode: String? = nil, hash: String = "sha256:0001"
    ) -> JournalEntry {
        JournalEntry(
            run: String(run), clusterId: cluster(n), resourceId: extensionId(n), desiredHash: hash,
            action: "install-extension", state: state, requestId: requestId,
            correlationId: requestId.map { "corr-" + $0 }, errorCode: errorCode, at: t0 + offset)
    }

    static func applyRun(_ store: ComplianceStore) throws -> Int64 {
        try store.beginRun(PlanStoreTests.applyStart())
    }
}

/// A wall clock the test moves.
private final class TestClock: @unchecked Sendable {
    var now: Int64 = 1_800_000_000
}

@Suite("the apply journal in the store")
struct StoreJournalTests {
    @Test("journal writes refresh the lease's heartbeat every 30 s, so a long apply keeps its lease")
    func heartbeat() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock()
        let store = try ComplianceStore(
            path: dir.appendingPathComponent("h.sqlite").path,
            access: .write(LeaseRequest(holder: "fluxfleet apply", clock: { clock.now })))
        let run = try JournalFixture.applyRun(store)
        let journal = try StoreJournal(store: store, run: run)
        func heartbeat() throws -> String? { try store.leaseHolder()?.heartbeatAt }
        #expect(try heartbeat() == "2027-01-15T08:00:00Z")
        clock.now += 29
        journal.record(JournalFixture.entry(run: run, 1, .pending))
        #expect(try heartbeat() == "2027-01-15T08:00:00Z")
        clock.now += 1
        journal.record(JournalFixture.entry(run: run, 1, .sent))
        #expect(try heartbeat() == "2027-01-15T08:00:30Z")
        clock.now += 600
        journal.record(JournalFixture.entry(run: run, 1, .accepted))
        #expect(try heartbeat() == "2027-01-15T08:10:30Z")
        #expect(journal.failure == nil && journal.recorded == 3)
        #expect(try store.operations(run: run).map(\.state) == [.accepted])
    }

    @Test("a key's records update one row through pending → sent → accepted → succeeded; ids ignore case")
    func roundTrip() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("j.sqlite").path)
        let run = try JournalFixture.applyRun(store)
        let journal = try StoreJournal(store: store, run: run)
        #expect(
            journal.lastState(
                run: String(run), clusterId: JournalFixture.cluster(1), resourceId: JournalFixture.extensionId(1),
                desiredHash: "sha256:0001") == nil)
        journal.record(JournalFixture.entry(run: run, 1, .pending))
        journal.record(JournalFixture.entry(run: run, 1, .sent, at: 5))
        journal.record(JournalFixture.entry(run: run, 1, .accepted, at: 1_250, requestId: "req-1"))
        // A poll answer without ids keeps the ids recorded before; the ids are matched ignoring case.
        var done = JournalFixture.entry(run: run, 1, .succeeded, at: 61_007)
        done.clusterId = done.clusterId.uppercased()
        done.resourceId = done.resourceId.lowercased()
        journal.record(done)
        #expect(journal.failure == nil)
        #expect(journal.recorded == 4)
        let rows = try store.operations(run: run)
        try #require(rows.count == 1)
        #expect(rows[0].state == .succeeded)
        #expect(rows[0].clusterId == JournalFixture.cluster(1))
        #expect(rows[0].requestId == "req-1" && rows[0].correlationId == "corr-req-1")
        #expect(rows[0].createdAt == "2026-11-21T18:00:00.000Z" && rows[0].updatedAt == "2026-11-21T18:01:01.007Z")
        #expect(
            journal.lastState(
                run: String(run), clusterId: JournalFixture.cluster(1).lowercased(),
                resourceId: JournalFixture.extensionId(1).uppercased(), desiredHash: "sha256:0001") == .succeeded)
        // Another desired body on the same resource is another operation.
        #expect(
            journal.lastState(
                run: String(run), clusterId: JournalFixture.cluster(1), resourceId: JournalFixture.extensionId(1),
                desiredHash: "sha256:0002") == nil)
        #expect(try store.check().ok)
    }

    @Test("a resume sees what the interrupted run journalled, after the database is reopened")
    func resumeSeesTheJournal() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("r.sqlite").path
        let apply: Int64
        do {
            let store = try Fixture.writer(path)
            try store.savePlan(id: "sha256:plan", document: Array("{}".utf8), clusters: 4, run: nil, at: Fixture.now)
            apply = try JournalFixture.applyRun(store)
            try store.claimPlan(id: "sha256:plan", run: apply, at: Fixture.now)
            let journal = try StoreJournal(store: store, run: apply)
            for state in [JournalState.pending, .sent, .accepted, .succeeded] {
                journal.record(JournalFixture.entry(run: apply, 1, state, requestId: "req-1"))
            }
            for state in [JournalState.pending, .sent, .failed] {
                journal.record(
                    JournalFixture.entry(
                        run: apply, 2, state, requestId: "req-2",
                        errorCode: state == .failed ? "ExtensionOperationFailed" : nil))
            }
            for state in [JournalState.pending, .sent, .accepted] {
                journal.record(JournalFixture.entry(run: apply, 3, state, requestId: "req-3"))
            }
            journal.record(JournalFixture.entry(run: apply, 4, .pending))
            #expect(journal.failure == nil)
            // The process dies here: the run stays `running`; its lease is given back only so that
            // this test process can open the file again.
            store.close()
        }
        let store = try Fixture.writer(path)
        let resumable = try #require(try store.resumableRun())
        #expect(resumable.run == apply && resumable.chain == [apply] && resumable.status == .running)
        #expect(resumable.planId == "sha256:plan")
        let resume = try store.beginResume(of: apply, startedAt: "2026-11-21T19:00:00Z")
        #expect(try store.run(apply).status == "interrupted")
        #expect(try store.run(apply).finishedAt == "2026-11-21T18:00:00.000Z")  // its last journal write
        #expect(try store.resumableRun() == nil)  // this store runs the resume itself
        let journal = try StoreJournal(store: store, run: resume)
        #expect(journal.chain == [apply, resume])
        func last(_ n: Int) -> JournalState? {
            journal.lastState(
                run: String(resume), clusterId: JournalFixture.cluster(n), resourceId: JournalFixture.extensionId(n),
                desiredHash: "sha256:0001")
        }
        #expect(last(1) == .succeeded)  // skipped
        #expect(last(2) == .failed)
        #expect(last(3) == .accepted)  // polled, not re-sent
        #expect(last(4) == .pending)
        #expect(last(5) == nil)
        // The resume follows operation 3 to its end and sends operation 4.
        journal.record(JournalFixture.entry(run: resume, 3, .succeeded, at: 90_000))
        for state in [JournalState.pending, .sent, .accepted, .succeeded] {
            journal.record(JournalFixture.entry(run: resume, 4, state, at: 95_000, requestId: "req-4"))
        }
        #expect(last(3) == .succeeded && last(4) == .succeeded)
        // The apply run's rows are history; the resume's rows are its own.
        #expect(try store.operations(run: apply).map(\.state) == [.succeeded, .failed, .accepted, .pending])
        #expect(try store.operations(run: resume).map(\.state) == [.succeeded, .succeeded])
        let summary = try store.journalSummary(run: resume)
        #expect(summary.operations == 4)
        #expect(summary.byState == [.succeeded: 3, .failed: 1])
        #expect(summary.byAction == ["install-extension": [.succeeded: 3, .failed: 1]])
        #expect(summary.failures.map(\.requestId) == ["req-2"])
        #expect(summary.failures.map(\.errorCode) == ["ExtensionOperationFailed"])
        #expect(summary.unfinished.isEmpty)
        // The failure's message (from the Remediator's outcome) is stored with credentials masked.
        #expect(
            try journal.recordFailureMessage(
                clusterId: JournalFixture.cluster(2).uppercased(),
                message: "cannot clone https://bot:CANARY-TOKEN@git.example.com/fleet.git: 403") == false)
        // Cluster 2 failed in the apply run, not in this resume: a message goes on this run's rows only.
        try store.finishApplyRun(
            resume, status: .partial, succeeded: 3, failed: 1, deferred: 0, at: "2026-11-21T19:05:00Z")
        #expect(try store.run(resume).status == "partial")
        #expect(try store.run(resume).applied == ApplyCounts(succeeded: 3, failed: 1, deferred: 0))
        #expect(try store.run(resume).resumes == apply && store.run(apply).resumes == nil)
        // A partial run is resumable (its failed operation is retried; the succeeded ones are skipped).
        #expect(try store.resumableRun()?.run == resume)
        #expect(try store.resumableRun()?.status == .partial)
        let check = try store.check()
        #expect(check.ok, "\(check.problems)")
        #expect(check.operations == 6)
        // A run resumed already cannot be resumed again; the partial resume run can.
        #expect(throws: StoreError.self) { _ = try store.beginResume(of: apply, startedAt: Fixture.now) }
        let again = try store.beginResume(of: resume, startedAt: Fixture.now)
        #expect(try store.chain(endingAt: again) == [apply, resume, again])
    }

    @Test("error codes and failure messages are stored with URL credentials masked, nowhere in the file")
    func secretsMasked() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.sqlite").path
        let store = try Fixture.writer(path)
        let run = try JournalFixture.applyRun(store)
        let journal = try StoreJournal(store: store, run: run)
        journal.record(JournalFixture.entry(run: run, 1, .pending))
        journal.record(JournalFixture.entry(run: run, 1, .failed, errorCode: "https://u:CANARY-1@h.example/x"))
        #expect(
            try journal.recordFailureMessage(
                clusterId: JournalFixture.cluster(1),
                message: "GitRepository failed: cannot clone https://bot:CANARY-2@git.example.com/fleet.git (403)"))
        let row = try #require(try store.operations(run: run).first)
        #expect(row.errorCode == "https://***@h.example/x")
        #expect(row.errorMessage == "GitRepository failed: cannot clone https://***@git.example.com/fleet.git (403)")
        #expect(try store.journalSummary(run: run).failures.first?.errorMessage == row.errorMessage)
        store.close()
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
            #expect(bytes.range(of: Data("CANARY".utf8)) == nil, "CANARY found in \(path + suffix)")
        }
    }

    @Test("record cannot throw: the first error is kept in `failure` and nothing more is written")
    func failureStopsWriting() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.sqlite").path
        let store = try Fixture.writer(path)
        let run = try JournalFixture.applyRun(store)
        let journal = try StoreJournal(store: store, run: run)
        journal.record(JournalFixture.entry(run: run, 1, .pending))
        journal.record(JournalFixture.entry(run: run + 1, 2, .pending))  // another run's entry
        let failure = try #require(journal.failure)
        guard case .journalRunMismatch(let entry, run, _) = failure else {
            Issue.record("unexpected failure \(failure)")
            return
        }
        #expect(entry == String(run + 1))
        #expect("\(failure)".contains("was given an entry of run '\(run + 1)'"))
        journal.record(JournalFixture.entry(run: run, 3, .pending))
        #expect(try store.operations(run: run).count == 1 && journal.recorded == 1)

        // A journal on a store that lost its write access reports the store's error.
        let other = try StoreJournal(store: store, run: run)
        store.close()
        other.record(JournalFixture.entry(run: run, 4, .pending))
        #expect(other.failure != nil)
        #expect("\(other.failure.map(String.init(describing:)) ?? "")".contains("opened for reading"))
        // A scan run has no journal.
        let reader = try Fixture.writer(path)
        let scan = try Fixture.record(reader).runID
        #expect(throws: StoreError.self) { _ = try StoreJournal(store: reader, run: scan) }
    }

    @Test("20,000 records are each committed; a resume of 5,000 operations loads their states once")
    func manyRecords() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("many.sqlite").path
        let store = try Fixture.writer(path)
        let run = try JournalFixture.applyRun(store)
        let journal = try StoreJournal(store: store, run: run)
        let operations = 5_000
        let states: [JournalState] = [.pending, .sent, .accepted, .succeeded]
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for n in 0..<operations {
                for (k, state) in states.enumerated() where n % 10 != 9 || k < 3 {
                    journal.record(JournalFixture.entry(run: run, n, state, at: Int64(n * 4 + k)))
                }
                if n % 10 == 9 { journal.record(JournalFixture.entry(run: run, n, .sent, at: Int64(n * 4 + 3))) }
            }
        }
        #expect(journal.failure == nil)
        #expect(journal.recorded == operations * 4)
        let perRecord = elapsed / (operations * 4)
        print("StoreJournal: \(operations * 4) records in \(elapsed), \(perRecord) per record")
        #expect(try store.operations(run: run).count == operations)
        store.close()
        let reopened = try Fixture.writer(path)
        let resume = try reopened.beginResume(of: run, startedAt: "2026-11-21T19:00:00Z")
        var loaded: StoreJournal?
        let loading = try clock.measure { loaded = try StoreJournal(store: reopened, run: resume) }
        print("StoreJournal: loaded the states of \(operations) operations for a resume in \(loading)")
        let resumed = try #require(loaded)
        var succeeded = 0
        var sent = 0
        for n in 0..<operations {
            switch resumed.lastState(
                run: String(resume), clusterId: JournalFixture.cluster(n), resourceId: JournalFixture.extensionId(n),
                desiredHash: "sha256:0001")
            {
            case .succeeded?: succeeded += 1
            case .sent?: sent += 1
            default: Issue.record("operation \(n) has no recorded state")
            }
        }
        #expect(succeeded == operations / 10 * 9 && sent == operations / 10)
        #expect(try reopened.check().ok)
    }
}
