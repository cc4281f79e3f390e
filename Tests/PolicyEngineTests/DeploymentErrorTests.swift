import FleetCore
import PolicyEngine
import Testing

@Suite("DeploymentEvaluator: errors name the path and what failed")
struct DeploymentErrorTests {
    private let context = DeploymentTestClusters.policyContext(aks: true, parameters: DeploymentSamples.fluxParameters)

    /// A one-resource deployment around `resource`, with `parameters` declared and `values` passed.
    private func deployment(resource: String, parameters: String = "{}", values: String = "{}") -> JSON {
        deploymentJSON(
            #"{"properties": {"mode": "incremental", "template": {"parameters": "#
                + parameters + #", "resources": ["# + resource + #"]}, "parameters": "# + values + "}}")
    }

    @Test("an expression failing inside a kustomization names the path under the expression key")
    func kustomizationExpression() throws {
        let deployment = deployment(
            resource: #"""
                {"type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "name": "cfg",
                 "apiVersion": "2023-05-01",
                 "scope": "Microsoft.ContainerService/managedClusters/aks-weu-01",
                 "properties": {"kustomizations": {
                   "[parameters('name')]": {"path": "[parameters('kustomizationPth')]"}}}}
                """#,
            parameters: #"{"name": {"type": "string", "defaultValue": "apps"}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(
            error.path
                == "details.deployment.properties.template.resources[0].properties.kustomizations"
                + #"['[parameters(\'name\')]'].path"#
        )
        #expect(error.message.contains("parameter 'kustomizationPth' is not defined"))
        #expect(error.expressionError?.message == "parameter 'kustomizationPth' is not defined")
        #expect(error.description.hasPrefix(error.path + ": cannot evaluate: "))
    }

    @Test("a failing key expression names the kustomizations map")
    func kustomizationKey() throws {
        let deployment = deployment(
            resource: #"""
                {"type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "name": "cfg",
                 "apiVersion": "2023-05-01",
                 "scope": "Microsoft.ContainerService/managedClusters/aks-weu-01",
                 "properties": {"kustomizations": {"[createArray('a')]": {"path": "./"}}}}
                """#)
        let error = try #require(deploymentError(deployment, context))
        #expect(
            error.path
                == "details.deployment.properties.template.resources[0].properties.kustomizations"
                + #"['[createArray(\'a\')]']"#
        )
        #expect(error.message == "an object key must evaluate to a string, got an array")
    }

    @Test("a policy-side value that fails names deployment.properties.parameters.<name>.value")
    func policySideValue() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            parameters: #"{"repo": {"type": "string"}}"#,
            values: #"{"repo": {"value": "[parameters('repoUrl')]"}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.parameters.repo.value")
        #expect(error.message.contains("parameter 'repoUrl' is not defined"))
    }

    @Test("a template parameter without value or default names its declaration")
    func missingParameter() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            parameters: #"{"repositoryUrl": {"type": "string"}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.parameters.repositoryUrl")
        #expect(error.message == "the parameter has no value and no defaultValue")
    }

    @Test("a value of the wrong type is rejected without showing the value")
    func wrongType() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            parameters: #"{"timeout": {"type": "int"}, "key": {"type": "string"}}"#,
            values: #"""
                {"timeout": {"value": "[parameters('configurationName')]"},
                 "key": {"value": "k"}}
                """#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.parameters.timeout")
        #expect(error.message == "template parameter 'timeout' expects an int, got a string")
        #expect(!error.description.contains("fleet-baseline"))
    }

    @Test("a Key Vault reference only fits a securestring parameter")
    func referenceNeedsSecureString() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            parameters: #"{"key": {"type": "string"}}"#,
            values: #"{"key": {"reference": {"keyVault": {"id": "/v"}, "secretName": "s"}}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.parameters.key")
        #expect(error.message == "template parameter 'key' expects a string, got a Key Vault reference")
    }

    @Test("a malformed Key Vault reference names the reference")
    func malformedReference() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            parameters: #"{"key": {"type": "securestring"}}"#,
            values: #"{"key": {"reference": {"keyVault": {"id": "/v"}}}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.parameters.key.reference")
        #expect(error.message == "a Key Vault reference needs a string 'secretName'")
    }

    @Test("a value for an undeclared parameter is rejected, as ARM does")
    func undeclaredParameter() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            values: #"{"extra": {"value": 1}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.parameters.extra")
        #expect(error.message == "the template declares no parameter 'extra'")
    }

    @Test("an unsupported parameter type names the type member")
    func unsupportedType() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "properties": {}}"#,
            parameters: #"{"when": {"type": "datetime", "defaultValue": "2025-01-01"}}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.parameters.when.type")
    }

    @Test("a condition that is not a bool names the condition")
    func conditionNotBool() throws {
        let deployment = deployment(
            resource: #"{"condition": "[concat('tr', 'ue')]", "type": "A.B/c", "name": "x", "apiVersion": "1"}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.resources[0].condition")
        #expect(error.message == "the condition must be a bool, got a string")
    }

    @Test("a scope that is not a resource names the scope")
    func badScope() throws {
        let deployment = deployment(
            resource: #"""
                {"type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "name": "cfg", "apiVersion": "1",
                 "scope": "Microsoft.ContainerService/managedClusters"}
                """#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.resources[0].scope")
        #expect(error.message.contains("is not a resource"))
    }

    @Test("a legacy nested name with the wrong number of segments names the name")
    func badLegacyName() throws {
        let deployment = deployment(
            resource: #"""
                {"type": "Microsoft.ContainerService/managedClusters/providers/sourceControlConfigurations",
                 "name": "aks-weu-01/cfg", "apiVersion": "2021-03-01", "properties": {}}
                """#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.resources[0].name")
        #expect(error.message.contains("3 segments"))
    }

    @Test("a dependsOn that names nothing names the entry")
    func unknownDependency() throws {
        let deployment = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "dependsOn": ["flux"]}"#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.resources[0].dependsOn[0]")
        #expect(error.message == "'flux' names no other resource of this template")
    }

    @Test("variables that refer to each other are reported as a cycle")
    func variableCycle() throws {
        let deployment = deploymentJSON(
            #"""
            {"properties": {"template": {
              "variables": {"a": "[variables('b')]", "b": "[concat(variables('a'), 'x')]"},
              "resources": []}}}
            """#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.variables.a")
        #expect(error.message == "variables refer to each other in a cycle: 'a', 'b'")
    }

    @Test("a variable failing for its own reason is reported, not as a cycle")
    func variableRootCause() throws {
        let deployment = deploymentJSON(
            #"""
            {"properties": {"template": {
              "variables": {"a": "[variables('b')]", "b": "[toLower(1)]"},
              "resources": []}}}
            """#)
        let error = try #require(deploymentError(deployment, context))
        #expect(error.path == "details.deployment.properties.template.variables.b")
    }

    @Test("unsupported deployment features are refused with their path")
    func unsupportedFeatures() throws {
        let complete = deploymentJSON(#"{"properties": {"mode": "Complete", "template": {"resources": []}}}"#)
        #expect(deploymentError(complete, context)?.path == "details.deployment.properties.mode")
        let linked = deploymentJSON(#"{"properties": {"templateLink": {"uri": "https://x"}}}"#)
        #expect(deploymentError(linked, context)?.path == "details.deployment.properties.templateLink")
        let loop = deployment(
            resource: #"{"type": "A.B/c", "name": "x", "apiVersion": "1", "copy": {"name": "l", "count": 2}}"#)
        #expect(deploymentError(loop, context)?.path == "details.deployment.properties.template.resources[0].copy")
        let symbolic = deploymentJSON(#"{"properties": {"template": {"resources": {"r": {}}}}}"#)
        #expect(deploymentError(symbolic, context)?.path == "details.deployment.properties.template.resources")
        let noTemplate = deploymentJSON(#"{"properties": {}}"#)
        #expect(deploymentError(noTemplate, context)?.message == "'template' is missing")
        let noVersion = deployment(resource: #"{"type": "A.B/c", "name": "x"}"#)
        #expect(deploymentError(noVersion, context)?.message == "the resource has no 'apiVersion'")
    }

    @Test("a skipped resource may fail to evaluate its name; a deployed one may not")
    func skippedResourceIsNotEvaluated() throws {
        let skipped = deployment(
            resource: #"{"condition": false, "type": "A.B/c", "name": "[parameters('nope')]", "apiVersion": "1"}"#)
        let resources = try DeploymentEvaluator.desiredResources(
            deployment: skipped, policyParameters: context, cluster: DeploymentTestClusters.aksID)
        #expect(resources.isEmpty)
        let deployed = deployment(
            resource: #"{"condition": true, "type": "A.B/c", "name": "[parameters('nope')]", "apiVersion": "1"}"#)
        #expect(deploymentError(deployed, context)?.path == "details.deployment.properties.template.resources[0].name")
    }

    @Test("a plain resource-group resource gets an id under the cluster's resource group")
    func plainResource() throws {
        let deployment = deployment(
            resource:
                #"""
                {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "name": "flux-id",
                 "apiVersion": "2023-01-31", "location": "westeurope", "tags": {"owner": "fleet"}}
                """#
        )
        let resource = try #require(
            try DeploymentEvaluator.desiredResources(
                deployment: deployment, policyParameters: context, cluster: DeploymentTestClusters.arcID
            ).first)
        #expect(
            resource.id
                == DeploymentTestClusters.arcPrefix + "Microsoft.ManagedIdentity/userAssignedIdentities/flux-id")
        #expect(resource.body == deploymentJSON(#"{"location": "westeurope", "tags": {"owner": "fleet"}}"#))
    }
}
