/// The `microsoft.flux` cluster extension of a cluster.
///
/// Resource Graph returns extension properties in PascalCase (`ExtensionType`,
/// `InstalledVersion`); ARM GET returns camelCase (`extensionType`, `currentVersion`). Both are
/// read, every property name compared ignoring case. Facts are read from the record on demand.
public struct FluxExtension: ARMRecordFacts, Sendable {
    /// The extension's ARM id.
    public var id: ResourceID
    /// The raw ARM record.
    public var resource: JSONValue

    /// Wraps an extension record.
    public init(resource: JSONValue, id: ResourceID) {
        self.resource = resource
        self.id = id
    }

    /// The extension's name (usually `flux`).
    public var name: String { id.name }
    /// `Succeeded`, `Failed`, `Creating`, `Updating`, `Deleting` or `Canceled`.
    public var provisioningState: String? { property("provisioningState") }
    /// The installed version (`currentVersion`; `InstalledVersion`/`installedVersion` in older shapes).
    public var installedVersion: String? { property("currentVersion") ?? property("installedVersion") }
    /// The pinned version (`version`), set only when auto-upgrade is off.
    public var pinnedVersion: String? { property("version") }
    /// `autoUpgradeMinorVersion` (ARM's default is true).
    public var autoUpgradeMinorVersion: Bool {
        properties?.member(ignoringCase: "autoUpgradeMinorVersion")?.bool ?? true
    }
    /// `releaseTrain` (`Stable` by default).
    public var releaseTrain: String? { property("releaseTrain") }
    /// The release namespace when the extension is cluster-scoped.
    public var releaseNamespace: String? {
        nonEmptyString(properties?.value(atPath: "scope", "cluster", "releaseNamespace"))
    }
    /// Whether the extension is cluster-scoped (`scope.cluster`); Flux must be.
    public var isClusterScoped: Bool {
        guard let scope = properties?.member(ignoringCase: "scope"), !scope.isNull else { return true }
        return scope.member(ignoringCase: "cluster").map { !$0.isNull } ?? false
    }
    /// `configurationSettings` (the protected settings are never returned by Azure).
    public var configurationSettings: [String: String] {
        var settings: [String: String] = [:]
        if let object = properties?.member(ignoringCase: "configurationSettings") {
            for (key, value) in object.members { settings[key] = value.string ?? value.rawText }
        }
        return settings
    }
    /// `errorInfo.message` or the first Error-level status message.
    public var errorMessage: String? {
        if let message = nonEmptyString(properties?.value(atPath: "errorInfo", "message")) { return message }
        guard let statuses = properties?.member(ignoringCase: "statuses") else { return nil }
        for status in statuses.elements
        where status.member(ignoringCase: "level")?.stringEqualsIgnoringCase("Error") == true {
            if let message = nonEmptyString(status.member(ignoringCase: "message")) { return message }
        }
        return nil
    }

    /// The version to reason about: the installed one, else the pinned one.
    public var version: String? { installedVersion ?? pinnedVersion }

    /// Whether an operation is in flight (`Creating`, `Updating` or `Deleting`).
    public var isBusy: Bool { ProvisioningState.isBusy(properties?.member(ignoringCase: "provisioningState")) }

    /// Whether the last operation failed.
    public var isFailed: Bool { provisioningState.map { ASCII.equalsIgnoringCase($0, "Failed") } ?? false }
}

/// A Flux v2 configuration (`Microsoft.KubernetesConfiguration/fluxConfigurations`).
public struct FluxConfiguration: ARMRecordFacts, Sendable {
    /// The configuration's ARM id.
    public var id: ResourceID
    /// The raw ARM record.
    public var resource: JSONValue

    /// Wraps a fluxConfiguration record.
    public init(resource: JSONValue, id: ResourceID) {
        self.resource = resource
        self.id = id
    }

    /// The configuration's name.
    public var name: String { id.name }
    /// `cluster` or `namespace` (ARM's default is `cluster`).
    public var scope: String { property("scope") ?? "cluster" }
    /// The namespace the configuration lives in (ARM's default is `default`).
    public var namespace: String { property("namespace") ?? "default" }
    /// `GitRepository`, `Bucket`, `AzureBlob` or `OCIRepository`.
    public var sourceKind: String { property("sourceKind") ?? "GitRepository" }
    /// Whether reconciliation is suspended.
    public var suspend: Bool { properties?.member(ignoringCase: "suspend")?.bool ?? false }

    /// The source object of the active source kind (`gitRepository`, `bucket`, …).
    public var source: JSONValue? {
        let key: String
        switch ASCII.lowercased(sourceKind) {
        case "bucket": key = "bucket"
        case "azureblob": key = "azureBlob"
        case "ocirepository": key = "ociRepository"
        default: key = "gitRepository"
        }
        return properties?.member(ignoringCase: key)
    }
    /// The source URL of the active source kind.
    public var sourceURL: String? { nonEmptyString(source?.member(ignoringCase: "url")) }
    /// The reference, rendered as `branch:main`, `tag:v1`, `semver:>=1.0`, `commit:abc`, `digest:…`.
    public var reference: String? {
        guard let ref = source?.member(ignoringCase: "repositoryRef") else { return nil }
        for key in ["commit", "digest", "semver", "tag", "branch"] {
            if let value = nonEmptyString(ref.member(ignoringCase: key)) { return "\(key):\(value)" }
        }
        return nil
    }
    /// How the source authenticates, from the non-secret fields Azure returns.
    ///
    /// One of `provider:<name>`, `localAuthRef`, `ssh`, `https-ca`, `https`, `accessKey`,
    /// `managedIdentity`, `workloadIdentity`, `public`, `none`.
    public var authentication: String {
        guard let source else { return "none" }
        if let provider = nonEmptyString(source.member(ignoringCase: "provider")),
            !ASCII.equalsIgnoringCase(provider, "Generic")
        {
            return "provider:\(provider)"
        }
        if nonEmptyString(source.member(ignoringCase: "localAuthRef")) != nil { return "localAuthRef" }
        let url = ASCII.lowercased(nonEmptyString(source.member(ignoringCase: "url")) ?? "")
        if url.hasPrefix("ssh://") || url.hasPrefix("git@") { return "ssh" }
        if nonEmptyString(source.member(ignoringCase: "httpsCACert")) != nil { return "https-ca" }
        if nonEmptyString(source.member(ignoringCase: "httpsUser")) != nil { return "https" }
        if nonEmptyString(source.member(ignoringCase: "accessKey")) != nil { return "accessKey" }
        if source.member(ignoringCase: "managedIdentity").map({ !$0.isNull }) == true { return "managedIdentity" }
        if source.member(ignoringCase: "useWorkloadIdentity")?.bool == true { return "workloadIdentity" }
        return "public"
    }
    /// The kustomization names, sorted.
    public var kustomizations: [String] {
        (properties?.member(ignoringCase: "kustomizations")?.members.map(\.key) ?? []).sorted()
    }
    /// `Succeeded`, `Failed`, `Creating`, `Updating`, `Deleting`, `Canceled`.
    public var provisioningState: String? { property("provisioningState") }
    /// Flux's own state: `Compliant`, `Non-Compliant`, `Pending`, `Suspended`, `Unknown`.
    public var complianceState: String? { property("complianceState") }
    /// `statusUpdatedAt` as written.
    public var statusUpdatedAt: String? { property("statusUpdatedAt") }
    /// `errorMessage` when not empty.
    public var errorMessage: String? { property("errorMessage") }

    /// Whether an operation is in flight (`Creating`, `Updating` or `Deleting`).
    public var isBusy: Bool { ProvisioningState.isBusy(properties?.member(ignoringCase: "provisioningState")) }
}

/// A Flux v1 configuration (`sourceControlConfigurations`): retired, and a blocker for Flux v2.
public struct FluxV1Configuration: ARMRecordFacts, Sendable {
    /// The configuration's ARM id.
    public var id: ResourceID
    /// The raw ARM record.
    public var resource: JSONValue

    /// Wraps a sourceControlConfiguration record.
    public init(resource: JSONValue, id: ResourceID) {
        self.resource = resource
        self.id = id
    }

    /// The configuration's name.
    public var name: String { id.name }
    /// `repositoryUrl`.
    public var repositoryURL: String? { property("repositoryUrl") }
    /// `operatorNamespace`.
    public var operatorNamespace: String? { property("operatorNamespace") }
}

/// ARM provisioning states.
enum ProvisioningState {
    /// Whether a state means an operation is in flight.
    ///
    /// `state` is a `provisioningState` member, compared where it stands (no string is decoded).
    static func isBusy(_ state: JSONValue?) -> Bool {
        guard let state else { return false }
        return state.stringEqualsIgnoringCase("Creating") || state.stringEqualsIgnoringCase("Updating")
            || state.stringEqualsIgnoringCase("Deleting")
    }
}

/// A fact type over one ARM record: `properties` and its non-empty string members, names
/// compared ignoring case.
protocol ARMRecordFacts {
    /// The raw ARM record.
    var resource: JSONValue { get }
}

extension ARMRecordFacts {
    /// The record's `properties` object.
    var properties: JSONValue? { resource.member(ignoringCase: "properties") }

    /// A non-empty string member of `properties`.
    func property(_ name: String) -> String? { nonEmptyString(properties?.member(ignoringCase: name)) }
}
