import FleetCore
import PolicyEngine
import Testing

@Suite("Loading: parameter resolution")
struct LoadingParameterTests {
    /// An initiative over `flux-config` that passes expressions over its own parameters.
    private let initiative = """
        {"name": "flux-baseline", "properties": {
          "parameters": {
            "effect": {"type": "String", "allowedValues": ["DeployIfNotExists", "Disabled"],
                       "defaultValue": "DeployIfNotExists"},
            "repo": {"type": "string"},
            "token": {"type": "string", "defaultValue": ""}
          },
          "policyDefinitions": [
            {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
             "policyDefinitionReferenceId": "flux",
             "parameters": {
               "effect": {"value": "[if(equals(parameters('effect'), 'Disabled'), 'Disabled', 'DeployIfNotExists')]"},
               "RepositoryUrl": {"value": "[concat(parameters('REPO'), '.git')]"},
               "keyVaultSecret": {"value": "[parameters('token')]"},
               "configurationScope": {"value": "namespace"}
             }},
            {"policyDefinitionId": "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
             "policyDefinitionReferenceId": "flux-missing-url",
             "parameters": {"effect": {"value": "Disabled"}}}
          ]}}
        """

    private func bundle(_ assignment: String, file: String = "assignments/a.json") throws -> PolicyBundle {
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(), "initiatives/set.json": initiative, file: assignment,
        ])
        let unexpected = result.diagnostics.filter { !$0.message.contains("required parameter") }
        #expect(unexpected.isEmpty, "\(loadingDiagnosticsText(result))")
        return result.bundle
    }

    private func definition(_ bundle: PolicyBundle) throws -> PolicyDefinition {
        try #require(bundle.definition(id: "/providers/Microsoft.Authorization/policyDefinitions/flux-config"))
    }

    @Test("a direct assignment: given values, defaults for the rest, keys as declared")
    func directAssignment() throws {
        let bundle = try bundle(
            loadingAssignment(
                parameters:
                    #"{"REPOSITORYURL": {"value": "https://github.com/org/fleet"}, "effect": {"value": "Disabled"}}"#
            ))
        let assignment = try #require(bundle.assignments.first)
        let values = try ParameterResolver.values(
            for: definition(bundle), assignment: assignment, reference: nil, initiative: nil)
        #expect(
            values == [
                "effect": .string("Disabled"), "repositoryUrl": .string("https://github.com/org/fleet"),
                "repositoryTimeout": .int(600), "configurationScope": .string("cluster"), "keyVaultSecret": .string(""),
            ])
    }

    @Test("a direct assignment without a required value names the parameter, the assignment and the fix")
    func missingRequired() throws {
        let bundle = try bundle(loadingAssignment(parameters: "{}"))
        let assignment = try #require(bundle.assignments.first)
        let error = #expect(throws: ParameterError.self) {
            try ParameterResolver.values(
                for: definition(bundle), assignment: assignment, reference: nil, initiative: nil)
        }
        #expect(error?.parameter == "repositoryUrl")
        #expect(error?.assignmentId == assignment.id)
        #expect(error?.fix.contains("add \"repositoryUrl\": {\"value\": …}") == true)
        #expect(error?.description.contains("flux-prod") == true)
    }

    @Test("through an initiative: expressions over the initiative's effective values, then defaults")
    func initiativeValues() throws {
        let bundle = try bundle(
            loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline",
                parameters: #"{"repo": {"value": "https://github.com/org/fleet"}, "Effect": {"value": "Disabled"}}"#))
        let set = try #require(bundle.initiatives.values.first)
        let assignment = try #require(bundle.assignments.first)
        let values = try ParameterResolver.values(
            for: definition(bundle), assignment: assignment, reference: set.definitions[0], initiative: set)
        #expect(
            values == [
                "effect": .string("Disabled"), "repositoryUrl": .string("https://github.com/org/fleet.git"),
                "repositoryTimeout": .int(600), "configurationScope": .string("namespace"),
                "keyVaultSecret": .string(""),
            ])
    }

    @Test("through an initiative: the initiative's default feeds the expression")
    func initiativeDefaults() throws {
        let bundle = try bundle(
            loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline",
                parameters: #"{"repo": {"value": "r"}}"#))
        let set = try #require(bundle.initiatives.values.first)
        let values = try ParameterResolver.values(
            for: definition(bundle), assignment: #require(bundle.assignments.first), reference: set.definitions[0],
            initiative: set)
        #expect(values["effect"] == .string("DeployIfNotExists"))
        #expect(values["repositoryUrl"] == .string("r.git"))
    }

    @Test("through an initiative: missing required values are errors naming the fix")
    func initiativeMissing() throws {
        let bundle = try bundle(
            loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline", parameters: "{}"))
        let set = try #require(bundle.initiatives.values.first)
        let assignment = try #require(bundle.assignments.first)
        let initiativeLevel = #expect(throws: ParameterError.self) {
            try ParameterResolver.values(
                for: definition(bundle), assignment: assignment, reference: set.definitions[0], initiative: set)
        }
        #expect(initiativeLevel?.parameter == "repo")
        #expect(initiativeLevel?.referenceId == "flux")

        let withRepo = try self.bundle(
            loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline",
                parameters: #"{"repo": {"value": "r"}}"#))
        let referenceLevel = #expect(throws: ParameterError.self) {
            try ParameterResolver.values(
                for: definition(withRepo), assignment: #require(withRepo.assignments.first),
                reference: set.definitions[1], initiative: set)
        }
        #expect(referenceLevel?.parameter == "repositoryUrl")
        #expect(referenceLevel?.fix.contains("reference 'flux-missing-url'") == true)
    }

    @Test("secret references are kept as {\"$secretReference\": …}, directly and through an initiative")
    func secretReferences() throws {
        let keyVault = """
            {"reference": {"keyVault": {"id": "/subscriptions/s/providers/Microsoft.KeyVault/vaults/kv"},
                           "secretName": "git-token"}}
            """
        let direct = try bundle(
            loadingAssignment(
                parameters: #"{"repositoryUrl": {"value": "u"}, "keyVaultSecret": \#(keyVault)}"#))
        let values = try ParameterResolver.values(
            for: definition(direct), assignment: #require(direct.assignments.first), reference: nil, initiative: nil)
        let marker = try #require(values["keyVaultSecret"])
        let reference = try #require(ParameterSecretReference.reference(in: marker))
        #expect(reference == expressionJSON(keyVault))
        #expect(marker == .object(["$secretReference": expressionJSON(keyVault)]))

        let viaInitiative = try bundle(
            loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline",
                parameters: #"{"repo": {"value": "r"}, "token": {"fromEnv": "FLUX_GIT_TOKEN"}}"#))
        let set = try #require(viaInitiative.initiatives.values.first)
        let assignment = try #require(viaInitiative.assignments.first)
        let passed = try ParameterResolver.values(
            for: definition(viaInitiative), assignment: assignment, reference: set.definitions[0], initiative: set)
        #expect(
            passed["keyVaultSecret"]
                == ParameterSecretReference.marker(for: .object(["fromEnv": .string("FLUX_GIT_TOKEN")])))

        let resolved = try ParameterResolver.values(
            for: definition(viaInitiative), assignment: assignment, reference: set.definitions[0], initiative: set,
            secrets: { entry in entry["fromEnv"] == .string("FLUX_GIT_TOKEN") ? .string("s3cret") : .null })
        #expect(resolved["keyVaultSecret"] == .string("s3cret"))
    }

    @Test("a secret used inside a larger expression is an error, not a leak")
    func secretInExpression() throws {
        let set = initiative.replacing(
            "\"[parameters('token')]\"", with: "\"[concat('Bearer ', parameters('token'))]\"")
        let result = loadTestPolicies([
            "definitions/flux.json": loadingDefinition(), "initiatives/set.json": set,
            "assignments/a.json": loadingAssignment(
                definition: "/providers/Microsoft.Authorization/policySetDefinitions/flux-baseline",
                parameters: #"{"repo": {"value": "r"}, "token": {"fromFile": "/run/secrets/token"}}"#),
        ])
        let initiative = try #require(result.bundle.initiatives.values.first)
        let error = #expect(throws: ParameterError.self) {
            try ParameterResolver.values(
                for: definition(result.bundle), assignment: #require(result.bundle.assignments.first),
                reference: initiative.definitions[0], initiative: initiative)
        }
        #expect(error?.parameter == "keyVaultSecret")
        #expect(error?.fix.contains("[parameters('name')]") == true)
    }

    @Test("a secret-reference marker is recognised only in its exact form")
    func markerHelpers() {
        #expect(ParameterSecretReference.isReference(.object(["fromFile": .string("/x")])))
        #expect(ParameterSecretReference.isReference(.object(["FromEnv": .string("X")])))
        #expect(!ParameterSecretReference.isReference(.object(["value": .string("x"), "fromEnv": .string("X")])))
        #expect(!ParameterSecretReference.isReference(.string("fromEnv")))
        #expect(ParameterSecretReference.reference(in: .object(["other": .null])) == nil)
    }

    @Test("resolving with the wrong assignment or reference is an error")
    func mismatchedInputs() throws {
        let bundle = try bundle(loadingAssignment())
        let set = try #require(bundle.initiatives.values.first)
        let assignment = try #require(bundle.assignments.first)
        #expect(throws: ParameterError.self) {
            try ParameterResolver.values(
                for: definition(bundle), assignment: assignment, reference: set.definitions[0], initiative: set)
        }
        #expect(throws: ParameterError.self) {
            try ParameterResolver.values(
                for: definition(bundle), assignment: assignment, reference: set.definitions[0], initiative: nil)
        }
    }
}
