import FleetCore
import Foundation
import PolicyEngine
import Testing

/// A temporary `policies/` directory with the given files, removed when released.
final class LoadingPolicyDirectory {
    /// The directory.
    let path: String

    /// Writes `files` (path relative to the directory → text).
    init(_ files: [String: String]) {
        path = FileManager.default.temporaryDirectory.appending(path: "policies-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (relative, text) in files { write(relative, text) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes (or replaces) one file.
    func write(_ relative: String, _ text: String) {
        let full = path + "/" + relative
        let folder = String(full[..<full.lastIndex(of: "/")!])
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try! Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    /// Loads the directory.
    func load(aliasValidator: PolicyAliasValidator? = nil) -> PolicyLoadResult {
        PolicyLoader.load(directory: path, aliasValidator: aliasValidator)
    }
}

/// Writes `files` to a temporary directory and loads it.
func loadTestPolicies(_ files: [String: String], aliasValidator: PolicyAliasValidator? = nil) -> PolicyLoadResult {
    LoadingPolicyDirectory(files).load(aliasValidator: aliasValidator)
}

/// Every diagnostic, one a line, for failure messages.
func loadingDiagnosticsText(_ result: PolicyLoadResult) -> String {
    result.diagnostics.isEmpty ? "(no diagnostics)" : result.diagnostics.map(\.description).joined(separator: "\n")
}

/// Expects a diagnostic at `file: path` whose message contains `fragment` (and whose suggestion
/// contains `suggestion`, when given); returns it.
@discardableResult
func expectLoadingProblem(
    _ result: PolicyLoadResult, _ file: String, _ path: String, _ fragment: String, suggestion: String? = nil,
    severity: PolicyDiagnostic.Severity = .error, sourceLocation: SourceLocation = #_sourceLocation
) -> PolicyDiagnostic? {
    let match = result.diagnostics.first {
        $0.source.file == file && $0.source.path == path && $0.message.contains(fragment) && $0.severity == severity
    }
    #expect(
        match != nil,
        "no \(severity) at \(file): \(path) containing '\(fragment)'; got:\n\(loadingDiagnosticsText(result))",
        sourceLocation: sourceLocation)
    if let match, let suggestion {
        #expect(
            match.suggestion?.contains(suggestion) == true,
            "suggestion of \(match) does not contain '\(suggestion)'", sourceLocation: sourceLocation)
    }
    return match
}

/// Expects no diagnostic at all.
func expectNoLoadingProblems(_ result: PolicyLoadResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.diagnostics.isEmpty, "\(loadingDiagnosticsText(result))", sourceLocation: sourceLocation)
}

/// A policy definition in Azure's envelope, with a DeployIfNotExists rule in the style of the
/// built-ins; `parameters` and `rule` replace the defaults.
func loadingDefinition(
    name: String = "flux-config", parameters: String? = nil, rule: String? = nil
) -> String {
    """
    {
      "id": "/providers/Microsoft.Authorization/policyDefinitions/\(name)",
      "name": "\(name)",
      "type": "Microsoft.Authorization/policyDefinitions",
      "properties": {
        "displayName": "Configure Flux",
        "mode": "Indexed",
        "metadata": {"category": "Kubernetes", "version": "1.0.0"},
        "parameters": \(parameters ?? loadingParameters),
        "policyRule": \(rule ?? loadingRule)
      }
    }
    """
}

/// The default parameters of ``loadingDefinition(name:parameters:rule:)``.
let loadingParameters = """
    {
      "effect": {
        "type": "String",
        "allowedValues": ["DeployIfNotExists", "AuditIfNotExists", "Disabled"],
        "defaultValue": "DeployIfNotExists",
        "metadata": {"displayName": "Effect"}
      },
      "repositoryUrl": {"type": "string", "metadata": {"displayName": "Repository URL"}},
      "repositoryTimeout": {"type": "Integer", "defaultValue": 600},
      "configurationScope": {"type": "string", "allowedValues": ["cluster", "namespace"], "defaultValue": "cluster"},
      "keyVaultSecret": {"type": "string", "defaultValue": "", "metadata": {"strongType": "Microsoft.KeyVault/vaults"}}
    }
    """

/// The default rule of ``loadingDefinition(name:parameters:rule:)``.
let loadingRule = """
    {
      "if": {"field": "type",
             "in": ["Microsoft.Kubernetes/connectedClusters", "Microsoft.ContainerService/managedClusters"]},
      "then": {
        "effect": "[parameters('effect')]",
        "details": {
          "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
          "existenceCondition": {
            "allOf": [
              {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/scope",
               "equals": "[parameters('configurationScope')]"},
              {"field": "Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url",
               "equals": "[parameters('repositoryUrl')]"}
            ]
          },
          "roleDefinitionIds": [
            "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"
          ],
          "deployment": {
            "properties": {
              "mode": "incremental",
              "template": {
                "parameters": {"clusterName": {"type": "string"}, "url": {"type": "string"}},
                "variables": {"prefix": "flux-"},
                "resources": [{
                  "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                  "name": "[concat(variables('prefix'), parameters('clusterName'))]",
                  "properties": {"gitRepository": {"url": "[parameters('url')]"}}
                }]
              },
              "parameters": {
                "clusterName": {"value": "[field('name')]"},
                "url": {"value": "[parameters('repositoryUrl')]"}
              }
            }
          }
        }
      }
    }
    """

/// An assignment of `definition` at a subscription, in Azure's envelope.
func loadingAssignment(
    name: String = "flux-prod", definition: String = "/providers/Microsoft.Authorization/policyDefinitions/flux-config",
    parameters: String = #"{"repositoryUrl": {"value": "https://github.com/org/fleet"}}"#, extra: String = ""
) -> String {
    """
    {
      "id": "/subscriptions/sub-1/providers/Microsoft.Authorization/policyAssignments/\(name)",
      "name": "\(name)",
      "properties": {
        "policyDefinitionId": "\(definition)",
        "parameters": \(parameters)\(extra)
      }
    }
    """
}

/// The id of ``loadingDefinition(name:parameters:rule:)`` with its default name.
let loadingFluxDefinitionId = "/providers/Microsoft.Authorization/policyDefinitions/flux-config"

/// The id of ``loadingAssignment(name:definition:parameters:extra:)`` with its default name.
let loadingFluxAssignmentId = "/subscriptions/sub-1/providers/Microsoft.Authorization/policyAssignments/flux-prod"
