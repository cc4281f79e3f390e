import FleetCore
import Planner
import PolicyEngine
import Testing

@Suite("change windows at plan time")
struct ChangeWindowPlanTests {
    /// Weekend nights, Friday to Sunday 22:00–06:00 UTC; the fixtures are evaluated on Saturday 2026-11-21 18:00 UTC.
    static let nights = ChangeWindow(
        name: "weekend-nights", days: [.friday, .saturday, .sunday], start: 22 * 60, end: 6 * 60)

    /// Plans a fleet of `c1` (tagged `tags`, needing the whole baseline) and `c2` (on the baseline) at `time`.
    static func plan(windows: [ChangeWindow], at time: String = fixtureNow, tags: [String: String] = [:]) throws -> Plan
    {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1", tags: tags)
        fixture.aks("c2")
        fixture.fluxExtension(on: Fixture.clusterID("c2"))
        fixture.configuration(on: Fixture.clusterID("c2"))
        let (fleet, bundle) = try fixture.load()
        let scan = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: ScanOptions(now: time))
        return Planner.plan(
            scan: scan, fleet: fleet, bundle: bundle, options: PlanOptions(changeWindows: windows),
            inputs: PlanInputs(evaluatedAt: time))
    }

    @Test("outside every window: skipped outsideChangeWindow, naming the next opening and a remedy")
    func outside() throws {
        let plan = try Self.plan(windows: [Self.nights])
        let cluster = try #require(plan.cluster("c1"))
        #expect(cluster.decision == .skipped)
        #expect(cluster.reason?.code == "outsideChangeWindow")
        #expect(cluster.actions.isEmpty)
        let message = try #require(cluster.reason?.message)
        #expect(message.contains("'weekend-nights' (Fri,Sat,Sun 22:00–06:00 UTC)"))
        #expect(message.contains("at 2026-11-21T18:00:00Z; the next opens at 2026-11-21T22:00:00Z"))
        #expect(cluster.reason?.remedy.contains("inside the window (from 2026-11-21T22:00:00Z)") == true)
        // skipped is decided first: even a cluster on the baseline is skipped, not noop.
        #expect(plan.cluster("c2")?.decision == .skipped)
        #expect(plan.summary[.skipped] == 2)
    }

    @Test("inside a window, across midnight: planned as without windows")
    func inside() throws {
        let mondayMorning = try Self.plan(windows: [Self.nights], at: "2026-11-23T05:30:00Z")
        #expect(mondayMorning.cluster("c1")?.decision == .change)
        #expect(mondayMorning.cluster("c1")?.actions.map(\.kind) == [.installExtension, .createConfiguration])
        #expect(mondayMorning.cluster("c2")?.decision == .noop)
        // Monday 06:00 UTC is after Sunday night's window closed.
        let monday = try Self.plan(windows: [Self.nights], at: "2026-11-23T06:00:00Z")
        #expect(monday.cluster("c1")?.decision == .skipped)
        #expect(monday.cluster("c1")?.reason?.message.contains("the next opens at 2026-11-27T22:00:00Z") == true)
    }

    @Test("a window with a selector applies only to its clusters; any open window applying is enough")
    func scoped() throws {
        var tagged = Self.nights
        tagged.selector = .tag(key: "ring", value: "prod")
        let plan = try Self.plan(windows: [tagged], tags: ["ring": "prod"])
        #expect(plan.cluster("c1")?.decision == .skipped)
        #expect(plan.cluster("c2")?.decision == .noop)  // no window applies to c2
        let always = ChangeWindow(name: "saturday", days: [.saturday], start: 0, end: 24 * 60)
        let open = try Self.plan(windows: [tagged, always], tags: ["ring": "prod"])
        #expect(open.cluster("c1")?.decision == .change)
    }

    @Test("the never-touch tag is decided before the windows; no window keeps the plan unchanged")
    func precedence() throws {
        let plan = try Self.plan(windows: [Self.nights], tags: ["fluxfleet.io/never-touch": "true"])
        #expect(plan.cluster("c1")?.reason?.code == "neverTouchTag")
        let none = try Self.plan(windows: [])
        #expect(none.cluster("c1")?.decision == .change)
    }

    @Test("the plan document lists the windows under inputs.options, and has no such key without windows")
    func document() throws {
        var scoped = Self.nights
        scoped.selector = .tag(key: "ring", value: "prod")
        let text = String(decoding: try Self.plan(windows: [scoped], tags: ["ring": "prod"]).jsonBytes(), as: UTF8.self)
        let json = try JSON.parse(text)
        let windows = json["inputs"]?["options"]?["changeWindows"]
        #expect(
            windows
                == .array([
                    .object([
                        "name": .string("weekend-nights"), "window": .string("Fri,Sat,Sun 22:00–06:00 UTC"),
                        "selector": .string("tag=ring=prod"),
                    ])
                ]))
        let plain = String(decoding: try Self.plan(windows: []).jsonBytes(), as: UTF8.self)
        #expect(!plain.contains("changeWindows"))
        #expect(text.contains("\"reason\": \"outsideChangeWindow\""))
    }

    @Test("windows with no readable evaluation time skip the clusters they apply to")
    func noTime() throws {
        var fixture = Fixture()
        fixture.assign("baseline")
        fixture.aks("c1")
        let plan = try fixture.plan(PlanOptions(changeWindows: [Self.nights]))
        #expect(plan.cluster("c1")?.decision == .skipped)
        #expect(plan.cluster("c1")?.reason?.message.contains("no evaluation time") == true)
    }
}
