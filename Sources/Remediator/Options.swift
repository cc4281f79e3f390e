/// How the Remediator paces, retries and waits.
///
/// Durations are milliseconds on the ``RemediationClock``.
public struct RemediatorOptions: Sendable, Hashable {
    /// The per-subscription limits the client-side token buckets follow.
    public var limits: ARMRateLimits = .arm
    /// How many clusters are worked on at once, over the whole run (the global in-flight cap).
    public var maxInFlight: Int = 64
    /// How many times one request is retried after a 5xx, a timeout or a dropped connection.
    public var maxTransientRetries: Int = 8
    /// How many 429 answers one request may get before its cluster fails (each one waits `Retry-After`).
    public var maxThrottleRetries: Int = 100
    /// The first backoff delay; it doubles on each retry.
    public var backoffBase: Int64 = 1_000
    /// The longest backoff delay.
    public var backoffMax: Int64 = 60_000
    /// The seed of the backoff jitter (the same seed gives the same delays).
    public var seed: UInt64 = 0
    /// How long to wait between polls of a long-running operation when the answer has no `Retry-After`.
    public var defaultPollInterval: Int64 = 5_000
    /// How long a long-running operation may take before its cluster fails with `OperationTimedOut`.
    public var operationTimeout: Int64 = 30 * 60_000
    /// Whether to wait, after the configurations are written, for Flux to report `complianceState: Compliant`.
    public var waitForCompliance: Bool = false
    /// How long to wait for `Compliant` before the cluster fails with `ComplianceTimedOut`.
    public var complianceTimeout: Int64 = 10 * 60_000
    /// How often to read a configuration's `complianceState` while waiting.
    public var compliancePollInterval: Int64 = 15_000
    /// How many requests may be on the wire at once (1: one at a time).
    ///
    /// Above 1, requests that are due together are sent together from a pool of threads, and their answers are
    /// handled in the order they were scheduled; the transport must then be safe to call from several threads
    /// (`URLSessionTransport` is). Leave it at 1 for a transport on a virtual clock (the in-process emulator),
    /// whose requests take no time anyway and whose runs must stay deterministic.
    public var concurrentSends: Int = 1

    /// The defaults: ARM's limits, 64 clusters at once, no compliance wait.
    public init() {}
}
