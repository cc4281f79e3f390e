import Dispatch

/// Something noteworthy about the inventory that does not stop the run.
public struct Finding: Sendable, Hashable {
    /// How much it matters.
    public enum Severity: String, Sendable, Comparable, CaseIterable {
        /// Data was left out or could be wrong.
        case warning
        /// Worth knowing.
        case info

        /// Orders warnings first.
        public static func < (lhs: Severity, rhs: Severity) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// How much it matters.
    public var severity: Severity
    /// A stable code: `orphanResource`, `duplicateResource`, `duplicateFluxExtension`, `unsupportedResourceType`.
    public var code: String
    /// What happened, naming the resource.
    public var message: String
    /// Where: `file` plus the record's JSON path.
    public var source: String
}

/// A record of an inventory input that cannot be used, with where it is.
public struct InventoryProblem: Sendable, Hashable, CustomStringConvertible {
    /// The input file.
    public var file: String
    /// The record's JSON path, such as `$.data[12].id`.
    public var path: String
    /// The 1-based line of the record.
    public var line: Int
    /// What is wrong and how to fix it.
    public var message: String

    /// `file:line: path: message`.
    public var description: String { "\(file):\(line): \(path): \(message)" }
}

/// Records that are valid JSON but not usable ARM resources; nothing is loaded when there are any.
public struct InventoryError: Error, CustomStringConvertible, Sendable {
    /// Every problem found, in input order.
    public var problems: [InventoryProblem]

    /// One line per problem (at most 20, then a count of the rest).
    public var description: String {
        var lines = ["invalid inventory: \(problems.count) record(s) cannot be used"]
        for problem in problems.prefix(20) { lines.append("  \(problem)") }
        if problems.count > 20 { lines.append("  … and \(problems.count - 20) more") }
        return lines.joined(separator: "\n")
    }
}

/// One record to assemble, with the name of the input it came from.
public struct InventoryRecord: Sendable {
    /// The record (an ARM resource object).
    public var document: JSONDocument
    /// The input's name for messages.
    public var file: String

    /// Creates a record.
    public init(document: JSONDocument, file: String) {
        self.document = document
        self.file = file
    }
}

/// The fleet: every cluster with its Flux extension, Flux configurations and Flux v1
/// configurations attached, plus findings about the input.
public struct Fleet: Sendable {
    /// The clusters, ordered by id ignoring case.
    public var clusters: [Cluster]
    /// Findings about the input (orphans, duplicates, unsupported types), warnings first.
    public var findings: [Finding]
    private var index: [String: Int]

    /// Creates a fleet from clusters (sorted here) and findings.
    public init(clusters: [Cluster], findings: [Finding]) {
        self.clusters = clusters.sorted { $0.id < $1.id }
        self.findings = findings
        var index: [String: Int] = [:]
        index.reserveCapacity(clusters.count)
        for (i, cluster) in self.clusters.enumerated() { index[cluster.id.normalized] = i }
        self.index = index
    }

    /// The cluster with an id, compared ignoring case.
    public func cluster(id: String) -> Cluster? {
        index[ASCII.lowercased(id)].map { clusters[$0] }
    }

    /// Assembles a fleet from ARM records in any order.
    ///
    /// Children are attached to their cluster by the id before their last `/providers/`,
    /// compared ignoring case. A child whose cluster is not in the input, a second record with
    /// the same id and a record of a type FluxFleet does not use become findings.
    ///
    /// - Throws: ``InventoryError`` listing every record that is not an object, has no `id`,
    ///   or has a malformed id — nothing is assembled from a partly invalid input.
    public static func assemble(
        _ records: [InventoryRecord], parallelism: Int = JSONRecords.availableCores
    ) throws(InventoryError) -> Fleet {
        let classified = classify(records, parallelism: parallelism)
        var problems: [InventoryProblem] = []
        var findings: [Finding] = []
        var clusters: [Cluster] = []
        clusters.reserveCapacity(records.count / 3)
        var clusterIndex: [String: Int] = [:]
        clusterIndex.reserveCapacity(records.count / 3)
        var seen = Set<String>()
        seen.reserveCapacity(records.count)
        var children: [(parentKey: String, item: Classified, where: Int)] = []

        for (n, item) in classified.enumerated() {
            switch item {
            case .problem(let problem):
                problems.append(problem)
                continue
            case .unsupported(let id, let type):
                findings.append(
                    Finding(
                        severity: .info, code: "unsupportedResourceType",
                        message: "\(id): resource type \(type) is not used by FluxFleet; skipped",
                        source: recordSource(records[n])))
                continue
            default: break
            }
            guard let key = item.normalizedId else { continue }
            if !seen.insert(key).inserted {
                findings.append(
                    Finding(
                        severity: .warning, code: "duplicateResource",
                        message: "\(item.idText): appears more than once; the first record is used",
                        source: recordSource(records[n])))
                continue
            }
            switch item {
            case .cluster(let cluster):
                clusterIndex[key] = clusters.count
                clusters.append(cluster)
            case .fluxExtension(let ext):
                children.append((ext.id.parent!.normalized, item, n))
            case .otherExtension(let id, _):
                children.append((id.parent!.normalized, item, n))
            case .fluxConfiguration(let config):
                children.append((config.id.parent!.normalized, item, n))
            case .fluxV1(let config):
                children.append((config.id.parent!.normalized, item, n))
            case .problem, .unsupported:
                break
            }
        }
        if !problems.isEmpty { throw InventoryError(problems: problems) }

        for (parentKey, item, n) in children {
            guard let c = clusterIndex[parentKey] else {
                findings.append(
                    Finding(
                        severity: .warning, code: "orphanResource",
                        message:
                            "\(item.idText): its cluster is not in the inventory (deleted, or filtered out of the query); ignored",
                        source: recordSource(records[n])))
                continue
            }
            switch item {
            case .fluxExtension(let ext):
                if let existing = clusters[c].fluxExtension {
                    findings.append(
                        Finding(
                            severity: .warning, code: "duplicateFluxExtension",
                            message:
                                "\(clusters[c].id): two microsoft.flux extensions ('\(existing.name)', '\(ext.name)'); Azure allows one — using '\(min(existing.name, ext.name))'",
                            source: recordSource(records[n])))
                    if ext.name < existing.name { clusters[c].fluxExtension = ext }
                } else {
                    clusters[c].fluxExtension = ext
                }
            case .otherExtension(_, let type):
                clusters[c].otherExtensions.append(type)
            case .fluxConfiguration(let config):
                clusters[c].fluxConfigurations.append(config)
            case .fluxV1(let config):
                clusters[c].fluxV1Configurations.append(config)
            default:
                break
            }
        }
        for c in clusters.indices {
            if clusters[c].fluxConfigurations.count > 1 { clusters[c].fluxConfigurations.sort { $0.name < $1.name } }
            if clusters[c].fluxV1Configurations.count > 1 {
                clusters[c].fluxV1Configurations.sort { $0.name < $1.name }
            }
            if clusters[c].otherExtensions.count > 1 { clusters[c].otherExtensions.sort() }
        }
        let ordered = findings.enumerated().sorted { a, b in
            a.element.severity != b.element.severity ? a.element.severity < b.element.severity : a.offset < b.offset
        }.map(\.element)
        return Fleet(clusters: clusters, findings: ordered)
    }

    private static func recordSource(_ record: InventoryRecord) -> String {
        let line = record.document.root.location.line
        return "\(record.file):\(line) \(record.document.path)"
    }

    // MARK: - Classification

    enum Classified: Sendable {
        case cluster(Cluster)
        case fluxExtension(FluxExtension)
        case otherExtension(ResourceID, String)
        case fluxConfiguration(FluxConfiguration)
        case fluxV1(FluxV1Configuration)
        case unsupported(String, String)
        case problem(InventoryProblem)

        var normalizedId: String? {
            switch self {
            case .cluster(let c): c.id.normalized
            case .fluxExtension(let e): e.id.normalized
            case .otherExtension(let id, _): id.normalized
            case .fluxConfiguration(let f): f.id.normalized
            case .fluxV1(let f): f.id.normalized
            case .unsupported, .problem: nil
            }
        }

        var idText: String {
            switch self {
            case .cluster(let c): c.id.description
            case .fluxExtension(let e): e.id.description
            case .otherExtension(let id, _): id.description
            case .fluxConfiguration(let f): f.id.description
            case .fluxV1(let f): f.id.description
            case .unsupported(let id, _): id
            case .problem(let p): p.path
            }
        }
    }

    private static func classify(_ records: [InventoryRecord], parallelism: Int) -> [Classified] {
        let count = records.count
        let parts = count < 2048 ? 1 : max(1, parallelism) * 4
        let slots = ResultSlots<[Classified]>(count: parts)
        let work: @Sendable (Int) -> Void = { k in
            let lower = count * k / parts
            let upper = count * (k + 1) / parts
            var out: [Classified] = []
            out.reserveCapacity(upper - lower)
            for n in lower..<upper { out.append(classify(records[n])) }
            slots.set(k, out)
        }
        if parts == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: work) }
        var all: [Classified] = []
        all.reserveCapacity(count)
        for k in 0..<parts { all.append(contentsOf: slots.get(k)!) }
        return all
    }

    private static let extensionsType = "microsoft.kubernetesconfiguration/extensions"
    private static let fluxConfigurationsType = "microsoft.kubernetesconfiguration/fluxconfigurations"
    private static let fluxV1Type = "microsoft.kubernetesconfiguration/sourcecontrolconfigurations"

    static func classify(_ record: InventoryRecord) -> Classified {
        let root = record.document.root
        func problem(_ path: String, _ message: String) -> Classified {
            .problem(
                InventoryProblem(
                    file: record.file, path: record.document.path + path, line: root.location.line, message: message))
        }
        guard root.isObject else {
            return problem("", "expected an ARM resource object, found \(root.kind.rawValue)")
        }
        guard let idValue = root.member(ignoringCase: "id") else {
            return problem(".id", "the record has no 'id'; every ARM resource needs its resource id")
        }
        guard let idText = idValue.string else {
            return problem(".id", "expected the resource id as a string, found \(idValue.kind.rawValue)")
        }
        let id: ResourceID
        do {
            id = try ResourceID(parsing: idText)
        } catch {
            return problem(".id", error.description)
        }
        let type = ASCII.lowercased(id.resourceType)
        if !id.isExtensionResource, let kind = ClusterKind(resourceType: type) {
            return .cluster(Cluster(record: root, id: id, kind: kind))
        }
        if id.isExtensionResource && id.parent != nil {
            switch type {
            case extensionsType:
                let extensionType = root.value(atPath: "properties", "extensionType")
                if extensionType?.stringEqualsIgnoringCase("microsoft.flux") == true {
                    return .fluxExtension(FluxExtension(record: root, id: id))
                }
                return .otherExtension(id, extensionType?.string ?? "unknown")
            case fluxConfigurationsType:
                return .fluxConfiguration(FluxConfiguration(record: root, id: id))
            case fluxV1Type:
                return .fluxV1(FluxV1Configuration(record: root, id: id))
            default:
                break
            }
        }
        return .unsupported(idText, id.resourceType)
    }
}
