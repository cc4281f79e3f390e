import FleetCore
import Foundation

/// Resolves the secret references a plan holds, at apply time: `{"fromEnv": "NAME"}` from the environment,
/// `{"fromFile": "PATH"}` from a file (one trailing newline dropped), and Key Vault references through a
/// ``FleetCore/KeyVaultSecretReader``.
///
/// A Key Vault reference is written as ARM parameter files write it,
/// `{"reference": {"keyVault": {"id": "<vault id>"}, "secretName": "…", "secretVersion": "…"}}` (`secretVersion`
/// optional), or without the `reference` wrapper as a deployment template's parameter carries it. Without a reader
/// it is refused with the remedy to run with Azure credentials. Values are never logged: errors name the reference,
/// not the value.
public struct ReferenceSecrets: SecretResolver {
    let environment: [String: String]
    let keyVault: (any KeyVaultSecretReader)?

    /// Creates a resolver over an environment (the process environment by default) and, to read Key Vault
    /// references, a Key Vault reader.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment, keyVault: (any KeyVaultSecretReader)? = nil
    ) {
        self.environment = environment
        self.keyVault = keyVault
    }

    /// The secret's value.
    public func resolve(_ reference: JSON) throws -> String {
        if let name = reference["fromEnv"]?.string {
            guard let value = environment[name], !value.isEmpty else {
                throw RemediationFailure(
                    code: "SecretUnresolved", message: "the environment variable \(name) named by the plan is not set",
                    remedy: "export \(name) with the secret before running apply")
            }
            return value
        }
        if let path = reference["fromFile"]?.string {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw RemediationFailure(
                    code: "SecretUnresolved", message: "the secret file \(path) named by the plan cannot be read",
                    remedy: "create \(path) readable by this user (mode 0600), holding only the secret")
            }
            var text = String(decoding: data, as: UTF8.self)
            if text.hasSuffix("\r\n") {
                text.removeLast(2)
            } else if text.hasSuffix("\n") {
                text.removeLast()
            }
            return text
        }
        if let wrapped = Self.member("reference", of: reference) { return try resolveKeyVault(wrapped) }
        if Self.member("keyVault", of: reference) != nil { return try resolveKeyVault(reference) }
        throw RemediationFailure(
            code: "SecretUnresolved", message: "the plan holds a secret reference of an unknown form",
            remedy: "give the parameter as {\"fromEnv\": \"NAME\"}, {\"fromFile\": \"PATH\"} or a Key Vault reference")
    }

    /// Reads a Key Vault reference (`{"keyVault": {"id"}, "secretName", "secretVersion"?}`) through the reader.
    private func resolveKeyVault(_ reference: JSON) throws -> String {
        let vaultId = Self.member("keyVault", of: reference).flatMap { Self.member("id", of: $0)?.string }
        let name = Self.member("secretName", of: reference)?.string
        let version = Self.member("secretVersion", of: reference)
        guard let vaultId, let name, version == nil || version == .null || version?.string != nil else {
            throw RemediationFailure(
                code: "SecretUnresolved",
                message:
                    "the plan holds a Key Vault reference without a string keyVault.id and secretName (and, when given, secretVersion)",
                remedy:
                    "write {\"reference\": {\"keyVault\": {\"id\": \"<vault resource id>\"}, \"secretName\": \"…\", \"secretVersion\": \"…\" (optional)}} and re-plan"
            )
        }
        guard let keyVault else {
            throw RemediationFailure(
                code: "SecretUnresolved",
                message:
                    "the plan references Key Vault secret '\(name)' of vault \(vaultId); reading it needs Azure credentials",
                remedy:
                    "run with Azure credentials (--auth), or give the parameter as {\"fromEnv\": …} or {\"fromFile\": …} for this run"
            )
        }
        do {
            return try keyVault.secret(vaultId: vaultId, name: name, version: version?.string)
        } catch let failure as RemediationFailure {
            throw RemediationFailure(
                code: "SecretUnresolved", message: failure.message, status: failure.status, remedy: failure.remedy)
        } catch {
            let described = error as? any LocalizedError
            throw RemediationFailure(
                code: "SecretUnresolved",
                message: described?.errorDescription ?? "Key Vault secret '\(name)' of vault \(vaultId): \(error)",
                remedy: described?.recoverySuggestion
                    ?? "check that the Azure credentials (--auth) can read the secret, then run apply again")
        }
    }

    /// The member `name` of an object: the exact name, else one equal ignoring case (ARM's JSON rule).
    private static func member(_ name: String, of value: JSON) -> JSON? {
        guard case .object(let members) = value else { return nil }
        return members[name] ?? members.first { ASCII.equalsIgnoringCase($0.key, name) }?.value
    }
}

extension DesiredBody {
    /// The paths in a planned body whose value was masked (a literal secret or a URL credential the plan could
    /// not keep): such a body cannot be sent, because the secret is not in the plan.
    public static func maskedPaths(_ body: JSON?, at path: String = "") -> [String] {
        switch body {
        case .object(let members)?:
            if members.count == 1, members[secretMarker] != nil { return [] }
            return members.keys.sorted().flatMap { maskedPaths(members[$0], at: path.isEmpty ? $0 : "\(path).\($0)") }
        case .array(let items)?:
            return items.enumerated().flatMap { maskedPaths($0.element, at: "\(path)[\($0.offset)]") }
        case .string(let text)?:
            return text == Redaction.mask || text.contains(Redaction.mask + "@") ? [path] : []
        default:
            return []
        }
    }
}
