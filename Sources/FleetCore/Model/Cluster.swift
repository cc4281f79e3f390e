/// The kind of a Kubernetes cluster resource, from its ARM type.
public enum ClusterKind: String, Sendable, CaseIterable, Comparable {
    /// AKS: `Microsoft.ContainerService/managedClusters`.
    case managedClusters
    /// Azure Arc-enabled Kubernetes: `Microsoft.Kubernetes/connectedClusters` (AKS Arc included).
    case connectedClusters
    /// Legacy AKS hybrid: `Microsoft.HybridContainerService/provisionedClusters`.
    case provisionedClusters

    /// The ARM resource type.
    public var resourceType: String {
        switch self {
        case .managedClusters: "Microsoft.ContainerService/managedClusters"
        case .connectedClusters: "Microsoft.Kubernetes/connectedClusters"
        case .provisionedClusters: "Microsoft.HybridContainerService/provisionedClusters"
        }
    }

    /// The kind for an ARM type compared ignoring case, or nil for any other type.
    public init?(resourceType: String) {
        guard let kind = Self.allCases.first(where: { ASCII.equalsIgnoringCase($0.resourceType, resourceType) }) else {
            return nil
        }
        self = kind
    }

    /// Orders by declaration: AKS, Arc, legacy.
    public static func < (lhs: ClusterKind, rhs: ClusterKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// An agent pool of an AKS cluster, reduced to what eligibility needs.
public struct AgentPool: Sendable, Hashable {
    /// The pool's name.
    public var name: String
    /// The VM size, such as `Standard_D4ps_v5`.
    public var vmSize: String
    /// `Linux` or `Windows`.
    public var osType: String
    /// `System` or `User`.
    public var mode: String
    /// The node count.
    public var count: Int

    /// Whether the VM size is an ARM64 (Ampere) size.
    public var isArm64: Bool { VMSize.isArm64(vmSize) }
}

/// Facts about Azure VM size names.
public enum VMSize {
    /// Whether an Azure VM size is ARM64: a lowercase `p` among the feature letters after the
    /// core count, as in `Standard_D4ps_v5`, `Standard_E8pds_v5` or `Standard_B2pls_v2`.
    ///
    /// The size name is the only architecture signal ARM gives for AKS node pools.
    public static func isArm64(_ size: String) -> Bool {
        let bytes = Array(size.utf8)
        let prefix = Array("Standard_".utf8)
        guard bytes.count > prefix.count,
            ASCII.equalsIgnoringCase(String(decoding: bytes[..<prefix.count], as: UTF8.self), "Standard_")
        else {
            return false
        }
        var i = prefix.count
        // Family: upper-case letters.
        let familyStart = i
        while i < bytes.count, (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(bytes[i]) { i += 1 }
        guard i > familyStart else { return false }
        // Core count (constrained-core sizes like D8-4ps would put a '-' here; accept it).
        let digitsStart = i
        while i < bytes.count,
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) || bytes[i] == UInt8(ascii: "-")
        {
            i += 1
        }
        guard i > digitsStart else { return false }
        // Feature letters: lower-case, up to the `_v` version suffix.
        var sawP = false
        while i < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[i]) {
            if bytes[i] == UInt8(ascii: "p") { sawP = true }
            i += 1
        }
        guard sawP, i + 2 <= bytes.count, bytes[i] == UInt8(ascii: "_"), bytes[i + 1] == UInt8(ascii: "v") else {
            return false
        }
        return true
    }
}

/// Azure location names as ARM normalises them.
public enum Location {
    /// `West Europe` → `westeurope`: lowercased, spaces removed.
    public static func normalize(_ name: String) -> String {
        String(String.UnicodeScalarView(ASCII.lowercased(name).unicodeScalars.filter { $0 != " " }))
    }
}

/// One Kubernetes cluster of the fleet: the facts every later stage decides with, its Flux
/// resources, and the raw ARM record for policy evaluation.
///
/// Only the id, the kind and the attached resources are stored; every other fact is read from
/// the record's tape when asked for, so a fleet of 100,000 clusters costs little more than its
/// input. Property names are matched ignoring case (Resource Graph and ARM disagree on casing).
public struct Cluster: ARMRecordFacts, Sendable {
    /// The ARM id as read.
    public var id: ResourceID
    /// The kind, from the resource type.
    public var kind: ClusterKind
    /// The `microsoft.flux` extension, if installed.
    public var fluxExtension: FluxExtension?
    /// Flux v2 configurations, sorted by name.
    public var fluxConfigurations: [FluxConfiguration] = []
    /// Flux v1 `sourceControlConfigurations`, sorted by name.
    public var fluxV1Configurations: [FluxV1Configuration] = []
    /// Other cluster extensions (not `microsoft.flux`): their extension types, sorted.
    public var otherExtensions: [String] = []
    /// The ids of the other extensions, in the order attached.
    var otherExtensionIDs: [ResourceID] = []
    /// The records of the other extensions, in the order attached (for policies on any extension).
    public var otherExtensionResources: [JSONValue] = []
    /// The raw ARM record.
    public var resource: JSONValue

    /// Creates a cluster from its record; children are attached by ``Fleet``.
    public init(resource: JSONValue, id: ResourceID, kind: ClusterKind) {
        self.resource = resource
        self.id = id
        self.kind = kind
    }

    /// Whether this is an AKS Arc cluster (`connectedClusters` with `kind: ProvisionedCluster`).
    public var provisioned: Bool {
        kind == .connectedClusters
            && resource.member(ignoringCase: "kind")?.stringEqualsIgnoringCase("ProvisionedCluster") == true
    }
    /// The cluster's name.
    public var name: String { id.name }
    /// The subscription id.
    public var subscriptionId: String { id.subscriptionId }
    /// The resource group as written in the id.
    public var resourceGroup: String { id.resourceGroup ?? "" }
    /// The normalised location (`westeurope`).
    public var location: String { Location.normalize(nonEmptyString(resource.member(ignoringCase: "location")) ?? "") }
    /// The tags (string values; other JSON values are written as their JSON text).
    public var tags: [String: String] {
        var tags: [String: String] = [:]
        if let tagObject = resource.member(ignoringCase: "tags") {
            for (key, value) in tagObject.members { tags[key] = value.string ?? (value.isNull ? "" : value.rawText) }
        }
        return tags
    }
    /// `identity.type`: `SystemAssigned`, `UserAssigned`, `None`, or nil when absent.
    public var identityType: String? { nonEmptyString(resource.value(atPath: "identity", "type")) }
    /// AKS `servicePrincipalProfile.clientId`: `msi` for managed-identity clusters, else a GUID.
    public var servicePrincipalClientId: String? {
        nonEmptyString(properties?.value(atPath: "servicePrincipalProfile", "clientId"))
    }
    /// `properties.provisioningState`.
    public var provisioningState: String? { property("provisioningState") }
    /// AKS `properties.powerState.code`: `Running` or `Stopped`.
    public var powerState: String? { nonEmptyString(properties?.value(atPath: "powerState", "code")) }
    /// Arc `properties.connectivityStatus`: `Connected`, `Connecting`, `Offline`, `Expired`, `AgentNotInstalled`.
    public var connectivityStatus: String? { property("connectivityStatus") }
    /// Arc `properties.lastConnectivityTime` as written.
    public var lastConnectivityTime: String? { property("lastConnectivityTime") }
    /// The Kubernetes version (AKS `currentKubernetesVersion`, else `kubernetesVersion`).
    public var kubernetesVersion: String? { property("currentKubernetesVersion") ?? property("kubernetesVersion") }
    /// Arc `properties.distribution` (`k3s`, `AKS`, `openshift`, …).
    public var distribution: String? { property("distribution") }
    /// Arc `properties.infrastructure` (`azure_stack_hci`, `generic`, …).
    public var infrastructure: String? { property("infrastructure") }
    /// Arc `properties.agentVersion`.
    public var agentVersion: String? { property("agentVersion") }
    /// AKS agent pools.
    public var agentPools: [AgentPool] {
        guard let profiles = properties?.member(ignoringCase: "agentPoolProfiles") else { return [] }
        return profiles.elements.map { pool in
            AgentPool(
                name: nonEmptyString(pool.member(ignoringCase: "name")) ?? "",
                vmSize: nonEmptyString(pool.member(ignoringCase: "vmSize")) ?? "",
                osType: nonEmptyString(pool.member(ignoringCase: "osType")) ?? "Linux",
                mode: nonEmptyString(pool.member(ignoringCase: "mode")) ?? "",
                count: Int(pool.member(ignoringCase: "count")?.int64 ?? 0))
        }
    }
    /// Whether workload identity is enabled (`securityProfile.workloadIdentity.enabled`).
    public var workloadIdentityEnabled: Bool {
        properties?.value(atPath: "securityProfile", "workloadIdentity", "enabled")?.bool ?? false
    }

    /// Whether the cluster authenticates with a managed identity (AKS) — the extension needs it.
    ///
    /// AKS: `identity.type` is `SystemAssigned` or `UserAssigned` and the service principal
    /// profile says `msi` (or is absent). Arc clusters always have a managed identity.
    public var usesManagedIdentity: Bool {
        guard kind == .managedClusters else { return true }
        // `identityType` and `servicePrincipalClientId`, compared where they stand.
        guard let type = resource.value(atPath: "identity", "type"),
            type.stringEqualsIgnoringCase("SystemAssigned") || type.stringEqualsIgnoringCase("UserAssigned")
        else { return false }
        let clientId = properties?.value(atPath: "servicePrincipalProfile", "clientId")
        guard isNonEmptyString(clientId) else { return true }
        return clientId!.stringEqualsIgnoringCase("msi")
    }

    /// The names of agent pools whose VM size is ARM64.
    public var arm64NodePools: [String] { agentPools.filter(\.isArm64).map(\.name) }

    /// Whether any node pool runs ARM64 nodes.
    public var hasArm64Nodes: Bool {
        guard let profiles = properties?.member(ignoringCase: "agentPoolProfiles") else { return false }
        return profiles.elements.contains { pool in
            pool.member(ignoringCase: "vmSize")?.string.map(VMSize.isArm64) ?? false
        }
    }
}

/// The string of a value when it is a non-empty string; nil for anything else.
func nonEmptyString(_ value: JSONValue?) -> String? {
    guard let value, let s = value.string, !s.isEmpty else { return nil }
    return s
}

/// Whether `value` is a string that is not empty (what ``nonEmptyString(_:)`` returns), without
/// decoding it.
func isNonEmptyString(_ value: JSONValue?) -> Bool {
    guard let value, value.isString else { return false }
    var nonEmpty = false
    if value.withUnescapedStringBytes({ nonEmpty = !$0.isEmpty }) { return nonEmpty }
    return !(value.string ?? "").isEmpty
}
