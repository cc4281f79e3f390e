import FleetCore

/// What a request path names.
enum Route: Sendable, Hashable {
    /// `POST /{tenant}/oauth2/v2.0/token`.
    case token(tenant: String)
    /// `GET /metadata/identity/oauth2/token` (IMDS) or `GET /msi/token` (App Service): a managed identity token.
    case managedIdentityToken(appService: Bool)
    /// `POST /providers/Microsoft.ResourceGraph/resources`.
    case resourceGraph
    /// `/keyvault/{vault}/…`: Key Vault's data plane; `path` is what follows the vault name (`secrets/{name}`).
    case keyVault(vault: String, path: [String])
    /// `GET /subscriptions/{s}[/resourceGroups/{rg}]/providers/{ns}/{type}`.
    case clusterList(subscription: String, resourceGroup: String?, kind: ClusterKind)
    /// `…/providers/{ns}/{type}/{name}`.
    case cluster(ClusterPath)
    /// `…/{cluster}/providers/Microsoft.KubernetesConfiguration/{type}`.
    case childList(ClusterPath, ChildType)
    /// `…/{cluster}/providers/Microsoft.KubernetesConfiguration/{type}/{name}`.
    case child(ClusterPath, ChildType, name: String)
    /// `…/{type}/{name}/operations/{id}`: the `Azure-AsyncOperation` status.
    case operationStatus(ClusterPath, ChildType, name: String, operation: String)
    /// `…/{type}/{name}/operationResults/{id}`: the `Location` result.
    case operationResult(ClusterPath, ChildType, name: String, operation: String)
    /// Anything else.
    case unknown

    /// Parses a path.
    init(path: String) {
        let s = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        func eq(_ i: Int, _ word: String) -> Bool { i < s.count && ASCII.equalsIgnoringCase(s[i], word) }
        if s.count == 4, eq(1, "oauth2"), eq(2, "v2.0"), eq(3, "token") {
            self = .token(tenant: s[0])
            return
        }
        if s.count == 4, eq(0, "metadata"), eq(1, "identity"), eq(2, "oauth2"), eq(3, "token") {
            self = .managedIdentityToken(appService: false)
            return
        }
        if s.count == 2, eq(0, "msi"), eq(1, "token") {
            self = .managedIdentityToken(appService: true)
            return
        }
        if s.count == 3, eq(0, "providers"), eq(1, "Microsoft.ResourceGraph"), eq(2, "resources") {
            self = .resourceGraph
            return
        }
        if s.count >= 2, eq(0, "keyvault") {
            self = .keyVault(vault: s[1], path: Array(s.dropFirst(2)))
            return
        }
        guard s.count >= 5, eq(0, "subscriptions") else {
            self = .unknown
            return
        }
        let subscription = s[1]
        if s.count == 5, eq(2, "providers") {
            if let kind = ClusterKind(resourceType: s[3] + "/" + s[4]) {
                self = .clusterList(subscription: subscription, resourceGroup: nil, kind: kind)
            } else {
                self = .unknown
            }
            return
        }
        guard s.count >= 7, eq(2, "resourceGroups"), eq(4, "providers"),
            let kind = ClusterKind(resourceType: s[5] + "/" + s[6])
        else {
            self = .unknown
            return
        }
        if s.count == 7 {
            self = .clusterList(subscription: subscription, resourceGroup: s[3], kind: kind)
            return
        }
        let cluster = ClusterPath(
            subscription: subscription, resourceGroup: s[3], namespace: s[5], type: s[6], name: s[7], kind: kind)
        if s.count == 8 {
            self = .cluster(cluster)
            return
        }
        guard s.count >= 11, eq(8, "providers"), eq(9, "Microsoft.KubernetesConfiguration"),
            let type = ChildType(segment: s[10])
        else {
            self = .unknown
            return
        }
        switch s.count {
        case 11: self = .childList(cluster, type)
        case 12: self = .child(cluster, type, name: s[11])
        case 14 where eq(12, "operations"): self = .operationStatus(cluster, type, name: s[11], operation: s[13])
        case 14 where eq(12, "operationResults"): self = .operationResult(cluster, type, name: s[11], operation: s[13])
        default: self = .unknown
        }
    }

    /// The subscription a request is charged to, for ARM routes.
    var subscription: String? {
        switch self {
        case .clusterList(let subscription, _, _): subscription
        case .cluster(let c), .childList(let c, _), .child(let c, _, _), .operationStatus(let c, _, _, _),
            .operationResult(let c, _, _, _):
            c.subscription
        case .token, .managedIdentityToken, .resourceGraph, .keyVault, .unknown: nil
        }
    }
}

/// The cluster part of a path, as written in the request.
struct ClusterPath: Sendable, Hashable {
    var subscription: String
    var resourceGroup: String
    var namespace: String
    var type: String
    var name: String
    var kind: ClusterKind

    /// The cluster's id as written.
    var id: String {
        "/subscriptions/\(subscription)/resourceGroups/\(resourceGroup)/providers/\(namespace)/\(type)/\(name)"
    }

    /// The id of a child under this cluster.
    func childID(_ type: ChildType, _ name: String) -> String {
        "\(id)/providers/Microsoft.KubernetesConfiguration/\(type.rawValue)/\(name)"
    }
}
