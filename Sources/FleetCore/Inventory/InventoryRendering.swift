/// One cluster's row of the inventory: the facts every output format shows.
public struct InventoryRow: Sendable {
    /// The cluster.
    public let cluster: Cluster
    /// Its eligibility.
    public let eligibility: EligibilityVerdict

    /// `AKS`, `Arc` or `AKS Arc` (or `AKS hybrid` for the legacy type).
    public var kindLabel: String {
        switch cluster.kind {
        case .managedClusters: "AKS"
        case .connectedClusters: cluster.provisioned ? "AKS Arc" : "Arc"
        case .provisionedClusters: "AKS hybrid"
        }
    }

    /// `1.19.5 Succeeded`, `- ` when there is no extension.
    public var extensionLabel: String {
        guard let ext = cluster.fluxExtension else { return "-" }
        return "\(ext.version ?? "none") \(ext.provisioningState ?? "unknown")"
    }

    /// `eligible`, or `blocked:code` / `deferred:code`, with `+code` for advisories.
    public var eligibilityLabel: String {
        var label = eligibility.primary.map { "\($0.outcome.rawValue):\($0.code)" } ?? "eligible"
        for advisory in eligibility.advisories where eligibility.eligible { label += " +\(advisory.code)" }
        return label
    }
}

/// Counts over the whole inventory.
public struct InventorySummary: Sendable {
    /// The number of clusters.
    public let clusters: Int
    /// Clusters per kind (`managedClusters`, `connectedClusters`, …); AKS Arc counted as connectedClusters.
    public let byKind: [(String, Int)]
    /// AKS Arc (provisioned) clusters among the connected clusters.
    public let provisioned: Int
    /// Clusters per subscription.
    public let bySubscription: [(String, Int)]
    /// Clusters per location.
    public let byLocation: [(String, Int)]
    /// Arc clusters per connectivity status.
    public let byConnectivity: [(String, Int)]
    /// Clusters per eligibility decision (`eligible`, `blocked`, `deferred`).
    public let byDecision: [(String, Int)]
    /// Clusters per primary reason code.
    public let byReason: [(String, Int)]
    /// Clusters with the Flux extension installed.
    public let withFluxExtension: Int
    /// Flux configurations in total.
    public let fluxConfigurations: Int
    /// The number of findings.
    public let findings: Int
}

/// Renders the inventory as a table, JSON (DESIGN §9) or CSV.
///
/// Pure: every function returns text and touches nothing.
public struct InventoryReport: Sendable {
    /// The rows, in fleet order.
    public let rows: [InventoryRow]
    /// The findings.
    public let findings: [Finding]
    /// The files read.
    public let files: [SnapshotFile]

    /// Evaluates eligibility for every cluster.
    public init(inventory: Inventory, catalog: FluxVersionCatalog = .builtIn) {
        rows = inventory.fleet.clusters.map {
            InventoryRow(cluster: $0, eligibility: Eligibility.evaluate($0, catalog: catalog))
        }
        findings = inventory.fleet.findings
        files = inventory.files
    }

    /// The counts.
    public var summary: InventorySummary {
        func counted(_ keys: [String], order: [String] = []) -> [(String, Int)] {
            var counts: [String: Int] = [:]
            for key in keys { counts[key, default: 0] += 1 }
            return counts.sorted { a, b in
                let ia = order.firstIndex(of: a.key) ?? Int.max
                let ib = order.firstIndex(of: b.key) ?? Int.max
                if ia != ib { return ia < ib }
                return a.value != b.value ? a.value > b.value : a.key < b.key
            }
        }
        let arc = rows.filter { $0.cluster.kind == .connectedClusters }
        return InventorySummary(
            clusters: rows.count,
            byKind: counted(rows.map(\.cluster.kind.rawValue), order: ClusterKind.allCases.map(\.rawValue)),
            provisioned: rows.filter(\.cluster.provisioned).count,
            bySubscription: counted(rows.map(\.cluster.subscriptionId)),
            byLocation: counted(rows.map(\.cluster.location)),
            byConnectivity: counted(arc.map { $0.cluster.connectivityStatus ?? "unknown" }),
            byDecision: counted(rows.map(\.eligibility.decision), order: ["eligible", "deferred", "blocked"]),
            byReason: counted(rows.compactMap { $0.eligibility.primary?.code }),
            withFluxExtension: rows.filter { $0.cluster.fluxExtension != nil }.count,
            fluxConfigurations: rows.reduce(0) { $0 + $1.cluster.fluxConfigurations.count },
            findings: findings.count)
    }

    // MARK: - Table

    /// A fixed-width table, then the summary and the findings.
    public func table() -> String {
        let header = [
            "CLUSTER", "KIND", "SUBSCRIPTION", "RESOURCE GROUP", "LOCATION", "ELIGIBILITY", "FLUX EXT", "CONFIGS",
            "TAGS",
        ]
        var lines: [[String]] = [header]
        for row in rows {
            let c = row.cluster
            let tags = c.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            lines.append([
                c.name, row.kindLabel, String(c.subscriptionId.prefix(8)), c.resourceGroup, c.location,
                row.eligibilityLabel, row.extensionLabel,
                c.fluxConfigurations.isEmpty ? "-" : c.fluxConfigurations.map(\.name).joined(separator: ","),
                tags.isEmpty ? "-" : tags,
            ])
        }
        var out = TextTable.render(lines)
        let s = summary
        out += "\n"
        let kinds = s.byKind.map { kind, n in
            kind == "connectedClusters" && s.provisioned > 0
                ? "\(kind) \(n) (\(s.provisioned) AKS Arc)" : "\(kind) \(n)"
        }
        out += "\(s.clusters) clusters: \(kinds.joined(separator: ", "))\n"
        out += "subscriptions: \(s.bySubscription.map { "\($0.0) \($0.1)" }.joined(separator: ", "))\n"
        out += "locations: \(s.byLocation.map { "\($0.0) \($0.1)" }.joined(separator: ", "))\n"
        if !s.byConnectivity.isEmpty {
            out += "Arc connectivity: \(s.byConnectivity.map { "\($0.0) \($0.1)" }.joined(separator: ", "))\n"
        }
        out += "eligibility: \(s.byDecision.map { "\($0.0) \($0.1)" }.joined(separator: ", "))"
        if !s.byReason.isEmpty { out += " (\(s.byReason.map { "\($0.0) \($0.1)" }.joined(separator: ", ")))" }
        out += "\n"
        out +=
            "flux: extension on \(s.withFluxExtension) of \(s.clusters) clusters, \(s.fluxConfigurations) configurations\n"
        let notEligible = rows.filter { !$0.eligibility.eligible }
        if !notEligible.isEmpty {
            out += "\nnot eligible now:\n"
            for row in notEligible {
                let reason = row.eligibility.primary!
                out += "  \(row.cluster.name): \(reason.outcome.rawValue) \(reason.code) — \(reason.message)\n"
                out += "    fix: \(reason.remedy)\n"
            }
        }
        if findings.isEmpty {
            out += "\nfindings: none\n"
        } else {
            out += "\nfindings: \(findings.count)\n"
            for finding in findings {
                out += "  \(finding.severity.rawValue) \(finding.code): \(finding.message) (\(finding.source))\n"
            }
        }
        return out
    }

    // MARK: - JSON

    /// The versioned JSON document of DESIGN §9 (`formatVersion` 1).
    public func json(pretty: Bool = true) -> String {
        String(decoding: jsonBytes(pretty: pretty), as: UTF8.self)
    }

    /// The JSON document as UTF-8 bytes, ending with a newline (no string copy of a large document).
    public func jsonBytes(pretty: Bool = true) -> [UInt8] {
        var w = JSONWriter(pretty: pretty, capacity: 4096 + rows.count * 2400)
        let s = summary
        w.beginObject()
        w.key("formatVersion")
        w.number(1)
        w.key("summary")
        w.beginObject()
        w.key("clusters")
        w.number(s.clusters)
        w.key("byKind")
        writeCounts(&w, s.byKind)
        w.key("provisioned")
        w.number(s.provisioned)
        w.key("bySubscription")
        writeCounts(&w, s.bySubscription)
        w.key("byLocation")
        writeCounts(&w, s.byLocation)
        w.key("byConnectivity")
        writeCounts(&w, s.byConnectivity)
        w.key("byEligibility")
        writeCounts(&w, s.byDecision)
        w.key("byReason")
        writeCounts(&w, s.byReason)
        w.key("withFluxExtension")
        w.number(s.withFluxExtension)
        w.key("fluxConfigurations")
        w.number(s.fluxConfigurations)
        w.key("findings")
        w.number(s.findings)
        w.endObject()
        w.key("clusters")
        w.beginArray()
        for row in rows { writeCluster(&w, row) }
        w.endArray()
        w.key("findings")
        w.beginArray()
        for finding in findings {
            w.beginObject()
            w.key("severity")
            w.string(finding.severity.rawValue)
            w.key("code")
            w.string(finding.code)
            w.key("message")
            w.string(finding.message)
            w.key("source")
            w.string(finding.source)
            w.endObject()
        }
        w.endArray()
        w.key("sources")
        w.beginArray()
        for file in files {
            w.beginObject()
            w.key("path")
            w.string(file.path)
            w.key("layout")
            w.string(file.layout.rawValue)
            w.key("records")
            w.number(file.records)
            w.key("bytes")
            w.number(file.bytes)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.newlineAtEnd()
        return w.bytes
    }

    private func writeCounts(_ w: inout JSONWriter, _ counts: [(String, Int)]) {
        w.beginObject()
        for (key, n) in counts {
            w.key(key)
            w.number(n)
        }
        w.endObject()
    }

    private func writeCluster(_ w: inout JSONWriter, _ row: InventoryRow) {
        let c = row.cluster
        w.beginObject()
        w.key("id")
        w.string(c.id.description)
        w.key("name")
        w.string(c.name)
        w.key("kind")
        w.string(c.kind.rawValue)
        w.key("provisioned")
        w.bool(c.provisioned)
        w.key("subscriptionId")
        w.string(c.subscriptionId)
        w.key("resourceGroup")
        w.string(c.resourceGroup)
        w.key("location")
        w.string(c.location)
        w.key("tags")
        w.beginObject()
        for key in c.tags.keys.sorted() {
            w.key(key)
            w.string(c.tags[key]!)
        }
        w.endObject()
        w.key("eligibility")
        w.beginObject()
        w.key("eligible")
        w.bool(row.eligibility.eligible)
        w.key("decision")
        w.string(row.eligibility.decision)
        w.key("reason")
        w.string(row.eligibility.primary?.code)
        w.key("remedy")
        w.string(row.eligibility.primary?.remedy)
        w.key("reasons")
        w.beginArray()
        for reason in row.eligibility.reasons {
            w.beginObject()
            w.key("code")
            w.string(reason.code)
            w.key("outcome")
            w.string(reason.outcome.rawValue)
            w.key("message")
            w.string(reason.message)
            w.key("remedy")
            w.string(reason.remedy)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.key("facts")
        w.beginObject()
        w.key("identityType")
        w.string(c.identityType)
        w.key("managedIdentity")
        w.bool(c.usesManagedIdentity)
        w.key("provisioningState")
        w.string(c.provisioningState)
        w.key("powerState")
        w.string(c.powerState)
        w.key("connectivityStatus")
        w.string(c.connectivityStatus)
        w.key("lastConnectivityTime")
        w.string(c.lastConnectivityTime)
        w.key("kubernetesVersion")
        w.string(c.kubernetesVersion)
        w.key("distribution")
        w.string(c.distribution)
        w.key("arm64NodePools")
        w.beginArray()
        for pool in c.arm64NodePools { w.string(pool) }
        w.endArray()
        w.endObject()
        w.key("fluxExtension")
        if let ext = c.fluxExtension {
            w.beginObject()
            w.key("id")
            w.string(ext.id.description)
            w.key("name")
            w.string(ext.name)
            w.key("version")
            w.string(ext.version)
            w.key("provisioningState")
            w.string(ext.provisioningState)
            w.key("autoUpgradeMinorVersion")
            w.bool(ext.autoUpgradeMinorVersion)
            w.key("releaseTrain")
            w.string(ext.releaseTrain)
            w.key("releaseNamespace")
            w.string(ext.releaseNamespace)
            w.key("errorMessage")
            w.string(ext.errorMessage)
            w.endObject()
        } else {
            w.null()
        }
        w.key("fluxConfigurations")
        w.beginArray()
        for config in c.fluxConfigurations { w.string(config.name) }
        w.endArray()
        w.key("fluxConfigurationDetails")
        w.beginArray()
        for config in c.fluxConfigurations {
            w.beginObject()
            w.key("name")
            w.string(config.name)
            w.key("scope")
            w.string(config.scope)
            w.key("namespace")
            w.string(config.namespace)
            w.key("sourceKind")
            w.string(config.sourceKind)
            w.key("url")
            w.string(config.sourceURL.map(Redaction.url))
            w.key("reference")
            w.string(config.reference)
            w.key("authentication")
            w.string(config.authentication)
            w.key("suspend")
            w.bool(config.suspend)
            w.key("kustomizations")
            w.beginArray()
            for k in config.kustomizations { w.string(k) }
            w.endArray()
            w.key("provisioningState")
            w.string(config.provisioningState)
            w.key("complianceState")
            w.string(config.complianceState)
            w.endObject()
        }
        w.endArray()
        w.key("fluxV1Configurations")
        w.beginArray()
        for config in c.fluxV1Configurations { w.string(config.name) }
        w.endArray()
        w.key("otherExtensions")
        w.beginArray()
        for type in c.otherExtensions { w.string(type) }
        w.endArray()
        w.endObject()
    }

    // MARK: - CSV

    /// RFC 4180 CSV, one row per cluster; cells that a spreadsheet would run as a formula are
    /// prefixed with `'`.
    public func csv() -> String {
        var out =
            "id,name,kind,provisioned,subscriptionId,resourceGroup,location,tags,eligible,decision,reason,remedy,"
            + "extensionVersion,extensionState,fluxConfigurations,fluxV1Configurations\r\n"
        for row in rows {
            let c = row.cluster
            let cells = [
                c.id.description, c.name, c.kind.rawValue, c.provisioned ? "true" : "false", c.subscriptionId,
                c.resourceGroup, c.location,
                c.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";"),
                row.eligibility.eligible ? "true" : "false", row.eligibility.decision,
                row.eligibility.primary?.code ?? "", row.eligibility.primary?.remedy ?? "",
                c.fluxExtension?.version ?? "", c.fluxExtension?.provisioningState ?? "",
                c.fluxConfigurations.map(\.name).joined(separator: ";"),
                c.fluxV1Configurations.map(\.name).joined(separator: ";"),
            ]
            out += cells.map(CSV.cell).joined(separator: ",") + "\r\n"
        }
        return out
    }
}

/// CSV cell encoding.
public enum CSV {
    /// Quotes a cell when needed and defuses spreadsheet formulas (`=`, `+`, `-`, `@`, tab, CR).
    public static func cell(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + v.replacing("\"", with: "\"\"") + "\""
        }
        return v
    }
}

/// Fixed-width text tables.
public enum TextTable {
    /// Left-aligned columns separated by two spaces; the first row is the header.
    public static func render(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                if i == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[i] - cell.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
