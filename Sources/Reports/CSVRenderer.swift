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

    /// Appends `value` as a cell (the rules of ``cell(_:)``) without building an intermediate string.
    static func append(_ value: String, to out: inout [UInt8]) {
        var needsQuotes = false
        for byte in value.utf8 where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            needsQuotes = true
            break
        }
        if needsQuotes { out.append(0x22) }
        switch value.utf8.first {
        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D:
            out.append(UInt8(ascii: "'"))
        default: break
        }
        if needsQuotes {
            for byte in value.utf8 {
                out.append(byte)
                if byte == 0x22 { out.append(0x22) }
            }
            out.append(0x22)
        } else {
            out.append(contentsOf: value.utf8)
        }
    }

    func render() -> [UInt8] {
        let data = context.data
        var out: [UInt8] = []
        out.reserveCapacity(256 + data.results.count * 800)
        out.append(contentsOf: Self.header.joined(separator: ",").utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        for i in data.results.indices {
            let cluster = context.cluster(ofResult: i)
            let result = data.results[i]
            let reasons =
                result.reasons.isEmpty ? "" : result.reasons.map(RenderContext.describe).joined(separator: "; ")
            let cells = [
                data.run.evaluatedAt, context.clusterName(ofResult: i), result.clusterId, result.resourceId,
                cluster.map(ReportSummary.kindLabel) ?? "", cluster?.subscriptionId ?? "", cluster?.resourceGroup ?? "",
                cluster?.location ?? "", result.assignmentName, result.assignmentId, context.policyLabel(result),
                result.policyDefinitionId, result.effect, result.state.rawValue, result.since ?? "",
                result.exemptionId ?? "", result.error ?? "", reasons,
            ]
            for (k, cell) in cells.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                Self.append(cell, to: &out)
            }
            out.append(contentsOf: [0x0D, 0x0A])
        }
        return out
    }
}
