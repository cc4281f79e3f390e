import FleetCore
import Testing

@testable import ARMEmulator

/// The whole demo fleet: what the remediation would do, cluster by cluster, with ARM's limits on.
@Suite("demo fleet scenario")
struct DemoScenarioTests {
    static let subA = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    static let subB = "5c2e3a9d-8f47-4b6e-9a31-2d0c7e5f1a84"

    static func aks(_ sub: String, _ group: String, _ name: String) -> String {
        "/subscriptions/\(sub)/resourceGroups/\(group)/providers/Microsoft.ContainerService/managedClusters/\(name)"
    }

    static func arc(_ name: String) -> String {
        "/subscriptions/\(subB)/resourceGroups/rg-edge-stores/providers/Microsoft.Kubernetes/connectedClusters/\(name)"
    }

    @Test(
        "install the extension, then the configuration, on an eligible cluster: Succeeded and Compliant in the snapshot"
    )
    func eligibleCluster() throws {
        let cluster = Self.aks(Self.subA, "rg-prod-neu", "aks-prod-neu-02")
        var state = EmulatorState(inventory: Fixture.demo)
        // Before the extension, the configuration is refused.
        #expect(state.putConfiguration(cluster).status == 400)
        let put = state.putExtension(cluster)
        #expect(put.status == 201)
        #expect(put.header("x-ms-ratelimit-remaining-subscription-writes") == "198")
        let async = try #require(put.header("Azure-AsyncOperation"))
        // Poll as a client would, honouring Retry-After.
        var polls = 0
        while state.follow(async).json["status"]?.string == "InProgress" {
            state.advance(by: Int64(try #require(Int(put.header("Retry-After") ?? ""))) * 1000)
            polls += 1
        }
        #expect(polls == 12)
        #expect(state.follow(async).json["status"]?.string == "Succeeded")
        let config = state.putConfiguration(cluster)
        #expect(config.status == 201)
        state.advance(by: 20_000 + 30_000)

        let fleet = try InventoryTests.reload(state.snapshot())
        let reloaded = try #require(fleet.cluster(id: cluster))
        #expect(reloaded.fluxExtension?.provisioningState == "Succeeded")
        #expect(reloaded.fluxExtension?.installedVersion == "1.19.5")
        #expect(reloaded.fluxExtension?.configurationSettings == ["multiTenancy.enforce": "false"])
        let baseline = try #require(reloaded.fluxConfigurations.first)
        #expect(reloaded.fluxConfigurations.map(\.name) == ["gitops-baseline"])
        #expect(baseline.provisioningState == "Succeeded")
        #expect(baseline.complianceState == "Compliant")
        #expect(baseline.kustomizations == ["apps", "infra"])
        #expect(baseline.sourceURL == "https://github.com/contoso/fleet-gitops")
        #expect(baseline.reference == "branch:main")
        // Compliant just now: the agent's report is the newest status.
        #expect(baseline.statusUpdatedAt == EmulatorClock.iso8601(state.now))
        #expect(Eligibility.evaluate(reloaded).eligible)
        // Nothing else changed.
        for other in fleet.clusters where other.id != reloaded.id {
            let before = try #require(Fixture.demo.cluster(id: other.id.description))
            #expect(InventoryTests.summary(other) == InventoryTests.summary(before))
        }
    }

    @Test("the clusters the eligibility table holds back are held back by the emulator too")
    func heldBack() throws {
        var state = EmulatorState(inventory: Fixture.demo)
        let spn = state.putExtension(Self.aks(Self.subA, "rg-legacy", "aks-legacy-spn"))
        #expect(spn.errorCode == "ExtensionOperationFailed")
        let v1 = state.putExtension(Self.aks(Self.subB, "rg-dev", "aks-dev-fluxv1"))
        #expect(v1.errorCode == "ExtensionOperationFailed")
        // Stopped: accepted, never completes while the cluster is stopped.
        let stopped = state.putExtension(Self.aks(Self.subB, "rg-dev", "aks-dev-stopped"))
        #expect(stopped.status == 200 || stopped.status == 201)
        state.advance(by: 86_400_000)
        #expect(
            state.follow(try #require(stopped.header("Azure-AsyncOperation"))).json["status"]?.string == "InProgress")
        let failed = state.putConfiguration(Self.aks(Self.subB, "rg-dev", "aks-dev-extfailed"))
        #expect(failed.status == 400)
        // Repairing the failed extension by re-PUT, then the configuration goes through.
        #expect(state.putExtension(Self.aks(Self.subB, "rg-dev", "aks-dev-extfailed")).status == 200)
        state.advance(by: 60_000)
        #expect(state.putConfiguration(Self.aks(Self.subB, "rg-dev", "aks-dev-extfailed")).status == 201)

        // Offline: accepted, never completes; its stale status stays stale.
        let offline = Self.arc("arc-store-042")
        let before = state.getChild(offline, .fluxConfigurations, "gitops-baseline").property("statusUpdatedAt")
        let put = state.putExtension(offline)
        #expect(put.status == 200)
        state.advance(by: 86_400_000)
        #expect(state.follow(try #require(put.header("Azure-AsyncOperation"))).json["status"]?.string == "InProgress")
        #expect(state.getChild(offline, .fluxConfigurations, "gitops-baseline").property("statusUpdatedAt") == before)
        // Expired: the same.
        let expired = state.putExtension(Self.arc("arc-store-099"))
        #expect(expired.status == 201)
        state.advance(by: 86_400_000)
        #expect(
            state.follow(try #require(expired.header("Azure-AsyncOperation"))).json["status"]?.string == "InProgress")
    }
}
