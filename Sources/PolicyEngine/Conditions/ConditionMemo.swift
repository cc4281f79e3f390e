import FleetCore

/// Remembers condition results by the values they read, so that resources that read the same get the result
/// (reasons included) without evaluating the condition again.
///
/// A condition qualifies when every leaf compares a field resolved at parse time (or a literal `value`) with a
/// literal target, so that the result depends only on the resource's type and the fields it reads: no
/// expressions, no `field()` or `current()`, no counts. The key is the resource type and the JSON text of every
/// input the condition can read: the record's top-level members its fields start with, and for fields under
/// `properties` the value at the field's path, as far as it goes through members (to the `[*]` of a collection
/// field), looked up as the evaluator looks them up. Members beside the path (an `sshKnownHosts` next to the
/// `gitRepository.url` read, status members, names, ids) do not split the key.
///
/// The first reuse of every remembered result is checked against a full evaluation; a condition whose results
/// ever differ is evaluated in full from then on. One memo per worker thread (not shared, no locks).
final class ConditionMemo {
    /// One input a condition reads: a top-level member of the record, or a member of its `properties`.
    struct Input: Hashable {
        var underProperties: Bool
        /// The member name, lowercased (members are looked up ignoring case).
        var name: String
        /// Under `properties`: the members the field goes on to below ``name``, lowercased, as far as they are
        /// members (empty: the whole member is read).
        var path: [String] = []
    }

    /// A remembered result, with its reasons converted for results once.
    final class Entry {
        /// The result, with reasons.
        let result: ConditionResult
        /// Whether a full evaluation confirmed it once.
        var checked = false
        private var plain: [PolicyReason]?
        private var named: (candidate: String, reasons: [PolicyReason])?

        init(_ result: ConditionResult) { self.result = result }

        /// The reasons as results carry them (`candidate`: the related resource they were evaluated on).
        func reasons(candidate: String?) -> [PolicyReason] {
            guard let candidate else {
                if let plain { return plain }
                let made = PolicyEvaluator.reasons(result)
                plain = made
                return made
            }
            if let named, named.candidate == candidate { return named.reasons }
            let made = PolicyEvaluator.reasons(result, candidate: candidate)
            named = (candidate, made)
            return made
        }
    }

    /// Where a key's inputs are read from: the names looked up in one pass over the record, and over its
    /// `properties`.
    final class KeyReader {
        /// `properties` first when an input is under it, then the top-level inputs.
        let top: JSONMemberNames
        /// The inputs under `properties`.
        let underProperties: JSONMemberNames
        /// Per input, in order: whether it is under `properties`, its position in ``top`` or ``underProperties``,
        /// and the path below that member.
        let positions: [(underProperties: Bool, position: Int, path: [String])]

        /// Whether ``top`` starts with `properties`.
        let readsProperties: Bool

        init(_ inputs: [Input]) {
            readsProperties = inputs.contains(where: \.underProperties)
            var top = readsProperties ? ["properties"] : []
            var nested: [String] = []
            var positions: [(Bool, Int, [String])] = []
            for input in inputs {
                if input.underProperties {
                    // Inputs on one member of `properties` (`gitRepository.url`, `gitRepository.timeoutInSeconds`)
                    // find it once.
                    if let known = nested.firstIndex(of: input.name) {
                        positions.append((true, known, input.path))
                    } else {
                        positions.append((true, nested.count, input.path))
                        nested.append(input.name)
                    }
                } else {
                    positions.append((false, top.count, []))
                    top.append(input.name)
                }
            }
            self.top = JSONMemberNames(top)
            self.underProperties = JSONMemberNames(nested)
            self.positions = positions
        }
    }

    private final class State {
        /// What the condition reads; nil when it does not qualify.
        let inputs: [Input]?
        /// How to read ``inputs`` (nil when the condition does not qualify).
        let reader: KeyReader?
        // Unchecked: a memo belongs to one thread and is never re-entered, so the run-time exclusivity check each
        // access would cost (about 80 instructions, several per look-up) guards nothing.
        @exclusivity(unchecked) var entries = ByteKeyTable<Entry>()
        @exclusivity(unchecked) var disabled = false
        /// Per shared key (its index in ``ConditionMemo/shared``): whether it reads everything this condition reads.
        let sharesKey: [Bool]

        init(inputs: [Input]?, shared: [(type: String, set: Set<Input>, reader: KeyReader)]) {
            self.inputs = inputs
            self.reader = inputs.map(KeyReader.init)
            self.sharesKey = shared.map { union in inputs.map { $0.allSatisfy(union.set.contains) } ?? false }
        }
    }

    /// What a memo changes as it works, kept behind ``storage``.
    private struct Storage: ~Copyable {
        /// The shared keys made this cluster, by resource (the record keeps its document alive) and type: where
        /// their bytes are in ``keyBytes``, and their digests.
        var keys: [(record: JSONValue, type: String, bytes: Range<Int>, digest: UInt64)] = []
        /// The bytes of ``keys``, one after another (reused storage).
        var keyBytes: [UInt8] = []
        /// The key being made (reused storage).
        var builder = ByteKeyBuilder()
        /// What the memo knows about each condition, by slot (slots are small and dense: an array, not a
        /// dictionary).
        var states: [State?] = []
        var hits = 0
        var misses = 0
    }

    /// The inputs of every qualifying condition the scan evaluates on a resource type (lowercased), so that one
    /// key per resource serves all of them.
    private let shared: [(type: String, set: Set<Input>, reader: KeyReader)]
    /// The memo's changing state (see ``MemoState``).
    private let state = MemoState(Storage())
    private var storage: UnsafeMutablePointer<Storage> { state.pointer }

    /// A memo for the conditions of `policies`.
    ///
    /// Their `if` shares keys on the types it names (or on clusters), their existence condition on their related
    /// type. Conditions evaluated on other types are keyed alone. `canonical` gives the instance of a type key
    /// that the resources' keys share (``PolicyEvaluator/Candidate/canonical(_:)`` unless a thread has its own).
    init(policies: [AssignedPolicy] = [], canonical: (String) -> String = PolicyEvaluator.Candidate.canonical) {
        var shared: [String: (inputs: [Input], set: Set<Input>)] = [:]
        func add(_ condition: Condition?, types: [String]) {
            guard let condition, let inputs = Self.inputs(of: condition) else { return }
            for type in types {
                var entry = shared[type] ?? ([], [])
                for input in inputs where entry.set.insert(input).inserted { entry.inputs.append(input) }
                shared[type] = entry
            }
        }
        let clusterTypes = ClusterKind.allCases.map { canonical(PolicyEvaluator.Candidate.clusterKeys[$0]!) }
        for policy in policies {
            add(policy.condition, types: policy.typeList ?? clusterTypes)
            if !policy.relatedTypeKey.isEmpty { add(policy.existenceCondition, types: [policy.relatedTypeKey]) }
        }
        self.shared = shared.keys.sorted().map {
            (canonical($0), shared[$0]!.set, KeyReader(shared[$0]!.inputs))
        }
    }

    /// Forgets the keys of the last cluster's resources.
    func startCluster() {
        storage.pointee.keys.removeAll(keepingCapacity: true)
        storage.pointee.keyBytes.removeAll(keepingCapacity: true)
    }

    /// Results reused and evaluated, for tests.
    var hits: Int { storage.pointee.hits }
    var misses: Int { storage.pointee.misses }

    /// The result of `condition` (identified by `slot`, one per compiled condition) for `resource`, with reasons;
    /// nil when the condition does not qualify or the memo gave up on it (evaluate it directly then).
    ///
    /// `typeKey` is `resourceType` lowercased (the caller has it at hand; computed when nil). `makeContext` is
    /// called only when the condition is evaluated: a remembered result needs no context (making one costs a
    /// reference count of each of its members, made and dropped).
    func entry(
        _ condition: Condition, slot: Int, resource: JSONValue, resourceType: String, typeKey: String? = nil,
        makeContext: () -> PolicyExpressionContext, fieldFunctionReadsContext: Bool
    ) -> Entry? {
        let memo = storage
        let prepared: State
        if slot < memo.pointee.states.count, let known = memo.pointee.states[slot] {
            prepared = known
        } else {
            prepared = State(inputs: Self.inputs(of: condition), shared: shared)
            while memo.pointee.states.count <= slot { memo.pointee.states.append(nil) }
            memo.pointee.states[slot] = prepared
        }
        guard !prepared.disabled, let reader = prepared.reader else { return nil }
        let lowered = typeKey ?? ASCII.lowercased(resourceType)
        // The key is looked up where it is (a shared key in `keyBytes`, another in `builder`): it is copied only
        // when it is inserted.
        let sharedBytes: Range<Int>?
        let digest: UInt64
        if let index = shared.firstIndex(where: { PolicyEvaluator.Candidate.sameKey($0.type, lowered) }),
            prepared.sharesKey[index]
        {
            // One key per resource for every condition on its type: made once per cluster.
            if let made = memo.pointee.keys.first(where: {
                $0.record.document === resource.document && $0.record.offset == resource.offset
                    && $0.type == resourceType
            }) {
                sharedBytes = made.bytes
                digest = made.digest
            } else {
                key(resource, resourceType, shared[index].reader, shared: true, into: &memo.pointee.builder)
                digest = memo.pointee.builder.digest
                let start = memo.pointee.keyBytes.count
                memo.pointee.keyBytes.append(contentsOf: memo.pointee.builder.bytes)
                sharedBytes = start..<memo.pointee.keyBytes.count
                memo.pointee.keys.append((resource, resourceType, start..<memo.pointee.keyBytes.count, digest))
            }
        } else {
            key(resource, resourceType, reader, shared: false, into: &memo.pointee.builder)
            digest = memo.pointee.builder.digest
            sharedBytes = nil
        }
        func withKey<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            if let sharedBytes {
                return memo.pointee.keyBytes.withUnsafeBytes {
                    body(UnsafeRawBufferPointer(rebasing: $0[sharedBytes]))
                }
            }
            return body(memo.pointee.builder.bytes)
        }
        let evaluator = ConditionEvaluator(collectsReasons: true, fieldFunctionReadsContext: fieldFunctionReadsContext)
        if let index = withKey({ prepared.entries.index(of: $0, digest: digest) }) {
            let known = prepared.entries[index]
            if known.checked {
                memo.pointee.hits += 1
                return known
            }
            let fresh = evaluator.evaluate(
                condition, resource: resource, resourceType: resourceType, context: makeContext())
            guard fresh == known.result else {
                prepared.disabled = true
                prepared.entries.removeAll()
                return nil
            }
            known.checked = true
            memo.pointee.hits += 1
            return known
        }
        memo.pointee.misses += 1
        let entry = Entry(
            evaluator.evaluate(condition, resource: resource, resourceType: resourceType, context: makeContext()))
        if prepared.entries.count < 4096 { withKey { prepared.entries.insert($0, digest: digest, value: entry) } }
        return entry
    }

    /// Writes into `key` the JSON text of the inputs `reader` reads in `resource`, looked up as the evaluator looks them up
    /// (ignoring case, the last match winning): one pass over the record and one over its `properties`.
    private func key(
        _ resource: JSONValue, _ resourceType: String, _ reader: KeyReader, shared: Bool,
        into key: inout ByteKeyBuilder
    ) {
        key.reset()
        key.append(tag: shared ? 1 : 0)
        key.append(text: resourceType)
        // Positions, not values: nothing is retained for the members read (``JSONValue/memberPositions``).
        let topCount = reader.top.count
        withUnsafeTemporaryAllocation(of: Int.self, capacity: topCount + reader.underProperties.count + 1) {
            positions in
            let top = UnsafeMutableBufferPointer(rebasing: positions[0..<topCount])
            let nested = UnsafeMutableBufferPointer(rebasing: positions[topCount...])
            if topCount > 0 { resource.memberPositions(reader.top, matching: .ignoringCase, into: top) }
            var readProperties = false
            if reader.readsProperties, let properties = resource.value(at: top[0]), !properties.isNull {
                properties.memberPositions(reader.underProperties, matching: .ignoringCase, into: nested)
                readProperties = true
            }
            for (underProperties, position, path) in reader.positions {
                if underProperties {
                    guard readProperties, var value = resource.value(at: nested[position]) else {
                        key.append(nil)
                        continue
                    }
                    // Down the path as ``FieldReference`` walks it: a member missing or null on the way leaves
                    // the field missing.
                    var reached = true
                    for name in path {
                        guard let next = value.member(ignoringCase: name), !next.isNull else {
                            reached = false
                            break
                        }
                        value = next
                    }
                    key.append(reached ? value : nil)
                } else {
                    key.append(resource.value(at: top[position]))
                }
            }
        }
    }

    /// What `condition` reads; nil when it does not qualify.
    private static func inputs(of condition: Condition) -> [Input]? {
        var inputs: [Input] = []
        var seen: Set<Input> = []
        func add(_ input: Input) {
            if seen.insert(input).inserted { inputs.append(input) }
        }
        func field(_ reference: FieldReference) -> Bool {
            switch reference.transform {
            case .unsupported:
                return true
            case .fullName:
                return false  // reads the id: never shared
            case .location:
                add(Input(underProperties: false, name: "location"))
                return true
            case .none:
                if reference.readsProperties {
                    guard case .member(let name) = reference.segments[1] else { return false }
                    var path: [String] = []
                    for segment in reference.segments.dropFirst(2) {
                        guard case .member(let below) = segment else { break }
                        path.append(ASCII.lowercased(below))
                    }
                    add(Input(underProperties: true, name: ASCII.lowercased(name), path: path))
                    return true
                }
                guard case .member(let name)? = reference.segments.first else { return false }
                add(Input(underProperties: false, name: ASCII.lowercased(name)))
                return true
            }
        }
        func visit(_ condition: Condition) -> Bool {
            switch condition {
            case .allOf(let children, _), .anyOf(let children, _):
                return children.allSatisfy(visit)
            case .not(let child, _):
                return visit(child)
            case .leaf(let leaf):
                guard leaf.preparedTarget != nil else { return false }
                switch leaf.subject {
                case .value(.literal): return true
                case .field(.resolved(let reference)): return field(reference)
                default: return false
                }
            }
        }
        return visit(condition) ? inputs : nil
    }
}
