import FleetCore
import Testing

@testable import ARMEmulator

/// ARM's per-subscription token buckets on the virtual clock.
@Suite("throttling")
struct ThrottlingTests {
    static let aks = Fixture.aksID("aks-01")
    static let ext = "\(aks)/providers/Microsoft.KubernetesConfiguration/extensions/flux"

    static func state() -> EmulatorState {
        Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: aks)]) { $0.throttling = .arm }
    }

    @Test("reads: 250 burst counting down, then 429 with Retry-After and ARM's body; refilled at 25/s")
    func reads() throws {
        var state = Self.state()
        for expected in stride(from: 249, through: 0, by: -1) {
            let response = state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion)
            #expect(response.status == 200)
            #expect(response.header("x-ms-ratelimit-remaining-subscription-reads") == String(expected))
            #expect(response.header("x-ms-ratelimit-remaining-subscription-writes") == nil)
        }
        let throttled = state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion)
        #expect(throttled.status == 429)
        #expect(throttled.errorCode == "SubscriptionRequestsThrottled")
        #expect(throttled.header("Retry-After") == "1")
        #expect(throttled.header("x-ms-ratelimit-remaining-subscription-reads") == "0")

        state.advance(by: 1_000)
        for _ in 0..<25 {
            #expect(state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion).status == 200)
        }
        #expect(state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion).status == 429)
        // A long wait refills to the burst, no further.
        state.advance(by: 3_600_000)
        let full = state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion)
        #expect(full.header("x-ms-ratelimit-remaining-subscription-reads") == "249")
        #expect(state.statistics.readsAccepted[Fixture.subscription] == 250 + 25 + 1)
        #expect(state.statistics.throttled == 2)
        #expect(state.statistics.writesAccepted.isEmpty)
    }

    @Test("writes: 200 burst shared by PUT and PATCH; refilled at 10/s; Retry-After in seconds")
    func writes() throws {
        var state = Self.state()
        let patch = #"{"properties": {"configurationSettings": {"multiTenancy.enforce": "false"}}}"#
        // A no-op PATCH is cheap to repeat: 200 of them empty the bucket.
        for expected in stride(from: 199, through: 0, by: -1) {
            let response = state.send("PATCH", Self.ext, apiVersion: Fixture.extensionsVersion, body: patch)
            #expect(response.status == 200)
            #expect(response.header("x-ms-ratelimit-remaining-subscription-writes") == String(expected))
        }
        let throttled = state.send("PATCH", Self.ext, apiVersion: Fixture.extensionsVersion, body: patch)
        #expect(throttled.status == 429)
        #expect(throttled.errorCode == "SubscriptionRequestsThrottled")
        #expect(throttled.header("Retry-After") == "1")
        #expect(throttled.text.contains("'write' requests"))
        // Reads have their own bucket.
        #expect(state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion).status == 200)
        state.advance(by: 100)
        let one = state.send("PATCH", Self.ext, apiVersion: Fixture.extensionsVersion, body: patch)
        #expect(one.status == 200)
        #expect(one.header("x-ms-ratelimit-remaining-subscription-writes") == "0")
        #expect(state.send("PATCH", Self.ext, apiVersion: Fixture.extensionsVersion, body: patch).status == 429)
        #expect(state.statistics.writesAccepted[Fixture.subscription] == 201)
    }

    @Test("deletes: their own bucket of 200 refilled at 10/s, with the -deletes header; writes do not drain it")
    func deletes() throws {
        var state = Self.state()
        let patch = #"{"properties": {"configurationSettings": {"multiTenancy.enforce": "false"}}}"#
        for _ in 0..<200 {
            #expect(state.send("PATCH", Self.ext, apiVersion: Fixture.extensionsVersion, body: patch).status == 200)
        }
        #expect(state.send("PATCH", Self.ext, apiVersion: Fixture.extensionsVersion, body: patch).status == 429)
        // The write bucket is empty; a DELETE still goes through.
        let delete = state.send("DELETE", Self.ext, apiVersion: Fixture.extensionsVersion)
        #expect(delete.status == 202)
        #expect(delete.header("x-ms-ratelimit-remaining-subscription-deletes") == "199")
        #expect(delete.header("x-ms-ratelimit-remaining-subscription-writes") == nil)
        // The same delete again (it is running) until the delete bucket is empty.
        for expected in stride(from: 198, through: 0, by: -1) {
            let again = state.send("DELETE", Self.ext, apiVersion: Fixture.extensionsVersion)
            #expect(again.status == 202)
            #expect(again.header("x-ms-ratelimit-remaining-subscription-deletes") == String(expected))
        }
        let throttled = state.send("DELETE", Self.ext, apiVersion: Fixture.extensionsVersion)
        #expect(throttled.status == 429)
        #expect(throttled.errorCode == "SubscriptionRequestsThrottled")
        #expect(throttled.text.contains("'delete' requests"))
        #expect(throttled.header("Retry-After") == "1")
        #expect(state.statistics.deletesAccepted[Fixture.subscription] == 200)
        #expect(state.statistics.writesAccepted[Fixture.subscription] == 200)
    }

    @Test("subscriptions have separate buckets")
    func perSubscription() {
        let other =
            "/subscriptions/0a0b0c0d-1111-4222-8333-444455556666/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/x"
        var state = Self.state()
        for _ in 0..<250 { _ = state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion) }
        #expect(state.send("GET", Self.ext, apiVersion: Fixture.extensionsVersion).status == 429)
        let elsewhere = state.send("GET", other, apiVersion: "2026-08-01")
        #expect(elsewhere.status == 404)
        #expect(elsewhere.header("x-ms-ratelimit-remaining-subscription-reads") == "249")
    }

    @Test("Retry-After covers the wait for a whole token")
    func retryAfter() {
        var limits = ThrottlingLimits.arm
        limits.deleteRefillPerSecond = 1
        limits.deleteBurst = 1
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)]) {
            $0.throttling = limits
        }
        #expect(state.send("DELETE", Self.ext, apiVersion: Fixture.extensionsVersion).status == 202)
        state.advance(by: 400)
        let throttled = state.send("DELETE", Self.ext, apiVersion: Fixture.extensionsVersion)
        #expect(throttled.status == 429)
        #expect(throttled.header("Retry-After") == "1")
        state.advance(by: 600)
        #expect(state.send("DELETE", Self.ext, apiVersion: Fixture.extensionsVersion).status == 202)
    }

    @Test("with throttling off nothing is throttled and no rate-limit header is sent")
    func off() {
        var state = Fixture.state([Fixture.aks("aks-01")])
        for _ in 0..<600 {
            let response = state.send("GET", Self.aks, apiVersion: "2026-08-01")
            #expect(response.status == 200)
            #expect(response.header("x-ms-ratelimit-remaining-subscription-reads") == nil)
        }
    }
}
