import FleetCore

/// The `policy explain` text for one cluster.
///
/// Pure: it renders a scan of that one cluster.
public struct PolicyExplanation: Sendable {
    /// The scan of the one cluster.
    public let scan: ScanResult
    /// The cluster.
    public let cluster: Cluster

    /// Creates the explanation.
    public init(scan: ScanResult, cluster: Cluster) {
        self.scan = scan
        self.cluster = cluster
    }

    private static func last(_ id: String) -> String { id.split(separator: "/").last.map(String.init) ?? id }

    private static func render(_ value: JSON?) -> String {
        guard let value else { return "<missing>" }
        var w = JSONWriter()
        w.value(Redaction.json(value, secretKeys: DriftRules.secrets))
        return w.text
    }

    /// The explanation.
    public func text() -> String {
        var out = "\(cluster.name) (\(cluster.id))\n"
        if scan.results.isEmpty { out += "  no assignment applies to this cluster\n" }
        for result in scan.results {
            let policy = result.policyDefinitionReferenceId ?? Self.last(result.policyDefinitionId)
            let resource =
                ASCII.equalsIgnoringCase(result.resourceId, result.clusterId)
                ? "cluster" : Self.last(result.resourceId)
            out +=
                "\n\(Self.last(result.assignmentId)) / \(policy) [\(result.effect)] on \(resource): \(result.state.rawValue)"
            if result.enforcementMode == .doNotEnforce { out += " (DoNotEnforce: reported, not remediated)" }
            if let exemption = result.exemptionId { out += " (exempted by \(Self.last(exemption)))" }
            out += "\n"
            if let error = result.error { out += "  error: \(error)\n" }
            if result.reasons.isEmpty && result.state == .compliant {
                out += "  the policy rule does not match this resource: nothing to flag\n"
            }
            var lastCandidate: String?
            for reason in result.reasons {
                if reason.candidate != lastCandidate, let candidate = reason.candidate {
                    out += "  existence condition on \(candidate):\n"
                }
                lastCandidate = reason.candidate
                let indent = reason.candidate == nil ? "  " : "    "
                guard let holds = reason.holds else {
                    out += "\(indent)• \(reason.message)\n"  // Not a condition leaf, such as "no related resource".
                    continue
                }
                out += "\(indent)\(holds ? "✓" : "✗") \(reason.expression)\n"
                out +=
                    "\(indent)    actual \(Self.render(reason.actual)) \(reason.operator) target \(Self.render(reason.target))"
                out += reason.path.isEmpty ? "\n" : " (at \(reason.path))\n"
                if let location = reason.location { out += "\(indent)    in \(location)\n" }
            }
            for desired in result.desiredResources {
                out += "  desired: \(desired.type) \(desired.name) (api \(desired.apiVersion))\n"
            }
        }
        if !scan.strict.isEmpty {
            out += "\nstrict view:\n"
            for entry in scan.strict {
                out += "  \(Self.last(entry.resourceId)): "
                out += entry.drift.isEmpty ? "matches the desired body\n" : "\(entry.drift.count) field(s) differ\n"
                for drift in entry.drift {
                    out +=
                        "    \(drift.path.isEmpty ? "(resource missing)" : drift.path): \(Self.render(drift.actual)) → \(Self.render(drift.desired))\n"
                }
                if let runtime = entry.runtime {
                    out += "    runtime: \(runtime.complianceState ?? "unknown")"
                    if runtime.stale { out += ", stale since \(runtime.statusUpdatedAt ?? "never")" }
                    out += "\n"
                    for failing in runtime.failing {
                        out +=
                            "    failing: \(failing.kind) \(failing.name): \(failing.reason ?? "") \(failing.message ?? "")\n"
                    }
                }
            }
        }
        return out
    }
}
