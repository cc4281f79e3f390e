import FleetCore

/// The next day of a fleet: a few clusters removed, a few added, a few changed in place.
///
/// Given the records of a previous fleet and a churn fraction `P`, about `P/4` of the clusters are
/// removed (with their children), `P/4` new clusters are added after the highest index, and `P/2`
/// are changed in place: drift introduced or fixed, an extension upgraded or repaired, an Arc
/// cluster going offline or coming back, a cluster started. Every other record is copied byte for
/// byte. A changed cluster keeps its identity (id, name, location, tags); its row is copied too
/// unless the change is a cluster-level one (power state, connectivity, identity).
///
/// ```swift
/// let previous = try JSONRecords.read(try JSONBytes(contentsOfFile: "day1.json"))
/// let churn = FleetChurn(previous: previous, fraction: 0.02, seed: 2)
/// try churn.write(format: churn.inputFormat) { chunk in try file.write(chunk) }
/// ```
public struct FleetChurn: Sendable {
    /// The fraction of clusters touched (0…1).
    public let fraction: Double
    /// The seed of the churn's choices.
    public let seed: UInt64
    /// The layout of the previous fleet (`array` for a single-value input).
    public let inputFormat: FleetFormat
    /// What the churn does.
    public let summary: FleetChurnSummary
    /// The ids of the removed clusters, in input order.
    public let removedIDs: [String]
    /// The ids of the clusters changed in place, in input order.
    public let changedIDs: [String]
    /// The ids of the added clusters, in output order.
    public let addedIDs: [String]

    private let records: [JSONDocument]
    private let items: [Item]

    private enum Item: Sendable {
        /// A record copied unchanged.
        case copy(Int)
        /// A cluster written from a plan, with its row copied from the record at `row` when given.
        case cluster(ClusterPlan, row: Int?)
    }

    /// Plans the next day of `previous`.
    ///
    /// - Parameters:
    ///   - previous: The previous fleet's records, as `JSONRecords.read` returns them.
    ///   - fraction: The churn fraction, from 0 to 1 (`0.02` for 2 %).
    ///   - seed: The seed of the churn's choices (which clusters, which changes, new identities).
    public init(previous: JSONRecordSet, fraction: Double, seed: UInt64) {
        precondition(fraction >= 0 && fraction <= 1, "the churn fraction must be between 0 and 1")
        self.fraction = fraction
        self.seed = seed
        switch previous.layout {
        case .ndjson: inputFormat = .ndjson
        case .envelope: inputFormat = .envelope
        case .array, .single: inputFormat = .array
        }
        let records = previous.records
        self.records = records

        // Find the cluster rows and attach every child to its cluster by id (case-insensitively).
        var clusters: [ChurnCluster] = []
        var clusterByID: [String: Int] = [:]
        var owner = [Int](repeating: -1, count: records.count)
        for (position, record) in records.enumerated() {
            let root = record.root
            guard let id = root["id"]?.string, let type = root["type"], Self.isClusterType(type) else { continue }
            let key = ASCII.lowercased(id)
            guard clusterByID[key] == nil else { continue }
            clusterByID[key] = clusters.count
            owner[position] = clusters.count
            clusters.append(ChurnCluster(record: position, children: []))
        }
        for (position, record) in records.enumerated() where owner[position] < 0 {
            guard let id = record.root["id"]?.string, let parent = Self.parentID(ofLowercased: ASCII.lowercased(id)),
                let cluster = clusterByID[parent]
            else { continue }
            owner[position] = cluster
            clusters[cluster].children.append(position)
        }

        // Choose the clusters to remove and to change: a partial Fisher–Yates shuffle.
        let count = clusters.count
        let touched = Double(count) * fraction
        var removeCount = Int((touched / 4).rounded())
        let addCount = Int((touched / 4).rounded())
        var changeCount = Int((touched / 2).rounded())
        removeCount = min(removeCount, count)
        changeCount = min(changeCount, count - removeCount)
        var order = Array(0..<count)
        var pick = SplitMix64(seed, 0x5E1EC7)
        for k in 0..<(removeCount + changeCount) {
            order.swapAt(k, k + pick.below(count - k))
        }
        var fate = [Fate](repeating: .keep, count: count)
        for k in 0..<removeCount { fate[order[k]] = .remove }
        for k in removeCount..<(removeCount + changeCount) { fate[order[k]] = .change }

        // Topology for new clusters: the previous fleet's tenant and subscriptions.
        var subscriptions: [String] = []
        var seen: Set<String> = []
        var tenant: String?
        var highest = 0
        for cluster in clusters {
            let root = records[cluster.record].root
            if tenant == nil { tenant = root["tenantId"]?.string }
            if let sub = root["subscriptionId"]?.string ?? root["id"]?.string.flatMap(Self.subscription(ofID:)),
                seen.insert(ASCII.lowercased(sub)).inserted
            {
                subscriptions.append(sub)
            }
            if let name = root["name"]?.string, let index = ClusterIdentity.index(fromName: name) {
                highest = max(highest, index)
            }
        }
        let derived = FleetTopology(seed: seed, clusters: 1)
        let topology = FleetTopology(
            tenantId: tenant ?? derived.tenantId,
            subscriptions: subscriptions.isEmpty ? derived.subscriptions : subscriptions)

        // Lay out the output: copies, regenerated clusters, then the new clusters.
        let salt = SplitMix64.mix(seed ^ 0xC4A7_6E00) | 1
        var items: [Item] = []
        items.reserveCapacity(records.count + addCount)
        var removed: [String] = []
        var changed: [String] = []
        var added: [String] = []
        var recordTotal = 0
        for position in records.indices {
            let cluster = owner[position]
            guard cluster >= 0 else {
                items.append(.copy(position))
                recordTotal += 1
                continue
            }
            let isRow = clusters[cluster].record == position
            switch fate[cluster] {
            case .keep:
                items.append(.copy(position))
                recordTotal += 1
            case .remove:
                if isRow { removed.append(records[position].root["id"]?.string ?? "") }
            case .change:
                guard isRow else { continue }
                let row = records[position]
                let children = clusters[cluster].children.map { records[$0] }
                let identity = Self.identity(of: row, tenant: topology.tenantId)
                let current = Self.currentCase(of: row, kind: identity.kind, children: children)
                var rng = SplitMix64(seed, 0x7A45, UInt64(cluster))
                let next = Self.nextCase(after: current, kind: identity.kind, &rng)
                let plan = ClusterPlan(identity: identity, fleetCase: next, salt: salt)
                let keepRow = current.clusterState == next.clusterState
                items.append(.cluster(plan, row: keepRow ? position : nil))
                recordTotal += plan.recordCount
                changed.append(identity.id)
            }
        }
        for k in 0..<addCount {
            let index = highest + 1 + k
            var rng = SplitMix64(seed, 0xADD, UInt64(index))
            let (identity, fleetCase) = ClusterIdentity.draw(index: index, topology: topology, rng: &rng)
            let plan = ClusterPlan(identity: identity, fleetCase: fleetCase, salt: 0)
            items.append(.cluster(plan, row: nil))
            recordTotal += plan.recordCount
            added.append(identity.id)
        }
        self.items = items
        removedIDs = removed
        changedIDs = changed
        addedIDs = added
        summary = FleetChurnSummary(
            clusters: count, removed: removeCount, added: addCount, changed: changeCount, records: recordTotal)
    }

    /// Streams the next day's fleet to `sink` in chunks of about 1 MiB, in order.
    ///
    /// Unchanged records keep their exact text; changed clusters stay where they were; new
    /// clusters come last. Each chunk is valid only during the call.
    /// - Throws: Whatever `sink` throws.
    public func write(format: FleetFormat, to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var stream = RecordStream(format: format)
        stream.header(total: summary.records)
        for item in items {
            switch item {
            case .copy(let position):
                stream.record(text: records[position].root.rawText)
            case .cluster(let plan, let row):
                plan.write(into: &stream, rowText: row.map { records[$0].root.rawText })
            }
            try stream.flush(to: sink)
        }
        stream.footer()
        try stream.flush(to: sink, force: true)
    }

    /// The whole next-day fleet as bytes (for tests and small fleets).
    public func generate(format: FleetFormat) -> [UInt8] {
        var all: [UInt8] = []
        write(format: format) { chunk in all.append(contentsOf: chunk) }
        return all
    }

    // MARK: - Reading the previous fleet

    private enum Fate {
        case keep
        case remove
        case change
    }

    private struct ChurnCluster {
        var record: Int
        var children: [Int]
    }

    private static func isClusterType(_ type: JSONValue) -> Bool {
        type.stringEqualsIgnoringCase("microsoft.containerservice/managedclusters")
            || type.stringEqualsIgnoringCase("microsoft.kubernetes/connectedclusters")
    }

    /// The id before the last `/providers/` of an extension resource id (already lowercased).
    static func parentID(ofLowercased id: String) -> String? {
        let bytes = Array(id.utf8)
        let marker = Array("/providers/".utf8)
        var providers: [Int] = []
        var i = 0
        while i + marker.count <= bytes.count {
            if bytes[i] == marker[0] && Array(bytes[i..<(i + marker.count)]) == marker { providers.append(i) }
            i += 1
        }
        guard providers.count >= 2, let last = providers.last else { return nil }
        return String(decoding: bytes[..<last], as: UTF8.self)
    }

    /// The segment after `/subscriptions/` of an id.
    static func subscription(ofID id: String) -> String? {
        segment(after: "subscriptions", in: id)
    }

    private static func segment(after keyword: String, in id: String) -> String? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: true)
        for k in 0..<(parts.count - 1) where ASCII.equalsIgnoringCase(String(parts[k]), keyword) {
            return String(parts[k + 1])
        }
        return nil
    }

    /// The identity of a cluster row from a previous fleet.
    static func identity(of row: JSONDocument, tenant: String) -> ClusterIdentity {
        let root = row.root
        let id = root["id"]?.string ?? ""
        let connected = root["type"]?.stringEqualsIgnoringCase("microsoft.kubernetes/connectedclusters") ?? false
        let kind: ClusterKind
        if !connected {
            kind = .aks
        } else if root["kind"]?.stringEqualsIgnoringCase("ProvisionedCluster") ?? false {
            kind = .provisioned
        } else {
            kind = .arc
        }
        let tags = root["tags"]
        var armPool = false
        if let pools = root.value(atPath: "properties", "agentPoolProfiles") {
            for pool in pools.elements {
                if let size = pool.member(ignoringCase: "vmSize")?.string, isArmSize(size) { armPool = true }
            }
        }
        return ClusterIdentity(
            kind: kind, name: root["name"]?.string ?? String(id.split(separator: "/").last ?? ""), id: id,
            location: root["location"]?.string ?? "",
            resourceGroup: root["resourceGroup"]?.string ?? segment(after: "resourceGroups", in: id) ?? "",
            subscriptionId: root["subscriptionId"]?.string ?? subscription(ofID: id) ?? "",
            tenantId: root["tenantId"]?.string ?? tenant, env: tags?.member(ignoringCase: "env")?.string ?? "prod",
            armPool: armPool, tagsJSON: tags?.isObject == true ? tags?.rawText : nil,
            hash: stableHash(lowercasing: id))
    }

    /// Whether a VM size is an ARM64 one: `Standard_<family><cores><features with p>_v<n>`.
    static func isArmSize(_ size: String) -> Bool {
        var bytes = Array(size.utf8)[...]
        guard bytes.starts(with: "Standard_".utf8) else { return false }
        bytes = bytes.dropFirst(9)
        let family = bytes.prefix { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
        guard !family.isEmpty else { return false }
        bytes = bytes.dropFirst(family.count)
        let cores = bytes.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard !cores.isEmpty else { return false }
        bytes = bytes.dropFirst(cores.count)
        let features = bytes.prefix { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) }
        guard features.contains(UInt8(ascii: "p")) else { return false }
        bytes = bytes.dropFirst(features.count)
        guard bytes.starts(with: "_v".utf8) else { return false }
        let version = bytes.dropFirst(2)
        return !version.isEmpty && version.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// The case a cluster of a previous fleet is in, read from its row and children.
    static func currentCase(of row: JSONDocument, kind: ClusterKind, children: [JSONDocument]) -> FleetCase {
        let root = row.root
        let properties = root["properties"]
        if kind == .aks {
            let clientID = properties?.value(atPath: "servicePrincipalProfile", "clientId")
            if root["identity"]?.isNull ?? true || clientID.map({ !$0.stringEqualsIgnoringCase("msi") }) ?? false {
                return .servicePrincipal
            }
            if properties?.value(atPath: "powerState", "code")?.stringEqualsIgnoringCase("Stopped") ?? false {
                return .aksStopped
            }
        } else {
            let status = properties?.member(ignoringCase: "connectivityStatus")
            if status?.stringEqualsIgnoringCase("Expired") ?? false { return .arcExpired }
            if status?.stringEqualsIgnoringCase("Offline") ?? false { return .arcOffline }
        }
        var flux: JSONValue?
        var baseline: JSONValue?
        for child in children {
            let type = child.root["type"]
            let childProperties = child.root["properties"]
            if type?.stringEqualsIgnoringCase("microsoft.kubernetesconfiguration/sourcecontrolconfigurations") ?? false
            {
                return .fluxV1
            }
            if type?.stringEqualsIgnoringCase("microsoft.kubernetesconfiguration/extensions") ?? false,
                childProperties?.member(ignoringCase: "extensionType")?.stringEqualsIgnoringCase("microsoft.flux")
                    ?? false
            {
                flux = childProperties
            }
            if type?.stringEqualsIgnoringCase("microsoft.kubernetesconfiguration/fluxconfigurations") ?? false,
                child.root["name"]?.stringEqualsIgnoringCase("gitops-baseline") ?? false
            {
                baseline = childProperties
            }
        }
        guard let flux else { return .noExtension }
        if !(flux.member(ignoringCase: "provisioningState")?.stringEqualsIgnoringCase("Succeeded") ?? false) {
            return .extensionFailed
        }
        let version = (flux.member(ignoringCase: "installedVersion") ?? flux.member(ignoringCase: "currentVersion"))?
            .string
        if version?.hasPrefix("1.6.") ?? false || flux.member(ignoringCase: "autoUpgradeMinorVersion")?.bool == false {
            return .oldExtension
        }
        guard let baseline else { return .extensionOnly }
        if baseline["suspend"]?.bool ?? false { return .suspended }
        if !(baseline.value(atPath: "gitRepository", "repositoryRef", "branch")?.stringEquals("main") ?? false) {
            return .driftedBranch
        }
        if let kustomizations = baseline["kustomizations"] {
            let infra = kustomizations["infra"]?["path"]?.stringEquals("./infrastructure") ?? false
            let apps = kustomizations["apps"]?["path"]?.stringEquals("./apps") ?? false
            if kustomizations.count != 2 || !infra || !apps { return .driftedKustomization }
        }
        let compliance = baseline["complianceState"]
        if compliance?.stringEqualsIgnoringCase("Non-Compliant") ?? false { return .nonCompliant }
        if compliance?.stringEqualsIgnoringCase("Pending") ?? false { return .pending }
        return .onBaseline
    }

    /// The case a cluster in `current` moves to; never `current` itself.
    ///
    /// Drift, failures and outages appear on healthy clusters; problems elsewhere get fixed.
    static func nextCase(after current: FleetCase, kind: ClusterKind, _ rng: inout SplitMix64) -> FleetCase {
        switch current {
        case .onBaseline:
            let options: [(FleetCase, Int)] = [
                (.driftedBranch, 25), (.driftedKustomization, 25), (.suspended, 10), (.nonCompliant, 15),
                (.extensionFailed, 5), (kind == .aks ? .aksStopped : .arcOffline, 20),
            ]
            var roll = rng.below(100)
            for (next, weight) in options {
                if roll < weight { return next }
                roll -= weight
            }
            return .driftedBranch
        case .noExtension, .extensionFailed:
            return rng.chance(perMille: 700) ? .onBaseline : .extensionOnly
        case .servicePrincipal, .fluxV1, .arcExpired:
            // Moved to a managed identity / migrated off Flux v1 / re-onboarded: nothing installed yet.
            return .noExtension
        case .extensionOnly, .driftedBranch, .driftedKustomization, .suspended, .nonCompliant, .pending,
            .arcOffline, .aksStopped, .oldExtension:
            return .onBaseline
        }
    }
}

/// What a ``FleetChurn`` does to a fleet.
public struct FleetChurnSummary: Sendable, Equatable {
    /// Clusters in the previous fleet.
    public var clusters: Int
    /// Clusters removed with their children.
    public var removed: Int
    /// New clusters added.
    public var added: Int
    /// Clusters changed in place.
    public var changed: Int
    /// Records in the next fleet.
    public var records: Int

    /// Clusters copied unchanged.
    public var unchanged: Int { clusters - removed - changed }

    /// Clusters in the next fleet.
    public var nextClusters: Int { clusters - removed + added }
}
