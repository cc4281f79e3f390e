import FleetCore
import PolicyEngine
import Testing

/// Parses JSON text written in a deployment or strict-view test (the text is always valid).
func deploymentJSON(_ text: String) -> JSON {
    try! JSON.parse(text, source: "deployment-test")
}

/// Parses JSON text into a tape value, as observed resources arrive from ARM or Resource Graph.
func observedJSON(_ text: String) -> JSONValue {
    try! JSONDocument.parse(JSONBytes(text, source: "observed-test")).root
}

/// Test clusters: one AKS and one Arc, in different subscriptions and resource groups.
enum DeploymentTestClusters {
    static let aksID = try! ResourceID(
        parsing: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-fleet-weu/providers/"
            + "Microsoft.ContainerService/managedClusters/aks-weu-01")
    static let arcID = try! ResourceID(
        parsing: "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/RG-Edge/providers/"
            + "Microsoft.Kubernetes/connectedClusters/arc-store-17")

    static let aksPrefix = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-fleet-weu/providers/"
    static let arcPrefix = "/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/RG-Edge/providers/"

    /// The policy context for a cluster: its fields plus the assignment's parameters.
    static func policyContext(aks: Bool, parameters: [String: JSON]) -> StaticExpressionContext {
        StaticExpressionContext(
            parameters: parameters,
            fields: [
                "name": .string(aks ? "aks-weu-01" : "arc-store-17"),
                "type": .string(
                    aks ? "Microsoft.ContainerService/managedClusters" : "Microsoft.Kubernetes/connectedClusters"),
                "location": .string(aks ? "westeurope" : "eastus2"),
            ],
            now: "2025-03-01T08:00:00.0000000Z")
    }
}

/// Evaluates a deployment and returns the error it throws, or nil when it succeeds.
func deploymentError(
    _ deployment: JSON,
    _ context: StaticExpressionContext,
    cluster: ResourceID = DeploymentTestClusters.aksID
) -> DeploymentError? {
    do {
        _ = try DeploymentEvaluator.desiredResources(
            deployment: deployment, policyParameters: context, cluster: cluster)
        return nil
    } catch {
        return error
    }
}
