import FleetCore
import Testing

@testable import ARMEmulator

/// Requests from URLs, header lookup and the clock's formats.
@Suite("messages and clock")
struct MessageTests {
    @Test("a URL becomes a decoded path and query; the scheme and host are dropped")
    func url() {
        let request = ARMRequest(
            method: "get",
            url:
                "https://127.0.0.1:8443/subscriptions/s/resourceGroups/rg%20a/x?api-version=2025-03-01&%24skipToken=a%2Bb&q=x+y&flag"
        )
        #expect(request.method == "GET")
        #expect(request.path == "/subscriptions/s/resourceGroups/rg a/x")
        #expect(request.queryValue("API-VERSION") == "2025-03-01")
        #expect(request.queryValue("$skipToken") == "a+b")
        #expect(request.queryValue("q") == "x y")
        #expect(request.queryValue("flag") == "")
        #expect(request.queryValue("missing") == nil)
        #expect(ARMRequest(method: "GET", url: "/a/b?c=%zz").queryValue("c") == "%zz")
        #expect(ARMRequest(method: "GET", url: "http://host").path == "/")
    }

    @Test("header names compare ignoring case")
    func headers() {
        let request = ARMRequest(method: "GET", path: "/", headers: ["X-Ms-Client-Request-Id": "abc"])
        #expect(request.header("x-ms-client-request-id") == "abc")
        let response = ARMResponse(status: 200, headers: ["Retry-After": "5"])
        #expect(response.header("retry-after") == "5")
        #expect(response.header("location") == nil)
    }

    @Test("the virtual clock's formats")
    func clock() {
        let start = EmulatorClock.defaultStart
        #expect(EmulatorClock.iso8601(start) == "2026-11-21T18:00:00.000Z")
        #expect(EmulatorClock.iso8601(start + 3_723_004) == "2026-11-21T19:02:03.004Z")
        #expect(EmulatorClock.iso8601(0) == "1970-01-01T00:00:00.000Z")
        #expect(EmulatorClock.httpDate(start) == "Sat, 21 Nov 2026 18:00:00 GMT")
        #expect(EmulatorClock.httpDate(start + 86_400_000 * 10) == "Tue, 01 Dec 2026 18:00:00 GMT")
    }

    @Test("the clock never runs backwards")
    func monotonic() {
        var state = EmulatorState()
        state.advance(by: 5_000)
        state.advance(to: EmulatorClock.defaultStart)
        state.advance(by: -1_000)
        #expect(state.now == EmulatorClock.defaultStart + 5_000)
    }

    @Test("the answer's Date header follows the virtual clock")
    func dateHeader() {
        var state = EmulatorState()
        state.advance(by: 60_000)
        let response = ARMEmulator.handle(ARMRequest(method: "GET", path: "/nowhere"), in: &state)
        #expect(response.header("Date") == "Sat, 21 Nov 2026 18:01:00 GMT")
        #expect(response.header("x-ms-routing-request-id")?.contains("20261121T180100Z") == true)
    }

    @Test("fault rates print as percentages")
    func rates() {
        #expect(FaultRate(percent: 0.5).description == "0.5%")
        #expect(FaultRate(percent: 12.25).description == "12.25%")
        #expect(FaultRate(partsPerMillion: 2_000_000).description == "100%")
        #expect(FaultRate.never.description == "0%")
    }
}
