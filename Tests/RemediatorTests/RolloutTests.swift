import FleetCore
import Foundation
import Planner
import PolicyEngine
import Remediator
import Testing

@Suite("rollout.json and --wave")
struct RolloutTests {
    @Test("the sample policies/rollout.json loads: canary by tag, 5%, 25%, rest, one weekend-night window")
    func sample() throws {
        let path = repositoryRoot.appendingPathComponent("policies/rollout.json").path
        let rollout = try Rollout.load(path: path)
        #expect(rollout.waves.map(\.name) == ["canary", "early", "broad", "rest"])
        #expect(rollout.waves[0].selector == .tag(key: "fluxfleet.io/ring", value: "canary"))
        #expect(rollout.waves[1].selector == .percent(5))
        #expect(rollout.waves[2].selector == .percent(25))
        #expect(rollout.waves[3].selector == .rest)
        #expect(rollout.waves[0].soak == 30 * 60_000)
        #expect(rollout.waves[0].failureBudget == .count(0))
        #expect(rollout.waves[2].failureBudget == .percent(5))
        #expect(rollout.waves[3].soak == 0)
        #expect(rollout.neverTouchTag == "fluxfleet.io/never-touch")
        let window = try #require(rollout.changeWindows.first)
        #expect(rollout.changeWindows.count == 1)
        #expect(window.days == [.friday, .saturday, .sunday])
        #expect(window.start == 22 * 60 && window.end == 6 * 60 && window.utcOffset == 0)
        #expect(window.selector == .tag(key: "fluxfleet.io/change-window", value: "weekend-nights"))
        let options = rollout.planOptions(PlanOptions(migrateFluxV1: true, neverTouchTag: "frozen"))
        #expect(options.changeWindows == [window])
        #expect(options.neverTouchTag == "fluxfleet.io/never-touch")
        #expect(options.migrateFluxV1)
    }

    @Test("the policy loader ignores rollout.json: same bundle digest with and without it, no diagnostics about it")
    func policiesIgnoreRollout() throws {
        let source = repositoryRoot.appendingPathComponent("policies")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("rollout-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        let with = PolicyLoader.load(directory: copy.path)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("rollout.json"))
        let without = PolicyLoader.load(directory: copy.path)
        #expect(!with.hasErrors)
        #expect(with.bundle.digest == without.bundle.digest)
        #expect(!with.diagnostics.contains { "\($0)".contains("rollout") })
    }

    @Test("every problem is reported at once with file, JSON path, what and how to fix")
    func everyProblem() {
        let text = """
            {"formatVersion": 1, "wave": [],
             "waves": [
               {"name": "canary", "selector": "tag=ring=canary", "maxParalel": 2, "soak": "10 minutes"},
               {"name": "canary", "selector": "25%", "failureBudget": "120%"},
               {"name": "later", "selector": "5%"},
               {"name": "odd", "selector": "tags=ring=x"}
             ],
             "changeWindows": [
               {"name": "nights", "days": ["Sat", "Caturday"], "start": "25:00", "end": "06:00", "timeZone": "Europe/Paris"}
             ]}
            """
        #expect(throws: RolloutError.self) { try Rollout.parse(text, file: "policies/rollout.json") }
        do {
            _ = try Rollout.parse(text, file: "policies/rollout.json")
        } catch {
            let lines = error.problems.map(\.description)
            func has(_ path: String, _ fragment: String) -> Bool {
                lines.contains { $0.hasPrefix("policies/rollout.json: \(path): ") && $0.contains(fragment) }
            }
            #expect(has("$", "unknown key 'wave'; did you mean 'waves'?"))
            #expect(has("$.waves[0]", "unknown key 'maxParalel'; did you mean 'maxParallel'?"))
            #expect(has("$.waves[0].soak", "\"10 minutes\" is not a duration; write a number with a unit"))
            #expect(has("$.waves[1].failureBudget", "\"120%\" is not a budget"))
            #expect(has("$.waves[1].name", "wave name 'canary' is used twice (first at $.waves[0])"))
            #expect(has("$.waves[2].selector", "5% does not increase on 25%"))
            #expect(has("$.waves[3].selector", "'tags=ring=x' is not a selector; write clusters="))
            #expect(has("$.changeWindows[0].days[1]", "\"Caturday\" is not a day of the week"))
            #expect(has("$.changeWindows[0].start", "'25:00' is not a time of day"))
            #expect(has("$.changeWindows[0].timeZone", "is not UTC or a fixed offset"))
            #expect(lines.count == 10, "\(lines.joined(separator: "\n"))")
        }
    }

    @Test("broken JSON, a missing formatVersion and a rest wave that is not last are errors")
    func structure() {
        #expect {
            try Rollout.parse("{\"formatVersion\": 1, \"waves\": [}", file: "r.json")
        } throws: { error in
            "\(error)".hasPrefix("r.json: $.waves") && "\(error)".contains(": line 1, column ")
                && "\(error)".hasSuffix("write valid JSON (a missing comma or quote is the usual cause)")
        }
        #expect {
            try Rollout.parse(
                #"{"waves": [{"name": "a", "selector": "rest"}, {"name": "b", "selector": "5%"}]}"#, file: "r.json")
        } throws: { error in
            let text = "\(error)"
            return text.contains("r.json: $: formatVersion is missing; add \"formatVersion\": 1")
                && text.contains("r.json: $.waves[0].selector: wave 'a' takes the rest")
        }
    }

    @Test("no waves in the file: one wave of everything with the CLI's defaults")
    func defaults() throws {
        let defaults = WaveDefaults(maxParallel: 7, failureBudget: .percent(10))
        let rollout = try Rollout.parse(#"{"formatVersion": 1}"#, file: "r.json", defaults: defaults)
        #expect(rollout.waves == [Wave(name: "all", selector: .rest, maxParallel: 7, failureBudget: .percent(10))])
        #expect(Rollout.standard(defaults) == rollout)
        #expect(rollout.changeWindows.isEmpty)
        #expect(rollout.neverTouchTag == nil)
        let object = try Rollout.parse(
            #"{"formatVersion": 1, "waves": [{"name": "c", "selector": {"clusters": ["aks-1"]}, "soak": "1h30m"}, {"name": "t", "selector": {"tag": {"ring": "b"}}}, {"name": "p", "selector": {"percent": 12.5}}, {"name": "r", "selector": {"rest": true}}]}"#,
            file: "r.json", defaults: defaults)
        #expect(
            object.waves.map(\.selector) == [
                .clusters(["aks-1"]), .tag(key: "ring", value: "b"), .percent(12.5), .rest,
            ])
        #expect(object.waves[0].soak == 90 * 60_000)
        #expect(object.waves[1].maxParallel == 7)
    }

    @Test("--wave texts: names, selectors and per-wave options over the flag defaults")
    func waveFlags() throws {
        let defaults = WaveDefaults(maxParallel: 16, failureBudget: .count(2), soak: 0)
        let waves = try Rollout.waves(
            fromFlags: [
                "canary:clusters=aks-a, aks-b;parallel=1;soak=30m", "tag=fluxfleet.io/ring=early", "5%;budget=1",
                "25%", "rest;budget=5%",
            ],
            defaults: defaults)
        #expect(waves.map(\.name) == ["canary", "wave-2", "5%", "25%", "rest"])
        #expect(waves[0].selector == .clusters(["aks-a", "aks-b"]))
        #expect(waves[0].maxParallel == 1 && waves[0].soak == 1_800_000 && waves[0].failureBudget == .count(2))
        #expect(waves[1].selector == .tag(key: "fluxfleet.io/ring", value: "early"))
        #expect(waves[2].failureBudget == .count(1) && waves[2].maxParallel == 16)
        #expect(waves[4].failureBudget == .percent(5))
        #expect(try WaveSelector(parsing: "tag=ring=canary") == .tag(key: "ring", value: "canary"))
        #expect(try Wave(parsing: "tag=ring=canary").name == "canary")
    }

    @Test("bad --wave texts name the text and the grammar; shares must increase")
    func waveFlagErrors() {
        #expect {
            try Rollout.waves(fromFlags: ["tags=ring=x", "5%;parralel=3", "10%;soak=ten"])
        } throws: { error in
            let lines = (error as? RolloutError)?.problems.map(\.description) ?? []
            return lines.count == 3
                && lines[0].hasPrefix("--wave: tags=ring=x: 'tags=ring=x' is not a selector; write clusters=")
                && lines[1].contains("unknown option 'parralel' (did you mean 'parallel'?)")
                && lines[2].contains("soak 'ten' is not a duration")
        }
        #expect {
            try Rollout.waves(fromFlags: ["50%", "10%"])
        } throws: { error in
            "\(error)".contains("--wave: --wave '10%': 10% does not increase on 50% (wave 1)")
        }
        #expect(throws: RolloutError.self) { try WaveSelector(parsing: "0%") }
        #expect(throws: RolloutError.self) { try WaveSelector(parsing: "clusters=") }
    }
}

@Suite("change windows")
struct ChangeWindowTests {
    static let friday = ChangeWindow.parseTime("2026-11-27T12:00:00Z")!

    @Test("a window across midnight is open from its start to the next morning, only after its days")
    func acrossMidnight() throws {
        let window = ChangeWindow(name: "nights", days: [.friday, .saturday], start: 22 * 60, end: 6 * 60)
        func at(_ text: String) -> Bool { window.isOpen(at: ChangeWindow.parseTime(text)!) }
        #expect(!at("2026-11-27T21:59:59Z"))  // Friday before
        #expect(at("2026-11-27T22:00:00Z"))  // Friday night
        #expect(at("2026-11-28T05:59:00Z"))  // Saturday morning, from Friday
        #expect(!at("2026-11-28T06:00:00Z"))
        #expect(at("2026-11-29T03:00:00Z"))  // Sunday morning, from Saturday
        #expect(!at("2026-11-29T23:00:00Z"))  // Sunday night: Sunday is not a day of the window
        #expect(!at("2026-11-30T03:00:00Z"))
        #expect(window.nextOpening(after: Self.friday) == ChangeWindow.parseTime("2026-11-27T22:00:00Z"))
        #expect(
            window.nextOpening(after: ChangeWindow.parseTime("2026-11-29T00:00:00Z")!)
                == ChangeWindow.parseTime("2026-12-04T22:00:00Z"))
    }

    @Test("a fixed offset shifts the window: 22:00 +01:00 is 21:00 UTC")
    func offset() {
        let window = ChangeWindow(name: "n", days: [.friday], start: 22 * 60, end: 23 * 60, utcOffset: 60)
        #expect(window.isOpen(at: ChangeWindow.parseTime("2026-11-27T21:30:00Z")!))
        #expect(!window.isOpen(at: ChangeWindow.parseTime("2026-11-27T22:30:00Z")!))
        #expect(window.nextOpening(after: Self.friday).map(ChangeWindow.iso8601) == "2026-11-27T21:00:00Z")
        #expect(window.summary == "Fri 22:00–23:00 +01:00")
    }

    @Test("ISO times parse with fractions and offsets, and print back in UTC")
    func times() {
        #expect(ChangeWindow.parseTime("2026-11-21T18:00:00Z") == 1_795_284_000_000)
        #expect(ChangeWindow.parseTime("2026-11-21T19:00:00.250+01:00") == 1_795_284_000_250)
        #expect(ChangeWindow.parseTime("2026-11-21 18:00") == nil)
        #expect(ChangeWindow.iso8601(1_795_284_000_250) == "2026-11-21T18:00:00Z")
    }
}
