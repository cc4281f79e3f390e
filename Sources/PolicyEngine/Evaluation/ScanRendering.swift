import Dispatch
import FleetCore

/// What a scan was run on, for the `run` member of the JSON document.
public struct ScanRun: Sendable {
    /// The inventory path as given.
    public var inventory: String
    /// The policies directory as given.
    public var policies: String
    /// The digest of the policy files.
    public var policiesDigest: String
    /// The evaluation time (ISO 8601 UTC): exemption expiry and staleness are judged against it.
    public var evaluatedAt: String
    /// The number of clusters in the inventory.
    public var clusters: Int

    /// Creates the run description.
    public init(inventory: String, policies: String, policiesDigest: String, evaluatedAt: String, clusters: Int) {
        self.inventory = inventory
        self.policies = policies
        self.policiesDigest = policiesDigest
        self.evaluatedAt = evaluatedAt
        self.clusters = clusters
    }
}

/// Renders a scan as the versioned JSON document of DESIGN §9 or as a terminal report.
///
/// Pure: every function returns text.
public struct ScanReport: Sendable {
    /// The scan.
    public let scan: ScanResult
    /// What it ran on.
    public let run: ScanRun
    /// Cluster names by id (compared ignoring case), for the table.
    let names: [ResourceIDKey: String]
    /// Assignment display names by lowercased id, for the table.
    let assignmentNames: [String: String]

    /// Creates a report; `fleet` supplies cluster names for the table.
    public init(scan: ScanResult, run: ScanRun, fleet: Fleet) {
        self.scan = scan
        self.run = run
        var names: [ResourceIDKey: String] = [:]
        names.reserveCapacity(fleet.clusters.count)
        // Read in place: `for cluster in` would copy each cluster (a retain per member).
        let clusters = fleet.clusters
        for index in clusters.indices { names[ResourceIDKey(clusters[index].id.description)] = clusters[index].name }
        self.names = names
        self.assignmentNames = Self.assignmentNames(scan.results)
    }

    // MARK: - JSON

    /// The JSON document (`formatVersion` 1), ending with a newline.
    public func jsonBytes(pretty: Bool = true) -> [UInt8] {
        var document: [UInt8] = []
        writeJSON(pretty: pretty) { document.append(contentsOf: $0) }
        return document
    }

    /// Writes the JSON document of ``jsonBytes(pretty:)`` to `sink` in pieces, in order, so that a large scan's
    /// document (600 MB at 100,000 clusters) is never held whole.
    ///
    /// The results and strict entries are written `perPiece` at a time, the pieces of a batch on up to
    /// `parallelism` threads (a scan's report is rendered by one core otherwise); the document is the same for
    /// any values of both.
    public func writeJSON(
        pretty: Bool = true, perPiece: Int = 512, parallelism: Int = JSONRecords.availableCores,
        to sink: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        var w = JSONWriter(pretty: pretty, capacity: 4096)
        let s = scan.summary
        w.beginObject()
        w.member("formatVersion", 1)
        w.key("run")
        w.beginObject()
        w.member("inventory", run.inventory)
        w.member("policies", run.policies)
        w.member("policiesDigest", run.policiesDigest)
        w.member("evaluatedAt", run.evaluatedAt)
        w.member("clusters", run.clusters)
        w.endObject()
        w.key("summary")
        w.beginObject()
        w.member("resources", s.resources)
        w.member("compliant", s.compliant)
        w.member("nonCompliant", s.nonCompliant)
        w.member("exempt", s.exempt)
        w.member("unknown", s.unknown)
        w.member("error", s.error)
        w.key("compliancePercent")
        w.number(s.compliancePercent, decimals: 2)
        w.member("drifted", s.drifted)
        w.member("errorResults", s.errorResults)
        w.endObject()
        w.key("results")
        w.beginArray()
        let results = scan.results
        writeElements(results.count, into: &w, perPiece: perPiece, parallelism: parallelism, to: sink) { k, w in
            write(results[k], to: &w)
        }
        w.endArray()
        w.key("strict")
        w.beginArray()
        let strict = scan.strict
        writeElements(strict.count, into: &w, perPiece: perPiece, parallelism: parallelism, to: sink) { k, w in
            write(strict[k], to: &w)
        }
        w.endArray()
        w.key("diagnostics")
        w.beginArray()
        for diagnostic in scan.diagnostics {
            w.beginObject()
            w.member("severity", diagnostic.severity.rawValue)
            w.member("source", diagnostic.source.description)
            w.member("message", diagnostic.message)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.newlineAtEnd()
        w.flush(sink)
    }

    /// Makes the pieces of `count` items, `perPiece` items each (`make` is given a piece's range of items), a batch
    /// of pieces at a time on up to `parallelism` threads, and hands them to `take` in order.
    ///
    /// A batch holds a few pieces per thread, so that a long output is never held whole.
    static func inPieces<Piece: Sendable>(
        _ count: Int, perPiece: Int, parallelism: Int, make: @Sendable (Range<Int>) -> Piece, take: (Piece) -> Void
    ) {
        let perPiece = max(1, perPiece)
        let pieces = count / perPiece + (count % perPiece == 0 ? 0 : 1)
        let threads = max(1, parallelism)
        let perBatch = threads == 1 ? 1 : threads * 4
        var first = 0
        while first < pieces {
            let batch = min(perBatch, pieces - first)
            let slots = ResultSlots<Piece>(count: batch)
            let start = first
            @Sendable func piece(_ k: Int) {
                let from = (start + k) * perPiece  // below count, as start + k < pieces
                slots.set(k, make(from..<(from + min(perPiece, count - from))))
            }
            if batch == 1 {
                piece(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: batch) { piece($0) }
            }
            for k in 0..<batch { take(slots.get(k)!) }
            first += batch
        }
    }

    /// The text `line` writes for each of `count` items, in order, the items written in pieces on up to
    /// `parallelism` threads (``inPieces(_:perPiece:parallelism:make:take:)``).
    static func lines(
        _ count: Int, parallelism: Int, perPiece: Int = 1024, _ line: @Sendable (Int, inout String) -> Void
    ) -> String {
        var out = ""
        inPieces(count, perPiece: perPiece, parallelism: parallelism) { items in
            var piece = ""
            for k in items { line(k, &piece) }
            return piece
        } take: {
            out += $0
        }
        return out
    }

    /// Writes `count` elements of the array `w` stands in (`element` writes element `k`), in order: each piece of
    /// elements by a copy of `w` (``inPieces(_:perPiece:parallelism:make:take:)``), handed to `sink` as it comes;
    /// what `w` held before goes first.
    private func writeElements(
        _ count: Int, into w: inout JSONWriter, perPiece: Int, parallelism: Int,
        to sink: (UnsafeBufferPointer<UInt8>) -> Void, element: @Sendable (Int, inout JSONWriter) -> Void
    ) {
        guard count > 0 else { return }
        w.flush(sink)
        let inArray = w
        Self.inPieces(count, perPiece: perPiece, parallelism: parallelism) { elements in
            var writer = inArray
            if elements.lowerBound > 0 { writer.continueAfterValues() }
            for e in elements { element(e, &writer) }
            return writer.bytes
        } take: {
            $0.withUnsafeBufferPointer(sink)
        }
        w.continueAfterValues()
    }

    /// Writes a value from a resource or a policy, credentials masked.
    private func writeOptional(_ value: JSON?, to w: inout JSONWriter) {
        if let value { w.value(Redaction.json(value, secretKeys: DriftRules.secrets)) } else { w.null() }
    }

    private func write(_ result: PolicyResult, to w: inout JSONWriter) {
        w.beginObject()
        w.member("resourceId", result.resourceId)
        w.member("clusterId", result.clusterId)
        w.member("assignmentId", result.assignmentId)
        w.member("policyDefinitionId", result.policyDefinitionId)
        w.member("policyDefinitionReferenceId", result.policyDefinitionReferenceId)
        w.member("effect", result.effect)
        w.member("state", result.state.rawValue)
        w.member("enforcementMode", result.enforcementMode.rawValue)
        if let exemption = result.exemptionId {
            w.member("exemptionId", exemption)
        }
        if let error = result.error {
            w.member("error", error)
        }
        w.key("reasons")
        w.beginArray()
        for reason in result.reasons {
            w.beginObject()
            w.member("expression", reason.expression)
            w.member("path", reason.path)
            w.key("actual")
            writeOptional(reason.actual, to: &w)
            w.key("target")
            writeOptional(reason.target, to: &w)
            w.member("operator", reason.operator)
            w.member("message", reason.message)
            if let location = reason.location {
                w.member("location", location)
            }
            w.endObject()
        }
        w.endArray()
        if !result.desiredResources.isEmpty {
            w.key("desiredResources")
            w.beginArray()
            for resource in result.desiredResources { w.string(resource.id) }
            w.endArray()
        }
        w.endObject()
    }

    private func write(_ entry: StrictResult, to w: inout JSONWriter) {
        w.beginObject()
        w.member("clusterId", entry.clusterId)
        w.member("resourceId", entry.resourceId)
        w.member("assignmentId", entry.assignmentId)
        w.key("drift")
        w.beginArray()
        for drift in entry.drift {
            w.beginObject()
            w.member("path", drift.path)
            w.key("actual")
            writeOptional(drift.actual, to: &w)
            w.key("desired")
            writeOptional(drift.desired, to: &w)
            w.endObject()
        }
        w.endArray()
        w.key("runtime")
        if let runtime = entry.runtime {
            w.beginObject()
            w.member("complianceState", runtime.complianceState)
            w.member("stale", runtime.stale)
            w.member("statusUpdatedAt", runtime.statusUpdatedAt)
            w.key("failing")
            w.beginArray()
            for failing in runtime.failing {
                w.beginObject()
                w.member("kind", failing.kind)
                w.member("name", failing.name)
                w.member("namespace", failing.namespace)
                w.member("reason", failing.reason)
                w.member("message", failing.message)
                w.endObject()
            }
            w.endArray()
            w.endObject()
        } else {
            w.null()
        }
        w.endObject()
    }

    // MARK: - Table

    private func name(_ id: String) -> String { names[ResourceIDKey(id)] ?? id }

    /// An assignment's name, with its scope when another assignment of the scan has the same name.
    private func assignmentName(_ id: String) -> String { assignmentNames[ASCII.lowercased(id)] ?? id }

    /// Display names of every assignment in the scan, by lowercased id.
    static func assignmentNames(_ results: [PolicyResult]) -> [String: String] {
        assignmentNames(ids: distinct(results.lazy.map(\.assignmentId)))
    }

    /// The distinct texts of `texts`, in first-seen order.
    ///
    /// A scan has a handful of assignments and policies over hundreds of thousands of results, and the results
    /// of one thread share each string's storage: comparing with the few seen so far (identical storage compares
    /// without reading the text) is cheaper than hashing every text.
    static func distinct(_ texts: some Sequence<String>) -> [String] {
        var seen: [String] = []
        for text in texts where !seen.contains(text) { seen.append(text) }
        return seen
    }

    /// Display names of assignments by lowercased id: the last id segment, with the scope added when
    /// another assignment has the same last segment (`gitops-baseline (/subscriptions/…)`).
    public static func assignmentNames(ids assignmentIds: [String]) -> [String: String] {
        var ids: [String: String] = [:]
        for id in assignmentIds { ids[ASCII.lowercased(id)] = ids[ASCII.lowercased(id)] ?? id }
        var byName: [String: Int] = [:]
        for id in ids.values { byName[ASCII.lowercased(lastSegment(id)), default: 0] += 1 }
        var names: [String: String] = [:]
        for (key, id) in ids {
            let short = lastSegment(id)
            if byName[ASCII.lowercased(short)]! > 1,
                let range = id.firstRange(of: "/providers/Microsoft.Authorization/")
            {
                names[key] = "\(short) (\(id[..<range.lowerBound]))"
            } else {
                names[key] = short
            }
        }
        return names
    }

    /// The text after the last `/` that is followed by something (the id itself when there is none).
    private static func lastSegment(_ id: String) -> String { PolicyEvaluator.lastSegment(id) }

    /// The terminal report: per assignment and policy, then every non-compliant resource with
    /// its reasons, then the strict view, then the summary line.
    ///
    /// The lines of the two lists are written on up to `parallelism` threads; the text is the same for any value.
    public func table(parallelism: Int = JSONRecords.availableCores) -> String {
        var out = ""
        // One row per assignment and policy name, counting results by state. A handful of rows over every result:
        // found by comparing the strings (identical storage compares without reading the text), the last row used
        // first, as results come in runs of one cluster's policies.
        struct Row {
            var assignment: String
            var definition: String
            var reference: String?
            var effect: String
            var counts: [Int]

            /// Whether `result` is of the assignment, definition and reference this row was made for.
            func holds(_ result: PolicyResult) -> Bool {
                assignment == result.assignmentId && definition == result.policyDefinitionId
                    && reference == result.policyDefinitionReferenceId
            }
        }
        var table: [Row] = []
        var last = 0
        // Results are read in place (`for result in` would copy each, retaining its every string).
        let results = scan.results
        for index in results.indices {
            var k = last
            if k >= table.count || !table[k].holds(results[index]) {
                k = table.firstIndex { $0.holds(results[index]) } ?? -1
            }
            if k < 0 {
                let result = results[index]
                // A new row, unless the policy's name matches one spelled another way (a definition id that ends
                // the same): rows are per assignment and policy name.
                let policy = result.policyDefinitionReferenceId ?? Self.lastSegment(result.policyDefinitionId)
                k =
                    table.firstIndex {
                        $0.assignment == result.assignmentId
                            && ($0.reference ?? Self.lastSegment($0.definition)) == policy
                    } ?? -1
                if k < 0 {
                    table.append(
                        Row(
                            assignment: result.assignmentId, definition: result.policyDefinitionId,
                            reference: result.policyDefinitionReferenceId, effect: result.effect,
                            counts: Array(repeating: 0, count: ComplianceState.allCases.count)))
                    k = table.count - 1
                }
            }
            table[k].counts[results[index].state.rank] += 1
            if table[k].effect != results[index].effect { table[k].effect = results[index].effect }
            last = k
        }
        var rows = [["ASSIGNMENT", "POLICY", "EFFECT", "COMPLIANT", "NON-COMPLIANT", "EXEMPT", "UNKNOWN", "ERROR"]]
        for row in table {
            let c = row.counts
            rows.append([
                assignmentName(row.assignment), row.reference ?? Self.lastSegment(row.definition), row.effect,
                "\(c[ComplianceState.compliant.rank])", "\(c[ComplianceState.nonCompliant.rank])",
                "\(c[ComplianceState.exempt.rank])", "\(c[ComplianceState.unknown.rank])",
                "\(c[ComplianceState.error.rank])",
            ])
        }
        out += TextTable.render(rows)
        let failing = results.indices.filter { results[$0].state == .nonCompliant || results[$0].state == .error }
        if !failing.isEmpty {
            out += "\nnon-compliant:\n"
            out += Self.lines(failing.count, parallelism: parallelism) { k, out in
                let result = results[failing[k]]
                let policy = result.policyDefinitionReferenceId ?? Self.lastSegment(result.policyDefinitionId)
                let resource =
                    ASCII.equalsIgnoringCase(result.resourceId, result.clusterId)
                    ? name(result.clusterId) : "\(name(result.clusterId))/\(Self.lastSegment(result.resourceId))"
                let mode = result.enforcementMode == .doNotEnforce ? " (DoNotEnforce)" : ""
                out +=
                    "  \(resource): \(assignmentName(result.assignmentId))/\(policy) \(result.state.rawValue)\(mode)\n"
                if let error = result.error { out += "    error: \(error)\n" }
                for reason in result.reasons.prefix(4) {
                    var line = "    \(reason.message)"
                    if !reason.path.isEmpty {
                        line +=
                            " [\(reason.path): \(render(reason.actual)) \(reason.operator) \(render(reason.target))]"
                    }
                    out += line + "\n"
                }
                if result.reasons.count > 4 { out += "    … \(result.reasons.count - 4) more\n" }
            }
        }
        let strict = scan.strict
        let drifted = strict.indices.filter {
            !strict[$0].drift.isEmpty || (strict[$0].runtime.map { !$0.failing.isEmpty || $0.stale } ?? false)
        }
        if !drifted.isEmpty {
            out += "\nstrict view (beyond Azure Policy):\n"
            out += Self.lines(drifted.count, parallelism: parallelism) { k, out in
                let entry = strict[drifted[k]]
                out += "  \(name(entry.clusterId))/\(Self.lastSegment(entry.resourceId)):\n"
                for drift in entry.drift.prefix(6) {
                    if drift.path.isEmpty {
                        out += "    missing: the desired resource does not exist\n"
                    } else {
                        out += "    drift \(drift.path): \(render(drift.actual)) → \(render(drift.desired))\n"
                    }
                }
                if entry.drift.count > 6 { out += "    … \(entry.drift.count - 6) more\n" }
                if let runtime = entry.runtime {
                    if runtime.stale {
                        out += "    runtime: status stale (last \(runtime.statusUpdatedAt ?? "never"))\n"
                    }
                    for failing in runtime.failing.prefix(3) {
                        out +=
                            "    runtime: \(failing.kind) \(failing.name) \(failing.reason ?? ""): \(failing.message ?? "")\n"
                    }
                }
            }
        }
        let s = scan.summary
        out +=
            "\n\(s.resources) resources: \(s.compliant) compliant, \(s.nonCompliant) non-compliant, \(s.exempt) exempt"
        if s.unknown > 0 { out += ", \(s.unknown) unknown" }
        if s.error > 0 { out += ", \(s.error) error" }
        if s.errorResults > 0 { out += " (\(s.errorResults) evaluation error(s) in all)" }
        out +=
            " — \(Self.percent(s.compliancePercent)) compliant as Azure computes it; \(s.drifted) drifted in the strict view\n"
        for diagnostic in scan.diagnostics { out += "\(diagnostic.severity.rawValue): \(diagnostic)\n" }
        return out
    }

    private func render(_ value: JSON?) -> String {
        guard let value else { return "<missing>" }
        var w = JSONWriter()
        w.value(Redaction.json(value, secretKeys: DriftRules.secrets))
        let text = w.text
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    private static func percent(_ value: Double) -> String {
        var w = JSONWriter()
        w.number(value, decimals: 1)
        return w.text + "%"
    }
}
