import FleetCore
import Foundation

/// Resolves the secret references a plan holds, at apply time: `{"fromEnv": "NAME"}` from the environment and
/// `{"fromFile": "PATH"}` from a file (one trailing newline dropped).
///
/// Key Vault references (`{"reference": {"keyVault": {"id": …}, "secretName": …}}`) need a token for the vault
/// and are refused here with that remedy. Values are never logged: errors name the reference, not the value.
public struct ReferenceSecrets: SecretResolver {
    let environment: [String: String]

    /// Creates a resolver over an environment (the process environment by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
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
        if let keyVault = reference["reference"] {
            let name = keyVault["secretName"]?.string ?? "?"
            throw RemediationFailure(
                code: "SecretUnresolved",
                message:
                    "the plan references Key Vault secret '\(name)'; this fluxfleet reads Key Vault only with Azure credentials",
                remedy: "give the parameter as {\"fromEnv\": …} or {\"fromFile\": …} for this run")
        }
        throw RemediationFailure(
            code: "SecretUnresolved", message: "the plan holds a secret reference of an unknown form",
            remedy: "give the parameter as {\"fromEnv\": \"NAME\"}, {\"fromFile\": \"PATH\"} or a Key Vault reference")
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
