/// Keeps credentials out of everything FluxFleet prints or writes.
///
/// Azure never returns secrets, but some arrive anyway: a Git URL with a token in its user part
/// (`https://x-access-token:ghp_…@github.com/…`), or a desired body that sets
/// `configurationProtectedSettings`. Comparisons use the real values; only what is rendered goes
/// through these functions.
public enum Redaction {
    /// The text that replaces a secret.
    public static let mask = "***"

    /// `scheme://user:password@host/…` → `scheme://***@host/…`; other text unchanged.
    ///
    /// The user part is masked when it carries a password, or for HTTP(S), where a token is often
    /// passed as the user name; an SSH user name such as `ssh://git@host` is not a secret and stays.
    public static func url(_ text: String) -> String {
        // Most texts are no URL: ruled out over the bytes, before the search by Characters (which can only match
        // where the bytes hold `://`).
        mayHoldSchemeSeparator(text) ? maskingCredentials(text) : text
    }

    /// ``url(_:)`` without the byte pre-check: the search by Characters alone.
    static func maskingCredentials(_ text: String) -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text }
        let authorityStart = schemeEnd.upperBound
        let rest = text[authorityStart...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        let authority = text[authorityStart..<authorityEnd]
        guard let at = authority.lastIndex(of: "@") else { return text }
        let scheme = ASCII.lowercased(String(text[..<schemeEnd.lowerBound]))
        let hasPassword = authority[..<at].contains(":")
        guard hasPassword || scheme == "http" || scheme == "https" else { return text }
        return String(text[..<authorityStart]) + mask + String(text[at...])
    }

    /// Whether the UTF-8 bytes of `text` hold `://` (true when they cannot be read in place).
    static func mayHoldSchemeSeparator(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            var i = 0
            while i + 2 < bytes.count {
                if bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: "/"), bytes[i + 2] == UInt8(ascii: "/") {
                    return true
                }
                i += 1
            }
            return false
        } ?? true
    }

    /// A copy of `value` with URL credentials masked in every string, and the values of members
    /// named in `secretKeys` (compared lowercased) replaced by ``mask``.
    public static func json(_ value: JSON, secretKeys: Set<String> = []) -> JSON {
        switch value {
        case .string(let text):
            return .string(url(text))
        case .array(let items):
            return .array(items.map { json($0, secretKeys: secretKeys) })
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, member) in members {
                out[key] =
                    secretKeys.contains(ASCII.lowercased(key)) ? maskAll(member) : json(member, secretKeys: secretKeys)
            }
            return .object(out)
        default:
            return value
        }
    }

    /// Every scalar of a secret-holding value masked (the shape stays, so a reader sees what was set).
    ///
    /// A secret *reference* (`{"$secretReference": …}`: a Key Vault secret id, an environment
    /// variable or a file name) names where the secret is, not the secret, and is kept.
    private static func maskAll(_ value: JSON) -> JSON {
        switch value {
        case .object(let members) where members["$secretReference"] != nil: value
        case .object(let members): .object(members.mapValues(maskAll))
        case .array(let items): .array(items.map(maskAll))
        case .null: .null
        default: .string(mask)
        }
    }
}
