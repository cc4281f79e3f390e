import FleetCore
import PolicyEngine

/// Markdown for pull-request comments.
///
/// The headline and a summary table, per policy, top reasons, worst clusters with their reasons
/// and drift in collapsible details, the strict view, the groups and the history. Every string from the inventory or the policies goes through ``Text/markdown(_:)``.
struct MarkdownRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    private func md(_ text: String) -> String { Text.markdown(text) }

    private func row(_ cells: [String]) -> String { "| " + cells.joined(separator: " | ") + " |\n" }

    private func header(_ cells: [String]) -> String {
        row(cells) + "|" + cells.map { _ in "---|" }.joined() + "\n"
    }

    func render() -> String {
        let data = context.data
        let summary = context.summary
        let options = context.options
        let r = summary.resources
        var out = "## FluxFleet compliance: \(Text.percent(r.compliancePercent))\n\n"
        let run = data.run
        out += "\(md(run.kind))\(run.id.map { " run \($0)" } ?? "") evaluated \(md(run.evaluatedAt)) · "
        out += "inventory \(md(run.inventory)) · policies \(md(run.policies)) (\(md(run.policiesDigest))) · "
        out += "compliance as Azure computes it: (Compliant + Exempt + Unknown) ÷ distinct resources\n\n"
        out += header(["", "Compliance", "Resources", "Compliant", "Non-compliant", "Exempt", "Unknown", "Error"])
        out += row(["**All**"] + cells(r))
        for group in summary.byAssignment { out += row([md(group.name)] + cells(group.counts)) }
        let failing = summary.clusterRollups.count { !$0.failing.isEmpty }
        out += "\n\(Text.grouped(data.clusters.count)) clusters, \(Text.grouped(failing)) with non-compliance"
        if summary.notEvaluated > 0 { out += ", \(Text.grouped(summary.notEvaluated)) not evaluated" }
        out += "; strict view: \(Text.grouped(summary.strict.drifted)) drifted, "
        out += "\(Text.grouped(summary.strict.runtimeUnhealthy)) runtime-unhealthy.\n"

        out += "\n### By policy\n\n"
        out += header([
            "Assignment", "Policy", "Effect", "Compliance", "Resources", "Compliant", "Non-compliant", "Exempt",
            "Unknown", "Error",
        ])
        for policy in summary.byPolicy {
            out += row([md(policy.assignmentName), md(policy.label), md(policy.effect)] + cells(policy.counts))
        }

        out += "\n### Top non-compliance reasons\n\n"
        if summary.topReasons.isEmpty {
            out += "None.\n"
        } else {
            out += header(["Results", "Clusters", "Policy", "Reason", "Example"])
            for reason in summary.topReasons.prefix(options.topReasons) {
                out += row([
                    Text.grouped(reason.results), Text.grouped(reason.clusters), md(reason.policy),
                    md(RenderContext.clip(reason.reason, 160)), md(reason.exampleCluster),
                ])
            }
        }

        out += "\n### Worst clusters\n\n"
        let worst = Array(summary.worstClusters.prefix(options.worstClusters))
        if worst.isEmpty {
            out += "None: every evaluated cluster is compliant and on the baseline.\n"
        } else {
            out += header(["Cluster", "Kind", "State", "Failing", "Drifted", "Unhealthy"])
            for i in worst {
                let rollup = summary.clusterRollups[i]
                let cluster = data.clusters[rollup.cluster]
                out += row([
                    md(cluster.name), ReportSummary.kindLabel(cluster), rollup.state?.rawValue ?? "-",
                    "\(rollup.failing.count)", "\(rollup.drifted)", "\(rollup.runtimeUnhealthy)",
                ])
            }
            out += "\n<details><summary>Why, cluster by cluster</summary>\n\n"
            for i in worst {
                let rollup = summary.clusterRollups[i]
                out += "**\(md(data.clusters[rollup.cluster].name))**\n\n"
                for index in rollup.failing {
                    let result = data.results[index]
                    out += "- \(md(context.resourceName(ofResult: index))): \(md(result.assignmentName))/"
                    out += "\(md(context.policyLabel(result))) \(result.state.rawValue)\n"
                    for line in RenderContext.explain(result).prefix(4) {
                        out += "  - \(md(RenderContext.clip(line, 200)))\n"
                    }
                }
                for index in rollup.strictProblems {
                    let entry = data.strict[index]
                    out += "- strict view \(md(Text.lastSegment(entry.resourceId))) "
                    out += "(\(md(context.assignmentName(id: entry.assignmentId)))):\n"
                    for drift in entry.drift.prefix(6) {
                        let text = md(RenderContext.clip(RenderContext.describe(drift), 200))
                        out += drift.path.isEmpty ? "  - \(text)\n" : "  - drift \(text)\n"
                    }
                    if let state = entry.complianceState, !ASCII.equalsIgnoringCase(state, "Compliant") {
                        out += "  - runtime: Flux reports \(md(state))\n"
                    }
                    if entry.stale { out += "  - runtime: status stale\n" }
                    for failing in entry.failing.prefix(3) { out += "  - runtime: \(md(failing))\n" }
                }
                out += "\n"
            }
            out += "</details>\n"
        }

        let strict = summary.strict
        out += "\n### Strict view (beyond Azure Policy)\n\n"
        out += "\(Text.grouped(strict.entries)) desired Flux resources: \(Text.grouped(strict.drifted)) drifted "
        out += "(\(Text.grouped(strict.missing)) missing) on \(Text.grouped(strict.driftedClusters)) clusters, "
        out += "\(Text.grouped(strict.runtimeUnhealthy)) runtime-unhealthy, \(Text.grouped(strict.stale)) stale.\n"
        if !strict.topFields.isEmpty {
            out += "\n<details><summary>Top drifted fields</summary>\n\n"
            out += header(["Field", "Resources"])
            for field in strict.topFields.prefix(options.topItems) {
                out += row([md(field.path), Text.grouped(field.count)])
            }
            out += "\n</details>\n"
        }

        out += "\n<details><summary>By subscription, resource group, location and kind</summary>\n\n"
        for (name, groups) in [
            ("Subscription", summary.bySubscription), ("Resource group", summary.byResourceGroup),
            ("Location", summary.byLocation), ("Kind", summary.byKind),
        ] {
            out += header([name, "Compliance", "Resources", "Non-compliant", "Clusters", "Failing clusters"])
            for group in groups.prefix(options.groupRows) {
                out += row([
                    md(group.name), Text.percent(group.counts), Text.grouped(group.counts.total),
                    Text.grouped(group.counts.nonCompliant), Text.grouped(group.clusters),
                    Text.grouped(group.failingClusters),
                ])
            }
            if groups.count > options.groupRows {
                out += "\n… \(Text.grouped(groups.count - options.groupRows)) more, worst first.\n"
            }
            out += "\n"
        }
        out += "</details>\n"

        out += "\n### History\n\n"
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
        if summary.trend.count < 2 {
            out += "No history yet: the trend starts with the next recorded run.\n"
        } else {
            let first = summary.trend.first!
            let last = summary.trend.last!
            out +=
                "Trend over \(summary.trend.count) runs: \(Text.percent(first.compliancePercent)) (\(md(first.at))) → "
            out += "\(Text.percent(last.compliancePercent)) (\(md(last.at))) "
            out += "\(TableRenderer.sparkline(summary.trend.map(\.compliancePercent), width: 40))\n"
        }
        if let ttc = summary.timeToCompliance {
            out += "\nTime to compliance: "
            out +=
                ttc.episodes == 0
                ? "nothing was fixed in the window"
                : "\(Text.grouped(ttc.episodes)) fixed, median \(Text.duration(ttc.medianSeconds)), "
                    + "p90 \(Text.duration(ttc.p90Seconds)), max \(Text.duration(ttc.maxSeconds))"
            out += "; \(Text.grouped(ttc.open)) still non-compliant.\n"
        }
        if !summary.flapping.isEmpty {
            out += "\n<details><summary>Flapping: \(Text.grouped(summary.flapping.count)) subjects with ≥ "
            out += "\(summary.flappingThreshold) state changes</summary>\n\n"
            out += header(["Resource", "Assignment", "Policy", "Changes", "Now"])
            for subject in summary.flapping.prefix(context.options.topItems) {
                let resource = context.resourceName(
                    resourceId: subject.resourceId, clusterId: subject.clusterId, clusterName: subject.clusterName)
                out += row([
                    md(resource), md(subject.assignmentName), md(subject.policy), "\(subject.changes)",
                    subject.state.rawValue,
                ])
            }
            out += "\n</details>\n"
        }
        return out
    }
}
