import FleetCore
import PolicyEngine
import Testing

/// The ARM types used by the condition tests.
enum ConditionTypes {
    static let flux = "Microsoft.KubernetesConfiguration/fluxConfigurations"
    static let extensions = "Microsoft.KubernetesConfiguration/extensions"
    static let sourceControl = "Microsoft.KubernetesConfiguration/sourceControlConfigurations"
    static let managed = "Microsoft.ContainerService/managedClusters"
    static let connected = "Microsoft.Kubernetes/connectedClusters"
}

/// The full name of a fluxConfigurations alias.
func fluxAlias(_ path: String) -> String { ConditionTypes.flux + "/" + path }

/// Parses a resource record written in a test (the text is always valid).
func conditionRecord(_ text: String) -> JSONValue {
    try! JSONDocument.parse(JSONBytes(text, source: "test")).root
}

/// A Flux configuration as Resource Graph returns it.
let fluxRecordText = """
    {
      "id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks-01\
    /providers/Microsoft.KubernetesConfiguration/fluxConfigurations/cfg",
      "name": "cfg",
      "type": "microsoft.kubernetesconfiguration/fluxconfigurations",
      "location": "West Europe",
      "kind": "Flux",
      "tags": {"Env": "Prod", "owner": "team-a", "cost.center": "42"},
      "identity": {"type": "SystemAssigned"},
      "properties": {
        "scope": "cluster",
        "namespace": "flux-system",
        "sourceKind": "GitRepository",
        "suspend": false,
        "provisioningState": "Succeeded",
        "errorMessage": "",
        "lastSourceUpdatedAt": "2024-05-01T10:00:00Z",
        "gitRepository": {
          "url": "https://github.com/Org/Repo",
          "timeoutInSeconds": 600,
          "syncIntervalInSeconds": 300,
          "repositoryRef": {"branch": "main", "tag": null},
          "httpsUser": "bot",
          "httpsCACert": "Q0VSVA=="
        },
        "kustomizations": {
          "infra": {"path": "./infra", "prune": true},
          "apps": {"path": "./apps", "dependsOn": ["infra"]}
        },
        "statuses": [
          {"name": "infra", "kind": "Kustomization", "complianceState": "Compliant",
           "statusConditions": [{"status": "True", "type": "Ready"}]},
          {"name": "apps", "kind": "Kustomization", "complianceState": "Non-Compliant",
           "statusConditions": [{"status": "False", "type": "Ready"}, {"status": "True", "type": "Reconciling"}]},
          {"name": "flux-system", "kind": "GitRepository", "complianceState": "Compliant"}
        ]
      }
    }
    """

/// ``fluxRecordText`` parsed.
let fluxRecord = conditionRecord(fluxRecordText)

/// The parameters conditions in tests refer to.
let conditionTestContext = StaticExpressionContext(
    parameters: [
        "repositoryUrl": .string("https://github.com/org/repo"),
        "timeout": .int(600),
        "timeoutText": .string("600"),
        "flag": .bool(false),
        "empty": .string(""),
        "scopes": expressionJSON(#"["cluster", "namespace"]"#),
        "sizes": expressionJSON(#"["Standard_D4s_v5", "Standard_D8s_v5"]"#),
        "numbers": expressionJSON("[1, 5, 10, 20]"),
        "text": .string("not an array"),
    ],
    now: "2024-06-01T00:00:00.0000000Z"
)

/// Parses a condition written in a test (the text is always valid JSON).
func parseCondition(_ text: String) throws(ConditionError) -> Condition {
    try PolicyCondition.parse(expressionJSON(text), source: PolicySource(file: "rule.json", path: "$.if"))
}

/// Parses and evaluates a condition against a record.
func evaluateCondition(
    _ text: String,
    on record: JSONValue = fluxRecord,
    type: String = ConditionTypes.flux,
    context: StaticExpressionContext = conditionTestContext,
    reasons: Bool = true
) throws(ConditionError) -> ConditionResult {
    let condition = try parseCondition(text)
    return ConditionEvaluator(collectsReasons: reasons).evaluate(
        condition, resource: record, resourceType: type, context: context)
}

/// A condition, the record it runs on, and the expected outcome: true, false, or nil for an evaluation error.
struct ConditionCase: Sendable, CustomTestStringConvertible {
    var condition: String
    var record: String?
    var type: String
    var expected: Bool?

    init(_ condition: String, _ expected: Bool?, record: String? = nil, type: String = ConditionTypes.flux) {
        self.condition = condition
        self.record = record
        self.type = type
        self.expected = expected
    }

    /// A `field` leaf: `{"field": field, op: target}`, `target` being JSON text or an expression (`[f()]`).
    static func field(
        _ field: String, _ op: String, _ target: String, _ expected: Bool?, record: String? = nil,
        type: String = ConditionTypes.flux
    ) -> ConditionCase {
        let isExpression =
            target.hasPrefix("[")
            && (target.utf8.dropFirst().first.map { ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A } ?? false)
        let operand = isExpression ? JSONWriter.quote(target) : target
        return ConditionCase(
            #"{"field": \#(JSONWriter.quote(field)), "\#(op)": \#(operand)}"#, expected, record: record, type: type)
    }

    var testDescription: String { condition }

    /// Runs the case and checks the outcome.
    func check() throws {
        let record = self.record.map(conditionRecord) ?? fluxRecord
        let result = try evaluateCondition(condition, on: record, type: type)
        if let expected {
            #expect(result.error == nil, "unexpected error: \(result.error ?? "")")
            #expect(result.matched == expected)
        } else {
            #expect(result.error != nil, "expected an evaluation error")
            #expect(result.matched == false)
        }
    }
}
