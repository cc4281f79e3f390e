import FleetCore
import PolicyEngine
import Testing

private typealias C = ConditionCase

private let url = fluxAlias("gitRepository.url")
private let timeout = fluxAlias("gitRepository.timeoutInSeconds")
private let semver = fluxAlias("gitRepository.repositoryRef.semver")
private let tag = fluxAlias("gitRepository.repositoryRef.tag")
private let scope = fluxAlias("scope")
private let namespace = fluxAlias("namespace")
private let suspend = fluxAlias("suspend")
private let kustomizations = fluxAlias("kustomizations")
private let updated = fluxAlias("lastSourceUpdatedAt")

/// Each operator: match, non-match, missing field, case difference, coercion.
private let operatorCases: [ConditionCase] = [
    // equals
    C.field(url, "equals", #""https://github.com/Org/Repo""#, true),
    C.field(url, "equals", #""https://github.com/org/other""#, false),
    C.field(semver, "equals", #""""#, true),
    C.field(semver, "equals", #""1.x""#, false),
    C.field(tag, "equals", #""""#, true),  // null is missing
    C.field(url, "equals", #""HTTPS://GITHUB.COM/ORG/REPO""#, true),
    C.field(url, "equals", "[parameters('repositoryUrl')]", true),
    C.field(timeout, "equals", "600", true),
    C.field(timeout, "equals", #""600""#, true),
    C.field(timeout, "equals", "600.0", true),
    C.field(timeout, "equals", "[parameters('timeout')]", true),
    C.field(timeout, "equals", "[parameters('timeoutText')]", true),
    C.field(timeout, "equals", #""6e2""#, false),
    C.field(timeout, "equals", #""600s""#, false),
    C.field(suspend, "equals", "false", true),
    C.field(suspend, "equals", #""False""#, true),
    C.field(suspend, "equals", #""true""#, false),
    C.field(suspend, "equals", "[parameters('flag')]", true),
    C.field(suspend, "equals", "0", false),
    C.field(scope, "EQUALS", #""Cluster""#, true),
    C.field(fluxAlias("errorMessage"), "equals", #""""#, true),
    // notEquals
    C.field(url, "notEquals", #""https://github.com/Org/Repo""#, false),
    C.field(url, "notEquals", #""https://gitlab.com/org/repo""#, true),
    C.field(semver, "notEquals", #""""#, false),
    C.field(semver, "notEquals", #""1.x""#, true),
    C.field(scope, "notEquals", #""CLUSTER""#, false),
    C.field(timeout, "notEquals", #""600""#, false),
    C.field(suspend, "notEquals", #""TRUE""#, true),
    C.field(fluxAlias("provisioningState"), "notEquals", #""Failed""#, true),
    // like
    C.field(url, "like", #""https://github.com/*""#, true),
    C.field(url, "like", #""*gitlab*""#, false),
    C.field(url, "like", #""https://github.com/*/Repo""#, true),
    C.field(semver, "like", #""*""#, true),
    C.field(semver, "like", #""1.*""#, false),
    C.field(url, "like", #""HTTPS://*/REPO""#, true),
    C.field(timeout, "like", #""6*""#, true),
    C.field(suspend, "like", #""fal*""#, true),
    C.field(scope, "like", #""cluster""#, true),
    C.field(scope, "like", #""cluster*x""#, false),
    // notLike
    C.field(url, "notLike", #""https://github.com/*""#, false),
    C.field(url, "notLike", #""*gitlab*""#, true),
    C.field(semver, "notLike", #""*""#, false),
    C.field(semver, "notLike", #""v*""#, true),
    C.field(url, "notLike", #""HTTPS://*""#, false),
    C.field(timeout, "notLike", #""7*""#, true),
    // match
    C.field("name", "match", #""???""#, true),
    C.field(namespace, "match", #""????-??????""#, true),
    C.field(namespace, "match", #""????-?????""#, false),
    C.field(namespace, "match", #""????.??????""#, true),
    C.field(scope, "match", #""Cluster""#, false),
    C.field(scope, "match", #""cluster""#, true),
    C.field(semver, "match", #""""#, true),
    C.field(semver, "match", "\"#\"", false),
    C.field(timeout, "match", "\"###\"", true),
    C.field(timeout, "match", "\"##\"", false),
    C.field("name", "match", "\"c#g\"", false),
    // notMatch
    C.field(scope, "notMatch", #""Cluster""#, true),
    C.field(scope, "notMatch", #""c?????r""#, false),
    C.field(semver, "notMatch", "\"#\"", true),
    C.field(timeout, "notMatch", "\"###\"", false),
    C.field(namespace, "notMatch", #""?""#, true),
    // matchInsensitively
    C.field(scope, "matchInsensitively", #""CLUSTER""#, true),
    C.field(scope, "matchInsensitively", #""CLUSTE.""#, true),
    C.field(scope, "matchInsensitively", #""CLUSTERS""#, false),
    C.field(semver, "matchInsensitively", #""""#, true),
    C.field(semver, "matchInsensitively", #""?""#, false),
    C.field(timeout, "matchInsensitively", "\"6##\"", true),
    // notMatchInsensitively
    C.field(scope, "notMatchInsensitively", #""CLUSTER""#, false),
    C.field(scope, "notMatchInsensitively", #""NAMESPACE""#, true),
    C.field(semver, "notMatchInsensitively", #""""#, false),
    C.field(semver, "notMatchInsensitively", "\"#\"", true),
    C.field(timeout, "notMatchInsensitively", "\"6#\"", true),
    // contains
    C.field(url, "contains", #""github""#, true),
    C.field(url, "contains", #""gitlab""#, false),
    C.field(url, "contains", #""GITHUB.COM/org""#, true),
    C.field(semver, "contains", #""""#, true),
    C.field(semver, "contains", #""1""#, false),
    C.field(timeout, "contains", #""60""#, true),
    C.field(suspend, "contains", #""als""#, true),
    C(#"{"value": ["a", "B"], "contains": "b"}"#, true),
    C(#"{"value": [1, 2], "contains": "2"}"#, true),
    C(#"{"value": ["a", "b"], "contains": "c"}"#, false),
    // notContains
    C.field(url, "notContains", #""github""#, false),
    C.field(url, "notContains", #""gitlab""#, true),
    C.field(url, "notContains", #""GITHUB""#, false),
    C.field(semver, "notContains", #""x""#, true),
    C.field(timeout, "notContains", #""7""#, true),
    C(#"{"value": ["a", "b"], "notContains": "A"}"#, false),
    // in
    C.field(scope, "in", #"["cluster", "namespace"]"#, true),
    C.field(scope, "in", #"["namespace"]"#, false),
    C.field(scope, "in", #"["CLUSTER"]"#, true),
    C.field(scope, "in", "[parameters('scopes')]", true),
    C.field(semver, "in", #"["", "1.x"]"#, true),
    C.field(semver, "in", #"["1.x"]"#, false),
    C.field(timeout, "in", #"["600", 300]"#, true),
    C.field(suspend, "in", #"["False"]"#, true),
    C.field(url, "in", #"["[parameters('repositoryUrl')]", "[concat('x', 'y')]"]"#, true),
    C.field(url, "in", "[parameters('text')]", nil),
    C.field("type", "in", #"["Microsoft.KubernetesConfiguration/fluxConfigurations", "x"]"#, true),
    // notIn
    C.field(scope, "notIn", #"["cluster"]"#, false),
    C.field(scope, "notIn", #"["namespace"]"#, true),
    C.field(scope, "notIn", #"["ClUsTeR"]"#, false),
    C.field(semver, "notIn", #"[""]"#, false),
    C.field(semver, "notIn", #"["1.x"]"#, true),
    C.field(timeout, "notIn", #"[600]"#, false),
    C.field(timeout, "notIn", "[parameters('numbers')]", true),
    // containsKey
    C.field(kustomizations, "containsKey", #""infra""#, true),
    C.field(kustomizations, "containsKey", #""web""#, false),
    C.field(kustomizations, "containsKey", #""INFRA""#, true),
    C.field(fluxAlias("bucket"), "containsKey", #""url""#, false),
    C.field("tags", "containsKey", #""env""#, true),
    C.field(url, "containsKey", #""https""#, false),
    C.field(fluxAlias("gitRepository"), "containsKey", #""repositoryRef""#, true),
    // notContainsKey
    C.field(kustomizations, "notContainsKey", #""infra""#, false),
    C.field(kustomizations, "notContainsKey", #""web""#, true),
    C.field(kustomizations, "notContainsKey", #""Apps""#, false),
    C.field(fluxAlias("bucket"), "notContainsKey", #""url""#, true),
    C.field(url, "notContainsKey", #""x""#, true),
    // less
    C.field(timeout, "less", "700", true),
    C.field(timeout, "less", "600", false),
    C.field(timeout, "less", "600.5", true),
    C.field(semver, "less", "5", false),
    C.field(scope, "less", #""d""#, true),
    C.field(scope, "less", #""D""#, true),
    C.field(scope, "less", #""CLUSTER""#, false),
    C.field(updated, "less", #""2024-05-02""#, true),
    C.field(updated, "less", #""2024-05-01T11:00:00+02:00""#, false),
    C.field(timeout, "less", #""700""#, nil),
    C.field(scope, "less", "5", nil),
    C.field(suspend, "less", "true", nil),
    // lessOrEquals
    C.field(timeout, "lessOrEquals", "600", true),
    C.field(timeout, "lessOrEquals", "599", false),
    C.field(scope, "lessOrEquals", #""CLUSTER""#, true),
    C.field(semver, "lessOrEquals", #""z""#, false),
    C.field(updated, "lessOrEquals", #""2024-05-01T10:00:00.0000000Z""#, true),
    C.field(timeout, "lessOrEquals", "[parameters('timeoutText')]", nil),
    // greater
    C.field(timeout, "greater", "599", true),
    C.field(timeout, "greater", "600", false),
    C.field(timeout, "greater", "[parameters('timeout')]", false),
    C.field(semver, "greater", "0", false),
    C.field(scope, "greater", #""Apple""#, true),
    C.field(updated, "greater", "[utcNow()]", false),
    C.field(updated, "greater", #""2024-05-01T09:59:59Z""#, true),
    C.field(url, "greater", "[parameters('numbers')]", nil),
    // greaterOrEquals
    C.field(timeout, "greaterOrEquals", "600", true),
    C.field(timeout, "greaterOrEquals", "601", false),
    C.field(scope, "greaterOrEquals", #""CLUSTER""#, true),
    C.field(semver, "greaterOrEquals", #""""#, false),
    C.field(updated, "greaterOrEquals", #""20240501T100000Z""#, true),
    C.field(suspend, "greaterOrEquals", #""false""#, nil),
    // exists
    C.field(url, "exists", "true", true),
    C.field(url, "exists", #""True""#, true),
    C.field(url, "exists", #""false""#, false),
    C.field(semver, "exists", "false", true),
    C.field(semver, "exists", "true", false),
    C.field(tag, "exists", "false", true),
    C.field(fluxAlias("errorMessage"), "exists", "true", true),
    C.field(url, "exists", "[parameters('flag')]", false),
    C.field(url, "exists", "[parameters('text')]", nil),
    // value conditions
    C(#"{"value": "[parameters('timeout')]", "equals": "600"}"#, true),
    C(#"{"value": "[field('name')]", "equals": "CFG"}"#, true),
    C(#"{"value": "[field('\#(semver)')]", "equals": ""}"#, true),
    C(#"{"value": "[parameters('nope')]", "equals": ""}"#, nil),
    C(#"{"value": "[[literal]", "equals": "[[LITERAL]"}"#, true),
    C(#"{"value": "abc", "like": "A*"}"#, true),
]

@Test("operators", arguments: operatorCases)
func conditionOperator(_ testCase: ConditionCase) throws {
    try testCase.check()
}

@Test func everyOperatorHasCases() {
    for op in ConditionOperator.allCases {
        let n = operatorCases.filter { $0.condition.lowercased().contains("\"\(op.rawValue.lowercased())\":") }.count
        #expect(n >= 5, "\(op.rawValue) has \(n) cases")
    }
}

/// Non-ASCII text is compared with invariant case folding.
@Test func conditionUnicodeCaseFolding() throws {
    let record = conditionRecord(#"{"properties": {"scope": "ÄRGER", "namespace": "Ünïcode-1"}}"#)
    for (text, expected) in [
        (#"{"field": "\#(scope)", "equals": "ärger"}"#, true),
        (#"{"field": "\#(scope)", "like": "ä*"}"#, true),
        (##"{"field": "\##(namespace)", "match": "???????-#"}"##, true),
        (#"{"field": "\#(namespace)", "match": "ünïcode-1"}"#, false),
        (#"{"field": "\#(namespace)", "matchInsensitively": "ünïcode-1"}"#, true),
    ] {
        let result = try evaluateCondition(text, on: record)
        #expect(result.matched == expected, "\(text)")
    }
}
