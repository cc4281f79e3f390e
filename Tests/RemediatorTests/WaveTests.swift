import ARMEmulator
import FleetCore
import Planner
import Remediator
import Testing

@Suite("waves")
struct WaveTests {
    static func harness(_ count: Int, servicePrincipal: Set<Int> = []) throws -> (EmulatorHarness, [ClusterPlan]) {
        let fleet = try GeneratedFleet.fleet(count, servicePrincipal: servicePrincipal)
        var configuration = EmulatorConfiguration()
        configuration.extensionProvisioningDelay = 5_000
        return (
            EmulatorHarness(EmulatorState(inventory: fleet, configuration: configuration)),
            GeneratedFleet.plans(fleet, body: GeneratedFleet.extensionBody)
        )
    }

    @Test("percentage selectors are deterministic, cumulative and near their share")
    func percentages() {
        let ids = (0..<2_000).map { GeneratedFleet.clusterID($0) }
        let ten = ids.filter { WaveSelector.percent(10).matches(clusterId: $0, name: "", tags: [:]) }
        let thirty = ids.filter { WaveSelector.percent(30).matches(clusterId: $0, name: "", tags: [:]) }
        #expect(ten.count > 140 && ten.count < 260)
        #expect(thirty.count > 500 && thirty.count < 700)
        #expect(Set(ten).isSubset(of: Set(thirty)))
        #expect(WaveSelector.bucket(of: ids[7]) == WaveSelector.bucket(of: ids[7].uppercased()))
        #expect(ids.filter { WaveSelector.percent(0).matches(clusterId: $0, name: "", tags: [:]) }.isEmpty)
        #expect(ids.allSatisfy { WaveSelector.percent(100).matches(clusterId: $0, name: "", tags: [:]) })
    }

    @Test("canary first, then a share, then the rest, with a soak between waves")
    func ordered() throws {
        let (harness, plans) = try Self.harness(40)
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let waves = [
            Wave(name: "canary", selector: .clusters(["aks-3", "aks-17"]), maxParallel: 1, soak: 600_000),
            Wave(name: "early", selector: .percent(25), maxParallel: 4, soak: 300_000),
            Wave(name: "rest", selector: .rest),
        ]
        let summary = remediator.apply(plans, waves: waves, run: "r")
        #expect(summary.outcomes.allSatisfy { $0.status == .succeeded })
        #expect(summary.haltedBy == nil)
        #expect(summary.waves.map(\.name) == ["canary", "early", "rest"])
        #expect(summary.waves[0].clusters == 2)
        #expect(summary.waves.map(\.clusters).reduce(0, +) == 40)
        let names = harness.writtenResources.map { $0.split(separator: "/")[7] }
        #expect(Set(names.prefix(2)) == ["aks-3", "aks-17"])
        // Canary one at a time: the second canary is written after the first finished.
        let canaryWrites = harness.writes.prefix(2).map(\.at)
        #expect(canaryWrites[1] - canaryWrites[0] >= 5_000)
        // The soak: the early wave starts at least 10 minutes after the canary's last write.
        #expect(harness.writes[2].at - harness.writes[1].at >= 600_000)
        #expect(summary.text.contains("40 succeeded, 0 failed, 0 deferred"))
    }

    @Test("a wave over its failure budget halts the run: later waves are deferred and untouched")
    func halts() throws {
        let (harness, plans) = try Self.harness(30, servicePrincipal: [3])
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let waves = [
            Wave(name: "canary", selector: .clusters(["aks-1", "aks-2", "aks-3"]), failureBudget: .count(0)),
            Wave(name: "rest", selector: .rest),
        ]
        let summary = remediator.apply(plans, waves: waves, run: "r")
        #expect(summary.haltedBy == "canary")
        #expect(summary.outcomes(.failed).map(\.name) == ["aks-3"])
        #expect(summary.outcomes(.succeeded).count == 2)
        #expect(summary.outcomes(.deferred).count == 27)
        #expect(summary.outcomes(.deferred).allSatisfy { $0.reason == "runHalted" })
        #expect(harness.writes.count == 3)
        #expect(summary.text.contains("halted: wave canary had 1 failure(s), over its budget of 0"))
        #expect(summary.text.contains("ExtensionOperationFailed"))
        #expect(summary.text.contains("fix: "))
    }

    @Test("within its budget a wave's failures do not halt the run; the next failure does")
    func budget() throws {
        let (harness, plans) = try Self.harness(20, servicePrincipal: [1, 5, 6, 7])
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let waves = [
            Wave(
                name: "first", selector: .clusters((0..<4).map { "aks-\($0)" }), failureBudget: .percent(25)),
            Wave(
                name: "second", selector: .clusters((4..<8).map { "aks-\($0)" }), maxParallel: 1,
                failureBudget: .count(1)),
            Wave(name: "rest", selector: .rest),
        ]
        let summary = remediator.apply(plans, waves: waves, run: "r")
        #expect(summary.waves.map(\.failed) == [1, 2])
        #expect(summary.haltedBy == "second")
        // One at a time, the second wave stops starting clusters once over budget: aks-7 is never sent.
        #expect(!harness.writtenResources.contains { $0.contains("/aks-7/") })
        #expect(summary.outcomes.first { $0.name == "aks-7" }?.reason == "runHalted")
        #expect(summary.outcomes(.deferred).count == 12 + 1)
    }
}
