import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

/// The summary model: Azure's percentage, the groupings, reasons, clusters, history.
@Suite("report summary")
struct ReportSummaryTests {
    static func result(
        _ resource: String, cluster: String? = nil,
        assignment: String = "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/a",
        reference: String? = "p1", _ state: ComplianceState, reasons: [ReportReason] = []
    ) -> ReportResult {
        ReportResult(
            resourceId: resource, clusterId: cluster ?? resource, assignmentId: assignment,
            assignmentName: String(assignment.split(separator: "/").last!),
            policyDefinitionId: "/providers/Microsoft.Authorization/policyDefinitions/d-\(reference ?? "x")",
            policyDefinitionReferenceId: reference, effect: "Audit", state: state, reasons: reasons)
    }

    static func cluster(_ id: String, location: String = "westeurope", kind: String = "managedClusters")
        -> ReportCluster
    {
        ReportCluster(
            id: id, name: String(id.split(separator: "/").last!), kind: kind, provisioned: false, subscriptionId: "s",
            resourceGroup: "rg", location: location, tags: [], eligibilityReason: nil)
    }

    static func run() -> ReportRun {
        ReportRun(
            id: 1, kind: "scan", startedAt: "2026-11-21T18:00:00Z", evaluatedAt: "2026-11-21T18:00:00Z",
            inventory: "i", policies: "p", policiesDigest: "d")
    }

    @Test("the demo summary agrees with the engine's own ScanResult.summary")
    func agreesWithEngine() {
        let engine = Fixtures.demo.scan.summary
        let summary = ReportSummary(Fixtures.scanOnly)
        #expect(summary.resources.total == engine.resources)
        #expect(summary.resources.compliant == engine.compliant)
        #expect(summary.resources.nonCompliant == engine.nonCompliant)
        #expect(summary.resources.exempt == engine.exempt)
        #expect(summary.resources.unknown == engine.unknown)
        #expect(summary.resources.error == engine.error)
        #expect(summary.resources.compliancePercent == engine.compliancePercent)
        #expect(summary.strict.drifted == engine.drifted)
        #expect(summary.results.total == Fixtures.demo.scan.results.count)
    }

    @Test("each resource counts once with its worst state; Exempt and Unknown count as compliant, Error does not")
    func worstStateRollup() {
        let a2 = "/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/b"
        let ids = (1...5).map {
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c\($0)"
        }
        let data = ReportData(
            run: Self.run(), clusters: ids.map { Self.cluster($0) },
            results: [
                Self.result(ids[0], .compliant), Self.result(ids[0].uppercased(), assignment: a2, .nonCompliant),
                Self.result(ids[1], .exempt), Self.result(ids[1], reference: "p2", .compliant),
                Self.result(ids[2], .unknown), Self.result(ids[3], .error),
                Self.result(ids[3], reference: "p2", .exempt),
            ], strict: [])
        let summary = ReportSummary(data)
        #expect(summary.resources.total == 4)
        #expect(summary.resources.nonCompliant == 1)  // c1: NonCompliant beats Compliant, id case ignored
        #expect(summary.resources.compliant == 1)  // c2: Compliant beats Exempt
        #expect(summary.resources.unknown == 1)
        #expect(summary.resources.error == 1)  // c4: Error beats Exempt
        #expect(summary.resources.compliancePercent == 50)
        // Per assignment, c1 is Compliant under a and NonCompliant under b.
        #expect(summary.byAssignment.map(\.counts.total) == [4, 1])
        #expect(summary.byAssignment[0].counts.nonCompliant == 0)
        #expect(summary.byAssignment[1].counts.nonCompliant == 1)
        #expect(summary.notEvaluated == 1)
        #expect(summary.clusters.total == 4)
        #expect(summary.worstClusters.map { data.clusters[summary.clusterRollups[$0].cluster].name } == ["c1", "c4"])
    }

    @Test("the demo's per-policy counts are the scan table's")
    func perPolicy() {
        let summary = ReportSummary(Fixtures.scanOnly)
        let prodExtension = summary.byPolicy.first {
            $0.assignmentName == "gitops-baseline-prod" && $0.label == "fluxExtension"
        }
        #expect(prodExtension?.counts.compliant == 5)
        #expect(prodExtension?.counts.nonCompliant == 2)
        #expect(prodExtension?.counts.exempt == 1)
        #expect(prodExtension?.category == "Kubernetes")
        #expect(summary.byPolicy.count == 11)
        // Arc-enabled clusters and AKS Arc (provisioned) clusters are separate kinds, as inventory shows them.
        #expect(summary.byKind.map(\.name).sorted() == ["AKS", "AKS Arc", "Arc"])
        #expect(summary.byKind.first { $0.name == "AKS Arc" }?.clusters == 1)
        #expect(summary.byKind.reduce(0) { $0 + $1.clusters } == Fixtures.scanOnly.clusters.count)
        #expect(summary.bySubscription.reduce(0) { $0 + $1.counts.total } == summary.resources.total)
    }

    @Test("reasons are grouped by a normalised text and counted once per result")
    func reasons() {
        let reason = { (actual: String) in
            ReportReason(
                expression: "field 'branch'", path: "properties.branch", actual: actual, target: "\"main\"",
                operator: "equals", message: "Current value must be equal to the target value.")
        }
        let typeLeaf = ReportReason(
            expression: "field 'type'", path: "type", actual: "\"x\"", target: "\"x\"", operator: "equals",
            message: "m")
        let ids = (1...3).map {
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c\($0)"
        }
        let data = ReportData(
            run: Self.run(), clusters: ids.map { Self.cluster($0) },
            results: [
                Self.result(ids[0], .nonCompliant, reasons: [typeLeaf, reason("\"dev\"")]),
                Self.result(ids[1], .nonCompliant, reasons: [reason("\"release\""), reason("\"release\"")]),
                Self.result(ids[2], .compliant, reasons: [reason("\"x\"")]),
            ], strict: [])
        let top = ReportSummary(data).topReasons
        #expect(top.count == 1, "\(top)")
        #expect(top.first?.reason == "properties.branch equals \"main\"")
        #expect(top.first?.results == 2)
        #expect(top.first?.clusters == 2)
        #expect(top.first?.exampleCluster == "c1")
    }

    @Test("time to compliance and flapping come from the intervals")
    func history() {
        let summary = ReportSummary(Fixtures.withHistory)
        let ttc = summary.timeToCompliance
        // Episodes: 10 h, 1 d, 2 d, 3 d.
        #expect(ttc?.episodes == 4)
        #expect(ttc?.medianSeconds == 86_400)
        #expect(ttc?.p90Seconds == 259_200)
        #expect(ttc?.maxSeconds == 259_200)
        #expect(ttc?.open == 0)
        #expect(summary.flapping.map(\.clusterName) == ["arc-store-042"])
        #expect(summary.flapping.first?.changes == 4)
        #expect(summary.flapping.first?.assignmentName == "gitops-baseline-dev")
        let strict = ReportSummary(Fixtures.withHistory, options: ReportOptions(flappingThreshold: 5))
        #expect(strict.flapping.isEmpty)
        #expect(strict.flappingThreshold == 5)
        #expect(ReportSummary(Fixtures.scanOnly).timeToCompliance == nil)
    }

    @Test("without history every format says so instead of drawing a trend")
    func noHistory() {
        #expect(Fixtures.render(Fixtures.scanOnly, .html).contains("No history yet"))
        #expect(!Fixtures.render(Fixtures.scanOnly, .html).contains("<polyline"))
        #expect(Fixtures.render(Fixtures.withHistory, .html).contains("<polyline"))
        #expect(Fixtures.render(Fixtures.scanOnly, .table).contains("no history yet"))
        #expect(Fixtures.render(Fixtures.scanOnly, .markdown).contains("No history yet"))
    }

    @Test("empty data renders every format with 100% and nothing failing")
    func empty() throws {
        let data = ReportData(run: Self.run(), clusters: [], results: [], strict: [])
        #expect(ReportSummary(data).resources.compliancePercent == 100)
        for format in ReportFormat.allCases {
            let bytes = ReportRenderer.render(data, format: format)
            #expect(bytes.last == 0x0A, "\(format) ends with a line break")
        }
        let doc = try JSON.parse(Fixtures.render(data, .sarif))
        #expect(doc["version"]?.string == "2.1.0")
    }
}
