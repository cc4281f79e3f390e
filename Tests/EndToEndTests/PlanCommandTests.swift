import Foundation
import Testing

/// `fluxfleet plan` run as a user would, on the bundled demo fleet and on small inputs.
@Suite("fluxfleet plan (built binary)")
struct PlanCommandTests {
    static let now = "2026-11-21T18:00:00Z"
    static let demo = ["plan", "--inventory", "fleet-examples/demo", "--now", now]

    @Test("table output on the demo fleet matches the golden file")
    func demoTable() throws {
        let result = try CLI.run(Self.demo)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.isEmpty)
        #expect(!result.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        try Golden.check(result.stdout, "plan-demo.txt")
        #expect(
            result.stdout.hasSuffix(
                "Plan: 1 to install, 2 to create, 2 to update; 1 blocked, 0 deferred, 2 unchanged, 9 skipped.\n"))
    }

    @Test("every flag on: DoNotEnforce remediated, Flux v1 migrated; golden table")
    func demoTableAll() throws {
        let result = try CLI.run(Self.demo + ["--include-do-not-enforce", "--migrate-flux-v1", "--allow-replace"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "plan-demo-all.txt")
        #expect(result.stdout.contains("  - delete-flux-v1 legacy-config"))
        #expect(result.stdout.contains("… aks-dev-stopped deferred: aksStopped"))
        #expect(result.stdout.contains("! arc-store-099 blocked: arcExpired"))
    }

    @Test("--show-permissions on the demo fleet: golden text and JSON with a custom role for az role definition create")
    func demoPermissions() throws {
        let text = try CLI.run(Self.demo + ["--include-do-not-enforce", "--migrate-flux-v1", "--show-permissions"])
        #expect(text.status == 0, "stderr: \(text.stderr)")
        try Golden.check(text.stdout, "plan-demo-permissions.txt")
        #expect(text.stdout.contains("Microsoft.KubernetesConfiguration/sourceControlConfigurations/delete"))
        let json = try CLI.run(Self.demo + ["--show-permissions", "--output", "json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        try Golden.check(json.stdout, "plan-demo-permissions.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let role = try #require(document["roleDefinition"] as? [String: Any])
        let scopes = try #require(role["AssignableScopes"] as? [String])
        #expect(!scopes.isEmpty && scopes.allSatisfy { $0.contains("/resourceGroups/") })
        #expect(document["clustersToChange"] as? Int == 4)
    }

    @Test("JSON output on the demo fleet matches the golden file and DESIGN §9")
    func demoJSON() throws {
        let result = try CLI.run(Self.demo + ["--output", "json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        try Golden.check(result.stdout, "plan-demo.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(document["formatVersion"] as? Int == 1)
        #expect((document["planId"] as? String)?.hasPrefix("sha256:") == true)
        let inputs = try #require(document["inputs"] as? [String: Any])
        #expect(inputs["inventory"] as? String == "fleet-examples/demo")
        #expect(inputs["evaluatedAt"] as? String == Self.now)
        #expect((inputs["policiesDigest"] as? String)?.isEmpty == false)
        #expect((inputs["inventoryDigest"] as? String)?.isEmpty == false)
        #expect(inputs["options"] is [String: Any])
        let summary = try #require(document["summary"] as? [String: Int])
        #expect(summary == ["change": 4, "noop": 2, "blocked": 1, "deferred": 0, "skipped": 9])
        let clusters = try #require(document["clusters"] as? [[String: Any]])
        #expect(clusters.count == 16)
        for cluster in clusters {
            for key in ["clusterId", "fingerprint", "decision", "reason", "remedy", "actions"] {
                #expect(cluster.keys.contains(key), "cluster lacks \(key)")
            }
            for action in cluster["actions"] as? [[String: Any]] ?? [] {
                for key in ["kind", "resourceId", "apiVersion", "body", "diff"] {
                    #expect(action.keys.contains(key), "action lacks \(key)")
                }
            }
        }
    }

    @Test("--out writes the plan document atomically, the same as --output json")
    func outFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("plan.json").path
        try "stale".write(toFile: path, atomically: true, encoding: .utf8)
        let written = try CLI.run(Self.demo + ["--out", path])
        #expect(written.status == 0, "stderr: \(written.stderr)")
        #expect(written.stderr.contains("wrote the plan to \(path)"))
        #expect(written.stdout.hasPrefix("aks-prod-eus-03 will change"))
        let json = try CLI.run(Self.demo + ["--output", "json"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == json.stdout)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["plan.json"])
    }

    @Test("--db records the plan's evaluation as a run of kind plan; without it nothing is written")
    func recordsWithDB() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("history.sqlite").path
        let first = try CLI.run(Self.demo + ["--db", db])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stderr.contains("recorded plan run 1 in \(db)"), "\(first.stderr)")
        let second = try CLI.run(Self.demo + ["--db", db, "--output", "json"])
        #expect(second.stderr.contains("recorded plan run 2 in \(db)"), "\(second.stderr)")
        let history = try CLI.run(["history", "aks-prod-neu-02", "--db", db])
        #expect(history.status == 0, "stderr: \(history.stderr)")
        let plain = try CLI.run(Self.demo, environment: ["FLUXFLEET_DB": dir.appendingPathComponent("env.sqlite").path])
        #expect(plain.status == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["history.sqlite"])
    }

    @Test("an unwritable --out exits 64 and names the path")
    func unwritableOut() throws {
        let result = try CLI.run(Self.demo + ["--out", "/nonexistent-dir/plan.json"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("cannot write the plan to '/nonexistent-dir/plan.json'"), "\(result.stderr)")
    }

    @Test("--detailed-exitcode: 2 when there are changes, 0 without the flag")
    func detailedExitcodeChanges() throws {
        #expect(try CLI.run(Self.demo + ["--detailed-exitcode"]).status == 2)
        #expect(try CLI.run(Self.demo).status == 0)
    }

    @Test("--detailed-exitcode: 0 when nothing changes (only noop, blocked or skipped)")
    func detailedExitcodeNoChanges() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cluster =
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters"
        let lines = [
            #"{"id": "\#(cluster)/spn", "name": "spn", "type": "Microsoft.ContainerService/managedClusters", "location": "westeurope", "identity": null, "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"}, "servicePrincipalProfile": {"clientId": "c307c1be-e1ab-4f69-8485-c754a68e88d8"}}}"#,
            #"{"id": "\#(cluster)/frozen", "name": "frozen", "type": "Microsoft.ContainerService/managedClusters", "location": "westeurope", "tags": {"fluxfleet.io/never-touch": "true"}, "identity": {"type": "SystemAssigned"}, "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"}, "servicePrincipalProfile": {"clientId": "msi"}}}"#,
        ]
        let inventory = dir.appendingPathComponent("fleet.ndjson")
        try (lines.joined(separator: "\n") + "\n").write(to: inventory, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "plan", "--inventory", inventory.path, "--now", Self.now, "--detailed-exitcode",
        ])
        #expect(result.status == 0, "stdout: \(result.stdout) stderr: \(result.stderr)")
        #expect(result.stdout.contains("Plan: no changes; 1 blocked, 0 deferred, 0 unchanged, 1 skipped."))
    }

    @Test("usage errors exit 64; an invalid inventory exits 65")
    func errors() throws {
        let missing = try CLI.run(["plan", "--inventory", "no-such-dir", "--now", Self.now])
        #expect(missing.status == 64)
        let version = try CLI.run(Self.demo + ["--flux-latest", "next"])
        #expect(version.status == 64)
        #expect(version.stderr.contains("--flux-latest 'next' is not a version"))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = dir.appendingPathComponent("broken.json")
        try "[{\"id\": }]".write(to: broken, atomically: true, encoding: .utf8)
        let invalid = try CLI.run(["plan", "--inventory", broken.path])
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains("broken.json:1:"), "\(invalid.stderr)")
    }

    @Test("--help documents every flag, the precedence and the exit codes")
    func help() throws {
        let result = try CLI.run(["plan", "--help"])
        #expect(result.status == 0)
        let help = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for text in [
            "--inventory", "--policies", "--now", "--output", "--out", "--detailed-exitcode", "--allow-replace",
            "--migrate-flux-v1", "--include-do-not-enforce", "--flux-latest", "--never-touch-tag", "--db",
            "fluxfleet.io/never-touch", "blocked > deferred", "Exit codes",
        ] {
            #expect(help.contains(text), "help lacks \(text)")
        }
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
