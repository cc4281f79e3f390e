import FleetCore

/// Resolves Azure Policy `field` strings (built-in fields and aliases) to paths in ARM resource records.
///
/// **Built-in fields** (names compared ignoring case): `name`, `fullName`, `type`, `location` (normalised:
/// lowercased, spaces removed), `kind`, `id`, `identity.type`, `tags` (the object), and one tag as
/// `tags['k']`, `tags[k]` or `tags.k` (the whole rest is the key, dots included).
///
/// **Aliases** of the modelled types (``supportedTypes``) follow the Azure convention
/// `<Namespace>/<type>/<path>` → `properties.<path>`, with `[*]` selecting every array element
/// (`Microsoft.ContainerService/managedClusters/agentPoolProfiles[*].vmSize` →
/// `properties.agentPoolProfiles[*].vmSize`). Alias names are case-insensitive, and so are the property names
/// they read (Resource Graph returns extension properties in PascalCase, `properties.ExtensionType`).
/// A few aliases have another default path in Azure's alias table and are mapped explicitly
/// (`sourceControlConfigurations/complianceState` → `properties.complianceStatus.complianceState`,
/// `managedClusters/sku.tier` → `sku.tier`, …), plus one deliberate deviation:
///
/// - `Microsoft.KubernetesConfiguration/fluxConfigurations/gitRepository.httpsCAFile` reads
///   `properties.gitRepository.httpsCACert`. Azure's default path for this alias,
///   `properties.gitRepository.httpsCAFile`, names a property the fluxConfigurations API (2022-03-01 and later)
///   does not have: the CA certificate is `httpsCACert`. Mapped literally, the built-in that requires a CA
///   certificate could never find a compliant configuration, and the HTTPS-secrets built-in would be satisfied
///   only because a missing value equals `""`. Reading the field the API actually has makes both built-ins check
///   what their authors intended, and the remediation they deploy (which sets `httpsCACert`) then satisfies them.
///
/// Beyond Azure's syntax, an alias path may name a map member as `['key']` (keys with dots, such as
/// `Microsoft.KubernetesConfiguration/extensions/configurationSettings['helm-controller.enabled']`); ``isKnown(_:)``
/// reports such paths as unknown since Azure defines no such alias.
///
/// An alias of another namespace (`Microsoft.Storage/storageAccounts/…`) still resolves, but is missing on every
/// resource: this catalog only models the cluster types and their Flux resources. An alias of a modelled type
/// that is not in the table of known names resolves by the rule; ``isKnown(_:)`` tells the two apart and
/// suggests near misses.
public enum AliasCatalog {
    /// The ARM types whose aliases resolve by the `properties.<path>` rule.
    public static let supportedTypes: [String] = [
        "Microsoft.ContainerService/managedClusters",
        "Microsoft.Kubernetes/connectedClusters",
        "Microsoft.KubernetesConfiguration/fluxConfigurations",
        "Microsoft.KubernetesConfiguration/extensions",
        "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
    ]

    /// The index of `resourceType` in ``supportedTypes`` (ignoring case), or nil.
    static func typeIndex(of resourceType: String) -> Int? {
        let n = resourceType.utf8.count
        return supportedTypes.firstIndex { $0.utf8.count == n && ASCII.equalsIgnoringCase($0, resourceType) }
    }

    /// The canonical names of the built-in fields (a single tag is written `tags['name']`).
    public static let builtInFields: [String] = [
        "name", "fullName", "type", "location", "kind", "id", "identity.type", "tags",
    ]

    /// Resolves a field string; nil when it is neither a built-in field nor shaped like an alias.
    ///
    /// - Parameter field: The `field` value of a condition, after evaluating it when it was an expression.
    /// - Returns: The reference, which knows its JSON path; aliases of modelled types resolve even when they
    ///   are not in the table of known names (see ``isKnown(_:)``).
    public static func resolve(_ field: String) -> FieldReference? {
        if let builtIn = resolveBuiltIn(field) { return builtIn }
        let lowered = ASCII.lowercased(field)
        for type in supportedTypes {
            let prefix = ASCII.lowercased(type) + "/"
            guard lowered.hasPrefix(prefix) else { continue }
            if let override = pathOverrides[lowered] {
                return FieldReference(field: field, segments: override, resourceType: type)
            }
            let rest = field.utf8.dropFirst(prefix.utf8.count)
            guard let path = FieldPathParser.parse(Substring(rest)) else { return nil }
            return FieldReference(field: field, segments: [.member("properties")] + path, resourceType: type)
        }
        // `Other.Namespace/type/path`: a well-formed alias of a type this catalog does not model.
        let parts = field.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty }), parts[0].contains("."),
            let path = FieldPathParser.parse(parts[parts.count - 1])
        else { return nil }
        return FieldReference(field: field, segments: path, resourceType: nil, transform: .unsupported)
    }

    /// The value of `field` in `resource`, a record of ARM type `resourceType`; nil when the field does not resolve.
    public static func value(of field: String, in resource: JSONValue, resourceType: String) -> FieldValue? {
        resolve(field)?.value(in: resource, resourceType: resourceType)
    }

    /// Whether `field` is a built-in field or a known alias (ignoring case), and the closest known name when it is not.
    ///
    /// The suggestion is the known name with the smallest edit distance (at most 3, ignoring case), preferring
    /// aliases of the same resource type; nil when nothing is that close.
    public static func isKnown(_ field: String) -> (known: Bool, suggestion: String?) {
        let lowered = ASCII.lowercased(field)
        if resolveBuiltIn(field) != nil { return (true, nil) }
        if knownLowercased.contains(lowered) { return (true, nil) }
        let query = Array(lowered.unicodeScalars)
        var best: (distance: Int, name: String)?
        for name in allKnownNames {
            let d = FunctionCatalog.editDistance(query, Array(ASCII.lowercased(name).unicodeScalars), limit: 3)
            if d <= 3, best.map({ d < $0.distance }) ?? true { best = (d, name) }
        }
        return (false, best?.name)
    }

    /// The known alias names of a type (full names, as Azure spells them), or nil for an unmodelled type.
    public static func knownAliases(of resourceType: String) -> [String]? {
        guard let type = supportedTypes.first(where: { ASCII.equalsIgnoringCase($0, resourceType) }) else {
            return nil
        }
        return (knownAliasPaths[type] ?? []).map { type + "/" + $0 }
    }

    // MARK: - Built-in fields

    private static func resolveBuiltIn(_ field: String) -> FieldReference? {
        let lowered = ASCII.lowercased(field)
        switch lowered {
        case "name", "type", "kind", "id", "tags":
            return FieldReference(field: field, segments: [.member(lowered)], resourceType: nil)
        case "location":
            return FieldReference(
                field: field, segments: [.member("location")], resourceType: nil, transform: .location)
        case "fullname":
            return FieldReference(field: field, segments: [.member("id")], resourceType: nil, transform: .fullName)
        case "identity.type":
            return FieldReference(field: field, segments: [.member("identity"), .member("type")], resourceType: nil)
        default:
            break
        }
        guard lowered.hasPrefix("tags.") || lowered.hasPrefix("tags[") else { return nil }
        let rest = field.dropFirst(4)
        let key: String
        if rest.hasPrefix(".") {
            key = String(rest.dropFirst())
        } else {
            guard let segments = FieldPathParser.parse("x" + rest), segments.count == 2,
                case .member(let k) = segments[1]
            else { return nil }
            key = k
        }
        guard !key.isEmpty else { return nil }
        return FieldReference(field: field, segments: [.member("tags"), .member(key)], resourceType: nil)
    }

    // MARK: - Tables

    /// Aliases whose path is not `properties.<path>`, by lowercased full name.
    private static let pathOverrides: [String: [FieldPathSegment]] = [
        // Deliberate deviation: Azure's default path `properties.gitRepository.httpsCAFile` does not exist in the
        // API; the certificate is `httpsCACert` (see the type's documentation).
        "microsoft.kubernetesconfiguration/fluxconfigurations/gitrepository.httpscafile":
            [.member("properties"), .member("gitRepository"), .member("httpsCACert")],
        // Azure's alias table maps these two to the nested compliance status.
        "microsoft.kubernetesconfiguration/sourcecontrolconfigurations/compliancestate":
            [.member("properties"), .member("complianceStatus"), .member("complianceState")],
        "microsoft.kubernetesconfiguration/sourcecontrolconfigurations/lastconfigapplied":
            [.member("properties"), .member("complianceStatus"), .member("lastConfigApplied")],
        // The SKU is a top-level ARM property, not under `properties`.
        "microsoft.containerservice/managedclusters/sku.name": [.member("sku"), .member("name")],
        "microsoft.containerservice/managedclusters/sku.tier": [.member("sku"), .member("tier")],
    ]

    /// Every known name: the built-in fields, then the aliases of each type.
    private static let allKnownNames: [String] =
        builtInFields + supportedTypes.flatMap { type in (knownAliasPaths[type] ?? []).map { type + "/" + $0 } }

    private static let knownLowercased: Set<String> = Set(allKnownNames.map(ASCII.lowercased))

    /// The known alias paths per type (the part after `<Namespace>/<type>/`).
    static let knownAliasPaths: [String: [String]] = [
        "Microsoft.KubernetesConfiguration/fluxConfigurations": fluxConfigurationAliases,
        "Microsoft.KubernetesConfiguration/extensions": extensionAliases,
        "Microsoft.KubernetesConfiguration/sourceControlConfigurations": sourceControlConfigurationAliases,
        "Microsoft.Kubernetes/connectedClusters": connectedClusterAliases,
        "Microsoft.ContainerService/managedClusters": managedClusterAliases,
    ]

    private static let fluxConfigurationAliases: [String] = [
        "scope", "namespace", "sourceKind", "suspend", "provisioningState", "complianceState", "errorMessage",
        "repositoryPublicKey", "configurationProtectedSettings", "kustomizations",
        "waitForReconciliation", "reconciliationWaitDuration",
        "lastSourceSyncedCommitId", "lastSourceSyncedAt", "lastSourceUpdatedCommitId", "lastSourceUpdatedAt",
        "sourceSyncedCommitId", "sourceUpdatedAt", "statusUpdatedAt",
        "gitRepository", "gitRepository.url", "gitRepository.timeoutInSeconds", "gitRepository.syncIntervalInSeconds",
        "gitRepository.repositoryRef", "gitRepository.repositoryRef.branch", "gitRepository.repositoryRef.tag",
        "gitRepository.repositoryRef.semver", "gitRepository.repositoryRef.commit", "gitRepository.sshKnownHosts",
        "gitRepository.httpsUser", "gitRepository.httpsCAFile", "gitRepository.httpsCACert",
        "gitRepository.localAuthRef", "gitRepository.provider",
        "bucket", "bucket.url", "bucket.bucketName", "bucket.insecure", "bucket.timeoutInSeconds",
        "bucket.syncIntervalInSeconds", "bucket.accessKey", "bucket.localAuthRef",
        "azureBlob", "azureBlob.url", "azureBlob.containerName", "azureBlob.timeoutInSeconds",
        "azureBlob.syncIntervalInSeconds", "azureBlob.servicePrincipal", "azureBlob.servicePrincipal.clientId",
        "azureBlob.servicePrincipal.tenantId", "azureBlob.servicePrincipal.clientSecret",
        "azureBlob.servicePrincipal.clientCertificate", "azureBlob.servicePrincipal.clientCertificatePassword",
        "azureBlob.servicePrincipal.clientCertificateSendChain", "azureBlob.accountKey", "azureBlob.sasToken",
        "azureBlob.managedIdentity", "azureBlob.managedIdentity.clientId", "azureBlob.localAuthRef",
        "ociRepository", "ociRepository.url", "ociRepository.timeoutInSeconds", "ociRepository.syncIntervalInSeconds",
        "ociRepository.repositoryRef", "ociRepository.repositoryRef.tag", "ociRepository.repositoryRef.semver",
        "ociRepository.repositoryRef.digest", "ociRepository.layerSelector", "ociRepository.layerSelector.mediaType",
        "ociRepository.layerSelector.operation", "ociRepository.verify", "ociRepository.verify.provider",
        "ociRepository.verify.verificationConfig", "ociRepository.verify.matchOidcIdentity",
        "ociRepository.verify.matchOidcIdentity[*]", "ociRepository.verify.matchOidcIdentity[*].issuer",
        "ociRepository.verify.matchOidcIdentity[*].subject", "ociRepository.insecure",
        "ociRepository.useWorkloadIdentity", "ociRepository.serviceAccountName", "ociRepository.tlsConfig",
        "ociRepository.tlsConfig.clientCertificate", "ociRepository.tlsConfig.privateKey",
        "ociRepository.tlsConfig.caCertificate", "ociRepository.localAuthRef",
        "statuses", "statuses[*]", "statuses[*].name", "statuses[*].namespace", "statuses[*].kind",
        "statuses[*].complianceState", "statuses[*].appliedBy", "statuses[*].appliedBy.name",
        "statuses[*].appliedBy.namespace", "statuses[*].statusConditions", "statuses[*].statusConditions[*]",
        "statuses[*].statusConditions[*].lastTransitionTime", "statuses[*].statusConditions[*].message",
        "statuses[*].statusConditions[*].reason", "statuses[*].statusConditions[*].status",
        "statuses[*].statusConditions[*].type", "statuses[*].helmReleaseProperties",
        "statuses[*].helmReleaseProperties.lastRevisionApplied", "statuses[*].helmReleaseProperties.helmChartRef",
        "statuses[*].helmReleaseProperties.helmChartRef.name",
        "statuses[*].helmReleaseProperties.helmChartRef.namespace",
        "statuses[*].helmReleaseProperties.failureCount", "statuses[*].helmReleaseProperties.installFailureCount",
        "statuses[*].helmReleaseProperties.upgradeFailureCount",
    ]

    private static let extensionAliases: [String] = [
        "extensionType", "autoUpgradeMinorVersion", "releaseTrain", "version", "installedVersion", "currentVersion",
        "isSystemExtension", "packageUri", "provisioningState", "installState", "customLocationSettings",
        "creationTime", "lastModifiedTime", "lastStatusTime", "configurationSettings", "configurationProtectedSettings",
        "scope", "scope.cluster", "scope.cluster.releaseNamespace", "scope.namespace",
        "scope.namespace.targetNamespace",
        "identity", "identity.principalId", "identity.tenantId", "identity.type",
        "aksAssignedIdentity", "aksAssignedIdentity.principalId", "aksAssignedIdentity.tenantId",
        "aksAssignedIdentity.type",
        "statuses", "statuses[*]", "statuses[*].code", "statuses[*].displayStatus", "statuses[*].level",
        "statuses[*].message", "statuses[*].time",
        "errorInfo", "errorInfo.code", "errorInfo.message", "errorInfo.target", "errorInfo.details",
        "errorInfo.details[*]", "errorInfo.details[*].code", "errorInfo.details[*].message",
        "errorInfo.details[*].target", "errorInfo.details[*].details", "errorInfo.details[*].details[*]",
        "errorInfo.details[*].additionalInfo", "errorInfo.details[*].additionalInfo[*]",
        "errorInfo.details[*].additionalInfo[*].type", "errorInfo.additionalInfo", "errorInfo.additionalInfo[*]",
        "errorInfo.additionalInfo[*].type",
    ]

    private static let sourceControlConfigurationAliases: [String] = [
        "repositoryUrl", "operatorNamespace", "operatorInstanceName", "operatorType", "operatorParams",
        "operatorScope", "repositoryPublicKey", "enableHelmOperator", "helmOperatorProperties",
        "helmOperatorProperties.chartVersion", "helmOperatorProperties.chartValues", "provisioningState",
        "complianceState", "lastConfigApplied", "complianceStatus", "complianceStatus.complianceState",
        "complianceStatus.lastConfigApplied", "complianceStatus.message", "complianceStatus.messageLevel",
        "configurationProtectedSettings", "sshKnownHostsContents",
    ]

    private static let connectedClusterAliases: [String] = [
        "agentPublicKeyCertificate", "aadProfile", "aadProfile.tenantId", "aadProfile.clientAppId",
        "aadProfile.serverAppId", "kubernetesVersion", "totalNodeCount", "totalCoreCount", "agentVersion",
        "provisioningState", "distribution", "infrastructure", "offering", "managedIdentityCertificateExpirationTime",
        "lastConnectivityTime", "connectivityStatus", "privateLinkScopeResourceId", "privateLinkState",
    ]

    /// The commonly used AKS aliases (Azure defines several hundred; the rest resolve by the rule).
    private static let managedClusterAliases: [String] = [
        "kubernetesVersion", "currentKubernetesVersion", "dnsPrefix", "fqdn", "privateFQDN", "nodeResourceGroup",
        "enableRBAC", "enablePodSecurityPolicy", "disableLocalAccounts", "provisioningState", "powerState.code",
        "diskEncryptionSetID", "publicNetworkAccess", "sku.name", "sku.tier",
        "agentPoolProfiles", "agentPoolProfiles[*]", "agentPoolProfiles[*].name", "agentPoolProfiles[*].count",
        "agentPoolProfiles[*].vmSize", "agentPoolProfiles[*].osDiskSizeGB", "agentPoolProfiles[*].osDiskType",
        "agentPoolProfiles[*].osType", "agentPoolProfiles[*].osSKU", "agentPoolProfiles[*].mode",
        "agentPoolProfiles[*].type", "agentPoolProfiles[*].maxPods", "agentPoolProfiles[*].enableAutoScaling",
        "agentPoolProfiles[*].minCount", "agentPoolProfiles[*].maxCount", "agentPoolProfiles[*].availabilityZones",
        "agentPoolProfiles[*].availabilityZones[*]", "agentPoolProfiles[*].enableNodePublicIP",
        "agentPoolProfiles[*].enableEncryptionAtHost", "agentPoolProfiles[*].enableFIPS",
        "agentPoolProfiles[*].orchestratorVersion", "agentPoolProfiles[*].vnetSubnetID",
        "agentPoolProfiles[*].nodeTaints", "agentPoolProfiles[*].nodeTaints[*]", "agentPoolProfiles[*].kubeletDiskType",
        "linuxProfile.adminUsername", "windowsProfile.adminUsername", "servicePrincipalProfile.clientId",
        "addonProfiles", "addonProfiles.azurepolicy.enabled", "addonProfiles.omsagent.enabled",
        "addonProfiles.azureKeyvaultSecretsProvider.enabled", "addonProfiles.httpApplicationRouting.enabled",
        "addonProfiles.kubeDashboard.enabled",
        "aadProfile", "aadProfile.managed", "aadProfile.enableAzureRBAC", "aadProfile.adminGroupObjectIDs",
        "aadProfile.adminGroupObjectIDs[*]", "aadProfile.tenantID",
        "networkProfile.networkPlugin", "networkProfile.networkPluginMode", "networkProfile.networkPolicy",
        "networkProfile.networkMode", "networkProfile.outboundType", "networkProfile.loadBalancerSku",
        "networkProfile.podCidr", "networkProfile.serviceCidr", "networkProfile.dnsServiceIP",
        "apiServerAccessProfile.enablePrivateCluster", "apiServerAccessProfile.enablePrivateClusterPublicFQDN",
        "apiServerAccessProfile.authorizedIPRanges", "apiServerAccessProfile.authorizedIPRanges[*]",
        "apiServerAccessProfile.disableRunCommand",
        "autoUpgradeProfile.upgradeChannel", "autoUpgradeProfile.nodeOSUpgradeChannel", "oidcIssuerProfile.enabled",
        "securityProfile.defender.securityMonitoring.enabled", "securityProfile.workloadIdentity.enabled",
        "securityProfile.imageCleaner.enabled", "storageProfile.diskCSIDriver.enabled",
        "storageProfile.fileCSIDriver.enabled", "storageProfile.blobCSIDriver.enabled", "podIdentityProfile.enabled",
        "azureMonitorProfile.metrics.enabled", "workloadAutoScalerProfile.keda.enabled", "autoScalerProfile",
        "identityProfile", "httpProxyConfig",
    ]
}
