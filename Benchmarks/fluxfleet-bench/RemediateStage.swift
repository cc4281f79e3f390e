// The `remediate` stage: a generated fleet spread over several subscriptions, planned with the project's
// policies and applied by the Remediator to the in-process ARM emulator on its virtual clock, with ARM's
// throttling on. It measures how close the Remediator's pacing comes to ARM's write budget.
//
// The budget: each subscription's write bucket (PUT, PATCH, POST) starts full (200 tokens) and refills 10 per
// second, so in a window of E seconds ARM lets at most 200 + 10 × E writes through. The window of a subscription
// starts when the run starts (every bucket full) and ends when the Remediator sends that subscription's last write;
// a subscription with no write has no window and no budget. The ratio is Σ writes ÷ Σ (200 + 10 × E) over the
// subscriptions. Deletes (Flux v1 removals) spend ARM's separate delete bucket and are counted apart.

import ARMEmulator
import FleetCore
import FleetGenerator
import Foundation
import Planner
import PolicyEngine
import Remediator

/// The in-process emulator, counting the writes each subscription receives and when the last one was sent.
final class CountingARM: ARMTransport, RemediationClock {
    let inner: InProcessARM
    /// Writes (PUT, PATCH, POST) sent per lowercased subscription id.
    private(set) var writes: [String: Int] = [:]
    /// Deletes sent.
    private(set) var deletes = 0
    /// The virtual time of each subscription's last write.
    private(set) var lastWrite: [String: Int64] = [:]
    /// Every request sent.
    private(set) var requests = 0

    init(_ inner: InProcessARM) {
        self.inner = inner
    }

    var now: Int64 { inner.now }

    func sleep(until time: Int64) { inner.sleep(until: time) }

    func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        requests += 1
        if request.method == "DELETE" {
            deletes += 1
        } else if request.method != "GET" && request.method != "HEAD" {
            let parts = request.url.split(separator: "/")
            if parts.count > 1, parts[0].lowercased() == "subscriptions" {
                let subscription = parts[1].lowercased()
                writes[subscription, default: 0] += 1
                lastWrite[subscription] = inner.now
            }
        }
        return try inner.send(request)
    }
}

/// Options of the remediate stage.
struct RemediateOptions {
    var clusters = 2_000
    var subscriptions = 10
    var seed: UInt64 = 1
    var maxParallel = 2_000
    var policies = "policies"
    /// Keep the generated Flux v2 resources (most clusters then need one write or none) instead of removing them
    /// so that every eligible cluster needs the extension and the configuration.
    var keepFlux = false
    /// The emulator's long-running operation delays in ms (extension, configuration); nil for its defaults.
    var provisioningDelay: Int64? = 5_000
}

/// The policies of `directory` with the first enforced (Default) assignment re-scoped to the whole tenant and the
/// others dropped, so every generated cluster is planned for remediation.
func enforcedPolicies(_ directory: String) -> PolicyBundle {
    let loaded = PolicyLoader.load(directory: directory)
    guard !loaded.hasErrors, var assignment = loaded.bundle.assignments.first(where: { $0.enforcementMode == .default })
    else {
        fail("policies in \(directory) do not load or have no enforced assignment: \(loaded.diagnostics.prefix(3))")
    }
    assignment.scope = "/"
    assignment.notScopes = []
    var bundle = loaded.bundle
    bundle.assignments = [assignment]
    bundle.exemptions = []
    return bundle
}

/// Runs the stage and returns its JSON fields.
func remediateStage(_ options: RemediateOptions) -> [(String, JSON)] {
    let wallStart = ContinuousClock.now
    let generator = FleetGenerator(
        clusters: options.clusters, seed: options.seed, subscriptions: options.subscriptions)
    let fleet: Fleet
    do {
        let set = try JSONRecords.read(JSONBytes(generator.generate(format: .array), source: "generated fleet"))
        let fluxTypes = [
            "microsoft.kubernetesconfiguration/extensions", "microsoft.kubernetesconfiguration/fluxconfigurations",
        ]
        let records = set.records.filter { record in
            options.keepFlux || !fluxTypes.contains { record.root["type"]?.stringEqualsIgnoringCase($0) == true }
        }
        fleet = try Fleet.assemble(records.map { InventoryRecord(document: $0, file: "generated fleet") })
    } catch {
        fail("the generated fleet does not load: \(error)")
    }
    let bundle = enforcedPolicies(options.policies)
    let start = EmulatorClock.defaultStart
    let scan = PolicyEvaluator.scan(
        fleet: fleet, bundle: bundle, options: ScanOptions(now: EmulatorClock.iso8601(start)))
    let plan = Planner.plan(
        scan: scan, fleet: fleet, bundle: bundle, options: PlanOptions(migrateFluxV1: true),
        inputs: PlanInputs(evaluatedAt: EmulatorClock.iso8601(start)))
    let planned = ContinuousClock.now

    var configuration = EmulatorConfiguration()
    if let delay = options.provisioningDelay {
        configuration.extensionProvisioningDelay = delay
        configuration.configurationProvisioningDelay = delay
        configuration.deletionDelay = delay
    }
    let emulator = InProcessARM(EmulatorState(inventory: fleet, configuration: configuration, now: start))
    let arm = CountingARM(emulator)
    var remediatorOptions = RemediatorOptions()
    remediatorOptions.maxInFlight = options.maxParallel
    let remediator = Remediator(transport: arm, clock: arm, journal: InMemoryJournal(), options: remediatorOptions)
    let summary = remediator.apply(
        plan.clusters, waves: [Wave(name: "all", selector: .rest, maxParallel: options.maxParallel)], run: "bench")
    let applied = ContinuousClock.now

    var allowed = 0.0
    var perSubscription: [String: JSON] = [:]
    for (subscription, writes) in arm.writes.sorted(by: { $0.key < $1.key }) {
        let window = Double((arm.lastWrite[subscription] ?? start) - start) / 1000
        let budget = 200 + 10 * window
        allowed += budget
        perSubscription[subscription] = .object([
            "writes": .int(writes), "windowSeconds": rounded(window, 1), "allowedWrites": rounded(budget, 1),
            "ratio": rounded(Double(writes) / budget),
        ])
    }
    let writes = arm.writes.values.reduce(0, +)
    func duration(_ from: ContinuousClock.Instant, _ to: ContinuousClock.Instant) -> Double {
        let d = to - from
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
    let throttlingFailures = summary.outcomes(.failed).filter { $0.failure?.status == 429 }.count
    return [
        ("case", .string("remediate")), ("clusters", .int(options.clusters)),
        ("subscriptions", .int(options.subscriptions)), ("maxParallel", .int(options.maxParallel)),
        ("fluxKept", .bool(options.keepFlux)),
        ("extensionProvisioningSeconds", rounded(Double(configuration.extensionProvisioningDelay) / 1000, 1)),
        ("plan", .object(Dictionary(uniqueKeysWithValues: plan.summary.map { ($0.key.rawValue, JSON.int($0.value)) }))),
        ("actions", .int(plan.clusters.reduce(0) { $0 + $1.actions.count })),
        ("succeeded", .int(summary.outcomes(.succeeded).count)), ("failed", .int(summary.outcomes(.failed).count)),
        ("throttlingFailures", .int(throttlingFailures)),
        ("throttled429", .int(emulator.state.statistics.throttled)),
        ("requests", .int(arm.requests)), ("writes", .int(writes)), ("deletes", .int(arm.deletes)),
        ("allowedFormula", .string("sum over subscriptions of 200 + 10 x (its last write - run start) in s")),
        ("allowedWrites", rounded(allowed, 1)),
        ("achievedOverAllowed", rounded(Double(writes) / max(allowed, 1))),
        ("virtualSeconds", rounded(Double(summary.finishedAt - summary.startedAt) / 1000, 1)),
        ("throttleWaitSeconds", rounded(Double(summary.statistics.throttleWait) / 1000, 1)),
        ("planWallSeconds", rounded(duration(wallStart, planned))),
        ("applyWallSeconds", rounded(duration(planned, applied))),
        ("perSubscription", .object(perSubscription)),
    ]
}
