import FleetCore

/// Long-running operations: starting them, their polling headers and the two polling endpoints.
enum Operations {
    /// Starts an operation on a resource: its end is the configured delay from now, longer when the fault
    /// plan makes it slow, never when it is stuck or the cluster's agents cannot be reached.
    static func start(
        on resource: inout EmulatedResource, in cluster: EmulatedCluster, action: LongRunningOperation.Action,
        request: ARMRequest, state: inout EmulatorState
    ) -> LongRunningOperation {
        let config = state.configuration
        let seed = config.faults.seed ?? config.seed
        state.operationCount += 1
        let sequence = state.operationCount
        let index = UInt64(sequence)
        var delay: Int64
        switch (action, resource.type) {
        case (.delete, _): delay = config.deletionDelay
        case (_, .extensions): delay = config.extensionProvisioningDelay
        default: delay = config.configurationProvisioningDelay
        }
        if Mix.chance(config.faults.slowOperations, seed, 20, index) {
            delay *= Int64(max(1, config.faults.slowFactor))
        }
        let stuck = Mix.chance(config.faults.stuckOperations, seed, 21, index)
        let due: Int64? = stuck || !cluster.agentReachable ? nil : state.now + max(0, delay)
        var operation = LongRunningOperation(
            id: Mix.guid(seed, 11, index), resourceID: resource.id, clusterID: cluster.id, type: resource.type,
            action: action, apiVersion: request.queryValue("api-version") ?? resource.type.apiVersions[0],
            status: .inProgress, startTime: state.now, endTime: nil, dueAt: due,
            willFail: Mix.chance(config.faults.failedOperations, seed, 22, index), sequence: sequence)
        operation.complianceDelay = config.complianceDelay
        operation.installVersion = resource.isFluxExtension ? config.fluxExtensionVersion : "1.0.0"
        let key = ASCII.lowercased(operation.id)
        state.operations[key] = operation
        if let due { state.events.push(due, .operation(key)) }
        resource.operationID = operation.id
        return operation
    }

    /// `Azure-AsyncOperation`, `Location`, `Retry-After` and `x-ms-async-operation-timeout`.
    static func addHeaders(_ response: inout ARMResponse, _ operation: LongRunningOperation, state: EmulatorState) {
        let base = state.configuration.baseURL + operation.resourceID
        let version = PercentEncoding.encode(operation.apiVersion)
        response.headers["Azure-AsyncOperation"] = "\(base)/operations/\(operation.id)?api-version=\(version)"
        response.headers["Location"] = "\(base)/operationResults/\(operation.id)?api-version=\(version)"
        response.headers["Retry-After"] = String(state.configuration.pollRetryAfterSeconds)
        response.headers["x-ms-async-operation-timeout"] = operation.action == .delete ? "PT1H" : "PT48H"
    }

    /// The operation for a polling URL, if it exists and acts on the resource the URL names.
    private static func find(
        _ path: ClusterPath, _ type: ChildType, _ name: String, _ id: String, state: EmulatorState
    ) -> LongRunningOperation? {
        guard let operation = state.operation(id), operation.type == type,
            ResourceIDKey(operation.resourceID) == ResourceIDKey(path.childID(type, name))
        else { return nil }
        return operation
    }

    private static func missing(_ path: ClusterPath, _ type: ChildType, _ name: String, _ id: String) -> ARMResponse {
        ARMError.notFound(
            type: "\(path.namespace)/\(path.type)/\(path.name)/providers/\(type.armType)/\(name)/operations",
            name: id, resourceGroup: path.resourceGroup)
    }

    /// `GET …/operations/{id}`: 200 with `{id, name, status, startTime, endTime?, properties, error}`.
    static func status(
        _ path: ClusterPath, _ type: ChildType, _ name: String, _ id: String, state: EmulatorState
    ) -> ARMResponse {
        guard let operation = find(path, type, name, id, state: state) else { return missing(path, type, name, id) }
        var body: [String: JSON] = [
            "id": .string("\(operation.resourceID)/operations/\(operation.id)"),
            "name": .string(operation.id),
            "status": .string(operation.status.rawValue),
            "startTime": .string(EmulatorClock.iso8601(operation.startTime)),
            "properties": .object([:]),
            "error": .null,
        ]
        if let end = operation.endTime { body["endTime"] = .string(EmulatorClock.iso8601(end)) }
        if let code = operation.errorCode {
            body["error"] = .object(["code": .string(code), "message": .string(operation.errorMessage ?? "")])
        }
        var response = ARMResponse(status: 200, body: JSON.object(body).bytes)
        if !operation.status.isTerminal {
            response.headers["Retry-After"] = String(state.configuration.pollRetryAfterSeconds)
        }
        return response
    }

    /// `GET …/operationResults/{id}`: 202 (with `Location` and `Retry-After`) while running; then 200 with
    /// the resource (create, update) or 204 (delete); a failed operation answers 400 with its error, a
    /// canceled one 409.
    static func result(
        _ path: ClusterPath, _ type: ChildType, _ name: String, _ id: String, state: EmulatorState
    ) -> ARMResponse {
        guard let operation = find(path, type, name, id, state: state) else { return missing(path, type, name, id) }
        switch operation.status {
        case .inProgress:
            var response = ARMResponse(status: 202)
            addHeaders(&response, operation, state: state)
            response.headers["Azure-AsyncOperation"] = nil
            response.headers["x-ms-async-operation-timeout"] = nil
            return response
        case .failed:
            return ARMError.response(400, operation.errorCode ?? "OperationFailed", operation.errorMessage ?? "")
        case .canceled:
            return ARMError.response(409, operation.errorCode ?? "OperationCanceled", operation.errorMessage ?? "")
        case .succeeded:
            if operation.action == .delete { return ARMResponse(status: 204) }
            guard let cluster = state.cluster(operation.clusterID), let resource = cluster.child(type, name) else {
                return ARMResponse(status: 204)
            }
            return ARMResponse(status: 200, body: Rendering.resource(resource, in: cluster, state: state).bytes)
        }
    }
}

/// Resources as ARM returns them.
enum Rendering {
    /// A child resource's GET body: a fluxConfiguration on a cluster whose agent reports gets the
    /// `statusUpdatedAt` of the agent's last report (the last multiple of the report interval).
    static func resource(_ resource: EmulatedResource, in cluster: EmulatedCluster, state: EmulatorState) -> JSON {
        guard resource.type == .fluxConfigurations, cluster.agentReachable, resource.complianceDueAt == nil,
            resource.operationID.flatMap(state.operation).map({ $0.status.isTerminal }) ?? true,
            let provisioning = resource.provisioningState, ASCII.equalsIgnoringCase(provisioning, "Succeeded")
        else { return resource.body }
        let interval = max(1, state.configuration.statusReportInterval)
        let report = EmulatorClock.iso8601(state.now - state.now % interval)
        let stored = resource.body.value(atPath: "properties", "statusUpdatedAt")?.string ?? ""
        guard stored.prefix(19) < report.prefix(19) else { return resource.body }
        var body = resource.body
        body.set(path: "statusUpdatedAt", .string(report))
        return body
    }
}
