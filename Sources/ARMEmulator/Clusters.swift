import FleetCore

/// `GET` of clusters, one or a list.
enum Clusters {
    static func get(_ path: ClusterPath, state: EmulatorState) -> ARMResponse {
        guard let cluster = state.cluster(path.id), cluster.kind == path.kind else {
            return ARMError.notFound(type: path.kind.resourceType, name: path.name, resourceGroup: path.resourceGroup)
        }
        return ARMResponse(status: 200, body: cluster.body.bytes)
    }

    static func list(
        subscription: String, resourceGroup: String?, kind: ClusterKind, request: ARMRequest, state: EmulatorState
    ) -> ARMResponse {
        var scope = "/subscriptions/\(subscription)"
        if let resourceGroup { scope += "/resourceGroups/\(resourceGroup)" }
        let items = state.clusterOrder.compactMap { key -> JSON? in
            guard let cluster = state.clusters[key], cluster.kind == kind,
                let id = try? ResourceID(parsing: cluster.id), id.hasPrefix(scope: scope)
            else { return nil }
            return cluster.body
        }
        return Paging.page(items, request: request, state: state)
    }
}

/// ARM list pages: `{"value": [...], "nextLink": "…&$skipToken=N"}`.
enum Paging {
    static func page(_ items: [JSON], request: ARMRequest, state: EmulatorState) -> ARMResponse {
        let size = max(1, state.configuration.listPageSize)
        let start: Int
        if let token = request.queryValue("$skipToken") {
            guard let offset = Int(token), offset >= 0, offset <= items.count else {
                return ARMError.response(
                    400, "InvalidSkipToken", "The $skipToken '\(token)' is not one this list returned.")
            }
            start = offset
        } else {
            start = 0
        }
        let end = min(items.count, start + size)
        var body: [String: JSON] = ["value": .array(Array(items[start..<end]))]
        if end < items.count {
            let version = PercentEncoding.encode(request.queryValue("api-version") ?? "")
            body["nextLink"] = .string(
                "\(state.configuration.baseURL)\(request.path)?api-version=\(version)&$skipToken=\(end)")
        }
        return ARMResponse(status: 200, body: JSON.object(body).bytes)
    }
}
