/// A JSON value as a Swift tree, for small documents that are built or changed in code.
///
/// Large inputs stay as ``JSONDocument`` tapes; `JSON` is for what FleetCore produces (desired
/// bodies, report documents) and for tests. Objects are unordered; ``JSONWriter`` writes their
/// keys sorted, so output is deterministic.
public enum JSON: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number.
    case number(JSONNumber)
    /// A string.
    case string(String)
    /// An array.
    case array([JSON])
    /// An object.
    case object([String: JSON])

    /// An integer number.
    public static func int(_ value: Int) -> JSON { .number(.int(Int64(value))) }

    /// The member `key` of an object (exact case), or nil.
    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string, or nil when this is not a string.
    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// Parses a JSON text into a tree.
    ///
    /// - Throws: ``JSONError`` naming `source`, line, column and path.
    public static func parse(_ text: String, source: String = "<string>") throws(JSONError) -> JSON {
        try JSONDocument.parse(JSONBytes(text, source: source)).root.materialize()
    }
}

/// A fast, streaming JSON writer: compact or pretty, with correct escaping.
///
/// Commas and indentation are handled for you:
/// ```swift
/// var w = JSONWriter(pretty: true)
/// w.beginObject()
/// w.key("name"); w.string("aks-01")
/// w.key("count"); w.number(3)
/// w.endObject()
/// let text = w.text
/// ```
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private var depth = 0
    /// Whether the container at each depth already holds a value (to place commas).
    private var hasValue: [Bool] = [false]
    private var afterKey = false

    /// Creates a writer; `pretty` indents with two spaces and puts members on their own lines.
    public init(pretty: Bool = false, capacity: Int = 1024) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
    }

    /// The output as a string.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Ends the output with a line break (for documents written to a terminal or a file).
    public mutating func newlineAtEnd() { bytes.append(0x0A) }

    /// Says that the current container already holds values written elsewhere, so the next value is preceded by
    /// a comma: for a copy of this writer that goes on inside an array whose first elements another copy wrote
    /// (pieces of one document written apart, on several threads, then put in order).
    public mutating func continueAfterValues() { hasValue[depth] = true }

    /// Hands the bytes written so far to `body`, then forgets them and goes on where the document was: a large
    /// document goes out in pieces instead of being held whole.
    public mutating func flush(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer(body)
        bytes.removeAll(keepingCapacity: true)
    }

    /// A line break followed by 64 levels of indentation; deeper levels add the rest one by one.
    private static let indentation: [UInt8] = [0x0A] + Array(repeating: 0x20, count: 128)

    private mutating func newline() {
        let spaces = depth * 2
        bytes.append(contentsOf: Self.indentation[..<(1 + min(spaces, 128))])
        if spaces > 128 { bytes.append(contentsOf: repeatElement(0x20, count: spaces - 128)) }
    }

    /// Writes the separator a new value needs at the current position.
    private mutating func prefix() {
        if afterKey {
            afterKey = false
            return
        }
        if hasValue[depth] { bytes.append(UInt8(ascii: ",")) }
        if pretty && depth > 0 { newline() }
        hasValue[depth] = true
    }

    /// Starts an object.
    public mutating func beginObject() {
        prefix()
        bytes.append(UInt8(ascii: "{"))
        depth += 1
        if hasValue.count <= depth { hasValue.append(false) } else { hasValue[depth] = false }
    }

    /// Ends the current object.
    public mutating func endObject() { close(UInt8(ascii: "}")) }

    /// Starts an array.
    public mutating func beginArray() {
        prefix()
        bytes.append(UInt8(ascii: "["))
        depth += 1
        if hasValue.count <= depth { hasValue.append(false) } else { hasValue[depth] = false }
    }

    /// Ends the current array.
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func close(_ bracket: UInt8) {
        let hadValues = hasValue[depth]
        depth -= 1
        if pretty && hadValues { newline() }
        bytes.append(bracket)
    }

    /// Writes an object key; the next call writes its value.
    public mutating func key(_ name: String) {
        prefix()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(0x20) }
        afterKey = true
    }

    /// Writes a string value.
    public mutating func string(_ value: String) {
        prefix()
        appendQuoted(value)
    }

    /// Writes a string value, or `null` for nil.
    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// Writes an integer.
    public mutating func number(_ value: Int) {
        prefix()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a 64-bit integer.
    public mutating func number(_ value: Int64) {
        prefix()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes a number (see ``JSONNumber/description`` for doubles, infinities and NaN).
    public mutating func number(_ value: JSONNumber) {
        prefix()
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Writes a floating-point number rounded to `decimals` places.
    public mutating func number(_ value: Double, decimals: Int) {
        prefix()
        guard value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        let decimals = min(max(decimals, 0), 17)
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (value * scale).rounded()
        guard abs(scaled) < 9.2e18 else {
            // Too large for the integer formatting below: write the double as it is.
            bytes.append(contentsOf: JSONNumber.double(value).description.utf8)
            return
        }
        let negative = scaled < 0
        var digits = String(Int64(abs(scaled)))
        if decimals > 0 {
            while digits.count <= decimals { digits = "0" + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
            while digits.hasSuffix("0") { digits.removeLast() }
            if digits.hasSuffix(".") { digits.removeLast() }
        }
        if negative && digits != "0" { bytes.append(UInt8(ascii: "-")) }
        bytes.append(contentsOf: digits.utf8)
    }

    /// Writes an object member with a string value (`null` for nil).
    public mutating func member(_ name: String, _ value: String?) {
        key(name)
        string(value)
    }

    /// Writes an object member with an integer value.
    public mutating func member(_ name: String, _ value: Int) {
        key(name)
        number(value)
    }

    /// Writes an object member with a boolean value.
    public mutating func member(_ name: String, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        prefix()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func null() {
        prefix()
        bytes.append(contentsOf: "null".utf8)
    }

    /// Writes a parsed value as it stands in its input (compact output keeps its original text).
    public mutating func raw(_ value: JSONValue) {
        if pretty {
            self.value(value.materialize())
        } else {
            prefix()
            bytes.append(contentsOf: value.rawText.utf8)
        }
    }

    /// Writes a tree, object keys sorted.
    public mutating func value(_ json: JSON) {
        switch json {
        case .null: null()
        case .bool(let b): bool(b)
        case .number(let n): number(n)
        case .string(let s): string(s)
        case .array(let items):
            beginArray()
            for item in items { value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for k in members.keys.sorted() {
                key(k)
                value(members[k]!)
            }
            endObject()
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether a byte must be escaped inside a JSON string.
    private static let mustEscape: [Bool] = (0..<256).map { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        // Nearly every string (ids, names, states) needs no escaping: copy it whole.
        let plain = s.withUTF8 { buffer in
            Self.mustEscape.withUnsafeBufferPointer { table in
                for c in buffer where table[Int(c)] { return false }
                bytes.append(contentsOf: buffer)
                return true
            }
        }
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20, 0x7F:
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                bytes.append(Self.hexDigits[Int(c >> 4)])
                bytes.append(Self.hexDigits[Int(c & 15)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Encodes one string as a JSON string literal (with quotes).
    public static func quote(_ s: String) -> String {
        var w = JSONWriter(capacity: s.utf8.count + 2)
        w.string(s)
        return w.text
    }
}
