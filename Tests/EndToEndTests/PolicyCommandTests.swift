import Foundation
import Testing

/// `fluxfleet scan` and `fluxfleet policy …` run as a user would, on the demo fleet and policies/.
@Suite("fluxfleet scan and policy (built binary)")
struct PolicyCommandTests {
    static let now = "2026-11-21T18:00:00Z"

    @Test("scan table on the demo fleet matches the golden file")
    func scanTable() throws {
        let result = try CLI.run(["scan", "--no-record", "--inventory", "fleet-examples/demo", "--now", Self.now])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "scan-demo.txt")
    }

    @Test("scan JSON on the demo fleet matches the golden file and DESIGN §9")
    func scanJSON() throws {
        let result = try CLI.run([
            "scan", "--no-record", "--inventory", "fleet-examples/demo", "--now", Self.now, "--output", "json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "scan-demo.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["formatVersion"] as? Int == 1)
        let summary = try #require(document["summary"] as? [String: Any])
        for key in ["resources", "compliant", "nonCompliant", "exempt", "error", "compliancePercent"] {
            #expect(summary[key] != nil, "summary lacks \(key)")
        }
        let results = try #require(document["results"] as? [[String: Any]])
        #expect(!results.isEmpty)
        for result in results {
            for key in [
                "resourceId", "clusterId", "assignmentId", "policyDefinitionId", "policyDefinitionReferenceId",
                "effect", "state", "reasons",
            ] {
                #expect(result.keys.contains(key), "result lacks \(key)")
            }
        }
        // The lab resource group is in the dev assignment's notScopes: never evaluated, never counted.
        #expect(!results.contains { ($0["clusterId"] as? String)?.contains("/resourceGroups/rg-lab/") == true })
        // The payments cluster is exempted from the two deploy policies of the prod assignment.
        let payments = results.filter { ($0["clusterId"] as? String)?.hasSuffix("/aks-prod-payments") == true }
        #expect(payments.map { $0["state"] as? String } == ["Exempt", "Exempt"])
        // Strict view: the drifted kustomization that Azure's view calls compliant.
        let strict = try #require(document["strict"] as? [[String: Any]])
        let eus = strict.first {
            ($0["resourceId"] as? String)?.hasSuffix(
                "aks-prod-eus-03/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-baseline")
                == true
        }
        let drift = (eus?["drift"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        #expect(drift.contains("properties.kustomizations.apps.path"))
    }

    @Test("an expired exemption is ignored")
    func expiredExemption() throws {
        let result = try CLI.run([
            "scan", "--no-record", "--inventory", "fleet-examples/demo", "--now", "2027-06-01T00:00:00Z", "--output",
            "json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("\"Exempt\""))
    }

    @Test("--fail-on-noncompliant exits 2 when anything is non-compliant")
    func failOnNoncompliant() throws {
        let result = try CLI.run([
            "scan", "--no-record", "--inventory", "fleet-examples/demo", "--now", Self.now, "--fail-on-noncompliant",
        ])
        #expect(result.status == 2)
    }

    @Test("policy validate accepts policies/")
    func validateOK() throws {
        let result = try CLI.run(["policy", "validate", "policies"])
        #expect(result.status == 0, "stdout: \(result.stdout)")
        #expect(result.stdout.contains("6 definitions, 1 initiatives, 2 assignments, 1 exemptions — valid"))
    }

    @Test("policy validate reports every problem at once with file and JSON path, exit 65")
    func validateBroken() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ff-policies-\(UUID().uuidString)")
        let definitions = dir.appendingPathComponent("definitions")
        try FileManager.default.createDirectory(at: definitions, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let definition = #"""
            {"properties": {"mode": "Indexed",
              "parameters": {"effect": {"type": "String", "defaultValue": "Audit"}},
              "policyRule": {
                "if": {"allOf": [
                  {"field": "type", "equals": "Microsoft.KubernetesConfiguration/fluxConfigurations"},
                  {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.urll", "like": "http://*"},
                  {"value": "[toLowr(parameters('effect'))]", "equals": "audit"},
                  {"value": "[parameters('efect')]", "equals": "Audit"}
                ]},
                "then": {"effect": "[parameters('effect')]"}}}}
            """#
        try definition.write(to: definitions.appendingPathComponent("broken.json"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["policy", "validate", dir.path])
        #expect(result.status == 65)
        let lines = result.stdout.split(separator: "\n").filter { $0.contains("error:") }
        #expect(lines.count >= 3, "stdout: \(result.stdout)")
        #expect(result.stdout.contains("gitRepository.urll"))
        #expect(result.stdout.contains("toLowr"))
        #expect(result.stdout.contains("efect"))
        #expect(result.stdout.contains("broken.json"))
        #expect(result.stdout.contains("$.properties.policyRule.if.allOf[1]"))
    }

    @Test("policy explain shows one cluster's evaluation leaf by leaf")
    func explain() throws {
        let result = try CLI.run([
            "policy", "explain", "--inventory", "fleet-examples/demo", "--cluster", "aks-staging-neu-02", "--now",
            Self.now,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "explain-aks-staging-neu-02.txt")
        #expect(result.stdout.contains("release-2026-10"))
    }

    @Test("policy explain names an unknown cluster and exits 64")
    func explainUnknown() throws {
        let result = try CLI.run([
            "policy", "explain", "--inventory", "fleet-examples/demo", "--cluster", "nope", "--now", Self.now,
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("no cluster 'nope'"))
    }
}
