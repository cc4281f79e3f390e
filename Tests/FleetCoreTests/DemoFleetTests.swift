import Foundation
import Testing

@testable import FleetCore

/// The bundled demo fleet: every cluster shows the case the README says it does.
@Suite("demo fleet")
struct DemoFleetTests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fleet-examples/demo").path

    static let inventory: Inventory = {
        do {
            return try SnapshotReader.load(path: demo)
        } catch {
            fatalError("demo fleet must load: \(error)")
        }
    }()

    struct Expectation: Sendable, CustomTestStringConvertible {
        var name: String
        var kind: ClusterKind
        var decision: String
        var reason: String?
        var advisories: [String] = []
        var extensionVersion: String?
        var configurations: [String] = []
        var fluxV1: [String] = []

        var testDescription: String { name }
    }

    static let expectations: [Expectation] = [
        .init(
            name: "aks-prod-weu-01", kind: .managedClusters, decision: "eligible", extensionVersion: "1.19.5",
            configurations: ["gitops-baseline"]),
        .init(name: "aks-prod-neu-02", kind: .managedClusters, decision: "eligible"),
        .init(
            name: "aks-prod-eus-03", kind: .managedClusters, decision: "eligible", extensionVersion: "1.19.5",
            configurations: ["gitops-baseline"]),
        .init(name: "aks-prod-payments", kind: .managedClusters, decision: "eligible"),
        .init(name: "aks-staging-weu-01", kind: .managedClusters, decision: "eligible", extensionVersion: "1.19.5"),
        .init(
            name: "aks-staging-neu-02", kind: .managedClusters, decision: "eligible", extensionVersion: "1.19.5",
            configurations: ["gitops-baseline"]),
        .init(name: "aks-legacy-spn", kind: .managedClusters, decision: "blocked", reason: "aksServicePrincipal"),
        .init(
            name: "arc-hci-plant-01", kind: .connectedClusters, decision: "eligible", extensionVersion: "1.19.5",
            configurations: ["gitops-baseline", "plant-telemetry"]),
        .init(
            name: "aks-dev-fluxv1", kind: .managedClusters, decision: "blocked", reason: "fluxV1Present",
            fluxV1: ["legacy-config"]),
        .init(
            name: "aks-dev-stopped", kind: .managedClusters, decision: "deferred", reason: "aksStopped",
            extensionVersion: "1.19.5"),
        .init(
            name: "aks-dev-extfailed", kind: .managedClusters, decision: "eligible", advisories: ["extensionFailed"]),
        .init(
            name: "aks-dev-arm64", kind: .managedClusters, decision: "eligible",
            advisories: ["extensionTooOldForArm64", "extensionOutsideSupport"], extensionVersion: "1.6.3",
            configurations: ["gitops-baseline"]),
        .init(
            name: "arc-store-017", kind: .connectedClusters, decision: "eligible", extensionVersion: "1.19.5",
            configurations: ["gitops-baseline"]),
        .init(
            name: "arc-store-042", kind: .connectedClusters, decision: "deferred", reason: "arcOffline",
            extensionVersion: "1.19.5", configurations: ["gitops-baseline"]),
        .init(name: "arc-store-099", kind: .connectedClusters, decision: "blocked", reason: "arcExpired"),
        .init(name: "aks-lab-scratch", kind: .managedClusters, decision: "eligible"),
        .init(
            name: "aks-dev-localauth", kind: .managedClusters, decision: "eligible", extensionVersion: "1.19.5",
            configurations: ["team-apps"]),
    ]

    @Test("loads 17 clusters over two subscriptions from three files in three layouts")
    func shape() {
        let fleet = Self.inventory.fleet
        #expect(fleet.clusters.count == 17)
        #expect(Set(fleet.clusters.map(\.subscriptionId)).count == 2)
        #expect(fleet.findings.isEmpty)
        #expect(Set(Self.inventory.files.map(\.layout)) == [.envelope, .ndjson])
        #expect(Self.inventory.files.count == 3)
        #expect(fleet.clusters.filter(\.provisioned).map(\.name) == ["arc-hci-plant-01"])
        #expect(Self.expectations.count == fleet.clusters.count)
    }

    @Test("every demo cluster", arguments: expectations)
    func cluster(_ expected: Expectation) throws {
        let cluster = try #require(Self.inventory.fleet.clusters.first { $0.name == expected.name })
        let verdict = Eligibility.evaluate(cluster)
        #expect(cluster.kind == expected.kind)
        #expect(verdict.decision == expected.decision)
        #expect(verdict.primary?.code == expected.reason)
        #expect(Eligibility.primaryCode(cluster) == expected.reason)
        #expect(verdict.advisories.map(\.code) == expected.advisories)
        #expect(cluster.fluxExtension?.version == expected.extensionVersion)
        #expect(cluster.fluxConfigurations.map(\.name) == expected.configurations)
        #expect(cluster.fluxV1Configurations.map(\.name) == expected.fluxV1)
        if let primary = verdict.primary {
            #expect(!primary.remedy.contains("{"), "remedy template not filled: \(primary.remedy)")
        }
    }

    @Test("facts read in PascalCase (Resource Graph) and camelCase (ARM) alike")
    func casing() throws {
        let fleet = Self.inventory.fleet
        // Subscription A's children come from Resource Graph (PascalCase), B's from ARM GET (camelCase).
        let pascal = try #require(fleet.clusters.first { $0.name == "aks-prod-weu-01" }?.fluxExtension)
        let camel = try #require(fleet.clusters.first { $0.name == "aks-dev-localauth" }?.fluxExtension)
        for ext in [pascal, camel] {
            #expect(ext.provisioningState == "Succeeded")
            #expect(ext.releaseNamespace == "flux-system")
            #expect(ext.autoUpgradeMinorVersion)
            #expect(ext.configurationSettings["multiTenancy.enforce"] == "false")
            #expect(ext.isClusterScoped)
        }
    }

    @Test("configuration sources and their authentication")
    func authentication() throws {
        let fleet = Self.inventory.fleet
        func config(_ cluster: String, _ name: String) throws -> FluxConfiguration {
            try #require(fleet.clusters.first { $0.name == cluster }?.fluxConfigurations.first { $0.name == name })
        }
        #expect(try config("aks-prod-weu-01", "gitops-baseline").authentication == "public")
        #expect(try config("aks-prod-eus-03", "gitops-baseline").authentication == "https-ca")
        #expect(try config("aks-staging-neu-02", "gitops-baseline").authentication == "https")
        #expect(try config("aks-staging-neu-02", "gitops-baseline").reference == "branch:release-2026-10")
        #expect(try config("arc-store-017", "gitops-baseline").authentication == "ssh")
        #expect(try config("arc-store-017", "gitops-baseline").suspend)
        #expect(try config("aks-dev-localauth", "team-apps").authentication == "localAuthRef")
        let bucket = try config("arc-hci-plant-01", "plant-telemetry")
        #expect(bucket.sourceKind == "Bucket")
        #expect(bucket.sourceURL == "https://minio.plant01.contoso.local")
        #expect(try config("aks-prod-eus-03", "gitops-baseline").kustomizations == ["apps", "infra", "monitoring"])
    }

    @Test("cluster facts: identity, power, connectivity, ARM64 pools, location")
    func facts() throws {
        let fleet = Self.inventory.fleet
        let spn = try #require(fleet.clusters.first { $0.name == "aks-legacy-spn" })
        #expect(!spn.usesManagedIdentity)
        let arm = try #require(fleet.clusters.first { $0.name == "aks-dev-arm64" })
        #expect(arm.hasArm64Nodes)
        #expect(arm.arm64NodePools.count == 1)
        let stopped = try #require(fleet.clusters.first { $0.name == "aks-dev-stopped" })
        #expect(stopped.powerState == "Stopped")
        let offline = try #require(fleet.clusters.first { $0.name == "arc-store-042" })
        #expect(offline.connectivityStatus == "Offline")
        #expect(offline.lastConnectivityTime == "2026-11-17T09:12:44Z")
        #expect(fleet.clusters.allSatisfy { !$0.location.contains(" ") && $0.location == $0.location.lowercased() })
        #expect(
            fleet.clusters.first { $0.name == "arc-hci-plant-01" }?.otherExtensions == [
                "microsoft.azuremonitor.containers"
            ])
    }
}
