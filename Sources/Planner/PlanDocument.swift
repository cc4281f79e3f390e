import FleetCore

/// Why a plan file cannot be applied: unreadable, not a plan, a newer format, or edited after it was written.
public struct PlanDocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (or `<plan>`).
    public var file: String
    /// The JSON path of the problem (`$` for the whole document).
    public var path: String
    /// What is wrong.
    public var message: String
    /// How to fix it.
    public var remedy: String

    /// Creates an error.
    public init(file: String, path: String, message: String, remedy: String) {
        self.file = file
        self.path = path
        self.message = message
        self.remedy = remedy
    }

    /// `file: path: message — remedy`.
    public var description: String { "\(file): \(path): \(message) — \(remedy)" }
}

extension Plan {
    /// Reads a plan document written by ``jsonBytes()`` (`fluxfleet plan --out`).
    ///
    /// Checks the format version and that the document's `planId` is the hash of its content, so a plan edited
    /// by hand (or cut short) is refused before anything is sent.
    ///
    /// - Returns: The plan and its `planId`.
    /// - Throws: ``PlanDocumentError`` naming the file, the JSON path and the fix.
    public static func read(_ bytes: [UInt8], file: String) throws(PlanDocumentError) -> (plan: Plan, planId: String) {
        let remake = "make a new plan with `fluxfleet plan --out \(file)`"
        func fail(_ path: String, _ message: String, _ remedy: String? = nil) -> PlanDocumentError {
            PlanDocumentError(file: file, path: path, message: message, remedy: remedy ?? remake)
        }
        let root: JSON
        do {
            root = try JSON.parse(String(decoding: bytes, as: UTF8.self), source: file)
        } catch {
            throw fail("$", "not JSON: \(error.message) (line \(error.line), column \(error.column))")
        }
        guard case .object = root else { throw fail("$", "a plan document is a JSON object") }
        guard case .number(let version)? = root["formatVersion"], let format = version.int64Value else {
            throw fail("$.formatVersion", "missing: this is not a FluxFleet plan document")
        }
        guard format == Int64(Plan.formatVersion) else {
            throw fail(
                "$.formatVersion",
                "format \(format) is not supported (this fluxfleet reads format \(Plan.formatVersion))",
                "apply it with the fluxfleet version that wrote it, or \(remake)")
        }
        guard let planId = root["planId"]?.string else { throw fail("$.planId", "missing") }
        var reader = Reader(file: file, fail: fail)
        let plan = try reader.plan(root)
        let actual = plan.planId
        guard actual == planId else {
            throw fail(
                "$.planId",
                "the document does not match its planId (\(planId)): it was edited or cut short after it was written",
                "plans are not edited by hand; \(remake)")
        }
        return (plan, planId)
    }

    /// Reads the members of a plan document.
    private struct Reader {
        let file: String
        let fail: (String, String, String?) -> PlanDocumentError

        func string(_ json: JSON?, _ path: String) throws(PlanDocumentError) -> String {
            guard let text = json?.string else { throw fail(path, "expected a string", nil) }
            return text
        }

        func optionalString(_ json: JSON?, _ path: String) throws(PlanDocumentError) -> String? {
            switch json {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw fail(path, "expected a string or null", nil)
            }
        }

        func bool(_ json: JSON?, _ path: String) throws(PlanDocumentError) -> Bool {
            guard case .bool(let value)? = json else { throw fail(path, "expected true or false", nil) }
            return value
        }

        func array(_ json: JSON?, _ path: String) throws(PlanDocumentError) -> [JSON] {
            guard case .array(let items)? = json else { throw fail(path, "expected an array", nil) }
            return items
        }

        func optionalValue(_ json: JSON?) -> JSON? {
            if case .null? = json { return nil }
            return json
        }

        mutating func plan(_ root: JSON) throws(PlanDocumentError) -> Plan {
            guard case .object? = root["inputs"] else { throw fail("$.inputs", "missing", nil) }
            let inputs = root["inputs"]!
            let fingerprint = try string(inputs["fingerprintAlgorithm"], "$.inputs.fingerprintAlgorithm")
            guard fingerprint == Fingerprint.algorithm else {
                throw fail(
                    "$.inputs.fingerprintAlgorithm",
                    "fingerprints were made with \(fingerprint); this fluxfleet makes \(Fingerprint.algorithm)", nil)
            }
            let planInputs = PlanInputs(
                inventory: try string(inputs["inventory"], "$.inputs.inventory"),
                inventoryDigest: try string(inputs["inventoryDigest"], "$.inputs.inventoryDigest"),
                policies: try string(inputs["policies"], "$.inputs.policies"),
                policiesDigest: try string(inputs["policiesDigest"], "$.inputs.policiesDigest"),
                evaluatedAt: try string(inputs["evaluatedAt"], "$.inputs.evaluatedAt"))
            guard case .object? = inputs["options"] else { throw fail("$.inputs.options", "missing", nil) }
            let options = inputs["options"]!
            let latestText = try string(options["fluxLatest"], "$.inputs.options.fluxLatest")
            guard let latest = SemanticVersion(latestText) else {
                throw fail("$.inputs.options.fluxLatest", "'\(latestText)' is not a version", nil)
            }
            var planOptions = PlanOptions(
                allowReplace: try bool(options["allowReplace"], "$.inputs.options.allowReplace"),
                migrateFluxV1: try bool(options["migrateFluxV1"], "$.inputs.options.migrateFluxV1"),
                includeDoNotEnforce: try bool(options["includeDoNotEnforce"], "$.inputs.options.includeDoNotEnforce"),
                neverTouchTag: try string(options["neverTouchTag"], "$.inputs.options.neverTouchTag"),
                catalog: FluxVersionCatalog.builtIn.with(latest: latest))
            if options["changeWindows"] != nil {
                let items = try array(options["changeWindows"], "$.inputs.options.changeWindows")
                for (index, item) in items.enumerated() {
                    planOptions.changeWindows.append(try window(item, "$.inputs.options.changeWindows[\(index)]"))
                }
            }
            var clusters: [ClusterPlan] = []
            for (index, item) in try array(root["clusters"], "$.clusters").enumerated() {
                clusters.append(try cluster(item, "$.clusters[\(index)]"))
            }
            return Plan(inputs: planInputs, options: planOptions, clusters: clusters)
        }

        /// A change window as the document writes it: a name, `Fri,Sat 22:00–06:00 +01:00` and a selector text.
        func window(_ item: JSON, _ path: String) throws(PlanDocumentError) -> ChangeWindow {
            let name = try string(item["name"], path + ".name")
            let text = try string(item["window"], path + ".window")
            let parts = text.split(separator: " ")
            let times = parts.count == 3 ? parts[1].split(separator: "–") : []
            guard parts.count == 3, times.count == 2, let start = Self.minutes(times[0]),
                let end = Self.minutes(times[1]), let offset = Self.offset(parts[2])
            else {
                throw fail(path + ".window", "'\(text)' is not a window like 'Fri,Sat 22:00–06:00 +01:00'", nil)
            }
            var days: Set<ChangeWindow.Weekday> = []
            for day in parts[0].split(separator: ",") {
                guard let weekday = ChangeWindow.Weekday(name: String(day)) else {
                    throw fail(path + ".window", "'\(day)' is not a day", nil)
                }
                days.insert(weekday)
            }
            var selector: ClusterSelector?
            if let selectorText = try optionalString(item["selector"], path + ".selector") {
                guard let parsed = Self.selector(selectorText) else {
                    throw fail(path + ".selector", "'\(selectorText)' is not a selector", nil)
                }
                selector = parsed
            }
            return ChangeWindow(
                name: name, days: days, start: start, end: end, utcOffset: offset, selector: selector)
        }

        /// `22:00` → 1320.
        static func minutes(_ text: Substring) -> Int? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]) else { return nil }
            return h * 60 + m
        }

        /// `UTC`, `+01:00`, `-05:30` → minutes.
        static func offset(_ text: Substring) -> Int? {
            if text == "UTC" { return 0 }
            guard let sign = text.first, sign == "+" || sign == "-", let minutes = minutes(text.dropFirst()) else {
                return nil
            }
            return sign == "-" ? -minutes : minutes
        }

        /// The selector texts ``ClusterSelector/text`` writes.
        static func selector(_ text: String) -> ClusterSelector? {
            if text == "rest" { return .rest }
            if text.hasSuffix("%"), let share = Double(text.dropLast()) { return .percent(share) }
            if text.hasPrefix("clusters=") {
                return .clusters(text.dropFirst("clusters=".count).split(separator: ",").map(String.init))
            }
            if text.hasPrefix("tag="), let equals = text.dropFirst(4).firstIndex(of: "=") {
                return .tag(
                    key: String(text[text.index(text.startIndex, offsetBy: 4)..<equals]),
                    value: String(text[text.index(after: equals)...]))
            }
            return nil
        }

        func reason(code: JSON?, message: JSON?, remedy: JSON?, _ path: String) throws(PlanDocumentError)
            -> PlanReason?
        {
            guard let code = try optionalString(code, path + ".reason") else { return nil }
            return PlanReason(
                code: code, message: try optionalString(message, path + ".message") ?? "",
                remedy: try optionalString(remedy, path + ".remedy") ?? "")
        }

        func cluster(_ item: JSON, _ path: String) throws(PlanDocumentError) -> ClusterPlan {
            let decisionText = try string(item["decision"], path + ".decision")
            guard let decision = PlanDecision(rawValue: decisionText) else {
                throw fail(path + ".decision", "'\(decisionText)' is not a decision", nil)
            }
            var others: [PlanReason] = []
            for (index, other) in try array(item["otherReasons"], path + ".otherReasons").enumerated() {
                let at = "\(path).otherReasons[\(index)]"
                if let reason = try reason(
                    code: other["reason"], message: other["message"], remedy: other["remedy"], at)
                {
                    others.append(reason)
                }
            }
            var actions: [PlanAction] = []
            for (index, action) in try array(item["actions"], path + ".actions").enumerated() {
                actions.append(try self.action(action, "\(path).actions[\(index)]"))
            }
            return ClusterPlan(
                clusterId: try string(item["clusterId"], path + ".clusterId"),
                name: try string(item["name"], path + ".name"),
                fingerprint: try string(item["fingerprint"], path + ".fingerprint"), decision: decision,
                reason: try reason(code: item["reason"], message: item["message"], remedy: item["remedy"], path),
                otherReasons: others, actions: actions)
        }

        func action(_ item: JSON, _ path: String) throws(PlanDocumentError) -> PlanAction {
            let kindText = try string(item["kind"], path + ".kind")
            guard let kind = PlanActionKind(rawValue: kindText) else {
                throw fail(path + ".kind", "'\(kindText)' is not an action", nil)
            }
            var diff: [PlanDiffEntry] = []
            for (index, entry) in try array(item["diff"], path + ".diff").enumerated() {
                diff.append(
                    PlanDiffEntry(
                        path: try string(entry["path"], "\(path).diff[\(index)].path"),
                        before: optionalValue(entry["before"]), after: optionalValue(entry["after"])))
            }
            var assignments: [String] = []
            for (index, id) in try array(item["assignmentIds"], path + ".assignmentIds").enumerated() {
                assignments.append(try string(id, "\(path).assignmentIds[\(index)]"))
            }
            return PlanAction(
                kind: kind, resourceId: try string(item["resourceId"], path + ".resourceId"),
                resourceType: try string(item["resourceType"], path + ".resourceType"),
                apiVersion: try string(item["apiVersion"], path + ".apiVersion"), body: optionalValue(item["body"]),
                diff: diff, reason: try string(item["reason"], path + ".reason"), assignmentIds: assignments)
        }
    }
}
