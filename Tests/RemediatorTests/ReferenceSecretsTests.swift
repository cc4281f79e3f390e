import FleetCore
import Foundation
import Remediator
import Testing

/// A Key Vault reader from a dictionary keyed by `vault id|name|version`, recording what it was asked.
final class StubVault: KeyVaultSecretReader, @unchecked Sendable {
    let values: [String: String]
    private let lock = NSLock()
    private var asked: [String] = []

    init(_ values: [String: String]) {
        self.values = values
    }

    /// The reads asked for, as `vault id|name|version`.
    var reads: [String] { lock.withLock { asked } }

    func secret(vaultId: String, name: String, version: String?) throws -> String {
        let key = "\(vaultId)|\(name)|\(version ?? "")"
        lock.withLock { asked.append(key) }
        guard let value = values[key] else { throw StubVaultError() }
        return value
    }
}

/// A reader's failure with a message and a remedy.
struct StubVaultError: LocalizedError {
    var errorDescription: String? { "Key Vault 'kv-fleet', secret 'missing': Key Vault answered 404 SecretNotFound" }
    var recoverySuggestion: String? { "create the secret" }
}

@Suite("reference secrets")
struct ReferenceSecretsTests {
    static let vaultId =
        "/subscriptions/7d2c1b0a-9e8f-4a6b-8c5d-3e2f1a0b9c8d/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-fleet"

    static func reference(_ members: String) throws -> JSON {
        try JSON.parse(#"{"reference": {"keyVault": {"id": "\#(vaultId)"}, \#(members)}}"#)
    }

    static func failure(_ body: () throws -> String) -> RemediationFailure? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? RemediationFailure
        }
    }

    @Test("a Key Vault reference is read through the reader: vault id, name and optional version as written")
    func keyVault() throws {
        let vault = StubVault([
            "\(Self.vaultId)|git-token|": "current", "\(Self.vaultId)|git-token|0a1b": "pinned",
        ])
        let secrets = ReferenceSecrets(environment: [:], keyVault: vault)
        #expect(try secrets.resolve(Self.reference(#""secretName": "git-token""#)) == "current")
        #expect(try secrets.resolve(Self.reference(#""secretName": "git-token", "secretVersion": "0a1b""#)) == "pinned")
        let bare = try #require(try Self.reference(#""secretName": "git-token""#)["reference"])
        #expect(try secrets.resolve(bare) == "current")
        #expect(vault.reads.count == 3)
    }

    @Test("a reader's error becomes SecretUnresolved with its message and remedy")
    func readerError() throws {
        let secrets = ReferenceSecrets(environment: [:], keyVault: StubVault([:]))
        let failure = Self.failure { try secrets.resolve(try Self.reference(#""secretName": "missing""#)) }
        #expect(failure?.code == "SecretUnresolved")
        #expect(failure?.message == "Key Vault 'kv-fleet', secret 'missing': Key Vault answered 404 SecretNotFound")
        #expect(failure?.remedy == "create the secret")
    }

    @Test("without a reader a Key Vault reference is refused, naming the secret and how to enable Key Vault")
    func withoutReader() throws {
        let failure = Self.failure {
            try ReferenceSecrets(environment: [:]).resolve(try Self.reference(#""secretName": "git-token""#))
        }
        #expect(failure?.code == "SecretUnresolved")
        #expect(failure?.message.contains("'git-token'") == true)
        #expect(failure?.remedy.contains("run with Azure credentials (--auth)") == true)
    }

    @Test(
        "a malformed Key Vault reference is refused before the reader is asked",
        arguments: [
            #"{"reference": {"keyVault": {}, "secretName": "s"}}"#,
            #"{"reference": {"keyVault": {"id": "/v"}}}"#,
            #"{"reference": {"keyVault": {"id": "/v"}, "secretName": 3}}"#,
            #"{"reference": {"keyVault": {"id": "/v"}, "secretName": "s", "secretVersion": 1}}"#,
        ])
    func malformed(text: String) throws {
        let vault = StubVault([:])
        let failure = Self.failure { try ReferenceSecrets(environment: [:], keyVault: vault).resolve(JSON.parse(text)) }
        #expect(failure?.code == "SecretUnresolved")
        #expect(failure?.remedy.contains("secretName") == true)
        #expect(vault.reads.isEmpty)
    }
}
