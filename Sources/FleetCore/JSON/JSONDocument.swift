/// One parsed JSON value: a compact tape over the raw input bytes.
///
/// A document costs about four bytes per scalar and twelve per container on top of the input,
/// instead of the several hundred bytes per value of a tree of Swift enums and dictionaries.
/// Strings and numbers are decoded from the input only when read through ``JSONValue``.
///
/// ```swift
/// let doc = try JSONDocument.parse(JSONBytes(#"{"name":"aks-01","tags":{"env":"prod"}}"#))
/// doc.root["tags"]?["env"]?.string   // "prod"
/// ```
public final class JSONDocument: Sendable {
    /// The input the document was parsed from.
    public let bytes: JSONBytes
    /// The absolute offset of the document's first byte in ``bytes``.
    public let base: Int
    let tape: [UInt32]
    private let pathRoot: String
    private let numbering: RecordNumbering?
    private let localIndex: Int

    init(bytes: JSONBytes, base: Int, path: String, tape: [UInt32]) {
        self.bytes = bytes
        self.base = base
        self.pathRoot = path
        self.numbering = nil
        self.localIndex = 0
        self.tape = tape
    }

    init(bytes: JSONBytes, base: Int, numbering: RecordNumbering, localIndex: Int, tape: [UInt32]) {
        self.bytes = bytes
        self.base = base
        self.pathRoot = ""
        self.numbering = numbering
        self.localIndex = localIndex
        self.tape = tape
    }

    /// The JSON path of this document inside its input: `$` for a whole file or an NDJSON line,
    /// `$[12]` or `$.data[12]` for a record of an array.
    public var path: String {
        guard let numbering else { return pathRoot }
        return "\(numbering.root)[\(numbering.offset + localIndex)]"
    }

    /// The default limit on nesting depth.
    public static let defaultMaxDepth = 256

    /// Parses all of `bytes` as one JSON text (white space around it allowed, nothing else).
    ///
    /// - Throws: ``JSONError`` with line, column and JSON path of the first problem.
    public static func parse(_ bytes: JSONBytes, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONDocument {
        try parse(bytes, from: 0, to: bytes.count, path: "$", maxDepth: maxDepth, requireEnd: true).document
    }

    /// Parses one value starting at `start`; with `requireEnd` only white space may follow it
    /// before `end`.
    static func parse(
        _ bytes: JSONBytes, from start: Int, to end: Int, path: String, maxDepth: Int, requireEnd: Bool
    ) throws(JSONError) -> (document: JSONDocument, end: Int) {
        var tape = TapeBuffer(capacity: max(16, min(1 << 20, (end - start) / 8)))
        let parser = TapeParser(bytes: bytes, base: start, end: end, maxDepth: maxDepth)
        do throws(TapeFailure) {
            var i = try parser.parseValue(from: start, into: &tape)
            if requireEnd {
                let p = bytes.start
                while i < end, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
                if i < end {
                    throw TapeFailure(offset: i, message: "unexpected data after the JSON value", path: [])
                }
            }
            return (JSONDocument(bytes: bytes, base: start, path: path, tape: tape.copyOut()), i)
        } catch {
            throw JSONError(failure: error, bytes: bytes, rootPath: path)
        }
    }

    /// The document's value.
    public var root: JSONValue { JSONValue(document: self, index: 0) }
}

extension JSONError {
    init(failure: TapeFailure, bytes: JSONBytes, rootPath: String) {
        let (line, column) = bytes.lineAndColumn(of: failure.offset)
        self.init(
            source: bytes.source, line: line, column: column, offset: failure.offset,
            path: JSONPathComponent.render(failure.path, root: rootPath), message: failure.message)
    }
}

/// The six kinds of JSON value.
public enum JSONKind: String, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool
    /// A number.
    case number
    /// A string.
    case string
    /// An object.
    case object
    /// An array.
    case array
}

/// A JSON number, exact for 64-bit integers.
public enum JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// An integer that fits `Int64`.
    case int(Int64)
    /// A non-negative integer above `Int64.max` that fits `UInt64`.
    case uint(UInt64)
    /// Any other number (fraction, exponent or out of 64-bit range).
    case double(Double)

    /// The value as a `Double` (rounded for large integers).
    public var doubleValue: Double {
        switch self {
        case .int(let v): Double(v)
        case .uint(let v): Double(v)
        case .double(let v): v
        }
    }

    /// The value as an `Int64` when it is an integer in range (a double with no fraction counts).
    public var int64Value: Int64? {
        switch self {
        case .int(let v): v
        case .uint: nil
        case .double(let v): v.rounded() == v && abs(v) < 9.2e18 ? Int64(v) : nil
        }
    }

    /// Text that reads back as the same number of the same kind.
    ///
    /// Doubles always carry a fraction or an exponent (`1.0`, `1e+16`, `-0.0`), so they read back as
    /// doubles; a number too large for a double (parsed as infinity) is written `1e999`, which
    /// reads back as infinity again. NaN cannot come from JSON text and is written `null`.
    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .uint(let v): String(v)
        case .double(let v):
            if v.isNaN {
                "null"
            } else if v.isInfinite {
                v < 0 ? "-1e999" : "1e999"
            } else {
                "\(v)"
            }
        }
    }

    /// Parses JSON number text (already validated by the parser).
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> JSONNumber {
        var negative = false
        var i = 0
        if text.first == UInt8(ascii: "-") {
            negative = true
            i = 1
        }
        var magnitude: UInt64 = 0
        var integral = true
        var overflow = false
        while i < text.count {
            let d = text[i] &- UInt8(ascii: "0")
            if d >= 10 {
                integral = false
                break
            }
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(d))
            if o1 || o2 { overflow = true }
            magnitude = m2
            i += 1
        }
        if integral && !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else {
                if magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
                return .uint(magnitude)
            }
        }
        let string = String(decoding: text, as: UTF8.self)
        return .double(Double(string) ?? .nan)
    }
}
