import FleetCore

/// The emulator's whole state: a value, changed only by ``ARMEmulator/handle(_:in:)`` and by moving the
/// virtual clock (``advance(to:)``, ``advance(by:)``).
///
/// Clusters are read-only (they come from the inventory); their extensions, fluxConfigurations and
/// sourceControlConfigurations change through requests and through operations completing as the clock moves.
public struct EmulatorState: Sendable {
    /// How the emulator behaves; may be changed between requests (a change applies to later requests and
    /// operations).
    public var configuration: EmulatorConfiguration
    /// The virtual clock: milliseconds since 1970-01-01T00:00:00Z.
    public private(set) var now: Int64
    /// When the emulator started (fault storms are timed from here).
    public let startTime: Int64
    /// The clusters by id, ignoring case.
    public internal(set) var clusters: [ResourceIDKey: EmulatedCluster] = [:]
    /// The cluster ids, ordered ignoring case (lists, Resource Graph pages and snapshots follow this order).
    public internal(set) var clusterOrder: [ResourceIDKey] = []
    /// Every operation started, by lowercased operation id.
    public internal(set) var operations: [String: LongRunningOperation] = [:]
    /// The tenant of the inventory (the first `tenantId` found), for the token endpoint and Resource Graph rows.
    public internal(set) var tenantId: String?
    /// The secrets the Key Vault data plane serves (seed them before handing the state to a transport).
    public var keyVaults = EmulatedKeyVaults()
    /// The access tokens the token endpoints issued, by token.
    public internal(set) var issuedTokens: [String: IssuedToken] = [:]
    /// How many requests have been handled (each one's number seeds its fault decisions and ids).
    public internal(set) var requestCount: UInt64 = 0
    /// How many operations have been started.
    public internal(set) var operationCount: Int = 0
    /// Counts of what the emulator answered, for summaries and forecasts.
    public internal(set) var statistics = EmulatorStatistics()
    /// ARM's token buckets per subscription (lowercased subscription id).
    var buckets: [String: SubscriptionBuckets] = [:]
    /// Resource Graph's quota window: its start and the queries used in it.
    var graphWindow: (start: Int64, used: Int) = (0, 0)
    /// What is due when: operations ending and fluxConfigurations turning compliant.
    var events = EventQueue()

    /// Creates an empty state whose clock starts at `now`.
    public init(configuration: EmulatorConfiguration = EmulatorConfiguration(), now: Int64 = EmulatorClock.defaultStart)
    {
        self.configuration = configuration
        self.now = now
        self.startTime = now
    }

    /// Seeds the state from an inventory: every cluster with its facts (kind, identity, power state, Arc
    /// connectivity, provisioningState) and its extension and configuration records.
    ///
    /// Records are kept in ARM GET shape: Resource Graph's extra columns are dropped, types get ARM's casing
    /// and extension properties Resource Graph writes in PascalCase are camel-cased (`InstalledVersion`
    /// becomes `currentVersion`).
    public init(
        inventory fleet: Fleet, configuration: EmulatorConfiguration = EmulatorConfiguration(),
        now: Int64 = EmulatorClock.defaultStart
    ) {
        self.init(configuration: configuration, now: now)
        for cluster in fleet.clusters {
            var body = cluster.resource.materialize()
            let tenant = body.member(ignoringCase: "tenantId")?.string
            if tenantId == nil, let tenant, !tenant.isEmpty { tenantId = tenant }
            body.set("type", .string(cluster.kind.resourceType))
            Self.dropResourceGraphColumns(&body)
            var emulated = EmulatedCluster(
                id: cluster.id.description, kind: cluster.kind, body: body, tenantId: tenant,
                usesManagedIdentity: cluster.usesManagedIdentity, powerState: cluster.powerState,
                connectivityStatus: cluster.connectivityStatus)
            var records: [(ChildType, JSON)] = []
            if let flux = cluster.fluxExtension { records.append((.extensions, flux.resource.materialize())) }
            for other in cluster.otherExtensionResources { records.append((.extensions, other.materialize())) }
            for config in cluster.fluxConfigurations {
                records.append((.fluxConfigurations, config.resource.materialize()))
            }
            for v1 in cluster.fluxV1Configurations {
                records.append((.sourceControlConfigurations, v1.resource.materialize()))
            }
            for (type, record) in records {
                guard let id = record.member(ignoringCase: "id")?.string else { continue }
                var body = record
                body.set("type", .string(type.armType))
                Self.dropResourceGraphColumns(&body)
                if type == .extensions { Self.camelCaseExtension(&body) }
                let resource = EmulatedResource(id: id, type: type, body: body)
                emulated.children[type, default: [:]][ASCII.lowercased(resource.name)] = resource
            }
            clusters[cluster.id.key] = emulated
        }
        clusterOrder = clusters.keys.sorted()
    }

    /// Resource Graph's columns that an ARM GET does not return, or returns only when set.
    private static func dropResourceGraphColumns(_ body: inout JSON) {
        for key in ["tenantId", "resourceGroup", "subscriptionId"] { body.remove(key) }
        for key in ["managedBy", "kind", "location", "sku", "plan", "tags", "zones", "extendedLocation", "identity"] {
            if let value = body.member(ignoringCase: key), value.isNull || value == .string("") { body.remove(key) }
        }
    }

    /// Camel-cases the property names of an extension record read from Resource Graph.
    private static func camelCaseExtension(_ body: inout JSON) {
        guard var properties = body.member(ignoringCase: "properties"), properties.isObject else { return }
        properties = camelCased(properties, keepKeys: false)
        if properties.member(ignoringCase: "currentVersion") == nil,
            let installed = properties.member(ignoringCase: "installedVersion")
        {
            properties.set("currentVersion", installed)
        }
        properties.remove("installedVersion")
        properties.remove("installState")
        body.set("properties", properties)
    }

    private static func camelCased(_ value: JSON, keepKeys: Bool) -> JSON {
        switch value {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, member) in members {
                let settings = ["configurationsettings", "configurationprotectedsettings"].contains(
                    ASCII.lowercased(key))
                let name = keepKeys || key.isEmpty ? key : key.prefix(1).lowercased() + key.dropFirst()
                out[name] = camelCased(member, keepKeys: settings)
            }
            return .object(out)
        case .array(let items): return .array(items.map { camelCased($0, keepKeys: false) })
        default: return value
        }
    }

    // MARK: - Lookup

    /// The cluster with an id, ignoring case.
    public func cluster(_ id: String) -> EmulatedCluster? { clusters[ResourceIDKey(id)] }

    /// A child resource (extension, fluxConfiguration or sourceControlConfiguration) by its full id, ignoring case.
    public func resource(_ id: String) -> EmulatedResource? {
        guard let parsed = try? ResourceID(parsing: id), parsed.isExtensionResource, let parent = parsed.parentKey,
            ASCII.equalsIgnoringCase(parsed.providerNamespace, "Microsoft.KubernetesConfiguration"),
            let type = ChildType(segment: String(parsed.resourceType.split(separator: "/").last ?? ""))
        else { return nil }
        return clusters[parent]?.child(type, parsed.name)
    }

    /// The operation with an id, ignoring case.
    public func operation(_ id: String) -> LongRunningOperation? { operations[ASCII.lowercased(id)] }

    // MARK: - Clock

    /// Moves the clock to `time` (never backwards) and applies everything due by then, in time order:
    /// operations end and Pending fluxConfigurations turn compliant.
    public mutating func advance(to time: Int64) {
        now = max(now, time)
        settle()
    }

    /// Moves the clock forward by `milliseconds` and applies everything due.
    public mutating func advance(by milliseconds: Int64) {
        advance(to: now + max(0, milliseconds))
    }

    /// Applies everything due at or before `now`, in time order (ties in the order they were scheduled):
    /// operations end, and fluxConfigurations their operations left Pending turn compliant.
    mutating func settle() {
        while let event = events.popDue(now) {
            switch event.kind {
            case .operation(let id):
                guard let operation = operations[id], operation.status == .inProgress, operation.dueAt == event.time
                else { continue }
                complete(operation)
            case .compliance(let key):
                // Skipped when the configuration changed or went away since it was scheduled.
                guard clusters[key.cluster]?.children[.fluxConfigurations]?[key.name]?.complianceDueAt == event.time
                else { continue }
                becomeCompliant(key, at: event.time)
            }
        }
    }

    /// Ends an operation at its due time.
    private mutating func complete(_ operation: LongRunningOperation) {
        guard let at = operation.dueAt else { return }
        var operation = operation
        operation.endTime = at
        let clusterKey = ResourceIDKey(operation.clusterID)
        let name = ASCII.lowercased(String(operation.resourceID.split(separator: "/").last ?? ""))
        guard var resource = clusters[clusterKey]?.children[operation.type]?[name],
            resource.operationID.map({ ASCII.equalsIgnoringCase($0, operation.id) }) == true
        else {
            operation.status = .canceled
            operations[ASCII.lowercased(operation.id)] = operation
            return
        }
        resource.operationID = nil
        if operation.willFail {
            operation.status = .failed
            let message: String
            switch operation.type {
            case .extensions:
                message =
                    "The extension operation failed: the Helm release of '\(resource.name)' did not become ready in time (injected fault)"
            case .fluxConfigurations, .sourceControlConfigurations:
                message =
                    "The configuration operation failed: the cluster agent reported an error applying '\(resource.name)' (injected fault)"
            }
            operation.error = (
                operation.type == .extensions ? "ExtensionOperationFailed" : "ConfigurationOperationFailed", message
            )
            if operation.action == .delete {
                resource.body.set(path: "provisioningState", .string("Failed"))
            } else {
                markFailed(&resource, message: message, at: at)
            }
            clusters[clusterKey]?.children[operation.type]?[name] = resource
        } else {
            operation.status = .succeeded
            if operation.action == .delete {
                clusters[clusterKey]?.children[operation.type]?[name] = nil
            } else {
                markSucceeded(&resource, operation, at: at)
                clusters[clusterKey]?.children[operation.type]?[name] = resource
                if let due = resource.complianceDueAt {
                    events.push(due, .compliance(ChildKey(cluster: clusterKey, name: name)))
                }
            }
        }
        operations[ASCII.lowercased(operation.id)] = operation
    }

    private func markSucceeded(_ resource: inout EmulatedResource, _ operation: LongRunningOperation, at time: Int64) {
        resource.body.set(path: "provisioningState", .string("Succeeded"))
        resource.body.setSystemDataModified(at: time)
        switch resource.type {
        case .extensions:
            let pinned = resource.body.value(atPath: "properties", "version")?.string
            resource.body.set(path: "currentVersion", .string(pinned ?? operation.installVersion))
            resource.body.set(path: "statuses", .array([]))
            resource.body.set(path: "errorInfo", .null)
        case .fluxConfigurations:
            resource.complianceDueAt = time + operation.complianceDelay
            resource.body.set(path: "errorMessage", .string(""))
        case .sourceControlConfigurations:
            break
        }
    }

    private func markFailed(_ resource: inout EmulatedResource, message: String, at time: Int64) {
        resource.body.set(path: "provisioningState", .string("Failed"))
        switch resource.type {
        case .extensions:
            resource.body.set(
                path: "errorInfo", .object(["code": .string("ExtensionOperationFailed"), "message": .string(message)]))
            resource.body.set(
                path: "statuses",
                .array([
                    .object([
                        "code": .string("InstallationFailed"), "displayStatus": .string("Failed"),
                        "level": .string("Error"), "message": .string(message),
                        "time": .string(EmulatorClock.iso8601(time)),
                    ])
                ]))
        case .fluxConfigurations:
            resource.body.set(path: "errorMessage", .string(message))
            resource.body.set(path: "complianceState", .string("Unknown"))
            resource.complianceDueAt = nil
        case .sourceControlConfigurations:
            break
        }
    }

    /// A Pending fluxConfiguration's agent reports: Compliant (or Suspended), with the source and
    /// kustomization statuses Flux shows when healthy.
    private mutating func becomeCompliant(_ key: ChildKey, at time: Int64) {
        guard var resource = clusters[key.cluster]?.children[.fluxConfigurations]?[key.name] else { return }
        resource.complianceDueAt = nil
        let properties = resource.body.member(ignoringCase: "properties") ?? .object([:])
        let suspended = properties.member(ignoringCase: "suspend")?.boolValue ?? false
        let state = suspended ? "Suspended" : "Compliant"
        let stamp = EmulatorClock.iso8601(time)
        let sourceKind = properties.member(ignoringCase: "sourceKind")?.string ?? "GitRepository"
        let sourceKey =
            ["bucket": "bucket", "azureblob": "azureBlob", "ocirepository": "ociRepository"][
                ASCII.lowercased(sourceKind)] ?? "gitRepository"
        let source = properties.member(ignoringCase: sourceKey) ?? .object([:])
        let url = source.member(ignoringCase: "url")?.string ?? ""
        let ref = source.member(ignoringCase: "repositoryRef")
        let refName =
            ["branch", "tag", "semver", "commit"].lazy.compactMap { ref?.member(ignoringCase: $0)?.string }.first
            ?? "main"
        let commit = Mix.commitID(of: url + "#" + refName)
        let revision =
            sourceKind == "GitRepository" ? "\(refName)@sha1:\(commit)" : "sha256:\(commit)\(commit.prefix(24))"
        let namespace = properties.member(ignoringCase: "namespace")?.string ?? "default"
        func status(_ name: String, _ kind: String, _ reason: String, _ message: String) -> JSON {
            .object([
                "name": .string(name), "namespace": .string(namespace), "kind": .string(kind),
                "complianceState": .string(state), "appliedBy": .null, "helmReleaseProperties": .null,
                "statusConditions": .array([
                    .object([
                        "type": .string("Ready"), "status": .string("True"), "reason": .string(reason),
                        "message": .string(message), "lastTransitionTime": .string(stamp),
                    ])
                ]),
            ])
        }
        var statuses = [status(resource.name, sourceKind, "Succeeded", "stored artifact for revision '\(revision)'")]
        let kustomizations = properties.member(ignoringCase: "kustomizations")?.objectMembers ?? [:]
        for name in kustomizations.keys.sorted() {
            statuses.append(
                status(
                    "\(resource.name)-\(name)", "Kustomization", "ReconciliationSucceeded",
                    "Applied revision: \(revision)"))
        }
        resource.body.set(path: "complianceState", .string(state))
        resource.body.set(path: "statuses", .array(statuses))
        resource.body.set(path: "sourceSyncedCommitId", .string(revision))
        resource.body.set(path: "sourceUpdatedAt", .string(stamp))
        resource.body.set(path: "statusUpdatedAt", .string(stamp))
        resource.body.set(path: "errorMessage", .string(""))
        clusters[key.cluster]?.children[.fluxConfigurations]?[key.name] = resource
    }
}

/// Counts of what the emulator answered.
public struct EmulatorStatistics: Sendable, Hashable {
    /// Write requests (PUT, PATCH, POST) that got past throttling, by lowercased subscription id.
    public var writesAccepted: [String: Int] = [:]
    /// DELETE requests that got past throttling, by lowercased subscription id.
    public var deletesAccepted: [String: Int] = [:]
    /// Read requests that got past throttling, by lowercased subscription id.
    public var readsAccepted: [String: Int] = [:]
    /// Requests answered 429 because the subscription's bucket was empty.
    public var throttled: Int = 0
    /// Requests answered 500, 503 or 429 by an injected fault.
    public var injectedErrors: Int = 0
    /// Requests whose connection was dropped.
    public var droppedConnections: Int = 0

    /// No requests yet.
    public init() {}
}

/// A fluxConfiguration's place: its cluster's key and its lowercased name.
struct ChildKey: Hashable, Sendable {
    var cluster: ResourceIDKey
    var name: String
}

/// A min-heap of timed events, ordered by time, then by when they were scheduled.
struct EventQueue: Sendable {
    enum Kind: Sendable, Hashable {
        /// An operation (lowercased id) reaches its due time.
        case operation(String)
        /// A fluxConfiguration's agent reports compliance.
        case compliance(ChildKey)
    }

    struct Event: Sendable, Hashable {
        var time: Int64
        var order: UInt64
        var kind: Kind

        func precedes(_ other: Event) -> Bool { (time, order) < (other.time, other.order) }
    }

    private var heap: [Event] = []
    private var scheduled: UInt64 = 0

    /// Schedules an event.
    mutating func push(_ time: Int64, _ kind: Kind) {
        scheduled += 1
        heap.append(Event(time: time, order: scheduled, kind: kind))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest event if it is due by `now`.
    mutating func popDue(_ now: Int64) -> Event? {
        guard let first = heap.first, first.time <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count && heap[left].precedes(heap[smallest]) { smallest = left }
                if right < heap.count && heap[right].precedes(heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    /// How many events are scheduled.
    var count: Int { heap.count }
}

/// The three ARM token buckets of one subscription (writes, deletes, reads), in thousandths of a token.
struct SubscriptionBuckets: Sendable, Hashable {
    var writes: TokenBucket
    var deletes: TokenBucket
    var reads: TokenBucket
}

/// A token bucket on the virtual clock, in thousandths of a token.
struct TokenBucket: Sendable, Hashable {
    var milliTokens: Int64
    var updatedAt: Int64

    /// A full bucket.
    init(burst: Int, at time: Int64) {
        milliTokens = Int64(burst) * 1000
        updatedAt = time
    }

    /// Refills for the time passed since the last update (`refill` tokens per second = per 1000 ms).
    mutating func refill(to time: Int64, burst: Int, refillPerSecond: Int) {
        guard time > updatedAt else { return }
        milliTokens = min(Int64(burst) * 1000, milliTokens + (time - updatedAt) * Int64(refillPerSecond))
        updatedAt = time
    }

    /// Takes one token if there is one.
    mutating func take() -> Bool {
        guard milliTokens >= 1000 else { return false }
        milliTokens -= 1000
        return true
    }

    /// Whole tokens left.
    var remaining: Int { Int(milliTokens / 1000) }

    /// Seconds until one token is back (at least 1).
    func secondsUntilToken(refillPerSecond: Int) -> Int {
        let missing = 1000 - milliTokens
        guard missing > 0, refillPerSecond > 0 else { return 1 }
        let milliseconds = (missing + Int64(refillPerSecond) - 1) / Int64(refillPerSecond)
        return max(1, Int((milliseconds + 999) / 1000))
    }
}

extension JSON {
    /// Sets a member of `properties`, creating `properties` when missing.
    mutating func set(path property: String, _ value: JSON) {
        var properties = member(ignoringCase: "properties") ?? .object([:])
        if !properties.isObject { properties = .object([:]) }
        properties.set(property, value)
        set("properties", properties)
    }

    /// Stamps `systemData.lastModifiedAt` (and `lastModifiedBy`).
    mutating func setSystemDataModified(at time: Int64) {
        guard var systemData = member(ignoringCase: "systemData"), systemData.isObject else { return }
        systemData.set("lastModifiedAt", .string(EmulatorClock.iso8601(time)))
        set("systemData", systemData)
    }
}
