import FleetCore

/// One query parameter of a request, already percent-decoded.
public struct ARMQueryItem: Sendable, Hashable {
    /// The parameter's name, such as `api-version`.
    public var name: String
    /// The parameter's value (empty for a bare `?flag`).
    public var value: String

    /// Creates a query item.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A request to the emulator: what an HTTP client would send to ARM, Resource Graph or the token endpoint.
public struct ARMRequest: Sendable, Hashable {
    /// The HTTP method in upper case: `GET`, `PUT`, `PATCH`, `DELETE` or `POST`.
    public var method: String
    /// The path, percent-decoded, without scheme, host or query (`/subscriptions/…`).
    public var path: String
    /// The query parameters in order, percent-decoded.
    public var query: [ARMQueryItem]
    /// The request headers; names compare ignoring case (see ``header(_:)``).
    public var headers: [String: String]
    /// The request body (JSON for ARM and Resource Graph, form-urlencoded for the token endpoint).
    public var body: [UInt8]

    /// Creates a request from its parts.
    public init(
        method: String, path: String, query: [ARMQueryItem] = [], headers: [String: String] = [:], body: [UInt8] = []
    ) {
        self.method = method.uppercased()
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Creates a request from a URL or a path with its query, as a client follows an `Azure-AsyncOperation`
    /// or `Location` header: `https://host/subscriptions/…?api-version=…` or `/subscriptions/…?api-version=…`.
    ///
    /// The scheme and host are dropped; the path and the query are percent-decoded (`+` in the query is a space).
    public init(method: String, url: String, headers: [String: String] = [:], body: [UInt8] = []) {
        var rest = Substring(url)
        if !rest.hasPrefix("/"), let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            rest = rest[rest.index(colon, offsetBy: 3)...]
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        var queryText: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            queryText = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var items: [ARMQueryItem] = []
        for pair in queryText.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            items.append(
                ARMQueryItem(
                    name: PercentEncoding.decode(parts[0], plusIsSpace: true),
                    value: parts.count > 1 ? PercentEncoding.decode(parts[1], plusIsSpace: true) : ""))
        }
        self.init(
            method: method, path: PercentEncoding.decode(rest, plusIsSpace: false), query: items, headers: headers,
            body: body)
    }

    /// The value of a header, its name compared ignoring case.
    public func header(_ name: String) -> String? {
        headerValue(headers, name)
    }

    /// The first value of a query parameter, its name compared ignoring case (ARM treats them so).
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// The emulator's answer to a request.
public struct ARMResponse: Sendable, Hashable {
    /// How the answer reaches the client.
    public enum Kind: Sendable, Hashable {
        /// An HTTP response with a status, headers and a body.
        case http
        /// No response at all: the transport must fail the request as a dropped connection (a reset after
        /// the request was sent). ``ARMResponse/status`` is 0 and there are no headers or body.
        case droppedConnection
    }

    /// An HTTP response or a dropped connection.
    public var kind: Kind
    /// The HTTP status code (0 for a dropped connection).
    public var status: Int
    /// The response headers, with their canonical names (`Azure-AsyncOperation`, `x-ms-request-id`, …).
    public var headers: [String: String]
    /// The response body (JSON, or empty).
    public var body: [UInt8]

    /// Creates an HTTP response.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.kind = .http
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A dropped connection: the transport turns it into a connection error.
    public static let droppedConnection = ARMResponse(kind: .droppedConnection)

    private init(kind: Kind) {
        self.kind = kind
        self.status = 0
        self.headers = [:]
        self.body = []
    }

    /// The value of a header, its name compared ignoring case.
    public func header(_ name: String) -> String? {
        headerValue(headers, name)
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

private func headerValue(_ headers: [String: String], _ name: String) -> String? {
    if let exact = headers[name] { return exact }
    let lowered = name.lowercased()
    return headers.first { $0.key.lowercased() == lowered }?.value
}
