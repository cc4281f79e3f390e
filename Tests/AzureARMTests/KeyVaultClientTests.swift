import ARMEmulator
import AzureARM
import FleetCore
import Foundation
import Testing

/// A credential that hands out a fixed token and counts the scopes asked for.
final class FixedCredential: TokenCredential, @unchecked Sendable {
    let name = "test"
    let token: String
    let failure: String?
    private let lock = NSLock()
    private var asked: [String] = []

    init(token: String = "kv-token-7f3a", failure: String? = nil) {
        self.token = token
        self.failure = failure
    }

    /// The scopes asked for, in order.
    var scopes: [String] { lock.withLock { asked } }

    func token(scope: String) throws -> AccessToken {
        lock.withLock { asked.append(scope) }
        if let failure { throw FixedCredentialError(description: failure) }
        return AccessToken(token: token, expiresOn: 1_900_000_000)
    }
}

struct FixedCredentialError: Error, CustomStringConvertible {
    var description: String
}

/// The in-process emulator shared by threads: requests are answered one at a time and recorded.
final class SharedVaultEmulator: ARMTransport, RemediationClock, @unchecked Sendable {
    private let lock = NSLock()
    private let emulator: InProcessARM
    private var sent: [ARMHTTPRequest] = []
    private var answers: [ARMHTTPResponse] = []
    /// Answers `.unreachable` to every request when set.
    var unreachable = false

    init(_ state: EmulatorState) {
        emulator = InProcessARM(state)
    }

    /// The requests sent, in order.
    var requests: [ARMHTTPRequest] { lock.withLock { sent } }
    /// The answers given, in order.
    var responses: [ARMHTTPResponse] { lock.withLock { answers } }
    /// The Key Vault requests sent.
    var keyVaultRequests: [ARMHTTPRequest] { requests.filter { $0.url.contains("/keyvault/") } }

    var now: Int64 { lock.withLock { emulator.now } }

    func sleep(until time: Int64) { lock.withLock { emulator.sleep(until: time) } }

    /// The emulator's state as an inventory snapshot (what `--state-out` writes).
    func snapshot() -> [UInt8] { lock.withLock { emulator.state.snapshot() } }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        sent.append(request)
        if unreachable { throw .unreachable("cannot resolve the host (test)") }
        let answer = try emulator.send(request)
        answers.append(answer)
        return answer
    }
}

/// Waits recorded instead of slept.
final class RecordedSleeps: @unchecked Sendable {
    private let lock = NSLock()
    private var waits: [Double] = []

    var seconds: [Double] { lock.withLock { waits } }

    func sleep(_ seconds: Double) { lock.withLock { waits.append(seconds) } }
}

/// Key Vault ids and a client over the in-process emulator.
enum Vaults {
    static let vaultId =
        "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-fleet"
    static let template = "http://127.0.0.1:8080/keyvault/{vault}"

    /// An emulator with secrets in vault `kv-fleet`.
    static func emulator(_ seed: (inout EmulatedKeyVaults) -> Void) -> SharedVaultEmulator {
        var state = EmulatorState()
        seed(&state.keyVaults)
        return SharedVaultEmulator(state)
    }

    /// A client over the emulator through the endpoint template.
    static func client(
        _ emulator: SharedVaultEmulator, credential: FixedCredential = FixedCredential(),
        sleeps: RecordedSleeps = RecordedSleeps(), maxAttempts: Int = 4
    ) throws -> KeyVaultClient {
        try KeyVaultClient(
            credential: credential, endpointTemplate: template, maxAttempts: maxAttempts,
            sleep: { sleeps.sleep($0) }, connect: { _ in emulator })
    }

    /// The error a read throws.
    static func failure(_ body: () throws -> String) throws -> KeyVaultError {
        do {
            let value = try body()
            Issue.record("expected a failure, read a value of \(value.count) characters")
            throw FixedCredentialError(description: "no failure")
        } catch let error as KeyVaultError {
            return error
        }
    }
}

@Suite("Key Vault client over the emulator")
struct KeyVaultClientTests {
    @Test("reads the current version with a bearer token for the vault scope at the template's URL")
    func current() throws {
        let emulator = Vaults.emulator { $0.add(vault: "kv-fleet", name: "git-token", value: "s3cret-value") }
        let credential = FixedCredential()
        let client = try Vaults.client(emulator, credential: credential)
        #expect(try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) == "s3cret-value")
        let request = try #require(emulator.keyVaultRequests.first)
        #expect(request.method == "GET")
        #expect(request.url == "http://127.0.0.1:8080/keyvault/kv-fleet/secrets/git-token?api-version=2025-07-01")
        #expect(request.headers["Authorization"] == "Bearer kv-token-7f3a")
        #expect(credential.scopes == ["https://vault.azure.net/.default"])
        let body = try JSON.parse(String(decoding: try #require(emulator.responses.first).body, as: UTF8.self))
        #expect(body["id"]?.string?.hasPrefix("https://kv-fleet.vault.azure.net/secrets/git-token/") == true)
        #expect(body["attributes"]?["enabled"] == .bool(true))
        #expect(body["attributes"]?["recoveryLevel"]?.string == "Recoverable+Purgeable")
    }

    @Test("a version is read by its id; without one the last added is current")
    func versions() throws {
        let emulator = Vaults.emulator {
            $0.add(
                vault: "kv-fleet", name: "git-token", value: "old-value", version: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
            $0.add(vault: "kv-fleet", name: "git-token", value: "new-value")
        }
        let client = try Vaults.client(emulator)
        #expect(try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) == "new-value")
        #expect(
            try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
                == "old-value")
        #expect(
            emulator.keyVaultRequests.last?.url.contains("/secrets/git-token/0a1b2c3d4e5f60718293a4b5c6d7e8f9?") == true
        )
    }

    @Test("404 SecretNotFound names the vault and the secret, and how to fix it")
    func notFound() throws {
        let emulator = Vaults.emulator { $0.add(vault: "kv-fleet", name: "other", value: "x") }
        let client = try Vaults.client(emulator)
        let error = try Vaults.failure { try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(error.kind == .notFound)
        #expect(error.status == 404)
        #expect(error.errorCode == "SecretNotFound")
        #expect(error.description.contains("Key Vault 'kv-fleet', secret 'git-token'"))
        #expect(error.remedy.contains("az keyvault secret set --vault-name kv-fleet --name git-token"))
        #expect(error.requestId != nil)
        let version = try Vaults.failure {
            try client.secret(vaultId: Vaults.vaultId, name: "other", version: "ffffffffffffffffffffffffffffffff")
        }
        #expect(version.kind == .notFound)
        #expect(emulator.keyVaultRequests.count == 2)
        let again = try Vaults.failure { try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(again == error)
        #expect(emulator.keyVaultRequests.count == 2, "a definite refusal is remembered, not asked again per cluster")
    }

    @Test("a disabled secret is 403 Forbidden with innererror SecretDisabled, reported as disabled")
    func disabled() throws {
        let emulator = Vaults.emulator {
            $0.add(vault: "kv-fleet", name: "git-token", value: "disabled-value", enabled: false)
        }
        let client = try Vaults.client(emulator)
        let error = try Vaults.failure { try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(error.kind == .disabled)
        #expect(error.status == 403)
        #expect(error.errorCode == "SecretDisabled")
        #expect(error.message.contains("disabled secret"))
        #expect(error.remedy.contains("--enabled true"))
        #expect(!error.description.contains("disabled-value"))
        let body = try JSON.parse(String(decoding: try #require(emulator.responses.first).body, as: UTF8.self))
        #expect(body["error"]?["code"]?.string == "Forbidden")
        #expect(body["error"]?["innererror"]?["code"]?.string == "SecretDisabled")
    }

    @Test("403 without access names the role Key Vault Secrets User and the secret permission get")
    func forbidden() throws {
        let emulator = Vaults.emulator {
            $0.add(vault: "kv-fleet", name: "git-token", value: "forbidden-value", forbidden: true)
        }
        let client = try Vaults.client(emulator)
        let error = try Vaults.failure { try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(error.kind == .forbidden)
        #expect(error.errorCode == "ForbiddenByRbac")
        #expect(error.remedy.contains("\"Key Vault Secrets User\" on vault kv-fleet"))
        #expect(error.remedy.contains("--secret-permissions get"))
        #expect(!error.description.contains("forbidden-value"))
        #expect(emulator.keyVaultRequests.first?.headers["Authorization"] == "Bearer kv-token-7f3a")
        #expect(!error.description.contains("kv-token-7f3a"))
    }

    @Test("a refused token is 401: the remedy is about the credentials and the tenant; the token is never shown")
    func unauthorized() throws {
        let emulator = Vaults.emulator { $0.add(vault: "kv-fleet", name: "git-token", value: "v") }
        let client = try Vaults.client(emulator, credential: FixedCredential(token: ""))
        let error = try Vaults.failure { try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(error.kind == .unauthorized)
        #expect(error.status == 401)
        #expect(error.remedy.contains("--auth"))
        #expect(error.remedy.contains("https://login.microsoftonline.com/"))
        #expect(
            emulator.responses.first?.header("WWW-Authenticate")?.contains("resource=\"https://vault.azure.net\"")
                == true)

        let failing = try Vaults.client(
            emulator, credential: FixedCredential(failure: "az login has expired; run az login"))
        let noToken = try Vaults.failure {
            try failing.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil)
        }
        #expect(noToken.kind == .credential)
        #expect(noToken.message.contains("az login has expired"))
        #expect(noToken.message.contains("https://vault.azure.net/.default"))
    }

    @Test("429 is retried after Retry-After, bounded; a throttle that does not end is reported")
    func throttled() throws {
        let emulator = Vaults.emulator {
            $0.add(vault: "kv-fleet", name: "git-token", value: "after-throttle")
            $0.throttleNext = 2
        }
        let sleeps = RecordedSleeps()
        let client = try Vaults.client(emulator, sleeps: sleeps)
        #expect(try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) == "after-throttle")
        #expect(emulator.keyVaultRequests.count == 3)
        #expect(sleeps.seconds == [1, 1])

        let storm = Vaults.emulator {
            $0.add(vault: "kv-fleet", name: "git-token", value: "v")
            $0.throttleNext = 100
        }
        let stormSleeps = RecordedSleeps()
        let bounded = try Vaults.client(storm, sleeps: stormSleeps, maxAttempts: 3)
        let error = try Vaults.failure { try bounded.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(error.kind == .throttled)
        #expect(error.errorCode == "Throttled")
        #expect(storm.keyVaultRequests.count == 3)
        #expect(stormSleeps.seconds.count == 2)
        _ = try Vaults.failure { try bounded.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) }
        #expect(storm.keyVaultRequests.count == 6, "throttling is not remembered: the next cluster asks again")
    }

    @Test("5xx and dropped connections are retried; an unreachable vault is not")
    func transient() throws {
        let scripted = Scripted([
            .success(.json(503, #"{"error": {"code": "ServiceUnavailable", "message": "busy"}}"#)),
            .failure(.droppedConnection),
            .success(.json(200, #"{"value": "third-time"}"#)),
        ])
        let sleeps = RecordedSleeps()
        let shared = SharedScripted(scripted)
        let client = try KeyVaultClient(
            credential: FixedCredential(), sleep: { sleeps.sleep($0) }, connect: { _ in shared })
        #expect(try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) == "third-time")
        #expect(scripted.sent == 3)
        #expect(sleeps.seconds == [1, 2])

        let emulator = Vaults.emulator { _ in }
        emulator.unreachable = true
        let unreachable = try Vaults.client(emulator)
        let error = try Vaults.failure {
            try unreachable.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil)
        }
        #expect(error.kind == .unreachable)
        #expect(error.message.contains("http://127.0.0.1:8080/keyvault/kv-fleet"))
        #expect(emulator.requests.count == 1)
    }

    @Test("values are cached per vault, name and version: a fleet reads each secret once, from any thread")
    func cache() throws {
        let emulator = Vaults.emulator {
            $0.add(vault: "kv-fleet", name: "git-token", value: "v1", version: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
            $0.add(vault: "kv-fleet", name: "git-token", value: "v2")
        }
        let client = try Vaults.client(emulator)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            _ = try? client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil)
        }
        #expect(emulator.keyVaultRequests.count == 1)
        #expect(try client.secret(vaultId: Vaults.vaultId.uppercased(), name: "GIT-TOKEN", version: nil) == "v2")
        #expect(emulator.keyVaultRequests.count == 1)
        #expect(
            try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
                == "v1")
        #expect(emulator.keyVaultRequests.count == 2)
    }

    @Test(
        "a malformed vault id, secret name or version is refused before any token or request",
        arguments: [
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/kvfleet", "ok", nil),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv", "ok", nil),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv_fleet", "ok", nil),
            ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-fleet/secrets/x", "ok", nil),
            ("kv-fleet", "ok", nil),
            (Vaults.vaultId, "git_token", nil),
            (Vaults.vaultId, "", nil),
            (Vaults.vaultId, String(repeating: "a", count: 128), nil),
            (Vaults.vaultId, "ok", "../../keys/x"),
            (Vaults.vaultId, "ok", "1?api-version=1"),
        ] as [(String, String, String?)])
    func validation(vaultId: String, name: String, version: String?) throws {
        let emulator = Vaults.emulator { _ in }
        let credential = FixedCredential()
        let client = try Vaults.client(emulator, credential: credential)
        let error = try Vaults.failure { try client.secret(vaultId: vaultId, name: name, version: version) }
        #expect(error.kind == .invalidReference)
        #expect(emulator.requests.isEmpty)
        #expect(credential.scopes.isEmpty)
    }

    @Test("over URLSession to a loopback server in front of the emulator: the token goes to the vault's endpoint")
    func overSocket() throws {
        let emulator = Vaults.emulator { $0.add(vault: "kv-fleet", name: "git-token", value: "socket-value") }
        let server = try LoopbackServer { request in
            guard
                let answer = try? emulator.send(
                    ARMHTTPRequest(
                        method: request.method, url: request.target, headers: request.headers, body: request.body))
            else { return nil }
            return LoopbackServer.answer(answer.status, headers: answer.headers, bytes: answer.body)
        }
        defer { server.stop() }
        let client = try KeyVaultClient(
            credential: FixedCredential(), endpointTemplate: "\(server.endpoint)/keyvault/{vault}")
        #expect(try client.secret(vaultId: Vaults.vaultId, name: "git-token", version: nil) == "socket-value")
        let request = try #require(emulator.keyVaultRequests.first)
        #expect(request.url == "/keyvault/kv-fleet/secrets/git-token?api-version=2025-07-01")
        #expect(request.headers["authorization"] == "Bearer kv-token-7f3a")
    }

    @Test("vault URLs per cloud, and the endpoint template is checked")
    func vaultURLs() throws {
        let credential = FixedCredential()
        #expect(
            try KeyVaultClient(credential: credential).vaultURL(name: "kv-fleet") == "https://kv-fleet.vault.azure.net")
        let government = try KeyVaultClient(
            credential: credential, dnsSuffix: "vault.usgovcloudapi.net",
            scope: "https://vault.usgovcloudapi.net/.default")
        #expect(government.vaultURL(name: "kv-fleet") == "https://kv-fleet.vault.usgovcloudapi.net")
        #expect(
            try KeyVaultClient(credential: credential, endpointTemplate: "http://127.0.0.1:9/keyvault/{vault}/")
                .vaultURL(name: "kv-fleet") == "http://127.0.0.1:9/keyvault/kv-fleet")
        for bad in ["127.0.0.1:9/keyvault/{vault}", "http://127.0.0.1:9/keyvault", "http://h/{vault}?x=1"] {
            #expect(throws: AzureARMError.self) { try KeyVaultClient(credential: credential, endpointTemplate: bad) }
        }
        #expect(KeyVaultClient.vaultName(fromId: Vaults.vaultId) == "kv-fleet")
    }
}

/// A scripted transport shared with the client's `connect` closure.
final class SharedScripted: ARMTransport, @unchecked Sendable {
    let inner: Scripted

    init(_ inner: Scripted) {
        self.inner = inner
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse { try inner.send(request) }
}
