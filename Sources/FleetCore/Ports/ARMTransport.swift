/// A request to Azure Resource Manager as the Remediator sends it: method, URL, headers and body.
///
/// The URL is a path with its query (`/subscriptions/…?api-version=…`) or an absolute URL taken from an
/// `Azure-AsyncOperation` or `Location` header; the transport puts it in front of its endpoint as needed.
public struct ARMHTTPRequest: Sendable, Hashable {
    /// The HTTP method in upper case.
    public var method: String
    /// The path with its query, or an absolute URL.
    public var url: String
    /// The request headers.
    public var headers: [String: String]
    /// The body (JSON), empty for GET and DELETE.
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, url: String, headers: [String: String] = [:], body: [UInt8] = []) {
        self.method = method.uppercased()
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// An answer from Azure Resource Manager.
public struct ARMHTTPResponse: Sendable, Hashable {
    /// The HTTP status code.
    public var status: Int
    /// The response headers.
    public var headers: [String: String]
    /// The body.
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of a header, its name compared ignoring case.
    public func header(_ name: String) -> String? {
        if let exact = headers[name] { return exact }
        let lowered = name.lowercased()
        return headers.first { $0.key.lowercased() == lowered }?.value
    }
}

/// Why a request got no HTTP answer.
public enum TransportError: Error, Sendable, Hashable {
    /// The connection dropped after the request was sent (it may or may not have taken effect).
    case droppedConnection
    /// No answer within the transport's timeout.
    case timedOut
    /// The endpoint could not be reached at all.
    case unreachable(String)
}

/// Sends requests to ARM (a live endpoint, the emulator over loopback, or the emulator in-process).
///
/// Synchronous on purpose: the Remediator interleaves many clusters itself on one ``RemediationClock``, so a
/// test or `--simulate` run is deterministic and never waits in real time.
public protocol ARMTransport {
    /// Sends one request and returns the answer, or throws when there is none.
    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse
}

/// The time the Remediator runs on: milliseconds since 1970, and a way to wait.
///
/// A live run sleeps for real; tests and `--simulate` move a virtual clock (moving the emulator's clock with it).
public protocol RemediationClock {
    /// The current time in milliseconds since 1970-01-01T00:00:00Z.
    var now: Int64 { get }
    /// Returns at `time` (at once when it has passed).
    func sleep(until time: Int64)
}
