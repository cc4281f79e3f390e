import FleetCore

extension PolicyLoadSession {
    /// Checks what documents say about each other, once every file is read.
    mutating func checkReferences() {
        for initiative in initiatives {
            for (reference, node) in zip(initiative.model.definitions, initiative.referenceNodes) {
                checkReference(reference, node: node)
            }
        }
        for assignment in assignments { checkAssignment(assignment) }
        for exemption in exemptions { checkExemption(exemption) }
    }

    private mutating func checkReference(_ reference: PolicyDefinitionReference, node: PolicyNode) {
        let key = ASCII.lowercased(reference.policyDefinitionId)
        guard let definition = definitions[key] else {
            if !incompleteIds.contains(key) {
                unknownId(
                    reference.policyDefinitionId, at: node.member("policyDefinitionId")?.source ?? node.source,
                    kind: .definition, candidates: definitions.values.map(\.id).sorted())
            }
            return
        }
        checkParameterValues(
            node.member("parameters"), owner: node, declared: definition.parameters,
            target: "definition '\(definition.name)'")
    }

    private mutating func checkAssignment(_ assignment: LoadedAssignment) {
        let properties = assignment.properties
        let target = assignment.model.policyDefinitionId
        let key = ASCII.lowercased(target)
        let referenceIds: [String]?
        if let definition = definitions[key] {
            checkParameterValues(
                properties.member("parameters"), owner: properties, declared: definition.parameters,
                target: "definition '\(definition.name)'")
            referenceIds = nil
        } else if let index = initiativeIndex[key] {
            let initiative = initiatives[index].model
            checkParameterValues(
                properties.member("parameters"), owner: properties, declared: initiative.parameters,
                target: "initiative '\(initiative.name)'")
            referenceIds = initiative.definitions.map(\.referenceId)
        } else {
            if !incompleteIds.contains(key) {
                unknownId(
                    target, at: properties.member("policyDefinitionId")?.source ?? properties.source,
                    kind: .definition,
                    candidates: definitions.values.map(\.id).sorted() + initiatives.map(\.model.id))
            }
            return
        }
        for override in properties.member("overrides")?.elements ?? [] {
            for selector in override.member("selectors")?.elements ?? [] {
                guard let kind = selector.member("kind")?.string,
                    ASCII.equalsIgnoringCase(kind, "policyDefinitionReferenceId")
                else { continue }
                for list in [selector.member("in"), selector.member("notIn")].compactMap(\.self) {
                    for value in list.elements {
                        checkReferenceId(value, among: referenceIds)
                    }
                }
            }
        }
        for message in properties.member("nonComplianceMessages")?.elements ?? [] {
            if let value = message.member("policyDefinitionReferenceId"), !value.isNull {
                checkReferenceId(value, among: referenceIds)
            }
        }
    }

    private mutating func checkExemption(_ exemption: LoadedExemption) {
        let properties = exemption.properties
        let key = ASCII.lowercased(exemption.model.policyAssignmentId)
        guard let assignment = assignments.first(where: { ASCII.lowercased($0.model.id) == key })?.model else {
            if !incompleteIds.contains(key) {
                unknownId(
                    exemption.model.policyAssignmentId,
                    at: properties.member("policyAssignmentId")?.source ?? properties.source, kind: .assignment,
                    candidates: assignments.map(\.model.id))
            }
            return
        }
        let scope = ASCII.lowercased(exemption.model.scope)
        let assignmentScope = ASCII.lowercased(PolicyIds.trimmingSlashes(assignment.scope))
        let validatesScope = !ASCII.equalsIgnoringCase(
            properties.member("assignmentScopeValidation")?.string ?? "", "DoNotValidate")
        if validatesScope, scope != assignmentScope, !scope.hasPrefix(assignmentScope + "/") {
            log.warning(
                properties.member("policyAssignmentId")?.source ?? properties.source,
                "the exemption's scope '\(exemption.model.scope)' is not at or below the assignment's scope "
                    + "'\(assignment.scope)', so it exempts nothing",
                suggestion: "move the exemption under the assignment's scope")
        }
        let target = ASCII.lowercased(assignment.policyDefinitionId)
        let referenceIds: [String]?
        if let index = initiativeIndex[target] {
            referenceIds = initiatives[index].model.definitions.map(\.referenceId)
        } else if definitions[target] != nil {
            referenceIds = nil
        } else {
            return  // The assignment's own target is unknown: reported with the assignment.
        }
        for value in properties.member("policyDefinitionReferenceIds")?.elements ?? [] {
            checkReferenceId(value, among: referenceIds)
        }
    }

    /// Reports a reference id that the assigned initiative does not have (or any, for a definition).
    private mutating func checkReferenceId(_ node: PolicyNode, among referenceIds: [String]?) {
        guard let value = node.string else { return }
        guard let referenceIds else {
            log.error(
                node.source,
                "policyDefinitionReferenceId '\(value)' needs an initiative, but the assignment "
                    + "assigns a single policy definition",
                suggestion: "remove it, or assign an initiative")
            return
        }
        guard !referenceIds.contains(where: { ASCII.equalsIgnoringCase($0, value) }) else { return }
        log.error(
            node.source, "unknown policyDefinitionReferenceId '\(value)'",
            suggestion: PolicyNearMiss.suggestion(value, among: referenceIds)
                ?? "the initiative's reference ids are \(PolicyIds.list(referenceIds))")
    }

    /// Checks given parameter values against their declarations.
    ///
    /// Reports unknown names, wrong types, values outside allowedValues (case-sensitive) and
    /// required parameters without a value. Expressions are not type-checked.
    private mutating func checkParameterValues(
        _ node: PolicyNode?, owner: PolicyNode, declared: PolicyParameters, target: String
    ) {
        var given: Set<String> = []
        if let node, node.isObject {
            for (name, entry) in node.members {
                guard let declaration = declared[name] else {
                    log.error(
                        entry.source, "parameter '\(name)' is not declared by \(target)",
                        suggestion: PolicyNearMiss.suggestion(name, among: declared.all.map(\.name))
                            ?? (declared.all.isEmpty
                                ? "it declares no parameters"
                                : "its parameters are \(PolicyIds.list(declared.all.map(\.name)))"))
                    continue
                }
                given.insert(ASCII.lowercased(declaration.name))
                guard entry.isObject, let value = entry.member("value") else { continue }
                if let problem = ParameterValueCheck.problem(
                    value.materialize(), for: declaration, subject: "the value of parameter '\(name)'")
                {
                    log.error(value.source, problem.message, suggestion: problem.suggestion)
                }
                if let why = LiteralSecretCheck.reason(name: declaration.name, value: value.materialize()) {
                    log.warning(
                        value.source,
                        "parameter '\(name)' is given a literal value that \(why); a literal travels into plans, "
                            + "reports and the compliance database (the value is not shown here)",
                        suggestion: LiteralSecretCheck.suggestion)
                }
            }
        }
        for declaration in declared.all where declaration.isRequired {
            guard !given.contains(ASCII.lowercased(declaration.name)) else { continue }
            log.error(
                (node ?? owner).source, "required parameter '\(declaration.name)' of \(target) has no value",
                suggestion: "add \"\(declaration.name)\": {\"value\": …} to "
                    + (node == nil ? "a 'parameters' object" : "'parameters'"))
        }
    }

    private mutating func unknownId(
        _ id: String, at source: PolicySource, kind: PolicyDocumentKind, candidates: [String]
    ) {
        var suggestion = PolicyNearMiss.suggestion(id, among: candidates)
        if suggestion == nil {
            let name = PolicyIds.lastSegment(id)
            suggestion = candidates.first { ASCII.equalsIgnoringCase(PolicyIds.lastSegment($0), name) }
                .map { "did you mean '\($0)'?" }
        }
        if suggestion == nil, !unreadableFiles.isEmpty {
            suggestion = "it may be in a file that could not be read: \(PolicyIds.list(unreadableFiles))"
        }
        let noun = kind == .assignment ? "policy assignment" : "policy definition or initiative"
        log.error(
            source, "unknown \(noun) id '\(id)'",
            suggestion: suggestion ?? "add the \(kind.noun) to \(kind.folder)/")
    }
}
