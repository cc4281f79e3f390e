import FleetCore
import PolicyEngine

/// JUnit XML: a `testsuite` per assignment × policy, a `testcase` per evaluated resource.
///
/// `classname` is `fluxfleet.<assignment>.<policy>`, `name` the resource (`cluster` or
/// `cluster/child`): both stable across runs. NonCompliant → `failure` (message: the first
/// reason; body: every reason), Error → `error`, Exempt and Unknown → `skipped`.
struct JUnitRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    func render() -> String {
        let data = context.data
        struct Key: Hashable {
            var assignment: String
            var definition: String
            var reference: String
        }
        var order: [Key] = []
        var members: [Key: [Int]] = [:]
        for (i, result) in data.results.enumerated() {
            let key = Key(
                assignment: ASCII.lowercased(result.assignmentId),
                definition: ASCII.lowercased(result.policyDefinitionId),
                reference: result.policyDefinitionReferenceId.map(ASCII.lowercased) ?? "")
            if members[key] == nil { order.append(key) }
            members[key, default: []].append(i)
        }
        var total = StateCounts()
        for result in data.results { total.add(result.state) }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out.reserveCapacity(data.results.count * 300)
        out += "<testsuites name=\"fluxfleet\" tests=\"\(total.total)\" failures=\"\(total.nonCompliant)\" "
        out += "errors=\"\(total.error)\" skipped=\"\(total.exempt + total.unknown)\" time=\"0\" "
        out += "timestamp=\"\(Text.xml(data.run.evaluatedAt))\">\n"
        for key in order {
            let indexes = members[key]!
            let first = data.results[indexes[0]]
            var counts = StateCounts()
            for i in indexes { counts.add(data.results[i].state) }
            let suite = "\(first.assignmentName) / \(context.policyLabel(first))"
            let classname = "fluxfleet.\(first.assignmentName).\(context.policyLabel(first))"
            out += "  <testsuite name=\"\(Text.xml(suite))\" tests=\"\(counts.total)\" "
            out += "failures=\"\(counts.nonCompliant)\" errors=\"\(counts.error)\" "
            out += "skipped=\"\(counts.exempt + counts.unknown)\" time=\"0\" "
            out += "timestamp=\"\(Text.xml(data.run.evaluatedAt))\">\n"
            out += "    <properties>\n"
            out += "      <property name=\"assignmentId\" value=\"\(Text.xml(first.assignmentId))\"/>\n"
            out += "      <property name=\"policyDefinitionId\" value=\"\(Text.xml(first.policyDefinitionId))\"/>\n"
            out += "      <property name=\"effect\" value=\"\(Text.xml(first.effect))\"/>\n"
            out += "    </properties>\n"
            for i in indexes {
                let result = data.results[i]
                out += "    <testcase classname=\"\(Text.xml(classname))\" "
                out += "name=\"\(Text.xml(context.resourceName(ofResult: i)))\" time=\"0\""
                let lines = RenderContext.explain(result)
                switch result.state {
                case .compliant:
                    out += "/>\n"
                    continue
                case .nonCompliant:
                    let message = result.reasons.first.map(RenderContext.describe) ?? "NonCompliant"
                    out += ">\n      <failure message=\"\(Text.xml(message))\" type=\"\(Text.xml(result.effect))\">"
                    out += Text.xml(([result.resourceId] + lines).joined(separator: "\n"))
                    out += "</failure>\n"
                case .error:
                    out +=
                        ">\n      <error message=\"\(Text.xml(result.error ?? "evaluation failed"))\" type=\"Error\">"
                    out += Text.xml(([result.resourceId] + lines).joined(separator: "\n"))
                    out += "</error>\n"
                case .exempt:
                    out +=
                        ">\n      <skipped message=\"\(Text.xml("Exempt" + (result.exemptionId.map { ": \($0)" } ?? "")))\"/>\n"
                case .unknown:
                    out += ">\n      <skipped message=\"Unknown: a Manual policy without an attestation\"/>\n"
                }
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }
}
