import FleetCore
import Foundation
import PolicyEngine
import Testing

@Suite("Loading: validation")
struct LoadingValidationTests {
    private let flux = "definitions/flux.json"

    @Test("malformed JSON is reported with line, column and path")
    func malformedJSON() throws {
        let result = loadTestPolicies([flux: "{\n  \"properties\": {\n    \"mode\": \"All\",,\n  }\n}"])
        let problem = try #require(result.diagnostics.first)
        #expect(result.diagnostics.count == 1)
        #expect(problem.source.file == flux)
        #expect(problem.source.path == "$.properties")
        #expect(problem.message.contains("invalid JSON at line 3, column"))
    }

    @Test("a document that is not an object is reported")
    func notAnObject() {
        expectLoadingProblem(
            loadTestPolicies([flux: "\"text\""]), flux, "$", "expected a policy definition (a JSON object)")
    }

    @Test("missing policyRule, if, then and effect are reported where they belong")
    func missingRuleParts() {
        let noRule = loadTestPolicies([flux: #"{"name": "x", "properties": {"mode": "All"}}"#])
        expectLoadingProblem(noRule, flux, "$.properties", "missing required member 'policyRule'")
        #expect(noRule.bundle.definitions.isEmpty)

        let typo = loadTestPolicies([flux: #"{"name": "x", "properties": {"polcyRule": {}}}"#])
        expectLoadingProblem(
            typo, flux, "$.properties", "missing required member 'policyRule'", suggestion: "found 'polcyRule'")

        let noIfThen = loadTestPolicies([flux: #"{"name": "x", "properties": {"policyRule": {}}}"#])
        expectLoadingProblem(noIfThen, flux, "$.properties.policyRule", "missing required member 'if'")
        expectLoadingProblem(noIfThen, flux, "$.properties.policyRule", "missing required member 'then'")

        let noEffect = loadTestPolicies([
            flux: loadingDefinition(rule: #"{"if": {"field": "type", "equals": "x"}, "then": {}}"#)
        ])
        expectLoadingProblem(noEffect, flux, "$.properties.policyRule.then", "missing required member 'effect'")

        let initiative = loadTestPolicies(["definitions/set.json": #"{"policyDefinitions": []}"#])
        expectLoadingProblem(
            initiative, "definitions/set.json", "$", "missing required member 'policyRule'",
            suggestion: "move it to initiatives/")
    }

    @Test("an unknown literal effect is reported with a near miss")
    func unknownEffect() {
        let result = loadTestPolicies([
            flux: loadingDefinition(rule: #"{"if": {"field": "type", "equals": "x"}, "then": {"effect": "audt"}}"#)
        ])
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.then.effect", "unknown effect 'audt'", suggestion: "'audit'")
    }

    @Test("an unknown parameter type is reported; type names ignore case")
    func unknownParameterType() {
        let result = loadTestPolicies([
            flux: loadingDefinition(parameters: #"{"a": {"type": "strng"}, "b": {"type": "BOOLEAN"}}"#, rule: audit)
        ])
        expectLoadingProblem(
            result, flux, "$.properties.parameters.a.type", "unknown parameter type 'strng'",
            suggestion: "did you mean 'string'?")
        #expect(result.diagnostics.count == 1, "\(loadingDiagnosticsText(result))")
    }

    @Test("a defaultValue of the wrong type or outside allowedValues is reported")
    func badDefaults() {
        let parameters = """
            {"timeout": {"type": "integer", "defaultValue": "600"},
             "effect": {"type": "string", "allowedValues": ["Audit", "Disabled"], "defaultValue": "audit"},
             "list": {"type": "array", "allowedValues": ["a", "b"], "defaultValue": ["a", "c"]},
             "ok": {"type": "float", "defaultValue": 1}}
            """
        let result = loadTestPolicies([flux: loadingDefinition(parameters: parameters, rule: audit)])
        expectLoadingProblem(
            result, flux, "$.properties.parameters.timeout.defaultValue", "must be an integer",
            suggestion: "without quotes")
        expectLoadingProblem(
            result, flux, "$.properties.parameters.effect.defaultValue", "is not one of the allowedValues",
            suggestion: "compared case-sensitively: did you mean 'Audit'?")
        expectLoadingProblem(result, flux, "$.properties.parameters.list.defaultValue", "an element of")
        #expect(result.diagnostics.count == 3, "\(loadingDiagnosticsText(result))")
    }

    @Test("expressions that do not parse or call unknown functions are reported at their path")
    func badExpressions() {
        let rule = """
            {"if": {"allOf": [
                {"value": "[concat('a', ]", "equals": "a"},
                {"value": "[toLowr(field('name'))]", "equals": "a"},
                {"value": "[if(true(), 'a')]", "equals": "a"}]},
             "then": {"effect": "audit"}}
            """
        let result = loadTestPolicies([flux: loadingDefinition(rule: rule)])
        expectLoadingProblem(result, flux, "$.properties.policyRule.if.allOf[0].value", "invalid expression")
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.if.allOf[1].value", "unknown function 'toLowr'",
            suggestion: "did you mean 'toLower'?")
        expectLoadingProblem(result, flux, "$.properties.policyRule.if.allOf[2].value", "'if' expects 3 arguments")
    }

    @Test("parameters('x') must name a declared parameter (ignoring case); near misses are suggested")
    func undeclaredParameter() {
        let rule = """
            {"if": {"allOf": [
                {"field": "name", "equals": "[parameters('repositoryURL')]"},
                {"field": "name", "equals": "[parameters('repositoryUrll')]"},
                {"field": "name", "equals": "[variables('x')]"}]},
             "then": {"effect": "[parameters('effect')]"}}
            """
        let result = loadTestPolicies([flux: loadingDefinition(rule: rule)])
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.if.allOf[1].equals", "parameter 'repositoryUrll' is not declared",
            suggestion: "did you mean 'repositoryUrl'?")
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.if.allOf[2].equals", "'variables' cannot be used here")
        #expect(result.diagnostics.count == 2, "\(loadingDiagnosticsText(result))")
    }

    @Test("a deployment template's expressions use the template's parameters and variables")
    func templateScope() {
        let broken = loadingRule.replacing("[parameters('url')]", with: "[parameters('urls')]")
            .replacing("variables('prefix')", with: "variables('prefx')")
        let result = loadTestPolicies([flux: loadingDefinition(rule: broken)])
        let template = "$.properties.policyRule.then.details.deployment.properties.template"
        expectLoadingProblem(
            result, flux, template + ".resources[0].properties.gitRepository.url",
            "parameter 'urls' is not declared in the deployment template's parameters",
            suggestion: "did you mean 'url'?")
        expectLoadingProblem(
            result, flux, template + ".resources[0].name", "variable 'prefx' is not declared",
            suggestion: "did you mean 'prefix'?")
        #expect(result.diagnostics.count == 2, "\(loadingDiagnosticsText(result))")
    }

    @Test("object keys are template strings too")
    func expressionKeys() {
        let rule = """
            {"if": {"field": "type", "equals": "x"},
             "then": {"effect": "deployIfNotExists", "details": {"deployment": {"properties": {"template": {
                "parameters": {"name": {"type": "string"}},
                "resources": [{"properties": {"kustomizations": {"[parameters('nmae')]": {}}}}]}}}}}}
            """
        let result = loadTestPolicies([flux: loadingDefinition(rule: rule)])
        expectLoadingProblem(
            result, flux,
            "$.properties.policyRule.then.details.deployment.properties.template.resources[0].properties"
                + ".kustomizations['[parameters(\\'nmae\\')]']",
            "parameter 'nmae' is not declared", suggestion: "did you mean 'name'?")
    }

    @Test("the alias hook sees every non-expression field (also count.field), never the template")
    func aliasHook() {
        let rule = """
            {"if": {"allOf": [
                {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"},
                {"count": {"field": "Microsoft.ContainerService/managedClusters/agentPoolProfiles[*]",
                           "where": {"field": "Microsoft.ContainerService/managedClusters/agentPoolProfiles[*].osTyp",
                                     "equals": "Linux"}},
                 "greater": 0},
                {"field": "[concat('tags[', 'env', ']')]", "exists": true}]},
             "then": {"effect": "deployIfNotExists", "details": {
                "existenceCondition": {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.ur",
                                       "equals": "x"},
                "deployment": {"properties": {"template": {"resources": [{"field": "not-an-alias"}]}}}}}}
            """
        final class Calls: @unchecked Sendable { var paths: [String] = [] }
        let calls = Calls()
        let result = loadTestPolicies([flux: loadingDefinition(parameters: "{}", rule: rule)]) { path in
            calls.paths.append(path)
            if path.hasSuffix(".osTyp") {
                return (false, "Microsoft.ContainerService/managedClusters/agentPoolProfiles[*].osType")
            }
            if path.hasSuffix(".ur") { return (false, nil) }
            return (true, nil)
        }
        #expect(
            calls.paths == [
                "type", "Microsoft.ContainerService/managedClusters/agentPoolProfiles[*]",
                "Microsoft.ContainerService/managedClusters/agentPoolProfiles[*].osTyp",
                "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.ur",
            ])
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.if.allOf[1].count.where.field", "unknown alias or field",
            suggestion: "did you mean 'Microsoft.ContainerService/managedClusters/agentPoolProfiles[*].osType'?")
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.then.details.existenceCondition.field",
            "unknown alias or field 'Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.ur'")
        #expect(result.diagnostics.count == 2, "\(loadingDiagnosticsText(result))")
    }

    @Test("AliasCatalog.isKnown plugs into the alias hook and its near miss becomes the suggestion")
    func aliasCatalogHook() {
        let rule = """
            {"if": {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.urll", "equals": "x"},
             "then": {"effect": "audit"}}
            """
        let result = loadTestPolicies(
            [flux: loadingDefinition(parameters: "{}", rule: rule)], aliasValidator: AliasCatalog.isKnown)
        expectLoadingProblem(
            result, flux, "$.properties.policyRule.if.field", "unknown alias or field",
            suggestion: "did you mean 'Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url'?")
        #expect(result.diagnostics.count == 1, "\(loadingDiagnosticsText(result))")
    }

    @Test("an assignment must name a known definition or initiative")
    func unknownAssignedDefinition() {
        let result = loadTestPolicies([
            flux: loadingDefinition(),
            "assignments/a.json": loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policyDefinitions/flux-confg"),
            "assignments/b.json": #"{"name": "b", "properties": {"scope": "/subscriptions/s"}}"#,
        ])
        expectLoadingProblem(
            result, "assignments/a.json", "$.properties.policyDefinitionId",
            "unknown policy definition or initiative id",
            suggestion: "did you mean '/providers/Microsoft.Authorization/policyDefinitions/flux-config'?")
        expectLoadingProblem(
            result, "assignments/b.json", "$.properties", "missing required member 'policyDefinitionId'")
    }

    @Test("an initiative must reference known definitions")
    func unknownReferencedDefinition() {
        let initiative = """
            {"name": "set", "properties": {"policyDefinitions": [
                {"policyDefinitionId": "/subscriptions/s\(loadingFluxDefinitionId)",
                 "parameters": {"repositoryUrl": {"value": "u"}}}]}}
            """
        let result = loadTestPolicies([flux: loadingDefinition(), "initiatives/set.json": initiative])
        expectLoadingProblem(
            result, "initiatives/set.json", "$.properties.policyDefinitions[0].policyDefinitionId",
            "unknown policy definition or initiative id",
            suggestion: "'/providers/Microsoft.Authorization/policyDefinitions/flux-config'")
    }

    @Test("assignment parameters: required, allowedValues (case-sensitive), types, unknown names")
    func assignmentParameters() {
        let missing = loadTestPolicies([
            flux: loadingDefinition(), "assignments/a.json": loadingAssignment(parameters: "{}"),
        ])
        expectLoadingProblem(
            missing, "assignments/a.json", "$.properties.parameters",
            "required parameter 'repositoryUrl' of definition 'flux-config' has no value")

        let values = """
            {"RepositoryUrl": {"value": "u"},
             "effect": {"value": "deployIfNotExists"},
             "repositoryTimeout": {"value": "600"},
             "configurationScope": {"value": "[parameters('whatever')]"},
             "repoURL": {"value": "x"},
             "keyVaultSecret": {"fromEnv": "FLUX_TOKEN"}}
            """
        let result = loadTestPolicies([
            flux: loadingDefinition(), "assignments/a.json": loadingAssignment(parameters: values),
        ])
        let file = "assignments/a.json"
        expectLoadingProblem(
            result, file, "$.properties.parameters.effect.value",
            "the value of parameter 'effect' \"deployIfNotExists\" is not one of the allowedValues",
            suggestion: "did you mean 'DeployIfNotExists'?")
        expectLoadingProblem(
            result, file, "$.properties.parameters.repositoryTimeout.value", "must be an integer",
            suggestion: "write 600 without quotes")
        expectLoadingProblem(
            result, file, "$.properties.parameters.repoURL", "parameter 'repoURL' is not declared by definition",
            suggestion: "its parameters are")
        #expect(result.diagnostics.count == 3, "\(loadingDiagnosticsText(result))")
    }

    @Test("parameter entries must be {\"value\": …} or a well-formed secret reference")
    func parameterEntries() {
        let values = """
            {"repositoryUrl": "u",
             "effect": {"valeu": "Disabled"},
             "keyVaultSecret": {"reference": {"keyVault": {}, "secretName": "s"}},
             "configurationScope": {"fromFile": ""}}
            """
        let result = loadTestPolicies([
            flux: loadingDefinition(), "assignments/a.json": loadingAssignment(parameters: values),
        ])
        let file = "assignments/a.json"
        expectLoadingProblem(
            result, file, "$.properties.parameters.repositoryUrl", "must be given as {\"value\": …}",
            suggestion: "\"repositoryUrl\": {\"value\": \"u\"}")
        expectLoadingProblem(
            result, file, "$.properties.parameters.effect", "has no 'value'",
            suggestion: "found 'valeu': did you mean 'value'?")
        expectLoadingProblem(
            result, file, "$.properties.parameters.keyVaultSecret.reference", "keyVault.id and secretName")
        expectLoadingProblem(result, file, "$.properties.parameters.configurationScope.fromFile", "non-empty string")
    }

    @Test("initiative references: unknown initiative parameters, definition parameters, duplicate ids, groups")
    func initiativeReferences() {
        let initiative = """
            {"name": "set", "properties": {
              "parameters": {"effect": {"type": "string", "defaultValue": "DeployIfNotExists"}},
              "policyDefinitionGroups": [{"name": "gitops"}],
              "policyDefinitions": [
                {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
                 "parameters": {"effect": {"value":
                                    "[if(equals(parameters('efect'), 'Disabled'), 'Disabled', 'DeployIfNotExists')]"},
                                "repositoryUrl": {"value": "u"}},
                 "groupNames": ["gitopz"]},
                {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
                 "policyDefinitionReferenceId": "FLUX-CONFIG",
                 "parameters": {"effect": {"value": "Audit"}, "url": {"value": "u"}}}]}}
            """
        let result = loadTestPolicies([flux: loadingDefinition(), "initiatives/set.json": initiative])
        let file = "initiatives/set.json"
        expectLoadingProblem(
            result, file, "$.properties.policyDefinitions[0].parameters.effect.value",
            "parameter 'efect' is not declared in the initiative's parameters", suggestion: "did you mean 'effect'?")
        expectLoadingProblem(
            result, file, "$.properties.policyDefinitions[0].groupNames[0]", "group 'gitopz' is not declared",
            suggestion: "did you mean 'gitops'?")
        expectLoadingProblem(
            result, file, "$.properties.policyDefinitions[1].policyDefinitionReferenceId",
            "duplicate policyDefinitionReferenceId 'FLUX-CONFIG'")
        expectLoadingProblem(
            result, file, "$.properties.policyDefinitions[1].parameters.effect.value", "is not one of the allowedValues"
        )
        expectLoadingProblem(
            result, file, "$.properties.policyDefinitions[1].parameters.url",
            "parameter 'url' is not declared by definition")
        expectLoadingProblem(
            result, file, "$.properties.policyDefinitions[1].parameters",
            "required parameter 'repositoryUrl' of definition 'flux-config' has no value")
        #expect(result.diagnostics.count == 6, "\(loadingDiagnosticsText(result))")
    }

    @Test("exemptions: unknown assignment, unknown reference ids, reference ids without an initiative")
    func exemptions() {
        let typoAssignment = loadingFluxAssignmentId.replacing("flux-prod", with: "flux-prd")
        let setAssignmentId = loadingFluxAssignmentId.replacing("flux-prod", with: "set-prod")
        let initiative = """
            {"name": "set", "properties": {"policyDefinitions": [
                {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
                 "policyDefinitionReferenceId": "flux", "parameters": {"repositoryUrl": {"value": "u"}}}]}}
            """
        let setAssignment = loadingAssignment(
            name: "set-prod", definition: "/providers/Microsoft.Authorization/policySetDefinitions/set",
            parameters: "{}")
        let exemptions = """
            [{"id": "/subscriptions/sub-1/providers/Microsoft.Authorization/policyExemptions/e1",
              "properties": {"policyAssignmentId": "\(typoAssignment)",
                             "exemptionCategory": "Waiver"}},
             {"id": "/subscriptions/sub-1/providers/Microsoft.Authorization/policyExemptions/e2",
              "properties": {"policyAssignmentId": "\(setAssignmentId)",
                             "policyDefinitionReferenceIds": ["FLUX", "flox"], "exemptionCategory": "Waiver"}},
             {"id": "/subscriptions/sub-1/providers/Microsoft.Authorization/policyExemptions/e3",
              "properties": {"policyAssignmentId": "\(loadingFluxAssignmentId)",
                             "policyDefinitionReferenceIds": ["flux"], "exemptionCategory": "Waiverr",
                             "expiresOn": "next week"}},
             {"properties": {"policyAssignmentId": "x", "exemptionCategory": "Waiver"}}]
            """
        let result = loadTestPolicies([
            flux: loadingDefinition(), "initiatives/set.json": initiative, "assignments/a.json": loadingAssignment(),
            "assignments/set.json": setAssignment, "exemptions/e.json": exemptions,
        ])
        let file = "exemptions/e.json"
        expectLoadingProblem(
            result, file, "$[0].properties.policyAssignmentId", "unknown policy assignment id",
            suggestion:
                "did you mean '/subscriptions/sub-1/providers/Microsoft.Authorization/policyAssignments/flux-prod'?")
        expectLoadingProblem(
            result, file, "$[1].properties.policyDefinitionReferenceIds[1]",
            "unknown policyDefinitionReferenceId 'flox'",
            suggestion: "did you mean 'flux'?")
        expectLoadingProblem(
            result, file, "$[2].properties.exemptionCategory", "unknown exemptionCategory", suggestion: "'Waiver'")
        expectLoadingProblem(result, file, "$[2].properties.expiresOn", "not an ISO 8601 date-time")
        expectLoadingProblem(result, file, "$[3]", "needs a 'name' or an 'id'")
        #expect(result.diagnostics.count == 5, "\(loadingDiagnosticsText(result))")

        let onDefinition = loadTestPolicies([
            flux: loadingDefinition(), "assignments/a.json": loadingAssignment(),
            file: """
            {"id": "/subscriptions/sub-1/providers/Microsoft.Authorization/policyExemptions/e3",
             "properties": {"policyAssignmentId": "\(loadingFluxAssignmentId)",
                            "policyDefinitionReferenceIds": ["flux"], "exemptionCategory": "Waiver"}}
            """,
        ])
        expectLoadingProblem(
            onDefinition, file, "$.properties.policyDefinitionReferenceIds[0]",
            "needs an initiative, but the assignment assigns a single policy definition")
    }

    @Test("an exemption outside its assignment's scope is a warning")
    func exemptionOutsideScope() {
        let exemption = """
            {"id": "/subscriptions/sub-9/providers/Microsoft.Authorization/policyExemptions/e",
             "properties": {"policyAssignmentId": "\(loadingFluxAssignmentId)",
                            "exemptionCategory": "Mitigated"}}
            """
        let result = loadTestPolicies([
            flux: loadingDefinition(), "assignments/a.json": loadingAssignment(), "exemptions/e.json": exemption,
        ])
        expectLoadingProblem(
            result, "exemptions/e.json", "$.properties.policyAssignmentId", "is not at or below the assignment's scope",
            severity: .warning)
        #expect(!result.hasErrors)
    }

    @Test("assignment overrides and messages must name the initiative's reference ids")
    func overrideReferenceIds() {
        let initiative = """
            {"name": "set", "properties": {"policyDefinitions": [
                {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
                 "policyDefinitionReferenceId": "flux", "parameters": {"repositoryUrl": {"value": "u"}}}]}}
            """
        let extra = """
            ,
            "enforcementMode": "Enroll",
            "overrides": [{"kind": "policyEffect", "value": "Audit",
                           "selectors": [{"kind": "policyDefinitionReferenceId", "in": ["fluxx"]}]}],
            "nonComplianceMessages": [{"message": "m", "policyDefinitionReferenceId": "other"}],
            "resourceSelectors": [{"name": "r",
                                   "selectors": [{"kind": "resourceLocaton", "in": ["a"], "notIn": ["b"]}]}]
            """
        let result = loadTestPolicies([
            flux: loadingDefinition(), "initiatives/set.json": initiative,
            "assignments/a.json": loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/set", parameters: "{}",
                extra: extra),
        ])
        let file = "assignments/a.json"
        expectLoadingProblem(result, file, "$.properties.enforcementMode", "unknown enforcementMode 'Enroll'")
        expectLoadingProblem(
            result, file, "$.properties.overrides[0].selectors[0].in[0]", "unknown policyDefinitionReferenceId 'fluxx'",
            suggestion: "did you mean 'flux'?")
        expectLoadingProblem(
            result, file, "$.properties.nonComplianceMessages[0].policyDefinitionReferenceId",
            "unknown policyDefinitionReferenceId 'other'", suggestion: "reference ids are 'flux'")
        expectLoadingProblem(
            result, file, "$.properties.resourceSelectors[0].selectors[0].kind", "unknown selector kind",
            suggestion: "did you mean 'resourceLocation'?")
        expectLoadingProblem(
            result, file, "$.properties.resourceSelectors[0].selectors[0]", "exactly one of 'in' and 'notIn'")
        #expect(result.diagnostics.count == 5, "\(loadingDiagnosticsText(result))")
    }

    @Test("duplicate ids across files are reported at the second document")
    func duplicateIds() {
        let result = loadTestPolicies([
            "definitions/a.json": loadingDefinition(),
            "definitions/b.json": loadingDefinition(name: "FLUX-CONFIG"),
            "assignments/a.json": loadingAssignment(),
            "assignments/b.json": "[\(loadingAssignment())]",
        ])
        expectLoadingProblem(
            result, "definitions/b.json", "$", "duplicate policy definition id", suggestion: "definitions/a.json: $")
        expectLoadingProblem(result, "assignments/b.json", "$[0]", "duplicate policy assignment id")
        #expect(result.bundle.definitions.count == 1)
        #expect(result.bundle.assignments.count == 1)
    }

    @Test("an envelope type that belongs in another folder is reported")
    func wrongFolder() {
        let document = """
            {"name": "x", "type": "Microsoft.Authorization/policySetDefinitions",
             "properties": {"policyRule": {"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}}}}
            """
        expectLoadingProblem(
            loadTestPolicies([flux: document]), flux, "$.type", "does not belong in definitions/",
            suggestion: "move the document to initiatives/")
    }

    @Test("every problem of a directory is reported at once")
    func allProblemsAtOnce() {
        let result = loadTestPolicies([
            "definitions/broken.json": "{ \"name\": ",
            "definitions/flux.json": loadingDefinition(
                parameters: #"{"effect": {"type": "strin", "defaultValue": "Audit"}}"#,
                rule:
                    #"{"if": {"field": "type", "equals": "[toLowr('x')]"}, "#
                    + #""then": {"effect": "[parameters('efect')]"}}"#
            ),
            "initiatives/set.json":
                #"{"policyDefinitions": [{"policyDefinitionId": "/providers/x/policyDefinitions/none"}]}"#,
            "assignments/a.json": loadingAssignment(parameters: #"{"unknown": {"value": 1}}"#),
            "exemptions/e.json": """
            {"id": "/subscriptions/s/providers/Microsoft.Authorization/policyExemptions/e",
             "properties": {"policyAssignmentId": "/subscriptions/s\(authorization)/policyAssignments/x",
                            "exemptionCategory": "Waiver"}}
            """,
        ])
        expectLoadingProblem(result, "definitions/broken.json", "$.name", "invalid JSON")
        expectLoadingProblem(
            result, "definitions/flux.json", "$.properties.parameters.effect.type", "unknown parameter type")
        expectLoadingProblem(
            result, "definitions/flux.json", "$.properties.policyRule.if.equals", "unknown function 'toLowr'")
        expectLoadingProblem(
            result, "definitions/flux.json", "$.properties.policyRule.then.effect", "parameter 'efect'")
        expectLoadingProblem(
            result, "initiatives/set.json", "$.policyDefinitions[0].policyDefinitionId", "unknown",
            suggestion: "it may be in a file that could not be read: 'definitions/broken.json'")
        expectLoadingProblem(result, "assignments/a.json", "$.properties.parameters.unknown", "is not declared")
        expectLoadingProblem(
            result, "exemptions/e.json", "$.properties.policyAssignmentId", "unknown policy assignment id")
        #expect(result.diagnostics.count == 7, "\(loadingDiagnosticsText(result))")
        #expect(
            result.diagnostics.map(\.source.file) == [
                "definitions/broken.json", "definitions/flux.json", "definitions/flux.json", "definitions/flux.json",
                "initiatives/set.json", "assignments/a.json", "exemptions/e.json",
            ])
    }
}

/// A rule with no parameters.
private let audit = #"{"if": {"field": "type", "equals": "x"}, "then": {"effect": "audit"}}"#

/// The provider of policy resources, as ids spell it.
private let authorization = "/providers/Microsoft.Authorization"

/// Exemptions narrowed by resource selectors are refused rather than applied too broadly.
@Suite("exemption resource selectors")
struct ExemptionSelectorTests {
    @Test("an exemption with resourceSelectors is reported and not applied")
    func refused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ff-exsel-\(UUID().uuidString)")
        let fm = FileManager.default
        for folder in ["definitions", "assignments", "exemptions"] {
            try fm.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        defer { try? fm.removeItem(at: dir) }
        try
            #"{"properties": {"policyRule": {"if": {"field": "type", "equals": "Microsoft.ContainerService/managedClusters"}, "then": {"effect": "Audit"}}}}"#
            .write(to: dir.appendingPathComponent("definitions/d.json"), atomically: true, encoding: .utf8)
        try
            #"{"id": "/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/a", "properties": {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/d"}}"#
            .write(to: dir.appendingPathComponent("assignments/a.json"), atomically: true, encoding: .utf8)
        try
            #"{"id": "/subscriptions/s1/providers/Microsoft.Authorization/policyExemptions/e", "properties": {"policyAssignmentId": "/subscriptions/s1/providers/Microsoft.Authorization/policyAssignments/a", "exemptionCategory": "Waiver", "resourceSelectors": [{"name": "eu", "selectors": [{"kind": "resourceLocation", "in": ["westeurope"]}]}]}}"#
            .write(to: dir.appendingPathComponent("exemptions/e.json"), atomically: true, encoding: .utf8)
        let loaded = PolicyLoader.load(directory: dir.path)
        #expect(loaded.bundle.exemptions.isEmpty)
        #expect(loaded.diagnostics.contains { $0.message.contains("resourceSelectors are not supported") })
        #expect(loaded.diagnostics.contains { $0.source.path.contains("resourceSelectors") })
    }
}
