import FleetCore

/// Evaluates every template string in a JSON tree: values, array elements and object **keys**.
///
/// The rules, applied depth-first:
/// - A string value that is an expression (see ``TemplateString``) is replaced by its value; a
///   `"[[…"` string loses its first `[`; other strings, numbers, bools and literal nulls are kept.
/// - An object key is evaluated the same way (the built-ins key `kustomizations` by
///   `"[parameters('kustomizationName')]"`); it must produce a string, and two members must not end
///   up with the same key (an int or bool key is converted as `string()` does).
/// - **Null omission**: an object member whose value is an expression that evaluates to null
///   (typically `json('null')` or `null()`) is omitted, the way ARM leaves such a property out of a
///   deployment body. Members written as a literal JSON `null` are kept, and so are null array
///   elements (also those produced by an expression): only object members are ever removed.
/// - Values produced by expressions are not evaluated again (a parameter whose value is the text
///   `"[x]"` stays that text).
///
/// - Parameters:
///   - value: The tree, e.g. a deployment template's `resources` or a DINE deployment's `parameters`.
///   - context: Where parameters and the rest come from.
/// - Returns: The evaluated tree, or nil when `value` itself is an expression that evaluates to null.
/// - Throws: ``ExpressionError`` from the first failing string; its `expression` is that string.
public func evaluateTemplate(_ value: JSON, context: some ExpressionContext) throws(ExpressionError) -> JSON? {
    try ExpressionEvaluator().evaluateTemplate(value, context: context)
}

extension ExpressionEvaluator {
    /// Evaluates every template string in a JSON tree; see ``evaluateTemplate(_:context:)`` for the rules.
    ///
    /// - Returns: The evaluated tree, or nil when `value` itself is an expression that evaluates to null.
    /// - Throws: ``ExpressionError`` from the first failing string.
    public func evaluateTemplate(_ value: JSON, context: some ExpressionContext) throws(ExpressionError) -> JSON? {
        switch value {
        case .string(let text):
            let result = try evaluate(templateString: text, context: context)
            return result == .null && TemplateString.isExpression(text) ? nil : result
        case .array(let items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try evaluateTemplate(item, context: context) ?? .null) }
            return .array(out)
        case .object(let members):
            var out: [String: JSON] = [:]
            // Sorted, so that the first error reported is the same on every run.
            for key in members.keys.sorted() {
                let name = try evaluateKey(key, context: context)
                guard let evaluated = try evaluateTemplate(members[key]!, context: context) else { continue }
                if out[name] != nil {
                    throw ExpressionError(
                        expression: key, offset: 0, message: "object key '\(name)' appears more than once")
                }
                out[name] = evaluated
            }
            return .object(out)
        case .null, .bool, .number:
            return value
        }
    }

    private func evaluateKey(_ key: String, context: some ExpressionContext) throws(ExpressionError) -> String {
        let value = try evaluate(templateString: key, context: context)
        switch value {
        case .string(let s):
            return s
        case .number, .bool:
            return ExpressionValues.text(value)
        default:
            throw ExpressionError(
                expression: key, offset: TemplateString.isExpression(key) ? 1 : 0,
                message: "an object key must evaluate to a string, got \(ExpressionValues.typeName(value))")
        }
    }
}
