import FleetCore

/// What `parameters('…')` and `variables('…')` may name in one part of a document.
struct PolicyExpressionScope {
    /// Whose names these are, for messages: `the definition's parameters`.
    let owner: String
    /// The declared parameter names.
    let parameters: [String]
    /// The declared variable names, or nil where `variables()` is not available (policy rules).
    let variables: [String]?

    /// The scope of a deployment template: its own parameters and variables.
    static func template(_ template: PolicyNode) -> PolicyExpressionScope {
        let parameters = template.member("parameters").map { $0.members.map(\.key) } ?? []
        let variables = template.member("variables").map { $0.members.map(\.key) } ?? []
        return PolicyExpressionScope(
            owner: "the deployment template's parameters", parameters: parameters, variables: variables)
    }
}

extension PolicyLoadSession {
    /// Checks a definition's `then`: `details.deployment.properties.template` is the deployment
    /// template's scope; the rest (including the deployment's parameter values) is the policy's.
    mutating func checkThen(_ then: PolicyNode, scope: PolicyExpressionScope) {
        for (key, child) in then.members {
            guard ASCII.equalsIgnoringCase(key, "details"), child.isObject else {
                checkExpressions(in: child, scope: scope, aliases: true)
                continue
            }
            for (detailKey, detail) in child.members {
                guard ASCII.equalsIgnoringCase(detailKey, "deployment"), detail.isObject else {
                    checkExpressions(in: detail, scope: scope, aliases: true)
                    continue
                }
                for (deploymentKey, deploymentPart) in detail.members {
                    guard ASCII.equalsIgnoringCase(deploymentKey, "properties"), deploymentPart.isObject else {
                        checkExpressions(in: deploymentPart, scope: scope, aliases: false)
                        continue
                    }
                    for (propertyKey, property) in deploymentPart.members {
                        if ASCII.equalsIgnoringCase(propertyKey, "template"), property.isObject {
                            checkExpressions(in: property, scope: .template(property), aliases: false)
                        } else {
                            checkExpressions(in: property, scope: scope, aliases: false)
                        }
                    }
                }
            }
        }
    }

    /// Checks every string and object key under `node`; with `aliases`, also every `field` value.
    mutating func checkExpressions(in node: PolicyNode, scope: PolicyExpressionScope, aliases: Bool) {
        switch node.kind {
        case .string:
            checkTemplateString(node.string ?? "", at: node.source, scope: scope)
        case .array:
            for element in node.elements { checkExpressions(in: element, scope: scope, aliases: aliases) }
        case .object:
            for (key, child) in node.members {
                checkTemplateString(key, at: child.source, scope: scope)
                if aliases, ASCII.equalsIgnoringCase(key, "field"), let path = child.string,
                    !TemplateString.isExpression(path)
                {
                    checkAlias(path, at: child.source)
                }
                checkExpressions(in: child, scope: scope, aliases: aliases)
            }
        default:
            break
        }
    }

    mutating func checkAlias(_ path: String, at source: PolicySource) {
        guard let aliasValidator else { return }
        let answer = aliasValidator(path)
        guard !answer.known else { return }
        log.error(
            source, "unknown alias or field '\(path)'", suggestion: answer.suggestion.map { "did you mean '\($0)'?" })
    }

    /// Parses a template string; reports syntax errors, unknown functions, wrong argument counts
    /// and `parameters('x')` / `variables('x')` naming something that is not declared.
    mutating func checkTemplateString(_ text: String, at source: PolicySource, scope: PolicyExpressionScope) {
        guard text.utf8.first == UInt8(ascii: "[") else { return }
        let expression: Expression
        do throws(ExpressionError) {
            guard case .expression(let parsed) = try TemplateString.parse(text) else { return }
            expression = parsed
        } catch {
            report(error, at: source)
            return
        }
        do throws(ExpressionError) {
            try ExpressionEvaluator().validate(expression, source: text)
        } catch {
            report(error, at: source)
        }
        var names: [(function: String, name: String)] = []
        Self.collectNames(expression, into: &names)
        for (function, name) in names {
            if function == "parameters" {
                guard !scope.parameters.contains(where: { ASCII.equalsIgnoringCase($0, name) }) else { continue }
                log.error(
                    source, "parameter '\(name)' is not declared in \(scope.owner)",
                    suggestion: PolicyNearMiss.suggestion(name, among: scope.parameters)
                        ?? "declare it under 'parameters'")
            } else if let variables = scope.variables {
                guard !variables.contains(where: { ASCII.equalsIgnoringCase($0, name) }) else { continue }
                log.error(
                    source, "variable '\(name)' is not declared in the deployment template's variables",
                    suggestion: PolicyNearMiss.suggestion(name, among: variables) ?? "declare it under 'variables'")
            } else {
                log.error(
                    source, "'variables' cannot be used here: a policy rule has no variables",
                    suggestion: "use a parameter instead")
            }
        }
    }

    private mutating func report(_ error: ExpressionError, at source: PolicySource) {
        let suggestion = error.suggestions.isEmpty ? nil : "did you mean \(PolicyIds.list(error.suggestions))?"
        log.error(
            source, "invalid expression: \(error.message) (at offset \(error.offset) in \"\(error.expression)\")",
            suggestion: suggestion)
    }

    /// The literal names given to `parameters(…)` and `variables(…)` calls, in order.
    static func collectNames(_ expression: Expression, into names: inout [(function: String, name: String)]) {
        switch expression {
        case .string, .integer:
            return
        case .property(let base, _, _):
            collectNames(base, into: &names)
        case .index(let base, let key, _):
            collectNames(base, into: &names)
            collectNames(key, into: &names)
        case .call(let function, let arguments, _):
            let kind =
                ASCII.equalsIgnoringCase(function, "parameters")
                ? "parameters" : ASCII.equalsIgnoringCase(function, "variables") ? "variables" : nil
            if let kind, arguments.count == 1, case .string(let name, _) = arguments[0] {
                names.append((kind, name))
            }
            for argument in arguments { collectNames(argument, into: &names) }
        }
    }
}
