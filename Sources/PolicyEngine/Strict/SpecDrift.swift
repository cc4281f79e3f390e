import FleetCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One difference between a desired PUT body and the resource on the cluster.
public struct DriftEntry: Sendable, Hashable {
    /// Where, relative to the resource, such as `properties.kustomizations.apps.path` (members that are not
    /// plain identifiers are bracketed: `properties.kustomizations['kustomization-1']`); `""` for the whole
    /// resource.
    public var path: String
    /// The observed value: nil when the resource lacks it, or the API default when that applies.
    public var actual: JSON?
    /// The desired value: nil for something the cluster has that the desired body does not want (an extra
    /// kustomization).
    public var desired: JSON?

    /// Creates an entry.
    public init(path: String, actual: JSON?, desired: JSON?) {
        self.path = path
        self.actual = actual
        self.desired = desired
    }
}

/// The strict view of a Flux resource: every field the desired body sets, compared with what ARM returns.
///
/// Azure Policy's existence conditions check a few fields; this compares all of them:
/// - Member names match ignoring case (Resource Graph returns some extension properties in PascalCase).
/// - Read-only and status members (`provisioningState`, `complianceState`, `statuses`, `systemData`,
///   `currentVersion`, …) are never compared, nor write-only secrets (`configurationProtectedSettings` and
///   the other `x-ms-secret` fields): the service never returns them, so nothing is reported for them. A
///   desired value that is a ``SecretReference`` is skipped too.
/// - JSON null and a missing member are the same; a desired null sets nothing.
/// - `properties.kustomizations` is compared as a whole map, because a PUT replaces it: a kustomization the
///   cluster has but the body lacks is drift, and so is a missing one.
/// - Strings compare exactly (Flux is case-sensitive: branch `Main` ≠ `main`) except ARM enums such as
///   `scope`, `sourceKind`, `extensionType` and `releaseTrain`, which ignore case, and `location`, which is
///   normalised. Numbers compare by value; a bool equals the strings `"true"`/`"false"`.
/// - Defaults the API fills in count when the observed resource omits a member: for fluxConfigurations
///   `scope` cluster, `namespace` default, `sourceKind` GitRepository, `suspend` false, source intervals and
///   timeouts 600, kustomization `path` "", `prune` false, `force` false, `wait` true, intervals 600; for
///   extensions `autoUpgradeMinorVersion` true, `releaseTrain` Stable, `autoUpgradeMode` compatible.
/// - Arrays compare element by element, in order, and are reported whole.
public enum SpecDrift {
    /// Compares a desired body with the observed resource.
    ///
    /// - Parameters:
    ///   - desired: The PUT body (``DesiredResource/body``): `properties` and any of `identity`, `location`, ….
    ///   - observed: The resource as ARM or Resource Graph returns it (with `properties`), or nil when it does
    ///     not exist.
    /// - Returns: The differences, in a stable order (members sorted, extra kustomizations after the desired
    ///   ones); one entry with path `""` and `desired` = the body when the resource is missing.
    public static func compare(desired: JSON, observed: JSONValue?) -> [DriftEntry] {
        DriftPlan(desired: desired).compare(observed: observed)
    }

    /// Lowercased names of the write-only secret members (`configurationProtectedSettings`, `privateKey`, …):
    /// their values are masked wherever FluxFleet writes a desired body (scan JSON, reports, the database).
    public static var writeOnlySecretKeys: Set<String> { DriftRules.secrets }

    /// The member `key` of an observed object: exact name first, then ignoring case.
    static func member(_ key: String, of value: JSONValue) -> JSONValue? {
        value.member(preferringExact: key)
    }
}

/// A desired body prepared once for comparison with many observed resources.
///
/// Everything that depends only on the desired body (member order, skipped members, paths, API defaults,
/// comparison rules) is worked out when the plan is made; ``compare(observed:)`` only reads the observed
/// resource. ``SpecDrift/compare(desired:observed:)`` is this with a plan made for one use.
public struct DriftPlan: Sendable {
    /// One desired value and how to compare it.
    indirect enum Node: Sendable {
        /// A null or a secret reference: sets nothing comparable.
        case skip
        /// An object: its compared members, sorted.
        case object(JSON, path: String, members: [Member])
        /// `properties.kustomizations`: a map compared as a whole.
        case kustomizations(JSON, path: String, entries: [Kustomization])
        /// An array, compared element by element and reported whole.
        case array([JSON], path: String, key: String)
        /// A scalar, with the API defaults for an omitted member by resource kind.
        case scalar(
            JSON, path: String, key: String, mode: DriftRules.StringMode, fluxDefault: JSON?, extensionDefault: JSON?)
    }

    /// A member of a desired object.
    struct Member: Sendable {
        var name: String
        var node: Node
        /// A resource-level `location` (ARM never returns it for extension resources).
        var isTopLocation: Bool
    }

    /// A desired kustomization.
    struct Kustomization: Sendable {
        var name: String
        var lowered: String
        var desired: JSON
        var path: String
        var node: Node
    }

    let desired: JSON
    let root: Node
    /// The kind from what the desired body sets, used when the observed resource has no `type`.
    let desiredKind: DriftResourceKind
    /// The whole body with write-only secrets masked: the one entry for a missing resource.
    let missing: DriftEntry
    /// ``missing`` as the comparison's result, made once (not an array per missing resource).
    private let missingEntries: [DriftEntry]

    /// Prepares `desired` (a ``DesiredResource/body``).
    public init(desired: JSON) {
        self.desired = desired
        self.root = Self.node(desired, key: "", path: [], schema: [])
        self.desiredKind = DriftResourceKind.detect(desired: desired, observed: nil)
        self.missing = DriftEntry(
            path: "", actual: nil, desired: Redaction.json(desired, secretKeys: DriftRules.secrets))
        self.missingEntries = [missing]
    }

    /// The differences between the desired body and `observed` (nil when the resource does not exist).
    public func compare(observed: JSONValue?) -> [DriftEntry] {
        guard let observed, !observed.isNull else { return missingEntries }
        var entries: [DriftEntry] = []
        Self.compare(root, observed, kind: kind(of: observed), into: &entries)
        return entries
    }

    /// The kind of an observed resource: from its `type`, else what the desired body sets.
    private func kind(of observed: JSONValue) -> DriftResourceKind {
        kind(type: SpecDrift.member("type", of: observed))
    }

    /// The kind of an observed resource whose `type` member is `type`.
    private func kind(type member: JSONValue?) -> DriftResourceKind {
        guard let type = member?.string else { return desiredKind }
        let lowered = ASCII.lowercased(type)
        if lowered.hasSuffix("/fluxconfigurations") { return .fluxConfiguration }
        if lowered.hasSuffix("/extensions") { return .extensionResource }
        if lowered.contains("/") { return .other }
        return desiredKind
    }

    /// The observed members ``memoKey(observed:names:scratch:)`` reads, to be found in one pass per object.
    final class MemoKeyNames {
        /// The top-level members the body sets, then `type`.
        let top: JSONMemberNames
        /// Per top-level member that is a desired object: the members the body sets in it.
        let inner: [JSONMemberNames?]

        /// The most names of any ``inner`` set (room for their positions).
        let innerCapacity: Int

        init(top: JSONMemberNames, inner: [JSONMemberNames?]) {
            self.top = top
            self.inner = inner
            self.innerCapacity = inner.map { $0?.count ?? 0 }.max() ?? 0
        }
    }

    /// Storage ``memoKey(observed:names:scratch:)`` reuses from key to key: the key, and the one before it.
    ///
    /// Owned by one ``DriftMemo`` (one thread); not copyable, so each buffer has one owner.
    struct MemoKeyScratch: ~Copyable {
        /// The key.
        var key = ByteKeyBuilder()
        /// The key made before it (the two buffers swap after each key).
        var previous = ByteKeyBuilder()
        /// The fine key (``DriftPlan/fineMemoKey(observed:names:into:)``), made when the key is not known.
        var fine = ByteKeyBuilder()
    }

    /// The names ``memoKey(observed:names:scratch:)`` looks up; nil when the body is not an object.
    func memoKeyNames() -> MemoKeyNames? {
        guard case .object(_, _, let members) = root else { return nil }
        return MemoKeyNames(
            top: JSONMemberNames(members.map(\.name) + ["type"]),
            inner: members.map { member in
                guard case .object(_, _, let inner) = member.node else { return nil }
                return JSONMemberNames(inner.map(\.name))
            })
    }

    /// Writes into `scratch.key` everything ``compare(observed:)`` reads of `observed`; equal keys give equal
    /// comparisons.
    ///
    /// That is the text of `type` (which decides the kind), then for each member the desired body sets, the
    /// observed member's JSON text, or for a desired object (such as `properties`) the text of each of its members
    /// the body sets. `names` are this plan's ``memoKeyNames()``.
    ///
    /// - Returns: false when `observed` is not an object (compare it directly).
    func memoKey(observed: JSONValue, names: MemoKeyNames, scratch: inout MemoKeyScratch) -> Bool {
        guard observed.isObject else { return false }
        scratch.key.reset()
        // Positions, not values: nothing is retained for the members read (``JSONValue/memberPositions``).
        let topCount = names.top.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: topCount + names.innerCapacity) { positions in
            let children = UnsafeMutableBufferPointer(rebasing: positions[0..<topCount])
            let grandchildren = UnsafeMutableBufferPointer(rebasing: positions[topCount...])
            observed.memberPositions(names.top, matching: .preferringExact, into: children)
            // The kind is read from `type`: its text decides it (cheaper than working the kind out).
            scratch.key.append(observed.value(at: children[topCount - 1]))
            for position in 0..<names.inner.count {
                let child = observed.value(at: children[position])
                if let inner = names.inner[position], let child, child.isObject {
                    // Only the members the body sets are read (not the status members around them).
                    scratch.key.append(tag: 4)
                    child.memberPositions(inner, matching: .preferringExact, into: grandchildren)
                    for k in 0..<inner.count { scratch.key.append(observed.value(at: grandchildren[k])) }
                } else {
                    scratch.key.append(tag: 5)
                    scratch.key.append(child)
                }
            }
        }
        return true
    }

    /// The observed members ``fineMemoKey(observed:names:into:)`` reads of one desired object (for the body
    /// itself, then `type`), and how to key each.
    final class FineKeyNames {
        /// The members the desired object sets (the body: then `type`).
        let names: JSONMemberNames
        /// Per member the object sets: nil to key its JSON text, or the names to key it member by member (a
        /// desired object: the comparison reads only the members it sets).
        let children: [FineKeyNames?]
        /// Per member the object sets: whether the comparison reads nothing there (a secret reference or a null).
        let skipped: [Bool]

        init(_ members: [Member], extra: [String] = []) {
            names = JSONMemberNames(members.map(\.name) + extra)
            children = members.map { member in
                guard case .object(_, _, let inner) = member.node else { return nil }
                return FineKeyNames(inner)
            }
            skipped = members.map { member in
                if case .skip = member.node { return true }
                return false
            }
        }
    }

    /// The names ``fineMemoKey(observed:names:into:)`` looks up; nil when the body is not an object.
    func fineKeyNames() -> FineKeyNames? {
        guard case .object(_, _, let members) = root else { return nil }
        return FineKeyNames(members, extra: ["type"])
    }

    /// Writes into `key` exactly what ``compare(observed:)`` reads of `observed`: finer than
    /// ``memoKey(observed:names:scratch:)``, and dearer to make.
    ///
    /// The text of `type`, then for each member the desired body sets: for a desired object (`properties`, its
    /// `gitRepository`, …), whether the observed member is absent (or null), not an object (then its text) or an
    /// object, and then its members the body sets, keyed alike; for anything else the observed member's JSON text.
    /// Members the body does not set inside a desired object (an `sshKnownHosts` a cluster keeps of its own) are
    /// not read. `names` are this plan's ``fineKeyNames()``.
    ///
    /// - Returns: false when `observed` is not an object.
    func fineMemoKey(observed: JSONValue, names: FineKeyNames, into key: inout ByteKeyBuilder) -> Bool {
        guard observed.isObject else { return false }
        key.reset()
        let count = names.names.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { positions in
            observed.memberPositions(names.names, matching: .preferringExact, into: positions)
            key.append(observed.value(at: positions[count - 1]))
            for k in 0..<names.children.count where !names.skipped[k] {
                Self.appendFineKey(names.children[k], observed.value(at: positions[k]), into: &key)
            }
        }
        return true
    }

    /// Appends the fine key of one observed member (see ``fineMemoKey(observed:names:into:)``).
    private static func appendFineKey(_ names: FineKeyNames?, _ value: JSONValue?, into key: inout ByteKeyBuilder) {
        guard let names else {
            key.append(value)
            return
        }
        // The comparison treats a null as absent, and reports a non-object whole.
        guard let value, !value.isNull else {
            key.append(tag: 6)
            return
        }
        guard value.isObject else {
            key.append(tag: 5)
            key.append(value)
            return
        }
        key.append(tag: 4)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: names.names.count) { positions in
            value.memberPositions(names.names, matching: .preferringExact, into: positions)
            for k in 0..<names.children.count where !names.skipped[k] {
                appendFineKey(names.children[k], value.value(at: positions[k]), into: &key)
            }
        }
    }

    private static func node(_ desired: JSON, key: String, path: [JSONPathComponent], schema: [String]) -> Node {
        if desired == .null || SecretReference.isReference(desired) { return .skip }
        let rendered = render(path)
        if schema == ["properties", "kustomizations"], case .object(let wanted) = desired {
            var entries: [Kustomization] = []
            for name in wanted.keys.sorted() where wanted[name]! != .null {
                let childPath = path + [.key(name)]
                entries.append(
                    Kustomization(
                        name: name, lowered: ASCII.lowercased(name), desired: wanted[name]!, path: render(childPath),
                        node: node(
                            wanted[name]!, key: name, path: childPath, schema: ["properties", "kustomizations", "*"])
                    ))
            }
            return .kustomizations(desired, path: rendered, entries: entries)
        }
        switch desired {
        case .object(let members):
            var compiled: [Member] = []
            for name in members.keys.sorted() where !DriftRules.isSkipped(name, under: schema) {
                compiled.append(
                    Member(
                        name: name,
                        node: node(
                            members[name]!, key: name, path: path + [.key(name)],
                            schema: schema + [ASCII.lowercased(name)]),
                        isTopLocation: schema.isEmpty && ASCII.equalsIgnoringCase(name, "location")))
            }
            return .object(desired, path: rendered, members: compiled)
        case .array(let items):
            return .array(items, path: rendered, key: key)
        default:
            return .scalar(
                desired, path: rendered, key: key, mode: DriftRules.StringMode(key: key),
                fluxDefault: DriftRules.defaultValue(at: schema, kind: .fluxConfiguration),
                extensionDefault: DriftRules.defaultValue(at: schema, kind: .extensionResource))
        }
    }

    private static func render(_ path: [JSONPathComponent]) -> String {
        var rendered = JSONPathComponent.render(path, root: "")
        if rendered.hasPrefix(".") { rendered.removeFirst() }
        return rendered
    }

    /// Compares one desired node with the observed value (nil or null when missing).
    private static func compare(
        _ node: Node, _ observed: JSONValue?, kind: DriftResourceKind, into entries: inout [DriftEntry]
    ) {
        let present = observed.flatMap { $0.isNull ? nil : $0 }
        switch node {
        case .skip:
            return
        case .kustomizations(let desired, let path, let wanted):
            if let present, !present.isObject {
                entries.append(DriftEntry(path: path, actual: present.materialize(), desired: desired))
                return
            }
            var matched: Set<String> = []
            for entry in wanted {
                let found = present.flatMap { $0.member(preferringExact: entry.name) }
                guard let found, !found.isNull else {
                    entries.append(DriftEntry(path: entry.path, actual: nil, desired: entry.desired))
                    continue
                }
                matched.insert(entry.lowered)
                compare(entry.node, found, kind: kind, into: &entries)
            }
            guard let present else { return }
            let extras = present.members.filter { !matched.contains(ASCII.lowercased($0.key)) && !$0.value.isNull }
            for (name, value) in extras.sorted(by: { $0.key < $1.key }) {
                var rendered = JSONPathComponent.render([.key(name)], root: path)
                if rendered.hasPrefix(".") { rendered.removeFirst() }
                entries.append(DriftEntry(path: rendered, actual: value.materialize(), desired: nil))
            }
        case .object(let desired, let path, let members):
            if let present, !present.isObject {
                entries.append(DriftEntry(path: path, actual: present.materialize(), desired: desired))
                return
            }
            for member in members {
                let child = present.flatMap { SpecDrift.member(member.name, of: $0) }
                // Extension (proxy) resources take `location` on PUT but ARM never returns it: a
                // top-level location the observed record lacks is not drift.
                if member.isTopLocation, child?.string?.isEmpty ?? true { continue }
                compare(member.node, child, kind: kind, into: &entries)
            }
        case .array(let items, let path, let key):
            guard let present else {
                if !items.isEmpty { entries.append(DriftEntry(path: path, actual: nil, desired: .array(items))) }
                return
            }
            let observedItems = Array(present.elements)
            let same =
                present.isArray && observedItems.count == items.count
                && zip(items, observedItems).allSatisfy { equal($0, $1, key: key) }
            if !same { entries.append(DriftEntry(path: path, actual: present.materialize(), desired: .array(items))) }
        case .scalar(let desired, let path, let key, let mode, let fluxDefault, let extensionDefault):
            if let present {
                if !DriftRules.scalarsEqual(desired, present, mode: mode, key: key) {
                    entries.append(DriftEntry(path: path, actual: present.materialize(), desired: desired))
                }
            } else if let fallback = kind == .fluxConfiguration
                ? fluxDefault : kind == .extensionResource ? extensionDefault : nil
            {
                if !DriftRules.scalarsEqual(desired, fallback, key: key) {
                    entries.append(DriftEntry(path: path, actual: fallback, desired: desired))
                }
            } else {
                entries.append(DriftEntry(path: path, actual: nil, desired: desired))
            }
        }
    }

    /// Deep equality for array elements, with the scalar rules of the member holding the array.
    private static func equal(_ desired: JSON, _ observed: JSONValue, key: String) -> Bool {
        switch desired {
        case .object(let members):
            guard observed.isObject else { return false }
            return members.allSatisfy { name, value in
                let child = SpecDrift.member(name, of: observed)
                guard let child, !child.isNull else { return value == .null }
                return equal(value, child, key: name)
            }
        case .array(let items):
            let observedItems = Array(observed.elements)
            return observed.isArray && observedItems.count == items.count
                && zip(items, observedItems).allSatisfy { equal($0, $1, key: key) }
        default:
            return DriftRules.scalarsEqual(desired, observed.materialize(), key: key)
        }
    }
}

/// A drift plan with the comparisons it made, keyed by what they read of the observed resource.
///
/// Most clusters carry the same Flux spec, so the comparison is made once per distinct observed spec (status
/// members, names and ids are not read, so they do not split the key). Two keys: the text of each member the body
/// sets (cheap, and found again for most clusters), and when that is new, the fine key of exactly what the
/// comparison reads, down to any depth (so that a member of its own a cluster keeps inside `gitRepository` costs a
/// fine key, not a comparison). The first reuse of every remembered comparison is checked against a fresh one; if
/// they ever differ, the memo stops remembering. One per worker thread (not shared, no locks).
final class DriftMemo {
    /// The plan.
    let plan: DriftPlan
    /// The members the key reads (nil: the plan gives no key).
    private let names: DriftPlan.MemoKeyNames?
    /// The members the fine key reads.
    private let fineNames: DriftPlan.FineKeyNames?
    /// Everything that changes (see ``MemoState``): read and written in place, without the exclusivity checks (or
    /// the take-out-and-put-back copies) a class's stored `var`s cost on every access.
    private let owned: MemoState<State>
    private var state: UnsafeMutablePointer<State> { owned.pointer }

    /// The memo's changing part.
    private struct State: ~Copyable {
        var known = ByteKeyTable<(entries: [DriftEntry], checked: Bool)>()
        /// Comparisons by fine key, consulted when the (text) key is not known.
        var fine = ByteKeyTable<(entries: [DriftEntry], checked: Bool)>()
        /// The keys being made: the text key, the one before it, and the fine key (buffers reused from key to key).
        var scratch = DriftPlan.MemoKeyScratch()
        var disabled = false
        /// The entry of the previous key, when it has one: a key equal to the previous one (most clusters carry
        /// the same spec) is found with one byte comparison, without hashing it.
        var previousEntry: Int?
        var hits = 0
        var misses = 0
    }

    /// Comparisons reused, for tests.
    var hits: Int { state.pointee.hits }
    /// Comparisons made, for tests.
    var misses: Int { state.pointee.misses }

    /// A memo for `plan`.
    init(_ plan: DriftPlan) {
        self.plan = plan
        let names = plan.memoKeyNames()
        self.names = names
        self.fineNames = plan.fineKeyNames()
        owned = MemoState(State())
    }

    /// Whether the key just made equals the one made before it.
    private var keyRepeats: Bool { state.pointee.scratch.key.equals(state.pointee.scratch.previous) }

    /// ``DriftPlan/compare(observed:)``, reused when an earlier resource read the same.
    func compare(observed: JSONValue?) -> [DriftEntry] {
        guard let observed, !observed.isNull, let names, !state.pointee.disabled,
            plan.memoKey(observed: observed, names: names, scratch: &state.pointee.scratch)
        else { return plan.compare(observed: observed) }
        // The key becomes the previous one for the next call, whatever happens below.
        defer { swap(&state.pointee.scratch.key, &state.pointee.scratch.previous) }
        var digest: UInt64?
        let found: Int?
        if let previous = state.pointee.previousEntry, keyRepeats {
            found = previous
        } else {
            let hash = state.pointee.scratch.key.digest
            digest = hash
            found = state.pointee.known.index(of: state.pointee.scratch.key.bytes, digest: hash)
        }
        state.pointee.previousEntry = found
        if let index = found { return reuse(index, fine: false, observed: observed) }
        // The text key is new. A member the body does not set inside a desired object (an `sshKnownHosts` a
        // cluster keeps of its own) changes it without changing the comparison: look the comparison up by what it
        // reads alone before making it.
        var fineDigest: UInt64?
        if let fineNames, plan.fineMemoKey(observed: observed, names: fineNames, into: &state.pointee.scratch.fine) {
            let hash = state.pointee.scratch.fine.digest
            fineDigest = hash
            if let index = state.pointee.fine.index(of: state.pointee.scratch.fine.bytes, digest: hash) {
                return reuse(index, fine: true, observed: observed)
            }
        }
        state.pointee.misses += 1
        let entries = plan.compare(observed: observed)
        if state.pointee.known.count < 4096, let digest {
            state.pointee.known.insert(state.pointee.scratch.key.bytes, digest: digest, value: (entries, false))
            state.pointee.previousEntry = state.pointee.known.count - 1
        }
        if state.pointee.fine.count < 4096, let fineDigest {
            state.pointee.fine.insert(state.pointee.scratch.fine.bytes, digest: fineDigest, value: (entries, false))
        }
        return entries
    }

    /// The comparison remembered as entry `index` of the text-key table (or of the fine-key table), for
    /// `observed`: as remembered once confirmed; the first time, confirmed against a fresh comparison, and if the
    /// two differ the memo stops remembering.
    private func reuse(_ index: Int, fine: Bool, observed: JSONValue) -> [DriftEntry] {
        let entry = fine ? state.pointee.fine[index] : state.pointee.known[index]
        if entry.checked {
            state.pointee.hits += 1
            return entry.entries
        }
        let fresh = plan.compare(observed: observed)
        guard fresh == entry.entries else {
            state.pointee.disabled = true
            state.pointee.known.removeAll()
            state.pointee.fine.removeAll()
            state.pointee.previousEntry = nil
            return fresh
        }
        if fine { state.pointee.fine[index] = (fresh, true) } else { state.pointee.known[index] = (fresh, true) }
        state.pointee.hits += 1
        return fresh
    }
}
