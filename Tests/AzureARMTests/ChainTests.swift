import ARMEmulator
import FleetCore
import Foundation
import Testing

@testable import AzureARM

@Suite("Azure CLI credential and the chain")
struct ChainTests {
    static let arm = AzureCloud.azureCloud.armScope

    static func cli(_ directory: String, tenant: String? = nil, timeout: Double = 10) throws -> AzureCLICredential {
        var environment = ["PATH": directory]
        if let tenant { environment["AZURE_TENANT_ID"] = tenant }
        return try AzureCLICredential(environment: environment, clock: ManualClock(), timeout: timeout)
    }

    @Test("az on PATH is run with --resource and --tenant; accessToken and expires_on are read")
    func cliSuccess() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Scratch.script(
            directory,
            """
            echo "$@" > "\(directory)/args"
            echo '{"accessToken": "cli-token", "expiresOn": "2026-11-21 19:00:00.000000", "expires_on": 1795287600, "tokenType": "Bearer"}'
            """)
        let credential = try Self.cli(directory, tenant: "tenant-1")
        #expect(credential.executable == directory + "/az")
        let token = try credential.token(scope: Self.arm)
        #expect(token.token == "cli-token")
        #expect(token.expiresOn == 1_795_287_600)
        let arguments = try String(contentsOfFile: directory + "/args", encoding: .utf8)
        #expect(
            arguments.trimmingCharacters(in: .newlines)
                == "account get-access-token --output json --resource https://management.azure.com --tenant tenant-1")
    }

    @Test("without expires_on, expiresOn is read as local time")
    func cliExpiresOn() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let plusOne = try #require(TimeZone(secondsFromGMT: 3600))
        #expect(AzureCLICredential.localTime("2026-11-21 19:00:00.123456", timeZone: utc) == 1_795_287_600)
        #expect(AzureCLICredential.localTime("2026-11-21 19:00:00", timeZone: plusOne) == 1_795_284_000)
        #expect(AzureCLICredential.localTime("tomorrow", timeZone: utc) == nil)

        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Scratch.script(directory, #"echo '{"accessToken": "t", "expiresOn": "2026-11-21 19:00:00.000000"}'"#)
        let token = try Self.cli(directory).token(scope: Self.arm)
        #expect(token.expiresOn == AzureCLICredential.localTime("2026-11-21 19:00:00"))
    }

    @Test("az not logged in is unavailable with the remedy to run az login")
    func cliNotLoggedIn() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Scratch.script(directory, "echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1")
        let error = #expect(throws: AzureARMError.self) {
            try Self.cli(directory, tenant: "t-9").token(scope: Self.arm)
        }
        #expect(error?.isCredentialUnavailable == true)
        #expect(error?.what.contains("not logged in") == true)
        #expect(error?.remedy == "run az login --tenant t-9")
    }

    @Test("az output that is not a token, or a failing az, never puts standard output in the error")
    func cliGarbage() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Scratch.script(directory, "echo 'WARNING canary-stdout {not json'")
        let garbage = #expect(throws: AzureARMError.self) { try Self.cli(directory).token(scope: Self.arm) }
        #expect(garbage?.what.contains("not a token") == true)
        expectNoSecrets(garbage, ["canary-stdout"])

        try Scratch.script(
            directory, "echo '{\"accessToken\": \"canary-token\"}'; echo 'boom: proxy refused' >&2; exit 2")
        let failed = #expect(throws: AzureARMError.self) { try Self.cli(directory).token(scope: Self.arm) }
        #expect(failed?.what.contains("exited 2: boom: proxy refused") == true)
        #expect(failed?.isCredentialUnavailable == false)
        expectNoSecrets(failed, ["canary-token"])

        try Scratch.script(directory, "echo '{\"accessToken\": \"canary-token\"}'")
        let noExpiry = #expect(throws: AzureARMError.self) { try Self.cli(directory).token(scope: Self.arm) }
        expectNoSecrets(noExpiry, ["canary-token"])
    }

    @Test("az running over its timeout is killed and reported")
    func cliTimeout() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Scratch.script(directory, "exec /bin/sleep 20")
        let started = Date()
        let error = #expect(throws: AzureARMError.self) {
            try Self.cli(directory, timeout: 0.3).token(scope: Self.arm)
        }
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(error?.what.contains("did not finish within 0.3 s") == true, "\(String(describing: error))")
    }

    @Test("az missing from PATH is unavailable")
    func cliMissing() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let error = #expect(throws: AzureARMError.self) { try Self.cli(directory) }
        #expect(error?.isCredentialUnavailable == true)
        #expect(error?.what == "azure-cli: az is not on PATH")
    }

    @Test("nothing set up: the chain's error lists every credential tried, why, and the remedies")
    func chainNothing() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let probe = Answering { _ throws(TransportError) in throw .unreachable("cannot connect to 169.254.169.254") }
        let credential = try #require(
            try AzureAuth.credential(
                .auto, cloud: .azureCloud, environment: ["PATH": directory],
                transport: Answering { _ in .json(500, "") }, clock: ManualClock(), imdsProbe: probe))
        #expect(credential.name == "auto")
        let error = #expect(throws: AzureARMError.self) { try credential.token(scope: Self.arm) }
        #expect(error?.category == .unauthorized)
        #expect(error?.category.exitCode == 69)
        let text = error?.description ?? ""
        let order = ["environment:", "workload-identity:", "managed-identity:", "azure-cli:"].map {
            text.range(of: $0)?.lowerBound
        }
        #expect(order.allSatisfy { $0 != nil })
        #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
        for reason in [
            "AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET are not set", "AZURE_FEDERATED_TOKEN_FILE",
            "no managed identity endpoint answered", "az is not on PATH", "install the Azure CLI", "--auth",
        ] {
            #expect(text.contains(reason), "missing \(reason)")
        }
    }

    @Test("the first credential that works is remembered")
    func chainRemembers() throws {
        let emulator = try SharedEmulator()
        let chain = try #require(
            try AzureAuth.credential(
                .auto, cloud: .azureCloud,
                environment: [
                    "AZURE_TENANT_ID": Fixture.tenant, "AZURE_CLIENT_ID": "app-1", "AZURE_CLIENT_SECRET": "s",
                    "AZURE_AUTHORITY_HOST": "http://127.0.0.1:9", "PATH": "",
                ], transport: emulator, clock: emulator) as? ChainedCredential)
        #expect(chain.selected == nil)
        let token = try chain.token(scope: Self.arm)
        #expect(chain.selected == "environment")
        #expect(try emulator.graphStatus(token: token.token) == 200)
        _ = try chain.token(scope: AzureCloud.azureCloud.keyVaultScope)
        #expect(emulator.requests.filter { $0.url.contains("oauth2/v2.0/token") }.count == 2)
    }

    @Test("with no environment credential the chain falls through to the managed identity")
    func chainManagedIdentity() throws {
        let emulator = try SharedEmulator()
        let chain = try #require(
            try AzureAuth.credential(
                .auto, cloud: .azureCloud,
                environment: ["AZURE_POD_IDENTITY_AUTHORITY_HOST": "http://127.0.0.1:9", "PATH": ""],
                transport: emulator, clock: emulator, imdsProbe: emulator) as? ChainedCredential)
        let token = try chain.token(scope: Self.arm)
        #expect(chain.selected == "managed-identity")
        #expect(try emulator.graphStatus(token: token.token) == 200)
    }

    @Test("a set-up credential that fails ends the chain: a wrong secret never falls through to az")
    func chainStopsOnFailure() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Scratch.script(
            directory, "touch '\(directory)/ran'; echo '{\"accessToken\": \"a\", \"expires_on\": 2000000000}'")
        let emulator = try SharedEmulator { $0.authentication.clientSecret = "right" }
        let chain = try #require(
            try AzureAuth.credential(
                .auto, cloud: .azureCloud,
                environment: [
                    "AZURE_TENANT_ID": Fixture.tenant, "AZURE_CLIENT_ID": "app-1",
                    "AZURE_CLIENT_SECRET": "canary-wrong", "AZURE_AUTHORITY_HOST": "http://127.0.0.1:9",
                    "PATH": directory,
                ], transport: emulator, clock: emulator))
        let error = #expect(throws: AzureARMError.self) { try chain.token(scope: Self.arm) }
        #expect(error?.description.contains("AADSTS7000215") == true)
        #expect(error?.description.contains("azure-cli:") == false)
        #expect(!FileManager.default.fileExists(atPath: directory + "/ran"))
        expectNoSecrets(error, ["canary-wrong"])
    }

    @Test("--auth by name: none is nil; a credential that is not set up fails at once with exit code 69")
    func factory() throws {
        let empty = ["PATH": "/nonexistent-\(UUID().uuidString)"]
        #expect(try AzureAuth.credential(.none, cloud: .azureCloud, environment: empty) == nil)
        #expect(
            try AzureAuth.credential(.managedIdentity, cloud: .azureCloud, environment: empty)?.name
                == "managed-identity")
        #expect(try AzureAuth.credential(.auto, cloud: .azureChinaCloud, environment: empty)?.name == "auto")
        for auth in [AzureAuth.environment, .workloadIdentity, .azureCLI] {
            let error = #expect(throws: AzureARMError.self) {
                try AzureAuth.credential(auth, cloud: .azureCloud, environment: empty)
            }
            #expect(error?.category.exitCode == 69)
            #expect(error?.what.hasPrefix(auth.rawValue + ":") == true)
        }
    }

    @Test("over loopback HTTP: a client secret from the emulator's token endpoint reads the demo fleet")
    func loopback() throws {
        let emulator = try SharedEmulator { $0.authentication.clientSecret = "loopback-secret" }
        let server = try LoopbackServer { request in
            let answer = try? emulator.send(
                ARMHTTPRequest(
                    method: request.method, url: request.target, headers: request.headers, body: request.body))
            guard let answer else { return nil }
            return LoopbackServer.answer(answer.status, headers: answer.headers, bytes: answer.body)
        }
        defer { server.stop() }
        let credential = try #require(
            try AzureAuth.credential(
                .environment, cloud: .azureCloud,
                environment: [
                    "AZURE_TENANT_ID": Fixture.tenant, "AZURE_CLIENT_ID": "app-1",
                    "AZURE_CLIENT_SECRET": "loopback-secret", "AZURE_AUTHORITY_HOST": server.endpoint,
                ]))
        let transport = try URLSessionTransport(
            endpoint: server.endpoint, requestTimeout: 20, resourceTimeout: 60,
            authorization: AzureAuth.authorization(credential, scope: AzureCloud.azureCloud.armScope))
        var options = Fixture.options(pageSize: 50)
        options.endpoint = server.endpoint
        let read = try ResourceGraphInventory.read(transport: transport, clock: emulator, options: options)
        #expect(read.fleet.clusters.count == 17)
        #expect(emulator.requests.filter { $0.url.contains("oauth2/v2.0/token") }.count == 1)
    }
}
