import FleetCore

/// Azure Policy compliance states that FluxFleet reports.
public enum ComplianceState: String, Sendable, CaseIterable, Comparable {
    /// The resource does not satisfy the policy.
    case nonCompliant = "NonCompliant"
    /// The resource satisfies the policy.
    case compliant = "Compliant"
    /// Evaluation failed (a bad expression, a type mismatch); never silently dropped.
    case error = "Error"
    /// An active exemption covers the resource; it still counts toward compliance.
    case exempt = "Exempt"
    /// A `Manual` policy without an attestation.
    case unknown = "Unknown"

    /// Azure's roll-up order: the worst state wins (NonCompliant > Compliant > Error > Exempt > Unknown).
    public static func < (lhs: ComplianceState, rhs: ComplianceState) -> Bool {
        lhs.rank < rhs.rank
    }

    /// The position in Azure's roll-up order (0 is the worst).
    var rank: Int {
        switch self {
        case .nonCompliant: 0
        case .compliant: 1
        case .error: 2
        case .exempt: 3
        case .unknown: 4
        }
    }

    /// Whether the state counts as compliant in Azure's percentage.
    public var countsAsCompliant: Bool { self == .compliant || self == .exempt || self == .unknown }
}

/// Why a result is what it is: one evaluated condition leaf, like Azure's policyEvaluationDetails.
public struct PolicyReason: Sendable, Hashable {
    /// The condition, such as `field 'Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.url'`.
    public var expression: String
    /// The JSON path read in the resource, such as `properties.gitRepository.url`.
    public var path: String
    /// The value found (nil when missing).
    public var actual: JSON?
    /// The value the condition wanted.
    public var target: JSON?
    /// The operator, such as `equals`.
    public var `operator`: String
    /// A sentence for people, such as "Current value must be equal to the target value".
    public var message: String
    /// Whether the leaf held (nil for reasons that are not condition leaves).
    public var holds: Bool?
    /// Where the leaf is in the policy, `file: $.properties.policyRule.if.allOf[1]` (nil when not a leaf).
    public var location: String?
    /// Which resource the leaf was evaluated on, when not the evaluated resource (existence candidates).
    public var candidate: String?

    /// Creates a reason.
    public init(
        expression: String, path: String, actual: JSON?, target: JSON?, operator: String, message: String,
        holds: Bool? = nil, location: String? = nil, candidate: String? = nil
    ) {
        self.expression = expression
        self.path = path
        self.actual = actual
        self.target = target
        self.operator = `operator`
        self.message = message
        self.holds = holds
        self.location = location
        self.candidate = candidate
    }
}

/// One result: an evaluated resource × an assignment × a policy reference.
public struct PolicyResult: Sendable {
    /// The evaluated resource: the cluster, or a child resource for rules on child types.
    public var resourceId: String
    /// The cluster the resource belongs to.
    public var clusterId: String
    /// The assignment.
    public var assignmentId: String
    /// The definition.
    public var policyDefinitionId: String
    /// The initiative reference id, nil for a definition assigned directly.
    public var policyDefinitionReferenceId: String?
    /// The effect as resolved (`DeployIfNotExists`, `Audit`, …).
    public var effect: String
    /// The compliance state.
    public var state: ComplianceState
    /// Every failing (or deciding) leaf, or `No related resources match the effect details`.
    public var reasons: [PolicyReason]
    /// Whether the assignment is enforced (`DoNotEnforce` results are reported, not remediated).
    public var enforcementMode: EnforcementMode
    /// The exemption that made the result Exempt.
    public var exemptionId: String?
    /// For DeployIfNotExists: the resources the deployment would PUT.
    public var desiredResources: [DesiredResource]
    /// The error message of an Error result.
    public var error: String?
}

/// The strict view of one Flux resource: spec drift against the desired body and runtime health.
public struct StrictResult: Sendable {
    /// The cluster.
    public var clusterId: String
    /// The desired resource's id.
    public var resourceId: String
    /// The assignment that wants it.
    public var assignmentId: String
    /// Fields that differ from the desired body (empty: on the baseline).
    public var drift: [DriftEntry]
    /// Flux's own health for a fluxConfiguration that exists.
    public var runtime: RuntimeAssessment?
}

/// What `scan` produced: Azure's view (results) beside FluxFleet's strict view.
public struct ScanResult: Sendable {
    /// Results per resource × assignment × reference, in cluster order.
    public var results: [PolicyResult]
    /// Strict-view entries, in cluster order.
    public var strict: [StrictResult]
    /// Problems that made whole assignments unusable (they also appear as Error results when they
    /// concern a resource).
    public var diagnostics: [PolicyDiagnostic]

    /// Creates a scan result.
    public init(results: [PolicyResult], strict: [StrictResult], diagnostics: [PolicyDiagnostic]) {
        self.results = results
        self.strict = strict
        self.diagnostics = diagnostics
    }

    /// Counts over distinct resources, each taking its worst state, as Azure computes them.
    public struct Summary: Sendable, Equatable {
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
        /// (Compliant + Exempt + Unknown) ÷ resources × 100; 100 when nothing was evaluated.
        public var compliancePercent: Double
        /// Strict-view resources with any drift.
        public var drifted: Int
        /// Results (not resources) in state Error: Azure's roll-up ranks Error below Compliant, so
        /// a resource can be Compliant overall and still have failed evaluations.
        public var errorResults: Int
    }

    /// The summary.
    ///
    /// Results come cluster by cluster. When every cluster's results are together, the clusters come in
    /// increasing id order and every result's resource is its cluster or one of the cluster's children, no
    /// resource can appear under two clusters: each cluster's few resources are folded alone and counted, with no
    /// map over every id (a tenth of the work at 100,000 clusters). Otherwise ``summaryByResourceMap`` decides.
    public var summary: Summary {
        guard let worst = worstStatesByCluster() else { return summaryByResourceMap }
        return summary(worst: worst)
    }

    /// The summary computed with one map entry per distinct resource id: right for results in any order.
    var summaryByResourceMap: Summary {
        // Results come cluster by cluster: fold each cluster's few resources locally, then once into the map.
        var worst: [ResourceIDKey: ComplianceState] = [:]
        var local: [(id: String, state: ComplianceState)] = []
        var currentCluster: String?
        func flush() {
            for (id, state) in local {
                let key = ResourceIDKey(id)
                if let known = worst[key], known <= state { continue }
                worst[key] = state
            }
            local.removeAll(keepingCapacity: true)
        }
        for index in results.indices {
            let clusterId = results[index].clusterId
            if currentCluster != clusterId {
                flush()
                currentCluster = clusterId
            }
            let id = results[index].resourceId
            let state = results[index].state
            if let position = local.firstIndex(where: { $0.id == id }) {
                local[position].state = min(local[position].state, state)
            } else {
                local.append((id, state))
            }
        }
        flush()
        var counts = [Int](repeating: 0, count: ComplianceState.allCases.count)
        for state in worst.values { counts[state.rank] += 1 }
        return summary(worst: counts)
    }

    /// How many distinct resources have each worst state (indexed by ``ComplianceState/rank``), folding each
    /// cluster's results alone; nil when that could count a resource twice (see ``summary``).
    private func worstStatesByCluster() -> [Int]? {
        var counts = [Int](repeating: 0, count: ComplianceState.allCases.count)
        var local: [(key: ResourceIDKey, state: ComplianceState)] = []
        var previousCluster: ResourceIDKey?
        var index = 0
        while index < results.count {
            let clusterId = results[index].clusterId
            let clusterKey = ResourceIDKey(clusterId)
            // Increasing ids: no cluster comes back later (not even spelled in another case).
            if let previousCluster, !(previousCluster < clusterKey) { return nil }
            previousCluster = clusterKey
            local.removeAll(keepingCapacity: true)
            while index < results.count, results[index].clusterId == clusterId {
                let key = ResourceIDKey(results[index].resourceId)
                guard key.isSameOrUnder(clusterKey) else { return nil }
                let state = results[index].state
                if let position = local.firstIndex(where: { $0.key == key }) {
                    local[position].state = min(local[position].state, state)
                } else {
                    local.append((key, state))
                }
                index += 1
            }
            for (_, state) in local { counts[state.rank] += 1 }
        }
        return counts
    }

    /// Whether `id` is the cluster `clusterId` or a resource under it (ignoring ASCII case): ids of two different
    /// clusters are never one inside the other, so such resources of different clusters differ.
    static func belongs(_ id: String, to clusterId: String) -> Bool {
        ResourceIDKey(id).isSameOrUnder(ResourceIDKey(clusterId))
    }

    /// The summary from the number of resources of each worst state (indexed by ``ComplianceState/rank``).
    private func summary(worst counts: [Int]) -> Summary {
        let total = counts.reduce(0, +)
        func count(_ state: ComplianceState) -> Int { counts[state.rank] }
        let good = ComplianceState.allCases.filter(\.countsAsCompliant).reduce(0) { $0 + count($1) }
        return Summary(
            resources: total, compliant: count(.compliant), nonCompliant: count(.nonCompliant),
            exempt: count(.exempt), unknown: count(.unknown), error: count(.error),
            compliancePercent: total == 0 ? 100 : Double(good) * 100 / Double(total),
            drifted: strict.indices.reduce(0) { $0 + (strict[$1].drift.isEmpty ? 0 : 1) },
            errorResults: results.indices.reduce(0) { $0 + (results[$1].state == .error ? 1 : 0) })
    }
}
