import FleetCore
import Remediator

/// The Remediator's journal in the store: every record is committed to the `operations` table before
/// ``record(_:)`` returns, so a crash at any point loses nothing that was recorded.
///
/// A journal belongs to one apply or resume run (``run``). The first record of a key (cluster,
/// resource, desired-body hash; ids compared ignoring case) inserts a row in that run, later ones
/// update it: state, ARM's request and correlation ids (kept when a later answer has none), error
/// code, time. ``lastState(run:clusterId:resourceId:desiredHash:)`` answers from memory: the states
/// of the whole chain (the apply run and the resume runs before this one, the latest state of each
/// key winning) are loaded once when the journal is made and kept current by ``record(_:)``, so a
/// resume of thousands of clusters does not query per operation.
///
/// ``record(_:)`` cannot throw (the Remediator's protocol): the first failure is kept in ``failure``
/// and nothing more is written. The caller checks it and stops the run. Not thread-safe, like the
/// store it writes to.
public final class StoreJournal: RemediationJournal {
    /// The store written to (opened for writing).
    public let store: ComplianceStore
    /// The run journalled (an apply or resume run), as ``JournalEntry/run`` carries it.
    public let run: Int64
    /// The runs whose journal ``lastState(run:clusterId:resourceId:desiredHash:)`` sees, oldest first,
    /// ending with ``run``.
    public let chain: [Int64]
    /// The first error met while recording; once set, ``record(_:)`` writes nothing more.
    public private(set) var failure: StoreError?
    /// Records committed by this journal.
    public private(set) var recorded = 0

    private let runText: String
    /// The latest state per key across the chain, and the row of the key in ``run`` once it has one.
    private var index: [JournalKey: (row: Int64?, state: JournalState)] = [:]

    /// How often (in seconds of the lease's clock) a record also refreshes the lease's heartbeat.
    public static let heartbeatInterval: Int64 = 30

    /// Opens the journal of `run`, loading the chain's journal into memory.
    ///
    /// - Throws: ``StoreError/unknownRun(_:path:)``, ``StoreError/notResumable(_:reason:path:)`` when
    ///   `run` is not an apply or resume run, or the error of reading the journal.
    public init(store: ComplianceStore, run: Int64) throws(StoreError) {
        self.store = store
        self.run = run
        self.runText = String(run)
        let kind = try store.run(run).kind
        guard kind == RunKind.apply.rawValue || kind == RunKind.resume.rawValue else {
            throw StoreError.notResumable(
                run, reason: "it is a \(kind) run; only apply and resume runs keep a journal", path: store.path)
        }
        chain = try store.chain(endingAt: run)
        for id in chain {
            try store.guarded {
                try store.database.statement(
                    "SELECT id, cluster_id, resource_id, desired_hash, state FROM operations WHERE run = ? ORDER BY id"
                ).query(.integer(id)) { row in
                    let key = JournalKey(clusterId: row.text(1), resourceId: row.text(2), hash: row.text(3))
                    let state = JournalState(rawValue: row.text(4)) ?? .failed
                    index[key] = (id == run ? row.int64(0) : nil, state)
                }
            }
        }
    }

    /// Commits `entry` (its own transaction) and updates the in-memory index; after a failure, does nothing.
    ///
    /// The error code is stored with URL credentials masked; the time (`entry.at`, ms since 1970) as
    /// ISO 8601 UTC with milliseconds.
    public func record(_ entry: JournalEntry) {
        guard failure == nil else { return }
        guard entry.run == runText else {
            failure = StoreError.journalRunMismatch(entry: entry.run, journal: run, path: store.path)
            return
        }
        let key = JournalKey(clusterId: entry.clusterId, resourceId: entry.resourceId, hash: entry.desiredHash)
        let row = index[key]?.row
        let time = StoreTime.isoMillis(entry.at)
        let errorCode = entry.errorCode.map(Details.masked)
        do {
            try store.requireLease()
            // One statement is its own transaction (committed when it returns); with the heartbeat
            // due, both go in one.
            let written: Int64 = try store.guarded {
                if store.heartbeatDue(every: Self.heartbeatInterval) {
                    return try store.database.transaction {
                        let id = try write(entry, row: row, time: time, errorCode: errorCode)
                        try store.heartbeatIfDue(every: Self.heartbeatInterval)
                        return id
                    }
                }
                return try write(entry, row: row, time: time, errorCode: errorCode)
            }
            index[key] = (written, entry.state)
            recorded += 1
        } catch {
            failure = error
        }
    }

    /// Inserts the first record of a key in this run, or updates its row; returns the row id.
    private func write(_ entry: JournalEntry, row: Int64?, time: String, errorCode: String?) throws -> Int64 {
        let id: Int64
        if let row {
            try store.database.statement(
                """
                UPDATE operations SET state = ?, action = ?, updated_at = ?,
                    request_id = coalesce(?, request_id), correlation_id = coalesce(?, correlation_id),
                    error_code = coalesce(?, error_code)
                WHERE id = ?
                """
            ).run(
                .text(entry.state.rawValue), .text(entry.action), .text(time),
                entry.requestId.map(SQLValue.text) ?? .null,
                entry.correlationId.map(SQLValue.text) ?? .null,
                errorCode.map(SQLValue.text) ?? .null, .integer(row))
            id = row
        } else {
            try store.database.statement(
                """
                INSERT INTO operations (run, cluster_id, resource_id, desired_hash, action, state,
                    request_id, correlation_id, error_code, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).run(
                .integer(run), .text(entry.clusterId), .text(entry.resourceId), .text(entry.desiredHash),
                .text(entry.action), .text(entry.state.rawValue),
                entry.requestId.map(SQLValue.text) ?? .null,
                entry.correlationId.map(SQLValue.text) ?? .null,
                errorCode.map(SQLValue.text) ?? .null, .text(time), .text(time))
            id = store.database.lastInsertRowID
        }
        return id
    }

    /// The latest state of the operation in the chain of `run` (this journal's run; another run is
    /// read from the database), or nil when it was never journalled.
    public func lastState(run: String, clusterId: String, resourceId: String, desiredHash: String) -> JournalState? {
        let key = JournalKey(clusterId: clusterId, resourceId: resourceId, hash: desiredHash)
        if run == runText { return index[key]?.state }
        guard let other = Int64(run), let chain = try? store.chain(endingAt: other) else { return nil }
        var state: JournalState?
        for id in chain {
            try? store.database.statement(
                """
                SELECT state FROM operations WHERE run = ? AND cluster_id = ? AND resource_id = ? AND desired_hash = ?
                ORDER BY id DESC LIMIT 1
                """
            ).query(.integer(id), .text(clusterId), .text(resourceId), .text(desiredHash)) {
                state = JournalState(rawValue: $0.text(0)) ?? .failed
            }
        }
        return state
    }

    /// Stores the message of a cluster's failure (ARM's message, URL credentials masked) on the
    /// cluster's last failed operation in this run; returns false when it has none.
    ///
    /// The Remediator's journal entries carry error codes only; its outcome carries the message
    /// (``RemediationFailure/message``), which the run's summary and `db` reports show.
    @discardableResult
    public func recordFailureMessage(clusterId: String, message: String) throws(StoreError) -> Bool {
        try store.requireLease()
        return try store.guarded {
            try store.database.statement(
                """
                UPDATE operations SET error_message = ? WHERE id = (
                    SELECT max(id) FROM operations WHERE run = ? AND cluster_id = ? AND state = 'failed')
                """
            ).run(.text(Details.masked(message)), .integer(run), .text(clusterId))
            return store.database.changes == 1
        }
    }
}

extension StoreTime {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` for milliseconds since 1970.
    public static func isoMillis(_ milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let ms = milliseconds - seconds * 1000
        let text = iso(seconds)
        let digits = String(ms)
        return text.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
