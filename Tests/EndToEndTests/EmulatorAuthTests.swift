import FleetCore
import Foundation
import Testing

@Suite("arm-emulator credentials over loopback", .serialized)
struct EmulatorAuthTests {
    static let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    static let scope = "scope=https%3A%2F%2Fmanagement.azure.com%2F.default"

    static func token(_ arm: EmulatorProcess, client: String, secret: String) async throws -> HTTPAnswer {
        try await send(
            "POST", "\(arm.base)/\(tenant)/oauth2/v2.0/token",
            body: "grant_type=client_credentials&client_id=\(client)&client_secret=\(secret)&\(scope)")
    }

    @Test("--client-secret-file, --forbid-client, --identity-header: 401 invalid_client, 403, managed identity routes")
    func credentials() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emu-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secretFile = directory.appendingPathComponent("secret")
        try "file-secret-canary\n".write(to: secretFile, atomically: true, encoding: .utf8)
        let arm = try await EmulatorProcess.start([
            "--client-secret-file", secretFile.path, "--forbid-client", "reader", "--identity-header", "hdr",
        ])
        let url = "\(arm.base)\(ARMEmulatorServerTests.cluster)?api-version=\(ARMEmulatorServerTests.aksVersion)"

        let wrong = try await Self.token(arm, client: "app", secret: "wrong-canary")
        #expect(wrong.status == 401)
        #expect(wrong.json?["error"]?.string == "invalid_client")
        #expect(wrong.json?["error_description"]?.string?.hasPrefix("AADSTS7000215") == true)

        let good = try await Self.token(arm, client: "app", secret: "file-secret-canary")
        let token = try #require(good.json?["access_token"]?.string)
        #expect(try await send("GET", url, headers: ["Authorization": "Bearer \(token)"]).status == 200)
        let invented = try await send("GET", url, headers: ["Authorization": "Bearer emu.invented"])
        #expect(invented.status == 401)
        #expect(invented.json?["error"]?["code"]?.string == "InvalidAuthenticationToken")
        #expect(invented.header("WWW-Authenticate")?.contains("authorization_uri=\"\(arm.base)/") == true)

        let reader = try await Self.token(arm, client: "reader", secret: "file-secret-canary")
        let readerToken = try #require(reader.json?["access_token"]?.string)
        let forbidden = try await send("GET", url, headers: ["Authorization": "Bearer \(readerToken)"])
        #expect(forbidden.status == 403)
        #expect(forbidden.json?["error"]?["code"]?.string == "AuthorizationFailed")

        let imds = try await send(
            "GET",
            "\(arm.base)/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com",
            headers: ["Metadata": "true"])
        let miToken = try #require(imds.json?["access_token"]?.string)
        #expect(try await send("GET", url, headers: ["Authorization": "Bearer \(miToken)"]).status == 200)
        let appService = try await send(
            "GET", "\(arm.base)/msi/token?api-version=2019-08-01&resource=https://vault.azure.net",
            headers: ["X-IDENTITY-HEADER": "hdr"])
        let vaultToken = try #require(appService.json?["access_token"]?.string)
        let audience = try await send("GET", url, headers: ["Authorization": "Bearer \(vaultToken)"])
        #expect(audience.json?["error"]?["code"]?.string == "InvalidAuthenticationTokenAudience")

        #expect(try await arm.stopped() == 0)
        #expect(!arm.stderr.contains("canary"))
    }

    @Test("an unreadable --client-secret-file is a usage error (exit 64)")
    func unreadableSecretFile() async throws {
        let error = await #expect(throws: EmulatorStartError.self) {
            _ = try await EmulatorProcess.start(["--client-secret-file", "/nonexistent/\(UUID().uuidString)"])
        }
        #expect(error?.description.contains("status 64") == true)
        #expect(error?.description.contains("cannot be read") == true)
    }
}
