import FleetCore
import PolicyEngine
import Reports

/// The stored body of a state or strict-view interval: compact JSON, secrets masked.
///
/// The body is what makes two intervals "the same": its digest is compared on every scan, so it
/// holds exactly what reports show and nothing that changes on every run.
enum Details {
    /// Member names whose values are write-only secrets, masked wherever they appear: the set
    /// `scan --output json` masks with; a test checks the two renderings agree on a canary.
    static let secretKeys = SpecDrift.writeOnlySecretKeys

    /// A JSON value as compact text with credentials masked.
    static func masked(_ value: JSON?) -> String? {
        guard let value else { return nil }
        var w = JSONWriter()
        w.value(Redaction.json(value, secretKeys: secretKeys))
        return w.text
    }

    /// Free text (a message, an error) with URL credentials masked.
    static func masked(_ text: String) -> String {
        guard text.contains("@") else { return text }
        // A URL may sit inside a sentence: mask each whitespace-separated word on its own.
        return text.split(separator: " ", omittingEmptySubsequences: false).map { Redaction.url(String($0)) }.joined(
            separator: " ")
    }

    /// The body of a compliance result.
    static func body(of result: PolicyResult) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.member("effect", result.effect)
        if let exemption = result.exemptionId { w.member("exemptionId", exemption) }
        if let error = result.error { w.member("error", masked(error)) }
        w.key("reasons")
        w.beginArray()
        for reason in result.reasons {
            w.beginObject()
            w.member("expression", masked(reason.expression))
            w.member("path", reason.path)
            w.member("actual", masked(reason.actual))
            w.member("target", masked(reason.target))
            w.member("operator", reason.operator)
            w.member("message", masked(reason.message))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    /// What a result body holds.
    struct Result {
        var effect = ""
        var exemptionId: String?
        var error: String?
        var reasons: [ReportReason] = []
    }

    /// Reads a result body back.
    static func result(_ body: String) -> Result {
        guard let json = try? JSON.parse(body, source: "details") else { return Result() }
        var out = Result(
            effect: json["effect"]?.string ?? "", exemptionId: json["exemptionId"]?.string,
            error: json["error"]?.string)
        if case .array(let reasons) = json["reasons"] ?? .null {
            out.reasons = reasons.map {
                ReportReason(
                    expression: $0["expression"]?.string ?? "", path: $0["path"]?.string ?? "",
                    actual: $0["actual"]?.string, target: $0["target"]?.string, operator: $0["operator"]?.string ?? "",
                    message: $0["message"]?.string ?? "")
            }
        }
        return out
    }

    /// The body of a strict-view entry.
    static func body(of entry: StrictResult) -> [UInt8] {
        var w = JSONWriter(capacity: 256)
        w.beginObject()
        w.key("drift")
        w.beginArray()
        for drift in entry.drift {
            w.beginObject()
            w.member("path", drift.path)
            w.member("actual", masked(drift.actual))
            w.member("desired", masked(drift.desired))
            w.endObject()
        }
        w.endArray()
        if let runtime = entry.runtime {
            w.member("complianceState", runtime.complianceState)
            w.member("stale", runtime.stale)
            w.key("failing")
            w.beginArray()
            for failing in runtime.failing {
                var text = "\(failing.kind) \(failing.namespace)/\(failing.name)"
                if let reason = failing.reason { text += ": \(reason)" }
                if let message = failing.message { text += ": \(message)" }
                w.string(masked(text))
            }
            w.endArray()
        }
        w.endObject()
        return w.bytes
    }

    /// Reads a strict-view body back into a row.
    static func strict(_ body: String, clusterId: String, resourceId: String, assignmentId: String) -> ReportStrict {
        let json = (try? JSON.parse(body, source: "details")) ?? .object([:])
        var drift: [ReportDrift] = []
        if case .array(let items) = json["drift"] ?? .null {
            drift = items.map {
                ReportDrift(
                    path: $0["path"]?.string ?? "", actual: $0["actual"]?.string, desired: $0["desired"]?.string)
            }
        }
        var failing: [String] = []
        if case .array(let items) = json["failing"] ?? .null { failing = items.compactMap(\.string) }
        var stale = false
        if case .bool(let value) = json["stale"] ?? .null { stale = value }
        return ReportStrict(
            clusterId: clusterId, resourceId: resourceId, assignmentId: assignmentId, drift: drift,
            complianceState: json["complianceState"]?.string, stale: stale, failing: failing)
    }
}
