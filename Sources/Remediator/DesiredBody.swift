import FleetCore

/// Resolves a secret reference to its value at the last moment before a request.
///
/// A plan body holds `{"$secretReference": <reference>}`; the value replaces it in the bytes sent and is never
/// logged, journalled or kept.
public protocol SecretResolver {
    /// The secret's value for `reference` (an environment variable, a file, a Key Vault secret id).
    func resolve(_ reference: JSON) throws -> String
}

/// A resolver for plans without secrets: every reference fails.
public struct NoSecrets: SecretResolver {
    /// Creates the resolver.
    public init() {}

    /// Always throws: the plan has a secret reference and nothing can resolve it.
    public func resolve(_ reference: JSON) throws -> String {
        throw RemediationFailure(
            code: "SecretUnresolved", message: "the plan holds a secret reference and no secret resolver was given",
            remedy: "run apply with access to the referenced secret (environment variable, file or Key Vault)")
    }
}

/// Desired bodies: their hash for the journal, and their bytes with secrets resolved.
public enum DesiredBody {
    /// The member name of a secret marker.
    public static let secretMarker = "$secretReference"

    /// The journal's hash of a desired body: `sha256:` and 64 hex digits.
    ///
    /// It hashes the compact JSON of `body` (keys sorted) as planned, secrets still as references; a
    /// deletion (`nil`) hashes as `DELETE`. The same SHA-256 the plan's fingerprints use.
    public static func hash(of body: JSON?) -> String {
        var hash = SHA256()
        if let body {
            var writer = JSONWriter()
            writer.value(body)
            hash.update(writer.bytes)
        } else {
            hash.update(Array("DELETE".utf8))
        }
        return "sha256:" + hash.finalize()
    }

    /// The body with every `{"$secretReference": …}` replaced by the resolved value.
    public static func resolved(_ body: JSON, with resolver: any SecretResolver) throws -> JSON {
        switch body {
        case .object(let members):
            if members.count == 1, let reference = members[secretMarker] {
                return .string(try resolver.resolve(reference))
            }
            var out: [String: JSON] = [:]
            for (key, value) in members { out[key] = try resolved(value, with: resolver) }
            return .object(out)
        case .array(let items):
            return .array(try items.map { try resolved($0, with: resolver) })
        default:
            return body
        }
    }

    /// The compact JSON bytes of a body.
    public static func bytes(_ body: JSON) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(body)
        return writer.bytes
    }
}
