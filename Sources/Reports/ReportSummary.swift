import FleetCore
import PolicyEngine

/// Counts by compliance state, of distinct resources (each taking its worst state) or of result
/// rows, as the owner says.
public struct StateCounts: Sendable, Hashable {
    /// Everything counted.
    public var total = 0
    /// … Compliant.
    public var compliant = 0
    /// … NonCompliant.
    public var nonCompliant = 0
    /// … Exempt.
    public var exempt = 0
    /// … Unknown.
    public var unknown = 0
    /// … Error.
    public var error = 0

    /// Creates empty counts.
    public init() {}

    /// (Compliant + Exempt + Unknown) ÷ total × 100, as Azure computes it; 100 when nothing was counted.
    public var compliancePercent: Double {
        total == 0 ? 100 : Double(compliant + exempt + unknown) * 100 / Double(total)
    }

    /// The count of one state.
    public func count(_ state: ComplianceState) -> Int {
        switch state {
        case .compliant: compliant
        case .nonCompliant: nonCompliant
        case .exempt: exempt
        case .unknown: unknown
        case .error: error
        }
    }

    /// Counts one more of `state`.
    mutating func add(_ state: ComplianceState) {
        total += 1
        switch state {
        case .compliant: compliant += 1
        case .nonCompliant: nonCompliant += 1
        case .exempt: exempt += 1
        case .unknown: unknown += 1
        case .error: error += 1
        }
    }
}

/// Compliance of one group of resources: an assignment, a subscription, a resource group, a
/// location or a cluster kind.
public struct GroupSummary: Sendable, Hashable {
    /// What the group is called in reports (`westeurope`, `AKS Arc`, an assignment's display name).
    public var name: String
    /// The group's id when it has one (the assignment or subscription id, `subscription/resourceGroup`).
    public var id: String
    /// Distinct evaluated resources of the group, each taking its worst state within the group.
    public var counts: StateCounts
    /// Inventory clusters in the group (for assignments: clusters with a result).
    public var clusters: Int
    /// Clusters of the group with a NonCompliant or Error result.
    public var failingClusters: Int
}

/// Compliance under one policy of one assignment (a definition, or an initiative's reference).
public struct PolicySummary: Sendable, Hashable {
    /// The assignment id.
    public var assignmentId: String
    /// The assignment's display name.
    public var assignmentName: String
    /// The policy definition id.
    public var policyDefinitionId: String
    /// The initiative reference id (nil for a definition assigned directly).
    public var referenceId: String?
    /// The short name reports show: the reference id, else the definition's last id segment.
    public var label: String
    /// The definition's display name, when known.
    public var displayName: String?
    /// The definition's category, when known.
    public var category: String?
    /// The effect as resolved (of the first result).
    public var effect: String
    /// Distinct resources evaluated, each taking its worst state.
    public var counts: StateCounts
}

/// A reason that keeps coming back, normalised and counted.
public struct ReasonSummary: Sendable, Hashable {
    /// The policy label the reason belongs to.
    public var policy: String
    /// The normalised reason: `path operator target` for condition leaves, the message otherwise.
    public var reason: String
    /// Results (resource × assignment × policy) that give it.
    public var results: Int
    /// Distinct clusters among them.
    public var clusters: Int
    /// The name of the first cluster that gives it.
    public var exampleCluster: String
}

/// One cluster's roll-up.
public struct ClusterSummary: Sendable, Hashable {
    /// The index of the cluster in ``ReportData/clusters``.
    public var cluster: Int
    /// The worst state of its results; nil when nothing was evaluated on it (out of scope).
    public var state: ComplianceState?
    /// Its result rows by state.
    public var results: StateCounts
    /// Indexes into ``ReportData/results`` of its NonCompliant and Error results, in data order.
    public var failing: [Int]
    /// Indexes into ``ReportData/strict`` of its strict entries with drift or unhealthy runtime.
    public var strictProblems: [Int]
    /// Strict entries with drift (a missing resource included).
    public var drifted: Int
    /// Strict entries whose Flux runtime is not healthy (non-Compliant, failing objects, or stale).
    public var runtimeUnhealthy: Int

    /// Whether anything about the cluster needs attention.
    public var hasProblems: Bool { !failing.isEmpty || !strictProblems.isEmpty }
}

/// A field path and how many strict entries drift on it.
public struct FieldCount: Sendable, Hashable {
    /// The field path (`(missing resource)` when the whole desired resource does not exist).
    public var path: String
    /// Strict entries that drift on it.
    public var count: Int
}

/// The strict view, summed up.
public struct StrictSummary: Sendable, Hashable {
    /// Strict entries (desired Flux resources).
    public var entries = 0
    /// Entries with any drift.
    public var drifted = 0
    /// Entries whose resource does not exist at all.
    public var missing = 0
    /// Entries whose Flux runtime reports anything but Compliant, or failing objects.
    public var runtimeUnhealthy = 0
    /// Entries whose Flux status is stale.
    public var stale = 0
    /// Clusters with at least one drifted entry.
    public var driftedClusters = 0
    /// Drifted field paths, most frequent first.
    public var topFields: [FieldCount] = []
}

/// How long non-compliance lasted before it was fixed.
public struct TimeToCompliance: Sendable, Hashable {
    /// Episodes that ended: a subject's first NonCompliant interval, until the next Compliant one.
    public var episodes: Int
    /// The median duration, in seconds (nearest rank).
    public var medianSeconds: Int64
    /// The 90th percentile, in seconds (nearest rank).
    public var p90Seconds: Int64
    /// The longest, in seconds.
    public var maxSeconds: Int64
    /// Episodes still open at the end of the window (not fixed yet).
    public var open: Int
}

/// A subject (resource × assignment × policy) whose state keeps changing.
public struct FlappingSubject: Sendable, Hashable {
    /// The evaluated resource.
    public var resourceId: String
    /// Its cluster.
    public var clusterId: String
    /// The cluster's name.
    public var clusterName: String
    /// The assignment's display name.
    public var assignmentName: String
    /// The policy label.
    public var policy: String
    /// State changes inside the window.
    public var changes: Int
    /// The latest state.
    public var state: ComplianceState
}

/// Everything the renderers show, computed once from ``ReportData``.
///
/// Percentages are Azure's: (Compliant + Exempt + Unknown) ÷ distinct evaluated resources, each
/// resource taking its worst state (NonCompliant > Compliant > Error > Exempt > Unknown).
/// Orders are deterministic: assignments and policies as they first appear in the results, groups
/// worst first then by name, reasons by count then text, clusters worst first then by name.
public struct ReportSummary: Sendable {
    /// Flapping means at least this many state changes in the window unless options say otherwise.
    public static let defaultFlappingThreshold = 3

    /// Distinct evaluated resources by worst state.
    public var resources: StateCounts
    /// Result rows by state.
    public var results: StateCounts
    /// Inventory clusters by the worst state of their results (clusters with no result are in `notEvaluated`).
    public var clusters: StateCounts
    /// Inventory clusters with no result (out of every assignment's scope).
    public var notEvaluated: Int
    /// Per assignment, in result order.
    public var byAssignment: [GroupSummary]
    /// Per assignment × policy, in result order.
    public var byPolicy: [PolicySummary]
    /// Per subscription, worst first.
    public var bySubscription: [GroupSummary]
    /// Per resource group (`subscription/resourceGroup`), worst first.
    public var byResourceGroup: [GroupSummary]
    /// Per location, worst first.
    public var byLocation: [GroupSummary]
    /// Per cluster kind (`AKS`, `Arc`, `AKS Arc`), worst first.
    public var byKind: [GroupSummary]
    /// Non-compliance reasons, most frequent first.
    public var topReasons: [ReasonSummary]
    /// Every cluster, in ``ReportData/clusters`` order.
    public var clusterRollups: [ClusterSummary]
    /// Indexes into ``clusterRollups``, worst first (clusters with problems, then the rest by name).
    public var clusterOrder: [Int]
    /// The strict view, summed up.
    public var strict: StrictSummary
    /// The trend, oldest first (``ReportData/trend``).
    public var trend: [ReportRunPoint]
    /// Time-to-compliance over the intervals; nil when there is no history.
    public var timeToCompliance: TimeToCompliance?
    /// Subjects with at least ``flappingThreshold`` state changes, most changes first.
    public var flapping: [FlappingSubject]
    /// The threshold used for ``flapping``.
    public var flappingThreshold: Int

    /// The index into ``byPolicy`` of each result.
    let policyOfResult: [Int]

    /// The dense indexes the summary was computed with (renderers use them to find a result's cluster).
    let index: SummaryIndex

    /// The clusters that need attention, worst first (indexes into ``clusterRollups``).
    public var worstClusters: [Int] { clusterOrder.prefix { clusterRollups[$0].hasProblems }.map { $0 } }

    /// Computes the summary of `data`.
    public init(_ data: ReportData, options: ReportOptions = .init()) {
        let index = SummaryIndex(data)
        self.index = index
        resources = index.resourceCounts()
        var tally = StateCounts()
        for i in data.results.indices { tally.add(data.results[i].state) }
        results = tally
        let rollups = index.clusterRollups(data)
        clusterRollups = rollups
        var clusterCounts = StateCounts()
        for rollup in rollups { if let state = rollup.state { clusterCounts.add(state) } }
        clusters = clusterCounts
        notEvaluated = rollups.count { $0.state == nil }
        clusterOrder = Self.order(rollups, data)
        byAssignment = index.byAssignment(data)
        (byPolicy, policyOfResult) = index.byPolicy(data)
        bySubscription = index.byCluster(data, rollups) { ($0.subscriptionId, $0.subscriptionId) }
        byResourceGroup = index.byCluster(data, rollups) {
            ("\($0.resourceGroup) (\($0.subscriptionId.prefix(8)))", "\($0.subscriptionId)/\($0.resourceGroup)")
        }
        byLocation = index.byCluster(data, rollups) { ($0.location.isEmpty ? "(none)" : $0.location, $0.location) }
        byKind = index.byCluster(data, rollups) { (Self.kindLabel($0), Self.kindLabel($0)) }
        topReasons = Self.reasons(data, index)
        strict = Self.strict(data)
        trend = data.trend
        let threshold = max(options.flappingThreshold, 1)
        flappingThreshold = threshold
        let history = History(data, threshold: threshold, index: index)
        timeToCompliance = history.timeToCompliance
        flapping = history.flapping
    }

    /// `AKS`, `Arc` or `AKS Arc`, as the inventory shows kinds.
    public static func kindLabel(_ cluster: ReportCluster) -> String {
        switch cluster.kind {
        case "managedClusters": "AKS"
        case "connectedClusters": cluster.provisioned ? "AKS Arc" : "Arc"
        default: cluster.kind
        }
    }

    /// The label of a policy within an assignment: the reference id, else the definition's name.
    public static func policyLabel(definitionId: String, referenceId: String?) -> String {
        referenceId ?? Text.lastSegment(definitionId)
    }

    private static func order(_ rollups: [ClusterSummary], _ data: ReportData) -> [Int] {
        func rank(_ r: ClusterSummary) -> Int {
            if r.state == nil { return 3 }
            if !r.failing.isEmpty { return 0 }
            return r.strictProblems.isEmpty ? 2 : 1
        }
        return rollups.indices.sorted { a, b in
            let ra = rollups[a]
            let rb = rollups[b]
            if rank(ra) != rank(rb) { return rank(ra) < rank(rb) }
            if ra.failing.count != rb.failing.count { return ra.failing.count > rb.failing.count }
            if ra.strictProblems.count != rb.strictProblems.count {
                return ra.strictProblems.count > rb.strictProblems.count
            }
            let na = data.clusters[ra.cluster].name
            let nb = data.clusters[rb.cluster].name
            return na != nb ? na < nb : a < b
        }
    }

    private static func strict(_ data: ReportData) -> StrictSummary {
        var summary = StrictSummary()
        var fields: [String: Int] = [:]
        var clusters: Set<String> = []
        for entry in data.strict {
            summary.entries += 1
            if !entry.drift.isEmpty {
                summary.drifted += 1
                clusters.insert(ASCII.lowercased(entry.clusterId))
            }
            if entry.drift.contains(where: { $0.path.isEmpty }) { summary.missing += 1 }
            if runtimeUnhealthy(entry) { summary.runtimeUnhealthy += 1 }
            if entry.stale { summary.stale += 1 }
            var seen: Set<String> = []
            for drift in entry.drift {
                let path = drift.path.isEmpty ? "(missing resource)" : drift.path
                if seen.insert(path).inserted { fields[path, default: 0] += 1 }
            }
        }
        summary.driftedClusters = clusters.count
        summary.topFields = fields.map { FieldCount(path: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.path < $1.path }
        return summary
    }

    /// Whether Flux reports anything but Compliant, or failing objects, or stale status.
    static func runtimeUnhealthy(_ entry: ReportStrict) -> Bool {
        if entry.stale || !entry.failing.isEmpty { return true }
        guard let state = entry.complianceState else { return false }
        return !ASCII.equalsIgnoringCase(state, "Compliant")
    }

    private static func reasons(_ data: ReportData, _ index: SummaryIndex) -> [ReasonSummary] {
        struct Key: Hashable {
            var policy: Int
            var reason: Int
        }
        struct Tally {
            var results = 0
            var clusters: Set<Int> = []
            var example: Int
            var first: Int
        }
        var policies = IDInterner()
        var texts = IDInterner()
        var tallyOf: [Key: Int] = [:]
        var tallies: [Tally] = []
        var keys: [(policy: Int, text: Int)] = []
        for i in data.results.indices {
            let state = data.results[i].state
            guard state == .nonCompliant || state == .error else { continue }
            let policy = policies.intern(
                policyLabel(
                    definitionId: data.results[i].policyDefinitionId,
                    referenceId: data.results[i].policyDefinitionReferenceId)
            ).index
            var found: [Int] = []
            func add(_ text: String) {
                let t = texts.intern(text).index
                if !found.contains(t) { found.append(t) }
            }
            if state == .error {
                add(normalise(error: data.results[i].error ?? "evaluation failed"))
            } else {
                let reasons = data.results[i].reasons
                let typeOnly = reasons.allSatisfy { ASCII.equalsIgnoringCase($0.path, "type") }
                for reason in reasons where typeOnly || !ASCII.equalsIgnoringCase(reason.path, "type") {
                    add(normalise(reason))
                }
                if found.isEmpty { add("(no reason given)") }
            }
            let cluster = index.clusterOfResult[i]
            for text in found {
                let key = Key(policy: policy, reason: text)
                let t: Int
                if let known = tallyOf[key] {
                    t = known
                } else {
                    t = tallies.count
                    tallyOf[key] = t
                    tallies.append(Tally(example: cluster, first: i))
                    keys.append((policy, text))
                }
                tallies[t].results += 1
                tallies[t].clusters.insert(cluster)
            }
        }
        return tallies.indices.map { t in
            ReasonSummary(
                policy: policies.spellings[keys[t].policy], reason: texts.spellings[keys[t].text],
                results: tallies[t].results, clusters: tallies[t].clusters.count,
                exampleCluster: index.clusterName(tallies[t].example, data))
        }
        .sorted {
            if $0.results != $1.results { return $0.results > $1.results }
            if $0.policy != $1.policy { return $0.policy < $1.policy }
            return $0.reason < $1.reason
        }
    }

    /// `path operator target` for a condition leaf, the message (whitespace collapsed) otherwise.
    static func normalise(_ reason: ReportReason) -> String {
        if reason.path.isEmpty { return collapse(reason.message) }
        return "\(reason.path) \(reason.operator) \(reason.target ?? "<missing>")"
    }

    /// An error message with resource ids replaced by `<resource>`, whitespace collapsed.
    static func normalise(error: String) -> String {
        collapse(error).split(separator: " ", omittingEmptySubsequences: true).map { word in
            ASCII.lowercased(String(word)).contains("/subscriptions/") ? "<resource>" : String(word)
        }.joined(separator: " ")
    }

    private static func collapse(_ text: String) -> String {
        var previousSpace = true
        var clean = true
        for byte in text.utf8 {
            let space = byte == 0x20
            if byte == 0x0A || byte == 0x09 || byte == 0x0D || (space && previousSpace) {
                clean = false
                break
            }
            previousSpace = space
        }
        if clean && !text.hasSuffix(" ") { return text }
        return text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(
            separator: " ")
    }
}

/// A string that hashes and compares ignoring ASCII case, eight bytes at a time.
///
/// Swift's own `String` hashing normalises Unicode and feeds every byte to SipHash; ARM ids are
/// long ASCII, and reports look hundreds of thousands of them up, so this folds the lowercased
/// words into one 64-bit value first and hands the hasher only that.
struct FoldedKey: Hashable {
    let text: String
    /// The folded hash, computed once (dictionaries rehash every key when they grow).
    let folded: UInt64

    init(text: String) {
        self.text = text
        self.folded = Self.fold(text, into: 0)
    }

    /// Lowercases the ASCII letters among eight bytes.
    @inline(__always) private static func lower8(_ word: UInt64) -> UInt64 {
        let heptets = word & 0x7F7F_7F7F_7F7F_7F7F
        let aboveA = heptets &+ 0x3F3F_3F3F_3F3F_3F3F
        let aboveZ = heptets &+ 0x2525_2525_2525_2525
        let upper = aboveA & ~aboveZ & ~word & 0x8080_8080_8080_8080
        return word | (upper >> 2)
    }

    /// The lowercased word at `i` (the bytes past the end read as zero).
    @inline(__always) private static func word(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt64 {
        if i + 8 <= bytes.count {
            return lower8(UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self)))
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        for k in i..<bytes.count {
            tail |= UInt64(ASCII.lower(bytes[k])) << shift
            shift += 8
        }
        return tail
    }

    static func == (lhs: FoldedKey, rhs: FoldedKey) -> Bool {
        guard lhs.folded == rhs.folded else { return false }
        return same(lhs.text, rhs.text)
    }

    /// Whether two strings are equal ignoring ASCII case.
    static func same(_ lhs: String, _ rhs: String) -> Bool {
        if lhs == rhs { return true }
        var a = lhs
        var b = rhs
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                var i = 0
                while i < x.count {
                    if word(x, i) != word(y, i) { return false }
                    i += 8
                }
                return true
            }
        }
    }

    func hash(into hasher: inout Hasher) { hasher.combine(folded) }

    /// Mixes the lowercased bytes of `text` into `seed`.
    static func fold(_ text: String, into seed: UInt64) -> UInt64 {
        var text = text
        return text.withUTF8 { bytes in
            let n = bytes.count
            var h: UInt64 = (seed &* 0x94D0_49BB_1331_11EB) ^ 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
            guard let base = bytes.baseAddress else { return h }
            let raw = UnsafeRawPointer(base)
            var i = 0
            while i + 8 <= n {
                h =
                    (h ^ lower8(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))))
                    &* 0xBF58_476D_1CE4_E5B9
                h ^= h >> 29
                i += 8
            }
            if i < n { h = (h ^ word(bytes, i)) &* 0xBF58_476D_1CE4_E5B9 }
            return h ^ (h >> 31)
        }
    }

}

/// Numbers strings once each, ignoring ASCII case; the last string looked up is remembered, as
/// rows often repeat the id of the row before.
struct IDInterner {
    private var numbers: [FoldedKey: Int] = [:]

    /// Creates an interner with room for `capacity` ids.
    init(capacity: Int = 0) { numbers.reserveCapacity(capacity) }

    private var last: (text: String, index: Int)?
    /// The first spelling of each id, by number.
    private(set) var spellings: [String] = []

    /// The number of `id`, and whether it is new.
    mutating func intern(_ id: String) -> (index: Int, new: Bool) {
        if let last, last.text == id { return (last.index, false) }
        let key = FoldedKey(text: id)
        if let known = numbers[key] {
            last = (id, known)
            return (known, false)
        }
        let index = spellings.count
        spellings.append(id)
        numbers[key] = index
        last = (id, index)
        return (index, true)
    }

    /// The number of `id` when it is known.
    func find(_ id: String) -> Int? { numbers[FoldedKey(text: id)] }
}

/// Worst states per (group, resource) pair: a flat array when it is small enough, else a dictionary.
struct PairStates {
    private let stride: Int
    private var flat: [UInt8]
    private var sparse: [Int: UInt8] = [:]
    private let dense: Bool
    private static let none: UInt8 = 255

    init(groups: Int, resources: Int) {
        stride = max(resources, 1)
        dense = groups * stride <= 16_000_000
        flat = dense ? Array(repeating: Self.none, count: groups * stride) : []
    }

    /// Keeps the worse of the current state and `state` for the pair.
    mutating func add(group: Int, resource: Int, _ state: ComplianceState) {
        let rank = UInt8(ComplianceState.allCases.firstIndex(of: state)!)
        let key = group * stride + resource
        if dense {
            if rank < flat[key] { flat[key] = rank }
        } else if rank < sparse[key] ?? Self.none {
            sparse[key] = rank
        }
    }

    /// Counts per group of the pairs' states.
    func counts(groups: Int) -> [StateCounts] {
        var out = Array(repeating: StateCounts(), count: groups)
        let states = ComplianceState.allCases
        if dense {
            for (key, rank) in flat.enumerated() where rank != Self.none { out[key / stride].add(states[Int(rank)]) }
        } else {
            for (key, rank) in sparse { out[key / stride].add(states[Int(rank)]) }
        }
        return out
    }
}

/// Dense indexes over the results: each distinct resource, assignment and cluster gets a number once.
struct SummaryIndex {
    /// Cluster index (into `data.clusters`, or past its end for clusters the inventory lacks) of each result.
    var clusterOfResult: [Int]
    /// Resource index of each result.
    var resourceOfResult: [Int]
    /// Assignment index of each result.
    var assignmentOfResult: [Int]
    /// The cluster index of each resource.
    var clusterOfResource: [Int]
    /// The worst state of each resource.
    var worst: [ComplianceState]
    /// Assignment ids, in first-seen order.
    var assignmentIds: [String]
    /// Clusters by id: the inventory's first, then those only the results name.
    var clusters: IDInterner
    /// The number of inventory clusters.
    var inventoryClusters: Int

    init(_ data: ReportData) {
        var clusters = IDInterner(capacity: data.clusters.count)
        for cluster in data.clusters { _ = clusters.intern(cluster.id) }
        // Duplicated ids in the inventory would shift numbers; keep the inventory's positions.
        inventoryClusters = data.clusters.count
        var resources = IDInterner(capacity: data.clusters.count * 4)
        var assignments = IDInterner()
        clusterOfResult = []
        resourceOfResult = []
        assignmentOfResult = []
        clusterOfResource = []
        worst = []
        clusterOfResult.reserveCapacity(data.results.count)
        resourceOfResult.reserveCapacity(data.results.count)
        assignmentOfResult.reserveCapacity(data.results.count)
        var clusterPosition: [Int] = []
        for (i, cluster) in data.clusters.enumerated() {
            let index = clusters.find(cluster.id)!
            if index == clusterPosition.count { clusterPosition.append(i) }
        }
        var resourceOfCluster: [Int] = []
        for i in data.results.indices {
            let (clusterNumber, _) = clusters.intern(data.results[i].clusterId)
            let cluster: Int
            if clusterNumber < clusterPosition.count {
                cluster = clusterPosition[clusterNumber]
            } else {
                cluster = data.clusters.count + clusterNumber - clusterPosition.count
            }
            let (assignment, _) = assignments.intern(data.results[i].assignmentId)
            // Most results are on the cluster itself: its resource number is kept per cluster number.
            let resource: Int
            let new: Bool
            if data.results[i].resourceId == data.results[i].clusterId {
                while resourceOfCluster.count <= clusterNumber { resourceOfCluster.append(-1) }
                if resourceOfCluster[clusterNumber] < 0 {
                    (resourceOfCluster[clusterNumber], new) = resources.intern(data.results[i].clusterId)
                } else {
                    new = false
                }
                resource = resourceOfCluster[clusterNumber]
            } else {
                (resource, new) = resources.intern(data.results[i].resourceId)
            }
            if new {
                worst.append(data.results[i].state)
                clusterOfResource.append(cluster)
            } else if data.results[i].state < worst[resource] {
                worst[resource] = data.results[i].state
            }
            clusterOfResult.append(cluster)
            resourceOfResult.append(resource)
            assignmentOfResult.append(assignment)
        }
        self.assignmentIds = assignments.spellings
        self.clusters = clusters
        self.clusterPosition = clusterPosition
    }

    /// The position in `data.clusters` of each cluster number below the inventory's count.
    private var clusterPosition: [Int]

    func resourceCounts() -> StateCounts {
        var counts = StateCounts()
        for state in worst { counts.add(state) }
        return counts
    }

    func clusterName(_ index: Int, _ data: ReportData) -> String {
        if index < data.clusters.count { return data.clusters[index].name }
        return Text.lastSegment(clusters.spellings[clusterPosition.count + index - data.clusters.count])
    }

    /// The cluster index (as in `clusterOfResult`) of an id.
    func cluster(ofId id: String) -> Int? {
        guard let number = clusters.find(id) else { return nil }
        return number < clusterPosition.count
            ? clusterPosition[number] : inventoryClusters + number - clusterPosition.count
    }

    func clusterRollups(_ data: ReportData) -> [ClusterSummary] {
        var rollups = data.clusters.indices.map {
            ClusterSummary(
                cluster: $0, state: nil, results: StateCounts(), failing: [], strictProblems: [], drifted: 0,
                runtimeUnhealthy: 0)
        }
        for i in data.results.indices {
            let c = clusterOfResult[i]
            guard c < rollups.count else { continue }
            rollups[c].results.add(data.results[i].state)
            if let current = rollups[c].state {
                if data.results[i].state < current { rollups[c].state = data.results[i].state }
            } else {
                rollups[c].state = data.results[i].state
            }
            if data.results[i].state == .nonCompliant || data.results[i].state == .error {
                rollups[c].failing.append(i)
            }
        }
        for (i, entry) in data.strict.enumerated() {
            guard let c = cluster(ofId: entry.clusterId), c < rollups.count else { continue }
            let unhealthy = ReportSummary.runtimeUnhealthy(entry)
            if !entry.drift.isEmpty { rollups[c].drifted += 1 }
            if unhealthy { rollups[c].runtimeUnhealthy += 1 }
            if !entry.drift.isEmpty || unhealthy { rollups[c].strictProblems.append(i) }
        }
        return rollups
    }

    func byAssignment(_ data: ReportData) -> [GroupSummary] {
        let count = assignmentIds.count
        var pairs = PairStates(groups: count, resources: worst.count)
        var names: [String] = Array(repeating: "", count: count)
        let clusterCount = inventoryClusters + clusters.spellings.count
        // Per cluster, the last assignment seen with any result (and with a failing one) plus one.
        var seen = Array(repeating: [Bool](), count: count)
        var seenFailing = Array(repeating: [Bool](), count: count)
        var clustersOf = Array(repeating: 0, count: count)
        var failingOf = Array(repeating: 0, count: count)
        for i in data.results.indices {
            let a = assignmentOfResult[i]
            let c = clusterOfResult[i]
            if names[a].isEmpty {
                names[a] = data.results[i].assignmentName
                seen[a] = Array(repeating: false, count: clusterCount)
                seenFailing[a] = Array(repeating: false, count: clusterCount)
            }
            pairs.add(group: a, resource: resourceOfResult[i], data.results[i].state)
            if !seen[a][c] {
                seen[a][c] = true
                clustersOf[a] += 1
            }
            if (data.results[i].state == .nonCompliant || data.results[i].state == .error) && !seenFailing[a][c] {
                seenFailing[a][c] = true
                failingOf[a] += 1
            }
        }
        let counts = pairs.counts(groups: count)
        return assignmentIds.indices.map {
            GroupSummary(
                name: names[$0].isEmpty ? Text.lastSegment(assignmentIds[$0]) : names[$0], id: assignmentIds[$0],
                counts: counts[$0], clusters: clustersOf[$0], failingClusters: failingOf[$0])
        }
    }

    func byPolicy(_ data: ReportData) -> ([PolicySummary], [Int]) {
        struct Key: Hashable {
            var assignment: Int
            var definition: Int
            var reference: Int
        }
        var policies: [String: ReportPolicy] = [:]
        for policy in data.policies { policies[ASCII.lowercased(policy.id)] = policy }
        var definitions = IDInterner()
        var references = IDInterner()
        var order: [Key: Int] = [:]
        var out: [PolicySummary] = []
        var policyOfResult: [Int] = []
        policyOfResult.reserveCapacity(data.results.count)
        // The last few policies seen, compared directly: fleets have a handful of policies, and ids
        // of one scan share their storage, so this rarely hashes.
        var recent: [(assignment: Int, definition: String, reference: String?, policy: Int)] = []
        for i in data.results.indices {
            let assignment = assignmentOfResult[i]
            if let hit = recent.first(where: {
                $0.assignment == assignment && $0.reference == data.results[i].policyDefinitionReferenceId
                    && $0.definition == data.results[i].policyDefinitionId
            }) {
                policyOfResult.append(hit.policy)
                continue
            }
            let key = Key(
                assignment: assignment, definition: definitions.intern(data.results[i].policyDefinitionId).index,
                reference: data.results[i].policyDefinitionReferenceId.map { references.intern($0).index } ?? -1)
            let number = order[key] ?? out.count
            if recent.count < 32 {
                recent.append(
                    (
                        assignment, data.results[i].policyDefinitionId, data.results[i].policyDefinitionReferenceId,
                        number
                    ))
            }
            if number < out.count {
                policyOfResult.append(number)
                continue
            }
            order[key] = out.count
            policyOfResult.append(out.count)
            let policy = policies[ASCII.lowercased(data.results[i].policyDefinitionId)]
            out.append(
                PolicySummary(
                    assignmentId: data.results[i].assignmentId, assignmentName: data.results[i].assignmentName,
                    policyDefinitionId: data.results[i].policyDefinitionId,
                    referenceId: data.results[i].policyDefinitionReferenceId,
                    label: ReportSummary.policyLabel(
                        definitionId: data.results[i].policyDefinitionId,
                        referenceId: data.results[i].policyDefinitionReferenceId),
                    displayName: policy?.displayName, category: policy?.category, effect: data.results[i].effect,
                    counts: StateCounts()))
        }
        var pairs = PairStates(groups: out.count, resources: worst.count)
        for i in data.results.indices {
            pairs.add(group: policyOfResult[i], resource: resourceOfResult[i], data.results[i].state)
        }
        for (p, counts) in pairs.counts(groups: out.count).enumerated() { out[p].counts = counts }
        return (out, policyOfResult)
    }

    /// Groups every inventory cluster (and its resources' worst states) by a key of the cluster.
    func byCluster(
        _ data: ReportData, _ rollups: [ClusterSummary], key: (ReportCluster) -> (name: String, id: String)
    ) -> [GroupSummary] {
        var groups = IDInterner()
        var out: [GroupSummary] = []
        var groupOfCluster: [Int] = []
        groupOfCluster.reserveCapacity(data.clusters.count)
        for (i, cluster) in data.clusters.enumerated() {
            let (name, id) = key(cluster)
            let (g, new) = groups.intern(id)
            if new {
                out.append(GroupSummary(name: name, id: id, counts: StateCounts(), clusters: 0, failingClusters: 0))
            }
            groupOfCluster.append(g)
            out[g].clusters += 1
            if !rollups[i].failing.isEmpty { out[g].failingClusters += 1 }
        }
        for (resource, state) in worst.enumerated() {
            let c = clusterOfResource[resource]
            guard c < groupOfCluster.count else { continue }
            out[groupOfCluster[c]].counts.add(state)
        }
        return out.sorted {
            let pa = $0.counts.compliancePercent
            let pb = $1.counts.compliancePercent
            if pa != pb { return pa < pb }
            return $0.name < $1.name
        }
    }
}

/// Time-to-compliance and flapping, from the state intervals.
///
/// One pass over the intervals in time order (the contract's order, checked; sorted when it does
/// not hold), keeping per subject its last state, its changes and when its non-compliance began.
private struct History {
    var timeToCompliance: TimeToCompliance?
    var flapping: [FlappingSubject] = []

    init(_ data: ReportData, threshold: Int, index: SummaryIndex) {
        guard !data.intervals.isEmpty else { return }
        /// A resource × assignment × reference, hashed in one pass over the three ids.
        struct Subject: Hashable {
            var resource: String
            var assignment: String
            var reference: String?
            var folded: UInt64

            init(resource: String, assignment: String, reference: String?) {
                self.resource = resource
                self.assignment = assignment
                self.reference = reference
                folded = FoldedKey.fold(
                    resource, into: FoldedKey.fold(assignment, into: FoldedKey.fold(reference ?? "\u{0}", into: 0)))
            }

            static func == (lhs: Subject, rhs: Subject) -> Bool {
                lhs.folded == rhs.folded && FoldedKey.same(lhs.resource, rhs.resource)
                    && FoldedKey.same(lhs.assignment, rhs.assignment)
                    && FoldedKey.same(lhs.reference ?? "\u{0}", rhs.reference ?? "\u{0}")
            }

            func hash(into hasher: inout Hasher) { hasher.combine(folded) }
        }
        let fromSeconds = data.intervals.map { Text.unixSeconds($0.from) ?? 0 }
        var order = Array(data.intervals.indices)
        if zip(fromSeconds, fromSeconds.dropFirst()).contains(where: { $0 > $1 }) {
            order.sort { fromSeconds[$0] != fromSeconds[$1] ? fromSeconds[$0] < fromSeconds[$1] : $0 < $1 }
        }
        var assignments = IDInterner()
        var subjects: [Subject: Int] = [:]
        subjects.reserveCapacity(min(data.intervals.count, data.results.count * 2 + 16))
        var lastState: [ComplianceState] = []
        var lastInterval: [Int] = []
        var changes: [Int] = []
        var ncStart: [Int64?] = []
        var durations: [Int64] = []
        for i in order {
            let interval = data.intervals[i]
            let subject = Subject(
                resource: interval.resourceId, assignment: interval.assignmentId,
                reference: interval.policyDefinitionReferenceId)
            let s: Int
            if let known = subjects[subject] {
                s = known
                if lastState[s] != interval.state { changes[s] += 1 }
            } else {
                s = lastState.count
                subjects[subject] = s
                _ = assignments.intern(interval.assignmentId)
                lastState.append(interval.state)
                lastInterval.append(i)
                changes.append(0)
                ncStart.append(nil)
            }
            lastState[s] = interval.state
            lastInterval[s] = i
            switch interval.state {
            case .nonCompliant:
                if ncStart[s] == nil { ncStart[s] = fromSeconds[i] }
            case .compliant:
                if let start = ncStart[s], fromSeconds[i] >= start { durations.append(fromSeconds[i] - start) }
                ncStart[s] = nil
            default:
                break
            }
        }
        var names: [String: String] = [:]
        var definitions: [String: String] = [:]
        var spellings: Set<String> = []
        for result in data.results where spellings.insert(result.assignmentId).inserted {
            guard names[ASCII.lowercased(result.assignmentId)] == nil else { continue }
            names[ASCII.lowercased(result.assignmentId)] = result.assignmentName
            if result.policyDefinitionReferenceId == nil {
                definitions[ASCII.lowercased(result.assignmentId)] = result.policyDefinitionId
            }
        }
        let fallbackNames = AssignmentNames(assignmentIds: assignments.spellings)
        for s in changes.indices where changes[s] >= threshold {
            let last = data.intervals[lastInterval[s]]
            let cluster = index.cluster(ofId: last.clusterId)
            let clusterName = cluster.map { index.clusterName($0, data) } ?? Text.lastSegment(last.clusterId)
            let assignmentKey = ASCII.lowercased(last.assignmentId)
            flapping.append(
                FlappingSubject(
                    resourceId: last.resourceId, clusterId: last.clusterId, clusterName: clusterName,
                    assignmentName: names[assignmentKey] ?? fallbackNames.name(last.assignmentId),
                    policy: last.policyDefinitionReferenceId
                        ?? definitions[assignmentKey].map(Text.lastSegment) ?? "(policy)",
                    changes: changes[s], state: last.state))
        }
        let open = ncStart.count { $0 != nil }
        durations.sort()
        func rank(_ p: Double) -> Int64 {
            let n = durations.count
            let r = Int((p * Double(n)).rounded(.up))
            return durations[min(max(r, 1), n) - 1]
        }
        timeToCompliance =
            durations.isEmpty
            ? TimeToCompliance(episodes: 0, medianSeconds: 0, p90Seconds: 0, maxSeconds: 0, open: open)
            : TimeToCompliance(
                episodes: durations.count, medianSeconds: rank(0.5), p90Seconds: rank(0.9),
                maxSeconds: durations.last!, open: open)
        flapping.sort {
            if $0.changes != $1.changes { return $0.changes > $1.changes }
            if $0.clusterName != $1.clusterName { return $0.clusterName < $1.clusterName }
            return $0.policy < $1.policy
        }
    }
}
