import FleetCore
import Foundation
import Planner
import Testing

@Suite("Plan permissions (plan --show-permissions)")
struct PermissionsTests {
    static let vault =
        "/subscriptions/\(subscriptionA)/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-fleet"

    @Test("per resource group: read-back on every cluster type, writes and operation reads per action kind")
    func perResourceGroup() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1", group: "rg-a")  // install + create
        fixture.aks("c2", group: "rg-a")
        fixture.arc("a1", group: "rg-b")
        fixture.aks("ok", group: "rg-c")  // already on the baseline: noop, no grant
        let ok = Fixture.clusterID("ok", group: "rg-c")
        fixture.fluxExtension(on: ok)
        fixture.configuration(on: ok)
        let permissions = PlanPermissions(plan: try fixture.plan())

        #expect(permissions.clustersToChange == 3)
        #expect(
            permissions.grants.map(\.scope) == [
                "/subscriptions/\(subscriptionA)/resourceGroups/rg-a",
                "/subscriptions/\(subscriptionA)/resourceGroups/rg-b",
            ])
        #expect(permissions.grants.map(\.clusters) == [2, 1])
        let aks = permissions.grants[0].actions
        #expect(
            aks.map(\.action) == [
                "Microsoft.ContainerService/managedClusters/read",
                "Microsoft.KubernetesConfiguration/extensions/operations/read",
                "Microsoft.KubernetesConfiguration/extensions/read",
                "Microsoft.KubernetesConfiguration/extensions/write",
                "Microsoft.KubernetesConfiguration/fluxConfigurations/operations/read",
                "Microsoft.KubernetesConfiguration/fluxConfigurations/read",
                "Microsoft.KubernetesConfiguration/fluxConfigurations/write",
                "Microsoft.KubernetesConfiguration/sourceControlConfigurations/read",
            ])
        #expect(aks.first { $0.action.hasSuffix("extensions/write") }?.why == "install-extension ×2")
        #expect(aks.first { $0.action.hasSuffix("managedClusters/read") }?.why == "read back before apply ×2")
        #expect(permissions.grants[1].actions.first?.action == "Microsoft.Kubernetes/connectedClusters/read")
        #expect(!permissions.allActions.contains { $0.hasSuffix("/delete") })
        #expect(permissions.allDataActions.isEmpty)
    }

    @Test("a replacement needs fluxConfigurations/delete; a Flux v1 migration needs sourceControlConfigurations/delete")
    func deletes() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.fluxExtension(on: caseCluster)
        fixture.configuration(on: caseCluster, namespace: "gitops")
        fixture.aks("c2")
        fixture.fluxV1(on: Fixture.clusterID("c2"))
        let plan = try fixture.plan(PlanOptions(allowReplace: true, migrateFluxV1: true))
        let actions = PlanPermissions(plan: plan).allActions
        #expect(actions.contains("Microsoft.KubernetesConfiguration/fluxConfigurations/delete"))
        #expect(actions.contains("Microsoft.KubernetesConfiguration/sourceControlConfigurations/delete"))
        #expect(!actions.contains("Microsoft.KubernetesConfiguration/extensions/delete"))
    }

    @Test("a Key Vault secret reference adds the getSecret data action on that vault, and the role lists it")
    func keyVault() throws {
        var fixture = Fixture()
        fixture.definitions["deploy-flux-extension-secret"] = try PlannerSecretTests.secretDefinition()
        fixture.assign(
            "secret-extension",
            definition: "/providers/Microsoft.Authorization/policyDefinitions/deploy-flux-extension-secret",
            parameters: #""gitToken": {"reference": {"keyVault": {"id": "\#(Self.vault)"}, "secretName": "git-token"}}"#
        )
        fixture.aks("c1")
        fixture.aks("c2")
        let permissions = PlanPermissions(plan: try fixture.plan())
        let last = try #require(permissions.grants.last)
        #expect(last.scope == Self.vault)
        #expect(last.actions.isEmpty)
        #expect(last.dataActions.map(\.action) == [PlanPermissions.keyVaultGetSecret])
        #expect(last.dataActions.first?.why == "secret reference in install-extension ×2")

        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(permissions.jsonBytes())) as? [String: Any])
        let role = try #require(document["roleDefinition"] as? [String: Any])
        #expect(role["IsCustom"] as? Bool == true)
        #expect(role["DataActions"] as? [String] == [PlanPermissions.keyVaultGetSecret])
        #expect((role["AssignableScopes"] as? [String])?.last == Self.vault)
        #expect((role["Actions"] as? [String])?.contains("Microsoft.KubernetesConfiguration/extensions/write") == true)
        #expect(permissions.table().contains("Key Vault Secrets User"))
    }

    @Test("a plan without changes needs no write permission and says so")
    func nothingToDo() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.fluxExtension(on: caseCluster)
        fixture.configuration(on: caseCluster)
        let permissions = PlanPermissions(plan: try fixture.plan())
        #expect(permissions.grants.isEmpty)
        #expect(permissions.table().contains("needs no write permission"))
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(permissions.jsonBytes())) as? [String: Any])
        #expect((document["scopes"] as? [Any])?.isEmpty == true)
    }
}
