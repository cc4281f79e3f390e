import FleetCore

/// An append-only byte buffer with the few compact-JSON helpers the record writers need.
///
/// Keys and constant fragments are written as `StaticString` text; every variable string goes
/// through ``string(_:)``, which escapes like ``JSONWriter`` (it hands anything that needs
/// escaping to `JSONWriter.quote`).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends constant JSON text.
    @inline(__always) mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends JSON text that is already valid (a copied record, a number).
    @inline(__always) mutating func raw(text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends a quoted, escaped JSON string.
    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        content(value)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the escaped content of a string without its quotes.
    mutating func content(_ value: String) {
        var value = value
        let plain = value.withUTF8 { utf8 in
            for byte in utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x7F { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if !plain { bytes.append(contentsOf: JSONWriter.quote(value).utf8.dropFirst().dropLast()) }
    }

    /// Appends the quoted id of a child resource: `"<parent>/providers/…/<type>/<name>"`.
    mutating func childID(_ parent: String, _ path: StaticString, _ name: String) {
        bytes.append(UInt8(ascii: "\""))
        content(parent)
        raw(path)
        content(name)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a quoted constant string that needs no escaping.
    @inline(__always) mutating func constant(_ value: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        value.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends a quoted string or `null`.
    mutating func stringOrNull(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }

    /// Appends `true` or `false`.
    @inline(__always) mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// Appends a decimal integer.
    mutating func int(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            digits(UInt64(value.magnitude), width: 1)
        } else {
            digits(UInt64(value), width: 1)
        }
    }

    /// Appends the decimal digits of `value`, zero-padded to at least `width` digits.
    mutating func digits(_ value: UInt64, width: Int) {
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        withUnsafeMutableBytes(of: &buffer) { scratch in
            var n = value
            var at = scratch.count
            repeat {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0 || scratch.count - at < width
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[at...]))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `count` random lowercase hex digits (unquoted).
    mutating func hex(_ rng: inout SplitMix64, count: Int) {
        var left = count
        while left > 0 {
            var word = rng.next()
            for _ in 0..<min(16, left) {
                bytes.append(Self.hexDigits[Int(word & 15)])
                word >>= 4
            }
            left -= 16
        }
    }

    /// Appends the low `count` (at most 16) hex digits of `word`, lowest nibble first.
    mutating func hex(word: UInt64, count: Int) {
        var word = word
        for _ in 0..<min(16, count) {
            bytes.append(Self.hexDigits[Int(word & 15)])
            word >>= 4
        }
    }

    /// Appends a random version-4 GUID in quotes.
    mutating func guid(_ rng: inout SplitMix64) {
        bytes.append(UInt8(ascii: "\""))
        guidText(rng.next(), rng.next())
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the GUID text `8-4-4-4-12` of two words (no quotes).
    mutating func guidText(_ high: UInt64, _ low: UInt64) {
        let hex = Self.hexDigits
        for k in 0..<16 {
            if k == 8 || k == 12 { bytes.append(UInt8(ascii: "-")) }
            var nibble = Int((high >> UInt64(60 - 4 * k)) & 15)
            if k == 12 { nibble = 4 }  // version 4
            bytes.append(hex[nibble])
        }
        bytes.append(UInt8(ascii: "-"))
        for k in 0..<16 {
            if k == 4 { bytes.append(UInt8(ascii: "-")) }
            var nibble = Int((low >> UInt64(60 - 4 * k)) & 15)
            if k == 0 { nibble = 8 | (nibble & 3) }  // RFC 4122 variant
            bytes.append(hex[nibble])
        }
    }

    private static let base64Digits: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends `count` random base64 characters (unquoted).
    mutating func base64(_ rng: inout SplitMix64, count: Int) {
        var left = count
        while left > 0 {
            var word = rng.next()
            for _ in 0..<min(10, left) {
                bytes.append(Self.base64Digits[Int(word & 63)])
                word >>= 6
            }
            left -= 10
        }
    }

    /// Appends a quoted UTC time: `2026-11-21T17:40:00+00:00` (`.offset`), `2026-11-21T17:40:00Z`
    /// (`.zulu`) or `2026-11-21T17:40:00.123Z` (`.millis`).
    mutating func time(_ instant: Instant, _ style: TimeStyle) {
        bytes.append(UInt8(ascii: "\""))
        timeText(instant, style)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the unquoted text of a UTC time.
    mutating func timeText(_ instant: Instant, _ style: TimeStyle) {
        let seconds = instant.millis >= 0 ? instant.millis / 1000 : (instant.millis - 999) / 1000
        let millis = instant.millis - seconds * 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Instant.civil(fromDays: days)
        digits(UInt64(year), width: 4)
        bytes.append(UInt8(ascii: "-"))
        digits(UInt64(month), width: 2)
        bytes.append(UInt8(ascii: "-"))
        digits(UInt64(day), width: 2)
        bytes.append(UInt8(ascii: "T"))
        digits(UInt64(secondOfDay / 3600), width: 2)
        bytes.append(UInt8(ascii: ":"))
        digits(UInt64(secondOfDay / 60 % 60), width: 2)
        bytes.append(UInt8(ascii: ":"))
        digits(UInt64(secondOfDay % 60), width: 2)
        switch style {
        case .offset: raw("+00:00")
        case .zulu: bytes.append(UInt8(ascii: "Z"))
        case .millis:
            bytes.append(UInt8(ascii: "."))
            digits(UInt64(millis), width: 3)
            bytes.append(UInt8(ascii: "Z"))
        }
    }
}

/// How a timestamp is spelled (Azure services disagree).
enum TimeStyle {
    /// `+00:00` suffix, as fluxConfigurations report times.
    case offset
    /// `Z` suffix without fractions.
    case zulu
    /// `Z` suffix with milliseconds, as ARM `systemData` and Arc heartbeats report times.
    case millis
}

/// A point in time in milliseconds since 1970-01-01T00:00:00Z (UTC, no leap seconds).
struct Instant: Comparable {
    var millis: Int64

    /// The fixed reference time of every generated fleet: 2026-11-21T18:00:00Z.
    static let reference = Instant(year: 2026, month: 11, day: 21, hour: 18)

    init(millis: Int64) { self.millis = millis }

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        let days = Self.days(fromCivil: year, month, day)
        millis = ((days * 24 + Int64(hour)) * 3600 + Int64(minute) * 60 + Int64(second)) * 1000
    }

    static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.millis < rhs.millis }

    /// This instant moved by a number of seconds (negative: earlier).
    func adding(seconds: Int) -> Instant { Instant(millis: millis + Int64(seconds) * 1000) }

    /// This instant moved by a number of milliseconds.
    func adding(millis delta: Int) -> Instant { Instant(millis: millis + Int64(delta)) }

    /// This instant truncated to whole seconds.
    var wholeSeconds: Instant { Instant(millis: millis - ((millis % 1000) + 1000) % 1000) }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        CivilDate.daysSinceEpoch(year: Int64(year), month: Int64(month), day: Int64(day))
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let date = CivilDate.date(daysSinceEpoch: days)
        return (Int(date.year), Int(date.month), Int(date.day))
    }
}
