import FleetCore
import PolicyEngine
import Testing

/// A malformed condition and the error it must raise.
struct ConditionParseErrorCase: Sendable, CustomTestStringConvertible {
    var condition: String
    var path: String
    var message: String
    var suggestion: String?

    init(_ condition: String, at path: String, _ message: String, suggestion: String? = nil) {
        self.condition = condition
        self.path = path
        self.message = message
        self.suggestion = suggestion
    }

    var testDescription: String { condition }
}

private typealias E = ConditionParseErrorCase
private let url = fluxAlias("gitRepository.url")

private let parseErrorCases: [ConditionParseErrorCase] = [
    E(#"[1]"#, at: "$.if", "a condition must be an object, got an array"),
    E(#"{}"#, at: "$.if", "empty condition"),
    E(
        #"{"field": "name", "equals": "a", "notEquals": "b"}"#, at: "$.if.notEquals",
        "a condition has exactly one operator, found 'equals' and 'notEquals'"),
    E(#"{"field": "name"}"#, at: "$.if", "the condition on 'field' has no operator"),
    E(#"{"field": "name", "equal": "a"}"#, at: "$.if.equal", "unknown operator 'equal'", suggestion: "equals"),
    E(#"{"field": "name", "notequal": "a"}"#, at: "$.if.notequal", "unknown operator", suggestion: "notEquals"),
    E(#"{"field": "name", "greaterOrEqual": 1}"#, at: "$.if.greaterOrEqual", "unknown", suggestion: "greaterOrEquals"),
    E(#"{"field": "name", "between": 1}"#, at: "$.if.between", "unknown operator 'between'"),
    E(#"{"feild": "name", "equals": "a"}"#, at: "$.if.feild", "unknown condition key 'feild'", suggestion: "field"),
    E(#"{"allof": [{"field": "name", "equals": "a"}], "x": 1}"#, at: "$.if.x", "'x' cannot appear beside 'allof'"),
    E(#"{"allOf": {"field": "name", "equals": "a"}}"#, at: "$.if.allOf", "'allOf' takes an array of conditions"),
    E(#"{"anyOf": []}"#, at: "$.if.anyOf", "'anyOf' needs at least one condition"),
    E(
        #"{"not": [{"field": "name", "equals": "a"}]}"#, at: "$.if.not",
        "'not' takes one condition object, got an array"),
    E(#"{"not": "x"}"#, at: "$.if.not", "'not' takes one condition object, got a string"),
    E(
        #"{"allOf": [{"field": "name", "equals": "a"}, {"anyOf": [{"field": "name", "equals": "a", "in": []}]}]}"#,
        at: "$.if.allOf[1].anyOf[0].in", "exactly one operator"),
    E(
        #"{"field": "name", "value": "x", "equals": "a"}"#, at: "$.if.value",
        "a condition compares one of 'field', 'value' or 'count', found 'field' and 'value'"),
    E(#"{"equals": "a"}"#, at: "$.if", "a condition needs 'field', 'value' or 'count'"),
    E(#"{"field": 5, "equals": "a"}"#, at: "$.if.field", "'field' must be a string, got an int"),
    E(#"{"field": "nmae", "equals": "a"}"#, at: "$.if.field", "unknown field 'nmae'", suggestion: "name"),
    E(#"{"field": "properties.scope", "equals": "a"}"#, at: "$.if.field", "unknown field 'properties.scope'"),
    E(
        #"{"field": "\#(fluxAlias("gitRepository..url"))", "equals": "a"}"#, at: "$.if.field", "unknown field",
        suggestion: url),
    E(#"{"field": "[concat('na', 'me']", "equals": "a"}"#, at: "$.if.field", "invalid expression"),
    E(
        #"{"field": "name", "equals": "[paramters('x')]"}"#, at: "$.if.equals",
        "invalid expression: unknown function 'paramters'", suggestion: "parameters"),
    E(#"{"field": "name", "in": "a"}"#, at: "$.if.in", "'in' expects an array, got a string"),
    E(#"{"field": "name", "notIn": {"a": "[parameters('x')]"}}"#, at: "$.if.notIn", "'notIn' expects an array"),
    E(#"{"field": "name", "exists": "maybe"}"#, at: "$.if.exists", "'exists' expects true or false, got a string"),
    E(#"{"field": "name", "exists": 1}"#, at: "$.if.exists", "'exists' expects true or false, got an int"),
    E(#"{"field": "name", "like": 5}"#, at: "$.if.like", "'like' expects a string pattern, got an int"),
    E(#"{"count": [], "equals": 1}"#, at: "$.if.count", "'count' must be an object"),
    E(#"{"count": {}, "equals": 1}"#, at: "$.if.count", "'count' needs 'field' or 'value'"),
    E(#"{"count": {"field": "x[*]", "value": [1]}, "equals": 1}"#, at: "$.if.count", "not both"),
    E(
        #"{"count": {"field": "\#(url)"}, "equals": 1}"#, at: "$.if.count.field",
        "'count.field' must be an array alias ending in '[*]'", suggestion: url + "[*]"),
    E(
        #"{"count": {"field": "\#(fluxAlias("statuses[*]"))", "name": "s"}, "equals": 1}"#, at: "$.if.count.name",
        "'name' is only allowed in a value count"),
    E(#"{"count": {"value": "abc"}, "equals": 1}"#, at: "$.if.count.value", "'count.value' must be an array"),
    E(#"{"count": {"value": [1], "name": 3}, "equals": 1}"#, at: "$.if.count.name", "'count.name' must be"),
    E(
        #"{"count": {"value": [1], "wher": {}}, "equals": 1}"#, at: "$.if.count.wher", "unknown key",
        suggestion: "where"),
    E(
        #"{"count": {"value": [1], "where": {"value": 1, "equal": 1}}, "equals": 1}"#, at: "$.if.count.where.equal",
        "unknown operator 'equal'", suggestion: "equals"),
]

@Test("parse errors", arguments: parseErrorCases)
func conditionParseError(_ testCase: ConditionParseErrorCase) {
    do {
        _ = try parseCondition(testCase.condition)
        Issue.record("expected an error")
    } catch {
        #expect(error.source.file == "rule.json")
        #expect(error.source.path == testCase.path)
        #expect(error.message.contains(testCase.message), "\(error.message)")
        #expect(error.suggestion == testCase.suggestion)
    }
}

@Test func conditionParseErrorDescription() {
    do {
        _ = try parseCondition(#"{"field": "name", "equal": "a"}"#)
    } catch {
        #expect(error.description == "rule.json: $.if.equal: unknown operator 'equal'; did you mean 'equals'?")
        #expect(error.diagnostic.severity == .error)
        #expect(error.diagnostic.suggestion == "did you mean 'equals'?")
    }
}

/// Valid spellings: key names in any case, expressions in fields and operands, every built-in's shape.
@Test(arguments: [
    #"{"FIELD": "name", "Equals": "a"}"#,
    #"{"ALLOF": [{"field": "name", "equals": "a"}], "x": 1}"#.replacing(#", "x": 1"#, with: ""),
    #"{"not": {"anyOf": [{"field": "type", "in": ["a", "b"]}, {"value": 1, "less": 2}]}}"#,
    #"{"field": "[concat('tags[', 'env', ']')]", "exists": "true"}"#,
    #"{"field": "tags['env']", "in": ["[parameters('x')]", "[concat('a', parameters('y'))]"]}"#,
    #"{"count": {"value": "[parameters('list')]", "name": "i"}, "greater": 0}"#,
    #"{"field": "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", "equals": true}"#,
    #"{"field": "name", "equals": "[[not an expression]"}"#,
])
func conditionParsesValid(_ text: String) throws {
    _ = try parseCondition(text)
}

/// The built-ins' rules (as the reference lists them) parse and behave.
@Test func conditionBuiltInShapes() throws {
    let ifCondition = try parseCondition(
        #"{"field": "type", "in": ["Microsoft.Kubernetes/connectedClusters","#
            + #" "Microsoft.ContainerService/managedClusters"]}"#)
    let cluster = conditionRecord(#"{"name": "c", "type": "microsoft.containerservice/managedclusters"}"#)
    let evaluator = ConditionEvaluator()
    #expect(
        evaluator.evaluate(
            ifCondition, resource: cluster, resourceType: ConditionTypes.managed, context: conditionTestContext
        ).matched)
    let flux = conditionRecord(#"{"type": "x", "name": "c"}"#)
    #expect(!evaluator.evaluate(ifCondition, resource: flux, resourceType: "x", context: conditionTestContext).matched)

    // v1 sourceControlConfigurations: `in` with expression elements.
    let v1 = try parseCondition(
        """
        {"field": "\(ConditionTypes.sourceControl)/operatorParams",
         "in": ["[parameters('operatorParams')]", "[concat('--git-readonly ',parameters('operatorParams'))]"]}
        """)
    let context = StaticExpressionContext(parameters: ["OperatorParams": .string("--git-path=x")])
    for (params, expected) in [("--git-readonly --git-path=x", true), ("--GIT-PATH=X", true), ("--other", false)] {
        let record = conditionRecord(#"{"properties": {"operatorParams": "\#(params)"}}"#)
        let result = evaluator.evaluate(
            v1, resource: record, resourceType: ConditionTypes.sourceControl, context: context)
        #expect(result.matched == expected, "\(params)")
    }
}

@Test func conditionBindingConstants() throws {
    let condition = try parseCondition(
        """
        {"allOf": [
          {"field": "\(url)", "equals": "[parameters('repositoryUrl')]"},
          {"field": "[concat('na', 'me')]", "equals": "cfg"},
          {"value": "[field('name')]", "equals": "cfg"},
          {"count": {"value": "[parameters('scopes')]", "name": "s",
                     "where": {"field": "\(fluxAlias("scope"))", "equals": "[current('s')]"}}, "equals": 1}]}
        """)
    let bound = ConditionEvaluator().bindingConstants(in: condition, context: conditionTestContext)
    guard case .allOf(let children, _) = bound, case .leaf(let first) = children[0],
        case .leaf(let second) = children[1],
        case .leaf(let third) = children[2]
    else {
        Issue.record("unexpected shape")
        return
    }
    guard case .literal(.string("https://github.com/org/repo")) = first.operand else {
        Issue.record("the parameter was not bound")
        return
    }
    guard case .field(.resolved(let reference)) = second.subject, reference.path == "name" else {
        Issue.record("the field expression was not resolved")
        return
    }
    guard case .value(.expression) = third.subject else {
        Issue.record("field() must stay an expression")
        return
    }
    // The bound condition evaluates like the original, even with an empty context.
    let result = ConditionEvaluator().evaluate(
        bound, resource: fluxRecord, resourceType: ConditionTypes.flux, context: StaticExpressionContext())
    #expect(result.matched)
    #expect(result.error == nil)
}
