import FleetCore
import Foundation

/// Access tokens by scope, refreshed before they expire, with at most one refresh per scope in flight.
///
/// A token is used until its `refreshOn`; after that the first caller refreshes it while the others keep using the
/// old token as long as it has not expired (and wait for the refresh when it has). A failed refresh falls back to
/// the old token while it is still valid. Safe to call from many threads.
final class TokenCache: @unchecked Sendable {
    private let condition = NSCondition()
    private var tokens: [String: AccessToken] = [:]
    private var refreshing: Set<String> = []
    private let clock: any RemediationClock & Sendable

    /// Creates an empty cache on a clock (milliseconds since 1970).
    init(clock: any RemediationClock & Sendable) {
        self.clock = clock
    }

    /// The current time in seconds since 1970.
    var nowSeconds: Int64 { clock.now / 1000 }

    /// Waits `seconds` on the cache's clock (between retries).
    func sleep(seconds: Int64) {
        clock.sleep(until: clock.now + seconds * 1000)
    }

    /// A token for `scope`: the cached one while it needs no refresh, otherwise one from `fetch`.
    func token(scope: String, fetch: (String) throws -> AccessToken) throws -> AccessToken {
        condition.lock()
        var previous: AccessToken?
        while true {
            let now = nowSeconds
            previous = tokens[scope]
            if let cached = previous, now < cached.refreshOn {
                condition.unlock()
                return cached
            }
            guard refreshing.contains(scope) else { break }
            if let cached = previous, now < cached.expiresOn {
                condition.unlock()
                return cached
            }
            condition.wait()
        }
        refreshing.insert(scope)
        condition.unlock()

        let result = Result { try fetch(scope) }
        condition.lock()
        refreshing.remove(scope)
        if case .success(let fresh) = result { tokens[scope] = fresh }
        condition.broadcast()
        condition.unlock()
        switch result {
        case .success(let fresh):
            return fresh
        case .failure(let error):
            if let previous, nowSeconds < previous.expiresOn { return previous }
            throw error
        }
    }
}
