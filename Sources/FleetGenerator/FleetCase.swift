/// The situation a generated cluster is in with respect to the Flux v2 GitOps baseline.
///
/// Every generated cluster has exactly one case. The case decides which child resources exist
/// (the `flux` extension, the `gitops-baseline` configuration, a Flux v1 configuration) and the
/// few cluster properties that matter for eligibility (identity, power state, connectivity).
/// Unrelated extras — a non-Flux extension, a team-owned configuration — are added independently.
public enum FleetCase: String, CaseIterable, Sendable {
    /// Healthy `flux` extension 1.19.5 and a compliant `gitops-baseline` exactly as the baseline says.
    case onBaseline
    /// No Flux extension and no configuration.
    case noExtension
    /// A healthy `flux` extension but no `gitops-baseline` configuration.
    case extensionOnly
    /// `gitops-baseline` follows another branch than `main`.
    case driftedBranch
    /// `gitops-baseline` has a changed kustomization path or an extra kustomization.
    case driftedKustomization
    /// `gitops-baseline` is suspended (`suspend: true`, `complianceState` `Suspended`).
    case suspended
    /// `gitops-baseline` matches the baseline but a Flux object fails to reconcile (`Non-Compliant`).
    case nonCompliant
    /// `gitops-baseline` was just created and has not reported yet (`complianceState` `Pending`).
    case pending
    /// An AKS cluster with a service principal instead of a managed identity (`identity` null).
    case servicePrincipal
    /// A retired Flux v1 `sourceControlConfigurations` resource is present; no Flux v2 extension.
    case fluxV1
    /// An Arc cluster whose agents stopped reporting days ago (`connectivityStatus` `Offline`).
    case arcOffline
    /// An Arc cluster offline so long that its identity certificate expired (`Expired`).
    case arcExpired
    /// An AKS cluster that is stopped (`powerState.code` `Stopped`).
    case aksStopped
    /// The `flux` extension failed to install (`Failed`, with error details).
    case extensionFailed
    /// An old, pinned `flux` extension 1.6.x (ARM64 node pool clusters left behind).
    case oldExtension

    /// Whether the case only applies to AKS managed clusters.
    var aksOnly: Bool {
        self == .servicePrincipal || self == .aksStopped || self == .oldExtension
    }

    /// Whether the case only applies to Arc connected clusters.
    var arcOnly: Bool { self == .arcOffline || self == .arcExpired }

    /// Whether a working `flux` extension exists in this case.
    var hasHealthyFluxExtension: Bool {
        switch self {
        case .noExtension, .servicePrincipal, .fluxV1, .arcExpired, .extensionFailed: false
        default: true
        }
    }

    /// The cluster-level state the case implies (what the cluster row shows).
    var clusterState: ClusterState {
        switch self {
        case .servicePrincipal: .servicePrincipal
        case .aksStopped: .stopped
        case .arcOffline: .offline
        case .arcExpired: .expired
        default: .normal
        }
    }
}

/// What a cluster row says about the cluster itself, independent of its Flux resources.
enum ClusterState: Equatable {
    case normal
    case servicePrincipal
    case stopped
    case offline
    case expired
}

/// The three kinds of cluster in a fleet.
enum ClusterKind: Equatable {
    /// `microsoft.containerservice/managedclusters`.
    case aks
    /// `microsoft.kubernetes/connectedclusters` (generic Arc: k3s, OpenShift, EKS, …).
    case arc
    /// `microsoft.kubernetes/connectedclusters` with `kind: ProvisionedCluster` (AKS on Azure Local).
    case provisioned

    var isArc: Bool { self != .aks }
}

/// Case weights per 10,000 clusters of one kind.
///
/// The overall mix targets: 55 % on the baseline, 8 % no extension, 5 % extension only, 5 % each
/// drifted branch / drifted kustomization, 3 % suspended, 3 % non-compliant, 1 % pending, 2 % Flux v1,
/// 2 % extension failed; AKS-only cases (2 % service principal, 2 % stopped, 3 % old extension) are
/// scaled by 1/0.6 inside AKS, Arc-only cases (3 % offline, 1 % expired) by 1/0.4 inside Arc.
enum CaseMix {
    static let aks: [(FleetCase, Int)] = [
        (.onBaseline, 5459), (.noExtension, 794), (.extensionOnly, 496), (.driftedBranch, 496),
        (.driftedKustomization, 496), (.suspended, 298), (.nonCompliant, 298), (.pending, 99),
        (.fluxV1, 199), (.extensionFailed, 199), (.servicePrincipal, 333), (.aksStopped, 333),
        (.oldExtension, 500),
    ]
    static let arc: [(FleetCase, Int)] = [
        (.onBaseline, 5562), (.noExtension, 809), (.extensionOnly, 506), (.driftedBranch, 506),
        (.driftedKustomization, 506), (.suspended, 303), (.nonCompliant, 303), (.pending, 101),
        (.fluxV1, 202), (.extensionFailed, 202), (.arcOffline, 750), (.arcExpired, 250),
    ]

    static func draw(for kind: ClusterKind, _ rng: inout SplitMix64) -> FleetCase {
        let table = kind == .aks ? aks : arc
        var roll = rng.below(10_000)
        for (fleetCase, weight) in table {
            if roll < weight { return fleetCase }
            roll -= weight
        }
        return .onBaseline
    }
}
