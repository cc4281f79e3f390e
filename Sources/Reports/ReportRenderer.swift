import FleetCore
import PolicyEngine

/// The formats `fluxfleet report` writes.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// A terminal summary.
    case table
    /// The versioned JSON document (`formatVersion` 1): the summary and every row.
    case json
    /// RFC 4180 CSV, one row per result.
    case csv
    /// Markdown for pull-request comments.
    case markdown
    /// One self-contained HTML page (inline CSS, SVG and a little JavaScript).
    case html
    /// A `wgpolicyk8s.io/v1alpha2` ClusterPolicyReport, as JSON (which is also YAML).
    case policyreport
    /// JUnit XML: a test suite per assignment × policy, a test case per evaluated resource.
    case junit
    /// SARIF 2.1.0: a rule per policy, a result per non-compliance.
    case sarif
    /// Prometheus text exposition for a textfile collector.
    case prometheus

    /// The usual file extension for the format.
    public var fileExtension: String {
        switch self {
        case .table: "txt"
        case .json: "json"
        case .csv: "csv"
        case .markdown: "md"
        case .html: "html"
        case .policyreport: "policyreport.json"
        case .junit: "junit.xml"
        case .sarif: "sarif"
        case .prometheus: "prom"
        }
    }
}

/// How reports are rendered: everything that is not data.
public struct ReportOptions: Sendable {
    /// When the report was generated (ISO 8601 UTC).
    ///
    /// Nil uses the run's evaluation time, so that the same data always renders the same bytes:
    /// renderers never read the clock.
    public var generatedAt: String?
    /// ANSI colours in the table (the CLI decides, honouring `NO_COLOR` and terminals).
    public var color: Bool
    /// How many reasons the summaries list.
    public var topReasons: Int
    /// How many clusters the "worst clusters" lists hold.
    public var worstClusters: Int
    /// How many drifted fields and flapping subjects the summaries list.
    public var topItems: Int
    /// How many rows the per-subscription, resource group and location tables hold (the rest are
    /// counted in a closing line).
    public var groupRows: Int
    /// State changes inside the window from which a subject counts as flapping.
    public var flappingThreshold: Int
    /// Cluster rows the HTML page renders as markup (worst first); the page's script pages through
    /// every cluster, and without JavaScript the page says how many rows were left out.
    public var htmlClusterRows: Int
    /// The version the reports name as their producer.
    public var toolVersion: String

    /// Creates options; every argument has a default.
    public init(
        generatedAt: String? = nil, color: Bool = false, topReasons: Int = 10, worstClusters: Int = 10,
        topItems: Int = 10, groupRows: Int = 25, flappingThreshold: Int = ReportSummary.defaultFlappingThreshold,
        htmlClusterRows: Int = 500, toolVersion: String = FleetCoreVersion.string
    ) {
        self.generatedAt = generatedAt
        self.color = color
        self.topReasons = topReasons
        self.worstClusters = worstClusters
        self.topItems = topItems
        self.groupRows = groupRows
        self.flappingThreshold = flappingThreshold
        self.htmlClusterRows = htmlClusterRows
        self.toolVersion = toolVersion
    }
}

/// Renders ``ReportData`` in any ``ReportFormat``.
///
/// Pure: values in, bytes out; no disk, no clock.
public enum ReportRenderer {
    /// Renders `data` in `format`.
    ///
    /// - Parameters:
    ///   - data: What to report.
    ///   - format: The output format.
    ///   - options: Limits, colour and the generation time.
    /// - Returns: The document's bytes (UTF-8), ending with a line break.
    public static func render(_ data: ReportData, format: ReportFormat, options: ReportOptions = .init()) -> [UInt8] {
        render(data, summary: ReportSummary(data, options: options), format: format, options: options)
    }

    /// Renders `data` in `format` with a summary computed before (to render many formats at once).
    ///
    /// - Parameters:
    ///   - data: What to report.
    ///   - summary: `ReportSummary(data, options: options)`.
    ///   - format: The output format.
    ///   - options: Limits, colour and the generation time.
    /// - Returns: The document's bytes (UTF-8), ending with a line break.
    public static func render(
        _ data: ReportData, summary: ReportSummary, format: ReportFormat, options: ReportOptions = .init()
    ) -> [UInt8] {
        let context = RenderContext(data: data, summary: summary, options: options)
        switch format {
        case .table: return Array(TableRenderer(context).render().utf8)
        case .json: return JSONReportRenderer(context).render()
        case .csv: return CSVRenderer(context).render()
        case .markdown: return Array(MarkdownRenderer(context).render().utf8)
        case .html: return Array(HTMLRenderer(context).render().utf8)
        case .policyreport: return PolicyReportRenderer(context).render()
        case .junit: return JUnitRenderer(context).render()
        case .sarif: return SARIFRenderer(context).render()
        case .prometheus: return Array(PrometheusRenderer(context).render().utf8)
        }
    }
}

/// What every renderer reads: the data, its summary, the options, and lookups.
struct RenderContext {
    let data: ReportData
    let summary: ReportSummary
    let options: ReportOptions

    /// The generation time: the option, else the run's evaluation time.
    var generatedAt: String { options.generatedAt ?? data.run.evaluatedAt }

    /// The cluster index of a result (past the end of `data.clusters` for a cluster the inventory lacks).
    func clusterIndex(ofResult i: Int) -> Int { summary.index.clusterOfResult[i] }

    /// The cluster name of a result.
    func clusterName(ofResult i: Int) -> String { summary.index.clusterName(clusterIndex(ofResult: i), data) }

    /// The cluster name for an id.
    func clusterName(id: String) -> String {
        summary.index.cluster(ofId: id).map { summary.index.clusterName($0, data) } ?? Text.lastSegment(id)
    }

    /// The cluster for a result, when the inventory has it.
    func cluster(ofResult i: Int) -> ReportCluster? {
        let c = clusterIndex(ofResult: i)
        return c < data.clusters.count ? data.clusters[c] : nil
    }

    /// `cluster` for the cluster itself, `cluster/child` for a child resource.
    func resourceName(resourceId: String, clusterId: String, clusterName: String) -> String {
        ASCII.equalsIgnoringCase(resourceId, clusterId) ? clusterName : "\(clusterName)/\(Text.lastSegment(resourceId))"
    }

    /// The resource name of a result.
    func resourceName(ofResult i: Int) -> String {
        let result = data.results[i]
        return resourceName(
            resourceId: result.resourceId, clusterId: result.clusterId, clusterName: clusterName(ofResult: i))
    }

    /// The display name of an assignment id (its last segment when no result names it).
    func assignmentName(id: String) -> String {
        summary.byAssignment.first { ASCII.equalsIgnoringCase($0.id, id) }?.name ?? Text.lastSegment(id)
    }

    /// The policy label of a result.
    func policyLabel(_ result: ReportResult) -> String {
        ReportSummary.policyLabel(
            definitionId: result.policyDefinitionId, referenceId: result.policyDefinitionReferenceId)
    }

    /// One line per reason: `message [path: actual operator target]`.
    static func describe(_ reason: ReportReason) -> String {
        guard !reason.path.isEmpty else { return reason.message }
        return "\(reason.message) [\(reason.path): \(reason.actual ?? "<missing>") \(reason.operator) "
            + "\(reason.target ?? "<missing>")]"
    }

    /// Why a result is what it is, in one line per reason (the error first for Error results).
    static func explain(_ result: ReportResult) -> [String] {
        var lines: [String] = []
        if let error = result.error { lines.append("error: \(error)") }
        if let exemption = result.exemptionId { lines.append("exempt: \(exemption)") }
        lines += result.reasons.map(describe)
        return lines
    }

    /// One line for a drifted field: `path: actual → desired`.
    static func describe(_ drift: ReportDrift) -> String {
        if drift.path.isEmpty { return "missing: the desired resource does not exist" }
        return "\(drift.path): \(drift.actual ?? "<missing>") → \(drift.desired ?? "<absent>")"
    }

    /// Shortens text to `limit` characters with an ellipsis.
    static func clip(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }
}
