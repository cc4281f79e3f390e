import FleetCore
import PolicyEngine
import Testing

@Suite("Loading: documents, ids and scopes")
struct LoadingDocumentTests {
    @Test("an envelope definition is read with its parameters, rule and metadata")
    func envelopeDefinition() throws {
        let result = loadTestPolicies(["definitions/flux.json": loadingDefinition()])
        expectNoLoadingProblems(result)
        let definition = try #require(
            result.bundle.definition(id: "/providers/microsoft.authorization/policydefinitions/FLUX-CONFIG"))
        #expect(definition.id == "/providers/Microsoft.Authorization/policyDefinitions/flux-config")
        #expect(definition.name == "flux-config")
        #expect(definition.displayName == "Configure Flux")
        #expect(definition.mode == "Indexed")
        #expect(definition.category == "Kubernetes")
        #expect(definition.source == PolicySource(file: "definitions/flux.json", path: "$.properties"))
        #expect(definition.condition["field"] == .string("type"))
        #expect(definition.then["effect"] == .string("[parameters('effect')]"))
        let effect = try #require(definition.parameters["EFFECT"])
        #expect(effect.type == .string)
        #expect(effect.defaultValue == .string("DeployIfNotExists"))
        #expect(effect.allowedValues?.count == 3)
        #expect(effect.displayName == "Effect")
        #expect(effect.source.path == "$.properties.parameters.effect")
        #expect(definition.parameters["repositoryTimeout"]?.type == .integer)
        #expect(definition.parameters["repositoryUrl"]?.isRequired == true)
        #expect(definition.parameters["keyVaultSecret"]?.strongType == "Microsoft.KeyVault/vaults")
        #expect(definition.parameters.all.map(\.name).first == "effect")
    }

    @Test("a bare properties object takes its name from the file and gets the built-in id form")
    func bareDefinition() throws {
        let auditId = "/providers/Microsoft.Authorization/policyDefinitions/audit-x"
        let bare = """
            {"mode": "All", "policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}}}
            """
        let result = loadTestPolicies([
            "definitions/team/audit-x.json": bare,
            "initiatives/set.json": #"{"policyDefinitions": [{"policyDefinitionId": "\#(auditId)"}]}"#,
        ])
        expectNoLoadingProblems(result)
        let definition = try #require(result.bundle.definitions.values.first)
        #expect(definition.name == "audit-x")
        #expect(definition.id == "/providers/Microsoft.Authorization/policyDefinitions/audit-x")
        #expect(definition.source == PolicySource(file: "definitions/team/audit-x.json", path: "$"))
        let initiative = try #require(
            result.bundle.initiative(id: "/providers/Microsoft.Authorization/policySetDefinitions/set"))
        #expect(initiative.name == "set")
        #expect(initiative.definitions.first?.referenceId == "audit-x")
    }

    @Test("a file may hold an array of documents; paths name the element")
    func arrayOfDocuments() throws {
        let result = loadTestPolicies([
            "definitions/many.json": "[\(loadingDefinition(name: "a")), \(loadingDefinition(name: "b"))]"
        ])
        expectNoLoadingProblems(result)
        #expect(result.bundle.definitions.count == 2)
        let b = try #require(result.bundle.definition(id: "/providers/Microsoft.Authorization/policyDefinitions/b"))
        #expect(b.source.path == "$[1].properties")
    }

    @Test("a bare document inside an array has no name and is reported")
    func bareDocumentInArray() {
        let bare = #"{"policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}}}"#
        let result = loadTestPolicies(["definitions/many.json": "[\(loadingDefinition(name: "a")), \(bare)]"])
        expectLoadingProblem(
            result, "definitions/many.json", "$[1]", "needs a 'name' or an 'id'", suggestion: "properties")
        #expect(result.bundle.definitions.count == 1)
    }

    @Test("an envelope without a name takes the id's last segment")
    func nameFromId() throws {
        let document = """
            {"id": "/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/custom-1",
             "properties": {"policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "Audit"}}}}
            """
        let result = loadTestPolicies(["definitions/x.json": document])
        expectNoLoadingProblems(result)
        let definition = try #require(
            result.bundle.definition(
                id: "/subscriptions/s/providers/Microsoft.Authorization/policyDefinitions/custom-1"))
        #expect(definition.name == "custom-1")
    }

    @Test("initiatives: reference ids default to the definition name; parameters and groups are kept")
    func initiative() throws {
        let initiative = """
            {
              "name": "flux-baseline",
              "properties": {
                "displayName": "Flux baseline",
                "parameters": {"effect": {"type": "string", "defaultValue": "DeployIfNotExists"},
                               "repo": {"type": "string"}},
                "policyDefinitionGroups": [{"name": "gitops"}],
                "policyDefinitions": [
                  {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
                   "parameters": {"effect": {"value": "[parameters('effect')]"},
                                  "repositoryUrl": {"value": "[parameters('repo')]"}},
                   "groupNames": ["GitOps"]},
                  {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
                   "policyDefinitionReferenceId": "second",
                   "parameters": {"repositoryUrl": {"value": "https://example.com/other"}}}
                ]
              }
            }
            """
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(), "initiatives/baseline.json": initiative,
        ])
        expectNoLoadingProblems(result)
        let set = try #require(
            result.bundle.initiative(id: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline"))
        #expect(set.displayName == "Flux baseline")
        #expect(set.parameters["repo"]?.isRequired == true)
        #expect(set.definitions.map(\.referenceId) == ["flux-config", "second"])
        #expect(set.definitions[0].groupNames == ["GitOps"])
        #expect(set.definitions[0].parameters["effect"] == .object(["value": .string("[parameters('effect')]")]))
        #expect(set.definitions[1].source.path == "$.properties.policyDefinitions[1]")
        #expect(set.source.path == "$.properties")
    }

    @Test("assignment scope: properties.scope, else the id before /providers/Microsoft.Authorization/")
    func assignmentScope() throws {
        let byScope = """
            {"name": "by-scope", "properties": {"scope": "/subscriptions/sub-2/resourceGroups/rg-1",
             "policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
             "parameters": {"repositoryUrl": {"value": "u"}}}}
            """
        let bare = """
            {"scope": "/subscriptions/sub-3/", "policyDefinitionId": "\(loadingFluxDefinitionId)",
             "parameters": {"repositoryUrl": {"value": "u"}}}
            """
        let mg = """
            {"id": "/providers/Microsoft.Management/managementGroups/mg-1\(authorization)/policyAssignments/mg-flux",
             "properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
             "parameters": {"repositoryUrl": {"value": "u"}}}}
            """
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(),
            "assignments/a.json": loadingAssignment(), "assignments/b.json": byScope,
            "assignments/c.json": bare, "assignments/d.json": mg,
        ])
        expectNoLoadingProblems(result)
        let assignments = result.bundle.assignments
        #expect(assignments.map(\.name) == ["flux-prod", "by-scope", "c", "mg-flux"])
        #expect(
            assignments.map(\.scope) == [
                "/subscriptions/sub-1", "/subscriptions/sub-2/resourceGroups/rg-1", "/subscriptions/sub-3/",
                "/providers/Microsoft.Management/managementGroups/mg-1",
            ])
        #expect(
            assignments[1].id
                == "/subscriptions/sub-2/resourceGroups/rg-1\(authorization)/policyAssignments/by-scope"
        )
        #expect(assignments[2].id == "/subscriptions/sub-3/providers/Microsoft.Authorization/policyAssignments/c")
        #expect(assignments[2].source.path == "$")
    }

    @Test("assignment options: notScopes, enforcementMode, selectors, overrides, messages")
    func assignmentOptions() throws {
        let extra = """
            ,
            "displayName": "Flux in prod",
            "notScopes": ["/subscriptions/sub-1/resourceGroups/rg-lab"],
            "enforcementMode": "doNotEnforce",
            "resourceSelectors": [{"name": "eu", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}],
            "overrides": [{"kind": "policyEffect", "value": "AuditIfNotExists",
                           "selectors": [{"kind": "ResourceLocation", "notIn": ["eastus"]}]}],
            "nonComplianceMessages": [{"message": "Flux must be configured"}]
            """
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(), "assignments/a.json": loadingAssignment(extra: extra),
        ])
        expectNoLoadingProblems(result)
        let assignment = try #require(result.bundle.assignments.first)
        #expect(assignment.displayName == "Flux in prod")
        #expect(assignment.notScopes == ["/subscriptions/sub-1/resourceGroups/rg-lab"])
        #expect(assignment.enforcementMode == .doNotEnforce)
        #expect(assignment.resourceSelectors.first?.name == "eu")
        #expect(assignment.resourceSelectors.first?.selectors.first?.in == ["westeurope"])
        #expect(assignment.overrides.first?.kind == "policyEffect")
        #expect(assignment.overrides.first?.value == "AuditIfNotExists")
        #expect(assignment.overrides.first?.selectors.first?.kind == "resourceLocation")
        #expect(assignment.overrides.first?.selectors.first?.notIn == ["eastus"])
        #expect(assignment.nonComplianceMessages == ["": "Flux must be configured"])
        #expect(assignment.parameters["repositoryUrl"] == .object(["value": .string("https://github.com/org/fleet")]))

        let plain = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(), "assignments/a.json": loadingAssignment(),
        ])
        #expect(plain.bundle.assignments.first?.enforcementMode == .default)
    }

    @Test("exemption scope is the id before /providers/Microsoft.Authorization/policyExemptions/")
    func exemptionScope() throws {
        let cluster =
            "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ContainerService/managedClusters/aks-1"
        let exemption = """
            [{"id": "\(cluster)\(authorization)/policyExemptions/aks-1-waiver",
              "properties": {"policyAssignmentId": "/SUBSCRIPTIONS/sub-1\(authorization)/policyAssignments/flux-prod",
                             "exemptionCategory": "waiver", "expiresOn": "2030-01-01T00:00:00Z"}},
             {"name": "rg-mitigated",
              "properties": {"scope": "/subscriptions/sub-1/resourceGroups/rg-2",
                             "policyAssignmentId": "\(loadingFluxAssignmentId)",
                             "exemptionCategory": "Mitigated"}}]
            """
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(), "assignments/a.json": loadingAssignment(),
            "exemptions/e.json": exemption,
        ])
        expectNoLoadingProblems(result)
        let exemptions = result.bundle.exemptions
        #expect(exemptions.count == 2)
        #expect(
            exemptions[0].scope == cluster)
        #expect(exemptions[0].name == "aks-1-waiver")
        #expect(exemptions[0].category == .waiver)
        #expect(exemptions[0].expiresOn == "2030-01-01T00:00:00Z")
        #expect(exemptions[0].policyDefinitionReferenceIds.isEmpty)
        #expect(exemptions[1].scope == "/subscriptions/sub-1/resourceGroups/rg-2")
        #expect(
            exemptions[1].id
                == "/subscriptions/sub-1/resourceGroups/rg-2\(authorization)/policyExemptions/rg-mitigated"
        )
        #expect(exemptions[1].category == .mitigated)
        #expect(exemptions[1].source.path == "$[1].properties")
    }

    @Test("other files are ignored; folders are read recursively in path order")
    func layout() {
        let directory = LoadingPolicyDirectory([
            "README.md": "# policies",
            "rollout.json": "{ not even json",
            "definitions/README.md": "notes",
            "definitions/.draft.json": "{ broken",
            "definitions/b/second.json": loadingDefinition(name: "second"),
            "definitions/a.json": loadingDefinition(name: "first"),
            "notes/extra.json": "{ broken",
        ])
        let result = directory.load()
        expectNoLoadingProblems(result)
        #expect(result.bundle.definitions.count == 2)
        directory.write("definitions/a.json", "{ broken")
        directory.write("definitions/b/second.json", "[1]")
        let broken = directory.load()
        #expect(broken.diagnostics.map(\.source.file) == ["definitions/a.json", "definitions/b/second.json"])
    }

    @Test("the digest is FNV-1a over paths and bytes: stable, and changed by any byte")
    func digest() {
        let directory = LoadingPolicyDirectory(["definitions/a.json": loadingDefinition()])
        let first = directory.load().bundle.digest
        #expect(first.count == 16)
        #expect(first.allSatisfy { $0.isHexDigit })
        #expect(directory.load().bundle.digest == first)
        directory.write("definitions/a.json", loadingDefinition() + " ")
        #expect(directory.load().bundle.digest != first)
        directory.write("definitions/a.json", loadingDefinition())
        directory.write("README.md", "ignored")
        #expect(directory.load().bundle.digest == first)
        let empty = loadTestPolicies([:])
        #expect(empty.bundle.digest == "cbf29ce484222325")
        #expect(empty.diagnostics.first?.severity == .warning)
        #expect(empty.diagnostics.first?.message.contains("no policy documents") == true)
    }

    @Test("a missing directory is one error")
    func missingDirectory() {
        let result = PolicyLoader.load(directory: "/nonexistent/policies-\(UInt64.random(in: 0...UInt64.max))")
        #expect(result.hasErrors)
        #expect(result.diagnostics.count == 1)
    }

    @Test("ids compare ignoring case across documents")
    func idsIgnoreCase() {
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(),
            "assignments/a.json": loadingAssignment(
                definition: "/PROVIDERS/microsoft.authorization/policyDefinitions/Flux-Config"),
        ])
        expectNoLoadingProblems(result)
    }
}

/// The provider of policy resources, as ids spell it.
private let authorization = "/providers/Microsoft.Authorization"
