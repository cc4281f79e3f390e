import ARMEmulator
import AzureARM
import FleetCore
import FleetGenerator
import Foundation
import Planner
import Testing

/// Fleets, emulators and transports for the AzureARM tests.
enum Fixture {
    /// The bundled demo fleet's directory.
    static let demoPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fleet-examples/demo").path

    /// The demo fleet as SnapshotReader reads it.
    static func demo() throws -> Inventory {
        try SnapshotReader.load(path: demoPath)
    }

    /// The demo's two subscriptions.
    static let subscriptionA = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    static let subscriptionB = "5c2e3a9d-8f47-4b6e-9a31-2d0c7e5f1a84"

    /// An emulator seeded with a fleet; throttling and the Resource Graph quota are off unless configured.
    static func emulator(_ fleet: Fleet, configure: (inout EmulatorConfiguration) -> Void = { _ in }) -> InProcessARM {
        var configuration = EmulatorConfiguration()
        configuration.throttling = nil
        configuration.resourceGraphQuota = nil
        configure(&configuration)
        return InProcessARM(EmulatorState(inventory: fleet, configuration: configuration))
    }

    /// Options with a small page so every query takes several pages.
    static func options(pageSize: Int = 4) -> ResourceGraphOptions {
        var options = ResourceGraphOptions()
        options.pageSize = pageSize
        return options
    }

    /// A fresh temporary directory path (not created).
    static func temporaryPath(_ name: String) -> String {
        let base = FileManager.default.temporaryDirectory.path
        return (base as NSString).appendingPathComponent("azurearm-\(name)-\(UUID().uuidString.prefix(8))")
    }

    /// Cluster ids in fleet order, and the Planner's fingerprint of each cluster by lowercased id.
    static func facts(_ fleet: Fleet) -> (ids: [String], fingerprints: [String: String]) {
        var fingerprints: [String: String] = [:]
        for cluster in fleet.clusters {
            fingerprints[ASCII.lowercased(cluster.id.description)] = Fingerprint.of(cluster)
        }
        return (fleet.clusters.map { ASCII.lowercased($0.id.description) }, fingerprints)
    }

    /// A generated fleet of `clusters` clusters, written to a file and read back with SnapshotReader.
    static func generated(clusters: Int, seed: UInt64) throws -> Inventory {
        let path = temporaryPath("generated") + ".json"
        let bytes = FleetGenerator(clusters: clusters, seed: seed).generate(format: .array)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try SnapshotReader.load(path: path, parallelism: 1)
    }
}

extension Fixture {
    /// The demo tenant, as the emulator's token endpoint is asked for it.
    static let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

    /// A token from the emulator's Entra ID endpoint (client secret flow) for ARM.
    static func armToken(from arm: any ARMTransport, clientID: String = "app-1") throws -> String {
        let answer = try arm.send(
            ARMHTTPRequest(
                method: "POST", url: "/\(tenant)/oauth2/v2.0/token",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Array(
                    "grant_type=client_credentials&client_id=\(clientID)&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
                        .utf8)))
        return try #require(try JSON.parse(String(decoding: answer.body, as: UTF8.self))["access_token"]?.string)
    }
}

/// A transport that records every request and answer of another transport.
final class Recording: ARMTransport {
    let inner: any ARMTransport
    var requests: [ARMHTTPRequest] = []
    var statuses: [Int] = []
    /// Headers added to every request (an `Authorization` header, say).
    var extraHeaders: [String: String] = [:]

    init(_ inner: any ARMTransport) {
        self.inner = inner
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        var request = request
        for (name, value) in extraHeaders { request.headers[name] = value }
        requests.append(request)
        let response = try inner.send(request)
        statuses.append(response.status)
        return response
    }

    /// The request bodies as JSON.
    func bodies() throws -> [JSON] {
        try requests.map { try JSON.parse(String(decoding: $0.body, as: UTF8.self)) }
    }
}

/// A transport that answers from a script, for answers the emulator never gives.
final class Scripted: ARMTransport {
    var answers: [Result<ARMHTTPResponse, TransportError>]
    var sent = 0

    init(_ answers: [Result<ARMHTTPResponse, TransportError>]) {
        self.answers = answers
    }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        sent += 1
        guard !answers.isEmpty else {
            return .json(200, #"{"totalRecords": 0, "count": 0, "data": [], "resultTruncated": "false"}"#)
        }
        switch answers.removeFirst() {
        case .success(let response): return response
        case .failure(let error): throw error
        }
    }
}

/// A clock that only moves when slept on, for scripted transports.
final class VirtualClock: RemediationClock {
    var now: Int64 = 1_700_000_000_000
    var sleeps: [Int64] = []

    func sleep(until time: Int64) {
        if time > now {
            sleeps.append(time - now)
            now = time
        }
    }
}

extension ARMHTTPResponse {
    /// A JSON answer.
    static func json(_ status: Int, _ text: String, headers: [String: String] = [:]) -> ARMHTTPResponse {
        ARMHTTPResponse(status: status, headers: headers, body: Array(text.utf8))
    }
}
