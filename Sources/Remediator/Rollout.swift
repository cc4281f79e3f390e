import FleetCore
import Planner

/// One problem in a rollout definition: where (file and JSON path, or the `--wave` text), what is wrong, how to
/// fix it.
public struct RolloutProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file (`policies/rollout.json`) or `--wave`.
    public var file: String
    /// The JSON path (`$.waves[2].soak`), or the selector text for `--wave`.
    public var path: String
    /// What is wrong.
    public var message: String
    /// How to fix it.
    public var fix: String

    /// Creates a problem.
    public init(file: String, path: String, message: String, fix: String) {
        self.file = file
        self.path = path
        self.message = message
        self.fix = fix
    }

    /// `file: path: message; fix`.
    public var description: String { "\(file): \(path): \(message); \(fix)" }
}

/// Every problem found in a rollout definition (a loader reports them all at once).
public struct RolloutError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in document order.
    public var problems: [RolloutProblem]

    /// Creates an error.
    public init(problems: [RolloutProblem]) {
        self.problems = problems
    }

    /// One problem per line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// What a wave takes when `rollout.json` or `--wave` leaves it out: the CLI's `--max-parallel`,
/// `--max-failures` and soak.
public struct WaveDefaults: Sendable, Hashable {
    /// Clusters worked on at once.
    public var maxParallel: Int
    /// Failures tolerated per wave.
    public var failureBudget: FailureBudget
    /// Wait after each wave (ms).
    public var soak: Int64

    /// Creates defaults.
    public init(maxParallel: Int = 64, failureBudget: FailureBudget = .count(0), soak: Int64 = 0) {
        self.maxParallel = maxParallel
        self.failureBudget = failureBudget
        self.soak = soak
    }
}

/// A rollout: the waves a run applies in order, the change windows the planner honours, the "never touch" tag.
///
/// `rollout.json` (`formatVersion` 1; every key but `formatVersion` optional; unknown keys are errors):
/// ```json
/// {
///   "formatVersion": 1,
///   "neverTouchTag": "fluxfleet.io/never-touch",
///   "waves": [
///     {"name": "canary", "selector": "tag=ring=canary", "maxParallel": 2, "soak": "30m", "failureBudget": 0},
///     {"name": "early", "selector": "5%", "maxParallel": 10, "soak": "15m", "failureBudget": "10%"},
///     {"name": "rest", "selector": "rest", "maxParallel": 50, "failureBudget": "5%"}
///   ],
///   "changeWindows": [
///     {"name": "weekend-nights", "days": ["Fri", "Sat", "Sun"], "start": "22:00", "end": "06:00",
///      "timeZone": "UTC", "selector": "rest"}
///   ]
/// }
/// ```
/// A selector is the text of ``ClusterSelector/init(parsing:)`` or an object with one member: `{"clusters":
/// ["aks-a"]}`, `{"tag": {"ring": "canary"}}`, `{"percent": 5}` or `{"rest": true}`. Percentages are cumulative
/// shares of the fleet and must increase from wave to wave; a `rest` wave must be the last. Durations are
/// `30s`, `10m`, `2h`, `1h30m` or `0`; a failure budget is a count (`2`) or a share of the wave (`"5%"`). A change
/// window opens on each listed day at `start` and closes at `end` (on the next day when `end` is not after
/// `start`); `timeZone` is `UTC` or a fixed offset such as `+01:00`.
public struct Rollout: Sendable, Hashable {
    /// The `formatVersion` this FluxFleet reads.
    public static let formatVersion = 1

    /// The waves in order (canary first).
    public var waves: [Wave]
    /// The change windows (empty: changes any time).
    public var changeWindows: [ChangeWindow]
    /// The "never touch" tag, when the file overrides the default.
    public var neverTouchTag: String?

    /// Creates a rollout.
    public init(waves: [Wave], changeWindows: [ChangeWindow] = [], neverTouchTag: String? = nil) {
        self.waves = waves
        self.changeWindows = changeWindows
        self.neverTouchTag = neverTouchTag
    }

    /// `options` with the rollout's change windows and, when the file sets one, its "never touch" tag: what the
    /// planner needs from the rollout.
    public func planOptions(_ options: PlanOptions) -> PlanOptions {
        var result = options
        result.changeWindows = changeWindows
        if let neverTouchTag { result.neverTouchTag = neverTouchTag }
        return result
    }

    /// The rollout when none is given: one wave, `all`, of every cluster with the CLI's defaults.
    public static func standard(_ defaults: WaveDefaults = WaveDefaults()) -> Rollout {
        Rollout(
            waves: [
                Wave(
                    name: "all", selector: .rest, maxParallel: defaults.maxParallel, soak: 0,
                    failureBudget: defaults.failureBudget)
            ])
    }

    /// The waves of repeated `--wave` texts, in order (see ``Wave/init(parsing:position:defaults:)``); every
    /// problem is reported at once.
    public static func waves(fromFlags texts: [String], defaults: WaveDefaults = WaveDefaults()) throws(RolloutError)
        -> [Wave]
    {
        var problems: [RolloutProblem] = []
        var waves: [Wave] = []
        for (position, text) in texts.enumerated() {
            do {
                waves.append(try Wave(parsing: text, position: position, defaults: defaults))
            } catch {
                problems += error.problems
            }
        }
        var reader = RolloutReader(file: "--wave")
        reader.checkOrder(waves, path: { "--wave '\(texts[$0])'" })
        problems += reader.problems
        if !problems.isEmpty { throw RolloutError(problems: problems) }
        return waves
    }

    /// Reads `rollout.json` text; `file` names it in problems.
    public static func parse(_ text: String, file: String, defaults: WaveDefaults = WaveDefaults())
        throws(RolloutError) -> Rollout
    {
        try read(JSONBytes(text, source: file), file: file, defaults: defaults)
    }

    /// Reads `rollout.json` bytes with FleetCore's JSON reader.
    static func read(_ bytes: JSONBytes, file: String, defaults: WaveDefaults) throws(RolloutError) -> Rollout {
        let json: JSON
        do {
            json = try JSONDocument.parse(bytes).root.materialize()
        } catch {
            throw RolloutError(problems: [
                RolloutProblem(
                    file: file, path: error.path,
                    message: "line \(error.line), column \(error.column): \(error.message)",
                    fix: "write valid JSON (a missing comma or quote is the usual cause)")
            ])
        }
        var reader = RolloutReader(file: file)
        let rollout = reader.rollout(json, defaults: defaults)
        if !reader.problems.isEmpty { throw RolloutError(problems: reader.problems) }
        return rollout
    }

    /// Reads a `rollout.json` file.
    public static func load(path: String, defaults: WaveDefaults = WaveDefaults()) throws(RolloutError) -> Rollout {
        let bytes: JSONBytes
        do {
            bytes = try JSONBytes(contentsOfFile: path)
        } catch {
            throw RolloutError(problems: [
                RolloutProblem(
                    file: path, path: "$", message: "cannot read the file: \(error)",
                    fix: "check the path (the default is policies/rollout.json) and its permissions")
            ])
        }
        return try read(bytes, file: path, defaults: defaults)
    }
}

extension ClusterSelector {
    /// Parses a selector's text, as `--wave` and `rollout.json` write it.
    ///
    /// The forms:
    ///
    /// - `clusters=NAME[,NAME…]`: the named clusters (names or ARM ids, ignoring case), for a canary list;
    /// - `tag=KEY=VALUE`: clusters with that tag (the key ends at the first `=` after `tag=`; ignoring case);
    /// - `N%`: a cumulative share of the fleet (0 < N ≤ 100), picked by a hash of each cluster id so that plan,
    ///   apply and every later run agree;
    /// - `rest`: every cluster no earlier wave took.
    public init(parsing text: String) throws(RolloutError) {
        if let selector = Self.parse(text) {
            self = selector
            return
        }
        throw RolloutError(problems: [
            RolloutProblem(file: "--wave", path: text, message: "'\(text)' is not a selector", fix: Self.grammar)
        ])
    }

    /// How selectors are written, for error messages.
    public static let grammar =
        "write clusters=NAME[,NAME…], tag=KEY=VALUE, a share such as 5% (0 < N ≤ 100), or rest"

    /// The selector of a text, or nil.
    static func parse(_ text: String) -> ClusterSelector? {
        let trimmed = text.trimmingASCIISpaces()
        if trimmed.lowercased() == "rest" { return .rest }
        if trimmed.hasSuffix("%") {
            guard let value = Double(trimmed.dropLast()), value > 0, value <= 100 else { return nil }
            return .percent(value)
        }
        if trimmed.lowercased().hasPrefix("clusters=") {
            let names = trimmed.dropFirst("clusters=".count).split(separator: ",").map {
                String($0).trimmingASCIISpaces()
            }.filter { !$0.isEmpty }
            return names.isEmpty ? nil : .clusters(names)
        }
        if trimmed.lowercased().hasPrefix("tag=") {
            let body = trimmed.dropFirst("tag=".count)
            guard let equals = body.firstIndex(of: "=") else { return nil }
            let key = String(body[..<equals]).trimmingASCIISpaces()
            let value = String(body[body.index(after: equals)...]).trimmingASCIISpaces()
            return key.isEmpty ? nil : .tag(key: key, value: value)
        }
        return nil
    }
}

extension Wave {
    /// Parses one `--wave` text: `[NAME:]SELECTOR[;parallel=N][;soak=DURATION][;budget=BUDGET]`.
    ///
    /// The selector is ``ClusterSelector/init(parsing:)``'s text. `NAME` (letters, digits, `-`, `_`, `.`) defaults
    /// to `canary` for a first wave of named or tagged clusters, `N%` for a share, `rest`, or `wave-K`. What the
    /// text leaves out comes from `defaults` (the CLI's `--max-parallel` and `--max-failures`). Examples:
    /// `canary:clusters=aks-a,aks-b;parallel=1;soak=30m`, `tag=ring=canary`, `5%;budget=1`, `rest;budget=5%`.
    ///
    /// - Parameter position: The wave's 0-based place among the `--wave` flags (for default names).
    public init(parsing text: String, position: Int = 0, defaults: WaveDefaults = WaveDefaults()) throws(RolloutError) {
        var problems: [RolloutProblem] = []
        func problem(_ message: String, _ fix: String) {
            problems.append(RolloutProblem(file: "--wave", path: text, message: message, fix: fix))
        }
        var parts = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var head = parts.removeFirst().trimmingASCIISpaces()
        var name: String?
        if let colon = head.firstIndex(of: ":") {
            let candidate = String(head[..<colon])
            if !candidate.isEmpty, candidate.utf8.allSatisfy(RolloutReader.isNameByte) {
                name = candidate
                head = String(head[head.index(after: colon)...])
            }
        }
        let selector = ClusterSelector.parse(head)
        if selector == nil {
            problem(
                "'\(head)' is not a selector",
                ClusterSelector.grammar + "; a name goes first with a colon, e.g. canary:clusters=aks-a,aks-b")
        }
        var maxParallel = defaults.maxParallel
        var soak = defaults.soak
        var budget = defaults.failureBudget
        for part in parts {
            let option = part.trimmingASCIISpaces()
            guard let equals = option.firstIndex(of: "=") else {
                problem("'\(option)' is not an option", "write parallel=N, soak=DURATION or budget=N|N%")
                continue
            }
            let key = option[..<equals].lowercased()
            let value = String(option[option.index(after: equals)...])
            switch key {
            case "parallel", "maxparallel":
                if let number = Int(value), number >= 1 {
                    maxParallel = number
                } else {
                    problem("parallel '\(value)' is not a positive whole number", "write parallel=N with N ≥ 1")
                }
            case "soak":
                if let duration = RolloutReader.duration(value) {
                    soak = duration
                } else {
                    problem("soak '\(value)' is not a duration", RolloutReader.durationFix)
                }
            case "budget", "failurebudget":
                if let parsed = RolloutReader.budget(value) {
                    budget = parsed
                } else {
                    problem("budget '\(value)' is not a failure budget", RolloutReader.budgetFix)
                }
            default:
                let suggestion = RolloutReader.nearMiss(key, among: ["parallel", "soak", "budget"])
                problem(
                    "unknown option '\(key)'" + (suggestion.map { " (did you mean '\($0)'?)" } ?? ""),
                    "the options are parallel=N, soak=DURATION and budget=N|N%")
            }
        }
        if !problems.isEmpty { throw RolloutError(problems: problems) }
        let chosen = selector ?? .rest
        let defaultName: String
        switch chosen {
        case .clusters, .tag: defaultName = position == 0 ? "canary" : "wave-\(position + 1)"
        case .percent(let share): defaultName = "\(RolloutReader.number(share))%"
        case .rest: defaultName = "rest"
        }
        self.init(
            name: name ?? defaultName, selector: chosen, maxParallel: maxParallel, soak: soak, failureBudget: budget)
    }
}

/// Walks a `rollout.json` tree, collecting every problem.
struct RolloutReader {
    let file: String
    var problems: [RolloutProblem] = []

    init(file: String) {
        self.file = file
    }

    static let durationFix = "write a number with a unit: 30s, 10m, 2h, 1h30m (or 0)"
    static let budgetFix = "write a count of clusters (2) or a share of the wave (\"5%\")"

    mutating func problem(_ path: String, _ message: String, _ fix: String) {
        problems.append(RolloutProblem(file: file, path: path, message: message, fix: fix))
    }

    /// Reports members not in `known`, with a near-miss suggestion.
    mutating func checkKeys(_ members: [String: JSON], _ known: [String], path: String) {
        for key in members.keys.sorted() where !known.contains(key) {
            let suggestion = Self.nearMiss(key, among: known)
            problem(
                path, "unknown key '\(key)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                "the keys here are \(known.joined(separator: ", "))")
        }
    }

    mutating func rollout(_ json: JSON, defaults: WaveDefaults) -> Rollout {
        guard case .object(let members) = json else {
            problem("$", "a rollout is a JSON object", "write {\"formatVersion\": 1, \"waves\": [ … ]}")
            return Rollout(waves: [])
        }
        checkKeys(members, ["formatVersion", "neverTouchTag", "waves", "changeWindows"], path: "$")
        switch members["formatVersion"] {
        case nil:
            problem("$", "formatVersion is missing", "add \"formatVersion\": 1")
        case .number(let number)? where number.int64Value == Int64(Rollout.formatVersion):
            break
        case let other?:
            problem(
                "$.formatVersion", "formatVersion \(Self.render(other)) is not one this FluxFleet reads",
                "write \"formatVersion\": \(Rollout.formatVersion), or update FluxFleet")
        }
        var neverTouchTag: String?
        if let value = members["neverTouchTag"] {
            if let text = value.string, !text.trimmingASCIISpaces().isEmpty {
                neverTouchTag = text
            } else {
                problem(
                    "$.neverTouchTag", "neverTouchTag must be a non-empty tag name",
                    "write a tag name such as \"fluxfleet.io/never-touch\", or leave the key out")
            }
        }
        var waves: [Wave] = []
        switch members["waves"] {
        case nil: waves = Rollout.standard(defaults).waves
        case .array(let items)?:
            if items.isEmpty {
                problem("$.waves", "waves is empty", "list at least one wave, or leave the key out for one wave of all")
            }
            var names: [String: Int] = [:]
            for (index, item) in items.enumerated() {
                let path = "$.waves[\(index)]"
                guard let wave = wave(item, path: path, defaults: defaults) else { continue }
                if let first = names[wave.name.lowercased()] {
                    problem(
                        path + ".name", "wave name '\(wave.name)' is used twice (first at $.waves[\(first)])",
                        "give each wave its own name")
                } else {
                    names[wave.name.lowercased()] = index
                }
                waves.append(wave)
            }
            checkOrder(waves, path: { "$.waves[\($0)].selector" })
        case let other?:
            problem("$.waves", "waves must be an array, not \(Self.kind(other))", "write \"waves\": [{…}, …]")
        }
        var windows: [ChangeWindow] = []
        switch members["changeWindows"] {
        case nil: break
        case .array(let items)?:
            var names: [String: Int] = [:]
            for (index, item) in items.enumerated() {
                let path = "$.changeWindows[\(index)]"
                guard let window = window(item, path: path) else { continue }
                if let first = names[window.name.lowercased()] {
                    problem(
                        path + ".name",
                        "change window name '\(window.name)' is used twice (first at $.changeWindows[\(first)])",
                        "give each window its own name")
                } else {
                    names[window.name.lowercased()] = index
                }
                windows.append(window)
            }
        case let other?:
            problem(
                "$.changeWindows", "changeWindows must be an array, not \(Self.kind(other))",
                "write \"changeWindows\": [{…}, …]")
        }
        return Rollout(waves: waves, changeWindows: windows, neverTouchTag: neverTouchTag)
    }

    /// Percent waves must increase; a `rest` wave must be the last.
    mutating func checkOrder(_ waves: [Wave], path: (Int) -> String) {
        var lastPercent: (Double, Int)?
        for (index, wave) in waves.enumerated() {
            switch wave.selector {
            case .percent(let share):
                if let (previous, at) = lastPercent, share <= previous {
                    problem(
                        path(index),
                        "\(Self.number(share))% does not increase on \(Self.number(previous))% (wave \(at + 1)): shares are cumulative",
                        "write a larger share (5% then 25% takes 20% more), or drop the wave")
                }
                lastPercent = (share, index)
            case .rest where index < waves.count - 1:
                problem(
                    path(index), "wave '\(wave.name)' takes the rest, so the waves after it get no cluster",
                    "move the rest wave last")
            default: break
            }
        }
    }

    mutating func wave(_ json: JSON, path: String, defaults: WaveDefaults) -> Wave? {
        guard case .object(let members) = json else {
            problem(path, "a wave is an object, not \(Self.kind(json))", "write {\"name\": …, \"selector\": …}")
            return nil
        }
        checkKeys(members, ["name", "selector", "maxParallel", "soak", "failureBudget"], path: path)
        let name = self.name(members["name"], path: path + ".name", what: "wave")
        let selector = self.selector(members["selector"], path: path + ".selector", required: true)
        var maxParallel = defaults.maxParallel
        if let value = members["maxParallel"] {
            if case .number(let number) = value, let whole = number.int64Value, whole >= 1, whole <= 100_000 {
                maxParallel = Int(whole)
            } else {
                problem(
                    path + ".maxParallel", "maxParallel \(Self.render(value)) is not a whole number from 1 to 100000",
                    "write the number of clusters to work on at once, such as 10")
            }
        }
        var soak = defaults.soak
        if let value = members["soak"] {
            if let text = value.string, let duration = Self.duration(text) {
                soak = duration
            } else {
                problem(path + ".soak", "soak \(Self.render(value)) is not a duration", Self.durationFix)
            }
        }
        var budget = defaults.failureBudget
        if let value = members["failureBudget"] {
            let parsed: FailureBudget?
            switch value {
            case .number(let number): parsed = number.int64Value.flatMap { $0 >= 0 ? .count(Int($0)) : nil }
            case .string(let text): parsed = Self.budget(text)
            default: parsed = nil
            }
            if let parsed {
                budget = parsed
            } else {
                problem(path + ".failureBudget", "failureBudget \(Self.render(value)) is not a budget", Self.budgetFix)
            }
        }
        guard let name, let selector else { return nil }
        return Wave(name: name, selector: selector, maxParallel: maxParallel, soak: soak, failureBudget: budget)
    }

    mutating func name(_ json: JSON?, path: String, what: String) -> String? {
        guard let json else {
            problem(path, "the \(what) has no name", "add \"name\": \"…\" (letters, digits, -, _ and .)")
            return nil
        }
        guard let text = json.string, !text.isEmpty, text.utf8.allSatisfy(Self.isNameByte) else {
            problem(
                path, "\(what) name \(Self.render(json)) is not a name",
                "use letters, digits, -, _ and . only, such as \"canary\"")
            return nil
        }
        return text
    }

    mutating func selector(_ json: JSON?, path: String, required: Bool) -> ClusterSelector? {
        guard let json else {
            if required { problem(path, "selector is missing", "add \"selector\": …; " + ClusterSelector.grammar) }
            return nil
        }
        switch json {
        case .string(let text):
            if let selector = ClusterSelector.parse(text) { return selector }
            problem(path, "'\(text)' is not a selector", ClusterSelector.grammar)
            return nil
        case .object(let members) where members.count == 1:
            let (key, value) = members.first!
            switch (key, value) {
            case ("clusters", .array(let items)):
                let names = items.compactMap(\.string).filter { !$0.isEmpty }
                if names.count == items.count, !names.isEmpty { return .clusters(names) }
                problem(
                    path + ".clusters", "clusters must be a non-empty list of cluster names or ids",
                    "write {\"clusters\": [\"aks-a\", \"aks-b\"]}")
            case ("tag", .object(let tags)) where tags.count == 1:
                if let (tagKey, tagValue) = tags.first, let text = tagValue.string, !tagKey.isEmpty {
                    return .tag(key: tagKey, value: text)
                }
                problem(path + ".tag", "the tag's value must be a string", "write {\"tag\": {\"ring\": \"canary\"}}")
            case ("percent", .number(let number)):
                let share = number.doubleValue
                if share > 0, share <= 100 { return .percent(share) }
                problem(
                    path + ".percent", "percent \(number) is outside 0 < N ≤ 100",
                    "write a share of the fleet such as {\"percent\": 5}")
            case ("rest", .bool(true)):
                return .rest
            default:
                let suggestion = Self.nearMiss(key, among: ["clusters", "tag", "percent", "rest"])
                problem(
                    path,
                    "selector {\"\(key)\": \(Self.render(value))} is not one FluxFleet knows"
                        + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                    "write {\"clusters\": [\"aks-a\"]}, {\"tag\": {\"ring\": \"canary\"}}, {\"percent\": 5}, {\"rest\": true}, or the text form: "
                        + ClusterSelector.grammar)
            }
            return nil
        default:
            break
        }
        problem(
            path, "selector \(Self.render(json)) is not a selector",
            ClusterSelector.grammar + ", or an object with one of clusters, tag, percent, rest")
        return nil
    }

    mutating func window(_ json: JSON, path: String) -> ChangeWindow? {
        guard case .object(let members) = json else {
            problem(
                path, "a change window is an object, not \(Self.kind(json))",
                "write {\"name\": …, \"days\": [\"Sat\"], \"start\": \"22:00\", \"end\": \"06:00\"}")
            return nil
        }
        checkKeys(members, ["name", "days", "start", "end", "timeZone", "selector"], path: path)
        let name = self.name(members["name"], path: path + ".name", what: "change window")
        var days = Set<ChangeWindow.Weekday>()
        switch members["days"] {
        case .array(let items)? where !items.isEmpty:
            for (index, item) in items.enumerated() {
                if let text = item.string, let day = ChangeWindow.Weekday(name: text) {
                    days.insert(day)
                } else {
                    problem(
                        "\(path).days[\(index)]", "\(Self.render(item)) is not a day of the week",
                        "write Mon, Tue, Wed, Thu, Fri, Sat or Sun")
                }
            }
        default:
            problem(
                path + ".days", "days must be a non-empty list of days", "write \"days\": [\"Fri\", \"Sat\", \"Sun\"]")
        }
        let start = clockTime(members["start"], path: path + ".start", allowEndOfDay: false)
        let end = clockTime(members["end"], path: path + ".end", allowEndOfDay: true)
        if let start, let end, start == end {
            problem(
                path + ".end", "the window opens and closes at the same time",
                "give an end after the start, or before it for a window across midnight")
        }
        var offset = 0
        if let value = members["timeZone"] {
            if let text = value.string, let minutes = Self.offset(text) {
                offset = minutes
            } else {
                problem(
                    path + ".timeZone", "timeZone \(Self.render(value)) is not UTC or a fixed offset",
                    "write \"UTC\" or an offset such as \"+01:00\" or \"-05:30\" (named zones are not supported)")
            }
        }
        let selector = members["selector"].flatMap { self.selector($0, path: path + ".selector", required: false) }
        guard let name, !days.isEmpty, let start, let end, start != end else { return nil }
        return ChangeWindow(
            name: name, days: days, start: start, end: end, utcOffset: offset,
            selector: selector)
    }

    mutating func clockTime(_ json: JSON?, path: String, allowEndOfDay: Bool) -> Int? {
        let fix = "write a 24-hour time HH:MM such as \"22:00\"" + (allowEndOfDay ? " (24:00 for midnight)" : "")
        guard let text = json?.string else {
            problem(path, json == nil ? "the time is missing" : "\(Self.render(json!)) is not a time", fix)
            return nil
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
            (0...23).contains(h) && (0...59).contains(m) || (allowEndOfDay && h == 24 && m == 0)
        {
            return h * 60 + m
        }
        problem(path, "'\(text)' is not a time of day", fix)
        return nil
    }

    // MARK: - Values

    static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// `30s`, `10m`, `2h`, `1h30m`, `0` → ms.
    static func duration(_ text: String) -> Int64? {
        let trimmed = text.trimmingASCIISpaces()
        if trimmed == "0" { return 0 }
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for character in trimmed {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let value = Int64(digits), value <= 1_000_000 else { return nil }
            switch character {
            case "h": total += value * 3_600_000
            case "m": total += value * 60_000
            case "s": total += value * 1000
            default: return nil
            }
            digits = ""
            sawUnit = true
        }
        return digits.isEmpty && sawUnit ? total : nil
    }

    /// `2` or `5%`.
    static func budget(_ text: String) -> FailureBudget? {
        let trimmed = text.trimmingASCIISpaces()
        if trimmed.hasSuffix("%") {
            guard let share = Double(trimmed.dropLast()), share >= 0, share <= 100 else { return nil }
            return .percent(share)
        }
        guard let count = Int(trimmed), count >= 0 else { return nil }
        return .count(count)
    }

    /// `UTC`, `Z`, `+01:00`, `-05:30` → minutes east of UTC.
    static func offset(_ text: String) -> Int? {
        let upper = text.uppercased()
        if upper == "UTC" || upper == "Z" || upper == "+00:00" || upper == "-00:00" { return 0 }
        let bytes = Array(text.utf8)
        guard bytes.count == 6, bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-"),
            bytes[3] == UInt8(ascii: ":"), let h = Int(String(decoding: bytes[1...2], as: UTF8.self)),
            let m = Int(String(decoding: bytes[4...5], as: UTF8.self)), h <= 14, m < 60
        else { return nil }
        return (h * 60 + m) * (bytes[0] == UInt8(ascii: "-") ? -1 : 1)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static func render(_ json: JSON) -> String {
        var writer = JSONWriter()
        writer.value(json)
        return writer.text
    }

    static func kind(_ json: JSON) -> String {
        switch json {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The candidate closest to `word` (ignoring case, at most two edits), or nil.
    static func nearMiss(_ word: String, among candidates: [String]) -> String? {
        let query = Array(word.lowercased().unicodeScalars)
        var best: (Int, String)?
        for candidate in candidates {
            let target = Array(candidate.lowercased().unicodeScalars)
            var previous = Array(0...target.count)
            for i in 1...max(1, query.count) where !query.isEmpty {
                var current = [i] + Array(repeating: 0, count: target.count)
                for j in stride(from: 1, through: target.count, by: 1) {
                    let cost = query[i - 1] == target[j - 1] ? 0 : 1
                    current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                }
                previous = current
            }
            let distance = query.isEmpty ? target.count : previous[target.count]
            if distance <= 2, distance < (best?.0 ?? Int.max) { best = (distance, candidate) }
        }
        return best?.1
    }
}
