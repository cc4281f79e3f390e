import FleetCore
import PolicyEngine

/// Prometheus text exposition (version 0.0.4) for a textfile collector or a push gateway.
///
/// Every family has one `# HELP` and one `# TYPE` line; all are gauges.
///
/// Families: `fluxfleet_clusters{state}` (clusters by worst state, `NotEvaluated` for clusters out
/// of scope), `fluxfleet_resources{state}` (distinct resources by worst state),
/// `fluxfleet_compliance_ratio` (0…1), `fluxfleet_assignment_compliance_ratio{assignment,assignment_id}`,
/// `fluxfleet_assignment_resources{assignment,assignment_id,state}`,
/// `fluxfleet_policy_resources{assignment,policy,state}`, `fluxfleet_drifted_resources`,
/// `fluxfleet_missing_resources`, `fluxfleet_runtime_unhealthy_resources`, `fluxfleet_stale_resources`,
/// `fluxfleet_last_run_timestamp_seconds`.
struct PrometheusRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    private func family(_ name: String, _ help: String, into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
    }

    private func labels(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\($0.0)=\"\(Text.prometheusLabel($0.1))\"" }.joined(separator: ",") + "}"
    }

    func render() -> String {
        let summary = context.summary
        var out = ""
        family("fluxfleet_clusters", "Inventory clusters by the worst compliance state of their results.", into: &out)
        for state in ComplianceState.allCases {
            out += "fluxfleet_clusters\(labels([("state", state.rawValue)])) \(summary.clusters.count(state))\n"
        }
        out += "fluxfleet_clusters\(labels([("state", "NotEvaluated")])) \(summary.notEvaluated)\n"
        family("fluxfleet_resources", "Distinct evaluated resources by their worst compliance state.", into: &out)
        for state in ComplianceState.allCases {
            out += "fluxfleet_resources\(labels([("state", state.rawValue)])) \(summary.resources.count(state))\n"
        }
        family(
            "fluxfleet_compliance_ratio", "(Compliant + Exempt + Unknown) / distinct resources, as Azure computes it.",
            into: &out)
        out += "fluxfleet_compliance_ratio \(ratio(summary.resources))\n"
        family("fluxfleet_assignment_compliance_ratio", "Compliance ratio per assignment (0..1).", into: &out)
        for group in summary.byAssignment {
            out += "fluxfleet_assignment_compliance_ratio"
            out += "\(labels([("assignment", group.name), ("assignment_id", group.id)])) \(ratio(group.counts))\n"
        }
        family("fluxfleet_assignment_resources", "Distinct resources per assignment by worst state.", into: &out)
        for group in summary.byAssignment {
            for state in ComplianceState.allCases {
                let l = labels([("assignment", group.name), ("assignment_id", group.id), ("state", state.rawValue)])
                out += "fluxfleet_assignment_resources\(l) \(group.counts.count(state))\n"
            }
        }
        family("fluxfleet_policy_resources", "Resources per assignment and policy by state.", into: &out)
        for policy in summary.byPolicy {
            for state in ComplianceState.allCases {
                let l = labels([
                    ("assignment", policy.assignmentName), ("policy", policy.label), ("state", state.rawValue),
                ])
                out += "fluxfleet_policy_resources\(l) \(policy.counts.count(state))\n"
            }
        }
        let strict = summary.strict
        family("fluxfleet_drifted_resources", "Desired Flux resources that differ from the baseline.", into: &out)
        out += "fluxfleet_drifted_resources \(strict.drifted)\n"
        family("fluxfleet_missing_resources", "Desired Flux resources that do not exist.", into: &out)
        out += "fluxfleet_missing_resources \(strict.missing)\n"
        family(
            "fluxfleet_runtime_unhealthy_resources", "Flux configurations whose runtime is not healthy.", into: &out)
        out += "fluxfleet_runtime_unhealthy_resources \(strict.runtimeUnhealthy)\n"
        family("fluxfleet_stale_resources", "Flux configurations whose status is stale.", into: &out)
        out += "fluxfleet_stale_resources \(strict.stale)\n"
        family("fluxfleet_last_run_timestamp_seconds", "When the reported run was evaluated (Unix time).", into: &out)
        out += "fluxfleet_last_run_timestamp_seconds \(Text.unixSeconds(context.data.run.evaluatedAt) ?? 0)\n"
        return out
    }

    private func ratio(_ counts: StateCounts) -> String {
        Text.number(counts.compliancePercent / 100, decimals: 6)
    }
}
