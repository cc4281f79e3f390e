/// Member names looked up together: ``JSONValue/members(_:matching:into:)`` finds all of them in one pass over
/// an object, where asking ``JSONValue/member(ignoringCase:)`` for each would walk the object once per name.
///
/// Made once per set of names (a condition's inputs, a desired body's members) and reused for every object.
public final class JSONMemberNames: Sendable {
    /// The names, in the order the results come back.
    public let names: [String]
    /// The UTF-8 bytes of every name, one after the other.
    let bytes: [UInt8]
    /// Where each name's bytes start in ``bytes`` (one more entry than ``names``: the end).
    let starts: [Int]
    /// The names a member name can match, by its first byte: one bit per name.
    ///
    /// Indexed by the first byte ASCII-lowercased (the closing quote for an empty name): most members of an
    /// object match no name and cost one look-up. Empty when there are more than 64 names (every name is tried).
    let candidates: [UInt64]

    /// Names to look up; duplicates are allowed (each gets its own result).
    public init(_ names: [String]) {
        self.names = names
        var bytes: [UInt8] = []
        var starts = [0]
        for name in names {
            bytes.append(contentsOf: name.utf8)
            starts.append(bytes.count)
        }
        self.bytes = bytes
        self.starts = starts
        var candidates: [UInt64] = []
        if names.count <= 64 {
            candidates = Array(repeating: 0, count: 256)
            for (k, name) in names.enumerated() {
                let first = name.utf8.first.map(ASCII.lower) ?? UInt8(ascii: "\"")
                candidates[Int(first)] |= 1 << UInt64(k)
            }
        }
        self.candidates = candidates
    }

    /// How many names there are.
    public var count: Int { names.count }
}

extension JSONValue {
    /// How ``members(_:matching:into:)`` matches a name with a member name.
    public enum MemberMatch: Sendable {
        /// The last member whose name equals it ignoring ASCII case, as ``member(ignoringCase:)``.
        case ignoringCase
        /// The last member named exactly so, else the last whose name equals it ignoring ASCII case, as
        /// ``member(preferringExact:)``.
        case preferringExact
    }

    /// For each of `names`, the member that ``member(ignoringCase:)`` or ``member(preferringExact:)`` (as `match`
    /// says) returns for it, found in one pass over the object.
    ///
    /// `found` is replaced by one entry per name, in the order of `names` (all nil when this is not an object);
    /// passing the same array again reuses its storage.
    public func members(_ names: JSONMemberNames, matching match: MemberMatch, into found: inout [JSONValue?]) {
        found.removeAll(keepingCapacity: true)
        let count = names.count
        guard tag == Tape.object else {
            for _ in 0..<count { found.append(nil) }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { slots in
            // slots[k]: the last exact match of name k; slots[count + k]: the last match ignoring case only.
            slots.initialize(repeating: -1)
            names.bytes.withUnsafeBufferPointer { nameBytes in
                names.starts.withUnsafeBufferPointer { starts in
                    document.tape.withUnsafeBufferPointer { tape in
                        let stop = Tape.payload(tape[index])
                        // The object's end (relative, like key offsets): no key byte lies at or past it.
                        let objectEnd = Int(tape[index + 2])
                        let basePointer = UnsafePointer(document.bytes.start) + document.base
                        var i = index + 3
                        while i < stop {
                            let keyWord = tape[i]
                            let valueIndex = i + 1
                            if Tape.tag(keyWord) == Tape.string {
                                let offset = Tape.payload(keyWord)
                                let raw = basePointer + offset
                                // Matches name k against this key, as member(_:ignoringCase:) does: an unescaped
                                // key of n bytes has its closing quote at n, and a shorter one meets a quote before n.
                                func match(_ k: Int) {
                                    let n = starts[k + 1] - starts[k]
                                    guard offset + n < objectEnd, raw[n] == UInt8(ascii: "\"") else { return }
                                    let name = nameBytes.baseAddress! + starts[k]
                                    var exact = true
                                    for j in 0..<n {
                                        let c = raw[j]
                                        if c == name[j] && c != UInt8(ascii: "\"") { continue }
                                        exact = false
                                        if c == UInt8(ascii: "\"") || ASCII.lower(c) != ASCII.lower(name[j]) { return }
                                    }
                                    if exact { slots[k] = valueIndex } else { slots[count + k] = valueIndex }
                                }
                                if names.candidates.isEmpty {
                                    for k in 0..<count { match(k) }
                                } else {
                                    var mask = names.candidates[Int(ASCII.lower(raw[0]))]
                                    while mask != 0 {
                                        match(mask.trailingZeroBitCount)
                                        mask &= mask - 1
                                    }
                                }
                            } else {
                                // Escaped key: decode, then compare bytes (not Unicode canonical equivalence).
                                let decoded = JSONValue(document: document, index: i).string ?? ""
                                for k in 0..<count {
                                    if decoded.utf8.elementsEqual(names.names[k].utf8) {
                                        slots[k] = valueIndex
                                    } else if ASCII.equalsIgnoringCase(decoded, names.names[k]) {
                                        slots[count + k] = valueIndex
                                    }
                                }
                            }
                            let w = tape[valueIndex]
                            let wt = Tape.tag(w)
                            i = (wt == Tape.object || wt == Tape.array) ? Tape.payload(w) : valueIndex + 1
                        }
                    }
                }
            }
            for k in 0..<count {
                let exact = slots[k]
                let folded = slots[count + k]
                let chosen: Int
                switch match {
                case .preferringExact: chosen = exact >= 0 ? exact : folded
                case .ignoringCase: chosen = max(exact, folded)  // the later of the two: the last match wins
                }
                found.append(chosen >= 0 ? JSONValue(document: document, index: chosen) : nil)
            }
        }
    }
}
