import FleetCore
import PolicyEngine

/// The versioned JSON report (`formatVersion` 1; keys are only ever added).
///
/// Top level: `formatVersion`, `generatedAt`, `run`, `summary` (resources, results and clusters by
/// state, `compliancePercent`), `byAssignment`, `byPolicy`, `bySubscription`, `byResourceGroup`,
/// `byLocation`, `byKind`, `topReasons`, `worstClusters`, `strictSummary`, `trend`,
/// `timeToCompliance`, `flapping`, `clusters` (every cluster with its roll-up), `results` and
/// `strict` (every row).
struct JSONReportRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    func render() -> [UInt8] {
        let data = context.data
        let summary = context.summary
        var w = JSONWriter(pretty: true, capacity: 8192 + data.results.count * 700 + data.clusters.count * 400)
        w.beginObject()
        w.member("formatVersion", 1)
        w.member("generatedAt", context.generatedAt)
        w.key("run")
        writeRun(&w)
        w.key("summary")
        w.beginObject()
        w.key("resources")
        write(summary.resources, &w)
        w.key("results")
        write(summary.results, &w)
        w.key("clusters")
        write(summary.clusters, &w)
        w.member("clustersNotEvaluated", summary.notEvaluated)
        w.key("compliancePercent")
        w.number(summary.resources.compliancePercent, decimals: 2)
        w.endObject()
        w.key("byAssignment")
        writeGroups(summary.byAssignment, &w)
        w.key("byPolicy")
        w.beginArray()
        for policy in summary.byPolicy {
            w.beginObject()
            w.member("assignmentId", policy.assignmentId)
            w.member("assignmentName", policy.assignmentName)
            w.member("policyDefinitionId", policy.policyDefinitionId)
            w.member("policyDefinitionReferenceId", policy.referenceId)
            w.member("label", policy.label)
            w.member("displayName", policy.displayName)
            w.member("category", policy.category)
            w.member("effect", policy.effect)
            w.key("resources")
            write(policy.counts, &w)
            w.key("compliancePercent")
            w.number(policy.counts.compliancePercent, decimals: 2)
            w.endObject()
        }
        w.endArray()
        w.key("bySubscription")
        writeGroups(summary.bySubscription, &w)
        w.key("byResourceGroup")
        writeGroups(summary.byResourceGroup, &w)
        w.key("byLocation")
        writeGroups(summary.byLocation, &w)
        w.key("byKind")
        writeGroups(summary.byKind, &w)
        w.key("topReasons")
        w.beginArray()
        for reason in summary.topReasons.prefix(context.options.topReasons) {
            w.beginObject()
            w.member("policy", reason.policy)
            w.member("reason", reason.reason)
            w.member("results", reason.results)
            w.member("clusters", reason.clusters)
            w.member("exampleCluster", reason.exampleCluster)
            w.endObject()
        }
        w.endArray()
        w.key("worstClusters")
        w.beginArray()
        for i in summary.worstClusters.prefix(context.options.worstClusters) {
            w.string(data.clusters[summary.clusterRollups[i].cluster].id)
        }
        w.endArray()
        w.key("strictSummary")
        writeStrictSummary(&w)
        w.key("trend")
        w.beginArray()
        for point in summary.trend {
            w.beginObject()
            w.key("runId")
            w.number(point.runId)
            w.member("at", point.at)
            w.member("resources", point.resources)
            w.member("compliant", point.compliant)
            w.member("nonCompliant", point.nonCompliant)
            w.member("exempt", point.exempt)
            w.member("unknown", point.unknown)
            w.member("error", point.error)
            w.key("compliancePercent")
            w.number(point.compliancePercent, decimals: 2)
            w.endObject()
        }
        w.endArray()
        w.key("timeToCompliance")
        if let ttc = summary.timeToCompliance {
            w.beginObject()
            w.member("episodes", ttc.episodes)
            w.key("medianSeconds")
            w.number(ttc.medianSeconds)
            w.key("p90Seconds")
            w.number(ttc.p90Seconds)
            w.key("maxSeconds")
            w.number(ttc.maxSeconds)
            w.member("open", ttc.open)
            w.endObject()
        } else {
            w.null()
        }
        w.key("flapping")
        w.beginObject()
        w.member("threshold", summary.flappingThreshold)
        w.key("subjects")
        w.beginArray()
        for subject in summary.flapping {
            w.beginObject()
            w.member("resourceId", subject.resourceId)
            w.member("clusterId", subject.clusterId)
            w.member("assignmentName", subject.assignmentName)
            w.member("policy", subject.policy)
            w.member("changes", subject.changes)
            w.member("state", subject.state.rawValue)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.key("clusters")
        writeClusters(&w)
        w.key("results")
        writeResults(&w)
        w.key("strict")
        writeStrict(&w)
        w.endObject()
        w.newlineAtEnd()
        return w.bytes
    }

    private func writeRun(_ w: inout JSONWriter) {
        let run = context.data.run
        w.beginObject()
        w.key("id")
        if let id = run.id { w.number(id) } else { w.null() }
        w.member("kind", run.kind)
        w.member("startedAt", run.startedAt)
        w.member("evaluatedAt", run.evaluatedAt)
        w.member("inventory", run.inventory)
        w.member("policies", run.policies)
        w.member("policiesDigest", run.policiesDigest)
        w.endObject()
    }

    private func write(_ counts: StateCounts, _ w: inout JSONWriter) {
        w.beginObject()
        w.member("total", counts.total)
        w.member("compliant", counts.compliant)
        w.member("nonCompliant", counts.nonCompliant)
        w.member("exempt", counts.exempt)
        w.member("unknown", counts.unknown)
        w.member("error", counts.error)
        w.endObject()
    }

    private func writeGroups(_ groups: [GroupSummary], _ w: inout JSONWriter) {
        w.beginArray()
        for group in groups {
            w.beginObject()
            w.member("name", group.name)
            w.member("id", group.id)
            w.key("resources")
            write(group.counts, &w)
            w.key("compliancePercent")
            w.number(group.counts.compliancePercent, decimals: 2)
            w.member("clusters", group.clusters)
            w.member("failingClusters", group.failingClusters)
            w.endObject()
        }
        w.endArray()
    }

    private func writeStrictSummary(_ w: inout JSONWriter) {
        let strict = context.summary.strict
        w.beginObject()
        w.member("entries", strict.entries)
        w.member("drifted", strict.drifted)
        w.member("missing", strict.missing)
        w.member("runtimeUnhealthy", strict.runtimeUnhealthy)
        w.member("stale", strict.stale)
        w.member("driftedClusters", strict.driftedClusters)
        w.key("topFields")
        w.beginArray()
        for field in strict.topFields.prefix(context.options.topItems) {
            w.beginObject()
            w.member("path", field.path)
            w.member("count", field.count)
            w.endObject()
        }
        w.endArray()
        w.endObject()
    }

    private func writeClusters(_ w: inout JSONWriter) {
        let data = context.data
        w.beginArray()
        for rollup in context.summary.clusterRollups {
            let cluster = data.clusters[rollup.cluster]
            w.beginObject()
            w.member("id", cluster.id)
            w.member("name", cluster.name)
            w.member("kind", cluster.kind)
            w.member("provisioned", cluster.provisioned)
            w.member("subscriptionId", cluster.subscriptionId)
            w.member("resourceGroup", cluster.resourceGroup)
            w.member("location", cluster.location)
            w.key("tags")
            w.beginObject()
            for tag in cluster.tags { w.member(tag.key, tag.value) }
            w.endObject()
            w.member("eligibilityReason", cluster.eligibilityReason)
            w.member("state", rollup.state?.rawValue)
            w.key("results")
            write(rollup.results, &w)
            w.member("drifted", rollup.drifted)
            w.member("runtimeUnhealthy", rollup.runtimeUnhealthy)
            w.endObject()
        }
        w.endArray()
    }

    private func writeResults(_ w: inout JSONWriter) {
        w.beginArray()
        for result in context.data.results {
            w.beginObject()
            w.member("resourceId", result.resourceId)
            w.member("clusterId", result.clusterId)
            w.member("assignmentId", result.assignmentId)
            w.member("assignmentName", result.assignmentName)
            w.member("policyDefinitionId", result.policyDefinitionId)
            w.member("policyDefinitionReferenceId", result.policyDefinitionReferenceId)
            w.member("effect", result.effect)
            w.member("state", result.state.rawValue)
            w.member("since", result.since)
            if let exemption = result.exemptionId { w.member("exemptionId", exemption) }
            if let error = result.error { w.member("error", error) }
            w.key("reasons")
            w.beginArray()
            for reason in result.reasons {
                w.beginObject()
                w.member("expression", reason.expression)
                w.member("path", reason.path)
                w.member("actual", reason.actual)
                w.member("target", reason.target)
                w.member("operator", reason.operator)
                w.member("message", reason.message)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
    }

    private func writeStrict(_ w: inout JSONWriter) {
        w.beginArray()
        for entry in context.data.strict {
            w.beginObject()
            w.member("clusterId", entry.clusterId)
            w.member("resourceId", entry.resourceId)
            w.member("assignmentId", entry.assignmentId)
            w.key("drift")
            w.beginArray()
            for drift in entry.drift {
                w.beginObject()
                w.member("path", drift.path)
                w.member("actual", drift.actual)
                w.member("desired", drift.desired)
                w.endObject()
            }
            w.endArray()
            w.key("runtime")
            w.beginObject()
            w.member("complianceState", entry.complianceState)
            w.member("stale", entry.stale)
            w.key("failing")
            w.beginArray()
            for failing in entry.failing { w.string(failing) }
            w.endArray()
            w.endObject()
            w.endObject()
        }
        w.endArray()
    }
}
