import FleetCore

/// The evaluated arguments of one function call, with typed accessors that throw ARM-style errors.
struct FunctionArguments {
    /// The function's canonical name, as spelled in the catalog (`toLower`).
    let function: String
    /// The UTF-8 offset of the call in `source`.
    let position: Int
    /// The text positions refer to.
    let source: String
    /// The argument values, in order.
    let values: [JSON]

    /// The number of arguments.
    var count: Int { values.count }

    /// The argument at `i` (0-based).
    subscript(_ i: Int) -> JSON { values[i] }

    /// An error located at this call, its message prefixed with the quoted function name.
    func fail(_ message: String) -> ExpressionError {
        ExpressionError(expression: source, offset: position, message: "'\(function)' \(message)")
    }

    /// The error for argument `i` having the wrong type.
    func typeError(_ i: Int, expected: String) -> ExpressionError {
        fail("expects argument \(i + 1) to be \(expected), got \(ExpressionValues.typeName(values[i]))")
    }

    /// Argument `i` as a string.
    func string(_ i: Int) throws(ExpressionError) -> String {
        guard case .string(let s) = values[i] else { throw typeError(i, expected: "a string") }
        return s
    }

    /// Argument `i` as a 64-bit integer (a double with no fraction counts).
    func integer(_ i: Int) throws(ExpressionError) -> Int64 {
        guard case .number(let n) = values[i], let v = ExpressionValues.integer(n) else {
            throw typeError(i, expected: "an int")
        }
        return v
    }

    /// Argument `i` as an `Int` that must be in `range` (`what` names it in the error).
    func integer(_ i: Int, in range: ClosedRange<Int64>, _ what: String) throws(ExpressionError) -> Int {
        let v = try integer(i)
        guard range.contains(v) else {
            throw fail("expects \(what) between \(range.lowerBound) and \(range.upperBound), got \(v)")
        }
        return Int(v)
    }

    /// Argument `i` as a bool.
    func bool(_ i: Int) throws(ExpressionError) -> Bool {
        guard case .bool(let b) = values[i] else { throw typeError(i, expected: "a bool") }
        return b
    }

    /// Argument `i` as an array.
    func array(_ i: Int) throws(ExpressionError) -> [JSON] {
        guard case .array(let a) = values[i] else { throw typeError(i, expected: "an array") }
        return a
    }

    /// Argument `i` as an object.
    func object(_ i: Int) throws(ExpressionError) -> [String: JSON] {
        guard case .object(let o) = values[i] else { throw typeError(i, expected: "an object") }
        return o
    }
}
