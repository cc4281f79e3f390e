import FleetCore
import Testing

private let subscription = "00000000-1111-2222-3333-444444444444"
private let aksID =
    "/subscriptions/\(subscription)/resourceGroups/rg-fleet/providers/Microsoft.ContainerService"
    + "/managedClusters/aks-weu-01"
private let arcID =
    "/subscriptions/\(subscription)/resourceGroups/rg-edge/providers/Microsoft.Kubernetes"
    + "/connectedClusters/arc-store-042"

/// A well-formed id and every component the parser should find in it.
private struct ValidIDCase: Sendable, CustomTestStringConvertible {
    var id: String
    var subscriptionId: String = subscription
    var resourceGroup: String?
    var providerNamespace: String
    var resourceType: String
    var name: String
    var parent: String?
    var isExtensionResource = false

    var testDescription: String { id }

    static let clusterExtensionKinds = [
        ("extensions", "flux"),
        ("fluxConfigurations", "cluster-config"),
        ("sourceControlConfigurations", "legacy-gitops"),
    ]

    static let all: [ValidIDCase] =
        [
            ValidIDCase(
                id: aksID,
                resourceGroup: "rg-fleet",
                providerNamespace: "Microsoft.ContainerService",
                resourceType: "Microsoft.ContainerService/managedClusters",
                name: "aks-weu-01"
            ),
            ValidIDCase(
                id: arcID,
                resourceGroup: "rg-edge",
                providerNamespace: "Microsoft.Kubernetes",
                resourceType: "Microsoft.Kubernetes/connectedClusters",
                name: "arc-store-042"
            ),
            // Nested child types.
            ValidIDCase(
                id: aksID + "/agentPools/system",
                resourceGroup: "rg-fleet",
                providerNamespace: "Microsoft.ContainerService",
                resourceType: "Microsoft.ContainerService/managedClusters/agentPools",
                name: "system",
                parent: aksID
            ),
            ValidIDCase(
                id: "/subscriptions/s/resourceGroups/db/providers/Microsoft.Sql/servers/srv/databases/orders"
                    + "/backupShortTermRetentionPolicies/default",
                subscriptionId: "s",
                resourceGroup: "db",
                providerNamespace: "Microsoft.Sql",
                resourceType: "Microsoft.Sql/servers/databases/backupShortTermRetentionPolicies",
                name: "default",
                parent: "/subscriptions/s/resourceGroups/db/providers/Microsoft.Sql/servers/srv/databases/orders"
            ),
            // Subscription-level resources; the subscription id need not be a GUID.
            ValidIDCase(
                id: "/subscriptions/prod-sub/providers/Microsoft.Authorization/policyAssignments/flux-required",
                subscriptionId: "prod-sub",
                providerNamespace: "Microsoft.Authorization",
                resourceType: "Microsoft.Authorization/policyAssignments",
                name: "flux-required"
            ),
            ValidIDCase(
                id: "/subscriptions/x/providers/Microsoft.Security/pricings/KubernetesService/providers/"
                    + "Microsoft.Foo/settings/default",
                subscriptionId: "x",
                providerNamespace: "Microsoft.Foo",
                resourceType: "Microsoft.Foo/settings",
                name: "default",
                parent: "/subscriptions/x/providers/Microsoft.Security/pricings/KubernetesService",
                isExtensionResource: true
            ),
            // Lowercased and uppercased keywords, as Resource Graph sometimes returns them.
            ValidIDCase(
                id: "/subscriptions/s/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/aks",
                subscriptionId: "s",
                resourceGroup: "rg",
                providerNamespace: "microsoft.containerservice",
                resourceType: "microsoft.containerservice/managedclusters",
                name: "aks"
            ),
            ValidIDCase(
                id: "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KUBERNETES/CONNECTEDCLUSTERS/ARC"
                    + "/PROVIDERS/MICROSOFT.KUBERNETESCONFIGURATION/FLUXCONFIGURATIONS/F",
                subscriptionId: "S",
                resourceGroup: "RG",
                providerNamespace: "MICROSOFT.KUBERNETESCONFIGURATION",
                resourceType: "MICROSOFT.KUBERNETESCONFIGURATION/FLUXCONFIGURATIONS",
                name: "F",
                parent: "/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.KUBERNETES/CONNECTEDCLUSTERS/ARC",
                isExtensionResource: true
            ),
            // Non-ASCII names are kept as they are.
            ValidIDCase(
                id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters"
                    + "/Filiale-Zürich",
                subscriptionId: "s",
                resourceGroup: "rg",
                providerNamespace: "Microsoft.Kubernetes",
                resourceType: "Microsoft.Kubernetes/connectedClusters",
                name: "Filiale-Zürich"
            ),
        ]
        + [(aksID, "rg-fleet"), (arcID, "rg-edge")].flatMap { cluster, group in
            clusterExtensionKinds.map { type, name in
                ValidIDCase(
                    id: cluster + "/providers/Microsoft.KubernetesConfiguration/\(type)/\(name)",
                    resourceGroup: group,
                    providerNamespace: "Microsoft.KubernetesConfiguration",
                    resourceType: "Microsoft.KubernetesConfiguration/\(type)",
                    name: name,
                    parent: cluster,
                    isExtensionResource: true
                )
            }
        }
}

/// A malformed id and a fragment of the reason it must be rejected with.
private struct InvalidIDCase: Sendable, CustomTestStringConvertible {
    var id: String
    var reason: String

    var testDescription: String { "\(reason) ← \(id.debugDescription.prefix(100))" }

    static let all: [InvalidIDCase] = [
        InvalidIDCase(id: "", reason: "empty id"),
        InvalidIDCase(id: "subscriptions/s/resourceGroups/rg", reason: "does not start with '/subscriptions/'"),
        InvalidIDCase(
            id: "/subscription/s/resourceGroups/rg/providers/A.B/t/n",
            reason: "does not start with '/subscriptions/'"
        ),
        InvalidIDCase(id: "/resourceGroups/rg/providers/A.B/t/n", reason: "does not start with '/subscriptions/'"),
        InvalidIDCase(id: "/", reason: "does not start with '/subscriptions/'"),
        InvalidIDCase(id: "/subscriptions//x", reason: "empty segment at position 15"),
        InvalidIDCase(id: "/subscriptions/s/resourceGroups//providers/A.B/t/n", reason: "empty segment at position 32"),
        InvalidIDCase(id: "/subscriptions/s/providers/A.B/t//n", reason: "empty segment at position 33"),
        InvalidIDCase(id: aksID + "/", reason: "trailing '/' at position \(aksID.utf8.count)"),
        InvalidIDCase(id: "/subscriptions/s/", reason: "trailing '/' at position 16"),
        InvalidIDCase(id: "/subscriptions", reason: "missing subscription id"),
        InvalidIDCase(id: "/subscriptions/", reason: "missing subscription id"),
        InvalidIDCase(id: "/subscriptions/s", reason: "nothing after subscription id 's'"),
        InvalidIDCase(id: "/subscriptions/s/resourceGroups", reason: "without a resource group name"),
        InvalidIDCase(id: "/subscriptions/s/resourcegroups", reason: "without a resource group name"),
        InvalidIDCase(
            id: "/subscriptions/s/resourceGroups/rg",
            reason: "missing '/providers/' after resource group 'rg'"
        ),
        InvalidIDCase(
            id: "/subscriptions/s/resourceGroups/rg/Microsoft.ContainerService/managedClusters/aks",
            reason: "missing '/providers/' after resource group 'rg': found 'Microsoft.ContainerService'"
        ),
        InvalidIDCase(
            id: "/subscriptions/s/locations/westeurope",
            reason: "expected 'resourceGroups' or 'providers' after subscription id, found 'locations'"
        ),
        InvalidIDCase(
            id: "/subscriptions/s/resourceGroups/rg/providers/Foo/bar/baz",
            reason: "provider namespace 'Foo' at position 45 has no '.'"
        ),
        InvalidIDCase(
            id: aksID + "/providers/KubernetesConfiguration/extensions/flux",
            reason: "provider namespace 'KubernetesConfiguration'"
        ),
        InvalidIDCase(
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters",
            reason: "resource type 'managedClusters' at position 72 has no name"
        ),
        InvalidIDCase(id: aksID + "/agentPools", reason: "resource type 'agentPools'"),
        InvalidIDCase(
            id: aksID + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations",
            reason: "resource type 'fluxConfigurations'"
        ),
        InvalidIDCase(id: "/subscriptions/s/providers", reason: "'providers' at position 17 has nothing after it"),
        InvalidIDCase(id: "/subscriptions/s/resourceGroups/rg/providers", reason: "'providers' at position 35"),
        InvalidIDCase(id: aksID + "/providers", reason: "'providers' at position \(aksID.utf8.count + 1)"),
        InvalidIDCase(
            id: "/subscriptions/s/providers/Microsoft.ContainerService",
            reason: "provider namespace 'Microsoft.ContainerService' at position 27 has no resource type"
        ),
        InvalidIDCase(
            id: "/subscriptions/s/providers/A.B/providers/C.D/t/n",
            reason: "provider namespace 'A.B' at position 27 has no resource type"
        ),
        InvalidIDCase(
            id: aksID.replacing("aks-weu-01", with: "aks weu"),
            reason: "whitespace or control character U+0020"
        ),
        InvalidIDCase(id: " " + aksID, reason: "whitespace or control character U+0020 at position 0"),
        InvalidIDCase(
            id: aksID + "\n",
            reason: "whitespace or control character U+000A at position \(aksID.utf8.count)"
        ),
        InvalidIDCase(id: "/subscriptions/s\t/providers/A.B/t/n", reason: "U+0009 at position 16"),
        InvalidIDCase(id: "/subscriptions/s/providers/A.B/t/n\u{7F}", reason: "U+007F at position 34"),
        InvalidIDCase(id: "/subscriptions/s/providers/A.B/t/n\u{A0}x", reason: "U+00A0 at position 34"),
        InvalidIDCase(id: "/subscriptions/s/providers/A.B/t/\u{200B}n", reason: "U+200B at position 33"),
        InvalidIDCase(id: "/subscriptions/s/providers/A.B/t/n\u{202E}", reason: "U+202E at position 34"),
        InvalidIDCase(id: "/subscriptions/s/providers/A.B/t/n\u{3000}", reason: "U+3000 at position 34"),
        InvalidIDCase(
            id: "/subscriptions/s/providers/A.B/t/" + String(repeating: "n", count: 4064),
            reason: "id is 4097 bytes long, over the limit of 4096 bytes"
        ),
    ]
}

/// An id, a policy-assignment-like scope and whether the id lies within the scope.
private struct ScopeCase: Sendable, CustomTestStringConvertible {
    var id: String
    var scope: String
    var expected: Bool

    var testDescription: String { "\(expected ? "in" : "not in") '\(scope)' ← \(id)" }

    static let clusterInRG =
        "/subscriptions/a/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"
    static let clusterInRG2 =
        "/subscriptions/a/resourceGroups/rg2/providers/Microsoft.ContainerService/managedClusters/aks"

    static let all: [ScopeCase] = [
        ScopeCase(id: clusterInRG, scope: "/subscriptions/a/resourceGroups/rg", expected: true),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/a/resourceGroups/rg/", expected: true),
        ScopeCase(id: clusterInRG, scope: "/SUBSCRIPTIONS/A/resourcegroups/RG", expected: true),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/a", expected: true),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/a/", expected: true),
        ScopeCase(id: clusterInRG, scope: clusterInRG, expected: true),
        ScopeCase(id: clusterInRG, scope: clusterInRG.uppercased() + "/", expected: true),
        ScopeCase(id: clusterInRG, scope: "/", expected: true),
        ScopeCase(
            id: clusterInRG + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/f",
            scope: clusterInRG,
            expected: true
        ),
        ScopeCase(id: clusterInRG2, scope: "/subscriptions/a/resourceGroups/rg", expected: false),
        ScopeCase(id: clusterInRG2, scope: "/subscriptions/a/resourceGroups/rg/", expected: false),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/a/resourceGroups/rg2", expected: false),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/ab", expected: false),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/b/resourceGroups/rg", expected: false),
        ScopeCase(id: clusterInRG, scope: clusterInRG + "2", expected: false),
        ScopeCase(id: clusterInRG + "2", scope: clusterInRG, expected: false),
        ScopeCase(id: clusterInRG, scope: clusterInRG + "/agentPools/p", expected: false),
        ScopeCase(id: clusterInRG, scope: "", expected: false),
        ScopeCase(id: clusterInRG, scope: "/subscriptions/a/resourceGroups/r", expected: false),
    ]
}

@Suite("ResourceID")
struct ResourceIDTests {
    @Test("parses valid ids into their components", arguments: ValidIDCase.all)
    fileprivate func parsesValidID(_ testCase: ValidIDCase) throws {
        let id = try ResourceID(parsing: testCase.id)
        #expect(id.description == testCase.id)
        #expect(id.subscriptionId == testCase.subscriptionId)
        #expect(id.resourceGroup == testCase.resourceGroup)
        #expect(id.providerNamespace == testCase.providerNamespace)
        #expect(id.resourceType == testCase.resourceType)
        #expect(id.name == testCase.name)
        #expect(id.parent?.description == testCase.parent)
        #expect(id.isExtensionResource == testCase.isExtensionResource)
        #expect(id.normalized == asciiLowercased(testCase.id))
    }

    @Test("rejects malformed ids with a precise reason", arguments: InvalidIDCase.all)
    fileprivate func rejectsInvalidID(_ testCase: InvalidIDCase) {
        let error = #expect(throws: ResourceIDError.self) {
            try ResourceID(parsing: testCase.id)
        }
        guard let error else {
            return
        }
        #expect(error.id == testCase.id)
        #expect(error.reason.contains(testCase.reason), "reason was: \(error.reason)")
        #expect(error.description.hasPrefix("invalid ARM resource id '"))
        #expect(error.description.contains(testCase.reason))
        #expect(error.description.hasSuffix("/providers/{Namespace}/{type}/{name}"))
    }

    @Test("describes a rejection like a diagnostic")
    func errorDescription() {
        let error = #expect(throws: ResourceIDError.self) {
            try ResourceID(parsing: "/subscriptions//x")
        }
        #expect(error == ResourceIDError(id: "/subscriptions//x", reason: "empty segment at position 15"))
        #expect(
            error?.description
                == "invalid ARM resource id '/subscriptions//x': empty segment at position 15 — ARM ids look like "
                + "/subscriptions/{subscriptionId}/resourceGroups/{group}/providers/{Namespace}/{type}/{name}"
        )
    }

    @Test("escapes control characters and shortens long ids in the error description")
    func errorDescriptionIsPrintable() {
        let newline = #expect(throws: ResourceIDError.self) {
            try ResourceID(parsing: "/subscriptions/s\n/providers/A.B/t/n")
        }
        #expect(newline?.description.contains("'/subscriptions/s\\u{A}/providers/A.B/t/n'") == true)

        let long = "/subscriptions/s/providers/A.B/t/" + String(repeating: "n", count: 5000)
        let tooLong = #expect(throws: ResourceIDError.self) {
            try ResourceID(parsing: long)
        }
        #expect(tooLong?.id == long)
        #expect((tooLong?.description.utf8.count ?? .max) < 500)
    }

    @Test("accepts an id of exactly the maximum length")
    func acceptsMaximumLength() throws {
        let prefix = "/subscriptions/s/providers/A.B/t/"
        let text = prefix + String(repeating: "n", count: ResourceID.maximumUTF8Length - prefix.utf8.count)
        let id = try ResourceID(parsing: text)
        #expect(id.description.utf8.count == 4096)
        #expect(id.name.utf8.count == 4096 - prefix.utf8.count)
    }

    @Test("normalizes by lowercasing ASCII letters only")
    func normalized() throws {
        let id = try ResourceID(parsing: "/subscriptions/ABC/resourceGroups/RG/providers/A.B/Things/ÄKS-Ünï")
        #expect(id.normalized == "/subscriptions/abc/resourcegroups/rg/providers/a.b/things/Äks-Ünï")
        #expect(id.description == "/subscriptions/ABC/resourceGroups/RG/providers/A.B/Things/ÄKS-Ünï")

        let lower = try ResourceID(parsing: "/subscriptions/s/providers/a.b/t/n")
        #expect(lower.normalized == lower.description)
    }

    @Test("finds uppercase letters and forbidden bytes at any offset", arguments: 0..<40)
    func everyOffset(_ offset: Int) throws {
        let prefix = "/subscriptions/s/providers/a.b/t/"
        func id(with character: Character) -> String {
            var name = Array(repeating: Character("n"), count: 40)
            name[offset] = character
            return prefix + String(name)
        }
        for letter: Character in ["A", "M", "Z"] {
            let parsed = try ResourceID(parsing: id(with: letter))
            #expect(parsed.normalized == id(with: Character(letter.lowercased())))
        }
        // The neighbours of the letter ranges are not letters and must stay as they are.
        for neighbour: Character in ["@", "[", "`", "{", "~", "!"] {
            let parsed = try ResourceID(parsing: id(with: neighbour))
            #expect(parsed.normalized == parsed.description)
        }
        for forbidden: Character in ["\u{0}", "\u{1F}", " ", "\u{7F}", "\u{85}", "\u{2028}"] {
            let error = #expect(throws: ResourceIDError.self) {
                try ResourceID(parsing: id(with: forbidden))
            }
            #expect(error?.reason.hasSuffix("at position \(prefix.utf8.count + offset)") == true)
        }
    }

    @Test("compares, hashes and orders case-insensitively")
    func caseInsensitiveIdentity() throws {
        let mixed = try ResourceID(parsing: aksID)
        let lower = try ResourceID(parsing: aksID.lowercased())
        let upper = try ResourceID(parsing: aksID.uppercased())
        let other = try ResourceID(parsing: arcID)

        #expect(mixed == lower)
        #expect(lower == upper)
        #expect(mixed != other)
        #expect(mixed.hashValue == upper.hashValue)
        #expect(!(mixed < upper) && !(upper < mixed))

        let set: Set = [mixed, lower, upper, other]
        #expect(set.count == 2)
        #expect(set.contains(try ResourceID(parsing: arcID.uppercased())))

        var clusters: [ResourceID: String] = [mixed: "aks", other: "arc"]
        #expect(clusters[lower] == "aks")
        #expect(clusters[try ResourceID(parsing: arcID.lowercased())] == "arc")
        clusters[upper] = "aks (upper)"
        #expect(clusters.count == 2)
        #expect(clusters[mixed] == "aks (upper)")
        // The key keeps the casing it was first inserted with.
        #expect(clusters.keys.contains { $0.description == aksID })
    }

    @Test("keys compare, order and nest like their lowercased texts, for a difference at every offset and length")
    func keyComparisonsMatchLowercasedTexts() {
        // Every length from 0 to 40 (word loop, overlapping last word, byte loop), a difference or a case change at
        // every offset, against the plain comparison of the lowercased texts.
        let alphabet = Array("abcXYZ/-_.09é".utf8)
        var generator = SystemRandomNumberGenerator()
        for length in 0...40 {
            for _ in 0..<10 {
                let base = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                var variants: [[UInt8]] = [base]
                for offset in 0..<length {
                    var changed = base
                    changed[offset] = alphabet.randomElement(using: &generator)!
                    variants.append(changed)
                    var recased = base
                    let byte = recased[offset]
                    if (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) { recased[offset] = byte - 32 }
                    if (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) { recased[offset] = byte + 32 }
                    variants.append(recased)
                    variants.append(Array(base.prefix(offset)) + [UInt8(ascii: "/")] + base.suffix(from: offset))
                }
                let lhs = String(decoding: base, as: UTF8.self)
                /// ASCII letters lowercased, other bytes as they are.
                func lowered(_ text: String) -> [UInt8] {
                    text.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }
                }
                let lowerLHS = lowered(lhs)
                for variant in variants {
                    let rhs = String(decoding: variant, as: UTF8.self)
                    let lowerRHS = lowered(rhs)
                    let a = ResourceIDKey(lhs)
                    let b = ResourceIDKey(rhs)
                    #expect((a == b) == (lowerLHS == lowerRHS), "\(lhs) == \(rhs)")
                    #expect((a < b) == lowerLHS.lexicographicallyPrecedes(lowerRHS), "\(lhs) < \(rhs)")
                    #expect((b < a) == lowerRHS.lexicographicallyPrecedes(lowerLHS), "\(rhs) < \(lhs)")
                    let under =
                        lowerRHS == lowerLHS
                        || (lowerRHS.count > lowerLHS.count + 1 && lowerRHS.starts(with: lowerLHS)
                            && lowerRHS[lowerLHS.count] == UInt8(ascii: "/"))
                    #expect(b.isSameOrUnder(a) == under, "\(rhs) under \(lhs)")
                }
            }
        }
    }

    @Test("orders by the normalized id")
    func ordering() throws {
        let texts = [
            "/subscriptions/b/providers/A.B/t/n",
            "/subscriptions/A/resourceGroups/rg2/providers/A.B/t/n",
            "/subscriptions/a/resourceGroups/RG/providers/A.B/t/n/child/c",
            "/subscriptions/a/resourceGroups/rg/providers/A.B/t/n",
            "/SUBSCRIPTIONS/A/PROVIDERS/A.B/T/N",
        ]
        let sorted = try texts.map { text throws(ResourceIDError) in try ResourceID(parsing: text) }.sorted()
        #expect(
            sorted.map(\.description) == [
                "/SUBSCRIPTIONS/A/PROVIDERS/A.B/T/N",
                "/subscriptions/a/resourceGroups/rg/providers/A.B/t/n",
                "/subscriptions/a/resourceGroups/RG/providers/A.B/t/n/child/c",
                "/subscriptions/A/resourceGroups/rg2/providers/A.B/t/n",
                "/subscriptions/b/providers/A.B/t/n",
            ]
        )
        #expect(try ResourceID(parsing: "/subscriptions/a/providers/A.B/t/N") < ResourceID(parsing: texts[0]))
    }

    @Test(
        "walks parent chains through extension and child segments",
        arguments: [
            (
                aksID + "/agentPools/np1/providers/Microsoft.Foo/things/t1/parts/p1",
                [
                    aksID + "/agentPools/np1/providers/Microsoft.Foo/things/t1",
                    aksID + "/agentPools/np1",
                    aksID,
                ]
            ),
            (
                arcID + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/f",
                [arcID]
            ),
            (
                "/subscriptions/s/providers/A.B/t/n/providers/C.D/u/m/providers/E.F/v/o",
                [
                    "/subscriptions/s/providers/A.B/t/n/providers/C.D/u/m",
                    "/subscriptions/s/providers/A.B/t/n",
                ]
            ),
            (aksID, []),
        ]
    )
    func parentChain(_ text: String, _ expected: [String]) throws {
        var chain: [String] = []
        var current = try ResourceID(parsing: text).parent
        while let id = current {
            chain.append(id.description)
            current = id.parent
        }
        #expect(chain == expected)
    }

    @Test("parent has its own components")
    func parentComponents() throws {
        let flux = try ResourceID(
            parsing: aksID + "/agentPools/np1/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/f"
        )
        #expect(flux.isExtensionResource)
        let pool = try #require(flux.parent)
        #expect(!pool.isExtensionResource)
        #expect(pool.resourceType == "Microsoft.ContainerService/managedClusters/agentPools")
        #expect(pool.providerNamespace == "Microsoft.ContainerService")
        #expect(pool.name == "np1")
        #expect(pool.resourceGroup == "rg-fleet")
        let cluster = try #require(pool.parent)
        #expect(cluster == (try ResourceID(parsing: aksID.lowercased())))
        #expect(cluster.description == aksID)
        #expect(cluster.parent == nil)
    }

    @Test("matches scopes case-insensitively on segment boundaries", arguments: ScopeCase.all)
    fileprivate func hasPrefixScope(_ testCase: ScopeCase) throws {
        let id = try ResourceID(parsing: testCase.id)
        #expect(id.hasPrefix(scope: testCase.scope) == testCase.expected)
    }
}

/// Lowercases ASCII letters only, like `ResourceID.normalized`.
private func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
}
