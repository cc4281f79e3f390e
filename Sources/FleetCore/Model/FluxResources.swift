/// The `microsoft.flux` cluster extension of a cluster.
///
/// Resource Graph returns extension properties in PascalCase (`ExtensionType`,
/// `InstalledVersion`); ARM GET returns camelCase (`extensionType`, `currentVersion`). Both are
/// read, every property name compared ignoring case.
public struct FluxExtension: Sendable {
    /// The extension's ARM id.
    public var id: ResourceID
    /// The extension's name (usually `flux`).
    public var name: String
    /// `Succeeded`, `Failed`, `Creating`, `Updating`, `Deleting` or `Canceled`.
    public var provisioningState: String?
    /// The installed version (`currentVersion`; `InstalledVersion`/`installedVersion` in older shapes).
    public var installedVersion: String?
    /// The pinned version (`version`), set only when auto-upgrade is off.
    public var pinnedVersion: String?
    /// `autoUpgradeMinorVersion` (ARM's default is true).
    public var autoUpgradeMinorVersion: Bool
    /// `releaseTrain` (`Stable` by default).
    public var releaseTrain: String?
    /// The release namespace when the extension is cluster-scoped.
    public var releaseNamespace: String?
    /// Whether the extension is cluster-scoped (`scope.cluster`); Flux must be.
    public var isClusterScoped: Bool
    /// `configurationSettings` (the protected settings are never returned by Azure).
    public var configurationSettings: [String: String]
    /// `errorInfo.message` or the first Error-level status message, when the extension failed.
    public var errorMessage: String?
    /// The raw ARM record.
    public var resource: JSONValue

    /// The version to reason about: the installed one, else the pinned one.
    public var version: String? { installedVersion ?? pinnedVersion }

    /// Whether an operation is in flight.
    public var isBusy: Bool {
        guard let s = provisioningState else { return false }
        return ["creating", "updating", "deleting"].contains(ASCII.lowercased(s))
    }

    /// Whether the last operation failed.
    public var isFailed: Bool {
        provisioningState.map { ASCII.equalsIgnoringCase($0, "Failed") } ?? false
    }
}

/// A Flux v2 configuration (`Microsoft.KubernetesConfiguration/fluxConfigurations`).
public struct FluxConfiguration: Sendable {
    /// The configuration's ARM id.
    public var id: ResourceID
    /// The configuration's name.
    public var name: String
    /// `cluster` or `namespace`.
    public var scope: String
    /// The namespace the configuration lives in.
    public var namespace: String
    /// `GitRepository`, `Bucket`, `AzureBlob` or `OCIRepository`.
    public var sourceKind: String
    /// Whether reconciliation is suspended.
    public var suspend: Bool
    /// The source URL of the active source kind.
    public var sourceURL: String?
    /// The Git reference, rendered as `branch:main`, `tag:v1`, `semver:>=1.0`, `commit:abc`.
    public var reference: String?
    /// How the source authenticates: `public`, `ssh`, `https`, `https-ca`, `localAuthRef`,
    /// `provider:Azure`, … (from the non-secret fields Azure returns).
    public var authentication: String
    /// The kustomization names, sorted.
    public var kustomizations: [String]
    /// `Succeeded`, `Failed`, `Creating`, `Updating`, `Deleting`, `Canceled`.
    public var provisioningState: String?
    /// Flux's own state: `Compliant`, `Non-Compliant`, `Pending`, `Suspended`, `Unknown`.
    public var complianceState: String?
    /// `statusUpdatedAt` as written.
    public var statusUpdatedAt: String?
    /// `errorMessage` when not empty.
    public var errorMessage: String?
    /// The raw ARM record.
    public var resource: JSONValue

    /// Whether an operation is in flight.
    public var isBusy: Bool {
        guard let s = provisioningState else { return false }
        return ["creating", "updating", "deleting"].contains(ASCII.lowercased(s))
    }
}

/// A Flux v1 configuration (`sourceControlConfigurations`): retired, and a blocker for Flux v2.
public struct FluxV1Configuration: Sendable {
    /// The configuration's ARM id.
    public var id: ResourceID
    /// The configuration's name.
    public var name: String
    /// `repositoryUrl`.
    public var repositoryURL: String?
    /// `operatorNamespace`.
    public var operatorNamespace: String?
    /// The raw ARM record.
    public var resource: JSONValue
}

private func text(_ value: JSONValue?) -> String? {
    guard let value, let s = value.string, !s.isEmpty else { return nil }
    return s
}

extension FluxExtension {
    /// Reads an extension record (either casing).
    init(record: JSONValue, id: ResourceID) {
        let p = record.member(ignoringCase: "properties")
        self.id = id
        self.name = id.name
        self.provisioningState = text(p?.member(ignoringCase: "provisioningState"))
        self.installedVersion =
            text(p?.member(ignoringCase: "currentVersion")) ?? text(p?.member(ignoringCase: "installedVersion"))
        self.pinnedVersion = text(p?.member(ignoringCase: "version"))
        self.autoUpgradeMinorVersion = p?.member(ignoringCase: "autoUpgradeMinorVersion")?.bool ?? true
        self.releaseTrain = text(p?.member(ignoringCase: "releaseTrain"))
        let scope = p?.member(ignoringCase: "scope")
        let clusterScope = scope?.member(ignoringCase: "cluster")
        self.isClusterScoped = scope == nil || scope?.isNull == true || (clusterScope.map { !$0.isNull } ?? false)
        self.releaseNamespace = text(clusterScope?.member(ignoringCase: "releaseNamespace"))
        var settings: [String: String] = [:]
        if let object = p?.member(ignoringCase: "configurationSettings") {
            for (key, value) in object.members { settings[key] = value.string ?? value.rawText }
        }
        self.configurationSettings = settings
        var error = text(p?.value(atPath: "errorInfo", "message"))
        if error == nil, let statuses = p?.member(ignoringCase: "statuses") {
            for status in statuses.elements
            where status.member(ignoringCase: "level")?.stringEqualsIgnoringCase("Error") == true {
                error = text(status.member(ignoringCase: "message"))
                if error != nil { break }
            }
        }
        self.errorMessage = error
        self.resource = record
    }
}

extension FluxConfiguration {
    /// Reads a fluxConfiguration record.
    init(record: JSONValue, id: ResourceID) {
        let p = record.member(ignoringCase: "properties")
        self.id = id
        self.name = id.name
        self.scope = text(p?.member(ignoringCase: "scope")) ?? "cluster"
        self.namespace = text(p?.member(ignoringCase: "namespace")) ?? "default"
        let sourceKind = text(p?.member(ignoringCase: "sourceKind")) ?? "GitRepository"
        self.sourceKind = sourceKind
        self.suspend = p?.member(ignoringCase: "suspend")?.bool ?? false
        let sourceKey: String
        switch ASCII.lowercased(sourceKind) {
        case "bucket": sourceKey = "bucket"
        case "azureblob": sourceKey = "azureBlob"
        case "ocirepository": sourceKey = "ociRepository"
        default: sourceKey = "gitRepository"
        }
        let source = p?.member(ignoringCase: sourceKey)
        self.sourceURL = text(source?.member(ignoringCase: "url"))
        var reference: String?
        if let ref = source?.member(ignoringCase: "repositoryRef") {
            for key in ["commit", "digest", "semver", "tag", "branch"] {
                if let value = text(ref.member(ignoringCase: key)) {
                    reference = "\(key):\(value)"
                    break
                }
            }
        }
        self.reference = reference
        self.authentication = Self.authentication(source: source, sourceKind: sourceKind)
        self.kustomizations = (p?.member(ignoringCase: "kustomizations")?.members.map(\.key) ?? []).sorted()
        self.provisioningState = text(p?.member(ignoringCase: "provisioningState"))
        self.complianceState = text(p?.member(ignoringCase: "complianceState"))
        self.statusUpdatedAt = text(p?.member(ignoringCase: "statusUpdatedAt"))
        self.errorMessage = text(p?.member(ignoringCase: "errorMessage"))
        self.resource = record
    }

    /// Classifies the source's authentication from the fields Azure returns (secrets never are).
    static func authentication(source: JSONValue?, sourceKind: String) -> String {
        guard let source else { return "none" }
        if let provider = text(source.member(ignoringCase: "provider")), !ASCII.equalsIgnoringCase(provider, "Generic")
        {
            return "provider:\(provider)"
        }
        if text(source.member(ignoringCase: "localAuthRef")) != nil { return "localAuthRef" }
        let url = text(source.member(ignoringCase: "url")) ?? ""
        let lower = ASCII.lowercased(url)
        if lower.hasPrefix("ssh://") || lower.hasPrefix("git@") { return "ssh" }
        if text(source.member(ignoringCase: "httpsCACert")) != nil { return "https-ca" }
        if text(source.member(ignoringCase: "httpsUser")) != nil { return "https" }
        if text(source.member(ignoringCase: "accessKey")) != nil { return "accessKey" }
        if source.member(ignoringCase: "managedIdentity").map({ !$0.isNull }) == true { return "managedIdentity" }
        if source.member(ignoringCase: "useWorkloadIdentity")?.bool == true { return "workloadIdentity" }
        return "public"
    }
}

extension FluxV1Configuration {
    /// Reads a sourceControlConfiguration record.
    init(record: JSONValue, id: ResourceID) {
        let p = record.member(ignoringCase: "properties")
        self.id = id
        self.name = id.name
        self.repositoryURL = text(p?.member(ignoringCase: "repositoryUrl"))
        self.operatorNamespace = text(p?.member(ignoringCase: "operatorNamespace"))
        self.resource = record
    }
}
