/// A parsed Azure Resource Manager resource id, such as
/// `/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}`.
///
/// The id keeps the text exactly as given (`description`) plus an ASCII-lowercased copy (`normalized`) that
/// serves as the join key: equality, hashing and ordering ignore ASCII case, because Azure Resource Graph and
/// the ARM APIs do not agree on casing. Every other component is located by byte offsets recorded while
/// parsing and is only materialized as a `String` when asked for, so parsing is a linear scan over the bytes
/// with at most one allocation (the lowercased copy, and only when the id has uppercase letters).
///
/// Keywords (`subscriptions`, `resourceGroups`, `providers`) match case-insensitively. Extension resources
/// (`…/providers/A.B/t/n/providers/C.D/t2/n2`) and nested child types (`…/managedClusters/c/agentPools/p`)
/// are supported; `parent` walks up through both.
public struct ResourceID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The longest id accepted, in UTF-8 bytes.
    public static let maximumUTF8Length = 4096

    /// The id exactly as it was given, with its original casing.
    public let description: String

    /// The id with ASCII letters lowercased.
    ///
    /// Built on demand: equality, hashing and ordering compare ``description`` ignoring ASCII case
    /// without building it, so a fleet keeps one copy of each id.
    public var normalized: String {
        ResourceIDParser.withBytes(of: description) { bytes in
            bytes.contains { $0 &- UInt8(ascii: "A") < 26 } ? Self.asciiLowercased(bytes) : description
        }
    }

    /// Where the components sit in `description` (UTF-8 offsets; ids are at most 4096 bytes).
    private let layout: ResourceIDLayout

    /// Parses an ARM resource id, rejecting malformed ids with the reason they are malformed.
    ///
    /// - Parameter text: An id such as `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/
    ///   connectedClusters/arc1`.
    /// - Throws: `ResourceIDError` naming the first problem found, with its UTF-8 byte position where one applies.
    public init(parsing text: String) throws(ResourceIDError) {
        var text = text
        text.makeContiguousUTF8()
        let outcome = ResourceIDParser.withBytes(of: text) { bytes in
            Result { () throws(ResourceIDParseFailure) in
                var parser = ResourceIDParser(bytes: bytes)
                return try parser.parse()
            }
        }
        switch outcome {
        case .success(let layout):
            self.description = text
            self.layout = layout
        case .failure(let failure):
            throw ResourceIDError(id: text, reason: failure.reason)
        }
    }

    /// The subscription id (the segment after `/subscriptions/`); not necessarily a GUID.
    public var subscriptionId: String {
        substring(from: ResourceIDParser.subscriptionStart, to: Int(layout.subscriptionEnd))
    }

    /// The resource group name, or `nil` for a subscription-level resource.
    public var resourceGroup: String? {
        layout.groupEnd == 0 ? nil : substring(from: Int(layout.groupStart), to: Int(layout.groupEnd))
    }

    /// The namespace of the last `/providers/` segment, such as `Microsoft.KubernetesConfiguration`.
    public var providerNamespace: String {
        substring(from: Int(layout.namespaceStart), to: Int(layout.namespaceEnd))
    }

    /// The full type after the last `/providers/`: the namespace and every type segment, without the names.
    ///
    /// For example `Microsoft.ContainerService/managedClusters`, `Microsoft.KubernetesConfiguration/fluxConfigurations`
    /// or `Microsoft.ContainerService/managedClusters/agentPools`.
    public var resourceType: String {
        let start = Int(layout.namespaceStart)
        let namespaceEnd = Int(layout.namespaceEnd)
        return ResourceIDParser.withBytes(of: description) { bytes in
            String(unsafeUninitializedCapacity: bytes.count - start) { out in
                var written = 0
                for index in start..<namespaceEnd {
                    out[written] = bytes[index]
                    written += 1
                }
                // Segments after the namespace alternate type, name, type, name…; copy the types.
                var cursor = namespaceEnd
                var isType = true
                while cursor < bytes.count {
                    cursor += 1  // Skip the '/'.
                    if isType {
                        out[written] = ResourceIDParser.slash
                        written += 1
                    }
                    while cursor < bytes.count && bytes[cursor] != ResourceIDParser.slash {
                        if isType {
                            out[written] = bytes[cursor]
                            written += 1
                        }
                        cursor += 1
                    }
                    isType.toggle()
                }
                return written
            }
        }
    }

    /// The resource's own name: the last segment of the id.
    public var name: String {
        substring(from: Int(layout.nameStart), to: description.utf8.count)
    }

    /// Whether the id has more than one `/providers/` segment (a resource attached to another one).
    public var isExtensionResource: Bool {
        layout.providerCount > 1
    }

    /// The resource this one belongs to, or `nil` for a top-level resource.
    ///
    /// For a nested child type (`…/managedClusters/c/agentPools/p`) the parent is the id without the last
    /// type/name pair; for an extension resource (`…/managedClusters/c/providers/Microsoft.KubernetesConfiguration/
    /// fluxConfigurations/f`) it is the id before the last `/providers/`. The parent keeps the original casing.
    public var parent: ResourceID? {
        let end = Int(layout.parentEnd)
        guard end > 0 else {
            return nil
        }
        let prefix = substring(from: 0, to: end)
        do {
            return try ResourceID(parsing: prefix)
        } catch {
            // Unreachable: every parent prefix is itself a well-formed id by construction of `layout`.
            preconditionFailure("parent of valid id '\(description)' failed to parse: \(error.reason)")
        }
    }

    /// The join key of this id: hashes and compares ignoring ASCII case, without a copy.
    public var key: ResourceIDKey { ResourceIDKey(text: description, length: description.utf8.count) }

    /// The join key of the parent (the id before the last type/name pair or `/providers/`), or nil.
    public var parentKey: ResourceIDKey? {
        let end = Int(layout.parentEnd)
        return end > 0 ? ResourceIDKey(text: description, length: end) : nil
    }

    /// Whether this id equals `scope` or lies below it, ignoring ASCII case.
    ///
    /// `scope` matches when the id equals it or starts with it followed by `/`, so
    /// `/subscriptions/a/resourceGroups/rg` covers `/subscriptions/a/resourceGroups/rg/providers/…` but not
    /// `/subscriptions/a/resourceGroups/rg2/…`. One trailing `/` on `scope` is ignored, which makes `/` (the
    /// tenant root) cover every id; an empty `scope` covers nothing.
    public func hasPrefix(scope: String) -> Bool {
        ResourceIDParser.withBytes(of: scope) { scopeBytes in
            ResourceIDParser.withBytes(of: description) { idBytes in
                ResourceIDParser.isWithin(scope: scopeBytes, id: idBytes)
            }
        }
    }

    /// Whether two ids name the same resource, ignoring ASCII case.
    public static func == (lhs: ResourceID, rhs: ResourceID) -> Bool {
        lhs.key == rhs.key
    }

    /// Hashes the id with ASCII letters lowercased, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        key.hash(into: &hasher)
    }

    /// Orders ids by their ASCII-lowercased bytes (the order of ``normalized``).
    public static func < (lhs: ResourceID, rhs: ResourceID) -> Bool {
        lhs.key < rhs.key
    }

    // MARK: - Private helpers

    private func substring(from start: Int, to end: Int) -> String {
        ResourceIDParser.withBytes(of: description) { bytes in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }

    private static func asciiLowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { out in
            for index in 0..<bytes.count {
                out[index] = ResourceIDParser.asciiLowercased(bytes[index])
            }
            return bytes.count
        }
    }
}

/// Why a string is not a valid ARM resource id.
///
/// The description reads like
/// `invalid ARM resource id '/subscriptions//x': empty segment at position 15 — ARM ids look like …`.
public struct ResourceIDError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The rejected text, exactly as given.
    public let id: String
    /// What is wrong with it, such as `empty segment at position 15` (positions are 0-based UTF-8 byte offsets).
    public let reason: String

    /// Creates an error from the rejected text and the reason it was rejected.
    public init(id: String, reason: String) {
        self.id = id
        self.reason = reason
    }

    /// `invalid ARM resource id '<id>': <reason> — ARM ids look like /subscriptions/…`.
    ///
    /// Control and invisible characters in the id are shown escaped and very long ids are shortened here;
    /// `id` always holds the full text.
    public var description: String {
        "invalid ARM resource id '\(Self.displayed(id))': \(reason) — ARM ids look like "
            + "/subscriptions/{subscriptionId}/resourceGroups/{group}/providers/{Namespace}/{type}/{name}"
    }

    private static let displayLimit = 200

    private static func displayed(_ id: String) -> String {
        var out = ""
        var shown = 0
        for scalar in id.unicodeScalars {
            if shown == displayLimit {
                out += "… (\(id.utf8.count) bytes)"
                break
            }
            if scalar != " " && ResourceIDParser.isForbidden(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            shown += 1
        }
        return out
    }
}

// MARK: - Parsing

/// Component offsets of a parsed id (UTF-8 offsets into `description`).
private struct ResourceIDLayout: Sendable {
    var subscriptionEnd: UInt16 = 0
    /// Zero (with `groupEnd`) when there is no resource group.
    var groupStart: UInt16 = 0
    var groupEnd: UInt16 = 0
    /// The namespace of the last provider section.
    var namespaceStart: UInt16 = 0
    var namespaceEnd: UInt16 = 0
    var nameStart: UInt16 = 0
    /// Length of the parent id, zero when there is none.
    var parentEnd: UInt16 = 0
    var providerCount: UInt16 = 0
}

private struct ResourceIDParseFailure: Error {
    let reason: String
}

/// A single-pass parser over the UTF-8 bytes of an id.
private struct ResourceIDParser {
    static let slash = UInt8(ascii: "/")
    static let dot = UInt8(ascii: ".")
    /// `/subscriptions/` is 15 bytes, so the subscription id always starts here.
    static let subscriptionStart = 15

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var hasUppercase = false

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// Whitespace, control characters and invisible format characters (bidi controls, zero-width space, BOM).
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return scalar.value <= 0x20 || scalar.value == 0x7F
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return true
        default:
            return properties.isWhitespace
        }
    }

    mutating func parse() throws(ResourceIDParseFailure) -> ResourceIDLayout {
        let count = bytes.count
        guard count > 0 else {
            throw ResourceIDParseFailure(reason: "empty id")
        }
        guard count <= ResourceID.maximumUTF8Length else {
            throw ResourceIDParseFailure(
                reason: "id is \(count) bytes long, over the limit of \(ResourceID.maximumUTF8Length) bytes"
            )
        }
        try scanCharacters()

        guard bytes[0] == Self.slash, matches(1..<segmentEnd(from: 1), "subscriptions") else {
            throw ResourceIDParseFailure(reason: "does not start with '/subscriptions/'")
        }
        guard Self.subscriptionStart < count, let subscription = try segment(after: Self.subscriptionStart - 1)
        else {
            throw ResourceIDParseFailure(reason: "missing subscription id after '/subscriptions/'")
        }
        var layout = ResourceIDLayout()
        layout.subscriptionEnd = UInt16(subscription.upperBound)

        guard let afterSubscription = try segment(after: subscription.upperBound) else {
            throw ResourceIDParseFailure(
                reason: "nothing after subscription id '\(text(subscription))'; expected "
                    + "'/resourceGroups/{group}/providers/…' or '/providers/…'"
            )
        }
        var providers: Range<Int>
        if matches(afterSubscription, "resourcegroups") {
            guard let group = try segment(after: afterSubscription.upperBound) else {
                throw ResourceIDParseFailure(
                    reason: "'\(text(afterSubscription))' at position \(afterSubscription.lowerBound) "
                        + "without a resource group name"
                )
            }
            layout.groupStart = UInt16(group.lowerBound)
            layout.groupEnd = UInt16(group.upperBound)
            guard let next = try segment(after: group.upperBound) else {
                throw ResourceIDParseFailure(reason: "missing '/providers/' after resource group '\(text(group))'")
            }
            guard matches(next, "providers") else {
                throw ResourceIDParseFailure(
                    reason: "missing '/providers/' after resource group '\(text(group))': found '\(text(next))' "
                        + "at position \(next.lowerBound)"
                )
            }
            providers = next
        } else if matches(afterSubscription, "providers") {
            providers = afterSubscription
        } else {
            throw ResourceIDParseFailure(
                reason: "expected 'resourceGroups' or 'providers' after subscription id, found "
                    + "'\(text(afterSubscription))' at position \(afterSubscription.lowerBound)"
            )
        }

        var providerCount = 0
        while true {
            providerCount += 1
            guard let namespace = try segment(after: providers.upperBound) else {
                throw ResourceIDParseFailure(
                    reason: "'providers' at position \(providers.lowerBound) has nothing after it; expected "
                        + "'{Namespace}/{type}/{name}'"
                )
            }
            guard contains(Self.dot, in: namespace) else {
                throw ResourceIDParseFailure(
                    reason: "provider namespace '\(text(namespace))' at position \(namespace.lowerBound) has no '.' "
                        + "(namespaces look like Microsoft.ContainerService)"
                )
            }
            var pairs = 0
            var lastTypeStart = 0
            var lastNameStart = 0
            var end = namespace.upperBound
            var nextProviders: Range<Int>?
            while let type = try segment(after: end) {
                if matches(type, "providers") {
                    nextProviders = type
                    break
                }
                guard let name = try segment(after: type.upperBound) else {
                    throw ResourceIDParseFailure(
                        reason: "resource type '\(text(type))' at position \(type.lowerBound) has no name"
                    )
                }
                pairs += 1
                lastTypeStart = type.lowerBound
                lastNameStart = name.lowerBound
                end = name.upperBound
            }
            guard pairs > 0 else {
                throw ResourceIDParseFailure(
                    reason: "provider namespace '\(text(namespace))' at position \(namespace.lowerBound) "
                        + "has no resource type"
                )
            }
            if let nextProviders {
                providers = nextProviders
                continue
            }
            layout.namespaceStart = UInt16(namespace.lowerBound)
            layout.namespaceEnd = UInt16(namespace.upperBound)
            layout.nameStart = UInt16(lastNameStart)
            layout.providerCount = UInt16(providerCount)
            if pairs > 1 {
                layout.parentEnd = UInt16(lastTypeStart - 1)  // Drop the last '/{type}/{name}'.
            } else if providerCount > 1 {
                layout.parentEnd = UInt16(providers.lowerBound - 1)  // Drop the last '/providers/…'.
            }
            return layout
        }
    }

    /// Rejects whitespace and control characters and notes whether any ASCII uppercase letter occurs.
    private mutating func scanCharacters() throws(ResourceIDParseFailure) {
        var index = 0
        var sawUppercase = false
        // Fast path: eight bytes at a time while they are printable ASCII (SWAR; every byte stays below 0x80, so
        // the additions below never carry into the next byte).
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            var uppercase: UInt64 = 0
            while index + 8 <= bytes.count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if word & highBits != 0 {
                    break  // Non-ASCII: let the byte loop decode it.
                }
                let atLeast21 = (word &+ ones &* 0x5F) & highBits
                let is7F = (word &+ ones) & highBits
                if atLeast21 != highBits || is7F != 0 {
                    break  // A space or control character: let the byte loop report its position.
                }
                let atLeast41 = (word &+ ones &* 0x3F) & highBits
                let atLeast5B = (word &+ ones &* 0x25) & highBits
                uppercase |= atLeast41 & ~atLeast5B
                index += 8
            }
            sawUppercase = uppercase != 0
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte <= 0x20 || byte == 0x7F {
                    throw forbidden(Unicode.Scalar(byte), at: index)
                }
                sawUppercase = sawUppercase || byte &- UInt8(ascii: "A") < 26
                index += 1
                continue
            }
            // Swift strings are valid UTF-8, so the lead byte gives the sequence length.
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
            var value = UInt32(byte) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for offset in 1..<length {
                value = value << 6 | UInt32(bytes[index + offset] & 0x3F)
            }
            if let scalar = Unicode.Scalar(value), Self.isForbidden(scalar) {
                throw forbidden(scalar, at: index)
            }
            index += length
        }
        hasUppercase = sawUppercase
    }

    private func forbidden(_ scalar: Unicode.Scalar, at index: Int) -> ResourceIDParseFailure {
        let code = String(scalar.value, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: max(0, 4 - code.count)) + code
        return ResourceIDParseFailure(reason: "whitespace or control character U+\(padded) at position \(index)")
    }

    /// The index of the next `/` at or after `start`, or the end of the id.
    private func segmentEnd(from start: Int) -> Int {
        var index = start
        while index < bytes.count && bytes[index] != Self.slash {
            index += 1
        }
        return index
    }

    /// The segment after the one ending at `end` (which is the end of the id or a `/`), or `nil` at the end.
    private func segment(after end: Int) throws(ResourceIDParseFailure) -> Range<Int>? {
        guard end < bytes.count else {
            return nil
        }
        let start = end + 1
        guard start < bytes.count else {
            throw ResourceIDParseFailure(reason: "trailing '/' at position \(end)")
        }
        let stop = segmentEnd(from: start)
        guard stop > start else {
            throw ResourceIDParseFailure(reason: "empty segment at position \(start)")
        }
        return start..<stop
    }

    /// Whether the segment equals `keyword` (given in lowercase), ignoring ASCII case.
    private func matches(_ segment: Range<Int>, _ keyword: StaticString) -> Bool {
        guard segment.count == keyword.utf8CodeUnitCount else {
            return false
        }
        return keyword.withUTF8Buffer { expected in
            var offset = 0
            for index in segment {
                guard Self.asciiLowercased(bytes[index]) == expected[offset] else {
                    return false
                }
                offset += 1
            }
            return true
        }
    }

    private func contains(_ byte: UInt8, in segment: Range<Int>) -> Bool {
        for index in segment where bytes[index] == byte {
            return true
        }
        return false
    }

    private func text(_ segment: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[segment]), as: UTF8.self)
    }

    /// Whether `normalizedID` equals `scope` or continues it with a `/`, ignoring ASCII case in `scope`.
    static func isWithin(scope: UnsafeBufferPointer<UInt8>, id: UnsafeBufferPointer<UInt8>) -> Bool {
        var scopeLength = scope.count
        guard scopeLength > 0 else {
            return false
        }
        if scope[scopeLength - 1] == slash {
            scopeLength -= 1
        }
        guard id.count >= scopeLength else {
            return false
        }
        for index in 0..<scopeLength where asciiLowercased(id[index]) != asciiLowercased(scope[index]) {
            return false
        }
        return id.count == scopeLength || id[scopeLength] == slash
    }

    /// Runs `body` over the UTF-8 bytes of `string`, without copying when its storage is contiguous.
    static func withBytes<R>(of string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = string.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        return Array(string.utf8).withUnsafeBufferPointer(body)
    }
}

/// A resource id, or a prefix of one, as a key that hashes, compares and orders ignoring ASCII case.
///
/// It shares the id's storage, so looking up a child's parent allocates nothing. Comparisons and
/// hashing lowercase eight bytes at a time.
public struct ResourceIDKey: Hashable, Comparable, Sendable {
    let text: String
    let length: Int

    init(text: String, length: Int) {
        self.text = text
        self.length = length
    }

    /// A key for any id text (compared and hashed ignoring ASCII case, without copying it).
    public init(_ text: String) {
        var text = text
        text.makeContiguousUTF8()
        self.init(text: text, length: text.utf8.count)
    }

    /// Lowercases the ASCII letters among eight bytes.
    @inline(__always) static func lower8(_ word: UInt64) -> UInt64 {
        let heptets = word & 0x7F7F_7F7F_7F7F_7F7F
        let aboveA = heptets &+ 0x3F3F_3F3F_3F3F_3F3F  // bytes >= 'A' get bit 7
        let aboveZ = heptets &+ 0x2525_2525_2525_2525  // bytes > 'Z' get bit 7
        let upper = aboveA & ~aboveZ & ~word & 0x8080_8080_8080_8080
        return word | (upper >> 2)
    }

    @inline(__always) static func load8(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
    }

    /// The lowercased byte at which two keys first differ, or nil when one is a prefix of the other.
    ///
    /// Eight bytes at a time, lowercased only when they differ as written: ids compared are mostly spelled
    /// alike, so most words cost one comparison.
    @inline(__always) static func firstDifference(
        _ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int
    ) -> (UInt8, UInt8)? {
        var i = 0
        while i + 8 <= n {
            let rawX = load8(a, i)
            let rawY = load8(b, i)
            if rawX != rawY {
                let x = lower8(rawX)
                let y = lower8(rawY)
                if x != y {
                    let shift = UInt64((x ^ y).trailingZeroBitCount & ~7)
                    return (UInt8(truncatingIfNeeded: x >> shift), UInt8(truncatingIfNeeded: y >> shift))
                }
            }
            i += 8
        }
        if i < n, n >= 8 {
            // The last eight bytes, overlapping some already compared (equal ignoring case, so any difference
            // found lies in the bytes not yet compared).
            let rawX = load8(a, n - 8)
            let rawY = load8(b, n - 8)
            guard rawX != rawY else { return nil }
            let x = lower8(rawX)
            let y = lower8(rawY)
            guard x != y else { return nil }
            let shift = UInt64((x ^ y).trailingZeroBitCount & ~7)
            return (UInt8(truncatingIfNeeded: x >> shift), UInt8(truncatingIfNeeded: y >> shift))
        }
        while i < n {
            let x = ResourceIDParser.asciiLowercased(a[i])
            let y = ResourceIDParser.asciiLowercased(b[i])
            if x != y { return (x, y) }
            i += 1
        }
        return nil
    }

    @inline(__always) func withBytes<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        if let result = text.utf8.withContiguousStorageIfAvailable({
            body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!)
        }) {
            return result
        }
        var copy = text
        return copy.withUTF8 { body($0.baseAddress ?? UnsafePointer(bitPattern: 1)!) }
    }

    /// Whether both keys name the same id, ignoring ASCII case.
    public static func == (lhs: ResourceIDKey, rhs: ResourceIDKey) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return lhs.withBytes { a in rhs.withBytes { b in firstDifference(a, b, lhs.length) == nil } }
    }

    /// Whether this id is `other` or names a resource under it (`other/…`), ignoring ASCII case; compared
    /// eight bytes at a time, in place.
    public func isSameOrUnder(_ other: ResourceIDKey) -> Bool {
        if length == other.length { return self == other }
        guard length > other.length + 1 else { return false }
        return withBytes { a in
            a[other.length] == UInt8(ascii: "/")
                && other.withBytes { b in Self.firstDifference(a, b, other.length) == nil }
        }
    }

    /// Hashes the lowercased bytes, eight at a time.
    public func hash(into hasher: inout Hasher) {
        withBytes { bytes in
            var i = 0
            while i + 8 <= length {
                hasher.combine(Self.lower8(Self.load8(bytes, i)))
                i += 8
            }
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while i < length {
                tail |= UInt64(ResourceIDParser.asciiLowercased(bytes[i])) << shift
                shift += 8
                i += 1
            }
            hasher.combine(tail)
            hasher.combine(length)
        }
    }

    /// Orders by the lowercased bytes.
    public static func < (lhs: ResourceIDKey, rhs: ResourceIDKey) -> Bool {
        lhs.withBytes { a in
            rhs.withBytes { b in
                if let (x, y) = firstDifference(a, b, min(lhs.length, rhs.length)) { return x < y }
                return lhs.length < rhs.length
            }
        }
    }
}
