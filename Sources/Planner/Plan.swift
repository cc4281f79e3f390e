import FleetCore

/// What the plan decides for one cluster.
public enum PlanDecision: String, Sendable, CaseIterable {
    /// The cluster needs changes and can take them now: see the actions.
    case change
    /// The cluster is on the baseline; nothing to do.
    case noop
    /// The cluster needs a change that cannot be made until a person fixes the cause (reason + remedy).
    case blocked
    /// The cluster needs a change that cannot be made now; a later run retries (reason + remedy).
    case deferred
    /// The cluster is deliberately left alone: exempt, DoNotEnforce or tagged "never touch".
    case skipped
}

/// The kind of one action, in the order actions run on a cluster.
public enum PlanActionKind: String, Sendable, CaseIterable, Comparable {
    /// Delete a Flux v1 `sourceControlConfigurations` resource (only with `--migrate-flux-v1`).
    case deleteFluxV1 = "delete-flux-v1"
    /// PUT the `microsoft.flux` extension where there is none.
    case installExtension = "install-extension"
    /// Re-PUT the extension: it is `Failed`, or a non-version field drifted.
    case repairExtension = "repair-extension"
    /// PUT the extension to move it to a supported version (version fields drifted, too old for a feature, or
    /// outside N-2 support).
    case upgradeExtension = "upgrade-extension"
    /// PUT a Flux configuration that does not exist.
    case createConfiguration = "create-configuration"
    /// PUT a Flux configuration whose fields drifted (or that is `Failed`).
    case updateConfiguration = "update-configuration"
    /// Delete and re-create a Flux configuration whose scope or namespace changed (only with `--allow-replace`):
    /// destructive when prune is on.
    case replaceConfiguration = "replace-configuration"

    /// Orders by execution order: Flux v1 deletion, extension, configurations.
    public static func < (lhs: PlanActionKind, rhs: PlanActionKind) -> Bool { lhs.stage < rhs.stage }

    /// 0: Flux v1 deletion, 1: the extension, 2: configurations.
    var stage: Int {
        switch self {
        case .deleteFluxV1: 0
        case .installExtension, .repairExtension, .upgradeExtension: 1
        case .createConfiguration, .updateConfiguration, .replaceConfiguration: 2
        }
    }

    /// The Terraform-like marker of the human view: `+`, `~`, `-/+` or `-`.
    public var symbol: String {
        switch self {
        case .installExtension, .createConfiguration: "+"
        case .repairExtension, .upgradeExtension, .updateConfiguration: "~"
        case .replaceConfiguration: "-/+"
        case .deleteFluxV1: "-"
        }
    }
}

/// One field that an action changes: the observed value before, the desired value after.
public struct PlanDiffEntry: Sendable, Hashable {
    /// The path in the resource, such as `properties.kustomizations.apps.path`.
    public var path: String
    /// The observed value (nil when absent or null), credentials masked.
    public var before: JSON?
    /// The desired value (nil when the PUT removes it), credentials masked.
    public var after: JSON?

    /// Creates an entry.
    public init(path: String, before: JSON?, after: JSON?) {
        self.path = path
        self.before = before
        self.after = after
    }
}

/// One ARM operation the plan wants on a cluster.
public struct PlanAction: Sendable, Hashable {
    /// What the action does.
    public var kind: PlanActionKind
    /// The full ARM id of the resource the request goes to.
    public var resourceId: String
    /// The resource type, such as `Microsoft.KubernetesConfiguration/fluxConfigurations`.
    public var resourceType: String
    /// The API version of the request.
    public var apiVersion: String
    /// The PUT body, nil for a deletion.
    ///
    /// Secret references stay `{"$secretReference": …}`; literal secrets and URL credentials are masked, so a
    /// body with ``Redaction/mask`` cannot be sent as it is.
    public var body: JSON?
    /// The field-level difference from the strict view (empty for a resource that does not exist yet).
    public var diff: [PlanDiffEntry]
    /// Why the action is there: `missing`, `drift`, `nonCompliant`, `failed`, an eligibility advisory code
    /// (`extensionOutsideSupport`, …), `scopeChanged` or `fluxV1Present`.
    public var reason: String
    /// The assignments that want the resource (empty for a Flux v1 deletion).
    public var assignmentIds: [String]

    /// Creates an action.
    public init(
        kind: PlanActionKind, resourceId: String, resourceType: String, apiVersion: String, body: JSON?,
        diff: [PlanDiffEntry], reason: String, assignmentIds: [String]
    ) {
        self.kind = kind
        self.resourceId = resourceId
        self.resourceType = resourceType
        self.apiVersion = apiVersion
        self.body = body
        self.diff = diff
        self.reason = reason
        self.assignmentIds = assignmentIds
    }
}

/// A reason a cluster is blocked, deferred or skipped: a stable code, what is wrong and how to fix it.
public struct PlanReason: Sendable, Hashable {
    /// The stable code: an eligibility-table code or a planner code (see ``PlannerCode``).
    public var code: String
    /// What is wrong on this cluster.
    public var message: String
    /// What to do about it.
    public var remedy: String

    /// Creates a reason.
    public init(code: String, message: String, remedy: String) {
        self.code = code
        self.message = message
        self.remedy = remedy
    }
}

/// The plan for one cluster.
public struct ClusterPlan: Sendable, Hashable {
    /// The cluster's ARM id as read.
    public var clusterId: String
    /// The cluster's name.
    public var name: String
    /// The fingerprint of the observed state the decision rests on (see ``Fingerprint``).
    public var fingerprint: String
    /// The decision.
    public var decision: PlanDecision
    /// The deciding reason for blocked, deferred and skipped (nil for change and noop).
    public var reason: PlanReason?
    /// Every other reason of the same weight or lower that also applies (blocked, then deferred).
    public var otherReasons: [PlanReason]
    /// The actions, in execution order (only for `change`).
    public var actions: [PlanAction]

    /// Creates a cluster plan.
    public init(
        clusterId: String, name: String, fingerprint: String, decision: PlanDecision, reason: PlanReason?,
        otherReasons: [PlanReason] = [], actions: [PlanAction] = []
    ) {
        self.clusterId = clusterId
        self.name = name
        self.fingerprint = fingerprint
        self.decision = decision
        self.reason = reason
        self.otherReasons = otherReasons
        self.actions = actions
    }
}

/// What the plan was made from: pinned so that `apply` can tell whether its inputs still hold.
public struct PlanInputs: Sendable, Hashable {
    /// The inventory path as given.
    public var inventory: String
    /// A digest of the inventory files' bytes.
    public var inventoryDigest: String
    /// The policies directory as given.
    public var policies: String
    /// The policy bundle's digest (``PolicyBundle/digest``).
    public var policiesDigest: String
    /// The evaluation time, ISO 8601 UTC.
    public var evaluatedAt: String

    /// Creates inputs.
    public init(
        inventory: String = "", inventoryDigest: String = "", policies: String = "", policiesDigest: String = "",
        evaluatedAt: String = ""
    ) {
        self.inventory = inventory
        self.inventoryDigest = inventoryDigest
        self.policies = policies
        self.policiesDigest = policiesDigest
        self.evaluatedAt = evaluatedAt
    }
}

/// How the planner decides.
public struct PlanOptions: Sendable, Hashable {
    /// The default "never touch" tag: a cluster tagged `fluxfleet.io/never-touch=true` is skipped.
    public static let defaultNeverTouchTag = "fluxfleet.io/never-touch"

    /// Allow `replace-configuration` (scope or namespace changed); without it such a cluster is blocked.
    public var allowReplace: Bool
    /// Delete Flux v1 configurations before installing Flux v2; without it such a cluster is blocked.
    public var migrateFluxV1: Bool
    /// Remediate DoNotEnforce assignments too; without it their clusters are skipped.
    public var includeDoNotEnforce: Bool
    /// The tag name that marks a cluster "never touch" (its value must be `true`, ignoring case).
    public var neverTouchTag: String
    /// The `microsoft.flux` version catalog (N-2 support and feature minimums).
    public var catalog: FluxVersionCatalog

    /// Creates options; the defaults are the safe ones.
    public init(
        allowReplace: Bool = false, migrateFluxV1: Bool = false, includeDoNotEnforce: Bool = false,
        neverTouchTag: String = PlanOptions.defaultNeverTouchTag, catalog: FluxVersionCatalog = .builtIn
    ) {
        self.allowReplace = allowReplace
        self.migrateFluxV1 = migrateFluxV1
        self.includeDoNotEnforce = includeDoNotEnforce
        self.neverTouchTag = neverTouchTag
        self.catalog = catalog
    }
}

/// A plan: one decision per cluster in scope, with the inputs and options it was made from.
public struct Plan: Sendable, Hashable {
    /// The plan document's format version (DESIGN §9).
    public static let formatVersion = 1

    /// What the plan was made from.
    public var inputs: PlanInputs
    /// How it was made.
    public var options: PlanOptions
    /// One entry per cluster in scope, in inventory order.
    public var clusters: [ClusterPlan]

    /// Creates a plan.
    public init(inputs: PlanInputs, options: PlanOptions, clusters: [ClusterPlan]) {
        self.inputs = inputs
        self.options = options
        self.clusters = clusters
    }

    /// Clusters per decision.
    public var summary: [PlanDecision: Int] {
        var counts: [PlanDecision: Int] = [:]
        for decision in PlanDecision.allCases { counts[decision] = 0 }
        for cluster in clusters { counts[cluster.decision, default: 0] += 1 }
        return counts
    }

    /// Actions per kind over every cluster.
    public var actionCounts: [PlanActionKind: Int] {
        var counts: [PlanActionKind: Int] = [:]
        for cluster in clusters {
            for action in cluster.actions { counts[action.kind, default: 0] += 1 }
        }
        return counts
    }

    /// Whether any cluster has a `change` decision (`--detailed-exitcode` exits 2).
    public var hasChanges: Bool { clusters.contains { $0.decision == .change } }
}
