import FleetCore

/// Records stand-in symbols that reached a function which would look into them.
///
/// A symbol is `ffsymq7x` + two digits + `z`: a valid name segment that no real value of the inputs
/// contains (inputs that do are never replaced by symbols).
final class SymbolTrap: @unchecked Sendable {
    /// The bytes every symbol starts with.
    static let prefix = Array("ffsymq7x".utf8)
    /// Functions that only move their arguments around (never compare, measure or transform them), so a
    /// symbol passes through them to the output unchanged.
    static let transparent: Set<String> = ["concat", "string", "createArray", "createObject", "array", "coalesce"]

    /// The slots whose symbols were caught.
    var caught: Set<Int> = []

    /// The symbol for slot `index` (0…99).
    static func symbol(_ index: Int) -> String {
        "ffsymq7x" + (index < 10 ? "0" : "") + String(index) + "z"
    }

    /// Whether any value holds a symbol; the slots found are recorded.
    func catches(_ values: [JSON]) -> Bool {
        var found = false
        for value in values where Self.collect(value, into: &caught) { found = true }
        return found
    }

    /// Adds the slots of every symbol in `value` (strings and object keys, deeply); true if any.
    static func collect(_ value: JSON, into slots: inout Set<Int>) -> Bool {
        switch value {
        case .string(let text): return scan(text) { slots.insert($0) }
        case .array(let items):
            var found = false
            for item in items where collect(item, into: &slots) { found = true }
            return found
        case .object(let members):
            var found = false
            for (key, item) in members {
                if scan(key, { slots.insert($0) }) { found = true }
                if collect(item, into: &slots) { found = true }
            }
            return found
        default: return false
        }
    }

    /// Calls `slot` for every symbol in `text`; true if there was one.
    @discardableResult
    static func scan(_ text: String, _ slot: (Int) -> Void) -> Bool {
        var text = text
        return text.withUTF8 { scan(bytes: $0, slot) }
    }

    /// ``scan(_:_:)`` over UTF-8 bytes.
    @discardableResult
    static func scan(bytes: UnsafeBufferPointer<UInt8>, _ slot: (Int) -> Void) -> Bool {
        var found = false
        var i = 0
        let p = prefix
        while i + p.count + 3 <= bytes.count {
            if bytes[i] == p[0], bytes[i + 1] == p[1], bytes[i + 2] == p[2],
                bytes[i + 3] == p[3], bytes[i + 4] == p[4], bytes[i + 5] == p[5], bytes[i + 6] == p[6],
                bytes[i + 7] == p[7]
            {
                let d1 = Int(bytes[i + 8]) - 48
                let d2 = Int(bytes[i + 9]) - 48
                if (0...9).contains(d1), (0...9).contains(d2), bytes[i + 10] == UInt8(ascii: "z") {
                    slot(d1 * 10 + d2)
                    found = true
                    i += 11
                    continue
                }
            }
            i += 1
        }
        return found
    }

    /// `text` with every symbol replaced by its slot's value.
    static func substitute(_ text: String, _ values: [String]) -> String {
        var text = text
        guard text.utf8.count >= 11 else { return text }
        var out: [UInt8] = []
        var changed = false
        text.withUTF8 { bytes in
            out.reserveCapacity(bytes.count + 64)
            var i = 0
            let p = prefix
            while i < bytes.count {
                if i + 11 <= bytes.count, bytes[i] == p[0], bytes[i + 1] == p[1], bytes[i + 2] == p[2],
                    bytes[i + 3] == p[3], bytes[i + 4] == p[4], bytes[i + 5] == p[5], bytes[i + 6] == p[6],
                    bytes[i + 7] == p[7], bytes[i + 10] == UInt8(ascii: "z")
                {
                    let slot = (Int(bytes[i + 8]) - 48) * 10 + (Int(bytes[i + 9]) - 48)
                    if slot >= 0, slot < values.count {
                        out.append(contentsOf: values[slot].utf8)
                        changed = true
                        i += 11
                        continue
                    }
                }
                out.append(bytes[i])
                i += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }

    /// `value` with every symbol replaced, in strings and object keys.
    static func substitute(_ value: JSON, _ values: [String]) -> JSON {
        switch value {
        case .string(let text): return .string(substitute(text, values))
        case .array(let items): return .array(items.map { substitute($0, values) })
        case .object(let members):
            var out: [String: JSON] = [:]
            out.reserveCapacity(members.count)
            for (key, item) in members { out[substitute(key, values)] = substitute(item, values) }
            return .object(out)
        default: return value
        }
    }
}

/// A string with symbols in it, split once into literal pieces and slots.
struct SymbolicText {
    /// The text when it has no symbols.
    let literal: String?
    /// Literal pieces around the symbols (one more than ``slots``).
    let pieces: [String]
    /// The slot of each symbol, in order.
    let slots: [Int]
    /// The pieces' bytes one after another, and where each piece ends among them: a specialised text is made by
    /// copying bytes (no string of a piece is touched, so nothing is retained or released per piece).
    private let pieceBytes: [UInt8]
    private let pieceEnds: [Int]

    init(_ text: String) {
        var pieces: [String] = []
        var slots: [Int] = []
        var start = text.utf8.startIndex
        var cursor = start
        let bytes = Array(text.utf8)
        var i = 0
        let p = SymbolTrap.prefix
        while i + 11 <= bytes.count {
            if bytes[i] == p[0], Array(bytes[i..<(i + 8)]) == p, bytes[i + 10] == UInt8(ascii: "z"),
                (48...57).contains(bytes[i + 8]), (48...57).contains(bytes[i + 9])
            {
                cursor = text.utf8.index(text.utf8.startIndex, offsetBy: i)
                pieces.append(String(text[start..<cursor]))
                slots.append(Int(bytes[i + 8] - 48) * 10 + Int(bytes[i + 9] - 48))
                start = text.utf8.index(cursor, offsetBy: 11)
                i += 11
                continue
            }
            i += 1
        }
        pieces.append(String(text[start...]))
        self.literal = slots.isEmpty ? text : nil
        self.pieces = pieces
        self.slots = slots
        var pieceBytes: [UInt8] = []
        var pieceEnds: [Int] = []
        for piece in pieces {
            pieceBytes.append(contentsOf: piece.utf8)
            pieceEnds.append(pieceBytes.count)
        }
        self.pieceBytes = pieceBytes
        self.pieceEnds = pieceEnds
    }

    /// The text with each symbol replaced by its slot's value.
    func text(_ values: [String]) -> String {
        if let literal { return literal }
        return values.withUnsafeBufferPointer { text($0) }
    }

    /// The text with each symbol replaced by its slot's value.
    func text(_ values: UnsafeBufferPointer<String>) -> String {
        if let literal { return literal }
        var length = pieceBytes.count
        for slot in slots {
            // A slot without a value keeps its symbol (only a failed miss asks for one).
            guard slot < values.count else { return joined(values) }
            length += values[slot].utf8.count
        }
        // One allocation, filled by copying the pieces' bytes and each value's bytes.
        return pieceBytes.withUnsafeBufferPointer { literal in
            String(unsafeUninitializedCapacity: length) { buffer in
                guard let target = buffer.baseAddress else { return 0 }
                var at = 0
                var from = 0
                for k in 0...slots.count {
                    let end = pieceEnds[k]
                    if end > from, let source = literal.baseAddress {
                        (target + at).update(from: source + from, count: end - from)
                        at += end - from
                    }
                    from = end
                    guard k < slots.count else { break }
                    let value = values[slots[k]]
                    let copied = value.utf8.withContiguousStorageIfAvailable { bytes in
                        if let source = bytes.baseAddress { (target + at).update(from: source, count: bytes.count) }
                        return bytes.count
                    }
                    if let copied {
                        at += copied
                    } else {
                        for byte in value.utf8 {
                            target[at] = byte
                            at += 1
                        }
                    }
                }
                return at
            }
        }
    }

    /// ``text(_:)`` made from strings, with the symbol itself for a slot that has no value.
    private func joined(_ values: UnsafeBufferPointer<String>) -> String {
        var out = pieces[0]
        for (k, slot) in slots.enumerated() {
            out += slot < values.count ? values[slot] : SymbolTrap.symbol(slot)
            out += pieces[k + 1]
        }
        return out
    }
}

/// Remembers evaluated DeployIfNotExists deployments so that clusters which differ only in names get
/// their desired resources without evaluating the template again.
///
/// A template is evaluated once with **symbols** standing in for the per-cluster inputs that are plain
/// names (the cluster name from `field('name')`, the subscription id, the resource group name); the
/// output is then specialised for each cluster by replacing the symbols with that cluster's values.
/// That is exact as long as the template only moves those values around (`concat`, `string`, `if`
/// branches…): a function that would look into a symbol (`toLower`, `equals`, `length`, an index …)
/// is caught, and the input it read becomes part of the memo key instead. Every new memo entry is
/// checked once against a full evaluation for the cluster that created it; a policy whose outputs ever
/// differ is evaluated in full for every cluster from then on.
///
/// One memo per worker thread (not shared, no locks); entries are keyed by policy.
final class DeploymentMemo {
    /// What the memo knows about one policy's deployment (a class: updated in place, never copied).
    final class PolicyState {
        /// The deployment's `properties` (nil when they do not read: the full path reports the error).
        var properties: [String: JSON]?
        /// Supplied parameters that do not depend on the resource, evaluated once.
        var constants: [String: JSON]?
        /// The supplied-parameters object reduced to the entries that read the resource.
        var dynamicParameters: JSON?
        /// Their names, sorted (slot 2 onwards).
        var dynamicNames: [String] = []
        /// Their `value`s parsed once, when every one is a plain `{"value": …}` string.
        var dynamicValues: [(name: String, value: TemplateValue, text: String, field: FieldReference?)]?
        /// Per entry of ``dynamicValues``: where a field read as one top-level member (`name`, `type`,
        /// `location`) sits among the memo's plain fields (nil for other values).
        var plainFieldPositions: [Int?] = []
        /// Symbolic outputs by the values of the concrete slots (nil at a symbolic slot).
        var outputs: [[JSON?]: [SymbolicResource]] = [:]

        /// What every look-up reads and a miss changes, reached through a pointer: a memo is used by one thread
        /// at a time, so reading it needs no run-time exclusivity checks.
        private struct Hot {
            /// Whether the memo gave up on this policy (evaluate in full).
            var disabled = false
            /// Slots that must be compared by value instead of replaced by symbols (learned), as bits (slots
            /// 0…127): tested for every cluster without hashing.
            var concrete = SlotMask()
            /// A few entries of ``outputs``, found by comparing values (a fleet has few shapes): most look-ups
            /// hash nothing and make no key.
            var recent: [Recent] = []
        }

        /// An entry of ``outputs`` as a look-up compares it: the key's length, which slots are symbols, and the
        /// values of the others.
        private struct Recent {
            var count: Int
            var symbolic = SlotMask()
            var values: [(slot: Int, value: JSON)] = []
            var output: [SymbolicResource]

            init(_ key: [JSON?], _ output: [SymbolicResource]) {
                count = key.count
                self.output = output
                for (slot, value) in key.enumerated() {
                    if let value { values.append((slot, value)) } else { symbolic.insert(slot) }
                }
            }
        }

        private let hotState = MemoState(Hot())
        private var hot: UnsafeMutablePointer<Hot> { hotState.pointer }

        /// Whether the memo gave up on this policy (evaluate in full).
        var disabled: Bool {
            get { hot.pointee.disabled }
            set { hot.pointee.disabled = newValue }
        }

        /// Slots that must be compared by value instead of replaced by symbols (learned).
        var concrete: SlotMask {
            get { hot.pointee.concrete }
            set { hot.pointee.concrete = newValue }
        }

        /// The output remembered for `key`, as ``outputs`` has it (after ``recentOutput(_:symbolic:)`` found
        /// none).
        func output(for key: [JSON?]) -> [SymbolicResource]? {
            guard let found = outputs[key] else { return nil }
            if hot.pointee.recent.count < 8 { hot.pointee.recent.append(Recent(key, found)) }
            return found
        }

        /// The output of the recent entry whose key is the one `values` and `symbolic` make (nil where a slot
        /// is symbolic, its value elsewhere), found without making that key.
        func recentOutput(_ values: UnsafeMutableBufferPointer<JSON>, symbolic: SlotMask) -> [SymbolicResource]? {
            let hot = self.hot
            search: for k in 0..<hot.pointee.recent.count {
                guard hot.pointee.recent[k].count == values.count, hot.pointee.recent[k].symbolic == symbolic else {
                    continue
                }
                for (slot, value) in hot.pointee.recent[k].values where !Self.same(value, values[slot]) {
                    continue search
                }
                return hot.pointee.recent[k].output
            }
            return nil
        }

        /// `a == b`, with strings (the common case) compared directly.
        private static func same(_ a: JSON, _ b: JSON) -> Bool {
            if case .string(let x) = a, case .string(let y) = b { return x == y }
            return a == b
        }
    }

    /// A set of slots (0…127) as bits.
    struct SlotMask: Equatable {
        var low: UInt64 = 0
        var high: UInt64 = 0

        /// Whether `slot` is in the set.
        func contains(_ slot: Int) -> Bool {
            slot < 64 ? low >> UInt64(slot) & 1 != 0 : high >> UInt64(slot - 64) & 1 != 0
        }

        /// Adds `slot`.
        mutating func insert(_ slot: Int) {
            if slot < 64 { low |= 1 << UInt64(slot) } else { high |= 1 << UInt64(slot - 64) }
        }

        /// The slots of `self` that are not in `other`.
        func subtracting(_ other: SlotMask) -> SlotMask {
            SlotMask(low: low & ~other.low, high: high & ~other.high)
        }
    }

    /// A symbolic output, with whether its body holds symbols at all (most do not: only ids name the cluster).
    final class SymbolicResource {
        let resource: DesiredResource
        let id: SymbolicText
        let type: SymbolicText
        let name: SymbolicText
        let apiVersion: SymbolicText
        let dependsOn: [SymbolicText]
        /// The slots the body's symbols stand for (most bodies have none: only ids name the cluster).
        let bodySlots: [Int]
        /// The body's drift plan (with the comparisons it made), when the body has no symbols.
        let plan: DriftMemo?
        /// Specialised bodies and their plans by the values of ``bodySlots`` (a location, say).
        var bodies: [[String]: (body: JSON, plan: DriftMemo)] = [:]
        /// The same when there is one slot, keyed by its value alone (no array to build per cluster).
        var bodiesBySlot: [String: (body: JSON, plan: DriftMemo)] = [:]
        /// A few entries of ``bodiesBySlot``, found by comparing values (a fleet has few locations, say): most
        /// look-ups hash nothing.
        var recentBySlot: [(value: String, made: (body: JSON, plan: DriftMemo))] = []

        init(_ resource: DesiredResource) {
            self.resource = resource
            self.id = SymbolicText(resource.id)
            self.type = SymbolicText(resource.type)
            self.name = SymbolicText(resource.name)
            self.apiVersion = SymbolicText(resource.apiVersion)
            self.dependsOn = resource.dependsOn.map(SymbolicText.init)
            var slots: Set<Int> = []
            _ = SymbolTrap.collect(resource.body, into: &slots)
            self.bodySlots = slots.sorted()
            self.plan = slots.isEmpty ? DriftMemo(DriftPlan(desired: resource.body)) : nil
        }

        /// The body for these slot values, with its plan.
        func body(_ values: UnsafeBufferPointer<String>) -> (body: JSON, plan: DriftMemo) {
            if let plan { return (resource.body, plan) }
            // A slot without a value (a symbol that came with the inputs) keeps its symbol.
            func value(_ slot: Int) -> String { slot < values.count ? values[slot] : SymbolTrap.symbol(slot) }
            if bodySlots.count == 1 {
                let value = value(bodySlots[0])
                for entry in recentBySlot where entry.value == value { return entry.made }
                if let known = bodiesBySlot[value] {
                    if recentBySlot.count < 8 { recentBySlot.append((value, known)) }
                    return known
                }
                let body = SymbolTrap.substitute(resource.body, Array(values))
                let made = (body, DriftMemo(DriftPlan(desired: body)))
                if bodiesBySlot.count < 1024 { bodiesBySlot[value] = made }
                return made
            }
            let key = bodySlots.map(value)
            if let known = bodies[key] { return known }
            let body = SymbolTrap.substitute(resource.body, Array(values))
            let made = (body, DriftMemo(DriftPlan(desired: body)))
            if bodies.count < 1024 { bodies[key] = made }
            return made
        }
    }

    /// The last resource type read and its index in ``AliasCatalog/supportedTypes`` (clusters come in two types).
    private var lastType: (type: String, index: Int?)?
    /// The resource whose fields ``lastReads`` holds (the record, which keeps its document alive, and its
    /// type): the policies of one cluster read the same fields (`name`, `type`) of the same record.
    private var lastResource: (record: JSONValue, type: String)?
    private var lastReads: [(field: String, value: JSON)] = []
    /// The policies' states, the fields of every policy prepared so far that read one top-level member of any
    /// resource (`name`, `type`, `location`) and what was read of them (all of them are found in one pass over a
    /// record), the place of the last cluster, and the counters.
    private struct Storage {
        /// Policy states by policy index (indexes are small); ``otherStates`` holds any other index.
        var states: [PolicyState?] = []
        var otherStates: [Int: PolicyState] = [:]
        /// The fields, by position.
        var fields: [(member: String, isLocation: Bool)] = []
        /// The member names of ``fields``, looked up together.
        var names = JSONMemberNames([])
        /// The record whose members ``found`` holds (nil: none yet, or ``fields`` grew since), kept alive so that
        /// its document's identity and its offset, compared for every field read, stay its own.
        var record: JSONValue?
        var recordDocument: ObjectIdentifier?
        var recordOffset = 0
        /// The members found for ``fields`` in ``record``, and the values made of them so far.
        var found: [JSONValue?] = []
        var values: [JSON?] = []
        /// Whether each of ``values`` is a plain name (``DeploymentMemo/isPlainName(_:)``): 0 not known yet, 1 yes,
        /// 2 no; decided once per record, however many policies read the field.
        var plainness: [UInt8] = []
        /// Per field, the values made of the first two string members met, by the member's text.
        ///
        /// Looked up while most look-ups find one (a resource type has two values in most fleets; names and locations
        /// soon stop being looked up): clusters share one string instead of each making its own, and comparisons of
        /// the shared strings find them identical at once. With the look-ups that found one and not.
        var shared: [[SharedValue]] = []
        var sharedHits: [Int] = []
        var sharedMisses: [Int] = []
        /// The cluster whose place ``place`` holds: the policies of one cluster read the same subscription and
        /// resource group.
        var cluster: String?
        /// Slots 0 and 1 for ``cluster``: its subscription id and resource group name, and whether each is a
        /// plain name (``DeploymentMemo/isPlainName(_:)``); nil when the cluster is in no resource group.
        var place: Place?
        /// Memo hits, misses and full evaluations.
        var hits = 0
        var misses = 0
        var full = 0
    }

    /// Where the plainness of a slot's value is known (a slot source), when it is not a position among the plain
    /// fields (0 onwards, decided once per record).
    private enum SlotSource {
        /// Decided per call by ``DeploymentMemo/isPlainName(_:)``.
        static let unknown = -1
        /// A plain name, or not one (the place's slots, decided once per cluster).
        static let plain = -2
        static let notPlain = -3
    }

    /// A value made of a plain field's string member, with the member's text and whether the value is a plain name.
    private struct SharedValue {
        var source: String
        var value: JSON
        var plain: Bool
    }

    /// Slots 0 and 1 of a cluster.
    private struct Place {
        var subscriptionId: String
        var resourceGroup: String
        var plain: (Bool, Bool)
        /// The start of the cluster's id that names them (``DeploymentMemo/placePrefix(of:subscriptionId:resourceGroup:)``).
        var prefix: [UInt8]
    }

    /// The storage (see ``MemoState``).
    private let state = MemoState(Storage())
    private var storage: UnsafeMutablePointer<Storage> { state.pointer }

    /// Memo hits, misses and full evaluations, for tests and benchmarks.
    var hits: Int { storage.pointee.hits }
    var misses: Int { storage.pointee.misses }
    var full: Int { storage.pointee.full }

    /// The desired resources of `deployment` for `cluster`; the same value (or error) as
    /// ``DeploymentEvaluator/desiredResources(deployment:policyParameters:cluster:)``.
    func desiredResources(
        policy index: Int, deployment: JSON, policyParameters: PolicyExpressionContext, cluster: ResourceID
    ) throws(DeploymentError) -> [DesiredResource] {
        try desired(policy: index, deployment: deployment, policyParameters: policyParameters, cluster: cluster)
            .map(\.resource)
    }

    /// The desired resources with their drift plans, when the memo has them.
    func desired(
        policy index: Int, deployment: JSON, policyParameters: PolicyExpressionContext, cluster: ResourceID
    ) throws(DeploymentError) -> [(resource: DesiredResource, plan: DriftMemo?)] {
        let state = policyState(index, deployment: deployment, policyParameters: policyParameters)
        guard !state.disabled, let properties = state.properties, let constants = state.constants,
            let place = place(of: cluster)
        else {
            storage.pointee.full += 1
            return try DeploymentEvaluator.desiredResources(
                deployment: deployment, policyParameters: policyParameters, cluster: cluster
            ).map { ($0, nil) }
        }
        // Slots: 0 the subscription id, 1 the resource group name, then the per-resource supplied values; their
        // values and texts live on the stack for the call (no arrays made, filled, emptied and freed per call).
        let count = 2 + state.dynamicNames.count
        precondition(state.dynamicValues.map { $0.count == state.dynamicNames.count } ?? true)
        return try withUnsafeTemporaryAllocation(of: JSON.self, capacity: count) {
            (values) throws(DeploymentError) in
            try withUnsafeTemporaryAllocation(of: String.self, capacity: count) {
                (texts) throws(DeploymentError) in
                try desired(
                    state, properties: properties, constants: constants, place: place, values: values, texts: texts,
                    deployment: deployment, policyParameters: policyParameters, cluster: cluster)
            }
        }
    }

    /// ``desired(policy:deployment:policyParameters:cluster:)`` for a policy the memo serves, with uninitialized
    /// storage for the slots' values and texts (the values of symbolic slots, `""` for the others).
    private func desired(
        _ state: PolicyState, properties: [String: JSON], constants: [String: JSON], place: Place,
        values: UnsafeMutableBufferPointer<JSON>, texts: UnsafeMutableBufferPointer<String>, deployment: JSON,
        policyParameters: PolicyExpressionContext, cluster: ResourceID
    ) throws(DeploymentError) -> [(resource: DesiredResource, plan: DriftMemo?)] {
        func unplanned(_ resources: [DesiredResource]) -> [(resource: DesiredResource, plan: DriftMemo?)] {
            resources.map { ($0, nil) }
        }
        let storage = self.storage
        let resourceGroup = place.resourceGroup
        // How many slots are initialized, and which of them hold plain names.
        var filled = 0
        var plain = SlotMask()
        defer {
            // One by one (a `deinitialize(count:)` of several goes through the generic array destroy).
            for k in 0..<filled {
                _ = values.moveElement(from: k)
                _ = texts.moveElement(from: k)
            }
        }
        values.initializeElement(at: 0, to: .string(place.subscriptionId))
        texts.initializeElement(at: 0, to: place.plain.0 ? place.subscriptionId : "")
        values.initializeElement(at: 1, to: .string(resourceGroup))
        texts.initializeElement(at: 1, to: place.plain.1 ? resourceGroup : "")
        filled = 2
        if place.plain.0 { plain.insert(0) }
        if place.plain.1 { plain.insert(1) }
        /// Fills the next slot with `value`, and its text with `plainName` when the value is one (`""` otherwise).
        func fill(_ value: JSON, plainName: String?) {
            if plainName != nil { plain.insert(filled) }
            texts.initializeElement(at: filled, to: plainName ?? "")
            values.initializeElement(at: filled, to: value)
            filled += 1
        }
        if let compiled = state.dynamicValues {
            // The record, taken out of the context once (not copied with its type and id for every parameter).
            let record = policyParameters.resource?.json
            let positions = state.plainFieldPositions
            for k in compiled.indices {
                let value: JSON
                let source: Int
                if let position = positions[k], let record {
                    value = plainField(position, of: record)
                    source = position
                } else if let field = compiled[k].field, let resource = policyParameters.resource {
                    value = fieldValue(field, of: resource)
                    source = SlotSource.unknown
                } else {
                    do {
                        value = try ExpressionEvaluator().evaluate(
                            compiled[k].value, context: policyParameters, source: compiled[k].text)
                        source = SlotSource.unknown
                    } catch {
                        // The full path reports the failure with its place in the policy.
                        storage.pointee.full += 1
                        return unplanned(
                            try DeploymentEvaluator.desiredResources(
                                deployment: deployment, policyParameters: policyParameters, cluster: cluster))
                    }
                }
                if case .string(let text) = value, isPlainName(text, source) {
                    fill(value, plainName: text)
                } else {
                    fill(value, plainName: nil)
                }
            }
        } else {
            let evaluated = try TemplateInputs.deploymentParameters(
                state.dynamicParameters, at: DeploymentPath.deployment.key("properties").key("parameters"),
                policy: policyParameters)
            for name in state.dynamicNames {
                let value = evaluated[name] ?? .null
                if case .string(let text) = value, Self.isPlainName(text) {
                    fill(value, plainName: text)
                } else {
                    fill(value, plainName: nil)
                }
            }
        }
        guard filled <= 100 else {
            state.disabled = true
            storage.pointee.full += 1
            return unplanned(
                try DeploymentEvaluator.desiredResources(
                    deployment: deployment, policyParameters: policyParameters, cluster: cluster))
        }
        while true {
            // A slot stands behind a symbol when its value is a plain name and it is not concrete.
            let concrete = state.concrete
            let symbolic = plain.subtracting(concrete)
            if symbolic != plain {
                for slot in 0..<filled where plain.contains(slot) && !symbolic.contains(slot) { texts[slot] = "" }
            }
            if let output = state.recentOutput(values, symbolic: symbolic) {
                storage.pointee.hits += 1
                return Self.specialise(output, UnsafeBufferPointer(texts))
            }
            var key: [JSON?] = []
            key.reserveCapacity(filled)
            for slot in 0..<filled { key.append(symbolic.contains(slot) ? nil : values[slot]) }
            if let output = state.output(for: key) {
                storage.pointee.hits += 1
                return Self.specialise(output, UnsafeBufferPointer(texts))
            }
            // A miss: evaluate with symbols, learn which inputs must be concrete, check, remember.
            var supplied = constants
            var symbolicSupplied = constants
            for (position, name) in state.dynamicNames.enumerated() {
                let slot = position + 2
                supplied[name] = values[slot]
                symbolicSupplied[name] = key[slot] == nil ? .string(SymbolTrap.symbol(slot)) : values[slot]
            }
            let trap = SymbolTrap()
            let symbolicResources: [DesiredResource]
            do {
                symbolicResources = try DeploymentEvaluator.evaluateTemplate(
                    properties: properties, supplied: symbolicSupplied,
                    subscriptionId: key[0] == nil ? SymbolTrap.symbol(0) : cluster.subscriptionId,
                    resourceGroup: key[1] == nil ? SymbolTrap.symbol(1) : resourceGroup,
                    now: policyParameters.utcNow(), trap: trap)
            } catch {
                let learned = trap.caught.filter { $0 < filled && key[$0] == nil }
                if !learned.isEmpty {
                    var concrete = state.concrete
                    for slot in learned { concrete.insert(slot) }
                    state.concrete = concrete
                    continue
                }
                // A real failure (or one symbols caused without being caught): the full path decides.
                state.disabled = true
                storage.pointee.full += 1
                return unplanned(
                    try DeploymentEvaluator.evaluateTemplate(
                        properties: properties, supplied: supplied, subscriptionId: cluster.subscriptionId,
                        resourceGroup: resourceGroup, now: policyParameters.utcNow(), trap: nil))
            }
            storage.pointee.misses += 1
            let exact = try DeploymentEvaluator.desiredResources(
                deployment: deployment, policyParameters: policyParameters, cluster: cluster)
            let entry = symbolicResources.map(SymbolicResource.init)
            let specialised = Self.specialise(entry, UnsafeBufferPointer(texts))
            if specialised.map(\.resource) == exact {
                state.outputs[key] = entry
                return specialised
            }
            state.disabled = true
            return unplanned(exact)
        }
    }

    /// The state of policy `index`, prepared on first use.
    private func policyState(_ index: Int, deployment: JSON, policyParameters: PolicyExpressionContext)
        -> PolicyState
    {
        let storage = self.storage
        let small = index >= 0 && index < 4096
        if small {
            if index < storage.pointee.states.count, let known = storage.pointee.states[index] { return known }
        } else if let known = storage.pointee.otherStates[index] {
            return known
        }
        let state = prepare(deployment, policyParameters: policyParameters)
        if small {
            if index >= storage.pointee.states.count {
                storage.pointee.states.append(
                    contentsOf: repeatElement(nil, count: index + 1 - storage.pointee.states.count))
            }
            storage.pointee.states[index] = state
        } else {
            storage.pointee.otherStates[index] = state
        }
        return state
    }

    /// Whether `text`, the value of a slot whose plainness is known at `source` (a ``SlotSource`` or a plain
    /// field's position), is a plain name (``isPlainName(_:)``).
    private func isPlainName(_ text: String, _ source: Int) -> Bool {
        switch source {
        case SlotSource.plain: return true
        case SlotSource.notPlain: return false
        case SlotSource.unknown: return Self.isPlainName(text)
        default:
            // A plain field of the current record: decided for the first policy that asks.
            let storage = self.storage
            switch storage.pointee.plainness[source] {
            case 1: return true
            case 2: return false
            default:
                let plain = Self.isPlainName(text)
                storage.pointee.plainness[source] = plain ? 1 : 2
                return plain
            }
        }
    }

    /// `[field('name')]` and the like: the resource read directly, as field() would
    /// (``FieldReference/value(in:resourceType:)``, with the type looked up once per type).
    private func fieldValue(_ field: FieldReference, of resource: PolicyExpressionContext.Resource) -> JSON {
        if let last = lastResource, last.record.document === resource.json.document,
            last.record.offset == resource.json.offset, last.type == resource.type
        {
            if let known = lastReads.first(where: { $0.field == field.field }) { return known.value }
        } else {
            lastResource = (resource.json, resource.type)
            lastReads.removeAll(keepingCapacity: true)
        }
        let typeIndex: Int?
        if let lastType, lastType.type == resource.type {
            typeIndex = lastType.index
        } else {
            typeIndex = AliasCatalog.typeIndex(of: resource.type)
            lastType = (resource.type, typeIndex)
        }
        let value: JSON
        switch field.read(in: resource.json, typeIndex: typeIndex) {
        case .tape(let found): value = found.materialize()
        case .text(let text): value = .string(text)
        case .collection(let items): value = .array(items.map { $0?.materialize() ?? .null })
        case .missing: value = field.isCollection ? .array([]) : .string("")
        }
        lastReads.append((field.field, value))
        return value
    }

    /// Slots 0 and 1 of `cluster` (its subscription id and resource group name), read once per cluster; nil
    /// when the cluster is not in a resource group.
    private func place(of cluster: ResourceID) -> Place? {
        let storage = self.storage
        // Most clusters share their subscription and resource group with the one before: their ids start alike.
        if let place = storage.pointee.place, !place.prefix.isEmpty, Self.hasPrefix(cluster.description, place.prefix) {
            return place
        }
        if let last = storage.pointee.cluster, last == cluster.description { return storage.pointee.place }
        storage.pointee.cluster = cluster.description
        guard let resourceGroup = cluster.resourceGroup else {
            storage.pointee.place = nil
            return nil
        }
        let subscriptionId = cluster.subscriptionId
        let place = Place(
            subscriptionId: subscriptionId, resourceGroup: resourceGroup,
            plain: (Self.isPlainName(subscriptionId), Self.isPlainName(resourceGroup)),
            prefix: Self.placePrefix(
                of: cluster.description, subscriptionId: subscriptionId, resourceGroup: resourceGroup))
        storage.pointee.place = place
        return place
    }

    /// The start of `id` that names its subscription and resource group, `/subscriptions/<id>/resourceGroups/<name>/`.
    ///
    /// Every valid id that starts with these bytes has the same subscription id and resource group (``ResourceID``
    /// reads them as the second and fourth segments, each ending at a `/`). Empty when `id` is not laid out so.
    static func placePrefix(of id: String, subscriptionId: String, resourceGroup: String) -> [UInt8] {
        let bytes = Array(id.utf8)
        let subscription = Array(subscriptionId.utf8)
        let group = Array(resourceGroup.utf8)
        // `/subscriptions/` is 15 bytes, `/resourceGroups/` 16.
        let end = 15 + subscription.count + 16 + group.count
        guard bytes.count > end, bytes[end] == UInt8(ascii: "/"),
            bytes[15..<(15 + subscription.count)].elementsEqual(subscription),
            bytes[(15 + subscription.count)..<(31 + subscription.count)].elementsEqual(
                "/resourceGroups/".utf8, by: { ASCII.lower($0) == ASCII.lower($1) }),
            bytes[(end - group.count)..<end].elementsEqual(group)
        else { return [] }
        return Array(bytes[...end])
    }

    /// Whether `text` starts with the bytes of `prefix`.
    static func hasPrefix(_ text: String, _ prefix: [UInt8]) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count >= prefix.count else { return false }
            return prefix.withUnsafeBufferPointer { sameBytes(UnsafeBufferPointer(rebasing: bytes[..<$0.count]), $0) }
        } ?? false
    }

    /// Whether two byte buffers are equal, compared eight bytes at a time.
    static func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        guard let p = a.baseAddress, let q = b.baseAddress else { return true }
        let count = a.count
        var i = 0
        while i + 8 <= count {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            guard x == UnsafeRawPointer(q + i).loadUnaligned(as: UInt64.self) else { return false }
            i += 8
        }
        while i < count {
            guard p[i] == q[i] else { return false }
            i += 1
        }
        return true
    }

    /// Classifies the supplied parameters once: constants are evaluated, the rest kept for each resource.
    private func prepare(_ deployment: JSON, policyParameters: PolicyExpressionContext) -> PolicyState {
        let state = PolicyState()
        guard let (properties, propertiesPath) = try? DeploymentEvaluator.deploymentProperties(deployment) else {
            return state
        }
        state.properties = properties
        let parameters = TemplateInputs.member("parameters", of: properties)?.value
        guard case .object(let members)? = parameters else {
            state.constants = [:]
            state.dynamicParameters = parameters
            return state
        }
        var constant: [String: JSON] = [:]
        var dynamic: [String: JSON] = [:]
        for (name, entry) in members {
            if Self.readsResource(entry) { dynamic[name] = entry } else { constant[name] = entry }
        }
        state.constants = try? TemplateInputs.deploymentParameters(
            .object(constant), at: propertiesPath.key("parameters"), policy: policyParameters)
        state.dynamicParameters = .object(dynamic)
        state.dynamicNames = dynamic.keys.sorted()
        var parsed: [(name: String, value: TemplateValue, text: String, field: FieldReference?)] = []
        for name in state.dynamicNames {
            guard case .object(let entry) = dynamic[name]!, entry.count == 1,
                let (_, value) = TemplateInputs.member("value", of: entry), case .string(let text) = value,
                let template = try? TemplateString.parse(text)
            else { return state }
            var field: FieldReference?
            if case .expression(.call(let function, let arguments, _)) = template,
                ASCII.equalsIgnoringCase(function, "field"), arguments.count == 1,
                case .string(let path, _) = arguments[0]
            {
                field = AliasCatalog.resolve(path)
            }
            parsed.append((name, template, text, field))
        }
        state.plainFieldPositions = parsed.map { plainFieldPosition($0.field) }
        state.dynamicValues = parsed
        return state
    }

    /// Where `field` sits among the plain fields (added when new); nil unless it reads one top-level member of any
    /// resource type, as it is or normalised as a location.
    private func plainFieldPosition(_ field: FieldReference?) -> Int? {
        guard let field, field.typeIndex == nil else { return nil }
        let wanted: (member: String, isLocation: Bool)
        switch field.transform {
        case .none:
            guard field.segments.count == 1, case .member(let name) = field.segments[0] else { return nil }
            wanted = (name, false)
        case .location:
            wanted = ("location", true)
        case .fullName, .unsupported:
            return nil
        }
        if let known = storage.pointee.fields.firstIndex(where: { $0 == wanted }) { return known }
        storage.pointee.fields.append(wanted)
        storage.pointee.shared.append([])
        storage.pointee.sharedHits.append(0)
        storage.pointee.sharedMisses.append(0)
        storage.pointee.names = JSONMemberNames(storage.pointee.fields.map(\.member))
        storage.pointee.record = nil
        storage.pointee.recordDocument = nil
        return storage.pointee.fields.count - 1
    }

    /// The value of plain field `position` in `record`, as ``FieldReference/read(in:typeIndex:)`` reads
    /// it (a missing or null member gives `""`); the record's members are found once for all of them.
    private func plainField(_ position: Int, of record: JSONValue) -> JSON {
        let storage = self.storage
        if storage.pointee.recordDocument == ObjectIdentifier(record.document),
            storage.pointee.recordOffset == record.offset
        {
            if let known = storage.pointee.values[position] { return known }
        } else {
            storage.pointee.record = record
            storage.pointee.recordDocument = ObjectIdentifier(record.document)
            storage.pointee.recordOffset = record.offset
            record.members(storage.pointee.names, matching: .ignoringCase, into: &storage.pointee.found)
            let count = storage.pointee.fields.count
            if storage.pointee.values.count == count {
                for k in 0..<count {
                    storage.pointee.values[k] = nil
                    storage.pointee.plainness[k] = 0
                }
            } else {
                storage.pointee.values = [JSON?](repeating: nil, count: count)
                storage.pointee.plainness = [UInt8](repeating: 0, count: count)
            }
        }
        guard let member = storage.pointee.found[position] else {
            // Missing: `""`, which is no plain name.
            storage.pointee.values[position] = .string("")
            storage.pointee.plainness[position] = 2
            return .string("")
        }
        // A string member's value is made of its text alone: one made before of the same text is the same.
        let consults =
            member.isString
            && (storage.pointee.sharedMisses[position] < 16
                || storage.pointee.sharedHits[position] >= 4 * storage.pointee.sharedMisses[position])
        if consults {
            for k in storage.pointee.shared[position].indices
            where member.stringEquals(storage.pointee.shared[position][k].source) {
                storage.pointee.sharedHits[position] += 1
                let known = storage.pointee.shared[position][k]
                storage.pointee.values[position] = known.value
                storage.pointee.plainness[position] = known.plain ? 1 : 2
                return known.value
            }
            storage.pointee.sharedMisses[position] += 1
        }
        let value: JSON
        let source = member.string
        if storage.pointee.fields[position].isLocation {
            // FieldReference.read: `location` lowercased without spaces; missing when not a string.
            value = source.map { .string(Self.normalizeLocation($0)) } ?? .string("")
        } else if let source {
            value = .string(source)
        } else if !member.isNull {
            value = member.materialize()
        } else {
            value = .string("")
        }
        storage.pointee.values[position] = value
        if consults, let source, storage.pointee.shared[position].count < 2 {
            let plain: Bool
            if case .string(let text) = value { plain = Self.isPlainName(text) } else { plain = false }
            storage.pointee.plainness[position] = plain ? 1 : 2
            storage.pointee.shared[position].append(SharedValue(source: source, value: value, plain: plain))
        }
        return value
    }

    /// ``FieldReference/normalizeLocation(_:)``, with its common case (ASCII, lowercase, no spaces: the text itself)
    /// decided in one pass over the bytes.
    static func normalizeLocation(_ text: String) -> String {
        let normal = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte >= 0x80 || byte == UInt8(ascii: " ") || byte &- UInt8(ascii: "A") < 26 {
                return false
            }
            return true
        }
        return normal == true ? text : FieldReference.normalizeLocation(text)
    }

    /// Whether a deployment parameter's expressions may depend on the evaluated resource.
    static func readsResource(_ value: JSON) -> Bool {
        switch value {
        case .string(let text):
            guard TemplateString.isExpression(text) else { return false }
            guard case .expression(let expression)? = try? TemplateString.parse(text) else { return true }
            return readsResource(expression)
        case .array(let items): return items.contains(where: readsResource)
        case .object(let members):
            return members.contains { readsResource(.string($0.key)) || readsResource($0.value) }
        default: return false
        }
    }

    /// Functions whose value depends on the evaluated resource or its place.
    private static let resourceFunctions: Set<String> = [
        "field", "current", "resourcegroup", "subscription", "deployment", "reference", "resourceid",
        "subscriptionresourceid", "extensionresourceid", "requestcontext", "ipv4", "list", "listkeys",
    ]

    private static func readsResource(_ expression: Expression) -> Bool {
        switch expression {
        case .string, .integer: return false
        case .property(let base, _, _): return readsResource(base)
        case .index(let base, let key, _): return readsResource(base) || readsResource(key)
        case .call(let name, let arguments, _):
            let lowered = ASCII.lowercased(name)
            return resourceFunctions.contains(lowered) || lowered.hasPrefix("list")
                || arguments.contains(where: readsResource)
        }
    }

    /// Whether a value can stand behind a symbol: a plain name segment (letters, digits, `-`, `_`, `.`),
    /// not `providers`, not containing a symbol itself.
    static func isPlainName(_ text: String) -> Bool {
        if let plain = text.utf8.withContiguousStorageIfAvailable(isPlainName(bytes:)) { return plain }
        var contiguous = text
        return contiguous.withUTF8(isPlainName(bytes:))
    }

    /// ``isPlainName(_:)`` of UTF-8 bytes (one pass; a second only over text that has a `q`, as every symbol has).
    static func isPlainName(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 256 else { return false }
        var mayHoldSymbol = false
        for b in bytes {
            // Letters (either case: `| 0x20` maps only them into `a…z`), digits, `-`, `_`, `.`.
            if (b | 0x20) &- UInt8(ascii: "a") < 26 {
                if b == UInt8(ascii: "q") { mayHoldSymbol = true }  // Symbols are `ffsymq7x` + two digits + `z`.
                continue
            }
            if b &- UInt8(ascii: "0") < 10 || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".")
            {
                continue
            }
            return false
        }
        // A symbol inside is not a plain name.
        if mayHoldSymbol, SymbolTrap.scan(bytes: bytes, { _ in }) { return false }
        guard bytes.count == 9 else { return true }
        // Not `providers` in any case (every byte is a letter, digit, `-`, `_` or `.`: `| 0x20` lowercases only
        // the letters and maps no other byte onto a letter).
        var k = 0
        for expected in "providers".utf8 {
            if bytes[k] | 0x20 != expected { return true }
            k += 1
        }
        return false
    }

    /// The symbolic output with every symbol replaced by the cluster's values.
    static func specialise(_ resources: [SymbolicResource], _ values: UnsafeBufferPointer<String>)
        -> [(resource: DesiredResource, plan: DriftMemo?)]
    {
        resources.map { entry in
            let (body, plan) = entry.body(values)
            let out = DesiredResource(
                id: entry.id.text(values), type: entry.type.text(values), name: entry.name.text(values),
                apiVersion: entry.apiVersion.text(values), body: body,
                dependsOn: entry.dependsOn.map { $0.text(values) })
            return (out, plan)
        }
    }
}
