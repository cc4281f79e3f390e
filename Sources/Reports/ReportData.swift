import PolicyEngine

/// Everything a report renders: one run's results and strict view, plus the history before it.
///
/// The contract between the store (which fills it from SQLite) and the renderers (which turn it
/// into text). Pure values; strings are as read (ids compare case-insensitively), times are
/// ISO 8601 UTC (`2026-11-21T18:00:00Z`), JSON values (actual, target, desired) are compact JSON
/// text as `scan --output json` writes them, with secrets already masked.
public struct ReportData: Sendable {
    /// The run the report is about.
    public var run: ReportRun
    /// The clusters of that run's inventory (in scope or not), in inventory order.
    public var clusters: [ReportCluster]
    /// Azure's view: one row per evaluated resource × assignment × policy reference.
    public var results: [ReportResult]
    /// FluxFleet's strict view: spec drift and runtime health per desired Flux resource.
    public var strict: [ReportStrict]
    /// Earlier runs and this one, oldest first: the trend (empty or one point without history).
    public var trend: [ReportRunPoint]
    /// State intervals inside the report window, oldest first, for time-to-compliance and flapping.
    public var intervals: [ReportInterval]
    /// What is known about the policy definitions the results name (display names, categories); may
    /// be empty: renderers then fall back to the definition's name.
    public var policies: [ReportPolicy]

    /// Creates report data.
    public init(
        run: ReportRun, clusters: [ReportCluster], results: [ReportResult], strict: [ReportStrict],
        trend: [ReportRunPoint] = [], intervals: [ReportInterval] = [], policies: [ReportPolicy] = []
    ) {
        self.run = run
        self.clusters = clusters
        self.results = results
        self.strict = strict
        self.trend = trend
        self.intervals = intervals
        self.policies = policies
    }
}

/// The run a report describes.
public struct ReportRun: Sendable, Hashable {
    /// The store's run id (nil for a report made straight from a scan, without a database).
    public var id: Int64?
    /// `scan`, `plan`, `apply` or `resume`.
    public var kind: String
    /// When the run started (ISO 8601 UTC).
    public var startedAt: String
    /// The evaluation time the policies were judged at (ISO 8601 UTC).
    public var evaluatedAt: String
    /// The inventory path as given.
    public var inventory: String
    /// The policies directory as given.
    public var policies: String
    /// The digest of the policy files.
    public var policiesDigest: String

    /// Creates a run description.
    public init(
        id: Int64?, kind: String, startedAt: String, evaluatedAt: String, inventory: String, policies: String,
        policiesDigest: String
    ) {
        self.id = id
        self.kind = kind
        self.startedAt = startedAt
        self.evaluatedAt = evaluatedAt
        self.inventory = inventory
        self.policies = policies
        self.policiesDigest = policiesDigest
    }
}

/// A cluster's identity and the facts reports group by.
public struct ReportCluster: Sendable, Hashable {
    /// The ARM id as read.
    public var id: String
    /// The cluster name.
    public var name: String
    /// `managedClusters` or `connectedClusters`.
    public var kind: String
    /// Whether a connectedClusters resource is an AKS Arc (`kind: ProvisionedCluster`) cluster.
    public var provisioned: Bool
    /// The subscription id.
    public var subscriptionId: String
    /// The resource group.
    public var resourceGroup: String
    /// The normalised location (`westeurope`).
    public var location: String
    /// Tags, sorted by key.
    public var tags: [ReportTag]
    /// The eligibility code when the cluster cannot be remediated now (nil when eligible).
    public var eligibilityReason: String?

    /// Creates a cluster row.
    public init(
        id: String, name: String, kind: String, provisioned: Bool, subscriptionId: String, resourceGroup: String,
        location: String, tags: [ReportTag], eligibilityReason: String?
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.provisioned = provisioned
        self.subscriptionId = subscriptionId
        self.resourceGroup = resourceGroup
        self.location = location
        self.tags = tags
        self.eligibilityReason = eligibilityReason
    }
}

/// One tag of a cluster.
public struct ReportTag: Sendable, Hashable {
    /// The tag name.
    public var key: String
    /// The tag value.
    public var value: String

    /// Creates a tag.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

/// One compliance result: an evaluated resource × an assignment × a policy reference.
public struct ReportResult: Sendable, Hashable {
    /// The evaluated resource (the cluster, or a child resource for rules on child types).
    public var resourceId: String
    /// The cluster the resource belongs to.
    public var clusterId: String
    /// The assignment id.
    public var assignmentId: String
    /// The assignment's display name (or its name when it has none).
    public var assignmentName: String
    /// The policy definition id.
    public var policyDefinitionId: String
    /// The initiative reference id (nil for a definition assigned directly).
    public var policyDefinitionReferenceId: String?
    /// The effect as resolved.
    public var effect: String
    /// The compliance state.
    public var state: ComplianceState
    /// Why: every failing or deciding condition leaf.
    public var reasons: [ReportReason]
    /// The exemption behind an Exempt state.
    public var exemptionId: String?
    /// The error message of an Error result.
    public var error: String?
    /// When the current state began (ISO 8601 UTC; nil when unknown, such as without history).
    public var since: String?

    /// Creates a result row.
    public init(
        resourceId: String, clusterId: String, assignmentId: String, assignmentName: String,
        policyDefinitionId: String, policyDefinitionReferenceId: String?, effect: String, state: ComplianceState,
        reasons: [ReportReason], exemptionId: String? = nil, error: String? = nil, since: String? = nil
    ) {
        self.resourceId = resourceId
        self.clusterId = clusterId
        self.assignmentId = assignmentId
        self.assignmentName = assignmentName
        self.policyDefinitionId = policyDefinitionId
        self.policyDefinitionReferenceId = policyDefinitionReferenceId
        self.effect = effect
        self.state = state
        self.reasons = reasons
        self.exemptionId = exemptionId
        self.error = error
        self.since = since
    }
}

/// One reason of a result, like Azure's policyEvaluationDetails.
public struct ReportReason: Sendable, Hashable {
    /// The condition, such as `field 'Microsoft.KubernetesConfiguration/extensions/extensionType'`.
    public var expression: String
    /// The JSON path read in the resource.
    public var path: String
    /// The value found, as compact JSON text (nil when missing).
    public var actual: String?
    /// The value wanted, as compact JSON text.
    public var target: String?
    /// The operator, such as `equals`.
    public var `operator`: String
    /// A sentence for people.
    public var message: String

    /// Creates a reason.
    public init(
        expression: String, path: String, actual: String?, target: String?, operator: String, message: String
    ) {
        self.expression = expression
        self.path = path
        self.actual = actual
        self.target = target
        self.operator = `operator`
        self.message = message
    }
}

/// The strict view of one desired Flux resource.
public struct ReportStrict: Sendable, Hashable {
    /// The cluster.
    public var clusterId: String
    /// The desired resource's id.
    public var resourceId: String
    /// The assignment that wants it.
    public var assignmentId: String
    /// Fields that differ from the desired body (empty: on the baseline).
    public var drift: [ReportDrift]
    /// Flux's `complianceState` for a fluxConfiguration that exists (nil otherwise).
    public var complianceState: String?
    /// Whether Flux's status is older than the staleness limit.
    public var stale: Bool
    /// Failing Flux objects, as `Kustomization flux-system/apps: reason: message`.
    public var failing: [String]

    /// Creates a strict-view row.
    public init(
        clusterId: String, resourceId: String, assignmentId: String, drift: [ReportDrift], complianceState: String?,
        stale: Bool, failing: [String]
    ) {
        self.clusterId = clusterId
        self.resourceId = resourceId
        self.assignmentId = assignmentId
        self.drift = drift
        self.complianceState = complianceState
        self.stale = stale
        self.failing = failing
    }
}

/// One drifted field.
public struct ReportDrift: Sendable, Hashable {
    /// The field path, such as `properties.gitRepository.repositoryRef.branch`.
    public var path: String
    /// The observed value as compact JSON text (nil when missing).
    public var actual: String?
    /// The desired value as compact JSON text (nil when it should be absent).
    public var desired: String?

    /// Creates a drift entry.
    public init(path: String, actual: String?, desired: String?) {
        self.path = path
        self.actual = actual
        self.desired = desired
    }
}

/// One run in the trend: counts over distinct resources, each taking its worst state.
public struct ReportRunPoint: Sendable, Hashable {
    /// The store's run id.
    public var runId: Int64
    /// The evaluation time (ISO 8601 UTC).
    public var at: String
    /// Distinct evaluated resources.
    public var resources: Int
    /// Resources whose worst state is Compliant.
    public var compliant: Int
    /// … NonCompliant.
    public var nonCompliant: Int
    /// … Exempt.
    public var exempt: Int
    /// … Unknown.
    public var unknown: Int
    /// … Error.
    public var error: Int

    /// Creates a trend point.
    public init(
        runId: Int64, at: String, resources: Int, compliant: Int, nonCompliant: Int, exempt: Int, unknown: Int,
        error: Int
    ) {
        self.runId = runId
        self.at = at
        self.resources = resources
        self.compliant = compliant
        self.nonCompliant = nonCompliant
        self.exempt = exempt
        self.unknown = unknown
        self.error = error
    }

    /// (Compliant + Exempt + Unknown) ÷ resources × 100, as Azure computes it; 100 when empty.
    public var compliancePercent: Double {
        resources == 0 ? 100 : Double(compliant + exempt + unknown) * 100 / Double(resources)
    }
}

/// A period during which one resource × assignment × policy reference kept one state.
public struct ReportInterval: Sendable, Hashable {
    /// The evaluated resource.
    public var resourceId: String
    /// Its cluster.
    public var clusterId: String
    /// The assignment id.
    public var assignmentId: String
    /// The initiative reference id (nil for a definition assigned directly).
    public var policyDefinitionReferenceId: String?
    /// The state held.
    public var state: ComplianceState
    /// The first run's evaluation time (ISO 8601 UTC).
    public var from: String
    /// The evaluation time of the run that ended it (nil while it is still open).
    public var to: String?

    /// Creates an interval.
    public init(
        resourceId: String, clusterId: String, assignmentId: String, policyDefinitionReferenceId: String?,
        state: ComplianceState, from: String, to: String?
    ) {
        self.resourceId = resourceId
        self.clusterId = clusterId
        self.assignmentId = assignmentId
        self.policyDefinitionReferenceId = policyDefinitionReferenceId
        self.state = state
        self.from = from
        self.to = to
    }
}

/// What a report shows about a policy definition besides its id.
public struct ReportPolicy: Sendable, Hashable {
    /// The policy definition id.
    public var id: String
    /// The definition's display name (nil when it has none).
    public var displayName: String?
    /// The definition's `metadata.category`, such as `Kubernetes` (nil when it has none).
    public var category: String?

    /// Creates a policy description.
    public init(id: String, displayName: String?, category: String?) {
        self.id = id
        self.displayName = displayName
        self.category = category
    }
}
