import FleetCore

/// How an apply or resume run ended (`runs.status`).
public enum ApplyRunStatus: String, Sendable, CaseIterable {
    /// Started and not finished: still in progress, or its process died (a stale lease). Resumable.
    case running
    /// Every cluster the plan changes succeeded (or there was nothing to change).
    case succeeded
    /// Finished, but some clusters failed or were refused (their fingerprint moved). Resumable: a resume
    /// retries the failed operations and skips the succeeded ones (DESIGN §9: exit 75, work left undone
    /// but resumable); refused clusters need a new plan.
    case partial
    /// A wave exceeded its failure budget and the run stopped starting clusters. Resumable once the cause
    /// is fixed: the resume goes on with the waves not reached.
    case halted
    /// Stopped before the end (SIGINT, or a crash recorded by the resume that followed): in-flight
    /// operations were drained and recorded. Resumable.
    case interrupted
    /// The run could not go on (the store or the credentials failed); not resumable.
    case failed

    /// Whether `fluxfleet resume` may finish a run left in this state.
    public var isResumable: Bool { self == .running || self == .interrupted || self == .partial || self == .halted }
}

/// The clusters an apply or resume run finished with, by outcome.
public struct ApplyCounts: Sendable, Hashable {
    /// Clusters whose actions all succeeded.
    public var succeeded: Int
    /// Clusters with a failed action.
    public var failed: Int
    /// Clusters deferred by the plan or not reached (halted, interrupted).
    public var deferred: Int

    /// Creates counts.
    public init(succeeded: Int, failed: Int, deferred: Int) {
        self.succeeded = succeeded
        self.failed = failed
        self.deferred = deferred
    }
}

/// An apply chain that `fluxfleet resume` can finish.
public struct ResumableRun: Sendable, Hashable {
    /// The run to resume: the last of the chain (the apply run itself, or its latest resume run).
    public var run: Int64
    /// The chain from the apply run to ``run``, oldest first.
    public var chain: [Int64]
    /// `running` (its process died without finishing) or `interrupted`.
    public var status: ApplyRunStatus
    /// The plan the apply run consumed (nil when none was recorded).
    public var planId: String?
    /// When the apply run started (ISO 8601 UTC).
    public var startedAt: String

    /// The apply run the chain starts with.
    public var applyRun: Int64 { chain.first ?? run }
}

/// What the journal of an apply chain holds, for the run's summary.
public struct JournalSummary: Sendable, Hashable {
    /// Operations (one per run × cluster × resource × desired body, the latest state across the chain).
    public var operations: Int
    /// Operations by their latest state.
    public var byState: [OperationState: Int]
    /// Operations by plan action (`create-configuration`, …), then by latest state.
    public var byAction: [String: [OperationState: Int]]
    /// The failed operations, in journal order, with ARM's request ids and error codes.
    public var failures: [OperationRecord]
    /// The operations that have not reached an end state (what a resume follows or re-sends).
    public var unfinished: [OperationRecord]
}

extension ComplianceStore {
    /// Starts a resume run that finishes `run` (an apply run, or the resume run that last tried).
    ///
    /// The new run copies the inputs of the run it resumes and links to it (`runs.resumes`); a run
    /// left `running` by a process that died is marked `interrupted`, with the time of its last
    /// journal write as its end. The resume run is `running` until
    /// ``finishApplyRun(_:status:succeeded:failed:deferred:at:)``.
    ///
    /// - Throws: ``StoreError/notResumable(_:reason:path:)`` when `run` is not an apply or resume run,
    ///   was resumed already, or has finished; ``StoreError/unknownRun(_:path:)``.
    public func beginResume(of run: Int64, startedAt: String) throws(StoreError) -> Int64 {
        try requireLease()
        let previous = try self.run(run)
        guard previous.kind == RunKind.apply.rawValue || previous.kind == RunKind.resume.rawValue else {
            throw StoreError.notResumable(run, reason: "it is a \(previous.kind) run, not an apply", path: path)
        }
        if let next = try guarded({ try resumer(of: run) }) {
            throw StoreError.notResumable(run, reason: "run \(next) resumed it already: resume that one", path: path)
        }
        guard ApplyRunStatus(rawValue: previous.status)?.isResumable == true else {
            throw StoreError.notResumable(
                run, reason: "it finished (\(previous.status)); re-plan to change what is left", path: path)
        }
        if begunRuns.contains(run) {
            throw StoreError.notResumable(run, reason: "this process is still running it", path: path)
        }
        return try guarded {
            try database.transaction {
                try database.statement(
                    """
                    UPDATE runs SET status = 'interrupted', finished_at = coalesce(
                        (SELECT max(updated_at) FROM operations WHERE run = runs.id), started_at)
                    WHERE id = ? AND status = 'running'
                    """
                ).run(.integer(run))
                try database.statement(
                    """
                    INSERT INTO runs (kind, status, started_at, evaluated_at, evaluated_epoch, inventory, inventory_digest,
                        policies, policies_digest, clusters, results, resources, compliant, non_compliant, exempt,
                        unknown, error, error_results, drifted, resumes)
                    SELECT 'resume', 'running', ?, evaluated_at, evaluated_epoch, inventory, inventory_digest, policies,
                        policies_digest, clusters, 0, 0, 0, 0, 0, 0, 0, 0, 0, id
                    FROM runs WHERE id = ?
                    """
                ).run(.text(startedAt), .integer(run))
                let id = database.lastInsertRowID
                begunRuns.insert(id)
                return id
            }
        }
    }

    /// Ends an apply or resume run with its outcome and cluster counts.
    ///
    /// - Parameters:
    ///   - run: The run.
    ///   - status: How it ended (``ApplyRunStatus``).
    ///   - succeeded: Clusters whose actions all succeeded.
    ///   - failed: Clusters with a failed action.
    ///   - deferred: Clusters deferred by the plan or not reached (halted, interrupted).
    ///   - time: When it ended (ISO 8601 UTC).
    /// - Throws: ``StoreError/unknownRun(_:path:)`` when `run` is not an apply or resume run.
    public func finishApplyRun(
        _ run: Int64, status: ApplyRunStatus, succeeded: Int, failed: Int, deferred: Int, at time: String
    ) throws(StoreError) {
        try requireLease()
        let changed: Bool = try guarded {
            try database.statement(
                """
                UPDATE runs SET status = ?, finished_at = ?, clusters_succeeded = ?, clusters_failed = ?,
                    clusters_deferred = ?, clusters = ?
                WHERE id = ? AND kind IN ('apply', 'resume')
                """
            ).run(
                .text(status.rawValue), .text(time), .integer(Int64(succeeded)), .integer(Int64(failed)),
                .integer(Int64(deferred)), .integer(Int64(succeeded + failed + deferred)), .integer(run))
            return database.changes == 1
        }
        guard changed else { throw StoreError.unknownRun(run, path: path) }
        if status != .running { begunRuns.remove(run) }
    }

    /// The apply chain `fluxfleet resume` should finish, or nil.
    ///
    /// Only the newest apply chain is a candidate (an older one left unfinished was superseded by a
    /// later apply; resuming it would re-send an older desired state): it is returned when its last
    /// run is `running` — its process died, and the lease it left is stale or taken over — or
    /// `interrupted`. A run this store began itself is never returned. Ask a store opened for
    /// writing: it holds the lease, so a `running` run of another process is certainly abandoned
    /// (to a reader it may still be live).
    public func resumableRun() throws(StoreError) -> ResumableRun? {
        let found: (root: Int64, startedAt: String)? = try guarded {
            var out: (Int64, String)?
            try database.statement("SELECT id, started_at FROM runs WHERE kind = 'apply' ORDER BY id DESC LIMIT 1")
                .query { out = ($0.int64(0), $0.text(1)) }
            return out
        }
        guard let found else { return nil }
        var chain = [found.root]
        while let next = try guarded({ try resumer(of: chain[chain.count - 1]) }) { chain.append(next) }
        let tip = try run(chain[chain.count - 1])
        guard let status = ApplyRunStatus(rawValue: tip.status), status.isResumable, !begunRuns.contains(tip.id)
        else { return nil }
        let plan = try guarded { () throws -> String? in
            var id: String?
            try database.statement("SELECT id FROM plans WHERE applied_by = ?").query(.integer(found.root)) {
                id = $0.text(0)
            }
            return id
        }
        return ResumableRun(run: tip.id, chain: chain, status: status, planId: plan, startedAt: found.startedAt)
    }

    /// The runs of the chain that ends at `run`, oldest first: the apply run, then each resume run.
    public func chain(endingAt run: Int64) throws(StoreError) -> [Int64] {
        try guarded {
            var ids: [Int64] = []
            try database.statement(
                """
                WITH RECURSIVE back (id, resumes, depth) AS (
                    SELECT id, resumes, 0 FROM runs WHERE id = ?
                    UNION ALL SELECT r.id, r.resumes, back.depth + 1 FROM runs r JOIN back ON r.id = back.resumes
                    WHERE back.depth < 100000)
                SELECT id FROM back ORDER BY depth DESC
                """
            ).query(.integer(run)) { ids.append($0.int64(0)) }
            return ids
        }
    }

    /// The run that resumed `run`, if any.
    func resumer(of run: Int64) throws -> Int64? {
        var id: Int64?
        try database.statement("SELECT id FROM runs WHERE resumes = ?").query(.integer(run)) { id = $0.int64(0) }
        return id
    }

    /// The journal of the chain that ends at `run`: one record per cluster × resource × desired body,
    /// the latest across the chain (a resume's record replaces the apply's), in the order first journalled.
    public func journal(chainEndingAt run: Int64) throws(StoreError) -> [OperationRecord] {
        var latest: [JournalKey: Int] = [:]
        var out: [OperationRecord] = []
        for id in try chain(endingAt: run) {
            for record in try operations(run: id) {
                let key = JournalKey(
                    clusterId: record.clusterId, resourceId: record.resourceId, hash: record.desiredHash)
                if let at = latest[key] {
                    out[at] = record
                } else {
                    latest[key] = out.count
                    out.append(record)
                }
            }
        }
        return out
    }

    /// Counts by state and action, and the failures with their ARM request ids and error codes, of the
    /// chain that ends at `run` (see ``journal(chainEndingAt:)``).
    public func journalSummary(run: Int64) throws(StoreError) -> JournalSummary {
        let records = try journal(chainEndingAt: run)
        var summary = JournalSummary(
            operations: records.count, byState: [:], byAction: [:], failures: [], unfinished: [])
        for record in records {
            summary.byState[record.state, default: 0] += 1
            summary.byAction[record.action, default: [:]][record.state, default: 0] += 1
            if record.state == .failed { summary.failures.append(record) }
            if !record.state.isFinished { summary.unfinished.append(record) }
        }
        return summary
    }
}

/// The journal key of an operation within a run: cluster and resource compared ignoring ASCII case (as
/// ARM compares ids, and as the `operations` columns collate), and the desired-body hash.
struct JournalKey: Hashable {
    var clusterId: String
    var resourceId: String
    var hash: String

    init(clusterId: String, resourceId: String, hash: String) {
        self.clusterId = ASCII.lowercased(clusterId)
        self.resourceId = ASCII.lowercased(resourceId)
        self.hash = hash
    }
}
