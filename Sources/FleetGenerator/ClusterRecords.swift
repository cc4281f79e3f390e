/// Writing cluster rows in the `resources` table shape of Azure Resource Graph.
extension ClusterPlan {
    /// When an Arc cluster went offline (or, for an expired one, last connected); AKS: when it stopped.
    ///
    /// Drawn from the cluster's hash and case only, so its row and its children agree.
    var sinceOutage: Instant {
        var r = SplitMix64(identity.hash, 4, UInt64(FleetCase.allCases.firstIndex(of: fleetCase)!))
        let days = fleetCase == .arcExpired ? r.int(in: 95...240) : r.int(in: 1...12)
        return Instant.reference.adding(seconds: -(days * 86_400 + r.below(86_400))).adding(millis: r.below(1000))
    }

    /// Writes the cluster row.
    func writeCluster(into w: inout ByteWriter) {
        w.raw("{\"id\":")
        w.string(identity.id)
        w.raw(",\"name\":")
        w.string(identity.name)
        if identity.kind == .aks {
            w.raw(",\"type\":\"microsoft.containerservice/managedclusters\",\"tenantId\":")
        } else {
            w.raw(",\"type\":\"microsoft.kubernetes/connectedclusters\",\"tenantId\":")
        }
        w.string(identity.tenantId)
        w.raw(identity.kind == .provisioned ? ",\"kind\":\"ProvisionedCluster\"" : ",\"kind\":\"\"")
        w.raw(",\"location\":")
        w.string(identity.location)
        w.raw(",\"resourceGroup\":")
        w.string(identity.resourceGroup)
        w.raw(",\"subscriptionId\":")
        w.string(identity.subscriptionId)
        w.raw(",\"managedBy\":\"\"")
        if identity.kind == .aks { writeAKS(&w) } else { writeArc(&w) }
        w.raw("}")
    }

    private func writeTags(_ w: inout ByteWriter, team: String, costCenter: Int, site: String?) {
        if let tags = identity.tagsJSON {
            w.raw(text: tags)
            return
        }
        w.raw("{\"env\":")
        w.string(identity.env)
        w.raw(",\"team\":")
        w.string(team)
        w.raw(",\"costCenter\":\"CC-")
        w.digits(UInt64(costCenter), width: 4)
        w.raw("\"")
        if let site {
            w.raw(",\"site\":")
            w.string(site)
        }
        w.raw("}")
    }

    private func writeIdentity(_ w: inout ByteWriter, principal: (UInt64, UInt64)) {
        w.raw("{\"type\":\"SystemAssigned\",\"principalId\":\"")
        w.guidText(principal.0, principal.1)
        w.raw("\",\"tenantId\":")
        w.string(identity.tenantId)
        w.raw("}")
    }

    // MARK: - AKS

    private func writeAKS(_ w: inout ByteWriter) {
        // Every draw happens in the same order whatever the case, so the row only differs where
        // the case says it must.
        var r = SplitMix64(identity.hash, 1)
        let principal = (r.next(), r.next())
        let kubeletClient = (r.next(), r.next())
        let kubeletObject = (r.next(), r.next())
        let spnClient = (r.next(), r.next())
        let issuer = (r.next(), r.next())
        let version = AKSCatalog.versions[r.below(AKSCatalog.versions.count)]
        let patch = version.patches[r.below(version.patches.count)]
        let requestsMinorOnly = r.chance(perMille: 700)
        let automatic = r.chance(perMille: 30)
        let tier = automatic ? "Standard" : r.pick(["Free", "Standard", "Standard", "Standard", "Premium"])
        let longTermSupport = tier == "Premium" && r.chance(perMille: 300)
        let network = r.below(10)
        let oidc = r.chance(perMille: 750)
        let imageDate = r.pick(AKSCatalog.imageDates)
        let zoned = r.chance(perMille: 700)
        let stopped = fleetCase == .aksStopped
        let spn = fleetCase == .servicePrincipal

        w.raw(",\"sku\":{\"name\":")
        w.raw(automatic ? "\"Automatic\"" : "\"Base\"")
        w.raw(",\"tier\":")
        w.string(tier)
        w.raw("},\"plan\":null,\"tags\":")
        let team = r.pick(Catalog.teams)
        let costCenter = r.int(in: 1000...9999)
        writeTags(&w, team: team, costCenter: costCenter, site: nil)
        w.raw(",\"zones\":null,\"extendedLocation\":null,\"identity\":")
        if spn { w.raw("null") } else { writeIdentity(&w, principal: principal) }

        let name = identity.name
        let location = identity.location
        w.raw(",\"properties\":{\"provisioningState\":\"Succeeded\",\"powerState\":{\"code\":")
        w.raw(stopped ? "\"Stopped\"}" : "\"Running\"}")
        w.raw(",\"kubernetesVersion\":")
        w.string(requestsMinorOnly ? version.minor : patch)
        w.raw(",\"currentKubernetesVersion\":")
        w.string(patch)
        w.raw(",\"dnsPrefix\":\"")
        w.content(name)
        w.raw("-dns\",\"fqdn\":\"")
        w.content(name)
        w.raw("-dns-")
        let fqdnWord = r.next()
        w.hex(word: fqdnWord, count: 8)
        w.raw(".hcp.")
        w.content(location)
        w.raw(".azmk8s.io\",\"azurePortalFQDN\":\"")
        w.content(name)
        w.raw("-dns-")
        w.hex(word: fqdnWord, count: 8)
        w.raw(".portal.hcp.")
        w.content(location)
        w.raw(".azmk8s.io\",\"enableRBAC\":true,\"supportPlan\":")
        w.raw(longTermSupport ? "\"AKSLongTermSupport\"" : "\"KubernetesOfficial\"")
        w.raw(",\"servicePrincipalProfile\":{\"clientId\":")
        if spn {
            w.raw("\"")
            w.guidText(spnClient.0, spnClient.1)
            w.raw("\"}")
        } else {
            w.raw("\"msi\"}")
        }
        w.raw(",\"nodeResourceGroup\":\"MC_")
        w.content(identity.resourceGroup)
        w.raw("_")
        w.content(name)
        w.raw("_")
        w.content(location)
        w.raw("\",\"agentPoolProfiles\":[")

        // System pool, then one or two user pools (the last one ARM64 or Windows when so drawn).
        let userPools = r.chance(perMille: 250) ? 2 : 1
        let windows = !automatic && r.chance(perMille: 60)
        let linuxSKU = r.chance(perMille: 600) ? "Ubuntu" : "AzureLinux"
        let pool = PoolSpec(
            name: automatic ? "systempool" : "system", mode: "System", count: r.pick([1, 2, 3, 3, 3, 5]),
            vmSize: r.pick(AKSCatalog.systemSizes), osType: "Linux", osSKU: linuxSKU, version: patch,
            image: linuxSKU == "Ubuntu" ? "AKSUbuntu-2204gen2containerd-" : "AKSAzureLinux-V3gen2-",
            imageDate: imageDate, autoscale: nil, zoned: zoned, stopped: stopped, systemTaint: true, arm: false)
        pool.write(&w)
        for k in 0..<userPools {
            let last = k == userPools - 1
            let count = r.int(in: 2...12)
            let maxCount = count + r.int(in: 2...20)
            var user = PoolSpec(
                name: k == 0 ? "apps" : "batch", mode: "User", count: count, vmSize: r.pick(AKSCatalog.userSizes),
                osType: "Linux", osSKU: linuxSKU, version: patch, image: pool.image, imageDate: imageDate,
                autoscale: r.chance(perMille: 600) ? (1, maxCount) : nil, zoned: zoned, stopped: stopped,
                systemTaint: false, arm: false)
            if last && identity.armPool {
                user.name = "arm64"
                user.vmSize = r.pick(AKSCatalog.armSizes)
                user.osSKU = "AzureLinux"
                user.image = "AKSAzureLinux-V3gen2arm64-"
                user.arm = true
            } else if last && windows {
                user.name = "win22"
                user.vmSize = "Standard_D4s_v5"
                user.osType = "Windows"
                user.osSKU = "Windows2022"
                user.image = "AKSWindows-2022-containerd-20348.4405."
            }
            w.raw(",")
            user.write(&w)
        }
        w.raw("],\"networkProfile\":")
        switch network {
        case 0..<6: w.raw(AKSCatalog.overlayNetwork)
        case 6..<8: w.raw(AKSCatalog.kubenetNetwork)
        default: w.raw(AKSCatalog.azureCNINetwork)
        }
        if oidc && !spn {
            w.raw(",\"oidcIssuerProfile\":{\"enabled\":true,\"issuerURL\":\"https://")
            w.content(location)
            w.raw(".oic.prod-aks.azure.com/")
            w.content(identity.tenantId)
            w.raw("/")
            w.guidText(issuer.0, issuer.1)
            w.raw("/\"},\"securityProfile\":{\"workloadIdentity\":{\"enabled\":true}}")
        } else {
            w.raw(",\"oidcIssuerProfile\":{\"enabled\":false},\"securityProfile\":{}")
        }
        w.raw(",\"resourceUID\":\"")
        w.hex(&r, count: 24)
        w.raw("\",\"maxAgentPools\":100")
        if !spn {
            w.raw(",\"identityProfile\":{\"kubeletidentity\":{\"resourceId\":\"/subscriptions/")
            w.content(identity.subscriptionId)
            w.raw("/resourcegroups/MC_")
            w.content(identity.resourceGroup)
            w.raw("_")
            w.content(name)
            w.raw("_")
            w.content(location)
            w.raw("/providers/Microsoft.ManagedIdentity/userAssignedIdentities/")
            w.content(name)
            w.raw("-agentpool\",\"clientId\":\"")
            w.guidText(kubeletClient.0, kubeletClient.1)
            w.raw("\",\"objectId\":\"")
            w.guidText(kubeletObject.0, kubeletObject.1)
            w.raw("\"}}")
        }
        w.raw("}")
    }

    // MARK: - Arc

    private func writeArc(_ w: inout ByteWriter) {
        var r = SplitMix64(identity.hash, 1)
        let principal = (r.next(), r.next())
        let provisioned = identity.kind == .provisioned
        let distro = provisioned ? ArcCatalog.azureLocal : r.pick(ArcCatalog.distributions)
        let kubernetesVersion = r.pick(distro.versions)
        let agentVersion = r.pick(ArcCatalog.agentVersions)
        let nodes = provisioned ? r.int(in: 2...6) : r.pick([1, 1, 1, 2, 3, 3, 5, 8])
        let coresPerNode = r.pick([4, 8, 8, 16])
        let heartbeat = Instant.reference.adding(seconds: -r.int(in: 3...290)).adding(millis: r.below(1000))
        let certificateExpiry = Instant.reference.adding(seconds: r.int(in: 40...88) * 86_400 + r.below(86_400))
        let privateLink = r.chance(perMille: 50)
        let hybridBenefit = provisioned ? r.pick(["True", "False"]) : "NotApplicable"
        let oidc = r.chance(perMille: 200)
        let autoUpgrade = r.chance(perMille: 900)
        let team = r.pick(Catalog.teams)
        let costCenter = r.int(in: 1000...9999)
        let site: String
        switch identity.kind {
        case .provisioned: site = "plant-\(r.pick(Catalog.cities))-\(r.int(in: 1...9))"
        default: site = identity.env == "prod" ? "store-\(r.int(in: 1...9999))" : "lab-\(r.int(in: 1...99))"
        }

        var state = "Connected"
        var lastSeen = heartbeat
        var agentState = "Succeeded"
        var expiry = certificateExpiry
        if fleetCase == .arcOffline {
            state = "Offline"
            lastSeen = sinceOutage
        } else if fleetCase == .arcExpired {
            state = "Expired"
            lastSeen = sinceOutage
            expiry = lastSeen.adding(seconds: 90 * 86_400).wholeSeconds
            agentState = "Failed"
        }

        w.raw(",\"sku\":null,\"plan\":null,\"tags\":")
        writeTags(&w, team: team, costCenter: costCenter, site: site)
        w.raw(",\"zones\":null,\"extendedLocation\":null,\"identity\":")
        writeIdentity(&w, principal: principal)
        w.raw(",\"properties\":{\"provisioningState\":\"Succeeded\",\"connectivityStatus\":")
        w.string(state)
        w.raw(",\"lastConnectivityTime\":")
        w.time(lastSeen, .millis)
        w.raw(",\"agentVersion\":")
        w.string(fleetCase == .arcExpired ? "1.21.10" : agentVersion)
        w.raw(",\"kubernetesVersion\":")
        w.string(kubernetesVersion)
        w.raw(",\"distribution\":")
        w.string(distro.distribution)
        w.raw(",\"distributionVersion\":")
        w.string(distro.distributionVersion)
        w.raw(",\"infrastructure\":")
        w.string(distro.infrastructure)
        w.raw(",\"totalNodeCount\":")
        w.int(nodes)
        w.raw(",\"totalCoreCount\":")
        w.int(nodes * coresPerNode)
        w.raw(",\"managedIdentityCertificateExpirationTime\":")
        w.time(expiry.wholeSeconds, .zulu)
        w.raw(",\"agentPublicKeyCertificate\":\"MIICCgKCAgEA")
        w.base64(&r, count: 600)
        w.raw("AgMBAAE=\",\"privateLinkState\":")
        if privateLink {
            w.raw("\"Enabled\",\"privateLinkScopeResourceId\":\"/subscriptions/")
            w.content(identity.subscriptionId)
            w.raw("/resourceGroups/")
            w.content(identity.resourceGroup)
            w.raw("/providers/Microsoft.HybridCompute/privateLinkScopes/pls-edge\"")
        } else {
            w.raw("\"Disabled\",\"privateLinkScopeResourceId\":null")
        }
        w.raw(",\"azureHybridBenefit\":")
        w.string(hybridBenefit)
        if oidc {
            w.raw(",\"oidcIssuerProfile\":{\"enabled\":true,\"issuerUrl\":\"https://oidcdiscovery-")
            w.content(identity.location)
            w.raw("-endpoint.azurefd.net/")
            w.hex(&r, count: 32)
            w.raw("/\"},\"securityProfile\":{\"workloadIdentity\":{\"enabled\":true}}")
        } else {
            w.raw(",\"oidcIssuerProfile\":{\"enabled\":false}")
            w.raw(",\"securityProfile\":{\"workloadIdentity\":{\"enabled\":false}}")
        }
        w.raw(",\"arcAgentProfile\":{\"desiredAgentVersion\":\"\",\"agentAutoUpgrade\":")
        w.raw(autoUpgrade ? "\"Enabled\"" : "\"Disabled\"")
        w.raw(",\"agentState\":")
        w.string(agentState)
        if fleetCase == .arcExpired {
            w.raw(",\"agentErrors\":[{\"message\":\"Managed identity certificate expired on ")
            w.timeText(expiry, .zulu)
            w.raw("; the cluster must be re-onboarded to Azure Arc.\",\"severity\":\"Error\",")
            w.raw("\"component\":\"clusteridentityoperator\",\"time\":")
            w.time(expiry, .zulu)
            w.raw("}]")
        } else {
            w.raw(",\"agentErrors\":[]")
        }
        w.raw(",\"systemComponents\":null}}")
    }
}

/// One AKS agent pool as `agentPoolProfiles[]` shows it.
private struct PoolSpec {
    var name: String
    var mode: String
    var count: Int
    var vmSize: String
    var osType: String
    var osSKU: String
    var version: String
    var image: String
    var imageDate: String
    var autoscale: (min: Int, max: Int)?
    var zoned: Bool
    var stopped: Bool
    var systemTaint: Bool
    var arm: Bool

    func write(_ w: inout ByteWriter) {
        w.raw("{\"name\":")
        w.string(name)
        w.raw(",\"mode\":")
        w.string(mode)
        w.raw(",\"count\":")
        w.int(count)
        w.raw(",\"vmSize\":")
        w.string(vmSize)
        w.raw(",\"osType\":")
        w.string(osType)
        w.raw(",\"osSKU\":")
        w.string(osSKU)
        w.raw(",\"osDiskSizeGB\":128,\"osDiskType\":")
        w.raw(osType == "Windows" || arm ? "\"Managed\"" : "\"Ephemeral\"")
        w.raw(",\"type\":\"VirtualMachineScaleSets\",\"orchestratorVersion\":")
        w.string(version)
        w.raw(",\"currentOrchestratorVersion\":")
        w.string(version)
        w.raw(",\"nodeImageVersion\":\"")
        w.content(image)
        w.content(imageDate)
        w.raw("\",\"maxPods\":")
        w.raw(osType == "Windows" ? "30" : "110")
        w.raw(",\"enableAutoScaling\":")
        w.bool(autoscale != nil)
        w.raw(",\"powerState\":{\"code\":")
        w.raw(stopped ? "\"Stopped\"}" : "\"Running\"}")
        w.raw(",\"provisioningState\":\"Succeeded\"")
        if let autoscale {
            w.raw(",\"minCount\":")
            w.int(autoscale.min)
            w.raw(",\"maxCount\":")
            w.int(autoscale.max)
        }
        if zoned { w.raw(",\"availabilityZones\":[\"1\",\"2\",\"3\"]") }
        if systemTaint { w.raw(",\"nodeTaints\":[\"CriticalAddonsOnly=true:NoSchedule\"]") }
        if arm { w.raw(",\"nodeLabels\":{\"kubernetes.io/arch\":\"arm64\"}") }
        w.raw("}")
    }
}

/// Value lists shared by the record writers.
enum Catalog {
    static let teams = [
        "platform", "payments", "checkout", "search", "data", "identity", "mobile", "retail-edge", "logistics",
        "analytics", "web", "ml",
    ]
    static let cities = ["lyon", "porto", "gdansk", "brno", "austin", "monterrey", "osaka", "pune", "perth"]
}

/// AKS versions, VM sizes and network profiles.
enum AKSCatalog {
    struct Version {
        let minor: String
        let patches: [String]
    }
    static let versions = [
        Version(minor: "1.31", patches: ["1.31.9", "1.31.10", "1.31.11"]),
        Version(minor: "1.32", patches: ["1.32.5", "1.32.6", "1.32.7"]),
        Version(minor: "1.32", patches: ["1.32.7"]),
        Version(minor: "1.33", patches: ["1.33.2", "1.33.3"]),
    ]
    static let imageDates = ["202611.04.0", "202611.04.0", "202611.04.0", "202610.18.0", "202609.30.0"]
    static let systemSizes = ["Standard_D4ds_v5", "Standard_D4ds_v5", "Standard_D2s_v5", "Standard_D4s_v3"]
    static let userSizes = [
        "Standard_D8ds_v5", "Standard_D8s_v5", "Standard_D16ds_v5", "Standard_E8ds_v5", "Standard_F8s_v2",
        "Standard_D4ds_v5",
    ]
    /// ARM64 sizes: a lowercase `p` among the feature letters.
    static let armSizes = [
        "Standard_D4ps_v5", "Standard_D8ps_v5", "Standard_D4pds_v5", "Standard_E4ps_v5", "Standard_D4ps_v6",
    ]
    static let overlayNetwork: StaticString = """
        {"networkPlugin":"azure","networkPluginMode":"overlay","networkPolicy":"cilium",\
        "networkDataplane":"cilium","loadBalancerSku":"standard","outboundType":"loadBalancer",\
        "podCidr":"10.244.0.0/16","serviceCidr":"10.0.0.0/16","dnsServiceIP":"10.0.0.10"}
        """
    static let kubenetNetwork: StaticString = """
        {"networkPlugin":"kubenet","networkPolicy":"calico","loadBalancerSku":"standard",\
        "outboundType":"loadBalancer","podCidr":"10.244.0.0/16","serviceCidr":"10.0.0.0/16",\
        "dnsServiceIP":"10.0.0.10"}
        """
    static let azureCNINetwork: StaticString = """
        {"networkPlugin":"azure","networkPolicy":"azure","loadBalancerSku":"standard",\
        "outboundType":"userDefinedRouting","serviceCidr":"10.0.0.0/16","dnsServiceIP":"10.0.0.10"}
        """
}

/// Arc agent versions and Kubernetes distributions.
enum ArcCatalog {
    struct Distribution {
        let distribution: String
        let distributionVersion: String
        let infrastructure: String
        let versions: [String]
    }
    static let agentVersions = ["1.28.6", "1.28.6", "1.28.5", "1.27.3", "1.26.1"]
    static let azureLocal = Distribution(
        distribution: "AKS", distributionVersion: "", infrastructure: "azure_stack_hci",
        versions: ["1.31.5", "1.30.9", "1.32.4"])
    static let distributions = [
        Distribution(
            distribution: "k3s", distributionVersion: "", infrastructure: "generic",
            versions: ["1.33.3+k3s1", "1.32.7+k3s1", "1.31.11+k3s1"]),
        Distribution(
            distribution: "k3s", distributionVersion: "", infrastructure: "generic",
            versions: ["1.32.7+k3s1", "1.31.11+k3s1"]),
        Distribution(
            distribution: "aks_edge_k3s", distributionVersion: "1.11.247.0", infrastructure: "azure_stack_hci",
            versions: ["1.31.6+k3s1"]),
        Distribution(
            distribution: "openshift", distributionVersion: "4.17.10", infrastructure: "vsphere",
            versions: ["1.30.7", "1.30.10"]),
        Distribution(
            distribution: "rke2", distributionVersion: "", infrastructure: "generic",
            versions: ["1.31.9+rke2r1", "1.32.5+rke2r1"]),
        Distribution(
            distribution: "eks", distributionVersion: "", infrastructure: "aws",
            versions: ["1.32.5-eks-4096722", "1.31.9-eks-5e0fdde"]),
        Distribution(
            distribution: "gke", distributionVersion: "", infrastructure: "gcp", versions: ["1.31.6-gke.1020000"]),
    ]
}
