import FleetCore
import Foundation
import Planner

/// The api-versions FluxFleet reads and writes with, per resource type (the latest stable of each).
public enum ARMAPIVersion {
    /// `Microsoft.ContainerService/managedClusters`.
    public static let managedClusters = "2026-08-01"
    /// `Microsoft.Kubernetes/connectedClusters`.
    public static let connectedClusters = "2026-05-01"
    /// `Microsoft.KubernetesConfiguration/extensions`.
    public static let extensions = "2025-03-01"
    /// `Microsoft.KubernetesConfiguration/fluxConfigurations`.
    public static let fluxConfigurations = "2025-04-01"
    /// `Microsoft.KubernetesConfiguration/sourceControlConfigurations` (Flux v1).
    public static let sourceControlConfigurations = "2024-11-01"

    /// The api-version for a cluster id (managed or connected).
    public static func cluster(_ clusterId: String) -> String {
        clusterId.lowercased().contains("/microsoft.kubernetes/connectedclusters/")
            ? connectedClusters : managedClusters
    }
}

/// Why a planned cluster is not worked on: its observed state is no longer the one the plan was made from.
public struct TargetRefusal: Sendable, Hashable {
    /// The cluster.
    public var clusterId: String
    /// The cluster's name.
    public var name: String
    /// `fingerprintMoved`, `clusterNotFound` or `targetUnreadable`.
    public var code: String
    /// What was found.
    public var message: String
    /// What to do.
    public var remedy: String
    /// The fingerprint now (nil when the target could not be read).
    public var currentFingerprint: String?

    /// Creates a refusal.
    public init(
        clusterId: String, name: String, code: String, message: String, remedy: String, currentFingerprint: String?
    ) {
        self.clusterId = clusterId
        self.name = name
        self.code = code
        self.message = message
        self.remedy = remedy
        self.currentFingerprint = currentFingerprint
    }
}

/// Reads clusters and their Flux resources back from ARM, as `apply` does before it changes anything.
///
/// Four GETs per cluster — the cluster, and the lists of its extensions, fluxConfigurations and Flux v1
/// sourceControlConfigurations (following `nextLink`) — paced by per-subscription read buckets, with `429`
/// honouring `Retry-After` and 5xx, timeouts and dropped connections retried with backoff.
public struct TargetReader {
    let transport: any ARMTransport
    let clock: any RemediationClock
    var limiter: SubscriptionRateLimiter
    /// How many times one read is retried after a 429, a 5xx, a timeout or a dropped connection.
    public var maxRetries = 8
    /// The reads sent.
    public internal(set) var requests = 0

    /// Creates a reader over a transport and a clock with ARM's read limits.
    public init(transport: any ARMTransport, clock: any RemediationClock, limits: ARMRateLimits = .arm) {
        self.transport = transport
        self.clock = clock
        self.limiter = SubscriptionRateLimiter(limits: limits)
    }

    /// The cluster as ARM has it now (nil when ARM answers 404 for the cluster).
    public mutating func read(clusterId: String) throws(RemediationFailure) -> Cluster? {
        guard let clusterBody = try get("\(clusterId)?api-version=\(ARMAPIVersion.cluster(clusterId))", clusterId)
        else { return nil }
        var records = [InventoryRecord(document: clusterBody, file: clusterId)]
        let providers = "\(clusterId)/providers/Microsoft.KubernetesConfiguration"
        let lists = [
            "\(providers)/extensions?api-version=\(ARMAPIVersion.extensions)",
            "\(providers)/fluxConfigurations?api-version=\(ARMAPIVersion.fluxConfigurations)",
            "\(providers)/sourceControlConfigurations?api-version=\(ARMAPIVersion.sourceControlConfigurations)",
        ]
        for list in lists {
            var next: String? = list
            var pages = 0
            while let url = next, pages < 100 {
                pages += 1
                guard let page = try get(url, clusterId) else { break }
                for item in page.root.member(ignoringCase: "value")?.elements ?? JSONValue.empty.elements {
                    let bytes = DesiredBody.bytes(item.materialize())
                    do {
                        records.append(
                            InventoryRecord(document: try JSONDocument.parse(JSONBytes(bytes, source: url)), file: url))
                    } catch {
                        throw RemediationFailure(
                            code: "InvalidResponse", message: "ARM answered \(url) with a record that is not JSON",
                            remedy: "retry; if it persists, report it with the request id")
                    }
                }
                next = page.root.member(ignoringCase: "nextLink")?.string
            }
        }
        do {
            return try Fleet.assemble(records, parallelism: 1).clusters.first
        } catch {
            throw RemediationFailure(
                code: "InvalidResponse", message: "ARM's records for \(clusterId) could not be read: \(error)",
                remedy: "retry; if it persists, report it with the request ids")
        }
    }

    /// GETs a URL with pacing and retries; nil on 404.
    private mutating func get(_ url: String, _ clusterId: String) throws(RemediationFailure) -> JSONDocument? {
        let subscription = Remediator.subscription(of: clusterId)
        var attempt = 0
        while true {
            let ready = limiter.readyTime(subscription, .read, from: clock.now)
            if ready > clock.now { clock.sleep(until: ready) }
            _ = limiter.take(subscription, .read, at: clock.now)
            requests += 1
            let response: ARMHTTPResponse
            do {
                response = try transport.send(ARMHTTPRequest(method: "GET", url: url))
            } catch {
                attempt += 1
                guard attempt <= maxRetries else {
                    throw RemediationFailure(
                        code: "TargetUnreadable", message: "reading \(url) failed \(attempt) times: \(error)",
                        remedy: "check that the ARM endpoint is reachable, then run apply again")
                }
                clock.sleep(until: clock.now + backoff(attempt))
                continue
            }
            limiter.observe(response, subscription: subscription, kind: .read, at: clock.now)
            let code = Remediator.errorCode(response)
            switch response.status {
            case 200..<300:
                do {
                    return try JSONDocument.parse(JSONBytes(response.body, source: url))
                } catch {
                    throw RemediationFailure(
                        code: "InvalidResponse", message: "ARM answered \(url) with a body that is not JSON",
                        status: response.status, remedy: "retry; if it persists, report it with the request id")
                }
            case 404 where code == nil || code == "ResourceNotFound" || code == "NotFound":
                return nil
            default:
                attempt += 1
                if ARMErrorClassifier.isRetryable(status: response.status, code: code), attempt <= maxRetries {
                    clock.sleep(until: clock.now + (Remediator.retryAfter(response) ?? backoff(attempt)))
                    continue
                }
                let requestId = response.header("x-ms-request-id").map { " (request id \($0))" } ?? ""
                throw RemediationFailure(
                    code: code ?? "HTTP\(response.status)",
                    message: "GET \(url.split(separator: "?")[0]) answered \(response.status)\(requestId)",
                    status: response.status,
                    remedy: ARMErrorClassifier.remedy(status: response.status, code: code ?? ""))
            }
        }
    }

    private func backoff(_ attempt: Int) -> Int64 { min(60_000, 1_000 << Int64(min(attempt, 6))) }

    /// A reader for one of `lanes` reading at once: the same transport and clock, with a `1/lanes` share of every
    /// bucket (at least one token and one per second), and no reads counted yet.
    func share(of lanes: Int) -> TargetReader {
        let limits = limiter.limits
        var shared = TargetReader(
            transport: transport, clock: clock,
            limits: ARMRateLimits(
                writeBurst: max(1, limits.writeBurst / lanes),
                writeRefillPerSecond: max(1, limits.writeRefillPerSecond / lanes),
                readBurst: max(1, limits.readBurst / lanes),
                readRefillPerSecond: max(1, limits.readRefillPerSecond / lanes),
                deleteBurst: max(1, limits.deleteBurst / lanes),
                deleteRefillPerSecond: max(1, limits.deleteRefillPerSecond / lanes)))
        shared.maxRetries = maxRetries
        return shared
    }
}

extension JSONValue {
    /// An empty array value, for iterating a missing member.
    static let empty: JSONValue = try! JSONDocument.parse(JSONBytes(Array("[]".utf8), source: "")).root
}

/// Checks a plan's targets against ARM before anything is written.
public enum TargetCheck {
    /// What re-reading the targets found.
    public struct Result: Sendable {
        /// The clusters refused, in plan order.
        public var refusals: [TargetRefusal]
        /// The tags of every cluster read, by lowercased id (for tag selectors of waves).
        public var tags: [String: [String: String]]
    }

    /// Re-reads every `change` cluster of `plan` (except those in `skipping` — lowercased ids, such as the ones a
    /// resumed run already touched) and returns the refusals: clusters whose fingerprint moved, that are gone, or
    /// that could not be read.
    ///
    /// With `parallelism` above 1 the clusters are read in that many lanes at once, each on its own thread with an
    /// equal share of every subscription's read bucket (so together they stay within ARM's read limits); the
    /// result is the same as one lane's. Use it only with a transport and clock that may be called from several
    /// threads (HTTP and the wall clock), never with the in-process emulator.
    public static func check(
        _ plan: Plan, reader: inout TargetReader, skipping: Set<String> = [], parallelism: Int = 1
    ) -> Result {
        let targets = plan.clusters.filter {
            $0.decision == .change && !skipping.contains($0.clusterId.lowercased())
        }
        let lanes = max(1, min(parallelism, targets.count))
        var outcomes: [(refusal: TargetRefusal?, tags: [String: String]?)]
        if lanes == 1 {
            outcomes = targets.map { inspect($0, &reader) }
        } else {
            // Lane `l` reads clusters l, l + lanes, …; each returns its outcomes and how many reads it sent.
            let done = Threads.map(lanes) { [reader] lane in
                var laneReader = reader.share(of: lanes)
                let outcomes = stride(from: lane, to: targets.count, by: lanes).map {
                    inspect(targets[$0], &laneReader)
                }
                return (outcomes, laneReader.requests)
            }
            outcomes = Array(repeating: (nil, nil), count: targets.count)
            for (lane, (laneOutcomes, requests)) in done.enumerated() {
                for (offset, outcome) in laneOutcomes.enumerated() { outcomes[lane + offset * lanes] = outcome }
                reader.requests += requests
            }
        }
        var refusals: [TargetRefusal] = []
        var tags: [String: [String: String]] = [:]
        for (cluster, outcome) in zip(targets, outcomes) {
            if let refusal = outcome.refusal { refusals.append(refusal) }
            if let read = outcome.tags { tags[cluster.clusterId.lowercased()] = read }
        }
        return Result(refusals: refusals, tags: tags)
    }

    /// Reads one cluster back: its refusal (nil when it may go ahead) and its tags (nil when it could not be read).
    private static func inspect(_ cluster: ClusterPlan, _ reader: inout TargetReader) -> (
        refusal: TargetRefusal?, tags: [String: String]?
    ) {
        do {
            guard let current = try reader.read(clusterId: cluster.clusterId) else {
                return (
                    TargetRefusal(
                        clusterId: cluster.clusterId, name: cluster.name, code: "clusterNotFound",
                        message: "the cluster no longer exists", remedy: "re-scan and re-plan",
                        currentFingerprint: nil), nil
                )
            }
            let now = Fingerprint.of(current)
            guard now != cluster.fingerprint else { return (nil, current.tags) }
            return (
                TargetRefusal(
                    clusterId: cluster.clusterId, name: cluster.name, code: "fingerprintMoved",
                    message:
                        "its observed state changed since the plan was made (fingerprint \(short(cluster.fingerprint)) → \(short(now)))",
                    remedy: "make a new plan (`fluxfleet plan --out plan.json`) and apply that",
                    currentFingerprint: now), current.tags
            )
        } catch {
            return (
                TargetRefusal(
                    clusterId: cluster.clusterId, name: cluster.name, code: "targetUnreadable",
                    message: "\(error.code): \(error.message)", remedy: error.remedy, currentFingerprint: nil), nil
            )
        }
    }

    private static func short(_ fingerprint: String) -> String {
        let hex = fingerprint.hasPrefix("sha256:") ? fingerprint.dropFirst(7) : Substring(fingerprint)
        return String(hex.prefix(12))
    }
}
