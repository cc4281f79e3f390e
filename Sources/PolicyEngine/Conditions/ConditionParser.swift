import FleetCore

/// A malformed condition in a policy document, with the JSON path of the offending value.
public struct ConditionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where: the file and the JSON path of the value at fault (`$.properties.policyRule.if.allOf[1]`).
    public var source: PolicySource
    /// What is wrong, such as `unknown operator 'equal'`.
    public var message: String
    /// A near miss for an unknown name (`equals`), or nil.
    public var suggestion: String?

    /// Creates an error.
    public init(source: PolicySource, message: String, suggestion: String? = nil) {
        self.source = source
        self.message = message
        self.suggestion = suggestion
    }

    /// `file: path: message; did you mean 'x'?`.
    public var description: String {
        "\(source): \(message)" + (suggestion.map { "; did you mean '\($0)'?" } ?? "")
    }

    /// The error as a ``PolicyDiagnostic`` of severity error.
    public var diagnostic: PolicyDiagnostic {
        PolicyDiagnostic(.error, source, message, suggestion: suggestion.map { "did you mean '\($0)'?" })
    }
}

/// Parses policy-rule conditions (`if`, `existenceCondition`, `where`) into ``Condition`` values.
public enum PolicyCondition {
    /// Parses a condition.
    ///
    /// Accepted: `allOf`/`anyOf` (arrays of conditions), `not` (one condition object), and leaves with exactly one
    /// of `field`, `value`, `count` plus exactly one operator (``ConditionOperator``). Key names are matched
    /// ignoring case. Strings of the form `"[…]"` are parsed as expressions and checked for unknown functions;
    /// literal `field` strings must be built-in fields or aliases (see ``AliasCatalog``).
    ///
    /// - Parameters:
    ///   - json: The condition object.
    ///   - source: Where `json` is, such as `$.properties.policyRule.if`; errors extend its path.
    /// - Returns: The parsed condition.
    /// - Throws: ``ConditionError`` for the first problem found, with the JSON path of the offending value.
    public static func parse(_ json: JSON, source: PolicySource) throws(ConditionError) -> Condition {
        try ConditionParser().condition(json, source)
    }
}

/// The recursive parser behind ``PolicyCondition/parse(_:source:)``.
struct ConditionParser {
    private static let logicalKeys = ["allOf", "anyOf", "not"]
    private static let subjectKeys = ["field", "value", "count"]
    private static var allKeys: [String] {
        logicalKeys + subjectKeys + ConditionOperator.allCases.map(\.rawValue)
    }

    func condition(_ json: JSON, _ source: PolicySource) throws(ConditionError) -> Condition {
        guard case .object(let members) = json else {
            throw ConditionError(
                source: source, message: "a condition must be an object, got \(ExpressionValues.typeName(json))")
        }
        // Sorted, so that the same document always reports the same first problem.
        let keys = members.keys.sorted()
        if let logical = keys.first(where: { key in Self.logicalKeys.contains { ASCII.equalsIgnoringCase($0, key) } }) {
            if let other = keys.first(where: { $0 != logical }) {
                throw ConditionError(
                    source: source.appending(.key(other)),
                    message: "'\(other)' cannot appear beside '\(logical)'; wrap the conditions in 'allOf'")
            }
            return try logicalCondition(logical, members[logical]!, source)
        }
        return .leaf(try leaf(members, keys: keys, source))
    }

    private func logicalCondition(_ key: String, _ value: JSON, _ source: PolicySource) throws(ConditionError)
        -> Condition
    {
        let here = source.appending(.key(key))
        if ASCII.equalsIgnoringCase(key, "not") {
            guard case .object = value else {
                let hint = if case .array = value { "; use 'not': {'anyOf': [...]} to negate several" } else { "" }
                throw ConditionError(
                    source: here,
                    message: "'not' takes one condition object, got \(ExpressionValues.typeName(value))" + hint)
            }
            return .not(try condition(value, here), source: source)
        }
        guard case .array(let items) = value else {
            throw ConditionError(
                source: here, message: "'\(key)' takes an array of conditions, got \(ExpressionValues.typeName(value))")
        }
        guard !items.isEmpty else {
            throw ConditionError(source: here, message: "'\(key)' needs at least one condition")
        }
        var children: [Condition] = []
        children.reserveCapacity(items.count)
        for (i, item) in items.enumerated() { children.append(try condition(item, here.appending(.index(i)))) }
        return ASCII.equalsIgnoringCase(key, "allOf")
            ? .allOf(children, source: source) : .anyOf(children, source: source)
    }

    private func leaf(_ members: [String: JSON], keys: [String], _ source: PolicySource) throws(ConditionError)
        -> ConditionLeaf
    {
        var subjectKey: String?
        var operatorKey: String?
        var op: ConditionOperator?
        for key in keys {
            if Self.subjectKeys.contains(where: { ASCII.equalsIgnoringCase($0, key) }) {
                if let subjectKey {
                    throw ConditionError(
                        source: source.appending(.key(key)),
                        message: "a condition compares one of 'field', 'value' or 'count', found '\(subjectKey)' "
                            + "and '\(key)'")
                }
                subjectKey = key
            } else if let found = ConditionOperator(name: key) {
                if let operatorKey {
                    throw ConditionError(
                        source: source.appending(.key(key)),
                        message: "a condition has exactly one operator, found '\(operatorKey)' and '\(key)'")
                }
                operatorKey = key
                op = found
            } else {
                let hasSubject = keys.contains { k in Self.subjectKeys.contains { ASCII.equalsIgnoringCase($0, k) } }
                throw ConditionError(
                    source: source.appending(.key(key)),
                    message: hasSubject ? "unknown operator '\(key)'" : "unknown condition key '\(key)'",
                    suggestion: Self.suggestion(for: key, among: Self.allKeys))
            }
        }
        guard let subjectKey else {
            throw ConditionError(
                source: source,
                message: keys.isEmpty
                    ? "empty condition: expected 'allOf', 'anyOf', 'not', or 'field'/'value'/'count' with an operator"
                    : "a condition needs 'field', 'value' or 'count' (or 'allOf', 'anyOf', 'not')")
        }
        guard let operatorKey, let op else {
            throw ConditionError(
                source: source,
                message: "the condition on '\(subjectKey)' has no operator (such as 'equals', 'in' or 'exists')")
        }
        let subjectSource = source.appending(.key(subjectKey))
        let subjectValue = members[subjectKey]!
        let subject: ConditionSubject
        switch ASCII.lowercased(subjectKey) {
        case "field": subject = .field(try field(subjectValue, subjectSource))
        case "value": subject = .value(try operand(subjectValue, subjectSource))
        default: subject = try count(subjectValue, subjectSource)
        }
        let operandSource = source.appending(.key(operatorKey))
        let operand = try operand(members[operatorKey]!, operandSource)
        try check(op, operand, operandSource)
        return ConditionLeaf(
            subject: subject, operator: op, operand: operand, source: source)
    }

    /// Rejects literal operands that can never work with `op`.
    private func check(_ op: ConditionOperator, _ operand: ConditionOperand, _ source: PolicySource)
        throws(ConditionError)
    {
        let value: JSON
        switch operand {
        case .expression:
            return
        case .template(let json):
            if op == .in || op == .notIn, case .array = json { return }
            value = json
        case .literal(let json):
            value = json
        }
        switch op {
        case .in, .notIn:
            guard case .array = value else {
                throw ConditionError(
                    source: source,
                    message: "'\(op.rawValue)' expects an array, got \(ExpressionValues.typeName(value))")
            }
        case .exists:
            let valid: Bool
            switch value {
            case .bool: valid = true
            case .string(let s): valid = ConditionValues.parseBool(s) != nil
            default: valid = false
            }
            guard valid else {
                throw ConditionError(
                    source: source,
                    message: "'exists' expects true or false, got \(ExpressionValues.typeName(value))")
            }
        case .like, .notLike, .match, .notMatch, .matchInsensitively, .notMatchInsensitively:
            guard case .string = value else {
                throw ConditionError(
                    source: source,
                    message: "'\(op.rawValue)' expects a string pattern, got \(ExpressionValues.typeName(value))")
            }
        default:
            break
        }
    }

    private func field(_ json: JSON, _ source: PolicySource) throws(ConditionError) -> ConditionField {
        guard case .string(let text) = json else {
            throw ConditionError(
                source: source, message: "'field' must be a string, got \(ExpressionValues.typeName(json))")
        }
        switch try templateValue(text, source) {
        case .expression(let expression):
            return .expression(expression, text: text)
        case .literal(let literal):
            guard let reference = AliasCatalog.resolve(literal) else {
                throw ConditionError(
                    source: source, message: "unknown field '\(literal)'",
                    suggestion: AliasCatalog.isKnown(literal).suggestion)
            }
            return .resolved(reference)
        }
    }

    private func count(_ json: JSON, _ source: PolicySource) throws(ConditionError) -> ConditionSubject {
        guard case .object(let members) = json else {
            throw ConditionError(
                source: source, message: "'count' must be an object, got \(ExpressionValues.typeName(json))")
        }
        var fieldKey: String?
        var valueKey: String?
        var nameKey: String?
        var whereKey: String?
        for key in members.keys.sorted() {
            switch ASCII.lowercased(key) {
            case "field": fieldKey = key
            case "value": valueKey = key
            case "name": nameKey = key
            case "where": whereKey = key
            default:
                throw ConditionError(
                    source: source.appending(.key(key)), message: "unknown key '\(key)' in 'count'",
                    suggestion: Self.suggestion(for: key, among: ["field", "value", "name", "where"]))
            }
        }
        let whereCondition: Condition? =
            if let whereKey { try condition(members[whereKey]!, source.appending(.key(whereKey))) } else { nil }
        switch (fieldKey, valueKey) {
        case (let fieldKey?, nil):
            if let nameKey {
                throw ConditionError(
                    source: source.appending(.key(nameKey)), message: "'name' is only allowed in a value count")
            }
            let fieldSource = source.appending(.key(fieldKey))
            let counted = try field(members[fieldKey]!, fieldSource)
            if case .resolved(let reference) = counted, reference.segments.last != .everyElement {
                throw ConditionError(
                    source: fieldSource,
                    message: "'count.field' must be an array alias ending in '[*]', got '\(reference.field)'",
                    suggestion: reference.isCollection ? nil : reference.field + "[*]")
            }
            return .fieldCount(counted, where: whereCondition)
        case (nil, let valueKey?):
            var name: String?
            if let nameKey {
                guard case .string(let s) = members[nameKey]!, !s.isEmpty else {
                    throw ConditionError(
                        source: source.appending(.key(nameKey)), message: "'count.name' must be a non-empty string")
                }
                name = s
            }
            let values = try operand(members[valueKey]!, source.appending(.key(valueKey)))
            if case .literal(let literal) = values, !(literal.isArray) {
                throw ConditionError(
                    source: source.appending(.key(valueKey)),
                    message: "'count.value' must be an array, got \(ExpressionValues.typeName(literal))")
            }
            return .valueCount(values, name: name, where: whereCondition)
        case (nil, nil):
            throw ConditionError(source: source, message: "'count' needs 'field' or 'value'")
        case (_?, _?):
            throw ConditionError(source: source, message: "'count' takes 'field' or 'value', not both")
        }
    }

    /// A JSON operand: literal, a single expression, or a tree with expressions inside.
    func operand(_ json: JSON, _ source: PolicySource) throws(ConditionError) -> ConditionOperand {
        switch json {
        case .string(let text):
            switch try templateValue(text, source) {
            case .expression(let expression): return .expression(expression, text: text)
            case .literal(let literal): return .literal(.string(literal))
            }
        case .array, .object:
            guard try validateTree(json, source) else { return .literal(json) }
            return .template(json)
        default:
            return .literal(json)
        }
    }

    /// Checks every expression string in a tree; true when there is at least one (`[[` escapes count too,
    /// since evaluation must unescape them).
    private func validateTree(_ json: JSON, _ source: PolicySource) throws(ConditionError) -> Bool {
        switch json {
        case .string(let text):
            _ = try templateValue(text, source)
            return text.hasPrefix("[")
        case .array(let items):
            var found = false
            for (i, item) in items.enumerated() where try validateTree(item, source.appending(.index(i))) {
                found = true
            }
            return found
        case .object(let members):
            var found = false
            for key in members.keys.sorted() {
                let here = source.appending(.key(key))
                if try validateTree(.string(key), here) { found = true }
                if try validateTree(members[key]!, here) { found = true }
            }
            return found
        default:
            return false
        }
    }

    private func templateValue(_ text: String, _ source: PolicySource) throws(ConditionError) -> TemplateValue {
        do {
            let value = try TemplateString.parse(text)
            if case .expression(let expression) = value {
                try ExpressionEvaluator().validate(expression, source: text)
            }
            return value
        } catch {
            throw ConditionError(
                source: source,
                message: "invalid expression: \(error.message) (at offset \(error.offset) in \"\(text)\")",
                suggestion: error.suggestions.first)
        }
    }

    /// The closest name within edit distance 2 of `name` (ignoring case), or nil.
    static func suggestion(for name: String, among names: [String]) -> String? {
        let query = Array(ASCII.lowercased(name).unicodeScalars)
        var best: (Int, String)?
        for candidate in names {
            let d = FunctionCatalog.editDistance(query, Array(ASCII.lowercased(candidate).unicodeScalars), limit: 2)
            if d <= 2, best.map({ d < $0.0 }) ?? true { best = (d, candidate) }
        }
        return best?.1
    }
}

extension JSON {
    /// Whether the value is an array.
    fileprivate var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}
