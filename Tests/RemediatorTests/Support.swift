import ARMEmulator
import FleetCore
import Foundation
import Planner
import PolicyEngine
import Remediator
import Testing

/// The emulator's pure core as a transport and a clock: sleeping moves the emulator's virtual clock.
final class EmulatorHarness: ARMTransport, RemediationClock {
    var state: EmulatorState
    /// Every request sent, in order (method and URL).
    private(set) var sent: [(method: String, url: String, at: Int64)] = []
    /// After this many more requests every request fails as unreachable (a crash of the network path).
    var failAfter: Int?
    /// The bodies of the requests sent, as text.
    private(set) var bodies: [String] = []

    init(_ state: EmulatorState) {
        self.state = state
    }

    var now: Int64 { state.now }

    func sleep(until time: Int64) {
        if time > state.now { state.advance(to: time) }
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        if let remaining = failAfter {
            if remaining <= 0 { throw .unreachable("simulated outage") }
            failAfter = remaining - 1
        }
        sent.append((request.method, request.url, state.now))
        bodies.append(String(decoding: request.body, as: UTF8.self))
        let answer = ARMEmulator.handle(
            ARMRequest(method: request.method, url: request.url, headers: request.headers, body: request.body),
            in: &state)
        if answer.kind == .droppedConnection { throw .droppedConnection }
        return ARMHTTPResponse(status: answer.status, headers: answer.headers, body: answer.body)
    }

    /// Writes sent (PUT, PATCH, DELETE).
    var writes: [(method: String, url: String, at: Int64)] { sent.filter { $0.method != "GET" } }

    /// The resource ids written, lowercased, in order.
    var writtenResources: [String] { writes.map { String($0.url.split(separator: "?")[0]).lowercased() } }
}

/// The repository's root, for the demo fleet and the policies.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The fleet and policy bundle of the demo, loaded as `fluxfleet plan` loads them.
struct DemoInputs {
    let fleet: Fleet
    let bundle: PolicyBundle

    init() throws {
        fleet = try SnapshotReader.load(path: repositoryRoot.appendingPathComponent("fleet-examples/demo").path).fleet
        let loaded = PolicyLoader.load(
            directory: repositoryRoot.appendingPathComponent("policies").path, aliasValidator: AliasCatalog.isKnown)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        #expect(errors.isEmpty, "policy problems: \(errors)")
        bundle = loaded.bundle
    }

    /// Scans and plans a fleet with the demo's policies at the emulator's time.
    func plan(_ fleet: Fleet, at now: Int64, options: PlanOptions = PlanOptions()) -> Plan {
        let scan = PolicyEvaluator.scan(
            fleet: fleet, bundle: bundle, options: ScanOptions(now: EmulatorClock.iso8601(now)))
        return Planner.plan(scan: scan, fleet: fleet, bundle: bundle, options: options)
    }
}

/// Reloads an emulator snapshot as an inventory.
func reload(_ state: EmulatorState) throws -> Fleet {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "remediator-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("snapshot.json")
    try Data(state.snapshot()).write(to: file)
    return try SnapshotReader.load(path: file.path).fleet
}

/// Secrets resolved from a dictionary keyed by the reference's text.
struct DictionarySecrets: SecretResolver {
    var values: [String: String]

    func resolve(_ reference: JSON) throws -> String {
        var writer = JSONWriter()
        writer.value(reference)
        guard let value = values[writer.text] else {
            throw RemediationFailure(
                code: "SecretUnresolved", message: "no secret for \(writer.text)", remedy: "add it")
        }
        return value
    }
}

/// Generated fleets: `count` AKS clusters with managed identity in one subscription, without Flux.
enum GeneratedFleet {
    static let subscription = "7d2c1b0a-9e8f-4a6b-8c5d-3e2f1a0b9c8d"

    /// The `number`th subscription (0 is ``subscription``).
    static func subscription(_ number: Int) -> String {
        number == 0 ? subscription : String(format: "7d2c1b0a-9e8f-4a6b-8c5d-%012x", number)
    }

    static func clusterID(_ index: Int, subscription: String = subscription) -> String {
        "/subscriptions/\(subscription)/resourceGroups/rg-gen/providers/Microsoft.ContainerService/managedClusters/aks-\(index)"
    }

    /// `servicePrincipal` lists the clusters without a managed identity (ARM refuses their extension); cluster `i`
    /// is in subscription `i % subscriptions`.
    static func fleet(_ count: Int, servicePrincipal: Set<Int> = [], subscriptions: Int = 1) throws -> Fleet {
        let records = (0..<count).map { index in
            let subscription = Self.subscription(index % subscriptions)
            let identity =
                servicePrincipal.contains(index)
                ? "null" : #"{"type": "SystemAssigned", "principalId": "00000000-1111-4222-8333-444455556666"}"#
            let client = servicePrincipal.contains(index) ? "9b8c7d6e-5f4a-4b3c-9d2e-1f0a9b8c7d6e" : "msi"
            return #"""
                {"id": "\#(clusterID(index, subscription: subscription))", "name": "aks-\#(index)", "type": "microsoft.containerservice/managedclusters",
                 "location": "westeurope", "resourceGroup": "rg-gen", "subscriptionId": "\#(subscription)", "tags": {},
                 "identity": \#(identity),
                 "properties": {"provisioningState": "Succeeded", "powerState": {"code": "Running"},
                   "servicePrincipalProfile": {"clientId": "\#(client)"}}}
                """#
        }
        let set = try JSONRecords.read(JSONBytes("[" + records.joined(separator: ",") + "]", source: "generated"))
        return try Fleet.assemble(set.records.map { InventoryRecord(document: $0, file: "generated") })
    }

    /// One plan per cluster: install the extension with `body`.
    static func plans(_ fleet: Fleet, body: JSON) -> [ClusterPlan] {
        fleet.clusters.map { cluster in
            ClusterPlan(
                clusterId: cluster.id.description, name: cluster.name, fingerprint: "", decision: .change, reason: nil,
                actions: [
                    PlanAction(
                        kind: .installExtension,
                        resourceId: cluster.id.description
                            + "/providers/Microsoft.KubernetesConfiguration/extensions/flux",
                        resourceType: "Microsoft.KubernetesConfiguration/extensions", apiVersion: "2025-03-01",
                        body: body, diff: [], reason: "missing", assignmentIds: [])
                ])
        }
    }

    static let extensionBody: JSON = .object([
        "properties": .object([
            "extensionType": .string("microsoft.flux"), "autoUpgradeMinorVersion": .bool(true),
            "scope": .object(["cluster": .object(["releaseNamespace": .string("flux-system")])]),
        ])
    ])
}
