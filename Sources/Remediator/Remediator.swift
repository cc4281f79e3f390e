import FleetCore
import Foundation
import Planner

/// What happened to one cluster of a run.
public struct ClusterOutcome: Sendable, Hashable {
    /// How a cluster ended.
    public enum Status: String, Sendable, Hashable {
        /// Every action succeeded (and, when asked, Flux reported `Compliant`).
        case succeeded
        /// An action failed; see ``ClusterOutcome/failure``.
        case failed
        /// The plan deferred the cluster, or the run stopped before reaching it.
        case deferred
        /// Nothing to run: the plan decided noop, blocked or skipped.
        case notRun
    }

    /// The cluster's ARM id.
    public var clusterId: String
    /// The cluster's name.
    public var name: String
    /// How it ended.
    public var status: Status
    /// Why it failed.
    public var failure: RemediationFailure?
    /// The action that failed.
    public var failedAction: PlanActionKind?
    /// Why it was deferred or not run (the plan's reason code, or `runHalted`).
    public var reason: String?
    /// Requests that succeeded in this run.
    public var operationsDone: Int
    /// Operations skipped because the journal shows they already succeeded (a resumed run).
    public var operationsSkipped: Int

    /// ARM's `x-ms-request-id` of the answer that carried the failure, when there was one.
    public var requestId: String? { failure?.requestId }
    /// ARM's `x-ms-correlation-request-id` of the answer that carried the failure, when there was one.
    public var correlationId: String? { failure?.correlationId }

    /// Creates an outcome.
    public init(
        clusterId: String, name: String, status: Status, failure: RemediationFailure? = nil,
        failedAction: PlanActionKind? = nil, reason: String? = nil, operationsDone: Int = 0, operationsSkipped: Int = 0
    ) {
        self.clusterId = clusterId
        self.name = name
        self.status = status
        self.failure = failure
        self.failedAction = failedAction
        self.reason = reason
        self.operationsDone = operationsDone
        self.operationsSkipped = operationsSkipped
    }
}

/// Counters of a run (or a part of one).
public struct RemediationStatistics: Sendable, Hashable {
    /// Requests sent (including polls and retries).
    public var requests = 0
    /// Write and delete requests sent.
    public var writes = 0
    /// Requests retried after a 5xx, a timeout or a dropped connection.
    public var transientRetries = 0
    /// 429 answers received.
    public var throttled = 0
    /// Time the run spent idle waiting on throttling (client-side buckets or `Retry-After`), in ms.
    public var throttleWait: Int64 = 0

    /// Zero counters.
    public init() {}

    /// The counters gathered since `base` was taken.
    public func since(_ base: RemediationStatistics) -> RemediationStatistics {
        var result = self
        result.requests -= base.requests
        result.writes -= base.writes
        result.transientRetries -= base.transientRetries
        result.throttled -= base.throttled
        result.throttleWait -= base.throttleWait
        return result
    }

    /// Adds another set of counters.
    public mutating func add(_ other: RemediationStatistics) {
        requests += other.requests
        writes += other.writes
        transientRetries += other.transientRetries
        throttled += other.throttled
        throttleWait += other.throttleWait
    }
}

/// Applies cluster plans to ARM: per cluster, actions in order, each request paced by per-subscription token
/// buckets, retried when transient and followed to a terminal state when long-running.
///
/// The Remediator interleaves up to ``RemediatorOptions/maxInFlight`` clusters on one clock: it always runs
/// the step that is due first, and sleeps on the clock when none is due. Requests go out one at a time, so a
/// run over the in-process emulator is deterministic.
public final class Remediator {
    /// How the Remediator paces, retries and waits.
    public let options: RemediatorOptions
    /// Counters since the Remediator was created.
    public private(set) var statistics = RemediationStatistics()
    let transport: any ARMTransport
    let clock: any RemediationClock
    let journal: any RemediationJournal
    let secrets: any SecretResolver
    var limiter: SubscriptionRateLimiter
    private var requestNumber: UInt64 = 0
    /// The run's progress, reported with every event.
    var progress = RemediationProgress()
    private var progressBase = RemediationStatistics()
    private var runDepth = 0

    /// Asked before each cluster and each operation starts: once it returns true, no new cluster or operation
    /// starts, operations already sent are followed to their end, and unfinished clusters end `deferred` with
    /// the reason `interrupted` (see ``RemediationStop``).
    public var shouldStop: () -> Bool = { false }
    /// Receives every ``RemediationEvent`` with the run's progress at that moment (on the Remediator's thread).
    public var observer: ((RemediationEvent, RemediationProgress) -> Void)?

    /// Creates a Remediator.
    public init(
        transport: any ARMTransport, clock: any RemediationClock, journal: any RemediationJournal,
        secrets: any SecretResolver = NoSecrets(), options: RemediatorOptions = RemediatorOptions()
    ) {
        self.transport = transport
        self.clock = clock
        self.journal = journal
        self.secrets = secrets
        self.options = options
        self.limiter = SubscriptionRateLimiter(limits: options.limits)
    }

    /// Runs the actions of `clusters` (those whose decision is `change`) with at most `maxParallel` clusters
    /// at once (never more than ``RemediatorOptions/maxInFlight``); returns one outcome per cluster, in order.
    ///
    /// Operations that the journal shows already succeeded in `run` with the same desired body are skipped.
    /// With `failureLimit`, no further cluster is started once more than that many have failed; those not started
    /// end `deferred` with the reason `runHalted` (the ones in flight finish). When ``shouldStop`` turns true,
    /// no cluster or operation starts any more, operations already sent finish, and the clusters left end
    /// `deferred` with the reason `interrupted`.
    public func execute(
        _ clusters: [ClusterPlan], run: String, maxParallel: Int? = nil, failureLimit: Int? = nil
    ) -> [ClusterOutcome] {
        beginRun(total: clusters.filter { $0.decision == .change }.count)
        defer { endRun() }
        let cap = max(1, min(maxParallel ?? options.maxInFlight, options.maxInFlight))
        var outcomes: [ClusterOutcome?] = Array(repeating: nil, count: clusters.count)
        var queue: [Int] = []
        for (index, plan) in clusters.enumerated() {
            switch plan.decision {
            case .change: queue.append(index)
            case .deferred:
                outcomes[index] = ClusterOutcome(
                    clusterId: plan.clusterId, name: plan.name, status: .deferred, reason: plan.reason?.code)
            case .noop, .blocked, .skipped:
                outcomes[index] = ClusterOutcome(
                    clusterId: plan.clusterId, name: plan.name, status: .notRun,
                    reason: plan.reason?.code ?? plan.decision.rawValue)
            }
        }
        var next = 0
        var failures = 0
        var stopping = false
        // Workers in slots (a freed slot is reused), scheduled by a heap with one entry per worker.
        var slots: [Worker] = []
        var alive: [Bool] = []
        var free: [Int] = []
        var schedule = Schedule()
        var sequence = 0
        var active = 0
        func enqueue(_ slot: Int) {
            schedule.push(
                Schedule.Entry(
                    due: slots[slot].readyAt, operationsLeft: slots[slot].operationsLeft,
                    sequence: slots[slot].sequence, slot: slot))
        }
        // Clusters waiting for a token of one bucket are parked, not scheduled one by one: the bucket has one wake-up
        // in the schedule, and each token goes to the best waiter (most operations left, then the earliest). A
        // thousand clusters waiting on one subscription then cost one step per token, not a thousand.
        var bucketIndex: [String: Int] = [:]
        var buckets: [(subscription: String, kind: RequestClass)] = []
        var parked: [Schedule] = []
        var wakes: [Int?] = []
        var wakeSequence = 0
        func wake(_ bucket: Int, at due: Int64? = nil) {
            guard wakes[bucket] == nil, !parked[bucket].isEmpty, let top = parked[bucket].peek() else { return }
            let time =
                due ?? limiter.readyTime(buckets[bucket].subscription, buckets[bucket].kind, from: clock.now)
            wakeSequence += 1
            wakes[bucket] = wakeSequence
            schedule.push(
                Schedule.Entry(
                    due: time, operationsLeft: top.operationsLeft, sequence: wakeSequence, slot: -bucket - 1))
        }
        func park(_ slot: Int, _ kind: RequestClass) {
            let key = slots[slot].subscription + "|" + kind.rawValue
            let bucket: Int
            if let known = bucketIndex[key] {
                bucket = known
            } else {
                bucket = buckets.count
                bucketIndex[key] = bucket
                buckets.append((slots[slot].subscription, kind))
                parked.append(Schedule())
                wakes.append(nil)
            }
            parked[bucket].push(
                Schedule.Entry(
                    due: 0, operationsLeft: slots[slot].operationsLeft, sequence: slots[slot].sequence, slot: slot))
            wake(bucket, at: slots[slot].readyAt)
        }
        func popParked(_ bucket: Int) -> Schedule.Entry? {
            while let entry = parked[bucket].pop() {
                if alive[entry.slot], slots[entry.slot].sequence == entry.sequence { return entry }
            }
            return nil
        }
        /// Records the worker's outcome and frees its slot; false when it has none yet.
        func finish(_ slot: Int) -> Bool {
            guard alive[slot], let outcome = slots[slot].outcome else { return false }
            if outcome.status == .failed { failures += 1 }
            outcomes[slots[slot].index] = outcome
            alive[slot] = false
            free.append(slot)
            active -= 1
            progress.inFlight -= 1
            record(outcome)
            return true
        }
        // Requests deferred by workers (concurrentSends > 1): sent together once nothing else is due now.
        var batch: [Int] = []
        let sends = max(1, options.concurrentSends)
        func settle(_ slot: Int) {
            if !finish(slot) {
                if slots[slot].outgoing != nil {
                    batch.append(slot)
                } else if let kind = slots[slot].waitingOnBucket {
                    park(slot, kind)
                } else {
                    enqueue(slot)
                }
            }
        }
        func flush() {
            let sending = batch
            batch = []
            let answers = sendTogether(sending.map { slots[$0].outgoing! })
            for (slot, answer) in zip(sending, answers) {
                slots[slot].outgoing = nil
                slots[slot].answer = answer
                step(&slots[slot])
                settle(slot)
            }
        }
        while next < queue.count || active > 0 {
            if !batch.isEmpty, batch.count >= sends || (schedule.peek()?.due ?? .max) > clock.now || shouldStop() {
                flush()
                continue
            }
            if let failureLimit, failures > failureLimit { next = queue.count }
            if !stopping, shouldStop() {
                stopping = true
                next = queue.count
                emit(.stopping(draining: slots.indices.filter { alive[$0] && !slots[$0].stoppable }.count))
                // The drain: a cluster with nothing in flight stops now; the others finish their operation.
                for slot in slots.indices where alive[slot] && slots[slot].stoppable {
                    interrupt(&slots[slot])
                    _ = finish(slot)
                }
                if active == 0 { break }
            }
            while active < cap, next < queue.count {
                var worker = Worker(index: queue[next], plan: clusters[queue[next]], run: run, now: clock.now)
                worker.sequence = sequence
                sequence += 1
                let slot: Int
                if let reused = free.popLast() {
                    slot = reused
                    slots[slot] = worker
                    alive[slot] = true
                } else {
                    slot = slots.count
                    slots.append(worker)
                    alive.append(true)
                }
                enqueue(slot)
                active += 1
                next += 1
                progress.inFlight += 1
                emit(.clusterStarted(clusterId: worker.plan.clusterId, name: worker.plan.name))
            }
            guard let popped = schedule.pop() else { break }
            var entry = popped
            var wokenBucket: Int?
            if entry.slot < 0 {
                // A bucket's wake-up: its token goes to the best cluster waiting on it.
                let bucket = -entry.slot - 1
                guard wakes[bucket] == entry.sequence else { continue }
                wakes[bucket] = nil
                guard let waiter = popParked(bucket) else { continue }
                wokenBucket = bucket
                entry = Schedule.Entry(
                    due: entry.due, operationsLeft: waiter.operationsLeft, sequence: waiter.sequence, slot: waiter.slot)
            }
            let slot = entry.slot
            guard alive[slot], slots[slot].sequence == entry.sequence else { continue }  // interrupted by the stop
            if stopping, slots[slot].stoppable {
                interrupt(&slots[slot])
                _ = finish(slot)
                if let bucket = wokenBucket { wake(bucket) }
                continue
            }
            let now = clock.now
            if entry.due > now {
                clock.sleep(until: entry.due)
                if slots[slot].waitingOnThrottle { statistics.throttleWait += clock.now - now }
            }
            step(&slots[slot])
            settle(slot)
            if let bucket = wokenBucket { wake(bucket) }
        }
        let reason = stopping ? "interrupted" : "runHalted"
        return outcomes.enumerated().map { index, outcome in
            if let outcome { return outcome }
            let deferred = ClusterOutcome(
                clusterId: clusters[index].clusterId, name: clusters[index].name, status: .deferred, reason: reason)
            record(deferred)
            return deferred
        }
    }

    /// Sends requests at once, each on its own thread (see ``Threads``), and returns their answers in order.
    func sendTogether(_ requests: [ARMHTTPRequest]) -> [Result<ARMHTTPResponse, TransportError>] {
        Threads.map(requests.count) { [transport] index in
            Result { () throws(TransportError) in try transport.send(requests[index]) }
        }
    }

    // MARK: - Progress

    /// Starts the run's progress when no run is in progress (``apply(_:waves:run:tags:)`` runs waves inside one).
    func beginRun(total: Int) {
        if runDepth == 0 {
            progress = RemediationProgress()
            progress.total = total
            progress.startedAt = clock.now
            progressBase = statistics
        }
        runDepth += 1
    }

    func endRun() { runDepth -= 1 }

    /// Counts an ended cluster (one that had actions) and reports it.
    func record(_ outcome: ClusterOutcome) {
        switch outcome.status {
        case .succeeded: progress.succeeded += 1
        case .failed: progress.failed += 1
        case .deferred: progress.deferred += 1
        case .notRun: return
        }
        progress.finished += 1
        emit(.clusterFinished(outcome))
    }

    /// Sends an event to the observer with the progress so far.
    func emit(_ event: RemediationEvent) {
        guard let observer else { return }
        var snapshot = progress
        snapshot.now = clock.now
        snapshot.statistics = statistics.since(progressBase)
        observer(event, snapshot)
    }

    // MARK: - One cluster

    /// One HTTP operation of a cluster: an action, or half of a replace.
    struct Operation {
        var action: PlanAction
        var method: String
    }

    /// Where the polling of a long-running operation goes.
    enum PollTarget {
        case asyncOperation(String, location: String?)
        case location(String)
        case resource
    }

    enum Phase {
        case start
        case send
        case poll(PollTarget, deadline: Int64)
        case verify(pending: [String], deadline: Int64)
    }

    /// One cluster in progress.
    struct Worker {
        let index: Int
        let plan: ClusterPlan
        let run: String
        let subscription: String
        let operations: [Operation]
        var position = 0
        var phase = Phase.start
        var readyAt: Int64
        var waitingOnThrottle = false
        /// The bucket class the worker waits on for a token (nil when it waits for something else).
        var waitingOnBucket: RequestClass?
        /// Whether an earlier attempt of the current write may have reached ARM (a dropped connection, or a
        /// `sent` entry in the journal of a resumed run).
        var mayHaveTakenEffect = false
        var transientAttempts = 0
        var throttleAttempts = 0
        var done = 0
        var skipped = 0
        var outcome: ClusterOutcome?
        /// A request built and charged to its bucket, waiting to be sent with others (``RemediatorOptions/concurrentSends``).
        var outgoing: ARMHTTPRequest?
        /// The answer to ``outgoing`` once it was sent: the next step handles it instead of sending again.
        var answer: Result<ARMHTTPResponse, TransportError>?

        /// Whether a stop may end the cluster now: nothing is in ARM's hands (a long-running operation being
        /// followed, or a write whose earlier attempt may have reached ARM, must finish first) and work is left
        /// (a cluster whose operations are all done goes on to succeed; a compliance wait is cut short).
        var stoppable: Bool {
            switch phase {
            case .poll: false
            case .send: !mayHaveTakenEffect
            case .start: position < operations.count
            case .verify: true
            }
        }

        init(index: Int, plan: ClusterPlan, run: String, now: Int64) {
            self.index = index
            self.plan = plan
            self.run = run
            self.readyAt = now
            self.subscription = Remediator.subscription(of: plan.clusterId)
            var operations: [Operation] = []
            for action in plan.actions {
                switch action.kind {
                case .deleteFluxV1: operations.append(Operation(action: action, method: "DELETE"))
                case .replaceConfiguration:
                    operations.append(Operation(action: action, method: "DELETE"))
                    operations.append(Operation(action: action, method: "PUT"))
                default: operations.append(Operation(action: action, method: "PUT"))
                }
            }
            self.operations = operations
        }

        var current: Operation { operations[position] }
        var operationsLeft: Int { operations.count - position }
        /// The order the worker started in (ties in the schedule go to the earlier one).
        var sequence = 0
        var desiredHash: String { DesiredBody.hash(of: current.method == "DELETE" ? nil : current.action.body) }
    }

    static func subscription(of id: String) -> String {
        let parts = id.split(separator: "/")
        guard parts.count > 1, parts[0].lowercased() == "subscriptions" else { return "" }
        return String(parts[1]).lowercased()
    }

    func step(_ worker: inout Worker) {
        worker.waitingOnThrottle = false
        worker.waitingOnBucket = nil
        switch worker.phase {
        case .start: start(&worker)
        case .send: send(&worker)
        case .poll(let target, let deadline): poll(&worker, target, deadline: deadline)
        case .verify(let pending, let deadline): verify(&worker, pending: pending, deadline: deadline)
        }
    }

    private func journal(
        _ worker: Worker, _ state: JournalState, _ response: ARMHTTPResponse? = nil, error: String? = nil
    ) {
        journal.record(
            JournalEntry(
                run: worker.run, clusterId: worker.plan.clusterId, resourceId: worker.current.action.resourceId,
                desiredHash: worker.desiredHash, action: worker.current.action.kind.rawValue, state: state,
                requestId: response?.header("x-ms-request-id"),
                correlationId: response?.header("x-ms-correlation-request-id"), errorCode: error, at: clock.now))
    }

    private func start(_ worker: inout Worker) {
        while worker.position < worker.operations.count {
            let last = journal.lastState(
                run: worker.run, clusterId: worker.plan.clusterId, resourceId: worker.current.action.resourceId,
                desiredHash: worker.desiredHash)
            worker.transientAttempts = 0
            worker.throttleAttempts = 0
            worker.mayHaveTakenEffect = last == .sent
            switch last {
            case .succeeded?:
                worker.skipped += 1
                worker.position += 1
                continue
            case .accepted?:
                // ARM took the request before the run stopped: follow it instead of sending it again.
                worker.phase = .poll(.resource, deadline: clock.now + options.operationTimeout)
                return
            default:
                journal(worker, .pending)
                worker.phase = .send
                return
            }
        }
        let configurations = worker.plan.actions.filter {
            [.createConfiguration, .updateConfiguration, .replaceConfiguration].contains($0.kind)
        }.map(\.resourceId)
        if options.waitForCompliance, !configurations.isEmpty {
            worker.phase = .verify(pending: configurations, deadline: clock.now + options.complianceTimeout)
            return
        }
        succeed(&worker)
    }

    /// Ends a cluster that a stop caught with nothing in flight: its pending operation is journalled
    /// `cancelled`, and it is `deferred` with the reason `interrupted`.
    private func interrupt(_ worker: inout Worker) {
        if case .send = worker.phase, worker.position < worker.operations.count { journal(worker, .cancelled) }
        worker.outcome = ClusterOutcome(
            clusterId: worker.plan.clusterId, name: worker.plan.name, status: .deferred, reason: "interrupted",
            operationsDone: worker.done, operationsSkipped: worker.skipped)
    }

    private func succeed(_ worker: inout Worker) {
        worker.outcome = ClusterOutcome(
            clusterId: worker.plan.clusterId, name: worker.plan.name, status: .succeeded,
            operationsDone: worker.done, operationsSkipped: worker.skipped)
    }

    private func fail(_ worker: inout Worker, _ failure: RemediationFailure, journalled: Bool = true) {
        if journalled, worker.position < worker.operations.count { journal(worker, .failed, error: failure.code) }
        worker.outcome = ClusterOutcome(
            clusterId: worker.plan.clusterId, name: worker.plan.name, status: .failed, failure: failure,
            failedAction: worker.position < worker.operations.count ? worker.current.action.kind : nil,
            operationsDone: worker.done, operationsSkipped: worker.skipped)
    }

    private func operationSucceeded(_ worker: inout Worker, _ response: ARMHTTPResponse?) {
        journal(worker, .succeeded, response)
        worker.done += 1
        worker.position += 1
        worker.phase = .start
        worker.readyAt = clock.now
    }

    /// Reschedules the worker for when its subscription's bucket of `kind` has a token; false when there is one now.
    private func waitForToken(_ worker: inout Worker, _ kind: RequestClass) -> Bool {
        let now = clock.now
        let ready = limiter.readyTime(worker.subscription, kind, from: now)
        guard ready > now else { return false }
        worker.readyAt = ready
        worker.waitingOnThrottle = true
        worker.waitingOnBucket = kind
        emit(.throttled(subscription: worker.subscription, kind: kind, wait: ready - now, serverSide: false))
        return true
    }

    /// Sends one request through the bucket of its class; nil when it must wait (the worker is rescheduled)
    /// or failed for good (the worker has an outcome).
    private func request(
        _ worker: inout Worker, method: String, url: String, body: [UInt8] = [], journalSent: Bool = false
    ) -> ARMHTTPResponse? {
        let kind = RequestClass(method: method)
        let result: Result<ARMHTTPResponse, TransportError>
        if let sent = worker.answer {
            // Sent with others since the last step (token taken, counted and journalled then).
            worker.answer = nil
            result = sent
        } else {
            if waitForToken(&worker, kind) { return nil }
            let now = clock.now
            _ = limiter.take(worker.subscription, kind, at: now)
            requestNumber += 1
            statistics.requests += 1
            if kind != .read { statistics.writes += 1 }
            var headers = ["x-ms-client-request-id": Self.guid(options.seed, requestNumber)]
            if !body.isEmpty { headers["Content-Type"] = "application/json" }
            if journalSent { journal(worker, .sent) }
            let request = ARMHTTPRequest(method: method, url: url, headers: headers, body: body)
            if options.concurrentSends > 1 {
                worker.outgoing = request
                return nil
            }
            result = Result { () throws(TransportError) in try transport.send(request) }
        }
        let answer: ARMHTTPResponse
        do {
            answer = try result.get()
        } catch {
            if kind != .read { worker.mayHaveTakenEffect = true }
            retryTransient(
                &worker,
                RemediationFailure(
                    code: error == .timedOut ? "RequestTimedOut" : "ConnectionDropped",
                    message: "\(method) \(url): \(error)",
                    remedy: "check the network path to ARM; the run can be resumed"), retryAfter: nil)
            return nil
        }
        limiter.observe(answer, subscription: worker.subscription, kind: kind, at: clock.now)
        if answer.status == 429 {
            statistics.throttled += 1
            worker.throttleAttempts += 1
            if worker.throttleAttempts > options.maxThrottleRetries {
                fail(&worker, failure(from: answer, remedy: "ARM kept throttling: lower --max-parallel or retry later"))
                return nil
            }
            let wait = Self.retryAfter(answer) ?? backoff(worker, attempt: worker.throttleAttempts)
            worker.readyAt = clock.now + wait
            worker.waitingOnThrottle = true
            emit(.throttled(subscription: worker.subscription, kind: kind, wait: wait, serverSide: true))
            return nil
        }
        if ARMErrorClassifier.isRetryable(status: answer.status, code: Self.errorCode(answer)) {
            retryTransient(&worker, failure(from: answer, remedy: nil), retryAfter: Self.retryAfter(answer))
            return nil
        }
        // Retries count consecutive transient failures of one request.
        worker.transientAttempts = 0
        return answer
    }

    private func retryTransient(_ worker: inout Worker, _ failure: RemediationFailure, retryAfter: Int64?) {
        worker.transientAttempts += 1
        if worker.transientAttempts > options.maxTransientRetries {
            var exhausted = failure
            exhausted.message = "after \(options.maxTransientRetries) retries: \(failure.message)"
            // Whether the operation took effect is unknown: the journal keeps its last state (sent or accepted)
            // so that a resumed run follows it instead of treating it as failed.
            fail(&worker, exhausted, journalled: false)
            return
        }
        statistics.transientRetries += 1
        worker.readyAt = clock.now + max(retryAfter ?? 0, backoff(worker, attempt: worker.transientAttempts))
    }

    /// Exponential backoff with deterministic jitter: half the doubled delay plus a seeded share of the other half.
    func backoff(_ worker: Worker, attempt: Int) -> Int64 {
        let shift = min(max(0, attempt - 1), 20)
        let delay = min(options.backoffMax, options.backoffBase << Int64(shift))
        var mixer = SplitMix64(seed: options.seed ^ UInt64(truncatingIfNeeded: worker.index) &* 0x9e37_79b9)
        for _ in 0..<attempt { _ = mixer.next() }
        let jitter = Int64(mixer.next() % UInt64(max(1, delay / 2 + 1)))
        return delay / 2 + jitter
    }

    private func send(_ worker: inout Worker) {
        let operation = worker.current
        // Wait for a token before building the body: resolving secrets and writing JSON for a request that must wait
        // anyway is wasted while a bucket is empty. (An answer already there was sent with that body.)
        if worker.answer == nil, waitForToken(&worker, RequestClass(method: operation.method)) { return }
        let url = "\(operation.action.resourceId)?api-version=\(operation.action.apiVersion)"
        var body: [UInt8] = []
        if operation.method == "PUT", worker.answer == nil {
            guard let desired = operation.action.body else {
                fail(
                    &worker,
                    RemediationFailure(
                        code: "InvalidPlan", message: "\(operation.action.kind.rawValue) has no body",
                        remedy: "re-plan"))
                return
            }
            do {
                body = DesiredBody.bytes(try DesiredBody.resolved(desired, with: secrets))
            } catch let failure as RemediationFailure {
                fail(&worker, failure)
                return
            } catch {
                fail(
                    &worker,
                    RemediationFailure(
                        code: "SecretUnresolved", message: "a secret reference could not be resolved: \(error)",
                        remedy: "check the secret's environment variable, file or Key Vault access"))
                return
            }
        }
        guard let answer = request(&worker, method: operation.method, url: url, body: body, journalSent: true) else {
            return
        }
        body = []
        switch answer.status {
        case 200, 201, 202, 204:
            if operation.method == "DELETE", answer.status == 204 || answer.status == 200 {
                operationSucceeded(&worker, answer)
                return
            }
            journal(worker, .accepted, answer)
            worker.transientAttempts = 0
            let deadline = clock.now + options.operationTimeout
            let wait = Self.retryAfter(answer) ?? options.defaultPollInterval
            if let async = answer.header("Azure-AsyncOperation") {
                worker.phase = .poll(
                    .asyncOperation(async, location: answer.header("Location")), deadline: deadline)
            } else if let location = answer.header("Location") {
                worker.phase = .poll(.location(location), deadline: deadline)
            } else {
                switch Self.provisioningState(answer) {
                case "succeeded":
                    operationSucceeded(&worker, answer)
                    return
                case "failed", "canceled":
                    fail(&worker, failure(from: answer, remedy: nil, fallbackCode: "ProvisioningFailed"))
                    return
                default:
                    worker.phase = .poll(.resource, deadline: deadline)
                }
            }
            worker.readyAt = clock.now + wait
        case 409 where worker.mayHaveTakenEffect:
            // The earlier attempt reached ARM and its operation is still running: follow the resource.
            journal(worker, .accepted, answer)
            worker.phase = .poll(.resource, deadline: clock.now + options.operationTimeout)
            worker.readyAt = clock.now + (Self.retryAfter(answer) ?? options.defaultPollInterval)
        default:
            fail(&worker, failure(from: answer, remedy: nil))
        }
    }

    private func poll(_ worker: inout Worker, _ target: PollTarget, deadline: Int64) {
        if clock.now >= deadline, worker.answer == nil {
            fail(
                &worker,
                RemediationFailure(
                    code: "OperationTimedOut",
                    message:
                        "\(worker.current.action.kind.rawValue) on \(worker.current.action.resourceId) did not finish within \(options.operationTimeout / 1000) s",
                    remedy:
                        "check the cluster's agents (an Offline Arc cluster never completes); the operation may still finish, re-scan before re-planning"
                ), journalled: false)
            return
        }
        let url: String
        switch target {
        case .asyncOperation(let link, _), .location(let link): url = link
        case .resource: url = "\(worker.current.action.resourceId)?api-version=\(worker.current.action.apiVersion)"
        }
        guard let answer = request(&worker, method: "GET", url: url) else { return }
        let wait = Self.retryAfter(answer) ?? options.defaultPollInterval
        switch target {
        case .asyncOperation(_, let location):
            guard answer.status == 200 else {
                // The status endpoint is gone: fall back to the Location header, then the resource itself.
                worker.phase = .poll(location.map { .location($0) } ?? .resource, deadline: deadline)
                worker.readyAt = clock.now
                return
            }
            let json = Self.json(answer)
            switch (json?["status"]?.string ?? "").lowercased() {
            case "succeeded": operationSucceeded(&worker, answer)
            case "failed", "canceled", "cancelled":
                let error = json?["error"]
                let code = error?["code"]?.string ?? "OperationFailed"
                fail(
                    &worker,
                    RemediationFailure(
                        code: code,
                        message: error?["message"]?.string
                            ?? "the long-running operation ended \(json?["status"]?.string ?? "")",
                        status: answer.status, remedy: ARMErrorClassifier.remedy(status: 200, code: code),
                        requestId: answer.header("x-ms-request-id"),
                        correlationId: answer.header("x-ms-correlation-request-id")))
            default: worker.readyAt = clock.now + wait
            }
        case .location:
            switch answer.status {
            case 202: worker.readyAt = clock.now + wait
            case 200, 201, 204:
                if worker.current.method == "PUT", case "failed"? = Self.provisioningState(answer) {
                    fail(&worker, failure(from: answer, remedy: nil, fallbackCode: "ProvisioningFailed"))
                } else {
                    operationSucceeded(&worker, answer)
                }
            case 404:
                // The result endpoint is gone: read the resource's provisioningState.
                worker.phase = .poll(.resource, deadline: deadline)
                worker.readyAt = clock.now
            default:
                fail(&worker, failure(from: answer, remedy: nil))
            }
        case .resource:
            if answer.status == 404, worker.current.method == "DELETE" {
                operationSucceeded(&worker, answer)
                return
            }
            guard answer.status == 200 else {
                fail(&worker, failure(from: answer, remedy: nil))
                return
            }
            switch Self.provisioningState(answer) {
            case "succeeded" where worker.current.method == "PUT": operationSucceeded(&worker, answer)
            case "failed", "canceled":
                fail(&worker, failure(from: answer, remedy: nil, fallbackCode: "ProvisioningFailed"))
            default: worker.readyAt = clock.now + wait
            }
        }
    }

    private func verify(_ worker: inout Worker, pending: [String], deadline: Int64) {
        guard let id = pending.first else {
            succeed(&worker)
            return
        }
        if clock.now >= deadline, worker.answer == nil {
            fail(
                &worker,
                RemediationFailure(
                    code: "ComplianceTimedOut",
                    message: "\(id) was not Compliant within \(options.complianceTimeout / 1000) s",
                    remedy:
                        "look at the configuration's statuses (fluxfleet scan shows them); Flux may still be reconciling"
                ),
                journalled: false)
            return
        }
        let action = worker.plan.actions.first { $0.resourceId == id }
        let version = action?.apiVersion ?? "2025-04-01"
        guard let answer = request(&worker, method: "GET", url: "\(id)?api-version=\(version)") else { return }
        guard answer.status == 200 else {
            fail(&worker, failure(from: answer, remedy: nil), journalled: false)
            return
        }
        let state = Self.json(answer)?["properties"]?["complianceState"]?.string ?? ""
        if state == "Compliant" {
            worker.phase = .verify(pending: Array(pending.dropFirst()), deadline: deadline)
            worker.readyAt = clock.now
        } else {
            worker.readyAt = clock.now + options.compliancePollInterval
        }
    }

    // MARK: - Answers

    private func failure(from answer: ARMHTTPResponse, remedy: String?, fallbackCode: String? = nil)
        -> RemediationFailure
    {
        let json = Self.json(answer)
        let error = json?["error"] ?? json?["properties"]?["errorInfo"]
        let code = error?["code"]?.string ?? fallbackCode ?? "HTTP\(answer.status)"
        let message = error?["message"]?.string ?? "ARM answered \(answer.status)"
        return RemediationFailure(
            code: code, message: Redaction.url(message), status: answer.status,
            remedy: remedy ?? ARMErrorClassifier.remedy(status: answer.status, code: code, message: message),
            requestId: answer.header("x-ms-request-id"), correlationId: answer.header("x-ms-correlation-request-id"))
    }

    static func json(_ answer: ARMHTTPResponse) -> JSON? {
        guard !answer.body.isEmpty else { return nil }
        return try? JSON.parse(String(decoding: answer.body, as: UTF8.self), source: "ARM response")
    }

    static func errorCode(_ answer: ARMHTTPResponse) -> String? { json(answer)?["error"]?["code"]?.string }

    static func provisioningState(_ answer: ARMHTTPResponse) -> String? {
        json(answer)?["properties"]?["provisioningState"]?.string?.lowercased()
    }

    /// How long an answer asks to wait, in milliseconds: `retry-after-ms` or `x-ms-retry-after-ms` when present
    /// (Azure sends them beside `Retry-After` on some answers), else `Retry-After` in seconds as ARM sends it.
    static func retryAfter(_ answer: ARMHTTPResponse) -> Int64? {
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let text = answer.header(name), let milliseconds = Int64(text.trimmingASCIISpaces()), milliseconds >= 0 {
                return milliseconds
            }
        }
        guard let text = answer.header("Retry-After"), let seconds = Int64(text.trimmingASCIISpaces()), seconds >= 0
        else { return nil }
        return seconds * 1000
    }

    static func guid(_ seed: UInt64, _ number: UInt64) -> String {
        var mixer = SplitMix64(seed: seed ^ (number &* 0x2545_f491_4f6c_dd1d))
        let high = mixer.next()
        let low = mixer.next()
        func hex(_ value: UInt64, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        let a = hex(high >> 32, 8)
        let b = hex((high >> 16) & 0xffff, 4)
        let c = hex(0x4000 | (high & 0x0fff), 4)
        let d = hex(0x8000 | ((low >> 48) & 0x3fff), 4)
        let e = hex(low & 0xffff_ffff_ffff, 12)
        return "\(a)-\(b)-\(c)-\(d)-\(e)"
    }
}

/// SplitMix64: a small deterministic generator for jitter and ids.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
