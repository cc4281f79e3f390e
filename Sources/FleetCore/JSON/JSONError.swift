/// A JSON input that is not valid JSON, with the place it went wrong.
///
/// The description reads like a compiler diagnostic, for example
/// `fleet.json:12:7: invalid JSON at $[3].properties.tags: expected ',' or '}' after an object member, found 'x'`.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The input's name (a file path or a label).
    public let source: String
    /// The 1-based line of the offending byte.
    public let line: Int
    /// The 1-based column (in bytes) of the offending byte.
    public let column: Int
    /// The absolute byte offset of the offending byte.
    public let offset: Int
    /// The JSON path of the value being read, such as `$.data[12].properties`.
    public let path: String
    /// What was wrong.
    public let message: String

    /// Creates an error from its parts.
    public init(source: String, line: Int, column: Int, offset: Int, path: String, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.offset = offset
        self.path = path
        self.message = message
    }

    /// `source:line:column: invalid JSON at path: message`.
    public var description: String {
        "\(source):\(line):\(column): invalid JSON at \(path): \(message)"
    }
}

/// One step of a JSON path: an object key or an array index.
public enum JSONPathComponent: Sendable, Hashable {
    /// An object member.
    case key(String)
    /// An array element.
    case index(Int)

    /// Renders a path such as `$.data[3].properties['multiTenancy.enforce']`.
    public static func render(_ components: some Sequence<JSONPathComponent>, root: String = "$") -> String {
        var out = root
        for component in components {
            switch component {
            case .index(let i):
                out += "[\(i)]"
            case .key(let k):
                if isPlainIdentifier(k) {
                    out += ".\(k)"
                } else {
                    out += "['\(k.replacing("'", with: "\\'"))']"
                }
            }
        }
        return out
    }

    private static func isPlainIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return key.utf8.allSatisfy { c in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || c == UInt8(ascii: "_")
                || c == UInt8(ascii: "$")
        }
    }
}
