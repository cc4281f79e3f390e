import FleetCore

/// The parameter types a deployment template may declare (names compared ignoring case).
enum TemplateParameterType: String, CaseIterable {
    case string
    case securestring
    case int
    case bool
    case object
    case secureobject
    case array

    init?(name: String) {
        guard let match = Self.allCases.first(where: { ASCII.equalsIgnoringCase($0.rawValue, name) }) else {
            return nil
        }
        self = match
    }

    /// Whether `value` fits the type; a secret reference fits only the secure types.
    func accepts(_ value: JSON) -> Bool {
        if SecretReference.isReference(value) { return self == .securestring || self == .secureobject }
        switch (self, value) {
        case (.string, .string), (.securestring, .string), (.bool, .bool), (.array, .array):
            return true
        case (.object, .object), (.secureobject, .object):
            return true
        case (.int, .number(let n)):
            return ExpressionValues.integer(n) != nil
        default:
            return false
        }
    }

    /// The type with an article, for messages.
    var described: String {
        switch self {
        case .string: "a string"
        case .securestring: "a secure string"
        case .int: "an int"
        case .bool: "a bool"
        case .object: "an object"
        case .secureobject: "a secure object"
        case .array: "an array"
        }
    }
}

/// Reads the inputs of a deployment: the values the policy passes, the template's parameters and variables.
enum TemplateInputs {
    /// Evaluates `deployment.properties.parameters` with the policy context.
    ///
    /// `{"value": …}` is evaluated (an expression that yields null gives null); `{"reference": …}` (a Key
    /// Vault reference) becomes `{"$secretReference": <the evaluated reference>}` and is never resolved.
    static func deploymentParameters(
        _ parameters: JSON?,
        at path: DeploymentPath,
        policy: some ExpressionContext
    ) throws(DeploymentError) -> [String: JSON] {
        guard let parameters, parameters != .null else { return [:] }
        guard case .object(let members) = parameters else {
            throw path.error("must be an object, got \(ExpressionValues.typeName(parameters))")
        }
        let walker = TemplateWalker(context: policy)
        var out: [String: JSON] = [:]
        for name in members.keys.sorted() {
            let entryPath = path.key(name)
            guard case .object(let entry) = members[name]! else {
                throw entryPath.error("a deployment parameter must be an object with 'value' or 'reference'")
            }
            if let (key, value) = member("value", of: entry) {
                out[name] = try walker.evaluate(value, at: entryPath.key(key)) ?? .null
            } else if let (key, reference) = member("reference", of: entry) {
                let referencePath = entryPath.key(key)
                let evaluated = try walker.evaluate(reference, at: referencePath) ?? .null
                try checkKeyVaultReference(evaluated, at: referencePath)
                out[name] = .object([SecretReference.key: evaluated])
            } else {
                throw entryPath.error("a deployment parameter must have 'value' or 'reference'")
            }
        }
        return out
    }

    /// Resolves the template's parameters: supplied values (matched ignoring case), else `defaultValue`.
    ///
    /// Default values may be expressions over other parameters; they are evaluated once their inputs are known.
    static func templateParameters(
        declarations: JSON?,
        at path: DeploymentPath,
        supplied: [String: JSON],
        suppliedPath: DeploymentPath,
        base: StaticExpressionContext
    ) throws(DeploymentError) -> [String: JSON] {
        let declared: [String: JSON]
        switch declarations {
        case nil, .null?: declared = [:]
        case .object(let members)?: declared = members
        case let other?: throw path.error("must be an object, got \(ExpressionValues.typeName(other))")
        }
        for name in supplied.keys.sorted() where !declared.keys.contains(where: { ASCII.equalsIgnoringCase($0, name) })
        {
            throw suppliedPath.key(name).error("the template declares no parameter '\(name)'")
        }
        var resolved: [String: JSON] = [:]
        var types: [String: TemplateParameterType] = [:]
        var pending: [(name: String, path: DeploymentPath, defaultValue: JSON)] = []
        for name in declared.keys.sorted() {
            let declarationPath = path.key(name)
            guard case .object(let declaration) = declared[name]! else {
                throw declarationPath.error("a parameter declaration must be an object")
            }
            guard let (typeKey, typeValue) = member("type", of: declaration) else {
                throw declarationPath.error("the parameter has no 'type'")
            }
            guard case .string(let typeName) = typeValue, let type = TemplateParameterType(name: typeName) else {
                throw declarationPath.key(typeKey).error(
                    "unsupported parameter type (supported: string, securestring, int, bool, object, secureobject, "
                        + "array)")
            }
            types[name] = type
            if let suppliedName = supplied.keys.sorted().first(where: { ASCII.equalsIgnoringCase($0, name) }) {
                let value = supplied[suppliedName]!
                guard type.accepts(value) else {
                    throw suppliedPath.key(suppliedName).error(
                        "template parameter '\(name)' expects \(type.described), got \(describe(value))")
                }
                resolved[name] = value
            } else if let (defaultKey, defaultValue) = member("defaultValue", of: declaration) {
                pending.append((name, declarationPath.key(defaultKey), defaultValue))
            } else {
                throw declarationPath.error("the parameter has no value and no defaultValue")
            }
        }
        try resolveInPasses(pending, into: &resolved, kind: "parameter") { resolved in
            var context = base
            context.parameters = resolved
            return context
        }
        for name in types.keys.sorted() {
            let (type, value) = (types[name]!, resolved[name]!)
            guard type.accepts(value) else {
                throw path.key(name).error(
                    "the defaultValue of '\(name)' is not \(type.described), it is \(describe(value))")
            }
        }
        return resolved
    }

    /// Evaluates the template's variables; a variable may use parameters and other variables.
    static func variables(
        _ declarations: JSON?,
        at path: DeploymentPath,
        context base: StaticExpressionContext
    ) throws(DeploymentError) -> [String: JSON] {
        let declared: [String: JSON]
        switch declarations {
        case nil, .null?: declared = [:]
        case .object(let members)?: declared = members
        case let other?: throw path.error("must be an object, got \(ExpressionValues.typeName(other))")
        }
        if let copy = declared.keys.first(where: { ASCII.equalsIgnoringCase($0, "copy") }) {
            throw path.key(copy).error("variable loops ('copy') are not supported")
        }
        var resolved: [String: JSON] = [:]
        let pending = declared.keys.sorted().map { (name: $0, path: path.key($0), defaultValue: declared[$0]!) }
        try resolveInPasses(pending, into: &resolved, kind: "variable") { resolved in
            var context = base
            context.variables = resolved
            return context
        }
        return resolved
    }

    /// Evaluates values that may refer to each other (JSON objects keep no order), repeating passes until
    /// every value is known or a pass makes no progress.
    private static func resolveInPasses(
        _ items: [(name: String, path: DeploymentPath, defaultValue: JSON)],
        into resolved: inout [String: JSON],
        kind: String,
        context: ([String: JSON]) -> StaticExpressionContext
    ) throws(DeploymentError) {
        var pending = items
        while !pending.isEmpty {
            var failures: [DeploymentError] = []
            var next: [(name: String, path: DeploymentPath, defaultValue: JSON)] = []
            for item in pending {
                do {
                    let walker = TemplateWalker(context: context(resolved))
                    resolved[item.name] = try walker.evaluate(item.defaultValue, at: item.path) ?? .null
                } catch {
                    failures.append(error)
                    next.append(item)
                }
            }
            if next.count == pending.count {
                let names = next.map(\.name)
                // Prefer an error that is not merely "uses another pending value".
                let root = failures.first { !refersToPending($0, names: names, kind: kind) }
                if let root { throw root }
                let list = names.map { "'\($0)'" }.joined(separator: ", ")
                throw DeploymentError(
                    path: failures[0].path, message: "\(kind)s refer to each other in a cycle: \(list)",
                    expressionError: failures[0].expressionError)
            }
            pending = next
        }
    }

    private static func refersToPending(_ error: DeploymentError, names: [String], kind: String) -> Bool {
        guard let message = error.expressionError?.message else { return false }
        return names.contains { name in
            ASCII.equalsIgnoringCase(message, "\(kind) '\(name)' is not defined")
        }
    }

    private static func checkKeyVaultReference(_ reference: JSON, at path: DeploymentPath) throws(DeploymentError) {
        guard case .object(let members) = reference else {
            throw path.error("a Key Vault reference must be an object, got \(ExpressionValues.typeName(reference))")
        }
        guard let (vaultKey, vault) = member("keyVault", of: members) else {
            throw path.error("a Key Vault reference needs 'keyVault' with the vault's 'id'")
        }
        guard case .object(let vaultMembers) = vault, let (_, id) = member("id", of: vaultMembers), case .string = id
        else {
            throw path.key(vaultKey).error("'keyVault' must be an object with a string 'id' (the vault resource id)")
        }
        guard let (_, secretName) = member("secretName", of: members), case .string = secretName else {
            throw path.error("a Key Vault reference needs a string 'secretName'")
        }
    }

    /// The member named `name` (exact, then ignoring case) with the key as written.
    static func member(_ name: String, of object: [String: JSON]) -> (key: String, value: JSON)? {
        if let exact = object[name] { return (name, exact) }
        guard let key = object.keys.sorted().first(where: { ASCII.equalsIgnoringCase($0, name) }) else { return nil }
        return (key, object[key]!)
    }

    /// The type of a value for messages; a secret reference is named as such (its content is not shown).
    static func describe(_ value: JSON) -> String {
        SecretReference.isReference(value) ? "a Key Vault reference" : ExpressionValues.typeName(value)
    }
}
