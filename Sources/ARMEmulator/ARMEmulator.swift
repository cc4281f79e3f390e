import FleetCore

/// The pure core of an Azure Resource Manager emulator: `(state, request) → (state, response)` on a virtual
/// clock, with no I/O.
///
/// It serves what FluxFleet touches:
/// - `GET` of `Microsoft.ContainerService/managedClusters` and `Microsoft.Kubernetes/connectedClusters`
///   (one cluster, or a list per subscription or resource group);
/// - `GET`, `PUT`, `PATCH`, `DELETE` and lists of `Microsoft.KubernetesConfiguration/extensions` and
///   `fluxConfigurations` under a cluster, `GET` and `DELETE` of `sourceControlConfigurations`, with their
///   long-running operations (`…/operations/{id}` for `Azure-AsyncOperation`, `…/operationResults/{id}` for
///   `Location`);
/// - the Resource Graph query endpoint (see ``ResourceGraph``) and the token endpoints of Entra ID, IMDS and App
///   Service (see ``TokenEndpoint``).
/// - Key Vault's secrets data plane at `/keyvault/{vault}/secrets/{name}[/{version}]` (see ``EmulatedKeyVaults``).
///
/// Every answer carries `x-ms-request-id` and `x-ms-correlation-request-id`; ARM answers carry the
/// subscription's `x-ms-ratelimit-remaining-subscription-reads`, `-writes` or `-deletes` when throttling is on.
/// Operations end only when the clock moves (``EmulatorState/advance(to:)``).
public enum ARMEmulator {
    /// Answers one request, changing the state as ARM would.
    ///
    /// Order of checks for ARM routes: bearer token (when required, see ``EmulatorState/authorize(_:audience:)``) → injected faults (dropped connection,
    /// 5xx, 429 storm) → the subscription's token bucket → `api-version` → the resource and the
    /// server-side rules. Resource Graph has the same faults and its own quota instead of the buckets; the
    /// token endpoints have neither.
    public static func handle(_ request: ARMRequest, in state: inout EmulatorState) -> ARMResponse {
        state.settle()
        state.requestCount += 1
        let number = state.requestCount
        let config = state.configuration
        let seed = config.faults.seed ?? config.seed
        let route = Route(path: request.path)
        var context = Context(request: request, number: number, seed: seed, now: state.now)

        var response: ARMResponse
        var dropAfter = false
        switch route {
        case .token(let tenant):
            response = TokenEndpoint.entra(request, tenant: tenant, state: &state)
        case .managedIdentityToken(let appService):
            response = TokenEndpoint.managedIdentity(request, appService: appService, state: &state)
        case .keyVault(let vault, let path):
            response = KeyVault.handle(request, vault: vault, path: path, state: &state)
        default:
            if let denied = state.authorize(request, audience: armAudience) {
                response = denied
                break
            }
            if Mix.chance(config.faults.droppedConnections, seed, 1, number) {
                state.statistics.droppedConnections += 1
                if Mix.hash(seed, 2, number) & 1 == 0 { return .droppedConnection }
                dropAfter = true
            }
            if let injected = injectedFault(route: route, context: context, state: state) {
                state.statistics.injectedErrors += 1
                response = injected
                break
            }
            if case .resourceGraph = route {
                response = ResourceGraph.handle(request, context: &context, state: &state)
                break
            }
            if let subscription = route.subscription, let limits = config.throttling {
                let operation: OperationType =
                    switch request.method {
                    case "GET", "HEAD": .read
                    case "DELETE": .delete
                    default: .write
                    }
                if let throttled = throttle(
                    subscription: subscription, operation: operation, limits: limits, context: &context,
                    state: &state)
                {
                    response = throttled
                    break
                }
            }
            if let locked = scopeLocked(request, config: config) {
                response = locked
                break
            }
            response = dispatch(route, request, context: context, state: &state)
        }
        if dropAfter { return .droppedConnection }
        return context.finish(response, state: state)
    }

    /// 409 `ScopeLocked` for a write or delete under a locked scope (ARM checks locks before the resource provider).
    static func scopeLocked(_ request: ARMRequest, config: EmulatorConfiguration) -> ARMResponse? {
        guard request.method != "GET", request.method != "HEAD", !config.lockedScopes.isEmpty else { return nil }
        let path = ASCII.lowercased(request.path)
        guard
            let lock = config.lockedScopes.first(where: { scope in
                let prefix = ASCII.lowercased(scope)
                return path == prefix || path.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
            })
        else { return nil }
        let scope = request.path.split(separator: "?")[0]
        return ARMError.response(
            409, "ScopeLocked",
            "The scope '\(scope)' cannot perform write operation because following scope(s) are locked: '\(lock)'. Please remove the lock and try again."
        )
    }

    /// Routes an ARM request that passed faults and throttling.
    static func dispatch(_ route: Route, _ request: ARMRequest, context: Context, state: inout EmulatorState)
        -> ARMResponse
    {
        switch route {
        case .token, .managedIdentityToken, .resourceGraph, .keyVault:
            return ARMError.response(500, "InternalServerError", "unreachable route")
        case .unknown:
            return ARMError.response(
                404, "NotFound",
                "The emulator does not serve \(request.method) \(request.path): it serves clusters, their Microsoft.KubernetesConfiguration extensions, fluxConfigurations and sourceControlConfigurations, Resource Graph and the token endpoint."
            )
        case .clusterList(let subscription, let group, let kind):
            guard request.method == "GET" else { return methodNotAllowed(request) }
            if let bad = checkAPIVersion(request, supported: kind.apiVersions, type: kind.resourceType) { return bad }
            return Clusters.list(
                subscription: subscription, resourceGroup: group, kind: kind, request: request, state: state)
        case .cluster(let path):
            guard request.method == "GET" else {
                return ARMError.response(
                    405, "MethodNotAllowed",
                    "The emulator only reads clusters: \(request.method) of \(path.kind.resourceType) is not served.")
            }
            if let bad = checkAPIVersion(request, supported: path.kind.apiVersions, type: path.kind.resourceType) {
                return bad
            }
            return Clusters.get(path, state: state)
        case .childList(let path, let type):
            guard request.method == "GET" else { return methodNotAllowed(request) }
            if let bad = checkAPIVersion(request, supported: type.apiVersions, type: type.armType) { return bad }
            return Children.list(path, type, request: request, state: state)
        case .child(let path, let type, let name):
            if let bad = checkAPIVersion(request, supported: type.apiVersions, type: type.armType) { return bad }
            switch request.method {
            case "GET": return Children.get(path, type, name, state: state)
            case "PUT": return Children.put(path, type, name, request: request, state: &state)
            case "PATCH": return Children.patch(path, type, name, request: request, state: &state)
            case "DELETE": return Children.delete(path, type, name, request: request, state: &state)
            default: return methodNotAllowed(request)
            }
        case .operationStatus(let path, let type, let name, let operation):
            guard request.method == "GET" else { return methodNotAllowed(request) }
            if let bad = checkAPIVersion(request, supported: type.apiVersions, type: type.armType) { return bad }
            return Operations.status(path, type, name, operation, state: state)
        case .operationResult(let path, let type, let name, let operation):
            guard request.method == "GET" else { return methodNotAllowed(request) }
            if let bad = checkAPIVersion(request, supported: type.apiVersions, type: type.armType) { return bad }
            return Operations.result(path, type, name, operation, state: state)
        }
    }

    static func methodNotAllowed(_ request: ARMRequest) -> ARMResponse {
        ARMError.response(
            405, "MethodNotAllowed", "The requested resource does not support http method '\(request.method)'.")
    }

    /// 400 when `api-version` is missing or not one the resource type supports.
    static func checkAPIVersion(_ request: ARMRequest, supported: [String], type: String) -> ARMResponse? {
        guard let version = request.queryValue("api-version"), !version.isEmpty else {
            return ARMError.response(
                400, "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.")
        }
        guard supported.contains(where: { ASCII.equalsIgnoringCase($0, version) }) else {
            return ARMError.response(
                400, "NoRegisteredProviderFound",
                "No registered resource provider found for API version '\(version)' and type '\(type)'. The supported api-versions are '\(supported.joined(separator: ", "))'."
            )
        }
        return nil
    }

    /// A 5xx or a 429 storm answer, when the fault plan says so for this request.
    static func injectedFault(route: Route, context: Context, state: EmulatorState) -> ARMResponse? {
        let faults = state.configuration.faults
        let elapsed = state.now - state.startTime
        for storm in faults.storms where elapsed >= storm.start && elapsed < storm.start + storm.duration {
            let seconds = max(1, Int((storm.start + storm.duration - elapsed + 999) / 1000))
            let subscription = route.subscription ?? "unknown"
            var response = ARMError.response(
                429, "SubscriptionRequestsThrottled",
                "Number of requests for subscription '\(subscription)' exceeded the limit (throttling storm injected by the emulator). Please try again after '\(seconds)' seconds."
            )
            response.headers["Retry-After"] = String(seconds)
            return response
        }
        if Mix.chance(faults.throttled, context.seed, 5, context.number) {
            let seconds = 1 + Int(Mix.hash(context.seed, 6, context.number) % 3)
            var response = ARMError.response(
                429, "SubscriptionRequestsThrottled",
                "Number of requests for subscription '\(route.subscription ?? "unknown")' exceeded the limit (injected by the emulator). Please try again after '\(seconds)' seconds."
            )
            response.headers["Retry-After"] = String(seconds)
            return response
        }
        if Mix.chance(faults.serverErrors, context.seed, 3, context.number) {
            if Mix.hash(context.seed, 4, context.number) & 1 == 0 {
                return ARMError.response(
                    500, "InternalServerError", "Encountered internal server error (injected by the emulator).")
            }
            var response = ARMError.response(
                503, "ServiceUnavailable",
                "The service is temporarily unavailable (injected by the emulator). Please retry later.")
            response.headers["Retry-After"] = "5"
            return response
        }
        return nil
    }

    /// ARM's operation types, each with its own bucket.
    enum OperationType: String {
        case read
        case write
        case delete
    }

    /// Takes a token from the subscription's bucket for the operation type, or answers 429
    /// `SubscriptionRequestsThrottled`.
    static func throttle(
        subscription: String, operation: OperationType, limits: ThrottlingLimits, context: inout Context,
        state: inout EmulatorState
    ) -> ARMResponse? {
        let key = ASCII.lowercased(subscription)
        let now = state.now
        var buckets =
            state.buckets[key]
            ?? SubscriptionBuckets(
                writes: TokenBucket(burst: limits.writeBurst, at: now),
                deletes: TokenBucket(burst: limits.deleteBurst, at: now),
                reads: TokenBucket(burst: limits.readBurst, at: now))
        let burst: Int
        let refill: Int
        switch operation {
        case .read: (burst, refill) = (limits.readBurst, limits.readRefillPerSecond)
        case .write: (burst, refill) = (limits.writeBurst, limits.writeRefillPerSecond)
        case .delete: (burst, refill) = (limits.deleteBurst, limits.deleteRefillPerSecond)
        }
        var bucket: TokenBucket
        switch operation {
        case .read: bucket = buckets.reads
        case .write: bucket = buckets.writes
        case .delete: bucket = buckets.deletes
        }
        bucket.refill(to: now, burst: burst, refillPerSecond: refill)
        let granted = bucket.take()
        switch operation {
        case .read: buckets.reads = bucket
        case .write: buckets.writes = bucket
        case .delete: buckets.deletes = bucket
        }
        state.buckets[key] = buckets
        context.extraHeaders["x-ms-ratelimit-remaining-subscription-\(operation.rawValue)s"] = String(bucket.remaining)
        guard granted else {
            state.statistics.throttled += 1
            let seconds = bucket.secondsUntilToken(refillPerSecond: refill)
            var response = ARMError.response(
                429, "SubscriptionRequestsThrottled",
                "Number of '\(operation.rawValue)' requests for subscription '\(subscription)' exceeded the limit of \(burst) with \(refill) more per second. Please try again after '\(seconds)' seconds. Refer to https://aka.ms/arm-throttling"
            )
            response.headers["Retry-After"] = String(seconds)
            return response
        }
        switch operation {
        case .read: state.statistics.readsAccepted[key, default: 0] += 1
        case .write: state.statistics.writesAccepted[key, default: 0] += 1
        case .delete: state.statistics.deletesAccepted[key, default: 0] += 1
        }
        return nil
    }
}

/// What one request carries through the emulator: its number, ids and the headers to add.
struct Context {
    let request: ARMRequest
    let number: UInt64
    let seed: UInt64
    let now: Int64
    var extraHeaders: [String: String] = [:]

    init(request: ARMRequest, number: UInt64, seed: UInt64, now: Int64) {
        self.request = request
        self.number = number
        self.seed = seed
        self.now = now
    }

    /// The request's `x-ms-request-id`.
    var requestID: String { Mix.guid(seed, 10, number) }

    /// Adds the headers every answer carries.
    func finish(_ response: ARMResponse, state: EmulatorState) -> ARMResponse {
        var response = response
        let id = requestID
        response.headers["x-ms-request-id"] = id
        response.headers["x-ms-correlation-request-id"] = request.header("x-ms-correlation-request-id") ?? id
        response.headers["x-ms-routing-request-id"] = "EMULATOR:\(EmulatorClock.compact(state.now)):\(id)"
        if let client = request.header("x-ms-client-request-id") { response.headers["x-ms-client-request-id"] = client }
        for (name, value) in extraHeaders where response.headers[name] == nil { response.headers[name] = value }
        if !response.body.isEmpty && response.headers["Content-Type"] == nil {
            response.headers["Content-Type"] = "application/json; charset=utf-8"
        }
        response.headers["Date"] = EmulatorClock.httpDate(state.now)
        return response
    }
}

/// ARM's error bodies: `{"error": {"code", "message", "target"?}}`.
public enum ARMError {
    /// A response with an ARM error body.
    public static func response(_ status: Int, _ code: String, _ message: String, target: String? = nil)
        -> ARMResponse
    {
        ARMResponse(status: status, body: body(code, message, target: target).bytes)
    }

    /// The error body as JSON.
    static func body(_ code: String, _ message: String, target: String? = nil) -> JSON {
        var error: [String: JSON] = ["code": .string(code), "message": .string(message)]
        if let target { error["target"] = .string(target) }
        return .object(["error": .object(error)])
    }

    /// 404 `ResourceNotFound` for a resource id.
    static func notFound(type: String, name: String, resourceGroup: String) -> ARMResponse {
        response(
            404, "ResourceNotFound",
            "The Resource '\(type)/\(name)' under resource group '\(resourceGroup)' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
        )
    }

    /// 404 `ParentResourceNotFound` for a child whose cluster does not exist.
    static func parentNotFound(_ cluster: ClusterPath) -> ARMResponse {
        response(
            404, "ParentResourceNotFound",
            "Can not perform requested operation on nested resource. Parent resource '\(cluster.name)' not found.")
    }
}
