import FleetCore

/// ISO 8601 UTC times as the store writes them, and epoch seconds for comparisons.
public enum StoreTime {
    /// Seconds since 1970 of an ISO 8601 time (`2026-11-21T18:00:00Z`, fractions and `±hh:mm`
    /// offsets accepted; a date alone is midnight UTC), or nil when it is not one.
    public static func epoch(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int64(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0, 4), b.count >= 10, b[4] == 0x2D, let month = number(5, 2), b[7] == 0x2D,
            let day = number(8, 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = CivilDate.daysSinceEpoch(year: year, month: month, day: day) * 86_400
        if b.count == 10 { return seconds }
        guard b.count >= 19, b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20, let hour = number(11, 2), b[13] == 0x3A,
            let minute = number(14, 2), b[16] == 0x3A, let second = number(17, 2), hour < 24, minute < 60,
            second < 61
        else { return nil }
        seconds += hour * 3600 + minute * 60 + second
        var i = 19
        if i < b.count && b[i] == 0x2E {
            i += 1
            while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
        }
        guard i < b.count else { return nil }
        if (b[i] == 0x5A || b[i] == 0x7A) && i + 1 == b.count { return seconds }
        guard b[i] == 0x2B || b[i] == 0x2D, i + 6 == b.count, let oh = number(i + 1, 2), b[i + 3] == 0x3A,
            let om = number(i + 4, 2)
        else { return nil }
        let offset = oh * 3600 + om * 60
        return b[i] == 0x2B ? seconds - offset : seconds + offset
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` for seconds since 1970.
    public static func iso(_ epoch: Int64) -> String {
        let days = epoch >= 0 ? epoch / 86_400 : (epoch - 86_399) / 86_400
        let rest = epoch - days * 86_400
        let (y, m, d) = CivilDate.date(daysSinceEpoch: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let year = String(y)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year
            + "-\(two(m))-\(two(d))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }
}

/// A span of time written like `400d`, `12h`, `30m`, `90s` or `2w`.
public struct StoreDuration: Sendable, Hashable, CustomStringConvertible {
    /// The length in seconds.
    public var seconds: Int64

    /// Creates a duration of `seconds`.
    public init(seconds: Int64) { self.seconds = seconds }

    /// Parses `400d`, `12h`, `30m`, `90s` or `2w` (a positive whole number and one unit).
    public init?(_ text: String) {
        guard let unit = text.last, let value = Int64(text.dropLast()), value > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        case "w": scale = 604_800
        default: return nil
        }
        let (product, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        seconds = product
    }

    /// The duration in the largest unit that divides it (`400d`).
    public var description: String {
        for (scale, unit) in [(Int64(604_800), "w"), (86_400, "d"), (3600, "h"), (60, "m")]
        where seconds % scale == 0 {
            return "\(seconds / scale)\(unit)"
        }
        return "\(seconds)s"
    }
}

/// 64-bit FNV-1a: the digest of reasons, cluster facts and input files (not a security hash).
public struct ContentDigest: Sendable {
    /// The hash of everything added so far.
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Starts an empty digest.
    public init() {}

    /// Adds bytes.
    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
    }

    /// Adds bytes from a buffer (the fast path for large inputs).
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var v = value
        for byte in bytes { v = (v ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        value = v
    }

    /// The digest as a signed 64-bit integer (how SQLite stores it).
    public var signed: Int64 { Int64(bitPattern: value) }

    /// The digest as 16 lowercase hex digits.
    public var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The digest of a byte array.
    public static func of(_ bytes: [UInt8]) -> ContentDigest {
        var digest = ContentDigest()
        bytes.withUnsafeBytes { digest.add($0) }
        return digest
    }
}
