import FleetCore
import PolicyEngine
import Reports

/// Renders a cluster's history as a terminal timeline or as JSON.
///
/// Pure: values in, text out.
public struct HistoryReport: Sendable {
    /// The history.
    public let history: ClusterHistory

    /// Creates a report.
    public init(history: ClusterHistory) { self.history = history }

    private static func lastSegment(_ id: String) -> String {
        id.split(separator: "/").last.map(String.init) ?? id
    }

    /// The policy name shown: the initiative reference, or the definition's name.
    private static func policy(_ entry: TimelineEntry) -> String {
        entry.policyDefinitionReferenceId ?? lastSegment(entry.policyDefinitionId)
    }

    /// Entries grouped by subject (assignment × policy × resource), in stored order.
    private var subjects: [[TimelineEntry]] {
        var groups: [[TimelineEntry]] = []
        for entry in history.entries {
            if let last = groups.last?.last, last.assignmentId == entry.assignmentId,
                last.policyDefinitionId == entry.policyDefinitionId,
                last.policyDefinitionReferenceId == entry.policyDefinitionReferenceId,
                ASCII.equalsIgnoringCase(last.resourceId, entry.resourceId)
            {
                groups[groups.count - 1].append(entry)
            } else {
                groups.append([entry])
            }
        }
        return groups
    }

    private var strictSubjects: [[StrictTimelineEntry]] {
        var groups: [[StrictTimelineEntry]] = []
        for entry in history.strict {
            if let last = groups.last?.last, last.entry.assignmentId == entry.entry.assignmentId,
                ASCII.equalsIgnoringCase(last.entry.resourceId, entry.entry.resourceId)
            {
                groups[groups.count - 1].append(entry)
            } else {
                groups.append([entry])
            }
        }
        return groups
    }

    /// The timeline for people: the cluster, then per assignment and policy each state period
    /// (from → to, state, reasons), then the strict view's periods.
    public func table() -> String {
        let c = history.cluster
        var out = "\(c.name)  \(c.id)\n"
        var facts = [
            c.provisioned ? "AKS Arc" : c.kind == "managedClusters" ? "AKS" : "Arc", c.location, c.resourceGroup,
        ]
        facts.append(c.eligibilityReason.map { "not eligible: \($0)" } ?? "eligible")
        out += "  " + facts.joined(separator: " · ") + "\n"
        out += "  first seen: run \(history.firstSeen.run) (\(history.firstSeen.at))"
        if let removed = history.removed {
            let last = history.lastSeen.map { "run \($0.run) (\($0.at))" } ?? "-"
            out += "; last seen: \(last); missing since run \(removed.run) (\(removed.at))\n"
        } else {
            out += "; in the latest run\n"
        }
        for group in subjects {
            let first = group[0]
            var title = "\(first.assignmentName) / \(Self.policy(first))"
            if !ASCII.equalsIgnoringCase(first.resourceId, c.id) {
                title += " on \(Self.lastSegment(first.resourceId))"
            }
            out += "\n\(title) (\(group.last!.effect))\n"
            let spans = group.reversed().map { "\($0.from) → \($0.to ?? "now")" }
            let width = spans.map(\.count).max() ?? 0
            for (entry, span) in zip(group.reversed(), spans) {
                out += "  \(span)\(String(repeating: " ", count: width - span.count))  \(entry.state.rawValue)\n"
                if let exemption = entry.exemptionId { out += "      exemption \(Self.lastSegment(exemption))\n" }
                if let error = entry.error { out += "      error: \(error)\n" }
                for reason in entry.reasons.prefix(3) {
                    var line = reason.message
                    if !reason.path.isEmpty {
                        line +=
                            " [\(reason.path): \(reason.actual ?? "<missing>") \(reason.operator) \(reason.target ?? "<missing>")]"
                    }
                    out += "      \(line)\n"
                }
                if entry.reasons.count > 3 { out += "      … \(entry.reasons.count - 3) more\n" }
            }
        }
        let strict = strictSubjects
        if !strict.isEmpty {
            out += "\nstrict view (beyond Azure Policy):\n"
            for group in strict {
                out += "  \(Self.lastSegment(group[0].entry.resourceId)):\n"
                for period in group.reversed() {
                    let e = period.entry
                    var status: [String] = []
                    if e.drift.isEmpty {
                        status.append("on the baseline")
                    } else if e.drift.count == 1 && e.drift[0].path.isEmpty {
                        status.append("missing")
                    } else {
                        status.append(
                            "\(e.drift.count) drifted field(s): "
                                + e.drift.prefix(3).map(\.path).joined(separator: ", "))
                    }
                    if let state = e.complianceState { status.append("Flux \(state)") }
                    if e.stale { status.append("status stale") }
                    if !e.failing.isEmpty { status.append("\(e.failing.count) failing") }
                    out += "    \(period.from) → \(period.to ?? "now")  \(status.joined(separator: "; "))\n"
                }
            }
        }
        return out
    }

    /// The JSON document (`formatVersion` 1), ending with a newline.
    public func jsonBytes(pretty: Bool = true) -> [UInt8] {
        var w = JSONWriter(pretty: pretty)
        let c = history.cluster
        w.beginObject()
        w.member("formatVersion", 1)
        w.key("cluster")
        w.beginObject()
        w.member("id", c.id)
        w.member("name", c.name)
        w.member("kind", c.kind)
        w.member("provisioned", c.provisioned)
        w.member("subscriptionId", c.subscriptionId)
        w.member("resourceGroup", c.resourceGroup)
        w.member("location", c.location)
        w.key("tags")
        w.beginObject()
        for tag in c.tags { w.member(tag.key, tag.value) }
        w.endObject()
        w.member("eligibilityReason", c.eligibilityReason)
        w.endObject()
        func runAt(_ name: String, _ value: (run: Int64, at: String)?) {
            w.key(name)
            guard let value else { return w.null() }
            w.beginObject()
            w.member("run", Int(value.run))
            w.member("at", value.at)
            w.endObject()
        }
        runAt("firstSeen", history.firstSeen)
        runAt("lastSeen", history.lastSeen)
        runAt("removed", history.removed)
        w.key("timeline")
        w.beginArray()
        for group in subjects {
            let first = group[0]
            w.beginObject()
            w.member("resourceId", first.resourceId)
            w.member("assignmentId", first.assignmentId)
            w.member("assignmentName", first.assignmentName)
            w.member("policyDefinitionId", first.policyDefinitionId)
            w.member("policyDefinitionReferenceId", first.policyDefinitionReferenceId)
            w.key("periods")
            w.beginArray()
            for entry in group {
                w.beginObject()
                w.member("state", entry.state.rawValue)
                w.member("fromRun", Int(entry.fromRun))
                w.member("from", entry.from)
                w.key("toRun")
                if let to = entry.toRun { w.number(Int(to)) } else { w.null() }
                w.member("to", entry.to)
                w.member("effect", entry.effect)
                if let exemption = entry.exemptionId { w.member("exemptionId", exemption) }
                if let error = entry.error { w.member("error", error) }
                w.key("reasons")
                w.beginArray()
                for reason in entry.reasons {
                    w.beginObject()
                    w.member("expression", reason.expression)
                    w.member("path", reason.path)
                    w.key("actual")
                    Self.rawJSON(reason.actual, to: &w)
                    w.key("target")
                    Self.rawJSON(reason.target, to: &w)
                    w.member("operator", reason.operator)
                    w.member("message", reason.message)
                    w.endObject()
                }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.key("strict")
        w.beginArray()
        for group in strictSubjects {
            w.beginObject()
            w.member("resourceId", group[0].entry.resourceId)
            w.member("assignmentId", group[0].entry.assignmentId)
            w.key("periods")
            w.beginArray()
            for period in group {
                let e = period.entry
                w.beginObject()
                w.member("fromRun", Int(period.fromRun))
                w.member("from", period.from)
                w.key("toRun")
                if let to = period.toRun { w.number(Int(to)) } else { w.null() }
                w.member("to", period.to)
                w.key("drift")
                w.beginArray()
                for drift in e.drift {
                    w.beginObject()
                    w.member("path", drift.path)
                    w.key("actual")
                    Self.rawJSON(drift.actual, to: &w)
                    w.key("desired")
                    Self.rawJSON(drift.desired, to: &w)
                    w.endObject()
                }
                w.endArray()
                w.member("complianceState", e.complianceState)
                w.member("stale", e.stale)
                w.key("failing")
                w.beginArray()
                for failing in e.failing { w.string(failing) }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.newlineAtEnd()
        return w.bytes
    }

    /// Writes stored compact JSON text back as a JSON value (null when missing or unreadable).
    private static func rawJSON(_ text: String?, to w: inout JSONWriter) {
        guard let text, let value = try? JSON.parse(text, source: "history") else { return w.null() }
        w.value(value)
    }
}

extension CheckReport {
    /// The check for people: counts, the problems or `integrity: ok`, the latest runs, the lease.
    ///
    /// - Parameters:
    ///   - path: The database path as given.
    ///   - runs: The runs (the last `limit` are listed).
    ///   - limit: How many runs to list.
    public func text(path: String, runs: [StoredRun], limit: Int = 10) -> String {
        var out =
            "\(path): schema version \(schemaVersion), \(self.runs) run(s), \(clusters) cluster(s), "
            + "\(intervals) state interval(s) (\(openIntervals) open), \(details) reason text(s)\n"
        if operations > 0 || plans > 0 {
            out += "apply journal: \(operations) operation(s); \(plans) plan(s) (\(consumedPlans) applied)\n"
        }
        out += problems.isEmpty ? "check: ok (integrity, foreign keys, intervals)\n" : ""
        for problem in problems { out += "problem: \(problem)\n" }
        if !runs.isEmpty {
            out += "\n"
            var rows = [
                ["RUN", "KIND", "STATUS", "EVALUATED", "CLUSTERS", "RESOURCES", "COMPLIANCE", "OPENED", "CLOSED"]
            ]
            if runs.count > limit { out += "(\(runs.count - limit) earlier run(s) not shown)\n" }
            for run in runs.suffix(limit) {
                // Apply and resume runs evaluate nothing: their clusters are the ones they worked on.
                if run.kind == RunKind.apply.rawValue || run.kind == RunKind.resume.rawValue {
                    rows.append([
                        "\(run.id)", run.kind, run.status, run.evaluatedAt, "\(run.clusters)", "-", "-", "-", "-",
                    ])
                    continue
                }
                var w = JSONWriter()
                w.number(run.point.compliancePercent, decimals: 1)
                rows.append([
                    "\(run.id)", run.kind, run.status, run.evaluatedAt, "\(run.clusters)", "\(run.point.resources)",
                    w.text + "%", "\(run.intervalsOpened)", "\(run.intervalsClosed)",
                ])
            }
            out += TextTable.render(rows)
        }
        if let lease {
            out +=
                "\nwriter lease: held by \(lease.holder) (pid \(lease.pid) on \(lease.host), since \(lease.acquiredAt), last heartbeat \(lease.heartbeatAt))\n"
        } else {
            out += "\nwriter lease: free\n"
        }
        return out
    }
}
