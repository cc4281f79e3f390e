import ARMEmulator
import FleetCore
import FlyingFox
import FlyingSocks
import Foundation

/// Turns HTTP requests into emulator requests and the emulator's answers into HTTP responses.
struct EmulatorHTTPHandler: HTTPHandler {
    let host: EmulatorHost
    let latency: LatencySpec
    let seed: UInt64
    /// Whether clients may reuse the connection (`Connection: close` on every answer when not).
    let keepAlive: Bool
    let verbose: Bool
    /// Virtual milliseconds per real millisecond (`--time-scale`).
    var timeScale: Double = 1

    /// The control endpoint that answers (and writes) the state as an inventory snapshot.
    static let statePath = "/_emulator/state"

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = [UInt8](try await request.bodyData)
        let target = request.target.rawValue
        if request.method == .POST, request.target.path(percentEncoded: false) == Self.statePath {
            do {
                let snapshot = try await host.snapshot()
                return HTTPResponse(
                    statusCode: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: Data(snapshot))
            } catch {
                Log.error(error.description)
                var writer = JSONWriter()
                writer.value(
                    .object([
                        "error": .object(["code": .string("StateWriteFailed"), "message": .string(error.description)])
                    ]))
                return HTTPResponse(
                    statusCode: .internalServerError, headers: [.contentType: "application/json; charset=utf-8"],
                    body: Data(writer.bytes))
            }
        }
        var headers: [String: String] = [:]
        for (name, value) in request.headers {
            if let existing = headers[name.rawValue] {
                headers[name.rawValue] = existing + ", " + value
            } else {
                headers[name.rawValue] = value
            }
        }
        let armRequest = ARMRequest(method: request.method.rawValue, url: target, headers: headers, body: body)
        let (answer, number) = await host.answer(armRequest)
        // Outside the host: concurrent requests overlap their delays.
        let delay = latency.milliseconds(request: number, seed: seed)
        if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
        if verbose {
            let status = answer.kind == .droppedConnection ? "dropped" : String(answer.status)
            Log.info("#\(number) \(armRequest.method) \(armRequest.path) \(status)")
        }
        if answer.kind == .droppedConnection {
            return HTTPResponse(webSocket: DroppedConnection())
        }
        var responseHeaders = HTTPHeaders()
        for (name, value) in answer.headers { responseHeaders[HTTPHeader(name)] = value }
        // Retry-After counts virtual seconds; with a time scale, `retry-after-ms` (which Azure also sends) gives the
        // real wait, so a client polls at the pace of the scaled clock.
        if timeScale != 1, let text = answer.header("Retry-After"), let seconds = Double(text) {
            responseHeaders[HTTPHeader("retry-after-ms")] = String(Int64((seconds * 1000 / timeScale).rounded(.up)))
        }
        if !keepAlive { responseHeaders[.connection] = "close" }
        return HTTPResponse(
            statusCode: HTTPStatusCode(answer.status, phrase: Self.phrase(answer.status)), headers: responseHeaders,
            body: Data(answer.body))
    }

    /// The reason phrase of a status code.
    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 412: "Precondition Failed"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status \(status)"
        }
    }
}

/// A response that is never sent: FlyingFox asks a WebSocket handler for its frames before it writes the
/// response's first byte, so failing there closes the connection with nothing written, as a reset would.
struct DroppedConnection: WSHandler {
    struct Dropped: Error {}

    func makeFrames(for client: AsyncThrowingStream<WSFrame, any Error>) async throws -> AsyncStream<WSFrame> {
        throw Dropped()
    }
}

/// FlyingFox's own log lines, on standard error: warnings and errors only.
///
/// Left out: the dropped connections the emulator makes on purpose, and what FlyingFox reports while it stops.
struct StderrLogger: Logging {
    let stop: StopSignal

    func logDebug(_ debug: @autoclosure () -> String) {}
    func logInfo(_ info: @autoclosure () -> String) {}
    func logWarning(_ warning: @autoclosure () -> String) {
        if !stop.requested { Log.info("server warning: \(warning())") }
    }
    func logError(_ error: @autoclosure () -> String) {
        let text = error()
        if stop.requested || text.contains("Dropped") || text.contains("Disconnected") { return }
        Log.info("server error: \(text)")
    }
    func logCritical(_ critical: @autoclosure () -> String) {
        if !stop.requested { Log.error("server: \(critical())") }
    }
}

/// Where to listen.
enum ServerAddress {
    case ip4(String)
    case ip6(String)

    /// Whether `host` is a loopback address or `localhost`.
    static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "::1" || lowered == "[::1]" { return true }
        let parts = lowered.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The address for `host`: dotted IPv4, IPv6 (bracketed or not) or `localhost` (127.0.0.1).
    static func parse(_ host: String) -> ServerAddress? {
        if host.lowercased() == "localhost" { return .ip4("127.0.0.1") }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) { return .ip4(host) }
        var bare = Substring(host)
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        if bare.contains(":") && bare.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
            return .ip6(String(bare))
        }
        return nil
    }

    /// The socket address with a port, and the host as a URL writes it.
    static func parse(host: String, port: UInt16) -> (socketAddress: any SocketAddress, urlHost: String)? {
        switch parse(host) {
        case .ip4(let ip):
            guard let address = try? sockaddr_in.inet(ip4: ip, port: port) else { return nil }
            return (address, ip)
        case .ip6(let ip):
            guard let address = try? sockaddr_in6.inet6(ip6: ip, port: port) else { return nil }
            return (address, "[\(ip)]")
        case nil:
            return nil
        }
    }
}
