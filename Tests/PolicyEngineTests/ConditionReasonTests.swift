import FleetCore
import PolicyEngine
import Testing

private let url = fluxAlias("gitRepository.url")
private let scope = fluxAlias("scope")
private let semver = fluxAlias("gitRepository.repositoryRef.semver")
private let timeout = fluxAlias("gitRepository.timeoutInSeconds")

@Test func conditionReasonsOfAFailingAllOf() throws {
    let result = try evaluateCondition(
        """
        {"allOf": [
          {"field": "\(scope)", "equals": "cluster"},
          {"field": "\(url)", "equals": "https://github.com/org/other"},
          {"field": "\(semver)", "equals": "1.x"},
          {"field": "\(timeout)", "less": 100}]}
        """)
    #expect(!result.matched)
    #expect(result.error == nil)
    #expect(result.reasons.count == 3)
    let first = try #require(result.reasons.first)
    #expect(first.expression == "field '\(url)'")
    #expect(first.path == "properties.gitRepository.url")
    #expect(first.actual == .string("https://github.com/Org/Repo"))
    #expect(first.target == .string("https://github.com/org/other"))
    #expect(first.operator == "equals")
    #expect(first.message == "Current value must be equal to the target value.")
    #expect(first.result == false)
    #expect(first.source.path == "$.if.allOf[1]")
    let missing = result.reasons[1]
    #expect(missing.actual == nil)
    #expect(missing.path == "properties.gitRepository.repositoryRef.semver")
    #expect(missing.description.contains("Actual: <-->"))
    let less = result.reasons[2]
    #expect(less.actual == .int(600))
    #expect(less.target == .int(100))
    #expect(less.message == "Current value must be less than the target value.")
}

@Test func conditionReasonsOfAPassingAllOfAndAnyOf() throws {
    let passing = try evaluateCondition(
        #"{"allOf": [{"field": "\#(scope)", "equals": "cluster"}, {"field": "name", "like": "c*"}]}"#)
    #expect(passing.matched)
    #expect(passing.reasons.map(\.operator) == ["equals", "like"])

    let anyOf = try evaluateCondition(
        """
        {"anyOf": [
          {"field": "\(scope)", "equals": "namespace"},
          {"field": "name", "equals": "cfg"},
          {"field": "\(semver)", "exists": false}]}
        """)
    #expect(anyOf.matched)
    #expect(anyOf.reasons.map(\.expression) == ["field 'name'", "field '\(semver)'"])
    #expect(anyOf.reasons[1].message == "Current value must not exist.")
    #expect(anyOf.reasons[1].target == .bool(false))

    let failingAnyOf = try evaluateCondition(
        #"{"anyOf": [{"field": "\#(scope)", "equals": "namespace"}, {"field": "name", "equals": "x"}]}"#)
    #expect(!failingAnyOf.matched)
    #expect(failingAnyOf.reasons.count == 2)
}

@Test func conditionReasonsUnderNotAreNegated() throws {
    let result = try evaluateCondition(
        """
        {"not": {"anyOf": [
          {"field": "\(scope)", "equals": "cluster"},
          {"field": "\(url)", "exists": true},
          {"field": "\(timeout)", "less": 1000},
          {"field": "\(fluxAlias("namespace"))", "in": ["flux-system"]},
          {"field": "name", "equals": "other"}]}}
        """)
    #expect(!result.matched)
    #expect(
        result.reasons.map(\.message) == [
            "Current value must not be equal to the target value.",
            "Current value must not exist.",
            "Current value must be greater than or equal to the target value.",
            "Current value must not be in the target value.",
        ])
    #expect(result.reasons.map(\.operator) == ["equals", "exists", "less", "in"])
    #expect(result.reasons.map(\.result) == [true, true, true, true])
}

@Test func conditionReasonsForValueAndMessagesOfEveryOperator() throws {
    let value = try evaluateCondition(#"{"value": "[parameters('timeout')]", "greater": 700}"#)
    let reason = try #require(value.reasons.first)
    #expect(reason.expression == "value '[parameters('timeout')]'")
    #expect(reason.path == "")
    #expect(reason.actual == .int(600))
    #expect(reason.message == "Current value must be greater than the target value.")

    let messages: [ConditionOperator: String] = [
        .notEquals: "Current value must not be equal to the target value.",
        .like: "Current value must be like the target value.",
        .notLike: "Current value must not be like the target value.",
        .match: "Current value must case-sensitive match the target value.",
        .notMatch: "Current value must case-sensitive not match the target value.",
        .matchInsensitively: "Current value must case-insensitive match the target value.",
        .notMatchInsensitively: "Current value must case-insensitive not match the target value.",
        .contains: "Current value must contain the target value.",
        .notContains: "Current value must not contain the target value.",
        .notIn: "Current value must not be in the target value.",
        .containsKey: "Current value must contain the target value as a key.",
        .notContainsKey: "Current value must not contain the target value as a key.",
        .lessOrEquals: "Current value must be less than or equal to the target value.",
        .greaterOrEquals: "Current value must be greater than or equal to the target value.",
    ]
    for (op, message) in messages {
        #expect(op.reasonMessage() == message)
        #expect(op.complement.complement == op)
    }
    #expect(ConditionOperator.exists.reasonMessage(target: true) == "Current value must exist.")
}

@Test func conditionReasonsCanBeTurnedOff() throws {
    let result = try evaluateCondition(
        #"{"allOf": [{"field": "\#(scope)", "equals": "x"}, {"field": "name", "equals": "y"}]}"#, reasons: false)
    #expect(!result.matched)
    #expect(result.reasons.isEmpty)
}

@Test func conditionErrorsBecomeResults() throws {
    let result = try evaluateCondition(
        #"{"allOf": [{"field": "\#(scope)", "equals": "cluster"}, {"field": "\#(timeout)", "less": "abc"}]}"#)
    #expect(!result.matched)
    let error = try #require(result.error)
    #expect(error.contains("$.if.allOf[1]"))
    #expect(error.contains("field '\(timeout)'"))
    #expect(error.contains("'less' cannot compare an int with a string"))
    #expect(result.reasons.count == 1)
    #expect(result.reasons.first?.operator == "less")

    // An earlier sibling that decides the result hides a later error (left-to-right evaluation).
    let decided = try evaluateCondition(
        #"{"anyOf": [{"field": "\#(scope)", "equals": "cluster"}, {"value": "[parameters('nope')]", "equals": 1}]}"#)
    #expect(decided.matched)
    #expect(decided.error == nil)
    let undecided = try evaluateCondition(
        #"{"anyOf": [{"value": "[parameters('nope')]", "equals": 1}, {"field": "\#(scope)", "equals": "cluster"}]}"#)
    #expect(!undecided.matched)
    #expect(undecided.error?.contains("parameter 'nope' is not defined") == true)

    let notError = try evaluateCondition(#"{"not": {"value": "[div(1, 0)]", "equals": 1}}"#)
    #expect(!notError.matched)
    #expect(notError.error != nil)

    let field = try evaluateCondition(#"{"field": "[concat('nm', 'ae')]", "equals": 1}"#)
    #expect(field.error?.contains("unknown field 'nmae'; did you mean 'name'?") == true)
}
