import ComplianceStore
import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

@Suite("writer lease")
struct LeaseTests {
    @Test("a second writer is refused with the holder's name, pid, host and since when; readers are not")
    func secondWriterLocked() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("l.sqlite").path
        let first = try Fixture.writer(path, holder: "fluxfleet scan (nightly)")
        #expect {
            _ = try ComplianceStore(path: path, access: .write(Fixture.lease("fluxfleet db prune")))
        } throws: { error in
            guard case .locked(let holder, path) = error as? StoreError else { return false }
            let text = "\(error)"
            return holder.holder == "fluxfleet scan (nightly)" && holder.pid == Int64(getpid())
                && text.contains("fluxfleet scan (nightly)") && text.contains("pid \(getpid())")
                && text.contains(LeaseRequest.hostName) && text.contains("since 2027-01-15T08:00:00Z")
        }
        let reader = try ComplianceStore(path: path, access: .read)
        #expect(try reader.leaseHolder()?.holder == "fluxfleet scan (nightly)")
        first.close()
        #expect(try reader.leaseHolder() == nil)
        _ = try Fixture.writer(path, holder: "next")
    }

    @Test("a second writer is told who holds the lease even while the holder is inside a write transaction")
    func lockedWhileWriting() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("busy.sqlite").path
        let first = try Fixture.writer(path, holder: "fluxfleet scan")
        try first.database.execute("BEGIN IMMEDIATE")
        defer { try? first.database.execute("ROLLBACK") }
        // Were the second writer to wait for the write lock, it would fail with SQLITE_BUSY instead.
        #expect {
            _ = try ComplianceStore(path: path, access: .write(Fixture.lease("second")))
        } throws: { error in
            guard case .locked(let holder, _) = error as? StoreError else { return false }
            return holder.holder == "fluxfleet scan"
        }
    }

    @Test("a lease without a heartbeat for longer than the limit is taken over, with a warning")
    func staleLeaseTakenOver() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("stale.sqlite").path
        // A holder on another host (its pid cannot be probed), last heartbeat at t0.
        let t0: Int64 = 1_800_000_000
        let other = LeaseRequest(holder: "fluxfleet apply", pid: 4242, host: "runner-7", clock: { t0 })
        let abandoned = try ComplianceStore(path: path, access: .write(other))
        _ = abandoned  // kept open: the lease row stays, as if the process hung
        let early = LeaseRequest(holder: "fluxfleet scan", staleAfterSeconds: 600, clock: { t0 + 599 })
        #expect(throws: StoreError.self) { _ = try ComplianceStore(path: path, access: .write(early)) }
        let late = LeaseRequest(holder: "fluxfleet scan", staleAfterSeconds: 600, clock: { t0 + 601 })
        let store = try ComplianceStore(path: path, access: .write(late))
        #expect(store.warnings.count == 1)
        #expect(
            store.warnings.first?.contains("taking over the lease of fluxfleet apply (pid 4242 on runner-7") == true)
        #expect(store.warnings.first?.contains("no heartbeat for 601s") == true)
        #expect(try store.leaseHolder()?.holder == "fluxfleet scan")
    }

    @Test("a lease whose process is gone on this host is taken over at once")
    func deadHolderTakenOver() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("dead.sqlite").path
        let ghost = LeaseRequest(holder: "fluxfleet scan", pid: 999_999_999, clock: { 1_800_000_000 })
        let held = try ComplianceStore(path: path, access: .write(ghost))
        _ = held
        let store = try ComplianceStore(
            path: path, access: .write(LeaseRequest(holder: "fluxfleet scan", clock: { 1_800_000_001 })))
        #expect(store.warnings.first?.contains("its process is gone") == true)
    }
}

@Suite("check and prune")
struct MaintenanceTests {
    @Test("check passes on a recorded database and finds a broken invariant")
    func check() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("k.sqlite").path)
        try Fixture.record(store)
        let report = try store.check()
        #expect(report.ok, "\(report.problems)")
        #expect(report.runs == 1 && report.schemaVersion == Schema.currentVersion)
        #expect(report.openIntervals == report.intervals)
        // Break it behind the store's back: an interval that ends before it starts.
        try store.database.execute(
            "PRAGMA ignore_check_constraints = ON; UPDATE intervals SET to_run = from_run"
        )
        let broken = try store.check()
        #expect(!broken.ok)
        #expect(broken.problems.contains { $0.contains("end before they start") })
    }

    @Test("prune drops old runs and closed intervals, never the current state or what it still needs")
    func prune() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("p.sqlite").path)
        let scan = Fixture.scan()
        let day = Int64(86_400)
        let start = StoreTime.epoch("2025-01-01T00:00:00Z")!
        // Day 0: recorded. Day 1: one result flips. Days 2-9: unchanged. Day 10: it flips back.
        let flip = try #require(scan.results.firstIndex { $0.state == .nonCompliant })
        var flipped = scan
        flipped.results[flip].state = .compliant
        flipped.results[flip].reasons = []
        for d in 0...10 {
            let which = (d >= 1 && d < 10) ? flipped : scan
            try Fixture.record(store, which, now: StoreTime.iso(start + Int64(d) * day))
        }
        let before = try store.check()
        #expect(before.intervals == scan.results.count + 2)
        let latestBefore = try store.reportData()
        // Keep 5 days before day 10: runs 1-5 (days 0-4) are older.
        let outcome = try store.prune(olderThan: StoreDuration("5d")!, now: start + 10 * day, vacuum: true)
        #expect(outcome.cutoff == "2025-01-06T00:00:00Z")
        #expect(outcome.intervals == 1)  // the interval closed on day 1
        let runs = try store.runs().map(\.id)
        #expect(!runs.contains(3) && !runs.contains(4) && !runs.contains(5))
        #expect(runs.contains(1))  // the open intervals started there
        #expect(runs.contains(2))  // the flipped interval (closed on day 10) started there
        #expect(runs.last == 11)
        let after = try store.reportData()
        #expect(after.results == latestBefore.results)
        #expect(try store.check().ok)
        // Pruning everything still keeps the current state.
        _ = try store.prune(olderThan: StoreDuration(seconds: 1), now: start + 100 * day)
        #expect(try store.reportData().results == latestBefore.results)
        #expect(try store.check().ok)
    }
}
