import Foundation
import Testing

/// `fluxfleet inventory` run as a user would, on the bundled demo fleet and on broken inputs.
@Suite("fluxfleet inventory (built binary)")
struct InventoryCommandTests {
    @Test("table output on the demo fleet matches the golden file")
    func demoTable() throws {
        let result = try CLI.run(["inventory", "--inventory", "fleet-examples/demo"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        try Golden.check(result.stdout, "inventory-demo.txt")
    }

    @Test("JSON output on the demo fleet matches the golden file and DESIGN §9")
    func demoJSON() throws {
        let result = try CLI.run(["inventory", "--inventory", "fleet-examples/demo", "--output", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "inventory-demo.json")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(document?["formatVersion"] as? Int == 1)
        let summary = document?["summary"] as? [String: Any]
        #expect(summary?["clusters"] as? Int == 17)
        #expect((summary?["byKind"] as? [String: Int]) == ["managedClusters": 13, "connectedClusters": 4])
        #expect(summary?["findings"] as? Int == 0)
        let clusters = document?["clusters"] as? [[String: Any]] ?? []
        #expect(clusters.count == 17)
        for cluster in clusters {
            for key in [
                "id", "kind", "subscriptionId", "resourceGroup", "location", "tags", "eligibility", "fluxExtension",
                "fluxConfigurations",
            ] {
                #expect(cluster.keys.contains(key), "cluster lacks \(key)")
            }
            let eligibility = cluster["eligibility"] as? [String: Any]
            #expect(eligibility?["eligible"] is Bool)
            #expect(eligibility?.keys.contains("reason") == true)
        }
        #expect((document?["findings"] as? [Any])?.isEmpty == true)
    }

    @Test("CSV output on the demo fleet matches the golden file")
    func demoCSV() throws {
        let result = try CLI.run(["inventory", "--inventory", "fleet-examples/demo", "--output", "csv"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "inventory-demo.csv")
        #expect(result.stdout.split(separator: "\r\n").count == 18)
    }

    @Test("malformed JSON exits 65 naming the file, line:column and JSON path")
    func malformedJSON() throws {
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("broken.json")
        try #"[{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a","#
            .appending("\n" + #" "tags": {"env": "prod",}}]"#)
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try CLI.run(["inventory", "--inventory", file.path])
        #expect(result.status == 65)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("broken.json:2:25: invalid JSON at $[0].tags: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("expected an object key"), "stderr: \(result.stderr)")
    }

    @Test("a record without an id exits 65 with its JSON path")
    func recordWithoutID() throws {
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("noid.json")
        try #"{"data": [{"name": "x", "type": "microsoft.containerservice/managedclusters"}], "count": 1}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try CLI.run(["inventory", "--inventory", file.path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("$.data[0].id"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("has no 'id'"))
    }

    @Test("an unreadable path exits 64 with the reason")
    func missingPath() throws {
        let result = try CLI.run(["inventory", "--inventory", "/nonexistent/fleet.json"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("cannot read '/nonexistent/fleet.json'"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("No such file or directory"))
    }

    @Test("an unknown output format is a usage error")
    func badOutput() throws {
        let result = try CLI.run(["inventory", "--inventory", "fleet-examples/demo", "--output", "yaml"])
        #expect(result.status == 64)
    }

    @Test("orphans and duplicates become findings, not failures")
    func findings() throws {
        let dir = try temporaryDirectory()
        let cluster = #"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/a"#
        let orphan =
            #"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/gone/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/x"#
        let lines = [
            #"{"id": "\#(cluster)", "location": "westeurope", "identity": {"type": "SystemAssigned"}, "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"}}}"#,
            #"{"id": "\#(cluster.uppercased())", "location": "westeurope"}"#,
            #"{"id": "\#(orphan)", "properties": {}}"#,
        ]
        try lines.joined(separator: "\n").write(
            to: dir.appendingPathComponent("fleet.ndjson"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["inventory", "--inventory", dir.path, "--output", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let codes = (document?["findings"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(codes.sorted() == ["duplicateResource", "orphanResource"])
        #expect((document?["summary"] as? [String: Any])?["clusters"] as? Int == 1)
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
