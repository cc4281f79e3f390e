/// A recursive-descent parser for the template expression language, over UTF-8 bytes.
///
/// Grammar (whitespace allowed between tokens):
/// ```
/// expression := primary postfix*
/// primary    := string | integer | call
/// call       := name ("." name)* "(" [expression ("," expression)*] ")"
/// postfix    := "." name | "[" expression "]"
/// string     := "'" (any character except "'" | "''")* "'"
/// integer    := ["-"] digit+
/// ```
/// Bare names (`foo`, `true`) are errors: ARM spells booleans and null as calls.
struct ExpressionParser {
    /// Deeper nesting than this is rejected (Azure's own runtime limit is 128 levels).
    static let maximumDepth = 128

    private let source: String
    private let bytes: [UInt8]
    private var index: Int
    private let end: Int
    private var depth = 0

    /// A parser for `source[start..<end]` (UTF-8 offsets); positions are offsets into `source`.
    init(source: String, start: Int, end: Int) {
        self.source = source
        self.bytes = Array(source.utf8)
        self.index = start
        self.end = end
    }

    /// Parses the whole range as one expression.
    mutating func parseWhole() throws(ExpressionError) -> Expression {
        skipWhitespace()
        if index == end { throw error("empty expression", at: index) }
        let expression = try parseExpression()
        skipWhitespace()
        if index < end {
            throw error("unexpected \(describe(index)) after the end of the expression", at: index)
        }
        return expression
    }

    // MARK: - Grammar

    private mutating func parseExpression() throws(ExpressionError) -> Expression {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth {
            throw error("expression nests more than \(Self.maximumDepth) levels deep", at: index)
        }
        var expression = try parsePrimary()
        while true {
            let save = index
            skipWhitespace()
            guard index < end else {
                index = save
                break
            }
            if bytes[index] == UInt8(ascii: ".") {
                let dot = index
                index += 1
                skipWhitespace()
                guard let name = scanName() else {
                    throw error("expected a property name after '.', found \(describe(index))", at: index)
                }
                expression = .property(expression, name: name, position: dot)
            } else if bytes[index] == UInt8(ascii: "[") {
                let open = index
                index += 1
                skipWhitespace()
                if index < end && bytes[index] == UInt8(ascii: "]") {
                    throw error("expected an index expression inside '[]'", at: index)
                }
                let key = try parseOperand()
                skipWhitespace()
                guard index < end, bytes[index] == UInt8(ascii: "]") else {
                    throw error("expected ']' to close the index, found \(describe(index))", at: index)
                }
                index += 1
                expression = .index(expression, key, position: open)
            } else {
                index = save
                break
            }
        }
        return expression
    }

    /// An expression where one is required (argument or index), with a clear error otherwise.
    private mutating func parseOperand() throws(ExpressionError) -> Expression {
        skipWhitespace()
        return try parseExpression()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        guard index < end else { throw error("expected an expression, found end of expression", at: index) }
        let c = bytes[index]
        if c == UInt8(ascii: "'") { return try parseString() }
        if c == UInt8(ascii: "-") || isDigit(c) { return try parseInteger() }
        if isNameStart(c) { return try parseCall() }
        if c == UInt8(ascii: "\"") {
            throw error("string literals use single quotes, not '\"'", at: index)
        }
        throw error("expected an expression, found \(describe(index))", at: index)
    }

    private mutating func parseString() throws(ExpressionError) -> Expression {
        let start = index
        index += 1
        var value: [UInt8] = []
        while true {
            guard index < end else { throw error("unterminated string literal", at: start) }
            let c = bytes[index]
            index += 1
            if c == UInt8(ascii: "'") {
                if index < end && bytes[index] == UInt8(ascii: "'") {
                    value.append(c)
                    index += 1
                } else {
                    break
                }
            } else {
                value.append(c)
            }
        }
        return .string(String(decoding: value, as: UTF8.self), position: start)
    }

    private mutating func parseInteger() throws(ExpressionError) -> Expression {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < end, isDigit(bytes[index]) else {
            throw error("expected digits after '-'", at: start)
        }
        var magnitude: UInt64 = 0
        var overflow = false
        while index < end, isDigit(bytes[index]) {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            magnitude = m2
            index += 1
        }
        if index + 1 < end, bytes[index] == UInt8(ascii: "."), isDigit(bytes[index + 1]) {
            throw error("floating-point numbers are not supported; use an integer or a string", at: start)
        }
        let limit = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        if overflow || magnitude > limit {
            throw error("integer literal is out of the 64-bit range", at: start)
        }
        let value = negative ? (magnitude == limit ? Int64.min : -Int64(magnitude)) : Int64(magnitude)
        return .integer(value, position: start)
    }

    private mutating func parseCall() throws(ExpressionError) -> Expression {
        let start = index
        guard var name = scanName() else { throw error("expected a function name", at: start) }
        // Namespaced (user-defined) functions: `namespace.function(…)`.
        while index + 1 < end, bytes[index] == UInt8(ascii: "."), isNameStart(bytes[index + 1]) {
            index += 1
            name += "." + (scanName() ?? "")
        }
        let afterName = index
        skipWhitespace()
        guard index < end, bytes[index] == UInt8(ascii: "(") else {
            index = afterName
            throw bareNameError(name, at: start)
        }
        index += 1
        var arguments: [Expression] = []
        skipWhitespace()
        if index < end && bytes[index] == UInt8(ascii: ")") {
            index += 1
            return .call(name: name, arguments: arguments, position: start)
        }
        while true {
            skipWhitespace()
            if index < end && bytes[index] == UInt8(ascii: ")") {
                throw error("expected an argument after ',' in the call to '\(name)'", at: index)
            }
            if index < end && bytes[index] == UInt8(ascii: ",") {
                throw error("expected an argument before ',' in the call to '\(name)'", at: index)
            }
            arguments.append(try parseOperand())
            skipWhitespace()
            guard index < end else {
                throw error("expected ',' or ')' in the call to '\(name)', found end of expression", at: index)
            }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: ")") {
                index += 1
                return .call(name: name, arguments: arguments, position: start)
            }
            throw error("expected ',' or ')' in the call to '\(name)', found \(describe(index))", at: index)
        }
    }

    private func bareNameError(_ name: String, at offset: Int) -> ExpressionError {
        switch name.lowercased() {
        case "true", "false", "null":
            error("'\(name)' is not a literal in template expressions; write '\(name)()'", at: offset)
        default:
            error("'\(name)' is not a value; function calls need parentheses, e.g. '\(name)()'", at: offset)
        }
    }

    // MARK: - Lexical helpers

    private mutating func scanName() -> String? {
        guard index < end, isNameStart(bytes[index]) else { return nil }
        let start = index
        while index < end, isNameStart(bytes[index]) || isDigit(bytes[index]) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func isDigit(_ c: UInt8) -> Bool { c &- UInt8(ascii: "0") < 10 }

    private func isNameStart(_ c: UInt8) -> Bool {
        (c | 0x20) &- UInt8(ascii: "a") < 26 || c == UInt8(ascii: "_") || c == UInt8(ascii: "$")
    }

    /// How the token at `offset` is named in messages.
    private func describe(_ offset: Int) -> String {
        guard offset < end else { return "end of expression" }
        let c = bytes[offset]
        if c == UInt8(ascii: "'") { return "a string literal" }
        if isNameStart(c) {
            var k = offset
            while k < end, isNameStart(bytes[k]) || isDigit(bytes[k]) { k += 1 }
            return "'" + String(decoding: bytes[offset..<k], as: UTF8.self) + "'"
        }
        if isDigit(c) { return "a number" }
        // One whole UTF-8 scalar.
        var k = offset + 1
        while k < end, bytes[k] & 0xC0 == 0x80 { k += 1 }
        return "'" + String(decoding: bytes[offset..<k], as: UTF8.self) + "'"
    }

    private func error(_ message: String, at offset: Int) -> ExpressionError {
        ExpressionError(expression: source, offset: offset, message: message)
    }
}
