import Foundation
import Testing

/// Azure semantics checked end to end on small inventories and policies written here.
@Suite("policy semantics (built binary)")
struct PolicySemanticsTests {
    static let cluster =
        "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-1"

    /// Writes an inventory with one cluster and one fluxConfiguration, and `definitions` assigned at `s1`.
    static func workspace(_ definitions: [String: String], scope: String = "/subscriptions/s1") throws -> URL {
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
        try records.joined(separator: "\n").write(
            to: dir.appendingPathComponent("fleet.ndjson"), atomically: true, encoding: .utf8)
        for (name, body) in definitions {
            try body.write(
                to: dir.appendingPathComponent("policies/definitions/\(name).json"), atomically: true, encoding: .utf8)
            let assignment = #"""
                {"id": "\#(scope)/providers/Microsoft.Authorization/policyAssignments/\#(name)",
                 "properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/\#(name)"}}
                """#
            try assignment.write(
                to: dir.appendingPathComponent("policies/assignments/\(name).json"), atomically: true, encoding: .utf8)
        }
        return dir
    }

    static func scan(_ dir: URL) throws -> [[String: Any]] {
        let result = try CLI.run([
            "scan", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--policies",
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
            "scan", "--inventory", dir.appendingPathComponent("fleet.ndjson").path, "--policies",
            dir.appendingPathComponent("policies").path, "--now", "2026-11-21T18:00:00Z", "--output", "json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let results = document?["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["state"] as? String } == ["NonCompliant"])
        let diagnostics = document?["diagnostics"] as? [[String: Any]] ?? []
        #expect(diagnostics.contains { ($0["message"] as? String)?.contains("management group") == true })
    }
}
