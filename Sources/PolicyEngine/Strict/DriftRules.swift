import FleetCore

/// The Flux resource kinds whose API defaults the drift comparison knows.
enum DriftResourceKind: Sendable {
    /// `Microsoft.KubernetesConfiguration/fluxConfigurations`.
    case fluxConfiguration
    /// `Microsoft.KubernetesConfiguration/extensions`.
    case extensionResource
    /// Anything else: no defaults.
    case other

    /// The kind from the observed `type`, else from what the desired `properties` set.
    static func detect(desired: JSON, observed: JSONValue?) -> DriftResourceKind {
        if let type = observed.flatMap({ SpecDrift.member("type", of: $0) })?.string {
            let lowered = ASCII.lowercased(type)
            if lowered.hasSuffix("/fluxconfigurations") { return .fluxConfiguration }
            if lowered.hasSuffix("/extensions") { return .extensionResource }
            if lowered.contains("/") { return .other }
        }
        guard case .object(let body) = desired, let (_, properties) = TemplateInputs.member("properties", of: body),
            case .object(let members) = properties
        else { return .other }
        let keys = Set(members.keys.map(ASCII.lowercased))
        if keys.contains("extensiontype") { return .extensionResource }
        let fluxKeys: Set = ["kustomizations", "sourcekind", "gitrepository", "bucket", "azureblob", "ocirepository"]
        return keys.isDisjoint(with: fluxKeys) ? .other : .fluxConfiguration
    }
}

/// What the drift comparison skips, compares loosely, or fills in.
enum DriftRules {
    /// Read-only and status members: never compared, wherever they appear.
    static let readOnly: Set<String> = [
        "provisioningstate", "compliancestate", "compliancestatus", "statuses", "errormessage", "errorinfo",
        "repositorypublickey", "sourcesyncedcommitid", "sourceupdatedat", "statusupdatedat", "currentversion",
        "installedversion", "extensionstate", "systemdata", "customlocationsettings", "packageuri",
        "issystemextension", "managementdetails", "additionaldetails", "aksassignedidentity", "etag",
    ]

    /// Write-only secrets (`x-ms-secret`): the service never returns them, so they cannot be compared.
    static let secrets: Set<String> = [
        "configurationprotectedsettings", "accountkey", "sastoken", "clientsecret", "clientcertificate",
        "clientcertificatepassword", "privatekey", "cacertificate",
    ]

    /// Members skipped only at one place: resource-level identity, read-only identity ids, kustomization names.
    static func isSkipped(_ key: String, under schema: [String]) -> Bool {
        let lowered = ASCII.lowercased(key)
        if readOnly.contains(lowered) || secrets.contains(lowered) { return true }
        switch (schema.count, schema.last) {
        case (0, _):
            return ["id", "name", "type"].contains(lowered)
        case (1, "identity"?):
            return lowered == "principalid" || lowered == "tenantid" || lowered == "userassignedidentities"
        case (3, "*"?) where schema[1] == "kustomizations":
            return lowered == "name"
        default:
            return false
        }
    }

    /// String members compared ignoring case: ARM enums (Flux names, branches and paths are case-sensitive).
    static let caseInsensitive: Set<String> = [
        "scope", "sourcekind", "extensiontype", "releasetrain", "provider", "autoupgrademode", "operatorscope",
        "operatortype", "type",
    ]

    /// Defaults the API fills in, by lowercased schema path (`*` for a kustomization name).
    static func defaultValue(at schema: [String], kind: DriftResourceKind) -> JSON? {
        let key = schema.joined(separator: ".")
        switch kind {
        case .fluxConfiguration: return fluxDefaults[key]
        case .extensionResource: return extensionDefaults[key]
        case .other: return nil
        }
    }

    private static let fluxDefaults: [String: JSON] = {
        var defaults: [String: JSON] = [
            "properties.scope": .string("cluster"),
            "properties.namespace": .string("default"),
            "properties.sourcekind": .string("GitRepository"),
            "properties.suspend": .bool(false),
            "properties.gitrepository.provider": .string("Generic"),
            "properties.bucket.insecure": .bool(true),
            "properties.ocirepository.insecure": .bool(false),
            "properties.ocirepository.useworkloadidentity": .bool(false),
            "properties.azureblob.serviceprincipal.clientcertificatesendchain": .bool(false),
            "properties.kustomizations.*.path": .string(""),
            "properties.kustomizations.*.prune": .bool(false),
            "properties.kustomizations.*.force": .bool(false),
            "properties.kustomizations.*.wait": .bool(true),
            "properties.kustomizations.*.timeoutinseconds": .int(600),
            "properties.kustomizations.*.syncintervalinseconds": .int(600),
        ]
        for source in ["gitrepository", "bucket", "azureblob", "ocirepository"] {
            defaults["properties.\(source).timeoutinseconds"] = .int(600)
            defaults["properties.\(source).syncintervalinseconds"] = .int(600)
        }
        return defaults
    }()

    private static let extensionDefaults: [String: JSON] = [
        "properties.autoupgrademinorversion": .bool(true),
        "properties.releasetrain": .string("Stable"),
        "properties.autoupgrademode": .string("compatible"),
    ]

    /// Whether two scalars are the same value for member `key`.
    ///
    /// Strings compare exactly except ARM enums (``caseInsensitive``) and `location` (normalised); numbers by
    /// value; a bool equals the strings `true`/`false` in any case and a number equals its decimal text
    /// (Resource Graph returns some settings as strings).
    static func scalarsEqual(_ desired: JSON, _ observed: JSONValue, key: String) -> Bool {
        scalarsEqual(desired, observed, mode: StringMode(key: key), key: key)
    }

    /// How strings compare for a member, decided once per member name.
    enum StringMode: Sendable {
        case exact
        case ignoringCase
        case location

        init(key: String) {
            let lowered = ASCII.lowercased(key)
            self = lowered == "location" ? .location : caseInsensitive.contains(lowered) ? .ignoringCase : .exact
        }
    }

    /// ``scalarsEqual(_:_:key:)`` with the string mode already known; strings are compared in place.
    static func scalarsEqual(_ desired: JSON, _ observed: JSONValue, mode: StringMode, key: String) -> Bool {
        if case .string(let a) = desired, observed.isString {
            switch mode {
            case .exact: return observed.stringEquals(a)
            case .ignoringCase: return observed.stringEqualsIgnoringCase(a)
            case .location: return Location.normalize(a) == Location.normalize(observed.string ?? "")
            }
        }
        return scalarsEqual(desired, observed.materialize(), key: key)
    }

    /// Whether two scalars are the same value for member `key` (see the overload on an observed value).
    static func scalarsEqual(_ desired: JSON, _ observed: JSON, key: String) -> Bool {
        let lowered = ASCII.lowercased(key)
        switch (desired, observed) {
        case (.null, .null):
            return true
        case (.string(let a), .string(let b)):
            if lowered == "location" { return Location.normalize(a) == Location.normalize(b) }
            return caseInsensitive.contains(lowered) ? ASCII.equalsIgnoringCase(a, b) : a.utf8.elementsEqual(b.utf8)
        case (.number(let a), .number(let b)):
            return ExpressionValues.numbersEqual(a, b) || a.doubleValue == b.doubleValue
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.bool(let a), .string(let b)), (.string(let b), .bool(let a)):
            return ASCII.equalsIgnoringCase(b, a ? "true" : "false")
        case (.number(let a), .string(let b)), (.string(let b), .number(let a)):
            if let n = Int64(b) { return a.int64Value == n }
            if let d = Double(b) { return a.doubleValue == d }
            return false
        default:
            return false
        }
    }
}
