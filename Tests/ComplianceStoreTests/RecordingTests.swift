import ComplianceStore
import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

@Suite("recording and reading")
struct RecordingTests {
    @Test("the first scan stores every result as an open interval; an unchanged re-scan adds a run and nothing else")
    func unchangedRescan() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("s.sqlite").path)
        let scan = Fixture.scan()
        let first = try Fixture.record(store, scan)
        #expect(first.runID == 1)
        #expect(first.clustersAdded == Fixture.demo.fleet.clusters.count)
        #expect(first.intervalsOpened == scan.results.count)
        #expect(first.strictOpened == scan.strict.count)
        #expect(first.intervalsClosed == 0)
        let intervals = try Fixture.count(store, "intervals")
        let details = try Fixture.count(store, "details")
        #expect(details < intervals)  // identical reasons are stored once

        let second = try Fixture.record(store, scan, now: "2026-11-22T18:00:00Z")
        #expect(second.runID == 2)
        #expect(second.rowsAdded == 1)
        #expect(second.intervalsOpened == 0 && second.intervalsClosed == 0)
        #expect(second.strictOpened == 0 && second.strictClosed == 0)
        #expect(second.clustersAdded == 0 && second.clustersUpdated == 0 && second.clustersRemoved == 0)
        #expect(try Fixture.count(store, "intervals") == intervals)
        #expect(try Fixture.count(store, "details") == details)
        #expect(try Fixture.count(store, "runs") == 2)
        #expect(try store.check().ok)
        // The write checks references itself; the connection enforces them again afterwards.
        #expect(try store.database.scalarInt("PRAGMA foreign_keys") == 1)
    }

    @Test("a state change closes the interval and opens the next; a reasons-only change keeps 'since'")
    func changes() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("c.sqlite").path)
        let scan = Fixture.scan()
        try Fixture.record(store, scan, now: "2026-11-20T00:00:00Z")
        let index = try #require(scan.results.firstIndex { $0.state == .nonCompliant })
        var fixed = scan
        fixed.results[index].state = .compliant
        fixed.results[index].reasons = []
        let day2 = try Fixture.record(store, fixed, now: "2026-11-21T00:00:00Z")
        #expect(day2.intervalsClosed == 1 && day2.intervalsOpened == 1)

        var reworded = fixed
        let other = try #require(fixed.results.firstIndex { $0.state == .nonCompliant })
        reworded.results[other].reasons[0].message = "Something else is wrong"
        let day3 = try Fixture.record(store, reworded, now: "2026-11-22T00:00:00Z")
        #expect(day3.intervalsClosed == 1 && day3.intervalsOpened == 1)

        let data = try store.reportData()
        #expect(data.run.id == 3)
        #expect(data.results.count == scan.results.count)
        let target = scan.results[index]
        let now = try #require(
            data.results.first {
                $0.resourceId == target.resourceId && $0.assignmentId == target.assignmentId
                    && $0.policyDefinitionReferenceId == target.policyDefinitionReferenceId
            })
        #expect(now.state == .compliant)
        #expect(now.since == "2026-11-21T00:00:00Z")
        let rewordedResult = reworded.results[other]
        let kept = try #require(
            data.results.first {
                $0.resourceId == rewordedResult.resourceId && $0.assignmentId == rewordedResult.assignmentId
                    && $0.policyDefinitionReferenceId == rewordedResult.policyDefinitionReferenceId
            })
        #expect(kept.state == .nonCompliant)
        #expect(kept.since == "2026-11-20T00:00:00Z")  // same state since day 1, new reasons since day 3
        #expect(kept.reasons.first?.message == "Something else is wrong")
        #expect(data.trend.map(\.runId) == [1, 2, 3])
        #expect(data.trend[1].nonCompliant == data.trend[0].nonCompliant - 1 || data.trend[1] != data.trend[0])

        // An older run is still reported as it was.
        let old = try store.reportData(run: 1)
        let then = try #require(
            old.results.first {
                $0.resourceId == target.resourceId && $0.assignmentId == target.assignmentId
                    && $0.policyDefinitionReferenceId == target.policyDefinitionReferenceId
            })
        #expect(then.state == .nonCompliant)
        #expect(old.trend.map(\.runId) == [1])
        // The window: only day 3 (the last 12 hours before it) and what overlaps it.
        let recent = try store.reportData(since: .last(StoreDuration(seconds: 43_200)))
        #expect(recent.trend.map(\.runId) == [3])
        #expect(recent.intervals.allSatisfy { $0.to == nil || $0.to! >= "2026-11-21T12:00:00Z" })
        let all = try store.reportData(since: .all)
        #expect(all.intervals.count == scan.results.count + 2)
        #expect(all.intervals.filter { $0.to != nil }.count == 2)
        #expect(all.intervals.map(\.from) == all.intervals.map(\.from).sorted())  // oldest first
        // Results follow the clusters' order.
        let position = Dictionary(uniqueKeysWithValues: all.clusters.enumerated().map { ($1.id, $0) })
        let order = all.results.map { position[$0.clusterId] ?? -1 }
        #expect(order == order.sorted() && !order.contains(-1))
    }

    @Test("what the stored body does not hold (a status time, a reason's location) changes nothing; what it holds does")
    func bodyFieldsOnly() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("b.sqlite").path)
        let scan = Fixture.scan()
        try Fixture.record(store, scan, now: "2026-11-20T00:00:00Z")
        let details = try Fixture.count(store, "details")
        var moved = scan
        let runtime = try #require(moved.strict.firstIndex { $0.runtime != nil })
        moved.strict[runtime].runtime?.statusUpdatedAt = "2026-11-20T23:59:59Z"
        let reason = try #require(moved.results.firstIndex { !$0.reasons.isEmpty })
        moved.results[reason].reasons[0].location = "elsewhere: $.properties.policyRule.if"
        moved.results[reason].reasons[0].candidate = "/some/other/candidate"
        let same = try Fixture.record(store, moved, now: "2026-11-21T00:00:00Z")
        #expect(same.rowsAdded == 1 && same.intervalsClosed == 0 && same.strictClosed == 0)
        #expect(try Fixture.count(store, "details") == details)

        var stale = moved
        stale.strict[runtime].runtime?.stale.toggle()
        stale.results[reason].reasons[0].operator = "notEquals"
        let changed = try Fixture.record(store, stale, now: "2026-11-22T00:00:00Z")
        #expect(changed.strictClosed == 1 && changed.strictOpened == 1)
        #expect(changed.intervalsClosed == 1 && changed.intervalsOpened == 1)
        #expect(changed.detailsAdded == 2)
        #expect(try store.check().ok)
    }

    @Test("a cluster missing from a scan is removed and its intervals closed; when it comes back it is not removed")
    func removedClusters() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("r.sqlite").path)
        let full = Fixture.demo.fleet
        try Fixture.record(store, fleet: full, now: "2026-11-20T00:00:00Z")
        let gone = try #require(full.clusters.first { $0.name == "aks-prod-weu-01" })
        let smaller = Fleet(clusters: full.clusters.filter { $0.name != gone.name }, findings: [])
        let goneResults = Fixture.scan().results.filter { ASCII.equalsIgnoringCase($0.clusterId, gone.id.description) }
        #expect(!goneResults.isEmpty)
        let day2 = try Fixture.record(store, fleet: smaller, now: "2026-11-21T00:00:00Z")
        #expect(day2.clustersRemoved == 1)
        #expect(day2.intervalsClosed == goneResults.count)
        #expect(day2.intervalsOpened == 0)
        let history = try store.history(cluster: gone.name)
        #expect(history.removed?.run == 2)
        #expect(history.lastSeen?.run == 1)
        #expect(history.entries.allSatisfy { $0.toRun == 2 })
        #expect(try store.reportData().clusters.count == full.clusters.count - 1)
        #expect(try store.reportData(run: 1).clusters.count == full.clusters.count)
        #expect(try store.check().ok)

        let day3 = try Fixture.record(store, fleet: full, now: "2026-11-22T00:00:00Z")
        #expect(day3.clustersUpdated == 1)
        #expect(day3.intervalsOpened == goneResults.count)
        let back = try store.history(cluster: gone.id.description.uppercased())
        #expect(back.removed == nil && back.lastSeen == nil)
        #expect(back.firstSeen.run == 1)
        #expect(back.entries.count == goneResults.count * 2)
        #expect(try store.check().ok)
    }

    @Test("report data carries every field: run, clusters with facts, results with reasons, strict view")
    func reportDataFields() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("f.sqlite").path)
        let scan = Fixture.scan()
        try store.record(
            scan: scan, fleet: Fixture.demo.fleet, run: Fixture.run(), startedAt: "2026-11-21T17:59:00Z",
            inventoryDigest: "abc", assignmentNames: ["/subscriptions/x": "ignored"])
        let data = try store.reportData()
        #expect(
            data.run
                == ReportRun(
                    id: 1, kind: "scan", startedAt: "2026-11-21T17:59:00Z", evaluatedAt: Fixture.now,
                    inventory: "fleet-examples/demo", policies: "policies", policiesDigest: Fixture.demo.bundle.digest))
        #expect(data.clusters.map(\.id) == Fixture.demo.fleet.clusters.map(\.id.description))
        let hci = try #require(data.clusters.first { $0.name == "arc-hci-plant-01" })
        #expect(hci.provisioned && hci.kind == "connectedClusters")
        #expect(!hci.tags.isEmpty && hci.tags.map(\.key) == hci.tags.map(\.key).sorted())
        #expect(data.clusters.first { $0.name == "aks-legacy-spn" }?.eligibilityReason == "aksServicePrincipal")
        // Every cluster's facts as the fleet reads them.
        for (stored, cluster) in zip(data.clusters, Fixture.demo.fleet.clusters) {
            let tags = cluster.tags
            #expect(stored.tags.map(\.key) == tags.keys.sorted(), "\(cluster.name)")
            #expect(stored.tags.map(\.value) == tags.keys.sorted().map { tags[$0]! }, "\(cluster.name)")
            #expect(stored.eligibilityReason == Eligibility.evaluate(cluster).primary?.code, "\(cluster.name)")
            #expect(stored.location == cluster.location && stored.resourceGroup == cluster.resourceGroup)
        }
        // Same multiset of (resource, assignment, reference, state, effect, reason count) as the scan.
        func key(_ r: ReportResult) -> String {
            "\(r.resourceId.lowercased())|\(r.assignmentId)|\(r.policyDefinitionReferenceId ?? "")|\(r.state)|\(r.effect)|\(r.reasons.count)|\(r.exemptionId ?? "")"
        }
        func key(_ r: PolicyResult) -> String {
            "\(r.resourceId.lowercased())|\(r.assignmentId)|\(r.policyDefinitionReferenceId ?? "")|\(r.state)|\(r.effect)|\(r.reasons.count)|\(r.exemptionId ?? "")"
        }
        #expect(data.results.map(key).sorted() == scan.results.map(key).sorted())
        #expect(data.results.allSatisfy { $0.since == Fixture.now })
        #expect(data.results.contains { $0.state == .exempt && $0.exemptionId != nil })
        #expect(data.results.allSatisfy { !$0.assignmentName.isEmpty })
        #expect(data.strict.count == scan.strict.count)
        #expect(data.strict.contains { !$0.drift.isEmpty })
        #expect(data.trend.count == 1)
        let s = scan.summary
        #expect(
            data.trend[0]
                == ReportRunPoint(
                    runId: 1, at: Fixture.now, resources: s.resources, compliant: s.compliant,
                    nonCompliant: s.nonCompliant, exempt: s.exempt, unknown: s.unknown, error: s.error))
        #expect(data.intervals.count == scan.results.count)
    }

    @Test("history finds a cluster by id or unique name, and says what to do otherwise")
    func historyLookup() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("h.sqlite").path
        let store = try Fixture.writer(path)
        try Fixture.record(store)
        let history = try store.history(cluster: "aks-legacy-spn")
        #expect(history.cluster.name == "aks-legacy-spn")
        #expect(history.entries.contains { $0.state == .nonCompliant && !$0.reasons.isEmpty })
        #expect(history.firstSeen == (1, Fixture.now))
        #expect {
            _ = try store.history(cluster: "no-such-cluster")
        } throws: { error in
            guard case .unknownCluster("no-such-cluster", _) = error as? StoreError else { return false }
            return "\(error)".contains("give an ARM id or a name")
        }
    }

    @Test("secrets in reasons and drift are masked before they reach the file, as scan --output json masks them")
    func secretCanary() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("secret.sqlite").path
        let store = try Fixture.writer(path)
        var scan = Fixture.scan()
        let canaryURL = "https://deploy:CANARY-hunter2@git.example.com/fleet.git"
        let index = try #require(scan.results.firstIndex { !$0.reasons.isEmpty })
        scan.results[index].reasons[0].actual = .string(canaryURL)
        scan.results[index].reasons[0].target = .object([
            "configurationProtectedSettings": .object(["sshPrivateKey": .string("CANARY-private-key")])
        ])
        scan.results[index].reasons[0].message = "found \(canaryURL) instead"
        scan.results[index].error = "clone of \(canaryURL) failed"
        let strictIndex = try #require(scan.strict.firstIndex { !$0.drift.isEmpty })
        scan.strict[strictIndex].drift[0].actual = .string(canaryURL)
        try Fixture.record(store, scan)
        store.close()

        let data = try ComplianceStore(path: path, access: .read).reportData()
        let stored = try #require(
            data.results.first {
                $0.resourceId == scan.results[index].resourceId && $0.assignmentId == scan.results[index].assignmentId
                    && $0.policyDefinitionReferenceId == scan.results[index].policyDefinitionReferenceId
            })
        #expect(stored.reasons[0].actual == "\"https://***@git.example.com/fleet.git\"")
        #expect(stored.reasons[0].target == #"{"configurationProtectedSettings":{"sshPrivateKey":"***"}}"#)
        #expect(stored.reasons[0].message == "found https://***@git.example.com/fleet.git instead")
        #expect(stored.error == "clone of https://***@git.example.com/fleet.git failed")
        // The same masking as scan --output json.
        let json = String(
            decoding: ScanReport(scan: scan, run: Fixture.run(), fleet: Fixture.demo.fleet).jsonBytes(pretty: false),
            as: UTF8.self)
        #expect(json.contains(#""actual":"https://***@git.example.com/fleet.git""#))
        #expect(json.contains(#""target":{"configurationProtectedSettings":{"sshPrivateKey":"***"}}"#))
        // And nowhere in the files.
        for suffix in ["", "-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
            #expect(bytes.range(of: Data("CANARY".utf8)) == nil, "CANARY found in \(path + suffix)")
        }
    }

    @Test("the operations journal records before the request, updates each change, and lists what is unfinished")
    func operationsJournal() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("o.sqlite").path)
        let run = try store.beginRun(
            RunStart(
                kind: .apply, startedAt: Fixture.now, evaluatedAt: Fixture.now, inventory: "inv", inventoryDigest: "d",
                policies: "policies", policiesDigest: "p"))
        let a = try store.recordOperation(
            run: run,
            clusterId: "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/a",
            resourceId: "x/extensions/flux", desiredHash: "h1", action: "install-extension", at: Fixture.now)
        let b = try store.recordOperation(
            run: run, clusterId: "c2", resourceId: "y", desiredHash: "h2", action: "create-configuration",
            at: Fixture.now)
        let c = try store.recordOperation(
            run: run, clusterId: "c3", resourceId: "z", desiredHash: "h3", action: "create-configuration",
            at: Fixture.now)
        try store.updateOperation(a, state: .sent, at: "2026-11-21T18:00:01Z", correlationId: "corr-1")
        try store.updateOperation(a, state: .succeeded, at: "2026-11-21T18:00:05Z", requestId: "req-1")
        try store.updateOperation(
            b, state: .failed, at: "2026-11-21T18:00:06Z", errorCode: "Conflict",
            errorMessage: "https://u:CANARY@h/x conflicts")
        try store.updateOperation(c, state: .accepted, at: "2026-11-21T18:00:07Z")
        let all = try store.operations(run: run)
        #expect(all.map(\.id) == [a, b, c])
        #expect(all[0].state == .succeeded && all[0].correlationId == "corr-1" && all[0].requestId == "req-1")
        #expect(all[1].errorCode == "Conflict" && all[1].errorMessage == "https://***@h/x conflicts")
        #expect(try store.unfinishedOperations(run: run).map(\.id) == [c])
        try store.finishRun(run, status: "interrupted", at: "2026-11-21T18:01:00Z")
        #expect(try store.run(run).status == "interrupted")
        #expect(throws: StoreError.self) { try store.updateOperation(999, state: .sent, at: Fixture.now) }
    }
}
