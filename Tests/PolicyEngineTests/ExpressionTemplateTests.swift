import FleetCore
import PolicyEngine
import Testing

/// The `scope` of a built-in fluxConfiguration resource, in the built-ins' own spelling.
private let fluxScope =
    "[concat(if(contains(toLower(parameters('clusterResourceType')), toLower('connectedclusters')),"
    + "'Microsoft.Kubernetes/connectedClusters/','Microsoft.ContainerService/managedClusters/'),"
    + "parameters('clusterName'))]"

/// An initiative passing an effect on to a member definition.
private let initiativeEffect = "[if(equals(parameters('effect'), 'Disabled'), 'Disabled', 'DeployIfNotExists')]"

/// The Flux extension's optional `version`, written the way the extension built-in writes it.
private let extensionVersion =
    "[if(and(not(empty( parameters('version'))), not(parameters('autoUpgradeMinorVersion'))),"
    + " parameters('version'), json('null'))]"

/// A deployment-template fragment in the style of the built-ins' fluxConfiguration resource.
private let fluxResource = expressionJSON(
    #"""
    {
      "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
      "name": "[parameters('configurationName')]",
      "scope": "SCOPE",
      "properties": {
        "namespace": "[parameters('configurationNamespace')]",
        "gitRepository": {
          "url": "[parameters('repositoryUrl')]",
          "timeoutInSeconds": "[parameters('repositoryTimeout')]",
          "repositoryRef": {
            "branch": "[if(not(empty(parameters('repositoryRefBranch'))), parameters('repositoryRefBranch'), json('null'))]",
            "tag": "[if(not(empty(parameters('repositoryRefTag'))), parameters('repositoryRefTag'), json('null'))]"
          },
          "httpsCACert": "[if(not(empty(parameters('repositoryhttpsCACert'))), parameters('repositoryhttpsCACert'), json('null'))]"
        },
        "kustomizations": {
          "[parameters('kustomizationName')]": {
            "path": "[parameters('kustomizationPath')]",
            "prune": "[parameters('kustomizationPrune')]",
            "dependsOn": []
          }
        },
        "suspend": false
      }
    }
    """#,
    substituting: ("SCOPE", fluxScope))

/// Parses JSON text after replacing a placeholder with an expression (which holds no `"`).
private func expressionJSON(_ text: String, substituting replacement: (String, String)) -> JSON {
    expressionJSON(
        text.split(separator: replacement.0, omittingEmptySubsequences: false).joined(separator: replacement.1))
}

private func fluxParameters(clusterType: String, branch: String = "main") -> StaticExpressionContext {
    StaticExpressionContext(parameters: [
        "clusterName": .string("cluster-01"),
        "clusterResourceType": .string(clusterType),
        "configurationName": .string("baseline"),
        "configurationNamespace": .string("flux-system"),
        "repositoryUrl": .string("https://github.com/org/fleet"),
        "repositoryTimeout": .int(600),
        "repositoryRefBranch": .string(branch),
        "repositoryRefTag": .string(""),
        "repositoryHttpsCACert": .string(""),
        "kustomizationName": .string("infra"),
        "kustomizationPath": .string("./clusters/prod"),
        "kustomizationPrune": .bool(true),
    ])
}

@Suite("Expression templates")
struct ExpressionTemplateTests {
    @Test(
        "the fluxConfiguration scope resolves for both cluster types",
        arguments: [
            ("Microsoft.Kubernetes/connectedClusters", "Microsoft.Kubernetes/connectedClusters/cluster-01"),
            ("microsoft.kubernetes/CONNECTEDCLUSTERS", "Microsoft.Kubernetes/connectedClusters/cluster-01"),
            ("Microsoft.ContainerService/managedClusters", "Microsoft.ContainerService/managedClusters/cluster-01"),
        ])
    func fluxScopeExpression(_ clusterType: String, _ expected: String) throws {
        let context = fluxParameters(clusterType: clusterType)
        #expect(try ExpressionEvaluator().evaluate(templateString: fluxScope, context: context) == .string(expected))
    }

    @Test(
        "an initiative's effect expression passes Disabled through and maps the rest",
        arguments: [
            ("Disabled", "Disabled"),
            ("DeployIfNotExists", "DeployIfNotExists"),
            ("AuditIfNotExists", "DeployIfNotExists"),
            // ARM's equals() is case-sensitive: only the exact spelling disables.
            ("disabled", "DeployIfNotExists"),
        ])
    func initiativeEffectValue(_ effect: String, _ expected: String) throws {
        let context = StaticExpressionContext(parameters: ["effect": .string(effect)])
        let value = try evaluateTemplate(
            expressionJSON(#"{"effect": {"value": "EFFECT"}}"#, substituting: ("EFFECT", initiativeEffect)),
            context: context)
        #expect(value == .object(["effect": .object(["value": .string(expected)])]))
    }

    @Test(
        "the extension's version is set only when given and auto-upgrade is off",
        arguments: [
            ("1.2.3", false, true),
            ("1.2.3", true, false),
            ("", false, false),
        ])
    func extensionVersionMember(_ version: String, _ autoUpgrade: Bool, _ present: Bool) throws {
        let context = StaticExpressionContext(parameters: [
            "version": .string(version), "autoUpgradeMinorVersion": .bool(autoUpgrade),
        ])
        let body = JSON.object(["extensionType": .string("microsoft.flux"), "version": .string(extensionVersion)])
        let value = try #require(try evaluateTemplate(body, context: context))
        #expect(value["version"] == (present ? .string(version) : nil))
        #expect(value["extensionType"] == .string("microsoft.flux"))
    }

    @Test("a fluxConfiguration resource evaluates: key expressions, json('null') members omitted, types kept")
    func fluxResourceBody() throws {
        let evaluated = try #require(
            try evaluateTemplate(
                fluxResource, context: fluxParameters(clusterType: "Microsoft.Kubernetes/connectedClusters")))
        let expected = expressionJSON(
            #"""
            {
              "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
              "name": "baseline",
              "scope": "Microsoft.Kubernetes/connectedClusters/cluster-01",
              "properties": {
                "namespace": "flux-system",
                "gitRepository": {
                  "url": "https://github.com/org/fleet",
                  "timeoutInSeconds": 600,
                  "repositoryRef": {"branch": "main"}
                },
                "kustomizations": {
                  "infra": {"path": "./clusters/prod", "prune": true, "dependsOn": []}
                },
                "suspend": false
              }
            }
            """#)
        #expect(evaluated == expected)
    }

    @Test("an object left with no members stays as an empty object")
    func emptiedObject() throws {
        let evaluated = try #require(
            try evaluateTemplate(fluxResource, context: fluxParameters(clusterType: "managedClusters", branch: "")))
        let repository = evaluated["properties"]?["gitRepository"]
        #expect(repository?["repositoryRef"] == .object([:]))
        #expect(repository?["httpsCACert"] == nil)
    }

    @Test("escapes, literal nulls, null array elements and non-string values")
    func nullRulesAndEscapes() throws {
        let template = expressionJSON(
            #"""
            {
              "escaped": "[[not an expression]",
              "[[literalKey]": 1,
              "literalNull": null,
              "computedNull": "[null()]",
              "list": ["[json('null')]", null, "[parameters('n')]", "[[x]"],
              "nested": {"[concat('k', string(parameters('n')))]": "[createArray(parameters('n'))]"},
              "plain": "just text"
            }
            """#)
        let context = StaticExpressionContext(parameters: ["n": .int(2)])
        let evaluated = try evaluateTemplate(template, context: context)
        let expected = expressionJSON(
            #"""
            {
              "escaped": "[not an expression]",
              "[literalKey]": 1,
              "literalNull": null,
              "list": [null, null, 2, "[x]"],
              "nested": {"k2": [2]},
              "plain": "just text"
            }
            """#)
        #expect(evaluated == expected)
    }

    @Test("the root itself may be an expression, and null there means absent")
    func rootValues() throws {
        let context = StaticExpressionContext(parameters: ["p": expressionJSON(#"{"a": "[not evaluated again]"}"#)])
        #expect(try evaluateTemplate(.string("[json('null')]"), context: context) == nil)
        #expect(try evaluateTemplate(.string("[parameters('p')]"), context: context) == context.parameters["p"])
        #expect(try evaluateTemplate(.int(5), context: context) == .int(5))
        #expect(try evaluateTemplate(.null, context: context) == .null)
    }

    @Test("key and value errors point into the failing string")
    func templateErrors() throws {
        let context = StaticExpressionContext(parameters: ["k": .string("a"), "alsoA": .string("a")])
        #expect(
            throws: ExpressionError(
                expression: "[toLowr('X')]", offset: 1, message: "unknown function 'toLowr'", suggestions: ["toLower"])
        ) {
            try evaluateTemplate(expressionJSON(#"{"outer": {"v": ["[toLowr('X')]"]}}"#), context: context)
        }
        #expect(
            throws: ExpressionError(
                expression: "[createArray()]", offset: 1,
                message: "an object key must evaluate to a string, got an array")
        ) {
            try evaluateTemplate(expressionJSON(#"{"[createArray()]": 1}"#), context: context)
        }
        let twoKeysForA = expressionJSON(#"{"[parameters('k')]": 1, "[parameters('alsoA')]": 2}"#)
        do {
            _ = try evaluateTemplate(twoKeysForA, context: context)
            Issue.record("two members evaluating to the same key must be rejected")
        } catch {
            #expect(error.message == "object key 'a' appears more than once")
        }
        #expect(
            throws: ExpressionError(
                expression: "[concat('a',)]", offset: 12,
                message: "expected an argument after ',' in the call to 'concat'")
        ) {
            try evaluateTemplate(.array([.string("[concat('a',)]")]), context: context)
        }
    }

    @Test("the free function and the evaluator method agree")
    func freeFunctionMatchesMethod() throws {
        let context = fluxParameters(clusterType: "Microsoft.ContainerService/managedClusters")
        let viaFunction = try evaluateTemplate(fluxResource, context: context)
        let viaMethod = try ExpressionEvaluator().evaluateTemplate(fluxResource, context: context)
        #expect(viaFunction == viaMethod)
    }
}
