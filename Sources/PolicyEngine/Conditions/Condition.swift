import FleetCore

/// A parsed Azure Policy condition: the `if` of a policy rule or an `existenceCondition`.
///
/// Parse one with ``PolicyCondition/parse(_:source:)`` and evaluate it with ``ConditionEvaluator``.
public indirect enum Condition: Sendable {
    /// `allOf`: every condition must be true (an empty list is true).
    case allOf([Condition], source: PolicySource)
    /// `anyOf`: at least one condition must be true (an empty list is false).
    case anyOf([Condition], source: PolicySource)
    /// `not`: the condition must be false.
    case not(Condition, source: PolicySource)
    /// A leaf: a `field`, `value` or `count` compared with one operator.
    case leaf(ConditionLeaf)

    /// Where the condition is in its policy document.
    public var source: PolicySource {
        switch self {
        case .allOf(_, let source), .anyOf(_, let source), .not(_, let source): source
        case .leaf(let leaf): leaf.source
        }
    }
}

/// The operators of a leaf condition (names are matched ignoring case when parsing).
public enum ConditionOperator: String, Sendable, CaseIterable {
    /// Equal, ignoring case, with scalar coercion (`true` equals `"True"`, `5` equals `"5"`).
    case equals
    /// Not ``equals``.
    case notEquals
    /// Matches a pattern with `*` wildcards, ignoring case.
    case like
    /// Not ``like``.
    case notLike
    /// Matches a pattern (`#` digit, `?` letter, `.` any character, others literal), case-sensitively.
    case match
    /// Not ``match``.
    case notMatch
    /// ``match`` ignoring case.
    case matchInsensitively
    /// Not ``matchInsensitively``.
    case notMatchInsensitively
    /// A string contains the target as a substring (ignoring case); an array contains it as an element.
    case contains
    /// Not ``contains``.
    case notContains
    /// Equals one element of the target array.
    case `in`
    /// Not ``in``.
    case notIn
    /// An object has a member named the target (ignoring case).
    case containsKey
    /// Not ``containsKey``.
    case notContainsKey
    /// Less than (ints, strings ignoring case, ISO dates).
    case less
    /// Less than or equal.
    case lessOrEquals
    /// Greater than.
    case greater
    /// Greater than or equal.
    case greaterOrEquals
    /// The value is present (`true`) or absent (`false`).
    case exists

    /// The operator for a name in any case, or nil.
    public init?(name: String) {
        guard let op = Self.byLowercasedName[ASCII.lowercased(name)] else { return nil }
        self = op
    }

    private static let byLowercasedName: [String: ConditionOperator] = Dictionary(
        uniqueKeysWithValues: allCases.map { (ASCII.lowercased($0.rawValue), $0) })

    /// The operator with the opposite result (``exists`` is its own: its target is flipped instead).
    public var complement: ConditionOperator {
        switch self {
        case .equals: .notEquals
        case .notEquals: .equals
        case .like: .notLike
        case .notLike: .like
        case .match: .notMatch
        case .notMatch: .match
        case .matchInsensitively: .notMatchInsensitively
        case .notMatchInsensitively: .matchInsensitively
        case .contains: .notContains
        case .notContains: .contains
        case .in: .notIn
        case .notIn: .in
        case .containsKey: .notContainsKey
        case .notContainsKey: .containsKey
        case .less: .greaterOrEquals
        case .greaterOrEquals: .less
        case .lessOrEquals: .greater
        case .greater: .lessOrEquals
        case .exists: .exists
        }
    }

    /// Whether the operator is the negation of another (`notEquals`, `notIn`, …).
    var isNegative: Bool {
        switch self {
        case .notEquals, .notLike, .notMatch, .notMatchInsensitively, .notContains, .notIn, .notContainsKey: true
        default: false
        }
    }

    /// Azure's compliance reason for a value that must satisfy the operator (`exists` uses `target`).
    public func reasonMessage(target: Bool = true) -> String {
        switch self {
        case .equals: "Current value must be equal to the target value."
        case .notEquals: "Current value must not be equal to the target value."
        case .like: "Current value must be like the target value."
        case .notLike: "Current value must not be like the target value."
        case .match: "Current value must case-sensitive match the target value."
        case .notMatch: "Current value must case-sensitive not match the target value."
        case .matchInsensitively: "Current value must case-insensitive match the target value."
        case .notMatchInsensitively: "Current value must case-insensitive not match the target value."
        case .contains: "Current value must contain the target value."
        case .notContains: "Current value must not contain the target value."
        case .in: "Current value must be in the target value."
        case .notIn: "Current value must not be in the target value."
        case .containsKey: "Current value must contain the target value as a key."
        case .notContainsKey: "Current value must not contain the target value as a key."
        case .less: "Current value must be less than the target value."
        case .lessOrEquals: "Current value must be less than or equal to the target value."
        case .greater: "Current value must be greater than the target value."
        case .greaterOrEquals: "Current value must be greater than or equal to the target value."
        case .exists: target ? "Current value must exist." : "Current value must not exist."
        }
    }
}

/// A value used by a condition: a literal or a template expression evaluated per resource.
public enum ConditionOperand: Sendable {
    /// A JSON literal (strings already unescaped from `[[`).
    case literal(JSON)
    /// A `"[…]"` string; `text` is the string as written, for messages.
    case expression(Expression, text: String)
    /// An array or object with expressions inside (`in: ["[parameters('a')]", "b"]`), evaluated element-wise.
    case template(JSON)

    /// The operand as written in the policy, for messages (`[parameters('x')]`, `"text"`, `["a","b"]`).
    public var text: String {
        switch self {
        case .literal(let json), .template(let json):
            var writer = JSONWriter()
            writer.value(json)
            return writer.text
        case .expression(_, let text):
            return text
        }
    }

    /// Whether evaluating the operand never reads the resource (no `field()` or `current()` call).
    var isResourceIndependent: Bool {
        switch self {
        case .literal: return true
        case .expression(let expression, _): return !Self.readsResource(expression)
        case .template(let json): return !Self.templateReadsResource(json)
        }
    }

    static func readsResource(_ expression: Expression) -> Bool {
        switch expression {
        case .string, .integer:
            return false
        case .property(let base, _, _):
            return readsResource(base)
        case .index(let base, let index, _):
            return readsResource(base) || readsResource(index)
        case .call(let name, let arguments, _):
            if ASCII.equalsIgnoringCase(name, "field") || ASCII.equalsIgnoringCase(name, "current") { return true }
            return arguments.contains(where: readsResource)
        }
    }

    private static func templateReadsResource(_ json: JSON) -> Bool {
        switch json {
        case .string(let s):
            guard TemplateString.isExpression(s), case .expression(let e)? = try? TemplateString.parse(s) else {
                return false
            }
            return readsResource(e)
        case .array(let items): return items.contains(where: templateReadsResource)
        case .object(let members):
            return members.keys.contains(where: TemplateString.isExpression)
                || members.values.contains(where: templateReadsResource)
        default: return false
        }
    }
}

/// The `field` of a condition: resolved when parsed, or an expression resolved per evaluation.
public enum ConditionField: Sendable {
    /// A literal field string, resolved once.
    case resolved(FieldReference)
    /// A `"[…]"` field string, evaluated and then resolved for each resource.
    case expression(Expression, text: String)

    /// The field as written.
    public var text: String {
        switch self {
        case .resolved(let reference): reference.field
        case .expression(_, let text): text
        }
    }
}

/// What a leaf condition compares.
public enum ConditionSubject: Sendable {
    /// `field`: a property of the evaluated resource.
    case field(ConditionField)
    /// `value`: a literal or expression.
    case value(ConditionOperand)
    /// `count.field` (a `[*]` field) with an optional `where` evaluated per member.
    case fieldCount(ConditionField, where: Condition?)
    /// `count.value` (an array) with an optional loop `name` and `where`, evaluated per element.
    case valueCount(ConditionOperand, name: String?, where: Condition?)

    /// How reasons name the subject: `field 'x'`, `value '[…]'`, `count(field 'x[*]')`.
    var expressionText: String {
        switch self {
        case .field(let field): "field '\(field.text)'"
        case .value(let operand): "value '\(operand.text)'"
        case .fieldCount(let field, _): "count(field '\(field.text)')"
        case .valueCount(let operand, _, _): "count(value '\(operand.text)')"
        }
    }
}

/// A leaf condition: a subject, an operator and the operand it compares with.
///
/// A class, so that evaluation passes leaves around with a single reference count.
public final class ConditionLeaf: Sendable {
    /// What is compared.
    public let subject: ConditionSubject
    /// How.
    public let `operator`: ConditionOperator
    /// With what (`exists` operands are bools or `"true"`/`"false"`).
    public let operand: ConditionOperand
    /// Where the leaf is in its policy document.
    public let source: PolicySource
    /// The operand prepared for comparison when it is a literal (lowercased text, parsed number, …).
    let preparedTarget: ComparisonTarget?
    /// Whether targets are normalised as locations (the subject is the built-in `location` field).
    let isLocationField: Bool
    /// How reasons name the subject: `field 'x'`, `value '[…]'`, `count(field 'x[*]')`.
    let expressionText: String
    /// The field of a `field` subject resolved at parse time, or nil.
    let resolvedField: FieldReference?
    /// ``source`` as text, for reasons.
    let sourceText: String

    /// Creates a leaf; a literal operand is prepared for comparison once, here.
    public init(subject: ConditionSubject, operator: ConditionOperator, operand: ConditionOperand, source: PolicySource)
    {
        self.subject = subject
        self.operator = `operator`
        self.operand = operand
        self.source = source
        self.sourceText = source.description
        if case .field(.resolved(let reference)) = subject {
            resolvedField = reference
            isLocationField = reference.isLocation
        } else {
            resolvedField = nil
            isLocationField = false
        }
        if case .literal(let json) = operand {
            preparedTarget = ComparisonTarget(json, location: isLocationField)
        } else {
            preparedTarget = nil
        }
        expressionText = subject.expressionText
    }
}
