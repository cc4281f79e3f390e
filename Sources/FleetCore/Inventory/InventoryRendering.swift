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
        w.member("formatVersion", 1)
        w.key("summary")
        w.beginObject()
        w.member("clusters", s.clusters)
        w.key("byKind")
        writeCounts(&w, s.byKind)
        w.member("provisioned", s.provisioned)
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
        w.member("withFluxExtension", s.withFluxExtension)
        w.member("fluxConfigurations", s.fluxConfigurations)
        w.member("findings", s.findings)
        w.endObject()
        w.key("clusters")
        w.beginArray()
        for row in rows { writeCluster(&w, row) }
        w.endArray()
        w.key("findings")
        w.beginArray()
        for finding in findings {
            w.beginObject()
            w.member("severity", finding.severity.rawValue)
            w.member("code", finding.code)
            w.member("message", finding.message)
            w.member("source", finding.source)
            w.endObject()
        }
        w.endArray()
        w.key("sources")
        w.beginArray()
        for file in files {
            w.beginObject()
            w.member("path", file.path)
            w.member("layout", file.layout.rawValue)
            w.member("records", file.records)
            w.member("bytes", file.bytes)
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
        w.member("id", c.id.description)
        w.member("name", c.name)
        w.member("kind", c.kind.rawValue)
        w.member("provisioned", c.provisioned)
        w.member("subscriptionId", c.subscriptionId)
        w.member("resourceGroup", c.resourceGroup)
        w.member("location", c.location)
        w.key("tags")
        w.beginObject()
        for key in c.tags.keys.sorted() {
            w.key(key)
            w.string(c.tags[key]!)
        }
        w.endObject()
        w.key("eligibility")
        w.beginObject()
        w.member("eligible", row.eligibility.eligible)
        w.member("decision", row.eligibility.decision)
        w.member("reason", row.eligibility.primary?.code)
        w.member("remedy", row.eligibility.primary?.remedy)
        w.key("reasons")
        w.beginArray()
        for reason in row.eligibility.reasons {
            w.beginObject()
            w.member("code", reason.code)
            w.member("outcome", reason.outcome.rawValue)
            w.member("message", reason.message)
            w.member("remedy", reason.remedy)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.key("facts")
        w.beginObject()
        w.member("identityType", c.identityType)
        w.member("managedIdentity", c.usesManagedIdentity)
        w.member("provisioningState", c.provisioningState)
        w.member("powerState", c.powerState)
        w.member("connectivityStatus", c.connectivityStatus)
        w.member("lastConnectivityTime", c.lastConnectivityTime)
        w.member("kubernetesVersion", c.kubernetesVersion)
        w.member("distribution", c.distribution)
        w.key("arm64NodePools")
        w.beginArray()
        for pool in c.arm64NodePools { w.string(pool) }
        w.endArray()
        w.endObject()
        w.key("fluxExtension")
        if let ext = c.fluxExtension {
            w.beginObject()
            w.member("id", ext.id.description)
            w.member("name", ext.name)
            w.member("version", ext.version)
            w.member("provisioningState", ext.provisioningState)
            w.member("autoUpgradeMinorVersion", ext.autoUpgradeMinorVersion)
            w.member("releaseTrain", ext.releaseTrain)
            w.member("releaseNamespace", ext.releaseNamespace)
            w.member("errorMessage", ext.errorMessage)
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
            w.member("name", config.name)
            w.member("scope", config.scope)
            w.member("namespace", config.namespace)
            w.member("sourceKind", config.sourceKind)
            w.member("url", config.sourceURL.map(Redaction.url))
            w.member("reference", config.reference)
            w.member("authentication", config.authentication)
            w.member("suspend", config.suspend)
            w.key("kustomizations")
            w.beginArray()
            for k in config.kustomizations { w.string(k) }
            w.endArray()
            w.member("provisioningState", config.provisioningState)
            w.member("complianceState", config.complianceState)
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
        // Bytes, not Characters: "\r\n" is one Character that equals neither "\r" nor "\n".
        if v.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
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
