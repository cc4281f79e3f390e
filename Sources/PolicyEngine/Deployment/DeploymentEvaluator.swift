import FleetCore

/// Evaluates a DeployIfNotExists `details.deployment` into the resources it would PUT on one cluster.
///
/// Two contexts are involved, as in Azure:
/// - The **policy** context evaluates `deployment.properties.parameters.*.value`: `parameters()` are the
///   assignment's effective policy parameters and `field()` reads the evaluated cluster (`name`, `type`,
///   `location`). A `{"reference": {"keyVault": …, "secretName": …}}` parameter is not resolved: it becomes
///   `{"$secretReference": <the evaluated reference>}` (see ``SecretReference``), which a later stage
///   resolves from a secret store at deploy time.
/// - The **template** context evaluates everything in `properties.template`: `parameters()` are the values
///   above (or `defaultValue`), `variables()` the template's variables, `resourceGroup()` and
///   `subscription()` the cluster's (the deployment target), and `field()` is unavailable.
///
/// Supported template subset: parameter types `string`, `securestring`, `int`, `bool`, `object`,
/// `secureObject`, `array` with `defaultValue` (names matched ignoring case); `variables`; `resources[]` with
/// `condition`, `type`, `name`, `apiVersion`, `scope`, `location`, `identity`, `plan`, `tags`, `sku`, `kind`,
/// `zones`, `properties` and `dependsOn`. Rejected with an error: `Complete` mode, linked templates, resource
/// and variable loops (`copy`), nested child `resources`, user-defined `functions` and symbolic-name
/// (`languageVersion` 2.0) resources. `allowedValues`, `minValue` and similar constraints are not checked.
public enum DeploymentEvaluator {
    /// The resource members copied into the PUT body, with their canonical spelling.
    static let bodyMembers = ["properties", "identity", "location", "plan", "tags", "sku", "kind", "zones"]

    /// Evaluates a DeployIfNotExists deployment for one cluster.
    ///
    /// - Parameters:
    ///   - deployment: The policy rule's `then.details.deployment` (an object with `properties`).
    ///   - policyParameters: The policy-side context: the assignment's effective parameters and the cluster's
    ///     fields. Its `utcNow()` is used on both sides.
    ///   - cluster: The evaluated cluster; the deployment targets its subscription and resource group.
    /// - Returns: The resources whose `condition` holds, in template order, with full ids and PUT bodies.
    /// - Throws: ``DeploymentError`` naming the path in the policy rule (such as
    ///   `details.deployment.properties.template.resources[0].properties.kustomizations`) and what failed.
    public static func desiredResources(
        deployment: JSON,
        policyParameters: some ExpressionContext,
        cluster: ResourceID
    ) throws(DeploymentError) -> [DesiredResource] {
        let root = DeploymentPath.deployment
        let (properties, propertiesPath) = try deploymentProperties(deployment)
        guard let resourceGroup = cluster.resourceGroup else {
            throw root.error("the cluster id '\(cluster)' has no resource group to deploy into")
        }
        let supplied = try TemplateInputs.deploymentParameters(
            TemplateInputs.member("parameters", of: properties)?.value,
            at: propertiesPath.key("parameters"), policy: policyParameters)
        return try evaluateTemplate(
            properties: properties, supplied: supplied, subscriptionId: cluster.subscriptionId,
            resourceGroup: resourceGroup, now: policyParameters.utcNow(), trap: nil)
    }

    /// `deployment.properties`, checked for unsupported deployment features.
    static func deploymentProperties(_ deployment: JSON) throws(DeploymentError) -> ([String: JSON], DeploymentPath) {
        let root = DeploymentPath.deployment
        let properties = try object(
            TemplateInputs.member("properties", of: try object(deployment, at: root, what: "the deployment"))?.value,
            at: root.key("properties"), what: "'properties'")
        let propertiesPath = root.key("properties")
        try checkUnsupported(properties, at: propertiesPath)
        return (properties, propertiesPath)
    }

    /// Evaluates the template of `deployment.properties` with the values the policy supplies, deploying into
    /// the given subscription and resource group.
    ///
    /// With a `trap`, some inputs are stand-in symbols (see ``DeploymentMemo``): functions that would look
    /// into a symbol record it in the trap and fail.
    static func evaluateTemplate(
        properties: [String: JSON], supplied: [String: JSON], subscriptionId: String, resourceGroup: String,
        now: String, trap: SymbolTrap?
    ) throws(DeploymentError) -> [DesiredResource] {
        let propertiesPath = DeploymentPath.deployment.key("properties")
        let subscriptionID = "/subscriptions/" + subscriptionId
        let resourceGroupID = subscriptionID + "/resourceGroups/" + resourceGroup

        let templatePath = propertiesPath.key("template")
        let template = try object(
            TemplateInputs.member("template", of: properties)?.value, at: templatePath, what: "'template'")
        try checkUnsupported(template: template, at: templatePath)

        var context = StaticExpressionContext(
            resourceGroupValue: .object(["id": .string(resourceGroupID), "name": .string(resourceGroup)]),
            subscriptionValue: .object([
                "id": .string(subscriptionID), "subscriptionId": .string(subscriptionId),
            ]),
            now: now)
        context.symbolTrap = trap
        context.parameters = try TemplateInputs.templateParameters(
            declarations: TemplateInputs.member("parameters", of: template)?.value,
            at: templatePath.key("parameters"), supplied: supplied,
            suppliedPath: propertiesPath.key("parameters"), base: context)
        context.variables = try TemplateInputs.variables(
            TemplateInputs.member("variables", of: template)?.value, at: templatePath.key("variables"),
            context: context)

        let resourcesPath = templatePath.key("resources")
        let resources: [JSON]
        switch TemplateInputs.member("resources", of: template)?.value {
        case nil, .null?:
            resources = []
        case .array(let items)?:
            resources = items
        case .object?:
            throw resourcesPath.error("symbolic-name resources (languageVersion 2.0) are not supported")
        case let other?:
            throw resourcesPath.error("must be an array, got \(ExpressionValues.typeName(other))")
        }

        let walker = TemplateWalker(context: context)
        var planned: [PlannedResource] = []
        for (position, resource) in resources.enumerated() {
            planned.append(
                try PlannedResource.evaluate(
                    resource, at: resourcesPath.index(position), walker: walker, resourceGroupID: resourceGroupID))
        }
        var desired: [DesiredResource] = []
        for resource in planned where !resource.skipped {
            guard let address = resource.address, let apiVersion = resource.apiVersion else { continue }
            desired.append(
                DesiredResource(
                    id: address.id, type: address.type, name: address.name, apiVersion: apiVersion,
                    body: .object(resource.body), dependsOn: try resource.resolveDependencies(among: planned)))
        }
        return desired
    }

    private static func checkUnsupported(_ properties: [String: JSON], at path: DeploymentPath) throws(DeploymentError)
    {
        if let (key, mode) = TemplateInputs.member("mode", of: properties) {
            guard case .string(let text) = mode, ASCII.equalsIgnoringCase(text, "Incremental") else {
                throw path.key(key).error("only 'Incremental' deployments are supported")
            }
        }
        for name in ["templateLink", "parametersLink"] {
            if let (key, _) = TemplateInputs.member(name, of: properties) {
                throw path.key(key).error("linked templates and parameter files are not supported")
            }
        }
    }

    private static func checkUnsupported(template: [String: JSON], at path: DeploymentPath) throws(DeploymentError) {
        if let (key, functions) = TemplateInputs.member("functions", of: template), functions != .array([]) {
            throw path.key(key).error("user-defined functions are not supported")
        }
    }

    static func object(_ value: JSON?, at path: DeploymentPath, what: String) throws(DeploymentError) -> [String: JSON]
    {
        guard let value else { throw path.error("\(what) is missing") }
        guard case .object(let members) = value else {
            throw path.error("\(what) must be an object, got \(ExpressionValues.typeName(value))")
        }
        return members
    }
}

/// A template resource after its own fields are evaluated, before `dependsOn` is resolved.
struct PlannedResource {
    var path: DeploymentPath
    /// Whether `condition` evaluated to false.
    var skipped: Bool
    /// Nil only for a skipped resource whose type or name cannot be evaluated.
    var address: ResourceAddress?
    /// `type/name` as the template writes them (for `dependsOn` by name).
    var writtenTypeAndName: String?
    /// The evaluated `name`.
    var writtenName: String?
    var apiVersion: String?
    var body: [String: JSON] = [:]
    var dependsOn: [(entry: String, path: DeploymentPath)] = []

    static func evaluate<Context: ExpressionContext>(
        _ resource: JSON,
        at path: DeploymentPath,
        walker: TemplateWalker<Context>,
        resourceGroupID: String
    ) throws(DeploymentError) -> PlannedResource {
        let members = try DeploymentEvaluator.object(resource, at: path, what: "a resource")
        var skipped = false
        if let (key, condition) = TemplateInputs.member("condition", of: members) {
            let value = try walker.evaluate(condition, at: path.key(key)) ?? .null
            guard case .bool(let holds) = value else {
                throw path.key(key).error("the condition must be a bool, got \(ExpressionValues.typeName(value))")
            }
            skipped = !holds
        }
        var planned = PlannedResource(path: path, skipped: skipped)
        do {
            try planned.evaluateIdentity(members, walker: walker, resourceGroupID: resourceGroupID)
        } catch {
            // A resource that is not deployed may name things that do not exist for this cluster.
            if !skipped { throw error }
            return planned
        }
        guard !skipped else { return planned }
        for name in ["copy", "resources"] {
            if let (key, value) = TemplateInputs.member(name, of: members), value != .array([]) {
                throw path.key(key).error(
                    name == "copy"
                        ? "resource loops ('copy') are not supported" : "nested child resources are not supported")
            }
        }
        guard let (versionKey, version) = TemplateInputs.member("apiVersion", of: members) else {
            throw path.error("the resource has no 'apiVersion'")
        }
        planned.apiVersion = try walker.string(version, at: path.key(versionKey), what: "'apiVersion'")
        for name in DeploymentEvaluator.bodyMembers {
            guard let (key, value) = TemplateInputs.member(name, of: members) else { continue }
            if let evaluated = try walker.evaluate(value, at: path.key(key)) { planned.body[name] = evaluated }
        }
        if let (key, value) = TemplateInputs.member("dependsOn", of: members) {
            let dependsPath = path.key(key)
            guard case .array(let entries) = try walker.evaluate(value, at: dependsPath) ?? .array([]) else {
                throw dependsPath.error("'dependsOn' must be an array of resource names or ids")
            }
            for (position, entry) in entries.enumerated() {
                guard case .string(let text) = entry else {
                    throw dependsPath.index(position).error(
                        "a dependsOn entry must be a string, got \(ExpressionValues.typeName(entry))")
                }
                planned.dependsOn.append((text, dependsPath.index(position)))
            }
        }
        return planned
    }

    private mutating func evaluateIdentity<Context: ExpressionContext>(
        _ members: [String: JSON],
        walker: TemplateWalker<Context>,
        resourceGroupID: String
    ) throws(DeploymentError) {
        guard let (typeKey, typeValue) = TemplateInputs.member("type", of: members) else {
            throw path.error("the resource has no 'type'")
        }
        guard let (nameKey, nameValue) = TemplateInputs.member("name", of: members) else {
            throw path.error("the resource has no 'name'")
        }
        let type = try walker.string(typeValue, at: path.key(typeKey), what: "'type'")
        let name = try walker.string(nameValue, at: path.key(nameKey), what: "'name'")
        var scope: String?
        if let (scopeKey, scopeValue) = TemplateInputs.member("scope", of: members) {
            let value = try walker.evaluate(scopeValue, at: path.key(scopeKey)) ?? .null
            switch value {
            case .null: scope = nil
            case .string(let text): scope = text
            default:
                throw path.key(scopeKey).error("'scope' must be a string, got \(ExpressionValues.typeName(value))")
            }
        }
        address = try ResourceAddress.resolve(
            type: type, name: name, scope: scope, resourceGroupID: resourceGroupID, at: path)
        writtenTypeAndName = type + "/" + name
        writtenName = name
    }

    /// Whether a `dependsOn` entry names this resource: its full id, its name, or `type/name` as written or
    /// canonical (all compared ignoring case).
    func isNamed(_ entry: String) -> Bool {
        guard let address else { return false }
        let candidates = [address.id, writtenName, writtenTypeAndName, address.type + "/" + address.name]
        return candidates.contains { $0.map { ASCII.equalsIgnoringCase($0, entry) } ?? false }
    }

    /// The ids this resource depends on, in template order; dependencies on skipped resources are dropped, as
    /// ARM does for resources whose condition is false.
    func resolveDependencies(among all: [PlannedResource]) throws(DeploymentError) -> [String] {
        var ids: [String] = []
        for (entry, entryPath) in dependsOn {
            let matches = all.filter { $0.path.description != path.description && $0.isNamed(entry) }
            guard !matches.isEmpty else {
                throw entryPath.error("'\(entry)' names no other resource of this template")
            }
            for match in matches where !match.skipped {
                let id = match.address!.id
                if !ids.contains(id) { ids.append(id) }
            }
        }
        let order = all.compactMap { $0.address?.id }
        return ids.sorted { order.firstIndex(of: $0)! < order.firstIndex(of: $1)! }
    }
}
