import FleetCore

/// Extensions, fluxConfigurations and sourceControlConfigurations under a cluster.
enum Children {
    // MARK: - Reads

    static func get(_ path: ClusterPath, _ type: ChildType, _ name: String, state: EmulatorState) -> ARMResponse {
        guard let cluster = state.cluster(path.id) else { return ARMError.parentNotFound(path) }
        guard let resource = cluster.child(type, name) else { return notFound(path, type, name) }
        return ARMResponse(status: 200, body: Rendering.resource(resource, in: cluster, state: state).bytes)
    }

    static func list(_ path: ClusterPath, _ type: ChildType, request: ARMRequest, state: EmulatorState)
        -> ARMResponse
    {
        guard let cluster = state.cluster(path.id) else { return ARMError.parentNotFound(path) }
        let items = cluster.children(type).map { Rendering.resource($0, in: cluster, state: state) }
        return Paging.page(items, request: request, state: state)
    }

    static func notFound(_ path: ClusterPath, _ type: ChildType, _ name: String) -> ARMResponse {
        ARMError.notFound(
            type: "\(path.namespace)/\(path.type)/\(path.name)/providers/\(type.armType)", name: name,
            resourceGroup: path.resourceGroup)
    }

    // MARK: - Writes

    /// The checks every write shares: the cluster exists and uses a managed identity.
    ///
    /// A stopped AKS cluster (like a disconnected Arc cluster) accepts writes: ARM takes the request, the cluster's
    /// agents cannot act on it, so its operation stays `InProgress` until the cluster runs again.
    private static func writableCluster(_ path: ClusterPath, _ type: ChildType, state: EmulatorState)
        -> Result<EmulatedCluster, Failure>
    {
        guard let cluster = state.cluster(path.id) else { return .failure(Failure(ARMError.parentNotFound(path))) }
        if cluster.kind == .managedClusters && !cluster.usesManagedIdentity && type != .sourceControlConfigurations {
            return .failure(
                Failure(
                    ARMError.response(
                        400, "ExtensionOperationFailed",
                        "The extension operation failed: cluster extensions are only supported on AKS clusters that use a managed identity; '\(path.name)' uses a service principal. Enable a managed identity with az aks update --enable-managed-identity."
                    )))
        }
        return .success(cluster)
    }

    /// 409 when an operation on the resource is still running.
    private static func busy(_ resource: EmulatedResource?, state: EmulatorState) -> ARMResponse? {
        guard let resource, let operation = resource.operationID.flatMap(state.operation), !operation.status.isTerminal
        else { return nil }
        return ARMError.response(
            409, "OperationNotAllowed",
            "Another operation (\(operation.action.rawValue), id \(operation.id)) is in progress on '\(resource.name)'; wait for it to finish and retry."
        )
    }

    private struct Failure: Error {
        let response: ARMResponse
        init(_ response: ARMResponse) { self.response = response }
    }

    /// The request body as a JSON object, or 400 `InvalidRequestContent`.
    private static func objectBody(_ request: ARMRequest) -> Result<JSON, Failure> {
        guard !request.body.isEmpty else {
            return .failure(
                Failure(
                    ARMError.response(
                        400, "InvalidRequestContent", "The request content was empty: expected a JSON object.")))
        }
        do {
            let json = try JSON.parse(bytes: request.body, source: "request body")
            guard json.isObject else {
                return .failure(
                    Failure(
                        ARMError.response(
                            400, "InvalidRequestContent", "The request content was invalid: expected a JSON object.")))
            }
            if let properties = json.member(ignoringCase: "properties"), !properties.isObject, !properties.isNull {
                return .failure(
                    Failure(
                        ARMError.response(
                            400, "InvalidRequestContent",
                            "The request content was invalid: 'properties' must be an object.", target: "properties")))
            }
            return .success(json)
        } catch {
            return .failure(
                Failure(
                    ARMError.response(
                        400, "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized: \(error)")))
        }
    }

    static func put(
        _ path: ClusterPath, _ type: ChildType, _ name: String, request: ARMRequest, state: inout EmulatorState
    ) -> ARMResponse {
        let cluster: EmulatedCluster
        switch writableCluster(path, type, state: state) {
        case .failure(let failure): return failure.response
        case .success(let c): cluster = c
        }
        if type == .sourceControlConfigurations {
            return ARMError.response(
                405, "MethodNotAllowed",
                "Flux v1 (sourceControlConfigurations) is retired: the emulator serves only GET and DELETE of them.")
        }
        let body: JSON
        switch objectBody(request) {
        case .failure(let failure): return failure.response
        case .success(let b): body = b
        }
        let existing = cluster.child(type, name)
        if let conflict = busy(existing, state: state) { return conflict }
        let requested = Specs.writable(body.member(ignoringCase: "properties") ?? .object([:]), type)
        var properties: JSON
        switch type {
        case .extensions:
            guard
                let extensionType = requested.member(ignoringCase: "extensionType")?.string ?? existing?.extensionType,
                !extensionType.isEmpty
            else {
                return ARMError.response(
                    400, "InvalidRequestContent", "properties.extensionType is required to create an extension.",
                    target: "properties.extensionType")
            }
            properties = Specs.extensionProperties(requested, extensionType: extensionType)
            if let existing {
                if let refusal = Specs.immutableChange(
                    existing.body.member(ignoringCase: "properties") ?? .null, properties,
                    keys: ["extensionType", "scope"])
                {
                    return refusal
                }
            }
            if ASCII.equalsIgnoringCase(extensionType, "microsoft.flux") {
                if let refusal = fluxExtensionRules(cluster, name: name) { return refusal }
            }
        case .fluxConfigurations:
            if let refusal = requireFluxExtension(cluster) { return refusal }
            properties = Specs.fluxProperties(requested)
            if let existing,
                let refusal = Specs.immutableChange(
                    existing.body.member(ignoringCase: "properties") ?? .null, properties, keys: ["scope", "namespace"])
            {
                return refusal
            }
        case .sourceControlConfigurations:
            return ARMError.response(500, "InternalServerError", "unreachable")
        }

        let id = existing?.id ?? path.childID(type, name)
        let now = state.now
        var resource = existing ?? EmulatedResource(id: id, type: type, body: .object([:]))
        var document: JSON = .object([
            "id": .string(id), "name": .string(resource.name), "type": .string(type.armType),
            "systemData": resource.body.member(ignoringCase: "systemData") ?? Specs.systemData(at: now),
        ])
        document.setSystemDataModified(at: now)
        // Read-only state carried over from the resource as it was.
        let old = existing?.body.member(ignoringCase: "properties") ?? .object([:])
        switch type {
        case .extensions:
            properties.set("currentVersion", old.member(ignoringCase: "currentVersion") ?? .null)
            properties.set("statuses", old.member(ignoringCase: "statuses") ?? .array([]))
            properties.set("errorInfo", old.member(ignoringCase: "errorInfo") ?? .null)
            properties.set("isSystemExtension", .bool(false))
            if let identity = body.member(ignoringCase: "identity"), identity.isObject {
                document.set("identity", Specs.identity(identity, for: id, seed: state.configuration.seed))
            } else if let identity = existing?.body.member(ignoringCase: "identity") {
                document.set("identity", identity)
            } else if cluster.kind != .managedClusters {
                document.set(
                    "identity",
                    Specs.identity(
                        .object(["type": .string("SystemAssigned")]), for: id, seed: state.configuration.seed))
            }
        case .fluxConfigurations:
            for key in ["statuses", "sourceSyncedCommitId", "sourceUpdatedAt"] {
                properties.set(key, old.member(ignoringCase: key) ?? (key == "statuses" ? .array([]) : .null))
            }
            properties.set("repositoryPublicKey", old.member(ignoringCase: "repositoryPublicKey") ?? .string(""))
            properties.set("complianceState", .string("Pending"))
            properties.set("errorMessage", .string(""))
            properties.set("statusUpdatedAt", .string(EmulatorClock.iso8601(now)))
        case .sourceControlConfigurations:
            break
        }
        properties.set("provisioningState", .string(existing == nil ? "Creating" : "Updating"))
        document.set("properties", properties)
        resource.body = document
        resource.complianceDueAt = nil
        let operation = Operations.start(
            on: &resource, in: cluster, action: existing == nil ? .create : .update, request: request, state: &state)
        state.store(resource, in: cluster)
        var response = ARMResponse(
            status: existing == nil ? 201 : 200, body: Rendering.resource(resource, in: cluster, state: state).bytes)
        Operations.addHeaders(&response, operation, state: state)
        return response
    }

    static func patch(
        _ path: ClusterPath, _ type: ChildType, _ name: String, request: ARMRequest, state: inout EmulatorState
    ) -> ARMResponse {
        let cluster: EmulatedCluster
        switch writableCluster(path, type, state: state) {
        case .failure(let failure): return failure.response
        case .success(let c): cluster = c
        }
        guard type != .sourceControlConfigurations else { return ARMEmulator.methodNotAllowed(request) }
        let body: JSON
        switch objectBody(request) {
        case .failure(let failure): return failure.response
        case .success(let b): body = b
        }
        guard var resource = cluster.child(type, name) else { return notFound(path, type, name) }
        if let conflict = busy(resource, state: state) { return conflict }
        let current = resource.body.member(ignoringCase: "properties") ?? .object([:])
        let patch = Specs.writable(body.member(ignoringCase: "properties") ?? .object([:]), type)
        let normalize = { (properties: JSON) -> JSON in
            type == .extensions
                ? Specs.extensionProperties(
                    properties,
                    extensionType: properties.member(ignoringCase: "extensionType")?.string ?? resource.extensionType
                        ?? "")
                : Specs.fluxProperties(properties)
        }
        let before = normalize(Specs.writable(current, type))
        let merged = normalize(Specs.writable(current, type).merging(patch: patch))
        let keys = type == .extensions ? ["extensionType", "scope"] : ["scope", "namespace"]
        if let refusal = Specs.immutableChange(current, merged, keys: keys) { return refusal }
        if merged == before {
            // Nothing changes: ARM answers 200 with the resource and starts no operation.
            return ARMResponse(status: 200, body: Rendering.resource(resource, in: cluster, state: state).bytes)
        }
        var properties = current
        for (key, value) in merged.objectMembers { properties.set(key, value) }
        for key in Specs.writable(current, type).objectMembers.keys where merged.member(ignoringCase: key) == nil {
            properties.remove(key)
        }
        properties.set("provisioningState", .string("Updating"))
        if type == .fluxConfigurations {
            properties.set("complianceState", .string("Pending"))
            properties.set("statusUpdatedAt", .string(EmulatorClock.iso8601(state.now)))
        }
        resource.body.set("properties", properties)
        resource.body.setSystemDataModified(at: state.now)
        resource.complianceDueAt = nil
        let operation = Operations.start(on: &resource, in: cluster, action: .update, request: request, state: &state)
        state.store(resource, in: cluster)
        var response = ARMResponse(status: 202, body: Rendering.resource(resource, in: cluster, state: state).bytes)
        Operations.addHeaders(&response, operation, state: state)
        return response
    }

    static func delete(
        _ path: ClusterPath, _ type: ChildType, _ name: String, request: ARMRequest, state: inout EmulatorState
    ) -> ARMResponse {
        guard let cluster = state.cluster(path.id) else { return ARMError.parentNotFound(path) }
        guard var resource = cluster.child(type, name) else { return ARMResponse(status: 204) }
        if request.queryValue("forceDelete").map({ ASCII.equalsIgnoringCase($0, "true") }) == true {
            // Removes the Azure resource at once, without waiting for the cluster's agents.
            if let id = resource.operationID { state.cancel(id) }
            state.remove(resource, in: cluster)
            return ARMResponse(status: 200)
        }
        if let running = resource.operationID.flatMap(state.operation), !running.status.isTerminal {
            guard running.action == .delete else {
                return busy(resource, state: state) ?? ARMResponse(status: 500)
            }
            // Deleting already: the same operation again.
            var response = ARMResponse(status: 202)
            Operations.addHeaders(&response, running, state: state)
            return response
        }
        resource.body.set(path: "provisioningState", .string("Deleting"))
        resource.complianceDueAt = nil
        let operation = Operations.start(on: &resource, in: cluster, action: .delete, request: request, state: &state)
        state.store(resource, in: cluster)
        var response = ARMResponse(status: 202)
        Operations.addHeaders(&response, operation, state: state)
        return response
    }

    // MARK: - Server-side rules

    /// Flux v1 configurations block the Flux extension; a cluster holds one Flux extension.
    private static func fluxExtensionRules(_ cluster: EmulatedCluster, name: String) -> ARMResponse? {
        let v1 = cluster.children(.sourceControlConfigurations)
        if !v1.isEmpty {
            return ARMError.response(
                400, "ExtensionOperationFailed",
                "The extension operation failed: Flux v1 configurations (sourceControlConfigurations: \(v1.map(\.name).joined(separator: ", "))) exist on the cluster and block the microsoft.flux extension; migrate them to Flux v2 and delete them first."
            )
        }
        if let other = cluster.fluxExtension, !ASCII.equalsIgnoringCase(other.name, name) {
            return ARMError.response(
                400, "ExtensionOperationFailed",
                "The extension operation failed: the extension type microsoft.flux is already installed on the cluster as '\(other.name)'; a cluster holds one instance."
            )
        }
        return nil
    }

    /// A fluxConfiguration needs a `Succeeded` `microsoft.flux` extension on the cluster.
    private static func requireFluxExtension(_ cluster: EmulatedCluster) -> ARMResponse? {
        guard let flux = cluster.fluxExtension else {
            return ARMError.response(
                400, "BadRequest",
                "The 'microsoft.flux' extension is not installed on the cluster: install it before creating Flux configurations.",
                target: "microsoft.flux")
        }
        let state = flux.provisioningState ?? "Unknown"
        guard ASCII.equalsIgnoringCase(state, "Succeeded") else {
            return ARMError.response(
                400, "BadRequest",
                "The 'microsoft.flux' extension '\(flux.name)' is in provisioningState '\(state)', not 'Succeeded': Flux configurations can be created once it is.",
                target: "microsoft.flux")
        }
        return nil
    }
}

/// Request bodies turned into stored properties, as ARM fills defaults and drops what it never returns.
enum Specs {
    /// Properties ARM computes and ignores in a request.
    static let readOnly: [ChildType: [String]] = [
        .extensions: [
            "provisioningState", "currentVersion", "installedVersion", "statuses", "errorInfo",
            "customLocationSettings", "packageUri", "isSystemExtension", "extensionState", "aksAssignedIdentity",
            "configurationProtectedSettings",
        ],
        .fluxConfigurations: [
            "provisioningState", "complianceState", "statuses", "errorMessage", "repositoryPublicKey",
            "sourceSyncedCommitId", "sourceUpdatedAt", "statusUpdatedAt", "configurationProtectedSettings",
        ],
        .sourceControlConfigurations: [],
    ]

    /// The writable part of a properties object (secrets, which ARM never returns, dropped too).
    static func writable(_ properties: JSON, _ type: ChildType) -> JSON {
        var properties = properties.isObject ? properties : .object([:])
        for key in readOnly[type] ?? [] { properties.remove(key) }
        return properties
    }

    static func extensionProperties(_ requested: JSON, extensionType: String) -> JSON {
        var p = requested
        p.set("extensionType", .string(extensionType))
        p.setDefault("autoUpgradeMinorVersion", .bool(true))
        if p.member(ignoringCase: "autoUpgradeMinorVersion")?.boolValue != false {
            p.setDefault("releaseTrain", .string("Stable"))
        }
        p.setDefault("version", .null)
        let namespace = ASCII.equalsIgnoringCase(extensionType, "microsoft.flux") ? "flux-system" : "default"
        p.setDefault("scope", .object(["cluster": .object(["releaseNamespace": .string(namespace)])]))
        p.setDefault("configurationSettings", .object([:]))
        return p
    }

    static func fluxProperties(_ requested: JSON) -> JSON {
        var p = requested
        p.setDefault("scope", .string("cluster"))
        p.setDefault("namespace", .string("default"))
        p.setDefault("sourceKind", .string("GitRepository"))
        p.setDefault("suspend", .bool(false))
        for key in ["gitRepository", "bucket", "azureBlob", "ociRepository"] {
            guard var source = p.member(ignoringCase: key), source.isObject else { continue }
            source.setDefault("timeoutInSeconds", .int(600))
            source.setDefault("syncIntervalInSeconds", .int(600))
            if key == "gitRepository", var ref = source.member(ignoringCase: "repositoryRef"), ref.isObject {
                for name in ["branch", "tag", "semver", "commit"] { ref.setDefault(name, .null) }
                source.set("repositoryRef", ref)
            }
            p.set(key, source)
        }
        var kustomizations = p.member(ignoringCase: "kustomizations")?.objectMembers ?? [:]
        for (name, value) in kustomizations {
            var k = value.isObject ? value : .object([:])
            k.set("name", .string(name))
            k.setDefault("path", .string(""))
            k.setDefault("dependsOn", .array([]))
            k.setDefault("timeoutInSeconds", .int(600))
            k.setDefault("syncIntervalInSeconds", .int(600))
            k.setDefault("prune", .bool(false))
            k.setDefault("force", .bool(false))
            k.setDefault("wait", .bool(true))
            kustomizations[name] = k
        }
        p.set("kustomizations", .object(kustomizations))
        return p
    }

    /// 400 `PropertyChangeNotAllowed` when a create-only property differs.
    static func immutableChange(_ old: JSON, _ new: JSON, keys: [String]) -> ARMResponse? {
        for key in keys {
            let before = old.member(ignoringCase: key)
            let after = new.member(ignoringCase: key)
            guard let before, let after, !equalIgnoringStringCase(before, after) else { continue }
            return ARMError.response(
                400, "PropertyChangeNotAllowed",
                "Changing property '\(key)' is not allowed: it can only be set when the resource is created (was \(String(decoding: before.bytes, as: UTF8.self)), requested \(String(decoding: after.bytes, as: UTF8.self))). Delete the resource and create it again.",
                target: "properties.\(key)")
        }
        return nil
    }

    private static func equalIgnoringStringCase(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return ASCII.equalsIgnoringCase(x, y)
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                guard let other = b.member(ignoringCase: key), equalIgnoringStringCase(value, other) else {
                    return false
                }
            }
            return true
        default: return a == b
        }
    }

    static func systemData(at time: Int64) -> JSON {
        let stamp = JSON.string(EmulatorClock.iso8601(time))
        let by = JSON.string("fluxfleet-emulator")
        return .object([
            "createdBy": by, "createdByType": .string("Application"), "createdAt": stamp,
            "lastModifiedBy": by, "lastModifiedByType": .string("Application"), "lastModifiedAt": stamp,
        ])
    }

    /// A SystemAssigned identity with a principal id derived from the resource id.
    static func identity(_ requested: JSON, for id: String, seed: UInt64) -> JSON {
        var identity = requested
        if ASCII.equalsIgnoringCase(identity.member(ignoringCase: "type")?.string ?? "", "SystemAssigned") {
            var h: UInt64 = 0
            for byte in ASCII.lowercased(id).utf8 { h = Mix.hash(h, UInt64(byte), 7) }
            identity.setDefault("principalId", .string(Mix.guid(seed, 12, h)))
        }
        return identity
    }
}

extension EmulatorState {
    /// Puts a child resource back into its cluster.
    mutating func store(_ resource: EmulatedResource, in cluster: EmulatedCluster) {
        let key = ResourceIDKey(cluster.id)
        clusters[key]?.children[resource.type, default: [:]][ASCII.lowercased(resource.name)] = resource
    }

    /// Removes a child resource from its cluster.
    mutating func remove(_ resource: EmulatedResource, in cluster: EmulatedCluster) {
        let key = ResourceIDKey(cluster.id)
        let name = ASCII.lowercased(resource.name)
        clusters[key]?.children[resource.type]?[name] = nil
    }

    /// Cancels an operation in flight.
    mutating func cancel(_ operationID: String) {
        let key = ASCII.lowercased(operationID)
        guard var operation = operations[key], !operation.status.isTerminal else { return }
        operation.status = .canceled
        operation.endTime = now
        operation.error = ("OperationCanceled", "The operation was canceled: the resource was force-deleted.")
        operations[key] = operation
    }
}
