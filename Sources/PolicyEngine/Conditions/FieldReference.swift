import FleetCore

/// One step of a field's JSON path in a resource record.
public enum FieldPathSegment: Sendable, Hashable {
    /// An object member, matched ignoring case (ARM property names are case-insensitive).
    case member(String)
    /// Every element of an array (`[*]`).
    case everyElement
}

/// The value of a field in one resource, as Azure Policy sees it.
public enum FieldValue: Sendable, Hashable {
    /// The resource has no such value (absent, JSON `null`, or an alias of another resource type).
    case missing
    /// The value of a plain (non-`[*]`) field.
    case value(JSON)
    /// The member values of a `[*]` field in document order; a missing array gives an empty collection and a
    /// member without the property gives `null`.
    case collection([JSON])
}

/// A `field` string resolved once (at parse time) to the JSON path it reads in a resource record.
///
/// Obtain one with ``AliasCatalog/resolve(_:)``; read it with ``value(in:resourceType:)``. A class, so that the
/// evaluator passes it around with a single reference count.
public final class FieldReference: Sendable, CustomStringConvertible {
    /// How the value at ``segments`` is turned into the field's value.
    enum Transform: Sendable, Hashable {
        /// Read as it is.
        case none
        /// `location`: lowercased, spaces removed.
        case location
        /// `fullName`: the names of the resource and its parents, from `id`.
        case fullName
        /// An alias of a resource type this catalog does not model: always missing.
        case unsupported
    }

    /// The field as written in the policy (`Microsoft.KubernetesConfiguration/extensions/extensionType`).
    public let field: String
    /// The path the field reads in the resource record.
    public let segments: [FieldPathSegment]
    /// The canonical ARM type the alias belongs to, or nil for the built-in fields (`name`, `tags`, …).
    public let resourceType: String?
    /// The index of ``resourceType`` in ``AliasCatalog/supportedTypes``, or nil for built-in fields.
    let typeIndex: Int?
    let transform: Transform
    /// Whether ``segments`` contains `[*]`.
    public let isCollection: Bool
    /// Whether the field is read as it is under the record's `properties` (every alias but a few).
    let readsProperties: Bool

    init(field: String, segments: [FieldPathSegment], resourceType: String?, transform: Transform = .none) {
        self.field = field
        self.segments = segments
        self.resourceType = resourceType
        self.typeIndex = resourceType.flatMap { type in
            AliasCatalog.supportedTypes.firstIndex { ASCII.equalsIgnoringCase($0, type) }
        }
        self.transform = transform
        self.isCollection = segments.contains(.everyElement)
        if transform == .none, segments.count > 1, case .member(let first) = segments[0] {
            readsProperties = ASCII.equalsIgnoringCase(first, "properties")
        } else {
            readsProperties = false
        }
        switch transform {
        case .fullName: path = "fullName"
        case .unsupported: path = field
        case .none, .location: path = Self.render(segments)
        }
    }

    /// The field as written.
    public var description: String { field }

    /// Whether the field is the built-in `location` (whose values are compared normalised).
    public var isLocation: Bool { transform == .location }

    /// The JSON path in the record, such as `properties.gitRepository.url` or `properties.statuses[*].name`.
    public let path: String

    /// Renders segments as a dotted path: plain names after dots, other names as `['name']`.
    static func render(_ segments: some Sequence<FieldPathSegment>) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .everyElement:
                out += "[*]"
            case .member(let name):
                if isPlainName(name) {
                    if !out.isEmpty { out += "." }
                    out += name
                } else {
                    out += "['" + name.replacing("'", with: "''") + "']"
                }
            }
        }
        return out
    }

    private static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty
            && name.utf8.allSatisfy { c in
                (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "z"))
                    || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_")
                    || c == UInt8(ascii: "-") || c == UInt8(ascii: "$")
            }
    }

    /// Whether the field applies to a resource whose type has `index` in ``AliasCatalog/supportedTypes`` (nil for
    /// other types); built-ins apply to every type.
    @inline(__always) func applies(toTypeIndex index: Int?) -> Bool {
        if transform == .unsupported { return false }
        guard let typeIndex else { return true }
        return typeIndex == index
    }

    /// The field's value in `resource`, a resource record of ARM type `resourceType`.
    ///
    /// An alias of another resource type than `resourceType` is missing (an empty collection for `[*]` aliases).
    /// JSON `null` counts as missing. Objects and arrays are decoded in full, so prefer the condition evaluator,
    /// which reads the record in place, on hot paths.
    public func value(in resource: JSONValue, resourceType: String) -> FieldValue {
        switch read(in: resource, typeIndex: AliasCatalog.typeIndex(of: resourceType)) {
        case .missing: return .missing
        case .tape(let v): return .value(v.materialize())
        case .text(let s): return .value(.string(s))
        case .collection(let members): return .collection(members.map { $0?.materialize() ?? .null })
        }
    }

    /// The raw read result, decoding nothing.
    enum Read {
        case missing
        case tape(JSONValue)
        case text(String)
        case collection([JSONValue?])
    }

    /// Reads the field in `resource` (whose type has `typeIndex`) without decoding it.
    func read(in resource: JSONValue, typeIndex: Int?) -> Read {
        guard applies(toTypeIndex: typeIndex) else { return isCollection ? .collection([]) : .missing }
        switch transform {
        case .none:
            return Self.walk(resource, segments[...])
        case .location:
            guard let raw = resource.member(ignoringCase: "location")?.string else { return .missing }
            return .text(Self.normalizeLocation(raw))
        case .fullName:
            return Self.fullName(of: resource).map(Read.text) ?? .missing
        case .unsupported:
            return isCollection ? .collection([]) : .missing
        }
    }

    /// Walks `segments` from `start`; a collection as soon as a `[*]` is crossed.
    static func walk(_ start: JSONValue, _ segments: ArraySlice<FieldPathSegment>) -> Read {
        var current = start
        var i = segments.startIndex
        while i < segments.endIndex {
            switch segments[i] {
            case .member(let name):
                guard let next = current.member(ignoringCase: name), !next.isNull else {
                    return segments[i...].contains(.everyElement) ? .collection([]) : .missing
                }
                current = next
            case .everyElement:
                var members: [JSONValue?] = []
                collect(current, segments[i...], into: &members)
                return .collection(members)
            }
            i += 1
        }
        return .tape(current)
    }

    /// Appends the values `segments` (starting with `[*]` or after one) select under `value`.
    private static func collect(
        _ value: JSONValue, _ segments: ArraySlice<FieldPathSegment>, into out: inout [JSONValue?]
    ) {
        guard let first = segments.first else {
            out.append(value.isNull ? nil : value)
            return
        }
        let rest = segments.dropFirst()
        switch first {
        case .everyElement:
            for element in value.elements { collect(element, rest, into: &out) }
        case .member(let name):
            if let next = value.member(ignoringCase: name), !next.isNull {
                collect(next, rest, into: &out)
            } else if !rest.contains(.everyElement) {
                // A member without the property: evaluated as a missing value.
                out.append(nil)
            }
        }
    }

    /// `location` as Azure compares it: lowercased, spaces removed (`East US 2` → `eastus2`).
    static func normalizeLocation(_ text: String) -> String {
        // Most locations are already ASCII, lowercase and without spaces: returned as they are (no copy made).
        if text.utf8.allSatisfy({ $0 < 0x80 && $0 != UInt8(ascii: " ") && $0 &- UInt8(ascii: "A") >= 26 }) {
            return text
        }
        return CaseFolding.lower(text.contains(" ") ? text.replacing(" ", with: "") : text)
    }

    /// The names of the resource and its parents joined with `/` (`server/db`), from the record's `id`
    /// after its last `/providers/<Namespace>/`; the record's `name` when there is no such `id`.
    static func fullName(of resource: JSONValue) -> String? {
        if let id = resource.member(ignoringCase: "id")?.string {
            let parts = id.split(separator: "/", omittingEmptySubsequences: true)
            if let p = parts.lastIndex(where: { ASCII.equalsIgnoringCase(String($0), "providers") }),
                parts.count >= p + 4
            {
                // parts[p + 1] is the namespace; then type/name pairs.
                var names: [Substring] = []
                var k = p + 3
                while k < parts.count {
                    names.append(parts[k])
                    k += 2
                }
                return names.joined(separator: "/")
            }
        }
        return resource.member(ignoringCase: "name")?.string
    }
}

/// Parses the path part of a field: `a.b[*].c`, `tags['k']`, `tags[k]`.
enum FieldPathParser {
    /// The segments of `text`, or nil when it is malformed (empty names, unclosed brackets).
    static func parse(_ text: Substring) -> [FieldPathSegment]? {
        let bytes = Array(text.utf8)
        var segments: [FieldPathSegment] = []
        var i = 0
        var expectName = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "[") {
                guard !expectName else { return nil }
                if i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "*"), bytes[i + 2] == UInt8(ascii: "]") {
                    segments.append(.everyElement)
                    i += 3
                } else if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "'") {
                    var key: [UInt8] = []
                    var j = i + 2
                    var closed = false
                    while j < bytes.count {
                        if bytes[j] == UInt8(ascii: "'") {
                            if j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: "'") {
                                key.append(UInt8(ascii: "'"))
                                j += 2
                                continue
                            }
                            closed = j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: "]")
                            break
                        }
                        key.append(bytes[j])
                        j += 1
                    }
                    guard closed else { return nil }
                    segments.append(.member(String(decoding: key, as: UTF8.self)))
                    i = j + 2
                } else {
                    guard let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "]")), close > i + 1 else {
                        return nil
                    }
                    segments.append(.member(String(decoding: bytes[(i + 1)..<close], as: UTF8.self)))
                    i = close + 1
                }
                expectName = false
            } else if c == UInt8(ascii: ".") {
                guard !expectName, i + 1 < bytes.count else { return nil }
                expectName = true
                i += 1
            } else {
                guard expectName else { return nil }
                var j = i
                while j < bytes.count, bytes[j] != UInt8(ascii: "."), bytes[j] != UInt8(ascii: "[") { j += 1 }
                segments.append(.member(String(decoding: bytes[i..<j], as: UTF8.self)))
                expectName = false
                i = j
            }
        }
        return segments.isEmpty || expectName ? nil : segments
    }
}

/// Invariant-culture case folding, with an allocation-free fast path for ASCII.
enum CaseFolding {
    /// Whether every byte of `s` is ASCII.
    @inline(__always) static func isASCII(_ s: String) -> Bool {
        s.utf8.allSatisfy { $0 < 0x80 }
    }

    /// `s` lowercased as .NET's `ToLowerInvariant` does.
    static func lower(_ s: String) -> String {
        isASCII(s) ? ASCII.lowercased(s) : ExpressionValues.lowercased(s)
    }

    /// Whether `a` and `b` are equal ignoring case (invariant culture).
    static func equal(_ a: String, _ b: String) -> Bool {
        if isASCII(a) && isASCII(b) { return ASCII.equalsIgnoringCase(a, b) }
        return ExpressionValues.lowercased(a) == ExpressionValues.lowercased(b)
    }
}
