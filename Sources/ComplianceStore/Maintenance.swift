/// What `db check` found.
public struct CheckReport: Sendable, Hashable {
    /// The schema version.
    public var schemaVersion: Int
    /// Runs held.
    public var runs: Int
    /// Clusters held (removed ones included).
    public var clusters: Int
    /// State intervals held, and how many are open.
    public var intervals: Int
    /// Open state intervals (the current state).
    public var openIntervals: Int
    /// Stored reason bodies.
    public var details: Int
    /// Apply-journal rows (operations) held.
    public var operations: Int = 0
    /// Plans held, and how many were consumed by an apply run.
    public var plans: Int = 0
    /// Plans consumed by an apply run.
    public var consumedPlans: Int = 0
    /// The writer lease holder, if any.
    public var lease: LeaseHolder?
    /// Problems, one sentence each (empty: the database is sound).
    public var problems: [String]

    /// Whether no problem was found.
    public var ok: Bool { problems.isEmpty }
}

/// What `db prune` removed.
public struct PruneOutcome: Sendable, Hashable {
    /// Runs deleted.
    public var runs: Int
    /// Closed state and strict-view intervals deleted.
    public var intervals: Int
    /// Reason bodies no interval uses any more.
    public var details: Int
    /// Removed clusters with no history left.
    public var clusters: Int
    /// Apply-journal rows of the pruned runs.
    public var operations: Int = 0
    /// Plans that neither a kept run recorded nor a kept run applied, older than the cutoff.
    public var plans: Int = 0
    /// The cutoff (ISO 8601 UTC): runs evaluated before it were candidates.
    public var cutoff: String
}

extension ComplianceStore {
    /// Checks the database: SQLite's `integrity_check` and `foreign_key_check`, then the store's own
    /// invariants (at most one open interval per subject, intervals that end after they start,
    /// removed clusters with no open interval, run summaries that match their status), and those of
    /// the apply journal and plans (one row per journal key, operations only in apply and resume
    /// runs, no unfinished operation in a run that succeeded, resume links that form chains, plans
    /// consumed by apply runs only).
    public func check() throws(StoreError) -> CheckReport {
        try guarded {
            var problems: [String] = []
            try database.statement("PRAGMA integrity_check").query { row in
                let text = row.text(0)
                if text != "ok" { problems.append("integrity: \(text)") }
            }
            try database.statement("PRAGMA foreign_key_check").query { row in
                problems.append(
                    "foreign key: row \(row.int64(1)) of \(row.text(0)) points to a missing row of \(row.text(2))")
            }
            let invariants: [(String, String)] = [
                (
                    "SELECT count(*) FROM (SELECT 1 FROM intervals WHERE to_run IS NULL GROUP BY cluster, rule, resource HAVING count(*) > 1)",
                    "subjects with more than one open state interval"
                ),
                (
                    "SELECT count(*) FROM (SELECT 1 FROM strict_intervals WHERE to_run IS NULL GROUP BY cluster, assignment, resource HAVING count(*) > 1)",
                    "strict-view resources with more than one open interval"
                ),
                (
                    "SELECT count(*) FROM intervals WHERE to_run IS NOT NULL AND to_run <= from_run",
                    "intervals that end before they start"
                ),
                (
                    "SELECT count(*) FROM intervals i JOIN clusters c ON c.id = i.cluster WHERE i.to_run IS NULL AND c.removed_run IS NOT NULL",
                    "open intervals of removed clusters"
                ),
                (
                    "SELECT count(*) FROM intervals i JOIN runs r ON r.id = i.from_run WHERE r.status != 'succeeded' AND r.kind = 'scan'",
                    "intervals opened by a scan that did not succeed"
                ),
                (
                    "SELECT count(*) FROM (SELECT 1 FROM clusters GROUP BY arm_id COLLATE NOCASE HAVING count(*) > 1)",
                    "ARM ids held by more than one cluster row (ignoring case)"
                ),
                (
                    "SELECT count(*) FROM clusters WHERE (removed_run IS NULL) != (last_seen_run IS NULL)",
                    "clusters with a removal run but no last-seen run (or the reverse)"
                ),
                (
                    "SELECT count(*) FROM (SELECT 1 FROM operations GROUP BY run, cluster_id, resource_id, desired_hash HAVING count(*) > 1)",
                    "apply-journal keys (run, cluster, resource, desired body) with more than one row"
                ),
                (
                    "SELECT count(*) FROM operations o JOIN runs r ON r.id = o.run WHERE r.kind NOT IN ('apply', 'resume')",
                    "journalled operations in runs that are not apply or resume runs"
                ),
                (
                    "SELECT count(*) FROM operations o JOIN runs r ON r.id = o.run WHERE r.status = 'succeeded' AND o.state IN ('pending', 'sent', 'accepted')",
                    "unfinished operations in apply runs that succeeded"
                ),
                (
                    "SELECT count(*) FROM runs WHERE status IN ('partial', 'halted') AND kind NOT IN ('apply', 'resume')",
                    "scan or plan runs with an apply status (partial, halted)"
                ),
                (
                    "SELECT count(*) FROM runs r LEFT JOIN runs p ON p.id = r.resumes WHERE r.resumes IS NOT NULL AND (r.kind != 'resume' OR p.kind NOT IN ('apply', 'resume') OR r.resumes >= r.id)",
                    "resume links that do not point to an earlier apply or resume run"
                ),
                (
                    "SELECT count(*) FROM runs r WHERE r.status = 'running' AND EXISTS (SELECT 1 FROM runs n WHERE n.resumes = r.id)",
                    "resumed runs still marked running"
                ),
                (
                    "SELECT count(*) FROM plans p JOIN runs r ON r.id = p.applied_by WHERE r.kind != 'apply'",
                    "plans consumed by a run that is not an apply run"
                ),
                (
                    "SELECT count(*) FROM plans WHERE (applied_by IS NULL) != (applied_at IS NULL)",
                    "plans with a consuming run but no time (or the reverse)"
                ),
            ]
            for (sql, what) in invariants {
                let count = try database.scalarInt(sql)
                if count > 0 { problems.append("\(count) \(what)") }
            }
            return CheckReport(
                schemaVersion: Int(try database.scalarInt("PRAGMA user_version")),
                runs: Int(try database.scalarInt("SELECT count(*) FROM runs")),
                clusters: Int(try database.scalarInt("SELECT count(*) FROM clusters")),
                intervals: Int(try database.scalarInt("SELECT count(*) FROM intervals")),
                openIntervals: Int(try database.scalarInt("SELECT count(*) FROM intervals WHERE to_run IS NULL")),
                details: Int(try database.scalarInt("SELECT count(*) FROM details")),
                operations: Int(try database.scalarInt("SELECT count(*) FROM operations")),
                plans: Int(try database.scalarInt("SELECT count(*) FROM plans")),
                consumedPlans: Int(try database.scalarInt("SELECT count(*) FROM plans WHERE applied_by IS NOT NULL")),
                lease: try leaseHolder(), problems: problems)
        }
    }

    /// Deletes history older than `age` before `now`, never the current state.
    ///
    /// Closed intervals that ended at a run evaluated before the cutoff go, then runs evaluated
    /// before the cutoff that nothing left refers to (an open interval keeps the run it started
    /// at, so "since when" stays answerable), then unused reason bodies and removed clusters with
    /// no history left. The latest run is always kept. An apply chain (the apply run and its resume
    /// runs) goes whole or not at all, with its journal and the plan it consumed; a plan never
    /// applied goes once it is older than the cutoff and the run that recorded it goes. One
    /// transaction.
    ///
    /// - Parameters:
    ///   - age: How much history to keep.
    ///   - now: The current time, seconds since 1970.
    ///   - vacuum: Whether to rewrite the file afterwards to give the space back to the system.
    public func prune(olderThan age: StoreDuration, now: Int64, vacuum: Bool = false) throws(StoreError)
        -> PruneOutcome
    {
        try requireLease()
        let cutoff = now - age.seconds
        let outcome: PruneOutcome = try guarded {
            try database.transaction {
                let latest = try database.scalarInt("SELECT coalesce(max(id), 0) FROM runs")
                let old = "(SELECT id FROM runs WHERE evaluated_epoch < \(cutoff) AND id != \(latest))"
                try database.execute("DELETE FROM intervals WHERE to_run IN \(old)")
                var intervals = database.changes
                try database.execute("DELETE FROM strict_intervals WHERE to_run IN \(old)")
                intervals += database.changes
                try database.execute(
                    """
                    DELETE FROM clusters WHERE removed_run IN \(old)
                        AND NOT EXISTS (SELECT 1 FROM intervals WHERE cluster = clusters.id)
                        AND NOT EXISTS (SELECT 1 FROM strict_intervals WHERE cluster = clusters.id)
                    """)
                let clusters = database.changes
                // The runs to delete: old ones nothing left refers to, pruned a whole apply chain at a
                // time (a resume run keeps the runs it finishes, and they keep it).
                try database.execute(
                    """
                    DROP TABLE IF EXISTS temp.pruned_runs;
                    CREATE TEMP TABLE pruned_runs (id INTEGER PRIMARY KEY);
                    INSERT INTO pruned_runs SELECT id FROM runs WHERE id IN \(old) AND id NOT IN (
                        SELECT from_run FROM intervals UNION SELECT to_run FROM intervals WHERE to_run IS NOT NULL
                        UNION SELECT since_run FROM intervals
                        UNION SELECT from_run FROM strict_intervals
                        UNION SELECT to_run FROM strict_intervals WHERE to_run IS NOT NULL
                        UNION SELECT first_seen_run FROM clusters
                        UNION SELECT last_seen_run FROM clusters WHERE last_seen_run IS NOT NULL
                        UNION SELECT removed_run FROM clusters WHERE removed_run IS NOT NULL);
                    WITH RECURSIVE chain (id, root) AS (
                        SELECT id, id FROM runs WHERE resumes IS NULL
                        UNION ALL SELECT r.id, chain.root FROM runs r JOIN chain ON r.resumes = chain.id)
                    DELETE FROM pruned_runs WHERE id IN (
                        SELECT id FROM chain WHERE root IN (
                            SELECT root FROM chain WHERE id NOT IN (SELECT id FROM pruned_runs)));
                    """)
                try database.execute("DELETE FROM operations WHERE run IN (SELECT id FROM temp.pruned_runs)")
                let operations = database.changes
                // A plan consumed by a pruned run goes with it (kept, it would look unconsumed); one never
                // applied goes when its run is pruned (or it has none) and it is older than the cutoff.
                try database.execute(
                    """
                    DELETE FROM plans WHERE applied_by IN (SELECT id FROM temp.pruned_runs)
                        OR (applied_by IS NULL AND (run IS NULL OR run IN (SELECT id FROM temp.pruned_runs))
                            AND created_at < '\(StoreTime.iso(cutoff))')
                    """)
                let plans = database.changes
                try database.execute("UPDATE plans SET run = NULL WHERE run IN (SELECT id FROM temp.pruned_runs)")
                try database.execute("DELETE FROM runs WHERE id IN (SELECT id FROM temp.pruned_runs)")
                let runs = database.changes
                try database.execute("DROP TABLE temp.pruned_runs")
                try database.execute(
                    """
                    DELETE FROM details WHERE id NOT IN (
                        SELECT detail FROM intervals UNION SELECT detail FROM strict_intervals)
                    """)
                let details = database.changes
                try database.execute(
                    """
                    DELETE FROM resources WHERE id != 0 AND id NOT IN (
                        SELECT resource FROM intervals UNION SELECT resource FROM strict_intervals)
                    """)
                return PruneOutcome(
                    runs: runs, intervals: intervals, details: details, clusters: clusters,
                    operations: operations, plans: plans, cutoff: StoreTime.iso(cutoff))
            }
        }
        if vacuum { try guarded { try database.execute("VACUUM") } }
        return outcome
    }

    /// The schema version of the file.
    public func schemaVersion() throws(StoreError) -> Int {
        try guarded { Int(try database.scalarInt("PRAGMA user_version")) }
    }
}

extension ComplianceStore {
    /// Brings the schema up to date and says what that changed.
    ///
    /// A store opened for writing is migrated as it opens; this reports that (from the version found
    /// to the current one) and re-checks under the lease.
    public func migrate() throws(StoreError) -> MigrationOutcome {
        try requireLease()
        let now = try guarded { try Migrator.migrate(database, to: Schema.migrations) }
        return MigrationOutcome(from: migration?.from ?? now.from, to: now.to)
    }
}

extension ReportWindow {
    /// Reads `--since`: a duration (`30d`, `12h`, `26w`), an ISO 8601 time or date, or `all`.
    public init?(parsing text: String) {
        if text == "all" {
            self = .all
        } else if let duration = StoreDuration(text) {
            self = .last(duration)
        } else if StoreTime.epoch(text) != nil {
            self = .from(text)
        } else {
            return nil
        }
    }
}
