import PolicyEngine
import Testing

/// A template string and the value ``TemplateString/parse(_:)`` must produce.
struct ExpressionParseCase: Sendable, CustomTestStringConvertible {
    var text: String
    var expected: TemplateValue

    var testDescription: String { text }
}

private let parseCases: [ExpressionParseCase] = [
    // Literal forms: not an expression, or escaped with `[[`.
    ExpressionParseCase(text: "plain text", expected: .literal("plain text")),
    ExpressionParseCase(text: "", expected: .literal("")),
    ExpressionParseCase(text: "[", expected: .literal("[")),
    ExpressionParseCase(text: "]", expected: .literal("]")),
    ExpressionParseCase(text: "a[b]", expected: .literal("a[b]")),
    ExpressionParseCase(text: "[not closed", expected: .literal("[not closed")),
    ExpressionParseCase(text: "[[literal]", expected: .literal("[literal]")),
    ExpressionParseCase(text: "[[", expected: .literal("[")),
    ExpressionParseCase(text: "[[parameters('x')]", expected: .literal("[parameters('x')]")),
    // String literals and `''` escaping.
    ExpressionParseCase(text: "['abc']", expected: .expression(.string("abc", position: 1))),
    ExpressionParseCase(text: "['it''s']", expected: .expression(.string("it's", position: 1))),
    ExpressionParseCase(text: "['']", expected: .expression(.string("", position: 1))),
    ExpressionParseCase(text: "['''']", expected: .expression(.string("'", position: 1))),
    ExpressionParseCase(text: "['a]b[c']", expected: .expression(.string("a]b[c", position: 1))),
    ExpressionParseCase(text: "['héllo']", expected: .expression(.string("héllo", position: 1))),
    // Integers.
    ExpressionParseCase(text: "[42]", expected: .expression(.integer(42, position: 1))),
    ExpressionParseCase(text: "[-42]", expected: .expression(.integer(-42, position: 1))),
    ExpressionParseCase(text: "[0]", expected: .expression(.integer(0, position: 1))),
    ExpressionParseCase(
        text: "[9223372036854775807]", expected: .expression(.integer(.max, position: 1))),
    ExpressionParseCase(
        text: "[-9223372036854775808]", expected: .expression(.integer(.min, position: 1))),
    // Booleans and null are calls.
    ExpressionParseCase(
        text: "[true()]", expected: .expression(.call(name: "true", arguments: [], position: 1))),
    ExpressionParseCase(
        text: "[false()]", expected: .expression(.call(name: "false", arguments: [], position: 1))),
    ExpressionParseCase(
        text: "[null()]", expected: .expression(.call(name: "null", arguments: [], position: 1))),
    // Calls, nesting and whitespace.
    ExpressionParseCase(
        text: "[concat('a', 'b')]",
        expected: .expression(
            .call(
                name: "concat", arguments: [.string("a", position: 8), .string("b", position: 13)], position: 1))
    ),
    ExpressionParseCase(
        text: "[ concat ( 'a' , 1 ) ]",
        expected: .expression(
            .call(
                name: "concat", arguments: [.string("a", position: 11), .integer(1, position: 17)], position: 2))
    ),
    ExpressionParseCase(
        text: "[not(empty(parameters('v')))]",
        expected: .expression(
            .call(
                name: "not",
                arguments: [
                    .call(
                        name: "empty",
                        arguments: [.call(name: "parameters", arguments: [.string("v", position: 22)], position: 11)],
                        position: 5)
                ],
                position: 1))
    ),
    ExpressionParseCase(
        text: "[contoso.uniqueName('a')]",
        expected: .expression(
            .call(name: "contoso.uniqueName", arguments: [.string("a", position: 20)], position: 1))
    ),
    // Property and index chains.
    ExpressionParseCase(
        text: "[parameters('x').a[0]['b']]",
        expected: .expression(
            .index(
                .index(
                    .property(
                        .call(name: "parameters", arguments: [.string("x", position: 12)], position: 1),
                        name: "a", position: 16),
                    .integer(0, position: 19), position: 18),
                .string("b", position: 22), position: 21))
    ),
    ExpressionParseCase(
        text: "[resourceGroup() . location]",
        expected: .expression(
            .property(.call(name: "resourceGroup", arguments: [], position: 1), name: "location", position: 17))
    ),
    ExpressionParseCase(
        text: "[createArray(1)[ add(0, 0) ]]",
        expected: .expression(
            .index(
                .call(name: "createArray", arguments: [.integer(1, position: 13)], position: 1),
                .call(name: "add", arguments: [.integer(0, position: 21), .integer(0, position: 24)], position: 17),
                position: 15))
    ),
]

private let syntaxErrorCases: [ExpressionErrorCase] = [
    ExpressionErrorCase("[concat('a]", at: 8, "unterminated string literal"),
    ExpressionErrorCase("['it''s]", at: 1, "unterminated string literal"),
    ExpressionErrorCase("[concat('a']", at: 11, "expected ',' or ')' in the call to 'concat', found end of expression"),
    ExpressionErrorCase("[concat('a',)]", at: 12, "expected an argument after ',' in the call to 'concat'"),
    ExpressionErrorCase("[concat(,'a')]", at: 8, "expected an argument before ',' in the call to 'concat'"),
    ExpressionErrorCase("[concat(]", at: 8, "expected an expression, found end of expression"),
    ExpressionErrorCase(
        "[concat('a' 'b')]", at: 12, "expected ',' or ')' in the call to 'concat', found a string literal"),
    ExpressionErrorCase("[concat('a'))]", at: 12, "unexpected ')' after the end of the expression"),
    ExpressionErrorCase(
        "[toLower('a') toUpper('b')]", at: 14, "unexpected 'toUpper' after the end of the expression"),
    ExpressionErrorCase("[foo]", at: 1, "'foo' is not a value; function calls need parentheses, e.g. 'foo()'"),
    ExpressionErrorCase("[if(true, 1, 2)]", at: 4, "'true' is not a literal in template expressions; write 'true()'"),
    ExpressionErrorCase("[null]", at: 1, "'null' is not a literal in template expressions; write 'null()'"),
    ExpressionErrorCase("[]", at: 1, "empty expression"),
    ExpressionErrorCase("[   ]", at: 4, "empty expression"),
    ExpressionErrorCase("[parameters('x').]", at: 17, "expected a property name after '.', found end of expression"),
    ExpressionErrorCase("[parameters('x').1]", at: 17, "expected a property name after '.', found a number"),
    ExpressionErrorCase("[parameters('x')[0]", at: 18, "expected ']' to close the index, found end of expression"),
    ExpressionErrorCase("[parameters('x')[]]", at: 17, "expected an index expression inside '[]'"),
    ExpressionErrorCase("[1.5]", at: 1, "floating-point numbers are not supported; use an integer or a string"),
    ExpressionErrorCase("[99999999999999999999]", at: 1, "integer literal is out of the 64-bit range"),
    ExpressionErrorCase("[9223372036854775808]", at: 1, "integer literal is out of the 64-bit range"),
    ExpressionErrorCase("[-]", at: 1, "expected digits after '-'"),
    ExpressionErrorCase("[concat(\"a\")]", at: 8, "string literals use single quotes, not '\"'"),
    ExpressionErrorCase("[concat('a', @)]", at: 13, "expected an expression, found '@'"),
    // Offsets count UTF-8 bytes: `é` is two.
    ExpressionErrorCase("[concat('é', x)]", at: 14, "'x' is not a value; function calls need parentheses, e.g. 'x()'"),
]

@Suite("Expression parser")
struct ExpressionParserTests {
    @Test("template strings parse to literals or expression trees", arguments: parseCases)
    func parses(_ c: ExpressionParseCase) throws {
        #expect(try TemplateString.parse(c.text) == c.expected)
    }

    @Test("syntax errors carry the exact offset and message", arguments: syntaxErrorCases)
    func syntaxError(_ c: ExpressionErrorCase) {
        #expect(throws: ExpressionError(expression: c.template, offset: c.offset, message: c.message)) {
            try TemplateString.parse(c.template)
        }
    }

    @Test("a string without the closing bracket is literal text, not a broken expression")
    func unclosedIsLiteral() throws {
        #expect(try TemplateString.parse("[concat('a', 'b'") == .literal("[concat('a', 'b'"))
        #expect(!TemplateString.isExpression("[concat('a', 'b'"))
        #expect(TemplateString.isExpression("[x]"))
        #expect(!TemplateString.isExpression("[[x]"))
    }

    @Test("bare expressions parse with offsets relative to their own text")
    func bareExpression() throws {
        let parsed = try Expression.parse("toLower( 'A' )")
        #expect(parsed == .call(name: "toLower", arguments: [.string("A", position: 9)], position: 0))
        #expect(parsed.position == 0)
        #expect(
            throws: ExpressionError(
                expression: "concat(", offset: 7, message: "expected an expression, found end of expression")
        ) {
            try Expression.parse("concat(")
        }
    }

    @Test(
        "the canonical description round-trips",
        arguments: [
            "concat(if(contains(toLower(parameters('t')), toLower('connectedclusters')), 'a/', 'b/'), parameters('n'))",
            "parameters('x').a[0]['it''s']",
            "createArray(-1, 2, true(), null())",
        ])
    func roundTrip(_ text: String) throws {
        let parsed = try Expression.parse(text)
        #expect(parsed.description == text)
        #expect(try Expression.parse(parsed.description) == parsed)
    }

    @Test("nesting deeper than the limit is rejected, not a stack overflow")
    func deepNesting() {
        let depth = 200
        let text = "[" + String(repeating: "not(", count: depth) + "true()" + String(repeating: ")", count: depth) + "]"
        #expect(throws: ExpressionError.self) { try TemplateString.parse(text) }
        let fine = "[" + String(repeating: "not(", count: 50) + "true()" + String(repeating: ")", count: 50) + "]"
        #expect(throws: Never.self) { try TemplateString.parse(fine) }
    }

    @Test("error descriptions show the message, the offset and the text")
    func errorDescription() {
        let error = ExpressionError(expression: "[concat('a]", offset: 8, message: "unterminated string literal")
        #expect(error.description == #"unterminated string literal (at offset 8 in "[concat('a]")"#)
        #expect(error.caretDiagnostic == "[concat('a]\n        ^")
        let twoSuggestions = ExpressionError(
            expression: "[x()]", offset: 1, message: "unknown function 'x'", suggestions: ["a", "b"])
        #expect(twoSuggestions.description.hasPrefix("unknown function 'x'; did you mean 'a' or 'b'? "))
    }
}
