import FleetCore

/// The expression context of policy evaluation: the assignment's parameters, the evaluated
/// resource for `field()`, its resource group and subscription, and the scan's clock.
struct PolicyExpressionContext: ExpressionContext {
    /// The resource `field()` reads.
    struct Resource: Sendable {
        var json: JSONValue
        var type: String
        var id: String
    }

    var parameters: [String: JSON]
    var now: String
    var resource: Resource?
    private let lowered: [String: JSON]

    init(parameters: [String: JSON], now: String, resource: Resource?) {
        self.init(parameters: parameters, lowered: Self.lowered(parameters), now: now, resource: resource)
    }

    /// Creates a context with the parameters already keyed by lowercased name (see ``lowered(_:)``).
    init(parameters: [String: JSON], lowered: [String: JSON], now: String, resource: Resource?) {
        self.parameters = parameters
        self.now = now
        self.resource = resource
        self.lowered = lowered
    }

    /// The parameters keyed by lowercased name.
    static func lowered(_ parameters: [String: JSON]) -> [String: JSON] {
        var lowered: [String: JSON] = [:]
        for (key, value) in parameters { lowered[ASCII.lowercased(key)] = value }
        return lowered
    }

    /// Parameter names are compared ignoring case (three real built-ins rely on it).
    func parameter(_ name: String) -> JSON? { parameters[name] ?? lowered[ASCII.lowercased(name)] }

    func field(_ path: String) throws -> JSON? {
        guard let resource else { return nil }
        switch AliasCatalog.value(of: path, in: resource.json, resourceType: resource.type) {
        case .value(let value): return value
        case .collection(let values): return .array(values)
        case .missing, nil: return nil
        }
    }

    func resourceGroup() -> JSON? {
        guard let resource, let id = try? ResourceID(parsing: resource.id), let group = id.resourceGroup else {
            return nil
        }
        return .object([
            "id": .string("/subscriptions/\(id.subscriptionId)/resourceGroups/\(group)"), "name": .string(group),
        ])
    }

    func subscription() -> JSON? {
        guard let resource, let id = try? ResourceID(parsing: resource.id) else { return nil }
        return .object([
            "id": .string("/subscriptions/\(id.subscriptionId)"), "subscriptionId": .string(id.subscriptionId),
        ])
    }

    func utcNow() -> String { now }
}
