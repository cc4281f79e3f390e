/// Where one journalled operation is (the same states as the store's apply journal).
public enum JournalState: String, Sendable, Hashable, CaseIterable {
    /// Recorded, not yet sent.
    case pending
    /// The request was sent; no answer yet.
    case sent
    /// ARM accepted it: a long-running operation is in progress.
    case accepted
    /// Done.
    case succeeded
    /// Failed (see the error code).
    case failed
    /// Not attempted because the run stopped.
    case cancelled
}

/// One journal record: written before each request and at each state change of an operation.
public struct JournalEntry: Sendable, Hashable {
    /// The run.
    public var run: String
    /// The cluster's ARM id.
    public var clusterId: String
    /// The resource written.
    public var resourceId: String
    /// The hash of the desired body, taken before secrets are resolved (see ``DesiredBody/hash(of:)``).
    public var desiredHash: String
    /// The plan action, such as `create-configuration`.
    public var action: String
    /// Where the operation is.
    public var state: JournalState
    /// ARM's `x-ms-request-id` of the last answer.
    public var requestId: String?
    /// ARM's `x-ms-correlation-request-id` of the last answer.
    public var correlationId: String?
    /// ARM's error code when it failed.
    public var errorCode: String?
    /// The virtual or real time of the record (ms since 1970).
    public var at: Int64

    /// Creates an entry.
    public init(
        run: String, clusterId: String, resourceId: String, desiredHash: String, action: String, state: JournalState,
        requestId: String? = nil, correlationId: String? = nil, errorCode: String? = nil, at: Int64
    ) {
        self.run = run
        self.clusterId = clusterId
        self.resourceId = resourceId
        self.desiredHash = desiredHash
        self.action = action
        self.state = state
        self.requestId = requestId
        self.correlationId = correlationId
        self.errorCode = errorCode
        self.at = at
    }
}

/// Where the Remediator records what it does, so that a resumed run skips what already succeeded.
public protocol RemediationJournal: AnyObject {
    /// Records an entry (called before each request and at each state change).
    func record(_ entry: JournalEntry)
    /// The last recorded state of the operation on `resourceId` of `clusterId` with this desired body in `run`
    /// (nil when there is none): `succeeded` is skipped on resume, `accepted` is polled instead of re-sent.
    func lastState(run: String, clusterId: String, resourceId: String, desiredHash: String) -> JournalState?
}

/// A journal in memory, for tests and `--simulate`.
public final class InMemoryJournal: RemediationJournal {
    /// Every entry in the order recorded.
    public private(set) var entries: [JournalEntry] = []
    /// The last state per run, cluster, resource (both lowercased) and desired hash.
    private var latest: [Key: JournalState] = [:]

    private struct Key: Hashable {
        var run: String
        var clusterId: String
        var resourceId: String
        var desiredHash: String
    }

    /// An empty journal.
    public init() {}

    /// Appends an entry.
    public func record(_ entry: JournalEntry) {
        entries.append(entry)
        latest[
            Key(
                run: entry.run, clusterId: entry.clusterId.lowercased(), resourceId: entry.resourceId.lowercased(),
                desiredHash: entry.desiredHash)] = entry.state
    }

    /// The state of the last entry with the same run, cluster, resource and desired hash.
    public func lastState(run: String, clusterId: String, resourceId: String, desiredHash: String) -> JournalState? {
        latest[
            Key(
                run: run, clusterId: clusterId.lowercased(), resourceId: resourceId.lowercased(),
                desiredHash: desiredHash)
        ]
    }
}
