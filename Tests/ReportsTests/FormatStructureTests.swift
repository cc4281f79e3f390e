import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The machine formats hold the structure their published specifications require.
@Suite("format structure")
struct FormatStructureTests {
    static func parse(_ format: ReportFormat, _ data: ReportData = Fixtures.withHistory) throws -> JSON {
        try JSON.parse(Fixtures.render(data, format), source: format.rawValue)
    }

    static func array(_ value: JSON?) -> [JSON] {
        if case .array(let items)? = value { return items }
        return []
    }

    static func int(_ value: JSON?) -> Int? {
        if case .number(let n)? = value { return Int(n.description) }
        return nil
    }

    // MARK: - SARIF

    @Test("SARIF: version, $schema, one run, a driver with unique rules, results that point at them")
    func sarif() throws {
        let doc = try Self.parse(.sarif)
        #expect(doc["version"]?.string == "2.1.0")
        #expect(doc["$schema"]?.string?.contains("sarif-2.1.0") == true)
        let runs = Self.array(doc["runs"])
        try #require(runs.count == 1)
        let driver = try #require(runs[0]["tool"]?["driver"])
        #expect(driver["name"]?.string == "fluxfleet")
        #expect(driver["version"]?.string?.isEmpty == false)
        #expect(driver["informationUri"]?.string?.hasPrefix("https://") == true)
        let rules = Self.array(driver["rules"])
        let ids = rules.compactMap { $0["id"]?.string }
        #expect(ids.count == rules.count && !ids.isEmpty)
        #expect(Set(ids).count == ids.count, "rule ids must be unique: \(ids)")
        for rule in rules { #expect(rule["shortDescription"]?["text"]?.string?.isEmpty == false) }
        let results = Self.array(runs[0]["results"])
        let failing = Fixtures.withHistory.results.filter { $0.state == .nonCompliant || $0.state == .error }
        #expect(results.count == failing.count)
        var fingerprints: Set<String> = []
        for result in results {
            let ruleId = try #require(result["ruleId"]?.string)
            let index = try #require(Self.int(result["ruleIndex"]))
            #expect(ids.indices.contains(index) && ids[index] == ruleId)
            #expect(["error", "warning", "note", "none"].contains(result["level"]?.string ?? ""))
            #expect(result["message"]?["text"]?.string?.isEmpty == false)
            let location = Self.array(result["locations"]).first?["logicalLocations"]
            let name = Self.array(location).first?["fullyQualifiedName"]?.string
            #expect(name?.hasPrefix("/subscriptions/") == true)
            let fingerprint = try #require(result["partialFingerprints"]?["fluxfleet/v1"]?.string)
            fingerprints.insert(fingerprint)
        }
        #expect(fingerprints.count == results.count, "each finding has its own fingerprint")
    }

    @Test("SARIF fingerprints stay the same from run to run and ignore id case")
    func sarifFingerprintsAreStable() throws {
        var later = Fixtures.withHistory
        later.run.id = 99
        later.run.evaluatedAt = "2026-12-01T00:00:00Z"
        later.results = later.results.map {
            var r = $0
            r.resourceId = r.resourceId.uppercased()
            return r
        }
        func prints(_ data: ReportData) throws -> [String] {
            Self.array(Self.array(try Self.parse(.sarif, data)["runs"]).first?["results"]).compactMap {
                $0["partialFingerprints"]?["fluxfleet/v1"]?.string
            }
        }
        #expect(try prints(later) == prints(Fixtures.withHistory))
    }

    @Test("SARIF levels: error for enforcing effects and evaluation errors, warning for Audit")
    func sarifLevels() throws {
        var data = Fixtures.withHistory
        data.results[0].state = .error
        data.results[0].error = "The template function 'bogus' is not known."
        let results = Self.array(Self.array(try Self.parse(.sarif, data)["runs"]).first?["results"])
        let levels = results.map { ($0["properties"]?["effect"]?.string ?? "", $0["level"]?.string ?? "") }
        #expect(levels.contains { $0.0 == "Audit" && $0.1 == "warning" })
        #expect(levels.contains { $0.0 == "DeployIfNotExists" && $0.1 == "error" })
        #expect(results.first?["message"]?["text"]?.string?.contains("'bogus'") == true)
    }

    // MARK: - PolicyReport

    @Test("PolicyReport: apiVersion, kind, metadata.name, results with allowed values, summary equal to the results")
    func policyReport() throws {
        let doc = try Self.parse(.policyreport)
        #expect(doc["apiVersion"]?.string == "wgpolicyk8s.io/v1alpha2")
        #expect(doc["kind"]?.string == "ClusterPolicyReport")
        let name = try #require(doc["metadata"]?["name"]?.string)
        #expect(name.range(of: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", options: .regularExpression) != nil, "\(name)")
        #expect(doc["scope"] == nil, "a cluster-wide report has no scope")
        let results = Self.array(doc["results"])
        #expect(results.count == Fixtures.withHistory.results.count)
        var tally: [String: Int] = [:]
        for result in results {
            let value = try #require(result["result"]?.string)
            #expect(["pass", "fail", "warn", "error", "skip"].contains(value))
            tally[value, default: 0] += 1
            #expect(result["policy"]?.string?.isEmpty == false)
            #expect(result["rule"]?.string?.isEmpty == false)
            #expect(result["source"]?.string == "fluxfleet")
            #expect(["critical", "high", "medium", "low", "info"].contains(result["severity"]?.string ?? ""))
            #expect(result["category"]?.string?.isEmpty == false)
            #expect(Self.int(result["timestamp"]?["seconds"]) == 1_795_284_000)
            #expect(Self.int(result["timestamp"]?["nanos"]) == 0)
            let resource = try #require(Self.array(result["resources"]).first)
            #expect(resource["name"]?.string?.isEmpty == false && resource["kind"]?.string?.isEmpty == false)
            // properties is a string map holding the ARM ids.
            guard case .object(let properties)? = result["properties"] else {
                Issue.record("properties is not an object")
                continue
            }
            #expect(properties.values.allSatisfy { $0.string != nil })
            #expect(properties["resourceId"]?.string?.hasPrefix("/subscriptions/") == true)
            #expect(properties["assignmentId"]?.string?.isEmpty == false)
        }
        let summary = try #require(doc["summary"])
        for key in ["pass", "fail", "warn", "error", "skip"] {
            #expect(Self.int(summary[key]) == (tally[key] ?? 0), "summary.\(key)")
        }
        #expect(tally["fail"] == Fixtures.withHistory.results.count { $0.state == .nonCompliant })
        #expect(tally["skip"] == 2, "the exempt payments cluster under two policies")
    }

    @Test("PolicyReport maps every compliance state to its documented result")
    func policyReportStates() throws {
        var data = Fixtures.withHistory
        let states: [ComplianceState] = [.compliant, .nonCompliant, .error, .exempt, .unknown]
        for (i, state) in states.enumerated() { data.results[i].state = state }
        let results = Self.array(try Self.parse(.policyreport, data)["results"])
        let mapped = results.prefix(states.count).map { $0["result"]?.string ?? "" }
        #expect(mapped == ["pass", "fail", "error", "skip", "warn"])
    }

    // MARK: - JUnit

    @Test("JUnit is well-formed XML whose counts match its test cases")
    func junit() throws {
        let text = Fixtures.render(Fixtures.withHistory, .junit)
        let collector = JUnitCollector()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = collector
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        let data = Fixtures.withHistory
        #expect(
            collector.suites.count
                == Set(data.results.map { "\($0.assignmentId)|\($0.policyDefinitionReferenceId ?? "")" }).count)
        var cases = 0
        for suite in collector.suites {
            #expect(suite.declared == suite.counted, "\(suite.name)")
            cases += suite.counted.tests
        }
        #expect(cases == data.results.count)
        #expect(collector.root?.tests == data.results.count)
        #expect(collector.root?.failures == data.results.count { $0.state == .nonCompliant })
        #expect(collector.root?.skipped == data.results.count { $0.state == .exempt || $0.state == .unknown })
        // Every failure carries its reasons.
        #expect(collector.failureTexts.allSatisfy { $0.contains("/subscriptions/") && $0.contains("\n") })
    }

    // MARK: - Prometheus

    @Test("Prometheus: every line is a comment, a valid sample, or blank; one HELP and TYPE per family")
    func prometheus() throws {
        var data = Fixtures.withHistory
        data.results = data.results.map {
            var r = $0
            if r.assignmentName == "gitops-baseline-dev" { r.assignmentName = "dev \"quoted\" \\ back\nslash" }
            return r
        }
        let text = Fixtures.render(data, .prometheus)
        let sample = try Regex(
            #"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\\\|\\"|\\n)*")*)?\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$"#
        )
        var types: [String: Int] = [:]
        var helps: [String: Int] = [:]
        var seenSamples: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                #expect(parts.count == 4 && ["gauge", "counter"].contains(String(parts[3])))
                types[String(parts[2]), default: 0] += 1
            } else if line.hasPrefix("# HELP ") {
                helps[String(line.split(separator: " ")[2]), default: 0] += 1
            } else {
                let match = try #require(try sample.wholeMatch(in: String(line)), "bad sample line: \(line)")
                let name = String(match.output[1].substring!)
                #expect(types[name] == 1, "sample \(name) before its TYPE")
                #expect(
                    seenSamples.insert(String(line.split(separator: " ").dropLast().joined(separator: " "))).inserted)
            }
        }
        #expect(types.values.allSatisfy { $0 == 1 } && helps.values.allSatisfy { $0 == 1 })
        #expect(Set(types.keys) == Set(helps.keys))
        #expect(text.contains(#"assignment="dev \"quoted\" \\ back\nslash""#))
        #expect(text.contains("fluxfleet_last_run_timestamp_seconds 1795284000\n"))
        #expect(text.contains("fluxfleet_compliance_ratio 0.631579\n"))
        for line in text.split(separator: "\n") where line.hasPrefix("fluxfleet_assignment_compliance_ratio{") {
            let value = try #require(Double(line.split(separator: " ").last!))
            #expect((0...1).contains(value))
        }
    }

    // MARK: - CSV

    @Test("CSV round-trips: a header, one row per result, quotes, commas and line breaks kept, formulas defused")
    func csvRoundTrip() throws {
        var data = Fixtures.withHistory
        data.results[0].assignmentName = "a, \"quoted\"\nname"
        data.results[1].assignmentName = "=HYPERLINK(\"http://evil\")"
        let rows = CSVReader.parse(Fixtures.render(data, .csv))
        try #require(rows.count == data.results.count + 1)
        let header = rows[0]
        #expect(header.first == "evaluatedAt" && header.contains("reasons"))
        #expect(rows.allSatisfy { $0.count == header.count })
        let assignment = try #require(header.firstIndex(of: "assignment"))
        let state = try #require(header.firstIndex(of: "state"))
        let resource = try #require(header.firstIndex(of: "resourceId"))
        #expect(rows[1][assignment] == "a, \"quoted\"\nname")
        #expect(rows[2][assignment] == "'=HYPERLINK(\"http://evil\")")
        for (i, result) in data.results.enumerated() {
            #expect(rows[i + 1][state] == result.state.rawValue)
            #expect(rows[i + 1][resource] == result.resourceId)
        }
    }
}

/// Collects JUnit suites and their test cases.
private final class JUnitCollector: NSObject, XMLParserDelegate {
    struct Counts: Equatable {
        var tests = 0
        var failures = 0
        var errors = 0
        var skipped = 0
    }
    struct Suite {
        var name: String
        var declared: Counts
        var counted = Counts()
    }
    var root: Counts?
    var suites: [Suite] = []
    var failureTexts: [String] = []
    private var text: String?

    private func counts(_ attributes: [String: String]) -> Counts {
        Counts(
            tests: Int(attributes["tests"] ?? "") ?? -1, failures: Int(attributes["failures"] ?? "") ?? -1,
            errors: Int(attributes["errors"] ?? "") ?? -1, skipped: Int(attributes["skipped"] ?? "") ?? -1)
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch name {
        case "testsuites": root = counts(attributes)
        case "testsuite": suites.append(Suite(name: attributes["name"] ?? "", declared: counts(attributes)))
        case "testcase": suites[suites.count - 1].counted.tests += 1
        case "failure":
            suites[suites.count - 1].counted.failures += 1
            text = ""
        case "error": suites[suites.count - 1].counted.errors += 1
        case "skipped": suites[suites.count - 1].counted.skipped += 1
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "failure", let text {
            failureTexts.append(text)
            self.text = nil
        }
    }
}

/// A strict RFC 4180 reader for the round trip.
enum CSVReader {
    static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var cell = ""
        var quoted = false
        var chars = Array(text)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" {
                        cell.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    cell.append(c)
                }
            } else if c == "\"" && cell.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(cell)
                cell = ""
            } else if c == "\r\n" || c == "\n" {
                row.append(cell)
                rows.append(row)
                row = []
                cell = ""
            } else {
                cell.append(c)
            }
        }
        if !cell.isEmpty || !row.isEmpty {
            row.append(cell)
            rows.append(row)
        }
        return rows
    }
}
