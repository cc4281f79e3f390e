import FleetCore

/// String functions; indexes and lengths count UTF-16 code units, as .NET (ARM) does.
enum StringFunctions {
    typealias Units = [UInt16]

    /// Case folding that keeps UTF-16 lengths: ASCII letters, and BMP letters whose lowercase is one BMP scalar.
    static func fold(_ u: UInt16) -> UInt16 {
        if u &- 0x41 < 26 { return u | 0x20 }
        guard u >= 0x80, u < 0xD800 || u > 0xDFFF, let scalar = Unicode.Scalar(u) else { return u }
        let lower = scalar.properties.lowercaseMapping.utf16
        return lower.count == 1 ? lower.first! : u
    }

    /// The offset of the first (or last) occurrence of `needle` in `hay`, or nil.
    static func find(_ needle: Units, in hay: Units, ignoringCase: Bool, last: Bool = false) -> Int? {
        if needle.isEmpty { return last ? hay.count : 0 }
        guard needle.count <= hay.count else { return nil }
        let starts = 0...(hay.count - needle.count)
        func matches(_ start: Int) -> Bool {
            for k in 0..<needle.count {
                let (x, y) = (hay[start + k], needle[k])
                if x != y && (!ignoringCase || fold(x) != fold(y)) { return false }
            }
            return true
        }
        return last ? starts.reversed().first(where: matches) : starts.first(where: matches)
    }

    private static func text(_ units: some Collection<UInt16>) -> String { String(decoding: units, as: UTF16.self) }

    /// `split(input, delimiter)`: `delimiter` is a string or an array of strings; empty parts are kept.
    static func split(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let input = Array(try a.string(0).utf16)
        var delimiters: [Units] = []
        switch a[1] {
        case .string(let d): delimiters = [Array(d.utf16)]
        case .array(let items):
            for item in items {
                guard case .string(let d) = item else { throw a.fail("expects an array of strings as delimiters") }
                delimiters.append(Array(d.utf16))
            }
        default: throw a.typeError(1, expected: "a string or an array of strings")
        }
        delimiters.removeAll { $0.isEmpty }
        guard !delimiters.isEmpty else { return .array([.string(text(input))]) }
        var parts: [JSON] = []
        var partStart = 0
        var i = 0
        scan: while i < input.count {
            for d in delimiters where i + d.count <= input.count && input[i..<(i + d.count)].elementsEqual(d) {
                parts.append(.string(text(input[partStart..<i])))
                i += d.count
                partStart = i
                continue scan
            }
            i += 1
        }
        parts.append(.string(text(input[partStart...])))
        return .array(parts)
    }

    /// `join(array, delimiter)`: the elements (strings, ints or bools) joined with `delimiter`.
    static func join(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let items = try a.array(0)
        let delimiter = try a.string(1)
        var parts: [String] = []
        for item in items {
            switch item {
            case .string, .number, .bool: parts.append(ExpressionValues.text(item))
            default: throw a.fail("cannot join \(ExpressionValues.typeName(item)); elements must be strings")
            }
        }
        return .string(parts.joined(separator: delimiter))
    }

    /// `replace(original, old, new)`: every occurrence, case-sensitive; `old` must not be empty.
    static func replace(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let original = Array(try a.string(0).utf16)
        let old = Array(try a.string(1).utf16)
        let new = Array(try a.string(2).utf16)
        if old.isEmpty { throw a.fail("cannot replace an empty string") }
        var out: Units = []
        var i = 0
        while i < original.count {
            if i + old.count <= original.count && original[i..<(i + old.count)].elementsEqual(old) {
                out += new
                i += old.count
            } else {
                out.append(original[i])
                i += 1
            }
        }
        return .string(text(out))
    }

    /// `substring(s, start, length?)`: the range must lie within the string.
    static func substring(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let s = Array(try a.string(0).utf16)
        let start = try a.integer(1)
        guard start >= 0, start <= s.count else {
            throw a.fail("start index \(start) is outside the string (length \(s.count))")
        }
        let length = a.count > 2 ? try a.integer(2) : Int64(s.count) - start
        guard length >= 0, start + length <= s.count else {
            throw a.fail("length \(length) from index \(start) runs past the end of the string (length \(s.count))")
        }
        return .string(text(s[Int(start)..<Int(start + length)]))
    }

    /// `startsWith(s, prefix)`, ignoring case.
    static func startsWith(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let (s, prefix) = (Array(try a.string(0).utf16), Array(try a.string(1).utf16))
        return .bool(
            prefix.count <= s.count && find(prefix, in: Array(s.prefix(prefix.count)), ignoringCase: true) == 0)
    }

    /// `endsWith(s, suffix)`, ignoring case.
    static func endsWith(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let (s, suffix) = (Array(try a.string(0).utf16), Array(try a.string(1).utf16))
        return .bool(
            suffix.count <= s.count && find(suffix, in: Array(s.suffix(suffix.count)), ignoringCase: true) != nil)
    }

    /// `indexOf(s, value)`, ignoring case; -1 when absent, 0 for an empty value.
    static func indexOf(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let (s, value) = (Array(try a.string(0).utf16), Array(try a.string(1).utf16))
        return .int(find(value, in: s, ignoringCase: true) ?? -1)
    }

    /// `lastIndexOf(s, value)`, ignoring case; -1 when absent, the length for an empty value.
    static func lastIndexOf(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let (s, value) = (Array(try a.string(0).utf16), Array(try a.string(1).utf16))
        return .int(find(value, in: s, ignoringCase: true, last: true) ?? -1)
    }

    /// `trim(s)`: without leading and trailing white space.
    static func trim(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        .string(ExpressionValues.trim(try a.string(0)))
    }

    /// `padLeft(value, totalLength, paddingCharacter?)`: `value` (string or int) padded on the left
    /// with a single character (space by default) to `totalLength` UTF-16 units.
    static func padLeft(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let value: String
        switch a[0] {
        case .string(let s): value = s
        case .number: value = ExpressionValues.text(a[0])
        default: throw a.typeError(0, expected: "a string or an int")
        }
        let total = try a.integer(1, in: 0...131_072, "a total length")
        var pad: UInt16 = 0x20
        if a.count > 2 {
            let p = Array(try a.string(2).utf16)
            guard p.count == 1 else { throw a.fail("expects a single padding character, got \(p.count)") }
            pad = p[0]
        }
        let units = Array(value.utf16)
        guard units.count < total else { return .string(value) }
        return .string(text(Units(repeating: pad, count: total - units.count) + units))
    }

    /// `format(formatString, …)`: .NET composite formatting: `{0}`, `{1,-8}` (alignment), `{0:D3}`
    /// (format: `D`, `N`, `F`, `X`/`x` with optional precision, for numbers), `{{` and `}}` for braces.
    static func format(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let pattern = Array(try a.string(0).unicodeScalars)
        var out = ""
        var i = 0
        while i < pattern.count {
            let c = pattern[i]
            if c == "}" {
                guard i + 1 < pattern.count, pattern[i + 1] == "}" else { throw a.fail("has an unmatched '}'") }
                out += "}"
                i += 2
                continue
            }
            guard c == "{" else {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            if i + 1 < pattern.count && pattern[i + 1] == "{" {
                out += "{"
                i += 2
                continue
            }
            guard let close = pattern[i...].firstIndex(of: "}") else { throw a.fail("has an unmatched '{'") }
            let item = String(String.UnicodeScalarView(pattern[(i + 1)..<close]))
            out += try formatItem(item, a)
            i = close + 1
        }
        return .string(out)
    }

    private static func formatItem(_ item: String, _ a: FunctionArguments) throws(ExpressionError) -> String {
        var head = Substring(item)
        var spec = ""
        if let colon = item.firstIndex(of: ":") {
            head = item[..<colon]
            spec = String(item[item.index(after: colon)...])
        }
        var alignment = 0
        var indexText = head
        if let comma = head.firstIndex(of: ",") {
            indexText = head[..<comma]
            guard let value = Int(ExpressionValues.trim(String(head[head.index(after: comma)...]))),
                abs(value) <= 1000
            else { throw a.fail("has an invalid alignment in '{\(item)}'") }
            alignment = value
        }
        guard let index = Int(ExpressionValues.trim(String(indexText))), index >= 0 else {
            throw a.fail("has an invalid format item '{\(item)}'")
        }
        guard index + 1 < a.count else {
            throw a.fail("refers to {\(index)} but has only \(a.count - 1) value(s) to format")
        }
        var text = try formatValue(a[index + 1], spec: spec, a)
        let width = abs(alignment)
        if text.count < width {
            let padding = String(repeating: " ", count: width - text.count)
            text = alignment > 0 ? padding + text : text + padding
        }
        return text
    }

    private static func formatValue(_ value: JSON, spec: String, _ a: FunctionArguments) throws(ExpressionError)
        -> String
    {
        guard !spec.isEmpty, case .number(let number) = value else { return ExpressionValues.text(value) }
        let kind = spec.first!
        let digits = spec.dropFirst()
        var precision: Int?
        if !digits.isEmpty {
            guard let p = Int(digits), p <= 99 else { throw a.fail("has an unsupported format '\(spec)'") }
            precision = p
        }
        let integer = ExpressionValues.integer(number)
        switch (kind, integer) {
        case ("D", let v?), ("d", let v?):
            let magnitude = String(v.magnitude)
            let padded = String(repeating: "0", count: Swift.max(0, (precision ?? 0) - magnitude.count)) + magnitude
            return (v < 0 ? "-" : "") + padded
        case ("X", let v?), ("x", let v?):
            let hex = String(UInt64(bitPattern: v), radix: 16, uppercase: kind == "X")
            return String(repeating: "0", count: Swift.max(0, (precision ?? 0) - hex.count)) + hex
        case ("F", _), ("f", _):
            return fixed(number.doubleValue, decimals: precision ?? 2, grouped: false)
        case ("N", _), ("n", _):
            return fixed(number.doubleValue, decimals: precision ?? 2, grouped: true)
        default:
            throw a.fail("has an unsupported format '\(spec)' for \(ExpressionValues.typeName(value))")
        }
    }

    /// `value` rounded to `decimals` places (half away from zero), optionally with `,` thousands groups.
    static func fixed(_ value: Double, decimals: Int, grouped: Bool) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value < 0 ? "-∞" : "∞") }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e18 else { return String(value) }
        let digits = String(UInt64(scaled))
        let padded = String(repeating: "0", count: Swift.max(0, decimals + 1 - digits.count)) + digits
        var whole = String(padded.dropLast(decimals))
        let fraction = String(padded.suffix(decimals))
        if grouped {
            var groupedWhole = ""
            for (k, c) in whole.reversed().enumerated() {
                if k > 0 && k % 3 == 0 { groupedWhole.append(",") }
                groupedWhole.append(c)
            }
            whole = String(groupedWhole.reversed())
        }
        let negative = value < 0 && scaled != 0
        return (negative ? "-" : "") + whole + (decimals > 0 ? "." + fraction : "")
    }
}
