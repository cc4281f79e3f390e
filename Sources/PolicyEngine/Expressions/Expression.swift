import Synchronization

/// A parsed Azure Resource Manager / Azure Policy template-language expression.
///
/// The language has no operators: an expression is a string or integer literal or a function call,
/// followed by any chain of property (`.name`) and index (`[expr]`) accesses, e.g.
/// `parameters('x').a[0]['b']`. Booleans and null are spelled as calls (`true()`, `false()`,
/// `null()`), as in ARM.
///
/// Every node carries `position`, the 0-based UTF-8 offset of its first byte in the text it was
/// parsed from (for ``TemplateString/parse(_:)`` that is the whole template string, `[` included).
public indirect enum Expression: Sendable, Equatable {
    /// A single-quoted string literal (the value, with `''` already unescaped).
    case string(String, position: Int)
    /// An integer literal.
    case integer(Int64, position: Int)
    /// A function call; `name` is spelled as written (lookup is case-insensitive).
    case call(name: String, arguments: [Expression], position: Int)
    /// A property access `base.name`; `position` is that of the `.`.
    case property(Expression, name: String, position: Int)
    /// An index access `base[index]`; `position` is that of the `[`.
    case index(Expression, Expression, position: Int)

    /// The UTF-8 offset of this node in its source text.
    public var position: Int {
        switch self {
        case .string(_, let position), .integer(_, let position), .call(_, _, let position),
            .property(_, _, let position), .index(_, _, let position):
            position
        }
    }

    /// Parses a bare expression (no surrounding brackets) such as `concat('a', 'b')`.
    ///
    /// Positions in the result and in errors are offsets into `text`.
    /// - Throws: ``ExpressionError`` for any syntax error.
    public static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(source: text, start: 0, end: text.utf8.count)
        return try parser.parseWhole()
    }
}

extension Expression: CustomStringConvertible {
    /// The expression in canonical form (no brackets, `''`-escaped strings, `, ` between arguments).
    public var description: String {
        switch self {
        case .string(let value, _):
            var out = "'"
            for c in value {
                if c == "'" { out += "''" } else { out.append(c) }
            }
            return out + "'"
        case .integer(let value, _):
            return String(value)
        case .call(let name, let arguments, _):
            return name + "(" + arguments.map(\.description).joined(separator: ", ") + ")"
        case .property(let base, let name, _):
            return base.description + "." + name
        case .index(let base, let index, _):
            return base.description + "[" + index.description + "]"
        }
    }
}

/// What a JSON string value in a template or policy means: literal text or an expression.
public enum TemplateValue: Sendable, Equatable {
    /// Literal text (for `"[[…"` strings, already without the escaping `[`).
    case literal(String)
    /// An expression (the string was `"[…]"`).
    case expression(Expression)
}

/// Recognises and parses template strings, the `"[…]"` JSON string values that hold expressions.
///
/// A string is an expression iff it starts with `[`, ends with `]` and does not start with `[[`.
/// A string starting with `[[` is literal text with the first `[` removed (`"[[x]"` → `"[x]"`);
/// any other string is literal text unchanged.
public enum TemplateString {
    /// Whether `s` is an expression (starts with `[`, ends with `]`, does not start with `[[`).
    public static func isExpression(_ s: String) -> Bool {
        let bytes = s.utf8
        guard let first = bytes.first, let last = bytes.last, first == UInt8(ascii: "[") else { return false }
        guard last == UInt8(ascii: "]") else { return false }
        if bytes.count >= 2 && bytes[bytes.index(after: bytes.startIndex)] == UInt8(ascii: "[") { return false }
        return true
    }

    /// Parses a JSON string value into literal text or an expression.
    ///
    /// Positions in the expression and in errors are UTF-8 offsets into `s` itself, so the
    /// first character after the opening `[` is at offset 1.
    /// - Throws: ``ExpressionError`` when `s` is an expression with a syntax error (`"[]"` included).
    public static func parse(_ s: String) throws(ExpressionError) -> TemplateValue {
        if s.utf8.starts(with: "[[".utf8) { return .literal(String(s.dropFirst())) }
        guard isExpression(s) else { return .literal(s) }
        // The same few expressions are evaluated for every cluster: parse each once.
        if let cached = cache.withLock({ $0[s] }) { return .expression(cached) }
        var parser = ExpressionParser(source: s, start: 1, end: s.utf8.count - 1)
        let expression = try parser.parseWhole()
        cache.withLock { entries in
            if entries.count >= cacheLimit { entries.removeAll(keepingCapacity: true) }
            entries[s] = expression
        }
        return .expression(expression)
    }

    /// Parsed expressions by their text (bounded; cleared when full).
    private static let cache = Mutex<[String: Expression]>([:])
    private static let cacheLimit = 4096
}
