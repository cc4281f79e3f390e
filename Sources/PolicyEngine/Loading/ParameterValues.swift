import FleetCore

/// Secret references in parameter values, and the marker that stands for one that is not resolved.
///
/// An assignment (or an initiative reference) may give a parameter a secret **reference** in place
/// of `{"value": …}`, in one of three forms:
/// - `{"reference": {"keyVault": {"id": "<vault resource id>"}, "secretName": "…"}}` (as ARM
///   parameter files write it; `secretVersion` is optional),
/// - `{"fromEnv": "NAME"}` (an environment variable read at apply time),
/// - `{"fromFile": "PATH"}` (a file read at apply time).
///
/// ``ParameterResolver`` never reads a secret itself. Unless it is given a resolver, the effective
/// value of such a parameter is the **marker** `{"$secretReference": <the entry as written>}`, so
/// that plans, reports and logs can show which secret is meant without its value; the apply stage
/// replaces markers with secret values at the last moment. A marker passes unchanged through
/// `[parameters('x')]` in an initiative; any other use of it in an expression is an error.
public enum ParameterSecretReference {
    /// The only key of a marker object.
    public static let markerKey = "$secretReference"

    /// The members that make a parameter entry a secret reference.
    public static let forms = ["reference", "fromEnv", "fromFile"]

    /// Whether a parameter entry (the object next to a parameter's name) is a secret reference:
    /// an object with a `reference`, `fromEnv` or `fromFile` member (names ignore case) and no `value`.
    public static func isReference(_ entry: JSON) -> Bool {
        guard case .object(let members) = entry else { return false }
        let keys = members.keys
        if keys.contains(where: { ASCII.equalsIgnoringCase($0, "value") }) { return false }
        return keys.contains { key in forms.contains { ASCII.equalsIgnoringCase($0, key) } }
    }

    /// The marker standing for `reference`: `{"$secretReference": reference}`.
    public static func marker(for reference: JSON) -> JSON {
        .object([markerKey: reference])
    }

    /// The reference a marker stands for, or nil when `value` is not a marker.
    public static func reference(in value: JSON) -> JSON? {
        guard case .object(let members) = value, members.count == 1 else { return nil }
        return members[markerKey]
    }
}

/// Checks of a parameter value against its declaration (type and `allowedValues`).
enum ParameterValueCheck {
    /// The first problem of `value` for `parameter`, or nil.
    ///
    /// Expressions (`"[…]"`) and `null` are not checked; `allowedValues` is compared
    /// case-sensitively, as Azure does when a value is assigned. For an array parameter each element
    /// must be allowed (unless the whole array is itself one of the allowed values).
    static func problem(
        _ value: JSON, for parameter: PolicyParameterDefinition, subject: String
    ) -> (message: String, suggestion: String?)? {
        if case .string(let text) = value, TemplateString.isExpression(text) { return nil }
        if value == .null { return nil }
        guard matches(value, parameter.type) else {
            var suggestion: String?
            if case .string(let text) = value, let parsed = try? JSON.parse(text), matches(parsed, parameter.type) {
                suggestion = "write \(text) without quotes"
            }
            return (
                "\(subject) must be \(describe(parameter.type)) (the parameter's type is "
                    + "'\(parameter.type.rawValue)'), got \(describe(value))",
                suggestion
            )
        }
        guard let allowed = parameter.allowedValues, !allowed.isEmpty else { return nil }
        if allowed.contains(where: { same($0, value) }) { return nil }
        if parameter.type == .array, case .array(let items) = value {
            for item in items where !allowed.contains(where: { same($0, item) }) {
                return notAllowed(item, allowed, subject: "an element of \(subject)")
            }
            return nil
        }
        return notAllowed(value, allowed, subject: subject)
    }

    private static func notAllowed(
        _ value: JSON, _ allowed: [JSON], subject: String
    ) -> (message: String, suggestion: String?) {
        let list = allowed.map(PolicyIds.render).joined(separator: ", ")
        var suggestion: String?
        if case .string(let text) = value {
            let strings = allowed.compactMap(\.string)
            if let match = strings.first(where: { ASCII.equalsIgnoringCase($0, text) }) {
                suggestion = "allowedValues are compared case-sensitively: did you mean '\(match)'?"
            } else {
                suggestion = PolicyNearMiss.suggestion(text, among: strings)
            }
        }
        return ("\(subject) \(PolicyIds.render(value)) is not one of the allowedValues [\(list)]", suggestion)
    }

    /// Whether a value has a parameter type.
    static func matches(_ value: JSON, _ type: PolicyParameterType) -> Bool {
        switch (type, value) {
        case (.string, .string), (.dateTime, .string), (.array, .array), (.object, .object), (.boolean, .bool),
            (.float, .number):
            return true
        case (.integer, .number(let number)):
            switch number {
            case .int, .uint: return true
            case .double(let d): return d.rounded() == d && d.isFinite
            }
        default:
            return false
        }
    }

    /// Equality as Azure compares assigned values: strings case-sensitively, numbers by value.
    static func same(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            return x == y || x.doubleValue == y.doubleValue
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { same(value, $0) } ?? false }
        default:
            return a == b
        }
    }

    /// `a string`, `an integer`, … for a declared type.
    static func describe(_ type: PolicyParameterType) -> String {
        switch type {
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        case .boolean: "a boolean (true or false)"
        case .integer: "an integer"
        case .float: "a number"
        case .dateTime: "a date-time string"
        }
    }

    /// `a string`, `a number`, … for a value.
    static func describe(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One parameter entry of an assignment or an initiative reference, classified.
enum PolicyParameterEntry {
    /// `{"value": …}`.
    case value(JSON)
    /// A secret reference (see ``ParameterSecretReference``).
    case secret(JSON)
    /// Anything else.
    case invalid

    /// Classifies an entry.
    init(_ entry: JSON) {
        if case .object(let members) = entry,
            let key = members.keys.sorted().first(where: { ASCII.equalsIgnoringCase($0, "value") }),
            let value = members[key]
        {
            self = .value(value)
        } else if ParameterSecretReference.isReference(entry) {
            self = .secret(entry)
        } else {
            self = .invalid
        }
    }

    /// The entry for `name` in `entries`: exact name first, then ignoring case.
    static func lookup(_ name: String, in entries: [String: JSON]) -> JSON? {
        if let exact = entries[name] { return exact }
        let key = entries.keys.sorted().first { ASCII.equalsIgnoringCase($0, name) }
        return key.flatMap { entries[$0] }
    }
}

/// Spots secrets written as literal parameter values in an assignment, so `policy validate` can warn.
///
/// Azure Policy parameters have no secure type, so a name is all there is to go on: names that say
/// password, secret, token, private or access key, connection string, credential or protected
/// settings (but not names of secrets: `…Name`, `…Id`, `…Url`, Key Vault pointers); and any URL with
/// credentials in it, whatever the parameter is called. Only the name and the reason are reported,
/// never the value.
enum LiteralSecretCheck {
    /// Name parts that mark a secret (compared lowercased).
    static let secretNameParts = [
        "password", "passphrase", "secret", "token", "privatekey", "sshkey", "apikey", "accesskey", "accountkey",
        "connectionstring", "credential", "protectedsettings",
    ]

    /// Name endings that make a parameter point at a secret rather than hold one.
    static let pointerSuffixes = ["name", "names", "id", "uri", "url", "reference", "version", "type"]

    /// What to do instead.
    static let suggestion =
        "give it as {\"reference\": {\"keyVault\": {\"id\": …}, \"secretName\": …}}, {\"fromEnv\": \"NAME\"} "
        + "or {\"fromFile\": \"PATH\"}, resolved only when changes are applied"

    /// Why `value` looks like a literal secret for parameter `name`, or nil.
    static func reason(name: String, value: JSON) -> String? {
        if containsCredentialURL(value) { return "holds a URL with credentials in it" }
        let lowered = ASCII.lowercased(name)
        guard secretNameParts.contains(where: { lowered.contains($0) }),
            // `keyVaultSecretName`, `tokenUrl`: names of or pointers to secrets, not secrets.
            !lowered.contains("keyvault"), !pointerSuffixes.contains(where: { lowered.hasSuffix($0) })
        else { return nil }
        switch value {
        case .string(let text) where !text.isEmpty && !TemplateString.isExpression(text):
            return "looks like a secret by the parameter's name"
        case .object(let members) where !members.isEmpty && ParameterSecretReference.reference(in: value) == nil:
            return "looks like secrets by the parameter's name"
        default:
            return nil
        }
    }

    private static func containsCredentialURL(_ value: JSON) -> Bool {
        switch value {
        case .string(let text): return Redaction.url(text) != text
        case .array(let items): return items.contains(where: containsCredentialURL)
        case .object(let members): return members.values.contains(where: containsCredentialURL)
        default: return false
        }
    }
}
