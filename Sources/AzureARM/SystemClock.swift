import FleetCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The wall clock, for live runs: `now` is the system's real time and ``sleep(until:)`` waits for real.
///
/// Tests and `--simulate` use the emulator's virtual clock instead (`InProcessARM`).
public struct SystemClock: RemediationClock, Sendable {
    /// Creates the wall clock.
    public init() {}

    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var now: Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// Blocks the calling thread until `time` (returns at once when it has passed).
    public func sleep(until time: Int64) {
        while true {
            let left = time - now
            if left <= 0 { return }
            var request = timespec(tv_sec: Int(left / 1000), tv_nsec: Int(left % 1000) * 1_000_000)
            var remaining = timespec()
            _ = nanosleep(&request, &remaining)
        }
    }
}
