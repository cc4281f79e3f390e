import FleetCore

/// The Resource Graph query endpoint: `POST /providers/Microsoft.ResourceGraph/resources?api-version=…`.
///
/// It answers the inventory queries of DESIGN §3.1, written in this subset of KQL:
/// ```
/// resources | where type in~ ('microsoft.containerservice/managedclusters', …) | order by id asc
/// kubernetesconfigurationresources | where type =~ 'microsoft.kubernetesconfiguration/extensions'
/// ```
/// The first word names the table: `resources` (the clusters) or `kubernetesconfigurationresources` (their
/// extensions, fluxConfigurations and sourceControlConfigurations). Then any number of `| where type in~ (…)`,
/// `| where type =~ '…'` or `| where type == '…'` filters and an optional `| order by id asc`. Rows are whole
/// resources as Resource Graph returns them (`type` lowercased, `subscriptionId`, `resourceGroup`, `tenantId`
/// columns added), always ordered by id; any other operator is refused with 400 `InvalidQuery` rather than
/// answered wrongly.
///
/// The body's `subscriptions` limit the rows (all subscriptions when absent); `options.$top` (1…1000,
/// default 100, capped by ``EmulatorConfiguration/resourceGraphMaxPageSize``) sizes the page and `options.$skipToken` continues a query. The envelope is
/// `{totalRecords, count, data, facets, resultTruncated: "false", $skipToken?}`. Every answer carries
/// `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after`; over the quota, 429 `RateLimiting`.
public enum ResourceGraph {
    /// The api-versions the endpoint accepts.
    public static let apiVersions = ["2024-04-01", "2022-10-01", "2021-03-01", "2019-04-01"]

    /// The table a query reads.
    enum Table: String {
        case resources
        case kubernetesconfigurationresources
    }

    /// A parsed query.
    struct Query {
        var table: Table
        var types: Set<String>?
    }

    static func handle(_ request: ARMRequest, context: inout Context, state: inout EmulatorState) -> ARMResponse {
        guard request.method == "POST" else { return ARMEmulator.methodNotAllowed(request) }
        if let quota = state.configuration.resourceGraphQuota {
            if state.now >= state.graphWindow.start + quota.window {
                state.graphWindow = (state.now - (state.now - state.startTime) % max(1, quota.window), 0)
            }
            let resetsAfter = max(0, state.graphWindow.start + quota.window - state.now)
            context.extraHeaders["x-ms-user-quota-resets-after"] = duration(resetsAfter)
            guard state.graphWindow.used < quota.queries else {
                context.extraHeaders["x-ms-user-quota-remaining"] = "0"
                var response = ARMError.response(
                    429, "RateLimiting",
                    "Please provide below info when asking for support: timestamp = \(EmulatorClock.iso8601(state.now)). The client has exceeded its quota of \(quota.queries) queries per \(quota.window / 1000) seconds; retry after \(duration(resetsAfter))."
                )
                response.headers["Retry-After"] = String(max(1, (resetsAfter + 999) / 1000))
                return response
            }
            state.graphWindow.used += 1
            context.extraHeaders["x-ms-user-quota-remaining"] = String(quota.queries - state.graphWindow.used)
        }
        if let bad = ARMEmulator.checkAPIVersion(
            request, supported: apiVersions, type: "Microsoft.ResourceGraph/resources")
        {
            return bad
        }
        let body: JSON
        do {
            body = try JSON.parse(bytes: request.body, source: "request body")
        } catch {
            return invalid("The request body is not valid JSON: \(error)")
        }
        guard let queryText = body.member(ignoringCase: "query")?.string, !queryText.isEmpty else {
            return invalid("The request body has no 'query'.")
        }
        let query: Query
        switch parse(queryText) {
        case .success(let q): query = q
        case .failure(let message): return invalid(message.text)
        }
        var subscriptions: Set<String>?
        if let list = body.member(ignoringCase: "subscriptions"), case .array(let items) = list {
            subscriptions = Set(items.compactMap(\.string).map(ASCII.lowercased))
        }
        // A management group scope stands for the subscriptions configured under it (none known: every one).
        if let list = body.member(ignoringCase: "managementGroups"), case .array(let items) = list,
            !state.configuration.managementGroups.isEmpty
        {
            var members: Set<String> = []
            for group in items.compactMap(\.string) {
                guard let known = state.configuration.managementGroups[ASCII.lowercased(group)] else {
                    return ARMError.response(
                        403, "AuthorizationFailed",
                        "The client does not have authorization to perform action 'Microsoft.ResourceGraph/resources/read' over scope '/providers/Microsoft.Management/managementGroups/\(group)' or the scope is invalid."
                    )
                }
                members.formUnion(known.map(ASCII.lowercased))
            }
            subscriptions = subscriptions.map { $0.intersection(members) } ?? members
        }
        let options = body.member(ignoringCase: "options") ?? .object([:])
        var top = 100
        if let value = options.member(ignoringCase: "$top") {
            guard case .number(let n) = value, let t = n.int64Value, t >= 1, t <= 1000 else {
                return invalid("options.$top must be a whole number from 1 to 1000.")
            }
            top = Int(t)
        }
        top = min(top, max(1, state.configuration.resourceGraphMaxPageSize))
        let rows = rowReferences(query, subscriptions: subscriptions, state: state)
        var start = 0
        if let token = options.member(ignoringCase: "$skipToken")?.string, !token.isEmpty {
            guard let offset = decodeToken(token, query: queryText), offset <= rows.count else {
                return invalid("options.$skipToken '\(token)' was not returned for this query.")
            }
            start = offset
        }
        let end = min(rows.count, start + top)
        var envelope: [String: JSON] = [
            "totalRecords": .int(rows.count), "count": .int(end - start),
            "data": .array(render(rows[start..<end], state: state)),
            "facets": .array([]), "resultTruncated": .string("false"),
        ]
        if end < rows.count { envelope["$skipToken"] = .string(encodeToken(end, query: queryText)) }
        return ARMResponse(status: 200, body: JSON.object(envelope).bytes)
    }

    private static func invalid(_ message: String) -> ARMResponse {
        let body: JSON = .object([
            "error": .object([
                "code": .string("BadRequest"),
                "message": .string("Please provide below info when asking for support: the query is invalid."),
                "details": .array([.object(["code": .string("InvalidQuery"), "message": .string(message)])]),
            ])
        ])
        return ARMResponse(status: 400, body: body.bytes)
    }

    struct QueryError: Error {
        var text: String
    }

    /// Parses the supported subset (see the type's documentation).
    static func parse(_ text: String) -> Result<Query, QueryError> {
        let stages = text.split(separator: "|").map { $0.trimmingCharacters() }
        guard let tableName = stages.first, let table = Table(rawValue: tableName.lowercased()) else {
            return .failure(
                QueryError(
                    text:
                        "The emulator answers queries of the tables 'resources' and 'kubernetesconfigurationresources'; the query starts with '\(stages.first ?? "")'."
                ))
        }
        var query = Query(table: table, types: nil)
        for stage in stages.dropFirst() {
            let words = stage.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
            let lower = words.map { $0.lowercased() }
            if lower == ["order", "by", "id", "asc"] || lower == ["order", "by", "id"]
                || lower == ["sort", "by", "id", "asc"]
            {
                continue
            }
            guard lower.count >= 4, lower[0] == "where", lower[1] == "type", ["in~", "=~", "=="].contains(lower[2])
            else {
                return .failure(
                    QueryError(
                        text:
                            "The emulator does not support '| \(stage)': it supports '| where type in~ (…)', '| where type =~ '…'' and '| order by id asc'."
                    ))
            }
            let rest = stage.drop { $0 != "~" && $0 != "=" }.drop { $0 == "~" || $0 == "=" }
            let names = quoted(String(rest))
            guard !names.isEmpty else {
                return .failure(QueryError(text: "'| \(stage)' names no type in quotes."))
            }
            let set = Set(names.map { $0.lowercased() })
            query.types = query.types.map { $0.intersection(set) } ?? set
        }
        return .success(query)
    }

    /// The single- or double-quoted strings of a text.
    private static func quoted(_ text: String) -> [String] {
        var out: [String] = []
        var current: String?
        var quote: Character = "'"
        for c in text {
            if var open = current {
                if c == quote {
                    out.append(open)
                    current = nil
                } else {
                    open.append(c)
                    current = open
                }
            } else if c == "'" || c == "\"" {
                quote = c
                current = ""
            }
        }
        return out
    }

    /// The rows of a table, ordered by id, limited to subscriptions and types.
    static func rows(_ query: Query, subscriptions: Set<String>?, state: EmulatorState) -> [JSON] {
        let refs = rowReferences(query, subscriptions: subscriptions, state: state)
        return render(refs[...], state: state)
    }

    /// One row before it is rendered: a cluster, or a child of one.
    enum RowReference {
        case cluster(EmulatedCluster, ResourceID)
        case child(EmulatedResource, EmulatedCluster, ResourceID)
    }

    /// The rows of a table in order, not yet rendered: a page renders only its own slice.
    static func rowReferences(_ query: Query, subscriptions: Set<String>?, state: EmulatorState) -> [RowReference] {
        var refs: [RowReference] = []
        for key in state.clusterOrder {
            guard let cluster = state.clusters[key], let id = try? ResourceID(parsing: cluster.id) else { continue }
            if let subscriptions, !subscriptions.contains(ASCII.lowercased(id.subscriptionId)) { continue }
            switch query.table {
            case .resources:
                if let types = query.types, !types.contains(ASCII.lowercased(cluster.kind.resourceType)) { continue }
                refs.append(.cluster(cluster, id))
            case .kubernetesconfigurationresources:
                var children: [(ResourceIDKey, EmulatedResource)] = []
                for type in ChildType.allCases {
                    if let types = query.types, !types.contains(ASCII.lowercased(type.armType)) { continue }
                    for child in cluster.children(type) { children.append((ResourceIDKey(child.id), child)) }
                }
                children.sort { $0.0 < $1.0 }
                for (_, child) in children { refs.append(.child(child, cluster, id)) }
            }
        }
        return refs
    }

    /// Renders rows as Resource Graph returns them.
    static func render(_ refs: ArraySlice<RowReference>, state: EmulatorState) -> [JSON] {
        refs.map { ref in
            switch ref {
            case .cluster(let cluster, let id):
                return row(cluster.body, id: id, tenant: cluster.tenantId ?? state.tenantId)
            case .child(let child, let cluster, let id):
                return row(
                    Rendering.resource(child, in: cluster, state: state), id: id,
                    tenant: cluster.tenantId ?? state.tenantId)
            }
        }
    }

    /// A resource as a Resource Graph row: lowercased type and the scope columns.
    private static func row(_ body: JSON, id: ResourceID, tenant: String?) -> JSON {
        var row = body
        if let type = row.member(ignoringCase: "type")?.string { row.set("type", .string(ASCII.lowercased(type))) }
        row.set("subscriptionId", .string(id.subscriptionId))
        row.set("resourceGroup", .string(id.resourceGroup ?? ""))
        if let tenant { row.set("tenantId", .string(tenant)) }
        // Resource Graph always has these columns (empty or null when unset); ARM GET leaves them out.
        for key in ["kind", "location", "managedBy"] where row.member(ignoringCase: key) == nil {
            row.set(key, .string(""))
        }
        for key in ["sku", "plan", "tags", "zones", "extendedLocation", "identity"]
        where row.member(ignoringCase: key) == nil {
            row.set(key, .null)
        }
        return row
    }

    /// An opaque continuation: the offset, tied to the query text.
    private static func encodeToken(_ offset: Int, query: String) -> String {
        "ew0K\(offset)-\(String(fingerprint(query), radix: 36))"
    }

    private static func decodeToken(_ token: String, query: String) -> Int? {
        guard token.hasPrefix("ew0K") else { return nil }
        let parts = token.dropFirst(4).split(separator: "-")
        guard parts.count == 2, let offset = Int(parts[0]), String(fingerprint(query), radix: 36) == parts[1] else {
            return nil
        }
        return offset
    }

    private static func fingerprint(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return h
    }

    /// `hh:mm:ss`.
    private static func duration(_ milliseconds: Int64) -> String {
        let seconds = (milliseconds + 999) / 1000
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        var text = self
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return String(text)
    }
}
