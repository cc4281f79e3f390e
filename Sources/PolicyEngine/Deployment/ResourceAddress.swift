import FleetCore

/// Turns a template resource's `type`, `name` and `scope` into a full ARM id.
///
/// Three shapes are understood, all deployed into the cluster's resource group:
/// - Extension resource: `scope` `Microsoft.ContainerService/managedClusters/c` (relative to the resource group)
///   or a full resource id, `type` `Microsoft.KubernetesConfiguration/fluxConfigurations`, `name` `cfg` →
///   `<rg>/providers/Microsoft.ContainerService/managedClusters/c/providers/Microsoft.KubernetesConfiguration/`
///   `fluxConfigurations/cfg`.
/// - Legacy nested extension: `type`
///   `Microsoft.ContainerService/managedClusters/providers/sourceControlConfigurations`, `name`
///   `c/Microsoft.KubernetesConfiguration/cfg` → the same URL shape with the namespace taken from the name.
/// - Plain (child) resource: `type` `A.B/t1/t2`, `name` `n1/n2` → `<rg>/providers/A.B/t1/n1/t2/n2`.
struct ResourceAddress: Sendable, Equatable {
    /// The full id.
    var id: String
    /// The resource type the id names (for the legacy form, the extension type).
    var type: String
    /// The last name segment.
    var name: String

    static func resolve(
        type: String,
        name: String,
        scope: String?,
        resourceGroupID: String,
        at path: DeploymentPath
    ) throws(DeploymentError) -> ResourceAddress {
        let typeSegments = try segments(type, at: path.key("type"), what: "type")
        let nameSegments = try segments(name, at: path.key("name"), what: "name")
        let providerIndex = typeSegments.firstIndex { ASCII.equalsIgnoringCase($0, "providers") }
        let address: ResourceAddress
        if let scope, !scope.isEmpty {
            guard providerIndex == nil else {
                throw path.key("type").error("a nested '…/providers/…' type cannot be combined with 'scope'")
            }
            let parent: String
            if scope.hasPrefix("/") {
                do {
                    parent = try ResourceID(parsing: scope).description
                } catch {
                    throw path.key("scope").error("not a valid resource id: \(error.reason)")
                }
            } else {
                let scopeSegments = try segments(scope, at: path.key("scope"), what: "scope")
                guard scopeSegments.count >= 3, scopeSegments.count % 2 == 1 else {
                    throw path.key("scope").error(
                        "'\(scope)' is not a resource: expected 'Namespace/type/name' (a type segment for every name)")
                }
                parent = resourceGroupID + "/providers/" + scopeSegments.joined(separator: "/")
            }
            let own = try interleave(types: typeSegments, names: nameSegments, at: path)
            address = ResourceAddress(id: parent + "/providers/" + own, type: type, name: nameSegments.last!)
        } else if let providerIndex {
            address = try nested(typeSegments, nameSegments, providerIndex: providerIndex, resourceGroupID, at: path)
        } else {
            let own = try interleave(types: typeSegments, names: nameSegments, at: path)
            address = ResourceAddress(id: resourceGroupID + "/providers/" + own, type: type, name: nameSegments.last!)
        }
        do {
            _ = try ResourceID(parsing: address.id)
        } catch {
            throw path.error("the resource id '\(address.id)' is not valid: \(error.reason)")
        }
        return address
    }

    /// The legacy `Parent.NS/parentType/providers/childType` + `parent/Child.NS/child` form.
    private static func nested(
        _ typeSegments: [String],
        _ nameSegments: [String],
        providerIndex: Int,
        _ resourceGroupID: String,
        at path: DeploymentPath
    ) throws(DeploymentError) -> ResourceAddress {
        let parentTypes = Array(typeSegments[..<providerIndex])
        let childTypes = Array(typeSegments[(providerIndex + 1)...])
        guard parentTypes.count >= 2, !childTypes.isEmpty,
            !childTypes.contains(where: { ASCII.equalsIgnoringCase($0, "providers") })
        else {
            throw path.key("type").error(
                "a nested extension type must look like 'Parent.Namespace/parentType/providers/childType'")
        }
        let parentNameCount = parentTypes.count - 1
        guard nameSegments.count == parentNameCount + 1 + childTypes.count else {
            throw path.key("name").error(
                "a nested extension name must have \(parentNameCount + 1 + childTypes.count) segments "
                    + "('parent/Child.Namespace/child'), it has \(nameSegments.count)")
        }
        let parentNames = Array(nameSegments[..<parentNameCount])
        let namespace = nameSegments[parentNameCount]
        let childNames = Array(nameSegments[(parentNameCount + 1)...])
        let parent = try interleave(types: parentTypes, names: parentNames, at: path)
        let child = try interleave(types: [namespace] + childTypes, names: childNames, at: path)
        return ResourceAddress(
            id: resourceGroupID + "/providers/" + parent + "/providers/" + child,
            type: ([namespace] + childTypes).joined(separator: "/"),
            name: childNames.last!)
    }

    /// `Namespace/t1/n1/t2/n2` from `[Namespace, t1, t2]` and `[n1, n2]`.
    private static func interleave(
        types: [String],
        names: [String],
        at path: DeploymentPath
    ) throws(DeploymentError) -> String {
        guard types.count >= 2 else {
            throw path.key("type").error("'\(types.joined(separator: "/"))' is not a resource type ('Namespace/type')")
        }
        guard names.count == types.count - 1 else {
            throw path.key("name").error(
                "the name has \(names.count) segment(s) but the type '\(types.joined(separator: "/"))' needs "
                    + "\(types.count - 1)")
        }
        var parts = [types[0]]
        for (type, name) in zip(types.dropFirst(), names) {
            parts.append(type)
            parts.append(name)
        }
        return parts.joined(separator: "/")
    }

    private static func segments(_ text: String, at path: DeploymentPath, what: String) throws(DeploymentError)
        -> [String]
    {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !text.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw path.error("the \(what) '\(text)' has an empty segment")
        }
        return parts
    }
}
