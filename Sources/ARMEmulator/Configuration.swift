import FleetCore

/// How the emulator behaves: delays of long-running operations and of Flux compliance, throttling, faults.
///
/// Every duration is in milliseconds of the virtual clock.
public struct EmulatorConfiguration: Sendable, Hashable {
    /// How long an extension create or update takes to reach `Succeeded`.
    public var extensionProvisioningDelay: Int64 = 60_000
    /// How long a fluxConfiguration create or update takes to reach `Succeeded`.
    public var configurationProvisioningDelay: Int64 = 20_000
    /// How long a delete takes to finish.
    public var deletionDelay: Int64 = 10_000
    /// How long after its operation succeeds a fluxConfiguration goes from `Pending` to `Compliant`
    /// (or `Suspended` when `suspend` is true).
    public var complianceDelay: Int64 = 30_000
    /// How often the Flux agent of a reachable cluster reports status: `statusUpdatedAt` reads as the
    /// last multiple of this interval, so it stays current while the clock moves.
    public var statusReportInterval: Int64 = 60_000
    /// The `Retry-After` (seconds) sent with long-running operations while they run.
    public var pollRetryAfterSeconds: Int = 5
    /// The version an installed `microsoft.flux` extension reports when none is pinned.
    public var fluxExtensionVersion: String = FluxVersionCatalog.builtIn.latest.description
    /// ARM's per-subscription throttling; `nil` turns it off (the rate-limit headers are then not sent).
    public var throttling: ThrottlingLimits? = .arm
    /// Resource Graph's per-client quota; `nil` turns it off.
    public var resourceGraphQuota: ResourceGraphQuota? = .standard
    /// The faults to inject.
    public var faults: FaultPlan = FaultPlan()
    /// The seed of every pseudo-random choice (fault decisions, operation and request ids).
    public var seed: UInt64 = 0
    /// The scheme and host put in front of the URLs the emulator returns (`Azure-AsyncOperation`,
    /// `Location`, `nextLink`); the loopback server sets its own address.
    public var baseURL: String = "https://management.azure.com"
    /// Whether ARM and Resource Graph requests need a bearer token this emulator issued, for ARM's audience (401
    /// without, 403 for a forbidden client).
    public var requireBearerToken: Bool = false
    /// The credentials the token endpoints accept and the clients refused.
    public var authentication = EmulatorAuthentication()
    /// How many items an ARM list returns per page before a `nextLink`.
    public var listPageSize: Int = 100
    /// Scopes under a resource lock (`ReadOnly`/`CanNotDelete`): writes and deletes of resources under them answer
    /// 409 `ScopeLocked`, as ARM does (ids compared ignoring case).
    public var lockedScopes: [String] = []
    /// Management groups and their subscriptions, by lowercased group id: a Resource Graph query scoped to a group
    /// reads those subscriptions, and one to a group not listed answers 403 (empty: groups are not checked).
    public var managementGroups: [String: [String]] = [:]
    /// The most rows a Resource Graph page holds, whatever `options.$top` asks (Resource Graph's own cap is
    /// 1000); a smaller value makes a small fleet answer in several pages.
    public var resourceGraphMaxPageSize: Int = 1000

    /// The defaults: ARM's throttling and Resource Graph's quota on, no faults, seed 0.
    public init() {}
}

/// ARM's token buckets for one subscription (Learn: "Understand how Azure Resource Manager throttles requests"):
/// one per operation type, reads, writes and deletes.
public struct ThrottlingLimits: Sendable, Hashable {
    /// The write bucket's size (PUT, PATCH, POST).
    public var writeBurst: Int
    /// Write tokens added per second.
    public var writeRefillPerSecond: Int
    /// The delete bucket's size (DELETE): its own bucket, the same size as the write bucket in ARM's model.
    public var deleteBurst: Int
    /// Delete tokens added per second.
    public var deleteRefillPerSecond: Int
    /// The read bucket's size (GET, HEAD).
    public var readBurst: Int
    /// Read tokens added per second.
    public var readRefillPerSecond: Int

    /// Creates limits; the delete bucket is the write bucket's size and refill unless given.
    public init(
        writeBurst: Int, writeRefillPerSecond: Int, readBurst: Int, readRefillPerSecond: Int,
        deleteBurst: Int? = nil, deleteRefillPerSecond: Int? = nil
    ) {
        self.writeBurst = writeBurst
        self.writeRefillPerSecond = writeRefillPerSecond
        self.readBurst = readBurst
        self.readRefillPerSecond = readRefillPerSecond
        self.deleteBurst = deleteBurst ?? writeBurst
        self.deleteRefillPerSecond = deleteRefillPerSecond ?? writeRefillPerSecond
    }

    /// ARM's subscription limits: writes 200 burst refilling 10/s, deletes the same in their own bucket, reads
    /// 250 burst refilling 25/s.
    public static let arm = ThrottlingLimits(
        writeBurst: 200, writeRefillPerSecond: 10, readBurst: 250, readRefillPerSecond: 25)
}

/// Resource Graph's per-client quota: a number of queries per fixed window.
public struct ResourceGraphQuota: Sendable, Hashable {
    /// Queries allowed per window.
    public var queries: Int
    /// The window's length in milliseconds.
    public var window: Int64

    /// Creates a quota.
    public init(queries: Int, window: Int64) {
        self.queries = queries
        self.window = window
    }

    /// The documented default: 15 queries per 5 seconds.
    public static let standard = ResourceGraphQuota(queries: 15, window: 5_000)
}
