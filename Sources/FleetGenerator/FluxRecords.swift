/// Writing the `kubernetesconfigurationresources` children of a cluster: extensions,
/// fluxConfigurations and Flux v1 sourceControlConfigurations.
extension ClusterPlan {
    /// Writes the cluster row and its children, each framed as one record of `stream`.
    ///
    /// With `rowText`, that text is written as the cluster row instead of a generated one (a row
    /// copied from a previous fleet whose cluster-level state did not change).
    func write(into stream: inout RecordStream, rowText: String? = nil) {
        var rng = self.rng
        stream.begin()
        if let rowText { stream.out.raw(text: rowText) } else { writeCluster(into: &stream.out) }
        stream.end()
        if otherExtension {
            stream.begin()
            writeOtherExtension(&stream.out, &rng)
            stream.end()
        }
        if fluxExtension {
            stream.begin()
            writeFluxExtension(&stream.out, &rng)
            stream.end()
        }
        if baselineConfig {
            stream.begin()
            writeConfig(&stream.out, baselineSpec(&rng), &rng)
            stream.end()
        }
        if let extraConfig {
            stream.begin()
            writeConfig(&stream.out, extraSpec(extraConfig, &rng), &rng)
            stream.end()
        }
        if sourceControl {
            stream.begin()
            writeSourceControl(&stream.out, &rng)
            stream.end()
        }
    }

    // MARK: - Common columns

    /// `{"id":…,"name":…,"type":…` plus the Resource Graph columns up to `"identity":`, and the
    /// identity value; the caller continues with `,"properties":`.
    private func writeChildHead(
        _ w: inout ByteWriter, path: StaticString, name: String, type: StaticString, location: Bool,
        identityOf rng: inout SplitMix64?
    ) {
        w.raw("{\"id\":")
        w.childID(identity.id, path, name)
        w.raw(",\"name\":")
        w.string(name)
        w.raw(",\"type\":")
        w.raw(type)
        w.raw(",\"tenantId\":")
        w.string(identity.tenantId)
        w.raw(",\"kind\":\"\",\"location\":")
        if location { w.string(identity.location) } else { w.raw("\"\"") }
        w.raw(",\"resourceGroup\":")
        w.string(identity.resourceGroup)
        w.raw(",\"subscriptionId\":")
        w.string(identity.subscriptionId)
        w.raw(",\"managedBy\":\"\",\"sku\":null,\"plan\":null,\"tags\":null,\"zones\":null")
        w.raw(",\"extendedLocation\":null,\"identity\":")
        if rng != nil {
            writeExtensionIdentity(&w, &rng!)
        } else {
            w.raw("null")
        }
    }

    private func writeExtensionIdentity(_ w: inout ByteWriter, _ rng: inout SplitMix64) {
        w.raw("{\"type\":\"SystemAssigned\",\"principalId\":")
        w.guid(&rng)
        w.raw(",\"tenantId\":")
        w.string(identity.tenantId)
        w.raw("}")
    }

    /// ARM `systemData` of a resource created at `created` and last changed at `modified`.
    private func writeSystemData(_ w: inout ByteWriter, created: Instant, modified: Instant, byUser: Bool) {
        w.raw(",\"systemData\":{\"createdBy\":")
        if byUser { w.raw("\"dana.ruiz@contoso.com\"") } else { writeAutomationID(&w) }
        w.raw(byUser ? ",\"createdByType\":\"User\"" : ",\"createdByType\":\"Application\"")
        w.raw(",\"createdAt\":")
        w.time(created, .millis)
        w.raw(",\"lastModifiedBy\":")
        writeAutomationID(&w)
        w.raw(",\"lastModifiedByType\":\"Application\",\"lastModifiedAt\":")
        w.time(modified, .millis)
        w.raw("}")
    }

    /// The client id of the tenant's fleet automation (one per tenant).
    private func writeAutomationID(_ w: inout ByteWriter) {
        var r = SplitMix64(stableHash(lowercasing: identity.tenantId), 5)
        w.raw("\"")
        w.guidText(r.next(), r.next())
        w.raw("\"")
    }

    // MARK: - Extensions

    private func writeFluxExtension(_ w: inout ByteWriter, _ rng: inout SplitMix64) {
        var spec = ExtensionSpec(
            name: "flux", extensionType: "microsoft.flux", releaseNamespace: "flux-system", settings: .flux,
            installedVersion: "1.19.5", camel: fluxExtensionCamel)
        switch fleetCase {
        case .oldExtension:
            let version = "1.6.\(rng.int(in: 0...4))"
            spec.autoUpgrade = false
            spec.pinnedVersion = version
            spec.installedVersion = version
        case .extensionFailed:
            spec.installedVersion = nil
            spec.failure = rng.pick(FluxCatalog.extensionFailures)
        default:
            break
        }
        writeExtension(&w, spec, &rng)
    }

    private func writeOtherExtension(_ w: inout ByteWriter, _ rng: inout SplitMix64) {
        let spec: ExtensionSpec
        if identity.kind == .aks {
            spec = ExtensionSpec(
                name: "dapr", extensionType: "microsoft.dapr", releaseNamespace: "dapr-system", settings: .dapr,
                installedVersion: "1.15.6", camel: otherExtensionCamel)
        } else {
            spec = ExtensionSpec(
                name: "azuremonitor-containers", extensionType: "microsoft.azuremonitor.containers",
                releaseNamespace: "azuremonitor-containers", settings: .monitor, installedVersion: "3.1.29",
                camel: otherExtensionCamel)
        }
        writeExtension(&w, spec, &rng)
    }

    private func writeExtension(_ w: inout ByteWriter, _ spec: ExtensionSpec, _ rng: inout SplitMix64) {
        let created = Instant.reference.adding(seconds: -rng.int(in: 2...700) * 86_400 - rng.below(86_400))
            .adding(millis: rng.below(1000))
        let failedAt = Instant.reference.adding(seconds: -rng.int(in: 600...86_400)).adding(millis: rng.below(1000))
        let identitySeed = rng.next()
        var identityRng: SplitMix64? = identity.kind.isArc ? SplitMix64(identitySeed, 0x1D) : nil
        if spec.camel {
            // ARM GET shape (api-version 2025-03-01): ARM-cased type, systemData, camelCase properties.
            w.raw("{\"id\":")
            w.childID(identity.id, "/providers/Microsoft.KubernetesConfiguration/extensions/", spec.name)
            w.raw(",\"name\":")
            w.string(spec.name)
            w.raw(",\"type\":\"Microsoft.KubernetesConfiguration/extensions\"")
            if identityRng != nil {
                w.raw(",\"identity\":")
                writeExtensionIdentity(&w, &identityRng!)
            }
            let modified = spec.failure == nil ? created : failedAt
            writeSystemData(&w, created: created, modified: modified, byUser: false)
            w.raw(",\"properties\":{\"extensionType\":")
            w.string(spec.extensionType)
            w.raw(",\"autoUpgradeMinorVersion\":")
            w.bool(spec.autoUpgrade)
            w.raw(",\"releaseTrain\":\"Stable\",\"version\":")
            w.stringOrNull(spec.pinnedVersion)
            w.raw(",\"scope\":{\"cluster\":{\"releaseNamespace\":")
            w.string(spec.releaseNamespace)
            w.raw("}},\"configurationSettings\":")
            writeSettings(&w, spec.settings)
            w.raw(spec.failure == nil ? ",\"provisioningState\":\"Succeeded\"" : ",\"provisioningState\":\"Failed\"")
            w.raw(",\"currentVersion\":")
            w.stringOrNull(spec.installedVersion)
            w.raw(",\"statuses\":")
            writeExtensionStatuses(&w, spec.failure, at: failedAt)
            w.raw(",\"errorInfo\":")
            writeErrorInfo(&w, spec.failure)
            w.raw(",\"isSystemExtension\":false}}")
        } else {
            // Resource Graph row: lowercase type, PascalCase properties.
            writeChildHead(
                &w, path: "/providers/Microsoft.KubernetesConfiguration/extensions/", name: spec.name,
                type: "\"microsoft.kubernetesconfiguration/extensions\"", location: identity.kind.isArc,
                identityOf: &identityRng)
            w.raw(",\"properties\":{\"ExtensionType\":")
            w.string(spec.extensionType)
            w.raw(spec.failure == nil ? ",\"ProvisioningState\":\"Succeeded\"" : ",\"ProvisioningState\":\"Failed\"")
            w.raw(spec.failure == nil ? ",\"InstallState\":\"Installed\"" : ",\"InstallState\":\"Failed\"")
            w.raw(",\"AutoUpgradeMinorVersion\":")
            w.bool(spec.autoUpgrade)
            w.raw(",\"ReleaseTrain\":\"Stable\",\"Version\":")
            w.stringOrNull(spec.pinnedVersion)
            w.raw(",\"InstalledVersion\":")
            w.stringOrNull(spec.installedVersion)
            w.raw(",\"Scope\":{\"cluster\":{\"ReleaseNamespace\":")
            w.string(spec.releaseNamespace)
            w.raw("}},\"ConfigurationSettings\":")
            writeSettings(&w, spec.settings)
            w.raw(",\"Statuses\":")
            writeExtensionStatuses(&w, spec.failure, at: failedAt)
            w.raw(",\"ErrorInfo\":")
            writeErrorInfo(&w, spec.failure)
            w.raw("}}")
        }
    }

    private func writeSettings(_ w: inout ByteWriter, _ settings: ExtensionSpec.Settings) {
        switch settings {
        case .flux:
            w.raw("{\"multiTenancy.enforce\":\"false\"}")
        case .dapr:
            w.raw("{\"global.ha.enabled\":\"true\",\"dapr_operator.replicaCount\":\"2\"}")
        case .monitor:
            w.raw("{\"amalogs.useAADAuth\":\"true\",\"logAnalyticsWorkspaceResourceID\":\"/subscriptions/")
            w.content(identity.subscriptionId)
            w.raw("/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-edge-")
            w.content(identity.location)
            w.raw("\"}")
        }
    }

    private func writeExtensionStatuses(_ w: inout ByteWriter, _ failure: ExtensionFailure?, at time: Instant) {
        guard let failure else {
            w.raw("[]")
            return
        }
        w.raw("[{\"code\":\"InstallationFailed\",\"displayStatus\":\"Failed\",\"level\":\"Error\",\"message\":")
        w.string(failure.message)
        w.raw(",\"time\":")
        w.time(time, .millis)
        w.raw("}]")
    }

    private func writeErrorInfo(_ w: inout ByteWriter, _ failure: ExtensionFailure?) {
        guard let failure else {
            w.raw("null")
            return
        }
        w.raw("{\"code\":")
        w.string(failure.code)
        w.raw(",\"message\":\"The extension operation failed with the following error: ")
        w.content(failure.message)
        w.raw("\"}")
    }

    // MARK: - Flux v1

    private func writeSourceControl(_ w: inout ByteWriter, _ rng: inout SplitMix64) {
        let name = rng.pick(["legacy-config", "cluster-config", "flux-v1"])
        var none: SplitMix64?
        writeChildHead(
            &w, path: "/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/", name: name,
            type: "\"microsoft.kubernetesconfiguration/sourcecontrolconfigurations\"", location: false,
            identityOf: &none)
        let applied = Instant.reference.adding(seconds: -rng.int(in: 60...5000)).adding(millis: rng.below(1000))
        w.raw(",\"properties\":{\"repositoryUrl\":\"git@github.com:contoso/")
        w.content(name)
        w.raw(".git\",\"operatorNamespace\":\"flux-legacy\",\"operatorInstanceName\":")
        w.string(name)
        w.raw(",\"operatorType\":\"Flux\",\"operatorParams\":\"--git-readonly --git-branch=master --git-path=releases/")
        w.content(identity.env)
        w.raw("\",\"operatorScope\":\"cluster\",\"sshKnownHostsContents\":\"\",\"enableHelmOperator\":false")
        w.raw(",\"helmOperatorProperties\":null,\"repositoryPublicKey\":\"")
        FluxCatalog.writePublicKey(&w, &rng)
        w.raw("\",\"provisioningState\":\"Succeeded\",\"complianceStatus\":{\"complianceState\":\"Installed\"")
        w.raw(",\"lastConfigApplied\":")
        w.time(applied, .millis)
        w.raw(",\"message\":\"{\\\"OperatorMessage\\\":null,\\\"ClusterState\\\":null}\"")
        w.raw(",\"messageLevel\":\"Information\"}}}")
    }

    // MARK: - Flux configurations

    /// The `gitops-baseline` configuration as this cluster's case has it.
    private func baselineSpec(_ rng: inout SplitMix64) -> ConfigSpec {
        var spec = ConfigSpec.baseline()
        spec.timeHealthy(&rng)
        switch fleetCase {
        case .driftedBranch:
            let branch = rng.pick(FluxCatalog.driftBranches)
            spec.branch = branch.name
            spec.revision = "\(branch.name)@sha1:\(branch.commit)"
            if rng.chance(perMille: 400) {
                spec.httpsUser = "fleet-bot"
                spec.httpsCACert = rng.chance(perMille: 400)
            }
        case .driftedKustomization:
            switch rng.below(5) {
            case 0: spec.kustomizations[1].path = "./apps-legacy"
            case 1: spec.kustomizations[1].path = "./apps/\(identity.env)"
            case 2: spec.kustomizations.append(Kustomization(name: "monitoring", path: "./monitoring"))
            case 3:
                spec.kustomizations[0].path = "./infra"
                spec.kustomizations.append(Kustomization(name: "policies", path: "./policies"))
            default: spec.kustomizations.removeLast()
            }
            if rng.chance(perMille: 300) {
                spec.httpsUser = "fleet-reader"
                spec.httpsCACert = true
            }
        case .suspended:
            spec.suspend = true
            spec.complianceState = "Suspended"
            spec.timeAged(&rng, days: rng.int(in: 1...20))
            if rng.chance(perMille: 500) {
                spec.url = "ssh://git@github.com/contoso/fleet-gitops.git"
                spec.sshKnownHosts = true
                spec.publicKey = true
            }
        case .nonCompliant:
            spec.fail(&rng, source: rng.chance(perMille: 250))
        case .pending:
            spec.complianceState = "Pending"
            spec.revision = ""
            spec.sourceUpdatedAt = nil
            spec.statusUpdatedAt = Instant.reference.adding(seconds: -rng.int(in: 5...200))
            spec.statuses = false
        case .arcOffline:
            spec.complianceState = "Unknown"
            spec.timeBefore(sinceOutage, &rng)
        case .aksStopped:
            spec.timeBefore(sinceOutage, &rng)
        default:
            break
        }
        return spec
    }

    /// A team-owned configuration that is not the baseline.
    private func extraSpec(_ extra: ExtraConfig, _ rng: inout SplitMix64) -> ConfigSpec {
        var spec = ConfigSpec.baseline()
        spec.timeHealthy(&rng)
        switch extra {
        case .teamApps:
            let team = rng.pick(Catalog.teams)
            spec.name = "team-apps"
            spec.namespaceScope = true
            spec.namespace = "team-apps"
            spec.url = "https://dev.azure.com/contoso/\(team)/_git/team-apps"
            spec.localAuthRef = "git-credentials"
            spec.kustomizations = [Kustomization(name: "apps", path: "./deploy/\(identity.env)")]
            spec.revision = "main@sha1:\(FluxCatalog.commit(&rng))"
            if rng.chance(perMille: 350) { spec.fail(&rng, source: false) }
        case .bucketTelemetry:
            spec.name = "plant-telemetry"
            spec.bucket = true
            spec.url = "https://minio.\(identity.name).contoso.local"
            spec.localAuthRef = "bucket-creds"
            spec.kustomizations = [Kustomization(name: "telemetry", path: "./\(identity.name)")]
            spec.revision = "sha256:\(FluxCatalog.commit(&rng))\(FluxCatalog.commit(&rng).prefix(24))"
        case .sshEdge:
            spec.name = "edge-config"
            spec.url = "ssh://git@github.com/contoso/edge-config.git"
            spec.sshKnownHosts = true
            spec.publicKey = true
            spec.kustomizations = [Kustomization(name: "edge", path: "./clusters/\(identity.env)")]
            spec.revision = "main@sha1:\(FluxCatalog.commit(&rng))"
        case .httpsCerts:
            spec.name = "platform-certs"
            spec.url = "https://git.contoso.com/platform/certs.git"
            spec.httpsUser = "certs-reader"
            spec.httpsCACert = true
            spec.kustomizations = [Kustomization(name: "certs", path: "./certs")]
            spec.revision = "main@sha1:\(FluxCatalog.commit(&rng))"
        }
        return spec
    }

    private func writeConfig(_ w: inout ByteWriter, _ spec: ConfigSpec, _ rng: inout SplitMix64) {
        var none: SplitMix64?
        writeChildHead(
            &w, path: "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/", name: spec.name,
            type: "\"microsoft.kubernetesconfiguration/fluxconfigurations\"", location: false, identityOf: &none)
        w.raw(",\"properties\":{\"scope\":")
        w.raw(spec.namespaceScope ? "\"namespace\"" : "\"cluster\"")
        w.raw(",\"namespace\":")
        w.string(spec.namespace)
        w.raw(spec.bucket ? ",\"sourceKind\":\"Bucket\"" : ",\"sourceKind\":\"GitRepository\"")
        w.raw(",\"suspend\":")
        w.bool(spec.suspend)
        if spec.bucket {
            w.raw(",\"gitRepository\":null,\"bucket\":{\"url\":")
            w.string(spec.url)
            w.raw(",\"bucketName\":\"telemetry-manifests\",\"insecure\":false")
        } else {
            w.raw(",\"gitRepository\":{\"url\":")
            w.string(spec.url)
            w.raw(",\"repositoryRef\":{\"branch\":")
            w.string(spec.branch)
            w.raw(",\"tag\":null,\"semver\":null,\"commit\":null}")
        }
        w.raw(",\"syncIntervalInSeconds\":600,\"timeoutInSeconds\":600")
        if let user = spec.httpsUser {
            w.raw(",\"httpsUser\":")
            w.string(user)
        }
        if spec.httpsCACert {
            w.raw(",\"httpsCACert\":\"LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSU")
            w.base64(&rng, count: 1100)
            w.raw("Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K\"")
        }
        if spec.sshKnownHosts {
            w.raw(",\"sshKnownHosts\":\"Z2l0aHViLmNvbSBzc2gtZWQyNTUxOSBBQUFBQzNOemFDMWxaREkxTlRFNUFBQUFJ")
            w.base64(&rng, count: 56)
            w.raw("Cg==\"")
        }
        if let ref = spec.localAuthRef {
            w.raw(",\"localAuthRef\":")
            w.string(ref)
        }
        w.raw("},\"kustomizations\":{")
        for (k, kustomization) in spec.kustomizations.enumerated() {
            if k > 0 { w.raw(",") }
            w.string(kustomization.name)
            w.raw(":{\"name\":")
            w.string(kustomization.name)
            w.raw(",\"path\":")
            w.string(kustomization.path)
            w.raw(",\"dependsOn\":[")
            for (d, dependency) in kustomization.dependsOn.enumerated() {
                if d > 0 { w.raw(",") }
                w.string(dependency)
            }
            w.raw("],\"timeoutInSeconds\":600,\"syncIntervalInSeconds\":600,\"retryIntervalInSeconds\":null")
            w.raw(",\"prune\":true,\"force\":false,\"wait\":true,\"postBuild\":null}")
        }
        w.raw("},\"provisioningState\":\"Succeeded\",\"complianceState\":")
        w.string(spec.complianceState)
        w.raw(",\"errorMessage\":")
        w.string(spec.errorMessage)
        w.raw(",\"repositoryPublicKey\":\"")
        if spec.publicKey { FluxCatalog.writePublicKey(&w, &rng) }
        w.raw("\",\"sourceSyncedCommitId\":")
        w.string(spec.revision)
        w.raw(",\"sourceUpdatedAt\":")
        if let at = spec.sourceUpdatedAt { w.time(at, .offset) } else { w.raw("null") }
        w.raw(",\"statusUpdatedAt\":")
        if let at = spec.statusUpdatedAt { w.time(at, .offset) } else { w.raw("null") }
        w.raw(",\"statuses\":[")
        if spec.statuses { writeObjectStatuses(&w, spec) }
        w.raw("]}}")
    }

    private func writeObjectStatuses(_ w: inout ByteWriter, _ spec: ConfigSpec) {
        let sourceFails = spec.failure?.kustomization == nil && spec.failure != nil
        writeObjectStatus(
            &w, spec, name: spec.name, suffix: nil, kind: spec.bucket ? "\"Bucket\"" : "\"GitRepository\"",
            failure: sourceFails ? spec.failure : nil, at: spec.sourceUpdatedAt ?? Instant.reference)
        for (k, kustomization) in spec.kustomizations.enumerated() {
            w.raw(",")
            let fails = spec.failure?.kustomization == k
            writeObjectStatus(
                &w, spec, name: spec.name, suffix: kustomization.name, kind: "\"Kustomization\"",
                failure: fails ? spec.failure : nil, at: spec.appliedAt ?? Instant.reference)
        }
    }

    private func writeObjectStatus(
        _ w: inout ByteWriter, _ spec: ConfigSpec, name: String, suffix: String?, kind: StaticString,
        failure: ConfigFailure?, at: Instant
    ) {
        w.raw("{\"name\":\"")
        w.content(name)
        if let suffix {
            w.raw("-")
            w.content(suffix)
        }
        w.raw("\",\"namespace\":")
        w.string(spec.namespace)
        w.raw(",\"kind\":")
        w.raw(kind)
        w.raw(failure == nil ? ",\"complianceState\":\"Compliant\"" : ",\"complianceState\":\"Non-Compliant\"")
        w.raw(",\"appliedBy\":null,\"helmReleaseProperties\":null,\"statusConditions\":[{\"type\":\"Ready\"")
        if let failure {
            w.raw(",\"status\":\"False\",\"reason\":")
            w.string(failure.reason)
            w.raw(",\"message\":")
            w.string(failure.message)
            w.raw(",\"lastTransitionTime\":")
            w.time(failure.at, .offset)
        } else if suffix == nil {
            w.raw(",\"status\":\"True\",\"reason\":\"Succeeded\",\"message\":\"stored artifact for revision '")
            w.content(spec.revision)
            w.raw("'\",\"lastTransitionTime\":")
            w.time(at, .offset)
        } else {
            w.raw(",\"status\":\"True\",\"reason\":\"ReconciliationSucceeded\",\"message\":\"Applied revision: ")
            w.content(spec.revision)
            w.raw("\",\"lastTransitionTime\":")
            w.time(at, .offset)
        }
        w.raw("}]}")
    }
}

/// A cluster extension to write.
struct ExtensionSpec {
    enum Settings {
        case flux
        case monitor
        case dapr
    }
    var name: String
    var extensionType: String
    var releaseNamespace: String
    var settings: Settings
    var autoUpgrade = true
    var pinnedVersion: String?
    var installedVersion: String?
    var failure: ExtensionFailure?
    var camel: Bool

    init(
        name: String, extensionType: String, releaseNamespace: String, settings: Settings, installedVersion: String,
        camel: Bool
    ) {
        self.name = name
        self.extensionType = extensionType
        self.releaseNamespace = releaseNamespace
        self.settings = settings
        self.installedVersion = installedVersion
        self.camel = camel
    }
}

/// Why an extension install failed.
struct ExtensionFailure {
    let code: String
    let message: String
}

/// One kustomization of a Flux configuration.
struct Kustomization {
    var name: String
    var path: String
    var dependsOn: [String] = []
}

/// A Flux object that fails to reconcile.
struct ConfigFailure {
    /// The failing kustomization's position, or nil when the source fails.
    var kustomization: Int?
    var reason: String
    var message: String
    var at: Instant
}

/// A Flux configuration to write.
struct ConfigSpec {
    var name = "gitops-baseline"
    var namespaceScope = false
    var namespace = "flux-system"
    var bucket = false
    var suspend = false
    var url = "https://github.com/contoso/fleet-gitops"
    var branch = "main"
    var httpsUser: String?
    var httpsCACert = false
    var sshKnownHosts = false
    var localAuthRef: String?
    var kustomizations: [Kustomization]
    var complianceState = "Compliant"
    var errorMessage = ""
    var publicKey = false
    var revision = ""
    var sourceUpdatedAt: Instant?
    var appliedAt: Instant?
    var statusUpdatedAt: Instant?
    var statuses = true
    var failure: ConfigFailure?

    /// The baseline's `gitops-baseline`, before times are set.
    static func baseline() -> ConfigSpec {
        ConfigSpec(kustomizations: [
            Kustomization(name: "infra", path: "./infrastructure"),
            Kustomization(name: "apps", path: "./apps", dependsOn: ["infra"]),
        ])
    }

    /// Times of a healthy configuration that synced the current (or the previous) commit of `main`.
    mutating func timeHealthy(_ rng: inout SplitMix64) {
        let atHead = rng.chance(perMille: 850)
        revision = "main@sha1:\(atHead ? FluxCatalog.headCommit : FluxCatalog.previousCommit)"
        let pushed = atHead ? FluxCatalog.headPushedAt : FluxCatalog.previousPushedAt
        let synced = pushed.adding(seconds: rng.int(in: 5...590))
        sourceUpdatedAt = synced
        appliedAt = synced.adding(seconds: rng.int(in: 15...70))
        statusUpdatedAt = Instant.reference.adding(seconds: -rng.int(in: 30...900))
    }

    /// Times of a configuration whose last report is `days` old.
    mutating func timeAged(_ rng: inout SplitMix64, days: Int) {
        let synced = Instant.reference.adding(seconds: -days * 86_400 - rng.below(86_400))
        sourceUpdatedAt = synced
        appliedAt = synced.adding(seconds: rng.int(in: 15...70))
        statusUpdatedAt = Instant.reference.adding(seconds: -rng.int(in: 30...900))
    }

    /// Times of a configuration whose cluster stopped reporting at `outage`.
    mutating func timeBefore(_ outage: Instant, _ rng: inout SplitMix64) {
        let synced = outage.adding(seconds: -rng.int(in: 300...3000)).wholeSeconds
        sourceUpdatedAt = synced
        appliedAt = synced.adding(seconds: rng.int(in: 15...70))
        statusUpdatedAt = outage.adding(seconds: -rng.int(in: 10...280)).wholeSeconds
    }

    /// Makes the source (or one kustomization) fail to reconcile.
    mutating func fail(_ rng: inout SplitMix64, source: Bool) {
        complianceState = "Non-Compliant"
        let at = Instant.reference.adding(seconds: -rng.int(in: 60...7200))
        if source {
            let cause = rng.pick(FluxCatalog.sourceErrors)
            let message = "failed to checkout and determine revision: unable to clone '\(url)': \(cause)"
            failure = ConfigFailure(kustomization: nil, reason: "GitOperationFailed", message: message, at: at)
            errorMessage = "GitRepository \(namespace)/\(name): \(message)"
        } else {
            let k = kustomizations.count - 1
            let problem = rng.pick(FluxCatalog.kustomizationErrors)
            failure = ConfigFailure(kustomization: k, reason: problem.reason, message: problem.message, at: at)
            errorMessage = "Kustomization \(namespace)/\(name)-\(kustomizations[k].name): \(problem.message)"
        }
    }
}

/// Commits, branches and error texts of the fleet's GitOps repository.
enum FluxCatalog {
    /// The commit at the tip of `main` of the baseline repository.
    static let headCommit = fixedCommit(1)
    /// The commit before it, still synced by slower clusters.
    static let previousCommit = fixedCommit(2)
    static let headPushedAt = Instant.reference.adding(seconds: -47 * 60)
    static let previousPushedAt = Instant.reference.adding(seconds: -(27 * 3600 + 12 * 60))

    static let driftBranches: [(name: String, commit: String)] = [
        ("release-2026-10", fixedCommit(3)), ("release-2026-11", fixedCommit(4)),
        ("hotfix/ingress-timeouts", fixedCommit(5)), ("staging", fixedCommit(6)), ("dev", fixedCommit(7)),
    ]

    private static func fixedCommit(_ n: UInt64) -> String {
        var rng = SplitMix64(0xF1EE_7C0D, n)
        return commit(&rng)
    }

    /// A random 40-hex commit id.
    static func commit(_ rng: inout SplitMix64) -> String {
        var w = ByteWriter(capacity: 40)
        w.hex(&rng, count: 40)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// An SSH public key as a Flux source reports it.
    static func writePublicKey(_ w: inout ByteWriter, _ rng: inout SplitMix64) {
        w.raw("ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhB")
        w.base64(&rng, count: 128)
        w.raw("==")
    }

    static let extensionFailures = [
        ExtensionFailure(
            code: "ExtensionOperationFailed",
            message: "Error: [ InnerError: [Helm installation failed : Timed out waiting for the resource to come "
                + "to a ready/completed state Deployment/flux-system/source-controller : Recommendation Check if "
                + "there are any pods in the flux-system namespace that are not running : InnerError [context "
                + "deadline exceeded]]] occurred while doing the operation : [Create] on the config"),
        ExtensionFailure(
            code: "ExtensionOperationFailed",
            message: "Error: [ InnerError: [Helm installation failed : admission webhook \"validation.gatekeeper.sh\" "
                + "denied the request: [k8sallowedrepos] container <manager> has an invalid image repo "
                + "<mcr.microsoft.com/oss/v2/fluxcd/source-controller>]] occurred while doing the operation : "
                + "[Create] on the config"),
        ExtensionFailure(
            code: "ResourceOperationFailure",
            message: "The extension installation failed because the cluster did not report status within 60 "
                + "minutes; check the cluster's outbound connectivity to *.dp.kubernetesconfiguration.azure.com"),
    ]

    static let sourceErrors = [
        "authentication required", "remote repository not found",
        "unable to access repository: dial tcp: lookup github.com: i/o timeout",
    ]

    static let kustomizationErrors: [(reason: String, message: String)] = [
        (
            "ReconciliationFailed",
            "Deployment/apps/orders-api dry-run failed (Invalid): Deployment.apps \"orders-api\" is invalid: "
                + "spec.template.spec.containers[0].image: Required value"
        ),
        (
            "HealthCheckFailed",
            "health check failed after 9m30s: timeout waiting for: [Deployment/apps/web status: 'InProgress']"
        ),
        (
            "BuildFailed",
            "kustomize build failed: accumulating resources: accumulation err='accumulating resources from "
                + "'./ingress': open /tmp/kustomization-1813/ingress: no such file or directory'"
        ),
    ]
}
