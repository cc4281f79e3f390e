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

    func render() -> [UInt8] {
        let data = context.data
        // Suites in the summary's policy order: assignment × definition × reference, as first seen.
        var members = Array(repeating: [Int](), count: context.summary.byPolicy.count)
        for (i, p) in context.summary.policyOfResult.enumerated() { members[p].append(i) }
        var total = StateCounts()
        for i in data.results.indices { total.add(data.results[i].state) }
        var out = XMLBuffer(capacity: 256 + data.results.count * 200)
        out.put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        out.put("<testsuites name=\"fluxfleet\" tests=\"\(total.total)\" failures=\"\(total.nonCompliant)\" ")
        out.put("errors=\"\(total.error)\" skipped=\"\(total.exempt + total.unknown)\" time=\"0\" timestamp=\"")
        out.escaped(data.run.evaluatedAt)
        out.put("\">\n")
        for indexes in members where !indexes.isEmpty {
            let first = data.results[indexes[0]]
            var counts = StateCounts()
            for i in indexes { counts.add(data.results[i].state) }
            let policy = context.policyLabel(first)
            let classname = Text.xml("fluxfleet.\(first.assignmentName).\(policy)")
            out.put("  <testsuite name=\"")
            out.escaped("\(first.assignmentName) / \(policy)")
            out.put("\" tests=\"\(counts.total)\" failures=\"\(counts.nonCompliant)\" errors=\"\(counts.error)\" ")
            out.put("skipped=\"\(counts.exempt + counts.unknown)\" time=\"0\" timestamp=\"")
            out.escaped(data.run.evaluatedAt)
            out.put("\">\n    <properties>\n      <property name=\"assignmentId\" value=\"")
            out.escaped(first.assignmentId)
            out.put("\"/>\n      <property name=\"policyDefinitionId\" value=\"")
            out.escaped(first.policyDefinitionId)
            out.put("\"/>\n      <property name=\"effect\" value=\"")
            out.escaped(first.effect)
            out.put("\"/>\n    </properties>\n")
            for i in indexes {
                out.put("    <testcase classname=\"")
                out.put(classname)
                out.put("\" name=\"")
                out.escaped(context.resourceName(ofResult: i))
                out.put("\" time=\"0\"")
                let state = data.results[i].state
                switch state {
                case .compliant:
                    out.put("/>\n")
                    continue
                case .nonCompliant, .error:
                    let result = data.results[i]
                    let element = state == .error ? "error" : "failure"
                    let message =
                        state == .error
                        ? result.error ?? "evaluation failed"
                        : result.reasons.first.map(RenderContext.describe) ?? "NonCompliant"
                    out.put(">\n      <\(element) message=\"")
                    out.escaped(message)
                    out.put("\" type=\"")
                    out.escaped(state == .error ? "Error" : result.effect)
                    out.put("\">")
                    out.escaped(([result.resourceId] + RenderContext.explain(result)).joined(separator: "\n"))
                    out.put("</\(element)>\n")
                case .exempt:
                    out.put(">\n      <skipped message=\"")
                    out.escaped("Exempt" + (data.results[i].exemptionId.map { ": \($0)" } ?? ""))
                    out.put("\"/>\n")
                case .unknown:
                    out.put(">\n      <skipped message=\"Unknown: a Manual policy without an attestation\"/>\n")
                }
                out.put("    </testcase>\n")
            }
            out.put("  </testsuite>\n")
        }
        out.put("</testsuites>\n")
        return out.bytes
    }
}

/// Bytes of an XML document: literal markup, and text escaped with ``Text/xml(_:)``.
struct XMLBuffer {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    /// Appends markup as it is.
    mutating func put(_ markup: String) { bytes.append(contentsOf: markup.utf8) }

    /// Appends text, escaped.
    mutating func escaped(_ text: String) { bytes.append(contentsOf: Text.xml(text).utf8) }
}
