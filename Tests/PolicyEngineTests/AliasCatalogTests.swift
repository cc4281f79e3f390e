import FleetCore
import PolicyEngine
import Testing

/// A field, the path it must resolve to, and the value it must read in a record (JSON text, nil when missing).
struct AliasCase: Sendable, CustomTestStringConvertible {
    var field: String
    var path: String
    var type: String
    var record: String
    var expected: String?

    init(_ field: String, _ path: String, type: String, record: String, _ expected: String?) {
        self.field = field
        self.path = path
        self.type = type
        self.record = record
        self.expected = expected
    }

    var testDescription: String { field }
}

private let managedRecord = """
    {"id": "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks-01",
     "name": "aks-01", "type": "Microsoft.ContainerService/managedClusters", "location": "eastus2",
     "sku": {"name": "Base", "tier": "Standard"},
     "properties": {"kubernetesVersion": "1.29.2", "enableRBAC": true,
       "agentPoolProfiles": [{"name": "system", "vmSize": "Standard_D4s_v5", "count": 3},
                             {"name": "user", "vmSize": "Standard_D8s_v5", "count": 5}],
       "addonProfiles": {"azurepolicy": {"enabled": true}}}}
    """

private let connectedRecord = """
    {"name": "arc-01", "type": "microsoft.kubernetes/connectedclusters", "location": "westeurope",
     "properties": {"distribution": "k3s", "connectivityStatus": "Connected", "totalNodeCount": 4,
       "aadProfile": {"tenantId": "t1"}}}
    """

/// Resource Graph returns extension properties in PascalCase.
private let extensionRecord = """
    {"name": "flux", "type": "microsoft.kubernetesconfiguration/extensions",
     "properties": {"ExtensionType": "microsoft.flux", "ProvisioningState": "Succeeded", "ReleaseTrain": "Stable",
       "AutoUpgradeMinorVersion": true, "Version": null,
       "ConfigurationSettings": {"helm-controller.enabled": "false"},
       "Statuses": [{"Code": "InstallationSucceeded"}]}}
    """

private let sourceControlRecord = """
    {"name": "cfg-v1", "type": "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
     "properties": {"repositoryUrl": "git@github.com:org/repo.git", "operatorParams": "--git-readonly --git-path=x",
       "enableHelmOperator": false, "helmOperatorProperties": {"chartVersion": "1.2.0"},
       "complianceStatus": {"complianceState": "Installed", "lastConfigApplied": "2024-01-01T00:00:00Z"}}}
    """

private let aliasCases: [AliasCase] = [
    // Built-in fields.
    AliasCase("name", "name", type: ConditionTypes.flux, record: fluxRecordText, #""cfg""#),
    AliasCase("Name", "name", type: ConditionTypes.flux, record: fluxRecordText, #""cfg""#),
    AliasCase("fullName", "fullName", type: ConditionTypes.flux, record: fluxRecordText, #""cfg""#),
    AliasCase(
        "type", "type", type: ConditionTypes.flux, record: fluxRecordText,
        #""microsoft.kubernetesconfiguration/fluxconfigurations""#),
    AliasCase("location", "location", type: ConditionTypes.flux, record: fluxRecordText, #""westeurope""#),
    AliasCase("kind", "kind", type: ConditionTypes.flux, record: fluxRecordText, #""Flux""#),
    AliasCase(
        "identity.type", "identity.type", type: ConditionTypes.flux, record: fluxRecordText, #""SystemAssigned""#),
    AliasCase("tags['Env']", "tags.Env", type: ConditionTypes.flux, record: fluxRecordText, #""Prod""#),
    AliasCase("tags[env]", "tags.env", type: ConditionTypes.flux, record: fluxRecordText, #""Prod""#),
    AliasCase("tags.ENV", "tags.ENV", type: ConditionTypes.flux, record: fluxRecordText, #""Prod""#),
    AliasCase(
        "tags['cost.center']", "tags['cost.center']", type: ConditionTypes.flux, record: fluxRecordText, #""42""#),
    AliasCase("tags.cost.center", "tags['cost.center']", type: ConditionTypes.flux, record: fluxRecordText, #""42""#),
    AliasCase("tags['missing']", "tags.missing", type: ConditionTypes.flux, record: fluxRecordText, nil),
    AliasCase("kind", "kind", type: ConditionTypes.managed, record: managedRecord, nil),
    AliasCase("location", "location", type: ConditionTypes.managed, record: managedRecord, #""eastus2""#),
    // fluxConfigurations, including the httpsCAFile decision.
    AliasCase(
        fluxAlias("gitRepository.url"), "properties.gitRepository.url", type: ConditionTypes.flux,
        record: fluxRecordText, #""https://github.com/Org/Repo""#),
    AliasCase(
        fluxAlias("GITREPOSITORY.TimeoutInSeconds"), "properties.GITREPOSITORY.TimeoutInSeconds",
        type: ConditionTypes.flux, record: fluxRecordText, "600"),
    AliasCase(
        fluxAlias("gitRepository.httpsCAFile"), "properties.gitRepository.httpsCACert", type: ConditionTypes.flux,
        record: fluxRecordText, #""Q0VSVA==""#),
    AliasCase(
        fluxAlias("gitRepository.httpsCACert"), "properties.gitRepository.httpsCACert", type: ConditionTypes.flux,
        record: fluxRecordText, #""Q0VSVA==""#),
    AliasCase(
        fluxAlias("gitRepository.repositoryRef.tag"), "properties.gitRepository.repositoryRef.tag",
        type: ConditionTypes.flux, record: fluxRecordText, nil),
    AliasCase(
        fluxAlias("statuses[*].name"), "properties.statuses[*].name", type: ConditionTypes.flux,
        record: fluxRecordText, #"["infra", "apps", "flux-system"]"#),
    AliasCase(
        fluxAlias("statuses[*].statusConditions[*].type"), "properties.statuses[*].statusConditions[*].type",
        type: ConditionTypes.flux, record: fluxRecordText, #"["Ready", "Ready", "Reconciling"]"#),
    AliasCase(
        fluxAlias("statuses[*].statusConditions"), "properties.statuses[*].statusConditions",
        type: ConditionTypes.flux, record: fluxRecordText,
        #"[[{"status": "True", "type": "Ready"}], [{"status": "False", "type": "Ready"},"#
            + #"{"status": "True", "type": "Reconciling"}], null]"#),
    AliasCase(
        fluxAlias("ociRepository.verify.matchOidcIdentity[*].issuer"),
        "properties.ociRepository.verify.matchOidcIdentity[*].issuer", type: ConditionTypes.flux,
        record: fluxRecordText, "[]"),
    // An alias of another type than the record's is missing.
    AliasCase(
        fluxAlias("scope"), "properties.scope", type: ConditionTypes.extensions, record: fluxRecordText, nil),
    // extensions, PascalCase in the record.
    AliasCase(
        ConditionTypes.extensions + "/extensionType", "properties.extensionType", type: ConditionTypes.extensions,
        record: extensionRecord, #""microsoft.flux""#),
    AliasCase(
        ConditionTypes.extensions + "/autoUpgradeMinorVersion", "properties.autoUpgradeMinorVersion",
        type: ConditionTypes.extensions, record: extensionRecord, "true"),
    AliasCase(
        ConditionTypes.extensions + "/version", "properties.version", type: ConditionTypes.extensions,
        record: extensionRecord, nil),
    AliasCase(
        ConditionTypes.extensions + "/configurationSettings['helm-controller.enabled']",
        "properties.configurationSettings['helm-controller.enabled']", type: ConditionTypes.extensions,
        record: extensionRecord, #""false""#),
    AliasCase(
        ConditionTypes.extensions + "/statuses[*].code", "properties.statuses[*].code",
        type: ConditionTypes.extensions, record: extensionRecord, #"["InstallationSucceeded"]"#),
    // sourceControlConfigurations, with the two nested compliance aliases.
    AliasCase(
        ConditionTypes.sourceControl + "/operatorParams", "properties.operatorParams",
        type: ConditionTypes.sourceControl, record: sourceControlRecord, #""--git-readonly --git-path=x""#),
    AliasCase(
        ConditionTypes.sourceControl + "/helmOperatorProperties.chartVersion",
        "properties.helmOperatorProperties.chartVersion", type: ConditionTypes.sourceControl,
        record: sourceControlRecord, #""1.2.0""#),
    AliasCase(
        ConditionTypes.sourceControl + "/complianceState", "properties.complianceStatus.complianceState",
        type: ConditionTypes.sourceControl, record: sourceControlRecord, #""Installed""#),
    AliasCase(
        ConditionTypes.sourceControl + "/lastConfigApplied", "properties.complianceStatus.lastConfigApplied",
        type: ConditionTypes.sourceControl, record: sourceControlRecord, #""2024-01-01T00:00:00Z""#),
    // managedClusters.
    AliasCase(
        ConditionTypes.managed + "/agentPoolProfiles[*].vmSize", "properties.agentPoolProfiles[*].vmSize",
        type: ConditionTypes.managed, record: managedRecord, #"["Standard_D4s_v5", "Standard_D8s_v5"]"#),
    AliasCase(
        ConditionTypes.managed + "/agentPoolProfiles[*]", "properties.agentPoolProfiles[*]",
        type: ConditionTypes.managed, record: managedRecord,
        #"[{"name": "system", "vmSize": "Standard_D4s_v5", "count": 3},"#
            + #"{"name": "user", "vmSize": "Standard_D8s_v5", "count": 5}]"#),
    AliasCase(
        ConditionTypes.managed + "/kubernetesVersion", "properties.kubernetesVersion", type: ConditionTypes.managed,
        record: managedRecord, #""1.29.2""#),
    AliasCase(
        ConditionTypes.managed + "/addonProfiles.azurepolicy.enabled", "properties.addonProfiles.azurepolicy.enabled",
        type: ConditionTypes.managed, record: managedRecord, "true"),
    AliasCase(
        ConditionTypes.managed + "/sku.tier", "sku.tier", type: ConditionTypes.managed, record: managedRecord,
        #""Standard""#),
    AliasCase(
        ConditionTypes.managed + "/networkProfile.networkPlugin", "properties.networkProfile.networkPlugin",
        type: ConditionTypes.managed, record: managedRecord, nil),
    // connectedClusters.
    AliasCase(
        ConditionTypes.connected + "/distribution", "properties.distribution", type: ConditionTypes.connected,
        record: connectedRecord, #""k3s""#),
    AliasCase(
        ConditionTypes.connected + "/aadProfile.tenantId", "properties.aadProfile.tenantId",
        type: ConditionTypes.connected, record: connectedRecord, #""t1""#),
    AliasCase(
        ConditionTypes.connected + "/totalNodeCount", "properties.totalNodeCount", type: ConditionTypes.connected,
        record: connectedRecord, "4"),
    AliasCase(
        ConditionTypes.connected + "/totalNodeCount", "properties.totalNodeCount", type: ConditionTypes.managed,
        record: connectedRecord, nil),
    // An alias of an unmodelled namespace resolves but is always missing.
    AliasCase(
        "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
        "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly",
        type: ConditionTypes.flux, record: fluxRecordText, nil),
]

@Test("alias resolution", arguments: aliasCases)
func aliasResolution(_ testCase: AliasCase) throws {
    let reference = try #require(AliasCatalog.resolve(testCase.field))
    #expect(reference.path == testCase.path)
    let value = reference.value(in: conditionRecord(testCase.record), resourceType: testCase.type)
    switch (value, testCase.expected) {
    case (.missing, nil):
        break
    case (.value(let json), let expected?):
        #expect(json == expressionJSON(expected))
        #expect(!reference.isCollection)
    case (.collection(let members), let expected?):
        #expect(.array(members) == expressionJSON(expected))
        #expect(reference.isCollection)
    default:
        Issue.record("\(testCase.field): got \(value), expected \(testCase.expected ?? "missing")")
    }
}

@Test func aliasFullNameOfNestedResources() {
    let record = conditionRecord(
        #"{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Sql/servers/srv/databases/db1","#
            + #" "name": "db1"}"#)
    #expect(
        AliasCatalog.value(of: "fullName", in: record, resourceType: "Microsoft.Sql/servers/databases")
            == .value(.string("srv/db1")))
    let noID = conditionRecord(#"{"name": "solo"}"#)
    #expect(AliasCatalog.value(of: "fullname", in: noID, resourceType: "x") == .value(.string("solo")))
}

@Test func aliasLocationIsNormalised() throws {
    let record = conditionRecord(#"{"location": "East US 2"}"#)
    #expect(AliasCatalog.value(of: "location", in: record, resourceType: "x") == .value(.string("eastus2")))
    for target in ["eastus2", "East US 2", "EASTUS2"] {
        let result = try evaluateCondition(#"{"field": "location", "equals": "\#(target)"}"#, on: record)
        #expect(result.matched, "\(target)")
    }
    let inList = try evaluateCondition(#"{"field": "location", "in": ["West Europe", "East US 2"]}"#, on: record)
    #expect(inList.matched)
}

/// Fields that are neither built-in nor alias-shaped do not resolve.
@Test(arguments: ["", "nmae", "properties.scope", "tags", "tags.", "tags[]", "Microsoft.Foo", "a/b/c"])
func aliasUnresolvable(_ field: String) {
    if field == "tags" {
        #expect(AliasCatalog.resolve(field) != nil)
    } else {
        #expect(AliasCatalog.resolve(field) == nil, "\(field)")
    }
}

@Test(arguments: [
    fluxAlias("gitRepository..url"), fluxAlias("gitRepository.url."), fluxAlias("[*]"), fluxAlias(""),
    fluxAlias("statuses[*"), fluxAlias("statuses['x"),
])
func aliasMalformedPath(_ field: String) {
    #expect(AliasCatalog.resolve(field) == nil, "\(field)")
}

struct KnownCase: Sendable, CustomTestStringConvertible {
    var field: String
    var known: Bool
    var suggestion: String?
    var testDescription: String { field }
}

private let knownCases: [KnownCase] = [
    KnownCase(field: "name", known: true),
    KnownCase(field: "FullName", known: true),
    KnownCase(field: "tags['env']", known: true),
    KnownCase(field: "tags.env", known: true),
    KnownCase(field: "identity.type", known: true),
    KnownCase(field: fluxAlias("gitRepository.url"), known: true),
    KnownCase(field: fluxAlias("GitRepository.URL"), known: true),
    KnownCase(field: fluxAlias("gitRepository.httpsCAFile"), known: true),
    KnownCase(field: ConditionTypes.extensions + "/extensionType", known: true),
    KnownCase(field: ConditionTypes.sourceControl + "/complianceState", known: true),
    KnownCase(field: ConditionTypes.connected + "/connectivityStatus", known: true),
    KnownCase(field: ConditionTypes.managed + "/agentPoolProfiles[*].vmSize", known: true),
    KnownCase(field: "nmae", known: false, suggestion: "name"),
    KnownCase(field: "locaton", known: false, suggestion: "location"),
    KnownCase(field: fluxAlias("gitRepository.urll"), known: false, suggestion: fluxAlias("gitRepository.url")),
    KnownCase(
        field: fluxAlias("gitRepository.httpsCAFiles"), known: false, suggestion: fluxAlias("gitRepository.httpsCAFile")
    ),
    KnownCase(
        field: ConditionTypes.extensions + "/extensionTyp", known: false,
        suggestion: ConditionTypes.extensions + "/extensionType"),
    KnownCase(
        field: ConditionTypes.managed + "/agentPoolProfiles[*].vmSzie", known: false,
        suggestion: ConditionTypes.managed + "/agentPoolProfiles[*].vmSize"),
    KnownCase(field: fluxAlias("somethingElseEntirely"), known: false, suggestion: nil),
    KnownCase(field: "Microsoft.Storage/storageAccounts/supportsHttpsTrafficOnly", known: false, suggestion: nil),
]

@Test("isKnown and suggestions", arguments: knownCases)
func aliasKnown(_ testCase: KnownCase) {
    let (known, suggestion) = AliasCatalog.isKnown(testCase.field)
    #expect(known == testCase.known)
    #expect(suggestion == testCase.suggestion)
}

@Test func aliasKnownTablesCoverEveryType() throws {
    for type in AliasCatalog.supportedTypes {
        let names = try #require(AliasCatalog.knownAliases(of: type))
        #expect(names.count >= 18, "\(type)")
        for name in names {
            #expect(AliasCatalog.isKnown(name).known, "\(name)")
            let reference = try #require(AliasCatalog.resolve(name), "\(name)")
            #expect(reference.resourceType == type)
        }
    }
    #expect(AliasCatalog.knownAliases(of: "microsoft.kubernetesconfiguration/FLUXCONFIGURATIONS") != nil)
    #expect(AliasCatalog.knownAliases(of: "Microsoft.Storage/storageAccounts") == nil)
}

/// The httpsCAFile decision, end to end: the CA-cert built-in's check is satisfiable.
@Test func aliasHttpsCAFileReadsHttpsCACert() throws {
    let condition = #"{"field": "\#(fluxAlias("gitRepository.httpsCAFile"))", "equals": "Q0VSVA=="}"#
    #expect(try evaluateCondition(condition).matched)
    let withoutCert = conditionRecord(#"{"properties": {"gitRepository": {"httpsCAFile": "Q0VSVA=="}}}"#)
    #expect(try !evaluateCondition(condition, on: withoutCert).matched)
}

/// Extension properties in PascalCase (as Resource Graph returns them) satisfy the Flux extension built-in.
@Test func aliasPascalCaseExtensionRecord() throws {
    let prefix = ConditionTypes.extensions + "/"
    let condition = """
        {"allOf": [
          {"field": "\(prefix)extensionType", "equals": "microsoft.flux"},
          {"field": "\(prefix)provisioningState", "equals": "Succeeded"},
          {"field": "\(prefix)releaseTrain", "equals": "stable"},
          {"field": "\(prefix)autoUpgradeMinorVersion", "equals": true},
          {"anyOf": [
            {"allOf": [
              {"field": "\(prefix)autoUpgradeMinorVersion", "equals": "false"},
              {"field": "\(prefix)version", "equals": ""}]},
            {"field": "\(prefix)autoUpgradeMinorVersion", "equals": "true"}]}]}
        """
    let result = try evaluateCondition(condition, on: conditionRecord(extensionRecord), type: ConditionTypes.extensions)
    #expect(result.matched)
    #expect(result.error == nil)
}
