import FleetCore

/// `base64*`, `uri*`, `uniqueString` and `guid`.
enum EncodingFunctions {
    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `base64(s)`: the UTF-8 bytes of `s`, base64-encoded with padding.
    static func base64(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        .string(encodeBase64(Array(try a.string(0).utf8)))
    }

    /// `base64ToString(s)`: decodes base64 into UTF-8 text.
    static func base64ToString(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        .string(try decodedText(a))
    }

    /// `base64ToJson(s)`: decodes base64 and parses the text as JSON.
    static func base64ToJson(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let text = try decodedText(a)
        do {
            return try JSON.parse(text, source: "base64ToJson() argument")
        } catch {
            throw a.fail("cannot parse the decoded text as JSON: \(error)")
        }
    }

    private static func decodedText(_ a: FunctionArguments) throws(ExpressionError) -> String {
        guard let bytes = decodeBase64(try a.string(0)) else { throw a.fail("expects valid base64 text") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw a.fail("decoded bytes that are not valid UTF-8")
        }
        return text
    }

    static func encodeBase64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(base64Alphabet[Int(n >> 18 & 63)])
            out.append(base64Alphabet[Int(n >> 12 & 63)])
            out.append(i + 1 < bytes.count ? base64Alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? base64Alphabet[Int(n & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes padded (or unpadded) standard base64; nil for any other character or a bad length.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let v = base64Alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        guard padding <= 2, values.count % 4 != 1, padding == 0 || (values.count + padding) % 4 == 0 else {
            return nil
        }
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for v in values {
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        return out
    }

    // MARK: - URIs

    /// `uri(baseUri, relativeUri)`: RFC 3986 reference resolution (`uri('http://a/b/', 'c')` → `http://a/b/c`).
    static func uri(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let base = try a.string(0)
        let relative = try a.string(1)
        guard let b = URIParts(base), b.scheme != nil else {
            throw a.fail("expects an absolute base URI, got '\(base)'")
        }
        guard let r = URIParts(relative) else { throw a.fail("expects a relative URI, got '\(relative)'") }
        return .string(resolve(r, against: b).text)
    }

    /// The five components of a URI reference (RFC 3986 appendix B).
    struct URIParts {
        var scheme: String?
        var authority: String?
        var path: String
        var query: String?
        var fragment: String?

        init(scheme: String?, authority: String?, path: String, query: String?, fragment: String?) {
            (self.scheme, self.authority, self.path, self.query, self.fragment) = (
                scheme, authority, path, query, fragment
            )
        }

        init?(_ text: String) {
            var rest = Substring(text)
            if let hash = rest.firstIndex(of: "#") {
                fragment = String(rest[rest.index(after: hash)...])
                rest = rest[..<hash]
            }
            if let question = rest.firstIndex(of: "?") {
                query = String(rest[rest.index(after: question)...])
                rest = rest[..<question]
            }
            if let colon = rest.firstIndex(of: ":"), let first = rest.first, first.isLetter,
                rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }),
                !rest[..<colon].contains("/")
            {
                scheme = String(rest[..<colon])
                rest = rest[rest.index(after: colon)...]
            }
            if rest.hasPrefix("//") {
                rest = rest.dropFirst(2)
                let end = rest.firstIndex(of: "/") ?? rest.endIndex
                authority = String(rest[..<end])
                rest = rest[end...]
            }
            path = String(rest)
        }

        var text: String {
            var out = ""
            if let scheme { out += scheme + ":" }
            if let authority { out += "//" + authority }
            out += path
            if let query { out += "?" + query }
            if let fragment { out += "#" + fragment }
            return out
        }
    }

    static func resolve(_ r: URIParts, against b: URIParts) -> URIParts {
        if r.scheme != nil {
            return URIParts(
                scheme: r.scheme, authority: r.authority, path: removeDotSegments(r.path), query: r.query,
                fragment: r.fragment)
        }
        if r.authority != nil {
            return URIParts(
                scheme: b.scheme, authority: r.authority, path: removeDotSegments(r.path), query: r.query,
                fragment: r.fragment)
        }
        if r.path.isEmpty {
            return URIParts(
                scheme: b.scheme, authority: b.authority, path: b.path, query: r.query ?? b.query,
                fragment: r.fragment)
        }
        let merged: String
        if r.path.hasPrefix("/") {
            merged = r.path
        } else if b.authority != nil && b.path.isEmpty {
            merged = "/" + r.path
        } else {
            let directory = b.path.lastIndex(of: "/").map { String(b.path[...$0]) } ?? ""
            merged = directory + r.path
        }
        return URIParts(
            scheme: b.scheme, authority: b.authority, path: removeDotSegments(merged), query: r.query,
            fragment: r.fragment)
    }

    /// RFC 3986 §5.2.4.
    static func removeDotSegments(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for (k, segment) in segments.enumerated() {
            let isLast = k == segments.count - 1
            switch segment {
            case ".":
                if isLast { output.append("") }
            case "..":
                if output.count > 1 || (output.count == 1 && !output[0].isEmpty) { output.removeLast() }
                if isLast { output.append("") }
            default:
                output.append(segment)
            }
        }
        var result = output.joined(separator: "/")
        if path.hasPrefix("/") && !result.hasPrefix("/") { result = "/" + result }
        return result
    }

    /// `uriComponent(s)`: percent-encodes everything but `A-Z a-z 0-9 - _ . ~` (UTF-8 bytes).
    static func uriComponent(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for c in try a.string(0).utf8 {
            let unreserved =
                (c | 0x20) &- UInt8(ascii: "a") < 26 || c &- UInt8(ascii: "0") < 10
                || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "~")
            if unreserved {
                out.append(c)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(c >> 4)], hex[Int(c & 15)]]
            }
        }
        return .string(String(decoding: out, as: UTF8.self))
    }

    /// `uriComponentToString(s)`: decodes `%XX` escapes (UTF-8).
    static func uriComponentToString(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let bytes = Array(try a.string(0).utf8)
        var out: [UInt8] = []
        var i = 0
        func hexValue(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) else {
                    throw a.fail("found an invalid percent escape at byte \(i)")
                }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw a.fail("decoded invalid UTF-8") }
        return .string(text)
    }

    // MARK: - Identity

    private static func joinedStrings(_ a: FunctionArguments) throws(ExpressionError) -> [UInt8] {
        var parts: [String] = []
        for i in 0..<a.count { parts.append(try a.string(i)) }
        return Array(parts.joined(separator: "-").utf8)
    }

    /// `uniqueString(…)`: a deterministic 13-character lowercase base-32 hash of the arguments.
    ///
    /// Like ARM's it is 13 characters from `a-z2-7` and stable for the same arguments, but the hash
    /// (FNV-1a 64 over the arguments joined with `-`, then a SplitMix64 finaliser) is **not**
    /// bit-identical to Azure's, so names derived from it differ from what Azure would deploy.
    static func uniqueString(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in try joinedStrings(a) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        hash ^= hash >> 31
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
        var out: [UInt8] = []
        for k in 0..<12 { out.append(alphabet[Int(hash >> UInt64(59 - 5 * k) & 31)]) }
        out.append(alphabet[Int(hash & 15)])
        return .string(String(decoding: out, as: UTF8.self))
    }

    /// The namespace of ARM's name-based `guid()` (as published in community ports).
    private static let guidNamespace: [UInt8] = [
        0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30,
    ]

    /// `guid(…)`: a name-based (version 5, SHA-1) UUID of the arguments joined with `-`, lowercase.
    ///
    /// Deterministic; it follows the scheme ARM is reported to use (namespace
    /// `11fb06fb-712d-4ddd-98c7-e71bbd588830`, UTF-8 name) but has not been checked against Azure.
    static func guid(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        var digest = ExpressionSHA1.hash(guidNamespace + (try joinedStrings(a)))
        digest[6] = digest[6] & 0x0F | 0x50
        digest[8] = digest[8] & 0x3F | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for k in 0..<16 {
            if k == 4 || k == 6 || k == 8 || k == 10 { out.append(UInt8(ascii: "-")) }
            out += [hex[Int(digest[k] >> 4)], hex[Int(digest[k] & 15)]]
        }
        return .string(String(decoding: out, as: UTF8.self))
    }
}

/// SHA-1 (FIPS 180-4), only for name-based UUIDs; not for anything security-related.
enum ExpressionSHA1 {
    /// The 20-byte digest of `message`.
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0]
        var data = message
        let bitLength = UInt64(message.count) * 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for k in (0..<8).reversed() { data.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(k) * 8))) }
        var w = [UInt32](repeating: 0, count: 80)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for t in 0..<16 {
                let b = chunk + t * 4
                w[t] =
                    UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8 | UInt32(data[b + 3])
            }
            for t in 16..<80 { w[t] = rotate(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1) }
            var (a, b, c, d, e) = (h[0], h[1], h[2], h[3], h[4])
            for t in 0..<80 {
                let (f, k): (UInt32, UInt32) =
                    switch t {
                    case 0..<20: ((b & c) | (~b & d), 0x5A82_7999)
                    case 20..<40: (b ^ c ^ d, 0x6ED9_EBA1)
                    case 40..<60: ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                    default: (b ^ c ^ d, 0xCA62_C1D6)
                    }
                let temp = rotate(a, 5) &+ f &+ e &+ k &+ w[t]
                (e, d, c, b, a) = (d, c, rotate(b, 30), a, temp)
            }
            h[0] = h[0] &+ a
            h[1] = h[1] &+ b
            h[2] = h[2] &+ c
            h[3] = h[3] &+ d
            h[4] = h[4] &+ e
        }
        return h.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - UInt32($0) * 8)) } }
    }

    private static func rotate(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }
}
