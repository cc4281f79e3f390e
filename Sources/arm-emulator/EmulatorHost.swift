import ARMEmulator
import FleetCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one owner of the emulator's state: every request passes through it in turn.
actor EmulatorHost {
    private var state: EmulatorState
    private let clock: ScaledClock
    private let requestLog: RequestLog?
    private let stateOut: String?

    init(state: EmulatorState, clock: ScaledClock, requestLog: RequestLog?, stateOut: String?) {
        self.state = state
        self.clock = clock
        self.requestLog = requestLog
        self.stateOut = stateOut
    }

    /// How many ARM, Resource Graph and token requests were answered.
    var requestCount: UInt64 { state.requestCount }

    /// Sets the scheme, host and port put in front of `Azure-AsyncOperation`, `Location` and `nextLink` URLs.
    func setBaseURL(_ url: String) {
        state.configuration.baseURL = url
    }

    /// Moves the virtual clock to now, answers the request and logs it.
    func answer(_ request: ARMRequest) -> (response: ARMResponse, number: UInt64) {
        state.advance(to: clock.now())
        let response = ARMEmulator.handle(request, in: &state)
        let number = state.requestCount
        requestLog?.append(
            number: number, method: request.method, path: request.path,
            status: response.kind == .droppedConnection ? 0 : response.status, at: state.now,
            requestID: response.header("x-ms-request-id"))
        return (response, number)
    }

    /// The state as an inventory snapshot, written to `--state-out` too when given.
    func snapshot() throws(StateWriteError) -> [UInt8] {
        state.advance(to: clock.now())
        let bytes = state.snapshot()
        if let stateOut { try AtomicFile.replace(stateOut, with: bytes) }
        return bytes
    }

    /// Writes `--state-out` (when given) as the server stops.
    func stop() throws(StateWriteError) {
        guard stateOut != nil else { return }
        _ = try snapshot()
    }
}

/// The virtual clock of a served emulator: its start plus the real time elapsed, times the scale.
struct ScaledClock: Sendable {
    /// The virtual time at start, in milliseconds since 1970.
    let start: Int64
    /// Virtual milliseconds per real millisecond.
    let scale: Double
    private let origin = ContinuousClock.now

    init(start: Int64, scale: Double) {
        self.start = start
        self.scale = scale
    }

    /// The virtual time now, in milliseconds since 1970.
    func now() -> Int64 {
        let elapsed = ContinuousClock.now - origin
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return start + Int64(milliseconds * scale)
    }
}

/// The added delay of every answer: fixed, or uniform in a range by a hash of the request number.
struct LatencySpec: Sendable, CustomStringConvertible {
    /// The shortest delay in milliseconds.
    var low: Int
    /// The longest delay in milliseconds.
    var high: Int

    /// Parses `0`, `50ms`, `20-80ms` (also `s`: `1s`, `0-2s`).
    init(parsing text: String) throws(LatencySpecError) {
        let spec = text.trimmingCharacters(in: .whitespaces)
        if spec == "0" {
            (low, high) = (0, 0)
            return
        }
        let scale: Int
        let number: Substring
        if spec.hasSuffix("ms") {
            (scale, number) = (1, spec.dropLast(2))
        } else if spec.hasSuffix("s") {
            (scale, number) = (1000, spec.dropLast())
        } else {
            throw LatencySpecError(spec: text)
        }
        let parts = number.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let first = Int(parts[0]), first >= 0,
            let last = parts.count == 2 ? Int(parts[1]) : first, last >= first, last <= 600
        else { throw LatencySpecError(spec: text) }
        guard last * scale <= 600_000 else { throw LatencySpecError(spec: text) }
        (low, high) = (first * scale, last * scale)
    }

    /// The delay of request `number`, in milliseconds.
    func milliseconds(request number: UInt64, seed: UInt64) -> Int {
        guard high > low else { return low }
        var z = seed &+ number &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return low + Int(z % UInt64(high - low + 1))
    }

    var description: String {
        if high == 0 { return "0" }
        return low == high ? "\(low)ms" : "\(low)-\(high)ms"
    }
}

/// A `--latency` value that cannot be parsed.
struct LatencySpecError: Error, CustomStringConvertible {
    var spec: String
    var description: String {
        "invalid --latency '\(spec)': use 0, a delay such as 50ms or 1s, or a range such as 20-80ms (at most 600s)"
    }
}

/// `--request-log`: one NDJSON line per request, appended and flushed as it is answered.
final class RequestLog: @unchecked Sendable {
    private let descriptor: Int32
    private let path: String

    /// Opens (creating or appending to) the log.
    init(path: String) throws(StateWriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StateWriteError(path: path, reason: String(cString: strerror(errno)), option: "--request-log")
        }
        self.descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    /// Appends one line: `{"n", "method", "path", "status", "at", "requestId"}`.
    func append(number: UInt64, method: String, path: String, status: Int, at time: Int64, requestID: String?) {
        let line: JSON = .object([
            "n": .int(Int(number)), "method": .string(method), "path": .string(path), "status": .int(status),
            "at": .int(Int(time)), "requestId": requestID.map(JSON.string) ?? .null,
        ])
        var writer = JSONWriter()
        writer.value(line)
        writer.newlineAtEnd()
        if let failure = writeAll(descriptor, writer.bytes) {
            Log.error("cannot append to the request log '\(path)': \(failure)")
        }
    }
}

/// A file that could not be written.
struct StateWriteError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var option: String = "--state-out"
    var description: String {
        "cannot write \(option) '\(path)': \(reason); check that the directory exists and is writable"
    }
}

/// Writes a file whole or not at all: a temporary file beside it, then a rename.
enum AtomicFile {
    static func replace(_ path: String, with bytes: [UInt8]) throws(StateWriteError) {
        let temporary = "\(path).partial-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StateWriteError(path: path, reason: String(cString: strerror(errno))) }
        var failure = writeAll(fd, bytes)
        if failure == nil && fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if failure == nil && rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw StateWriteError(path: path, reason: failure)
        }
    }
}

/// Standard output and standard error, written at once.
enum Log {
    /// Writes text to standard output and flushes it.
    static func standardOutput(_ text: String) { emit(text, to: 1) }

    /// `arm-emulator: message` on standard error.
    static func info(_ message: String) { emit("arm-emulator: \(message)\n", to: 2) }

    /// `arm-emulator: error: message` on standard error.
    static func error(_ message: String) { emit("arm-emulator: error: \(message)\n", to: 2) }

    private static func emit(_ text: String, to fd: Int32) {
        _ = writeAll(fd, Array(text.utf8))
    }
}

/// Writes every byte, retrying short writes and interrupted calls; the reason on failure.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return nil }
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, base + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return String(cString: strerror(errno)) }
            offset += n
        }
        return nil
    }
}
