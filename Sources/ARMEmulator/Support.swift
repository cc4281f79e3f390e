import FleetCore

/// Deterministic pseudo-random numbers: SplitMix64 over (seed, stream, index), so a decision depends only
/// on the seed and on how many requests or operations came before it.
enum Mix {
    /// A well-mixed 64-bit value of three inputs.
    static func hash(_ seed: UInt64, _ stream: UInt64, _ index: UInt64) -> UInt64 {
        var z = seed &+ stream &* 0x9E37_79B9_7F4A_7C15 &+ index &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Whether a draw falls within `rate`.
    static func chance(_ rate: FaultRate, _ seed: UInt64, _ stream: UInt64, _ index: UInt64) -> Bool {
        guard rate.partsPerMillion > 0 else { return false }
        return hash(seed, stream, index) % 1_000_000 < UInt64(rate.partsPerMillion)
    }

    /// A GUID-shaped id (version 4 layout) for `index` in `stream`.
    static func guid(_ seed: UInt64, _ stream: UInt64, _ index: UInt64) -> String {
        let high = hash(seed, stream, index)
        let low = hash(seed, stream &+ 0x5151, index)
        let hex = hex16(high) + hex16(low)
        let chars = Array(hex)
        var version = chars
        version[12] = "4"
        version[16] = ["8", "9", "a", "b"][Int(low >> 60) & 3]
        let s = String(version)
        func part(_ from: Int, _ to: Int) -> Substring {
            s[s.index(s.startIndex, offsetBy: from)..<s.index(s.startIndex, offsetBy: to)]
        }
        return "\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }

    /// Forty hex digits (a Git commit id) derived from a text.
    static func commitID(of text: String) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return String((hex16(hash(h, 1, 0)) + hex16(hash(h, 2, 0)) + hex16(hash(h, 3, 0))).prefix(40))
    }

    private static func hex16(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}

/// The virtual clock's time format.
public enum EmulatorClock {
    /// The default start: 2026-11-21T18:00:00Z, the reference time of `fleet-examples/demo`, in milliseconds
    /// since 1970-01-01T00:00:00Z.
    public static let defaultStart: Int64 = 1_795_284_000_000

    /// ISO-8601 UTC with milliseconds: `2026-11-21T18:00:00.000Z`.
    public static func iso8601(_ milliseconds: Int64) -> String {
        let days = floorDiv(milliseconds, 86_400_000)
        let rest = milliseconds - days * 86_400_000
        let (year, month, day) = CivilDate.date(daysSinceEpoch: days)
        let seconds = rest / 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2))"
            + ":\(pad(seconds % 60, 2)).\(pad(rest % 1000, 3))Z"
    }

    /// The HTTP `Date` form of a time (RFC 9110 IMF-fixdate): `Sat, 21 Nov 2026 18:00:00 GMT`.
    public static func httpDate(_ milliseconds: Int64) -> String {
        let days = floorDiv(milliseconds, 86_400_000)
        let seconds = (milliseconds - days * 86_400_000) / 1000
        let (year, month, day) = CivilDate.date(daysSinceEpoch: days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        return "\(weekday), \(pad(day, 2)) \(months[Int(month) - 1]) \(pad(year, 4)) \(pad(seconds / 3600, 2)):"
            + "\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2)) GMT"
    }

    /// The routing form of a time: `20261121T180000Z`.
    static func compact(_ milliseconds: Int64) -> String {
        let text = iso8601(milliseconds)
        return String(text.prefix(19).filter { $0 != "-" && $0 != ":" }) + "Z"
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

extension JSON {
    /// The member whose name equals `key` ignoring ASCII case (the exact name first).
    func member(ignoringCase key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        if let exact = members[key] { return exact }
        return members.first { ASCII.equalsIgnoringCase($0.key, key) }?.value
    }

    /// The actual name of the member matching `key` ignoring case, if any.
    func memberName(ignoringCase key: String) -> String? {
        guard case .object(let members) = self else { return nil }
        if members[key] != nil { return key }
        return members.keys.sorted().first { ASCII.equalsIgnoringCase($0, key) }
    }

    /// The value at a path of member names, each matched ignoring case.
    func value(atPath keys: String...) -> JSON? {
        var current: JSON? = self
        for key in keys { current = current?.member(ignoringCase: key) }
        return current
    }

    /// The members of an object (empty for anything else).
    var objectMembers: [String: JSON] {
        if case .object(let members) = self { return members }
        return [:]
    }

    /// Whether this is an object.
    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Whether this is `null`.
    var isNull: Bool { self == .null }

    /// The boolean, or nil.
    var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Sets a member, replacing one whose name matches ignoring case (keeping that name's casing).
    mutating func set(_ key: String, _ value: JSON) {
        guard case .object(var members) = self else { return }
        let name = memberName(ignoringCase: key) ?? key
        members[name] = value
        self = .object(members)
    }

    /// Removes every member whose name matches `key` ignoring case.
    mutating func remove(_ key: String) {
        guard case .object(var members) = self else { return }
        for name in members.keys where ASCII.equalsIgnoringCase(name, key) { members[name] = nil }
        self = .object(members)
    }

    /// Sets a member only when no member matches `key` ignoring case.
    mutating func setDefault(_ key: String, _ value: JSON) {
        if member(ignoringCase: key) == nil { set(key, value) }
    }

    /// This value with a JSON merge patch (RFC 7396) applied.
    ///
    /// `null` removes a member, objects merge, anything else replaces. Member names match ignoring case.
    func merging(patch: JSON) -> JSON {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: JSON = isObject ? self : .object([:])
        for key in patchMembers.keys.sorted() {
            let value = patchMembers[key]!
            if value.isNull {
                result.remove(key)
            } else {
                let current = result.member(ignoringCase: key) ?? .null
                result.set(key, current.merging(patch: value))
            }
        }
        return result
    }

    /// The compact JSON bytes, object keys sorted.
    var bytes: [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }

    /// Parses bytes into a tree.
    static func parse(bytes: [UInt8], source: String) throws(JSONError) -> JSON {
        try JSONDocument.parse(JSONBytes(bytes, source: source)).root.materialize()
    }
}
