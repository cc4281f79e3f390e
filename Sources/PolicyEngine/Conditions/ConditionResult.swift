import FleetCore

/// The outcome of evaluating a condition against one resource.
public struct ConditionResult: Sendable, Equatable {
    /// Whether the condition is true (false when ``error`` is set).
    public var matched: Bool
    /// The leaves that decided the result (see ``ConditionEvaluator`` for the rule); empty when reasons are off.
    public var reasons: [ConditionReason]
    /// Why the condition could not be evaluated (Azure's `Error` compliance state), or nil.
    public var error: String?

    /// Creates a result.
    public init(matched: Bool, reasons: [ConditionReason] = [], error: String? = nil) {
        self.matched = matched
        self.reasons = reasons
        self.error = error
    }
}

/// One evaluated leaf, in the shape of Azure's `policyEvaluationDetails.evaluatedExpressions`.
public struct ConditionReason: Sendable, Equatable, CustomStringConvertible {
    /// The subject as written: `field 'Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url'`,
    /// `value '[parameters(''x'')]'`, `count(field 'a[*]')`.
    public var expression: String
    /// The JSON path read in the resource (`properties.gitRepository.url`); `""` for `value` subjects.
    public var path: String
    /// The value found: nil when missing; an array of member values for `[*]` fields; the number for counts.
    public var actual: JSON?
    /// The value compared with, after evaluating expressions (for `exists`, the bool).
    public var target: JSON?
    /// The operator as Azure spells it (`equals`, `notIn`, `exists`).
    public var `operator`: String
    /// What the value had to be for the overall result to differ, in Azure's words:
    /// `Current value must be equal to the target value.` (negated under `not`).
    public var message: String
    /// The leaf's own result, before any enclosing `not`.
    public var result: Bool
    /// Where the leaf is in its policy document.
    public var source: PolicySource
    /// ``source`` as text (`file: $.properties.policyRule.if.allOf[1]`), made once per leaf.
    public var sourceText: String

    /// Creates a reason.
    public init(
        expression: String, path: String, actual: JSON?, target: JSON?, operator: String, message: String,
        result: Bool, source: PolicySource, sourceText: String? = nil
    ) {
        self.sourceText = sourceText ?? source.description
        self.expression = expression
        self.path = path
        self.actual = actual
        self.target = target
        self.operator = `operator`
        self.message = message
        self.result = result
        self.source = source
    }

    /// `field 'x' (path): message Actual: …; target: …`, with `<-->` for a missing value as the portal shows it.
    public var description: String {
        func text(_ value: JSON?) -> String {
            guard let value else { return "<-->" }
            var writer = JSONWriter()
            writer.value(value)
            return writer.text
        }
        let location = path.isEmpty ? "" : " (\(path))"
        return "\(expression)\(location): \(message) Actual: \(text(actual)); target: \(text(target))."
    }
}
