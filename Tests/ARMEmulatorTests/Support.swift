import FleetCore
import Foundation
import Testing

@testable import ARMEmulator

/// Hand-written fleets and request helpers for the emulator's tests.
enum Fixture {
    static let subscription = "6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e"
    static let tenant = "1e2d3c4b-5a69-4788-9aab-bccddeeff001"
    static let extensionsVersion = "2025-03-01"
    static let configurationsVersion = "2025-04-01"

    static func aksID(_ name: String, group: String = "rg-test") -> String {
        "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/Microsoft.ContainerService/managedClusters/\(name)"
    }

    static func arcID(_ name: String, group: String = "rg-edge") -> String {
        "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/Microsoft.Kubernetes/connectedClusters/\(name)"
    }

    /// An AKS cluster row; `identity: false` makes it a service-principal cluster.
    static func aks(_ name: String, identity: Bool = true, power: String = "Running") -> String {
        let identityJSON =
            identity
            ? #"{"type": "SystemAssigned", "principalId": "00000000-1111-4222-8333-444455556666", "tenantId": "\#(tenant)"}"#
            : "null"
        let client = identity ? "msi" : "9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e"
        return #"""
            {"id": "\#(aksID(name))", "name": "\#(name)", "type": "microsoft.containerservice/managedclusters",
             "tenantId": "\#(tenant)", "kind": "", "location": "westeurope", "resourceGroup": "rg-test",
             "subscriptionId": "\#(subscription)", "tags": {"env": "test"}, "identity": \#(identityJSON),
             "properties": {"provisioningState": "Succeeded", "powerState": {"code": "\#(power)"},
               "kubernetesVersion": "1.33", "servicePrincipalProfile": {"clientId": "\#(client)"},
               "agentPoolProfiles": [{"name": "system", "mode": "System", "count": 3, "vmSize": "Standard_D4ds_v5",
                 "osType": "Linux", "powerState": {"code": "\#(power)"}}]}}
            """#
    }

    /// An Arc connected cluster row with a connectivity status.
    static func arc(_ name: String, connectivity: String = "Connected") -> String {
        #"""
        {"id": "\#(arcID(name))", "name": "\#(name)", "type": "microsoft.kubernetes/connectedclusters",
         "tenantId": "\#(tenant)", "location": "eastus", "tags": {},
         "identity": {"type": "SystemAssigned", "principalId": "00000000-2222-4333-8444-555566667777"},
         "properties": {"provisioningState": "Succeeded", "connectivityStatus": "\#(connectivity)",
           "lastConnectivityTime": "2026-11-21T17:55:03.123Z", "agentVersion": "1.24.4", "distribution": "k3s"}}
        """#
    }

    /// A Flux extension record in Resource Graph's PascalCase shape.
    static func fluxExtension(on clusterID: String, state: String = "Succeeded", name: String = "flux") -> String {
        #"""
        {"id": "\#(clusterID)/providers/Microsoft.KubernetesConfiguration/extensions/\#(name)", "name": "\#(name)",
         "type": "microsoft.kubernetesconfiguration/extensions", "tenantId": "\#(tenant)", "location": "",
         "identity": null, "properties": {"ExtensionType": "microsoft.flux", "ProvisioningState": "\#(state)",
           "InstallState": "Installed", "AutoUpgradeMinorVersion": true, "ReleaseTrain": "Stable", "Version": null,
           "InstalledVersion": "1.18.1", "Scope": {"cluster": {"ReleaseNamespace": "flux-system"}},
           "ConfigurationSettings": {"multiTenancy.enforce": "false"}, "Statuses": [], "ErrorInfo": null}}
        """#
    }

    /// A Flux v1 configuration in ARM GET shape.
    static func fluxV1(on clusterID: String, name: String = "legacy") -> String {
        #"""
        {"id": "\#(clusterID)/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/\#(name)",
         "name": "\#(name)", "type": "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
         "properties": {"repositoryUrl": "git@example.com:team/legacy.git", "operatorNamespace": "legacy",
           "operatorType": "Flux", "provisioningState": "Succeeded"}}
        """#
    }

    /// A fleet from record texts (a JSON array is built around them).
    static func fleet(_ records: [String]) -> Fleet {
        let text = "[" + records.joined(separator: ",\n") + "]"
        do {
            let set = try JSONRecords.read(JSONBytes(text, source: "fixture"))
            return try Fleet.assemble(set.records.map { InventoryRecord(document: $0, file: "fixture") })
        } catch {
            fatalError("fixture must load: \(error)")
        }
    }

    /// A state over a fleet with throttling off unless given.
    static func state(_ records: [String], configure: (inout EmulatorConfiguration) -> Void = { _ in }) -> EmulatorState
    {
        var configuration = EmulatorConfiguration()
        configuration.throttling = nil
        configuration.resourceGraphQuota = nil
        configure(&configuration)
        return EmulatorState(inventory: fleet(records), configuration: configuration)
    }

    /// The bundled demo fleet.
    static let demoPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fleet-examples/demo").path

    static let demo: Fleet = {
        do {
            return try SnapshotReader.load(path: demoPath).fleet
        } catch {
            fatalError("demo fleet must load: \(error)")
        }
    }()

    /// The baseline Flux configuration of the demo README.
    static let baselineConfiguration = #"""
        {"properties": {"scope": "cluster", "namespace": "flux-system", "sourceKind": "GitRepository",
          "suspend": false,
          "gitRepository": {"url": "https://github.com/contoso/fleet-gitops", "repositoryRef": {"branch": "main"},
            "syncIntervalInSeconds": 600, "timeoutInSeconds": 600},
          "kustomizations": {
            "infra": {"path": "./infrastructure", "prune": true},
            "apps": {"path": "./apps", "dependsOn": ["infra"], "prune": true}},
          "configurationProtectedSettings": {"httpsKey": "c2VjcmV0LWNhbmFyeQ=="}}}
        """#

    /// The baseline Flux extension.
    static let baselineExtension = #"""
        {"properties": {"extensionType": "microsoft.flux", "autoUpgradeMinorVersion": true, "releaseTrain": "Stable",
          "scope": {"cluster": {"releaseNamespace": "flux-system"}},
          "configurationSettings": {"multiTenancy.enforce": "false"}}}
        """#
}

/// Request helpers.
extension EmulatorState {
    /// Sends a request with an api-version (pass nil to leave it out).
    mutating func send(
        _ method: String, _ path: String, apiVersion: String? = nil, query: [ARMQueryItem] = [], body: String? = nil,
        headers: [String: String] = [:]
    ) -> ARMResponse {
        var items = query
        if let apiVersion { items.insert(ARMQueryItem(name: "api-version", value: apiVersion), at: 0) }
        let request = ARMRequest(
            method: method, path: path, query: items, headers: headers, body: body.map { Array($0.utf8) } ?? [])
        return ARMEmulator.handle(request, in: &self)
    }

    /// Follows a URL the emulator returned (`Azure-AsyncOperation`, `Location`, `nextLink`).
    mutating func follow(_ url: String, method: String = "GET") -> ARMResponse {
        ARMEmulator.handle(ARMRequest(method: method, url: url), in: &self)
    }

    /// PUTs an extension.
    mutating func putExtension(_ clusterID: String, name: String = "flux", body: String = Fixture.baselineExtension)
        -> ARMResponse
    {
        send(
            "PUT", "\(clusterID)/providers/Microsoft.KubernetesConfiguration/extensions/\(name)",
            apiVersion: Fixture.extensionsVersion, body: body)
    }

    /// PUTs a fluxConfiguration.
    mutating func putConfiguration(
        _ clusterID: String, name: String = "gitops-baseline", body: String = Fixture.baselineConfiguration
    ) -> ARMResponse {
        send(
            "PUT", "\(clusterID)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/\(name)",
            apiVersion: Fixture.configurationsVersion, body: body)
    }

    /// GETs a child resource.
    mutating func getChild(_ clusterID: String, _ type: ChildType, _ name: String) -> ARMResponse {
        send(
            "GET", "\(clusterID)/providers/Microsoft.KubernetesConfiguration/\(type.rawValue)/\(name)",
            apiVersion: type.apiVersions[0])
    }
}

extension EmulatorState {
    /// A token from the emulator's Entra ID endpoint (client secret flow) for `scope`.
    mutating func issueToken(
        scope: String = "https://management.azure.com/.default", clientID: String = "app-1", secret: String = "s3cret"
    ) -> String {
        let form =
            "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(secret)&scope="
            + PercentEncoding.encode(scope)
        let answer = ARMEmulator.handle(
            ARMRequest(method: "POST", url: "/\(Fixture.tenant)/oauth2/v2.0/token", body: Array(form.utf8)), in: &self)
        return answer.json["access_token"]?.string ?? "no-token-issued"
    }
}

extension ARMResponse {
    /// The body parsed as JSON.
    var json: JSON {
        (try? JSON.parse(text, source: "response")) ?? .null
    }

    /// `error.code` of an ARM error body.
    var errorCode: String? { json["error"]?["code"]?.string }

    /// `properties.<name>` of a resource body as a string.
    func property(_ name: String) -> String? { json["properties"]?[name]?.string }
}
