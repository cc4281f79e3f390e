import FleetCore
import PolicyEngine

/// The terminal summary: the headline, per assignment and policy, by subscription, resource group,
/// location and kind, top reasons, worst clusters, the strict view, and the history when there is one.
struct TableRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    private func paint(_ text: String, _ code: String) -> String {
        context.options.color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func title(_ text: String) -> String { "\n" + paint(text, "1") + "\n" }

    private func percentColour(_ value: Double) -> String {
        let text = Text.percent(value)
        return paint(text, value >= 90 ? "32" : value >= 70 ? "33" : "31")
    }

    func render() -> String {
        let data = context.data
        let summary = context.summary
        let options = context.options
        var out = ""
        let run = data.run
        let runName = run.id.map { "\(run.kind) run \($0)" } ?? run.kind
        out += paint("FluxFleet compliance report", "1") + " — \(runName) evaluated \(run.evaluatedAt)\n"
        out += "inventory \(run.inventory), policies \(run.policies) (digest \(run.policiesDigest))\n\n"
        let r = summary.resources
        out +=
            "\(percentColour(r.compliancePercent)) compliant as Azure computes it: \(Text.grouped(r.total)) resources, "
        out += "\(Text.grouped(r.compliant)) compliant, \(Text.grouped(r.nonCompliant)) non-compliant, "
        out += "\(Text.grouped(r.exempt)) exempt, \(Text.grouped(r.unknown)) unknown, \(Text.grouped(r.error)) error\n"
        let failingClusters = summary.clusterRollups.count { !$0.failing.isEmpty }
        out += "\(Text.grouped(data.clusters.count)) clusters: \(Text.grouped(failingClusters)) with non-compliance"
        out +=
            summary.notEvaluated > 0 ? ", \(Text.grouped(summary.notEvaluated)) not evaluated (out of scope)\n" : "\n"

        out += title("By assignment")
        var rows = [
            ["ASSIGNMENT", "COMPLIANCE", "RESOURCES", "COMPLIANT", "NON-COMPLIANT", "EXEMPT", "UNKNOWN", "ERROR"]
        ]
        for group in summary.byAssignment { rows.append([group.name] + cells(group.counts)) }
        out += TextTable.render(rows)

        out += title("By policy")
        rows = [
            [
                "ASSIGNMENT", "POLICY", "EFFECT", "COMPLIANCE", "RESOURCES", "COMPLIANT", "NON-COMPLIANT", "EXEMPT",
                "UNKNOWN", "ERROR",
            ]
        ]
        for policy in summary.byPolicy {
            rows.append([policy.assignmentName, policy.label, policy.effect] + cells(policy.counts))
        }
        out += TextTable.render(rows)

        for (name, groups) in [
            ("subscription", summary.bySubscription), ("resource group", summary.byResourceGroup),
            ("location", summary.byLocation), ("kind", summary.byKind),
        ] {
            out += title("By \(name)")
            rows = [[name.uppercased(), "COMPLIANCE", "RESOURCES", "NON-COMPLIANT", "ERROR", "CLUSTERS", "FAILING"]]
            for group in groups.prefix(options.groupRows) {
                let c = group.counts
                rows.append([
                    group.name, Text.percent(c), Text.grouped(c.total), Text.grouped(c.nonCompliant),
                    Text.grouped(c.error), Text.grouped(group.clusters), Text.grouped(group.failingClusters),
                ])
            }
            out += TextTable.render(rows)
            if groups.count > options.groupRows {
                out +=
                    "… \(Text.grouped(groups.count - options.groupRows)) more (worst first; the JSON report has all)\n"
            }
        }

        out += title("Top non-compliance reasons")
        if summary.topReasons.isEmpty {
            out += "none\n"
        } else {
            rows = [["RESULTS", "CLUSTERS", "POLICY", "REASON", "EXAMPLE"]]
            for reason in summary.topReasons.prefix(options.topReasons) {
                rows.append([
                    Text.grouped(reason.results), Text.grouped(reason.clusters), reason.policy,
                    RenderContext.clip(reason.reason, 90), reason.exampleCluster,
                ])
            }
            out += TextTable.render(rows)
        }

        out += title("Worst clusters")
        let worst = summary.worstClusters.prefix(options.worstClusters)
        if worst.isEmpty {
            out += "none: every evaluated cluster is compliant and on the baseline\n"
        } else {
            rows = [["CLUSTER", "KIND", "STATE", "FAILING", "DRIFTED", "UNHEALTHY", "FIRST FAILING"]]
            for i in worst {
                let rollup = summary.clusterRollups[i]
                let cluster = data.clusters[rollup.cluster]
                let first = rollup.failing.first.map { index in
                    let result = data.results[index]
                    return "\(result.assignmentName)/\(context.policyLabel(result))"
                }
                rows.append([
                    cluster.name, ReportSummary.kindLabel(cluster), rollup.state?.rawValue ?? "-",
                    "\(rollup.failing.count)", "\(rollup.drifted)", "\(rollup.runtimeUnhealthy)", first ?? "-",
                ])
            }
            out += TextTable.render(rows)
        }

        let strict = summary.strict
        out += title("Strict view (beyond Azure Policy)")
        out += "\(Text.grouped(strict.entries)) desired Flux resources: \(Text.grouped(strict.drifted)) drifted "
        out += "(\(Text.grouped(strict.missing)) missing) on \(Text.grouped(strict.driftedClusters)) clusters, "
        out += "\(Text.grouped(strict.runtimeUnhealthy)) runtime-unhealthy, \(Text.grouped(strict.stale)) stale\n"
        if !strict.topFields.isEmpty {
            rows = [["DRIFTED FIELD", "RESOURCES"]]
            for field in strict.topFields.prefix(options.topItems) {
                rows.append([field.path, Text.grouped(field.count)])
            }
            out += TextTable.render(rows)
        }

        out += title("History")
        out += history()
        return out
    }

    private func cells(_ c: StateCounts) -> [String] {
        [
            Text.percent(c), Text.grouped(c.total), Text.grouped(c.compliant),
            Text.grouped(c.nonCompliant), Text.grouped(c.exempt), Text.grouped(c.unknown), Text.grouped(c.error),
        ]
    }

    private func history() -> String {
        let summary = context.summary
        var out = ""
        let trend = summary.trend
        if trend.count < 2 {
            out += "no history yet: the trend starts with the next recorded run\n"
        } else {
            let first = trend.first!
            let last = trend.last!
            let change = last.compliancePercent - first.compliancePercent
            out += "trend over \(trend.count) runs (\(first.at) → \(last.at)): \(Text.percent(first.compliancePercent))"
            out +=
                " → \(Text.percent(last.compliancePercent)) (\(change >= 0 ? "+" : "")\(Text.number(change, decimals: 1)) points)\n"
            out += "  \(Self.sparkline(trend.map(\.compliancePercent), width: 60))\n"
        }
        if let ttc = summary.timeToCompliance {
            if ttc.episodes == 0 {
                out += "time to compliance: no non-compliance was fixed in the window"
            } else {
                out +=
                    "time to compliance (\(Text.grouped(ttc.episodes)) fixed): median \(Text.duration(ttc.medianSeconds)), "
                out += "p90 \(Text.duration(ttc.p90Seconds)), max \(Text.duration(ttc.maxSeconds))"
            }
            out += "; \(Text.grouped(ttc.open)) still non-compliant\n"
        }
        if !summary.flapping.isEmpty {
            out +=
                "flapping (≥ \(summary.flappingThreshold) state changes): \(Text.grouped(summary.flapping.count)) subject(s)\n"
            for subject in summary.flapping.prefix(context.options.topItems) {
                let resource = context.resourceName(
                    resourceId: subject.resourceId, clusterId: subject.clusterId, clusterName: subject.clusterName)
                out += "  \(resource): \(subject.assignmentName)/\(subject.policy) changed \(subject.changes) times, "
                out += "now \(subject.state.rawValue)\n"
            }
        } else if summary.timeToCompliance != nil {
            out += "flapping (≥ \(summary.flappingThreshold) state changes): none\n"
        }
        return out
    }

    /// Percentages as block characters, averaged into at most `width` buckets; the scale runs from
    /// the lowest value rounded down to ten (at most 90) to 100, as the HTML trend's axis does.
    static func sparkline(_ values: [Double], width: Int) -> String {
        let blocks: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        guard let lowest = values.min() else { return "" }
        let floor = min(max(0, (lowest / 10).rounded(.down) * 10), 90)
        let buckets = min(values.count, width)
        var out = ""
        for b in 0..<buckets {
            let start = b * values.count / buckets
            let end = max((b + 1) * values.count / buckets, start + 1)
            let mean = values[start..<end].reduce(0, +) / Double(end - start)
            let level = Int(((min(max(mean, floor), 100) - floor) / (100 - floor) * Double(blocks.count - 1)).rounded())
            out.append(blocks[level])
        }
        return out
    }
}
