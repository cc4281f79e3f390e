import Synchronization

/// A request to stop a run, shared between whoever asks (a SIGINT handler, a test) and the Remediator.
///
/// Once requested, the Remediator starts no new cluster and no new operation; operations already sent are
/// followed to their end (the drain), and every cluster that did not finish ends `deferred` with the reason
/// `interrupted`. Asking twice is harmless; ``requests`` counts the asks, so a CLI can abort on the second.
public final class RemediationStop: Sendable {
    private let asked = Atomic<Int>(0)

    /// A token nobody has set yet.
    public init() {}

    /// Asks the run to stop (safe from any thread).
    public func request() {
        asked.add(1, ordering: .sequentiallyConsistent)
    }

    /// Whether a stop was asked.
    public var isRequested: Bool { asked.load(ordering: .sequentiallyConsistent) > 0 }

    /// How many times a stop was asked.
    public var requests: Int { asked.load(ordering: .sequentiallyConsistent) }
}

/// Where a run is: the counts a progress bar or a log line shows.
public struct RemediationProgress: Sendable, Hashable {
    /// Clusters with actions in the run (every wave).
    public var total = 0
    /// Clusters that ended (succeeded, failed, or deferred by a halt or a stop).
    public var finished = 0
    /// Clusters that succeeded.
    public var succeeded = 0
    /// Clusters that failed.
    public var failed = 0
    /// Clusters deferred by the run (halted, interrupted, or in no wave).
    public var deferred = 0
    /// Clusters being worked on now.
    public var inFlight = 0
    /// Requests, writes, 429s and throttle waits so far in the run.
    public var statistics = RemediationStatistics()
    /// When the run started on its clock (ms since 1970).
    public var startedAt: Int64 = 0
    /// The clock's time at the event (ms since 1970).
    public var now: Int64 = 0

    /// Creates empty progress.
    public init() {}

    /// Clusters finished per minute of the run so far (0 before a minute's worth of data exists).
    public var clustersPerMinute: Double {
        let elapsed = now - startedAt
        guard elapsed > 0, finished > 0 else { return 0 }
        return Double(finished) * 60_000 / Double(elapsed)
    }

    /// The estimated time left in ms at the rate so far; nil before the first cluster finished.
    public var estimatedRemaining: Int64? {
        guard finished > 0, now > startedAt else { return nil }
        let perCluster = Double(now - startedAt) / Double(finished)
        return Int64((perCluster * Double(max(0, total - finished))).rounded())
    }
}

/// Something that happened during a run, for a progress bar or log lines.
public enum RemediationEvent: Sendable, Hashable {
    /// A wave starts with this many clusters that have actions.
    case waveStarted(name: String, clusters: Int)
    /// Work on a cluster starts.
    case clusterStarted(clusterId: String, name: String)
    /// A cluster ended.
    case clusterFinished(ClusterOutcome)
    /// A request waits for throttling: the client-side bucket of `subscription` is empty (`serverSide` false) or
    /// ARM answered 429 (`serverSide` true); `wait` is in ms.
    case throttled(subscription: String, kind: RequestClass, wait: Int64, serverSide: Bool)
    /// A wave ended.
    case waveFinished(WaveResult)
    /// The run soaks after a wave until `until` (ms since 1970).
    case soaking(wave: String, until: Int64)
    /// A stop was seen: no new cluster starts; `draining` clusters finish the operation they have in flight.
    case stopping(draining: Int)
}
