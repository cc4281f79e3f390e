/// The tape: one `UInt32` word per scalar, three per container, with offsets into the raw bytes.
///
/// Layout of a word: the top three bits are the tag, the low 29 bits the payload.
/// - null / false / true / number / string / escaped string: payload = byte offset of the token
///   relative to the document's base (for strings: the first byte after the opening quote).
/// - object / array: three words — tag + tape index of the next sibling (relative to the document),
///   then the absolute-from-base offset of the opening bracket, then the offset just past the
///   closing bracket.
///
/// A document is therefore limited to 512 MiB of text and 512 Mi words; inventories are split
/// into one document per resource, far below both.
enum Tape {
    static let tagShift: UInt32 = 29
    static let payloadMask: UInt32 = (1 << 29) - 1
    static let maxPayload = Int(payloadMask)

    static let null: UInt32 = 0
    static let `false`: UInt32 = 1
    static let `true`: UInt32 = 2
    static let number: UInt32 = 3
    static let string: UInt32 = 4
    static let escapedString: UInt32 = 5
    static let object: UInt32 = 6
    static let array: UInt32 = 7

    @inline(__always) static func tag(_ word: UInt32) -> UInt32 { word >> tagShift }
    @inline(__always) static func payload(_ word: UInt32) -> Int { Int(word & payloadMask) }
    @inline(__always) static func word(_ tag: UInt32, _ payload: Int) -> UInt32 {
        (tag << tagShift) | UInt32(truncatingIfNeeded: payload)
    }
}

/// Why the parser stopped, before it is turned into a ``JSONError`` with line, column and path.
struct TapeFailure: Error {
    let offset: Int
    let message: String
    let path: [JSONPathComponent]
}

/// A growable `UInt32` buffer without the uniqueness checks of `Array.append`.
struct TapeBuffer: ~Copyable {
    var base: UnsafeMutablePointer<UInt32>
    var count = 0
    var capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) mutating func append(_ word: UInt32) {
        if count == capacity { grow() }
        base[count] = word
        count += 1
    }

    @inline(__always) mutating func reserve(_ n: Int) {
        while count + n > capacity { grow() }
    }

    mutating func grow() {
        let bigger = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity * 2)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    func copyOut() -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.update(from: base, count: count)
            initialized = count
        }
    }
}

private struct OpenContainer {
    var tapeIndex: Int
    var isObject: Bool
    var members: Int
    var lastKeyWord: Int
}

/// A byte-level, iterative JSON parser that writes the tape of one value.
///
/// It validates the whole grammar (RFC 8259): structure, string escapes (including surrogate
/// pairs), UTF-8, control characters, number syntax and nesting depth. It does not decode
/// strings or numbers; ``JSONValue`` does that when asked.
struct TapeParser {
    let p: UnsafePointer<UInt8>
    /// Absolute offset where the input ends: reading stops here even if the buffer goes on.
    let end: Int
    /// Absolute offset of the document's first byte; tape offsets are relative to it.
    let base: Int
    let maxDepth: Int

    init(bytes: JSONBytes, base: Int, end: Int, maxDepth: Int) {
        self.p = UnsafePointer(bytes.start)
        self.base = base
        self.end = end
        self.maxDepth = maxDepth
    }

    // MARK: - Small scanners

    @inline(__always) private func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    /// Skips white space; returns the next byte, or 0 at the end of the input.
    @inline(__always) private func skipSpace(_ i: inout Int) -> UInt8 {
        while i < end {
            let c = p[i]
            if c > 0x20 { return c }
            if !isSpace(c) { return c }
            i += 1
        }
        return 0
    }

    @inline(__always) private func load64(_ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Scans a string whose opening quote is at `i - 1`; returns whether it held an escape.
    ///
    /// On return `i` is just past the closing quote.
    @inline(__always) private func scanString(_ i: inout Int) throws(TapeFailure) -> Bool {
        var escaped = false
        let quote: UInt64 = 0x2222_2222_2222_2222
        let backslash: UInt64 = 0x5C5C_5C5C_5C5C_5C5C
        while true {
            // Eight bytes at a time until a quote, backslash, control or non-ASCII byte.
            let w = load64(i)
            let q = w ^ quote
            let b = w ^ backslash
            let mask =
                ((q &- Self.ones) & ~q) | ((b &- Self.ones) & ~b) | ((w &- Self.ones &* 0x20) & ~w)
                | w
            let special = mask & Self.highs
            if special == 0 {
                i += 8
                continue
            }
            i += special.trailingZeroBitCount >> 3
            let c = p[i]
            if c == UInt8(ascii: "\"") {
                if i >= end { throw failure(at: end, "unterminated string") }
                i += 1
                return escaped
            } else if c == UInt8(ascii: "\\") {
                if i >= end { throw failure(at: end, "unterminated string") }
                escaped = true
                try scanEscape(&i)
            } else if c < 0x20 {
                if i >= end { throw failure(at: end, "unterminated string") }
                throw failure(
                    at: i,
                    c == 0x0A
                        ? "unterminated string (a raw line break is not allowed inside a string; write \\n)"
                        : "control character U+00\(hex2(c)) must be escaped inside a string")
            } else {
                // c >= 0x80: one UTF-8 sequence.
                if i >= end { throw failure(at: end, "unterminated string") }
                try scanUTF8(&i)
            }
        }
    }

    private func hex2(_ c: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(c >> 4)], digits[Int(c & 15)]], as: UTF8.self)
    }

    /// Validates one escape at `i` (the backslash) and moves past it.
    private func scanEscape(_ i: inout Int) throws(TapeFailure) {
        guard i + 1 < end else { throw failure(at: end, "unterminated string") }
        let c = p[i + 1]
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            if i + 1 >= end { throw failure(at: end, "unterminated string") }
            i += 2
        case UInt8(ascii: "u"):
            guard let unit = hex4(i + 2) else {
                throw failure(at: i, "invalid \\u escape: expected four hexadecimal digits")
            }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard p[i + 6] == UInt8(ascii: "\\"), p[i + 7] == UInt8(ascii: "u"), let low = hex4(i + 8),
                    low >= 0xDC00 && low <= 0xDFFF
                else {
                    throw failure(at: i, "invalid \\u escape: high surrogate not followed by a low surrogate")
                }
                i += 12
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw failure(at: i, "invalid \\u escape: unpaired low surrogate")
            } else {
                i += 6
            }
            if i > end { throw failure(at: end, "unterminated string") }
        default:
            if i + 1 >= end { throw failure(at: end, "unterminated string") }
            throw failure(at: i, "invalid escape sequence '\\\(printable(c))'")
        }
    }

    @inline(__always) private func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func hex4(_ i: Int) -> UInt32? {
        guard i + 4 <= end, let a = hexValue(p[i]), let b = hexValue(p[i + 1]), let c = hexValue(p[i + 2]),
            let d = hexValue(p[i + 3])
        else { return nil }
        return a << 12 | b << 8 | c << 4 | d
    }

    /// Validates one multi-byte UTF-8 sequence starting at `i` (RFC 3629: no overlongs, no
    /// surrogates, nothing above U+10FFFF).
    private func scanUTF8(_ i: inout Int) throws(TapeFailure) {
        let c0 = p[i]
        func cont(_ k: Int) -> Bool { i + k < end && p[i + k] & 0xC0 == 0x80 }
        switch c0 {
        case 0xC2...0xDF:
            guard cont(1) else { break }
            i += 2
            return
        case 0xE0...0xEF:
            guard cont(1), cont(2) else { break }
            let c1 = p[i + 1]
            if c0 == 0xE0 && c1 < 0xA0 { break }  // overlong
            if c0 == 0xED && c1 > 0x9F { break }  // surrogate
            i += 3
            return
        case 0xF0...0xF4:
            guard cont(1), cont(2), cont(3) else { break }
            let c1 = p[i + 1]
            if c0 == 0xF0 && c1 < 0x90 { break }  // overlong
            if c0 == 0xF4 && c1 > 0x8F { break }  // above U+10FFFF
            i += 4
            return
        default:
            break
        }
        throw failure(at: i, "invalid UTF-8 byte 0x\(hex2(c0)) in string")
    }

    @inline(__always) private func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    /// Validates a number starting at `i`; on return `i` is past it.
    @inline(__always) private func scanNumber(_ i: inout Int) throws(TapeFailure) {
        let start = i
        if p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < end, isDigit(p[i]) else {
            throw failure(at: i, "invalid number: expected a digit after '-'")
        }
        if p[i] == UInt8(ascii: "0") {
            i += 1
            if i < end && isDigit(p[i]) { throw failure(at: start, "invalid number: leading zeros are not allowed") }
        } else {
            while i < end && isDigit(p[i]) { i += 1 }
        }
        if i < end && p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < end, isDigit(p[i]) else {
                throw failure(at: i, "invalid number: expected a digit after '.'")
            }
            while i < end && isDigit(p[i]) { i += 1 }
        }
        if i < end && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            if i < end && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < end, isDigit(p[i]) else {
                throw failure(at: i, "invalid number: expected a digit in the exponent")
            }
            while i < end && isDigit(p[i]) { i += 1 }
        }
    }

    @inline(__always) private func literal(_ i: inout Int, _ text: StaticString) throws(TapeFailure) {
        let n = text.utf8CodeUnitCount
        let t = text.utf8Start
        guard i + n <= end else { throw failure(at: i, "invalid literal: expected '\(text)'") }
        for k in 0..<n where p[i + k] != t[k] {
            throw failure(at: i, "invalid literal: expected '\(text)'")
        }
        i += n
    }

    private func printable(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return String(UnicodeScalar(c)) }
        return "byte 0x\(hex2(c))"
    }

    /// Describes a byte found inside the input (callers report the end of input themselves).
    private func describe(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? "'\(printable(c))'" : printable(c)
    }

    // MARK: - Errors

    /// A failure without its path; ``parseValue(from:into:)`` adds the path of the open containers.
    private func failure(at offset: Int, _ message: String) -> TapeFailure {
        TapeFailure(offset: offset, message: message, path: [])
    }

    // MARK: - The parse

    /// Parses one JSON value starting at `start` (leading white space allowed) into `tape`.
    ///
    /// Returns the offset just past the value. Anything after it is the caller's business.
    func parseValue(from start: Int, into tape: inout TapeBuffer) throws(TapeFailure) -> Int {
        var i = start
        var stack: [OpenContainer] = []
        stack.reserveCapacity(16)
        do throws(TapeFailure) {
            return try run(&i, &stack, &tape)
        } catch {
            // Rebuild the JSON path of the failure from the open containers.
            var path: [JSONPathComponent] = []
            for container in stack {
                if container.isObject {
                    if container.lastKeyWord >= 0 {
                        let w = tape.base[container.lastKeyWord]
                        path.append(.key(keyText(w)))
                    }
                } else {
                    path.append(.index(container.members))
                }
            }
            throw TapeFailure(offset: error.offset, message: error.message, path: path)
        }
    }

    private func keyText(_ word: UInt32) -> String {
        var i = base + Tape.payload(word)
        let startIndex = i
        while i < end && p[i] != UInt8(ascii: "\"") {
            if p[i] == UInt8(ascii: "\\") { i += 1 }
            i += 1
        }
        let raw = String(decoding: UnsafeBufferPointer(start: p + startIndex, count: i - startIndex), as: UTF8.self)
        if Tape.tag(word) == Tape.escapedString, let decoded = JSONStringDecoder.decode(p + startIndex, end: p + i) {
            return decoded
        }
        return raw
    }

    @inline(__always) private func relative(_ i: Int) throws(TapeFailure) -> Int {
        let r = i - base
        if r > Tape.maxPayload { throw failure(at: i, "document larger than 512 MiB; split it into records") }
        return r
    }

    private func run(
        _ i: inout Int, _ stack: inout [OpenContainer], _ tape: inout TapeBuffer
    ) throws(TapeFailure) -> Int {
        var expectValue = true
        while true {
            if expectValue {
                let c = skipSpace(&i)
                switch c {
                case UInt8(ascii: "\""):
                    let off = try relative(i + 1)
                    i += 1
                    let escaped = try scanString(&i)
                    tape.append(Tape.word(escaped ? Tape.escapedString : Tape.string, off))
                    expectValue = false
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let isObject = c == UInt8(ascii: "{")
                    if stack.count >= maxDepth {
                        throw failure(at: i, "nesting deeper than \(maxDepth) levels")
                    }
                    let index = tape.count
                    tape.reserve(3)
                    tape.append(Tape.word(isObject ? Tape.object : Tape.array, 0))
                    tape.append(UInt32(truncatingIfNeeded: try relative(i)))
                    tape.append(0)
                    stack.append(OpenContainer(tapeIndex: index, isObject: isObject, members: 0, lastKeyWord: -1))
                    i += 1
                    let next = skipSpace(&i)
                    if next == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        i += 1
                        close(&stack, &tape, at: i)
                        expectValue = false
                    } else if isObject {
                        try readKey(&i, &stack, &tape)
                    }
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    tape.append(Tape.word(Tape.number, try relative(i)))
                    try scanNumber(&i)
                    expectValue = false
                case UInt8(ascii: "t"):
                    tape.append(Tape.word(Tape.true, try relative(i)))
                    try literal(&i, "true")
                    expectValue = false
                case UInt8(ascii: "f"):
                    tape.append(Tape.word(Tape.false, try relative(i)))
                    try literal(&i, "false")
                    expectValue = false
                case UInt8(ascii: "n"):
                    tape.append(Tape.word(Tape.null, try relative(i)))
                    try literal(&i, "null")
                    expectValue = false
                default:
                    if i >= end { throw failure(at: end, "unexpected end of input: expected a value") }
                    throw failure(at: i, "expected a value, found \(describe(c))")
                }
            } else {
                guard let top = stack.last else { return i }
                let c = skipSpace(&i)
                if c == UInt8(ascii: ",") {
                    i += 1
                    stack[stack.count - 1].members += 1
                    if top.isObject { try readKey(&i, &stack, &tape) }
                    expectValue = true
                } else if c == (top.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    i += 1
                    close(&stack, &tape, at: i)
                } else if i >= end {
                    throw failure(
                        at: end,
                        "unexpected end of input: expected ',' or '\(top.isObject ? "}" : "]")'")
                } else {
                    throw failure(
                        at: i,
                        "expected ',' or '\(top.isObject ? "}" : "]")' after "
                            + (top.isObject ? "an object member" : "an array element") + ", found \(describe(c))")
                }
            }
        }
    }

    @inline(__always) private func close(_ stack: inout [OpenContainer], _ tape: inout TapeBuffer, at i: Int) {
        let open = stack.removeLast()
        let w = tape.base[open.tapeIndex]
        tape.base[open.tapeIndex] = (w & ~Tape.payloadMask) | UInt32(truncatingIfNeeded: tape.count)
        tape.base[open.tapeIndex + 2] = UInt32(truncatingIfNeeded: i - base)
    }

    /// Reads `"key"` and the colon after it.
    @inline(__always) private func readKey(
        _ i: inout Int, _ stack: inout [OpenContainer], _ tape: inout TapeBuffer
    ) throws(TapeFailure) {
        // Until the key is read, a failure belongs to the object, not to the previous member.
        stack[stack.count - 1].lastKeyWord = -1
        let c = skipSpace(&i)
        guard c == UInt8(ascii: "\"") else {
            if i >= end { throw failure(at: end, "unexpected end of input: expected an object key") }
            throw failure(at: i, "expected an object key in double quotes, found \(describe(c))")
        }
        let off = try relative(i + 1)
        i += 1
        let escaped = try scanString(&i)
        stack[stack.count - 1].lastKeyWord = tape.count
        tape.append(Tape.word(escaped ? Tape.escapedString : Tape.string, off))
        let colon = skipSpace(&i)
        guard colon == UInt8(ascii: ":") else {
            if i >= end { throw failure(at: end, "unexpected end of input: expected ':' after an object key") }
            throw failure(at: i, "expected ':' after an object key, found \(describe(colon))")
        }
        i += 1
    }
}

/// Decodes the body of a JSON string that holds escapes (already validated by the parser).
enum JSONStringDecoder {
    /// Returns the decoded text of the bytes between `start` and `end` (the closing quote).
    static func decode(_ start: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var q = start
        func hex(_ c: UInt8) -> UInt32 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
            default: return UInt32(c &- UInt8(ascii: "A") &+ 10) & 15
            }
        }
        func unit(_ at: UnsafePointer<UInt8>) -> UInt32 {
            hex(at[0]) << 12 | hex(at[1]) << 8 | hex(at[2]) << 4 | hex(at[3])
        }
        while q < end {
            let c = q.pointee
            if c != UInt8(ascii: "\\") {
                out.append(c)
                q += 1
                continue
            }
            let e = q[1]
            q += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = unit(q)
                q += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF && q + 6 <= end && q[0] == UInt8(ascii: "\\") {
                    let low = unit(q + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    q += 6
                }
                guard let s = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: UTF8.encode(s)!)
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
