import FleetCore
import PolicyEngine
import Testing

/// Parses JSON text written in a test (the text is always valid).
func expressionJSON(_ text: String) -> JSON {
    try! JSON.parse(text, source: "test")
}

/// The context most expression tests evaluate against.
let expressionTestContext = StaticExpressionContext(
    parameters: [
        "clusterName": .string("aks-weu-01"),
        "clusterResourceType": .string("Microsoft.ContainerService/managedClusters"),
        "effect": .string("DeployIfNotExists"),
        "repositoryHttpsCACert": .string("cert"),
        "text": .string("Hello World"),
        "count": .int(3),
        "flag": .bool(true),
        "list": expressionJSON("[1, 2, 3]"),
        "obj": expressionJSON(#"{"a": {"b": [10, {"c": "deep"}]}, "Name": "x"}"#),
        "empty": .string(""),
        "nothing": .null,
    ],
    variables: ["prefix": .string("ff-")],
    fields: [
        "name": .string("aks-weu-01"),
        "type": .string("Microsoft.ContainerService/managedClusters"),
        "tags['env']": .string("prod"),
    ],
    currentValues: ["": .int(7), "i": .string("item")],
    resourceGroupValue: expressionJSON(#"{"name": "rg-fleet", "location": "westeurope"}"#),
    subscriptionValue: expressionJSON(#"{"subscriptionId": "sub-1", "displayName": "Fleet"}"#),
    now: "2024-02-29T13:45:30.1234567Z"
)

/// Parses and evaluates one template string against ``expressionTestContext`` (or `context`).
func evaluateForTest(
    _ template: String,
    in context: StaticExpressionContext = expressionTestContext
) throws(ExpressionError) -> JSON {
    try ExpressionEvaluator().evaluate(templateString: template, context: context)
}

/// The error evaluating `template` throws, or nil when it succeeds.
func evaluationErrorForTest(
    _ template: String,
    in context: some ExpressionContext = expressionTestContext
) -> ExpressionError? {
    do {
        _ = try ExpressionEvaluator().evaluate(templateString: template, context: context)
        return nil
    } catch {
        return error
    }
}

/// A template string and the JSON text of the value it must evaluate to.
struct ExpressionValueCase: Sendable, CustomTestStringConvertible {
    var template: String
    var expected: String

    init(_ template: String, _ expected: String) {
        self.template = template
        self.expected = expected
    }

    var testDescription: String { template }
}

/// A template string and the error it must raise.
struct ExpressionErrorCase: Sendable, CustomTestStringConvertible {
    var template: String
    var offset: Int
    var message: String

    init(_ template: String, at offset: Int, _ message: String) {
        self.template = template
        self.offset = offset
        self.message = message
    }

    var testDescription: String { template }
}
