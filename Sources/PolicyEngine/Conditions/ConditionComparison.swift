import FleetCore

/// An operand prepared for comparisons: its scalar forms computed once (a class: shared, never copied).
final class ComparisonTarget: Sendable {
    /// The value (location strings already normalised when compared with `location`).
    let json: JSON
    /// The scalar as text: strings as they are, numbers in decimal, bools `true`/`false`, null `""`; nil for
    /// arrays and objects.
    let text: String?
    /// ``text`` lowercased (invariant).
    let lowered: String?
    /// Whether ``text`` is pure ASCII (byte-wise case-insensitive comparison is then exact).
    let isASCII: Bool
    /// The value as a number: a number, or a string holding a decimal number.
    let number: JSONNumber?
    /// The value as a bool: a bool, or the string `true`/`false` in any case.
    let bool: Bool?
    /// The elements of an array target, prepared the same way (for `in`).
    let elements: [ComparisonTarget]?

    init(_ value: JSON, location: Bool = false) {
        let json = location ? Self.normalizingLocation(value) : value
        self.json = json
        let text = ConditionValues.scalarText(json)
        self.text = text
        self.lowered = text.map(CaseFolding.lower)
        self.isASCII = text.map(CaseFolding.isASCII) ?? false
        switch json {
        case .number(let n):
            number = n
            bool = nil
        case .bool(let b):
            number = nil
            bool = b
        case .string(let s):
            number = ConditionValues.parseNumber(s)
            bool = ConditionValues.parseBool(s)
        default:
            number = nil
            bool = nil
        }
        if case .array(let items) = json {
            elements = items.map { ComparisonTarget($0) }
        } else {
            elements = nil
        }
    }

    private static func normalizingLocation(_ value: JSON) -> JSON {
        switch value {
        case .string(let s): .string(FieldReference.normalizeLocation(s))
        case .array(let items): .array(items.map(normalizingLocation))
        default: value
        }
    }
}

/// An evaluation failure inside a condition (type mismatch, bad operand, expression error).
struct ConditionFailure: Error, CustomStringConvertible {
    /// What went wrong.
    var message: String
    /// Whether `message` already names the failing leaf (an error from inside a count's `where`).
    var located = false

    /// The message.
    var description: String { message }
}

/// A value a condition compares: read in place from the resource, or computed.
enum ActualValue: Sendable {
    /// Absent (JSON `null` included).
    case missing
    /// A value in the resource record, not decoded.
    case tape(JSONValue)
    /// A computed value (a `value` operand, a count, a normalised location).
    case json(JSON)

    init(_ read: FieldReference.Read) {
        switch read {
        case .missing: self = .missing
        case .tape(let v): self = v.isNull ? .missing : .tape(v)
        case .text(let s): self = .json(.string(s))
        case .collection(let members): self = .json(.array(members.map { $0?.materialize() ?? .null }))
        }
    }

    /// The value decoded, or nil when missing (null counts as missing).
    var json: JSON? {
        switch self {
        case .missing: return nil
        case .tape(let v): return v.isNull ? nil : v.materialize()
        case .json(let j): return j == .null ? nil : j
        }
    }
}

/// Azure Policy's comparison rules for the condition operators.
enum ConditionValues {
    /// Applies `op` to `actual` and `target`.
    ///
    /// - Throws: ``ConditionFailure`` for a type mismatch in ordered comparisons, a non-array `in` target, a
    ///   non-boolean `exists` target or a non-string pattern.
    static func apply(
        _ op: ConditionOperator,
        _ actual: ActualValue,
        _ target: ComparisonTarget
    ) throws(ConditionFailure) -> Bool {
        let actual = normalized(actual)
        switch op {
        case .equals, .notEquals:
            return looseEqual(actual, target) != (op == .notEquals)
        case .in, .notIn:
            guard let elements = target.elements else {
                throw ConditionFailure(
                    message: "'\(op.rawValue)' expects an array, got \(ExpressionValues.typeName(target.json))")
            }
            return elements.contains { looseEqual(actual, $0) } != (op == .notIn)
        case .like, .notLike:
            let pattern = try patternText(op, target)
            return likeMatch(text: lowered(actual), pattern: pattern) != (op == .notLike)
        case .match, .notMatch:
            let pattern = try patternText(op, target, lowercase: false)
            return patternMatch(text: scalarText(actual), pattern: pattern) != (op == .notMatch)
        case .matchInsensitively, .notMatchInsensitively:
            let pattern = try patternText(op, target)
            return patternMatch(text: lowered(actual), pattern: pattern) != (op == .notMatchInsensitively)
        case .contains, .notContains:
            return contains(actual, target) != (op == .notContains)
        case .containsKey, .notContainsKey:
            return containsKey(actual, target) != (op == .notContainsKey)
        case .less, .lessOrEquals, .greater, .greaterOrEquals:
            guard let order = try compare(actual, target, op) else { return false }
            switch op {
            case .less: return order < 0
            case .lessOrEquals: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        case .exists:
            guard let expected = target.bool else {
                throw ConditionFailure(
                    message: "'exists' expects true or false, got \(ExpressionValues.typeName(target.json))")
            }
            if case .missing = actual { return !expected }
            return expected
        }
    }

    /// JSON `null` turned into ``ActualValue/missing``.
    @inline(__always) private static func normalized(_ actual: ActualValue) -> ActualValue {
        switch actual {
        case .tape(let v) where v.isNull: .missing
        case .json(.null): .missing
        default: actual
        }
    }

    // MARK: - Equality

    /// Equality with Azure's coercions: strings ignoring case, numbers by value, a bool equals `"true"`/`"false"`,
    /// a number equals its decimal string, missing equals `""`, arrays and objects member by member.
    static func looseEqual(_ actual: ActualValue, _ target: ComparisonTarget) -> Bool {
        switch actual {
        case .missing:
            return target.text == ""
        case .tape(let v):
            switch v.kind {
            case .string:
                if case .string(let t) = target.json {
                    if target.isASCII { return v.stringEqualsIgnoringCase(t) }
                    return CaseFolding.lower(v.string ?? "") == target.lowered
                }
                return looseEqual(.string(v.string ?? ""), target)
            case .number:
                return looseEqual(.number(v.number ?? .int(0)), target)
            case .bool:
                return target.bool == v.bool
            case .null:
                return target.text == ""
            case .array, .object:
                return looseEqual(v.materialize(), target)
            }
        case .json(let j):
            return looseEqual(j, target)
        }
    }

    private static func looseEqual(_ actual: JSON, _ target: ComparisonTarget) -> Bool {
        switch actual {
        case .null:
            return target.text == ""
        case .string(let s):
            switch target.json {
            case .string(let t):
                return target.isASCII && CaseFolding.isASCII(s)
                    ? ASCII.equalsIgnoringCase(s, t) : CaseFolding.lower(s) == target.lowered
            case .number(let n):
                return parseNumber(s).map { numbersEqual($0, n) } ?? false
            case .bool(let b):
                return parseBool(s) == b
            case .null:
                return s.isEmpty
            default:
                return false
            }
        case .number(let n):
            return target.number.map { numbersEqual(n, $0) } ?? false
        case .bool(let b):
            return target.bool == b
        case .array(let items):
            guard let elements = target.elements, elements.count == items.count else { return false }
            return zip(items, elements).allSatisfy { looseEqual($0, $1) }
        case .object(let members):
            guard case .object(let other) = target.json, other.count == members.count else { return false }
            for (key, value) in members {
                guard let match = ExpressionValues.member(key, of: other), looseEqual(value, ComparisonTarget(match))
                else { return false }
            }
            return true
        }
    }

    /// Numeric equality across int, uint and double.
    static func numbersEqual(_ a: JSONNumber, _ b: JSONNumber) -> Bool {
        ExpressionValues.numbersEqual(a, b)
    }

    // MARK: - Text forms

    /// A scalar as text (`true`/`false`, decimal numbers, `""` for null); nil for arrays and objects.
    static func scalarText(_ json: JSON) -> String? {
        switch json {
        case .null: ""
        case .bool(let b): b ? "true" : "false"
        case .number(let n): n.description
        case .string(let s): s
        case .array, .object: nil
        }
    }

    /// The actual value as text for pattern operators: missing is `""`; nil for arrays and objects.
    private static func scalarText(_ actual: ActualValue) -> String? {
        switch actual {
        case .missing: return ""
        case .tape(let v):
            switch v.kind {
            case .string: return v.string
            case .number: return v.number?.description
            case .bool: return v.bool == true ? "true" : "false"
            case .null: return ""
            case .array, .object: return nil
            }
        case .json(let j): return scalarText(j)
        }
    }

    private static func lowered(_ actual: ActualValue) -> String? {
        scalarText(actual).map(CaseFolding.lower)
    }

    private static func patternText(
        _ op: ConditionOperator,
        _ target: ComparisonTarget,
        lowercase: Bool = true
    ) throws(ConditionFailure) -> String {
        guard case .string = target.json, let text = target.text, let lowered = target.lowered else {
            throw ConditionFailure(
                message: "'\(op.rawValue)' expects a string pattern, got \(ExpressionValues.typeName(target.json))")
        }
        return lowercase ? lowered : text
    }

    /// A number written in plain decimal notation (`"600"`, `"-1.5"`; no exponent, no spaces), or nil.
    static func parseNumber(_ s: String) -> JSONNumber? {
        var digits = 0
        var dots = 0
        for (k, c) in s.utf8.enumerated() {
            if (c &- UInt8(ascii: "0")) < 10 {
                digits += 1
            } else if c == UInt8(ascii: "-") && k == 0 {
                continue
            } else if c == UInt8(ascii: ".") && digits > 0 && dots == 0 {
                dots += 1
            } else {
                return nil
            }
        }
        guard digits > 0, s.utf8.last != UInt8(ascii: ".") else { return nil }
        if dots == 0, let i = Int64(s) { return .int(i) }
        return Double(s).map(JSONNumber.double)
    }

    /// `true`/`false` in any case, or nil.
    static func parseBool(_ s: String) -> Bool? {
        if ASCII.equalsIgnoringCase(s, "true") { return true }
        if ASCII.equalsIgnoringCase(s, "false") { return false }
        return nil
    }

    // MARK: - Patterns

    /// `like`: `*` matches any run of characters; everything else literally (inputs already lowercased).
    static func likeMatch(text: String?, pattern: String) -> Bool {
        guard let text else { return false }
        let t = Array(text.utf8)
        let p = Array(pattern.utf8)
        var i = 0
        var j = 0
        var star = -1
        var mark = 0
        while i < t.count {
            if j < p.count, p[j] == UInt8(ascii: "*") {
                star = j
                mark = i
                j += 1
            } else if j < p.count, p[j] == t[i] {
                i += 1
                j += 1
            } else if star >= 0 {
                j = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while j < p.count, p[j] == UInt8(ascii: "*") { j += 1 }
        return j == p.count
    }

    /// `match`: `#` a digit, `?` a letter, `.` any character, anything else itself; whole text, same length.
    static func patternMatch(text: String?, pattern: String) -> Bool {
        guard let text else { return false }
        let t = Array(text.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        guard t.count == p.count else { return false }
        for (c, q) in zip(t, p) {
            switch q {
            case "#": if c.properties.numericType != .decimal { return false }
            case "?": if !isLetter(c) { return false }
            case ".": continue
            default: if c != q { return false }
            }
        }
        return true
    }

    /// .NET's `char.IsLetter`: the Unicode letter categories.
    private static func isLetter(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: true
        default: false
        }
    }

    // MARK: - Containment

    /// `contains`: substring of a string (ignoring case), element of an array, or (missing) `""` contains `""`.
    private static func contains(_ actual: ActualValue, _ target: ComparisonTarget) -> Bool {
        switch actual {
        case .tape(let v) where v.kind == .array:
            return v.elements.contains { looseEqual(.tape($0), target) }
        case .json(.array(let items)):
            return items.contains { looseEqual(.json($0), target) }
        case .tape(let v) where v.kind == .object:
            return false
        case .json(.object):
            return false
        default:
            guard let text = lowered(actual), let needle = target.lowered else { return false }
            return needle.isEmpty || text.contains(needle)
        }
    }

    /// `containsKey`: an object with a member named the target, ignoring case.
    private static func containsKey(_ actual: ActualValue, _ target: ComparisonTarget) -> Bool {
        guard let key = target.text else { return false }
        switch actual {
        case .tape(let v):
            return v.isObject && v.member(ignoringCase: key) != nil
        case .json(.object(let members)):
            return ExpressionValues.member(key, of: members) != nil
        default:
            return false
        }
    }

    // MARK: - Ordering

    /// The order of `actual` relative to `target` (-1, 0, 1), or nil when `actual` is missing.
    ///
    /// - Throws: ``ConditionFailure`` unless both are numbers or both are strings (ISO dates when both parse).
    private static func compare(
        _ actual: ActualValue,
        _ target: ComparisonTarget,
        _ op: ConditionOperator
    ) throws(ConditionFailure) -> Int? {
        guard let value = actual.json else { return nil }
        switch (value, target.json) {
        case (.number(let a), .number(let b)):
            if let x = a.int64Value, let y = b.int64Value { return x < y ? -1 : (x == y ? 0 : 1) }
            let x = a.doubleValue
            let y = b.doubleValue
            return x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let a), .string(let b)):
            if let x = ExpressionDateTime(parsing: a), let y = ExpressionDateTime(parsing: b) {
                return x.ticks < y.ticks ? -1 : (x.ticks == y.ticks ? 0 : 1)
            }
            let x = Array(CaseFolding.lower(a).unicodeScalars)
            let y = target.lowered.map { Array($0.unicodeScalars) } ?? []
            if x == y { return 0 }
            return x.lexicographicallyPrecedes(y) ? -1 : 1
        default:
            throw ConditionFailure(
                message: "'\(op.rawValue)' cannot compare \(ExpressionValues.typeName(value)) with "
                    + "\(ExpressionValues.typeName(target.json))")
        }
    }
}
