import FleetCore
import PolicyEngine

/// The Azure RBAC permissions applying a plan needs: ARM actions per resource group, and the Key Vault data action
/// per vault its secret references name, so teams can grant exactly that instead of Contributor.
///
/// Derived from the plan's `change` clusters and their actions, following what `apply` sends:
/// - every target is read back before anything is written (the cluster, and the lists of its extensions,
///   fluxConfigurations and Flux v1 sourceControlConfigurations): `…/read` on each of those types;
/// - an extension action PUTs the extension and polls its operation: `extensions/write`,
///   `extensions/operations/read`;
/// - a configuration action PUTs the configuration and polls it: `fluxConfigurations/write`,
///   `fluxConfigurations/operations/read`; a replacement deletes it first: `fluxConfigurations/delete`;
/// - a Flux v1 migration deletes the sourceControlConfiguration: `sourceControlConfigurations/delete`;
/// - a `{"reference": {"keyVault": {"id": …}, "secretName": …}}` secret is read at apply time:
///   `Microsoft.KeyVault/vaults/secrets/getSecret/action` on the vault (the data action of the built-in role Key
///   Vault Secrets User; a vault on access policies needs the secret permission `get` instead).
///
/// Scopes are resource groups (ARM grants at a resource group cover its clusters and their extension resources),
/// so a role assignment per scope listed is enough; ids compare ignoring case, the first spelling is kept.
public struct PlanPermissions: Sendable, Hashable {
    /// The data action that reads a Key Vault secret's value.
    public static let keyVaultGetSecret = "Microsoft.KeyVault/vaults/secrets/getSecret/action"

    /// One action needed on a scope, and why.
    public struct Need: Sendable, Hashable {
        /// The ARM action or data action, such as `Microsoft.KubernetesConfiguration/extensions/write`.
        public var action: String
        /// The plan actions that need it, counted: `install-extension ×2, upgrade-extension`.
        public var why: String
    }

    /// One scope and what is needed on it.
    public struct Grant: Sendable, Hashable {
        /// The scope: `/subscriptions/{s}/resourceGroups/{rg}`, or a Key Vault's resource id.
        public var scope: String
        /// Clusters of the plan under the scope that need a change (0 for a vault).
        public var clusters: Int
        /// The ARM actions, sorted, each with why it is needed (`install-extension ×2`, `read back before apply`).
        public var actions: [Need]
        /// The data actions (Key Vault), sorted, each with why.
        public var dataActions: [Need]
    }

    /// Resource-group scopes (sorted ignoring case), then Key Vault scopes (sorted).
    public var grants: [Grant]
    /// Clusters of the plan that need a change.
    public var clustersToChange: Int

    /// The permissions `plan` needs to be applied.
    public init(plan: Plan) {
        var groups: [String: Accumulator] = [:]
        var vaults: [String: Accumulator] = [:]
        var order: [String] = []
        var vaultOrder: [String] = []
        var changing = 0
        for cluster in plan.clusters where cluster.decision == .change {
            changing += 1
            guard let id = try? ResourceID(parsing: cluster.clusterId), let group = id.resourceGroup else { continue }
            let scope = "/subscriptions/\(id.subscriptionId)/resourceGroups/\(group)"
            let key = ASCII.lowercased(scope)
            if groups[key] == nil {
                groups[key] = Accumulator(scope: scope)
                order.append(key)
            }
            groups[key]!.clusters += 1
            for action in Self.readBack(clusterType: id.resourceType) {
                groups[key]!.add(action, "read back before apply")
            }
            for action in cluster.actions {
                for needed in Self.actions(for: action.kind) { groups[key]!.add(needed, action.kind.rawValue) }
                for vault in Self.keyVaults(in: action.body) {
                    let vaultKey = ASCII.lowercased(vault)
                    if vaults[vaultKey] == nil {
                        vaults[vaultKey] = Accumulator(scope: vault)
                        vaultOrder.append(vaultKey)
                    }
                    vaults[vaultKey]!.add(Self.keyVaultGetSecret, "secret reference in \(action.kind.rawValue)")
                }
            }
        }
        clustersToChange = changing
        grants =
            order.sorted().map { groups[$0]!.grant(data: false) }
            + vaultOrder.sorted().map { vaults[$0]!.grant(data: true) }
    }

    /// Every ARM action of every grant, sorted and without repeats.
    public var allActions: [String] { Array(Set(grants.flatMap { $0.actions.map(\.action) })).sorted() }

    /// Every data action of every grant, sorted and without repeats.
    public var allDataActions: [String] { Array(Set(grants.flatMap { $0.dataActions.map(\.action) })).sorted() }

    /// The read actions `apply` needs on a cluster of `clusterType` before it writes anything.
    static func readBack(clusterType: String) -> [String] {
        [
            clusterType + "/read",
            "Microsoft.KubernetesConfiguration/extensions/read",
            "Microsoft.KubernetesConfiguration/fluxConfigurations/read",
            "Microsoft.KubernetesConfiguration/sourceControlConfigurations/read",
        ]
    }

    /// The write, delete and operation-status actions one plan action sends.
    static func actions(for kind: PlanActionKind) -> [String] {
        let extensions = "Microsoft.KubernetesConfiguration/extensions"
        let configurations = "Microsoft.KubernetesConfiguration/fluxConfigurations"
        switch kind {
        case .installExtension, .repairExtension, .upgradeExtension:
            return [extensions + "/write", extensions + "/operations/read"]
        case .createConfiguration, .updateConfiguration:
            return [configurations + "/write", configurations + "/operations/read"]
        case .replaceConfiguration:
            return [configurations + "/delete", configurations + "/write", configurations + "/operations/read"]
        case .deleteFluxV1:
            return ["Microsoft.KubernetesConfiguration/sourceControlConfigurations/delete"]
        }
    }

    /// The vault ids of the Key Vault secret references in a planned body.
    static func keyVaults(in body: JSON?) -> [String] {
        guard let body else { return [] }
        if let reference = ParameterSecretReference.reference(in: body) {
            guard let id = member(member(member(reference, "reference"), "keyVault"), "id")?.string else { return [] }
            return [id]
        }
        switch body {
        case .object(let members): return members.keys.sorted().flatMap { keyVaults(in: members[$0]) }
        case .array(let items): return items.flatMap { keyVaults(in: $0) }
        default: return []
        }
    }

    /// An object member found ignoring case (parameter entries accept any casing).
    private static func member(_ value: JSON?, _ name: String) -> JSON? {
        guard case .object(let members)? = value else { return nil }
        if let exact = members[name] { return exact }
        return members.first { ASCII.equalsIgnoringCase($0.key, name) }?.value
    }

    /// What one scope needs, with the reasons counted.
    private struct Accumulator {
        var scope: String
        var clusters = 0
        var reasons: [String: [String: Int]] = [:]

        mutating func add(_ action: String, _ why: String) { reasons[action, default: [:]][why, default: 0] += 1 }

        func grant(data: Bool) -> Grant {
            let entries = reasons.keys.sorted().map { action in
                let why = reasons[action]!.sorted { $0.key < $1.key }.map {
                    $0.value > 1 ? "\($0.key) ×\($0.value)" : $0.key
                }
                return Need(action: action, why: why.joined(separator: ", "))
            }
            return Grant(
                scope: scope, clusters: clusters, actions: data ? [] : entries, dataActions: data ? entries : [])
        }
    }
}

extension PlanPermissions {
    /// The permissions as text: a block per scope with each action and why, then how to grant them.
    public func table() -> String {
        guard !grants.isEmpty else {
            return """
                The plan changes nothing, so applying it needs no write permission. Reading the fleet \
                (scan, plan) needs read access to the clusters and their Microsoft.KubernetesConfiguration \
                resources: the built-in Reader role on the subscriptions or resource groups.

                """
        }
        let groups = grants.filter { $0.dataActions.isEmpty }.count
        let vaults = grants.count - groups
        var text =
            "Applying this plan (\(clustersToChange) cluster\(clustersToChange == 1 ? "" : "s") to change) needs "
        text += "these permissions on \(groups) resource group\(groups == 1 ? "" : "s")"
        text += vaults > 0 ? " and \(vaults) key vault\(vaults == 1 ? "" : "s"):\n" : ":\n"
        let width = (grants.flatMap { $0.actions + $0.dataActions }.map(\.action.count).max() ?? 0) + 2
        for grant in grants {
            text += "\n"
            if grant.dataActions.isEmpty {
                text += "\(grant.scope)  (\(grant.clusters) cluster\(grant.clusters == 1 ? "" : "s"))\n"
            } else {
                text += "\(grant.scope)  (Key Vault data action)\n"
            }
            for entry in grant.actions + grant.dataActions {
                text += "  " + entry.action + String(repeating: " ", count: max(2, width - entry.action.count))
                text += entry.why + "\n"
            }
        }
        text += """

            Grant them with a custom role scoped to the resource groups above (--output json prints one
            for `az role definition create --role-definition @role.json`), or with the built-in Kubernetes
            Extension Contributor plus a role that writes fluxConfigurations. Reading the fleet needs the
            Reader role on the same scopes.

            """
        if vaults > 0 {
            text += """
                Key Vault: assign Key Vault Secrets User on each vault (RBAC), or give the identity the
                secret permission `get` in the vault's access policies.

                """
        }
        return text
    }

    /// The permissions as JSON: `{"formatVersion": 1, "clustersToChange", "scopes": [{"scope", "clusters",
    /// "actions": [{"action", "why"}], "dataActions": [...]}], "roleDefinition": {…}}`, where `roleDefinition` is
    /// a custom role in the shape `az role definition create --role-definition` reads (`Name`, `IsCustom`,
    /// `Description`, `Actions`, `NotActions`, `DataActions`, `NotDataActions`, `AssignableScopes`).
    public func jsonBytes(roleName: String = "FluxFleet Remediator") -> [UInt8] {
        var w = JSONWriter(pretty: true, capacity: 1024 + grants.count * 512)
        w.beginObject()
        w.member("formatVersion", 1)
        w.member("clustersToChange", clustersToChange)
        w.key("scopes")
        w.beginArray()
        for grant in grants {
            w.beginObject()
            w.member("scope", grant.scope)
            w.member("clusters", grant.clusters)
            for (name, entries) in [("actions", grant.actions), ("dataActions", grant.dataActions)] {
                w.key(name)
                w.beginArray()
                for entry in entries {
                    w.beginObject()
                    w.member("action", entry.action)
                    w.member("why", entry.why)
                    w.endObject()
                }
                w.endArray()
            }
            w.endObject()
        }
        w.endArray()
        w.key("roleDefinition")
        w.beginObject()
        w.member("Name", roleName)
        w.member("IsCustom", true)
        w.member(
            "Description",
            "Applies FluxFleet plans: reads clusters and writes their microsoft.flux extension and fluxConfigurations.")
        for (name, list) in [
            ("Actions", allActions), ("NotActions", []), ("DataActions", allDataActions), ("NotDataActions", []),
            ("AssignableScopes", grants.map(\.scope)),
        ] {
            w.key(name)
            w.beginArray()
            for item in list { w.string(item) }
            w.endArray()
        }
        w.endObject()
        w.endObject()
        w.newlineAtEnd()
        return w.bytes
    }
}
