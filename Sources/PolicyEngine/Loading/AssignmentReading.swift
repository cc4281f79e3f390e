import FleetCore

/// Selector kinds of an assignment's `resourceSelectors`.
let resourceSelectorKinds = ["resourceLocation", "resourceType", "resourceWithoutLocation"]
/// Selector kinds of an assignment's `overrides`.
let overrideSelectorKinds = ["policyDefinitionReferenceId", "resourceLocation"]
/// Kinds of override.
let overrideKinds = ["policyEffect", "policyVersion"]

extension PolicyLoadSession {
    // MARK: - Assignments

    mutating func readAssignment(_ document: DocumentIdentity) {
        let properties = document.properties
        let scopeProperty = optionalString(properties, "scope")
        let marker = "/providers/Microsoft.Authorization/"
        var id = document.id
        if id == nil, let scopeProperty {
            id = PolicyIds.trimmingSlashes(scopeProperty) + marker + "policyAssignments/" + document.name
        }
        guard let id else {
            log.error(
                properties.source, "an assignment needs an 'id' or a 'scope'",
                suggestion: "add \"scope\": \"/subscriptions/<subscription id>\" to its properties")
            return
        }
        let scope = scopeProperty ?? PolicyIds.prefix(of: id, before: marker) ?? ""
        if scope.isEmpty {
            log.error(
                document.idSource, "cannot derive the assignment's scope from its id '\(id)'",
                suggestion: "set properties.scope, or use an id of the form <scope>\(marker)policyAssignments/<name>")
        }
        let isNew = register(.assignment, id: id, at: document.node.source)
        let definitionId = required(properties, "policyDefinitionId", .string)?.string
        let notScopes = optionalStrings(properties, "notScopes") ?? []
        let parameters = readParameterEntries(properties.member("parameters"))
        let enforcementMode = readEnforcementMode(properties)
        let resourceSelectors = readResourceSelectors(properties)
        let overrides = readOverrides(properties)
        let messages = readNonComplianceMessages(properties)
        guard let definitionId, !scope.isEmpty else {
            incompleteIds.insert(ASCII.lowercased(id))
            return
        }
        guard isNew else { return }
        assignments.append(
            LoadedAssignment(
                model: PolicyAssignment(
                    id: id, name: document.name, displayName: optionalString(properties, "displayName"),
                    scope: scope, notScopes: notScopes, policyDefinitionId: definitionId, parameters: parameters,
                    enforcementMode: enforcementMode, resourceSelectors: resourceSelectors, overrides: overrides,
                    nonComplianceMessages: messages, source: properties.source),
                properties: properties))
    }

    mutating func readEnforcementMode(_ properties: PolicyNode) -> EnforcementMode {
        guard let text = optionalString(properties, "enforcementMode") else { return .default }
        let modes: [EnforcementMode] = [.default, .doNotEnforce]
        if let mode = modes.first(where: { ASCII.equalsIgnoringCase($0.rawValue, text) }) { return mode }
        let names = modes.map(\.rawValue)
        log.error(
            properties.member("enforcementMode")?.source ?? properties.source, "unknown enforcementMode '\(text)'",
            suggestion: PolicyNearMiss.suggestion(text, among: names) ?? "use \(PolicyIds.list(names))")
        return .default
    }

    mutating func readSelectors(_ parent: PolicyNode, kinds: [String]) -> [PolicySelector] {
        var selectors: [PolicySelector] = []
        for node in optionalObjects(parent, "selectors") {
            guard let kindNode = required(node, "kind", .string), let written = kindNode.string else { continue }
            let kind = kinds.first { ASCII.equalsIgnoringCase($0, written) }
            if kind == nil {
                log.error(
                    kindNode.source, "unknown selector kind '\(written)'",
                    suggestion: PolicyNearMiss.suggestion(written, among: kinds) ?? "use \(PolicyIds.list(kinds))")
            }
            let included = optionalStrings(node, "in")
            let excluded = optionalStrings(node, "notIn")
            if (included == nil) == (excluded == nil) {
                log.error(node.source, "a selector needs exactly one of 'in' and 'notIn'")
            }
            selectors.append(PolicySelector(kind: kind ?? written, in: included, notIn: excluded))
        }
        return selectors
    }

    mutating func readResourceSelectors(_ properties: PolicyNode) -> [PolicyResourceSelector] {
        optionalObjects(properties, "resourceSelectors").map { node in
            let name = required(node, "name", .string)?.string ?? ""
            if node.member("selectors") == nil {
                log.error(node.source, "missing required member 'selectors'")
            }
            return PolicyResourceSelector(name: name, selectors: readSelectors(node, kinds: resourceSelectorKinds))
        }
    }

    mutating func readOverrides(_ properties: PolicyNode) -> [PolicyOverride] {
        optionalObjects(properties, "overrides").map { node in
            var kind = ""
            if let kindNode = required(node, "kind", .string), let written = kindNode.string {
                kind = overrideKinds.first { ASCII.equalsIgnoringCase($0, written) } ?? written
                if !overrideKinds.contains(kind) {
                    log.error(
                        kindNode.source, "unknown override kind '\(written)'",
                        suggestion: PolicyNearMiss.suggestion(written, among: overrideKinds)
                            ?? "use \(PolicyIds.list(overrideKinds))")
                }
            }
            let valueNode = required(node, "value", .string)
            if kind == "policyEffect", let valueNode { checkEffect(valueNode) }
            return PolicyOverride(
                kind: kind, value: valueNode?.string ?? "", selectors: readSelectors(node, kinds: overrideSelectorKinds)
            )
        }
    }

    mutating func readNonComplianceMessages(_ properties: PolicyNode) -> [String: String] {
        var messages: [String: String] = [:]
        for node in optionalObjects(properties, "nonComplianceMessages") {
            guard let message = required(node, "message", .string)?.string else { continue }
            messages[optionalString(node, "policyDefinitionReferenceId") ?? ""] = message
        }
        return messages
    }

    // MARK: - Exemptions

    mutating func readExemption(_ document: DocumentIdentity) {
        let properties = document.properties
        let marker = "/providers/Microsoft.Authorization/policyExemptions/"
        var id = document.id
        if id == nil, let scope = optionalString(properties, "scope") {
            id = PolicyIds.trimmingSlashes(scope) + marker + document.name
        }
        guard let id else {
            log.error(
                document.node.source, "an exemption needs an 'id' (its scope is the part before \(marker))",
                suggestion: "wrap it as {\"id\": \"<scope>\(marker)\(document.name)\", \"properties\": {…}}")
            return
        }
        let scope = PolicyIds.prefix(of: id, before: marker) ?? ""
        if scope.isEmpty {
            log.error(
                document.idSource, "cannot derive the exemption's scope from its id '\(id)'",
                suggestion: "use an id of the form <scope>\(marker)<name>")
        }
        let isNew = register(.exemption, id: id, at: document.node.source)
        let assignmentId = required(properties, "policyAssignmentId", .string)?.string
        let referenceIds = optionalStrings(properties, "policyDefinitionReferenceIds") ?? []
        var category: ExemptionCategory?
        if let categoryNode = required(properties, "exemptionCategory", .string), let text = categoryNode.string {
            let categories: [ExemptionCategory] = [.waiver, .mitigated]
            category = categories.first { ASCII.equalsIgnoringCase($0.rawValue, text) }
            if category == nil {
                let names = categories.map(\.rawValue)
                log.error(
                    categoryNode.source, "unknown exemptionCategory '\(text)'",
                    suggestion: PolicyNearMiss.suggestion(text, among: names) ?? "use \(PolicyIds.list(names))")
            }
        }
        let expiresOn = optionalString(properties, "expiresOn")
        if let expiresOn, !Self.looksLikeTimestamp(expiresOn) {
            log.error(
                properties.member("expiresOn")?.source ?? properties.source,
                "expiresOn '\(expiresOn)' is not an ISO 8601 date-time",
                suggestion: "write it like 2025-12-31T00:00:00Z")
        }
        guard let assignmentId, let category, !scope.isEmpty else {
            incompleteIds.insert(ASCII.lowercased(id))
            return
        }
        guard isNew else { return }
        // Selectors narrow what an exemption covers; applying it without them would exempt more
        // than the author meant, so such an exemption is not applied at all until they are supported.
        if let selectors = properties.member("resourceSelectors"), !selectors.isNull, selectors.value.count > 0 {
            log.error(
                selectors.source,
                "exemption resourceSelectors are not supported yet; the exemption would cover more than intended, so it is not applied",
                suggestion: "narrow the exemption's scope (its id) instead of using resourceSelectors")
            return
        }
        exemptions.append(
            LoadedExemption(
                model: PolicyExemption(
                    id: id, name: document.name, scope: scope, policyAssignmentId: assignmentId,
                    policyDefinitionReferenceIds: referenceIds, category: category, expiresOn: expiresOn,
                    source: properties.source),
                properties: properties))
    }

    /// `YYYY-MM-DD`, optionally followed by `T` and a time.
    static func looksLikeTimestamp(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10 else { return false }
        for (index, byte) in bytes.prefix(10).enumerated() {
            let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            if index == 4 || index == 7 {
                if byte != UInt8(ascii: "-") { return false }
            } else if !isDigit {
                return false
            }
        }
        return bytes.count == 10 || bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t")
    }
}
