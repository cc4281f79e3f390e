import FleetCore
import PolicyEngine

/// RFC 4180 CSV: a header line, then one row per result (CRLF line ends, formulas defused as the
/// inventory CSV does).
struct CSVRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    /// The columns, in order.
    static let header = [
        "evaluatedAt", "cluster", "clusterId", "resourceId", "kind", "subscriptionId", "resourceGroup", "location",
        "assignment", "assignmentId", "policy", "policyDefinitionId", "effect", "state", "since", "exemptionId",
        "error", "reasons",
    ]

    func render() -> String {
        let data = context.data
        var out = Self.header.joined(separator: ",") + "\r\n"
        out.reserveCapacity(data.results.count * 600)
        for (i, result) in data.results.enumerated() {
            let cluster = context.cluster(ofResult: i)
            let cells = [
                data.run.evaluatedAt, context.clusterName(ofResult: i), result.clusterId, result.resourceId,
                cluster.map(ReportSummary.kindLabel) ?? "", cluster?.subscriptionId ?? "", cluster?.resourceGroup ?? "",
                cluster?.location ?? "", result.assignmentName, result.assignmentId, context.policyLabel(result),
                result.policyDefinitionId, result.effect, result.state.rawValue, result.since ?? "",
                result.exemptionId ?? "", result.error ?? "",
                result.reasons.map(RenderContext.describe).joined(separator: "; "),
            ]
            out += cells.map(CSV.cell).joined(separator: ",")
            out += "\r\n"
        }
        return out
    }
}
