import FleetCore
import FleetGenerator
import Foundation
import Testing

@testable import PolicyEngine

/// The repository's policies, with every assignment scoped to the whole tenant (generated fleets use random
/// subscriptions).
private func tenantWideBaseline() throws -> PolicyBundle {
    let loaded = PolicyLoader.load(
        directory: repositoryRoot.appending(path: "policies").path, aliasValidator: AliasCatalog.isKnown)
    #expect(!loaded.hasErrors)
    var bundle = loaded.bundle
    for index in bundle.assignments.indices {
        bundle.assignments[index].scope = "/"
        bundle.assignments[index].notScopes = []
    }
    return bundle
}

/// A generated fleet, loaded as `scan` loads it.
private func generatedFleet(clusters: Int, seed: UInt64) throws -> Fleet {
    let url = FileManager.default.temporaryDirectory.appending(
        path: "condition-memo-\(UInt32.random(in: 0...UInt32.max)).json")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data(FleetGenerator(clusters: clusters, seed: seed).generate(format: .array)).write(to: url)
    return try SnapshotReader.load(path: url.path).fleet
}

/// The `if` and existence condition of every policy the baseline's first assignment assigns, compiled as the
/// scan compiles them (parameters bound).
private func baselineConditions() throws -> (
    policies: [AssignedPolicy], conditions: [(name: String, condition: Condition, existence: Bool)]
) {
    let bundle = try tenantWideBaseline()
    var diagnostics: [PolicyDiagnostic] = []
    var policies: [AssignedPolicy] = []
    var out: [(String, Condition, Bool)] = []
    let assignment = try #require(bundle.assignments.first)
    for target in PolicyEvaluator.targets(of: assignment, in: bundle, diagnostics: &diagnostics) {
        let policy = try PolicyEvaluator.compile(
            assignment: assignment, definition: target.definition, reference: target.reference,
            initiative: target.initiative, now: "2026-11-21T18:00:00Z")
        policies.append(policy)
        out.append((target.definition.id, policy.condition, false))
        if let existence = policy.existenceCondition { out.append((target.definition.id, existence, true)) }
    }
    #expect(out.count >= 6)
    return (policies, out)
}

@Suite("ConditionMemo and DriftMemo: results shared by the values read, identical to full evaluation")
struct ConditionMemoTests {
    @Test("every baseline condition on every resource of a generated fleet: the memo's result is the full result")
    func sameAsFull() throws {
        let fleet = try generatedFleet(clusters: 300, seed: 17)
        let (policies, conditions) = try baselineConditions()
        // Keyed per condition, and keyed once per resource for all the conditions on its type.
        let alone = ConditionMemo()
        let shared = ConditionMemo(policies: policies)
        var evaluated = 0
        for cluster in fleet.clusters {
            shared.startCluster()
            let resources =
                [(cluster.resource, cluster.kind.resourceType)]
                + PolicyEvaluator.children(of: cluster).map { ($0.resource, $0.type) }
            for (resource, type) in resources {
                let context = PolicyExpressionContext(
                    parameters: [:], now: "2026-11-21T18:00:00Z",
                    resource: PolicyExpressionContext.Resource(
                        json: cluster.resource, type: cluster.kind.resourceType, id: cluster.id.description))
                for (slot, entry) in conditions.enumerated() {
                    let evaluator = ConditionEvaluator(fieldFunctionReadsContext: entry.existence)
                    let full = evaluator.evaluate(
                        entry.condition, resource: resource, resourceType: type, context: context)
                    for memo in [alone, shared] {
                        let memoised = memo.entry(
                            entry.condition, slot: slot, resource: resource, resourceType: type,
                            makeContext: { context }, fieldFunctionReadsContext: entry.existence)
                        #expect(memoised?.result == full, "\(entry.name) on \(cluster.id)")
                    }
                    evaluated += 1
                }
            }
        }
        // Every baseline condition qualifies, and most resources read what an earlier one read.
        for memo in [alone, shared] {
            #expect(memo.hits + memo.misses == evaluated)
            #expect(memo.hits > evaluated * 3 / 4, "hits \(memo.hits) of \(evaluated)")
        }
    }

    /// Whether `condition` matches the fluxConfiguration `resource`, as `memo` remembers it (nil: not memoised),
    /// after checking that the memo's result is the full evaluation's.
    static func memoised(_ condition: Condition, on resource: JSONValue, by memo: ConditionMemo) -> Bool? {
        let context = PolicyExpressionContext(parameters: [:], now: "2026-11-21T18:00:00Z", resource: nil)
        let entry = memo.entry(
            condition, slot: 0, resource: resource, resourceType: ConditionTypes.flux, makeContext: { context },
            fieldFunctionReadsContext: false)
        let full = ConditionEvaluator().evaluate(
            condition, resource: resource, resourceType: ConditionTypes.flux, context: context)
        #expect(entry?.result == full)
        return entry?.result.matched
    }

    @Test("resources that differ only in what a condition does not read share a result; a value it reads splits it")
    func keyedByWhatIsRead() throws {
        let condition = try PolicyCondition.parse(
            .object([
                "allOf": .array([
                    .object(["field": .string(fluxAlias("suspend")), "equals": .bool(true)]),
                    .object(["field": .string(fluxAlias("gitRepository.url")), "like": .string("https://*")]),
                ])
            ]), source: PolicySource(file: "test.json"))
        func record(name: String, suspend: String, url: String, status: String) -> JSONValue {
            conditionRecord(
                #"{"name": "\#(name)", "type": "\#(ConditionTypes.flux)", "properties": {"suspend": \#(suspend), "#
                    + #""statusUpdatedAt": "\#(status)", "gitRepository": {"url": "\#(url)"}}}"#)
        }
        let memo = ConditionMemo()
        func check(_ resource: JSONValue) -> Bool? { Self.memoised(condition, on: resource, by: memo) }
        #expect(check(record(name: "a", suspend: "true", url: "https://x", status: "2026-01-01")) == true)
        #expect(check(record(name: "b", suspend: "true", url: "https://x", status: "2026-02-02")) == true)
        #expect(memo.hits == 1 && memo.misses == 1)
        #expect(check(record(name: "c", suspend: "false", url: "https://x", status: "2026-01-01")) == false)
        #expect(check(record(name: "d", suspend: "true", url: "ssh://x", status: "2026-01-01")) == false)
        // Case of member names matters to nobody: the evaluator looks them up ignoring case, and so does the key.
        let pascal = conditionRecord(
            #"{"name": "e", "type": "\#(ConditionTypes.flux)", "Properties": {"Suspend": true, "#
                + #""GitRepository": {"URL": "https://x"}}}"#)
        // Values, not spellings, make the key: the same values as the first record's, so a hit.
        #expect(check(pascal) == true)
        #expect(memo.misses == 3)
    }

    @Test("fields under properties are keyed by the value at their path: members beside it do not split the key")
    func keyedByPath() throws {
        let condition = try PolicyCondition.parse(
            .object([
                "anyOf": .array([
                    .object(["field": .string(fluxAlias("gitRepository.url")), "like": .string("https://*")]),
                    .object([
                        "field": .string(fluxAlias("gitRepository.repositoryRef.branch")), "equals": .string("main"),
                    ]),
                ])
            ]), source: PolicySource(file: "test.json"))
        func record(_ gitRepository: String) -> JSONValue {
            conditionRecord(
                #"{"name": "n", "type": "\#(ConditionTypes.flux)", "properties": {"gitRepository": \#(gitRepository)}}"#
            )
        }
        let memo = ConditionMemo()
        func check(_ resource: JSONValue) -> Bool? { Self.memoised(condition, on: resource, by: memo) }
        let base = #"{"url": "ssh://x", "repositoryRef": {"branch": "dev", "tag": "v1"}, "sshKnownHosts": "AAA"}"#
        #expect(check(record(base)) == false)
        // A per-cluster secret and another ref member beside the paths: the same key.
        #expect(
            check(
                record(#"{"url": "ssh://x", "repositoryRef": {"branch": "dev", "tag": "v2"}, "sshKnownHosts": "BBB"}"#))
                == false)
        #expect(memo.hits == 1 && memo.misses == 1)
        // A value on a path splits it; so does a path cut short (missing, null or not an object on the way).
        #expect(check(record(#"{"url": "ssh://x", "repositoryRef": {"branch": "main"}}"#)) == true)
        #expect(check(record(#"{"url": "ssh://x", "repositoryRef": null}"#)) == false)
        #expect(check(record(#"{"url": "ssh://x", "repositoryRef": "main"}"#)) == false)
        #expect(check(record(#"{"url": "ssh://x"}"#)) == false)
        #expect(check(record(#"{"URL": "https://y", "RepositoryRef": {"Branch": "main"}}"#)) == true)
        #expect(check(record("null")) == false)
        // The member found last wins, as in the evaluator.
        #expect(check(record(#"{"url": "https://z", "url": "ssh://x", "repositoryRef": {"branch": "x"}}"#)) == false)
        #expect(memo.hits + memo.misses == 9)
    }

    @Test("conditions that read more than fields (expressions, counts, field()) are not memoised")
    func notQualifying() throws {
        let memo = ConditionMemo()
        let context = PolicyExpressionContext(
            parameters: ["x": .string("a")], now: "2026-11-21T18:00:00Z", resource: nil)
        let resource = conditionRecord(#"{"name": "a", "type": "\#(ConditionTypes.flux)", "properties": {}}"#)
        let conditions: [JSON] = [
            .object(["field": .string("name"), "equals": .string("[field('type')]")]),
            .object(["value": .string("[field('name')]"), "equals": .string("a")]),
            .object(["count": .object(["field": .string(fluxAlias("statuses[*]"))]), "greater": .int(0)]),
            .object(["field": .string("fullName"), "equals": .string("a")]),
        ]
        for (slot, json) in conditions.enumerated() {
            let condition = try PolicyCondition.parse(json, source: PolicySource(file: "test.json"))
            #expect(
                memo.entry(
                    condition, slot: slot, resource: resource, resourceType: ConditionTypes.flux,
                    makeContext: { context }, fieldFunctionReadsContext: false) == nil, "\(json)")
        }
    }

    @Test("drift: every Flux resource of a generated fleet compared through the memo equals a fresh comparison")
    func driftSameAsFull() throws {
        let fleet = try generatedFleet(clusters: 300, seed: 23)
        let bundle = try tenantWideBaseline()
        var options = ScanOptions(now: "2026-11-21T18:00:00Z")
        options.parallelism = 1
        let scan = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: options)
        // One memo per desired body, as the scan keeps them.
        var memos: [JSON: DriftMemo] = [:]
        var observedById: [String: JSONValue] = [:]
        for cluster in fleet.clusters {
            for child in PolicyEvaluator.children(of: cluster) {
                observedById[ASCII.lowercased(child.id)] = child.resource
            }
        }
        var compared = 0
        for result in scan.results {
            for desired in result.desiredResources {
                let memo = memos[desired.body] ?? DriftMemo(DriftPlan(desired: desired.body))
                memos[desired.body] = memo
                let observed = observedById[ASCII.lowercased(desired.id)]
                #expect(
                    memo.compare(observed: observed) == SpecDrift.compare(desired: desired.body, observed: observed))
                compared += 1
            }
        }
        let hits = memos.values.reduce(0) { $0 + $1.hits }
        #expect(compared > 400)
        #expect(hits > compared / 2, "hits \(hits) of \(compared)")
    }

    @Test("drift: a status member does not split the key; a kustomization, the kind or a spec member does")
    func driftKey() {
        let desired = JSON.object([
            "properties": .object([
                "suspend": .bool(false),
                "kustomizations": .object(["apps": .object(["path": .string("./apps")])]),
            ])
        ])
        func observed(_ type: String, suspend: String, path: String, status: String) -> JSONValue {
            observedJSON(
                #"{"type": "\#(type)", "properties": {"suspend": \#(suspend), "statusUpdatedAt": "\#(status)", "#
                    + #""kustomizations": {"apps": {"path": "\#(path)"}}}}"#)
        }
        let memo = DriftMemo(DriftPlan(desired: desired))
        let flux = "Microsoft.KubernetesConfiguration/fluxConfigurations"
        let cases = [
            observed(flux, suspend: "false", path: "./apps", status: "1"),
            observed(flux, suspend: "false", path: "./apps", status: "2"),
            observed(flux, suspend: "true", path: "./apps", status: "1"),
            observed(flux, suspend: "false", path: "./other", status: "1"),
            observed("Microsoft.Other/things", suspend: "false", path: "./apps", status: "1"),
        ]
        for resource in cases {
            #expect(memo.compare(observed: resource) == SpecDrift.compare(desired: desired, observed: resource))
        }
        #expect(memo.hits == 1 && memo.misses == 4)
        #expect(memo.compare(observed: nil) == SpecDrift.compare(desired: desired, observed: nil))
    }

    @Test("drift: members the body does not set inside a desired object do not split what is remembered, at any depth")
    func driftKeyNested() {
        let desired = JSON.object([
            "properties": .object([
                "gitRepository": .object([
                    "url": .string("https://x"),
                    "repositoryRef": .object(["branch": .string("main")]),
                    "sshKnownHosts": .null,
                ])
            ])
        ])
        let flux = "Microsoft.KubernetesConfiguration/fluxConfigurations"
        func observed(_ gitRepository: String) -> JSONValue {
            observedJSON(#"{"type": "\#(flux)", "properties": {"gitRepository": \#(gitRepository)}}"#)
        }
        let memo = DriftMemo(DriftPlan(desired: desired))
        let cases: [(String, hit: Bool)] = [
            (#"{"url": "https://x", "repositoryRef": {"branch": "main", "tag": "a"}, "sshKnownHosts": "K1"}"#, false),
            // Members the body does not set (or sets to null) beside and below the ones it sets: a hit.
            (#"{"url": "https://x", "repositoryRef": {"branch": "main", "tag": "b"}, "sshKnownHosts": "K2"}"#, true),
            (#"{"url": "https://x", "repositoryRef": {"branch": "dev"}}"#, false),
            (#"{"url": "ssh://x", "repositoryRef": {"branch": "main"}}"#, false),
            // Absent and null are the same to the comparison; a non-object is reported whole.
            (#"{"url": "https://x"}"#, false),
            (#"{"url": "https://x", "repositoryRef": null}"#, true),
            (#"{"url": "https://x", "repositoryRef": "main"}"#, false),
            (#"{"url": "https://x", "repositoryRef": "dev"}"#, false),
            ("null", false),
            (#""https://x""#, false),
        ]
        for (text, hit) in cases {
            let before = memo.hits
            let resource = observed(text)
            #expect(
                memo.compare(observed: resource) == SpecDrift.compare(desired: desired, observed: resource), "\(text)")
            #expect((memo.hits > before) == hit, "\(text)")
        }
    }

    @Test("a generated fleet scanned with memos and without, explain on: the same results, reasons and strict view")
    func explainScan() throws {
        let fleet = try generatedFleet(clusters: 250, seed: 29)
        let bundle = try tenantWideBaseline()
        var options = ScanOptions(now: "2026-11-21T18:00:00Z", explain: true)
        let memoised = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: options)
        options.memoizesConditions = false
        options.memoizesDeployments = false
        let full = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: options)
        #expect(memoised.results.count == full.results.count)
        for (a, b) in zip(memoised.results, full.results) {
            #expect(a.resourceId == b.resourceId && a.state == b.state && a.reasons == b.reasons, "\(a.resourceId)")
            #expect(a.error == b.error && a.desiredResources == b.desiredResources, "\(a.resourceId)")
        }
        #expect(memoised.strict.count == full.strict.count)
        for (a, b) in zip(memoised.strict, full.strict) {
            #expect(a.resourceId == b.resourceId && a.drift == b.drift && a.runtime == b.runtime, "\(a.resourceId)")
        }
    }

    @Test(
        "a fleet scanned in parts, joined by moving, equals the same clusters scanned in small fleets one after another"
    )
    func partsJoinInOrder() throws {
        let fleet = try generatedFleet(clusters: 600, seed: 31)
        let bundle = try tenantWideBaseline()
        var options = ScanOptions(now: "2026-11-21T18:00:00Z", parallelism: 2)
        let whole = PolicyEvaluator.scan(fleet: fleet, bundle: bundle, options: options)
        options.parallelism = 1
        var results: [PolicyResult] = []
        var strict: [StrictResult] = []
        // Fewer than 256 clusters: one part, nothing to join.
        for start in stride(from: 0, to: fleet.clusters.count, by: 200) {
            let slice = Fleet(clusters: Array(fleet.clusters[start..<(start + 200)]), findings: [])
            let scan = PolicyEvaluator.scan(fleet: slice, bundle: bundle, options: options)
            results += scan.results
            strict += scan.strict
        }
        #expect(whole.results.count == results.count && whole.results.count > 1200)
        for (a, b) in zip(whole.results, results) {
            #expect(a.resourceId == b.resourceId && a.policyDefinitionId == b.policyDefinitionId, "\(a.resourceId)")
            #expect(a.state == b.state && a.reasons == b.reasons && a.desiredResources == b.desiredResources)
        }
        #expect(whole.strict.count == strict.count)
        for (a, b) in zip(whole.strict, strict) {
            #expect(a.resourceId == b.resourceId && a.drift == b.drift && a.runtime == b.runtime, "\(a.resourceId)")
        }
    }
}
