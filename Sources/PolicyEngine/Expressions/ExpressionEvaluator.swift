import FleetCore

/// Evaluates template-language expressions against an ``ExpressionContext``.
///
/// Semantics follow ARM template functions (which Azure Policy reuses), notably:
/// - Function names are case-insensitive (`TOLOWER('A')` works).
/// - `if` is lazy: only the chosen branch is evaluated. `and` and `or` stop at the first argument
///   that decides the result, so later arguments are neither evaluated nor type-checked.
/// - `equals` compares strings **case-sensitively** (ARM's function), unlike Azure Policy's
///   condition operators (`"equals": …` in a rule), which ignore case; that is the condition
///   evaluator's job, not this function's.
/// - `contains` on strings is case-sensitive; on objects it looks keys up ignoring case; on arrays
///   it uses `equals`. `startsWith`, `endsWith`, `indexOf` and `lastIndexOf` ignore case (ARM).
/// - String lengths and indexes count UTF-16 code units, as .NET (ARM) does.
/// - `field(path)` returns `""` when the context has no value (`[]` for a path containing `[*]`),
///   Azure's documented value for a missing field.
/// - Property access (`.name`, `['name']`) matches member names exactly, then ignoring case; a
///   missing member or an index out of range is an error, as in ARM.
///
/// Errors carry the UTF-8 offset of the failing call in the source text.
public struct ExpressionEvaluator: Sendable {
    /// Creates an evaluator.
    public init() {}

    /// The canonical names of every supported function, sorted.
    public static var functionNames: [String] { FunctionCatalog.all.map(\.name).sorted() }

    /// Evaluates a parsed expression.
    ///
    /// - Parameters:
    ///   - expression: The expression, as parsed by ``TemplateString/parse(_:)`` or ``Expression/parse(_:)``.
    ///   - context: Where parameters, fields and the clock come from.
    ///   - source: The text `expression` was parsed from, copied into errors so their offsets make
    ///     sense; when nil, errors show the canonical form (``Expression/description``).
    /// - Returns: The value.
    /// - Throws: ``ExpressionError`` for unknown functions, wrong argument counts or types, missing
    ///   parameters and every other evaluation failure.
    public func evaluate(
        _ expression: Expression,
        context: some ExpressionContext,
        source: String? = nil
    ) throws(ExpressionError) -> JSON {
        let run = ExpressionRun(context: context, source: source ?? expression.description)
        return try run.evaluate(expression)
    }

    /// Evaluates a parsed template value: literal text becomes a JSON string.
    ///
    /// - Throws: ``ExpressionError`` as ``evaluate(_:context:source:)``.
    public func evaluate(
        _ value: TemplateValue,
        context: some ExpressionContext,
        source: String? = nil
    ) throws(ExpressionError) -> JSON {
        switch value {
        case .literal(let text): .string(text)
        case .expression(let expression): try evaluate(expression, context: context, source: source)
        }
    }

    /// Parses and evaluates one JSON string value (`"[concat('a', 'b')]"` → `"ab"`, `"x"` → `"x"`).
    ///
    /// - Throws: ``ExpressionError`` for syntax or evaluation errors, located in `templateString`.
    public func evaluate(
        templateString: String,
        context: some ExpressionContext
    ) throws(ExpressionError) -> JSON {
        try evaluate(TemplateString.parse(templateString), context: context, source: templateString)
    }

    /// Checks, without evaluating, that every function exists and gets an acceptable number of arguments.
    ///
    /// Use it when loading a definition, to report unknown functions before any resource is evaluated.
    /// - Throws: ``ExpressionError`` for the first unknown function or wrong argument count.
    public func validate(_ expression: Expression, source: String? = nil) throws(ExpressionError) {
        let text = source ?? expression.description
        switch expression {
        case .string, .integer:
            return
        case .property(let base, _, _):
            try validate(base, source: text)
        case .index(let base, let key, _):
            try validate(base, source: text)
            try validate(key, source: text)
        case .call(let name, let arguments, let position):
            _ = try ExpressionRun<StaticExpressionContext>.resolve(
                name, argumentCount: arguments.count, position: position, source: text)
            for argument in arguments { try validate(argument, source: text) }
        }
    }
}

/// One evaluation: the context and the source text errors refer to.
struct ExpressionRun<Context: ExpressionContext> {
    let context: Context
    let source: String

    func fail(_ message: String, at position: Int, suggestions: [String] = []) -> ExpressionError {
        ExpressionError(expression: source, offset: position, message: message, suggestions: suggestions)
    }

    /// The deployment memo's symbol trap, when a template is evaluated with stand-in symbols.
    var trap: SymbolTrap? { (context as? StaticExpressionContext)?.symbolTrap }

    /// Fails when a function that looks into its arguments gets a stand-in symbol (see ``DeploymentMemo``).
    func checkSymbols(_ values: [JSON], of function: String, at position: Int) throws(ExpressionError) {
        guard let trap, !SymbolTrap.transparent.contains(function), trap.catches(values) else { return }
        throw fail("'\(function)' reads a stand-in value", at: position)
    }

    /// The spec for a call, after checking the name and the argument count.
    static func resolve(
        _ name: String,
        argumentCount: Int,
        position: Int,
        source: String
    ) throws(ExpressionError) -> FunctionSpec {
        guard let spec = FunctionCatalog.spec(name) else {
            throw ExpressionError(
                expression: source, offset: position, message: "unknown function '\(name)'",
                suggestions: FunctionCatalog.suggestions(for: name))
        }
        if argumentCount < spec.minimum || spec.maximum.map({ argumentCount > $0 }) ?? false {
            throw ExpressionError(
                expression: source, offset: position,
                message: "'\(spec.name)' \(spec.arityText), got \(argumentCount)")
        }
        return spec
    }

    func evaluate(_ expression: Expression) throws(ExpressionError) -> JSON {
        switch expression {
        case .string(let value, _):
            return .string(value)
        case .integer(let value, _):
            return .number(.int(value))
        case .property(let base, let name, let position):
            return try member(of: evaluate(base), key: name, at: position)
        case .index(let base, let key, let position):
            let container = try evaluate(base)
            let index = try evaluate(key)
            try checkSymbols([index], of: "[]", at: position)
            switch (container, index) {
            case (.array(let items), .number(let n)):
                guard let i = ExpressionValues.integer(n), i >= 0, i < items.count else {
                    throw fail("index \(n) is out of range for an array of \(items.count) elements", at: position)
                }
                return items[Int(i)]
            case (.object, .string(let name)):
                return try member(of: container, key: name, at: position)
            default:
                throw fail(
                    "cannot index \(ExpressionValues.typeName(container)) with \(ExpressionValues.typeName(index))",
                    at: position)
            }
        case .call(let name, let arguments, let position):
            let spec = try Self.resolve(name, argumentCount: arguments.count, position: position, source: source)
            switch spec.kind {
            case .lazy:
                return try evaluateLazy(spec.name, arguments, at: position)
            case .context:
                return try evaluateContext(spec.name, arguments, at: position)
            case .pure(let body):
                var values: [JSON] = []
                values.reserveCapacity(arguments.count)
                for argument in arguments { values.append(try evaluate(argument)) }
                try checkSymbols(values, of: spec.name, at: position)
                return try body(
                    FunctionArguments(function: spec.name, position: position, source: source, values: values))
            }
        }
    }

    private func member(of value: JSON, key: String, at position: Int) throws(ExpressionError) -> JSON {
        guard case .object(let members) = value else {
            throw fail("cannot read property '\(key)' of \(ExpressionValues.typeName(value))", at: position)
        }
        guard let found = ExpressionValues.member(key, of: members) else {
            let known = members.keys.sorted().prefix(10).map { "'\($0)'" }.joined(separator: ", ")
            throw fail(
                "the object has no property '\(key)'" + (known.isEmpty ? " (it is empty)" : " (it has \(known))"),
                at: position)
        }
        return found
    }

    private func bool(
        _ arguments: [Expression],
        _ index: Int,
        of function: String,
        at position: Int
    ) throws(ExpressionError) -> Bool {
        let value = try evaluate(arguments[index])
        guard case .bool(let b) = value else {
            throw fail(
                "'\(function)' expects argument \(index + 1) to be a bool, got \(ExpressionValues.typeName(value))",
                at: position)
        }
        return b
    }

    private func evaluateLazy(
        _ function: String,
        _ arguments: [Expression],
        at position: Int
    ) throws(ExpressionError) -> JSON {
        switch function {
        case "if":
            let condition = try bool(arguments, 0, of: function, at: position)
            return try evaluate(condition ? arguments[1] : arguments[2])
        case "and":
            for i in arguments.indices {
                if try !bool(arguments, i, of: function, at: position) { return .bool(false) }
            }
            return .bool(true)
        default:  // "or"
            for i in arguments.indices {
                if try bool(arguments, i, of: function, at: position) { return .bool(true) }
            }
            return .bool(false)
        }
    }

    private func stringArgument(
        _ arguments: [Expression],
        _ function: String,
        at position: Int
    ) throws(ExpressionError) -> String {
        let value = try evaluate(arguments[0])
        guard case .string(let s) = value else {
            throw fail(
                "'\(function)' expects argument 1 to be a string, got \(ExpressionValues.typeName(value))",
                at: position)
        }
        try checkSymbols([value], of: function, at: position)
        return s
    }

    private func evaluateContext(
        _ function: String,
        _ arguments: [Expression],
        at position: Int
    ) throws(ExpressionError) -> JSON {
        switch function {
        case "parameters":
            let name = try stringArgument(arguments, function, at: position)
            guard let value = context.parameter(name) else {
                throw fail("parameter '\(name)' is not defined", at: position)
            }
            return value
        case "variables":
            let name = try stringArgument(arguments, function, at: position)
            guard let value = context.variable(name) else {
                throw fail("variable '\(name)' is not defined", at: position)
            }
            return value
        case "field":
            let path = try stringArgument(arguments, function, at: position)
            let value: JSON?
            do {
                value = try context.field(path)
            } catch {
                throw fail("field '\(path)' cannot be read: \(error)", at: position)
            }
            return value ?? (path.contains("[*]") ? .array([]) : .string(""))
        case "current":
            let name = arguments.isEmpty ? nil : try stringArgument(arguments, function, at: position)
            guard let value = context.current(name) else {
                let loop = name.map { "named '\($0)'" } ?? "at all"
                throw fail("'current' is used outside a count loop \(loop)", at: position)
            }
            return value
        case "resourceGroup":
            guard let value = context.resourceGroup() else {
                throw fail("'resourceGroup' is not available in this context", at: position)
            }
            return value
        case "subscription":
            guard let value = context.subscription() else {
                throw fail("'subscription' is not available in this context", at: position)
            }
            return value
        default:  // "utcNow"
            let now = context.utcNow()
            guard !arguments.isEmpty else { return .string(now) }
            let format = try stringArgument(arguments, function, at: position)
            let call = FunctionArguments(function: function, position: position, source: source, values: [])
            return .string(try DateFunctions.format(now, with: format, call))
        }
    }
}
