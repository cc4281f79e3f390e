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
    private var index: [ResourceIDKey: Int]

    /// Creates a fleet from clusters (sorted here by id) and findings.
    public init(clusters: [Cluster], findings: [Finding]) {
        let sorted = Self.sortedByID(clusters)
        var index: [ResourceIDKey: Int] = [:]
        index.reserveCapacity(sorted.count)
        for i in sorted.indices { index[sorted[i].id.key] = i }
        self.init(sortedClusters: sorted, index: index, findings: findings)
    }

    private init(sortedClusters: [Cluster], index: [ResourceIDKey: Int], findings: [Finding]) {
        self.clusters = sortedClusters
        self.index = index
        self.findings = findings
    }

    /// The clusters ordered by id ignoring case; stable, so of two equal ids the first stays first.
    static func sortedByID(_ clusters: [Cluster]) -> [Cluster] {
        // Resource Graph returns rows ordered by id: check before sorting.
        var sorted = true
        for i in clusters.indices.dropFirst() where clusters[i].id < clusters[i - 1].id {
            sorted = false
            break
        }
        if sorted { return clusters }
        // Sort keys with positions (ties by position), then move each cluster once.
        var order = clusters.indices.map { (key: clusters[$0].id.key, position: $0) }
        order.sort { $0.key != $1.key ? $0.key < $1.key : $0.position < $1.position }
        return order.map { clusters[$0.position] }
    }

    /// The cluster with an id, compared ignoring case.
    public func cluster(id: String) -> Cluster? {
        index[ResourceIDKey(text: id, length: id.utf8.count)].map { clusters[$0] }
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
        try assemble(parts: classify(records, parallelism: parallelism))
    }

    /// Assembles a fleet from records already classified, part by part, in input order.
    static func assemble(parts: [Part]) throws(InventoryError) -> Fleet {
        var problems: [InventoryProblem] = []
        var findings: [Finding] = []
        var inputClusters: [Cluster] = []
        var inputRecords: [InventoryRecord] = []
        inputClusters.reserveCapacity(parts.reduce(0) { $0 + $1.clusters.count })
        inputRecords.reserveCapacity(inputClusters.capacity)
        for part in parts {
            // Paths are read only now: a parallel read numbers its records after the parts join.
            for pending in part.problems {
                problems.append(
                    InventoryProblem(
                        file: pending.record.file, path: pending.record.document.path + pending.pathSuffix,
                        line: pending.record.document.root.location.line, message: pending.message))
            }
            for unsupported in part.unsupported {
                findings.append(
                    Finding(
                        severity: .info, code: "unsupportedResourceType",
                        message:
                            "\(unsupported.id): resource type \(unsupported.type) is not used by FluxFleet; skipped",
                        source: recordSource(unsupported.record)))
            }
            inputClusters.append(contentsOf: part.clusters)
            inputRecords.append(contentsOf: part.clusterRecords)
        }
        if !problems.isEmpty { throw InventoryError(problems: problems) }

        // Sort once; a duplicate id then sits right after its first occurrence.
        var order = inputClusters.indices.map { (key: inputClusters[$0].id.key, position: $0) }
        var alreadySorted = true
        for i in order.indices.dropFirst() where order[i].key < order[i - 1].key {
            alreadySorted = false
            break
        }
        if !alreadySorted {
            order.sort { $0.key != $1.key ? $0.key < $1.key : $0.position < $1.position }
        }
        var clusters: [Cluster] = []
        clusters.reserveCapacity(order.count)
        var clusterIndex: [ResourceIDKey: Int] = [:]
        clusterIndex.reserveCapacity(order.count)
        for (n, entry) in order.enumerated() {
            if n > 0 && entry.key == order[n - 1].key {
                findings.append(
                    duplicate(inputClusters[entry.position].id.description, inputRecords[entry.position]))
                continue
            }
            clusterIndex[entry.key] = clusters.count
            clusters.append(inputClusters[entry.position])
        }
        inputClusters = []

        // Children: a duplicate id can only collide with a sibling, so each check scans the few
        // resources already attached to the same cluster.
        for part in parts {
            for child in part.children {
                guard let c = clusterIndex[child.parentKey] else {
                    findings.append(
                        Finding(
                            severity: .warning, code: "orphanResource",
                            message:
                                "\(child.idText): its cluster is not in the inventory (deleted, or filtered out of the query); ignored",
                            source: recordSource(child.record)))
                    continue
                }
                switch child.payload {
                case .fluxExtension(let ext):
                    if let existing = clusters[c].fluxExtension {
                        if existing.id == ext.id {
                            findings.append(duplicate(child.idText, child.record))
                            continue
                        }
                        findings.append(
                            Finding(
                                severity: .warning, code: "duplicateFluxExtension",
                                message:
                                    "\(clusters[c].id): two microsoft.flux extensions ('\(existing.name)', '\(ext.name)'); Azure allows one — using '\(min(existing.name, ext.name))'",
                                source: recordSource(child.record)))
                        if ext.name < existing.name { clusters[c].fluxExtension = ext }
                    } else {
                        clusters[c].fluxExtension = ext
                    }
                case .otherExtension(let type, let resource):
                    if clusters[c].otherExtensionIDs.contains(child.id) {
                        findings.append(duplicate(child.idText, child.record))
                        continue
                    }
                    clusters[c].otherExtensionIDs.append(child.id)
                    clusters[c].otherExtensions.append(type)
                    clusters[c].otherExtensionResources.append(resource)
                case .fluxConfiguration(let config):
                    if clusters[c].fluxConfigurations.contains(where: { $0.id == config.id }) {
                        findings.append(duplicate(child.idText, child.record))
                        continue
                    }
                    clusters[c].fluxConfigurations.append(config)
                case .fluxV1(let config):
                    if clusters[c].fluxV1Configurations.contains(where: { $0.id == config.id }) {
                        findings.append(duplicate(child.idText, child.record))
                        continue
                    }
                    clusters[c].fluxV1Configurations.append(config)
                }
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
        return Fleet(sortedClusters: clusters, index: clusterIndex, findings: ordered)
    }

    private static func duplicate(_ id: String, _ record: InventoryRecord) -> Finding {
        Finding(
            severity: .warning, code: "duplicateResource",
            message: "\(id): appears more than once; the first record is used", source: recordSource(record))
    }

    private static func recordSource(_ record: InventoryRecord) -> String {
        let line = record.document.root.location.line
        return "\(record.file):\(line) \(record.document.path)"
    }

    // MARK: - Classification

    /// Classifies records on the parsing cores (see ``JSONRecords/read(_:parallelism:maxDepth:visitor:releaseInput:)``).
    struct Classifier: RecordVisitor {
        /// The input's name, for messages.
        let file: String

        func makeOutput() -> Part { Part() }

        func visit(_ record: JSONDocument, into output: inout Part) {
            Fleet.classify(InventoryRecord(document: record, file: file), into: &output)
        }
    }

    /// A child resource of a cluster, with its parent's join key.
    struct Child: Sendable {
        enum Payload: Sendable {
            case fluxExtension(FluxExtension)
            case otherExtension(String, JSONValue)
            case fluxConfiguration(FluxConfiguration)
            case fluxV1(FluxV1Configuration)
        }

        var record: InventoryRecord
        var id: ResourceID
        var parentKey: ResourceIDKey
        var payload: Payload

        var idText: String { id.description }
    }

    /// What one share of the records turned into.
    struct Part: Sendable {
        var clusters: [Cluster] = []
        var clusterRecords: [InventoryRecord] = []
        var children: [Child] = []
        var unsupported: [(record: InventoryRecord, id: String, type: String)] = []
        var problems: [(record: InventoryRecord, pathSuffix: String, message: String)] = []
    }

    private static func classify(_ records: [InventoryRecord], parallelism: Int) -> [Part] {
        let count = records.count
        let parts = count < 2048 ? 1 : max(1, parallelism) * 4
        let slots = ResultSlots<Part>(count: parts)
        let work: @Sendable (Int) -> Void = { k in
            var part = Part()
            for n in (count * k / parts)..<(count * (k + 1) / parts) { classify(records[n], into: &part) }
            slots.set(k, part)
        }
        if parts == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: work) }
        return (0..<parts).map { slots.get($0)! }
    }

    private static let extensionsType = "Microsoft.KubernetesConfiguration/extensions"
    private static let fluxConfigurationsType = "Microsoft.KubernetesConfiguration/fluxConfigurations"
    private static let fluxV1Type = "Microsoft.KubernetesConfiguration/sourceControlConfigurations"

    static func classify(_ record: InventoryRecord, into part: inout Part) {
        let root = record.document.root
        func problem(_ path: String, _ message: String) {
            part.problems.append((record, path, message))
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
        let type = id.resourceType
        guard let parentKey = id.parentKey, id.isExtensionResource else {
            if let kind = ClusterKind(resourceType: type) {
                part.clusters.append(Cluster(resource: root, id: id, kind: kind))
                part.clusterRecords.append(record)
            } else {
                part.unsupported.append((record, idText, type))
            }
            return
        }
        let payload: Child.Payload
        if ASCII.equalsIgnoringCase(type, extensionsType) {
            let extensionType = root.value(atPath: "properties", "extensionType")
            if extensionType?.stringEqualsIgnoringCase("microsoft.flux") == true {
                payload = .fluxExtension(FluxExtension(resource: root, id: id))
            } else {
                payload = .otherExtension(extensionType?.string ?? "unknown", root)
            }
        } else if ASCII.equalsIgnoringCase(type, fluxConfigurationsType) {
            payload = .fluxConfiguration(FluxConfiguration(resource: root, id: id))
        } else if ASCII.equalsIgnoringCase(type, fluxV1Type) {
            payload = .fluxV1(FluxV1Configuration(resource: root, id: id))
        } else {
            part.unsupported.append((record, idText, type))
            return
        }
        part.children.append(
            Child(record: record, id: id, parentKey: parentKey, payload: payload))
    }
}
