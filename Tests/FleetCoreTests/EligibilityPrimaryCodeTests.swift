import Foundation
import Testing

@testable import FleetCore

/// `Eligibility.primaryCode` is `evaluate(_:).primary?.code` without the messages: checked on a
/// cluster for every blocking and deferring rule, alone and combined.
@Suite("eligibility primary code")
struct EligibilityPrimaryCodeTests {
    static let sub = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"

    static func aks(
        _ name: String, properties: String = #""provisioningState": "Succeeded""#,
        identity: String = #""identity": {"type": "SystemAssigned"},"#
    ) -> String {
        """
        {"id": "\(sub)/providers/Microsoft.ContainerService/managedClusters/\(name)",
         "type": "Microsoft.ContainerService/managedClusters", "name": "\(name)", "location": "westeurope", \(identity)
         "properties": {\(properties)}}
        """
    }

    static func arc(_ name: String, connectivity: String, state: String = "Succeeded") -> String {
        """
        {"id": "\(sub)/providers/Microsoft.Kubernetes/connectedClusters/\(name)",
         "type": "Microsoft.Kubernetes/connectedClusters", "name": "\(name)", "location": "westeurope",
         "identity": {"type": "SystemAssigned"},
         "properties": {"provisioningState": "\(state)", "connectivityStatus": "\(connectivity)"}}
        """
    }

    static func fluxExtension(_ cluster: String, state: String = "Succeeded", namespaced: Bool = false) -> String {
        let scope =
            namespaced
            ? #"{"namespace": {"targetNamespace": "flux"}}"# : #"{"cluster": {"releaseNamespace": "flux-system"}}"#
        return """
            {"id": "\(sub)/providers/Microsoft.ContainerService/managedClusters/\(cluster)/providers/Microsoft.KubernetesConfiguration/extensions/flux",
             "type": "Microsoft.KubernetesConfiguration/extensions", "name": "flux",
             "properties": {"extensionType": "microsoft.flux", "provisioningState": "\(state)", "currentVersion": "1.19.5", "scope": \(scope)}}
            """
    }

    static func configuration(_ cluster: String, state: String) -> String {
        """
        {"id": "\(sub)/providers/Microsoft.ContainerService/managedClusters/\(cluster)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/base",
         "type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "name": "base",
         "properties": {"provisioningState": "\(state)", "sourceKind": "GitRepository"}}
        """
    }

    @Test("agrees with the full verdict on every blocking and deferring rule")
    func agreesWithEvaluate() throws {
        let records = [
            Self.aks("ok"),
            Self.aks("spn", identity: ""),
            Self.aks("failed", properties: #""provisioningState": "Failed""#),
            Self.aks("updating", properties: #""provisioningState": "Updating""#),
            Self.aks("stopped", properties: #""provisioningState": "Succeeded", "powerState": {"code": "Stopped"}"#),
            Self.aks(
                "stopped-updating", properties: #""provisioningState": "Updating", "powerState": {"code": "stopped"}"#),
            Self.aks("spn-failed", properties: #""provisioningState": "failed""#, identity: ""),
            Self.aks(
                "msi", properties: #""provisioningState": "Succeeded", "servicePrincipalProfile": {"clientId": "MSI"}"#),
            Self.aks(
                "spn-client",
                properties: #""provisioningState": "Succeeded", "servicePrincipalProfile": {"clientId": "1f2e"}"#
            ),
            Self.aks("user-assigned", identity: #""identity": {"type": "userAssigned"},"#),
            Self.aks("both-identities", identity: #""identity": {"type": "SystemAssigned, UserAssigned"},"#),
            Self.aks("escaped-state", properties: #""provisioningState": "Up\u0064ating""#),
            Self.aks("empty-state", properties: #""provisioningState": """#),
            Self.aks("number-state", properties: #""provisioningState": 3"#),
            Self.aks("namespaced"), Self.fluxExtension("namespaced", namespaced: true),
            Self.aks("ext-busy"), Self.fluxExtension("ext-busy", state: "Updating"),
            Self.aks("ext-failed"), Self.fluxExtension("ext-failed", state: "Failed"),
            Self.aks("config-busy"), Self.fluxExtension("config-busy"),
            Self.configuration("config-busy", state: "Creating"),
            Self.arc("arc-ok", connectivity: "Connected"),
            Self.arc("arc-expired", connectivity: "Expired"),
            Self.arc("arc-agents", connectivity: "AgentNotInstalled"),
            Self.arc("arc-offline", connectivity: "offline"),
            Self.arc("arc-connecting", connectivity: "Connecting"),
            Self.arc("arc-offline-failed", connectivity: "Offline", state: "Failed"),
        ]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("eligibility-\(UUID().uuidString).json")
        try Data("[\(records.joined(separator: ",\n"))]".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let fleet = try SnapshotReader.load(path: url.path).fleet
        #expect(fleet.clusters.count == 24)
        var codes: Set<String> = []
        for cluster in fleet.clusters {
            let expected = Eligibility.evaluate(cluster).primary?.code
            #expect(Eligibility.primaryCode(cluster) == expected, "\(cluster.name)")
            if let expected { codes.insert(expected) }
        }
        // Every rule that can be a primary reason here was exercised (fluxV1Present: the demo fleet).
        #expect(
            codes == [
                "aksServicePrincipal", "clusterFailed", "clusterBusy", "aksStopped", "extensionNotClusterScoped",
                "extensionBusy", "configurationBusy", "arcExpired", "arcAgentNotInstalled", "arcOffline",
                "arcConnecting",
            ])
    }
}
