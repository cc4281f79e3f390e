import ARMEmulator
import AzureARM
import FleetCore
import Foundation
import Planner
import Remediator
import Testing

@Suite("Key Vault references at apply time")
struct KeyVaultRemediationTests {
    static let subscription = "7d2c1b0a-9e8f-4a6b-8c5d-3e2f1a0b9c8d"

    /// A plan marker for a Key Vault reference, as the Planner writes it from an assignment.
    static func marker(_ name: String, version: String? = nil) -> JSON {
        var reference: [String: JSON] = [
            "keyVault": .object(["id": .string(Vaults.vaultId)]), "secretName": .string(name),
        ]
        if let version { reference["secretVersion"] = .string(version) }
        return .object([DesiredBody.secretMarker: .object(["reference": .object(reference)])])
    }

    /// `count` AKS clusters with a managed identity and no Flux.
    static func fleet(_ count: Int) throws -> Fleet {
        let records = (0..<count).map { index in
            #"""
            {"id": "/subscriptions/\#(subscription)/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-\#(index)",
             "name": "aks-\#(index)", "type": "microsoft.containerservice/managedclusters", "location": "westeurope",
             "resourceGroup": "rg", "subscriptionId": "\#(subscription)", "tags": {},
             "identity": {"type": "SystemAssigned", "principalId": "00000000-1111-4222-8333-444455556666"},
             "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"},
               "servicePrincipalProfile": {"clientId": "msi"}}}
            """#
        }
        let set = try JSONRecords.read(JSONBytes("[" + records.joined(separator: ",") + "]", source: "test"))
        return try Fleet.assemble(set.records.map { InventoryRecord(document: $0, file: "test") })
    }

    /// One plan per cluster: install the extension with `settings` as its protected settings.
    static func plans(_ fleet: Fleet, settings: [String: JSON]) -> [ClusterPlan] {
        let body: JSON = .object([
            "properties": .object([
                "extensionType": .string("microsoft.flux"), "autoUpgradeMinorVersion": .bool(true),
                "scope": .object(["cluster": .object(["releaseNamespace": .string("flux-system")])]),
                "configurationProtectedSettings": .object(settings),
            ])
        ])
        return fleet.clusters.map { cluster in
            ClusterPlan(
                clusterId: cluster.id.description, name: cluster.name, fingerprint: "", decision: .change, reason: nil,
                actions: [
                    PlanAction(
                        kind: .installExtension,
                        resourceId: cluster.id.description
                            + "/providers/Microsoft.KubernetesConfiguration/extensions/flux",
                        resourceType: "Microsoft.KubernetesConfiguration/extensions", apiVersion: "2025-03-01",
                        body: body, diff: [], reason: "missing", assignmentIds: [])
                ])
        }
    }

    @Test("ReferenceSecrets reads Key Vault references through the client; its errors keep message and remedy")
    func referenceSecrets() throws {
        let emulator = Vaults.emulator {
            $0.add(vault: "kv-fleet", name: "git-token", value: "resolved-value")
            $0.add(vault: "kv-fleet", name: "off", value: "x", enabled: false)
        }
        let secrets = ReferenceSecrets(environment: [:], keyVault: try Vaults.client(emulator))
        let wrapped = try #require(Self.marker("git-token")[DesiredBody.secretMarker])
        #expect(try secrets.resolve(wrapped) == "resolved-value")
        let bare = try #require(wrapped["reference"])
        #expect(try secrets.resolve(bare) == "resolved-value")
        #expect(emulator.keyVaultRequests.count == 1)
        do {
            _ = try secrets.resolve(try #require(Self.marker("off")[DesiredBody.secretMarker]))
            Issue.record("a disabled secret resolved")
        } catch let failure as RemediationFailure {
            #expect(failure.code == "SecretUnresolved")
            #expect(failure.message.contains("Key Vault 'kv-fleet', secret 'off'"))
            #expect(failure.message.contains("disabled"))
            #expect(failure.remedy.contains("--enabled true"))
        }
    }

    @Test(
        "a canary read from Key Vault during a run reaches ARM's PUT only: not the failures, events, journal or state")
    func canary() throws {
        let canary = "kv-canary-5d2e-never-print"
        let disabledCanary = "kv-canary-disabled-81f0"
        let fleet = try Self.fleet(3)
        var configuration = EmulatorConfiguration()
        configuration.throttling = nil
        var state = EmulatorState(inventory: fleet, configuration: configuration)
        state.keyVaults.add(vault: "kv-fleet", name: "git-token", value: canary)
        state.keyVaults.add(vault: "kv-fleet", name: "old-token", value: disabledCanary, enabled: false)
        let emulator = SharedVaultEmulator(state)
        let client = try Vaults.client(emulator)
        let journal = InMemoryJournal()
        var events: [String] = []
        let remediator = Remediator(
            transport: emulator, clock: emulator, journal: journal,
            secrets: ReferenceSecrets(environment: [:], keyVault: client))
        remediator.observer = { event, _ in events.append("\(event)") }
        var plans = Self.plans(fleet, settings: ["gitToken": Self.marker("git-token")])
        plans[2] = Self.plans(fleet, settings: ["gitToken": Self.marker("old-token")])[2]
        let outcomes = remediator.execute(plans, run: "kv")

        #expect(outcomes.prefix(2).allSatisfy { $0.status == .succeeded })
        #expect(outcomes[2].status == .failed)
        #expect(outcomes[2].failure?.code == "SecretUnresolved")
        #expect(outcomes[2].failure?.message.contains("secret 'old-token'") == true)
        #expect(emulator.keyVaultRequests.count == 2, "each secret is read once for the whole run")
        let puts = emulator.requests.filter { $0.method == "PUT" }
        #expect(puts.count == 2)
        #expect(puts.allSatisfy { String(decoding: $0.body, as: UTF8.self).contains(canary) })

        let records =
            outcomes.map { "\($0)" } + events + journal.entries.map { "\($0)" }
            + emulator.requests.map { "\($0.method) \($0.url) \($0.headers)" }
            + [String(decoding: emulator.snapshot(), as: UTF8.self)]
        for secret in [canary, disabledCanary] {
            #expect(!records.contains { $0.contains(secret) }, "the secret \(secret) leaked")
        }
    }
}
