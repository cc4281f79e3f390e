import FleetCore

/// A JSON writer for large reports: the same bytes as FleetCore's `JSONWriter`, written faster.
///
/// Strings that need no escaping (nearly all of them: ARM ids, names, states) are copied whole
/// instead of byte by byte, which matters at a hundred thousand rows. The golden files pin the
/// output to `JSONWriter`'s: two-space indentation, `": "` after keys, `[]` and `{}` when empty.
struct ReportJSONWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private var depth = 0
    private var hasValue: [Bool] = [false]
    private var afterKey = false

    init(pretty: Bool, capacity: Int) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
    }

    mutating func newlineAtEnd() { bytes.append(0x0A) }

    /// A line break followed by 64 levels of indentation; deeper levels add the rest one by one.
    private static let indentation: [UInt8] = [0x0A] + Array(repeating: 0x20, count: 128)

    private mutating func newline() {
        let spaces = depth * 2
        bytes.append(contentsOf: Self.indentation[..<(1 + min(spaces, 128))])
        if spaces > 128 { bytes.append(contentsOf: repeatElement(0x20, count: spaces - 128)) }
    }

    private mutating func prefix() {
        if afterKey {
            afterKey = false
            return
        }
        if hasValue[depth] { bytes.append(UInt8(ascii: ",")) }
        if pretty && depth > 0 { newline() }
        hasValue[depth] = true
    }

    private mutating func open(_ bracket: UInt8) {
        prefix()
        bytes.append(bracket)
        depth += 1
        if hasValue.count <= depth { hasValue.append(false) } else { hasValue[depth] = false }
    }

    private mutating func close(_ bracket: UInt8) {
        let hadValues = hasValue[depth]
        depth -= 1
        if pretty && hadValues { newline() }
        bytes.append(bracket)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    mutating func key(_ name: String) {
        prefix()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        if pretty { bytes.append(0x20) }
        afterKey = true
    }

    mutating func string(_ value: String) {
        prefix()
        appendQuoted(value)
    }

    mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    mutating func number(_ value: Int) {
        prefix()
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func number(_ value: Int64) {
        prefix()
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A number rounded to `decimals` places, formatted as `JSONWriter` formats it.
    mutating func number(_ value: Double, decimals: Int) {
        prefix()
        var w = JSONWriter(capacity: 24)
        w.number(value, decimals: decimals)
        bytes.append(contentsOf: w.bytes)
    }

    mutating func bool(_ value: Bool) {
        prefix()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func null() {
        prefix()
        bytes.append(contentsOf: "null".utf8)
    }

    mutating func member(_ name: String, _ value: String?) {
        key(name)
        string(value)
    }

    mutating func member(_ name: String, _ value: Int) {
        key(name)
        number(value)
    }

    mutating func member(_ name: String, _ value: Bool) {
        key(name)
        bool(value)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Whether a byte must be escaped inside a JSON string.
    private static let escaped: [Bool] = (0..<256).map { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }

    private mutating func appendQuoted(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { buffer in
            var plain = true
            Self.escaped.withUnsafeBufferPointer { table in
                for c in buffer where table[Int(c)] {
                    plain = false
                    break
                }
            }
            if plain {
                bytes.append(contentsOf: buffer)
                return
            }
            for c in buffer {
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
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
