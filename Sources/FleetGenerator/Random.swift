/// SplitMix64: a small, fast, well-mixed 64-bit generator with a fixed algorithm.
///
/// The standard library's random APIs are not used on purpose: their algorithms may change between
/// Swift releases, and the fleet must be byte-identical for the same arguments forever.
struct SplitMix64 {
    private(set) var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A generator for one named stream of a parent seed (`salt` separates the streams).
    init(_ seed: UInt64, _ salt: UInt64, _ more: UInt64 = 0) {
        state = Self.mix(Self.mix(seed ^ Self.mix(salt &+ 0x51_7CC1_B727_220A)) ^ more)
    }

    @inline(__always) mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 finalizer: a bijective avalanche of 64 bits.
    @inline(__always) static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (multiply-high; the bias is far below anything a fleet can show).
    @inline(__always) mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        return Int(next().multipliedFullWidth(by: UInt64(bound)).high)
    }

    /// A number in `range`.
    @inline(__always) mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `perMille`/1000.
    @inline(__always) mutating func chance(perMille: Int) -> Bool {
        below(1000) < perMille
    }

    /// One element of a non-empty array.
    @inline(__always) mutating func pick<T>(_ items: [T]) -> T {
        items[below(items.count)]
    }
}

/// FNV-1a over the ASCII-lowercased UTF-8 of `text`, finalized by SplitMix64: a stable hash of an
/// ARM id that ignores case (Azure ids compare case-insensitively).
func stableHash(lowercasing text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        let lower = (byte &- UInt8(ascii: "A")) < 26 ? byte | 0x20 : byte
        hash = (hash ^ UInt64(lower)) &* 0x100_0000_01B3
    }
    return SplitMix64.mix(hash)
}
