import PolicyEngine

/// The store's schema history.
///
/// Append a step for every change; never edit a released one.
///
/// Version 1 (DESIGN §7):
/// - `runs`: one row per scan, plan, apply or resume, with its inputs' digests, times, status and
///   the summary counts (so the trend needs no interval scan).
/// - `clusters`: identity (ARM id, unique ignoring case) and latest facts; first seen, removed.
/// - `assignments`, `rules`: the assignment × policy reference pairs results are about.
/// - `resources`: the evaluated resources' ids relative to their cluster (`''`, id 0, for the
///   cluster itself; `/providers/…/extensions/flux` for a child), each text stored once, as read;
///   the writer matches them ignoring case.
/// - `details`: the effect, exemption, error and reasons of a state, stored once and shared by
///   every interval with the same content (so two intervals have the same content exactly when
///   they have the same state and detail).
/// - `intervals`: compliance history as state intervals per cluster × rule × evaluated resource:
///   `[from_run, to_run)`, `to_run` NULL while open. An unchanged re-scan writes none. One B-tree
///   keyed by integers, every column an integer; `state` is a code (``Schema/states``). "At most
///   one open interval per subject" is kept by the writer and verified by `check()` rather than by
///   a partial unique index, which would double the cost of every insert.
/// - `strict_intervals`: the strict view (drift, runtime) per desired resource, change-only too.
/// - `operations`: the apply journal.
/// - `lease`: the single-writer lease.
///
/// Version 2 (DESIGN §6, §7: the apply journal, plans, resumable runs):
/// - `runs` is rebuilt (ids and rows kept) so that `status` takes the apply outcomes
///   (``ApplyRunStatus``: `running`, `succeeded`, `partial`, `halted`, `interrupted`, `failed`; a scan
///   is `running`, `succeeded`, `failed` or `interrupted` as before), with `resumes` (the run a resume
///   run finishes: at most one resume per run, so runs form chains apply ← resume ← resume) and the
///   apply summary `clusters_succeeded`, `clusters_failed`, `clusters_deferred`.
/// - `operations` is rebuilt (rows and ids kept) with `cluster_id` and `resource_id` compared
///   ignoring case (`COLLATE NOCASE`, as ARM compares them) and one index on the journal key
///   (run, cluster, resource, desired-body hash) in place of the (run, state) index.
/// - `plans`: a plan document by its `planId`, the run that recorded it, when, its cluster count,
///   and the apply run that consumed it (`applied_by`, `applied_at`: NULL until then; at most one
///   plan per apply run).
///
/// Version 3 (issue #4: recording 100,000 clusters):
/// - `clusters` is rebuilt (ids and rows kept) without the unique index on `arm_id`. ARM ids are
///   random, so that index took every new cluster at a random place with a case-insensitive
///   comparison of ~150-byte keys, and held a quarter of the file. The writer reads every cluster
///   before it writes any (it matches them ignoring case and never adds a second row for an id),
///   and `check()` verifies that no two rows share an id ignoring case. `arm_id` still compares
///   ignoring case (`COLLATE NOCASE`); a lookup by id reads the table.
public enum Schema {
    /// Every migration, oldest first.
    public static let migrations: [Migration] = [
        Migration(version: 1, summary: "runs, clusters, state intervals, operations, lease", sql: version1),
        Migration(version: 2, summary: "plans, the apply journal's key, apply and resume runs", sql: version2),
        Migration(version: 3, summary: "clusters without the unique index on arm_id", sql: version3),
    ]

    /// The compliance states by their code in `intervals.state`.
    public static let states: [ComplianceState] = [.compliant, .nonCompliant, .exempt, .unknown, .error]

    /// The code of a state in `intervals.state`.
    static func code(_ state: ComplianceState) -> Int64 {
        switch state {
        case .compliant: 0
        case .nonCompliant: 1
        case .exempt: 2
        case .unknown: 3
        case .error: 4
        }
    }

    /// The state of a code (Error for a code out of range).
    static func state(_ code: Int64) -> ComplianceState {
        code >= 0 && code < Int64(states.count) ? states[Int(code)] : .error
    }

    /// The version this FluxFleet writes.
    public static var currentVersion: Int { migrations.last!.version }

    static let version1 = """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('scan', 'plan', 'apply', 'resume')),
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            evaluated_at TEXT NOT NULL,
            evaluated_epoch INTEGER NOT NULL,
            inventory TEXT NOT NULL,
            inventory_digest TEXT NOT NULL,
            policies TEXT NOT NULL,
            policies_digest TEXT NOT NULL,
            clusters INTEGER NOT NULL,
            results INTEGER NOT NULL,
            resources INTEGER NOT NULL,
            compliant INTEGER NOT NULL,
            non_compliant INTEGER NOT NULL,
            exempt INTEGER NOT NULL,
            unknown INTEGER NOT NULL,
            error INTEGER NOT NULL,
            error_results INTEGER NOT NULL,
            drifted INTEGER NOT NULL,
            intervals_opened INTEGER NOT NULL DEFAULT 0,
            intervals_closed INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX runs_evaluated ON runs (evaluated_epoch);

        CREATE TABLE clusters (
            id INTEGER PRIMARY KEY,
            arm_id TEXT NOT NULL COLLATE NOCASE UNIQUE,
            name TEXT NOT NULL COLLATE NOCASE,
            kind TEXT NOT NULL,
            provisioned INTEGER NOT NULL,
            subscription_id TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            location TEXT NOT NULL,
            tags TEXT NOT NULL,
            eligibility_reason TEXT,
            facts_digest INTEGER NOT NULL,
            first_seen_run INTEGER NOT NULL REFERENCES runs (id),
            last_seen_run INTEGER REFERENCES runs (id),
            removed_run INTEGER REFERENCES runs (id),
            CHECK ((removed_run IS NULL) = (last_seen_run IS NULL))
        );

        CREATE TABLE assignments (
            id INTEGER PRIMARY KEY,
            arm_id TEXT NOT NULL COLLATE NOCASE UNIQUE,
            name TEXT NOT NULL
        );

        CREATE TABLE rules (
            id INTEGER PRIMARY KEY,
            assignment INTEGER NOT NULL REFERENCES assignments (id),
            reference_id TEXT NOT NULL COLLATE NOCASE,
            policy_definition_id TEXT NOT NULL COLLATE NOCASE,
            direct INTEGER NOT NULL,
            UNIQUE (assignment, reference_id, policy_definition_id)
        );

        CREATE TABLE resources (
            id INTEGER PRIMARY KEY,
            suffix TEXT NOT NULL UNIQUE
        );
        INSERT INTO resources (id, suffix) VALUES (0, '');

        CREATE TABLE details (
            id INTEGER PRIMARY KEY,
            digest INTEGER NOT NULL,
            body TEXT NOT NULL
        );
        CREATE INDEX details_digest ON details (digest);

        CREATE TABLE intervals (
            cluster INTEGER NOT NULL REFERENCES clusters (id),
            rule INTEGER NOT NULL REFERENCES rules (id),
            resource INTEGER NOT NULL REFERENCES resources (id),
            from_run INTEGER NOT NULL REFERENCES runs (id),
            to_run INTEGER REFERENCES runs (id),
            since_run INTEGER NOT NULL REFERENCES runs (id),
            state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),
            detail INTEGER NOT NULL REFERENCES details (id),
            PRIMARY KEY (cluster, rule, resource, from_run),
            CHECK (to_run IS NULL OR to_run > from_run),
            CHECK (since_run <= from_run)
        ) WITHOUT ROWID;

        CREATE TABLE strict_intervals (
            cluster INTEGER NOT NULL REFERENCES clusters (id),
            assignment INTEGER NOT NULL REFERENCES assignments (id),
            resource INTEGER NOT NULL REFERENCES resources (id),
            from_run INTEGER NOT NULL REFERENCES runs (id),
            to_run INTEGER REFERENCES runs (id),
            detail INTEGER NOT NULL REFERENCES details (id),
            PRIMARY KEY (cluster, assignment, resource, from_run),
            CHECK (to_run IS NULL OR to_run > from_run)
        ) WITHOUT ROWID;

        CREATE TABLE operations (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES runs (id),
            cluster_id TEXT NOT NULL,
            resource_id TEXT NOT NULL,
            desired_hash TEXT NOT NULL,
            action TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'succeeded', 'failed', 'cancelled')),
            correlation_id TEXT,
            request_id TEXT,
            error_code TEXT,
            error_message TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX operations_run ON operations (run, state);

        CREATE TABLE lease (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            token TEXT NOT NULL,
            holder TEXT NOT NULL,
            pid INTEGER NOT NULL,
            host TEXT NOT NULL,
            acquired_epoch INTEGER NOT NULL,
            heartbeat_epoch INTEGER NOT NULL
        );
        """

    static let version2 = """
        CREATE TABLE runs_v2 (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('scan', 'plan', 'apply', 'resume')),
            status TEXT NOT NULL
                CHECK (status IN ('running', 'succeeded', 'partial', 'halted', 'interrupted', 'failed')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            evaluated_at TEXT NOT NULL,
            evaluated_epoch INTEGER NOT NULL,
            inventory TEXT NOT NULL,
            inventory_digest TEXT NOT NULL,
            policies TEXT NOT NULL,
            policies_digest TEXT NOT NULL,
            clusters INTEGER NOT NULL,
            results INTEGER NOT NULL,
            resources INTEGER NOT NULL,
            compliant INTEGER NOT NULL,
            non_compliant INTEGER NOT NULL,
            exempt INTEGER NOT NULL,
            unknown INTEGER NOT NULL,
            error INTEGER NOT NULL,
            error_results INTEGER NOT NULL,
            drifted INTEGER NOT NULL,
            intervals_opened INTEGER NOT NULL DEFAULT 0,
            intervals_closed INTEGER NOT NULL DEFAULT 0,
            resumes INTEGER REFERENCES runs (id),
            clusters_succeeded INTEGER NOT NULL DEFAULT 0,
            clusters_failed INTEGER NOT NULL DEFAULT 0,
            clusters_deferred INTEGER NOT NULL DEFAULT 0,
            CHECK (resumes IS NULL OR (kind = 'resume' AND resumes < id))
        );
        INSERT INTO runs_v2 (id, kind, status, started_at, finished_at, evaluated_at, evaluated_epoch, inventory,
            inventory_digest, policies, policies_digest, clusters, results, resources, compliant, non_compliant,
            exempt, unknown, error, error_results, drifted, intervals_opened, intervals_closed)
        SELECT id, kind, status, started_at, finished_at, evaluated_at, evaluated_epoch, inventory,
            inventory_digest, policies, policies_digest, clusters, results, resources, compliant, non_compliant,
            exempt, unknown, error, error_results, drifted, intervals_opened, intervals_closed
        FROM runs ORDER BY id;
        DROP TABLE runs;
        ALTER TABLE runs_v2 RENAME TO runs;
        CREATE INDEX runs_evaluated ON runs (evaluated_epoch);
        CREATE UNIQUE INDEX runs_resumes ON runs (resumes) WHERE resumes IS NOT NULL;

        CREATE TABLE operations_v2 (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES runs (id),
            cluster_id TEXT NOT NULL COLLATE NOCASE,
            resource_id TEXT NOT NULL COLLATE NOCASE,
            desired_hash TEXT NOT NULL,
            action TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'accepted', 'succeeded', 'failed', 'cancelled')),
            correlation_id TEXT,
            request_id TEXT,
            error_code TEXT,
            error_message TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        INSERT INTO operations_v2 SELECT id, run, cluster_id, resource_id, desired_hash, action, state,
            correlation_id, request_id, error_code, error_message, created_at, updated_at
        FROM operations ORDER BY id;
        DROP TABLE operations;
        ALTER TABLE operations_v2 RENAME TO operations;
        CREATE INDEX operations_key ON operations (run, cluster_id, resource_id, desired_hash);

        CREATE TABLE plans (
            id TEXT PRIMARY KEY NOT NULL,
            run INTEGER REFERENCES runs (id),
            created_at TEXT NOT NULL,
            document BLOB NOT NULL,
            clusters INTEGER NOT NULL,
            applied_by INTEGER REFERENCES runs (id),
            applied_at TEXT,
            CHECK ((applied_by IS NULL) = (applied_at IS NULL))
        );
        CREATE UNIQUE INDEX plans_applied_by ON plans (applied_by) WHERE applied_by IS NOT NULL;
        CREATE INDEX plans_run ON plans (run) WHERE run IS NOT NULL;
        """

    static let version3 = """
        CREATE TABLE clusters_v3 (
            id INTEGER PRIMARY KEY,
            arm_id TEXT NOT NULL COLLATE NOCASE,
            name TEXT NOT NULL COLLATE NOCASE,
            kind TEXT NOT NULL,
            provisioned INTEGER NOT NULL,
            subscription_id TEXT NOT NULL,
            resource_group TEXT NOT NULL,
            location TEXT NOT NULL,
            tags TEXT NOT NULL,
            eligibility_reason TEXT,
            facts_digest INTEGER NOT NULL,
            first_seen_run INTEGER NOT NULL REFERENCES runs (id),
            last_seen_run INTEGER REFERENCES runs (id),
            removed_run INTEGER REFERENCES runs (id),
            CHECK ((removed_run IS NULL) = (last_seen_run IS NULL))
        );
        INSERT INTO clusters_v3 (id, arm_id, name, kind, provisioned, subscription_id, resource_group, location, tags,
            eligibility_reason, facts_digest, first_seen_run, last_seen_run, removed_run)
        SELECT id, arm_id, name, kind, provisioned, subscription_id, resource_group, location, tags,
            eligibility_reason, facts_digest, first_seen_run, last_seen_run, removed_run
        FROM clusters ORDER BY id;
        DROP TABLE clusters;
        ALTER TABLE clusters_v3 RENAME TO clusters;
        """
}
