import ARMEmulator
import FleetCore
import Foundation
import Testing

@testable import AzureARM

@Suite("credentials against the emulator")
struct CredentialTests {
    static let authority = "http://127.0.0.1:9"
    static let arm = AzureCloud.azureCloud.armScope
    static let vault = AzureCloud.azureCloud.keyVaultScope

    static func secretEnvironment(_ secret: String) -> [String: String] {
        [
            "AZURE_TENANT_ID": Fixture.tenant, "AZURE_CLIENT_ID": "app-1", "AZURE_CLIENT_SECRET": secret,
            "AZURE_AUTHORITY_HOST": authority,
        ]
    }

    @Test("client secret: a percent-encoded form to {authority}/{tenant}/oauth2/v2.0/token; the token reads ARM")
    func clientSecret() throws {
        let secret = "p&ss=word+/% ~canary"
        let emulator = try SharedEmulator { $0.authentication.clientSecret = secret }
        let credential = try ClientSecretCredential(
            environment: Self.secretEnvironment(secret), transport: emulator, clock: emulator)
        let token = try credential.token(scope: Self.arm)
        #expect(try emulator.graphStatus(token: token.token) == 200)
        #expect(token.expiresOn == emulator.now / 1000 + 3599)
        #expect(token.refreshOn == token.expiresOn - 300)
        let request = try #require(emulator.requests.first)
        #expect(request.method == "POST")
        #expect(request.url == "\(Self.authority)/\(Fixture.tenant)/oauth2/v2.0/token")
        #expect(request.headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(String(decoding: request.body, as: UTF8.self).contains("p%26ss%3Dword%2B%2F%25%20~canary"))
        #expect(request.form["client_secret"] == secret)
        #expect(request.form["scope"] == Self.arm)
        #expect(request.form["grant_type"] == "client_credentials")

        let vaultToken = try credential.token(scope: Self.vault)
        #expect(emulator.issued[vaultToken.token]?.audience == "https://vault.azure.net")
        #expect(try emulator.graphStatus(token: vaultToken.token) == 401)
    }

    @Test("client secret: Entra ID's refusal becomes an unauthorised error with its code and a remedy, not the secret")
    func wrongSecret() throws {
        let emulator = try SharedEmulator { $0.authentication.clientSecret = "the-right-one" }
        let credential = try ClientSecretCredential(
            environment: Self.secretEnvironment("canary-wrong-secret"), transport: emulator, clock: emulator)
        let error = #expect(throws: AzureARMError.self) { try credential.token(scope: Self.arm) }
        #expect(error?.category == .unauthorized)
        #expect(error?.category.exitCode == 69)
        #expect(error?.status == 401)
        #expect(error?.errorCode == "invalid_client")
        #expect(error?.what.contains("AADSTS7000215") == true)
        #expect(error?.what.contains("Trace ID") == false)
        #expect(error?.remedy.contains("AZURE_CLIENT_SECRET") == true)
        expectNoSecrets(error, ["canary-wrong-secret", "the-right-one"])
    }

    @Test("client secret: missing variables name themselves; a certificate alone is refused as out of scope")
    func missingEnvironment() {
        let missing = #expect(throws: AzureARMError.self) {
            try ClientSecretCredential(
                environment: ["AZURE_TENANT_ID": "t"], transport: Answering { _ in .json(500, "") },
                clock: ManualClock())
        }
        #expect(missing?.isCredentialUnavailable == true)
        #expect(missing?.what.contains("AZURE_CLIENT_ID, AZURE_CLIENT_SECRET are not set") == true)
        let certificate = #expect(throws: AzureARMError.self) {
            try ClientSecretCredential(
                environment: [
                    "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_CERTIFICATE_PATH": "/x.pem",
                ],
                transport: Answering { _ in .json(500, "") }, clock: ManualClock())
        }
        #expect(certificate?.isCredentialUnavailable == false)
        #expect(certificate?.what.contains("certificates are not supported") == true)
        #expect(certificate?.remedy.contains("AZURE_CLIENT_SECRET") == true)
        #expect(certificate?.remedy.contains("workload identity") == true)
        let badTenant = #expect(throws: AzureARMError.self) {
            try ClientSecretCredential(
                environment: ["AZURE_TENANT_ID": "../x", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"],
                transport: Answering { _ in .json(500, "") }, clock: ManualClock())
        }
        #expect(badTenant?.location == "AZURE_TENANT_ID")
    }

    @Test("the cache hands out one token per scope until refreshOn, then refreshes")
    func caching() throws {
        let emulator = try SharedEmulator()
        let credential = try ClientSecretCredential(
            environment: Self.secretEnvironment("s"), transport: emulator, clock: emulator)
        let first = try credential.token(scope: Self.arm)
        #expect(try credential.token(scope: Self.arm) == first)
        #expect(emulator.requests.count == 1)
        emulator.sleep(until: first.refreshOn * 1000 - 1000)
        #expect(try credential.token(scope: Self.arm) == first)
        emulator.sleep(until: first.refreshOn * 1000)
        let second = try credential.token(scope: Self.arm)
        #expect(second != first)
        #expect(emulator.requests.count == 2)
        #expect(try emulator.graphStatus(token: second.token) == 200)
    }

    @Test("a failed refresh keeps the old token while it is valid, after retrying 5xx; then the error shows")
    func refreshFailure() throws {
        let calls = Counter()
        let transport = Answering { _ in
            calls.increment() == 1
                ? .json(200, #"{"token_type": "Bearer", "expires_in": 3600, "access_token": "tok-1"}"#)
                : .json(503, #"{"error": "temporarily_unavailable"}"#)
        }
        let clock = ManualClock()
        let credential = try ClientSecretCredential(
            environment: Self.secretEnvironment("s"), transport: transport, clock: clock)
        let first = try credential.token(scope: Self.arm)
        clock.advance(seconds: 3400)
        #expect(try credential.token(scope: Self.arm) == first)
        #expect(calls.value == 4)
        clock.advance(seconds: 200)
        let error = #expect(throws: AzureARMError.self) { try credential.token(scope: Self.arm) }
        #expect(error?.status == 503)
        #expect(error?.errorCode == "temporarily_unavailable")
    }

    @Test("threads asking at once share one token request per scope")
    func oneRefreshInFlight() throws {
        let calls = Counter()
        let transport = Answering { _ in
            calls.increment()
            Thread.sleep(forTimeInterval: 0.1)
            return .json(200, #"{"expires_in": 3600, "access_token": "shared"}"#)
        }
        let credential = try ClientSecretCredential(
            environment: Self.secretEnvironment("s"), transport: transport, clock: ManualClock())
        let tokens = Mutexed<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let token = (try? credential.token(scope: Self.arm).token) ?? "failed"
            tokens.update { $0.append(token) }
        }
        #expect(calls.value == 1)
        #expect(tokens.value == Array(repeating: "shared", count: 8))
    }

    @Test("workload identity: the trimmed file is the assertion, re-read at most every 600 s")
    func workloadIdentity() throws {
        let directory = try Scratch.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = (directory as NSString).appendingPathComponent("token")
        try "eyJ.first.token\n".write(toFile: file, atomically: true, encoding: .utf8)
        let emulator = try SharedEmulator { $0.authentication.federatedToken = "eyJ.first.token" }
        let credential = try WorkloadIdentityCredential(
            environment: [
                "AZURE_FEDERATED_TOKEN_FILE": file, "AZURE_CLIENT_ID": "wi-app", "AZURE_TENANT_ID": Fixture.tenant,
                "AZURE_AUTHORITY_HOST": Self.authority + "/",
            ], transport: emulator, clock: emulator)
        let token = try credential.token(scope: Self.arm)
        #expect(try emulator.graphStatus(token: token.token) == 200)
        let form = try #require(emulator.requests.first).form
        #expect(form["client_assertion"] == "eyJ.first.token")
        #expect(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        #expect(form["client_id"] == "wi-app")
        #expect(form["client_secret"] == nil)

        try "eyJ.canary.second".write(toFile: file, atomically: true, encoding: .utf8)
        emulator.sleep(until: emulator.now + 599_000)
        _ = try credential.token(scope: Self.vault)
        emulator.sleep(until: emulator.now + 2_000)
        let error = #expect(throws: AzureARMError.self) {
            try credential.token(scope: "https://storage.azure.com/.default")
        }
        #expect(error?.what.contains("AADSTS70021") == true)
        #expect(error?.remedy.contains("federated identity credential") == true)
        expectNoSecrets(error, ["eyJ.canary.second", "eyJ.first.token"])

        try FileManager.default.removeItem(atPath: file)
        let gone = try WorkloadIdentityCredential(
            environment: ["AZURE_FEDERATED_TOKEN_FILE": file, "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"],
            transport: emulator, clock: emulator)
        let unreadable = #expect(throws: AzureARMError.self) { try gone.token(scope: Self.arm) }
        #expect(unreadable?.location == file)
    }

    @Test("managed identity over IMDS: Metadata header, v1 resource, strings, refreshed at half its lifetime")
    func imds() throws {
        let emulator = try SharedEmulator()
        let credential = ManagedIdentityCredential(
            environment: ["AZURE_POD_IDENTITY_AUTHORITY_HOST": Self.authority + "/"], transport: emulator,
            clock: emulator)
        let token = try credential.token(scope: Self.arm)
        let now = emulator.now / 1000
        #expect(token.expiresOn == now + 86_399)
        #expect(token.refreshOn == now + 43_199)
        #expect(try emulator.graphStatus(token: token.token) == 200)
        let request = try #require(emulator.requests.first)
        #expect(request.method == "GET")
        #expect(
            request.url
                == "\(Self.authority)/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com"
        )
        #expect(request.headers["Metadata"] == "true")
        #expect(credential.source == "IMDS \(Self.authority)")

        let user = ManagedIdentityCredential(
            environment: ["AZURE_POD_IDENTITY_AUTHORITY_HOST": Self.authority, "AZURE_CLIENT_ID": "not-assigned"],
            transport: emulator, clock: emulator)
        let error = #expect(throws: AzureARMError.self) { try user.token(scope: Self.arm) }
        #expect(error?.isCredentialUnavailable == true)
        #expect(error?.what.contains("no managed identity is assigned with client id not-assigned") == true)
    }

    @Test("managed identity defaults to 169.254.169.254 (asked here of a stand-in, never the network)")
    func imdsDefaultAddress() throws {
        let transport = Answering { _ in
            .json(200, #"{"access_token": "mi", "expires_in": "3599", "expires_on": "1795287599"}"#)
        }
        let credential = ManagedIdentityCredential(environment: [:], transport: transport, clock: ManualClock())
        let token = try credential.token(scope: Self.vault)
        #expect(token.expiresOn == 1_795_287_599)
        #expect(token.refreshOn == 1_795_287_599 - 300)
        #expect(
            transport.requests.first?.url
                == "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net"
        )
    }

    @Test("managed identity: an IMDS probe without an answer makes the credential unavailable")
    func imdsProbe() {
        let transport = Answering { _ in .json(200, "{}") }
        let probe = Answering { _ throws(TransportError) in throw .timedOut }
        let credential = ManagedIdentityCredential(
            environment: [:], transport: transport, clock: ManualClock(), probeTransport: probe)
        let error = #expect(throws: AzureARMError.self) { try credential.token(scope: Self.arm) }
        #expect(error?.isCredentialUnavailable == true)
        #expect(error?.what.contains("no managed identity endpoint answered") == true)
        #expect(transport.requests.isEmpty)
        #expect(probe.requests.count == 1)
    }

    @Test("managed identity over the App Service endpoint: X-IDENTITY-HEADER, 2019-08-01, epoch expires_on")
    func appService() throws {
        let emulator = try SharedEmulator {
            $0.authentication.identityHeader = "header-canary"
            $0.authentication.managedIdentityClientID = "mi-client"
        }
        let environment = [
            "IDENTITY_ENDPOINT": Self.authority + "/msi/token", "IDENTITY_HEADER": "header-canary",
            "AZURE_CLIENT_ID": "mi-client",
        ]
        let credential = ManagedIdentityCredential(environment: environment, transport: emulator, clock: emulator)
        let token = try credential.token(scope: Self.vault)
        #expect(token.expiresOn == emulator.now / 1000 + 86_399)
        #expect(emulator.issued[token.token]?.audience == "https://vault.azure.net")
        let request = try #require(emulator.requests.first)
        #expect(request.headers["X-IDENTITY-HEADER"] == "header-canary")
        #expect(request.query["api-version"] == "2019-08-01")
        #expect(request.query["resource"] == "https://vault.azure.net")
        #expect(request.query["client_id"] == "mi-client")

        var wrong = environment
        wrong["IDENTITY_HEADER"] = "wrong-header-canary"
        let refused = ManagedIdentityCredential(environment: wrong, transport: emulator, clock: emulator)
        let error = #expect(throws: AzureARMError.self) { try refused.token(scope: Self.arm) }
        #expect(error?.status == 401)
        #expect(error?.isCredentialUnavailable == false)
        expectNoSecrets(error, ["header-canary"])
    }

    @Test("every error path keeps secrets, assertions and tokens out of the message")
    func canaries() throws {
        let secret = "canary-secret-value"
        func failing(_ answer: ARMHTTPResponse) throws -> AzureARMError? {
            let credential = try ClientSecretCredential(
                environment: Self.secretEnvironment(secret), transport: Answering { _ in answer }, clock: ManualClock())
            return #expect(throws: AzureARMError.self) { try credential.token(scope: Self.arm) }
        }
        let echoed = try failing(
            .json(
                400,
                #"{"error": "invalid_request", "error_description": "AADSTS9: bad client_secret=canary-secret-value"}"#)
        )
        #expect(echoed?.what.contains("AADSTS9") == true)
        expectNoSecrets(echoed, [secret])
        let malformed = try failing(.json(200, #"{"access_token": "canary-token-1", "expires_in": "#))
        expectNoSecrets(malformed, [secret, "canary-token-1"])
        let noExpiry = try failing(.json(200, #"{"access_token": "canary-token-2"}"#))
        expectNoSecrets(noExpiry, [secret, "canary-token-2"])
        let notJSON = try failing(.json(502, "<html>canary-secret-value</html>"))
        expectNoSecrets(notJSON, [secret])
        let unreachable = try ClientSecretCredential(
            environment: Self.secretEnvironment(secret),
            transport: Answering { _ throws(TransportError) in throw .unreachable("cannot connect to 127.0.0.1:9") },
            clock: ManualClock())
        let network = #expect(throws: AzureARMError.self) { try unreachable.token(scope: Self.arm) }
        #expect(network?.what.contains("cannot connect") == true)
        expectNoSecrets(network, [secret])
        #expect(!"\(AccessToken(token: "canary-token-3", expiresOn: 1))".contains("canary"))
        #expect(!String(reflecting: AccessToken(token: "canary-token-3", expiresOn: 1)).contains("canary"))
    }
}

/// A thread-safe counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    /// Adds one and returns the new count.
    @discardableResult
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        return count
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// A value behind a lock.
final class Mutexed<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) {
        stored = value
    }

    func update(_ change: (inout Value) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        change(&stored)
    }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
