import FleetCore

/// One template function: canonical name, argument count, and how it is evaluated.
struct FunctionSpec: Sendable {
    /// How a function gets its arguments.
    enum Kind: Sendable {
        /// Reads the ``ExpressionContext`` (parameters, field, utcNow, …); handled by the evaluator.
        case context
        /// Evaluates its arguments itself, lazily (`if`, `and`, `or`); handled by the evaluator.
        case lazy
        /// A pure function of its evaluated arguments.
        case pure(@Sendable (FunctionArguments) throws(ExpressionError) -> JSON)
    }

    /// The canonical spelling (`toLower`).
    let name: String
    /// The fewest arguments accepted.
    let minimum: Int
    /// The most arguments accepted, or nil for any number.
    let maximum: Int?
    /// How it is evaluated.
    let kind: Kind

    /// `expects 2 arguments`, `expects 2 to 3 arguments`, `expects at least 1 argument`.
    var arityText: String {
        func plural(_ n: Int) -> String { n == 1 ? "1 argument" : "\(n) arguments" }
        switch maximum {
        case nil: return "expects at least \(plural(minimum))"
        case minimum?: return minimum == 0 ? "takes no arguments" : "expects \(plural(minimum))"
        case let maximum?: return "expects \(minimum) to \(plural(maximum))"
        }
    }
}

/// Every function the evaluator knows, keyed by lowercased name (names are case-insensitive).
enum FunctionCatalog {
    /// The specs by lowercased name.
    static let byLowercasedName: [String: FunctionSpec] = {
        var table: [String: FunctionSpec] = [:]
        for spec in all { table[spec.name.lowercased()] = spec }
        return table
    }()

    /// The spec for `name` in any case, or nil.
    static func spec(_ name: String) -> FunctionSpec? { byLowercasedName[name.lowercased()] }

    /// Known names within edit distance 2 of `name` (ignoring case), closest first, at most three.
    static func suggestions(for name: String) -> [String] {
        let query = Array(name.lowercased().unicodeScalars)
        var scored: [(Int, String)] = []
        for spec in all {
            let d = editDistance(query, Array(spec.name.lowercased().unicodeScalars), limit: 2)
            if d <= 2 { scored.append((d, spec.name)) }
        }
        scored.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return scored.prefix(3).map(\.1)
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
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMinimum = Swift.min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    private static func pure(
        _ name: String,
        _ minimum: Int,
        _ maximum: Int?,
        _ body: @escaping @Sendable (FunctionArguments) throws(ExpressionError) -> JSON
    ) -> FunctionSpec {
        FunctionSpec(name: name, minimum: minimum, maximum: maximum, kind: .pure(body))
    }

    /// The catalog, grouped as in the ARM function reference.
    static let all: [FunctionSpec] = [
        // Deployment and policy context.
        FunctionSpec(name: "parameters", minimum: 1, maximum: 1, kind: .context),
        FunctionSpec(name: "variables", minimum: 1, maximum: 1, kind: .context),
        FunctionSpec(name: "field", minimum: 1, maximum: 1, kind: .context),
        FunctionSpec(name: "current", minimum: 0, maximum: 1, kind: .context),
        FunctionSpec(name: "resourceGroup", minimum: 0, maximum: 0, kind: .context),
        FunctionSpec(name: "subscription", minimum: 0, maximum: 0, kind: .context),
        FunctionSpec(name: "utcNow", minimum: 0, maximum: 1, kind: .context),
        // Logical.
        FunctionSpec(name: "if", minimum: 3, maximum: 3, kind: .lazy),
        FunctionSpec(name: "and", minimum: 2, maximum: nil, kind: .lazy),
        FunctionSpec(name: "or", minimum: 2, maximum: nil, kind: .lazy),
        pure("not", 1, 1, LogicFunctions.not),
        pure("bool", 1, 1, LogicFunctions.bool),
        pure("true", 0, 0) { _ in .bool(true) },
        pure("false", 0, 0) { _ in .bool(false) },
        pure("null", 0, 0) { _ in .null },
        // Comparison.
        pure("equals", 2, 2) { a in .bool(ExpressionValues.equal(a[0], a[1])) },
        pure("less", 2, 2) { a throws(ExpressionError) in .bool(try LogicFunctions.compare(a) < 0) },
        pure("lessOrEquals", 2, 2) { a throws(ExpressionError) in .bool(try LogicFunctions.compare(a) <= 0) },
        pure("greater", 2, 2) { a throws(ExpressionError) in .bool(try LogicFunctions.compare(a) > 0) },
        pure("greaterOrEquals", 2, 2) { a throws(ExpressionError) in .bool(try LogicFunctions.compare(a) >= 0) },
        pure("coalesce", 1, nil, CollectionFunctions.coalesce),
        // Numeric.
        pure("add", 2, 2, NumericFunctions.add),
        pure("sub", 2, 2, NumericFunctions.sub),
        pure("mul", 2, 2, NumericFunctions.mul),
        pure("div", 2, 2, NumericFunctions.div),
        pure("mod", 2, 2, NumericFunctions.mod),
        pure("int", 1, 1, NumericFunctions.int),
        pure("min", 1, nil, NumericFunctions.min),
        pure("max", 1, nil, NumericFunctions.max),
        pure("range", 2, 2, NumericFunctions.range),
        // Arrays and objects.
        pure("concat", 1, nil, CollectionFunctions.concat),
        pure("contains", 2, 2, CollectionFunctions.contains),
        pure("empty", 1, 1, CollectionFunctions.empty),
        pure("length", 1, 1, CollectionFunctions.length),
        pure("first", 1, 1, CollectionFunctions.first),
        pure("last", 1, 1, CollectionFunctions.last),
        pure("take", 2, 2, CollectionFunctions.take),
        pure("skip", 2, 2, CollectionFunctions.skip),
        pure("union", 2, nil, CollectionFunctions.union),
        pure("intersection", 2, nil, CollectionFunctions.intersection),
        pure("createArray", 0, nil) { a in .array(a.values) },
        pure("createObject", 0, nil, CollectionFunctions.createObject),
        pure("array", 1, 1, CollectionFunctions.array),
        pure("json", 1, 1, CollectionFunctions.json),
        // Strings.
        pure("string", 1, 1) { a in .string(ExpressionValues.text(a[0])) },
        pure("toLower", 1, 1) { a throws(ExpressionError) in .string(ExpressionValues.lowercased(try a.string(0))) },
        pure("toUpper", 1, 1) { a throws(ExpressionError) in .string(ExpressionValues.uppercased(try a.string(0))) },
        pure("split", 2, 2, StringFunctions.split),
        pure("join", 2, 2, StringFunctions.join),
        pure("replace", 3, 3, StringFunctions.replace),
        pure("substring", 2, 3, StringFunctions.substring),
        pure("startsWith", 2, 2, StringFunctions.startsWith),
        pure("endsWith", 2, 2, StringFunctions.endsWith),
        pure("indexOf", 2, 2, StringFunctions.indexOf),
        pure("lastIndexOf", 2, 2, StringFunctions.lastIndexOf),
        pure("trim", 1, 1, StringFunctions.trim),
        pure("padLeft", 2, 3, StringFunctions.padLeft),
        pure("format", 1, nil, StringFunctions.format),
        // Encoding and identity.
        pure("base64", 1, 1, EncodingFunctions.base64),
        pure("base64ToString", 1, 1, EncodingFunctions.base64ToString),
        pure("base64ToJson", 1, 1, EncodingFunctions.base64ToJson),
        pure("uri", 2, 2, EncodingFunctions.uri),
        pure("uriComponent", 1, 1, EncodingFunctions.uriComponent),
        pure("uriComponentToString", 1, 1, EncodingFunctions.uriComponentToString),
        pure("uniqueString", 1, nil, EncodingFunctions.uniqueString),
        pure("guid", 1, nil, EncodingFunctions.guid),
        // Dates.
        pure("addDays", 2, 2, DateFunctions.addDays),
        pure("dateTimeAdd", 2, 3, DateFunctions.dateTimeAdd),
    ]
}
