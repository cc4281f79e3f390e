/// The tenant and subscriptions a fleet lives in.
struct FleetTopology: Sendable {
    var tenantId: String
    var subscriptions: [String]

    /// A tenant and `subscriptions` subscriptions derived from the seed; by default `max(1, ⌈clusters / 1000⌉)`.
    ///
    /// The ids come from one generator in order, so a fleet with the default count keeps its bytes and a larger
    /// count only adds subscriptions after the default ones.
    init(seed: UInt64, clusters: Int, subscriptions requested: Int? = nil) {
        var rng = SplitMix64(seed, 0x7E_4A47)
        var w = ByteWriter(capacity: 36)
        w.guidText(rng.next(), rng.next())
        tenantId = String(decoding: w.bytes, as: UTF8.self)
        let count = max(1, requested ?? (clusters + 999) / 1000)
        subscriptions = (0..<count).map { _ in
            var g = ByteWriter(capacity: 36)
            g.guidText(rng.next(), rng.next())
            return String(decoding: g.bytes, as: UTF8.self)
        }
    }

    init(tenantId: String, subscriptions: [String]) {
        self.tenantId = tenantId
        self.subscriptions = subscriptions
    }
}

/// An Azure region and the short code used in cluster names.
struct Region: Sendable {
    let name: String
    let code: String
    let weight: Int

    /// Twelve regions; the weights (summing to 100) favour the large ones.
    static let all: [Region] = [
        Region(name: "westeurope", code: "weu", weight: 15),
        Region(name: "northeurope", code: "neu", weight: 9),
        Region(name: "eastus", code: "eus", weight: 14),
        Region(name: "eastus2", code: "eus2", weight: 8),
        Region(name: "westus2", code: "wus2", weight: 8),
        Region(name: "centralus", code: "cus", weight: 8),
        Region(name: "uksouth", code: "uks", weight: 7),
        Region(name: "francecentral", code: "frc", weight: 5),
        Region(name: "germanywestcentral", code: "gwc", weight: 6),
        Region(name: "swedencentral", code: "sec", weight: 5),
        Region(name: "southeastasia", code: "sea", weight: 8),
        Region(name: "australiaeast", code: "aue", weight: 7),
    ]

    static func draw(_ rng: inout SplitMix64) -> Region {
        var roll = rng.below(100)
        for region in all {
            if roll < region.weight { return region }
            roll -= region.weight
        }
        return all[0]
    }
}

/// Who a cluster is: everything that stays the same whatever happens to its Flux resources.
///
/// A generated cluster's identity comes from (seed, index); every other detail of its records is
/// drawn from generators seeded by the hash of its resource id (plus its case and a variant salt for
/// the children), so a cluster read back from a previous fleet can be regenerated exactly.
struct ClusterIdentity: Sendable {
    var kind: ClusterKind
    var name: String
    var id: String
    var location: String
    var resourceGroup: String
    var subscriptionId: String
    var tenantId: String
    /// The `env` tag: prod, staging or dev.
    var env: String
    /// Whether an AKS cluster has an ARM64 node pool.
    var armPool: Bool
    /// The `tags` object of a cluster read from a previous fleet, kept verbatim.
    var tagsJSON: String?
    /// `stableHash` of the id: the root of every generator of this cluster.
    var hash: UInt64

    /// The resource group of a cluster of `kind` in environment `env`: seven per subscription.
    static func resourceGroup(kind: ClusterKind, env: String) -> String {
        switch kind {
        case .aks: "rg-aks-\(env)"
        case .arc: env == "prod" ? "rg-arc-stores" : "rg-arc-\(env)"
        case .provisioned: "rg-hci-sites"
        }
    }

    /// The cluster name: kind prefix, region code and the zero-padded index (`aks-weu-000042`).
    static func name(kind: ClusterKind, region: Region, index: Int) -> String {
        let prefix =
            switch kind {
            case .aks: "aks"
            case .arc: "arc"
            case .provisioned: "hci"
            }
        var digits = String(index)
        if digits.utf8.count < 6 { digits = String(repeating: "0", count: 6 - digits.utf8.count) + digits }
        return "\(prefix)-\(region.code)-\(digits)"
    }

    /// The index encoded at the end of a generated cluster name (six or more digits), or nil.
    static func index(fromName name: String) -> Int? {
        let digits = name.utf8.reversed().prefix { ($0 &- UInt8(ascii: "0")) < 10 }
        guard digits.count >= 6, digits.count <= 15 else { return nil }
        var value = 0
        for byte in digits.reversed() { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
        return value
    }

    /// Draws the identity and case of cluster `index` of a fleet.
    static func draw(index: Int, topology: FleetTopology, rng: inout SplitMix64) -> (ClusterIdentity, FleetCase) {
        let kindRoll = rng.below(100)
        let kind: ClusterKind = kindRoll < 60 ? .aks : kindRoll < 93 ? .arc : .provisioned
        let region = Region.draw(&rng)
        let subscription = topology.subscriptions[rng.below(topology.subscriptions.count)]
        let envRoll = rng.below(100)
        let env: String
        if kind == .aks {
            env = envRoll < 45 ? "prod" : envRoll < 70 ? "staging" : "dev"
        } else {
            env = envRoll < 70 ? "prod" : envRoll < 85 ? "staging" : "dev"
        }
        let fleetCase = CaseMix.draw(for: kind, &rng)
        let armPool = kind == .aks && (fleetCase == .oldExtension || rng.chance(perMille: 20))
        let name = Self.name(kind: kind, region: region, index: index)
        let group = resourceGroup(kind: kind, env: env)
        let provider =
            kind == .aks
            ? "Microsoft.ContainerService/managedClusters" : "Microsoft.Kubernetes/connectedClusters"
        let id = "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/\(provider)/\(name)"
        let identity = ClusterIdentity(
            kind: kind, name: name, id: id, location: region.name, resourceGroup: group,
            subscriptionId: subscription, tenantId: topology.tenantId, env: env, armPool: armPool, tagsJSON: nil,
            hash: stableHash(lowercasing: id))
        return (identity, fleetCase)
    }
}

/// The non-baseline Flux configurations a team may own on a cluster (left alone by FluxFleet).
enum ExtraConfig: CaseIterable, Sendable {
    /// `team-apps`: namespace scope, Azure DevOps HTTPS source with `localAuthRef`.
    case teamApps
    /// `plant-telemetry`: a Bucket source (MinIO) with `localAuthRef`.
    case bucketTelemetry
    /// `edge-config`: an SSH source with `sshKnownHosts` and a `repositoryPublicKey`.
    case sshEdge
    /// `platform-certs`: an HTTPS source with `httpsUser` and `httpsCACert`.
    case httpsCerts
}

/// Everything decided about one cluster before its records are written.
///
/// Making the plan draws the same numbers as writing it, so a plan can be made twice (to count
/// records for an envelope, then to write) with the same result.
struct ClusterPlan: Sendable {
    let identity: ClusterIdentity
    let fleetCase: FleetCase
    /// Separates regenerations of the same cluster and case (0 in a fresh fleet).
    let salt: UInt64
    /// A non-Flux extension (Azure Monitor on Arc, Dapr on AKS) that readers must ignore.
    var otherExtension = false
    var otherExtensionCamel = false
    var fluxExtension = false
    var fluxExtensionCamel = false
    var baselineConfig = false
    var extraConfig: ExtraConfig?
    var sourceControl = false
    /// The generator for the children's details, positioned after the plan's own draws.
    var rng: SplitMix64

    init(identity: ClusterIdentity, fleetCase: FleetCase, salt: UInt64) {
        self.identity = identity
        self.fleetCase = fleetCase
        self.salt = salt
        var traits = SplitMix64(identity.hash, 2)
        let otherRoll = traits.below(1000)
        let otherCamel = traits.chance(perMille: 100)
        let fluxCamel = traits.chance(perMille: 100)
        let extraRoll = traits.below(1000)
        let extraKind = ExtraConfig.allCases[traits.below(ExtraConfig.allCases.count)]
        rng = SplitMix64(identity.hash, 3, salt &* 0x100 &+ UInt64(FleetCase.allCases.firstIndex(of: fleetCase)!))

        let clusterTakesExtensions = fleetCase != .servicePrincipal && fleetCase != .arcExpired
        otherExtension = clusterTakesExtensions && otherRoll < (identity.kind == .aks ? 30 : 120)
        otherExtensionCamel = otherCamel
        fluxExtension = fleetCase != .noExtension && clusterTakesExtensions && fleetCase != .fluxV1
        fluxExtensionCamel = fluxCamel
        switch fleetCase {
        case .onBaseline, .driftedBranch, .driftedKustomization, .suspended, .nonCompliant, .pending,
            .arcOffline, .oldExtension:
            baselineConfig = true
        case .aksStopped:
            baselineConfig = rng.chance(perMille: 500)
        default:
            baselineConfig = false
        }
        if fleetCase.hasHealthyFluxExtension && extraRoll < 80 { extraConfig = extraKind }
        sourceControl = fleetCase == .fluxV1
    }

    /// The number of records the cluster writes: its row and its children.
    var recordCount: Int {
        1 + (otherExtension ? 1 : 0) + (fluxExtension ? 1 : 0) + (baselineConfig ? 1 : 0)
            + (extraConfig == nil ? 0 : 1) + (sourceControl ? 1 : 0)
    }
}
