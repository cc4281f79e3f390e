import FleetCore
import Testing

@testable import ARMEmulator

/// The fault spec and the faults it injects.
@Suite("faults")
struct FaultTests {
    static let aks = Fixture.aksID("aks-01")

    @Test("the example spec parses and prints back")
    func example() throws {
        let plan = try FaultPlan(parsing: "5xx=2%,429storm=60s@300s,drop=1%,slow=10%x5,stuck=0.5%")
        #expect(plan.serverErrors == FaultRate(percent: 2))
        #expect(plan.storms == [ThrottleStorm(start: 300_000, duration: 60_000)])
        #expect(plan.droppedConnections.partsPerMillion == 10_000)
        #expect(plan.slowOperations.partsPerMillion == 100_000)
        #expect(plan.slowFactor == 5)
        #expect(plan.stuckOperations.partsPerMillion == 5_000)
        #expect(plan.description == "5xx=2%,drop=1%,429storm=60s@300s,slow=10%x5,stuck=0.5%")
        #expect(try FaultPlan(parsing: plan.description) == plan)
    }

    struct Good: Sendable, CustomTestStringConvertible {
        var spec: String
        var check: @Sendable (FaultPlan) -> Bool
        var testDescription: String { spec.isEmpty ? "(empty)" : spec }
    }

    static let good: [Good] = [
        Good(spec: "", check: { $0.isEmpty }),
        Good(spec: "  ", check: { $0.isEmpty }),
        Good(
            spec: " fail=100% , seed=42 ", check: { $0.failedOperations.partsPerMillion == 1_000_000 && $0.seed == 42 }),
        Good(
            spec: "429storm=1500ms@2m,429storm=1h@0s",
            check: { $0.storms.count == 2 && $0.storms[1].duration == 3_600_000 }),
        Good(spec: "5XX=0.0001%", check: { $0.serverErrors.partsPerMillion == 1 }),
        Good(spec: "slow=50%X1", check: { $0.slowFactor == 1 }),
    ]

    @Test("valid specs", arguments: good)
    func valid(_ row: Good) throws {
        #expect(row.check(try FaultPlan(parsing: row.spec)))
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var spec: String
        var item: String
        var message: String
        var testDescription: String { spec }
    }

    static let bad: [Bad] = [
        Bad(spec: "5xx=2", item: "5xx=2", message: "expected a percentage ending in '%'"),
        Bad(spec: "5xx=101%", item: "5xx=101%", message: "cannot exceed 100%"),
        Bad(spec: "drop=abc%", item: "drop=abc%", message: "'abc' is not a number"),
        Bad(spec: "drop=0.00001%", item: "drop=0.00001%", message: "at most 4 decimals"),
        Bad(spec: "slow=10%", item: "slow=10%", message: "such as slow=10%x5"),
        Bad(spec: "slow=10%x0", item: "slow=10%x0", message: "at least 1"),
        Bad(spec: "429storm=60s", item: "429storm=60s", message: "DURATION@START"),
        Bad(spec: "429storm=60@300s", item: "429storm=60@300s", message: "'60' is not a duration"),
        Bad(spec: "429storm=0s@1s", item: "429storm=0s@1s", message: "longer than 0"),
        Bad(spec: "5xx=1%,,drop=1%", item: "", message: "empty item"),
        Bad(spec: "stuck=1%,stuck=2%", item: "stuck=2%", message: "given twice"),
        Bad(spec: "explode=1%", item: "explode=1%", message: "unknown fault 'explode'"),
        Bad(spec: "drop", item: "drop", message: "expected NAME=VALUE"),
        Bad(spec: "seed=-1", item: "seed=-1", message: "unsigned integer"),
    ]

    @Test("invalid specs name the item and what was expected", arguments: bad)
    func invalid(_ row: Bad) {
        do {
            _ = try FaultPlan(parsing: row.spec)
            Issue.record("'\(row.spec)' parsed")
        } catch {
            #expect(error.item == row.item)
            #expect(error.message.contains(row.message), "\(error.message)")
            #expect(error.description.contains("SPEC := ITEM"))
        }
    }

    /// The answers to a fixed request sequence: status (0 for a dropped connection) and request id.
    static func run(seed: UInt64, spec: String, requests: Int = 400) throws -> [String] {
        let plan = try FaultPlan(parsing: spec)
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: aks)]) {
            $0.faults = plan
            $0.seed = seed
        }
        var answers: [String] = []
        for n in 0..<requests {
            let response =
                n % 4 == 0
                ? state.putConfiguration(aks, name: "cfg-\(n)")
                : state.getChild(aks, .extensions, "flux")
            answers.append("\(response.status) \(response.header("x-ms-request-id") ?? "-")")
            state.advance(by: 250)
        }
        return answers
    }

    @Test("the same seed gives the same answers; another seed other answers")
    func determinism() throws {
        let spec = "5xx=5%,drop=3%,slow=20%x3,stuck=2%,fail=2%"
        let first = try Self.run(seed: 7, spec: spec)
        #expect(first == (try Self.run(seed: 7, spec: spec)))
        #expect(first != (try Self.run(seed: 8, spec: spec)))
        let statuses = first.map { $0.split(separator: " ")[0] }
        #expect(statuses.contains("500"))
        #expect(statuses.contains("503"))
        #expect(statuses.contains("0"))
        let faults = statuses.filter { $0 == "500" || $0 == "503" }.count
        #expect(faults > 4 && faults < 40, "\(faults) server errors in 400 requests at 5%")
    }

    @Test("429=P answers sporadic 429s with a Retry-After of 1–3 s before the request takes effect")
    func sporadicThrottling() throws {
        let plan = try FaultPlan(parsing: "429=5%,5xx=1%")
        #expect(plan.throttled == FaultRate(percent: 5))
        #expect(plan.description == "5xx=1%,429=5%")
        var state = Fixture.state([Fixture.aks("aks-01")]) { $0.faults.throttled = FaultRate(percent: 100) }
        var waits: Set<String> = []
        for _ in 0..<30 {
            let response = state.send("GET", Self.aks, apiVersion: "2026-08-01")
            #expect(response.status == 429)
            #expect(response.errorCode == "SubscriptionRequestsThrottled")
            waits.insert(response.header("Retry-After") ?? "")
        }
        #expect(waits == ["1", "2", "3"])
    }

    @Test("a 503 carries Retry-After; a dropped connection has no status, headers or body")
    func shapes() {
        var state = Fixture.state([Fixture.aks("aks-01")]) { $0.faults.serverErrors = FaultRate(percent: 100) }
        var seen: Set<Int> = []
        for _ in 0..<40 {
            let response = state.send("GET", Self.aks, apiVersion: "2026-08-01")
            seen.insert(response.status)
            if response.status == 503 { #expect(response.header("Retry-After") == "5") }
            if response.status == 500 { #expect(response.errorCode == "InternalServerError") }
        }
        #expect(seen == [500, 503])
        #expect(state.statistics.injectedErrors == 40)
        state.configuration.faults = FaultPlan()
        state.configuration.faults.droppedConnections = FaultRate(percent: 100)
        let dropped = state.send("GET", Self.aks, apiVersion: "2026-08-01")
        #expect(dropped.kind == .droppedConnection)
        #expect(dropped.status == 0 && dropped.headers.isEmpty && dropped.body.isEmpty)
        #expect(state.statistics.droppedConnections == 1)
    }

    @Test("half of the dropped writes took effect before the connection dropped")
    func droppedWrites() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)]) {
            $0.faults.droppedConnections = FaultRate(percent: 100)
        }
        for n in 0..<40 {
            #expect(state.putConfiguration(Self.aks, name: "cfg-\(n)").kind == .droppedConnection)
        }
        let created = state.cluster(Self.aks)?.children[.fluxConfigurations]?.count ?? 0
        #expect(created > 5 && created < 35, "\(created) of 40 dropped PUTs took effect")
    }

    @Test("a 429 storm answers every ARM request inside its window, with Retry-After to its end")
    func storm() {
        var state = Fixture.state([Fixture.aks("aks-01")]) {
            $0.faults.storms = [ThrottleStorm(start: 60_000, duration: 30_000)]
        }
        #expect(state.send("GET", Self.aks, apiVersion: "2026-08-01").status == 200)
        state.advance(by: 60_000)
        let inside = state.send("GET", Self.aks, apiVersion: "2026-08-01")
        #expect(inside.status == 429)
        #expect(inside.errorCode == "SubscriptionRequestsThrottled")
        #expect(inside.header("Retry-After") == "30")
        state.advance(by: 29_500)
        #expect(state.send("GET", Self.aks, apiVersion: "2026-08-01").header("Retry-After") == "1")
        state.advance(by: 500)
        #expect(state.send("GET", Self.aks, apiVersion: "2026-08-01").status == 200)
    }

    @Test("slow operations take the factor longer; stuck ones never end; failing ones end Failed")
    func operationFaults() throws {
        func finalStatus(_ configure: (inout FaultPlan) -> Void, after: Int64) throws -> (String?, ARMResponse) {
            var state = Fixture.state([Fixture.aks("aks-01")]) {
                $0.extensionProvisioningDelay = 10_000
                configure(&$0.faults)
            }
            let put = state.putExtension(Self.aks)
            state.advance(by: after)
            let status = state.follow(try #require(put.header("Azure-AsyncOperation")))
            return (status.json["status"]?.string, state.getChild(Self.aks, .extensions, "flux"))
        }
        let slow: (inout FaultPlan) -> Void = {
            $0.slowOperations = FaultRate(percent: 100)
            $0.slowFactor = 5
        }
        #expect(try finalStatus(slow, after: 49_999).0 == "InProgress")
        #expect(try finalStatus(slow, after: 50_000).0 == "Succeeded")
        #expect(try finalStatus({ $0.stuckOperations = FaultRate(percent: 100) }, after: 86_400_000).0 == "InProgress")
        let (failed, resource) = try finalStatus({ $0.failedOperations = FaultRate(percent: 100) }, after: 10_000)
        #expect(failed == "Failed")
        #expect(resource.property("provisioningState") == "Failed")
        #expect(resource.json["properties"]?["errorInfo"]?["code"]?.string == "ExtensionOperationFailed")
    }
}
