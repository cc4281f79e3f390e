import FleetCore
import PolicyEngine

/// SARIF 2.1.0: one run, a rule per policy definition, a result per NonCompliant or Error result.
///
/// - Rule ids are the definition's name (its last id segment), or the whole id when two
///   definitions share a name; `helpUri` is the Azure portal page of a built-in definition (a
///   GUID name under `/providers/Microsoft.Authorization/policyDefinitions/`), left out otherwise.
/// - `level`: `error` for NonCompliant under an enforcing effect (Deny, DeployIfNotExists,
///   Modify) and for Error results; `warning` for NonCompliant under any other effect.
/// - Each result's location is a logical location whose `fullyQualifiedName` is the ARM id.
/// - `partialFingerprints["fluxfleet/v1"]` hashes resource, assignment and policy (ids lowercased),
///   so a finding keeps its fingerprint from run to run.
struct SARIFRenderer {
    let context: RenderContext

    init(_ context: RenderContext) { self.context = context }

    static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    /// Whether a definition id names an Azure built-in (a GUID under the tenant-level provider).
    static func builtInHelpURI(_ definitionId: String) -> String? {
        let prefix = "/providers/microsoft.authorization/policydefinitions/"
        let lowered = ASCII.lowercased(definitionId)
        guard lowered.hasPrefix(prefix) else { return nil }
        let name = lowered.dropFirst(prefix.count)
        let groups = name.split(separator: "-", omittingEmptySubsequences: false).map(\.count)
        guard groups == [8, 4, 4, 4, 12], name.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        let encoded = definitionId.replacing("/", with: "%2F")
        return "https://portal.azure.com/#view/Microsoft_Azure_Policy/PolicyDetailBlade/definitionId/\(encoded)"
    }

    func render() -> [UInt8] {
        let data = context.data
        var policies: [String: ReportPolicy] = [:]
        for policy in data.policies { policies[ASCII.lowercased(policy.id)] = policy }
        // Rules: one per definition, in first-seen order.
        // Rules: one per definition, in first-seen order (walking the summary's policies, which are
        // in first-seen order too); each policy of the summary maps to its definition's rule.
        var ruleOf: [String: Int] = [:]
        var ruleDefinitions: [String] = []
        var ruleReferences: [String?] = []
        var ruleOfPolicy: [Int] = []
        for policy in context.summary.byPolicy {
            let key = ASCII.lowercased(policy.policyDefinitionId)
            if ruleOf[key] == nil {
                ruleOf[key] = ruleDefinitions.count
                ruleDefinitions.append(policy.policyDefinitionId)
                ruleReferences.append(policy.referenceId)
            }
            ruleOfPolicy.append(ruleOf[key]!)
        }
        var nameCounts: [String: Int] = [:]
        for id in ruleDefinitions { nameCounts[ASCII.lowercased(Text.lastSegment(id)), default: 0] += 1 }
        let ruleIds = ruleDefinitions.map {
            nameCounts[ASCII.lowercased(Text.lastSegment($0))]! > 1 ? $0 : Text.lastSegment($0)
        }
        var w = JSONWriter(pretty: true, capacity: 8192 + data.results.count * 400)
        w.beginObject()
        w.member("$schema", Self.schema)
        w.member("version", "2.1.0")
        w.key("runs")
        w.beginArray()
        w.beginObject()
        w.key("tool")
        w.beginObject()
        w.key("driver")
        w.beginObject()
        w.member("name", "fluxfleet")
        w.member("version", context.options.toolVersion)
        w.member("semanticVersion", context.options.toolVersion)
        w.member("informationUri", "https://github.com/fluxfleet/fluxfleet")
        w.key("rules")
        w.beginArray()
        for (r, definition) in ruleDefinitions.enumerated() {
            let policy = policies[ASCII.lowercased(definition)]
            w.beginObject()
            w.member("id", ruleIds[r])
            w.member("name", ruleReferences[r] ?? Text.lastSegment(definition))
            w.key("shortDescription")
            w.beginObject()
            w.member("text", policy?.displayName ?? ruleReferences[r] ?? Text.lastSegment(definition))
            w.endObject()
            w.key("fullDescription")
            w.beginObject()
            w.member("text", "Azure Policy definition \(definition)")
            w.endObject()
            if let help = Self.builtInHelpURI(definition) { w.member("helpUri", help) }
            w.key("properties")
            w.beginObject()
            w.member("policyDefinitionId", definition)
            if let category = policy?.category { w.member("category", category) }
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
        w.key("automationDetails")
        w.beginObject()
        w.member("id", "fluxfleet/\(data.run.kind)/\(data.run.evaluatedAt)")
        w.endObject()
        w.key("results")
        w.beginArray()
        for (i, result) in data.results.enumerated() where result.state == .nonCompliant || result.state == .error {
            let rule = ruleOfPolicy[context.summary.policyOfResult[i]]
            w.beginObject()
            w.member("ruleId", ruleIds[rule])
            w.member("ruleIndex", rule)
            w.member("level", level(result))
            w.key("message")
            w.beginObject()
            w.member("text", message(result, index: i))
            w.endObject()
            w.key("locations")
            w.beginArray()
            w.beginObject()
            w.key("logicalLocations")
            w.beginArray()
            w.beginObject()
            w.member("fullyQualifiedName", result.resourceId)
            w.member("name", context.resourceName(ofResult: i))
            w.member("kind", "resource")
            w.endObject()
            w.endArray()
            w.endObject()
            w.endArray()
            w.key("partialFingerprints")
            w.beginObject()
            w.member(
                "fluxfleet/v1",
                Text.fingerprint([
                    result.resourceId, result.assignmentId,
                    result.policyDefinitionReferenceId ?? result.policyDefinitionId,
                ]))
            w.endObject()
            w.key("properties")
            w.beginObject()
            w.member("assignmentId", result.assignmentId)
            w.member("clusterId", result.clusterId)
            w.member("complianceState", result.state.rawValue)
            w.member("effect", result.effect)
            w.endObject()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endArray()
        w.endObject()
        w.newlineAtEnd()
        return w.bytes
    }

    private func level(_ result: ReportResult) -> String {
        if result.state == .error { return "error" }
        return PolicyReportRenderer.severity(effect: result.effect) == "high" ? "error" : "warning"
    }

    private func message(_ result: ReportResult, index: Int) -> String {
        var text = "\(context.resourceName(ofResult: index)) is \(result.state.rawValue) under "
        text += "\(result.assignmentName)/\(context.policyLabel(result))"
        let lines = RenderContext.explain(result)
        if !lines.isEmpty { text += ": " + lines.prefix(4).joined(separator: "; ") }
        if lines.count > 4 { text += " (\(lines.count - 4) more)" }
        return text
    }
}
