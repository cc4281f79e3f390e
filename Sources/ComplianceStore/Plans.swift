import FleetCore

/// A plan as the store holds it.
public struct StoredPlan: Sendable, Hashable {
    /// The plan document's `planId`.
    public var id: String
    /// The run that recorded it (nil when it was saved outside a run, or that run was pruned).
    public var run: Int64?
    /// When it was recorded (ISO 8601 UTC).
    public var createdAt: String
    /// The clusters the plan covers.
    public var clusters: Int
    /// The apply run that consumed it (nil while it has not been applied).
    public var appliedBy: Int64?
    /// When it was consumed (ISO 8601 UTC).
    public var appliedAt: String?
    /// The plan JSON document, byte for byte as saved (it holds secret references, never values).
    public var document: [UInt8]
}

extension ComplianceStore {
    /// Records a plan document under its `planId`; returns false when that plan was already recorded.
    ///
    /// A plan id is the SHA-256 of the plan's content, so a second save of the same id is the same
    /// plan: the first record (its run, time and consumption) is kept unchanged.
    ///
    /// - Parameters:
    ///   - id: The document's `planId`.
    ///   - document: The plan JSON (secret references only, never values).
    ///   - clusters: How many clusters the plan covers.
    ///   - run: The run that made the plan, if any.
    ///   - time: When (ISO 8601 UTC).
    @discardableResult
    public func savePlan(id: String, document: [UInt8], clusters: Int, run: Int64?, at time: String)
        throws(StoreError) -> Bool
    {
        try requireLease()
        return try guarded {
            let statement = try database.statement(
                """
                INSERT INTO plans (id, run, created_at, document, clusters) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING
                """)
            statement.bind(1, id)
            statement.bind(2, run)
            statement.bind(3, time)
            statement.bind(4, blob: document)
            statement.bind(5, clusters)
            try statement.execute()
            return database.changes == 1
        }
    }

    /// Marks a recorded plan consumed by apply run `run`, atomically: of two runs claiming the same
    /// plan (even from two processes), exactly one succeeds.
    ///
    /// - Throws: ``StoreError/planConsumed(_:run:at:path:)`` naming the run and time it was applied
    ///   by when it was consumed before (the CLI exits 75 with that message);
    ///   ``StoreError/unknownPlan(_:path:)`` when it was never recorded (save it first).
    public func claimPlan(id: String, run: Int64, at time: String) throws(StoreError) {
        try requireLease()
        let claimed: Bool = try guarded {
            // One statement: SQLite runs it under the write lock, so the test and the mark cannot interleave.
            try database.statement(
                "UPDATE plans SET applied_by = ?, applied_at = ? WHERE id = ? AND applied_by IS NULL"
            ).run(.integer(run), .text(time), .text(id))
            return database.changes == 1
        }
        if claimed { return }
        guard let plan = try storedPlan(where: "id = ?", .text(id)) else {
            throw StoreError.unknownPlan(id, path: path)
        }
        throw StoreError.planConsumed(id, run: plan.appliedBy ?? 0, at: plan.appliedAt ?? "?", path: path)
    }

    /// The plan recorded under `id`, or nil.
    public func plan(id: String) throws(StoreError) -> StoredPlan? {
        try storedPlan(where: "id = ?", .text(id))
    }

    /// The plan a run works on, or nil: for an apply run the plan it consumed, for a resume run the
    /// plan of the apply run its chain starts with, for a plan run the plan it recorded.
    public func planForRun(_ run: Int64) throws(StoreError) -> StoredPlan? {
        let root = try chain(endingAt: run).first ?? run
        if let applied = try storedPlan(where: "applied_by = ?", .integer(root)) { return applied }
        return try storedPlan(where: "run = ? ORDER BY created_at DESC, id LIMIT 1", .integer(run))
    }

    private func storedPlan(where condition: String, _ value: SQLValue) throws(StoreError) -> StoredPlan? {
        try guarded {
            var plan: StoredPlan?
            try database.statement(
                "SELECT id, run, created_at, clusters, applied_by, applied_at, document FROM plans WHERE \(condition)"
            ).query(value) { row in
                if plan == nil {
                    plan = StoredPlan(
                        id: row.text(0), run: row.optionalInt64(1), createdAt: row.text(2), clusters: row.int(3),
                        appliedBy: row.optionalInt64(4), appliedAt: row.optionalText(5), document: row.blob(6))
                }
            }
            return plan
        }
    }
}
