import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for the transport's socket tests: one thread per connection, one request
/// per connection (`Connection: close`).
///
/// The handler gets the request and returns the raw answer bytes, or nil to close the connection without answering.
final class LoopbackServer: @unchecked Sendable {
    /// A request as received.
    struct Request: Sendable {
        var method: String
        var target: String
        /// Header names lowercased.
        var headers: [String: String]
        var body: [UInt8]
    }

    let port: UInt16
    private let listener: Int32

    init(handler: @escaping @Sendable (Request) -> [UInt8]?) throws {
        let (fd, port) = try Self.openListener()
        self.listener = fd
        self.port = port
        Thread.detachNewThread {
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 { return }
                Thread.detachNewThread {
                    defer { close(connection) }
                    guard let request = Self.read(connection) else { return }
                    guard let answer = handler(request) else { return }
                    answer.withUnsafeBytes { raw in
                        var sent = 0
                        while sent < raw.count {
                            let n = write(connection, raw.baseAddress! + sent, raw.count - sent)
                            if n <= 0 { return }
                            sent += n
                        }
                    }
                }
            }
        }
    }

    /// Stops accepting connections.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// `http://127.0.0.1:PORT`.
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// An HTTP answer's bytes.
    static func answer(_ status: Int, headers: [String: String] = [:], body: String = "") -> [UInt8] {
        answer(status, headers: headers, bytes: Array(body.utf8))
    }

    /// An HTTP answer's bytes, with a binary body.
    static func answer(_ status: Int, headers: [String: String] = [:], bytes body: [UInt8]) -> [UInt8] {
        var text = "HTTP/1.1 \(status) Status\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        return Array((text + "\r\n").utf8) + body
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, then closed).
    static func closedPort() throws -> UInt16 {
        let (fd, port) = try openListener()
        close(fd)
        return port
    }

    private static func openListener() throws -> (Int32, UInt16) {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// Reads one request: the head up to the blank line, then `Content-Length` bytes of body.
    private static func read(_ fd: Int32) -> Request? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var headEnd: Int?
        var needed = Int.max
        while data.count < needed {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            data.append(contentsOf: buffer[0..<n])
            if headEnd == nil, let end = find(data, Array("\r\n\r\n".utf8)) {
                headEnd = end + 4
                let head = String(decoding: data[0..<end], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                needed = end + 4 + length
            }
        }
        guard let headEnd else { return nil }
        let lines = String(decoding: data[0..<(headEnd - 4)], as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        return Request(
            method: String(requestLine[0]), target: String(requestLine[1]), headers: headers,
            body: Array(data[headEnd..<needed]))
    }

    private static func find(_ data: [UInt8], _ pattern: [UInt8]) -> Int? {
        guard data.count >= pattern.count else { return nil }
        for i in 0...(data.count - pattern.count) where Array(data[i..<(i + pattern.count)]) == pattern { return i }
        return nil
    }
}
