import FleetCore
import PolicyEngine
import Testing

/// Our own DINE deployments in the shapes of the built-ins (never copied from them).
enum DeploymentSamples {
    /// The Flux extension: one resource per cluster type, chosen by `condition`; the pinned version is
    /// `json('null')` unless auto-upgrade is off.
    static let fluxExtension = deploymentJSON(
        #"""
        {
          "properties": {
            "mode": "Incremental",
            "template": {
              "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
              "contentVersion": "1.0.0.0",
              "parameters": {
                "clusterName": {"type": "string"},
                "clusterResourceType": {"type": "string"},
                "helmEnabled": {"type": "bool"},
                "train": {"type": "string", "defaultValue": "Stable"},
                "auto": {"type": "bool"},
                "pin": {"type": "string", "defaultValue": ""}
              },
              "resources": [
                {
                  "condition": "[contains(toLower(parameters('clusterResourceType')), 'connectedclusters')]",
                  "comments": "Arc: the extension gets a system-assigned identity.",
                  "type": "Microsoft.KubernetesConfiguration/extensions",
                  "name": "flux",
                  "apiVersion": "2023-05-01",
                  "identity": {"type": "SystemAssigned"},
                  "properties": {
                    "extensionType": "microsoft.flux",
                    "releaseTrain": "[parameters('train')]",
                    "autoUpgradeMinorVersion": "[parameters('auto')]",
        "version": "[if(and(not(empty(parameters('pin'))), not(parameters('auto'))), parameters('pin'), json('null'))]",
                    "configurationSettings": {"helm-controller.enabled": "[parameters('helmEnabled')]"}
                  },
                  "scope": "[concat('Microsoft.Kubernetes/connectedClusters/', parameters('clusterName'))]"
                },
                {
                  "condition": "[contains(toLower(parameters('clusterResourceType')), 'managedclusters')]",
                  "type": "Microsoft.KubernetesConfiguration/extensions",
                  "name": "flux",
                  "apiVersion": "2023-05-01",
                  "properties": {
                    "extensionType": "microsoft.flux",
                    "releaseTrain": "[parameters('train')]",
                    "autoUpgradeMinorVersion": "[parameters('auto')]",
        "version": "[if(and(not(empty(parameters('pin'))), not(parameters('auto'))), parameters('pin'), json('null'))]",
                    "configurationSettings": {"helm-controller.enabled": "[parameters('helmEnabled')]"}
                  },
                  "scope": "[concat('Microsoft.ContainerService/managedClusters/', parameters('clusterName'))]"
                }
              ]
            },
            "parameters": {
              "clusterName": {"value": "[field('name')]"},
              "clusterResourceType": {"value": "[field('type')]"},
              "helmEnabled": {"value": "[parameters('helmControllerEnabled')]"},
              "auto": {"value": "[parameters('autoUpgradeMinorVersion')]"},
              "pin": {"value": "[parameters('version')]"}
            }
          }
        }
        """#)

    /// A fluxConfiguration over SSH: an expression as the kustomization key, optional refs through
    /// `if(not(empty(…)), …, json('null'))`, and the private key from Key Vault.
    static let fluxConfiguration = deploymentJSON(
        #"""
        {
          "properties": {
            "mode": "incremental",
            "template": {
              "contentVersion": "1.0.0.0",
              "parameters": {
                "clusterName": {"type": "string"},
                "clusterResourceType": {"type": "string"},
                "clusterLocation": {"type": "string"},
                "configurationName": {"type": "string"},
                "configurationNamespace": {"type": "string", "defaultValue": "flux-config"},
                "repositoryUrl": {"type": "string"},
                "repositorySyncInterval": {"type": "int"},
                "refBranch": {"type": "string"},
                "refTag": {"type": "string"},
                "knownHosts": {"type": "string"},
                "sshKey": {"type": "securestring"},
                "kustomizationName": {"type": "string"},
                "kustomizationPath": {"type": "string"},
                "kustomizationPrune": {"type": "bool"},
                "suspend": {"type": "bool"}
              },
              "variables": {
                "arc": "[contains(toLower(parameters('clusterResourceType')), 'connectedclusters')]",
                "arcRP": "Microsoft.Kubernetes/connectedClusters/",
                "aksRP": "Microsoft.ContainerService/managedClusters/"
              },
              "resources": [
                {
                  "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                  "name": "[parameters('configurationName')]",
                  "apiVersion": "2022-03-01",
                  "location": "[parameters('clusterLocation')]",
                  "properties": {
                    "scope": "cluster",
                    "namespace": "[parameters('configurationNamespace')]",
                    "sourceKind": "GitRepository",
                    "gitRepository": {
                      "url": "[parameters('repositoryUrl')]",
                      "syncIntervalInSeconds": "[parameters('repositorySyncInterval')]",
                      "repositoryRef": {
                        "branch": "[if(not(empty(parameters('refBranch'))), parameters('refBranch'), json('null'))]",
                        "tag": "[if(not(empty(parameters('refTag'))), parameters('refTag'), json('null'))]"
                      },
          "sshKnownHosts": "[if(not(empty(parameters('knownHosts'))), parameters('knownHosts'), json('null'))]"
                    },
                    "configurationProtectedSettings": {"sshPrivateKey": "[parameters('SSHKEY')]"},
                    "kustomizations": {
                      "[parameters('kustomizationName')]": {
                        "path": "[parameters('kustomizationPath')]",
                        "prune": "[parameters('kustomizationPrune')]",
                        "retryIntervalInSeconds": "[parameters('repositorySyncInterval')]"
                      }
                    },
                    "suspend": "[parameters('suspend')]"
                  },
        "scope": "[concat(if(variables('arc'), variables('arcRP'), variables('aksRP')), parameters('clusterName'))]"
                }
              ]
            },
            "parameters": {
              "clusterName": {"value": "[field('name')]"},
              "clusterResourceType": {"value": "[field('type')]"},
              "clusterLocation": {"value": "[field('location')]"},
              "configurationName": {"value": "[parameters('configurationName')]"},
              "repositoryUrl": {"value": "[parameters('repositoryUrl')]"},
              "repositorySyncInterval": {"value": 300},
              "refBranch": {"value": "[parameters('branch')]"},
              "refTag": {"value": "[parameters('tag')]"},
              "knownHosts": {"value": "[parameters('knownHosts')]"},
              "kustomizationName": {"value": "[parameters('kustomizationName')]"},
              "kustomizationPath": {"value": "[parameters('kustomizationPath')]"},
              "kustomizationPrune": {"value": true},
              "suspend": {"value": false},
              "sshKey": {
                "reference": {
                  "keyVault": {"id": "[parameters('keyVaultResourceId')]"},
                  "secretName": "[parameters('keyVaultSecretName')]"
                }
              }
            }
          }
        }
        """#)

    /// The assignment parameters the fluxConfiguration deployment reads.
    static let fluxParameters: [String: JSON] = [
        "configurationName": .string("fleet-baseline"),
        "repositoryUrl": .string("ssh://git@github.com/contoso/fleet.git"),
        "branch": .string("main"),
        "tag": .string(""),
        "knownHosts": .string(""),
        "kustomizationName": .string("apps"),
        "kustomizationPath": .string("./clusters/prod"),
        "keyVaultResourceId": .string(
            "/subscriptions/sub-kv/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-fleet"),
        "keyVaultSecretName": .string("fleet-ssh-key"),
    ]

    /// Flux v1 in the legacy nested form: the type names the parent, the name carries the namespace.
    static let legacySourceControl = deploymentJSON(
        #"""
        {
          "properties": {
            "mode": "incremental",
            "template": {
              "parameters": {
                "clusterName": {"type": "string"},
                "clusterResourceType": {"type": "string"},
                "configName": {"type": "string"},
                "repositoryUrl": {"type": "string"},
                "operatorParams": {"type": "string", "defaultValue": "--git-readonly"}
              },
              "resources": [
                {
                  "condition": "[contains(toLower(parameters('clusterResourceType')), 'connectedclusters')]",
                  "type": "Microsoft.Kubernetes/connectedClusters/providers/sourceControlConfigurations",
        "name": "[concat(parameters('clusterName'), '/Microsoft.KubernetesConfiguration/', parameters('configName'))]",
                  "apiVersion": "2021-03-01",
                  "properties": {
                    "repositoryUrl": "[parameters('repositoryUrl')]",
                    "operatorParams": "[parameters('operatorParams')]",
                    "operatorScope": "cluster"
                  }
                },
                {
                  "condition": "[contains(toLower(parameters('clusterResourceType')), 'managedclusters')]",
                  "type": "Microsoft.ContainerService/managedClusters/providers/sourceControlConfigurations",
        "name": "[concat(parameters('clusterName'), '/Microsoft.KubernetesConfiguration/', parameters('configName'))]",
                  "apiVersion": "2021-03-01",
                  "properties": {
                    "repositoryUrl": "[parameters('repositoryUrl')]",
                    "operatorParams": "[parameters('operatorParams')]",
                    "operatorScope": "cluster"
                  }
                }
              ]
            },
            "parameters": {
              "clusterName": {"value": "[field('name')]"},
              "clusterResourceType": {"value": "[field('type')]"},
              "configName": {"value": "[concat('v1-', parameters('configurationName'))]"},
              "repositoryUrl": {"value": "[parameters('repositoryUrl')]"}
            }
          }
        }
        """#)

    /// Variables (one built from another) and `dependsOn` by name, by `type/name` and on a skipped resource.
    static let withVariables = deploymentJSON(
        #"""
        {
          "properties": {
            "template": {
              "parameters": {
                "clusterName": {"type": "string"},
                "installBucketConfig": {"type": "bool", "defaultValue": false},
                "namespaceSuffix": {"type": "string", "defaultValue": "[concat('-', parameters('clusterName'))]"}
              },
              "variables": {
                "clusterScope": "[concat(variables('scopePrefix'), parameters('clusterName'))]",
                "scopePrefix": "Microsoft.ContainerService/managedClusters/",
                "configName": "[concat('baseline', parameters('namespaceSuffix'))]",
                "clusterID": "[concat(resourceGroup().id, '/providers/', variables('clusterScope'))]",
                "configType": "Microsoft.KubernetesConfiguration/fluxConfigurations"
              },
              "resources": [
                {
                  "type": "Microsoft.KubernetesConfiguration/extensions",
                  "name": "flux",
                  "apiVersion": "2023-05-01",
                  "scope": "[variables('clusterScope')]",
                  "properties": {"extensionType": "microsoft.flux"}
                },
                {
                  "condition": "[parameters('installBucketConfig')]",
                  "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                  "name": "bucket-config",
                  "apiVersion": "2023-05-01",
                  "scope": "[variables('clusterScope')]",
                  "properties": {"sourceKind": "Bucket"}
                },
                {
                  "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                  "name": "[variables('configName')]",
                  "apiVersion": "2023-05-01",
                  "scope": "[variables('clusterScope')]",
                  "dependsOn": ["flux", "Microsoft.KubernetesConfiguration/fluxConfigurations/bucket-config"],
                  "properties": {"namespace": "[variables('configName')]"}
                },
                {
                  "type": "Microsoft.KubernetesConfiguration/fluxConfigurations",
                  "name": "second",
                  "apiVersion": "2023-05-01",
                  "scope": "[variables('clusterScope')]",
                  "dependsOn": [
        "[concat(variables('clusterID'), '/providers/', variables('configType'), '/', variables('configName'))]",
                    "microsoft.kubernetesconfiguration/extensions/FLUX"
                  ],
                  "properties": {}
                }
              ]
            },
            "parameters": {
              "clusterName": {"value": "[field('name')]"}
            }
          }
        }
        """#)
}

@Suite("DeploymentEvaluator: desired resources")
struct DeploymentEvaluatorTests {
    private let extensionParameters: [String: JSON] = [
        "helmControllerEnabled": .bool(false), "autoUpgradeMinorVersion": .bool(true), "version": .string("1.8.2"),
    ]

    @Test("extension: only the AKS branch applies on AKS; version is omitted while auto-upgrading")
    func extensionOnAKS() throws {
        let context = DeploymentTestClusters.policyContext(aks: true, parameters: extensionParameters)
        let resources = try DeploymentEvaluator.desiredResources(
            deployment: DeploymentSamples.fluxExtension, policyParameters: context,
            cluster: DeploymentTestClusters.aksID)
        #expect(
            resources == [
                DesiredResource(
                    id: DeploymentTestClusters.aksPrefix + "Microsoft.ContainerService/managedClusters/aks-weu-01/"
                        + "providers/Microsoft.KubernetesConfiguration/extensions/flux",
                    type: "Microsoft.KubernetesConfiguration/extensions", name: "flux", apiVersion: "2023-05-01",
                    body: deploymentJSON(
                        #"""
                        {"properties": {
                          "extensionType": "microsoft.flux", "releaseTrain": "Stable", "autoUpgradeMinorVersion": true,
                          "configurationSettings": {"helm-controller.enabled": false}}}
                        """#))
            ])
    }

    @Test("extension: the Arc branch has an identity and pins the version when auto-upgrade is off")
    func extensionOnArc() throws {
        var parameters = extensionParameters
        parameters["autoUpgradeMinorVersion"] = .bool(false)
        let context = DeploymentTestClusters.policyContext(aks: false, parameters: parameters)
        let resources = try DeploymentEvaluator.desiredResources(
            deployment: DeploymentSamples.fluxExtension, policyParameters: context,
            cluster: DeploymentTestClusters.arcID)
        #expect(resources.count == 1)
        let resource = try #require(resources.first)
        #expect(
            resource.id
                == DeploymentTestClusters.arcPrefix
                + "Microsoft.Kubernetes/connectedClusters/arc-store-17/providers/"
                + "Microsoft.KubernetesConfiguration/extensions/flux")
        #expect(
            resource.body
                == deploymentJSON(
                    #"""
                    {"identity": {"type": "SystemAssigned"},
                     "properties": {
                       "extensionType": "microsoft.flux", "releaseTrain": "Stable", "autoUpgradeMinorVersion": false,
                       "version": "1.8.2", "configurationSettings": {"helm-controller.enabled": false}}}
                    """#))
        #expect(resource.dependsOn.isEmpty)
    }

    @Test("fluxConfiguration on AKS: expression key, omitted optional fields, Key Vault reference kept")
    func fluxConfigurationOnAKS() throws {
        let context = DeploymentTestClusters.policyContext(aks: true, parameters: DeploymentSamples.fluxParameters)
        let resources = try DeploymentEvaluator.desiredResources(
            deployment: DeploymentSamples.fluxConfiguration, policyParameters: context,
            cluster: DeploymentTestClusters.aksID)
        let expected = DesiredResource(
            id: DeploymentTestClusters.aksPrefix + "Microsoft.ContainerService/managedClusters/aks-weu-01/providers/"
                + "Microsoft.KubernetesConfiguration/fluxConfigurations/fleet-baseline",
            type: "Microsoft.KubernetesConfiguration/fluxConfigurations", name: "fleet-baseline",
            apiVersion: "2022-03-01",
            body: deploymentJSON(
                #"""
                {
                  "location": "westeurope",
                  "properties": {
                    "scope": "cluster",
                    "namespace": "flux-config",
                    "sourceKind": "GitRepository",
                    "gitRepository": {
                      "url": "ssh://git@github.com/contoso/fleet.git",
                      "syncIntervalInSeconds": 300,
                      "repositoryRef": {"branch": "main"}
                    },
                    "configurationProtectedSettings": {
                      "sshPrivateKey": {"$secretReference": {
                        "keyVault": {
                "id": "/subscriptions/sub-kv/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-fleet"},
                        "secretName": "fleet-ssh-key"}}
                    },
                    "kustomizations": {
                      "apps": {"path": "./clusters/prod", "prune": true, "retryIntervalInSeconds": 300}
                    },
                    "suspend": false
                  }
                }
                """#))
        #expect(resources == [expected])
    }

    @Test("fluxConfiguration on Arc: the scope switches to connectedClusters; a tag replaces the branch")
    func fluxConfigurationOnArc() throws {
        var parameters = DeploymentSamples.fluxParameters
        parameters["branch"] = .string("")
        parameters["tag"] = .string("v2.1.0")
        let context = DeploymentTestClusters.policyContext(aks: false, parameters: parameters)
        let resource = try #require(
            try DeploymentEvaluator.desiredResources(
                deployment: DeploymentSamples.fluxConfiguration, policyParameters: context,
                cluster: DeploymentTestClusters.arcID
            ).first)
        #expect(
            resource.id
                == DeploymentTestClusters.arcPrefix + "Microsoft.Kubernetes/connectedClusters/arc-store-17/providers/"
                + "Microsoft.KubernetesConfiguration/fluxConfigurations/fleet-baseline")
        #expect(resource.body["location"] == .string("eastus2"))
        #expect(
            resource.body["properties"]?["gitRepository"]?["repositoryRef"] == deploymentJSON(#"{"tag": "v2.1.0"}"#))
        #expect(resource.body["properties"]?["gitRepository"]?["sshKnownHosts"] == nil)
    }

    @Test("legacy sourceControlConfigurations: nested type and name become an extension-resource id")
    func legacyNestedForm() throws {
        let parameters: [String: JSON] = [
            "configurationName": .string("baseline"), "repositoryUrl": .string("https://github.com/contoso/v1"),
        ]
        for aks in [true, false] {
            let context = DeploymentTestClusters.policyContext(aks: aks, parameters: parameters)
            let cluster = aks ? DeploymentTestClusters.aksID : DeploymentTestClusters.arcID
            let resources = try DeploymentEvaluator.desiredResources(
                deployment: DeploymentSamples.legacySourceControl, policyParameters: context, cluster: cluster)
            let parent =
                aks
                ? DeploymentTestClusters.aksPrefix + "Microsoft.ContainerService/managedClusters/aks-weu-01"
                : DeploymentTestClusters.arcPrefix + "Microsoft.Kubernetes/connectedClusters/arc-store-17"
            #expect(
                resources == [
                    DesiredResource(
                        id: parent
                            + "/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/v1-baseline",
                        type: "Microsoft.KubernetesConfiguration/sourceControlConfigurations", name: "v1-baseline",
                        apiVersion: "2021-03-01",
                        body: deploymentJSON(
                            #"""
                            {"properties": {"repositoryUrl": "https://github.com/contoso/v1",
                              "operatorParams": "--git-readonly", "operatorScope": "cluster"}}
                            """#))
                ])
        }
    }

    @Test("variables and dependsOn: by name, by type/name, by id; skipped dependencies dropped")
    func variablesAndDependsOn() throws {
        let context = DeploymentTestClusters.policyContext(aks: true, parameters: [:])
        let resources = try DeploymentEvaluator.desiredResources(
            deployment: DeploymentSamples.withVariables, policyParameters: context,
            cluster: DeploymentTestClusters.aksID)
        let cluster = DeploymentTestClusters.aksPrefix + "Microsoft.ContainerService/managedClusters/aks-weu-01"
        let extensionID = cluster + "/providers/Microsoft.KubernetesConfiguration/extensions/flux"
        let configID = cluster + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/baseline-aks-weu-01"
        #expect(
            resources.map(\.id) == [
                extensionID, configID,
                cluster + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/second",
            ])
        #expect(resources[1].name == "baseline-aks-weu-01")
        #expect(resources[1].body == deploymentJSON(#"{"properties": {"namespace": "baseline-aks-weu-01"}}"#))
        #expect(resources[1].dependsOn == [extensionID])
        #expect(resources[2].dependsOn == [extensionID, configID])
        #expect(resources[2].body == deploymentJSON(#"{"properties": {}}"#))
    }

    @Test("a condition that holds keeps the resource and its dependency")
    func conditionTrueKeepsDependency() throws {
        let deployment = deploymentJSON(
            #"""
            {"properties": {
              "template": {
                "parameters": {"clusterName": {"type": "string"}},
                "resources": [
                  {"condition": true, "type": "Microsoft.KubernetesConfiguration/extensions", "name": "flux",
                   "apiVersion": "2023-05-01",
                   "scope": "[concat('Microsoft.ContainerService/managedClusters/', parameters('clusterName'))]",
                   "properties": {}},
                  {"type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "name": "cfg",
                   "apiVersion": "2023-05-01", "dependsOn": ["flux"],
                   "scope":
            "[concat(resourceGroup().id, '/providers/Microsoft.ContainerService/managedClusters/aks-weu-01')]",
                   "properties": {}}
                ]},
              "parameters": {"clusterName": {"value": "[field('name')]"}}}}
            """#)
        let context = DeploymentTestClusters.policyContext(aks: true, parameters: [:])
        let resources = try DeploymentEvaluator.desiredResources(
            deployment: deployment, policyParameters: context, cluster: DeploymentTestClusters.aksID)
        #expect(resources.count == 2)
        #expect(
            resources[1].id.hasSuffix("aks-weu-01/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/cfg"))
        #expect(resources[1].dependsOn == [resources[0].id])
    }
}
