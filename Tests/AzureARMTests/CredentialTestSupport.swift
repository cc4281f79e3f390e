import ARMEmulator
import AzureARM
import FleetCore
import Foundation
import Testing

/// The emulator's core behind a lock: a transport and a clock credentials can share across threads.
final class SharedEmulator: ARMTransport, RemediationClock, @unchecked Sendable {
    private let lock = NSLock()
    private let arm: InProcessARM
    private var log: [ARMHTTPRequest] = []

    /// An emulator with one AKS cluster of the demo fleet that requires issued tokens.
    init(_ configure: (inout EmulatorConfiguration) -> Void = { _ in }) throws {
        arm = Fixture.emulator(try Fixture.demo().fleet) {
            $0.requireBearerToken = true
            configure(&$0)
        }
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        log.append(request)
        return try arm.send(request)
    }

    var now: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return arm.now
    }

    func sleep(until time: Int64) {
        lock.lock()
        defer { lock.unlock() }
        arm.sleep(until: time)
    }

    /// Every request sent so far.
    var requests: [ARMHTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }

    /// The token records of the emulator.
    var issued: [String: IssuedToken] {
        lock.lock()
        defer { lock.unlock() }
        return arm.state.issuedTokens
    }

    /// The status of a Resource Graph query sent with `token`.
    func graphStatus(token: String) throws -> Int {
        try send(
            ARMHTTPRequest(
                method: "POST", url: "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
                headers: ["Authorization": "Bearer \(token)"], body: Array(#"{"query": "resources"}"#.utf8))
        ).status
    }
}

/// A transport answering from a closure, recording requests; safe across threads.
final class Answering: ARMTransport, @unchecked Sendable {
    private let lock = NSLock()
    private let answer: @Sendable (ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse
    private var log: [ARMHTTPRequest] = []

    init(_ answer: @escaping @Sendable (ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse) {
        self.answer = answer
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        lock.lock()
        log.append(request)
        lock.unlock()
        return try answer(request)
    }

    var requests: [ARMHTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return log
    }
}

/// A clock that moves only when told, safe across threads.
final class ManualClock: RemediationClock, @unchecked Sendable {
    private let lock = NSLock()
    private var time: Int64

    init(_ time: Int64 = 1_795_284_000_000) {
        self.time = time
    }

    var now: Int64 {
        lock.lock()
        defer { lock.unlock() }
        return time
    }

    func sleep(until target: Int64) {
        lock.lock()
        defer { lock.unlock() }
        time = max(time, target)
    }

    func advance(seconds: Int64) { sleep(until: now + seconds * 1000) }
}

/// Temporary files and stand-in `az` scripts.
enum Scratch {
    /// A new empty directory under the system's temporary directory.
    static func directory() throws -> String {
        let path = Fixture.temporaryPath("creds")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes an executable shell script `name` into `directory`.
    @discardableResult
    static func script(_ directory: String, _ body: String, name: String = "az") throws -> String {
        let path = (directory as NSString).appendingPathComponent(name)
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }
}

extension ARMHTTPRequest {
    /// The form fields of a form-urlencoded body, decoded.
    var form: [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            fields[parts[0].removingPercentEncoding ?? ""] = parts.count > 1 ? parts[1].removingPercentEncoding : ""
        }
        return fields
    }

    /// The query parameters of the URL, decoded.
    var query: [String: String] {
        var fields: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { fields[item.name] = item.value ?? "" }
        return fields
    }
}

/// Asserts that no canary value appears in an error's description.
func expectNoSecrets(_ error: (any Error)?, _ canaries: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    var text = error.map { "\($0) \(String(reflecting: $0))" } ?? ""
    if let arm = error as? AzureARMError { text += " \(arm.what) \(arm.location) \(arm.remedy) \(arm.errorCode ?? "")" }
    #expect(!text.isEmpty, "an error was expected", sourceLocation: sourceLocation)
    for canary in canaries {
        #expect(!text.contains(canary), "the error shows \(canary): \(text)", sourceLocation: sourceLocation)
    }
}
