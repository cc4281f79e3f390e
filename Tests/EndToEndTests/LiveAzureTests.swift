import FleetCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `fluxfleet` against Azure as the `arm-emulator` binary serves it over real sockets.
///
/// The emulator serves Entra ID's token endpoint, ARM, Resource Graph (several pages) and Key Vault, with tokens
/// required and checked. Each credential of the chain
/// is used the way it is in production — environment variables, a projected federated token file, an `az` on the
/// PATH — and what it reads must equal what the same fleet gives from a snapshot.
@Suite("live Azure over loopback: credentials, Resource Graph, ARM, Key Vault (built binaries)", .serialized)
struct LiveAzureTests {
    static let now = "2026-11-21T18:00:00Z"
    static let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    static let client = "3c9b4a1e-5d7f-4e2a-9b8c-1f0e6d5c4b3a"
    static let subscriptions = ["0b1f6471-1bf0-4dda-aec3-cb9272f09590", "5c2e3a9d-8f47-4b6e-9a31-2d0c7e5f1a84"]
    static let vault =
        "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-fleet"
    /// Secrets that must never be printed or stored.
    static let clientSecret = "CANARY-client-secret-3f9a-never-print"
    static let federatedToken = "CANARY-federated-eyJhbGciOi-77c2-never-print"
    static let gitPassword = "CANARY-kv-git-password-51be-never-print"

    /// A scratch directory with the secrets' files, a Key Vault seed and a stand-in `az`.
    struct Scratch {
        let dir: URL

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-live-\(UUID().uuidString)")
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent("bin"), withIntermediateDirectories: true)
            try LiveAzureTests.clientSecret.write(to: url("client-secret"), atomically: true, encoding: .utf8)
            try (LiveAzureTests.federatedToken + "\n").write(
                to: url("federated-token"), atomically: true, encoding: .utf8)
            try #"{"kv-fleet": {"git-password": "\#(LiveAzureTests.gitPassword)"}}"#.write(
                to: url("vault.json"), atomically: true, encoding: .utf8)
            // The Azure CLI stand-in: it prints `az account get-access-token`'s JSON with the token the test put in
            // `az-token` (one the emulator issued; see ``LiveAzureTests/logInAzureCLI(_:_:)``), or fails as `az`
            // does before `az login`. Its arguments are kept for the test to check.
            let az = url("bin/az")
            try #"""
            #!/bin/sh
            here="$(dirname "$0")/.."
            echo "$@" > "$here/az-args"
            if [ ! -s "$here/az-token" ]; then echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; fi
            printf '{"accessToken": "%s", "expiresOn": "2030-01-01 00:00:00.000000", "expires_on": %s, "subscription": "%s", "tenant": "%s", "tokenType": "Bearer"}\n' \
              "$(cat "$here/az-token")" "$(( $(date +%s) + 3600 ))" "\#(LiveAzureTests.subscriptions[0])" "\#(LiveAzureTests.tenant)"
            """#.write(to: az, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: az.path)
        }

        func url(_ name: String) -> URL { dir.appendingPathComponent(name) }
        func path(_ name: String) -> String { url(name).path }
    }

    /// `az login` for the stand-in: a token for ARM from the emulator's Entra ID endpoint, kept in `az-token`.
    static func logInAzureCLI(_ emulator: EmulatorProcess, _ scratch: Scratch) throws {
        var request = URLRequest(url: URL(string: "\(emulator.base)/\(tenant)/oauth2/v2.0/token")!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(
            ("grant_type=client_credentials&client_id=az-cli-user&client_secret=\(clientSecret)"
                + "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default").utf8)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var answer: Data?
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: request) { data, _, _ in
            answer = data
            done.signal()
        }.resume()
        done.wait()
        session.finishTasksAndInvalidate()
        let token = try #require(
            try JSON.parse(String(decoding: answer ?? Data(), as: UTF8.self))["access_token"]?.string)
        try token.write(to: scratch.url("az-token"), atomically: true, encoding: .utf8)
    }

    /// An emulator of the demo fleet that requires tokens it issued, the client secret and the federated token,
    /// serves Key Vault, and pages Resource Graph at 4 rows.
    static func emulator(_ scratch: Scratch, _ extra: [String] = []) throws -> EmulatorProcess {
        try EmulatorProcess(
            [
                "--require-auth", "--client-secret-file", scratch.path("client-secret"), "--federated-token-file",
                scratch.path("federated-token"), "--key-vault-secrets", scratch.path("vault.json"), "--page-size", "4",
                "--time-scale", "100", "--no-keep-alive", "--request-log", scratch.path("requests.ndjson"),
            ] + extra)
    }

    /// The environment of one credential, pointed at the emulator.
    static func environment(_ auth: String, _ emulator: EmulatorProcess, _ scratch: Scratch) -> [String: String] {
        switch auth {
        case "environment":
            return [
                "AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client, "AZURE_CLIENT_SECRET": clientSecret,
                "AZURE_AUTHORITY_HOST": emulator.base,
            ]
        case "workload-identity":
            return [
                "AZURE_TENANT_ID": tenant, "AZURE_CLIENT_ID": client,
                "AZURE_FEDERATED_TOKEN_FILE": scratch.path("federated-token"), "AZURE_AUTHORITY_HOST": emulator.base,
            ]
        default:
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            return ["PATH": scratch.path("bin") + ":" + path]
        }
    }

    /// `--subscription` for both demo subscriptions.
    static var scope: [String] { subscriptions.flatMap { ["--subscription", $0] } }

    /// The error lines of a run's standard error.
    static func errors(_ result: CLIResult) -> [Substring] {
        result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
    }

    @Test(
        "inventory, scan, plan and apply with --subscription equal the snapshot's, signed in with each credential",
        arguments: ["environment", "workload-identity", "azure-cli"])
    func sameAsSnapshot(auth: String) throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.dir) }
        let emulator = try Self.emulator(scratch)
        defer { emulator.stop() }
        let env = Self.environment(auth, emulator, scratch)
        if auth == "azure-cli" { try Self.logInAzureCLI(emulator, scratch) }
        let live = ["--arm-endpoint", emulator.base, "--auth", auth] + Self.scope
        let offline = ["--inventory", "fleet-examples/demo"]

        let inventory = try CLI.run(["inventory", "--output", "json"] + live, environment: env)
        #expect(inventory.status == 0, "stderr: \(inventory.stderr)")
        #expect(inventory.stderr.contains("signed in to AzureCloud with \(auth)"), "stderr: \(inventory.stderr)")
        #expect(inventory.stderr.contains("read 17 cluster(s)"), "stderr: \(inventory.stderr)")
        let snapshotInventory = try CLI.run(["inventory", "--output", "json"] + offline)
        #expect(
            try JSON.parse(inventory.stdout)["clusters"] == JSON.parse(snapshotInventory.stdout)["clusters"],
            "the live inventory differs from the snapshot's")

        for command in ["scan", "plan"] {
            let args = [command, "--now", Self.now, "--output", "json"]
            let read = try CLI.run(args + live, environment: env)
            #expect(read.status == 0, "\(command) stderr: \(read.stderr)")
            let replayed = try CLI.run(args + offline)
            if command == "plan" {
                #expect(
                    try JSON.parse(read.stdout)["clusters"] == JSON.parse(replayed.stdout)["clusters"],
                    "the plan over Resource Graph differs from the snapshot's")
            } else {
                // The same results; a reason's `actual` shows a type as read, and Resource Graph lowercases types.
                let live = try #require(JSON.parse(read.stdout)["results"])
                let snapshot = try #require(JSON.parse(replayed.stdout)["results"])
                func states(_ results: JSON) -> [JSON?] {
                    guard case .array(let items) = results else { return [] }
                    return items.map { $0["state"] }
                }
                #expect(!states(live).isEmpty && states(live) == states(snapshot))
                func text(_ value: JSON) -> String {
                    var writer = JSONWriter()
                    writer.value(value)
                    return writer.text.lowercased()
                }
                #expect(
                    text(live) == text(snapshot),
                    "the scan over Resource Graph differs from the snapshot's")
            }
        }
        // Apply as that credential: the same outcome as applying the snapshot to the emulator in-process.
        let applied = try CLI.run(
            ["apply", "--now", Self.now, "--yes", "--wave", "rest", "--db", scratch.path("h.sqlite")] + live,
            environment: env)
        #expect(applied.status == 0, "apply stdout: \(applied.stdout)\nstderr: \(applied.stderr)")
        let simulated = try CLI.run(
            ["apply", "--now", Self.now, "--yes", "--wave", "rest", "--db", scratch.path("s.sqlite"), "--simulate"]
                + offline)
        func outcome(_ result: CLIResult) -> String? {
            result.stdout.split(separator: "\n").first { $0.contains(" succeeded, ") && $0.contains(" failed, ") }
                .map { String($0.prefix { $0 != ";" }) }
        }
        #expect(outcome(applied) != nil && outcome(applied) == outcome(simulated), "\(applied.stdout)")
        let graph = ApplyLoopbackTests.requests(emulator).filter {
            $0.path.hasSuffix("/microsoft.resourcegraph/resources")
        }
        #expect(graph.count >= 6 && graph.allSatisfy { $0.status == 200 }, "several pages, all authorised")
        if auth == "azure-cli" {
            let args = try String(contentsOf: scratch.url("az-args"), encoding: .utf8)
            #expect(args.hasPrefix("account get-access-token --output json --resource https://management.azure.com"))
        }
        for result in [inventory] {
            #expect(!result.stderr.contains(Self.clientSecret) && !result.stderr.contains(Self.federatedToken))
        }
    }

    @Test(
        "apply and run with a client secret and a Key Vault-referenced Git password converge; no secret is printed or stored"
    )
    func applyWithKeyVault() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.dir) }
        let emulator = try Self.emulator(scratch, ["--state-out", scratch.path("after.json")])
        defer { emulator.stop() }
        let env = Self.environment("environment", emulator, scratch)
        let policies = try ApplyCommandTests.policiesWithSecret(
            in: scratch.dir, reference: ["reference": ["keyVault": ["id": Self.vault], "secretName": "git-password"]])
        let live =
            [
                "--arm-endpoint", emulator.base, "--auth", "environment", "--key-vault-endpoint",
                emulator.base + "/keyvault/{vault}", "--policies", policies,
            ] + Self.scope
        let db = scratch.path("h.sqlite")
        let planFile = scratch.path("plan.json")
        let planned = try CLI.run(["plan", "--now", Self.now, "--out", planFile, "--db", db] + live, environment: env)
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        let permissions = try CLI.run(
            ["plan", "--now", Self.now, "--show-permissions"] + live, environment: env)
        #expect(permissions.stdout.contains(Self.vault) && permissions.stdout.contains("getSecret/action"))

        let applied = try CLI.run(
            ["apply", planFile, "--yes", "--db", db, "--wave", "rest"] + live, environment: env)
        #expect(applied.status == 0, "stdout: \(applied.stdout)\nstderr: \(applied.stderr)")
        #expect(applied.stdout.contains("4 succeeded, 0 failed"), "stdout: \(applied.stdout)")
        let vaultReads = ApplyLoopbackTests.requests(emulator).filter { $0.path.hasPrefix("/keyvault/kv-fleet/") }
        #expect(vaultReads.count == 1 && vaultReads.first?.status == 200, "the secret is read once: \(vaultReads)")

        let reports = scratch.path("reports")
        let run = try CLI.run(
            ["run", "--now", Self.now, "--yes", "--wave", "rest", "--db", db, "--report-dir", reports] + live,
            environment: env)
        #expect(run.status == 0, "stdout: \(run.stdout)\nstderr: \(run.stderr)")
        #expect(run.stdout.contains("Verify Plan: no changes;"), "stdout: \(run.stdout)")
        _ = emulator.stop()

        var texts = [planned, permissions, applied, run].flatMap { [$0.stdout, $0.stderr] }
        var files = [planFile, db, db + "-wal", scratch.path("requests.ndjson"), scratch.path("after.json")]
        files += try FileManager.default.contentsOfDirectory(atPath: reports).map { reports + "/" + $0 }
        for file in files where FileManager.default.fileExists(atPath: file) {
            texts.append(String(decoding: try Data(contentsOf: URL(fileURLWithPath: file)), as: UTF8.self))
        }
        texts.append(emulator.stderr)
        for canary in [Self.clientSecret, Self.federatedToken, Self.gitPassword] {
            #expect(!texts.contains { $0.contains(canary) }, "\(canary) was printed or stored")
        }
    }

    @Test("--management-group reads its subscriptions; --resource-group narrows; an unknown group is refused (69)")
    func scopes() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.dir) }
        let emulator = try Self.emulator(scratch, ["--management-group", "platform-prod=\(Self.subscriptions[0])"])
        defer { emulator.stop() }
        let env = Self.environment("environment", emulator, scratch)
        let live = ["inventory", "--output", "json", "--arm-endpoint", emulator.base, "--auth", "environment"]
        func clusters(_ result: CLIResult) throws -> [String] {
            guard case .array(let items)? = try JSON.parse(result.stdout)["clusters"] else { return [] }
            return items.compactMap { $0["id"]?.string }
        }
        let group = try CLI.run(live + ["--management-group", "platform-prod"], environment: env)
        #expect(group.status == 0, "stderr: \(group.stderr)")
        let ids = try clusters(group)
        #expect(ids.count == 8 && ids.allSatisfy { $0.contains(Self.subscriptions[0]) }, "\(ids)")
        let narrowed = try CLI.run(
            live + ["--subscription", Self.subscriptions[0], "--resource-group", "rg-staging"], environment: env)
        #expect(narrowed.status == 0, "stderr: \(narrowed.stderr)")
        let staged = try clusters(narrowed)
        #expect(!staged.isEmpty && staged.allSatisfy { $0.lowercased().contains("/resourcegroups/rg-staging/") })
        let unknown = try CLI.run(live + ["--management-group", "elsewhere"], environment: env)
        #expect(unknown.status == 69, "stderr: \(unknown.stderr)")
        #expect(Self.errors(unknown).count == 1 && unknown.stderr.contains("403"), "stderr: \(unknown.stderr)")
    }

    @Test("unreachable, TLS, 401, 403 and 404 while reading: one error line with the remedy, exit 69")
    func readErrors() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.dir) }
        let emulator = try Self.emulator(scratch, ["--forbid-client", "b0b0b0b0-0000-4000-8000-00000000f0bd"])
        defer { emulator.stop() }
        let env = Self.environment("environment", emulator, scratch)
        func read(_ args: [String], _ environment: [String: String] = [:]) throws -> CLIResult {
            try CLI.run(["inventory"] + args + Self.scope, environment: environment)
        }
        let cases: [(name: String, result: CLIResult, says: String)] = [
            ("unreachable", try read(["--arm-endpoint", "http://127.0.0.1:9", "--auth", "none"]), "cannot connect"),
            (
                "TLS", try read(["--arm-endpoint", "https://127.0.0.1:\(emulator.port)", "--auth", "none"]),
                "TLS"
            ),
            ("401", try read(["--arm-endpoint", emulator.base, "--auth", "none"]), "401"),
            (
                "403",
                try read(
                    ["--arm-endpoint", emulator.base, "--auth", "environment"],
                    env.merging(["AZURE_CLIENT_ID": "b0b0b0b0-0000-4000-8000-00000000f0bd"]) { $1 }),
                "403"
            ),
            ("404", try read(["--arm-endpoint", emulator.base + "/not-arm", "--auth", "environment"], env), "404"),
            (
                "sign-in",
                try read(["--arm-endpoint", emulator.base, "--auth", "environment"], ["AZURE_TENANT_ID": ""]),
                "AZURE_CLIENT_ID"
            ),
            (
                "wrong secret",
                try read(
                    ["--arm-endpoint", emulator.base, "--auth", "environment"],
                    env.merging(["AZURE_CLIENT_SECRET": "wrong-\(Self.clientSecret)"]) { $1 }), "401"
            ),
        ]
        for (name, result, says) in cases {
            #expect(result.status == 69, "\(name): exit \(result.status)\n\(result.stderr)")
            let lines = Self.errors(result)
            #expect(lines.count == 1, "\(name): \(result.stderr)")
            #expect(lines.first?.contains(says) == true, "\(name): \(result.stderr)")
            #expect(lines.first?.contains(" — ") == true, "\(name) has no remedy: \(result.stderr)")
            #expect(!result.stderr.contains(Self.clientSecret), "\(name) printed the client secret")
        }
    }

    @Test("a resource lock (409 ScopeLocked) fails its clusters with the remedy, exit 75; the rest converge")
    func scopeLocked() throws {
        let scratch = try Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.dir) }
        let locked = "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-staging"
        let emulator = try Self.emulator(scratch, ["--lock-scope", locked])
        defer { emulator.stop() }
        let env = Self.environment("environment", emulator, scratch)
        let result = try CLI.run(
            [
                "apply", "--now", Self.now, "--yes", "--wave", "rest", "--db", scratch.path("h.sqlite"),
                "--arm-endpoint",
                emulator.base, "--auth", "environment",
            ] + Self.scope, environment: env)
        #expect(result.status == 75, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        let output = result.stdout + result.stderr
        #expect(output.contains("ScopeLocked"), "\(output)")
        #expect(output.contains("az lock"), "\(output)")
        #expect(output.contains("2 succeeded, 2 failed"), "\(output)")
    }
}
