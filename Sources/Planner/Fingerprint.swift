import FleetCore

/// The fingerprint of a cluster's observed state: what the plan's decision for it rests on.
///
/// `apply` re-reads each target and refuses a cluster whose fingerprint moved. The fingerprint is
/// `sha256:` and the SHA-256 of a canonical JSON document (keys lowercased and sorted, nulls dropped) holding:
/// - the cluster: its id (lowercased), kind, `kind` member, tags, `identity.type`,
///   `servicePrincipalProfile.clientId`, `provisioningState`, `powerState.code`, `connectivityStatus` and its
///   agent pools' names, VM sizes and OS types (what eligibility reads);
/// - the `microsoft.flux` extension as facts read the same from Resource Graph (PascalCase, `InstalledVersion`)
///   and ARM (camelCase, `currentVersion`): id (lowercased), provisioning state, installed and pinned versions,
///   `autoUpgradeMinorVersion`, release train, scope and release namespace, configuration settings and the
///   identity type;
/// - every Flux configuration and Flux v1 configuration: its id (lowercased) and `properties` without the
///   volatile members (``volatileMembers``: status timestamps, Flux's runtime status, `systemData`, `etag`,
///   error details), wherever they appear.
///
/// Names are compared ignoring case, and nulls and empty strings count as missing, so the same state read from
/// Resource Graph and from ARM has the same fingerprint. Node counts, Kubernetes versions, top-level Resource Graph columns and
/// other extensions are left out: they do not change a decision.
public enum Fingerprint {
    /// The name of this definition, pinned in the plan's inputs (`fingerprintAlgorithm`).
    public static let algorithm = "sha256-canonical-v2"

    /// Lowercased member names left out of child records wherever they appear.
    public static let volatileMembers: Set<String> = [
        "systemdata", "etag", "statuses", "statusupdatedat", "compliancestate", "sourcesyncedcommitid",
        "sourceupdatedat", "errormessage", "errorinfo", "lasttransitiontime", "lastmodifiedat",
        "lastconnectivitytime", "managedidentitycertificateexpirationtime", "repositorypublickey",
    ]

    /// The fingerprint of a cluster and its Flux resources.
    public static func of(_ cluster: Cluster) -> String {
        var writer = JSONWriter()
        writer.value(canonicalDocument(cluster))
        var hash = SHA256()
        hash.update(writer.bytes)
        return "sha256:" + hash.finalize()
    }

    /// The canonical document that is hashed (for tests and for explaining a moved fingerprint).
    public static func canonicalDocument(_ cluster: Cluster) -> JSON {
        var facts: [String: JSON] = [
            "id": .string(ASCII.lowercased(cluster.id.description)),
            "kind": .string(cluster.kind.rawValue),
            "tags": .object(cluster.tags.mapValues { .string($0) }),
        ]
        // An empty string counts as missing: Resource Graph returns `kind: ""` where an ARM GET leaves it out.
        func put(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { facts[key] = .string(value) }
        }
        put("resourcekind", cluster.resource.member(ignoringCase: "kind")?.string)
        put("identitytype", cluster.identityType)
        put("serviceprincipalclientid", cluster.servicePrincipalClientId)
        put("provisioningstate", cluster.provisioningState)
        put("powerstate", cluster.powerState)
        put("connectivitystatus", cluster.connectivityStatus)
        let pools = cluster.agentPools.map { pool -> JSON in
            .object(["name": .string(pool.name), "vmsize": .string(pool.vmSize), "ostype": .string(pool.osType)])
        }
        if !pools.isEmpty { facts["agentpools"] = .array(pools) }
        var document: [String: JSON] = ["cluster": .object(facts)]
        if let ext = cluster.fluxExtension { document["fluxextension"] = extensionFacts(ext) }
        document["fluxconfigurations"] = .array(cluster.fluxConfigurations.map { child($0.id, $0.resource) })
        document["fluxv1configurations"] = .array(cluster.fluxV1Configurations.map { child($0.id, $0.resource) })
        return .object(document)
    }

    /// The extension's decision facts, the same whichever API returned the record.
    static func extensionFacts(_ ext: FluxExtension) -> JSON {
        var facts: [String: JSON] = [
            "id": .string(ASCII.lowercased(ext.id.description)),
            "autoupgrademinorversion": .bool(ext.autoUpgradeMinorVersion),
            "clusterscoped": .bool(ext.isClusterScoped),
            "configurationsettings": .object(ext.configurationSettings.mapValues { .string($0) }),
        ]
        // An empty string counts as missing: Resource Graph returns `kind: ""` where an ARM GET leaves it out.
        func put(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { facts[key] = .string(value) }
        }
        put("provisioningstate", ext.provisioningState.map(ASCII.lowercased))
        put("installedversion", ext.installedVersion)
        put("pinnedversion", ext.pinnedVersion)
        put("releasetrain", ext.releaseTrain.map(ASCII.lowercased))
        put("releasenamespace", ext.releaseNamespace)
        put("identitytype", ext.resource.value(atPath: "identity", "type")?.string.map(ASCII.lowercased))
        return .object(facts)
    }

    /// A child record's id (lowercased) and canonical `properties`.
    static func child(_ id: ResourceID, _ resource: JSONValue) -> JSON {
        var members: [String: JSON] = ["id": .string(ASCII.lowercased(id.description))]
        if let properties = resource.member(ignoringCase: "properties") {
            members["properties"] = canonical(properties.materialize())
        }
        return .object(members)
    }

    /// A record with keys lowercased, nulls and volatile members dropped, and ids lowercased.
    static func canonical(_ value: JSON) -> JSON {
        switch value {
        case .object(let members):
            var out: [String: JSON] = [:]
            for (key, member) in members {
                let lowered = ASCII.lowercased(key)
                if member == .null || volatileMembers.contains(lowered) { continue }
                if lowered == "id", case .string(let id) = member {
                    out[lowered] = .string(ASCII.lowercased(id))
                } else {
                    out[lowered] = canonical(member)
                }
            }
            return .object(out)
        case .array(let items):
            return .array(items.map(canonical))
        default:
            return value
        }
    }
}
