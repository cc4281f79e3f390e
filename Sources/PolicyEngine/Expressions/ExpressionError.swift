/// A syntax or evaluation error in a template-language expression, with its place in the source.
///
/// `offset` is a 0-based UTF-8 offset into `expression`. For errors from
/// ``TemplateString/parse(_:)`` and ``evaluateTemplate(_:context:)`` `expression` is the whole
/// template string, brackets included; for ``Expression/parse(_:)`` it is the bare expression.
/// Evaluation errors point at the function call (its name) that failed.
public struct ExpressionError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The text the error refers to.
    public var expression: String
    /// The 0-based UTF-8 offset of the failing token or call in `expression`.
    public var offset: Int
    /// What went wrong, without the location: `unterminated string literal`, for instance.
    public var message: String
    /// Known function names close to an unknown one (edit distance ≤ 2), best first.
    public var suggestions: [String]

    /// Creates an error.
    public init(expression: String, offset: Int, message: String, suggestions: [String] = []) {
        self.expression = expression
        self.offset = offset
        self.message = message
        self.suggestions = suggestions
    }

    /// The message, any suggestions, and the location.
    ///
    /// For example `unknown function 'toLowr'; did you mean 'toLower'? (at offset 1 in "[toLowr('A')]")`.
    public var description: String {
        var text = message
        if let last = suggestions.last {
            let quoted = suggestions.map { "'\($0)'" }
            let names = quoted.count == 1 ? quoted[0] : quoted.dropLast().joined(separator: ", ") + " or '\(last)'"
            text += "; did you mean \(names)?"
        }
        return text + " (at offset \(offset) in \"\(expression)\")"
    }

    /// The source text with a caret under `offset` on a second line, for terminal output.
    public var caretDiagnostic: String {
        let prefix = expression.utf8.prefix(offset)
        let column = String(decoding: prefix, as: UTF8.self).count
        return expression + "\n" + String(repeating: " ", count: column) + "^"
    }
}
