import ComplianceStore
import Dispatch
import Foundation
import Testing

/// Two stores used from two threads at once (each from one thread only, as the store requires).
private final class Racer: @unchecked Sendable {
    let store: ComplianceStore
    let run: Int64
    var outcome: Result<Void, StoreError>?

    init(store: ComplianceStore, run: Int64) {
        self.store = store
        self.run = run
    }
}

@Suite("plans in the store")
struct PlanStoreTests {
    static let document = Array(#"{"formatVersion":1,"planId":"sha256:abc","clusters":[{"clusterId":"c1"}]}"#.utf8)

    static func applyStart(_ now: String = Fixture.now) -> RunStart {
        RunStart(
            kind: .apply, startedAt: now, evaluatedAt: now, inventory: "fleet-examples/demo", inventoryDigest: "d",
            policies: "policies", policiesDigest: "p")
    }

    @Test("a saved plan reads back byte for byte; saving it again keeps the first record")
    func saveAndRead() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("p.sqlite").path)
        #expect(try store.savePlan(id: "sha256:abc", document: Self.document, clusters: 1, run: nil, at: Fixture.now))
        #expect(
            !(try store.savePlan(
                id: "sha256:abc", document: Array("other".utf8), clusters: 9, run: nil, at: "2027-01-01T00:00:00Z")))
        let plan = try #require(try store.plan(id: "sha256:abc"))
        #expect(plan.document == Self.document)
        #expect(plan.clusters == 1 && plan.createdAt == Fixture.now && plan.appliedBy == nil && plan.appliedAt == nil)
        #expect(try store.plan(id: "sha256:missing") == nil)
        let check = try store.check()
        #expect(check.ok, "\(check.problems)")
        #expect(check.plans == 1 && check.consumedPlans == 0)
    }

    @Test("a plan is claimed once; a second claim names the run and time it was applied by")
    func claimOnce() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.sqlite").path
        let store = try Fixture.writer(path)
        try store.savePlan(id: "sha256:abc", document: Self.document, clusters: 1, run: nil, at: Fixture.now)
        let first = try store.beginRun(Self.applyStart())
        try store.claimPlan(id: "sha256:abc", run: first, at: "2026-11-21T18:00:01Z")
        let second = try store.beginRun(Self.applyStart("2026-11-21T19:00:00Z"))
        #expect {
            try store.claimPlan(id: "sha256:abc", run: second, at: "2026-11-21T19:00:01Z")
        } throws: { error in
            guard case .planConsumed("sha256:abc", let run, let at, path) = error as? StoreError else { return false }
            let text = "\(error)"
            return run == first && at == "2026-11-21T18:00:01Z"
                && text.contains("plan sha256:abc was already applied by run \(first) at 2026-11-21T18:00:01Z")
                && text.contains("fluxfleet plan")
        }
        #expect {
            try store.claimPlan(id: "sha256:nope", run: second, at: Fixture.now)
        } throws: { error in
            guard case .unknownPlan("sha256:nope", _) = error as? StoreError else { return false }
            return "\(error)".contains("has no plan sha256:nope")
        }
        #expect(try store.planForRun(first)?.id == "sha256:abc")
        #expect(try store.planForRun(second) == nil)
        let plan = try #require(try store.plan(id: "sha256:abc"))
        #expect(plan.appliedBy == first && plan.appliedAt == "2026-11-21T18:00:01Z")
        // A resume run of the first apply works on the same plan.
        store.close()
        let next = try Fixture.writer(path)
        let resume = try next.beginResume(of: first, startedAt: "2026-11-21T20:00:00Z")
        #expect(try next.planForRun(resume)?.id == "sha256:abc")
        #expect(try next.check().ok)
    }

    @Test("two connections racing to claim the same plans: each plan goes to exactly one run")
    func racingClaims() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("race.sqlite").path
        // A writer whose process the second one believes gone: both then hold a lease token, as a hung
        // writer and the one that took its lease over would.
        let hung = try ComplianceStore(
            path: path, access: .write(LeaseRequest(holder: "fluxfleet apply (hung)", clock: { 1_800_000_000 })))
        let plans = (0..<40).map { "sha256:plan-\($0)" }
        for id in plans {
            try hung.savePlan(id: id, document: Self.document, clusters: 1, run: nil, at: Fixture.now)
        }
        let taker = try ComplianceStore(
            path: path,
            access: .write(
                LeaseRequest(holder: "fluxfleet apply", clock: { 1_800_000_001 }, isAlive: { _ in false })))
        var winners: [Int64] = []
        for id in plans {
            // An apply run consumes one plan: a fresh run on each side for each plan.
            let runA = try hung.beginRun(Self.applyStart())
            let runB = try taker.beginRun(Self.applyStart())
            let racers = [Racer(store: hung, run: runA), Racer(store: taker, run: runB)]
            DispatchQueue.concurrentPerform(iterations: 2) { i in
                let racer = racers[i]
                do throws(StoreError) {
                    try racer.store.claimPlan(id: id, run: racer.run, at: Fixture.now)
                    racer.outcome = .success(())
                } catch {
                    racer.outcome = .failure(error)
                }
            }
            let won = racers.filter { if case .success = $0.outcome { true } else { false } }
            try #require(won.count == 1, "plan \(id): \(racers.map { String(describing: $0.outcome) })")
            let lost = try #require(racers.first { $0 !== won[0] })
            guard case .failure(.planConsumed(id, let by, _, _)) = lost.outcome else {
                Issue.record("plan \(id): the loser got \(String(describing: lost.outcome))")
                continue
            }
            #expect(by == won[0].run)
            winners.append(won[0].run)
            #expect(try taker.plan(id: id)?.appliedBy == won[0].run)
        }
        #expect(winners.count == plans.count)
        #expect(try taker.check().ok)
    }
}
