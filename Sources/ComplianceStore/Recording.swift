import Dispatch
import FleetCore
import PolicyEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a run was: `scan`, `plan`, `apply` or `resume`.
public enum RunKind: String, Sendable, CaseIterable {
    /// Policy evaluation only.
    case scan
    /// A plan (evaluation plus the actions it would take).
    case plan
    /// An apply: the operations journal holds what it did.
    case apply
    /// An apply resumed after an interruption.
    case resume
}

/// What ``ComplianceStore/record(scan:fleet:run:kind:startedAt:finishedAt:inventoryDigest:assignmentNames:)``
/// wrote.
public struct RecordOutcome: Sendable, Hashable {
    /// The new run's id.
    public var runID: Int64
    /// Clusters seen for the first time.
    public var clustersAdded: Int
    /// Known clusters whose facts changed, or that came back after being removed.
    public var clustersUpdated: Int
    /// Clusters missing from this run that the previous runs had.
    public var clustersRemoved: Int
    /// State intervals opened (new subjects, or a state or reasons change).
    public var intervalsOpened: Int
    /// State intervals closed (a change, or a subject missing from this run).
    public var intervalsClosed: Int
    /// Strict-view intervals opened.
    public var strictOpened: Int
    /// Strict-view intervals closed.
    public var strictClosed: Int
    /// Distinct reason bodies stored.
    public var detailsAdded: Int

    /// Rows inserted: the run, new clusters, opened intervals and new reason bodies.
    public var rowsAdded: Int { 1 + clustersAdded + intervalsOpened + strictOpened + detailsAdded }
}

extension ComplianceStore {
    /// Records a scan as a new run, in one transaction: either all of it is stored or nothing.
    ///
    /// Only changes are written: a subject (cluster × assignment × policy reference × evaluated
    /// resource) whose state and reasons are unchanged keeps its open interval; a change closes it
    /// and opens the next; a subject missing from this scan has its interval closed. Clusters are
    /// added, updated when their facts change, and marked removed when missing (a cluster that
    /// reappears is no longer removed). Reasons are stored with the same masking as
    /// `scan --output json`: URL credentials and write-only secret members never reach the file.
    ///
    /// - Parameters:
    ///   - scan: The evaluation.
    ///   - fleet: The inventory it ran on (cluster facts come from it).
    ///   - run: What it ran on: inventory and policies paths, policies digest, evaluation time.
    ///   - kind: The run kind.
    ///   - startedAt: When the run started (ISO 8601 UTC).
    ///   - finishedAt: When it finished (default: `startedAt`).
    ///   - inventoryDigest: A digest of the inventory files.
    ///   - assignmentNames: Display names by assignment id lowercased (default: the id's last segment).
    /// - Returns: What was written.
    /// - Throws: ``StoreError`` (nothing is written then).
    @discardableResult
    public func record(
        scan: ScanResult, fleet: Fleet, run: ScanRun, kind: RunKind = .scan, startedAt: String,
        finishedAt: String? = nil, inventoryDigest: String = "", assignmentNames: [String: String] = [:]
    ) throws(StoreError) -> RecordOutcome {
        try requireLease()
        guard let evaluated = StoreTime.epoch(run.evaluatedAt) else {
            throw StoreError.sqlite(
                SQLiteError(code: 20, message: "evaluation time '\(run.evaluatedAt)' is not ISO 8601", sql: nil),
                path: path)
        }
        return try guarded {
            // Every id the write refers to was read or inserted in the same transaction, so checking
            // each reference again on every insert (six B-tree lookups per interval row) only costs
            // time; `check()` verifies the references (`foreign_key_check`). Per connection, and
            // restored at once: every other write keeps them enforced.
            try database.execute("PRAGMA foreign_keys = OFF")
            defer { try? database.execute("PRAGMA foreign_keys = ON") }
            return try database.transaction {
                var writer = RunWriter(
                    database: database, scan: scan, fleet: fleet, assignmentNames: assignmentNames)
                try heartbeat()
                return try writer.write(
                    run: run, kind: kind, startedAt: startedAt, finishedAt: finishedAt ?? startedAt,
                    evaluatedEpoch: evaluated, inventoryDigest: inventoryDigest)
            }
        }
    }
}

/// A run's counts over distinct resources, each taking its worst state (as ``ScanResult/Summary``).
struct RunCounts {
    var resources = 0
    var compliant = 0
    var nonCompliant = 0
    var exempt = 0
    var unknown = 0
    var error = 0
    var errorResults = 0
    var drifted = 0
}

/// How a cluster's facts are stored: the columns of `clusters` that come from the inventory.
enum ClusterFacts {
    /// The text columns, in order: `arm_id`, `name`, `kind`, `subscription_id`, `resource_group`,
    /// `location`, `tags`, `eligibility_reason` (`provisioned` is an integer between kind and
    /// subscription).
    static let texts = 8

    /// `Cluster.location`, without rebuilding the usual already-normal text (`westeurope`).
    static func location(_ cluster: Cluster) -> String {
        guard var text = cluster.resource.member(ignoringCase: "location")?.string, !text.isEmpty else { return "" }
        let normal = text.withUTF8 { bytes in !bytes.contains { ($0 &- UInt8(ascii: "A")) < 26 || $0 == 0x20 } }
        return normal ? text : Location.normalize(text)
    }

    /// Appends the tags as a JSON object sorted by key, as `Cluster.tags` reads them (a repeated key
    /// keeps its last value), without building a dictionary.
    static func appendTags(_ cluster: Cluster, to out: inout [UInt8], scratch: inout TagScratch) {
        guard let object = cluster.resource.member(ignoringCase: "tags") else {
            out.append(contentsOf: [UInt8(ascii: "{"), UInt8(ascii: "}")])
            return
        }
        if !appendPlainTags(object, to: &out, scratch: &scratch) {
            out.append(contentsOf: tagsJSON(object).utf8)
        }
    }

    /// Reused buffers for ``appendPlainTags(_:to:scratch:)``.
    struct TagScratch {
        var bytes: [UInt8] = []
        var keys: [Range<Int>] = []
        var values: [Range<Int>] = []
        var order: [Int] = []
    }

    /// Appends the usual tags, sorted by key here, and returns true.
    ///
    /// The usual tags: keys and values of printable ASCII without escapes and no key twice, so the
    /// JSON writer would write exactly their bytes. False (and nothing appended) for anything else.
    static func appendPlainTags(_ object: JSONValue, to out: inout [UInt8], scratch: inout TagScratch) -> Bool {
        guard object.isObject else { return false }
        scratch.bytes.removeAll(keepingCapacity: true)
        scratch.keys.removeAll(keepingCapacity: true)
        scratch.values.removeAll(keepingCapacity: true)
        var plain = true
        object.forEachMember { key, value in
            guard plain else { return }
            let keyStart = scratch.bytes.count
            plain = appendPrintable(key, to: &scratch.bytes)
            let valueStart = scratch.bytes.count
            plain = plain && appendPrintable(value, to: &scratch.bytes)
            scratch.keys.append(keyStart..<valueStart)
            scratch.values.append(valueStart..<scratch.bytes.count)
        }
        guard plain else { return false }
        // Insertion sort of a few keys; two equal keys leave it to the writer (the last one wins).
        scratch.order.removeAll(keepingCapacity: true)
        return scratch.bytes.withUnsafeBufferPointer { bytes in
            for i in scratch.keys.indices {
                var j = scratch.order.count
                while j > 0 {
                    let order = compare(scratch.keys[scratch.order[j - 1]], scratch.keys[i], in: bytes)
                    if order == 0 { return false }
                    if order < 0 { break }
                    j -= 1
                }
                scratch.order.insert(i, at: j)
            }
            out.append(UInt8(ascii: "{"))
            for (position, i) in scratch.order.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[scratch.keys[i]]))
                out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":"), UInt8(ascii: "\"")])
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[scratch.values[i]]))
                out.append(UInt8(ascii: "\""))
            }
            out.append(UInt8(ascii: "}"))
            return true
        }
    }

    /// Appends an unescaped string of printable ASCII as it stands; false (and nothing appended)
    /// when it is not one.
    private static func appendPrintable(_ value: JSONValue, to out: inout [UInt8]) -> Bool {
        var printable = true
        let unescaped = value.withUnescapedStringBytes { bytes in
            // Printable ASCII: what the writer copies unchanged, and what sorts byte by byte as Swift
            // sorts strings.
            for byte in bytes where byte < 0x20 || byte >= 0x7F {
                printable = false
                return
            }
            out.append(contentsOf: bytes)
        }
        return unescaped && printable
    }

    /// The order of the bytes at `a` and at `b`: negative, zero or positive.
    private static func compare(_ a: Range<Int>, _ b: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        let order = memcmp(bytes.baseAddress! + a.lowerBound, bytes.baseAddress! + b.lowerBound, min(a.count, b.count))
        return order != 0 ? Int(order) : a.count - b.count
    }

    /// The tags as a JSON object sorted by key, for tags that need the writer (escapes, other
    /// values, any order).
    static func tagsJSON(_ object: JSONValue) -> String {
        var tags: [(key: String, value: String)] = []
        for (key, value) in object.members {
            tags.append((key, value.string ?? (value.isNull ? "" : value.rawText)))
        }
        if tags.isEmpty { return "{}" }
        // Stable: among equal keys the last one read is last, and wins below.
        let order = tags.indices.sorted { tags[$0].key < tags[$1].key || (tags[$0].key == tags[$1].key && $0 < $1) }
        var w = JSONWriter()
        w.beginObject()
        for (position, index) in order.enumerated()
        where position + 1 == order.count || tags[order[position + 1]].key != tags[index].key {
            w.member(tags[index].key, tags[index].value)
        }
        w.endObject()
        return w.text
    }
}

/// The facts of a block of clusters, as the bytes they are stored as.
///
/// Every text of every cluster of the block sits in one buffer: computing them makes no string
/// per field, and the writer binds them in place instead of having SQLite copy each.
struct FactsBlock: Sendable {
    /// The texts, one after another.
    private(set) var bytes: [UInt8] = []
    /// Per cluster and text column (``ClusterFacts/texts`` each): where the text ends in `bytes`
    /// (it starts where the one before ends).
    private var ends: [Int] = []
    /// Per cluster: `provisioned`.
    private(set) var provisioned: [Bool] = []
    /// Per cluster: whether it has an eligibility reason (NULL otherwise).
    private(set) var ineligible: [Bool] = []
    /// Per cluster: the digest of its facts (stored as `facts_digest`).
    private(set) var digests: [Int64] = []
    private var scratch = ClusterFacts.TagScratch()

    /// The number of clusters.
    var count: Int { digests.count }

    /// The facts of `clusters`.
    init(_ clusters: ArraySlice<Cluster>) {
        bytes.reserveCapacity(clusters.count * 400)
        ends.reserveCapacity(clusters.count * ClusterFacts.texts)
        provisioned.reserveCapacity(clusters.count)
        ineligible.reserveCapacity(clusters.count)
        digests.reserveCapacity(clusters.count)
        for cluster in clusters { append(cluster) }
    }

    private mutating func append(_ cluster: Cluster) {
        text(cluster.id.description)
        text(cluster.name)
        text(cluster.kind.rawValue)
        provisioned.append(cluster.provisioned)
        text(cluster.subscriptionId)
        text(cluster.resourceGroup)
        text(ClusterFacts.location(cluster))
        ClusterFacts.appendTags(cluster, to: &bytes, scratch: &scratch)
        ends.append(bytes.count)
        let code = Eligibility.primaryCode(cluster)
        if var code { code.withUTF8 { bytes.append(contentsOf: $0) } }
        ends.append(bytes.count)
        ineligible.append(code != nil)
        digests.append(digest(cluster: count))
    }

    private mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { bytes.append(contentsOf: $0) }
        ends.append(bytes.count)
    }

    /// The bytes of text column `column` of cluster `i`, inside `buffer` (this block's `bytes`).
    func text(_ i: Int, _ column: Int, in buffer: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        let k = i * ClusterFacts.texts + column
        let start = k == 0 ? 0 : ends[k - 1]
        return UnsafeBufferPointer(rebasing: buffer[start..<ends[k]])
    }

    /// The digest of the facts: each text and `provisioned` followed by a zero byte, then the
    /// eligibility reason or 0x01.
    private func digest(cluster i: Int) -> Int64 {
        var d = ContentDigest()
        bytes.withUnsafeBufferPointer { buffer in
            for column in 0..<(ClusterFacts.texts - 1) {
                if column == 3 {
                    d.add(CollectionOfOne(provisioned[i] ? UInt8(ascii: "1") : UInt8(ascii: "0")))
                    d.add(CollectionOfOne(0))
                }
                d.add(UnsafeRawBufferPointer(text(i, column, in: buffer)))
                d.add(CollectionOfOne(0))
            }
            if ineligible[i] {
                d.add(UnsafeRawBufferPointer(text(i, ClusterFacts.texts - 1, in: buffer)))
            } else {
                d.add(CollectionOfOne(1))
            }
        }
        return d.signed
    }

    /// Binds the facts of cluster `i` to parameters `offset + 1` … `offset + 10` (the texts in
    /// place: run the statement inside `buffer`'s scope).
    func bind(_ i: Int, in buffer: UnsafeBufferPointer<UInt8>, to statement: Statement, at offset: Int32) {
        statement.bind(offset + 1, unownedText: text(i, 0, in: buffer))
        statement.bind(offset + 2, unownedText: text(i, 1, in: buffer))
        statement.bind(offset + 3, unownedText: text(i, 2, in: buffer))
        statement.bind(offset + 4, provisioned[i])
        statement.bind(offset + 5, unownedText: text(i, 3, in: buffer))
        statement.bind(offset + 6, unownedText: text(i, 4, in: buffer))
        statement.bind(offset + 7, unownedText: text(i, 5, in: buffer))
        statement.bind(offset + 8, unownedText: text(i, 6, in: buffer))
        if ineligible[i] {
            statement.bind(offset + 9, unownedText: text(i, 7, in: buffer))
        } else {
            statement.bindNull(offset + 9)
        }
        statement.bind(offset + 10, digests[i])
    }
}

/// One chunk of a scan's rows with what repeats across rows (relative resource ids, rules,
/// bodies) numbered locally, so the single-threaded write sees integers only.
///
/// Chunks are prepared on every core (``Prepared/chunks(_:_:)``): suffixes cut, bodies rendered and
/// masked once per distinct content, string keys hashed there rather than in the write loop.
struct PreparedChunk<Group: Hashable & Sendable, Body: RowBody>: @unchecked Sendable {
    // @unchecked: built by one worker, read by the writer after every worker joined.
    /// The rows (indices into the scan's array).
    var range: Range<Int>
    /// Distinct relative resource ids (`""` is never here: the cluster itself is row number -1).
    var suffixes: [String] = []
    /// Distinct groups (rule or assignment).
    var groups: [Group] = []
    /// Distinct bodies, and their stored form.
    var bodies: [Body] = []
    var rendered: [[UInt8]] = []
    /// Per row: the inventory index of the row's cluster (its first occurrence; -1: not in the inventory).
    var rowCluster: [Int32] = []
    /// Per row: local numbers.
    var rowSuffix: [Int32] = []
    var rowGroup: [Int32] = []
    var rowBody: [Int32] = []

    private var suffixIndex: [Substring: Int32] = [:]
    /// The bytes of each suffix, for comparisons without hashing.
    private var suffixBytes: [[UInt8]] = []
    private var groupIndex: [Group: Int32] = [:]
    private var bodyIndex: [Body: Int32] = [:]
    /// Bodies rendered by the worker so far, carried from chunk to chunk (``prepare(into:_:)``): each
    /// distinct body is rendered once per worker, not once per chunk.
    private var renderedBefore: [Body: [UInt8]] = [:]
    /// The previous row's group (-1: none).
    private var lastGroup: Int32 = -1
    /// Per group: the last bodies (``recentBodies`` at most) each subject (suffix number) had, oldest first.
    private var lastBody: [[(suffix: Int32, body: Body, n: Int32)]] = []
    /// How many bodies are remembered per subject.
    private static var recentBodies: Int { 4 }
    private var lastCluster: (id: String, index: Int32)?

    init(range: Range<Int>) {
        self.range = range
        rowCluster.reserveCapacity(range.count)
        rowSuffix.reserveCapacity(range.count)
        rowGroup.reserveCapacity(range.count)
        rowBody.reserveCapacity(range.count)
    }

    /// Adds a row.
    mutating func add(
        resourceId: String, clusterId: String, clusters: ClusterIndex, group: Group, body: Body,
        render: () -> [UInt8]
    ) {
        // Rows of one cluster come together: compare with the previous row's id before searching.
        if let (last, n) = lastCluster, last == clusterId {
            rowCluster.append(n)
        } else {
            let n = clusters.index(of: clusterId, after: lastCluster?.index ?? -2)
            rowCluster.append(n)
            lastCluster = (clusterId, n)
        }
        rowSuffix.append(suffixNumber(resourceId, of: clusterId))
        // A cluster's rows go through a few groups in the same order as the previous cluster's: the
        // group after the previous row's, then the previous row's, then a short linear search (equal
        // strings mostly share storage, so most comparisons read no byte), before hashing.
        let n: Int32
        let next = lastGroup + 1
        if next >= 0, next < groups.count, groups[Int(next)] == group {
            n = next
        } else if lastGroup >= 0, groups[Int(lastGroup)] == group {
            n = lastGroup
        } else if groups.count <= 16, let known = groups.firstIndex(where: { $0 == group }) {
            n = Int32(known)
        } else if let known = groupIndex[group] {
            n = known
        } else {
            n = Int32(groups.count)
            groups.append(group)
            groupIndex[group] = n
        }
        rowGroup.append(n)
        lastGroup = n
        // A subject (group and suffix) mostly repeats one of the few bodies it had on the previous
        // clusters (a state and its reasons): equality checks against them (mostly on shared string
        // storage) cost less than hashing the reasons. Per subject, not per group: a group's
        // subjects, such as the strict view's extension and configuration, have bodies of different shapes.
        let g = Int(rowGroup[rowGroup.count - 1])
        let s = rowSuffix[rowSuffix.count - 1]
        while lastBody.count <= g { lastBody.append([]) }
        // In place, newest first: copying an entry would retain and release every string of its body.
        let hit: Int32? = lastBody[g].withUnsafeBufferPointer { recent in
            var j = recent.count - 1
            while j >= 0 {
                if recent[j].suffix == s && Body.same(recent[j].body, body) { return recent[j].n }
                j -= 1
            }
            return nil
        }
        if let hit {
            rowBody.append(hit)
            return
        }
        let b: Int32
        if let known = bodyIndex[body] {
            b = known
        } else {
            b = Int32(bodies.count)
            bodies.append(body)
            if let known = renderedBefore[body] {
                rendered.append(known)
            } else {
                let bytes = render()
                renderedBefore[body] = bytes
                rendered.append(bytes)
            }
            bodyIndex[body] = b
        }
        rowBody.append(b)
        lastBody[g].append((s, body, b))
        if lastBody[g].count(where: { $0.suffix == s }) > Self.recentBodies,
            let oldest = lastBody[g].firstIndex(where: { $0.suffix == s })
        {
            lastBody[g].remove(at: oldest)
        }
    }

    /// The local number of the row's resource id relative to its cluster (-1: the cluster itself).
    ///
    /// A fleet has a few distinct suffixes (the extension, each configuration): the known ones are
    /// compared byte by byte before any hashing, and a suffix is copied only the first time.
    private mutating func suffixNumber(_ resourceId: String, of clusterId: String) -> Int32 {
        if resourceId == clusterId { return -1 }
        let suffix = RunWriter.suffixSlice(resourceId, of: clusterId)
        if suffix.isEmpty { return -1 }
        if suffixes.count <= 16 {
            var suffix = suffix
            let found: Int? = suffix.withUTF8 { bytes in
                for j in suffixBytes.indices where suffixBytes[j].count == bytes.count {
                    let equal = suffixBytes[j].withUnsafeBufferPointer {
                        memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0
                    }
                    if equal { return j }
                }
                return nil
            }
            if let found { return Int32(found) }
        } else if let known = suffixIndex[suffix] {
            return known
        }
        let n = Int32(suffixes.count)
        suffixes.append(String(suffix))
        suffixBytes.append(Array(suffix.utf8))
        suffixIndex[suffix] = n
        return n
    }

    /// Prepares the rows of `stream` on every core but one (the writer thread stores rows meanwhile:
    /// a worker on its core would only take turns with it), each chunk handed over as soon as it is
    /// ready; `row` adds row `i` to its chunk.
    static func prepare(into stream: ChunkStream<PreparedChunk>, _ row: @Sendable (Int, inout PreparedChunk) -> Void) {
        let chunks = stream.count
        let rows = stream.rows
        let workers = stream.workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            // Worker w takes chunks w, w + workers, …: in order, so the first chunks are ready first.
            var renderedBefore: [Body: [UInt8]] = [:]
            for k in stride(from: w, to: chunks, by: workers) {
                var chunk = PreparedChunk(range: (rows * k / chunks)..<(rows * (k + 1) / chunks))
                swap(&chunk.renderedBefore, &renderedBefore)
                for i in chunk.range { row(i, &chunk) }
                swap(&chunk.renderedBefore, &renderedBefore)
                stream.set(k, chunk)
            }
        }
    }
}

/// Rows prepared in chunks, each handed to the writer thread as soon as it is ready, in order: the
/// writer stores the first chunks while the next ones are prepared.
final class ChunkStream<Chunk>: @unchecked Sendable {
    // @unchecked: each chunk is written once by the worker that prepares it and read only after its
    // semaphore was waited for (the semaphore orders them); `waited` is the reading thread's own.
    /// The number of rows.
    let rows: Int
    /// The number of chunks.
    let count: Int
    /// The number of workers preparing them.
    let workers: Int
    private let slots: ResultSlots<Chunk>
    private let ready: [DispatchSemaphore]
    private var waited: [Bool]

    /// Chunks for `rows` rows: a worker for every core but one (at least 4,096 rows each), and up to
    /// 8 chunks, so that the writer can start early while each distinct body is still rendered only
    /// a few times (once per chunk it appears in).
    init(rows: Int) {
        self.rows = rows
        workers = min(max(1, JSONRecords.availableCores - 1), max(1, rows / 4096))
        count = max(workers, min(8, rows / 4096))
        slots = ResultSlots(count: count)
        ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        waited = Array(repeating: false, count: count)
    }

    /// Hands chunk `k` over (from the worker that prepared it).
    func set(_ k: Int, _ chunk: Chunk) {
        slots.set(k, chunk)
        ready[k].signal()
    }

    /// Chunk `k` (waits for it).
    func chunk(_ k: Int) -> Chunk {
        if !waited[k] {
            ready[k].wait()
            waited[k] = true
        }
        return slots.get(k)!
    }
}

/// The preparation of a scan's result and strict-view rows (``PreparedChunk``), started in the
/// background when created, so that it runs while the writer thread reads the database, and then
/// hands the results and the strict view over chunk by chunk.
final class Preparation: @unchecked Sendable {
    // @unchecked: the streams hand each chunk over once, ordered by its semaphore.
    private let clusterIndex: ClusterIndex
    /// The prepared result rows.
    let results: ChunkStream<PreparedChunk<RuleName, ResultBodyKey>>
    /// The prepared strict-view rows.
    let strict: ChunkStream<PreparedChunk<String, StrictBodyKey>>

    /// Starts the preparation of `scan`'s rows; `index` holds the inventory's clusters.
    init(_ scan: ScanResult, index: ClusterIndex) {
        clusterIndex = index
        results = ChunkStream(rows: scan.results.count)
        strict = ChunkStream(rows: scan.strict.count)
        DispatchQueue.global().async { [self] in
            let clusters = clusterIndex
            let results = scan.results
            PreparedChunk.prepare(into: self.results) { i, chunk in
                // Field by field: copying the whole result would retain every member.
                chunk.add(
                    resourceId: results[i].resourceId, clusterId: results[i].clusterId, clusters: clusters,
                    group: RuleName(
                        assignment: results[i].assignmentId, reference: results[i].policyDefinitionReferenceId,
                        definition: results[i].policyDefinitionId),
                    body: ResultBodyKey(
                        effect: results[i].effect, exemptionId: results[i].exemptionId, error: results[i].error,
                        reasons: results[i].reasons),
                    render: { Details.body(of: results[i]) })
            }
            let entries = scan.strict
            PreparedChunk.prepare(into: strict) { i, chunk in
                chunk.add(
                    resourceId: entries[i].resourceId, clusterId: entries[i].clusterId, clusters: clusters,
                    group: entries[i].assignmentId,
                    body: StrictBodyKey(drift: entries[i].drift, runtime: entries[i].runtime),
                    render: { Details.body(of: entries[i]) })
            }
        }
    }

    /// The inventory's clusters by id.
    func clusters() -> ClusterIndex { clusterIndex }
}

/// The facts of the inventory's clusters, computed in the background on every core when created, in
/// blocks of ``blockSize`` clusters taken in inventory order: the writer thread reads what the
/// database holds meanwhile, then writes each block as soon as it is ready.
final class ClusterFactsTask: @unchecked Sendable {
    // @unchecked: each block is written once by the worker that computes it and read only after its
    // semaphore was waited for (the semaphore orders them); `waited` is the reading thread's own.
    /// Clusters to a block.
    static let blockSize = 1024
    /// The number of blocks.
    let blockCount: Int
    private let blocks: ResultSlots<FactsBlock>
    private let ready: [DispatchSemaphore]
    private var waited: [Bool]

    /// Starts computing the facts of `clusters`.
    init(_ clusters: [Cluster]) {
        let count = clusters.count
        let blockCount = (count + Self.blockSize - 1) / Self.blockSize
        self.blockCount = blockCount
        blocks = ResultSlots(count: blockCount)
        ready = (0..<blockCount).map { _ in DispatchSemaphore(value: 0) }
        waited = Array(repeating: false, count: blockCount)
        DispatchQueue.global().async { [self] in
            // Workers claim iterations in increasing order, so the first blocks are ready first.
            DispatchQueue.concurrentPerform(iterations: blockCount) { k in
                blocks.set(k, FactsBlock(clusters[(k * Self.blockSize)..<min(count, (k + 1) * Self.blockSize)]))
                ready[k].signal()
            }
        }
    }

    /// The facts of block `k`, clusters `k * blockSize` up to the next block's (waits for them).
    func block(_ k: Int) -> FactsBlock {
        if !waited[k] {
            ready[k].wait()
            waited[k] = true
        }
        return blocks.get(k)!
    }
}

/// The inventory's clusters by ARM id ignoring case; a repeated id is the same cluster, numbered by
/// its first index in the inventory (the fleet keeps the first).
///
/// A fleet's clusters are sorted by id, and rows come in inventory order: a row mostly names the
/// cluster after the previous row's, with the same string, which is checked first. Otherwise sorted
/// clusters are searched by halves; only an unsorted array gets a dictionary.
struct ClusterIndex: Sendable {
    private var clusters: [Cluster] = []
    private var sorted = true
    private var byKey: [ResourceIDKey: Int32] = [:]
    /// Per inventory index: whether it is the first cluster with its id.
    private(set) var isFirst: [Bool] = []

    init() {}

    init(_ clusters: [Cluster]) {
        self.clusters = clusters
        isFirst.reserveCapacity(clusters.count)
        for i in clusters.indices {
            guard i > 0 else {
                isFirst.append(true)
                continue
            }
            let previous = clusters[i - 1].id.key
            let key = clusters[i].id.key
            if key < previous {
                sorted = false
                break
            }
            isFirst.append(previous != key)
        }
        guard !sorted else { return }
        isFirst = []
        byKey.reserveCapacity(clusters.count)
        for i in clusters.indices {
            let key = clusters[i].id.key
            let first = byKey[key] == nil
            if first { byKey[key] = Int32(i) }
            isFirst.append(first)
        }
    }

    /// The ARM id of inventory index `i`.
    func id(_ i: Int) -> ResourceID { clusters[i].id }

    /// The inventory index of the cluster with this id, ignoring case (-1: none); `previous` is the
    /// index of the previous row's cluster (-1: none), whose successor is tried first.
    func index(of id: String, after previous: Int32) -> Int32 {
        let next = Int(previous) + 1
        if previous >= -1, next < clusters.count, isFirst[next], clusters[next].id.description == id {
            return Int32(next)
        }
        let key = ResourceIDKey(id)
        guard sorted else { return byKey[key] ?? -1 }
        // The first cluster whose id is not below the key.
        var low = 0
        var high = clusters.count
        while low < high {
            let middle = (low + high) / 2
            if clusters[middle].id.key < key { low = middle + 1 } else { high = middle }
        }
        return low < clusters.count && clusters[low].id.key == key ? Int32(low) : -1
    }
}

/// Rows of integers inserted many to a statement (`INSERT … VALUES (…), (…), …`), in the order they
/// were added: one statement run per batch rather than per row, which is most of SQLite's cost for
/// a short row.
struct BatchedInsert {
    private let database: Database
    private let head: String
    private let columns: Int
    private let batch: Int
    private let full: Statement
    private var values: [Int64] = []
    /// Rows inserted so far (a row that `OR IGNORE` skipped is not counted).
    private(set) var inserted = 0

    /// Rows of `columns` integers for `head` (`INSERT INTO t (a, b)`), `batch` rows to a statement.
    init(_ database: Database, _ head: String, columns: Int, batch: Int = 64) throws {
        self.database = database
        self.head = head
        self.columns = columns
        self.batch = batch
        full = try database.statement(Self.sql(head, columns: columns, rows: batch))
        values.reserveCapacity(columns * batch)
    }

    private static func sql(_ head: String, columns: Int, rows: Int) -> String {
        let one = "(" + repeatElement("?", count: columns).joined(separator: ", ") + ")"
        return head + " VALUES " + repeatElement(one, count: rows).joined(separator: ", ")
    }

    /// Adds one value of the current row: a row is `columns` calls; a full batch is inserted at once.
    mutating func add(_ value: Int64) throws {
        values.append(value)
        if values.count == columns * batch { try run(full) }
    }

    /// Inserts the rows added since the last batch.
    mutating func flush() throws {
        guard !values.isEmpty else { return }
        precondition(values.count % columns == 0, "a row of \(head) is incomplete")
        try run(database.statement(Self.sql(head, columns: columns, rows: values.count / columns)))
    }

    private mutating func run(_ statement: Statement) throws {
        values.withUnsafeBufferPointer { values in
            for i in values.indices { statement.bind(Int32(i + 1), values[i]) }
        }
        try statement.execute()
        inserted += database.changes
        values.removeAll(keepingCapacity: true)
    }
}

/// The rule a result is about, as the scan names it.
struct RuleName: Hashable, Sendable {
    var assignment: String
    var reference: String?
    var definition: String
}

/// A row's stored body as ``PreparedChunk`` numbers them: hashable, and compared in place.
protocol RowBody: Hashable, Sendable {
    /// Whether two bodies are equal (`==`), read where they are.
    static func same(_ a: borrowing Self, _ b: borrowing Self) -> Bool
}

/// Whether two arrays share their storage, hence are equal without comparing their elements (the
/// scan hands the same reasons and drift to many results).
func sharesStorage<T>(_ a: borrowing [T], _ b: borrowing [T]) -> Bool {
    a.count == b.count
        && a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress } }
}

/// What makes two results' stored bodies equal: exactly the fields ``Details/body(of:)-(PolicyResult)``
/// writes (a reason's location, candidate and outcome are not stored, so they do not make
/// bodies differ: otherwise nearly every row would be rendered and looked up on its own).
struct ResultBodyKey: RowBody {
    var effect: String
    var exemptionId: String?
    var error: String?
    var reasons: [PolicyReason]

    static func == (a: Self, b: Self) -> Bool { same(a, b) }

    static func same(_ a: borrowing Self, _ b: borrowing Self) -> Bool {
        guard a.effect == b.effect, a.exemptionId == b.exemptionId, a.error == b.error,
            a.reasons.count == b.reasons.count
        else { return false }
        if sharesStorage(a.reasons, b.reasons) { return true }
        for i in a.reasons.indices {
            let x = a.reasons[i]
            let y = b.reasons[i]
            guard x.expression == y.expression, x.path == y.path, x.operator == y.operator, x.message == y.message,
                x.actual == y.actual, x.target == y.target
            else { return false }
        }
        return true
    }

    /// Hashes the short fields only (the reasons' paths and operators, not their values): equal
    /// bodies still hash alike, and the few that collide are told apart by `==`.
    func hash(into hasher: inout Hasher) {
        hasher.combine(effect)
        hasher.combine(exemptionId)
        hasher.combine(error)
        hasher.combine(reasons.count)
        for reason in reasons {
            hasher.combine(reason.path)
            hasher.combine(reason.operator)
        }
    }
}

/// What makes two strict-view entries' stored bodies equal: exactly the fields
/// ``Details/body(of:)-(StrictResult)`` writes (not the status time, which differs per cluster).
struct StrictBodyKey: RowBody {
    var drift: [DriftEntry]
    var runtime: RuntimeAssessment?

    static func == (a: Self, b: Self) -> Bool { same(a, b) }

    static func same(_ a: borrowing Self, _ b: borrowing Self) -> Bool {
        guard sharesStorage(a.drift, b.drift) || a.drift == b.drift else { return false }
        switch (a.runtime, b.runtime) {
        case (nil, nil): return true
        case (let x?, let y?):
            return x.complianceState == y.complianceState && x.stale == y.stale && x.failing == y.failing
        default: return false
        }
    }

    /// Hashes the short fields only (the drifted paths, not their values): equal bodies still hash
    /// alike, and the few that collide are told apart by `==`.
    func hash(into hasher: inout Hasher) {
        hasher.combine(drift.count)
        for entry in drift { hasher.combine(entry.path) }
        hasher.combine(runtime == nil)
        if let runtime {
            hasher.combine(runtime.complianceState)
            hasher.combine(runtime.stale)
            hasher.combine(runtime.failing)
        }
    }
}

/// New cluster rows, inserted many to a statement with explicit ids (`firstRow`, `firstRow + 1`, …
/// in the order added): one statement run per batch instead of per cluster.
struct ClusterInserts {
    /// Rows to a statement (12 parameters each).
    static let batch = 32
    /// The id of the next row added.
    private(set) var nextRow: Int64
    private let runID: Int64
    /// The statement for a full batch.
    private let full: Statement
    /// Rows added and not yet inserted: indices into the current block of facts.
    private var pending: [Int] = []
    /// Rows added so far.
    private(set) var count = 0

    init(firstRow: Int64, runID: Int64, database: Database) throws {
        nextRow = firstRow
        self.runID = runID
        full = try database.statement(Self.sql(rows: Self.batch))
        pending.reserveCapacity(Self.batch)
    }

    private static func sql(rows: Int) -> String {
        let one = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        return """
            INSERT INTO clusters (id, arm_id, name, kind, provisioned, subscription_id, resource_group, location,
                tags, eligibility_reason, facts_digest, first_seen_run)
            VALUES \(repeatElement(one, count: rows).joined(separator: ", "))
            """
    }

    /// Adds cluster `i` of a block of facts, with the next row id; a full batch is inserted at once.
    ///
    /// Rows of one block at a time: ``flush(_:_:)`` the block before adding from the next.
    mutating func add(_ i: Int, of block: FactsBlock, _ database: Database) throws {
        pending.append(i)
        nextRow += 1
        count += 1
        if pending.count == Self.batch { try flush(block, database) }
    }

    /// Inserts the rows of `block` added since the last batch.
    mutating func flush(_ block: FactsBlock, _ database: Database) throws {
        guard !pending.isEmpty else { return }
        let statement = pending.count == Self.batch ? full : try database.statement(Self.sql(rows: pending.count))
        var row = nextRow - Int64(pending.count)
        try block.bytes.withUnsafeBufferPointer { buffer in
            // The texts are bound in place: the statement runs, and lets go of them, inside this scope.
            defer { statement.reset() }
            for k in pending.indices {
                let offset = Int32(k * 12)
                statement.bind(offset + 1, row)
                block.bind(pending[k], in: buffer, to: statement, at: offset + 1)
                statement.bind(offset + 12, runID)
                row += 1
            }
            try statement.execute()
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// The write of one run: the state of the database as loaded, then the changes.
struct RunWriter {
    let database: Database
    let scan: ScanResult
    let fleet: Fleet
    let assignmentNames: [String: String]
    var outcome = RecordOutcome(
        runID: 0, clustersAdded: 0, clustersUpdated: 0, clustersRemoved: 0, intervalsOpened: 0, intervalsClosed: 0,
        strictOpened: 0, strictClosed: 0, detailsAdded: 0)
    var runID: Int64 = 0
    /// Cluster rows by inventory index (0 for a repeated id: its first index has the row).
    var clusterRowByIndex: [Int64] = []
    /// The id of the next cluster row this run inserts (after ``assignClusters(previousRun:known:index:)``).
    var nextClusterRow: Int64 = 0
    /// Rows of clusters the results mention but the inventory lacks, by lowercased ARM id.
    var extraClusterRows: [String: Int64] = [:]
    /// Assignment rows by lowercased ARM id.
    var assignmentRows: [String: Int64] = [:]
    /// Reason bodies stored or found during this write, by digest.
    var details: [Int64: [(id: Int64, body: [UInt8])]] = [:]
    /// Rows of `resources` by their exact text (relative resource ids as read).
    var resourceRows: [String: Int64] = ["": 0]
    /// The class of each `resources` row: rows whose texts are equal ignoring case share one, so
    /// subjects match ignoring case while every text is kept as read.
    var resourceClasses: [Int64: Int] = [0: 0]
    /// Classes by lowercased text.
    var classesByText: [String: Int] = ["": 0]
    /// The run's counts, as ``ScanResult/Summary`` computes them (over distinct resources, worst state each).
    var summary = RunCounts()

    init(database: Database, scan: ScanResult, fleet: Fleet, assignmentNames: [String: String]) {
        self.database = database
        self.scan = scan
        self.fleet = fleet
        self.assignmentNames = assignmentNames
    }

    mutating func write(
        run: ScanRun, kind: RunKind, startedAt: String, finishedAt: String, evaluatedEpoch: Int64,
        inventoryDigest: String
    ) throws -> RecordOutcome {
        // The previous evaluation: a cluster missing now was last seen there (apply runs see no cluster).
        let previousRun = try database.scalarInt("SELECT coalesce(max(id), 0) FROM runs WHERE kind IN ('scan', 'plan')")
        try database.statement(
            """
            INSERT INTO runs (kind, status, started_at, finished_at, evaluated_at, evaluated_epoch, inventory,
                inventory_digest, policies, policies_digest, clusters, results, resources, compliant, non_compliant,
                exempt, unknown, error, error_results, drifted)
            VALUES (?, 'succeeded', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0)
            """
        ).run(
            .text(kind.rawValue), .text(startedAt), .text(finishedAt), .text(run.evaluatedAt), .integer(evaluatedEpoch),
            .text(run.inventory), .text(inventoryDigest), .text(run.policies), .text(run.policiesDigest),
            .integer(Int64(run.clusters)), .integer(Int64(scan.results.count)))
        runID = database.lastInsertRowID
        outcome.runID = runID
        // The rows (on the other cores) and the cluster facts (on every core) are computed in the
        // background while this thread reads what the database holds; then it writes the rows chunk by
        // chunk as they are ready, and the clusters last, block by block. The cluster index takes one
        // pass over the ids, here: the rows are prepared with it and the writer needs it first.
        let prepared = Preparation(scan, index: ClusterIndex(fleet.clusters))
        let facts = ClusterFactsTask(fleet.clusters)
        let known = try loadClusters()
        try loadAssignments()
        try loadResources()
        var rules = try loadRules()
        var classByRow = Array(repeating: -1, count: Int(resourceClasses.keys.max() ?? 0) + 1)
        for (row, cls) in resourceClasses where row >= 0 { classByRow[Int(row)] = cls }
        var openResults = try OpenIntervals(
            database.statement(
                """
                SELECT cluster, rule, resource, from_run, since_run, state, detail FROM intervals
                WHERE to_run IS NULL ORDER BY cluster
                """), classes: classByRow)
        var openStrict = try OpenIntervals(
            database.statement(
                """
                SELECT cluster, assignment, resource, from_run, from_run, 0, detail FROM strict_intervals
                WHERE to_run IS NULL ORDER BY cluster
                """), classes: classByRow)
        // Rows first, facts last: the results need only the clusters' row ids, so they are written
        // while the facts are still being computed.
        let actions = try assignClusters(previousRun: previousRun, known: known, index: prepared.clusters())
        try writeResults(prepared, rules: &rules, open: &openResults)
        try writeStrict(prepared, open: &openStrict)
        try writeClusters(actions, facts: facts)
        let c = summary
        try database.statement(
            """
            UPDATE runs SET resources = ?, compliant = ?, non_compliant = ?, exempt = ?, unknown = ?, error = ?,
                error_results = ?, drifted = ?, intervals_opened = ?, intervals_closed = ?
            WHERE id = ?
            """
        ).run(
            .integer(Int64(c.resources)), .integer(Int64(c.compliant)), .integer(Int64(c.nonCompliant)),
            .integer(Int64(c.exempt)), .integer(Int64(c.unknown)), .integer(Int64(c.error)),
            .integer(Int64(c.errorResults)), .integer(Int64(c.drifted)),
            .integer(Int64(outcome.intervalsOpened + outcome.strictOpened)),
            .integer(Int64(outcome.intervalsClosed + outcome.strictClosed)), .integer(runID))
        return outcome
    }

    // MARK: Clusters

    /// A stored cluster as the writer needs it.
    private struct StoredCluster {
        var row: Int64
        var digest: Int64
        var removed: Bool
    }

    /// The stored clusters, matched with the inventory's.
    private struct KnownClusters {
        /// Per inventory index: the stored cluster with its id, when found in order.
        var byIndex: [StoredCluster?] = []
        /// The stored clusters not matched in order, by id (ignoring case).
        var others: [ResourceIDKey: StoredCluster] = [:]
        /// The largest row id.
        var lastRow: Int64 = 0

        /// The stored cluster of inventory index `n` (the first with its id), taken out.
        mutating func take(_ n: Int, id: ResourceID) -> StoredCluster? {
            if let stored = byIndex[n] {
                byIndex[n] = nil
                return stored
            }
            return others.isEmpty ? nil : others.removeValue(forKey: id.key)
        }
    }

    /// Reads the stored clusters and matches them with the inventory's.
    ///
    /// Rows come in the order they were added, which is the inventory's order for all but the
    /// clusters added or removed since: each row is compared with the next inventory cluster (and
    /// the two after it) before it goes to a dictionary, so an unchanged fleet costs no hashing.
    private func loadClusters() throws -> KnownClusters {
        let clusters = fleet.clusters
        var known = KnownClusters()
        known.byIndex = Array(repeating: nil, count: clusters.count)
        var cursor = 0
        try database.statement("SELECT id, arm_id, facts_digest, removed_run IS NOT NULL FROM clusters").query { row in
            let stored = StoredCluster(row: row.int64(0), digest: row.int64(2), removed: row.int64(3) != 0)
            known.lastRow = max(known.lastRow, stored.row)
            let match: Int? = row.withText(1) { id in
                for n in cursor..<min(cursor + 3, clusters.count) where known.byIndex[n] == nil {
                    // A repeated id (the fleet keeps the first) never takes a row.
                    if Self.equalIgnoringCase(id, clusters[n].id.description)
                        && (n == 0 || clusters[n - 1].id.key != clusters[n].id.key)
                    {
                        return n
                    }
                }
                return nil
            }
            if let match {
                known.byIndex[match] = stored
                cursor = match + 1
            } else {
                known.others[ResourceIDKey(row.text(1))] = stored
            }
        }
        return known
    }

    /// Whether `bytes` and `text` are equal ignoring ASCII case.
    private static func equalIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { t in
            guard t.count == bytes.count else { return false }
            if t.isEmpty || memcmp(t.baseAddress!, bytes.baseAddress!, t.count) == 0 { return true }
            for k in 0..<t.count where ASCII.lower(t[k]) != ASCII.lower(bytes[k]) { return false }
            return true
        }
    }

    /// What this run does with an inventory cluster.
    private enum ClusterAction {
        /// A repeated id: the fleet keeps the first.
        case duplicate
        /// Stored before: updated when its facts changed or it was removed.
        case stored(StoredCluster)
        /// New: inserted with the next row id.
        case new
    }

    /// Gives every inventory cluster its row before any facts are known.
    ///
    /// Stored clusters keep theirs; new ones get the ids SQLite would give them one by one, in
    /// inventory order (the largest id plus one: nothing else inserts clusters before them). Stored
    /// clusters missing from the inventory are marked removed here, before the results are written:
    /// a result may still name one of them.
    private mutating func assignClusters(
        previousRun: Int64, known: KnownClusters, index: ClusterIndex
    ) throws -> [ClusterAction] {
        var known = known
        // An id matched in order at a repeated position (an unsorted inventory) belongs to its first one.
        for n in known.byIndex.indices where !index.isFirst[n] {
            if let stored = known.byIndex[n] {
                known.byIndex[n] = nil
                known.others[index.id(n).key] = stored
            }
        }
        var actions: [ClusterAction] = []
        actions.reserveCapacity(index.isFirst.count)
        clusterRowByIndex.reserveCapacity(index.isFirst.count)
        nextClusterRow = known.lastRow + 1
        for n in index.isFirst.indices {
            if !index.isFirst[n] {
                actions.append(.duplicate)
                clusterRowByIndex.append(0)
            } else if let stored = known.take(n, id: index.id(n)) {
                actions.append(.stored(stored))
                clusterRowByIndex.append(stored.row)
            } else {
                actions.append(.new)
                clusterRowByIndex.append(nextClusterRow)
                nextClusterRow += 1
            }
        }
        // Every known cluster not in this inventory and not yet removed is removed by this run.
        let remove = try database.statement(
            "UPDATE clusters SET removed_run = ?, last_seen_run = ? WHERE id = ? AND removed_run IS NULL")
        var missing = known.byIndex.compactMap { $0 } + known.others.values
        missing.sort { $0.row < $1.row }
        for entry in missing where !entry.removed {
            try remove.run(.integer(runID), .integer(previousRun), .integer(entry.row))
            outcome.clustersRemoved += database.changes
        }
        return actions
    }

    /// Writes the clusters' facts, block by block as they are ready: inserts the new clusters (with
    /// the rows ``assignClusters(previousRun:known:index:)`` gave them) and updates the stored ones
    /// whose facts changed or that come back.
    private mutating func writeClusters(_ actions: [ClusterAction], facts: ClusterFactsTask) throws {
        let update = try database.statement(
            """
            UPDATE clusters SET arm_id = ?, name = ?, kind = ?, provisioned = ?, subscription_id = ?,
                resource_group = ?, location = ?, tags = ?, eligibility_reason = ?, facts_digest = ?,
                removed_run = NULL, last_seen_run = NULL
            WHERE id = ?
            """)
        let firstNew = actions.indices.first { if case .new = actions[$0] { true } else { false } }
        var inserts = try ClusterInserts(
            firstRow: firstNew.map { clusterRowByIndex[$0] } ?? 0, runID: runID, database: database)
        for k in 0..<facts.blockCount {
            let block = facts.block(k)
            let first = k * ClusterFactsTask.blockSize
            for i in 0..<block.count {
                switch actions[first + i] {
                case .duplicate: continue
                case .new: try inserts.add(i, of: block, database)
                case .stored(let stored):
                    if stored.digest == block.digests[i] && !stored.removed { continue }
                    try block.bytes.withUnsafeBufferPointer { buffer in
                        defer { update.reset() }
                        block.bind(i, in: buffer, to: update, at: 0)
                        update.bind(11, stored.row)
                        try update.execute()
                    }
                    outcome.clustersUpdated += 1
                }
            }
            try inserts.flush(block, database)
        }
        outcome.clustersAdded += inserts.count
    }

    /// The row of the cluster a prepared row names: by its inventory index, or by its id when the
    /// inventory lacks it (a minimal row is written for it then).
    private mutating func clusterRow(index: Int32, id: String) throws -> Int64 {
        if index >= 0 { return clusterRowByIndex[Int(index)] }
        let key = ASCII.lowercased(id)
        if let row = extraClusterRows[key] { return row }
        // Known from an earlier run (and marked removed above: this run saw it after all), or new.
        var existing: Int64?
        try database.statement("SELECT id FROM clusters WHERE arm_id = ? ORDER BY id LIMIT 1").query(.text(id)) {
            existing = $0.int64(0)
        }
        if let existing {
            try database.statement("UPDATE clusters SET removed_run = NULL, last_seen_run = NULL WHERE id = ?").run(
                .integer(existing))
            extraClusterRows[key] = existing
            return existing
        }
        // After the rows given to the inventory's new clusters, which are inserted later.
        let name = id.split(separator: "/").last.map(String.init) ?? id
        let row = nextClusterRow
        nextClusterRow += 1
        try database.statement(
            """
            INSERT INTO clusters (id, arm_id, name, kind, provisioned, subscription_id, resource_group, location, tags,
                facts_digest, first_seen_run)
            VALUES (?, ?, ?, '', 0, '', '', '', '{}', 0, ?)
            """
        ).run(.integer(row), .text(id), .text(name), .integer(runID))
        extraClusterRows[key] = row
        return row
    }

    // MARK: Assignments and rules

    private mutating func loadAssignments() throws {
        var names: [Int64: String] = [:]
        try database.statement("SELECT id, arm_id, name FROM assignments").query { row in
            assignmentRows[ASCII.lowercased(row.text(1))] = row.int64(0)
            names[row.int64(0)] = row.text(2)
        }
        var ids: [String] = []
        var seen: Set<String> = []
        // Rows of one assignment come in runs: compare with the previous row's id (mostly the same
        // string storage, so no byte is read) before hashing.
        // Index by index: copying whole results would retain every member.
        var last: String?
        let results = scan.results
        for i in results.indices where results[i].assignmentId != last {
            last = results[i].assignmentId
            if seen.insert(results[i].assignmentId).inserted { ids.append(results[i].assignmentId) }
        }
        let entries = scan.strict
        for i in entries.indices where entries[i].assignmentId != last {
            last = entries[i].assignmentId
            if seen.insert(entries[i].assignmentId).inserted { ids.append(entries[i].assignmentId) }
        }
        for id in ids {
            let key = ASCII.lowercased(id)
            let name = assignmentNames[key] ?? (id.split(separator: "/").last.map(String.init) ?? id)
            if let row = assignmentRows[key] {
                if names[row] != name {
                    try database.statement("UPDATE assignments SET name = ?, arm_id = ? WHERE id = ?").run(
                        .text(name), .text(id), .integer(row))
                }
            } else {
                try database.statement("INSERT INTO assignments (arm_id, name) VALUES (?, ?)").run(
                    .text(id), .text(name))
                assignmentRows[key] = database.lastInsertRowID
            }
        }
    }

    private struct RuleKey: Hashable {
        var assignment: Int64
        var reference: String
        var definition: String
    }

    private func loadRules() throws -> [RuleKey: Int64] {
        var rules: [RuleKey: Int64] = [:]
        try database.statement("SELECT id, assignment, reference_id, policy_definition_id FROM rules").query { row in
            rules[
                RuleKey(
                    assignment: row.int64(1), reference: ASCII.lowercased(row.text(2)),
                    definition: ASCII.lowercased(row.text(3)))] = row.int64(0)
        }
        return rules
    }

    // MARK: Details

    /// The stored detail ids of a chunk's distinct bodies, remembered across chunks in `known`.
    private mutating func detailIDs<Group, Body>(
        _ chunk: PreparedChunk<Group, Body>, known: inout [Body: Int64]
    ) throws -> [Int64] {
        var ids: [Int64] = []
        ids.reserveCapacity(chunk.bodies.count)
        for (j, key) in chunk.bodies.enumerated() {
            if let id = known[key] {
                ids.append(id)
            } else {
                let id = try detail(chunk.rendered[j], digest: ContentDigest.of(chunk.rendered[j]).signed)
                known[key] = id
                ids.append(id)
            }
        }
        return ids
    }

    /// The id of a stored body equal to `body`, inserting it when there is none.
    private mutating func detail(_ body: [UInt8], digest: Int64) throws -> Int64 {
        if let candidates = details[digest], let match = candidates.first(where: { $0.body == body }) {
            return match.id
        }
        var found: Int64?
        let text = String(decoding: body, as: UTF8.self)
        if details[digest] == nil {
            // Not seen during this write: it may be stored by an earlier run.
            try database.statement("SELECT id, body FROM details WHERE digest = ?").query(.integer(digest)) { row in
                if found == nil && row.text(1) == text { found = row.int64(0) }
            }
        }
        let id: Int64
        if let found {
            id = found
        } else {
            try database.statement("INSERT INTO details (digest, body) VALUES (?, ?)").run(
                .integer(digest), .text(text))
            id = database.lastInsertRowID
            outcome.detailsAdded += 1
        }
        details[digest, default: []].append((id, body))
        return id
    }

    // MARK: Resources

    private mutating func loadResources() throws {
        try database.statement("SELECT id, suffix FROM resources").query { row in
            let text = row.text(1)
            resourceRows[text] = row.int64(0)
            resourceClasses[row.int64(0)] = resourceClass(text)
        }
    }

    /// The class of a relative resource id (its text ignoring case).
    private mutating func resourceClass(_ text: String) -> Int {
        let key = ASCII.lowercased(text)
        if let known = classesByText[key] { return known }
        let next = classesByText.count
        classesByText[key] = next
        return next
    }

    /// The evaluated resource's id relative to its cluster (`""` for the cluster itself), as a slice of
    /// `resourceId` (the whole id when it is not under the cluster).
    static func suffixSlice(_ resourceId: String, of clusterId: String) -> Substring {
        var resourceId = resourceId
        var clusterId = clusterId
        let length: Int? = resourceId.withUTF8 { r in
            clusterId.withUTF8 { c in
                guard r.count >= c.count else { return nil }
                // Mostly the same bytes (the scan copies the cluster's id): one memcmp, and the
                // byte-by-byte comparison ignoring case only when they differ.
                if c.count > 0, memcmp(r.baseAddress!, c.baseAddress!, c.count) != 0 {
                    for i in 0..<c.count where ASCII.lower(r[i]) != ASCII.lower(c[i]) { return nil }
                }
                if r.count == c.count { return 0 }
                return r[c.count] == 0x2F ? r.count - c.count : nil
            }
        }
        switch length {
        case nil: return resourceId[...]
        case 0: return ""
        case let n?: return Substring(resourceId.utf8.suffix(n))
        }
    }

    // MARK: Results

    private struct ResourceKey: Hashable {
        var cluster: Int64
        var resource: Int
    }

    /// An open interval as loaded: everything the comparison needs, as integers.
    private struct OpenInterval {
        /// The rule (state intervals) or assignment (strict view).
        var key: Int64
        var resource: Int64
        var resourceClass: Int
        var fromRun: Int64
        var sinceRun: Int64
        var state: Int64
        var detail: Int64
        /// Whether this run evaluated the subject.
        var seen = false
    }

    /// Open intervals grouped by cluster (a query ordered by cluster), so a cluster's few subjects
    /// are found by a short linear search.
    private struct OpenIntervals {
        var all: [OpenInterval] = []
        /// The clusters with an open interval, in increasing order, and the range of each in `all`.
        var clusters: [Int64] = []
        var ranges: [Range<Int>] = []
        /// Per cluster row: its range in `all` (empty for a cluster with none).
        private var rangeByRow: [Range<Int>] = []

        /// Reads `cluster, key, resource, from_run, since_run, state, detail` rows ordered by cluster;
        /// `classes` holds the class of each `resources` row by its id (-1: none).
        init(_ statement: Statement, classes: [Int]) throws {
            var current: Int64 = -1
            var start = 0
            try statement.query { row in
                let cluster = row.int64(0)
                if cluster != current {
                    if current >= 0 {
                        clusters.append(current)
                        ranges.append(start..<all.count)
                    }
                    current = cluster
                    start = all.count
                }
                let resource = row.int64(2)
                all.append(
                    OpenInterval(
                        key: row.int64(1), resource: resource,
                        resourceClass: resource >= 0 && resource < classes.count ? classes[Int(resource)] : -1,
                        fromRun: row.int64(3), sinceRun: row.int64(4), state: row.int64(5), detail: row.int64(6)))
            }
            if current >= 0 {
                clusters.append(current)
                ranges.append(start..<all.count)
            }
            // Cluster rows are numbered from 1 without gaps (rows are never deleted), so an array
            // indexed by row is small; odd ids fall back to a search.
            if let last = clusters.last, last >= 0, last <= Int64(4 * clusters.count + 1024) {
                rangeByRow = Array(repeating: 0..<0, count: Int(last) + 1)
                for (k, cluster) in clusters.enumerated() where cluster >= 0 { rangeByRow[Int(cluster)] = ranges[k] }
            }
        }

        /// The range in `all` of a cluster's open intervals.
        func range(of cluster: Int64) -> Range<Int> {
            if cluster >= 0 && cluster < Int64(rangeByRow.count) { return rangeByRow[Int(cluster)] }
            if !rangeByRow.isEmpty { return 0..<0 }
            var low = 0
            var high = clusters.count
            while low < high {
                let middle = (low + high) / 2
                if clusters[middle] < cluster { low = middle + 1 } else { high = middle }
            }
            return low < clusters.count && clusters[low] == cluster ? ranges[low] : 0..<0
        }

        /// Marks the open interval of a subject seen and returns its index (nil: none, or already seen).
        mutating func take(_ range: Range<Int>, key: Int64, resourceClass: Int) -> Int? {
            for i in range where all[i].key == key && all[i].resourceClass == resourceClass && !all[i].seen {
                all[i].seen = true
                return i
            }
            return nil
        }
    }

    /// The worst state of every evaluated resource (cluster × resource class), as ``ScanResult/Summary``
    /// counts them: a slot per cluster row for the first few classes, a dictionary beyond.
    private struct WorstStates {
        /// Classes with a slot of their own per cluster.
        static let slots = 4
        /// Per cluster row × slot: the worst state's code plus one (0: not evaluated).
        private var codes: [UInt8] = []
        private var others: [ResourceKey: ComplianceState] = [:]

        mutating func add(cluster: Int64, resourceClass: Int, _ state: ComplianceState) {
            guard cluster >= 0, resourceClass >= 0, resourceClass < Self.slots, cluster < Int64(Int32.max) else {
                let key = ResourceKey(cluster: cluster, resource: resourceClass)
                if let current = others[key], current <= state { return }
                others[key] = state
                return
            }
            let slot = Int(cluster) * Self.slots + resourceClass
            if slot >= codes.count {
                codes.append(contentsOf: repeatElement(0, count: max(slot + 1 - codes.count, codes.count)))
            }
            let current = codes[slot]
            if current == 0 || Schema.state(Int64(current - 1)) > state { codes[slot] = UInt8(Schema.code(state)) + 1 }
        }

        /// Adds the count of each worst state to `summary`.
        func count(into summary: inout RunCounts) {
            func tally(_ state: ComplianceState) {
                summary.resources += 1
                switch state {
                case .compliant: summary.compliant += 1
                case .nonCompliant: summary.nonCompliant += 1
                case .exempt: summary.exempt += 1
                case .unknown: summary.unknown += 1
                case .error: summary.error += 1
                }
            }
            for code in codes where code != 0 { tally(Schema.state(Int64(code - 1))) }
            for state in others.values { tally(state) }
        }
    }

    /// The rule row of a rule name, inserting it when new.
    private mutating func ruleRow(_ name: RuleName, rules: inout [RuleKey: Int64]) throws -> Int64 {
        let reference = name.reference ?? ""
        let assignment = assignmentRows[ASCII.lowercased(name.assignment)] ?? 0
        let key = RuleKey(
            assignment: assignment, reference: ASCII.lowercased(reference),
            definition: ASCII.lowercased(name.definition))
        if let existing = rules[key] { return existing }
        try database.statement(
            "INSERT INTO rules (assignment, reference_id, policy_definition_id, direct) VALUES (?, ?, ?, ?)"
        ).run(.integer(assignment), .text(reference), .text(name.definition), .integer(name.reference == nil ? 1 : 0))
        let row = database.lastInsertRowID
        rules[key] = row
        return row
    }

    /// The `resources` row and class of each suffix of a chunk (index -1: the cluster itself).
    private mutating func resourceRows(_ suffixes: [String]) throws -> [(row: Int64, class: Int)] {
        try suffixes.map { suffix in
            if let row = resourceRows[suffix] { return (row, resourceClasses[row] ?? 0) }
            try database.statement("INSERT INTO resources (suffix) VALUES (?)").run(.text(suffix))
            let row = database.lastInsertRowID
            resourceRows[suffix] = row
            let cls = resourceClass(suffix)
            resourceClasses[row] = cls
            return (row, cls)
        }
    }

    private mutating func writeResults(
        _ prepared: Preparation, rules: inout [RuleKey: Int64], open: inout OpenIntervals
    ) throws {
        let results = scan.results
        let chunks = prepared.results
        // Rows are inserted in batches while closes run at once: a close only ever ends an interval of
        // an earlier run, never one this run inserts.
        var insert = try BatchedInsert(
            database, "INSERT OR IGNORE INTO intervals (cluster, rule, resource, from_run, since_run, state, detail)",
            columns: 7)
        let close = try database.statement(
            "UPDATE intervals SET to_run = ? WHERE cluster = ? AND rule = ? AND resource = ? AND from_run = ?")
        var lastCluster: (index: Int32, row: Int64)?
        var range = 0..<0
        var bodies: [ResultBodyKey: Int64] = [:]
        var worst = WorstStates()
        for k in 0..<chunks.count {
            let chunk = chunks.chunk(k)
            let ruleRows = try chunk.groups.map { try ruleRow($0, rules: &rules) }
            let resources = try resourceRows(chunk.suffixes)
            let details = try detailIDs(chunk, known: &bodies)
            for i in chunk.range {
                let k = i - chunk.range.lowerBound
                let clusterIndex = chunk.rowCluster[k]
                let clusterRow: Int64
                if let last = lastCluster, last.index == clusterIndex, clusterIndex >= 0 {
                    clusterRow = last.row
                } else {
                    clusterRow = try self.clusterRow(index: clusterIndex, id: results[i].clusterId)
                    lastCluster = (clusterIndex, clusterRow)
                    range = open.range(of: clusterRow)
                }
                let rule = ruleRows[Int(chunk.rowGroup[k])]
                let s = Int(chunk.rowSuffix[k])
                let resource = s < 0 ? (row: Int64(0), class: 0) : resources[s]
                let detail = details[Int(chunk.rowBody[k])]
                let resultState = results[i].state
                worst.add(cluster: clusterRow, resourceClass: resource.class, resultState)
                if resultState == .error { summary.errorResults += 1 }
                let state = Schema.code(resultState)
                var since = runID
                if let j = open.take(range, key: rule, resourceClass: resource.class) {
                    let current = open.all[j]
                    if current.state == state && current.detail == detail { continue }
                    try close.run(
                        .integer(runID), .integer(clusterRow), .integer(rule), .integer(current.resource),
                        .integer(current.fromRun))
                    outcome.intervalsClosed += 1
                    if current.state == state { since = current.sinceRun }
                }
                try insert.add(clusterRow)
                try insert.add(rule)
                try insert.add(resource.row)
                try insert.add(runID)
                try insert.add(since)
                try insert.add(state)
                try insert.add(detail)
            }
        }
        try insert.flush()
        outcome.intervalsOpened += insert.inserted
        worst.count(into: &summary)
        // Subjects this run did not evaluate: their intervals end here.
        for (cluster, range) in zip(open.clusters, open.ranges) {
            for i in range where !open.all[i].seen {
                let interval = open.all[i]
                try close.run(
                    .integer(runID), .integer(cluster), .integer(interval.key), .integer(interval.resource),
                    .integer(interval.fromRun))
                outcome.intervalsClosed += 1
            }
        }
    }

    // MARK: Strict view

    private mutating func writeStrict(_ prepared: Preparation, open: inout OpenIntervals) throws {
        let entries = scan.strict
        let chunks = prepared.strict
        var insert = try BatchedInsert(
            database, "INSERT OR IGNORE INTO strict_intervals (cluster, assignment, resource, from_run, detail)",
            columns: 5)
        let close = try database.statement(
            """
            UPDATE strict_intervals SET to_run = ?
            WHERE cluster = ? AND assignment = ? AND resource = ? AND from_run = ?
            """)
        var bodies: [StrictBodyKey: Int64] = [:]
        var lastCluster: (index: Int32, row: Int64)?
        var range = 0..<0
        for k in 0..<chunks.count {
            let chunk = chunks.chunk(k)
            let assignments = chunk.groups.map { assignmentRows[ASCII.lowercased($0)] ?? 0 }
            let resources = try resourceRows(chunk.suffixes)
            let details = try detailIDs(chunk, known: &bodies)
            for i in chunk.range {
                let k = i - chunk.range.lowerBound
                let clusterIndex = chunk.rowCluster[k]
                let clusterRow: Int64
                if let last = lastCluster, last.index == clusterIndex, clusterIndex >= 0 {
                    clusterRow = last.row
                } else {
                    clusterRow = try self.clusterRow(index: clusterIndex, id: entries[i].clusterId)
                    lastCluster = (clusterIndex, clusterRow)
                    range = open.range(of: clusterRow)
                }
                if !entries[i].drift.isEmpty { summary.drifted += 1 }
                let assignment = assignments[Int(chunk.rowGroup[k])]
                let s = Int(chunk.rowSuffix[k])
                let resource = s < 0 ? (row: Int64(0), class: 0) : resources[s]
                let detail = details[Int(chunk.rowBody[k])]
                if let j = open.take(range, key: assignment, resourceClass: resource.class) {
                    let current = open.all[j]
                    if current.detail == detail { continue }
                    try close.run(
                        .integer(runID), .integer(clusterRow), .integer(assignment), .integer(current.resource),
                        .integer(current.fromRun))
                    outcome.strictClosed += 1
                }
                try insert.add(clusterRow)
                try insert.add(assignment)
                try insert.add(resource.row)
                try insert.add(runID)
                try insert.add(detail)
            }
        }
        try insert.flush()
        outcome.strictOpened += insert.inserted
        for (cluster, range) in zip(open.clusters, open.ranges) {
            for i in range where !open.all[i].seen {
                let interval = open.all[i]
                try close.run(
                    .integer(runID), .integer(cluster), .integer(interval.key), .integer(interval.resource),
                    .integer(interval.fromRun))
                outcome.strictClosed += 1
            }
        }
    }
}
