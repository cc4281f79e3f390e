import FleetCore
import Foundation
import Testing

@testable import FleetGenerator
@testable import PolicyEngine

/// The runtime assessment as it was written before the one-pass lookups, which the fast path must equal.
///
/// Every member is looked up on its own with `member(preferringExact:)`, every timestamp read by the full parser.
private enum ReferenceRuntimeHealth {
    static func assess(configuration: JSONValue, now: String, staleAfterSeconds: Int = 3600) -> RuntimeAssessment {
        let current = ExpressionDateTime(parsing: now)
        let properties = configuration.member(preferringExact: "properties").flatMap { $0.isObject ? $0 : nil }
        let status = properties ?? configuration
        let complianceState = status.member(preferringExact: "complianceState")?.string
        let updatedAt = status.member(preferringExact: "statusUpdatedAt")?.string
        var stale = true
        if let updatedAt, let updated = ExpressionDateTime(parsing: updatedAt), let current {
            let age = (current.ticks - updated.ticks) / ExpressionDateTime.ticksPerSecond
            stale = age > Int64(staleAfterSeconds)
        }
        let suspend = status.member(preferringExact: "suspend").map(flag) ?? false
        let suspended = suspend || complianceState.map { ASCII.equalsIgnoringCase($0, "Suspended") } == true
        var failing: [FailingObject] = []
        if let statuses = status.member(preferringExact: "statuses") {
            for object in statuses.elements {
                if let failure = failure(of: object) { failing.append(failure) }
            }
        }
        return RuntimeAssessment(
            complianceState: complianceState, stale: stale, statusUpdatedAt: updatedAt, suspended: suspended,
            failing: failing)
    }

    private static func failure(of object: JSONValue) -> FailingObject? {
        guard object.isObject else { return nil }
        let state = object.member(preferringExact: "complianceState")
        let nonCompliant =
            state.map { $0.stringEqualsIgnoringCase("Non-Compliant") || $0.stringEqualsIgnoringCase("Noncompliant") }
            ?? false
        let conditions = object.member(preferringExact: "statusConditions")?.elements
        let ready = conditions?.first { $0.member(preferringExact: "type")?.stringEqualsIgnoringCase("Ready") == true }
        let readyFalse = ready.map(isFalse) ?? false
        guard nonCompliant || readyFalse else { return nil }
        let explaining = readyFalse ? ready : (conditions?.first(where: isFalse) ?? ready)
        return FailingObject(
            kind: object.member(preferringExact: "kind")?.string ?? "",
            name: object.member(preferringExact: "name")?.string ?? "",
            namespace: object.member(preferringExact: "namespace")?.string ?? "",
            reason: explaining.flatMap { $0.member(preferringExact: "reason")?.string },
            message: explaining.flatMap { $0.member(preferringExact: "message")?.string })
    }

    private static func isFalse(_ condition: JSONValue) -> Bool {
        guard let status = condition.member(preferringExact: "status") else { return false }
        return status.bool == false || status.stringEqualsIgnoringCase("false")
    }

    private static func flag(_ value: JSONValue) -> Bool {
        value.bool ?? value.stringEqualsIgnoringCase("true")
    }
}

/// FleetGenerator's SplitMix64 as a standard generator, so every run tries the same inputs.
private struct SeededGenerator: RandomNumberGenerator {
    var mixer: SplitMix64
    mutating func next() -> UInt64 { mixer.next() }
}

@Suite("Strict view fast paths: one-pass lookups and in-place reads answer exactly as before")
struct StrictFastPathTests {
    private let now = "2025-03-01T12:00:00Z"

    /// Members as JSON text, `"name": value` (the caller joins them into an object).
    private static func member(_ name: String, _ value: String) -> String { #""\#(name)": \#(value)"# }

    // MARK: - Runtime health

    /// Values where strings are expected: case variants, escapes, non-strings, null.
    private static let complianceValues = [
        #""Compliant""#, #""compliant""#, #""Non-Compliant""#, #""NON-COMPLIANT""#, #""Noncompliant""#,
        #""noncompliant""#, #""Non\u002DCompliant""#, #""Suspended""#, #""SUSPENDED""#, #""Suspen\u0064ed""#,
        #""Pending""#, #""""#, "42", "true", "null", "{}", "[]",
    ]

    private static let timestamps = [
        #""2025-03-01T11:50:00+00:00""#, #""2025-03-01T11:50:00Z""#, #""2025-03-01T10:59:59Z""#,
        #""2025-03-01T13:00:00+02:00""#, #""2025-03-01T09:30:00-02:30""#, #""2025-03-01T11:50:00.1234567Z""#,
        #""2025-03-01T11:50:00z""#, #""2025-03-01t11:50:00Z""#, #""2025-03-01 11:50:00Z""#,
        #""2025-03-01T11:50:00+1400""#, #""2025-03-01T11:50:00+15:00""#, #""2025-03-01T11:50:00+14:99""#,
        #""2025-03-01T24:00:00Z""#, #""2025-02-29T11:50:00Z""#, #""2024-02-29T11:50:00Z""#, #""2025-13-01T11:50:00Z""#,
        #""0000-03-01T11:50:00Z""#, #""0001-01-01T00:00:00+01:00""#, #""9999-12-31T23:59:59-14:00""#,
        #""2025-03-01T11:5a:00Z""#, #""2025-03-01T11:50:00Z ""#, #""2025\u002D03-01T11:50:00Z""#, #""yesterday""#,
        "1740829800", "null", "{}",
    ]

    private static let suspendValues = [
        "true", "false", #""True""#, #""false""#, #""TRUE""#, #""yes""#, #""tru\u0065""#, "1", "null", "[]",
    ]

    /// Conditions of a status object, each a JSON array (or something that is not one).
    private static let conditionLists = [
        #"[{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "ok"}]"#,
        #"[{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "path not found"}]"#,
        #"[{"type": "Ready", "status": false, "reason": "Bool"}]"#,
        #"[{"type": "Ready", "status": "false"}, {"type": "Ready", "status": "True"}]"#,
        #"[{"type": "Ready", "status": "True"}, {"type": "Ready", "status": "False"}]"#,
        #"[{"type": "ready", "status": "FALSE", "reason": "LowerType"}]"#,
        #"[{"Type": "Ready", "Status": "False", "Reason": "Pascal", "Message": "m"}]"#,
        #"[{"type": "Ready", "Type": "Other", "status": "False", "reason": "ExactWins"}]"#,
        #"[{"Type": "Ready", "TYPE": "Other", "status": "False", "reason": "LastFolded"}]"#,
        #"[{"type": "Ready", "status": "False", "status": "True", "reason": "LastExact"}]"#,
        #"[{"type": "Healthy", "status": "False", "reason": "Other"}, {"type": "Ready", "status": "Unknown"}]"#,
        #"[{"type": "Healthy", "status": "False", "reason": "OnlyOther"}]"#,
        #"[{"type": "Ready", "status": "f\u0061lse", "reason": "Escaped"}]"#,
        #"[{"type": "Re\u0061dy", "status": "False", "reason": "EscapedType"}]"#,
        #"[{"typ\u0065": "Ready", "st\u0061tus": "False", "reason": "EscapedKeys"}]"#,
        #"[{"type": "Ready"}]"#, #"[{"type": 1, "status": "False"}]"#, #"["Ready", 3, null]"#, "[]", "{}",
        #""Ready""#, "null",
    ]

    private static let objectCompliance = [
        #""Compliant""#, #""Non-Compliant""#, #""noncompliant""#, #""Pending""#, #""Non\u002dCompliant""#, "false",
        "null",
    ]

    /// A random status object built from the pieces above, sometimes with PascalCase or duplicated names.
    private static func statusObject(_ random: inout SeededGenerator) -> String {
        var members = [
            member("name", #""obj-\#(Int.random(in: 0..<100, using: &random))""#),
            member("namespace", #""flux-system""#), member(Bool.random(using: &random) ? "kind" : "Kind", #""K""#),
        ]
        if Int.random(in: 0..<5, using: &random) > 0 {
            let name = ["complianceState", "ComplianceState", "compliancestate"].randomElement(using: &random)!
            members.append(member(name, objectCompliance.randomElement(using: &random)!))
        }
        if Int.random(in: 0..<4, using: &random) == 0 {
            // A duplicate: exact or case-insensitive, before or after the other.
            let name = Bool.random(using: &random) ? "complianceState" : "COMPLIANCESTATE"
            members.insert(
                member(name, objectCompliance.randomElement(using: &random)!),
                at: Int.random(in: 0...members.count, using: &random))
        }
        if Int.random(in: 0..<6, using: &random) > 0 {
            let name = ["statusConditions", "StatusConditions"].randomElement(using: &random)!
            members.append(member(name, conditionLists.randomElement(using: &random)!))
        }
        members.shuffle(using: &random)
        return "{" + members.joined(separator: ", ") + "}"
    }

    /// A random fluxConfiguration: `properties` (or a bare status object), with every member optional.
    private static func configuration(_ random: inout SeededGenerator) -> String {
        var status: [String] = []
        if Int.random(in: 0..<6, using: &random) > 0 {
            status.append(member("complianceState", complianceValues.randomElement(using: &random)!))
        }
        if Int.random(in: 0..<5, using: &random) == 0 {
            let name = Bool.random(using: &random) ? "complianceState" : "ComplianceState"
            status.append(member(name, complianceValues.randomElement(using: &random)!))
        }
        if Int.random(in: 0..<6, using: &random) > 0 {
            let name = ["statusUpdatedAt", "StatusUpdatedAt", "statusupdatedat"].randomElement(using: &random)!
            status.append(member(name, timestamps.randomElement(using: &random)!))
        }
        if Int.random(in: 0..<3, using: &random) > 0 {
            let name = Bool.random(using: &random) ? "suspend" : "Suspend"
            status.append(member(name, suspendValues.randomElement(using: &random)!))
        }
        switch Int.random(in: 0..<8, using: &random) {
        case 0: break
        case 1: status.append(member("statuses", #""not an array""#))
        case 2: status.append(member("statuses", "{}"))
        default:
            let objects = (0..<Int.random(in: 0...4, using: &random)).map { _ in statusObject(&random) }
            let name = Bool.random(using: &random) ? "statuses" : "Statuses"
            let elements = objects + (Bool.random(using: &random) ? [] : ["7"])
            status.append(member(name, "[" + elements.joined(separator: ", ") + "]"))
        }
        status.append(member("provisioningState", #""Succeeded""#))
        status.shuffle(using: &random)
        let body = "{" + status.joined(separator: ", ") + "}"
        switch Int.random(in: 0..<6, using: &random) {
        case 0: return body
        case 1: return #"{"name": "cfg", "properties": "not an object", "# + body.dropFirst()
        case 2: return #"{"name": "cfg", "Properties": \#(body)}"#
        default: return #"{"name": "cfg", "type": "x", "properties": \#(body)}"#
        }
    }

    @Test("random configurations with tricky members: the assessment equals the one-lookup-per-member reference")
    func assessmentMatchesReference() {
        var random = SeededGenerator(mixer: SplitMix64(seed: 41))
        var failing = 0
        var stale = 0
        for _ in 0..<3000 {
            let text = Self.configuration(&random)
            let configuration = observedJSON(text)
            for threshold in [3600, 60] {
                let fast = RuntimeHealth.assess(configuration: configuration, now: now, staleAfterSeconds: threshold)
                let reference = ReferenceRuntimeHealth.assess(
                    configuration: configuration, now: now, staleAfterSeconds: threshold)
                #expect(fast == reference, "\(text)")
                failing += fast.failing.count
                stale += fast.stale ? 1 : 0
            }
        }
        // The inputs reach both sides of every decision.
        #expect(failing > 500 && stale > 500 && stale < 5500)
    }

    @Test("names differing only in case: the exact one wins, else the last case-insensitive one")
    func exactAndFoldedDuplicates() {
        let text = #"""
            {"properties": {"ComplianceState": "Pending", "complianceState": "Compliant", "COMPLIANCESTATE": "Non-Compliant",
              "StatusUpdatedAt": "2025-03-01T11:59:00Z", "statusupdatedat": "2025-03-01T11:58:00Z",
              "Suspend": true, "SUSPEND": "false",
              "statuses": [
                {"Name": "a", "name": "b", "kind": "K", "complianceState": "Compliant", "ComplianceState": "Non-Compliant",
                 "statusConditions": [{"Type": "Ready", "type": "Healthy", "status": "False"},
                                      {"TYPE": "Other", "Type": "Ready", "Status": "True", "STATUS": "False",
                                       "reason": "LastFolded"}]}]}}
            """#
        let configuration = observedJSON(text)
        let assessment = RuntimeHealth.assess(configuration: configuration, now: now)
        #expect(assessment == ReferenceRuntimeHealth.assess(configuration: configuration, now: now))
        #expect(assessment.complianceState == "Compliant")
        #expect(assessment.statusUpdatedAt == "2025-03-01T11:58:00Z")
        #expect(!assessment.suspended)
        #expect(
            assessment.failing == [
                FailingObject(kind: "K", name: "b", namespace: "", reason: "LastFolded", message: nil)
            ])
    }

    @Test("escaped strings and non-strings where strings are expected")
    func escapedAndNonStrings() {
        let text = #"""
            {"properties": {"complianceState": "Suspen\u0064ed", "statusUpdatedAt": "2025\u002D03-01T11:59:00Z",
              "suspend": "fals\u0065",
              "statuses": [{"name": "n\u0061me", "complianceState": "Non\u002DCompliant"},
                           {"name": 7, "kind": null, "complianceState": 3,
                            "statusConditions": [{"type": "Ready", "status": "F\u0041LSE", "reason": 5}]},
                           "not an object", 12, null]}}
            """#
        let configuration = observedJSON(text)
        let assessment = RuntimeHealth.assess(configuration: configuration, now: now)
        #expect(assessment == ReferenceRuntimeHealth.assess(configuration: configuration, now: now))
        #expect(assessment.complianceState == "Suspended" && assessment.suspended && !assessment.stale)
        #expect(
            assessment.failing == [
                FailingObject(kind: "", name: "name", namespace: "", reason: nil, message: nil),
                FailingObject(kind: "", name: "", namespace: "", reason: nil, message: nil),
            ])
    }

    @Test("statuses not an array, missing properties, suspend as bool and strings")
    func shapes() {
        let cases = [
            #"{"properties": {"complianceState": "Compliant", "statuses": {"0": {"complianceState": "Non-Compliant"}}}}"#,
            #"{"properties": {"complianceState": "Compliant", "statuses": "Non-Compliant"}}"#,
            #"{"complianceState": "Compliant", "statusUpdatedAt": "2025-03-01T11:59:00Z", "suspend": "True"}"#,
            #"{"properties": null, "complianceState": "Compliant", "suspend": true}"#,
            #"{"properties": {"suspend": "false"}}"#, #"{"properties": {"suspend": false}}"#,
            #"{"properties": {"suspend": "TRUE", "statuses": []}}"#, "{}", "[]", #""text""#, "null",
        ]
        for text in cases {
            let configuration = observedJSON(text)
            #expect(
                RuntimeHealth.assess(configuration: configuration, now: now)
                    == ReferenceRuntimeHealth.assess(configuration: configuration, now: now), "\(text)")
        }
        #expect(RuntimeHealth.assess(configuration: observedJSON(cases[2]), now: now).suspended)
        #expect(RuntimeHealth.assess(configuration: observedJSON(cases[3]), now: now).suspended)
        #expect(!RuntimeHealth.assess(configuration: observedJSON(cases[4]), now: now).suspended)
    }

    @Test("the agent's timestamp shape read in place equals the full parser, also on near misses")
    func agentTimestamps() {
        var texts = Self.timestamps.compactMap { observedJSON($0).string }
        texts += [
            "2026-11-21T17:59:10+00:00", "2026-11-21T17:59:10-00:00", "2026-11-21T17:59:10+14:00",
            "2026-11-21T17:59:10+14:59", "2026-11-21T17:59:10+1:000", "2026-11-21T17:59:10Z",
            "2026-11-21T17:59:60Z", "2026-11-21T17:60:10Z", "2026-11-31T17:59:10Z", "2026-00-21T17:59:10Z",
            "2026-11-00T17:59:10Z", "-026-11-21T17:59:10Z", "2026-11-21T17:59:10+00:0Z", "2026-11-21T17:59:1.+00:00",
            "20261121T175910Z", "2026-11-21", "2026-11-21T17:59Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-00:01",
            "0001-01-01T00:00:00Z", "0001-01-01T00:00:00-01:00", "0001-01-01T00:59:59+01:00",
        ]
        // Every single-byte change of the agent's shape.
        let base = Array("2026-11-21T17:59:10+05:30".utf8)
        for position in base.indices {
            for byte in Array("09+-:TZtz .a/".utf8) {
                var changed = base
                changed[position] = byte
                texts.append(String(decoding: changed, as: UTF8.self))
                texts.append(String(decoding: changed.prefix(20), as: UTF8.self))
            }
        }
        for text in texts {
            #expect(RuntimeHealth.timestamp(text) == ExpressionDateTime(parsing: text), "\(text)")
        }
        #expect(RuntimeHealth.timestamp("2026-11-21T17:59:10+05:30") != nil)
    }

    // MARK: - Drift memo

    private static let desired = deploymentJSON(
        #"""
        {"location": "westeurope", "identity": {"type": "SystemAssigned"},
         "properties": {"scope": "cluster", "namespace": "flux-system", "sourceKind": "GitRepository", "suspend": false,
           "gitRepository": {"url": "https://github.com/contoso/fleet", "repositoryRef": {"branch": "main"}},
           "kustomizations": {"apps": {"path": "./apps", "prune": true}}}}
        """#)

    /// Observed resources that differ from each other in ways the key must (or must not) tell apart.
    private static let observedTexts: [String] = {
        let type = #""type": "Microsoft.KubernetesConfiguration/fluxConfigurations""#
        let git = #""gitRepository": {"url": "https://github.com/contoso/fleet", "repositoryRef": {"branch": "main"}}"#
        let apps = #""kustomizations": {"apps": {"path": "./apps", "prune": true}}"#
        func resource(_ properties: String, top: String = type) -> String {
            #"{\#(top), "identity": {"type": "SystemAssigned"}, "properties": {\#(properties)}}"#
        }
        let spec = #""scope": "cluster", "namespace": "flux-system", "sourceKind": "GitRepository", "suspend": false"#
        return [
            resource(spec + ", " + git + ", " + apps),
            resource(spec + ", " + git + ", " + apps + #", "statusUpdatedAt": "2025-01-01T00:00:00Z""#),
            resource(spec + ", " + git + ", " + apps.replacingOccurrences(of: "./apps", with: "./Apps")),
            resource(spec.replacingOccurrences(of: "\"cluster\"", with: "\"Cluster\"") + ", " + git + ", " + apps),
            // Exact and case-insensitive duplicates: the exact name wins, else the last folded one.
            resource(spec + #", "Scope": "namespace", "# + git + ", " + apps),
            resource(
                #""SCOPE": "namespace", "Scope": "cluster", "namespace": "flux-system", "suspend": false, "#
                    + git + ", " + apps),
            resource(
                #""Scope": "cluster", "SCOPE": "namespace", "namespace": "flux-system", "suspend": false, "#
                    + git + ", " + apps),
            resource(spec + ", " + git + ", " + apps + #", "Kustomizations": {}"#),
            resource(spec + ", " + git + ", " + #""KUSTOMIZATIONS": {"apps": {"path": "./apps", "prune": true}}"#),
            // Escapes: the same value written differently, and text that only looks alike.
            resource(
                spec.replacingOccurrences(of: "flux-system", with: #"flux\u002Dsystem"#) + ", " + git + ", " + apps),
            resource(spec.replacingOccurrences(of: "flux-system", with: #"flux\\system"#) + ", " + git + ", " + apps),
            // The same characters split differently between two members.
            resource(#""scope": "clusterflux", "namespace": "-system", "suspend": false, "# + git + ", " + apps),
            resource(#""scope": "cluster", "namespace": "flux-system", "suspend": "false", "# + git + ", " + apps),
            resource(#""scope": "cluster", "namespace": "flux-system", "suspend": null, "# + git + ", " + apps),
            resource(#""scope": "cluster", "namespace": "flux-system", "# + git + ", " + apps),
            resource(spec + ", " + git),
            resource(spec + ", " + git + ", " + apps, top: #""type": "Microsoft.KubernetesConfiguration/extensions""#),
            resource(spec + ", " + apps, top: #""Type": "microsoft.kubernetesconfiguration/fluxconfigurations""#),
            resource(spec + ", " + git + ", " + apps, top: #""type": 5"#),
            #"{\#(type), "properties": "not an object"}"#, #"{\#(type)}"#, #"{"properties": {}}"#,
            #"{\#(type), "Properties": {\#(spec)}, "properties": null}"#,
            #"{\#(type), "identity": {"type": "UserAssigned"}, "properties": {\#(spec), \#(git), \#(apps)}}"#,
            #"{\#(type), "identity": "none", "properties": {\#(spec), \#(git), \#(apps)}}"#,
            #"{\#(type), "location": "West Europe", "properties": {\#(spec), \#(git), \#(apps)}}"#,
            "[]", #""resource""#, "null",
        ]
    }()

    @Test("a drift memo fed tricky resources, repeated and interleaved, answers as a fresh comparison every time")
    func driftMemoMatchesFresh() {
        let memo = DriftMemo(DriftPlan(desired: Self.desired))
        var random = SeededGenerator(mixer: SplitMix64(seed: 7))
        let observed = Self.observedTexts.map(observedJSON)
        var sequence = Array(observed.indices) + Array(observed.indices)
        // Runs of the same resource (the previous-key path) and random order (the table).
        for _ in 0..<400 {
            let index = observed.indices.randomElement(using: &random)!
            sequence += Array(repeating: index, count: Int.random(in: 1...3, using: &random))
        }
        for index in sequence {
            let fresh = SpecDrift.compare(desired: Self.desired, observed: observed[index])
            #expect(memo.compare(observed: observed[index]) == fresh, "\(Self.observedTexts[index])")
        }
        #expect(memo.compare(observed: nil) == SpecDrift.compare(desired: Self.desired, observed: nil))
        #expect(memo.hits > 300)
    }

    @Test("the previous key and the table give the same hits: a repeat, another spec, then the first again")
    func driftMemoPreviousKey() {
        let memo = DriftMemo(DriftPlan(desired: Self.desired))
        let a = observedJSON(Self.observedTexts[0])
        let aLater = observedJSON(Self.observedTexts[1])  // differs only in a status member
        let b = observedJSON(Self.observedTexts[2])
        for resource in [a, aLater, a, b, b, a, b] {
            #expect(memo.compare(observed: resource) == SpecDrift.compare(desired: Self.desired, observed: resource))
        }
        #expect(memo.misses == 2 && memo.hits == 5)
        // A resource that is not an object is compared directly and leaves the previous key in place.
        #expect(
            memo.compare(observed: observedJSON("[]"))
                == SpecDrift.compare(desired: Self.desired, observed: observedJSON("[]")))
        #expect(memo.compare(observed: b) == SpecDrift.compare(desired: Self.desired, observed: b))
        #expect(memo.misses == 2 && memo.hits == 6)
    }

    @Test("memo keys of long specs: the digest spreads keys over the table's slots and long keys grow the buffer")
    func driftMemoLongKeys() {
        let memo = DriftMemo(DriftPlan(desired: Self.desired))
        var resources: [JSONValue] = []
        for n in 0..<300 {
            let long = String(repeating: "x", count: n * 37)
            resources.append(
                observedJSON(
                    #"{"type": "Microsoft.KubernetesConfiguration/fluxConfigurations", "properties": {"#
                        + #""scope": "cluster", "namespace": "ns-\#(long)", "suspend": false}}"#))
        }
        for resource in resources + resources.reversed() {
            #expect(memo.compare(observed: resource) == SpecDrift.compare(desired: Self.desired, observed: resource))
        }
        #expect(memo.misses == 300 && memo.hits == 300)
    }
}
