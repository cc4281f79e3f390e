import FleetCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A memo key made of raw input bytes, hashed once when it is made (8 bytes at a time) and compared with
/// `memcmp`: `[UInt8]`'s own hashing and equality go byte by byte.
struct ByteKey: Hashable {
    /// The bytes.
    let bytes: [UInt8]
    /// A 64-bit hash of ``bytes``.
    let digest: UInt64

    init(bytes: [UInt8]) {
        self.bytes = bytes
        self.digest = bytes.withUnsafeBytes(Self.digest)
    }

    /// A fast, non-cryptographic hash (equal keys are still compared byte for byte).
    static func digest(_ raw: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
        var i = 0
        while i + 8 <= raw.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        while i < raw.count {
            h = (h ^ UInt64(raw[i])) &* 0xC4CE_B9FE_1A85_EC53
            i += 1
        }
        return h ^ (h >> 29)
    }

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        guard lhs.digest == rhs.digest, lhs.bytes.count == rhs.bytes.count else { return false }
        return lhs.bytes.withUnsafeBytes { a in
            rhs.bytes.withUnsafeBytes { b in
                a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }
}

/// Builds a ``ByteKey`` from the values a computation reads, each framed so that no two sequences of values
/// give the same bytes.
struct ByteKeyBuilder {
    /// The key so far.
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    /// Appends a small number (a kind, a type index, a marker).
    mutating func append(tag: Int) {
        bytes.append(UInt8(truncatingIfNeeded: tag))
        bytes.append(UInt8(truncatingIfNeeded: tag >> 8))
    }

    /// Appends a text (a resource type, say).
    mutating func append(text: String) {
        append(tag: text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends a value read from the input: its JSON text exactly as written (nil: absent).
    ///
    /// Scalars are copied straight from the input; objects and arrays through ``JSONValue/withRawBytes(_:)``.
    mutating func append(_ value: JSONValue?) {
        guard let value else {
            bytes.append(0)
            return
        }
        let kind = value.kind
        guard kind != .object && kind != .array else {
            value.withRawBytes { text in
                appendFramed(kind, text.count)
                bytes.append(contentsOf: text)
            }
            return
        }
        let input = value.document.bytes.buffer
        let start = value.offset
        var end = start
        switch kind {
        case .string:
            // From the opening quote to the closing one (escaped quotes skipped).
            end += 1
            while end < input.count, input[end] != UInt8(ascii: "\"") {
                end += input[end] == UInt8(ascii: "\\") ? 2 : 1
            }
            end = min(end + 1, input.count)
        case .number:
            while end < input.count {
                let c = input[end]
                guard
                    (c &- UInt8(ascii: "0")) < 10 || c == UInt8(ascii: "-") || c == UInt8(ascii: "+")
                        || c == UInt8(ascii: ".") || c | 0x20 == UInt8(ascii: "e")
                else { break }
                end += 1
            }
        default:
            // true, false, null: their letters.
            while end < input.count, input[end] | 0x20 >= UInt8(ascii: "a"), input[end] | 0x20 <= UInt8(ascii: "z") {
                end += 1
            }
        }
        appendFramed(kind, end - start)
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<end]))
    }

    /// A marker for a present value of `kind`, then its length.
    private mutating func appendFramed(_ kind: JSONKind, _ count: Int) {
        switch kind {
        case .object: bytes.append(1)
        case .array: bytes.append(2)
        case .string: bytes.append(3)
        case .number: bytes.append(4)
        default: bytes.append(5)
        }
        bytes.append(UInt8(truncatingIfNeeded: count))
        bytes.append(UInt8(truncatingIfNeeded: count >> 8))
        bytes.append(UInt8(truncatingIfNeeded: count >> 16))
        bytes.append(UInt8(truncatingIfNeeded: count >> 24))
    }

    /// The key (it shares the buffer; the builder is done with it).
    var key: ByteKey { ByteKey(bytes: bytes) }
}
