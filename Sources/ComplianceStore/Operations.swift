/// Where an apply operation is: recorded before the request, updated at every change.
public enum OperationState: String, Sendable, CaseIterable {
    /// Recorded, not yet sent.
    case pending
    /// The request was sent; no answer yet.
    case sent
    /// ARM accepted it (201/202): a long-running operation is in progress.
    case accepted
    /// Done.
    case succeeded
    /// Failed (see the error code).
    case failed
    /// Not attempted because the run stopped.
    case cancelled

    /// Whether the operation has reached an end state.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// One entry of the apply journal.
public struct OperationRecord: Sendable, Hashable {
    /// The journal id.
    public var id: Int64
    /// The run it belongs to.
    public var run: Int64
    /// The cluster.
    public var clusterId: String
    /// The resource written.
    public var resourceId: String
    /// The hash of the desired body sent.
    public var desiredHash: String
    /// The plan action, such as `create-configuration`.
    public var action: String
    /// Where it is.
    public var state: OperationState
    /// ARM's `x-ms-correlation-request-id`.
    public var correlationId: String?
    /// ARM's `x-ms-request-id`.
    public var requestId: String?
    /// ARM's error code when it failed.
    public var errorCode: String?
    /// The error message (credentials masked).
    public var errorMessage: String?
    /// When it was recorded (ISO 8601 UTC).
    public var createdAt: String
    /// When it last changed.
    public var updatedAt: String
}

/// What an apply run was given, for its `runs` row.
public struct RunStart: Sendable, Hashable {
    /// The run kind.
    public var kind: RunKind
    /// When it started (ISO 8601 UTC).
    public var startedAt: String
    /// The evaluation time of the scan it acts on.
    public var evaluatedAt: String
    /// The inventory path as given.
    public var inventory: String
    /// The inventory digest.
    public var inventoryDigest: String
    /// The policies directory as given.
    public var policies: String
    /// The policies digest.
    public var policiesDigest: String

    /// Creates a run description.
    public init(
        kind: RunKind, startedAt: String, evaluatedAt: String, inventory: String, inventoryDigest: String,
        policies: String, policiesDigest: String
    ) {
        self.kind = kind
        self.startedAt = startedAt
        self.evaluatedAt = evaluatedAt
        self.inventory = inventory
        self.inventoryDigest = inventoryDigest
        self.policies = policies
        self.policiesDigest = policiesDigest
    }
}

extension ComplianceStore {
    /// Starts a run that records operations (an apply): status `running` until it is finished.
    ///
    /// Finish it with ``finishApplyRun(_:status:succeeded:failed:deferred:at:)`` (or ``finishRun(_:status:at:)``).
    /// A resume run starts with ``beginResume(of:startedAt:)``, which links it to the run it finishes.
    public func beginRun(_ start: RunStart) throws(StoreError) -> Int64 {
        try requireLease()
        return try guarded {
            try database.statement(
                """
                INSERT INTO runs (kind, status, started_at, evaluated_at, evaluated_epoch, inventory, inventory_digest,
                    policies, policies_digest, clusters, results, resources, compliant, non_compliant, exempt, unknown,
                    error, error_results, drifted)
                VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
                """
            ).run(
                .text(start.kind.rawValue), .text(start.startedAt), .text(start.evaluatedAt),
                .integer(StoreTime.epoch(start.evaluatedAt) ?? 0), .text(start.inventory), .text(start.inventoryDigest),
                .text(start.policies), .text(start.policiesDigest))
            let id = database.lastInsertRowID
            begunRuns.insert(id)
            return id
        }
    }

    /// Ends a run started with ``beginRun(_:)``.
    public func finishRun(_ run: Int64, status: String, at time: String) throws(StoreError) {
        try requireLease()
        try guarded {
            try database.statement("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?").run(
                .text(status), .text(time), .integer(run))
        }
    }

    /// Journals an operation before its request is sent (state `pending`); returns its id.
    public func recordOperation(
        run: Int64, clusterId: String, resourceId: String, desiredHash: String, action: String, at time: String
    ) throws(StoreError) -> Int64 {
        try requireLease()
        return try guarded {
            try database.statement(
                """
                INSERT INTO operations (run, cluster_id, resource_id, desired_hash, action, state, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
                """
            ).run(
                .integer(run), .text(clusterId), .text(resourceId), .text(desiredHash), .text(action), .text(time),
                .text(time))
            return database.lastInsertRowID
        }
    }

    /// Records a state change of an operation; nil arguments keep what was stored.
    public func updateOperation(
        _ id: Int64, state: OperationState, at time: String, correlationId: String? = nil, requestId: String? = nil,
        errorCode: String? = nil, errorMessage: String? = nil
    ) throws(StoreError) {
        try requireLease()
        try guarded {
            try database.statement(
                """
                UPDATE operations SET state = ?, updated_at = ?, correlation_id = coalesce(?, correlation_id),
                    request_id = coalesce(?, request_id), error_code = coalesce(?, error_code),
                    error_message = coalesce(?, error_message)
                WHERE id = ?
                """
            ).run(
                .text(state.rawValue), .text(time), correlationId.map(SQLValue.text) ?? .null,
                requestId.map(SQLValue.text) ?? .null, errorCode.map(SQLValue.text) ?? .null,
                errorMessage.map { SQLValue.text(Details.masked($0)) } ?? .null, .integer(id))
            if database.changes == 0 {
                throw SQLiteError(code: 12, message: "the journal has no operation \(id)", sql: nil)
            }
        }
    }

    /// The operations of a run that have not reached an end state, in journal order (what `resume` redoes).
    public func unfinishedOperations(run: Int64) throws(StoreError) -> [OperationRecord] {
        try operations(run: run).filter { !$0.state.isFinished }
    }

    /// Every operation of a run, in journal order.
    public func operations(run: Int64) throws(StoreError) -> [OperationRecord] {
        try guarded {
            var out: [OperationRecord] = []
            try database.statement(
                """
                SELECT id, run, cluster_id, resource_id, desired_hash, action, state, correlation_id, request_id,
                    error_code, error_message, created_at, updated_at
                FROM operations WHERE run = ? ORDER BY id
                """
            ).query(.integer(run)) { r in
                out.append(
                    OperationRecord(
                        id: r.int64(0), run: r.int64(1), clusterId: r.text(2), resourceId: r.text(3),
                        desiredHash: r.text(4), action: r.text(5),
                        state: OperationState(rawValue: r.text(6)) ?? .failed,
                        correlationId: r.optionalText(7), requestId: r.optionalText(8), errorCode: r.optionalText(9),
                        errorMessage: r.optionalText(10), createdAt: r.text(11), updatedAt: r.text(12)))
            }
            return out
        }
    }
}
