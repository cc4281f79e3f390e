import Dispatch
import FleetCore
import Foundation

/// Options of a scan.
public struct ScanOptions: Sendable {
    /// The evaluation time (ISO 8601 UTC): exemption expiry, `utcNow()` and staleness use it.
    public var now: String {
        didSet { parsedNow = ExpressionDateTime(parsing: now) }
    }
    /// How old a fluxConfiguration's `statusUpdatedAt` may be before the strict view calls it stale.
    public var staleAfterSeconds: Int
    /// How many cores to use.
    public var parallelism: Int
    /// Collect every evaluated leaf for every result (`policy explain`), not just the failing ones.
    public var explain: Bool
    /// Share DeployIfNotExists evaluations between clusters that differ only in names (see ``DeploymentMemo``);
    /// off only in tests that compare both ways.
    var memoizesDeployments = true
    /// Share condition results (and drift comparisons) between resources that read the same values (see
    /// ``ConditionMemo`` and ``DriftMemo``); off only in tests that compare both ways.
    var memoizesConditions = true
    /// ``now`` parsed once (nil when it does not parse: every status is then stale).
    private(set) var parsedNow: ExpressionDateTime?

    /// Creates options.
    public init(
        now: String, staleAfterSeconds: Int = 3600, parallelism: Int = JSONRecords.availableCores,
        explain: Bool = false
    ) {
        self.now = now
        self.parsedNow = ExpressionDateTime(parsing: now)
        self.staleAfterSeconds = staleAfterSeconds
        self.parallelism = parallelism
        self.explain = explain
    }
}

/// One assigned policy, compiled once: an assignment × a definition (× an initiative reference).
///
/// A class so that evaluating it for a resource never copies its many members; it is only changed while
/// the scan compiles it, before any cluster is evaluated (hence `@unchecked Sendable`).
final class AssignedPolicy: @unchecked Sendable {
    var assignment: PolicyAssignment
    var definition: PolicyDefinition
    var referenceId: String?
    var parameters: [String: JSON]
    /// ``parameters`` keyed by lowercased name, made once.
    var loweredParameters: [String: JSON] = [:]
    let effect: String
    /// Whether ``effect`` is AuditIfNotExists or DeployIfNotExists, DeployIfNotExists, Manual, Disabled: decided
    /// once, not by comparing strings for every resource.
    let checksExistence: Bool
    let deploys: Bool
    let isManual: Bool
    let isDisabled: Bool
    var condition: Condition
    /// Resource types the rule's `if` names (lowercased); nil when it names none.
    var types: Set<String>?
    var relatedType: String? {
        didSet { relatedTypeKey = relatedType.map { PolicyEvaluator.Candidate.canonical(ASCII.lowercased($0)) } ?? "" }
    }
    /// ``relatedType`` lowercased.
    var relatedTypeKey = ""
    var relatedName: JSON?
    /// ``relatedName`` evaluated once, when it does not read the resource.
    var constantRelatedName: String?
    var existenceCondition: Condition?
    var deployment: JSON?
    var manualDefaultState: ComplianceState
    /// Effect overrides that depend on the resource's location, applied in order per resource.
    var locationOverrides: [PolicyOverride] = []
    /// The position in the compiled list (the deployment memo's key).
    var index = 0
    /// ``types`` as a list: candidates are matched by comparing a few strings, not by hashing.
    let typeList: [String]?
    /// Whether selectors or overrides read the resource's location.
    let readsLocation: Bool
    /// The assignment's scope and notScopes, and whether the scope is a management group (kept apart so that
    /// checking a cluster does not copy the assignment).
    private let scope: String
    private let notScopes: [String]
    private let scopeIsManagementGroup: Bool

    /// Whether the assignment's scope covers `id` (``PolicyEvaluator/inScope(_:_:)``).
    func covers(_ id: ResourceID) -> Bool {
        (scopeIsManagementGroup || id.hasPrefix(scope: scope)) && !notScopes.contains { id.hasPrefix(scope: $0) }
    }

    init(
        assignment: PolicyAssignment, definition: PolicyDefinition, referenceId: String?, parameters: [String: JSON],
        effect: String, condition: Condition, types: Set<String>?, relatedType: String?, relatedName: JSON?,
        existenceCondition: Condition?, deployment: JSON?, manualDefaultState: ComplianceState,
        locationOverrides: [PolicyOverride]
    ) {
        self.assignment = assignment
        self.definition = definition
        self.referenceId = referenceId
        self.parameters = parameters
        self.loweredParameters = PolicyExpressionContext.lowered(parameters)
        self.effect = effect
        self.checksExistence = effect == "AuditIfNotExists" || effect == "DeployIfNotExists"
        self.deploys = effect == "DeployIfNotExists"
        self.isManual = effect == "Manual"
        self.isDisabled = effect == "Disabled"
        self.condition = condition
        self.types = types
        self.relatedType = relatedType
        self.relatedTypeKey = relatedType.map { PolicyEvaluator.Candidate.canonical(ASCII.lowercased($0)) } ?? ""
        self.relatedName = relatedName
        if let relatedName, !DeploymentMemo.readsResource(relatedName) {
            let context = PolicyExpressionContext(parameters: parameters, now: "", resource: nil)
            constantRelatedName = (try? evaluateTemplate(relatedName, context: context))??.string
        }
        self.existenceCondition = existenceCondition
        self.deployment = deployment
        self.manualDefaultState = manualDefaultState
        self.locationOverrides = locationOverrides
        self.typeList = types.map { $0.map(PolicyEvaluator.Candidate.canonical) }
        self.readsLocation = !assignment.resourceSelectors.isEmpty || !locationOverrides.isEmpty
        self.scope = assignment.scope
        self.notScopes = assignment.notScopes
        self.scopeIsManagementGroup = PolicyEvaluator.isManagementGroup(assignment.scope)
    }

    /// The same policy with another effect (a location override); keeps the index.
    func with(effect: String) -> AssignedPolicy {
        let copy = AssignedPolicy(
            assignment: assignment, definition: definition, referenceId: referenceId, parameters: parameters,
            effect: effect, condition: condition, types: types, relatedType: relatedType, relatedName: relatedName,
            existenceCondition: existenceCondition, deployment: deployment, manualDefaultState: manualDefaultState,
            locationOverrides: locationOverrides)
        copy.index = index
        return copy
    }
}

/// What one worker thread remembers across the clusters it evaluates (never used by two threads at once).
final class ScanMemo {
    /// DeployIfNotExists templates by cluster shape.
    let deployments = DeploymentMemo()
    /// Condition results by the values they read.
    let conditions: ConditionMemo
    /// This memo's copies of what every result and expression context of a policy takes, by policy index.
    let copies: UnsafeMutablePointer<PolicyCopies>
    private let policyCount: Int
    /// ``ScanOptions/now``, copied.
    let now: String
    /// The candidate types and their lowercased keys, copied.
    let extensionType: String, extensionKey: String
    let configurationType: String, configurationKey: String
    let fluxV1Type: String, fluxV1Key: String
    /// The cluster types and their lowercased keys by kind, copied.
    private let clusterTypes: [(kind: ClusterKind, type: String, key: String)]

    /// A memo for evaluating `policies` at `now`.
    init(policies: [AssignedPolicy], now: String) {
        typealias C = PolicyEvaluator.Candidate
        let keys = C.knownKeys.map(ScanMemo.own)
        // Equal keys of one thread share storage, so that they compare without reading their bytes.
        let canonical = { (key: String) in keys.first { $0 == key } ?? key }
        conditions = ConditionMemo(policies: policies, canonical: canonical)
        policyCount = policies.count
        copies = .allocate(capacity: max(policies.count, 1))
        for (index, policy) in policies.enumerated() {
            (copies + index).initialize(to: PolicyCopies(policy, canonical: canonical))
        }
        self.now = ScanMemo.own(now)
        (extensionType, extensionKey) = (ScanMemo.own(C.extensionType), canonical(C.extensionKey))
        (configurationType, configurationKey) = (ScanMemo.own(C.configurationType), canonical(C.configurationKey))
        (fluxV1Type, fluxV1Key) = (ScanMemo.own(C.fluxV1Type), canonical(C.fluxV1Key))
        clusterTypes = ClusterKind.allCases.map { ($0, ScanMemo.own($0.resourceType), canonical(C.clusterKeys[$0]!)) }
    }

    deinit {
        copies.deinitialize(count: policyCount)
        copies.deallocate()
    }

    /// ``noMatchReason(_:checked:)`` made so far, by policy index and count (a handful of counts per policy).
    private var noMatch: [[PolicyReason?]] = []

    /// The reason of an existence check that found no match among `checked` related resources, made once per
    /// policy and count.
    func noMatchReason(_ policy: AssignedPolicy, checked: Int) -> PolicyReason {
        if policy.index < noMatch.count, checked < noMatch[policy.index].count,
            let known = noMatch[policy.index][checked]
        {
            return known
        }
        let typeName = policy.relatedType ?? "related resource"
        let reason = PolicyReason(
            expression: "details.type '\(typeName)'", path: "", actual: .int(checked), target: nil,
            operator: "existenceCondition",
            message:
                "No related resources match the effect details (\(checked) \(PolicyEvaluator.lastSegment(typeName)) checked)."
        )
        guard checked < 64 else { return reason }
        while noMatch.count <= policy.index { noMatch.append([]) }
        while noMatch[policy.index].count <= checked { noMatch[policy.index].append(nil) }
        noMatch[policy.index][checked] = reason
        return reason
    }

    /// The type and lowercased type key of a cluster of `kind`, copied.
    func clusterType(_ kind: ClusterKind) -> (type: String, key: String) {
        // A search of two or three kinds, cheaper than hashing one.
        let found = clusterTypes.first { $0.kind == kind }!
        return (found.type, found.key)
    }

    /// `text` in storage of its own (short strings are stored inline anyway).
    ///
    /// Every retain and release of a string that both threads hold moves its reference count between the cores'
    /// caches; results and contexts take these strings for every resource, so each thread takes its own.
    static func own(_ text: String) -> String {
        var text = text
        return text.withUTF8 { String(decoding: $0, as: UTF8.self) }
    }
}

/// What every result, strict entry and expression context of one policy takes, copied for one thread (see
/// ``ScanMemo/own(_:)``).
struct PolicyCopies {
    let assignmentId: String
    let definitionId: String
    let referenceId: String?
    let effect: String
    let parameters: [String: JSON]
    let lowered: [String: JSON]
    /// ``AssignedPolicy/typeList`` and ``AssignedPolicy/relatedTypeKey`` as the thread's own keys.
    let typeList: [String]?
    let relatedTypeKey: String

    /// Copies of `policy`'s strings; `canonical` gives the thread's own instance of a type key.
    init(_ policy: AssignedPolicy, canonical: (String) -> String) {
        typeList = policy.typeList.map { $0.map(canonical) }
        relatedTypeKey = canonical(policy.relatedTypeKey)
        assignmentId = ScanMemo.own(policy.assignment.id)
        definitionId = ScanMemo.own(policy.definition.id)
        referenceId = policy.referenceId.map(ScanMemo.own)
        effect = ScanMemo.own(policy.effect)
        parameters = Self.own(policy.parameters)
        lowered = Self.own(policy.loweredParameters)
    }

    /// A dictionary of storage of its own, with keys of their own.
    private static func own(_ dictionary: [String: JSON]) -> [String: JSON] {
        var copy = [String: JSON](minimumCapacity: dictionary.count)
        for (key, value) in dictionary { copy[ScanMemo.own(key)] = value }
        return copy
    }
}

/// Memos not in use, handed to the next part of the fleet that starts.
final class MemoPool: @unchecked Sendable {
    // @unchecked: `free` is only touched under `lock`; a memo taken out is used by one thread until given back.
    private let lock = NSLock()
    private var free: [ScanMemo] = []
    private let policies: [AssignedPolicy]
    private let now: String

    /// A pool of memos for evaluating `policies` at `now`.
    init(policies: [AssignedPolicy], now: String) {
        self.policies = policies
        self.now = now
    }

    /// A memo for one part: a used one when there is one (it already knows the fleet's shapes).
    func take() -> ScanMemo {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? ScanMemo(policies: policies, now: now)
    }

    /// Returns a memo when its part is done.
    func give(_ memo: ScanMemo) {
        lock.lock()
        free.append(memo)
        lock.unlock()
    }
}

/// One part's results, appended in place and handed to ``PartMerge`` whole.
///
/// A Swift array cannot give its elements away: the merge would have to copy them (a retain and a release
/// per string) or leave a value behind in every slot. This buffer is reserved for the part's likely size up
/// front (untouched capacity costs no memory), grows by moving, and gives its memory away with ``take()``.
struct PartBuffer<T>: ~Copyable {
    private var base: UnsafeMutablePointer<T>
    /// How many elements are initialised.
    private(set) var count = 0
    private var capacity: Int

    /// An empty buffer with room for `capacity` elements.
    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
        HugePages.advise(base, count: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    /// Moves `element` to the end.
    mutating func append(_ element: consuming T) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    /// The element at `index` (below ``count``), changed in place.
    subscript(index: Int) -> T {
        unsafeAddress { UnsafePointer(base + index) }
        unsafeMutableAddress { base + index }
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<T>.allocate(capacity: capacity * 2)
        HugePages.advise(bigger, count: capacity * 2)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    /// Gives the memory and its elements away: ``PartMerge/merge(_:)`` moves them out and frees it.
    consuming func take() -> PartMerge.Part<T> {
        let part = PartMerge.Part(base: base, count: count)
        discard self
        return part
    }
}

/// Asks the kernel to back large result buffers with 2 MiB pages.
///
/// A scan of 100,000 clusters writes about 100 MB of results twice (the parts, then the joined array) into
/// fresh memory: with 4 KiB pages that is tens of thousands of page faults. Transparent huge pages (Linux,
/// `madvise` mode) back only the whole 2 MiB pages inside the advised memory, so the joined array gains and
/// most parts (a few MiB each, placed by `malloc`) do not: their writes still fault in about 23,000 small
/// pages at 100,000 clusters. Mapping parts aligned to 2 MiB removed those faults but cost more system time
/// than it saved (huge pages are zeroed and compacted on first touch; measured, see the README). Elsewhere, or
/// when the kernel declines, this does nothing.
enum HugePages {
    /// The size below which advice is not worth a system call.
    static let threshold = 4 << 20

    /// Advises huge pages for the whole pages inside the memory of `count` elements at `base`.
    static func advise<T>(_ base: UnsafeMutablePointer<T>, count: Int) {
        #if os(Linux)
            let bytes = count * MemoryLayout<T>.stride
            guard bytes >= threshold else { return }
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = (Int(bitPattern: base) + page - 1) / page * page
            let end = (Int(bitPattern: base) + bytes) / page * page
            guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
            _ = madvise(pointer, end - start, MADV_HUGEPAGE)
        #endif
    }
}

/// Joins the parts workers produced into one array, moving elements (no reference counting) on every core.
enum PartMerge {
    /// A part's elements, owned by whoever holds this until ``merge(_:)`` frees them.
    struct Part<T>: @unchecked Sendable {
        // @unchecked: a part is handed from the worker that filled it to the merge, never shared.
        let base: UnsafeMutablePointer<T>
        let count: Int
    }

    /// A buffer the workers write disjoint ranges of.
    struct Target<T>: @unchecked Sendable {
        // @unchecked: each worker initialises its own range only.
        let buffer: UnsafeMutablePointer<T>
    }

    /// An array of the parts' elements in part order; every part's memory is freed.
    static func merge<T>(_ parts: [Part<T>]) -> [T] {
        var offsets = [0]
        for part in parts { offsets.append(offsets[offsets.count - 1] + part.count) }
        let total = offsets[parts.count]
        let starts = offsets
        return [T](unsafeUninitializedCapacity: total) { buffer, initialized in
            if let address = buffer.baseAddress {
                HugePages.advise(address, count: total)
                let target = Target(buffer: address)
                DispatchQueue.concurrentPerform(iterations: parts.count) { k in
                    (target.buffer + starts[k]).moveInitialize(from: parts[k].base, count: parts[k].count)
                    parts[k].base.deallocate()
                }
            } else {
                for part in parts { part.base.deallocate() }
            }
            initialized = total
        }
    }
}

/// Evaluates a policy bundle over a fleet: Azure's view (results) and FluxFleet's strict view.
///
/// Pure: the fleet, the bundle and the options in; a ``ScanResult`` out. Clusters are evaluated in
/// parallel; results come back in fleet order.
public enum PolicyEvaluator {
    /// Runs every assignment of `bundle` over every cluster of `fleet`.
    public static func scan(fleet: Fleet, bundle: PolicyBundle, options: ScanOptions) -> ScanResult {
        var diagnostics: [PolicyDiagnostic] = []
        var compiled: [AssignedPolicy] = []
        var broken: [(PolicyAssignment, String?, String, String)] = []  // assignment, reference, definition id, error
        for assignment in bundle.assignments {
            if isManagementGroup(assignment.scope) {
                diagnostics.append(
                    PolicyDiagnostic(
                        .warning, assignment.source,
                        "assignment \(assignment.id) is scoped to management group \(assignment.scope); the inventory does not say which subscriptions sit under it, so every cluster in the inventory is treated as in scope",
                        suggestion:
                            "read the inventory of that management group only (or use notScopes to exclude subscriptions)"
                    ))
            }
            for target in targets(of: assignment, in: bundle, diagnostics: &diagnostics) {
                do throws(PolicyCompileError) {
                    compiled.append(
                        try compile(
                            assignment: assignment, definition: target.definition, reference: target.reference,
                            initiative: target.initiative, now: options.now))
                } catch {
                    diagnostics.append(PolicyDiagnostic(.error, error.source, error.message))
                    broken.append((assignment, target.reference?.referenceId, target.definition.id, error.message))
                }
            }
        }
        let active = bundle.exemptions.filter { exemption in
            guard let expires = exemption.expiresOn else { return true }
            return ISOTime.compare(expires, options.now).map { $0 > 0 } ?? true
        }
        let clusters = fleet.clusters
        // Sixteen parts per core: when one core is held up (a shared VM), the other takes over all but the last
        // small part, so the cores finish within about 1/32 of the scan of each other.
        let parts = clusters.count < 256 ? 1 : max(1, options.parallelism) * 16
        let slots = ResultSlots<(PartMerge.Part<PolicyResult>, PartMerge.Part<StrictResult>)>(count: parts)
        for i in compiled.indices { compiled[i].index = i }
        let policies = compiled
        let failures = broken
        // Room for one result per policy and two strict entries per deploying policy for every cluster of a
        // part: reserved, not touched, so a part never copies its results to grow.
        let resultsPerCluster = policies.count + failures.count
        let strictPerCluster = 2 * policies.count { $0.deploys }
        // Parts balance the load; memos are handed from part to part (one per thread at a time), so that
        // each is learned once per thread rather than once per part.
        let pool = MemoPool(policies: policies, now: options.now)
        let work: @Sendable (Int) -> Void = { k in
            let range = (clusters.count * k / parts)..<(clusters.count * (k + 1) / parts)
            var results = PartBuffer<PolicyResult>(capacity: range.count * resultsPerCluster)
            var strict = PartBuffer<StrictResult>(capacity: range.count * strictPerCluster)
            let memo = pool.take()
            clusters.withUnsafeBufferPointer { clusters in
                for index in range {
                    evaluate(
                        clusters[index], policies: policies, broken: failures, exemptions: active, options: options,
                        memo: memo, results: &results, strict: &strict)
                }
            }
            pool.give(memo)
            slots.set(k, (results.take(), strict.take()))
        }
        if parts == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: work)
        }
        let taken = (0..<parts).map { slots.get($0)! }
        return ScanResult(
            results: PartMerge.merge(taken.map(\.0)), strict: PartMerge.merge(taken.map(\.1)), diagnostics: diagnostics)
    }

    // MARK: - Compilation

    struct Target {
        var definition: PolicyDefinition
        var reference: PolicyDefinitionReference?
        var initiative: PolicySetDefinition?
    }

    static func targets(
        of assignment: PolicyAssignment, in bundle: PolicyBundle, diagnostics: inout [PolicyDiagnostic]
    ) -> [Target] {
        if let definition = bundle.definition(id: assignment.policyDefinitionId) {
            return [Target(definition: definition, reference: nil, initiative: nil)]
        }
        guard let initiative = bundle.initiative(id: assignment.policyDefinitionId) else {
            diagnostics.append(
                PolicyDiagnostic(
                    .error, assignment.source,
                    "assignment \(assignment.id) refers to \(assignment.policyDefinitionId), which is neither a definition nor an initiative in the policies directory"
                ))
            return []
        }
        var targets: [Target] = []
        for reference in initiative.definitions {
            guard let definition = bundle.definition(id: reference.policyDefinitionId) else {
                diagnostics.append(
                    PolicyDiagnostic(
                        .error, reference.source,
                        "initiative \(initiative.id) refers to unknown definition \(reference.policyDefinitionId)"))
                continue
            }
            targets.append(Target(definition: definition, reference: reference, initiative: initiative))
        }
        return targets
    }

    struct PolicyCompileError: Error {
        var source: PolicySource
        var message: String
    }

    static func compile(
        assignment: PolicyAssignment, definition: PolicyDefinition, reference: PolicyDefinitionReference?,
        initiative: PolicySetDefinition?, now: String
    ) throws(PolicyCompileError) -> AssignedPolicy {
        let parameters: [String: JSON]
        do {
            parameters = try ParameterResolver.values(
                for: definition, assignment: assignment, reference: reference, initiative: initiative)
        } catch {
            throw PolicyCompileError(source: assignment.source, message: "\(error)")
        }
        let context = PolicyExpressionContext(parameters: parameters, now: now, resource: nil)
        // The effect: a literal or an expression over the parameters, then overrides.
        let thenSource = definition.source.appending(.key("policyRule")).appending(.key("then"))
        guard let effectValue = definition.then["effect"] ?? definition.then.member(ignoringCase: "effect") else {
            throw PolicyCompileError(source: thenSource, message: "policyRule.then has no effect")
        }
        var effect = ""
        do {
            if let evaluated = try evaluateTemplate(effectValue, context: context), let text = evaluated.string {
                effect = text
            }
        } catch {
            throw PolicyCompileError(source: thenSource.appending(.key("effect")), message: "\(error)")
        }
        // Overrides by reference apply here; those that also name locations apply per resource.
        var locationOverrides: [PolicyOverride] = []
        for override in assignment.overrides where ASCII.equalsIgnoringCase(override.kind, "policyEffect") {
            let byReference = override.selectors.filter {
                ASCII.equalsIgnoringCase($0.kind, "policyDefinitionReferenceId")
            }
            guard byReference.allSatisfy({ Self.selects($0, value: reference?.referenceId ?? "") }) else { continue }
            guard effects.contains(where: { ASCII.equalsIgnoringCase($0, override.value) }) else {
                throw PolicyCompileError(
                    source: assignment.source,
                    message:
                        "assignment \(assignment.id): override effect '\(override.value)' is not an Azure Policy effect"
                )
            }
            if override.selectors.count == byReference.count {
                effect = override.value
            } else {
                locationOverrides.append(override)
            }
        }
        guard let known = effects.first(where: { ASCII.equalsIgnoringCase($0, effect) }) else {
            throw PolicyCompileError(
                source: thenSource.appending(.key("effect")),
                message:
                    "assignment \(assignment.id): effect '\(effect)' is not an Azure Policy effect (expected one of \(effects.joined(separator: ", ")))"
            )
        }
        effect = known
        let condition: Condition
        do {
            condition = try PolicyCondition.parse(
                definition.condition, source: definition.source.appending(.key("policyRule")).appending(.key("if")))
        } catch {
            throw PolicyCompileError(source: definition.source, message: "\(error)")
        }
        let details = definition.then.member(ignoringCase: "details")
        var existence: Condition?
        if let existenceJSON = details?.member(ignoringCase: "existenceCondition"), existenceJSON != .object([:]) {
            do {
                existence = try PolicyCondition.parse(
                    existenceJSON, source: thenSource.appending(.key("details")).appending(.key("existenceCondition")))
            } catch {
                throw PolicyCompileError(source: thenSource, message: "\(error)")
            }
        }
        var manual = ComplianceState.unknown
        if let state = details?.member(ignoringCase: "defaultState")?.string {
            manual = ComplianceState.allCases.first { ASCII.equalsIgnoringCase($0.rawValue, state) } ?? .unknown
        }
        let types = typesNamed(by: definition.condition, context: context)
        if known == "AuditIfNotExists" || known == "DeployIfNotExists", let types,
            !ClusterKind.allCases.contains(where: { types.contains(ASCII.lowercased($0.resourceType)) })
        {
            // Related resources would have to be looked up below a child resource, and a deployment
            // evaluated against it: not supported yet, so refuse rather than evaluate it wrongly.
            throw PolicyCompileError(
                source: thenSource,
                message:
                    "\(known) on \(types.sorted().joined(separator: ", ")) (resources below a cluster) is not supported yet; FluxFleet evaluates *IfNotExists policies on clusters (managedClusters, connectedClusters)"
            )
        }
        // Operands that do not read the resource (parameters, literals) are evaluated once here.
        let binder = ConditionEvaluator(collectsReasons: false)
        return AssignedPolicy(
            assignment: assignment, definition: definition, referenceId: reference?.referenceId,
            parameters: parameters, effect: canonicalEffect(effect),
            condition: binder.bindingConstants(in: condition, context: context),
            types: types,
            relatedType: details?.member(ignoringCase: "type")?.string,
            relatedName: details?.member(ignoringCase: "name"),
            existenceCondition: existence.map { binder.bindingConstants(in: $0, context: context) },
            deployment: details?.member(ignoringCase: "deployment"),
            manualDefaultState: manual, locationOverrides: locationOverrides)
    }

    static let effects = [
        "Audit", "AuditIfNotExists", "DeployIfNotExists", "Deny", "Modify", "Append", "Manual", "Disabled",
        "DenyAction",
    ]

    /// The effect's canonical spelling (effects are case-insensitive).
    static func canonicalEffect(_ effect: String) -> String {
        effects.first { ASCII.equalsIgnoringCase($0, effect) } ?? effect
    }

    /// Whether a selector's `in`/`notIn` accepts a value; locations are normalised on both sides.
    static func selects(_ selector: PolicySelector, value: String, normalize: Bool = false) -> Bool {
        func same(_ a: String) -> Bool {
            normalize ? Location.normalize(a) == Location.normalize(value) : ASCII.equalsIgnoringCase(a, value)
        }
        if let values = selector.in { return values.contains(where: same) }
        if let values = selector.notIn { return !values.contains(where: same) }
        return true
    }

    /// The resource types a rule's `if` names with `field: type` (equals / in, literal or from
    /// parameters), at the top level, in a top-level `allOf`, or as the alternatives of an `anyOf`
    /// there; nil when it names none (then only clusters are evaluated).
    static func typesNamed(by condition: JSON, context: PolicyExpressionContext) -> Set<String>? {
        func strings(_ value: JSON) -> [String]? {
            var value = value
            if case .string(let text) = value, TemplateString.isExpression(text),
                let evaluated = try? evaluateTemplate(value, context: context)
            {
                value = evaluated
            }
            switch value {
            case .string(let text): return [text]
            case .array(let items): return items.compactMap(\.string)
            default: return nil
            }
        }
        func leafTypes(_ json: JSON) -> [String]? {
            guard case .object(let members) = json else { return nil }
            if let any = members.first(where: { ASCII.equalsIgnoringCase($0.key, "anyOf") })?.value,
                case .array(let items) = any
            {
                let alternatives = items.map(leafTypes)
                guard !alternatives.isEmpty, alternatives.allSatisfy({ $0 != nil }) else { return nil }
                return alternatives.flatMap { $0! }
            }
            guard let field = members.first(where: { ASCII.equalsIgnoringCase($0.key, "field") })?.value.string,
                ASCII.equalsIgnoringCase(field, "type")
            else { return nil }
            for (key, value) in members
            where ASCII.equalsIgnoringCase(key, "equals") || ASCII.equalsIgnoringCase(key, "in") {
                return strings(value)
            }
            return nil
        }
        if let types = leafTypes(condition) { return Set(types.map(ASCII.lowercased)) }
        if case .object(let members) = condition,
            let all = members.first(where: { ASCII.equalsIgnoringCase($0.key, "allOf") })?.value,
            case .array(let items) = all
        {
            for item in items {
                if let types = leafTypes(item) { return Set(types.map(ASCII.lowercased)) }
            }
        }
        return nil
    }

    // MARK: - Evaluation

    /// A resource to evaluate: the cluster or one of its children.
    ///
    /// A class, made once per cluster and never changed: passing it around, keeping it in lists and visiting it
    /// costs one reference, not one per member.
    final class Candidate {
        let id: String
        let type: String
        let resource: JSONValue
        /// ``type`` lowercased, for matching the types a rule names.
        let typeKey: String
        /// Whether this is the cluster itself (not one of its children).
        let isCluster: Bool
        /// ``id`` parsed, when the inventory parsed it (exemptions compare scopes without parsing it again).
        let resourceID: ResourceID?

        init(
            id: String, type: String, resource: JSONValue, isCluster: Bool = false, typeKey: String? = nil,
            resourceID: ResourceID? = nil
        ) {
            self.id = id
            self.resourceID = resourceID
            self.type = type
            self.resource = resource
            self.typeKey = typeKey ?? ASCII.lowercased(type)
            self.isCluster = isCluster
        }

        /// The child types and their lowercased keys, made once.
        static let extensionType = "Microsoft.KubernetesConfiguration/extensions"
        static let extensionKey = ASCII.lowercased(extensionType)
        static let configurationType = "Microsoft.KubernetesConfiguration/fluxConfigurations"
        static let configurationKey = ASCII.lowercased(configurationType)
        static let fluxV1Type = "Microsoft.KubernetesConfiguration/sourceControlConfigurations"
        static let fluxV1Key = ASCII.lowercased(fluxV1Type)
        /// The cluster types lowercased, by kind.
        static let clusterKeys = Dictionary(
            uniqueKeysWithValues: ClusterKind.allCases.map { ($0, ASCII.lowercased($0.resourceType)) })
        /// Every type key above, so that equal keys elsewhere can share their storage.
        static let knownKeys =
            [extensionKey, configurationKey, fluxV1Key] + ClusterKind.allCases.map { clusterKeys[$0]! }

        /// Whether two type keys are equal: their lengths first (the known keys all differ in length, and a
        /// native string knows its length), so that different keys are told apart without comparing bytes.
        @inline(__always) static func sameKey(_ a: String, _ b: String) -> Bool {
            a.utf8.count == b.utf8.count && a == b
        }

        /// `key` as the shared instance when it is a known type key: equal strings that share storage compare
        /// without looking at their bytes.
        static func canonical(_ key: String) -> String {
            knownKeys.first { $0 == key } ?? key
        }
    }

    /// The cluster's children as candidates, in the order policies visit them.
    static func children(of cluster: Cluster) -> [Candidate] {
        children(of: cluster, memo: ScanMemo(policies: [], now: ""))
    }

    /// ``children(of:)`` with the type strings of `memo`'s thread.
    static func children(of cluster: Cluster, memo: ScanMemo) -> [Candidate] {
        var out: [Candidate] = []
        out.reserveCapacity(
            cluster.otherExtensionResources.count + cluster.fluxConfigurations.count
                + cluster.fluxV1Configurations.count + 1)
        if let ext = cluster.fluxExtension {
            out.append(
                Candidate(
                    id: ext.id.description, type: memo.extensionType, resource: ext.resource,
                    typeKey: memo.extensionKey, resourceID: ext.id))
        }
        for resource in cluster.otherExtensionResources {
            let id = resource.member(ignoringCase: "id")?.string ?? ""
            out.append(Candidate(id: id, type: memo.extensionType, resource: resource, typeKey: memo.extensionKey))
        }
        for config in cluster.fluxConfigurations {
            out.append(
                Candidate(
                    id: config.id.description, type: memo.configurationType, resource: config.resource,
                    typeKey: memo.configurationKey, resourceID: config.id))
        }
        for config in cluster.fluxV1Configurations {
            out.append(
                Candidate(
                    id: config.id.description, type: memo.fluxV1Type, resource: config.resource,
                    typeKey: memo.fluxV1Key, resourceID: config.id))
        }
        return out
    }

    static func evaluate(
        _ cluster: Cluster, policies: [AssignedPolicy], broken: [(PolicyAssignment, String?, String, String)],
        exemptions: [PolicyExemption], options: ScanOptions, memo: ScanMemo,
        results: inout PartBuffer<PolicyResult>, strict: inout PartBuffer<StrictResult>
    ) {
        let clusterId = cluster.id.description
        let clusterType = memo.clusterType(cluster.kind)
        // Made eagerly (almost every cluster has a policy that visits its children): a lazy local is a boxed
        // variable and a closure.
        let childCandidates = children(of: cluster, memo: memo)
        var location: String?
        memo.conditions.startCluster()
        let clusterCandidate = Candidate(
            id: clusterId, type: clusterType.type, resource: cluster.resource, isCluster: true,
            typeKey: clusterType.key, resourceID: cluster.id)
        // Assignments that could not be compiled: an Error result for every cluster in scope.
        for (assignment, referenceId, definitionId, message) in broken where inScope(cluster.id, assignment) {
            results.append(
                PolicyResult(
                    resourceId: clusterId, clusterId: clusterId, assignmentId: assignment.id,
                    policyDefinitionId: definitionId, policyDefinitionReferenceId: referenceId, effect: "",
                    state: .error, reasons: [], enforcementMode: assignment.enforcementMode, exemptionId: nil,
                    desiredResources: [], error: message))
        }
        // Evaluates `policy` on one candidate and appends its result (candidates are passed along, never copied
        // into a list per policy).
        func visit(_ candidate: Candidate, _ policy: AssignedPolicy) {
            let copies = memo.copies + policy.index
            guard policy.readsLocation else {
                guard !policy.isDisabled,
                    evaluate(
                        candidate, cluster: cluster, policy: policy, effect: copies.pointee.effect, copies: copies,
                        children: childCandidates, options: options, memo: memo, results: &results, strict: &strict)
                else { return }
                exempt(candidate, policy)
                return
            }
            // Selectors and location overrides see the evaluated resource: clusters have a
            // location, extension resources do not.
            if candidate.isCluster && location == nil { location = cluster.location }
            let candidateLocation = candidate.isCluster ? location! : ""
            guard selected(policy.assignment, location: candidateLocation, type: candidate.type) else {
                return
            }
            var effect = policy.effect
            for override in policy.locationOverrides
            where override.selectors.allSatisfy({ selector in
                !ASCII.equalsIgnoringCase(selector.kind, "resourceLocation")
                    || selects(selector, value: candidateLocation, normalize: true)
            }) {
                effect = canonicalEffect(override.value)
            }
            let effective = effect == policy.effect ? policy : policy.with(effect: effect)
            guard !effective.isDisabled,
                evaluate(
                    candidate, cluster: cluster, policy: effective,
                    effect: effective === policy ? copies.pointee.effect : effective.effect, copies: copies,
                    children: childCandidates, options: options, memo: memo, results: &results, strict: &strict)
            else { return }
            exempt(candidate, policy)
        }
        // Marks the result just appended exempt in place when an exemption covers it.
        func exempt(_ candidate: Candidate, _ policy: AssignedPolicy) {
            if !exemptions.isEmpty, let exemption = exemptions.first(where: { covers($0, candidate, policy) }) {
                results[results.count - 1].state = .exempt
                results[results.count - 1].exemptionId = exemption.id
            }
        }
        for policy in policies {
            guard policy.covers(cluster.id) else { continue }
            // The cluster, then its children of the types the policy names, in order.
            if let types = memo.copies[policy.index].typeList {
                if types.contains(where: { Candidate.sameKey($0, clusterCandidate.typeKey) }) {
                    visit(clusterCandidate, policy)
                }
                let children = childCandidates
                for index in children.indices
                where types.contains(where: { Candidate.sameKey($0, children[index].typeKey) }) {
                    visit(children[index], policy)
                }
            } else {
                visit(clusterCandidate, policy)
            }
        }
    }

    static func inScope(_ id: ResourceID, _ assignment: PolicyAssignment) -> Bool {
        (isManagementGroup(assignment.scope) || id.hasPrefix(scope: assignment.scope))
            && !assignment.notScopes.contains { id.hasPrefix(scope: $0) }
    }

    /// Whether a scope is a management group: resource ids do not name the groups above their
    /// subscription, so such an assignment covers the whole inventory (a diagnostic says so).
    static func isManagementGroup(_ scope: String) -> Bool {
        ASCII.lowercased(scope).hasPrefix("/providers/microsoft.management/managementgroups/")
    }

    static func selected(_ assignment: PolicyAssignment, location: String, type: String) -> Bool {
        guard !assignment.resourceSelectors.isEmpty else { return true }
        return assignment.resourceSelectors.contains { set in
            set.selectors.allSatisfy { selector in
                switch ASCII.lowercased(selector.kind) {
                case "resourcelocation": !location.isEmpty && selects(selector, value: location, normalize: true)
                case "resourcetype": selects(selector, value: type)
                case "resourcewithoutlocation": selects(selector, value: location.isEmpty ? "true" : "false")
                default: true
                }
            }
        }
    }

    static func covers(_ exemption: PolicyExemption, _ candidate: Candidate, _ policy: AssignedPolicy) -> Bool {
        guard ASCII.equalsIgnoringCase(exemption.policyAssignmentId, policy.assignment.id) else { return false }
        if !exemption.policyDefinitionReferenceIds.isEmpty {
            guard let reference = policy.referenceId,
                exemption.policyDefinitionReferenceIds.contains(where: { ASCII.equalsIgnoringCase($0, reference) })
            else { return false }
        }
        guard let id = candidate.resourceID ?? (try? ResourceID(parsing: candidate.id)) else { return false }
        return id.hasPrefix(scope: exemption.scope)
    }

    static func reasons(_ result: ConditionResult, candidate: String? = nil) -> [PolicyReason] {
        result.reasons.map {
            PolicyReason(
                expression: $0.expression, path: $0.path, actual: $0.actual, target: $0.target, operator: $0.operator,
                message: $0.message, holds: $0.result, location: $0.sourceText, candidate: candidate)
        }
    }

    /// Evaluates one candidate and appends its result; false when the policy does not apply to it.
    ///
    /// `effect` is the policy's effect as this thread's copy (or as a location override made it) and `copies` this
    /// thread's copies of the policy's strings (see ``ScanMemo/own(_:)``). The result is appended as soon as the
    /// policy is known to apply and completed in place: it is never copied.
    static func evaluate(
        _ candidate: Candidate, cluster: Cluster, policy: AssignedPolicy, effect: String,
        copies: UnsafeMutablePointer<PolicyCopies>, children: [Candidate], options: ScanOptions, memo: ScanMemo,
        results: inout PartBuffer<PolicyResult>, strict: inout PartBuffer<StrictResult>
    ) -> Bool {
        // The expression context, made only where a condition or template is evaluated (not for remembered
        // results).
        func context() -> PolicyExpressionContext {
            PolicyExpressionContext(
                parameters: copies.pointee.parameters, lowered: copies.pointee.lowered, now: memo.now,
                resource: PolicyExpressionContext.Resource(
                    json: candidate.resource, type: candidate.type, id: candidate.id))
        }
        // Decide without reasons (fast); collect them only where a result shows them. Memoised results come
        // with their reasons.
        let entry =
            options.memoizesConditions
            ? memo.conditions.entry(
                policy.condition, slot: 2 * policy.index, resource: candidate.resource, resourceType: candidate.type,
                typeKey: candidate.typeKey, makeContext: context, fieldFunctionReadsContext: false) : nil
        let evaluation =
            entry?.result
            ?? ConditionEvaluator(collectsReasons: false).evaluate(
                policy.condition, resource: candidate.resource, resourceType: candidate.type, context: context())
        // Not applicable: the `if` decides.
        if policy.checksExistence && evaluation.error == nil && !evaluation.matched { return false }
        results.append(
            PolicyResult(
                resourceId: candidate.id, clusterId: cluster.id.description, assignmentId: copies.pointee.assignmentId,
                policyDefinitionId: copies.pointee.definitionId,
                policyDefinitionReferenceId: copies.pointee.referenceId, effect: effect, state: .compliant, reasons: [],
                enforcementMode: policy.assignment.enforcementMode, exemptionId: nil, desiredResources: [], error: nil))
        let index = results.count - 1
        if let error = evaluation.error {
            results[index].state = .error
            results[index].error = error
        } else if policy.checksExistence {
            if options.explain { results[index].reasons = leaves(entry, policy.condition, candidate, context) }
            existence(
                candidate, cluster: cluster, policy: policy, copies: copies, context: context, children: children,
                options: options, memo: memo, result: &results[index], strict: &strict)
        } else if policy.isManual {
            results[index].state = evaluation.matched ? policy.manualDefaultState : .compliant
        } else {
            if options.explain && !evaluation.matched {
                results[index].reasons = leaves(entry, policy.condition, candidate, context)
            }
            // Audit, Deny (reported as would-deny), Modify, Append.
            if evaluation.matched {
                results[index].state = .nonCompliant
                if policy.effect == "Deny" {
                    results[index].reasons.append(
                        PolicyReason(
                            expression: "effect Deny", path: "", actual: nil, target: nil, operator: "deny",
                            message: "Azure would deny creating or updating this resource as it is."))
                }
                results[index].reasons += leaves(entry, policy.condition, candidate, context)
            }
        }
        return true
    }

    /// The leaves of the `if` with reasons: the memo's, or evaluated again collecting them.
    ///
    /// A function of its own rather than a closure in ``evaluate(_:cluster:policy:effect:copies:children:options:memo:results:strict:)``,
    /// which would capture (and copy) the expression context for every resource.
    private static func leaves(
        _ entry: ConditionMemo.Entry?, _ condition: Condition, _ candidate: Candidate,
        _ context: () -> PolicyExpressionContext
    ) -> [PolicyReason] {
        entry?.reasons(candidate: nil)
            ?? reasons(
                ConditionEvaluator().evaluate(
                    condition, resource: candidate.resource, resourceType: candidate.type, context: context()))
    }

    static func existence(
        _ candidate: Candidate, cluster: Cluster, policy: AssignedPolicy, copies: UnsafeMutablePointer<PolicyCopies>,
        context: () -> PolicyExpressionContext,
        children: [Candidate], options: ScanOptions, memo: ScanMemo, result: inout PolicyResult,
        strict: inout PartBuffer<StrictResult>
    ) {
        // The related resources are the children of the related type, and of the name when the policy gives one
        // (a name that is not a string names none in particular); they are visited in place, not copied out.
        var relatedName = policy.constantRelatedName
        if relatedName == nil, let nameJSON = policy.relatedName {
            do {
                relatedName = try evaluateTemplate(nameJSON, context: context())?.string
            } catch {
                result.state = .error
                result.error = "details.name: \(error)"
                return
            }
        }
        var relatedCount = 0
        var matched = false
        var best: [PolicyReason]?
        var explained: [PolicyReason] = []
        for resource in children where Candidate.sameKey(resource.typeKey, copies.pointee.relatedTypeKey) {
            if let relatedName, !lastSegment(of: resource.id, equalsIgnoringCase: relatedName) { continue }
            relatedCount += 1
            guard let condition = policy.existenceCondition else {
                matched = true
                break
            }
            let entry =
                options.memoizesConditions
                ? memo.conditions.entry(
                    condition, slot: 2 * policy.index + 1, resource: resource.resource, resourceType: resource.type,
                    typeKey: resource.typeKey, makeContext: context, fieldFunctionReadsContext: true) : nil
            let evaluation =
                entry?.result
                ?? ConditionEvaluator(collectsReasons: false, fieldFunctionReadsContext: true).evaluate(
                    condition, resource: resource.resource, resourceType: resource.type, context: context())
            if let error = evaluation.error {
                result.state = .error
                result.error = "existenceCondition on \(resource.id): \(error)"
                return
            }
            func leaves(candidate: String?) -> [PolicyReason] {
                entry?.reasons(candidate: candidate)
                    ?? reasons(
                        ConditionEvaluator(fieldFunctionReadsContext: true).evaluate(
                            condition, resource: resource.resource, resourceType: resource.type, context: context()),
                        candidate: candidate)
            }
            // A scan shows the leaves of the best non-matching candidate; explain shows every candidate's.
            if options.explain { explained += leaves(candidate: lastSegment(resource.id)) }
            if evaluation.matched {
                matched = true
                break
            }
            let failing = leaves(candidate: nil)
            if best == nil || failing.count < best!.count { best = failing }
        }
        if !matched {
            result.state = .nonCompliant
            let noMatch = memo.noMatchReason(policy, checked: relatedCount)
            // Explain shows the `if` leaves, then every candidate's leaves; a scan the best candidate's.
            result.reasons = options.explain ? result.reasons + [noMatch] + explained : [noMatch] + (best ?? [])
        } else if options.explain {
            result.reasons += explained
        }
        if policy.deploys, let deployment = policy.deployment {
            let planned: [(resource: DesiredResource, plan: DriftMemo?)]
            do {
                let clusterContext = PolicyExpressionContext(
                    parameters: copies.pointee.parameters, lowered: copies.pointee.lowered, now: memo.now,
                    resource: PolicyExpressionContext.Resource(
                        json: cluster.resource, type: memo.clusterType(cluster.kind).type, id: cluster.id.description))
                planned =
                    options.memoizesDeployments
                    ? try memo.deployments.desired(
                        policy: policy.index, deployment: deployment, policyParameters: clusterContext,
                        cluster: cluster.id)
                    : try DeploymentEvaluator.desiredResources(
                        deployment: deployment, policyParameters: clusterContext, cluster: cluster.id
                    ).map { (resource: $0, plan: nil) }
            } catch {
                result.state = .error
                result.error = "deployment: \(error)"
                return
            }
            result.desiredResources = planned.map(\.resource)
            for (desired, plan) in planned {
                let desiredKey = ResourceIDKey(desired.id)
                let observed = children.first { ResourceIDKey($0.id) == desiredKey }?.resource
                var runtime: RuntimeAssessment?
                // Lengths first: most desired resources are not configurations (their type is shorter or longer).
                if let observed, desired.type.utf8.count == Candidate.configurationType.utf8.count,
                    ASCII.equalsIgnoringCase(desired.type, Candidate.configurationType)
                {
                    runtime = RuntimeHealth.assess(
                        configuration: observed, now: options.parsedNow, staleAfterSeconds: options.staleAfterSeconds)
                }
                let drift: [DriftEntry]
                if let plan {
                    drift =
                        options.memoizesConditions
                        ? plan.compare(observed: observed) : plan.plan.compare(observed: observed)
                } else {
                    drift = DriftPlan(desired: desired.body).compare(observed: observed)
                }
                strict.append(
                    StrictResult(
                        clusterId: cluster.id.description, resourceId: desired.id,
                        assignmentId: copies.pointee.assignmentId,
                        drift: drift, runtime: runtime))
            }
        }
    }

    /// Whether ``lastSegment(_:)`` of `id` equals `name` ignoring ASCII case, compared in place (no copy of the
    /// segment is made).
    static func lastSegment(of id: String, equalsIgnoringCase name: String) -> Bool {
        var id = id
        var name = name
        let inPlace: Bool? = id.withUTF8 { idBytes in
            // A trailing `/` takes the general path.
            guard let slash = idBytes.lastIndex(of: UInt8(ascii: "/")), slash + 1 < idBytes.count else { return nil }
            return name.withUTF8 { nameBytes in
                guard idBytes.count - (slash + 1) == nameBytes.count else { return false }
                for k in 0..<nameBytes.count where ASCII.lower(idBytes[slash + 1 + k]) != ASCII.lower(nameBytes[k]) {
                    return false
                }
                return true
            }
        }
        return inPlace ?? ASCII.equalsIgnoringCase(lastSegment(id), name)
    }

    /// The text after the last `/` (the whole text when there is none).
    static func lastSegment(_ id: String) -> String {
        guard let slash = id.utf8.lastIndex(of: UInt8(ascii: "/")) else { return id }
        let next = id.utf8.index(after: slash)
        guard next != id.utf8.endIndex else { return id.split(separator: "/").last.map(String.init) ?? id }
        return String(id[next...])
    }
}
