import FleetCore
import Foundation
import Testing

@testable import ARMEmulator

/// Seeding from an inventory, dumping it back, and the Resource Graph endpoint over it.
@Suite("inventory, snapshot and Resource Graph")
struct InventoryTests {
    /// Writes a snapshot to a temporary file and reads it with FleetCore's reader.
    static func reload(_ bytes: [UInt8]) throws -> Fleet {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "arm-emulator-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("state.json")
        try Data(bytes).write(to: file)
        return try SnapshotReader.load(path: file.path).fleet
    }

    /// What a cluster looks like to the planner, for comparing fleets.
    static func summary(_ cluster: Cluster) -> String {
        let ext =
            cluster.fluxExtension.map { "\($0.name) \($0.provisioningState ?? "-") \($0.version ?? "-")" } ?? "none"
        let configs = cluster.fluxConfigurations.map {
            "\($0.name):\($0.provisioningState ?? "-"):\($0.complianceState ?? "-"):\($0.kustomizations)"
        }
        let verdict = Eligibility.evaluate(cluster)
        return [
            cluster.id.normalized, cluster.kind.rawValue, cluster.location,
            "\(cluster.tags.sorted { $0.key < $1.key })",
            ext, configs.joined(separator: ","), cluster.fluxV1Configurations.map(\.name).joined(separator: ","),
            cluster.otherExtensions.joined(separator: ","), verdict.decision, verdict.primary?.code ?? "",
            verdict.advisories.map(\.code).joined(separator: ","),
        ].joined(separator: " | ")
    }

    @Test("the demo fleet survives a snapshot round trip through SnapshotReader")
    func roundTrip() throws {
        let state = EmulatorState(inventory: Fixture.demo)
        let reloaded = try Self.reload(state.snapshot())
        #expect(reloaded.clusters.count == 17)
        #expect(reloaded.findings.isEmpty, "\(reloaded.findings)")
        #expect(reloaded.clusters.map(Self.summary) == Fixture.demo.clusters.map(Self.summary))
        // A second round trip is byte-identical.
        let again = EmulatorState(inventory: reloaded)
        #expect(again.snapshot() == state.snapshot())
    }

    @Test("Resource Graph's PascalCase extension records are stored in ARM's camelCase")
    func camelCase() throws {
        let id =
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-prod-weu/providers/Microsoft.ContainerService/managedClusters/aks-prod-weu-01"
        var state = EmulatorState(inventory: Fixture.demo)
        let response = state.getChild(id, .extensions, "flux")
        #expect(response.status == 200)
        #expect(response.json["type"]?.string == "Microsoft.KubernetesConfiguration/extensions")
        #expect(response.property("extensionType") == "microsoft.flux")
        #expect(response.property("currentVersion") == "1.19.5")
        #expect(response.json["properties"]?["scope"]?["cluster"]?["releaseNamespace"]?.string == "flux-system")
        #expect(response.json["properties"]?["configurationSettings"]?["multiTenancy.enforce"]?.string == "false")
        #expect(response.json["tenantId"] == nil)
        #expect(response.json["properties"]?["ExtensionType"] == nil)
    }

    @Test("the seeded state keeps each cluster's facts and finds resources by id, ignoring case")
    func facts() throws {
        let state = EmulatorState(inventory: Fixture.demo)
        let sub = "/subscriptions/5c2e3a9d-8f47-4b6e-9a31-2d0c7e5f1a84/resourceGroups"
        let spn = try #require(
            state.cluster(
                "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-legacy/providers/Microsoft.ContainerService/managedClusters/aks-legacy-spn"
            ))
        #expect(!spn.usesManagedIdentity)
        let stopped = try #require(
            state.cluster("\(sub)/rg-dev/providers/Microsoft.ContainerService/managedClusters/aks-dev-stopped"))
        #expect(stopped.isStopped && !stopped.agentReachable)
        #expect(stopped.provisioningState == "Succeeded")
        let offline = try #require(
            state.cluster("\(sub)/RG-EDGE-STORES/providers/microsoft.kubernetes/connectedclusters/ARC-STORE-042"))
        #expect(offline.connectivityStatus == "Offline" && !offline.agentReachable)
        let hci = try #require(
            state.cluster(
                "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg-edge-hci/providers/Microsoft.Kubernetes/connectedClusters/arc-hci-plant-01"
            ))
        #expect(hci.kind == .connectedClusters && hci.agentReachable)
        #expect(hci.children(.extensions).count == 2)
        #expect(hci.fluxExtension?.name == "flux")
        let v1 = state.resource(
            "\(sub)/rg-dev/providers/Microsoft.ContainerService/managedClusters/aks-dev-fluxv1/providers/microsoft.kubernetesconfiguration/SOURCECONTROLCONFIGURATIONS/Legacy-Config"
        )
        #expect(v1?.type == .sourceControlConfigurations)
        #expect(v1?.name == "legacy-config")
        #expect(
            state.resource("\(sub)/rg-dev/providers/Microsoft.ContainerService/managedClusters/aks-dev-fluxv1") == nil)
        #expect(state.tenantId == "72f988bf-86f1-41af-91ab-2d7cd011db47")
    }

    /// Runs a query through every page; returns the rows and the number of pages.
    static func query(_ state: inout EmulatorState, _ text: String, top: Int, subscriptions: [String]? = nil) -> (
        [JSON], Int
    ) {
        var rows: [JSON] = []
        var pages = 0
        var token: String?
        repeat {
            var options: [String: JSON] = ["$top": .int(top), "resultFormat": .string("objectArray")]
            if let token { options["$skipToken"] = .string(token) }
            var body: [String: JSON] = ["query": .string(text), "options": .object(options)]
            if let subscriptions { body["subscriptions"] = .array(subscriptions.map(JSON.string)) }
            let response = ARMEmulator.handle(
                ARMRequest(
                    method: "POST", url: "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
                    body: JSON.object(body).bytes), in: &state)
            #expect(response.status == 200, "\(response.text)")
            guard case .array(let data)? = response.json["data"] else { break }
            #expect(response.json["count"] == .int(data.count))
            #expect(response.json["resultTruncated"]?.string == "false")
            rows += data
            pages += 1
            token = response.json["$skipToken"]?.string
        } while token != nil && pages < 100
        return (rows, pages)
    }

    @Test("Resource Graph pages reassemble the whole inventory")
    func resourceGraphPaging() throws {
        var state = EmulatorState(inventory: Fixture.demo)
        let (clusters, clusterPages) = Self.query(
            &state,
            "resources | where type in~ ('microsoft.containerservice/managedclusters','microsoft.kubernetes/connectedclusters') | order by id asc",
            top: 4)
        #expect(clusterPages == 5)
        #expect(clusters.count == 17)
        #expect(clusters.allSatisfy { $0["type"]?.string == $0["type"]?.string?.lowercased() })
        #expect(clusters.allSatisfy { $0["subscriptionId"]?.string != nil && $0["tenantId"]?.string != nil })
        let (children, childPages) = Self.query(&state, "kubernetesconfigurationresources", top: 5)
        #expect(children.count == 22)
        #expect(childPages == 5)
        // The pages, saved as Resource Graph responses would be, are the same fleet.
        let records = (clusters + children).map { String(decoding: $0.bytes, as: UTF8.self) }
        let bytes = Array(("[" + records.joined(separator: ",\n") + "]").utf8)
        let reloaded = try Self.reload(bytes)
        #expect(reloaded.clusters.map(Self.summary) == Fixture.demo.clusters.map(Self.summary))
    }

    @Test("resourceGraphMaxPageSize caps a page whatever $top asks, and the pages still hold every row once")
    func resourceGraphPageCap() {
        var configuration = EmulatorConfiguration()
        configuration.resourceGraphMaxPageSize = 3
        configuration.resourceGraphQuota = nil
        var state = EmulatorState(inventory: Fixture.demo, configuration: configuration)
        let (clusters, pages) = Self.query(&state, "resources", top: 1000)
        #expect(pages == 6)
        #expect(clusters.count == 17)
        #expect(Set(clusters.compactMap { $0["id"]?.string?.lowercased() }).count == 17)
        // A smaller $top still wins.
        let (_, smallPages) = Self.query(&state, "resources", top: 2)
        #expect(smallPages == 9)
    }

    @Test("Resource Graph filters by subscription and type")
    func resourceGraphFilters() {
        var state = EmulatorState(inventory: Fixture.demo)
        let (a, _) = Self.query(
            &state, "resources", top: 1000, subscriptions: ["0B1F6471-1BF0-4DDA-AEC3-CB9272F09590"])
        #expect(a.count == 8)
        let (arc, _) = Self.query(
            &state, "resources | where type =~ 'Microsoft.Kubernetes/connectedClusters'", top: 100)
        #expect(arc.count == 4)
        let (v1, _) = Self.query(
            &state,
            "kubernetesconfigurationresources | where type == 'microsoft.kubernetesconfiguration/sourcecontrolconfigurations'",
            top: 100)
        #expect(v1.compactMap { $0["name"]?.string } == ["legacy-config"])
    }

    struct BadQuery: Sendable, CustomTestStringConvertible {
        var body: String
        var message: String
        var testDescription: String { body }
    }

    static let badQueries: [BadQuery] = [
        BadQuery(
            body: #"{"query": "securityresources"}"#, message: "'resources' and 'kubernetesconfigurationresources'"),
        BadQuery(body: #"{"query": "resources | project id, name"}"#, message: "does not support '| project id, name'"),
        BadQuery(body: #"{"query": "resources | where type in~ ()"}"#, message: "names no type"),
        BadQuery(body: #"{"options": {}}"#, message: "no 'query'"),
        BadQuery(body: #"{"query": "resources", "options": {"$top": 5000}}"#, message: "$top must be"),
        BadQuery(body: #"{"query": "resources", "options": {"$skipToken": "nonsense"}}"#, message: "was not returned"),
        BadQuery(body: "{", message: "not valid JSON"),
    ]

    @Test("Resource Graph refuses what it cannot answer with 400 InvalidQuery", arguments: badQueries)
    func resourceGraphErrors(_ row: BadQuery) {
        var state = EmulatorState(inventory: Fixture.demo)
        let response = ARMEmulator.handle(
            ARMRequest(
                method: "POST", url: "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
                body: Array(row.body.utf8)), in: &state)
        #expect(response.status == 400)
        #expect(response.errorCode == "BadRequest")
        let detail = response.json["error"]?["details"]
        guard case .array(let details)? = detail, let first = details.first else {
            Issue.record("no details: \(response.text)")
            return
        }
        #expect(first["code"]?.string == "InvalidQuery")
        #expect(first["message"]?.string?.contains(row.message) == true, "\(response.text)")
    }

    @Test("Resource Graph's quota: 15 queries per 5 s, then 429 until the window resets")
    func resourceGraphQuota() {
        var configuration = EmulatorConfiguration()
        configuration.resourceGraphQuota = .standard
        var state = EmulatorState(inventory: Fixture.demo, configuration: configuration)
        let request = ARMRequest(
            method: "POST", url: "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
            body: Array(#"{"query": "resources"}"#.utf8))
        for remaining in stride(from: 14, through: 0, by: -1) {
            let response = ARMEmulator.handle(request, in: &state)
            #expect(response.status == 200)
            #expect(response.header("x-ms-user-quota-remaining") == String(remaining))
            #expect(response.header("x-ms-user-quota-resets-after") == "00:00:05")
        }
        let throttled = ARMEmulator.handle(request, in: &state)
        #expect(throttled.status == 429)
        #expect(throttled.errorCode == "RateLimiting")
        #expect(throttled.header("Retry-After") == "5")
        state.advance(by: 5_000)
        #expect(ARMEmulator.handle(request, in: &state).status == 200)
    }

    @Test("the token endpoint answers client credentials with a bearer token")
    func token() {
        var state = EmulatorState(inventory: Fixture.demo)
        let form =
            "grant_type=client_credentials&client_id=app-1&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        let ok = ARMEmulator.handle(
            ARMRequest(method: "POST", url: "https://login.example/tenant-1/oauth2/v2.0/token", body: Array(form.utf8)),
            in: &state)
        #expect(ok.status == 200)
        #expect(ok.json["token_type"]?.string == "Bearer")
        #expect(ok.json["expires_in"] == .int(3599))
        #expect(ok.json["access_token"]?.string?.isEmpty == false)
        #expect(!ok.text.contains("s3cret"))
        let bad = ARMEmulator.handle(
            ARMRequest(method: "POST", url: "/tenant-1/oauth2/v2.0/token", body: Array("client_id=app-1".utf8)),
            in: &state)
        #expect(bad.status == 400)
        #expect(bad.json["error"]?.string == "invalid_request")
        #expect(bad.json["error_description"]?.string?.contains("grant_type") == true)
    }
}
