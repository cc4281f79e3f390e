import FleetCore

/// One resource a DeployIfNotExists deployment would PUT, fully evaluated.
///
/// Produced by ``DeploymentEvaluator/desiredResources(deployment:policyParameters:cluster:)``. Secrets are never
/// resolved: a Key Vault reference stays a `{"$secretReference": {…}}` object wherever the template uses it
/// (normally inside `properties.configurationProtectedSettings`).
public struct DesiredResource: Sendable, Hashable {
    /// The full ARM id the PUT goes to, such as
    /// `/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/providers/`
    /// `Microsoft.KubernetesConfiguration/fluxConfigurations/cfg`.
    public var id: String
    /// The resource type, such as `Microsoft.KubernetesConfiguration/fluxConfigurations`.
    ///
    /// For the legacy nested form (`…/managedClusters/providers/sourceControlConfigurations`) this is the
    /// extension type itself, `Microsoft.KubernetesConfiguration/sourceControlConfigurations`.
    public var type: String
    /// The resource's own name (the last segment of ``id``).
    public var name: String
    /// The API version of the PUT.
    public var apiVersion: String
    /// The PUT body: `properties`, plus the other resource members the template sets.
    ///
    /// Those are `identity`, `location`, `plan`, `tags`, `sku`, `kind` and `zones`. Members that evaluated to
    /// null (`json('null')`) are absent.
    public var body: JSON
    /// Full ids of the resources of the same deployment that must be deployed first, in template order.
    public var dependsOn: [String]

    /// Creates a desired resource.
    public init(id: String, type: String, name: String, apiVersion: String, body: JSON, dependsOn: [String] = []) {
        self.id = id
        self.type = type
        self.name = name
        self.apiVersion = apiVersion
        self.body = body
        self.dependsOn = dependsOn
    }
}

/// Why a DeployIfNotExists deployment cannot be turned into desired resources.
///
/// The description names the place in the policy definition and what failed, for example
/// `details.deployment.properties.template.resources[0].properties.kustomizations: cannot evaluate: …`.
/// Messages never contain parameter values (a parameter may be a secure string); they may quote the template
/// text, which is part of the policy definition.
public struct DeploymentError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON path in the policy rule, such as `details.deployment.properties.template.resources[1].name`.
    public var path: String
    /// What failed, without the path.
    public var message: String
    /// The expression failure behind the error, when there is one.
    public var expressionError: ExpressionError?

    /// Creates an error.
    public init(path: String, message: String, expressionError: ExpressionError? = nil) {
        self.path = path
        self.message = message
        self.expressionError = expressionError
    }

    /// `path: message`.
    public var description: String { "\(path): \(message)" }
}

/// Recognises the stand-in the evaluator puts where a secret would go.
public enum SecretReference {
    /// The one member name of a secret-reference object: `{"$secretReference": {"keyVault": {"id": …}, …}}`.
    public static let key = "$secretReference"

    /// Whether `value` is a secret reference (an object whose only member is ``key``).
    public static func isReference(_ value: JSON) -> Bool {
        guard case .object(let members) = value, members.count == 1 else { return false }
        return members[key] != nil
    }
}
