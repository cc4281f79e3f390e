import Foundation
import Testing

/// Azure semantics checked end to end on small inventories and policies written here.
@Suite("policy semantics (built binary)")
struct PolicySemanticsTests {
    static let cluster =
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-1"

    /// Writes an inventory with one cluster and one fluxConfiguration, and `definitions` assigned at `s1`.
    static func workspace(
        _ definitions: [String: String], scope: String = "/subscriptions/s1", extraRecords: [String] = [],
        assignmentProperties: String = ""
    ) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ff-semantics-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(
            at: dir.appendingPathComponent("policies/definitions"), withIntermediateDirectories: true)
        try fm.createDirectory(
            at: dir.appendingPathComponent("policies/assignments"), withIntermediateDirectories: true)
        let records = [
            #"{"id": "\#(cluster)", "name": "aks-1", "type": "Microsoft.ContainerService/managedClusters", "location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {"provisioningState": "Succeeded"}}"#,
            #"{"id": "\#(cluster)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/cfg", "name": "cfg", "type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "properties": {"scope": "cluster", "namespace": "flux-system", "gitRepository": {"url": "http://insecure.example/repo"}}}"#,
        ]
        try (records + extraRecords).joined(separator: "\n").write(
            to: dir.appendingPathComponent("fleet.ndjson"), atomically: true, encoding: .utf8)
        for (name, body) in definitions {
            try body.write(
                to: dir.appendingPathComponent("policies/definitions/\(name).json"), atomically: true, encoding: .utf8)
            let assignment = #"""
                {"id": "\#(scope)/providers/Microsoft.Authorization/policyAssignments/\#(name)",
                 "properties": {\#(assignmentProperties)"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/\#(name)"}}
                """#
            try assignment.write(
                to: dir.appendingPathComponent("policies/assignments/\(name).json"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    static func scan(_ dir: URL) throws -> [[String: Any]] {
        let result = try CLI.run([
            "scan", "--no-record", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--policies",
            dir.appendingPathComponent("policies").path, "--now", "2026-11-21T18:00:00Z", "--output", "json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return document?["results"] as? [[String: Any]] ?? []
    }

    @Test("field() in an existenceCondition reads the evaluated cluster, field conditions the related resource")
    func existenceFieldFunction() throws {
        let definition = #"""
            {"properties": {"policyRule": {
              "if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
              "then": {"effect": "AuditIfNotExists", "details": {
                "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                "existenceCondition": {"allOf": [
                  {"value": "[field('name')]", "equals": "aks-1"},
                  {"field": "name", "equals": "cfg"}
                ]}}}}}}
            """#
        let dir = try Self.workspace(["aine-field": definition])
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = try Self.scan(dir)
        #expect(results.count == 1)
        #expect(results.first?["state"] as? String == "Compliant", "\(results)")
    }

    @Test("a Deny policy reports would-deny on an existing resource")
    func denyWording() throws {
        let definition = #"""
            {"properties": {"mode": "All", "policyRule": {
              "if": {"allOf": [
                {"field": "type", "equals": "Microsoft.KubernetesConfiguration/fluxConfigurations"},
                {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url", "like": "http://*"}
              ]},
              "then": {"effect": "Deny"}}}}
            """#
        let dir = try Self.workspace(["deny-http": definition])
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = try Self.scan(dir)
        #expect(results.count == 1)
        let result = try #require(results.first)
        #expect(result["state"] as? String == "NonCompliant")
        #expect((result["resourceId"] as? String)?.hasSuffix("/fluxConfigurations/cfg") == true)
        let messages = (result["reasons"] as? [[String: Any]])?.compactMap { $0["message"] as? String } ?? []
        #expect(messages.first == "Azure would deny creating or updating this resource as it is.")
    }

    @Test("an assignment at a management group covers the inventory, with a warning saying so")
    func managementGroupScope() throws {
        let definition = #"""
            {"properties": {"mode": "All", "policyRule": {
              "if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
              "then": {"effect": "Audit"}}}}
            """#
        let dir = try Self.workspace(
            ["audit-aks": definition], scope: "/providers/Microsoft.Management/managementGroups/platform")
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run([
            "scan", "--no-record", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--policies",
            dir.appendingPathComponent("policies").path, "--now", "2026-11-21T18:00:00Z", "--output", "json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let results = document?["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["state"] as? String } == ["NonCompliant"])
        let diagnostics = document?["diagnostics"] as? [[String: Any]] ?? []
        #expect(diagnostics.contains { ($0["message"] as? String)?.contains("management group") == true })
    }

    static func run(_ dir: URL, _ extra: [String] = []) throws -> CLIResult {
        try CLI.run(
            [
                "scan", "--no-record", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--policies",
                dir.appendingPathComponent("policies").path, "--now", "2026-11-21T18:00:00Z",
            ] + extra)
    }

    static let auditAKS = #"""
        {"properties": {"mode": "All", "parameters": {"effect": {"type": "String", "defaultValue": "Audit"}},
          "policyRule": {
          "if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
          "then": {"effect": "[parameters('effect')]"}}}}
        """#

    @Test("an effect that is not an Azure effect is an Error result, and --fail-on-noncompliant exits 2")
    func unknownEffect() throws {
        let dir = try Self.workspace(
            ["audit-aks": Self.auditAKS], assignmentProperties: #""parameters": {"effect": {"value": "Audits"}}, "#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(dir, ["--output", "json", "--fail-on-noncompliant"])
        #expect(result.status == 2)
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let results = document?["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["state"] as? String } == ["Error"])
        #expect((results.first?["error"] as? String)?.contains("'Audits' is not an Azure Policy effect") == true)
        #expect((document?["summary"] as? [String: Any])?["errorResults"] as? Int == 1)
    }

    @Test("an effect override applies only to the locations it selects, locations compared normalised")
    func locationOverride() throws {
        let overrides = #"""
            "overrides": [{"kind": "policyEffect", "value": "Disabled",
              "selectors": [{"kind": "resourceLocation", "in": ["East US"]}]}],
            """#
        let dir = try Self.workspace(["audit-aks": Self.auditAKS], assignmentProperties: overrides)
        defer { try? FileManager.default.removeItem(at: dir) }
        let westEurope = try Self.run(dir, ["--output", "json"])
        #expect(westEurope.stdout.contains("\"NonCompliant\""), "the westeurope cluster is still audited")
        let selectWest =
            #""overrides": [{"kind": "policyEffect", "value": "Disabled", "selectors": [{"kind": "resourceLocation", "in": ["West Europe"]}]}], "#
        let dir2 = try Self.workspace(["audit-aks": Self.auditAKS], assignmentProperties: selectWest)
        defer { try? FileManager.default.removeItem(at: dir2) }
        let disabled = try Self.run(dir2, ["--output", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(disabled.stdout.utf8)) as? [String: Any]
        #expect((document?["results"] as? [Any])?.isEmpty == true)
    }

    @Test("credentials in a Git URL and protected settings never reach the output (canaries)")
    func canaries() throws {
        let url = "https://x-access-token:CANARY_TOKEN_123@github.com/contoso/repo"
        let flux =
            #"{"id": "\#(Self.cluster)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/tok", "name": "tok", "type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "properties": {"gitRepository": {"url": "\#(url)"}}}"#
        let dine = #"""
            {"properties": {"policyRule": {
              "if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
              "then": {"effect": "DeployIfNotExists", "details": {
                "type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "name": "wanted",
                "roleDefinitionIds": ["/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"],
                "existenceCondition": {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url", "equals": "\#(url)"},
                "deployment": {"properties": {"mode": "incremental", "template": {
                  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
                  "contentVersion": "1.0.0.0", "resources": [{
                    "type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "apiVersion": "2025-04-01",
                    "name": "wanted", "scope": "Microsoft.ContainerService/managedClusters/aks-1",
                    "properties": {"gitRepository": {"url": "\#(url)"},
                      "configurationProtectedSettings": {"httpsKey": "CANARY_PROTECTED_456"}}}]}}}}}}}}
            """#
        let audit = #"""
            {"properties": {"mode": "All", "policyRule": {
              "if": {"allOf": [{"field": "type", "equals": "Microsoft.KubernetesConfiguration/fluxConfigurations"},
                {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url", "like": "https://*"}]},
              "then": {"effect": "Audit"}}}}
            """#
        let dir = try Self.workspace(["deploy-tok": dine, "audit-url": audit], extraRecords: [flux])
        defer { try? FileManager.default.removeItem(at: dir) }
        let inventory = try CLI.run([
            "inventory", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--output", "json",
        ])
        let outputs = [
            inventory, try Self.run(dir, ["--output", "json"]), try Self.run(dir),
            try CLI.run([
                "policy", "explain", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--policies",
                dir.appendingPathComponent("policies").path, "--cluster", "aks-1", "--now", "2026-11-21T18:00:00Z",
            ]),
        ]
        for output in outputs {
            #expect(output.status == 0, "stderr: \(output.stderr)")
            #expect(!output.stdout.isEmpty)
            for canary in ["CANARY_TOKEN_123", "CANARY_PROTECTED_456"] {
                #expect(!output.stdout.contains(canary), "\(canary) leaked")
                #expect(!output.stderr.contains(canary), "\(canary) leaked to stderr")
            }
        }
        #expect(outputs[0].stdout.contains("https://***@github.com/contoso/repo"))
    }

    @Test("an ARM list saved with a nextLink is reported as incomplete")
    func nextLink() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ff-nextlink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let list =
            #"{"value": [{"id": "\#(Self.cluster)", "name": "aks-1", "type": "Microsoft.ContainerService/managedClusters"}], "nextLink": "https://management.azure.com/next?$skiptoken=abc"}"#
        try list.write(to: dir.appendingPathComponent("list.json"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["inventory", "--inventory", dir.path, "--output", "json"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("incompleteResourceGraphPage"))
    }

    @Test("an *IfNotExists policy on a child resource type is refused with a clear Error, not evaluated wrongly")
    func childTypeIfNotExists() throws {
        let definition = #"""
            {"properties": {"mode": "All", "policyRule": {
              "if": {"field": "type", "equals": "Microsoft.KubernetesConfiguration/fluxConfigurations"},
              "then": {"effect": "AuditIfNotExists", "details": {"type": "Microsoft.KubernetesConfiguration/extensions"}}}}}
            """#
        let dir = try Self.workspace(["aine-child": definition])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Self.run(dir, ["--output", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let results = document?["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["state"] as? String } == ["Error"])
        #expect((results.first?["error"] as? String)?.contains("is not supported yet") == true)
    }
}
