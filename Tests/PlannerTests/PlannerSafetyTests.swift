import FleetCore
import Foundation
import Planner
import PolicyEngine
import Testing

@testable import Planner

@Suite("Planner fingerprints")
struct FingerprintTests {
    /// A cluster on the baseline, with what varies.
    func fingerprint(
        branch: String = "main", statusUpdatedAt: String = "2026-11-21T17:55:00+00:00",
        lastModified: String = "2026-10-05T14:18:22.471Z", extensionState: String = "Succeeded", nodeCount: Int = 3,
        complianceState: String = "Compliant"
    ) throws -> String {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1", nodeCount: nodeCount)
        fixture.fluxExtension(on: caseCluster, state: extensionState, lastModified: lastModified)
        fixture.configuration(
            on: caseCluster, branch: branch, statusUpdatedAt: statusUpdatedAt, complianceState: complianceState)
        return try #require(try fixture.plan().cluster("c1")?.fingerprint)
    }

    @Test("the same input gives the same fingerprint")
    func stable() throws {
        let first = try fingerprint()
        #expect(first.hasPrefix("sha256:"))
        #expect(first.count == 7 + 64)
        #expect(try fingerprint() == first)
    }

    @Test("status timestamps, Flux's runtime state, systemData and node counts do not move it")
    func volatile() throws {
        let base = try fingerprint()
        #expect(try fingerprint(statusUpdatedAt: "2026-11-21T17:59:59+00:00") == base)
        #expect(try fingerprint(lastModified: "2026-11-21T17:00:00Z") == base)
        #expect(try fingerprint(complianceState: "Non-Compliant") == base)
        #expect(try fingerprint(nodeCount: 7) == base)
    }

    @Test("a spec change or a provisioning state change moves it")
    func moves() throws {
        let base = try fingerprint()
        #expect(try fingerprint(branch: "release") != base)
        #expect(try fingerprint(extensionState: "Failed") != base)
    }

    @Test("the same state read from Resource Graph and from ARM has the same fingerprint")
    func sourceIndependent() throws {
        var graph = Fixture()
        graph.assign("baseline")
        graph.aks("c1")
        graph.fluxExtensionFromResourceGraph(on: caseCluster)
        graph.configuration(on: caseCluster, resourceGraphColumns: true)
        let plan = try graph.plan()
        #expect(plan.cluster("c1")?.decision == .noop)
        #expect(plan.cluster("c1")?.fingerprint == (try fingerprint()))
    }
}

@Suite("Planner secrets")
struct PlannerSecretTests {
    static let canary = "CANARY-5e1f-do-not-print"

    /// The extension definition with a secure `gitToken` going into `configurationProtectedSettings`.
    static func secretDefinition() throws -> String {
        let url = repositoryRoot.appendingPathComponent("policies/definitions/deploy-flux-extension.json")
        var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        root["id"] = "/providers/Microsoft.Authorization/policyDefinitions/deploy-flux-extension-secret"
        root["name"] = "deploy-flux-extension-secret"
        var properties = try #require(root["properties"] as? [String: Any])
        var parameters = try #require(properties["parameters"] as? [String: Any])
        parameters["gitToken"] = ["type": "String"]
        properties["parameters"] = parameters
        var rule = try #require(properties["policyRule"] as? [String: Any])
        var then = try #require(rule["then"] as? [String: Any])
        var details = try #require(then["details"] as? [String: Any])
        var deployment = try #require(details["deployment"] as? [String: Any])
        var deploymentProperties = try #require(deployment["properties"] as? [String: Any])
        var deploymentParameters = try #require(deploymentProperties["parameters"] as? [String: Any])
        deploymentParameters["gitToken"] = ["value": "[parameters('gitToken')]"]
        deploymentProperties["parameters"] = deploymentParameters
        var template = try #require(deploymentProperties["template"] as? [String: Any])
        var templateParameters = try #require(template["parameters"] as? [String: Any])
        templateParameters["gitToken"] = ["type": "securestring"]
        template["parameters"] = templateParameters
        let resources = try #require(template["resources"] as? [[String: Any]])
        template["resources"] = resources.map { resource -> [String: Any] in
            var resource = resource
            var resourceProperties = resource["properties"] as? [String: Any] ?? [:]
            resourceProperties["configurationProtectedSettings"] = ["gitToken": "[parameters('gitToken')]"]
            resource["properties"] = resourceProperties
            return resource
        }
        deploymentProperties["template"] = template
        deployment["properties"] = deploymentProperties
        details["deployment"] = deployment
        then["details"] = details
        rule["then"] = then
        properties["policyRule"] = rule
        root["properties"] = properties
        return String(decoding: try JSONSerialization.data(withJSONObject: root), as: UTF8.self)
    }

    @Test("a secret reference stays a reference in the body and the plan document")
    func referenceStays() throws {
        var fixture = Fixture()
        fixture.definitions["deploy-flux-extension-secret"] = try Self.secretDefinition()
        fixture.assign(
            "secret-extension",
            definition: "/providers/Microsoft.Authorization/policyDefinitions/deploy-flux-extension-secret",
            parameters: #""gitToken": {"fromEnv": "FLUX_GIT_TOKEN"}"#)
        fixture.aks("c1")
        let plan = try fixture.plan()
        let action = try #require(plan.cluster("c1")?.actions.first)
        #expect(action.kind == .installExtension)
        let settings = action.body?["properties"]?["configurationProtectedSettings"]?["gitToken"]
        #expect(settings == .object(["$secretReference": .object(["fromEnv": .string("FLUX_GIT_TOKEN")])]))
        let document = String(decoding: plan.jsonBytes(), as: UTF8.self)
        #expect(document.contains("\"$secretReference\""))
        #expect(document.contains("FLUX_GIT_TOKEN"))
    }

    @Test("a literal secret in a desired body is masked, never printed")
    func literalMasked() throws {
        var fixture = Fixture()
        fixture.definitions["deploy-flux-extension-secret"] = try Self.secretDefinition()
        fixture.assign(
            "secret-extension",
            definition: "/providers/Microsoft.Authorization/policyDefinitions/deploy-flux-extension-secret",
            parameters: #""gitToken": {"value": "\#(Self.canary)"}"#)
        fixture.aks("c1")
        let plan = try fixture.plan()
        let action = try #require(plan.cluster("c1")?.actions.first)
        #expect(action.body?["properties"]?["configurationProtectedSettings"]?["gitToken"] == .string(Redaction.mask))
        #expect(!String(decoding: plan.jsonBytes(), as: UTF8.self).contains(Self.canary))
        #expect(!plan.table().contains(Self.canary))
    }

    @Test("a credential in an observed record never reaches the plan")
    func observedCanary() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        fixture.fluxExtension(
            on: caseCluster, settings: #"{"multiTenancy.enforce": "true", "token": "\#(Self.canary)"}"#)
        fixture.configuration(
            on: caseCluster, url: "https://x-access-token:\(Self.canary)@github.com/contoso/fleet-gitops",
            extra: #""configurationProtectedSettings": {"sshPrivateKey": "\#(Self.canary)"}, "#)
        let plan = try fixture.plan()
        let cluster = try #require(plan.cluster("c1"))
        #expect(cluster.kinds == [.repairExtension, .updateConfiguration])
        let url = cluster.actions.last?.diff.first { $0.path == "properties.gitRepository.url" }
        #expect(url?.before == .string("https://***@github.com/contoso/fleet-gitops"))
        #expect(!String(decoding: plan.jsonBytes(), as: UTF8.self).contains(Self.canary))
        #expect(!plan.table().contains(Self.canary))
    }
}

@Suite("Planner on the demo fleet")
struct DemoPlanTests {
    @Test("default options: enforced subscription A planned, DoNotEnforce subscription B skipped, rg-lab left out")
    func defaults() throws {
        let plan = try demoPlan()
        #expect(plan.clusters.count == 16)
        #expect(!plan.clusters.contains { $0.name == "aks-lab-scratch" })
        let decisions = Dictionary(uniqueKeysWithValues: plan.clusters.map { ($0.name, $0.decision) })
        #expect(decisions["aks-prod-weu-01"] == .noop)
        #expect(decisions["arc-hci-plant-01"] == .noop)
        #expect(decisions["aks-prod-payments"] == .skipped)
        #expect(decisions["aks-legacy-spn"] == .blocked)
        #expect(decisions["aks-dev-stopped"] == .skipped)
        #expect(plan.cluster("aks-prod-neu-02")?.kinds == [.installExtension, .createConfiguration])
        #expect(
            plan.cluster("aks-prod-eus-03")?.actions.first?.diff.map(\.path) == [
                "properties.kustomizations.apps.path", "properties.kustomizations.monitoring",
            ])
        #expect(
            plan.summaryLine
                == "Plan: 1 to install, 2 to create, 2 to update; 1 blocked, 0 deferred, 2 unchanged, 9 skipped.")
    }

    @Test("--include-do-not-enforce --migrate-flux-v1: every DESIGN case")
    func everything() throws {
        let plan = try demoPlan(PlanOptions(migrateFluxV1: true, includeDoNotEnforce: true))
        #expect(plan.cluster("aks-dev-fluxv1")?.kinds == [.deleteFluxV1, .installExtension, .createConfiguration])
        #expect(plan.cluster("aks-dev-stopped")?.reason?.code == "aksStopped")
        #expect(plan.cluster("aks-dev-extfailed")?.kinds == [.repairExtension, .createConfiguration])
        #expect(plan.cluster("aks-dev-arm64")?.kinds == [.upgradeExtension])
        #expect(plan.cluster("arc-store-042")?.decision == .noop)
        #expect(plan.cluster("arc-store-099")?.reason?.code == "arcExpired")
        #expect(plan.cluster("arc-store-017")?.kinds == [.updateConfiguration])
        #expect(
            plan.cluster("aks-dev-localauth")?.actions.map(\.resourceId).allSatisfy { !$0.hasSuffix("team-apps") }
                == true)
    }

    @Test("the same inputs give the same plan document, byte for byte, and the same plan id")
    func deterministic() throws {
        let plan = try demoPlan()
        #expect(try plan.jsonBytes() == demoPlan().jsonBytes())
        #expect(plan.planId.hasPrefix("sha256:"))
        #expect(String(decoding: plan.jsonBytes(), as: UTF8.self).contains("\"planId\": \"\(plan.planId)\""))
        let other = try demoPlan(PlanOptions(includeDoNotEnforce: true))
        #expect(other.planId != plan.planId)
    }
}
