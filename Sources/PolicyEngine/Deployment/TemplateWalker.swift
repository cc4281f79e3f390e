import FleetCore

/// A rendered JSON path inside a policy rule, such as `details.deployment.properties.template.resources[0]`.
struct DeploymentPath: Sendable, CustomStringConvertible {
    /// The steps below `details.deployment`; rendered only when an error needs the text.
    private let components: [JSONPathComponent]

    /// The root every deployment path starts from.
    static let deployment = DeploymentPath(components: [])

    /// The rendered path.
    var description: String { JSONPathComponent.render(components, root: "details.deployment") }

    /// The path of an object member (names that are not plain identifiers are bracketed and quoted).
    func key(_ name: String) -> DeploymentPath { DeploymentPath(components: components + [.key(name)]) }

    /// The path of an array element.
    func index(_ position: Int) -> DeploymentPath { DeploymentPath(components: components + [.index(position)]) }

    /// An error at this path.
    func error(_ message: String, _ expressionError: ExpressionError? = nil) -> DeploymentError {
        DeploymentError(path: description, message: message, expressionError: expressionError)
    }
}

/// Evaluates template strings in a JSON tree like ``evaluateTemplate(_:context:)``, but reports the path
/// of the value that failed.
///
/// Same rules: expressions in values and object keys are evaluated; an object member whose expression
/// evaluates to null is omitted; literal nulls and array elements are kept; results are not re-evaluated.
struct TemplateWalker<Context: ExpressionContext> {
    let context: Context
    private let evaluator = ExpressionEvaluator()

    init(context: Context) {
        self.context = context
    }

    /// The evaluated tree, or nil when `value` is an expression that evaluates to null.
    func evaluate(_ value: JSON, at path: DeploymentPath) throws(DeploymentError) -> JSON? {
        switch value {
        case .string(let text):
            let result = try evaluate(string: text, at: path)
            return result == .null && TemplateString.isExpression(text) ? nil : result
        case .array(let items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for (position, item) in items.enumerated() {
                out.append(try evaluate(item, at: path.index(position)) ?? .null)
            }
            return .array(out)
        case .object(let members):
            var out: [String: JSON] = [:]
            // Sorted, so that the first error reported is the same on every run.
            for key in members.keys.sorted() {
                let memberPath = path.key(key)
                let name = try evaluateKey(key, at: memberPath)
                guard let evaluated = try evaluate(members[key]!, at: memberPath) else { continue }
                if out[name] != nil {
                    throw memberPath.error("object key '\(name)' appears more than once after evaluation")
                }
                out[name] = evaluated
            }
            return .object(out)
        case .null, .bool, .number:
            return value
        }
    }

    /// The evaluated value of one template string (null stays null).
    func evaluate(string text: String, at path: DeploymentPath) throws(DeploymentError) -> JSON {
        do {
            return try evaluator.evaluate(templateString: text, context: context)
        } catch {
            throw path.error("cannot evaluate: \(error)", error)
        }
    }

    /// A value that must evaluate to a string, such as a resource `name`.
    func string(_ value: JSON, at path: DeploymentPath, what: String) throws(DeploymentError) -> String {
        let result = try evaluate(value, at: path) ?? .null
        guard case .string(let text) = result else {
            throw path.error("\(what) must be a string, got \(ExpressionValues.typeName(result))")
        }
        return text
    }

    private func evaluateKey(_ key: String, at path: DeploymentPath) throws(DeploymentError) -> String {
        let value = try evaluate(string: key, at: path)
        switch value {
        case .string(let text):
            return text
        case .number, .bool:
            return ExpressionValues.text(value)
        default:
            throw path.error("an object key must evaluate to a string, got \(ExpressionValues.typeName(value))")
        }
    }
}
