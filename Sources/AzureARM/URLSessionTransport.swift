import Dispatch
import FleetCore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// ARM over HTTP with `URLSession`: live Azure (`https://management.azure.com`) or the emulator on loopback
/// (`http://127.0.0.1:PORT`).
///
/// The only file of FluxFleet that imports FoundationNetworking. The session is ephemeral (no cookies, no cache, no
/// credential storage) with explicit request and resource timeouts. ``send(_:)`` is synchronous and may be called
/// from many threads at once: each call waits on its own semaphore for its own data task.
///
/// A relative request URL (`/subscriptions/…?api-version=…`) is put behind the endpoint; an absolute one (from an
/// `Azure-AsyncOperation` or `Location` header) is used as it is. The `Authorization` header from the provider is
/// sent only to the endpoint's own host (an `Authorization` header in the request too), so a token never follows a
/// URL to another host; redirects are not
/// followed (ARM does not redirect; a 3xx comes back as the answer).
///
/// Failures without an HTTP answer map to ``TransportError``: a connection lost, reset or closed before an answer
/// is ``TransportError/droppedConnection``; a timeout is ``TransportError/timedOut``; a refused connection, an
/// unknown host, a TLS failure or a bad URL is ``TransportError/unreachable(_:)`` naming what failed and the host
/// (never a header).
public final class URLSessionTransport: ARMTransport, Sendable {
    /// The endpoint relative URLs are put behind, without a trailing slash (`https://management.azure.com`).
    public let endpoint: String
    /// The longest wait for the next bytes of an answer, in seconds.
    public let requestTimeout: Double
    /// The longest a whole request may take, in seconds.
    public let resourceTimeout: Double
    private let endpointHost: String
    private let session: URLSession
    private let authorization: (@Sendable () throws -> String)?

    /// Creates a transport for an endpoint.
    ///
    /// - Parameters:
    ///   - endpoint: `https://management.azure.com` (or a sovereign cloud's ARM endpoint), or the emulator's
    ///     `http://127.0.0.1:PORT`; a trailing slash is ignored.
    ///   - requestTimeout: The longest wait for the next bytes of an answer, in seconds.
    ///   - resourceTimeout: The longest a whole request may take, in seconds.
    ///   - authorization: Returns the whole `Authorization` header value (`Bearer eyJ…`) for each request, or
    ///     nil to send none. It is called on the sending thread; a thrown error becomes
    ///     ``TransportError/unreachable(_:)``.
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/usage``) when the endpoint is not an `http` or
    ///   `https` URL with a host.
    public init(
        endpoint: String, requestTimeout: Double = 60, resourceTimeout: Double = 300,
        authorization: (@Sendable () throws -> String)? = nil
    ) throws(AzureARMError) {
        var base = endpoint.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil
        else {
            throw AzureARMError(
                .usage, what: "the ARM endpoint '\(endpoint)' is not an http or https URL with a host",
                location: "--arm-endpoint",
                remedy: "pass https://management.azure.com (or your cloud's ARM endpoint) or http://127.0.0.1:PORT")
        }
        guard requestTimeout > 0, resourceTimeout > 0 else {
            throw AzureARMError(
                .usage,
                what:
                    "transport timeouts must be positive (request \(requestTimeout) s, resource \(resourceTimeout) s)",
                location: "URLSessionTransport", remedy: "pass timeouts above 0 seconds")
        }
        self.endpoint = base
        self.endpointHost = Self.authority(of: url)
        self.requestTimeout = requestTimeout
        self.resourceTimeout = resourceTimeout
        self.authorization = authorization
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = requestTimeout
        configuration.timeoutIntervalForResource = resourceTimeout
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    /// How a ``TransportError/unreachable(_:)`` message starts when the `authorization` provider failed (the
    /// credential, not the network): `no access token for HOST: …`.
    public static let credentialFailure = "no access token for "

    /// The URL a request goes to: an absolute URL as it is, a relative one behind ``endpoint``.
    public func resolve(_ url: String) -> String {
        let lower = url.prefix(8).lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") { return url }
        return url.hasPrefix("/") ? endpoint + url : endpoint + "/" + url
    }

    /// Sends one request and waits for the answer.
    ///
    /// - Throws: ``TransportError`` when there is no HTTP answer (see the type's documentation).
    public func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        let target = resolve(request.url)
        guard let url = URL(string: target), let host = url.host, !host.isEmpty else {
            throw .unreachable("the request URL is not a valid URL (\(Self.safeDescription(of: target)))")
        }
        var urlRequest = URLRequest(
            url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: requestTimeout)
        urlRequest.httpMethod = request.method
        let toEndpoint = Self.authority(of: url) == endpointHost
        for (name, value) in request.headers where toEndpoint || name.lowercased() != "authorization" {
            urlRequest.setValue(value, forHTTPHeaderField: name)
        }
        if let authorization, toEndpoint {
            do {
                urlRequest.setValue(try authorization(), forHTTPHeaderField: "Authorization")
            } catch {
                throw .unreachable("\(Self.credentialFailure)\(host): \(error)")
            }
        }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }

        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: urlRequest) { data, response, error in
            outcome.set(data: data, response: response, error: error)
            done.signal()
        }
        task.resume()
        done.wait()
        let (data, response, error) = outcome.get()
        if let error { throw Self.map(error, host: host) }
        guard let http = response as? HTTPURLResponse else {
            throw .droppedConnection
        }
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields {
            guard let name = key as? String else { continue }
            headers[name] = value as? String ?? "\(value)"
        }
        return ARMHTTPResponse(status: http.statusCode, headers: headers, body: data.map { [UInt8]($0) } ?? [])
    }

    /// Maps a URLSession failure to a transport error that names the host and what failed.
    static func map(_ error: any Error, host: String) -> TransportError {
        let failure = error as NSError
        guard failure.domain == NSURLErrorDomain else {
            return .unreachable("the request to \(host) failed: \(failure.localizedDescription)")
        }
        let detail = failure.localizedDescription
        switch URLError.Code(rawValue: failure.code) {
        case .networkConnectionLost, .badServerResponse, .zeroByteResource, .cannotParseResponse:
            // Reset, closed or empty reply after the request went out (curl: RECV/SEND ECONNRESET, GOT_NOTHING).
            return .droppedConnection
        case .timedOut:
            return .timedOut
        case .cannotConnectToHost:
            return .unreachable("cannot connect to \(host): connection refused or no route (\(detail))")
        case .cannotFindHost, .dnsLookupFailed:
            return .unreachable("cannot resolve the host \(host) (\(detail))")
        case .notConnectedToInternet:
            return .unreachable("no network to reach \(host) (\(detail))")
        case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
            .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid, .clientCertificateRejected,
            .clientCertificateRequired:
            return .unreachable("the TLS connection to \(host) failed (\(detail))")
        case .badURL, .unsupportedURL:
            return .unreachable("the URL for \(host) cannot be requested (\(detail))")
        default:
            // swift-corelibs-foundation reports curl failures it has no code for (TLS errors, receive errors other
            // than a reset) as NSURLErrorUnknown with curl's text: classify by that text.
            let text = detail.lowercased()
            if ["ssl", "tls", "certificate", "handshake"].contains(where: text.contains) {
                return .unreachable("the TLS connection to \(host) failed (\(detail))")
            }
            if ["refused", "resolve", "connect to", "no route"].contains(where: text.contains) {
                return .unreachable("cannot connect to \(host) (\(detail))")
            }
            if ["reset", "recv", "send", "closed", "broken pipe", "empty reply"].contains(where: text.contains) {
                return .droppedConnection
            }
            return .unreachable("the request to \(host) failed (\(detail))")
        }
    }

    /// `scheme://host:port`, lowercased, for deciding where the token may go.
    private static func authority(of url: URL) -> String {
        let scheme = url.scheme?.lowercased() ?? ""
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\((url.host ?? "").lowercased()):\(port)"
    }

    /// A URL for a message: scheme, host and path, without the query.
    private static func safeDescription(of url: String) -> String {
        String(url.prefix { $0 != "?" }.prefix(200))
    }
}

/// Refuses every redirect, so a request (and its `Authorization` header) goes only where the caller sent it.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// What a data task delivered, handed from URLSession's queue to the waiting caller.
///
/// Written once before the semaphore is signalled and read once after the wait returns; the lock makes the hand-over
/// explicit.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    private var response: URLResponse?
    private var error: (any Error)?

    func set(data: Data?, response: URLResponse?, error: (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        self.data = data
        self.response = response
        self.error = error
    }

    func get() -> (Data?, URLResponse?, (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        return (data, response, error)
    }
}
