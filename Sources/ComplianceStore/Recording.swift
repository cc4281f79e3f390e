import Dispatch
import FleetCore
import PolicyEngine

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
            try database.transaction {
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

/// The facts of a cluster as stored.
struct ClusterFacts: Sendable {
    var id: String
    var name: String
    var kind: String
    var provisioned: Bool
    var subscriptionId: String
    var resourceGroup: String
    var location: String
    var tags: String
    var eligibilityReason: String?

    init(_ cluster: Cluster) {
        id = cluster.id.description
        name = cluster.name
        kind = cluster.kind.rawValue
        provisioned = cluster.provisioned
        subscriptionId = cluster.subscriptionId
        resourceGroup = cluster.resourceGroup
        location = cluster.location
        var w = JSONWriter()
        w.beginObject()
        let tags = cluster.tags
        for key in tags.keys.sorted() { w.member(key, tags[key]) }
        w.endObject()
        self.tags = w.text
        eligibilityReason = Eligibility.evaluate(cluster).primary?.code
    }

    var digest: Int64 {
        var d = ContentDigest()
        for part in [id, name, kind, provisioned ? "1" : "0", subscriptionId, resourceGroup, location, tags] {
            d.add(part.utf8)
            d.add(CollectionOfOne(0))
        }
        d.add((eligibilityReason ?? "\u{1}").utf8)
        return d.signed
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
    /// Cluster rows by lowercased ARM id.
    var clusterRows: [String: Int64] = [:]
    /// Assignment rows by lowercased ARM id.
    var assignmentRows: [String: Int64] = [:]
    /// Reason bodies stored or found during this write, by digest.
    var details: [Int64: [(id: Int64, body: [UInt8])]] = [:]
    /// Relative resource ids (lowercased) by number, so subject keys are integers.
    var resourceNumbers: [String: Int] = [:]
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
        let previousRun = try database.scalarInt("SELECT coalesce(max(id), 0) FROM runs")
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
        try writeClusters(previousRun: previousRun)
        try loadAssignments()
        try writeResults()
        try writeStrict()
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

    private mutating func writeClusters(previousRun: Int64) throws {
        var known: [String: (row: Int64, digest: Int64, removed: Bool)] = [:]
        try database.statement("SELECT id, arm_id, facts_digest, removed_run IS NOT NULL FROM clusters").query { row in
            known[ASCII.lowercased(row.text(1))] = (row.int64(0), row.int64(2), row.int64(3) != 0)
        }
        let insert = try database.statement(
            """
            INSERT INTO clusters (arm_id, name, kind, provisioned, subscription_id, resource_group, location, tags,
                eligibility_reason, facts_digest, first_seen_run)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let update = try database.statement(
            """
            UPDATE clusters SET arm_id = ?, name = ?, kind = ?, provisioned = ?, subscription_id = ?,
                resource_group = ?, location = ?, tags = ?, eligibility_reason = ?, facts_digest = ?,
                removed_run = NULL, last_seen_run = NULL
            WHERE id = ?
            """)
        clusterRows.reserveCapacity(fleet.clusters.count)
        let facts = Self.facts(of: fleet.clusters)
        for (index, cluster) in fleet.clusters.enumerated() {
            let key = ASCII.lowercased(cluster.id.description)
            if clusterRows[key] != nil { continue }  // a duplicate id: the fleet keeps the first
            let (facts, digest) = facts[index]
            if let existing = known[key] {
                clusterRows[key] = existing.row
                known[key] = nil
                if existing.digest == digest && !existing.removed { continue }
                bind(facts, digest: digest, to: update)
                update.bind(11, existing.row)
                try update.execute()
                outcome.clustersUpdated += 1
            } else {
                bind(facts, digest: digest, to: insert)
                insert.bind(11, runID)
                try insert.execute()
                clusterRows[key] = database.lastInsertRowID
                outcome.clustersAdded += 1
            }
        }
        // Every known cluster not in this inventory and not yet removed is removed by this run.
        let remove = try database.statement(
            "UPDATE clusters SET removed_run = ?, last_seen_run = ? WHERE id = ? AND removed_run IS NULL")
        for (_, entry) in known where !entry.removed {
            try remove.run(.integer(runID), .integer(previousRun), .integer(entry.row))
            outcome.clustersRemoved += database.changes
        }
    }

    /// The facts and their digest of every cluster, computed on every core (eligibility is the
    /// expensive part, and pure).
    static func facts(of clusters: [Cluster]) -> [(ClusterFacts, Int64)] {
        let workers = min(JSONRecords.availableCores, max(1, clusters.count / 256))
        let slots = ResultSlots<[(ClusterFacts, Int64)]>(count: workers)
        DispatchQueue.concurrentPerform(iterations: workers) { k in
            let range = (clusters.count * k / workers)..<(clusters.count * (k + 1) / workers)
            slots.set(
                k,
                range.map { i in
                    let facts = ClusterFacts(clusters[i])
                    return (facts, facts.digest)
                })
        }
        return (0..<workers).flatMap { slots.get($0) ?? [] }
    }

    private func bind(_ facts: ClusterFacts, digest: Int64, to statement: Statement) {
        statement.bind(1, facts.id)
        statement.bind(2, facts.name)
        statement.bind(3, facts.kind)
        statement.bind(4, facts.provisioned)
        statement.bind(5, facts.subscriptionId)
        statement.bind(6, facts.resourceGroup)
        statement.bind(7, facts.location)
        statement.bind(8, facts.tags)
        statement.bind(9, facts.eligibilityReason)
        statement.bind(10, digest)
    }

    /// The row of a cluster the results mention; one the inventory lacks gets a minimal row.
    private mutating func clusterRow(_ id: String) throws -> Int64 {
        let key = ASCII.lowercased(id)
        if let row = clusterRows[key] { return row }
        let name = id.split(separator: "/").last.map(String.init) ?? id
        try database.statement(
            """
            INSERT INTO clusters (arm_id, name, kind, provisioned, subscription_id, resource_group, location, tags,
                facts_digest, first_seen_run)
            VALUES (?, ?, '', 0, '', '', '', '{}', 0, ?)
            ON CONFLICT (arm_id) DO UPDATE SET removed_run = NULL, last_seen_run = NULL
            """
        ).run(.text(id), .text(name), .integer(runID))
        let row = try database.statement("SELECT id FROM clusters WHERE arm_id = ?")
        try row.query(.text(id)) { clusterRows[key] = $0.int64(0) }
        return clusterRows[key] ?? 0
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
        for result in scan.results where seen.insert(result.assignmentId).inserted { ids.append(result.assignmentId) }
        for entry in scan.strict where seen.insert(entry.assignmentId).inserted { ids.append(entry.assignmentId) }
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

    // MARK: Results

    private struct SubjectKey: Hashable {
        var cluster: Int64
        var rule: Int64
        var resource: Int
    }

    private struct ResourceKey: Hashable {
        var cluster: Int64
        var resource: Int
    }

    private struct ResultBodyKey: Hashable {
        var effect: String
        var exemptionId: String?
        var error: String?
        var reasons: [PolicyReason]
    }

    private struct StrictBodyKey: Hashable {
        var drift: [DriftEntry]
        var runtime: RuntimeAssessment?
    }

    private struct OpenInterval {
        var resource: String
        var fromRun: Int64
        var sinceRun: Int64
        var state: String
        var digest: Int64
    }

    /// A small number per distinct relative resource id, compared ignoring case (0 is the cluster itself).
    private mutating func resourceNumber(_ relative: String) -> Int {
        if relative.isEmpty { return 0 }
        let key = ASCII.lowercased(relative)
        if let number = resourceNumbers[key] { return number }
        let number = resourceNumbers.count + 1
        resourceNumbers[key] = number
        return number
    }

    /// A resource id relative to its cluster, and its number.
    private mutating func relative(_ resourceId: String, to clusterId: String) -> (String, Int) {
        // Cluster-level results carry the cluster's own id string: no work at all.
        if resourceId == clusterId { return ("", 0) }
        let relative = Self.suffix(resourceId, of: clusterId)
        return (relative, resourceNumber(relative))
    }

    /// The evaluated resource's id relative to its cluster (`""` for the cluster itself).
    static func suffix(_ resourceId: String, of clusterId: String) -> String {
        var resourceId = resourceId
        var clusterId = clusterId
        let length: Int? = resourceId.withUTF8 { r in
            clusterId.withUTF8 { c in
                guard r.count >= c.count else { return nil }
                for i in 0..<c.count where ASCII.lower(r[i]) != ASCII.lower(c[i]) { return nil }
                if r.count == c.count { return 0 }
                return r[c.count] == 0x2F ? r.count - c.count : nil
            }
        }
        switch length {
        case nil: return resourceId
        case 0: return ""
        case let n?: return String(resourceId.utf8.suffix(n))!
        }
    }

    private mutating func writeResults() throws {
        var rules = try loadRules()
        var open: [SubjectKey: OpenInterval] = [:]
        try database.statement(
            "SELECT cluster, rule, resource, from_run, since_run, state, digest FROM intervals WHERE to_run IS NULL"
        ).query { row in
            let resource = row.text(2)
            open[SubjectKey(cluster: row.int64(0), rule: row.int64(1), resource: resourceNumber(resource))] =
                OpenInterval(
                    resource: resource, fromRun: row.int64(3), sinceRun: row.int64(4), state: row.text(5),
                    digest: row.int64(6))
        }
        let insert = try database.statement(
            """
            INSERT OR IGNORE INTO intervals (cluster, rule, resource, from_run, since_run, state, detail, digest)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let close = try database.statement(
            "UPDATE intervals SET to_run = ? WHERE cluster = ? AND rule = ? AND resource = ? AND from_run = ?")
        let insertRule = try database.statement(
            "INSERT INTO rules (assignment, reference_id, policy_definition_id, direct) VALUES (?, ?, ?, ?)")
        var lastCluster = ("", Int64(0))
        var recentRules: [(assignment: String, reference: String?, definition: String, id: Int64)] = []
        var bodies: [ResultBodyKey: (body: [UInt8], digest: Int64, detail: Int64?)] = [:]
        var worst: [ResourceKey: ComplianceState] = [:]
        worst.reserveCapacity(scan.results.count)
        for result in scan.results {
            let clusterRow: Int64
            if result.clusterId == lastCluster.0 {
                clusterRow = lastCluster.1
            } else {
                clusterRow = try self.clusterRow(result.clusterId)
                lastCluster = (result.clusterId, clusterRow)
            }
            var rule: Int64 = 0
            for recent in recentRules
            where recent.assignment == result.assignmentId && recent.reference == result.policyDefinitionReferenceId
                && recent.definition == result.policyDefinitionId
            {
                rule = recent.id
                break
            }
            if rule == 0 {
                let reference = result.policyDefinitionReferenceId ?? ""
                let assignment = assignmentRows[ASCII.lowercased(result.assignmentId)] ?? 0
                let key = RuleKey(
                    assignment: assignment, reference: ASCII.lowercased(reference),
                    definition: ASCII.lowercased(result.policyDefinitionId))
                if let existing = rules[key] {
                    rule = existing
                } else {
                    try insertRule.run(
                        .integer(assignment), .text(reference), .text(result.policyDefinitionId),
                        .integer(result.policyDefinitionReferenceId == nil ? 1 : 0))
                    rule = database.lastInsertRowID
                    rules[key] = rule
                }
                if recentRules.count < 64 {
                    recentRules.append(
                        (result.assignmentId, result.policyDefinitionReferenceId, result.policyDefinitionId, rule))
                }
            }
            let (resource, resourceKey) = relative(result.resourceId, to: result.clusterId)
            let counted = ResourceKey(cluster: clusterRow, resource: resourceKey)
            if let current = worst[counted] {
                if result.state < current { worst[counted] = result.state }
            } else {
                worst[counted] = result.state
            }
            if result.state == .error { summary.errorResults += 1 }
            // Identical results (same effect and reasons) share one rendered body.
            let bodyKey = ResultBodyKey(
                effect: result.effect, exemptionId: result.exemptionId, error: result.error, reasons: result.reasons)
            var cached = bodies[bodyKey]
            if cached == nil {
                let body = Details.body(of: result)
                cached = (body, ContentDigest.of(body).signed, nil)
                bodies[bodyKey] = cached
            }
            let digest = cached!.digest
            let state = result.state.rawValue
            let key = SubjectKey(cluster: clusterRow, rule: rule, resource: resourceKey)
            var since = runID
            if let current = open.removeValue(forKey: key) {
                if current.state == state && current.digest == digest { continue }
                try close.run(
                    .integer(runID), .integer(clusterRow), .integer(rule), .text(current.resource),
                    .integer(current.fromRun))
                outcome.intervalsClosed += 1
                if current.state == state { since = current.sinceRun }
            }
            let detail: Int64
            if let known = cached!.detail {
                detail = known
            } else {
                detail = try self.detail(cached!.body, digest: digest)
                bodies[bodyKey]!.detail = detail
            }
            insert.bind(1, clusterRow)
            insert.bind(2, rule)
            insert.bind(3, resource)
            insert.bind(4, runID)
            insert.bind(5, since)
            insert.bind(6, state)
            insert.bind(7, detail)
            insert.bind(8, digest)
            try insert.execute()
            outcome.intervalsOpened += database.changes
        }
        summary.resources = worst.count
        for state in worst.values {
            switch state {
            case .compliant: summary.compliant += 1
            case .nonCompliant: summary.nonCompliant += 1
            case .exempt: summary.exempt += 1
            case .unknown: summary.unknown += 1
            case .error: summary.error += 1
            }
        }
        // Subjects this run did not evaluate: their intervals end here.
        for (key, interval) in open {
            try close.run(
                .integer(runID), .integer(key.cluster), .integer(key.rule), .text(interval.resource),
                .integer(interval.fromRun))
            outcome.intervalsClosed += 1
        }
    }

    // MARK: Strict view

    private struct StrictKey: Hashable {
        var cluster: Int64
        var assignment: Int64
        var resource: Int
    }

    private mutating func writeStrict() throws {
        var open: [StrictKey: (resource: String, fromRun: Int64, digest: Int64)] = [:]
        try database.statement(
            "SELECT cluster, assignment, resource, from_run, digest FROM strict_intervals WHERE to_run IS NULL"
        ).query { row in
            let resource = row.text(2)
            open[StrictKey(cluster: row.int64(0), assignment: row.int64(1), resource: resourceNumber(resource))] =
                (resource, row.int64(3), row.int64(4))
        }
        let insert = try database.statement(
            """
            INSERT OR IGNORE INTO strict_intervals (cluster, assignment, resource, from_run, detail, digest)
            VALUES (?, ?, ?, ?, ?, ?)
            """)
        let close = try database.statement(
            """
            UPDATE strict_intervals SET to_run = ?
            WHERE cluster = ? AND assignment = ? AND resource = ? AND from_run = ?
            """)
        var bodies: [StrictBodyKey: (body: [UInt8], digest: Int64, detail: Int64?)] = [:]
        var lastCluster = ("", Int64(0))
        for entry in scan.strict {
            let clusterRow: Int64
            if entry.clusterId == lastCluster.0 {
                clusterRow = lastCluster.1
            } else {
                clusterRow = try self.clusterRow(entry.clusterId)
                lastCluster = (entry.clusterId, clusterRow)
            }
            if !entry.drift.isEmpty { summary.drifted += 1 }
            let assignment = assignmentRows[ASCII.lowercased(entry.assignmentId)] ?? 0
            let (resource, resourceKey) = relative(entry.resourceId, to: entry.clusterId)
            let bodyKey = StrictBodyKey(drift: entry.drift, runtime: entry.runtime)
            var cached = bodies[bodyKey]
            if cached == nil {
                let body = Details.body(of: entry)
                cached = (body, ContentDigest.of(body).signed, nil)
                bodies[bodyKey] = cached
            }
            let digest = cached!.digest
            let key = StrictKey(cluster: clusterRow, assignment: assignment, resource: resourceKey)
            if let current = open.removeValue(forKey: key) {
                if current.digest == digest { continue }
                try close.run(
                    .integer(runID), .integer(clusterRow), .integer(assignment), .text(current.resource),
                    .integer(current.fromRun))
                outcome.strictClosed += 1
            }
            let detail: Int64
            if let known = cached!.detail {
                detail = known
            } else {
                detail = try self.detail(cached!.body, digest: digest)
                bodies[bodyKey]!.detail = detail
            }
            insert.bind(1, clusterRow)
            insert.bind(2, assignment)
            insert.bind(3, resource)
            insert.bind(4, runID)
            insert.bind(5, detail)
            insert.bind(6, digest)
            try insert.execute()
            outcome.strictOpened += database.changes
        }
        for (key, interval) in open {
            try close.run(
                .integer(runID), .integer(key.cluster), .integer(key.assignment), .text(interval.resource),
                .integer(interval.fromRun))
            outcome.strictClosed += 1
        }
    }
}
