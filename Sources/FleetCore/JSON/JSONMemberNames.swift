/// Member names looked up together: ``JSONValue/members(_:matching:into:)`` finds all of them in one pass over
/// an object, where asking ``JSONValue/member(ignoringCase:)`` for each would walk the object once per name.
///
/// Made once per set of names (a condition's inputs, a desired body's members) and reused for every object.
public final class JSONMemberNames: @unchecked Sendable {
    // @unchecked: the buffers below are written only while initialising and freed on deinit; read-only after.
    /// The names, in the order the results come back.
    public let names: [String]
    /// How many names there are.
    public let count: Int
    /// The UTF-8 bytes of every name, one after the other.
    let bytes: UnsafeMutableBufferPointer<UInt8>
    /// Where each name's bytes start in ``bytes`` (one more entry than ``names``: the end).
    let starts: UnsafeMutableBufferPointer<Int>
    /// The names a member name can match, by its first byte: one bit per name.
    ///
    /// Indexed by the first byte ASCII-lowercased (the closing quote for an empty name): most members of an
    /// object match no name and cost one look-up (a name holding a quote has no bit: it matches no unescaped key).
    /// Unused when there are more than 64 names (every name is tried).
    let candidates: UnsafeMutableBufferPointer<UInt64>

    /// Names to look up; duplicates are allowed (each gets its own result).
    public init(_ names: [String]) {
        self.names = names
        self.count = names.count
        var bytes: [UInt8] = []
        var starts = [0]
        for name in names {
            bytes.append(contentsOf: name.utf8)
            starts.append(bytes.count)
        }
        self.bytes = .allocate(capacity: max(1, bytes.count))
        _ = self.bytes.initialize(from: bytes + (bytes.isEmpty ? [0] : []))
        self.starts = .allocate(capacity: starts.count)
        _ = self.starts.initialize(from: starts)
        self.candidates = .allocate(capacity: 256)
        self.candidates.initialize(repeating: 0)
        if names.count <= 64 {
            // A name holding a quote matches no unescaped key (its quote would end the key): it is never tried.
            for (k, name) in names.enumerated() where !name.utf8.contains(UInt8(ascii: "\"")) {
                let first = name.utf8.first.map(ASCII.lower) ?? UInt8(ascii: "\"")
                candidates[Int(first)] |= 1 << UInt64(k)
            }
        }
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        candidates.deallocate()
    }
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
        let count = names.count
        // The array keeps its storage from call to call: every entry is overwritten below.
        if found.count > count {
            found.removeLast(found.count - count)
        } else if found.count < count {
            found.append(contentsOf: repeatElement(nil, count: count - found.count))
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(1, count)) { positions in
            memberPositions(names, matching: match, into: positions)
            found.withUnsafeMutableBufferPointer { out in
                for k in 0..<count { out[k] = value(at: positions[k]) }
            }
        }
    }

    /// The value at `position`, as ``memberPositions(_:matching:into:)`` of this value (or of another value of
    /// the same document) gives it; nil for -1 (no such member).
    @inline(__always) public func value(at position: Int) -> JSONValue? {
        position >= 0 ? JSONValue(document: document, index: position) : nil
    }

    /// ``members(_:matching:into:)`` as positions: for each of `names`, where its member's value is (for
    /// ``value(at:)``), or -1 when there is none.
    ///
    /// `positions` must have room for one entry per name. Nothing is retained or allocated: readers that only look
    /// at a few of the values (or at their text) make no value for the others.
    public func memberPositions(
        _ names: JSONMemberNames, matching match: MemberMatch, into positions: UnsafeMutableBufferPointer<Int>
    ) {
        let count = names.count
        precondition(positions.count >= count, "memberPositions: room for \(count) positions needed")
        guard tag == Tape.object else {
            for k in 0..<count { positions[k] = -1 }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { slots in
            // slots[k]: the last exact match of name k; slots[count + k]: the last match ignoring case only.
            slots.initialize(repeating: -1)
            let nameBytes = UnsafePointer(names.bytes.baseAddress!)
            let starts = UnsafePointer(names.starts.baseAddress!)
            let candidates = UnsafePointer(names.candidates.baseAddress!)
            let tryAll = count > 64
            let document = self.document
            document.tape.withUnsafeBufferPointer { tapeBuffer in
                let tape = tapeBuffer.baseAddress!
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
                        // Matches name k against this key, as member(_:ignoringCase:) does: an unescaped key of n
                        // bytes has its closing quote at n, and a shorter one meets a quote before n.
                        @inline(__always) func match(_ k: Int, byWords: Bool) {
                            let start = starts[k]
                            let n = starts[k + 1] - start
                            guard offset + n < objectEnd, raw[n] == UInt8(ascii: "\"") else { return }
                            let name = nameBytes + start
                            var exact = true
                            var j = 0
                            // Eight bytes at a time while they are equal ignoring ASCII case (names with a quote have
                            // no candidate bit, and no letter lowercases to a quote, so such bytes are inside the key);
                            // the first eight that differ go to the byte loop, which finds the difference.
                            while byWords, j + 8 <= n {
                                let x = UnsafeRawPointer(raw + j).loadUnaligned(as: UInt64.self)
                                let y = UnsafeRawPointer(name + j).loadUnaligned(as: UInt64.self)
                                if x != y {
                                    guard ResourceIDKey.lower8(x) == ResourceIDKey.lower8(y) else { break }
                                    exact = false
                                }
                                j += 8
                            }
                            while j < n {
                                let c = raw[j]
                                let d = name[j]
                                if c != d || c == UInt8(ascii: "\"") {
                                    exact = false
                                    if c == UInt8(ascii: "\"") || ASCII.lower(c) != ASCII.lower(d) { return }
                                }
                                j += 1
                            }
                            if exact { slots[k] = valueIndex } else { slots[count + k] = valueIndex }
                        }
                        if tryAll {
                            for k in 0..<count { match(k, byWords: false) }
                        } else {
                            var mask = candidates[Int(ASCII.lower(raw[0]))]
                            while mask != 0 {
                                match(mask.trailingZeroBitCount, byWords: true)
                                mask &= mask &- 1
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
            for k in 0..<count {
                let exact = slots[k]
                let folded = slots[count + k]
                switch match {
                case .preferringExact: positions[k] = exact >= 0 ? exact : folded
                case .ignoringCase: positions[k] = max(exact, folded)  // the later of the two: the last match wins
                }
            }
        }
    }
}
