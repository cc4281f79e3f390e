import ARMEmulator
import FleetCore
import Foundation
import Testing

@testable import AzureARM

@Suite("Resource Graph inventory over a socket")
struct SocketInventoryTests {
    @Test("URLSessionTransport to a loopback server in front of the emulator reads the demo fleet with a token")
    func demoOverSocket() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet) {
            $0.requireBearerToken = true
            $0.resourceGraphQuota = ResourceGraphQuota(queries: 4, window: 5_000)
            $0.faults.serverErrors = FaultRate(percent: 20)
            $0.faults.droppedConnections = FaultRate(percent: 10)
            $0.faults.seed = 3
        }
        let shared = Serialized(arm)
        let server = try LoopbackServer { request in
            let answer = shared.send(
                ARMHTTPRequest(
                    method: request.method, url: request.target, headers: request.headers, body: request.body)
            )
            guard let answer else { return nil }  // the emulator dropped the connection
            return LoopbackServer.answer(answer.status, headers: answer.headers, bytes: answer.body)
        }
        defer { server.stop() }
        let token = try Fixture.armToken(from: arm)
        let transport = try URLSessionTransport(
            endpoint: server.endpoint, requestTimeout: 20, resourceTimeout: 60, authorization: { "Bearer \(token)" })
        var options = Fixture.options(pageSize: 5)
        options.endpoint = server.endpoint
        options.maxAttempts = 10
        let read = try ResourceGraphInventory.read(transport: transport, clock: shared, options: options)

        #expect(Fixture.facts(read.fleet).ids == Fixture.facts(snapshot.fleet).ids)
        #expect(Fixture.facts(read.fleet).fingerprints == Fixture.facts(snapshot.fleet).fingerprints)
        #expect(read.statistics.retries > 0)
        #expect(read.statistics.quotaWaits > 0)
        #expect(read.inventory.files.first?.path.hasPrefix(server.endpoint) == true)
    }
}

/// The in-process emulator behind a lock: the server answers each connection on its own thread.
private final class Serialized: RemediationClock, @unchecked Sendable {
    private let lock = NSLock()
    private let arm: InProcessARM

    init(_ arm: InProcessARM) {
        self.arm = arm
    }

    /// The emulator's answer, or nil when it drops the connection.
    func send(_ request: ARMHTTPRequest) -> ARMHTTPResponse? {
        lock.lock()
        defer { lock.unlock() }
        return try? arm.send(request)
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
}
