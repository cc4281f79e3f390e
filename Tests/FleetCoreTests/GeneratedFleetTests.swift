import Foundation
import Testing

@testable import FleetCore
@testable import FleetGenerator

/// A generated fleet read back through the snapshot reader agrees, cluster by cluster, with the
/// case the generator put each cluster in.
@Suite("generated fleets")
struct GeneratedFleetTests {
    static let size = 600

    static func load(_ format: FleetFormat) throws -> (FleetGenerator, Inventory) {
        let generator = FleetGenerator(clusters: size, seed: 7)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxfleet-generated-\(UUID().uuidString).\(format == .ndjson ? "ndjson" : "json")")
        try Data(generator.generate(format: format)).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return (generator, try SnapshotReader.load(path: url.path))
    }

    @Test("every cluster's kind, eligibility and children match its generated case", arguments: FleetFormat.allCases)
    func agreement(_ format: FleetFormat) throws {
        let (generator, inventory) = try Self.load(format)
        let fleet = inventory.fleet
        #expect(fleet.clusters.count == Self.size)
        #expect(fleet.findings.isEmpty, "\(fleet.findings.prefix(3))")
        var byName: [String: Cluster] = [:]
        for cluster in fleet.clusters { byName[cluster.name] = cluster }
        for index in 1...Self.size {
            let name = generator.clusterName(at: index)
            let fleetCase = generator.clusterCase(at: index)
            let cluster = try #require(byName[name], "missing \(name)")
            let verdict = Eligibility.evaluate(cluster)
            let expected: (decision: String, reason: String?)
            switch fleetCase {
            case .servicePrincipal: expected = ("blocked", "aksServicePrincipal")
            case .fluxV1: expected = ("blocked", "fluxV1Present")
            case .arcExpired: expected = ("blocked", "arcExpired")
            case .arcOffline: expected = ("deferred", "arcOffline")
            case .aksStopped: expected = ("deferred", "aksStopped")
            default: expected = ("eligible", nil)
            }
            #expect(verdict.decision == expected.decision, "\(name) (\(fleetCase))")
            #expect(verdict.primary?.code == expected.reason, "\(name) (\(fleetCase))")
            #expect(Eligibility.primaryCode(cluster) == verdict.primary?.code, "\(name) (\(fleetCase))")
            if fleetCase == .extensionFailed {
                #expect(verdict.advisories.map(\.code).contains("extensionFailed"), "\(name)")
            }
            if fleetCase == .oldExtension {
                #expect(verdict.advisories.map(\.code).contains("extensionOutsideSupport"), "\(name)")
            }
            switch fleetCase {
            case .noExtension, .servicePrincipal, .fluxV1, .arcExpired:
                #expect(cluster.fluxExtension == nil, "\(name) (\(fleetCase))")
            default:
                #expect(cluster.fluxExtension != nil, "\(name) (\(fleetCase))")
            }
            let hasBaseline = cluster.fluxConfigurations.contains { $0.name == "gitops-baseline" }
            switch fleetCase {
            case .aksStopped:
                break  // Half of the stopped clusters were stopped before they got the configuration.
            case .noExtension, .extensionOnly, .servicePrincipal, .fluxV1, .arcExpired, .extensionFailed:
                #expect(!hasBaseline, "\(name) (\(fleetCase))")
            default:
                #expect(hasBaseline, "\(name) (\(fleetCase))")
            }
            #expect(!cluster.fluxV1Configurations.isEmpty == (fleetCase == .fluxV1), "\(name)")
            if fleetCase == .suspended {
                #expect(cluster.fluxConfigurations.first { $0.name == "gitops-baseline" }?.suspend == true)
            }
        }
    }

    @Test("counts by kind and case add up")
    func counts() throws {
        let (generator, inventory) = try Self.load(.array)
        let report = InventoryReport(inventory: inventory)
        let summary = report.summary
        #expect(summary.clusters == Self.size)
        let kinds = Dictionary(uniqueKeysWithValues: summary.byKind)
        #expect(kinds.values.reduce(0, +) == Self.size)
        #expect((kinds["managedClusters"] ?? 0) > Self.size / 2)
        let cases = generator.caseCounts()
        let blocked = (cases[.servicePrincipal] ?? 0) + (cases[.fluxV1] ?? 0) + (cases[.arcExpired] ?? 0)
        let deferred = (cases[.arcOffline] ?? 0) + (cases[.aksStopped] ?? 0)
        let decisions = Dictionary(uniqueKeysWithValues: summary.byDecision)
        #expect(decisions["blocked", default: 0] == blocked)
        #expect(decisions["deferred", default: 0] == deferred)
        #expect(decisions["eligible", default: 0] == Self.size - blocked - deferred)
    }

    @Test("a large array is read the same on one core and on four")
    func parallelAgrees() throws {
        let generator = FleetGenerator(clusters: 1500, seed: 11)
        let bytes = JSONBytes(generator.generate(format: .array), source: "generated")
        #expect(bytes.count > JSONRecords.parallelThreshold)
        let one = try JSONRecords.read(bytes, parallelism: 1)
        let four = try JSONRecords.read(bytes, parallelism: 4)
        #expect(one.records.count == four.records.count)
        for (a, b) in zip(one.records, four.records) {
            #expect(a.base == b.base)
            #expect(a.path == b.path)
        }
    }
}
