import FleetCore
import PolicyEngine

extension ReportData {
    /// Creates report data straight from one scan, without a database.
    ///
    /// There is no history: `trend` and `intervals` are empty and no result has a `since`. JSON
    /// values are rendered as compact JSON text with the masking `scan --output json` applies
    /// (URL credentials and write-only secret members); reason messages, error messages and Flux's
    /// failure messages also have URL credentials masked (the scan leaves those as they are).
    /// Assignments are named as the scan table names them (the last id segment, with the scope
    /// when two share a name).
    ///
    /// - Parameters:
    ///   - scan: The scan.
    ///   - run: What it ran on.
    ///   - fleet: The inventory it ran over (every cluster becomes a row, in inventory order).
    ///   - kind: The run kind (`scan`, `plan`, `apply`, `resume`).
    ///   - bundle: The policies, for display names and categories (optional).
    public init(scan: ScanResult, run: ScanRun, fleet: Fleet, kind: String = "scan", bundle: PolicyBundle? = nil) {
        let reportRun = ReportRun(
            id: nil, kind: kind, startedAt: run.evaluatedAt, evaluatedAt: run.evaluatedAt, inventory: run.inventory,
            policies: run.policies, policiesDigest: run.policiesDigest)
        let clusters = fleet.clusters.map { cluster in
            ReportCluster(
                id: cluster.id.description, name: cluster.name, kind: cluster.kind.rawValue,
                provisioned: cluster.provisioned, subscriptionId: cluster.subscriptionId,
                resourceGroup: cluster.resourceGroup, location: cluster.location,
                tags: cluster.tags.sorted { $0.key < $1.key }.map { ReportTag(key: $0.key, value: $0.value) },
                eligibilityReason: Eligibility.evaluate(cluster).primary?.code)
        }
        let names = AssignmentNames(assignmentIds: scan.results.map(\.assignmentId))
        let results = scan.results.map { result in
            ReportResult(
                resourceId: result.resourceId, clusterId: result.clusterId, assignmentId: result.assignmentId,
                assignmentName: names.name(result.assignmentId), policyDefinitionId: result.policyDefinitionId,
                policyDefinitionReferenceId: result.policyDefinitionReferenceId, effect: result.effect,
                state: result.state,
                reasons: result.reasons.map { reason in
                    ReportReason(
                        expression: reason.expression, path: reason.path, actual: SecretMasking.text(reason.actual),
                        target: SecretMasking.text(reason.target), operator: reason.operator,
                        message: Redaction.url(reason.message))
                },
                exemptionId: result.exemptionId, error: result.error.map(Redaction.url))
        }
        let strict = scan.strict.map { entry in
            ReportStrict(
                clusterId: entry.clusterId, resourceId: entry.resourceId, assignmentId: entry.assignmentId,
                drift: entry.drift.map {
                    ReportDrift(
                        path: $0.path, actual: SecretMasking.text($0.actual), desired: SecretMasking.text($0.desired))
                },
                complianceState: entry.runtime?.complianceState, stale: entry.runtime?.stale ?? false,
                failing: entry.runtime?.failing.map(Self.describe) ?? [])
        }
        var policies: [ReportPolicy] = []
        if let bundle {
            var seen: Set<String> = []
            for result in scan.results where seen.insert(ASCII.lowercased(result.policyDefinitionId)).inserted {
                guard let definition = bundle.definition(id: result.policyDefinitionId) else { continue }
                policies.append(
                    ReportPolicy(
                        id: result.policyDefinitionId, displayName: definition.displayName,
                        category: definition.category))
            }
        }
        self.init(
            run: reportRun, clusters: clusters, results: results, strict: strict, trend: [], intervals: [],
            policies: policies)
    }

    /// `Kustomization flux-system/apps: reason: message`, leaving out the parts Flux did not report.
    static func describe(_ object: FailingObject) -> String {
        var text = object.kind
        let name = object.namespace.isEmpty ? object.name : "\(object.namespace)/\(object.name)"
        if !name.isEmpty { text += text.isEmpty ? name : " \(name)" }
        if let reason = object.reason, !reason.isEmpty { text += ": \(reason)" }
        if let message = object.message, !message.isEmpty { text += ": \(Redaction.url(message))" }
        return text
    }
}

/// The masking `scan --output json` applies to values from resources and policies.
enum SecretMasking {
    /// Members whose values are write-only secrets (`x-ms-secret`), lowercased: PolicyEngine's own set,
    /// so this masking and `ScanReport.jsonBytes` cannot part (a test compares them too).
    static let secretKeys = SpecDrift.writeOnlySecretKeys

    /// The value as compact JSON text, credentials masked (nil for nil).
    static func text(_ value: JSON?) -> String? {
        guard let value else { return nil }
        var w = JSONWriter(capacity: 64)
        w.value(Redaction.json(value, secretKeys: secretKeys))
        return w.text
    }
}

/// Assignment display names as the scan table derives them (``ScanReport/assignmentNames(ids:)``).
struct AssignmentNames {
    private var names: [String: String] = [:]

    /// Names every assignment of `assignmentIds`: the last id segment, with its scope when another
    /// assignment has the same last segment.
    init(assignmentIds: [String]) {
        names = ScanReport.assignmentNames(ids: assignmentIds)
    }

    /// The display name of an assignment id.
    func name(_ id: String) -> String { names[ASCII.lowercased(id)] ?? Text.lastSegment(id) }
}
