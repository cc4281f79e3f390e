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

    /// FleetCore's `CSV.cell` rules over UTF-8 bytes (fast at a hundred thousand rows, and a CR LF
    /// pair, which Swift counts as one Character, is quoted like any line break): cells starting
    /// with `=`, `+`, `-`, `@`, tab or CR get a `'` prefix; cells holding `,`, `"`, CR or LF are quoted.
    static func cell(_ value: String) -> String {
        var needsQuotes = false
        for byte in value.utf8 where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            needsQuotes = true
            break
        }
        let defused: String
        switch value.utf8.first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D:
            defused = "'" + value
        default: defused = value
        }
        guard needsQuotes else { return defused }
        return "\"" + defused.replacing("\"", with: "\"\"") + "\""
    }

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
            out += cells.map(Self.cell).joined(separator: ",")
            out += "\r\n"
        }
        return out
    }
}
