import FleetCore
import Foundation
import Reports
import Testing

@testable import PolicyEngine

/// Secrets never reach a report, and inventory strings never become markup.
@Suite("report safety")
struct ReportSafetyTests {
    static let urlCanary = "hunter2-CANARY-url"
    static let settingsCanary = "CANARY-protected-setting"
    static let keyCanary = "CANARY-account-key"

    /// A scan of one demo cluster whose reasons and drift carry secrets.
    static func secretScan() -> (ScanResult, String) {
        let cluster = Fixtures.cluster("aks-prod-weu-01")
        let configuration = cluster + "/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-baseline"
        let assignment = Fixtures.assignment("gitops-baseline-prod")
        let leaked = PolicyReason(
            expression: "field 'gitRepository.url'", path: "properties.gitRepository.url",
            actual: .string("https://bob:\(urlCanary)@git.example.com/fleet.git"),
            target: .object(["url": .string("https://x-access-token:\(urlCanary)@github.com/contoso/fleet")]),
            operator: "equals", message: "Current value must be equal to https://bob:\(urlCanary)@git.example.com/x.git"
        )
        let settings = PolicyReason(
            expression: "field 'configurationProtectedSettings'", path: "properties.configurationProtectedSettings",
            actual: .object(["configurationProtectedSettings": .object(["sshPrivateKey": .string(settingsCanary)])]),
            target: .object(["azureBlob": .object(["accountKey": .string(keyCanary)])]), operator: "equals",
            message: "m")
        let result = PolicyResult(
            resourceId: cluster, clusterId: cluster, assignmentId: assignment,
            policyDefinitionId: "/providers/Microsoft.Authorization/policyDefinitions/deploy-flux-configuration",
            policyDefinitionReferenceId: "fluxConfiguration", effect: "DeployIfNotExists", state: .nonCompliant,
            reasons: [leaked, settings], enforcementMode: .default, exemptionId: nil, desiredResources: [], error: nil)
        var failed = result
        failed.state = .error
        failed.policyDefinitionReferenceId = "fluxExtension"
        failed.error = "cannot read https://bob:\(urlCanary)@git.example.com/fleet.git"
        failed.reasons = []
        let strict = StrictResult(
            clusterId: cluster, resourceId: configuration, assignmentId: assignment,
            drift: [
                DriftEntry(
                    path: "properties.configurationProtectedSettings",
                    actual: nil,
                    desired: .object(["configurationProtectedSettings": .object(["token": .string(settingsCanary)])])),
                DriftEntry(
                    path: "properties.gitRepository.url",
                    actual: .string("https://bob:\(urlCanary)@git.example.com/old.git"),
                    desired: .string("https://github.com/contoso/fleet")),
            ],
            runtime: RuntimeAssessment(
                complianceState: "Non-Compliant", stale: false, statusUpdatedAt: nil,
                failing: [
                    FailingObject(
                        kind: "GitRepository", name: "fleet", namespace: "flux-system", reason: "AuthFailed",
                        message: "clone https://bob:\(urlCanary)@git.example.com/fleet.git failed")
                ]))
        return (ScanResult(results: [result, failed], strict: [strict], diagnostics: []), cluster)
    }

    @Test("values are masked exactly as `scan --output json` masks them")
    func maskingMatchesScanJSON() throws {
        let (scan, _) = Self.secretScan()
        let run = Fixtures.demo.run
        let data = ReportData(scan: scan, run: run, fleet: Fixtures.demo.fleet)
        let scanJSON = try JSON.parse(
            String(decoding: ScanReport(scan: scan, run: run, fleet: Fixtures.demo.fleet).jsonBytes(), as: UTF8.self))
        func compact(_ value: JSON?) -> String? {
            guard let value, value != .null else { return nil }
            var w = JSONWriter()
            w.value(value)
            return w.text
        }
        guard case .array(let results)? = scanJSON["results"], case .array(let reasons)? = results.first?["reasons"]
        else {
            Issue.record("the scan JSON has no reasons")
            return
        }
        #expect(reasons.count == data.results[0].reasons.count)
        for (reason, mine) in zip(reasons, data.results[0].reasons) {
            #expect(compact(reason["actual"]) == mine.actual)
            #expect(compact(reason["target"]) == mine.target)
        }
        guard case .array(let strict)? = scanJSON["strict"], case .array(let drift)? = strict.first?["drift"] else {
            Issue.record("the scan JSON has no drift")
            return
        }
        for (entry, mine) in zip(drift, data.strict[0].drift) {
            #expect(compact(entry["actual"]) == mine.actual)
            #expect(compact(entry["desired"]) == mine.desired)
        }
        #expect(data.results[0].reasons[0].actual == "\"https://***@git.example.com/fleet.git\"")
    }

    @Test("no secret canary reaches any format", arguments: ReportFormat.allCases)
    func canary(_ format: ReportFormat) {
        let (scan, _) = Self.secretScan()
        let secret = ReportData(scan: scan, run: Fixtures.demo.run, fleet: Fixtures.demo.fleet)
        var data = Fixtures.withHistory
        data.results += secret.results
        data.strict += secret.strict
        let text = Fixtures.render(data, format, ReportOptions(htmlClusterRows: 10_000))
        for canary in [Self.urlCanary, Self.settingsCanary, Self.keyCanary] {
            #expect(!text.contains(canary), "\(format) leaks \(canary)")
        }
        // The masked values are still reported, so the check is not vacuous.
        if format == .json || format == .csv || format == .html {
            #expect(text.contains("***@git.example.com"), "\(format)")
        }
    }

    /// The demo with a hostile tag value and cluster name.
    static func hostile() -> ReportData {
        var data = Fixtures.withHistory
        let index = data.clusters.firstIndex { $0.name == "aks-dev-arm64" }!
        data.clusters[index].name = "evil\"'&<>cluster"
        data.clusters[index].tags.append(ReportTag(key: "owner", value: "<script>alert(1)</script>"))
        data.clusters[index].resourceGroup = "<img src=x onerror=alert(2)>"
        data.results = data.results.map {
            var r = $0
            if r.assignmentName == "gitops-baseline-dev" { r.assignmentName = "<b>dev</b>" }
            return r
        }
        return data
    }

    @Test("HTML: inventory and policy strings come out escaped, never as markup")
    func htmlEscapes() throws {
        let data = Self.hostile()
        for rows in [10_000, 1] {
            let html = Fixtures.render(data, .html, ReportOptions(htmlClusterRows: rows))
            #expect(!html.contains("<script>alert(1)"))
            #expect(!html.contains("<img src=x"))
            #expect(!html.contains("<b>dev</b>"))
            #expect(!html.contains("evil\"'&<>cluster"))
            // Exactly the page's own two script elements.
            #expect(html.components(separatedBy: "<script").count - 1 == 2)
            #expect(html.components(separatedBy: "</script>").count - 1 == 2)
            // In the embedded data, `<` `>` `&` are JSON escapes; the escaped tag value stays readable.
            #expect(html.contains(#"\u003cimg src=x onerror=alert(2)\u003e"#))
            #expect(html.contains("evil\\\"'\\u0026\\u003c\\u003ecluster"))
        }
        let full = Fixtures.render(data, .html, ReportOptions(htmlClusterRows: 10_000))
        #expect(full.contains("evil&quot;&#39;&amp;&lt;&gt;cluster"))
        #expect(full.contains("&lt;img src=x onerror=alert(2)&gt;"))
        #expect(full.contains("&lt;b&gt;dev&lt;/b&gt;"))
        #expect(!full.contains("http://") && !full.contains("https://fonts"), "no external resources")
        #expect(!full.contains(" src=\"") && !full.contains("<link"), "nothing loaded from elsewhere")
    }

    @Test("HTML shows the tag value in the drill-down data escaped")
    func htmlTagValue() {
        var data = Fixtures.withHistory
        let index = data.clusters.firstIndex { $0.name == "aks-dev-arm64" }!
        data.clusters[index].eligibilityReason = "<script>alert(1)</script>"
        let html = Fixtures.render(data, .html, ReportOptions(htmlClusterRows: 10_000))
        #expect(!html.contains("<script>alert(1)</script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains(#"\u003cscript\u003ealert(1)\u003c/script\u003e"#))
    }

    @Test("Markdown and JUnit escape what their languages would read as markup")
    func markdownAndXML() throws {
        let data = Self.hostile()
        let markdown = Fixtures.render(data, .markdown)
        #expect(markdown.contains("evil\"'&amp;&lt;&gt;cluster"))
        #expect(!markdown.contains("<b>dev</b>"))
        var piped = Fixtures.withHistory
        piped.results = piped.results.map {
            var r = $0
            r.assignmentName = "a|b`c"
            return r
        }
        let table = Fixtures.render(piped, .markdown)
        #expect(table.contains("a\\|b\\`c"))
        for line in table.split(separator: "\n") where line.hasPrefix("| a\\|b") {
            // An escaped pipe never splits a cell: every by-policy row keeps its 10 cells.
            let cells = line.replacing("\\|", with: "").split(separator: "|", omittingEmptySubsequences: false)
            #expect(cells.count == 12 || cells.count == 10, "\(line)")
        }
        let junit = Fixtures.render(data, .junit)
        #expect(junit.contains("evil&quot;&apos;&amp;&lt;&gt;cluster"))
        #expect(!junit.contains("<b>dev</b>"))
    }
}
