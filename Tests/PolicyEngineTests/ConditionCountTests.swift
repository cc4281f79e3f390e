import FleetCore
import PolicyEngine
import Testing

private typealias C = ConditionCase

private let pools = ConditionTypes.managed + "/agentPoolProfiles[*]"
private let vmSize = ConditionTypes.managed + "/agentPoolProfiles[*].vmSize"
private let poolCount = ConditionTypes.managed + "/agentPoolProfiles[*].count"
private let zones = ConditionTypes.managed + "/agentPoolProfiles[*].availabilityZones[*]"

private let clusterRecord = """
    {"name": "aks-01", "type": "Microsoft.ContainerService/managedClusters",
     "properties": {"agentPoolProfiles": [
       {"name": "system", "vmSize": "Standard_D4s_v5", "count": 3, "availabilityZones": ["1", "2"]},
       {"name": "user", "vmSize": "standard_d4s_v5", "count": 5, "availabilityZones": ["1", "2", "3"]},
       {"name": "spot", "vmSize": "Standard_D4s_v5", "count": 0}]}}
    """
private let emptyPools = #"{"properties": {"agentPoolProfiles": []}}"#
private let noPools = #"{"properties": {}}"#
private let mixedPools = #"{"properties": {"agentPoolProfiles": [{"vmSize": "Standard_D4s_v5"}, {"vmSize": "B2s"}]}}"#
private let oneWithoutSize = #"{"properties": {"agentPoolProfiles": [{"vmSize": "Standard_D4s_v5"}, {"name": "x"}]}}"#

private func onCluster(_ condition: String, _ expected: Bool?, _ record: String = clusterRecord) -> ConditionCase {
    C(condition, expected, record: record, type: ConditionTypes.managed)
}

private let collectionCases: [ConditionCase] = [
    // A condition on a [*] field must hold for every member; an empty or missing array satisfies it.
    onCluster(#"{"field": "\#(vmSize)", "equals": "Standard_D4s_v5"}"#, true),
    onCluster(#"{"field": "\#(vmSize)", "equals": "Standard_D4s_v5"}"#, false, mixedPools),
    onCluster(#"{"field": "\#(vmSize)", "equals": "Standard_D4s_v5"}"#, true, emptyPools),
    onCluster(#"{"field": "\#(vmSize)", "equals": "Standard_D4s_v5"}"#, true, noPools),
    onCluster(#"{"field": "\#(vmSize)", "in": "[parameters('sizes')]"}"#, true),
    onCluster(#"{"field": "\#(vmSize)", "notEquals": "B2s"}"#, true),
    onCluster(#"{"field": "\#(vmSize)", "notEquals": "B2s"}"#, false, mixedPools),
    onCluster(#"{"not": {"field": "\#(vmSize)", "notEquals": "B2s"}}"#, true, mixedPools),
    // A member without the property is evaluated as missing.
    onCluster(#"{"field": "\#(vmSize)", "exists": true}"#, false, oneWithoutSize),
    onCluster(#"{"field": "\#(vmSize)", "like": "*"}"#, true, oneWithoutSize),
    onCluster(#"{"field": "\#(poolCount)", "greaterOrEquals": 0}"#, true),
    onCluster(#"{"field": "\#(poolCount)", "greater": 0}"#, false),
    onCluster(#"{"field": "\#(zones)", "in": ["1", "2", "3"]}"#, true),
    onCluster(#"{"field": "\#(zones)", "in": ["1", "2"]}"#, false),
    // Field count without `where`: the number of members.
    onCluster(#"{"count": {"field": "\#(pools)"}, "equals": 3}"#, true),
    onCluster(#"{"count": {"field": "\#(pools)"}, "equals": 0}"#, true, emptyPools),
    onCluster(#"{"count": {"field": "\#(pools)"}, "equals": 0}"#, true, noPools),
    onCluster(#"{"count": {"field": "\#(zones)"}, "equals": 5}"#, true),
    onCluster(#"{"count": {"field": "\#(pools)"}, "greater": "[length(parameters('sizes'))]"}"#, true),
    onCluster(#"{"count": {"field": "\#(pools)"}, "in": [1, 2, "3"]}"#, true),
    // Field count with `where`: members for which it holds, evaluated as if each were the only member.
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"field": "\#(vmSize)", "equals": "STANDARD_D4S_V5"}},"#
            + #" "equals": 3}"#,
        true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"field": "\#(poolCount)", "greater": 0}}, "equals": 2}"#, true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"allOf": [{"field": "\#(poolCount)", "greater": 0},"#
            + #"{"field": "\#(pools).name", "notEquals": "system"}]}}, "equals": 1}"#,
        true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"field": "\#(pools).name", "like": "s*"}}, "less": 2}"#, false),
    // `current('<alias[*]>')` and `current()` read the member.
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"value": "[current('\#(pools)').name]", "equals": "user"}},"#
            + #" "equals": 1}"#,
        true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"value": "[current().count]", "greater": 1}}, "equals": 2}"#,
        true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"value": "[current('\#(poolCount)')]", "equals": 0}},"#
            + #" "equals": 1}"#,
        true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"value": "[field('\#(vmSize)')]", "equals": "Standard_D4s_v5"}},"#
            + #" "equals": 3}"#,
        true),
    // Nested field counts: zones of pools with at least three zones.
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"count": {"field": "\#(zones)"}, "greaterOrEquals": 3}},"#
            + #" "equals": 1}"#,
        true),
    onCluster(
        #"{"count": {"field": "\#(pools)", "where": {"count": {"field": "\#(zones)", "where":"#
            + #" {"field": "\#(zones)", "equals": "3"}}, "equals": 1}}, "equals": 1}"#,
        true),
    // Value counts.
    C(#"{"count": {"value": [1, 2, 3]}, "equals": 3}"#, true),
    C(
        #"{"count": {"value": "[parameters('numbers')]", "where": {"value": "[current()]", "greater": 4}},"#
            + #" "equals": 3}"#,
        true),
    C(
        #"{"count": {"value": "[parameters('numbers')]", "name": "n", "where": {"value": "[current('n')]","#
            + #" "in": [1, 20]}}, "equals": 2}"#,
        true),
    C(
        #"{"count": {"value": "[parameters('scopes')]", "name": "s", "where": {"field": "\#(fluxAlias("scope"))","#
            + #" "equals": "[current('s')]"}}, "greater": 0}"#,
        true),
    C(
        #"{"count": {"value": ["a", "b"], "name": "outer", "where": {"count": {"value": ["A", "c"], "name": "inner","#
            + #" "where": {"value": "[current('inner')]", "equals": "[current('outer')]"}}, "equals": 1}},"#
            + #" "equals": 1}"#,
        true),
    C(#"{"count": {"value": []}, "equals": 0}"#, true),
    C(#"{"count": {"value": "[parameters('text')]"}, "equals": 0}"#, nil),
    C(#"{"count": {"value": [1], "where": {"value": "[current('nope')]", "equals": 1}}, "equals": 1}"#, nil),
    C(#"{"count": {"value": [1, 2]}, "less": "2"}"#, nil),
]

@Test("[*] fields and counts", arguments: collectionCases)
func conditionCollections(_ testCase: ConditionCase) throws {
    try testCase.check()
}

@Test func conditionCountReasonReportsTheNumber() throws {
    let result = try evaluateCondition(
        #"{"count": {"field": "\#(pools)", "where": {"field": "\#(poolCount)", "greater": 0}}, "equals": 3}"#,
        on: conditionRecord(clusterRecord), type: ConditionTypes.managed)
    #expect(!result.matched)
    let reason = try #require(result.reasons.first)
    #expect(result.reasons.count == 1)
    #expect(reason.expression == "count(field '\(pools)')")
    #expect(reason.path == "properties.agentPoolProfiles[*]")
    #expect(reason.actual == .int(2))
    #expect(reason.target == .int(3))
    #expect(reason.message == "Current value must be equal to the target value.")
}

@Test func conditionCollectionReasonListsTheMembers() throws {
    let result = try evaluateCondition(
        #"{"field": "\#(vmSize)", "equals": "Standard_D4s_v5"}"#, on: conditionRecord(mixedPools),
        type: ConditionTypes.managed)
    let reason = try #require(result.reasons.first)
    #expect(reason.actual == expressionJSON(#"["Standard_D4s_v5", "B2s"]"#))
    #expect(reason.path == "properties.agentPoolProfiles[*].vmSize")
}
