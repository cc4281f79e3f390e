import FleetCore
import PolicyEngine
import Testing

@Suite("Loading: literal secrets in assignments are warned about, without their values")
struct LoadingSecretWarningTests {
    private let parameters = """
        {
          "effect": {"type": "String", "defaultValue": "DeployIfNotExists"},
          "repositoryUrl": {"type": "string"},
          "configurationScope": {"type": "string", "defaultValue": "cluster"},
          "httpsPassword": {"type": "string", "defaultValue": ""},
          "sshPrivateKey": {"type": "string", "defaultValue": ""},
          "protectedSettings": {"type": "object", "defaultValue": {}},
          "keyVaultSecretName": {"type": "string", "defaultValue": ""},
          "tokenSecretName": {"type": "string", "defaultValue": ""}
        }
        """

    private func load(_ assignmentParameters: String) -> PolicyLoadResult {
        loadTestPolicies([
            "definitions/flux.json": loadingDefinition(parameters: parameters),
            "assignments/a.json": loadingAssignment(parameters: assignmentParameters),
        ])
    }

    @Test("passwords, private keys, protected settings and credential URLs given as literals")
    func literals() {
        let result = load(
            #"""
            {"repositoryUrl": {"value": "https://fleet-bot:canary-pat-7f3a@github.com/contoso/fleet"},
             "httpsPassword": {"value": "canary-password-51c2"},
             "sshPrivateKey": {"value": "-----BEGIN OPENSSH PRIVATE KEY----- canary-key"},
             "protectedSettings": {"value": {"sshPrivateKey": "canary-settings"}},
             "keyVaultSecretName": {"value": "fleet-ssh-key"},
             "tokenSecretName": {"value": "fleet-token"}}
            """#)
        let path = "$.properties.parameters"
        for (name, fragment) in [
            ("repositoryUrl", "URL with credentials"), ("httpsPassword", "by the parameter's name"),
            ("sshPrivateKey", "by the parameter's name"), ("protectedSettings", "by the parameter's name"),
        ] {
            _ = expectLoadingProblem(
                result, "assignments/a.json", "\(path).\(name).value", fragment, suggestion: "fromEnv",
                severity: .warning)
        }
        // Names of secrets are not secrets; warnings do not fail validation.
        #expect(!result.diagnostics.contains { $0.source.path.contains("SecretName") })
        #expect(!result.hasErrors)
        let text = loadingDiagnosticsText(result)
        for canary in ["canary-pat-7f3a", "canary-password-51c2", "canary-key", "canary-settings"] {
            #expect(!text.contains(canary), "\(canary) leaked into: \(text)")
        }
    }

    @Test("references, expressions and empty values are not warned about")
    func references() {
        let result = load(
            #"""
            {"repositoryUrl": {"value": "https://github.com/contoso/fleet"},
             "httpsPassword": {"fromEnv": "FLEET_GIT_PASSWORD"},
             "sshPrivateKey": {"reference": {"keyVault": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v"}, "secretName": "ssh"}},
             "protectedSettings": {"value": {}}}
            """#)
        #expect(!result.diagnostics.contains { $0.severity == .warning }, "\(loadingDiagnosticsText(result))")
    }
}
