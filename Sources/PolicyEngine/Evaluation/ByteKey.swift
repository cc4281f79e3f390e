import FleetCore

/// A memo key made of raw input bytes, hashed in one pass (an `[UInt8]`'s own hash combines byte by byte).
struct ByteKey: Hashable {
    /// The bytes.
    var bytes: [UInt8]

    static func == (lhs: ByteKey, rhs: ByteKey) -> Bool {
        lhs.bytes.count == rhs.bytes.count
            && lhs.bytes.withUnsafeBytes { a in
                rhs.bytes.withUnsafeBytes { b in a.elementsEqual(b) }
            }
    }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

/// Builds a ``ByteKey`` from the values a computation reads, each framed so that no two sequences of values
/// give the same bytes.
struct ByteKeyBuilder {
    /// The key so far.
    private(set) var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(512) }

    /// Starts a new key, keeping the buffer.
    mutating func reset() { bytes.removeAll(keepingCapacity: true) }

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
    mutating func append(_ value: JSONValue?) {
        guard let value else {
            bytes.append(0)
            return
        }
        bytes.append(1)
        let text = value.rawText
        let count = text.utf8.count
        bytes.append(UInt8(truncatingIfNeeded: count))
        bytes.append(UInt8(truncatingIfNeeded: count >> 8))
        bytes.append(UInt8(truncatingIfNeeded: count >> 16))
        bytes.append(UInt8(truncatingIfNeeded: count >> 24))
        bytes.append(contentsOf: text.utf8)
    }

    /// The key (a copy of the buffer).
    var key: ByteKey { ByteKey(bytes: bytes) }
}
