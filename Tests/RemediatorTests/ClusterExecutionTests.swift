import ARMEmulator
import FleetCore
import Planner
import Remediator
import Testing

@testable import Remediator

@Suite("per-cluster execution")
struct ClusterExecutionTests {
    /// The demo's plan and a harness at its start.
    static func demo(_ options: PlanOptions = PlanOptions()) throws -> (DemoInputs, EmulatorHarness, Plan) {
        let inputs = try DemoInputs()
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet))
        return (inputs, harness, inputs.plan(inputs.fleet, at: harness.now, options: options))
    }

    /// The install action of a planned cluster, moved onto another cluster.
    static func install(on cluster: Cluster, from plan: Plan) throws -> ClusterPlan {
        let source = try #require(
            plan.clusters.flatMap(\.actions).first { $0.kind == .installExtension })
        var action = source
        action.resourceId = cluster.id.description + "/providers/Microsoft.KubernetesConfiguration/extensions/flux"
        return ClusterPlan(
            clusterId: cluster.id.description, name: cluster.name, fingerprint: "", decision: .change, reason: nil,
            actions: [action])
    }

    @Test("a rejected PUT fails the cluster with ARM's code and a remedy, journalled, and is not retried")
    func rejected() throws {
        let (inputs, harness, plan) = try Self.demo()
        let spn = try #require(inputs.fleet.clusters.first { $0.name == "aks-legacy-spn" })
        let journal = InMemoryJournal()
        let remediator = Remediator(transport: harness, clock: harness, journal: journal)
        let outcome = try #require(remediator.execute([try Self.install(on: spn, from: plan)], run: "r").first)
        #expect(outcome.status == .failed)
        #expect(outcome.failure?.code == "ExtensionOperationFailed")
        #expect(outcome.failure?.status == 400)
        #expect(outcome.failure?.remedy.contains("managed identity") == true)
        #expect(outcome.failedAction == .installExtension)
        #expect(harness.writes.count == 1)
        #expect(journal.entries.last?.state == .failed)
        #expect(journal.entries.last?.errorCode == "ExtensionOperationFailed")
        #expect(remediator.statistics.transientRetries == 0)
    }

    @Test("secret references are resolved into the request only; without a resolver nothing is sent")
    func secrets() throws {
        let (_, harness, plan) = try Self.demo()
        var cluster = try #require(plan.clusters.first { $0.actions.contains { $0.kind == .createConfiguration } })
        let index = try #require(cluster.actions.firstIndex { $0.kind == .createConfiguration })
        let reference = JSON.object(["fromEnv": .string("GIT_HTTPS_KEY")])
        cluster.actions[index].body?.setProtected(["httpsKey": .object([DesiredBody.secretMarker: reference])])
        let canary = "canary-secret-4f1b"

        let refused = Remediator(transport: harness, clock: harness, journal: InMemoryJournal())
        let failed = try #require(refused.execute([cluster], run: "r").first)
        #expect(failed.status == .failed)
        #expect(failed.failure?.code == "SecretUnresolved")
        #expect(!harness.sent.contains { $0.url.contains("fluxConfigurations") })

        let journal = InMemoryJournal()
        let remediator = Remediator(
            transport: harness, clock: harness, journal: journal,
            secrets: DictionarySecrets(values: [#"{"fromEnv":"GIT_HTTPS_KEY"}"#: canary]))
        let outcome = try #require(remediator.execute([cluster], run: "r2").first)
        #expect(outcome.status == .succeeded)
        #expect(harness.bodies.filter { $0.contains(canary) }.count == 1)
        #expect(!journal.entries.contains { "\($0)".contains(canary) })
        #expect(
            journal.entries.first { $0.action == "create-configuration" }?.desiredHash
                == DesiredBody.hash(of: cluster.actions[index].body))
    }

    @Test("an operation stuck InProgress times out on the virtual clock")
    func stuck() throws {
        let inputs = try DemoInputs()
        var configuration = EmulatorConfiguration()
        configuration.faults.stuckOperations = FaultRate(percent: 100)
        let harness = EmulatorHarness(EmulatorState(inventory: inputs.fleet, configuration: configuration))
        let plan = inputs.plan(inputs.fleet, at: harness.now)
        var options = RemediatorOptions()
        options.operationTimeout = 10 * 60_000
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal(), options: options)
        let start = harness.now
        let outcomes = remediator.execute(plan.clusters.filter { $0.decision == .change }, run: "r")
        #expect(outcomes.allSatisfy { $0.status == .failed && $0.failure?.code == "OperationTimedOut" })
        #expect(harness.now - start >= 10 * 60_000)
        #expect(harness.now - start < 12 * 60_000)
    }
}

@Suite("rate buckets, backoff and classification")
struct PacingTests {
    @Test("a bucket spends its burst, then refills at its rate; a header corrects it")
    func bucket() {
        var bucket = RateBucket(burst: 3, refillPerSecond: 10, at: 0)
        let burst = (0..<4).map { _ in bucket.take(at: 0) }
        #expect(burst == [true, true, true, false])
        #expect(bucket.readyTime(from: 0) == 100)
        let early = bucket.take(at: 99)
        let onTime = bucket.take(at: 100)
        #expect(!early && onTime)
        bucket.refill(to: 10_000)
        #expect(bucket.milliTokens == 3_000)
        bucket.correct(remaining: 1, at: 10_000)
        let corrected = (0..<2).map { _ in bucket.take(at: 10_000) }
        #expect(corrected == [true, false])
    }

    @Test("the limiter keeps subscriptions apart and reads apart from writes; a 429 empties the bucket")
    func limiter() {
        var limiter = SubscriptionRateLimiter(
            limits: ARMRateLimits(writeBurst: 1, writeRefillPerSecond: 1, readBurst: 2, readRefillPerSecond: 1))
        let taken = [
            limiter.take("A", .write, at: 0), limiter.take("a", .write, at: 0), limiter.take("B", .write, at: 0),
            limiter.take("A", .read, at: 0),
        ]
        #expect(taken == [true, false, true, true])
        limiter.observe(ARMHTTPResponse(status: 429), subscription: "A", kind: .read, at: 0)
        let drained = limiter.remaining("A", .read, at: 0)
        #expect(drained == 0)
        limiter.observe(
            ARMHTTPResponse(status: 200, headers: ["x-ms-ratelimit-remaining-subscription-reads": "2"]),
            subscription: "A", kind: .read, at: 0)
        let corrected = limiter.remaining("A", .read, at: 0)
        #expect(corrected == 2)
        #expect(RequestClass(method: "DELETE") == .delete)
    }

    @Test("backoff doubles up to the cap, with the same seeded jitter every time")
    func backoff() throws {
        var options = RemediatorOptions()
        options.backoffBase = 1_000
        options.backoffMax = 8_000
        let harness = EmulatorHarness(EmulatorState())
        let remediator = Remediator(transport: harness, clock: harness, journal: InMemoryJournal(), options: options)
        let plan = ClusterPlan(
            clusterId: "/subscriptions/s/x", name: "x", fingerprint: "", decision: .change, reason: nil)
        let worker = Remediator.Worker(index: 3, plan: plan, run: "r", now: 0)
        let delays = (1...6).map { remediator.backoff(worker, attempt: $0) }
        for (attempt, delay) in delays.enumerated() {
            let full = min(8_000, Int64(1_000) << Int64(attempt))
            #expect(delay >= full / 2 && delay <= full)
        }
        #expect(delays == (1...6).map { remediator.backoff(worker, attempt: $0) })
        let other = Remediator.Worker(index: 4, plan: plan, run: "r", now: 0)
        #expect(delays != (1...6).map { remediator.backoff(other, attempt: $0) })
    }

    @Test("429, 5xx and in-progress conflicts are retryable; other 4xx are not and carry a remedy")
    func classification() {
        #expect(ARMErrorClassifier.isRetryable(status: 429, code: nil))
        #expect(ARMErrorClassifier.isRetryable(status: 503, code: "ServiceUnavailable"))
        #expect(ARMErrorClassifier.isRetryable(status: 409, code: "AnotherOperationInProgress"))
        #expect(!ARMErrorClassifier.isRetryable(status: 409, code: "Conflict"))
        #expect(!ARMErrorClassifier.isRetryable(status: 400, code: "InvalidRequestContent"))
        #expect(
            ARMErrorClassifier.remedy(status: 409, code: "MissingSubscriptionRegistration").contains(
                "az provider register"))
    }

    @Test("remedies name the action and scope AuthorizationFailed says are missing, and the namespace to register")
    func exactRemedies() {
        let scope =
            "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1/providers/Microsoft.KubernetesConfiguration/extensions/flux"
        let denied = ARMErrorClassifier.remedy(
            status: 403, code: "AuthorizationFailed",
            message:
                "The client 'fluxfleet' with object id '6b1c…' does not have authorization to perform action 'Microsoft.KubernetesConfiguration/extensions/write' over scope '\(scope)' or the scope is invalid. If access was recently granted, please refresh your credentials."
        )
        #expect(denied.hasPrefix("grant the identity Microsoft.KubernetesConfiguration/extensions/write on \(scope)"))
        #expect(denied.contains("--show-permissions"))
        let unregistered = ARMErrorClassifier.remedy(
            status: 409, code: "MissingSubscriptionRegistration",
            message: "The subscription is not registered to use namespace 'Microsoft.KubernetesConfiguration'.")
        #expect(unregistered.contains("az provider register --namespace Microsoft.KubernetesConfiguration"))
        // Without the details in the message, the general remedy.
        #expect(
            ARMErrorClassifier.remedy(status: 403, code: "AuthorizationFailed", message: "denied")
                == ARMErrorClassifier.remedy(status: 403, code: "AuthorizationFailed"))
    }
}

extension JSON {
    /// Sets `properties.configurationProtectedSettings`.
    mutating func setProtected(_ settings: [String: JSON]) {
        guard case .object(var members) = self, case .object(var properties)? = members["properties"] else { return }
        properties["configurationProtectedSettings"] = .object(settings)
        members["properties"] = .object(properties)
        self = .object(members)
    }
}
