import FleetCore
import PolicyEngine

/// A `wgpolicyk8s.io/v1alpha2` ClusterPolicyReport, written as JSON.
///
/// JSON rather than YAML: JSON is valid YAML, so `kubectl apply -f` and YAML tools read it as it
/// is, and writing it with the project's JSON writer leaves no YAML quoting traps (`no`, `on`,
/// `: `, leading `*`) in inventory strings.
///
/// The report is cluster-scoped and has no `scope`: its subjects are Azure clusters, not
/// Kubernetes objects. One result per evaluated resource × assignment × policy:
/// - `policy` is the assignment's display name and `rule` the policy within it (the initiative
///   reference id, or the definition's name), as a Kyverno policy holds rules;
/// - `result`: Compliant → `pass`, NonCompliant → `fail`, Error → `error`, Exempt → `skip`,
///   Unknown → `warn` (a Manual policy without an attestation: not failed, not scored);
/// - `severity` from the effect: Deny, DeployIfNotExists, Modify → `high`; Audit,
///   AuditIfNotExists → `medium`; Manual → `low`; anything else → `info`;
/// - `category`: the definition's `metadata.category`, else `Azure Policy`;
/// - `resources[0]` names the cluster (`kind` is its ARM resource type); `properties` hold the
///   ARM ids (resource, cluster, assignment, definition) and the Azure state.
struct PolicyReportRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    /// The PolicyReport result for a compliance state.
    static func result(_ state: ComplianceState) -> String {
        switch state {
        case .compliant: "pass"
        case .nonCompliant: "fail"
        case .error: "error"
        case .exempt: "skip"
        case .unknown: "warn"
        }
    }

    /// The PolicyReport severity for an effect.
    static func severity(effect: String) -> String {
        // Effects come spelled as the policy spells them; most are already one of these.
        switch effect {
        case "DeployIfNotExists", "Deny", "Modify", "DenyAction": return "high"
        case "Audit", "AuditIfNotExists": return "medium"
        case "Manual": return "low"
        default: break
        }
        return switch ASCII.lowercased(effect) {
        case "deny", "deployifnotexists", "modify", "denyaction": "high"
        case "audit", "auditifnotexists": "medium"
        case "manual": "low"
        default: "info"
        }
    }

    /// The ARM resource type of a cluster kind.
    static func armType(_ kind: String) -> String {
        switch kind {
        case "managedClusters": "Microsoft.ContainerService/managedClusters"
        case "connectedClusters": "Microsoft.Kubernetes/connectedClusters"
        default: kind
        }
    }

    /// A Kubernetes object name (DNS-1123 subdomain) from free text.
    static func objectName(_ text: String) -> String {
        var out = ""
        for c in ASCII.lowercased(text).unicodeScalars {
            if ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "-" || c == "." {
                out.unicodeScalars.append(c)
            } else {
                out += "-"
            }
        }
        while out.hasPrefix("-") || out.hasPrefix(".") { out.removeFirst() }
        while out.hasSuffix("-") || out.hasSuffix(".") { out.removeLast() }
        return out.isEmpty ? "fluxfleet" : String(out.prefix(253))
    }

    func render() -> [UInt8] {
        let data = context.data
        var counts: [String: Int] = ["pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0]
        for result in data.results { counts[Self.result(result.state), default: 0] += 1 }
        let seconds = Text.unixSeconds(data.run.evaluatedAt) ?? 0
        var w = JSONWriter(pretty: true, capacity: 4096 + data.results.count * 1400)
        w.beginObject()
        w.member("apiVersion", "wgpolicyk8s.io/v1alpha2")
        w.member("kind", "ClusterPolicyReport")
        w.key("metadata")
        w.beginObject()
        w.member("name", Self.objectName("fluxfleet-\(data.run.kind)" + (data.run.id.map { "-\($0)" } ?? "")))
        w.key("labels")
        w.beginObject()
        w.member("app.kubernetes.io/managed-by", "fluxfleet")
        w.member("fluxfleet.io/run-kind", Self.objectName(data.run.kind))
        if let id = data.run.id { w.member("fluxfleet.io/run-id", "\(id)") }
        w.endObject()
        w.key("annotations")
        w.beginObject()
        w.member("fluxfleet.io/evaluated-at", data.run.evaluatedAt)
        w.member("fluxfleet.io/generated-at", context.generatedAt)
        w.member("fluxfleet.io/inventory", data.run.inventory)
        w.member("fluxfleet.io/policies-digest", data.run.policiesDigest)
        w.endObject()
        w.endObject()
        w.key("summary")
        w.beginObject()
        for key in ["pass", "fail", "warn", "error", "skip"] { w.member(key, counts[key] ?? 0) }
        w.endObject()
        w.key("results")
        w.beginArray()
        for (i, result) in data.results.enumerated() {
            let cluster = context.cluster(ofResult: i)
            w.beginObject()
            w.member("source", "fluxfleet")
            w.member("policy", result.assignmentName)
            w.member("rule", context.policyLabel(result))
            w.member("category", context.summary.byPolicy[context.summary.policyOfResult[i]].category ?? "Azure Policy")
            w.member("severity", Self.severity(effect: result.effect))
            w.member("result", Self.result(result.state))
            w.member("scored", result.state != .unknown)
            w.key("timestamp")
            w.beginObject()
            w.key("seconds")
            w.number(seconds)
            w.member("nanos", 0)
            w.endObject()
            w.member("message", message(result))
            w.key("resources")
            w.beginArray()
            w.beginObject()
            w.member("kind", Self.armType(cluster?.kind ?? Text.lastSegment(result.clusterId)))
            w.member("name", context.clusterName(ofResult: i))
            w.endObject()
            w.endArray()
            w.key("properties")
            w.beginObject()
            w.member("resourceId", result.resourceId)
            w.member("clusterId", result.clusterId)
            w.member("assignmentId", result.assignmentId)
            w.member("policyDefinitionId", result.policyDefinitionId)
            if let reference = result.policyDefinitionReferenceId {
                w.member("policyDefinitionReferenceId", reference)
            }
            w.member("effect", result.effect)
            w.member("complianceState", result.state.rawValue)
            if let exemption = result.exemptionId { w.member("exemptionId", exemption) }
            if let since = result.since { w.member("since", since) }
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.newlineAtEnd()
        return w.bytes
    }

    private func message(_ result: ReportResult) -> String {
        switch result.state {
        case .compliant: return "Compliant"
        case .exempt: return "Exempt" + (result.exemptionId.map { ": \($0)" } ?? "")
        case .unknown: return "Unknown: a Manual policy without an attestation"
        case .error: return "Evaluation failed: \(result.error ?? "no detail")"
        case .nonCompliant:
            let lines = result.reasons.prefix(3).map(RenderContext.describe)
            let more = result.reasons.count > 3 ? " (\(result.reasons.count - 3) more)" : ""
            return lines.isEmpty ? "NonCompliant" : lines.joined(separator: "; ") + more
        }
    }
}
