import FleetCore
import Planner
import Testing

@Suite("Planner Key Vault references")
struct KeyVaultReferencePlanTests {
    static let vaultId =
        "/subscriptions/\(subscriptionA)/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-fleet"

    @Test("a Key Vault reference in an assignment reaches the plan file and comes back from it unchanged")
    func referenceSurvivesThePlanFile() throws {
        var fixture = Fixture()
        fixture.definitions["deploy-flux-extension-secret"] = try PlannerSecretTests.secretDefinition()
        fixture.assign(
            "secret-extension",
            definition: "/providers/Microsoft.Authorization/policyDefinitions/deploy-flux-extension-secret",
            parameters: #"""
                "gitToken": {"reference": {"keyVault": {"id": "\#(Self.vaultId)"}, "secretName": "git-token",
                  "secretVersion": "4387e9f3d6e14c459867679a90fd0f79"}}
                """#)
        fixture.aks("c1")
        let plan = try fixture.plan()
        let expected = JSON.object([
            "$secretReference": .object([
                "reference": .object([
                    "keyVault": .object(["id": .string(Self.vaultId)]), "secretName": .string("git-token"),
                    "secretVersion": .string("4387e9f3d6e14c459867679a90fd0f79"),
                ])
            ])
        ])
        let action = try #require(plan.cluster("c1")?.actions.first)
        #expect(action.body?["properties"]?["configurationProtectedSettings"]?["gitToken"] == expected)

        let (read, _) = try Plan.read(plan.jsonBytes(), file: "plan.json")
        let reread = try #require(read.clusters.first { $0.name == "c1" }?.actions.first)
        #expect(reread.body == action.body)
        #expect(reread.body?["properties"]?["configurationProtectedSettings"]?["gitToken"] == expected)
    }
}
