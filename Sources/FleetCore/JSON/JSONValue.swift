/// A value inside a ``JSONDocument``: a cheap handle that decodes on demand.
///
/// Reading a member scans the object's keys by comparing raw bytes, so looking up
/// `properties.provisioningState` allocates nothing; only ``string`` and ``number`` build
/// Swift values. Duplicate keys: the last one wins, as in most JSON readers.
public struct JSONValue: Sendable {
    /// The document this value belongs to.
    public let document: JSONDocument
    let index: Int

    init(document: JSONDocument, index: Int) {
        self.document = document
        self.index = index
    }

    @inline(__always) var word: UInt32 { document.tape[index] }
    @inline(__always) var tag: UInt32 { Tape.tag(word) }

    /// The kind of value.
    public var kind: JSONKind {
        switch tag {
        case Tape.null: .null
        case Tape.false, Tape.true: .bool
        case Tape.number: .number
        case Tape.string, Tape.escapedString: .string
        case Tape.object: .object
        default: .array
        }
    }

    /// Whether the value is `null`.
    public var isNull: Bool { tag == Tape.null }
    /// Whether the value is an object.
    public var isObject: Bool { tag == Tape.object }
    /// Whether the value is an array.
    public var isArray: Bool { tag == Tape.array }
    /// Whether the value is a string.
    public var isString: Bool { tag == Tape.string || tag == Tape.escapedString }

    /// The boolean, or nil when the value is not `true`/`false`.
    public var bool: Bool? {
        switch tag {
        case Tape.true: true
        case Tape.false: false
        default: nil
        }
    }

    /// Pointer to the first content byte of a string or number token.
    @inline(__always) var tokenStart: UnsafePointer<UInt8> {
        UnsafePointer(document.bytes.start) + document.base + Tape.payload(word)
    }

    /// The raw bytes of a string's content (escapes not decoded), up to the closing quote.
    var rawStringBytes: UnsafeBufferPointer<UInt8> {
        let start = tokenStart
        var q = start
        if tag == Tape.string {
            while q.pointee != UInt8(ascii: "\"") { q += 1 }
        } else {
            while q.pointee != UInt8(ascii: "\"") { q += q.pointee == UInt8(ascii: "\\") ? 2 : 1 }
        }
        return UnsafeBufferPointer(start: start, count: q - start)
    }

    /// The decoded string, or nil when the value is not a string.
    public var string: String? {
        let t = tag
        guard t == Tape.string || t == Tape.escapedString else { return nil }
        let raw = rawStringBytes
        if t == Tape.string { return String(decoding: raw, as: UTF8.self) }
        return JSONStringDecoder.decode(raw.baseAddress!, end: raw.baseAddress! + raw.count)
    }

    /// The number, or nil when the value is not a number.
    public var number: JSONNumber? {
        guard tag == Tape.number else { return nil }
        let start = tokenStart
        var q = start
        while true {
            let c = q.pointee
            if (c &- UInt8(ascii: "0")) < 10 || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                || c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e")
            {
                q += 1
            } else {
                break
            }
        }
        return JSONNumber.parse(UnsafeBufferPointer(start: start, count: q - start))
    }

    /// The number as an exact `Int64`, or nil when it is not an integer in range.
    public var int64: Int64? { number?.int64Value }

    /// The number as a `Double`, or nil when the value is not a number.
    public var double: Double? { number?.doubleValue }

    /// Whether this is a string equal to `text`, compared byte for byte without decoding.
    public func stringEquals(_ text: String) -> Bool {
        let t = tag
        if t == Tape.escapedString { return string.map { $0.utf8.elementsEqual(text.utf8) } ?? false }
        guard t == Tape.string else { return false }
        return Self.rawEquals(tokenStart, text, ignoringCase: false)
    }

    /// Whether this is a string equal to `text` ignoring ASCII case (Azure's comparison).
    public func stringEqualsIgnoringCase(_ text: String) -> Bool {
        let t = tag
        if t == Tape.escapedString { return string.map { ASCII.equalsIgnoringCase($0, text) } ?? false }
        guard t == Tape.string else { return false }
        return Self.rawEquals(tokenStart, text, ignoringCase: true)
    }

    /// Compares the string at `start` (terminated by `"`) with `text`.
    @inline(__always) static func rawEquals(_ start: UnsafePointer<UInt8>, _ text: String, ignoringCase: Bool) -> Bool {
        var text = text
        return text.withUTF8 { query in
            let n = query.count
            var k = 0
            // The raw string ends at its first quote (an unescaped string has no other), so a
            // quote before `n` means the string is shorter than the query.
            if ignoringCase {
                while k < n {
                    let c = start[k]
                    if c == UInt8(ascii: "\"") || ASCII.lower(c) != ASCII.lower(query[k]) { return false }
                    k += 1
                }
            } else {
                while k < n {
                    let c = start[k]
                    if c == UInt8(ascii: "\"") || c != query[k] { return false }
                    k += 1
                }
            }
            return start[n] == UInt8(ascii: "\"")
        }
    }

    // MARK: - Containers

    /// The tape index just past this value (its next sibling).
    @inline(__always) var nextIndex: Int {
        let t = tag
        if t == Tape.object || t == Tape.array { return Tape.payload(word) }
        return index + 1
    }

    /// The number of members of an object or elements of an array; 0 for scalars.
    public var count: Int {
        let t = tag
        guard t == Tape.object || t == Tape.array else { return 0 }
        let tape = document.tape
        let stop = Tape.payload(tape[index])
        var i = index + 3
        var n = 0
        while i < stop {
            if t == Tape.object { i += 1 }  // the key
            let w = tape[i]
            let wt = Tape.tag(w)
            i = (wt == Tape.object || wt == Tape.array) ? Tape.payload(w) : i + 1
            n += 1
        }
        return n
    }

    /// The member named `key` (exact, case-sensitive), or nil.
    public subscript(key: String) -> JSONValue? {
        member(key, ignoringCase: false)
    }

    /// The member whose name equals `key` ignoring ASCII case (ARM property names are
    /// case-insensitive; Resource Graph returns some in PascalCase).
    public func member(ignoringCase key: String) -> JSONValue? {
        member(key, ignoringCase: true)
    }

    /// The value at a path of member names, each matched ignoring case; nil when any step is missing.
    public func value(atPath keys: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in keys {
            current = current?.member(ignoringCase: key)
        }
        return current
    }

    /// The member named exactly `key`, else the one whose name equals it ignoring ASCII case: one pass
    /// over the object instead of the two of `self[key] ?? member(ignoringCase: key)`, same answer.
    public func member(preferringExact key: String) -> JSONValue? {
        guard tag == Tape.object else { return nil }
        var key = key
        let (exact, folded) = key.withUTF8 { query -> (Int, Int) in
            document.tape.withUnsafeBufferPointer { tape in
                let stop = Tape.payload(tape[index])
                // The object's end (relative, like key offsets): no key byte lies at or past it.
                let objectEnd = Int(tape[index + 2])
                var i = index + 3
                var exact = -1
                var folded = -1
                let basePointer = UnsafePointer(document.bytes.start) + document.base
                let n = query.count
                while i < stop {
                    let keyWord = tape[i]
                    let valueIndex = i + 1
                    if Tape.tag(keyWord) == Tape.string {
                        let raw = basePointer + Tape.payload(keyWord)
                        var k = 0
                        var same = true
                        // The closing quote must sit at n (see member(_:ignoringCase:)).
                        var sameFolded = Tape.payload(keyWord) + n < objectEnd && raw[n] == UInt8(ascii: "\"")
                        if !sameFolded { k = n }
                        while k < n {
                            let c = raw[k]
                            if c == UInt8(ascii: "\"") {
                                sameFolded = false
                                break
                            }
                            if c != query[k] {
                                same = false
                                if ASCII.lower(c) != ASCII.lower(query[k]) {
                                    sameFolded = false
                                    break
                                }
                            }
                            k += 1
                        }
                        if sameFolded {
                            // The last match wins, as with `self[key]` and `member(ignoringCase:)`.
                            if same { exact = valueIndex } else { folded = valueIndex }
                        }
                    } else {
                        let decoded = JSONValue(document: document, index: i).string ?? ""
                        let text = String(decoding: query, as: UTF8.self)
                        if decoded.utf8.elementsEqual(text.utf8) {
                            exact = valueIndex
                        } else if ASCII.equalsIgnoringCase(decoded, text) {
                            folded = valueIndex
                        }
                    }
                    let w = tape[valueIndex]
                    let wt = Tape.tag(w)
                    i = (wt == Tape.object || wt == Tape.array) ? Tape.payload(w) : valueIndex + 1
                }
                return (exact, folded)
            }
        }
        let found = exact >= 0 ? exact : folded
        return found >= 0 ? JSONValue(document: document, index: found) : nil
    }

    func member(_ key: String, ignoringCase: Bool) -> JSONValue? {
        guard tag == Tape.object else { return nil }
        var key = key
        return key.withUTF8 { query in
            document.tape.withUnsafeBufferPointer { tape in
                let stop = Tape.payload(tape[index])
                // The object's end (relative, like key offsets): no key byte lies at or past it.
                let objectEnd = Int(tape[index + 2])
                var i = index + 3
                var found = -1
                let basePointer = UnsafePointer(document.bytes.start) + document.base
                let n = query.count
                let first = ignoringCase ? ASCII.lower(query.first ?? 0) : (query.first ?? 0)
                while i < stop {
                    let keyWord = tape[i]
                    let valueIndex = i + 1
                    if Tape.tag(keyWord) == Tape.string {
                        let raw = basePointer + Tape.payload(keyWord)
                        // Cheap first-byte test, then the full comparison up to the closing quote.
                        if n == 0 {
                            if raw[0] == UInt8(ascii: "\"") { found = valueIndex }
                        } else if Tape.payload(keyWord) + n < objectEnd, raw[n] == UInt8(ascii: "\""),
                            raw[0] != UInt8(ascii: "\""),
                            (ignoringCase ? ASCII.lower(raw[0]) : raw[0]) == first
                        {
                            // raw[n] is the closing quote when the key has n bytes (it cannot hold an
                            // unescaped quote); a shorter key is caught by the comparison below.
                            var k = 1
                            var equal = true
                            while k < n {
                                let c = raw[k]
                                if c == UInt8(ascii: "\"")
                                    || (ignoringCase ? ASCII.lower(c) != ASCII.lower(query[k]) : c != query[k])
                                {
                                    equal = false
                                    break
                                }
                                k += 1
                            }
                            if equal && raw[n] == UInt8(ascii: "\"") { found = valueIndex }
                        }
                    } else {
                        // Escaped key: decode, then compare bytes (not Unicode canonical equivalence).
                        let decoded = JSONValue(document: document, index: i).string ?? ""
                        let text = String(decoding: query, as: UTF8.self)
                        let equal =
                            ignoringCase
                            ? ASCII.equalsIgnoringCase(decoded, text) : decoded.utf8.elementsEqual(text.utf8)
                        if equal { found = valueIndex }
                    }
                    let w = tape[valueIndex]
                    let wt = Tape.tag(w)
                    i = (wt == Tape.object || wt == Tape.array) ? Tape.payload(w) : valueIndex + 1
                }
                return found >= 0 ? JSONValue(document: document, index: found) : nil
            }
        }
    }

    /// The element at `position` of an array, or nil.
    public subscript(position: Int) -> JSONValue? {
        guard tag == Tape.array, position >= 0 else { return nil }
        var n = 0
        for element in elements {
            if n == position { return element }
            n += 1
        }
        return nil
    }

    /// The elements of an array (empty for anything else).
    public var elements: JSONElements { JSONElements(value: self) }

    /// The members of an object in document order (empty for anything else).
    public var members: JSONMembers { JSONMembers(value: self) }

    // MARK: - Source

    /// The absolute byte offset of the value in its input.
    public var offset: Int {
        let t = tag
        if t == Tape.object || t == Tape.array { return document.base + Int(document.tape[index + 1]) }
        let off = document.base + Tape.payload(word)
        return (t == Tape.string || t == Tape.escapedString) ? off - 1 : off
    }

    /// The 1-based line and column of the value in its input (scans the input: use for errors).
    public var location: (line: Int, column: Int) { document.bytes.lineAndColumn(of: offset) }

    /// The value's JSON text exactly as it appears in the input.
    public var rawText: String {
        withRawBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of ``rawText`` (the value's JSON text exactly as it appears in the input)
    /// without making a string; the bytes are valid only during the call.
    public func withRawBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = offset
        let endOffset: Int
        switch tag {
        case Tape.object, Tape.array: endOffset = document.base + Int(document.tape[index + 2])
        case Tape.string, Tape.escapedString: endOffset = start + rawStringBytes.count + 2
        case Tape.number: endOffset = start + (number.map { _ in numberLength } ?? 0)
        case Tape.true, Tape.null: endOffset = start + 4
        default: endOffset = start + 5
        }
        return try withExtendedLifetime(document) {
            try body(UnsafeBufferPointer(start: UnsafePointer(document.bytes.start) + start, count: endOffset - start))
        }
    }

    private var numberLength: Int {
        var q = tokenStart
        let start = q
        while (q.pointee &- UInt8(ascii: "0")) < 10 || q.pointee == UInt8(ascii: "-") || q.pointee == UInt8(ascii: "+")
            || q.pointee == UInt8(ascii: ".") || q.pointee | 0x20 == UInt8(ascii: "e")
        {
            q += 1
        }
        return q - start
    }

    /// Decodes the whole value into a ``JSON`` tree.
    public func materialize() -> JSON {
        switch tag {
        case Tape.null: return .null
        case Tape.true: return .bool(true)
        case Tape.false: return .bool(false)
        case Tape.number: return .number(number!)
        case Tape.string, Tape.escapedString: return .string(string!)
        case Tape.array: return .array(elements.map { $0.materialize() })
        default:
            var object: [String: JSON] = [:]
            for (key, value) in members { object[key] = value.materialize() }
            return .object(object)
        }
    }
}

/// The elements of a JSON array, in order.
public struct JSONElements: Sequence, Sendable {
    let value: JSONValue

    /// Iterates over the elements.
    public struct Iterator: IteratorProtocol {
        let document: JSONDocument
        var i: Int
        let stop: Int

        /// The next element, or nil.
        public mutating func next() -> JSONValue? {
            guard i < stop else { return nil }
            let element = JSONValue(document: document, index: i)
            i = element.nextIndex
            return element
        }
    }

    /// Starts an iteration.
    public func makeIterator() -> Iterator {
        guard value.tag == Tape.array else { return Iterator(document: value.document, i: 0, stop: 0) }
        return Iterator(document: value.document, i: value.index + 3, stop: Tape.payload(value.word))
    }
}

/// The members of a JSON object, in document order.
public struct JSONMembers: Sequence, Sendable {
    let value: JSONValue

    /// Iterates over the members.
    public struct Iterator: IteratorProtocol {
        let document: JSONDocument
        var i: Int
        let stop: Int

        /// The next member, or nil.
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard i < stop else { return nil }
            let key = JSONValue(document: document, index: i).string ?? ""
            let value = JSONValue(document: document, index: i + 1)
            i = value.nextIndex
            return (key, value)
        }
    }

    /// Starts an iteration.
    public func makeIterator() -> Iterator {
        guard value.tag == Tape.object else { return Iterator(document: value.document, i: 0, stop: 0) }
        return Iterator(document: value.document, i: value.index + 3, stop: Tape.payload(value.word))
    }
}

/// ASCII helpers for Azure's case-insensitive comparisons.
public enum ASCII {
    /// Lowercases one ASCII letter; other bytes are returned unchanged.
    @inline(__always) public static func lower(_ c: UInt8) -> UInt8 {
        (c &- UInt8(ascii: "A")) < 26 ? c | 0x20 : c
    }

    /// Compares two strings ignoring the case of ASCII letters.
    public static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for k in 0..<x.count where lower(x[k]) != lower(y[k]) { return false }
                return true
            }
        }
    }

    /// The string with ASCII letters lowercased (other characters unchanged).
    public static func lowercased(_ s: String) -> String {
        var s = s
        return s.withUTF8 { bytes in
            if !bytes.contains(where: { ($0 &- UInt8(ascii: "A")) < 26 }) { return nil as String? }
            return String(unsafeUninitializedCapacity: bytes.count) { out in
                for k in 0..<bytes.count { out[k] = lower(bytes[k]) }
                return bytes.count
            }
        } ?? s
    }
}
