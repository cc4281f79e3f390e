import FleetCore
import Foundation
import PolicyEngine
import Testing

@testable import ComplianceStore

/// The cluster facts the writer stores: written straight into a block of bytes, with the tags
/// copied as they stand when the JSON writer would write the same bytes.
@Suite("cluster facts")
struct ClusterFactsTests {
    /// A one-cluster fleet whose record has `tags` (a JSON text; nil: no tags member).
    static func cluster(tags: String?) throws -> Cluster {
        let member = tags.map { #""tags": \#($0),"# } ?? ""
        let record = """
            [{"id": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1",
              "type": "Microsoft.ContainerService/managedClusters", "name": "aks1", "location": "westeurope", \(member)
              "identity": {"type": "SystemAssigned"}, "properties": {"provisioningState": "Succeeded"}}]
            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("facts-\(UUID().uuidString).json")
        try Data(record.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try #require(SnapshotReader.load(path: url.path).fleet.clusters.first)
    }

    /// The stored text of column `column` of the only cluster of `block`.
    static func text(_ block: FactsBlock, _ column: Int) -> String {
        block.bytes.withUnsafeBufferPointer { String(decoding: block.text(0, column, in: $0), as: UTF8.self) }
    }

    @Test(
        "tags are stored as the JSON writer writes them, sorted, whichever path writes them",
        arguments: [
            #"{"env": "prod", "team": "checkout", "costCenter": "CC-4049"}"#,  // unsorted: sorted here
            #"{"a": "1", "b": "2"}"#,  // already sorted
            #"{"B": "upper", "a": "lower", "ab": "longer", "": "empty key"}"#,  // byte order, prefixes, ""
            #"{"a": "1", "a": "2"}"#,  // a repeated key: the last one wins (the writer's path)
            #"{"quote\"d": "x", "tab": "a\tb"}"#,  // escapes
            #"{"café": "crème", "z": "é"}"#,  // non-ASCII
            #"{"del": "a\u007fb"}"#,  // DEL, which the writer escapes
            #"{"n": 1, "t": true, "z": null, "o": {"x": "y"}}"#,  // values that are not strings
            #"{}"#,
            #""not an object""#,
        ])
    func tags(_ tags: String) throws {
        let cluster = try Self.cluster(tags: tags)
        let object = try #require(cluster.resource.member(ignoringCase: "tags"))
        let stored = Self.text(FactsBlock([cluster][...]), 6)
        #expect(stored == ClusterFacts.tagsJSON(object))
        // And it says what Cluster.tags says.
        let decoded = try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: String]
        #expect(decoded == cluster.tags)
    }

    @Test("no tags member is an empty object")
    func noTags() throws {
        #expect(Self.text(FactsBlock([try Self.cluster(tags: nil)][...]), 6) == "{}")
    }

    @Test("every fact of the demo fleet's clusters, and their digests as earlier versions stored them")
    func demoFacts() throws {
        let clusters = Fixture.demo.fleet.clusters
        let block = FactsBlock(clusters[...])
        #expect(block.count == clusters.count)
        // facts_digest as fluxfleet 0.4 (the String facts) stored it: an unchanged cluster must not
        // count as changed after an upgrade.
        let digests: [String: Int64] = [
            "aks-dev-arm64": -3_307_192_135_221_458_279, "aks-dev-extfailed": 4_045_349_927_761_301_577,
            "aks-dev-fluxv1": 724_612_757_007_021_827, "aks-dev-localauth": -6_391_553_324_028_944_171,
            "aks-dev-stopped": 4_187_026_855_313_326_212, "aks-lab-scratch": -3_167_404_467_358_466_788,
            "aks-legacy-spn": 3_930_167_741_471_399_324, "aks-prod-eus-03": -8_884_576_717_138_651_533,
            "aks-prod-neu-02": -1_228_286_852_298_345_507, "aks-prod-payments": -1_587_986_990_349_698_569,
            "aks-prod-weu-01": 3_247_268_109_505_278_377, "aks-staging-neu-02": 8_442_350_790_267_468_399,
            "aks-staging-weu-01": 6_536_511_921_273_016_329, "arc-hci-plant-01": -4_473_430_898_588_905_266,
            "arc-store-017": 453_991_571_502_676_400, "arc-store-042": 1_332_160_382_312_130_156,
            "arc-store-099": -2_268_717_129_761_463_628,
        ]
        block.bytes.withUnsafeBufferPointer { buffer in
            for (i, cluster) in clusters.enumerated() {
                func text(_ column: Int) -> String {
                    String(decoding: block.text(i, column, in: buffer), as: UTF8.self)
                }
                #expect(text(0) == cluster.id.description)
                #expect(text(1) == cluster.name)
                #expect(text(2) == cluster.kind.rawValue)
                #expect(block.provisioned[i] == cluster.provisioned)
                #expect(text(3) == cluster.subscriptionId)
                #expect(text(4) == cluster.resourceGroup)
                #expect(text(5) == cluster.location)
                #expect(block.ineligible[i] == (Eligibility.primaryCode(cluster) != nil))
                #expect(text(7) == (Eligibility.primaryCode(cluster) ?? ""))
                #expect(block.digests[i] == digests[cluster.name], "\(cluster.name)")
            }
        }
    }

    @Test("rows find their cluster when the inventory is not sorted and repeats an id")
    func unsortedInventory() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sorted = Fixture.demo.fleet
        var shuffled = sorted
        shuffled.clusters.reverse()
        shuffled.clusters.append(shuffled.clusters[3])  // a repeated id: the first one counts
        let scan = Fixture.scan()
        func stored(_ fleet: Fleet, _ name: String) throws -> [String] {
            let store = try Fixture.writer(dir.appendingPathComponent(name).path)
            let outcome = try Fixture.record(store, scan, fleet: fleet)
            #expect(outcome.clustersAdded == sorted.clusters.count)
            var rows: [String] = []
            try store.database.statement(
                """
                SELECT c.arm_id, r.reference_id, s.suffix, i.state, i.detail FROM intervals i
                JOIN clusters c ON c.id = i.cluster JOIN rules r ON r.id = i.rule JOIN resources s ON s.id = i.resource
                UNION ALL
                SELECT c.arm_id, a.arm_id, s.suffix, -1, i.detail FROM strict_intervals i
                JOIN clusters c ON c.id = i.cluster JOIN assignments a ON a.id = i.assignment
                JOIN resources s ON s.id = i.resource
                """
            ).query { row in
                rows.append((0..<5).map { row.text($0) }.joined(separator: " "))
            }
            return rows.sorted()
        }
        let expected = try stored(sorted, "sorted.sqlite")
        #expect(expected.count == scan.results.count + scan.strict.count)
        #expect(try stored(shuffled, "shuffled.sqlite") == expected)
    }

    @Test("stored clusters are matched with the inventory in order, out of order, and when some come and go")
    func storedClustersMatch() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Fixture.writer(dir.appendingPathComponent("match.sqlite").path)
        let full = Fixture.demo.fleet
        var fewer = full
        fewer.clusters.remove(at: 5)
        fewer.clusters.remove(at: 2)
        var reordered = full
        reordered.clusters.reverse()
        reordered.clusters.append(reordered.clusters[0])  // a repeated id
        func counts(_ outcome: RecordOutcome) -> [Int] {
            [outcome.clustersAdded, outcome.clustersUpdated, outcome.clustersRemoved]
        }
        // The first run stores the clusters in the order of `fewer`; the two missing ones come later.
        var outcome = try Fixture.record(store, Fixture.scan(fewer), fleet: fewer)
        #expect(outcome.clustersAdded == 15)
        outcome = try Fixture.record(store, Fixture.scan(), fleet: full, now: "2026-11-22T18:00:00Z")
        #expect(
            counts(outcome) == [2, 0, 0])
        outcome = try Fixture.record(store, Fixture.scan(fewer), fleet: fewer, now: "2026-11-23T18:00:00Z")
        #expect(counts(outcome) == [0, 0, 2])
        outcome = try Fixture.record(store, Fixture.scan(), fleet: reordered, now: "2026-11-24T18:00:00Z")
        #expect(counts(outcome) == [0, 2, 0])
        #expect(try Fixture.count(store, "clusters") == 17)
        #expect(try store.database.scalarInt("SELECT count(*) FROM clusters WHERE removed_run IS NOT NULL") == 0)
        // Unchanged, in order: nothing to write.
        outcome = try Fixture.record(store, Fixture.scan(), fleet: full, now: "2026-11-25T18:00:00Z")
        #expect(outcome.rowsAdded == 1 && outcome.clustersUpdated == 0)
    }
}
