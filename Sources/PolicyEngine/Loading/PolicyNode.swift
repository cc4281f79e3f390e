import FleetCore

/// A value of a policy document together with its file and JSON path.
///
/// Member lookup ignores case, as ARM does, and the path of the result spells the key the way the
/// document does, so diagnostics point at what the user wrote.
struct PolicyNode {
    /// The value.
    let value: JSONValue
    /// Where it is.
    let source: PolicySource

    /// The kind of value.
    var kind: JSONKind { value.kind }
    /// The string, or nil.
    var string: String? { value.string }
    /// Whether the value is an object.
    var isObject: Bool { value.isObject }
    /// Whether the value is an array.
    var isArray: Bool { value.isArray }
    /// Whether the value is `null`.
    var isNull: Bool { value.isNull }

    /// The member named `name` ignoring case (the last one when several match), or nil.
    func member(_ name: String) -> PolicyNode? {
        var found: PolicyNode?
        for (key, child) in value.members where ASCII.equalsIgnoringCase(key, name) {
            found = PolicyNode(value: child, source: source.appending(.key(key)))
        }
        return found
    }

    /// The members of an object, in document order.
    var members: [(key: String, node: PolicyNode)] {
        value.members.map { member in
            (member.key, PolicyNode(value: member.value, source: source.appending(.key(member.key))))
        }
    }

    /// The elements of an array, in order.
    var elements: [PolicyNode] {
        value.elements.enumerated().map { index, element in
            PolicyNode(value: element, source: source.appending(.index(index)))
        }
    }

    /// The value as a ``JSON`` tree.
    func materialize() -> JSON { value.materialize() }
}

/// The problems found so far, in the order they were found.
struct PolicyDiagnosticLog {
    /// Every diagnostic.
    private(set) var diagnostics: [PolicyDiagnostic] = []

    /// Records an error.
    mutating func error(_ source: PolicySource, _ message: String, suggestion: String? = nil) {
        diagnostics.append(PolicyDiagnostic(.error, source, message, suggestion: suggestion))
    }

    /// Records a warning.
    mutating func warning(_ source: PolicySource, _ message: String, suggestion: String? = nil) {
        diagnostics.append(PolicyDiagnostic(.warning, source, message, suggestion: suggestion))
    }
}

/// Near-miss suggestions: a candidate equal ignoring case, else one within edit distance 2.
enum PolicyNearMiss {
    /// The candidate closest to `word`: equal ignoring case first, then the smallest edit distance
    /// (at most 2, at most 1 for words of three characters or fewer); ties go to the earlier candidate.
    static func best(_ word: String, among candidates: some Sequence<String>) -> String? {
        let query = Array(ASCII.lowercased(word).unicodeScalars)
        let limit = query.count <= 3 ? 1 : 2
        var best: (distance: Int, name: String)?
        for candidate in candidates {
            let distance = editDistance(query, Array(ASCII.lowercased(candidate).unicodeScalars), limit: limit)
            if distance <= limit && distance < (best?.distance ?? Int.max) {
                best = (distance, candidate)
            }
        }
        return best?.name
    }

    /// `did you mean 'x'?` for the best candidate, or nil.
    static func suggestion(_ word: String, among candidates: some Sequence<String>) -> String? {
        best(word, among: candidates).map { "did you mean '\($0)'?" }
    }

    /// Levenshtein distance, or `limit + 1` as soon as it must exceed `limit`.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// 64-bit FNV-1a (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`).
///
/// Not cryptographic: it pins the policy inputs a plan was made from, it does not defend against
/// someone crafting a collision.
struct FNV1a64 {
    /// The hash of everything added so far.
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Adds bytes.
    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
    }

    /// The hash as 16 lowercase hex digits.
    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Small string helpers for ids and paths.
enum PolicyIds {
    /// The last non-empty `/`-separated segment.
    static func lastSegment(_ id: String) -> String {
        id.split(separator: "/").last.map(String.init) ?? id
    }

    /// The part of `id` before the last occurrence of `marker` (compared ignoring case), or nil.
    static func prefix(of id: String, before marker: String) -> String? {
        let haystack = Array(ASCII.lowercased(id).utf8)
        let needle = Array(ASCII.lowercased(marker).utf8)
        guard needle.count <= haystack.count else { return nil }
        var start = haystack.count - needle.count
        while start >= 0 {
            if haystack[start..<start + needle.count].elementsEqual(needle) {
                return String(decoding: id.utf8.prefix(start), as: UTF8.self)
            }
            start -= 1
        }
        return nil
    }

    /// `scope` without trailing slashes.
    static func trimmingSlashes(_ scope: String) -> String {
        var scope = Substring(scope)
        while scope.hasSuffix("/") { scope = scope.dropLast() }
        return String(scope)
    }

    /// The compact JSON text of a value, for messages.
    static func render(_ value: JSON) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return writer.text
    }

    /// `'a', 'b' or 'c'`.
    static func list(_ names: [String]) -> String {
        let quoted = names.map { "'\($0)'" }
        guard let last = quoted.last else { return "" }
        return quoted.count == 1 ? last : quoted.dropLast().joined(separator: ", ") + " or " + last
    }
}
