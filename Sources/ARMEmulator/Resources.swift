import FleetCore

/// The `Microsoft.KubernetesConfiguration` child resource types a cluster holds.
public enum ChildType: String, Sendable, Hashable, CaseIterable {
    /// Cluster extensions (`microsoft.flux` and any other).
    case extensions
    /// Flux v2 configurations.
    case fluxConfigurations
    /// Flux v1 configurations (retired; they block the Flux v2 extension).
    case sourceControlConfigurations

    /// The ARM type: `Microsoft.KubernetesConfiguration/extensions`, ….
    public var armType: String { "Microsoft.KubernetesConfiguration/\(rawValue)" }

    /// The api-versions ARM accepts for the type, newest stable first.
    public var apiVersions: [String] {
        switch self {
        case .extensions:
            ["2025-03-01", "2024-11-01", "2023-05-01", "2022-11-01", "2022-07-01", "2022-03-01", "2021-09-01"]
        case .fluxConfigurations:
            [
                "2025-04-01", "2024-11-01", "2023-05-01", "2022-11-01", "2022-07-01", "2022-03-01",
                "2026-07-01-preview",
            ]
        case .sourceControlConfigurations:
            ["2024-11-01", "2023-05-01", "2022-11-01", "2022-07-01", "2022-03-01", "2021-03-01"]
        }
    }

    /// The type for a path segment, compared ignoring case.
    init?(segment: String) {
        guard let type = Self.allCases.first(where: { ASCII.equalsIgnoringCase($0.rawValue, segment) }) else {
            return nil
        }
        self = type
    }
}

extension ClusterKind {
    /// The api-versions ARM accepts for the cluster type.
    var apiVersions: [String] {
        switch self {
        case .managedClusters:
            ["2026-08-01", "2026-07-01", "2026-06-01", "2026-05-01", "2026-04-01", "2025-10-01", "2025-07-01"]
        case .connectedClusters: ["2026-05-01", "2026-03-01", "2024-01-01", "2021-10-01", "2021-03-01"]
        case .provisionedClusters: ["2024-01-01", "2022-09-01-preview"]
        }
    }
}

/// A child resource of a cluster as the emulator holds it.
public struct EmulatedResource: Sendable, Hashable {
    /// The resource's id, cased as it was first written.
    public var id: String
    /// Its type.
    public var type: ChildType
    /// The ARM GET body (without the lazily rendered `statusUpdatedAt` of a reporting Flux agent).
    public var body: JSON
    /// The id of the long-running operation in flight on it, if any.
    public var operationID: String?
    /// When a `Pending` fluxConfiguration turns `Compliant` (or `Suspended`), if scheduled.
    public var complianceDueAt: Int64?

    /// The resource's name: the last segment of its id.
    public var name: String { String(id.split(separator: "/").last ?? "") }

    /// `properties.provisioningState`.
    public var provisioningState: String? { body.value(atPath: "properties", "provisioningState")?.string }

    /// `properties.extensionType` of an extension.
    public var extensionType: String? { body.value(atPath: "properties", "extensionType")?.string }

    /// Whether this is the `microsoft.flux` extension.
    public var isFluxExtension: Bool {
        type == .extensions && extensionType.map { ASCII.equalsIgnoringCase($0, "microsoft.flux") } == true
    }
}

/// A cluster as the emulator holds it: read-only facts, its ARM body and its child resources.
public struct EmulatedCluster: Sendable, Hashable {
    /// The cluster's id as read from the inventory.
    public var id: String
    /// Its kind.
    public var kind: ClusterKind
    /// The ARM GET body.
    public var body: JSON
    /// The tenant the inventory named (Resource Graph's `tenantId` column), if any.
    public var tenantId: String?
    /// The child resources by type, then by lowercased name.
    public var children: [ChildType: [String: EmulatedResource]] = [:]

    /// Whether an AKS cluster uses a managed identity (always true for Arc).
    public var usesManagedIdentity: Bool
    /// AKS `powerState.code`.
    public var powerState: String?
    /// Arc `connectivityStatus`.
    public var connectivityStatus: String?

    /// `properties.provisioningState` of the cluster.
    public var provisioningState: String? { body.value(atPath: "properties", "provisioningState")?.string }

    /// Whether the cluster is an AKS cluster whose power state is `Stopped`.
    public var isStopped: Bool {
        kind == .managedClusters && powerState.map { ASCII.equalsIgnoringCase($0, "Stopped") } == true
    }

    /// Whether the cluster's agents can act on a change: anything but an Arc cluster that is `Offline`,
    /// `Expired`, `Connecting` or `AgentNotInstalled`, or a stopped AKS cluster.
    public var agentReachable: Bool {
        if isStopped { return false }
        guard kind != .managedClusters, let connectivityStatus else { return true }
        return ASCII.equalsIgnoringCase(connectivityStatus, "Connected")
    }

    /// The children of one type, ordered by name ignoring case.
    public func children(_ type: ChildType) -> [EmulatedResource] {
        (children[type] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }

    /// The child of a type by name, ignoring case.
    public func child(_ type: ChildType, _ name: String) -> EmulatedResource? {
        children[type]?[ASCII.lowercased(name)]
    }

    /// The `microsoft.flux` extension, whatever its name.
    public var fluxExtension: EmulatedResource? {
        children(.extensions).first(where: \.isFluxExtension)
    }
}

/// A long-running operation (an ARM asynchronous operation) on a child resource.
public struct LongRunningOperation: Sendable, Hashable {
    /// What the operation does.
    public enum Action: String, Sendable, Hashable {
        /// A PUT that created the resource.
        case create
        /// A PUT or PATCH of an existing resource.
        case update
        /// A DELETE.
        case delete
    }

    /// ARM's operation status values.
    public enum Status: String, Sendable, Hashable {
        /// Still running.
        case inProgress = "InProgress"
        /// Finished well.
        case succeeded = "Succeeded"
        /// Finished with an error.
        case failed = "Failed"
        /// Superseded (the resource was force-deleted).
        case canceled = "Canceled"

        /// Whether the operation is over.
        public var isTerminal: Bool { self != .inProgress }
    }

    /// The operation id (GUID-shaped, deterministic).
    public var id: String
    /// The id of the resource it acts on.
    public var resourceID: String
    /// The cluster's id.
    public var clusterID: String
    /// The resource's type.
    public var type: ChildType
    /// What it does.
    public var action: Action
    /// The api-version of the request that started it (echoed in the polling URLs).
    public var apiVersion: String
    /// Its status.
    public var status: Status
    /// When it started (virtual milliseconds).
    public var startTime: Int64
    /// When it ended, once terminal.
    public var endTime: Int64?
    /// When it will end; nil when it never will (stuck, or an Arc cluster that is not connected).
    public var dueAt: Int64?
    /// Whether it will end `Failed` (an injected fault).
    public var willFail: Bool
    /// The error of a failed or canceled operation: ARM error `code` and `message`.
    var error: (code: String, message: String)? {
        get { errorCode.map { ($0, errorMessage ?? "") } }
        set {
            errorCode = newValue?.code
            errorMessage = newValue?.message
        }
    }
    /// The error code of a failed operation.
    public var errorCode: String?
    /// The error message of a failed operation.
    public var errorMessage: String?
    /// The order in which operations started.
    public var sequence: Int
    /// How long after success a fluxConfiguration turns compliant.
    var complianceDelay: Int64 = 0
    /// The version an extension reports once installed, when none is pinned.
    var installVersion: String = "1.0.0"
}
