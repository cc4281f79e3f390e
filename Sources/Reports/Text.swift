import FleetCore

/// Small text helpers every renderer shares: escaping for each output language, numbers, times.
enum Text {
    /// The last `/` segment of an id (`deploy-flux-extension` of a definition id).
    static func lastSegment(_ id: String) -> String {
        var end = id.utf8.endIndex
        while end > id.utf8.startIndex, id.utf8[id.utf8.index(before: end)] == UInt8(ascii: "/") {
            end = id.utf8.index(before: end)
        }
        let body = id.utf8[..<end]
        guard let slash = body.lastIndex(of: UInt8(ascii: "/")) else {
            return end == id.utf8.endIndex ? id : String(Substring(body))
        }
        return String(Substring(body[body.index(after: slash)...]))
    }

    /// Text for HTML element content and attribute values: `& < > " '` escaped.
    static func html(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 })
        else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Text for XML content and attributes: the HTML escapes plus control characters XML 1.0
    /// cannot carry (replaced by `?`); tab, line feed and carriage return are kept as references.
    static func xml(_ text: String) -> String {
        var plain = true
        for byte in text.utf8
        where byte < 0x20 || byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22
            || byte == 0x27 || byte == 0xEF
        {
            plain = false
            break
        }
        if plain { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 32)
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case 0x26: out += Array("&amp;".utf8)
            case 0x3C: out += Array("&lt;".utf8)
            case 0x3E: out += Array("&gt;".utf8)
            case 0x22: out += Array("&quot;".utf8)
            case 0x27: out += Array("&apos;".utf8)
            case 0x09: out += Array("&#9;".utf8)
            case 0x0A: out += Array("&#10;".utf8)
            case 0x0D: out += Array("&#13;".utf8)
            case 0..<0x20: out.append(UInt8(ascii: "?"))
            case 0xEF
            where i + 2 < bytes.count && bytes[i + 1] == 0xBF && (bytes[i + 2] == 0xBE || bytes[i + 2] == 0xBF):
                // U+FFFE and U+FFFF are not XML characters.
                out.append(UInt8(ascii: "?"))
                i += 2
            default: out.append(byte)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A Markdown table cell: `|`, backticks, `\` and HTML escaped, line breaks flattened.
    static func markdown(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for c in text.unicodeScalars {
            switch c {
            case "|": out += "\\|"
            case "`": out += "\\`"
            case "\\": out += "\\\\"
            case "*": out += "\\*"
            case "_": out += "\\_"
            case "[": out += "\\["
            case "]": out += "\\]"
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\n", "\r", "\t": out += " "
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A Prometheus label value: `\`, `"` and line feed escaped.
    static func prometheusLabel(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A number with at most `decimals` places, trailing zeros dropped (`63.16`, `100`).
    static func number(_ value: Double, decimals: Int) -> String {
        var w = JSONWriter(capacity: 16)
        w.number(value, decimals: decimals)
        return w.text
    }

    /// A percentage with one decimal: `63.2%`.
    static func percent(_ value: Double) -> String { number(value, decimals: 1) + "%" }

    /// The compliance percentage of counts, or `-` when nothing was evaluated (a group whose
    /// clusters are all out of scope has no percentage, not 100%).
    static func percent(_ counts: StateCounts) -> String { counts.total == 0 ? "-" : percent(counts.compliancePercent) }

    /// `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// A duration for people: `45s`, `12m`, `5h 20m`, `3d 4h`.
    static func duration(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m" }
        if seconds < 86_400 {
            let minutes = (seconds % 3600) / 60
            return minutes == 0 ? "\(seconds / 3600)h" : "\(seconds / 3600)h \(minutes)m"
        }
        let hours = (seconds % 86_400) / 3600
        return hours == 0 ? "\(seconds / 86_400)d" : "\(seconds / 86_400)d \(hours)h"
    }

    /// Seconds since 1970 of an ISO 8601 time (`2026-11-21T18:00:00Z`, fractions and `±hh:mm`
    /// accepted); nil when it is not one.
    static func unixSeconds(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8(unixSeconds(utf8:))
    }

    private static func unixSeconds(utf8 b: UnsafeBufferPointer<UInt8>) -> Int64? {
        func digits(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= b.count else { return nil }
            var v: Int64 = 0
            for i in start..<(start + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 19, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
            b[13] == 0x3A, b[16] == 0x3A,
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
            let minute = digits(14, 2), let second = digits(17, 2), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        var i = 19
        if i < b.count && b[i] == 0x2E {
            i += 1
            while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        }
        var offset: Int64 = 0
        if i < b.count {
            switch b[i] {
            case 0x5A, 0x7A: i += 1
            case 0x2B, 0x2D:
                guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A, let om = digits(i + 4, 2) else {
                    return nil
                }
                offset = (oh * 3600 + om * 60) * (b[i] == 0x2B ? 1 : -1)
                i += 6
            default: return nil
            }
        }
        guard i == b.count else { return nil }
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        return days * 86_400 + hour * 3600 + minute * 60 + second - offset
    }

    /// FNV-1a, 64 bits, as 16 hex digits: a stable fingerprint that does not depend on the process.
    static func fingerprint(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, part) in parts.enumerated() {
            if i > 0 {
                hash ^= 0x1F
                hash = hash &* 0x0000_0100_0000_01B3
            }
            for byte in part.utf8 {
                hash ^= UInt64(ASCII.lower(byte))
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
