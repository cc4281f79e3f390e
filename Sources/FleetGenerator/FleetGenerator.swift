/// How generated records are laid out; every layout reads back with `JSONRecords.read`.
public enum FleetFormat: String, CaseIterable, Sendable {
    /// One JSON array, one compact record per line: `[\n{…},\n{…}\n]`.
    case array
    /// Newline-delimited JSON: one compact record per line.
    case ndjson
    /// A Resource Graph response: `{"totalRecords":N,"count":N,"data":[…],"facets":[],"resultTruncated":"false"}`.
    case envelope
}

/// A deterministic fleet of AKS and Azure Arc clusters with their Flux resources, shaped like Azure
/// Resource Graph rows.
///
/// Cluster `i` (1-based) is named after its kind, region and index (`aks-weu-000042`,
/// `arc-eus-000043`, `hci-neu-000044`) and is followed by its children: extensions, Flux
/// configurations and Flux v1 configurations. The same `clusters` and `seed` always give the same
/// bytes: every value comes from SplitMix64 generators and every time is relative to
/// ``referenceTime``, never the clock.
///
/// ```swift
/// let fleet = FleetGenerator(clusters: 10_000, seed: 42)
/// try fleet.write(format: .array) { chunk in try file.write(chunk) }
/// ```
public struct FleetGenerator: Sendable {
    /// The number of clusters.
    public let clusters: Int
    /// The seed every value is derived from.
    public let seed: UInt64
    let topology: FleetTopology

    /// The fixed "now" of every generated fleet, as ISO 8601 text.
    public static let referenceTime = "2026-11-21T18:00:00Z"

    /// Creates a generator for `clusters` clusters (zero or more) spread over `subscriptions` subscriptions
    /// (at least one; by default `max(1, ⌈clusters / 1000⌉)`, which keeps every earlier fleet's bytes).
    public init(clusters: Int, seed: UInt64, subscriptions: Int? = nil) {
        precondition(clusters >= 0, "the number of clusters cannot be negative")
        precondition(subscriptions.map { $0 >= 1 } ?? true, "a fleet needs at least one subscription")
        self.clusters = clusters
        self.seed = seed
        topology = FleetTopology(seed: seed, clusters: clusters, subscriptions: subscriptions)
    }

    /// The tenant id of the fleet.
    public var tenantId: String { topology.tenantId }

    /// The subscription ids of the fleet: as many as asked, by default `max(1, ⌈clusters / 1000⌉)`.
    public var subscriptionIds: [String] { topology.subscriptions }

    /// The plan of cluster `index` (1-based).
    func plan(at index: Int) -> ClusterPlan {
        var rng = SplitMix64(seed, 0xC1_0573, UInt64(index))
        let (identity, fleetCase) = ClusterIdentity.draw(index: index, topology: topology, rng: &rng)
        return ClusterPlan(identity: identity, fleetCase: fleetCase, salt: 0)
    }

    /// The case of cluster `index` (1-based, up to ``clusters``).
    public func clusterCase(at index: Int) -> FleetCase {
        precondition(index >= 1 && index <= clusters, "cluster index out of range")
        var rng = SplitMix64(seed, 0xC1_0573, UInt64(index))
        return ClusterIdentity.draw(index: index, topology: topology, rng: &rng).1
    }

    /// The name of cluster `index` (1-based, up to ``clusters``).
    public func clusterName(at index: Int) -> String {
        precondition(index >= 1 && index <= clusters, "cluster index out of range")
        return plan(at: index).identity.name
    }

    /// How many clusters have each case.
    public func caseCounts() -> [FleetCase: Int] {
        var counts: [FleetCase: Int] = [:]
        for index in stride(from: 1, through: clusters, by: 1) { counts[clusterCase(at: index), default: 0] += 1 }
        return counts
    }

    /// The number of records (cluster rows and children) the fleet has.
    public var recordCount: Int {
        var total = 0
        for index in stride(from: 1, through: clusters, by: 1) { total += plan(at: index).recordCount }
        return total
    }

    /// Streams the fleet to `sink` in chunks of about 1 MiB, in order.
    ///
    /// Each chunk is valid only during the call. Memory stays bounded whatever the fleet size; the
    /// envelope layout first counts the records (a cheap pass that writes nothing).
    /// - Throws: Whatever `sink` throws; generation itself cannot fail.
    public func write(format: FleetFormat, to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var stream = RecordStream(format: format)
        stream.header(total: format == .envelope ? recordCount : 0)
        for index in stride(from: 1, through: clusters, by: 1) {
            plan(at: index).write(into: &stream)
            try stream.flush(to: sink)
        }
        stream.footer()
        try stream.flush(to: sink, force: true)
    }

    /// The whole fleet as bytes (for tests and small fleets).
    public func generate(format: FleetFormat = .array) -> [UInt8] {
        var all: [UInt8] = []
        write(format: format) { chunk in all.append(contentsOf: chunk) }
        return all
    }
}
