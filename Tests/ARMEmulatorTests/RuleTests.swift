import FleetCore
import Foundation
import Testing

@testable import ARMEmulator

/// The server-side rules, each with its ARM error code.
@Suite("server-side rules")
struct RuleTests {
    static let aks = Fixture.aksID("aks-01")

    @Test("a write under a locked scope answers 409 ScopeLocked naming the lock; reads and other scopes go on")
    func scopeLocked() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.aks("aks-02")]) {
            $0.lockedScopes = [Self.aks.uppercased()]
        }
        let refused = state.putExtension(Self.aks)
        #expect(refused.status == 409)
        #expect(refused.errorCode == "ScopeLocked")
        #expect(refused.text.contains("locked: '\(Self.aks.uppercased())'"))
        #expect(state.getChild(Self.aks, .extensions, "flux").status == 404, "reads are not locked")
        #expect(state.putExtension(Fixture.aksID("aks-02")).status == 201)
    }

    @Test("a fluxConfiguration before the microsoft.flux extension is refused")
    func configurationNeedsExtension() {
        var state = Fixture.state([Fixture.aks("aks-01")])
        let refused = state.putConfiguration(Self.aks)
        #expect(refused.status == 400)
        #expect(refused.errorCode == "BadRequest")
        #expect(refused.json["error"]?["target"]?.string == "microsoft.flux")
        #expect(refused.text.contains("not installed"))
    }

    @Test("a fluxConfiguration while the extension is still Creating is refused, then accepted once Succeeded")
    func configurationWaitsForSucceeded() {
        var state = Fixture.state([Fixture.aks("aks-01")])
        #expect(state.putExtension(Self.aks).status == 201)
        let early = state.putConfiguration(Self.aks)
        #expect(early.status == 400)
        #expect(early.text.contains("'Creating'"))
        state.advance(by: state.configuration.extensionProvisioningDelay)
        #expect(state.putConfiguration(Self.aks).status == 201)
    }

    @Test("a Failed extension does not admit configurations")
    func failedExtension() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks, state: "Failed")])
        let refused = state.putConfiguration(Self.aks)
        #expect(refused.status == 400)
        #expect(refused.text.contains("'Failed'"))
    }

    @Test("Flux v1 configurations block the extension until they are deleted")
    func fluxV1Blocks() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxV1(on: Self.aks)])
        let refused = state.putExtension(Self.aks)
        #expect(refused.status == 400)
        #expect(refused.errorCode == "ExtensionOperationFailed")
        #expect(refused.text.contains("legacy"))
        let delete = state.send(
            "DELETE", "\(Self.aks)/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/legacy",
            apiVersion: "2024-11-01")
        #expect(delete.status == 202)
        state.advance(by: state.configuration.deletionDelay)
        #expect(state.putExtension(Self.aks).status == 201)
    }

    @Test("an AKS cluster with a service principal rejects extensions")
    func servicePrincipal() {
        var state = Fixture.state([Fixture.aks("aks-01", identity: false)])
        let refused = state.putExtension(Self.aks)
        #expect(refused.status == 400)
        #expect(refused.errorCode == "ExtensionOperationFailed")
        #expect(refused.text.contains("managed identity"))
        #expect(state.getChild(Self.aks, .extensions, "flux").status == 404)
    }

    @Test("a stopped AKS cluster accepts writes, but their operations stay InProgress while it is stopped")
    func stopped() throws {
        var state = Fixture.state([Fixture.aks("aks-01", power: "Stopped"), Fixture.fluxExtension(on: Self.aks)])
        let put = state.putConfiguration(Self.aks)
        #expect(put.status == 201)
        let delete = state.send(
            "DELETE", "\(Self.aks)/providers/Microsoft.KubernetesConfiguration/extensions/flux",
            apiVersion: Fixture.extensionsVersion)
        #expect(delete.status == 202)
        state.advance(by: 7 * 24 * 3_600_000)
        #expect(state.follow(try #require(put.header("Azure-AsyncOperation"))).json["status"]?.string == "InProgress")
        #expect(
            state.follow(try #require(delete.header("Azure-AsyncOperation"))).json["status"]?.string == "InProgress")
        #expect(
            state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline").property("provisioningState") == "Creating"
        )
        #expect(state.getChild(Self.aks, .extensions, "flux").property("provisioningState") == "Deleting")
    }

    @Test(
        "an Offline or Expired Arc cluster accepts the PUT but the operation never completes",
        arguments: ["Offline", "Expired"])
    func arcDisconnected(_ connectivity: String) throws {
        let arc = Fixture.arcID("arc-01")
        var state = Fixture.state([Fixture.arc("arc-01", connectivity: connectivity)])
        let put = state.putExtension(arc)
        #expect(put.status == 201)
        // Arc extensions get a system-assigned identity.
        #expect(put.json["identity"]?["type"]?.string == "SystemAssigned")
        state.advance(by: 7 * 24 * 3_600_000)
        let status = state.follow(try #require(put.header("Azure-AsyncOperation")))
        #expect(status.json["status"]?.string == "InProgress")
        #expect(state.getChild(arc, .extensions, "flux").property("provisioningState") == "Creating")
        // forceDelete removes it without the agent.
        let force = state.send(
            "DELETE", "\(arc)/providers/Microsoft.KubernetesConfiguration/extensions/flux",
            apiVersion: Fixture.extensionsVersion, query: [ARMQueryItem(name: "forceDelete", value: "true")])
        #expect(force.status == 200)
        #expect(state.follow(try #require(put.header("Azure-AsyncOperation"))).json["status"]?.string == "Canceled")
        #expect(state.getChild(arc, .extensions, "flux").status == 404)
    }

    @Test("changing scope or namespace of a fluxConfiguration is refused", arguments: ["scope", "namespace"])
    func immutable(_ property: String) {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)])
        #expect(state.putConfiguration(Self.aks).status == 201)
        state.advance(by: 3_600_000)
        let changed =
            property == "scope"
            ? Fixture.baselineConfiguration.replacingOccurrences(
                of: #""scope": "cluster""#, with: #""scope": "namespace""#)
            : Fixture.baselineConfiguration.replacingOccurrences(
                of: #""namespace": "flux-system""#, with: #""namespace": "team-a""#)
        let put = state.putConfiguration(Self.aks, body: changed)
        #expect(put.status == 400)
        #expect(put.errorCode == "PropertyChangeNotAllowed")
        #expect(put.json["error"]?["target"]?.string == "properties.\(property)")
        let patch = state.send(
            "PATCH", "\(Self.aks)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-baseline",
            apiVersion: Fixture.configurationsVersion, body: #"{"properties": {"\#(property)": "other"}}"#)
        #expect(patch.status == 400)
        #expect(patch.errorCode == "PropertyChangeNotAllowed")
        // The same values (any case) are fine.
        #expect(state.putConfiguration(Self.aks).status == 200)
    }

    @Test("a second microsoft.flux extension under another name is refused")
    func singleFluxExtension() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)])
        let refused = state.putExtension(Self.aks, name: "flux2")
        #expect(refused.status == 400)
        #expect(refused.errorCode == "ExtensionOperationFailed")
        #expect(refused.text.contains("'flux'"))
    }
}
