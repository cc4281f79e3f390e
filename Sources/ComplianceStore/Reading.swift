import FleetCore
import PolicyEngine
import Reports

/// How far back a report looks for its trend and intervals.
public enum ReportWindow: Sendable, Hashable {
    /// Every run the database holds.
    case all
    /// Runs evaluated within this span before the report's run (`--since 30d`).
    case last(StoreDuration)
    /// Runs evaluated at or after this time (ISO 8601).
    case from(String)
}

/// One run as stored.
public struct StoredRun: Sendable, Hashable {
    /// The run id.
    public var id: Int64
    /// `scan`, `plan`, `apply` or `resume`.
    public var kind: String
    /// A scan or plan: `running`, `succeeded`, `failed` or `interrupted`; an apply or resume: an
    /// ``ApplyRunStatus`` (`running`, `succeeded`, `partial`, `halted`, `interrupted`, `failed`).
    public var status: String
    /// When it started (ISO 8601 UTC).
    public var startedAt: String
    /// When it finished (nil while running).
    public var finishedAt: String?
    /// The evaluation time.
    public var evaluatedAt: String
    /// The inventory path as given.
    public var inventory: String
    /// The inventory digest.
    public var inventoryDigest: String
    /// The policies directory as given.
    public var policies: String
    /// The policies digest.
    public var policiesDigest: String
    /// Clusters in the inventory.
    public var clusters: Int
    /// Result rows of the scan.
    public var results: Int
    /// The trend point of the run (counts over distinct resources, worst state each).
    public var point: ReportRunPoint
    /// Intervals the run opened (state and strict view).
    public var intervalsOpened: Int
    /// Intervals the run closed.
    public var intervalsClosed: Int
    /// For a resume run, the run it finishes (the previous run of its apply chain).
    public var resumes: Int64? = nil
    /// For an apply or resume run, its cluster counts as finished (zero while running).
    public var applied = ApplyCounts(succeeded: 0, failed: 0, deferred: 0)
}

/// One period of one subject in a cluster's timeline.
public struct TimelineEntry: Sendable, Hashable {
    /// The evaluated resource.
    public var resourceId: String
    /// The assignment id.
    public var assignmentId: String
    /// The assignment's display name.
    public var assignmentName: String
    /// The policy definition id.
    public var policyDefinitionId: String
    /// The initiative reference id (nil for a definition assigned directly).
    public var policyDefinitionReferenceId: String?
    /// The state held.
    public var state: ComplianceState
    /// The run that opened the period.
    public var fromRun: Int64
    /// Its evaluation time.
    public var from: String
    /// The run that ended it (nil while open).
    public var toRun: Int64?
    /// Its evaluation time.
    public var to: String?
    /// The effect.
    public var effect: String
    /// The reasons during the period.
    public var reasons: [ReportReason]
    /// The exemption behind an Exempt state.
    public var exemptionId: String?
    /// The error message of an Error state.
    public var error: String?
}

/// One period of a desired resource in the strict view.
public struct StrictTimelineEntry: Sendable, Hashable {
    /// The run that opened the period.
    public var fromRun: Int64
    /// Its evaluation time.
    public var from: String
    /// The run that ended it (nil while open).
    public var toRun: Int64?
    /// Its evaluation time.
    public var to: String?
    /// What the strict view saw.
    public var entry: ReportStrict
}

/// One cluster's history across runs.
public struct ClusterHistory: Sendable {
    /// The cluster's latest facts.
    public var cluster: ReportCluster
    /// The run that first saw it, and when.
    public var firstSeen: (run: Int64, at: String)
    /// The last run that saw it before it was removed (nil while present).
    public var lastSeen: (run: Int64, at: String)?
    /// The run that found it missing (nil while present).
    public var removed: (run: Int64, at: String)?
    /// State periods ordered by assignment, policy, resource, then time.
    public var entries: [TimelineEntry]
    /// Strict-view periods ordered by resource, then time.
    public var strict: [StrictTimelineEntry]
}

extension ComplianceStore {
    static let runColumns = """
        id, kind, status, started_at, finished_at, evaluated_at, inventory, inventory_digest, policies,
        policies_digest, clusters, results, resources, compliant, non_compliant, exempt, unknown, error,
        intervals_opened, intervals_closed, resumes, clusters_succeeded, clusters_failed, clusters_deferred
        """

    static func storedRun(_ row: Statement) -> StoredRun {
        StoredRun(
            id: row.int64(0), kind: row.text(1), status: row.text(2), startedAt: row.text(3),
            finishedAt: row.optionalText(4), evaluatedAt: row.text(5), inventory: row.text(6),
            inventoryDigest: row.text(7), policies: row.text(8), policiesDigest: row.text(9), clusters: row.int(10),
            results: row.int(11),
            point: ReportRunPoint(
                runId: row.int64(0), at: row.text(5), resources: row.int(12), compliant: row.int(13),
                nonCompliant: row.int(14), exempt: row.int(15), unknown: row.int(16), error: row.int(17)),
            intervalsOpened: row.int(18), intervalsClosed: row.int(19), resumes: row.optionalInt64(20),
            applied: ApplyCounts(succeeded: row.int(21), failed: row.int(22), deferred: row.int(23)))
    }

    /// Every run, oldest first.
    public func runs() throws(StoreError) -> [StoredRun] {
        try guarded {
            var runs: [StoredRun] = []
            try database.statement("SELECT \(Self.runColumns) FROM runs ORDER BY id").query {
                runs.append(Self.storedRun($0))
            }
            return runs
        }
    }

    /// One run (nil: the latest).
    ///
    /// - Throws: ``StoreError/noRuns(path:)`` or ``StoreError/unknownRun(_:path:)``.
    public func run(_ id: Int64?) throws(StoreError) -> StoredRun {
        let found: StoredRun? = try guarded {
            var run: StoredRun?
            let sql =
                id == nil
                ? "SELECT \(Self.runColumns) FROM runs ORDER BY id DESC LIMIT 1"
                : "SELECT \(Self.runColumns) FROM runs WHERE id = ?"
            try database.statement(sql).query(id.map { .integer($0) } ?? .null) { run = Self.storedRun($0) }
            return run
        }
        guard let found else {
            if let id { throw StoreError.unknownRun(id, path: path) }
            throw StoreError.noRuns(path: path)
        }
        return found
    }

    // MARK: - Report data

    /// Everything a report renders about one run, plus the history inside the window.
    ///
    /// - Parameters:
    ///   - run: The run (nil: the latest scan or plan run; apply and resume runs hold no results).
    ///   - window: How far back the trend and the intervals go, counted from the run's evaluation time.
    /// - Returns: The run's clusters (present at that run; facts as last recorded), its results
    ///   (each with `since`: when its current state began), its strict view, one trend point per
    ///   scan or plan run in the window up to this one, and every state interval that overlaps the
    ///   window (an interval that ended after this run is shown open).
    /// - Throws: ``StoreError``.
    public func reportData(run id: Int64? = nil, since window: ReportWindow = .all) throws(StoreError) -> ReportData {
        let latest = id == nil ? try latestEvaluation() : id
        guard let id = latest else { throw StoreError.noRuns(path: path) }
        let run = try run(id)
        let runEpoch = try guarded { try epoch(of: run.id) }
        let cutoff: Int64
        switch window {
        case .all: cutoff = Int64.min
        case .last(let duration): cutoff = runEpoch - duration.seconds
        case .from(let text): cutoff = StoreTime.epoch(text) ?? Int64.min
        }
        return try guarded {
            let times = try runTimes()
            let clusters = try clusters(presentAt: run.id)
            let (results, intervals) = try results(at: run.id, cutoff: cutoff, times: times)
            let strict = try strict(at: run.id)
            var trend: [ReportRunPoint] = []
            try database.statement(
                """
                SELECT \(Self.runColumns) FROM runs
                WHERE id <= ? AND evaluated_epoch >= ? AND kind IN ('scan', 'plan') ORDER BY id
                """
            ).query(.integer(run.id), .integer(cutoff)) { trend.append(Self.storedRun($0).point) }
            return ReportData(
                run: ReportRun(
                    id: run.id, kind: run.kind, startedAt: run.startedAt, evaluatedAt: run.evaluatedAt,
                    inventory: run.inventory, policies: run.policies, policiesDigest: run.policiesDigest),
                clusters: clusters, results: results, strict: strict, trend: trend, intervals: intervals)
        }
    }

    /// The latest run that evaluated the fleet (a scan or a plan; apply and resume runs record
    /// operations, not results), or nil when there is none.
    func latestEvaluation() throws(StoreError) -> Int64? {
        try guarded {
            var id: Int64?
            try database.statement("SELECT max(id) FROM runs WHERE kind IN ('scan', 'plan')").query {
                id = $0.optionalInt64(0)
            }
            return id
        }
    }

    private func epoch(of run: Int64) throws -> Int64 {
        var value: Int64 = 0
        try database.statement("SELECT evaluated_epoch FROM runs WHERE id = ?").query(.integer(run)) {
            value = $0.int64(0)
        }
        return value
    }

    /// Evaluation times of every run, by id.
    private func runTimes() throws -> [Int64: (at: String, epoch: Int64)] {
        var times: [Int64: (String, Int64)] = [:]
        try database.statement("SELECT id, evaluated_at, evaluated_epoch FROM runs").query {
            times[$0.int64(0)] = ($0.text(1), $0.int64(2))
        }
        return times
    }

    static let clusterColumns = """
        c.arm_id, c.name, c.kind, c.provisioned, c.subscription_id, c.resource_group, c.location, c.tags,
        c.eligibility_reason
        """

    static func reportCluster(_ row: Statement, from column: Int32 = 0) -> ReportCluster {
        var tags: [ReportTag] = []
        if case .object(let members) = (try? JSON.parse(row.text(column + 7), source: "tags")) ?? .null {
            tags = members.keys.sorted().map { ReportTag(key: $0, value: members[$0]?.string ?? "") }
        }
        return ReportCluster(
            id: row.text(column), name: row.text(column + 1), kind: row.text(column + 2),
            provisioned: row.int64(column + 3) != 0, subscriptionId: row.text(column + 4),
            resourceGroup: row.text(column + 5), location: row.text(column + 6), tags: tags,
            eligibilityReason: row.optionalText(column + 8))
    }

    private func clusters(presentAt run: Int64) throws -> [ReportCluster] {
        var clusters: [ReportCluster] = []
        try database.statement(
            """
            SELECT \(Self.clusterColumns) FROM clusters c
            WHERE c.first_seen_run <= ?1 AND (c.removed_run IS NULL OR c.removed_run > ?1)
            ORDER BY c.arm_id COLLATE NOCASE
            """
        ).query(.integer(run)) { clusters.append(Self.reportCluster($0)) }
        return clusters
    }

    /// The resource id of a stored suffix.
    static func resourceID(cluster: String, suffix: String) -> String {
        suffix.isEmpty ? cluster : suffix.hasPrefix("/") ? cluster + suffix : suffix
    }

    /// A table keyed by small row ids (SQLite's INTEGER PRIMARY KEYs are dense), read into an array.
    private func dense<T>(_ sql: String, empty: T, _ value: (Statement) -> T) throws -> [T] {
        var table: [T] = []
        try database.statement(sql).query { row in
            let id = Int(row.int64(0))
            guard id >= 0 && id < 1 << 32 else { return }
            if id >= table.count { table.append(contentsOf: repeatElement(empty, count: id + 1 - table.count)) }
            table[id] = value(row)
        }
        return table
    }

    private func results(
        at run: Int64, cutoff: Int64, times: [Int64: (at: String, epoch: Int64)]
    ) throws -> ([ReportResult], [ReportInterval]) {
        // Small tables into arrays indexed by row id; the intervals are read without joins or sorting
        // in SQL, rows of one cluster together (the primary key's order).
        let clusters = try dense("SELECT id, arm_id FROM clusters", empty: "") { $0.text(1) }
        var rank = [Int](repeating: Int.max, count: clusters.count)
        let lowered = clusters.map(ASCII.lowercased)
        for (position, id) in clusters.indices.sorted(by: { lowered[$0] < lowered[$1] }).enumerated() {
            rank[id] = position
        }
        struct Rule {
            var assignmentId: String
            var assignmentName: String
            var definitionId: String
            var reference: String?
        }
        let rules = try dense(
            """
            SELECT r.id, a.arm_id, a.name, r.policy_definition_id, r.reference_id, r.direct
            FROM rules r JOIN assignments a ON a.id = r.assignment
            """, empty: Rule(assignmentId: "", assignmentName: "", definitionId: "", reference: nil)
        ) {
            Rule(
                assignmentId: $0.text(1), assignmentName: $0.text(2), definitionId: $0.text(3),
                reference: $0.int64(5) != 0 ? nil : $0.text(4))
        }
        let suffixes = try dense("SELECT id, suffix FROM resources", empty: "") { $0.text(1) }
        // Suffixes by rank of their text, so results sort on integers.
        var suffixRank = [Int](repeating: 0, count: suffixes.count)
        for (position, id) in suffixes.indices.sorted(by: { suffixes[$0] < suffixes[$1] }).enumerated() {
            suffixRank[id] = position
        }
        var runTimes: [(at: String, epoch: Int64)?] = []
        for (id, time) in times where id >= 0 && id < 1 << 32 {
            if Int(id) >= runTimes.count {
                runTimes.append(contentsOf: repeatElement(nil, count: Int(id) + 1 - runTimes.count))
            }
            runTimes[Int(id)] = time
        }
        func time(_ run: Int64) -> (at: String, epoch: Int64)? {
            run >= 0 && run < runTimes.count ? runTimes[Int(run)] : nil
        }
        var bodies: [Int64: Details.Result] = [:]
        let body = try database.statement("SELECT body FROM details WHERE id = ?")
        func detail(_ id: Int64) throws -> Details.Result {
            if let known = bodies[id] { return known }
            var text = ""
            try body.query(.integer(id)) { text = $0.text(0) }
            let parsed = Details.result(text)
            bodies[id] = parsed
            return parsed
        }
        let noRule = Rule(assignmentId: "", assignmentName: "", definitionId: "", reference: nil)
        var live: [ReportResult] = []
        var liveKeys: [(rank: Int, resource: Int, rule: Int64, index: Int)] = []
        var periods: [ReportInterval] = []
        var periodKeys: [(fromRun: Int64, rank: Int, rule: Int64, index: Int)] = []
        // Resource ids of the current cluster, built once per cluster × resource.
        var currentCluster: Int64 = -1
        var resourceIds: [(resource: Int64, id: String)] = []
        let windowStart = try firstRun(atOrAfter: cutoff)
        try database.statement(
            """
            SELECT cluster, resource, rule, state, from_run, to_run, since_run, detail FROM intervals
            WHERE from_run <= ?1 AND (to_run IS NULL OR to_run > ?1 OR to_run >= ?2)
            """
        ).query(.integer(run), .integer(windowStart)) { row in
            let cluster = row.int64(0)
            let clusterIndex = cluster >= 0 && cluster < clusters.count ? Int(cluster) : -1
            let clusterId = clusterIndex >= 0 ? clusters[clusterIndex] : ""
            if cluster != currentCluster {
                currentCluster = cluster
                resourceIds.removeAll(keepingCapacity: true)
            }
            let resource = row.int64(1)
            let resourceId: String
            if let known = resourceIds.first(where: { $0.resource == resource }) {
                resourceId = known.id
            } else {
                let suffix = resource >= 0 && resource < suffixes.count ? suffixes[Int(resource)] : ""
                resourceId = Self.resourceID(cluster: clusterId, suffix: suffix)
                resourceIds.append((resource, resourceId))
            }
            let ruleID = row.int64(2)
            let rule = ruleID >= 0 && ruleID < rules.count ? rules[Int(ruleID)] : noRule
            let state = Schema.state(row.int64(3))
            let fromRun = row.int64(4)
            let toRun = row.optionalInt64(5)
            let isLive = toRun.map { $0 > run } ?? true
            let toTime = toRun.flatMap(time)
            let clusterRank = clusterIndex >= 0 ? rank[clusterIndex] : Int.max
            if toTime.map({ $0.epoch >= cutoff }) ?? true {
                periodKeys.append((fromRun, clusterRank, ruleID, periods.count))
                periods.append(
                    ReportInterval(
                        resourceId: resourceId, clusterId: clusterId, assignmentId: rule.assignmentId,
                        policyDefinitionReferenceId: rule.reference, state: state, from: time(fromRun)?.at ?? "",
                        to: isLive ? nil : toTime?.at))
            }
            guard isLive else { return }
            let details = try detail(row.int64(7))
            liveKeys.append(
                (
                    clusterRank, resource >= 0 && resource < suffixRank.count ? suffixRank[Int(resource)] : 0, ruleID,
                    live.count
                ))
            live.append(
                ReportResult(
                    resourceId: resourceId, clusterId: clusterId, assignmentId: rule.assignmentId,
                    assignmentName: rule.assignmentName, policyDefinitionId: rule.definitionId,
                    policyDefinitionReferenceId: rule.reference, effect: details.effect, state: state,
                    reasons: details.reasons, exemptionId: details.exemptionId, error: details.error,
                    since: time(row.int64(6))?.at))
        }
        // Results in cluster order (as the inventory lists them), then resource and policy;
        // intervals oldest first. Sorted as small integer keys; ties on the integers (two
        // resources of one cluster, rule and run) fall back to the resource id's text.
        liveKeys.sort { ($0.rank, $0.resource, $0.rule, $0.index) < ($1.rank, $1.resource, $1.rule, $1.index) }
        periodKeys.sort { a, b in
            if (a.fromRun, a.rank, a.rule) != (b.fromRun, b.rank, b.rule) {
                return (a.fromRun, a.rank, a.rule) < (b.fromRun, b.rank, b.rule)
            }
            let x = periods[a.index].resourceId
            let y = periods[b.index].resourceId
            return x != y ? x < y : a.index < b.index
        }
        Self.reorder(&live, by: liveKeys.map(\.index))
        Self.reorder(&periods, by: periodKeys.map(\.index))
        return (live, periods)
    }

    /// Reorders `items` in place so that position `k` holds the element that was at `order[k]`
    /// (`order` is a permutation), following its cycles with swaps: elements are moved, never copied.
    static func reorder<T>(_ items: inout [T], by order: [Int]) {
        precondition(order.count == items.count)
        var placed = [Bool](repeating: false, count: order.count)
        for start in order.indices where !placed[start] {
            var k = start
            while true {
                placed[k] = true
                let next = order[k]
                if next == start { break }
                items.swapAt(k, next)
                k = next
            }
        }
    }

    /// The first run evaluated at or after `epoch` (a run id past the last when there is none).
    private func firstRun(atOrAfter epoch: Int64) throws -> Int64 {
        if epoch == Int64.min { return 0 }
        var id: Int64 = Int64.max
        try database.statement("SELECT min(id) FROM runs WHERE evaluated_epoch >= ?").query(.integer(epoch)) {
            if !$0.isNull(0) { id = $0.int64(0) }
        }
        return id
    }

    private func strict(at run: Int64) throws -> [ReportStrict] {
        var out: [ReportStrict] = []
        // Bodies repeat across clusters: each is parsed once.
        var parsed: [Int64: ReportStrict] = [:]
        try database.statement(
            """
            SELECT c.arm_id, x.suffix, a.arm_id, d.body, s.detail
            FROM strict_intervals s
            JOIN clusters c ON c.id = s.cluster
            JOIN assignments a ON a.id = s.assignment
            JOIN resources x ON x.id = s.resource
            JOIN details d ON d.id = s.detail
            WHERE s.from_run <= ?1 AND (s.to_run IS NULL OR s.to_run > ?1)
            ORDER BY c.arm_id COLLATE NOCASE, a.id, x.suffix
            """
        ).query(.integer(run)) { row in
            let clusterId = row.text(0)
            let resourceId = Self.resourceID(cluster: clusterId, suffix: row.text(1))
            let detail = row.int64(4)
            var entry: ReportStrict
            if let parsed = parsed[detail] {
                entry = parsed
            } else {
                entry = Details.strict(row.text(3), clusterId: "", resourceId: "", assignmentId: "")
                parsed[detail] = entry
            }
            entry.clusterId = clusterId
            entry.resourceId = resourceId
            entry.assignmentId = row.text(2)
            out.append(entry)
        }
        return out
    }

    // MARK: - History

    /// One cluster's timeline: every state period of every subject, and the strict view's.
    ///
    /// - Parameter cluster: An ARM id (compared ignoring case) or a cluster name unique in the database.
    /// - Throws: ``StoreError/unknownCluster(_:path:)``, ``StoreError/ambiguousCluster(_:ids:path:)``.
    public func history(cluster: String) throws(StoreError) -> ClusterHistory {
        let matches: [(Int64, ReportCluster, Int64, Int64?, Int64?)] = try guarded {
            var rows: [(Int64, ReportCluster, Int64, Int64?, Int64?)] = []
            let byID = cluster.contains("/")
            try database.statement(
                """
                SELECT c.id, \(Self.clusterColumns), c.first_seen_run, c.last_seen_run, c.removed_run
                FROM clusters c WHERE \(byID ? "c.arm_id" : "c.name") = ? ORDER BY c.arm_id COLLATE NOCASE
                """
            ).query(.text(cluster)) { row in
                rows.append(
                    (
                        row.int64(0), Self.reportCluster(row, from: 1), row.int64(10), row.optionalInt64(11),
                        row.optionalInt64(12)
                    ))
            }
            return rows
        }
        guard let match = matches.first else { throw StoreError.unknownCluster(cluster, path: path) }
        if matches.count > 1 {
            throw StoreError.ambiguousCluster(cluster, ids: matches.map(\.1.id), path: path)
        }
        return try guarded {
            let times = try runTimes()
            let (row, facts, first, lastSeen, removed) = match
            func at(_ run: Int64) -> (run: Int64, at: String) { (run, times[run]?.at ?? "") }
            var entries: [TimelineEntry] = []
            var bodies: [Int64: Details.Result] = [:]
            try database.statement(
                """
                SELECT x.suffix, a.arm_id, a.name, r.policy_definition_id, r.reference_id, r.direct, i.state,
                    i.from_run, i.to_run, i.detail, d.body
                FROM intervals i
                JOIN rules r ON r.id = i.rule
                JOIN assignments a ON a.id = r.assignment
                JOIN resources x ON x.id = i.resource
                JOIN details d ON d.id = i.detail
                WHERE i.cluster = ?
                ORDER BY a.id, r.id, x.suffix, i.from_run
                """
            ).query(.integer(row)) { r in
                let detailID = r.int64(9)
                let body = bodies[detailID] ?? Details.result(r.text(10))
                bodies[detailID] = body
                let toRun = r.optionalInt64(8)
                entries.append(
                    TimelineEntry(
                        resourceId: Self.resourceID(cluster: facts.id, suffix: r.text(0)), assignmentId: r.text(1),
                        assignmentName: r.text(2), policyDefinitionId: r.text(3),
                        policyDefinitionReferenceId: r.int64(5) != 0 ? nil : r.text(4),
                        state: Schema.state(r.int64(6)), fromRun: r.int64(7),
                        from: times[r.int64(7)]?.at ?? "", toRun: toRun, to: toRun.flatMap { times[$0]?.at },
                        effect: body.effect, reasons: body.reasons, exemptionId: body.exemptionId, error: body.error))
            }
            var strict: [StrictTimelineEntry] = []
            try database.statement(
                """
                SELECT x.suffix, a.arm_id, s.from_run, s.to_run, d.body
                FROM strict_intervals s
                JOIN assignments a ON a.id = s.assignment
                JOIN resources x ON x.id = s.resource
                JOIN details d ON d.id = s.detail
                WHERE s.cluster = ?
                ORDER BY a.id, x.suffix, s.from_run
                """
            ).query(.integer(row)) { r in
                let toRun = r.optionalInt64(3)
                strict.append(
                    StrictTimelineEntry(
                        fromRun: r.int64(2), from: times[r.int64(2)]?.at ?? "", toRun: toRun,
                        to: toRun.flatMap { times[$0]?.at },
                        entry: Details.strict(
                            r.text(4), clusterId: facts.id,
                            resourceId: Self.resourceID(cluster: facts.id, suffix: r.text(0)), assignmentId: r.text(1)))
                )
            }
            return ClusterHistory(
                cluster: facts, firstSeen: at(first), lastSeen: lastSeen.map(at), removed: removed.map(at),
                entries: entries, strict: strict)
        }
    }
}
