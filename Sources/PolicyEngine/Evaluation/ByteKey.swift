import FleetCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Builds a key from the values a computation reads, each framed so that no two sequences of values give the
/// same bytes.
///
/// The bytes are written in place into one buffer reused from key to key (no per-byte checks of an array's
/// append), and ``ByteKeyTable`` looks them up where they are, so a key that is found allocates nothing; only a
/// key that is inserted is copied. Not copyable: the buffer has one owner, which frees it when it goes.
struct ByteKeyBuilder: ~Copyable {
    /// The buffer.
    private(set) var start: UnsafeMutableRawPointer
    /// Its size.
    private(set) var capacity: Int
    /// The bytes written.
    private(set) var count = 0

    init() {
        capacity = 2048
        start = .allocate(byteCount: capacity, alignment: 8)
    }

    /// The key so far.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }

    /// Empties the key, keeping the buffer.
    mutating func reset() { count = 0 }

    deinit { start.deallocate() }

    /// Whether this key's bytes equal `other`'s.
    func equals(_ other: borrowing ByteKeyBuilder) -> Bool {
        count == other.count && memcmp(start, other.start, count) == 0
    }

    /// Room for `extra` more bytes.
    @inline(__always) private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private mutating func grow(_ needed: Int) {
        let larger = max(needed, 2 * capacity)
        let moved = UnsafeMutableRawPointer.allocate(byteCount: larger, alignment: 8)
        moved.copyMemory(from: start, byteCount: count)
        start.deallocate()
        start = moved
        capacity = larger
    }

    /// Appends a marker byte.
    mutating func append(tag: UInt8) {
        reserve(1)
        start.storeBytes(of: tag, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends a text (a resource type, say): its length, then its bytes.
    mutating func append(text: String) {
        var text = text
        text.withUTF8 { appendCounted(UnsafeRawBufferPointer($0)) }
    }

    /// Appends a value read from the input: its length (0: absent; JSON text is never empty), then its JSON text
    /// exactly as written, which decides the value.
    mutating func append(_ value: JSONValue?) {
        guard let value else {
            reserve(4)
            start.storeBytes(of: 0, toByteOffset: count, as: UInt32.self)
            count += 4
            return
        }
        withExtendedLifetime(value) { appendCounted(UnsafeRawBufferPointer(value.rawTextBytes)) }
    }

    /// The length of `text` (four bytes), then its bytes.
    @inline(__always) private mutating func appendCounted(_ text: UnsafeRawBufferPointer) {
        reserve(4 + text.count)
        start.storeBytes(of: UInt32(truncatingIfNeeded: text.count), toByteOffset: count, as: UInt32.self)
        if let base = text.baseAddress { (start + count + 4).copyMemory(from: base, byteCount: text.count) }
        count += 4 + text.count
    }

    /// The hash of the key so far (``digest(_:)``).
    var digest: UInt64 { Self.digest(bytes) }

    /// A fast, non-cryptographic hash of a key (keys with equal digests are still compared byte for byte): four
    /// independent lanes of 8 bytes per step, so that long keys (the JSON text of a Flux spec) hash at about
    /// twice the speed of one lane, then a final mix for the low bits the table's slots use.
    static func digest(_ raw: UnsafeRawBufferPointer) -> UInt64 {
        let count = raw.count
        let m1: UInt64 = 0x9E37_79B9_7F4A_7C15
        let m2: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        var a = m1 ^ UInt64(count)
        var b: UInt64 = 0x1656_67B1_9E37_79F9
        var c: UInt64 = 0x85EB_CA77_C2B2_AE63
        var d: UInt64 = 0x27D4_EB2F_1656_67C5
        /// One step of a lane: the word mixed in, multiplied, rotated (high bits brought down).
        @inline(__always) func step(_ h: UInt64, _ word: UInt64) -> UInt64 {
            let x = (h ^ word) &* m2
            return (x << 31) | (x >> 33)
        }
        var i = 0
        while i + 32 <= count {
            a = step(a, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            b = step(b, raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
            c = step(c, raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
            d = step(d, raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
            i += 32
        }
        while i + 8 <= count {
            a = step(a, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        if i < count {
            var last: UInt64 = 0
            for k in i..<count { last = last << 8 | UInt64(raw[k]) }
            b = step(b, last)
        }
        var h = a ^ ((b << 16) | (b >> 48)) ^ ((c << 32) | (c >> 32)) ^ ((d << 48) | (d >> 16))
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }
}

/// A hash table from byte keys to values, searched with the bytes where they are.
///
/// A lookup reads a builder's buffer or a slice of a larger buffer in place; a key is copied only when it is
/// inserted. Keys are compared byte for byte, so a lookup never returns another key's value.
struct ByteKeyTable<Value> {
    /// Per slot: 0 when empty, else the index of an entry plus one (open addressing, linear probing).
    private var slots: [Int32] = []
    private var keys: [[UInt8]] = []
    private var digests: [UInt64] = []
    /// The values, by entry index.
    private(set) var values: [Value] = []

    init() {}

    /// The number of keys.
    var count: Int { values.count }

    /// The entry index of `key` (whose ``ByteKeyBuilder/digest(_:)`` is `digest`), or nil when it is absent.
    func index(of key: UnsafeRawBufferPointer, digest: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: digest) & mask
        while true {
            let stored = Int(slots[slot])
            if stored == 0 { return nil }
            let index = stored - 1
            if digests[index] == digest, Self.equal(keys[index], key) { return index }
            slot = (slot + 1) & mask
        }
    }

    /// The value of entry `index`.
    subscript(index: Int) -> Value {
        get { values[index] }
        set { values[index] = newValue }
    }

    /// Adds `key` (absent: see ``index(of:digest:)``) with `value`, copying the key's bytes.
    mutating func insert(_ key: UnsafeRawBufferPointer, digest: UInt64, value: Value) {
        if (values.count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: digest) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        keys.append(Array(key))
        digests.append(digest)
        values.append(value)
        slots[slot] = Int32(values.count)
    }

    /// Forgets every key.
    mutating func removeAll() {
        self = ByteKeyTable()
    }

    private mutating func grow() {
        let capacity = max(16, slots.count * 2)
        slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (index, digest) in digests.enumerated() {
            var slot = Int(truncatingIfNeeded: digest) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index + 1)
        }
    }

    private static func equal(_ stored: [UInt8], _ key: UnsafeRawBufferPointer) -> Bool {
        guard stored.count == key.count else { return false }
        return stored.withUnsafeBytes { a in a.count == 0 || memcmp(a.baseAddress!, key.baseAddress!, a.count) == 0 }
    }
}
