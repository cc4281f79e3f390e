import FleetCore

/// `not`, `bool` and the ordering comparisons (`less`, `greater`, …).
enum LogicFunctions {
    /// `not(bool)`.
    static func not(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        .bool(!(try a.bool(0)))
    }

    /// `bool(value)`: a bool as is; a string is true iff it equals `true` ignoring case (ARM treats
    /// every other string as false); an int is false iff 0.
    static func bool(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .bool(let b): return .bool(b)
        case .string(let s): return .bool(ASCII.equalsIgnoringCase(ExpressionValues.trim(s), "true"))
        case .number(let n):
            guard let v = ExpressionValues.integer(n) else { throw a.typeError(0, expected: "a string or an int") }
            return .bool(v != 0)
        default: throw a.typeError(0, expected: "a string or an int")
        }
    }

    /// Compares two ints (or numbers) or two strings, returning -1, 0 or 1.
    ///
    /// Strings compare ordinally (UTF-16 code units, case-sensitive). Mixed types are an error, as in Azure.
    static func compare(_ a: FunctionArguments) throws(ExpressionError) -> Int {
        switch (a[0], a[1]) {
        case (.number(let x), .number(let y)):
            if let i = ExpressionValues.integer(x), let j = ExpressionValues.integer(y) {
                return i < j ? -1 : (i == j ? 0 : 1)
            }
            let (i, j) = (x.doubleValue, y.doubleValue)
            return i < j ? -1 : (i == j ? 0 : 1)
        case (.string(let x), .string(let y)):
            if x.utf16.elementsEqual(y.utf16) { return 0 }
            return x.utf16.lexicographicallyPrecedes(y.utf16) ? -1 : 1
        default:
            throw a.fail(
                "can only compare two ints or two strings, got \(ExpressionValues.typeName(a[0])) and "
                    + ExpressionValues.typeName(a[1]))
        }
    }
}

/// Integer arithmetic and `int`, `min`, `max`, `range`; ARM integers are 64-bit and overflow is an error.
enum NumericFunctions {
    /// `add(a, b)`.
    static func add(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        try checked(a, try a.integer(0).addingReportingOverflow(try a.integer(1)))
    }

    /// `sub(a, b)`.
    static func sub(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        try checked(a, try a.integer(0).subtractingReportingOverflow(try a.integer(1)))
    }

    /// `mul(a, b)`.
    static func mul(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        try checked(a, try a.integer(0).multipliedReportingOverflow(by: try a.integer(1)))
    }

    /// `div(a, b)`: integer division truncating toward zero; dividing by zero is an error.
    static func div(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let (x, y) = (try a.integer(0), try a.integer(1))
        if y == 0 { throw a.fail("cannot divide by zero") }
        return try checked(a, x.dividedReportingOverflow(by: y))
    }

    /// `mod(a, b)`: the remainder, with the sign of the dividend (as in .NET).
    static func mod(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let (x, y) = (try a.integer(0), try a.integer(1))
        if y == 0 { throw a.fail("cannot divide by zero") }
        return try checked(a, x.remainderReportingOverflow(dividingBy: y))
    }

    private static func checked(
        _ a: FunctionArguments,
        _ result: (partialValue: Int64, overflow: Bool)
    ) throws(ExpressionError) -> JSON {
        if result.overflow { throw a.fail("overflows a 64-bit integer") }
        return .number(.int(result.partialValue))
    }

    /// `int(value)`: an integer from a string (decimal, optional sign, surrounding spaces allowed) or
    /// from a number without fraction; a fractional number is an error rather than silently rounded.
    static func int(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .number(let n):
            guard let v = ExpressionValues.integer(n) else { throw a.fail("cannot convert \(n) to an int") }
            return .number(.int(v))
        case .string(let s):
            var text = Substring(ExpressionValues.trim(s))
            if text.hasPrefix("+") { text = text.dropFirst() }
            guard let v = Int64(text) else { throw a.fail("cannot convert '\(s)' to an int") }
            return .number(.int(v))
        default:
            throw a.typeError(0, expected: "a string or an int")
        }
    }

    /// `min(…)`: the smallest of ints given directly or as arrays.
    static func min(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        .number(.int(try integers(a).min()!))
    }

    /// `max(…)`: the largest of ints given directly or as arrays.
    static func max(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        .number(.int(try integers(a).max()!))
    }

    private static func integers(_ a: FunctionArguments) throws(ExpressionError) -> [Int64] {
        var result: [Int64] = []
        for i in 0..<a.count {
            switch a[i] {
            case .number(let n):
                guard let v = ExpressionValues.integer(n) else { throw a.typeError(i, expected: "an int") }
                result.append(v)
            case .array(let items):
                for item in items {
                    guard case .number(let n) = item, let v = ExpressionValues.integer(n) else {
                        throw a.fail(
                            "expects arrays of ints, found \(ExpressionValues.typeName(item)) in argument \(i + 1)")
                    }
                    result.append(v)
                }
            default:
                throw a.typeError(i, expected: "an int or an array of ints")
            }
        }
        if result.isEmpty { throw a.fail("needs at least one value") }
        return result
    }

    /// `range(startIndex, count)`: `count` consecutive ints; ARM limits count to 10 000 and the end to 2^31 - 1.
    static func range(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let start = try a.integer(0)
        let count = try a.integer(1, in: 0...10_000, "a count")
        guard start + Int64(count) <= Int64(Int32.max) + 1, start >= Int64(Int32.min) else {
            throw a.fail("expects startIndex + count to be at most 2147483648")
        }
        return .array((0..<Int64(count)).map { .number(.int(start + $0)) })
    }
}
