import FleetCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite("arm-emulator Key Vault over loopback", .serialized)
struct KeyVaultServerTests {
    @Test("--key-vault-secrets: served with a bearer token, 401 without; the value is in no log line")
    func served() async throws {
        let canary = "kv-canary-3b9c-loopback"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let seed = directory.appendingPathComponent("secrets.json")
        try Data(#"{"kv-fleet": {"git-token": {"value": "\#(canary)", "version": "0a1b2c"}}}"#.utf8).write(to: seed)
        let log = directory.appendingPathComponent("requests.ndjson")
        let arm = try await EmulatorProcess.start([
            "--key-vault-secrets", seed.path, "--request-log", log.path, "--verbose",
        ])
        let url = "\(arm.base)/keyvault/kv-fleet/secrets/git-token?api-version=2025-07-01"
        let anonymous = try await send("GET", url)
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate")?.contains("resource=\"https://vault.azure.net\"") == true)
        let read = try await send("GET", url, headers: ["Authorization": "Bearer emulator-token"])
        #expect(read.status == 200)
        #expect(read.json?["value"]?.string == canary)
        #expect(read.json?["id"]?.string == "https://kv-fleet.vault.azure.net/secrets/git-token/0a1b2c")
        #expect(try await arm.stopped() == 0)
        let lines = try String(contentsOf: log, encoding: .utf8)
        #expect(lines.split(separator: "\n").count == 2)
        #expect(lines.contains("/keyvault/kv-fleet/secrets/git-token"))
        #expect(!lines.contains(canary))
        #expect(!arm.stderr.contains(canary))
    }

    @Test("a bad --key-vault-secrets file stops the start with 65, naming the JSON path but not the value")
    func badSeed() async throws {
        let seed = FileManager.default.temporaryDirectory.appendingPathComponent("kv-bad-\(UUID().uuidString).json")
        try Data(#"{"kv-fleet": {"bad_name": "kv-canary-seed-77"}}"#.utf8).write(to: seed)
        defer { try? FileManager.default.removeItem(at: seed) }
        do {
            _ = try await EmulatorProcess.start(["--key-vault-secrets", seed.path])
            Issue.record("the emulator started with a bad seed file")
        } catch let error as EmulatorStartError {
            #expect(error.message.contains("status 65"))
            #expect(error.message.contains("$.kv-fleet.bad_name is not a secret name"))
            #expect(!error.message.contains("kv-canary-seed-77"))
        }
    }
}
