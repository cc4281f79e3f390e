import FleetCore

/// ARM's per-subscription request limits the Remediator keeps within.
public struct ARMRateLimits: Sendable, Hashable {
    /// The write bucket's size (PUT, PATCH, POST).
    public var writeBurst: Int
    /// Write tokens added per second.
    public var writeRefillPerSecond: Int
    /// The read bucket's size (GET).
    public var readBurst: Int
    /// Read tokens added per second.
    public var readRefillPerSecond: Int
    /// The delete bucket's size (ARM keeps deletes in a bucket of their own).
    public var deleteBurst: Int
    /// Delete tokens added per second.
    public var deleteRefillPerSecond: Int

    /// Creates limits; deletes default to the write limits.
    public init(
        writeBurst: Int, writeRefillPerSecond: Int, readBurst: Int, readRefillPerSecond: Int, deleteBurst: Int? = nil,
        deleteRefillPerSecond: Int? = nil
    ) {
        self.writeBurst = writeBurst
        self.writeRefillPerSecond = writeRefillPerSecond
        self.readBurst = readBurst
        self.readRefillPerSecond = readRefillPerSecond
        self.deleteBurst = deleteBurst ?? writeBurst
        self.deleteRefillPerSecond = deleteRefillPerSecond ?? writeRefillPerSecond
    }

    /// ARM's documented subscription limits: writes 200 burst refilling 10 per second, deletes the same in their own
    /// bucket, reads 250 refilling 25.
    public static let arm = ARMRateLimits(
        writeBurst: 200, writeRefillPerSecond: 10, readBurst: 250, readRefillPerSecond: 25)
}

/// Which of ARM's buckets a request spends a token from: reads, writes, or deletes (their own bucket in ARM's
/// model).
public enum RequestClass: String, Sendable, Hashable {
    /// GET and HEAD.
    case read
    /// PUT, PATCH and POST.
    case write
    /// DELETE.
    case delete

    /// The class of an HTTP method.
    public init(method: String) {
        switch method.uppercased() {
        case "GET", "HEAD": self = .read
        case "DELETE": self = .delete
        default: self = .write
        }
    }

    /// The suffix of ARM's `x-ms-ratelimit-remaining-subscription-…` header for the class.
    var headerSuffix: String {
        switch self {
        case .read: "reads"
        case .write: "writes"
        case .delete: "deletes"
        }
    }
}

/// A token bucket counted in thousandths of a token, refilled continuously on the clock it is given.
public struct RateBucket: Sendable, Hashable {
    /// The bucket's size in tokens.
    public let burst: Int
    /// Tokens added per second.
    public let refillPerSecond: Int
    /// Thousandths of a token in the bucket.
    public private(set) var milliTokens: Int64
    /// When the bucket was last refilled (ms since 1970).
    public private(set) var updatedAt: Int64

    /// A full bucket at `time`.
    public init(burst: Int, refillPerSecond: Int, at time: Int64) {
        self.burst = burst
        self.refillPerSecond = refillPerSecond
        self.milliTokens = Int64(burst) * 1000
        self.updatedAt = time
    }

    /// Refills for the time passed since the last refill.
    public mutating func refill(to time: Int64) {
        guard time > updatedAt else { return }
        milliTokens = min(Int64(burst) * 1000, milliTokens + (time - updatedAt) * Int64(refillPerSecond))
        updatedAt = time
    }

    /// When one whole token is available: `time` itself when there is one now.
    public func readyTime(from time: Int64) -> Int64 {
        var copy = self
        copy.refill(to: time)
        let missing = 1000 - copy.milliTokens
        guard missing > 0 else { return time }
        guard refillPerSecond > 0 else { return Int64.max }
        return time + (missing + Int64(refillPerSecond) - 1) / Int64(refillPerSecond)
    }

    /// Takes one token at `time` if there is one.
    public mutating func take(at time: Int64) -> Bool {
        refill(to: time)
        guard milliTokens >= 1000 else { return false }
        milliTokens -= 1000
        return true
    }

    /// Trusts the server's count: `remaining` whole tokens left after the request just answered.
    ///
    /// The fraction the server may hold beyond `remaining` is not known, so the bucket is set to exactly
    /// `remaining` tokens (never more than the burst).
    public mutating func correct(remaining: Int, at time: Int64) {
        refill(to: time)
        milliTokens = min(Int64(burst) * 1000, Int64(max(0, remaining)) * 1000)
    }

    /// Empties the bucket (after a 429: the server has no tokens).
    public mutating func drain(at time: Int64) {
        refill(to: time)
        milliTokens = 0
    }
}

/// The read and write buckets of every subscription the Remediator writes to.
public struct SubscriptionRateLimiter: Sendable {
    /// The limits each subscription gets.
    public let limits: ARMRateLimits
    private var buckets: [String: (reads: RateBucket, writes: RateBucket, deletes: RateBucket)] = [:]

    /// Creates a limiter with full buckets for every subscription it meets.
    public init(limits: ARMRateLimits = .arm) {
        self.limits = limits
    }

    private mutating func withBucket<T>(
        _ subscription: String, _ kind: RequestClass, at time: Int64, _ body: (inout RateBucket) -> T
    ) -> T {
        let key = subscription.lowercased()
        var pair =
            buckets[key]
            ?? (
                RateBucket(burst: limits.readBurst, refillPerSecond: limits.readRefillPerSecond, at: time),
                RateBucket(burst: limits.writeBurst, refillPerSecond: limits.writeRefillPerSecond, at: time),
                RateBucket(burst: limits.deleteBurst, refillPerSecond: limits.deleteRefillPerSecond, at: time)
            )
        let result: T
        switch kind {
        case .read: result = body(&pair.reads)
        case .write: result = body(&pair.writes)
        case .delete: result = body(&pair.deletes)
        }
        buckets[key] = pair
        return result
    }

    /// When a request of `kind` to `subscription` may go: `time` when a token is there now.
    public mutating func readyTime(_ subscription: String, _ kind: RequestClass, from time: Int64) -> Int64 {
        withBucket(subscription, kind, at: time) { $0.readyTime(from: time) }
    }

    /// Takes a token if there is one.
    public mutating func take(_ subscription: String, _ kind: RequestClass, at time: Int64) -> Bool {
        withBucket(subscription, kind, at: time) { $0.take(at: time) }
    }

    /// Corrects the bucket from an answer's `x-ms-ratelimit-remaining-subscription-reads|writes|deletes` header; a
    /// 429 empties it.
    public mutating func observe(
        _ response: ARMHTTPResponse, subscription: String, kind: RequestClass, at time: Int64
    ) {
        let header = "x-ms-ratelimit-remaining-subscription-\(kind.headerSuffix)"
        if response.status == 429 {
            withBucket(subscription, kind, at: time) { $0.drain(at: time) }
        } else if let text = response.header(header), let remaining = Int(text.trimmingASCIISpaces()) {
            withBucket(subscription, kind, at: time) { $0.correct(remaining: remaining, at: time) }
        }
    }

    /// Whole tokens left for `kind` in `subscription` at `time`.
    public mutating func remaining(_ subscription: String, _ kind: RequestClass, at time: Int64) -> Int {
        withBucket(subscription, kind, at: time) { bucket in
            bucket.refill(to: time)
            return Int(bucket.milliTokens / 1000)
        }
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs.
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
