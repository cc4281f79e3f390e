import Foundation
import Testing

/// `fluxfleet apply`, `resume` and `run` with `--simulate`, run as a user would.
@Suite("fluxfleet apply / run --simulate (built binary)")
struct ApplyCommandTests {
    static let now = "2026-11-21T18:00:00Z"

    /// A fresh directory for a test's database, plan and state files.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-apply-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("run --simulate on the demo fleet converges: the verify plan has no change, reports are written")
    func runConverges() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run([
            "run", "--inventory", "fleet-examples/demo", "--simulate", "--now", Self.now,
            "--db", dir.appendingPathComponent("h.sqlite").path, "--report-dir", dir.appendingPathComponent("r").path,
            "--state-out", dir.appendingPathComponent("after.json").path,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("Verify Plan: no changes;"), "stdout: \(result.stdout)")
        try Golden.check(result.stdout.replacingOccurrences(of: dir.path, with: "$TMP"), "run-demo-simulate.txt")
        let reports = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("r").path)
        #expect(
            Set(reports)
                == [
                    "compliance.json", "compliance.csv", "compliance.md", "compliance.html",
                    "compliance.policyreport.json", "compliance.junit.xml", "compliance.sarif", "compliance.prom",
                ])
        // The emulated fleet after the run, planned again from the file: nothing left to change.
        let again = try CLI.run([
            "plan", "--inventory", dir.appendingPathComponent("after.json").path, "--now", "2026-11-21T19:00:00Z",
            "--detailed-exitcode",
        ])
        #expect(again.status == 0, "stdout: \(again.stdout)\nstderr: \(again.stderr)")
    }

    @Test("plan --out → apply PLAN --simulate; the same plan applied twice is refused (exit 75)")
    func planThenApplyOnce() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("plan.json").path
        let db = dir.appendingPathComponent("h.sqlite").path
        let planned = try CLI.run(["plan", "--inventory", "fleet-examples/demo", "--now", Self.now, "--out", plan])
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        let first = try CLI.run(["apply", plan, "--simulate", "--yes", "--db", db])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("4 succeeded, 0 failed"), "stdout: \(first.stdout)")
        let second = try CLI.run(["apply", plan, "--simulate", "--yes", "--db", db])
        #expect(second.status == 75)
        #expect(second.stderr.contains("already applied"), "stderr: \(second.stderr)")
    }

    @Test("apply without --yes and no terminal exits 64 and changes nothing")
    func needsYes() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        let result = try CLI.run([
            "apply", "--inventory", "fleet-examples/demo", "--now", Self.now, "--simulate", "--db", db,
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--yes"))
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("a plan file edited by hand is refused with exit 65, naming planId")
    func editedPlan() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("plan.json")
        _ = try CLI.run(["plan", "--inventory", "fleet-examples/demo", "--now", Self.now, "--out", plan.path])
        var text = try String(contentsOf: plan, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"branch\" : \"main\"", with: "\"branch\" : \"evil\"")
        text = text.replacingOccurrences(of: "\"branch\": \"main\"", with: "\"branch\": \"evil\"")
        try text.write(to: plan, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "apply", plan.path, "--simulate", "--yes", "--db", dir.appendingPathComponent("h.sqlite").path,
        ])
        #expect(result.status == 65, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("$.planId"))
    }

    @Test("faults injected into the simulation are retried: 5% 500s, 5% 429s, 1% dropped connections")
    func faultsRetried() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run([
            "run", "--inventory", "fleet-examples/demo", "--simulate", "--now", Self.now,
            "--faults", "5xx=5%,429=5%,drop=1%,seed=7",
            "--db", dir.appendingPathComponent("h.sqlite").path, "--report-dir", dir.appendingPathComponent("r").path,
        ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Verify Plan: no changes;"), "stdout: \(result.stdout)")
    }

    /// The repository's policies with a secure `gitToken` (initiative parameter → extension definition →
    /// `configurationProtectedSettings`), assigned in prod as `reference` (by default
    /// `{"fromEnv": "FLUXFLEET_E2E_GIT_TOKEN"}`).
    static func policiesWithSecret(
        in dir: URL, reference: [String: Any] = ["fromEnv": "FLUXFLEET_E2E_GIT_TOKEN"]
    ) throws -> String {
        let policies = dir.appendingPathComponent("policies")
        try FileManager.default.copyItem(at: CLI.root.appendingPathComponent("policies"), to: policies)
        func edit(_ path: String, _ change: (inout [String: Any]) throws -> Void) throws {
            let url = policies.appendingPathComponent(path)
            var root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            try change(&root)
            try JSONSerialization.data(withJSONObject: root).write(to: url)
        }
        try edit("definitions/deploy-flux-extension.json") { root in
            var properties = try #require(root["properties"] as? [String: Any])
            var parameters = try #require(properties["parameters"] as? [String: Any])
            parameters["gitToken"] = ["type": "String", "defaultValue": ""]
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
        }
        try edit("initiatives/gitops-baseline.json") { root in
            var properties = try #require(root["properties"] as? [String: Any])
            var parameters = try #require(properties["parameters"] as? [String: Any])
            parameters["gitToken"] = ["type": "String", "defaultValue": ""]
            properties["parameters"] = parameters
            var references = try #require(properties["policyDefinitions"] as? [[String: Any]])
            for index in references.indices
            where references[index]["policyDefinitionReferenceId"] as? String == "fluxExtension" {
                var referenceParameters = references[index]["parameters"] as? [String: Any] ?? [:]
                referenceParameters["gitToken"] = ["value": "[parameters('gitToken')]"]
                references[index]["parameters"] = referenceParameters
            }
            properties["policyDefinitions"] = references
            root["properties"] = properties
        }
        try edit("assignments/prod.json") { root in
            var properties = try #require(root["properties"] as? [String: Any])
            var parameters = try #require(properties["parameters"] as? [String: Any])
            parameters["gitToken"] = reference
            properties["parameters"] = parameters
            root["properties"] = properties
        }
        return policies.path
    }

    @Test("apply --simulate of 30 clusters logs progress lines, the first before a tenth is done, and finishes")
    func progressLines() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 30 AKS clusters with a managed identity and no Flux, in the subscription the prod assignment covers.
        let lines = (1...30).map { n in
            #"{"id": "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-bulk/providers/Microsoft.ContainerService/managedClusters/aks-bulk-\#(n)", "name": "aks-bulk-\#(n)", "type": "Microsoft.ContainerService/managedClusters", "location": "westeurope", "tags": {}, "identity": {"type": "SystemAssigned", "principalId": "p-\#(n)"}, "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"}, "servicePrincipalProfile": {"clientId": "msi"}, "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 3, "vmSize": "Standard_D4ds_v5", "osType": "Linux"}]}}"#
        }
        let fleet = dir.appendingPathComponent("bulk.ndjson")
        try (lines.joined(separator: "\n") + "\n").write(to: fleet, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "apply", "--inventory", fleet.path, "--simulate", "--yes", "--rollout", "none", "--wave", "rest", "--now",
            Self.now, "--db", dir.appendingPathComponent("h.sqlite").path,
        ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("30 succeeded, 0 failed"), "stdout: \(result.stdout)")
        let progress = result.stderr.split(separator: "\n").filter { $0.hasPrefix("progress: ") }
        #expect(progress.first?.hasPrefix("progress: 1/30 clusters") == true, "stderr: \(result.stderr)")
        #expect(progress.last?.hasPrefix("progress: 30/30 clusters") == true, "stderr: \(result.stderr)")
    }

    @Test("a secret given by reference is resolved at apply time and appears in no output, plan, report or database")
    func secretCanary() throws {
        let canary = "CANARY-e2e-7c41-never-print"
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policies = try Self.policiesWithSecret(in: dir)
        let plan = dir.appendingPathComponent("plan.json").path
        let db = dir.appendingPathComponent("h.sqlite").path
        let planned = try CLI.run(
            [
                "plan", "--inventory", "fleet-examples/demo", "--policies", policies, "--now", Self.now, "--out", plan,
                "--db", db,
            ])
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        let document = try String(contentsOfFile: plan, encoding: .utf8)
        #expect(document.contains("FLUXFLEET_E2E_GIT_TOKEN"), "the plan holds the reference")
        // Without the variable the cluster that needs the extension fails, naming the variable, not a value.
        let missing = try CLI.run(["apply", plan, "--simulate", "--yes", "--db", db, "--wave", "rest"])
        #expect(missing.status == 75, "stdout: \(missing.stdout)\nstderr: \(missing.stderr)")
        #expect((missing.stdout + missing.stderr).contains("FLUXFLEET_E2E_GIT_TOKEN"))
        // With it, a fresh run applies everything.
        let run = try CLI.run(
            [
                "run", "--inventory", "fleet-examples/demo", "--policies", policies, "--simulate", "--now", Self.now,
                "--db", db, "--report-dir", dir.appendingPathComponent("r").path,
                "--state-out", dir.appendingPathComponent("after.json").path,
            ], environment: ["FLUXFLEET_E2E_GIT_TOKEN": canary])
        #expect(run.status == 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        #expect(!run.stdout.contains(canary) && !run.stderr.contains(canary))
        #expect(!missing.stdout.contains(canary) && !missing.stderr.contains(canary))
        var files = [plan, db, db + "-wal", dir.appendingPathComponent("after.json").path]
        let reports = dir.appendingPathComponent("r")
        files += try FileManager.default.contentsOfDirectory(atPath: reports.path).map {
            reports.appendingPathComponent($0).path
        }
        for file in files where FileManager.default.fileExists(atPath: file) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(bytes.range(of: Data(canary.utf8)) == nil, "the secret is in \(file)")
        }
    }

    @Test(
        "on a terminal, apply draws a progress bar redrawn in place (run under script(1) for a pseudo-terminal)",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func progressBarOnTerminal() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let command = [
            CLI.binary.path, "apply", "--inventory", "fleet-examples/demo", "--simulate", "--yes", "--now", Self.now,
            "--db", dir.appendingPathComponent("h.sqlite").path,
        ].joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        process.currentDirectoryURL = CLI.root
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("\r[==============================] 4/4 clusters"), "\(text)")
        #expect(text.contains("\u{1B}[K"), "the bar line is cleared as it is redrawn")
        #expect(!text.contains("progress: "), "no log lines on a terminal")
    }
}
