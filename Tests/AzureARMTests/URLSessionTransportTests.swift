import Dispatch
import FleetCore
import Foundation
import Testing

@testable import AzureARM

@Suite("URLSession transport")
struct URLSessionTransportTests {
    @Test("a closed loopback port is unreachable, named by host, without the token")
    func closedPortIsUnreachable() throws {
        let port = try LoopbackServer.closedPort()
        let transport = try URLSessionTransport(
            endpoint: "http://127.0.0.1:\(port)", requestTimeout: 5, resourceTimeout: 10,
            authorization: { "Bearer very-secret-token" })
        let error = #expect(throws: TransportError.self) {
            _ = try transport.send(ARMHTTPRequest(method: "POST", url: "/providers/Microsoft.ResourceGraph/resources"))
        }
        guard case .unreachable(let what)? = error else {
            Issue.record("expected .unreachable, got \(String(describing: error))")
            return
        }
        #expect(what.contains("127.0.0.1"))
        #expect(!what.contains("very-secret-token"))
    }

    @Test("a request goes behind the endpoint with method, headers, body and token; the answer keeps its headers")
    func roundTrip() throws {
        let server = try LoopbackServer { request in
            let echo: JSON = .object([
                "method": .string(request.method), "target": .string(request.target),
                "authorization": .string(request.headers["authorization"] ?? ""),
                "contentType": .string(request.headers["content-type"] ?? ""),
                "body": .string(String(decoding: request.body, as: UTF8.self)),
            ])
            return LoopbackServer.answer(
                201, headers: ["x-ms-request-id": "req-1", "Azure-AsyncOperation": "http://x/op"], body: echo.text)
        }
        defer { server.stop() }
        let transport = try URLSessionTransport(
            endpoint: server.endpoint + "/", requestTimeout: 10, resourceTimeout: 20,
            authorization: { "Bearer token-1" })
        let response = try transport.send(
            ARMHTTPRequest(
                method: "put", url: "/subscriptions/x/resourceGroups/rg?api-version=2025-04-01",
                headers: ["Content-Type": "application/json"], body: Array(#"{"a":1}"#.utf8)))
        #expect(response.status == 201)
        #expect(response.header("X-MS-REQUEST-ID") == "req-1")
        #expect(response.header("azure-asyncoperation") == "http://x/op")
        let echo = try JSON.parse(String(decoding: response.body, as: UTF8.self))
        #expect(echo["method"] == .string("PUT"))
        #expect(echo["target"] == .string("/subscriptions/x/resourceGroups/rg?api-version=2025-04-01"))
        #expect(echo["authorization"] == .string("Bearer token-1"))
        #expect(echo["contentType"] == .string("application/json"))
        #expect(echo["body"] == .string(#"{"a":1}"#))
    }

    @Test("an error status is an answer, not a transport error")
    func errorStatusIsAnswer() throws {
        let server = try LoopbackServer { _ in
            LoopbackServer.answer(503, headers: ["Retry-After": "5"], body: #"{"error":{"code":"ServiceUnavailable"}}"#)
        }
        defer { server.stop() }
        let transport = try URLSessionTransport(endpoint: server.endpoint, requestTimeout: 10, resourceTimeout: 20)
        let response = try transport.send(ARMHTTPRequest(method: "GET", url: "/x"))
        #expect(response.status == 503)
        #expect(response.header("retry-after") == "5")
    }

    @Test("an absolute URL is used as it is, and the token is not sent to another host")
    func absoluteURLWithoutToken() throws {
        let server = try LoopbackServer { request in
            LoopbackServer.answer(
                200, body: "\(request.target) auth=\(request.headers["authorization"] ?? "none")")
        }
        defer { server.stop() }
        // The endpoint names the host `127.0.0.1`; the absolute URL names `localhost`, another authority.
        let transport = try URLSessionTransport(
            endpoint: server.endpoint, requestTimeout: 10, resourceTimeout: 20, authorization: { "Bearer t" })
        let other = try transport.send(
            ARMHTTPRequest(
                method: "GET", url: "http://localhost:\(server.port)/operations/1?api-version=1",
                headers: ["authorization": "Bearer from-the-caller"]))
        #expect(String(decoding: other.body, as: UTF8.self) == "/operations/1?api-version=1 auth=none")
        let same = try transport.send(ARMHTTPRequest(method: "GET", url: "\(server.endpoint)/operations/2"))
        #expect(String(decoding: same.body, as: UTF8.self) == "/operations/2 auth=Bearer t")
    }

    @Test("a redirect is returned as the answer, not followed")
    func redirectNotFollowed() throws {
        let server = try LoopbackServer { request in
            request.target == "/moved"
                ? LoopbackServer.answer(200, body: "followed auth=\(request.headers["authorization"] ?? "none")")
                : LoopbackServer.answer(
                    302,
                    headers: [
                        "Location":
                            "http://localhost:\(request.headers["host"]?.split(separator: ":").last ?? "")/moved"
                    ])
        }
        defer { server.stop() }
        let transport = try URLSessionTransport(
            endpoint: server.endpoint, requestTimeout: 10, resourceTimeout: 20, authorization: { "Bearer t" })
        let response = try transport.send(ARMHTTPRequest(method: "GET", url: "/start"))
        #expect(response.status == 302)
        #expect(response.header("location")?.hasSuffix("/moved") == true)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("followed"))
    }

    @Test("a connection closed without an answer is a dropped connection")
    func closedWithoutAnswer() throws {
        let server = try LoopbackServer { _ in nil }
        defer { server.stop() }
        let transport = try URLSessionTransport(endpoint: server.endpoint, requestTimeout: 10, resourceTimeout: 20)
        let error = #expect(throws: TransportError.self) {
            _ = try transport.send(ARMHTTPRequest(method: "POST", url: "/x", body: Array("{}".utf8)))
        }
        #expect(error == .droppedConnection)
    }

    @Test("no answer within the request timeout is a timeout")
    func timeout() throws {
        let server = try LoopbackServer { _ in
            Thread.sleep(forTimeInterval: 3)
            return nil
        }
        defer { server.stop() }
        let transport = try URLSessionTransport(endpoint: server.endpoint, requestTimeout: 0.5, resourceTimeout: 1)
        let started = Date()
        let error = #expect(throws: TransportError.self) {
            _ = try transport.send(ARMHTTPRequest(method: "GET", url: "/slow"))
        }
        #expect(error == .timedOut)
        #expect(Date().timeIntervalSince(started) < 2.9)
    }

    @Test("many threads can send at once, each getting its own answer")
    func concurrentSends() throws {
        let server = try LoopbackServer { request in
            LoopbackServer.answer(200, body: "echo:" + String(decoding: request.body, as: UTF8.self))
        }
        defer { server.stop() }
        let transport = try URLSessionTransport(endpoint: server.endpoint, requestTimeout: 20, resourceTimeout: 40)
        let results = Results(count: 24)
        DispatchQueue.concurrentPerform(iterations: 24) { n in
            let body = Array("request-\(n)".utf8)
            let answer = try? transport.send(ARMHTTPRequest(method: "POST", url: "/n/\(n)", body: body))
            results.set(n, answer.map { String(decoding: $0.body, as: UTF8.self) })
        }
        for n in 0..<24 {
            #expect(results.get(n) == "echo:request-\(n)")
        }
    }

    @Test("a failing token provider is an unreachable error naming the host")
    func failingCredential() throws {
        struct NoCredential: Error, CustomStringConvertible {
            var description: String { "no credential in the chain could sign in" }
        }
        let port = try LoopbackServer.closedPort()
        let transport = try URLSessionTransport(
            endpoint: "http://127.0.0.1:\(port)", authorization: { throw NoCredential() })
        let error = #expect(throws: TransportError.self) {
            _ = try transport.send(ARMHTTPRequest(method: "GET", url: "/x"))
        }
        #expect(error == .unreachable("no access token for 127.0.0.1: no credential in the chain could sign in"))
    }

    @Test(
        "relative URLs go behind the endpoint, absolute ones stay",
        arguments: [
            (
                "https://management.azure.com/", "/providers/x?api-version=1",
                "https://management.azure.com/providers/x?api-version=1"
            ),
            ("https://management.azure.com", "providers/x", "https://management.azure.com/providers/x"),
            ("http://127.0.0.1:8080", "HTTPS://other.example/op/1", "HTTPS://other.example/op/1"),
            ("http://127.0.0.1:8080//", "http://127.0.0.1:8080/op", "http://127.0.0.1:8080/op"),
        ])
    func resolving(endpoint: String, url: String, expected: String) throws {
        #expect(try URLSessionTransport(endpoint: endpoint).resolve(url) == expected)
    }

    @Test(
        "an endpoint that is not an http(s) URL with a host is a usage error",
        arguments: [
            "", "management.azure.com", "ftp://management.azure.com", "https://", "http://127.0.0.1:8080?x=1",
        ])
    func badEndpoint(endpoint: String) {
        let error = #expect(throws: AzureARMError.self) { _ = try URLSessionTransport(endpoint: endpoint) }
        #expect(error?.category == .usage)
        #expect(error?.location == "--arm-endpoint")
    }

    @Test(
        "URLSession errors (NSURLErrorDomain codes) map to the transport's three cases",
        arguments: [
            (-1005, "The network connection was lost.", TransportError.droppedConnection),  // networkConnectionLost
            (-1011, "Server returned nothing", .droppedConnection),  // badServerResponse (curl: got nothing)
            (-1001, "The request timed out.", .timedOut),  // timedOut
            (-1, "Recv failure: Connection reset by peer", .droppedConnection),  // unknown, curl's text
        ])
    func mapping(code: Int, text: String, expected: TransportError) {
        let error = NSError(domain: "NSURLErrorDomain", code: code, userInfo: [NSLocalizedDescriptionKey: text])
        #expect(URLSessionTransport.map(error, host: "h.example") == expected)
    }

    @Test(
        "connect, DNS and TLS failures are unreachable and name the host",
        arguments: [
            (-1004, "Could not connect to the server."),  // cannotConnectToHost
            (-1003, "A server with the specified hostname could not be found."),  // cannotFindHost
            (-1006, "DNS lookup failed"),  // dnsLookupFailed
            (-1200, "An SSL error has occurred."),  // secureConnectionFailed
            (-1202, "The certificate for this server is invalid."),  // serverCertificateUntrusted
            (-1009, "The Internet connection appears to be offline."),  // notConnectedToInternet
            (-1, "SSL certificate problem: unable to get local issuer certificate"),  // unknown, curl's text
        ])
    func unreachableMapping(code: Int, text: String) {
        let error = NSError(domain: "NSURLErrorDomain", code: code, userInfo: [NSLocalizedDescriptionKey: text])
        guard case .unreachable(let what) = URLSessionTransport.map(error, host: "h.example") else {
            Issue.record("\(code) should be unreachable")
            return
        }
        #expect(what.contains("h.example"))
        #expect(what.contains(text))
    }
}

/// Answers collected from concurrent senders.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String?]

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    func set(_ n: Int, _ value: String?) {
        lock.lock()
        values[n] = value
        lock.unlock()
    }

    func get(_ n: Int) -> String? {
        lock.lock()
        defer { lock.unlock() }
        return values[n]
    }
}

extension JSON {
    /// Compact JSON text.
    fileprivate var text: String {
        var w = JSONWriter()
        w.value(self)
        return w.text
    }
}
