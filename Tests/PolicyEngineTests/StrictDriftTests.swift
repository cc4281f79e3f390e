import FleetCore
import PolicyEngine
import Testing

/// A desired fluxConfiguration body and the matching resource as ARM returns it.
private enum FluxSample {
    static let desired = deploymentJSON(
        #"""
        {"properties": {
          "scope": "cluster",
          "namespace": "cluster-config",
          "sourceKind": "GitRepository",
          "suspend": false,
          "gitRepository": {
            "url": "https://github.com/contoso/fleet",
            "timeoutInSeconds": 600,
            "syncIntervalInSeconds": 300,
            "repositoryRef": {"branch": "main"}
          },
          "configurationProtectedSettings": {
            "httpsKey": {"$secretReference": {"keyVault": {"id": "/kv"}, "secretName": "s"}}},
          "kustomizations": {
            "apps": {"path": "./apps", "prune": true, "force": false, "retryIntervalInSeconds": 300},
            "infra": {"path": "./infra", "dependsOn": []}
          }
        }}
        """#)

    /// The observed resource with `branch`, the `apps` path and extra kustomizations substituted.
    static func observed(
        branch: String = "main",
        appsPath: String = "./apps",
        extraKustomization: String = ""
    ) -> JSONValue {
        let text = #"""
            {
              "id": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/a/providers/A.C/fluxConfigurations/fleet",
              "name": "fleet",
              "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
              "systemData": {"createdBy": "someone", "lastModifiedAt": "2025-02-01T00:00:00Z"},
              "properties": {
                "scope": "cluster",
                "namespace": "cluster-config",
                "sourceKind": "GitRepository",
                "suspend": false,
                "gitRepository": {
                  "url": "https://github.com/contoso/fleet",
                  "timeoutInSeconds": 600,
                  "syncIntervalInSeconds": 300,
                  "repositoryRef": {"branch": "BRANCH", "tag": null, "semver": null, "commit": null},
                  "sshKnownHosts": null,
                  "httpsUser": null,
                  "localAuthRef": null
                },
                "kustomizations": {
                  "apps": {"name": "apps", "path": "APPS_PATH", "dependsOn": [], "timeoutInSeconds": 600,
                           "syncIntervalInSeconds": 600, "retryIntervalInSeconds": 300, "prune": true,
                           "force": false, "wait": true, "postBuild": null},
                  "infra": {"name": "infra", "path": "./infra", "dependsOn": [], "timeoutInSeconds": 600,
                            "syncIntervalInSeconds": 600, "retryIntervalInSeconds": null, "prune": false,
                            "force": false, "wait": true} EXTRA
                },
                "configurationProtectedSettings": {},
                "provisioningState": "Succeeded",
                "complianceState": "Non-Compliant",
                "statuses": [],
                "errorMessage": "",
                "repositoryPublicKey": "",
                "sourceSyncedCommitId": "main@sha1:0123456789abcdef0123456789abcdef01234567",
                "sourceUpdatedAt": "2025-02-28T10:00:00Z",
                "statusUpdatedAt": "2025-02-28T10:05:00Z"
              }
            }
            """#
        return observedJSON(
            text.replacing("BRANCH", with: branch).replacing("APPS_PATH", with: appsPath)
                .replacing("EXTRA", with: extraKustomization))
    }
}

@Suite("SpecDrift: the strict view of a desired body")
struct StrictDriftTests {
    @Test("an identical resource (plus status fields, nulls and read-only echoes) has no drift")
    func identical() {
        #expect(SpecDrift.compare(desired: FluxSample.desired, observed: FluxSample.observed()).isEmpty)
    }

    @Test("a branch differing only in case is drift: Flux refs are case-sensitive")
    func branchDrift() {
        let drift = SpecDrift.compare(desired: FluxSample.desired, observed: FluxSample.observed(branch: "Main"))
        #expect(
            drift == [
                DriftEntry(
                    path: "properties.gitRepository.repositoryRef.branch", actual: .string("Main"),
                    desired: .string("main"))
            ])
    }

    @Test("a kustomization path edited on the cluster is drift")
    func kustomizationPathDrift() {
        let drift = SpecDrift.compare(desired: FluxSample.desired, observed: FluxSample.observed(appsPath: "./apps/"))
        #expect(
            drift == [
                DriftEntry(
                    path: "properties.kustomizations.apps.path", actual: .string("./apps/"), desired: .string("./apps"))
            ])
    }

    @Test("an extra kustomization on the cluster is drift, since a PUT replaces the map")
    func extraKustomization() {
        let observed = FluxSample.observed(
            extraKustomization: #", "hotfix-1": {"name": "hotfix-1", "path": "./hotfix", "prune": true}"#)
        let drift = SpecDrift.compare(desired: FluxSample.desired, observed: observed)
        #expect(
            drift == [
                DriftEntry(
                    path: "properties.kustomizations['hotfix-1']",
                    actual: deploymentJSON(#"{"name": "hotfix-1", "path": "./hotfix", "prune": true}"#), desired: nil)
            ])
    }

    @Test("a kustomization missing on the cluster is drift")
    func missingKustomization() {
        var desired = FluxSample.desired
        if case .object(var body) = desired, case .object(var properties) = body["properties"],
            case .object(var kustomizations) = properties["kustomizations"]
        {
            kustomizations["monitoring"] = deploymentJSON(#"{"path": "./monitoring"}"#)
            properties["kustomizations"] = .object(kustomizations)
            body["properties"] = .object(properties)
            desired = .object(body)
        }
        let drift = SpecDrift.compare(desired: desired, observed: FluxSample.observed())
        #expect(
            drift == [
                DriftEntry(
                    path: "properties.kustomizations.monitoring", actual: nil,
                    desired: deploymentJSON(#"{"path": "./monitoring"}"#))
            ])
    }

    @Test("a missing resource is one entry for the whole body")
    func missingResource() {
        let whole = [DriftEntry(path: "", actual: nil, desired: FluxSample.desired)]
        #expect(SpecDrift.compare(desired: FluxSample.desired, observed: nil) == whole)
        #expect(SpecDrift.compare(desired: FluxSample.desired, observed: observedJSON("null")) == whole)
    }

    @Test("PascalCase extension properties from Resource Graph, string settings and enum case are not drift")
    func pascalCaseExtension() {
        let desired = deploymentJSON(
            #"""
            {"identity": {"type": "SystemAssigned"},
             "properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": false, "version": "1.8.2",
              "releaseTrain": "Stable",
              "configurationSettings": {"helm-controller.enabled": false, "multiTenancy.enforce": true}}}
            """#)
        let observed = observedJSON(
            #"""
            {"type": "microsoft.kubernetesconfiguration/extensions",
             "Identity": {"Type": "SystemAssigned", "PrincipalId": "p", "TenantId": "t"},
             "Properties": {"ExtensionType": "Microsoft.Flux", "AutoUpgradeMinorVersion": "False", "Version": "1.8.2",
              "ReleaseTrain": "stable", "ProvisioningState": "Succeeded", "CurrentVersion": "1.8.2",
              "ConfigurationSettings": {"helm-controller.enabled": "false", "multiTenancy.enforce": "true"}}}
            """#)
        #expect(SpecDrift.compare(desired: desired, observed: observed).isEmpty)

        let changed = observedJSON(
            #"""
            {"Properties": {"ExtensionType": "microsoft.flux", "AutoUpgradeMinorVersion": false, "Version": "1.9.0",
             "ConfigurationSettings": {"helm-controller.enabled": "true", "multiTenancy.enforce": "true"}},
             "Identity": {"Type": "SystemAssigned"}}
            """#)
        #expect(
            SpecDrift.compare(desired: desired, observed: changed) == [
                DriftEntry(
                    path: "properties.configurationSettings['helm-controller.enabled']", actual: .string("true"),
                    desired: .bool(false)),
                DriftEntry(path: "properties.version", actual: .string("1.9.0"), desired: .string("1.8.2")),
            ])
    }

    @Test("defaults the API fills in count when the observed resource omits them")
    func defaults() {
        let desired = deploymentJSON(
            #"""
            {"properties": {"scope": "cluster", "namespace": "default", "sourceKind": "GitRepository", "suspend": false,
              "gitRepository": {"url": "https://g/r", "timeoutInSeconds": 600, "syncIntervalInSeconds": 600},
              "kustomizations": {"k": {"path": "", "prune": false, "force": false, "wait": true,
                "timeoutInSeconds": 600, "syncIntervalInSeconds": 600}}}}
            """#)
        let sparse = observedJSON(
            #"""
            {"type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
             "properties": {"gitRepository": {"url": "https://g/r"}, "kustomizations": {"k": {}}}}
            """#)
        #expect(SpecDrift.compare(desired: desired, observed: sparse).isEmpty)

        let suspended = deploymentJSON(
            #"{"properties": {"suspend": true, "kustomizations": {"k": {"prune": true}}, "sourceKind": "Bucket"}}"#)
        #expect(
            SpecDrift.compare(desired: suspended, observed: sparse) == [
                DriftEntry(path: "properties.kustomizations.k.prune", actual: .bool(false), desired: .bool(true)),
                DriftEntry(path: "properties.sourceKind", actual: .string("GitRepository"), desired: .string("Bucket")),
                DriftEntry(path: "properties.suspend", actual: .bool(false), desired: .bool(true)),
            ])

        let extensionDesired = deploymentJSON(
            #"""
            {"properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": true,
              "releaseTrain": "Stable"}}
            """#
        )
        let extensionObserved = observedJSON(#"{"properties": {"extensionType": "microsoft.flux"}}"#)
        #expect(SpecDrift.compare(desired: extensionDesired, observed: extensionObserved).isEmpty)
    }

    @Test("a value with no default that the cluster lacks is drift with no actual value")
    func missingWithoutDefault() {
        let desired = deploymentJSON(
            #"{"properties": {"gitRepository": {"repositoryRef": {"branch": "main"}, "httpsUser": "bot"}}}"#)
        let observed = observedJSON(#"{"properties": {"gitRepository": {"url": "https://g/r", "httpsUser": null}}}"#)
        #expect(
            SpecDrift.compare(desired: desired, observed: observed) == [
                DriftEntry(path: "properties.gitRepository.httpsUser", actual: nil, desired: .string("bot")),
                DriftEntry(
                    path: "properties.gitRepository.repositoryRef.branch", actual: nil, desired: .string("main")),
            ])
    }

    @Test("status and read-only fields in the desired body are never compared")
    func statusFieldsIgnored() {
        let desired = deploymentJSON(
            #"""
            {"properties": {"provisioningState": "Succeeded", "complianceState": "Compliant", "statuses": [],
              "errorMessage": "", "statusUpdatedAt": "2025-01-01T00:00:00Z", "sourceSyncedCommitId": "x",
              "repositoryPublicKey": "k", "currentVersion": "1.0.0", "extensionState": "Ready"},
             "systemData": {"createdBy": "me"}}
            """#)
        let observed = observedJSON(
            #"""
            {"properties": {"provisioningState": "Failed", "complianceState": "Non-Compliant",
              "statuses": [{"name": "x"}], "errorMessage": "boom", "statusUpdatedAt": "2025-03-01T00:00:00Z",
              "sourceSyncedCommitId": "y", "repositoryPublicKey": "other", "currentVersion": "2.0.0"},
             "systemData": {"createdBy": "you"}}
            """#)
        #expect(SpecDrift.compare(desired: desired, observed: observed).isEmpty)
    }

    @Test("write-only secrets are never compared, literal or referenced")
    func secretsIgnored() {
        let desired = deploymentJSON(
            #"""
            {"properties": {
              "configurationProtectedSettings": {"sshPrivateKey": "LS0tLS1CRUdJTg=="},
              "azureBlob": {"url": "https://a", "accountKey": "k", "sasToken": "t",
                "servicePrincipal": {"clientId": "c", "clientSecret": "s"}},
              "gitRepository": {"httpsUser": {"$secretReference": {"keyVault": {"id": "/kv"}, "secretName": "u"}}}}}
            """#)
        let observed = observedJSON(
            #"""
            {"properties": {"configurationProtectedSettings": {},
              "azureBlob": {"url": "https://a", "servicePrincipal": {"clientId": "c"}},
              "gitRepository": {"httpsUser": "someone"}}}
            """#)
        #expect(SpecDrift.compare(desired: desired, observed: observed).isEmpty)
    }

    @Test("null and missing are the same; numbers compare by value, also as text; enums and location ignore case")
    func scalarRules() {
        let desired = deploymentJSON(
            #"""
            {"location": "West Europe",
             "properties": {"scope": "Cluster", "sourceKind": "gitrepository", "namespace": "apps", "tag": null,
              "gitRepository": {"timeoutInSeconds": 600, "syncIntervalInSeconds": 120}}}
            """#)
        let observed = observedJSON(
            #"""
            {"location": "westeurope",
             "properties": {"scope": "cluster", "sourceKind": "GitRepository", "namespace": "apps", "tag": "v1",
              "gitRepository": {"timeoutInSeconds": 600.0, "syncIntervalInSeconds": "120"}}}
            """#)
        #expect(SpecDrift.compare(desired: desired, observed: observed).isEmpty)

        let namespaceCase = observedJSON(#"{"properties": {"namespace": "Apps"}}"#)
        #expect(
            SpecDrift.compare(
                desired: deploymentJSON(#"{"properties": {"namespace": "apps"}}"#), observed: namespaceCase)
                == [DriftEntry(path: "properties.namespace", actual: .string("Apps"), desired: .string("apps"))])
    }

    @Test("arrays compare in order and are reported whole")
    func arrays() {
        let desired = deploymentJSON(#"{"properties": {"kustomizations": {"apps": {"dependsOn": ["infra"]}}}}"#)
        let same = observedJSON(#"{"properties": {"kustomizations": {"apps": {"dependsOn": ["infra"]}}}}"#)
        #expect(SpecDrift.compare(desired: desired, observed: same).isEmpty)
        let different = observedJSON(#"{"properties": {"kustomizations": {"apps": {"dependsOn": ["infra", "crds"]}}}}"#)
        #expect(
            SpecDrift.compare(desired: desired, observed: different) == [
                DriftEntry(
                    path: "properties.kustomizations.apps.dependsOn",
                    actual: deploymentJSON(#"["infra", "crds"]"#), desired: deploymentJSON(#"["infra"]"#))
            ])
    }

    @Test("a desired body from the evaluator compares clean against its own resource")
    func evaluatorRoundTrip() throws {
        let context = DeploymentTestClusters.policyContext(aks: true, parameters: DeploymentSamples.fluxParameters)
        let resource = try #require(
            try DeploymentEvaluator.desiredResources(
                deployment: DeploymentSamples.fluxConfiguration, policyParameters: context,
                cluster: DeploymentTestClusters.aksID
            ).first)
        let observed = observedJSON(
            #"""
            {"type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "location": "westeurope",
             "properties": {"scope": "cluster", "namespace": "flux-config", "sourceKind": "GitRepository",
              "suspend": false, "provisioningState": "Succeeded",
              "gitRepository": {"url": "ssh://git@github.com/contoso/fleet.git", "timeoutInSeconds": 600,
                "syncIntervalInSeconds": 300, "repositoryRef": {"branch": "main", "tag": null},
                "sshKnownHosts": null},
              "configurationProtectedSettings": {},
              "kustomizations": {"apps": {"name": "apps", "path": "./clusters/prod", "prune": true,
                "retryIntervalInSeconds": 300, "force": false, "wait": true}}}}
            """#)
        #expect(SpecDrift.compare(desired: resource.body, observed: observed).isEmpty)
    }
}
