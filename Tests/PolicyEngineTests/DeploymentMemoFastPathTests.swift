import FleetCore
import Foundation
import Testing

@testable import PolicyEngine

/// One cluster of a memo test: its id and the record a scan would read its fields from.
private struct FastPathCluster {
    var id: String
    /// The record's JSON text.
    var record: String

    /// A cluster with the usual record members; `location` nil leaves the member out, `escapedName` writes the name
    /// with a JSON escape (`\u002d` for `-`).
    init(
        _ name: String, subscription: String = "11111111-1111-1111-1111-111111111111", group: String = "rg-fleet",
        arc: Bool = false, location: String? = "westeurope", escapedName: Bool = false
    ) {
        let type = arc ? "Microsoft.Kubernetes/connectedClusters" : "Microsoft.ContainerService/managedClusters"
        id = "/subscriptions/\(subscription)/resourceGroups/\(group)/providers/\(type)/\(name)"
        let written = escapedName ? name.replacingOccurrences(of: "-", with: #"\u002d"#) : name
        let located = location.map { #", "location": "\#($0)""# } ?? ""
        record = #"{"id": "\#(id)", "name": "\#(written)", "type": "\#(type)"\#(located), "properties": {}}"#
    }

    /// A cluster whose id is given as it is (a subscription-level one, say).
    init(id: String, name: String) {
        self.id = id
        record = #"{"id": "\#(id)", "name": "\#(name)", "type": "Microsoft.ContainerService/managedClusters"}"#
    }
}

/// The repository's DeployIfNotExists deployments, with the assignment parameters they read.
private func repositoryDeployments() throws -> [(deployment: JSON, parameters: [String: JSON])] {
    let parameters: [String: JSON] = [
        "releaseTrain": .string("Stable"), "autoUpgradeMinorVersion": .bool(false), "version": .string("1.14.0"),
        "configurationSettings": .object(["multiTenancy.enforce": .string("false")]),
        "configurationName": .string("gitops-baseline"), "configurationScope": .string("cluster"),
        "configurationNamespace": .string("flux-system"),
        "repositoryUrl": .string("https://github.com/example/fleet-gitops"), "branch": .string("main"),
        "syncInterval": .int(300), "timeout": .int(600),
        "kustomizations": .object(["infra": .object(["path": .string("./infrastructure")])]),
    ]
    var found: [(JSON, [String: JSON])] = []
    for file in ["deploy-flux-extension.json", "deploy-flux-configuration.json"] {
        let url = repositoryRoot.appending(path: "policies/definitions/\(file)")
        let definition = try JSON.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
        guard case .object(let root) = definition, case .object(let properties)? = root["properties"],
            case .object(let rule)? = properties["policyRule"], case .object(let then)? = rule["then"],
            case .object(let details)? = then["details"], let deployment = details["deployment"]
        else {
            Issue.record("\(file): no deployment")
            continue
        }
        found.append((deployment, parameters))
    }
    return found
}

@Suite("DeploymentMemo fast paths: the same resources as a full evaluation")
struct DeploymentMemoFastPathTests {
    /// Clusters that share places and shapes, and some that do not: other subscriptions and resource groups (one
    /// differing only in case, one not a plain name), Arc and AKS, names with escapes or not plain, locations that
    /// need normalising or are missing, and a cluster outside any resource group.
    private static let clusters: [FastPathCluster] = [
        FastPathCluster("aks-weu-01"),
        FastPathCluster("aks-weu-02"),
        FastPathCluster("arc-store-01", arc: true, location: "eastus2"),
        FastPathCluster("aks-weu-03", location: "West Europe"),
        FastPathCluster("arc-store-02", arc: true, location: "eastus2"),
        FastPathCluster("aks-weu-04", location: nil),
        FastPathCluster("aks-neu-01", group: "RG-Fleet", location: "northeurope"),
        FastPathCluster("aks-neu-02", group: "rg-fleet", location: "northeurope"),
        FastPathCluster("aks-esc-01", escapedName: true),
        FastPathCluster("arc-esc-02", arc: true, escapedName: true),
        FastPathCluster("aks(odd)", location: "westeurope"),
        FastPathCluster("providers"),
        FastPathCluster("aks-sub2-01", subscription: "22222222-2222-2222-2222-222222222222", group: "rg-edge"),
        FastPathCluster(
            "arc-sub2-02", subscription: "22222222-2222-2222-2222-222222222222", group: "rg-edge", arc: true),
        FastPathCluster("aks-odd-group", group: "rg(odd).name"),
        FastPathCluster("aks-odd-group-2", group: "rg(odd).name"),
        FastPathCluster(
            id: "/subscriptions/33333333-3333-3333-3333-333333333333/providers/Microsoft.ContainerService/"
                + "managedClusters/aks-no-group", name: "aks-no-group"),
        FastPathCluster("aks-weu-05"),
        FastPathCluster("arc-store-03", arc: true, location: "EastUS2"),
        FastPathCluster("aks-weu-06"),
    ]

    /// Evaluates every deployment for every cluster (clusters in one document, as a scan reads them) through one
    /// memo, twice over, and expects what a full evaluation gives.
    @Test("the repository's deployments over clusters in one document, memoised and in full")
    func repositoryPolicies() throws {
        let deployments = try repositoryDeployments()
        #expect(deployments.count == 2)
        let text = "[" + Self.clusters.map(\.record).joined(separator: ",") + "]"
        let records = Array(observedJSON(text).elements)
        let memo = DeploymentMemo()
        for _ in 0..<2 {
            for (cluster, record) in zip(Self.clusters, records) {
                let id = try ResourceID(parsing: cluster.id)
                let type = record.member(ignoringCase: "type")?.string ?? ""
                for (index, (deployment, parameters)) in deployments.enumerated() {
                    let context = PolicyExpressionContext(
                        parameters: parameters, now: "2026-11-21T18:00:00Z",
                        resource: PolicyExpressionContext.Resource(json: record, type: type, id: cluster.id))
                    let full = Result { () throws(DeploymentError) in
                        try DeploymentEvaluator.desiredResources(
                            deployment: deployment, policyParameters: context, cluster: id)
                    }
                    let planned = Result { () throws(DeploymentError) in
                        try memo.desired(policy: index, deployment: deployment, policyParameters: context, cluster: id)
                    }
                    #expect(planned.map { $0.map(\.resource) } == full, "\(cluster.id) policy \(index)")
                    if case .success(let pairs) = planned {
                        for (resource, plan) in pairs {
                            guard let plan else { continue }
                            #expect(
                                plan.plan.compare(observed: nil)
                                    == DriftPlan(desired: resource.body).compare(observed: nil))
                        }
                    }
                }
            }
        }
        #expect(memo.hits > Self.clusters.count)
        #expect(memo.misses < 16)
    }

    @Test("a specialised text is the substitution of its symbols, wherever they sit")
    func specialisedText() {
        let s = SymbolTrap.symbol
        let texts = [
            "plain", "", s(0), "\(s(0))\(s(1))", "/a/\(s(2))/b/\(s(0))", "\(s(3))/tail", "é/\(s(1))/ü", "x\(s(42))y",
            "ffsymq7x0z \(s(1))",
        ]
        for values in [
            ["sub", "rg", "name", "loc"], ["", "", "", ""], ["ü-é", "rg", "a-very-long-name-beyond-15", "x"],
        ] {
            for text in texts {
                #expect(SymbolicText(text).text(values) == SymbolTrap.substitute(text, values), "\(text)")
            }
        }
    }

    @Test("plain names: the one-pass check agrees with the definition")
    func plainNames() {
        /// The definition: letters, digits, `-`, `_`, `.`; 1…256 bytes; no symbol; not `providers`.
        func reference(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard !bytes.isEmpty, bytes.count <= 256 else { return false }
            for b in bytes {
                let ok =
                    (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
                if !ok { return false }
            }
            if SymbolTrap.scan(text, { _ in }) { return false }
            return text.lowercased() != "providers"
        }
        let samples = [
            "aks-weu-01", "c9cc878f-9545-4c27-8cf5-3a36c8525e56", "rg_fleet.1", "providers", "PROVIDERS", "Providerz",
            "providers1", "", "a b", "é", "q", "qq-\(SymbolTrap.symbol(3))", "ffsymq7x0az", "x@y", "[", "`", "{",
            String(repeating: "a", count: 256), String(repeating: "a", count: 257),
        ]
        for text in samples { #expect(DeploymentMemo.isPlainName(text) == reference(text), "\(text)") }
    }

    @Test("locations: the one-pass check normalises as FieldReference does")
    func locations() {
        for text in ["westeurope", "West Europe", "", "EASTUS", "east us 2", "ünicode", "north-europe_1"] {
            #expect(DeploymentMemo.normalizeLocation(text) == FieldReference.normalizeLocation(text), "\(text)")
        }
    }

    @Test("the place prefix names exactly the subscription and resource group")
    func placePrefix() throws {
        let text = "/SUBSCRIPTIONS/sub-1/resourcegroups/RG.x/providers/Microsoft.ContainerService/managedClusters/c"
        let id = try ResourceID(parsing: text)
        let prefix = DeploymentMemo.placePrefix(
            of: id.description, subscriptionId: id.subscriptionId, resourceGroup: id.resourceGroup ?? "")
        #expect(String(decoding: prefix, as: UTF8.self) == "/SUBSCRIPTIONS/sub-1/resourcegroups/RG.x/")
        #expect(DeploymentMemo.hasPrefix(text, prefix))
        #expect(!DeploymentMemo.hasPrefix("/SUBSCRIPTIONS/sub-1/resourcegroups/RG.xy/providers/A.B/c/d", prefix))
        #expect(DeploymentMemo.placePrefix(of: text, subscriptionId: "sub-2", resourceGroup: "RG.x").isEmpty)
    }
}
