import FleetCore

/// The effects Azure Policy knows (compared ignoring case).
let knownPolicyEffects = [
    "addToNetworkGroup", "append", "audit", "auditIfNotExists", "deny", "denyAction", "deployIfNotExists",
    "disabled", "manual", "modify", "mutate",
]

extension PolicyLoadSession {
    // MARK: - Definitions

    mutating func readDefinition(_ document: DocumentIdentity) {
        let properties = document.properties
        let id = document.id ?? "/providers/Microsoft.Authorization/policyDefinitions/" + document.name
        let isNew = register(.definition, id: id, at: document.node.source)
        let displayName = optionalString(properties, "displayName")
        let mode = optionalString(properties, "mode")
        let category = properties.member("metadata").flatMap { optionalString($0, "category") }
        let parameters = readParameters(properties.member("parameters"))
        let hint =
            properties.member("policyDefinitions") != nil
            ? "this looks like an initiative: move it to initiatives/" : nil
        let rule = required(properties, "policyRule", .object, hint: hint)
        let condition = rule.flatMap { required($0, "if", .object) }
        let then = rule.flatMap { required($0, "then", .object) }
        if let then, let effect = required(then, "effect", .string) {
            checkEffect(effect)
        }
        let scope = PolicyExpressionScope(
            owner: "the definition's parameters", parameters: parameters.all.map(\.name), variables: nil)
        if let condition { checkExpressions(in: condition, scope: scope, aliases: true) }
        if let then { checkThen(then, scope: scope) }
        guard let condition, let then else {
            incompleteIds.insert(ASCII.lowercased(id))
            return
        }
        guard isNew else { return }
        definitions[ASCII.lowercased(id)] = PolicyDefinition(
            id: id, name: document.name, displayName: displayName, mode: mode, parameters: parameters,
            condition: condition.materialize(), then: then.materialize(), source: properties.source,
            category: category)
    }

    /// Reports a literal effect that Azure does not know (expressions are checked elsewhere).
    mutating func checkEffect(_ node: PolicyNode) {
        guard let effect = node.string, !TemplateString.isExpression(effect) else { return }
        guard !knownPolicyEffects.contains(where: { ASCII.equalsIgnoringCase($0, effect) }) else { return }
        log.error(
            node.source, "unknown effect '\(effect)'",
            suggestion: PolicyNearMiss.suggestion(effect, among: knownPolicyEffects)
                ?? "use one of \(PolicyIds.list(knownPolicyEffects))")
    }

    /// Reads parameter declarations, reporting unknown types and defaults that do not fit them.
    mutating func readParameters(_ node: PolicyNode?) -> PolicyParameters {
        var result = PolicyParameters()
        guard let node, !node.isNull else { return result }
        guard node.isObject else {
            log.error(node.source, "'parameters' must be an object, got \(node.kind.rawValue)")
            return result
        }
        let typeNames = PolicyParameterType.allCases.map(\.rawValue)
        for (name, declaration) in node.members {
            if result[name] != nil {
                log.error(declaration.source, "parameter '\(name)' is declared twice (parameter names ignore case)")
            }
            guard declaration.isObject else {
                log.error(declaration.source, "parameter '\(name)' must be an object, got \(declaration.kind.rawValue)")
                continue
            }
            var type: PolicyParameterType?
            if let typeNode = required(declaration, "type", .string), let typeName = typeNode.string {
                type = PolicyParameterType(name: typeName)
                if type == nil {
                    log.error(
                        typeNode.source, "unknown parameter type '\(typeName)'",
                        suggestion: PolicyNearMiss.suggestion(typeName, among: typeNames)
                            ?? "use one of \(PolicyIds.list(typeNames))")
                }
            }
            var allowedValues: [JSON]?
            if let allowed = declaration.member("allowedValues"), !allowed.isNull {
                if allowed.isArray {
                    allowedValues = allowed.elements.map { $0.materialize() }
                } else {
                    log.error(allowed.source, "'allowedValues' must be an array, got \(allowed.kind.rawValue)")
                }
            }
            let metadata = declaration.member("metadata").flatMap { $0.isObject ? $0 : nil }
            let defaultNode = declaration.member("defaultValue")
            let parameter = PolicyParameterDefinition(
                name: name, type: type ?? .string, defaultValue: defaultNode?.materialize(),
                allowedValues: allowedValues,
                strongType: metadata.flatMap { optionalString($0, "strongType") },
                displayName: metadata.flatMap { optionalString($0, "displayName") }, source: declaration.source)
            if type != nil, let defaultNode,
                let problem = ParameterValueCheck.problem(
                    defaultNode.materialize(), for: parameter, subject: "the defaultValue of parameter '\(name)'")
            {
                log.error(defaultNode.source, problem.message, suggestion: problem.suggestion)
            }
            result.add(parameter)
        }
        return result
    }

    // MARK: - Initiatives

    mutating func readInitiative(_ document: DocumentIdentity) {
        let properties = document.properties
        let id = document.id ?? "/providers/Microsoft.Authorization/policySetDefinitions/" + document.name
        let isNew = register(.initiative, id: id, at: document.node.source)
        let displayName = optionalString(properties, "displayName")
        let parameters = readParameters(properties.member("parameters"))
        var groups: [String]?
        if properties.member("policyDefinitionGroups") != nil {
            groups = optionalObjects(properties, "policyDefinitionGroups").compactMap { group in
                required(group, "name", .string)?.string
            }
        }
        let hint =
            properties.member("policyRule") != nil
            ? "this looks like a policy definition: move it to definitions/" : nil
        guard let list = required(properties, "policyDefinitions", .array, hint: hint) else {
            incompleteIds.insert(ASCII.lowercased(id))
            return
        }
        let scope = PolicyExpressionScope(
            owner: "the initiative's parameters", parameters: parameters.all.map(\.name), variables: nil)
        var references: [PolicyDefinitionReference] = []
        var nodes: [PolicyNode] = []
        var referenceIds: [String: PolicySource] = [:]
        for node in list.elements {
            guard node.isObject else {
                log.error(node.source, "a policyDefinitions entry must be an object, got \(node.kind.rawValue)")
                continue
            }
            guard let definitionId = required(node, "policyDefinitionId", .string)?.string else { continue }
            let referenceId =
                optionalString(node, "policyDefinitionReferenceId") ?? PolicyIds.lastSegment(definitionId)
            let referenceSource = node.member("policyDefinitionReferenceId")?.source ?? node.source
            if let first = referenceIds[ASCII.lowercased(referenceId)] {
                log.error(
                    referenceSource,
                    "duplicate policyDefinitionReferenceId '\(referenceId)' (reference ids ignore case)",
                    suggestion: "it is also used at \(first.path); give each reference its own "
                        + "policyDefinitionReferenceId")
            } else {
                referenceIds[ASCII.lowercased(referenceId)] = referenceSource
            }
            let values = readParameterEntries(node.member("parameters"))
            if let entries = node.member("parameters") {
                checkExpressions(in: entries, scope: scope, aliases: false)
            }
            let groupNames = optionalStrings(node, "groupNames") ?? []
            if let groupNodes = node.member("groupNames"), groupNodes.isArray {
                for groupNode in groupNodes.elements {
                    guard let group = groupNode.string,
                        !(groups ?? []).contains(where: { ASCII.equalsIgnoringCase($0, group) })
                    else { continue }
                    log.error(
                        groupNode.source, "group '\(group)' is not declared in policyDefinitionGroups",
                        suggestion: PolicyNearMiss.suggestion(group, among: groups ?? [])
                            ?? "add {\"name\": \"\(group)\"} to policyDefinitionGroups")
                }
            }
            references.append(
                PolicyDefinitionReference(
                    policyDefinitionId: definitionId, referenceId: referenceId, parameters: values,
                    groupNames: groupNames, source: node.source))
            nodes.append(node)
        }
        guard isNew else { return }
        initiativeIndex[ASCII.lowercased(id)] = initiatives.count
        initiatives.append(
            LoadedInitiative(
                model: PolicySetDefinition(
                    id: id, name: document.name, displayName: displayName, parameters: parameters,
                    definitions: references, source: properties.source),
                properties: properties, referenceNodes: nodes))
    }

    // MARK: - Parameter entries

    /// Reads `{"name": {"value": …}}` entries (or secret references), reporting malformed ones.
    mutating func readParameterEntries(_ node: PolicyNode?) -> [String: JSON] {
        guard let node, !node.isNull else { return [:] }
        guard node.isObject else {
            log.error(node.source, "'parameters' must be an object, got \(node.kind.rawValue)")
            return [:]
        }
        var values: [String: JSON] = [:]
        for (name, entry) in node.members {
            checkEntryShape(entry, name: name)
            values[name] = entry.materialize()
        }
        return values
    }

    /// Reports an entry that is neither `{"value": …}` nor a well-formed secret reference.
    mutating func checkEntryShape(_ entry: PolicyNode, name: String) {
        guard entry.isObject else {
            log.error(
                entry.source, "parameter '\(name)' must be given as {\"value\": …}, got \(entry.kind.rawValue)",
                suggestion: "write \"\(name)\": {\"value\": \(PolicyIds.render(entry.materialize()))}")
            return
        }
        if entry.member("value") != nil { return }
        if let reference = entry.member("reference") {
            let keyVault = reference.isObject ? reference.member("keyVault") : nil
            let vaultId = keyVault.flatMap { $0.isObject ? $0.member("id")?.string : nil }
            let secretName = reference.isObject ? reference.member("secretName")?.string : nil
            if vaultId == nil || secretName == nil {
                log.error(
                    reference.source, "a Key Vault reference needs keyVault.id and secretName (strings)",
                    suggestion: "write {\"reference\": {\"keyVault\": {\"id\": \"<vault resource id>\"}, "
                        + "\"secretName\": \"…\"}}")
            }
            return
        }
        for form in ["fromEnv", "fromFile"] {
            guard let source = entry.member(form) else { continue }
            if (source.string ?? "").isEmpty {
                log.error(source.source, "'\(form)' must be a non-empty string")
            }
            return
        }
        let keys = entry.members.map(\.key)
        let nearMiss = PolicyNearMiss.best("value", among: keys).map { "found '\($0)': did you mean 'value'?" }
        log.error(
            entry.source, "parameter '\(name)' has no 'value'",
            suggestion: nearMiss
                ?? "write {\"value\": …}, or a secret reference ({\"reference\": …}, {\"fromEnv\": …} "
                + "or {\"fromFile\": …})")
    }
}
