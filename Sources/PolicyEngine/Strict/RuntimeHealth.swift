import FleetCore

/// A Flux object on the cluster that is not healthy, from a fluxConfiguration's `statuses[]`.
public struct FailingObject: Sendable, Hashable {
    /// The Flux kind, such as `Kustomization` or `GitRepository` (`""` when not reported).
    public var kind: String
    /// The object name, such as `cfg-apps` (`""` when not reported).
    public var name: String
    /// The object namespace (`""` when not reported).
    public var namespace: String
    /// The reason of its `Ready` condition (or of the first `False` condition), such as `BuildFailed`.
    public var reason: String?
    /// The message of that condition.
    public var message: String?

    /// Creates a failing object.
    public init(kind: String, name: String, namespace: String, reason: String?, message: String?) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.reason = reason
        self.message = message
    }
}

/// Flux's own view of a fluxConfiguration: the compliance the agent reports, its failing objects, staleness.
public struct RuntimeAssessment: Sendable, Hashable {
    /// `properties.complianceState` as reported (`Compliant`, `Non-Compliant`, `Pending`, `Suspended`,
    /// `Unknown`), nil when absent.
    public var complianceState: String?
    /// Whether the status is too old to trust: `statusUpdatedAt` (or `now`) is missing or unreadable, or
    /// older than the threshold.
    public var stale: Bool
    /// `properties.statusUpdatedAt` as reported.
    public var statusUpdatedAt: String?
    /// Whether reconciliation is suspended (`suspend` true or `complianceState` `Suspended`).
    public var suspended: Bool
    /// Objects whose `complianceState` is `Non-Compliant` or whose `Ready` condition is `False`, in the order
    /// reported.
    public var failing: [FailingObject]

    /// Creates an assessment.
    public init(
        complianceState: String?, stale: Bool, statusUpdatedAt: String?, suspended: Bool = false,
        failing: [FailingObject]
    ) {
        self.complianceState = complianceState
        self.stale = stale
        self.statusUpdatedAt = statusUpdatedAt
        self.suspended = suspended
        self.failing = failing
    }

    /// Whether Flux reports the configuration `Compliant`, with fresh status, nothing failing, not suspended.
    public var healthy: Bool {
        complianceState.map { ASCII.equalsIgnoringCase($0, "Compliant") } == true && !stale && failing.isEmpty
            && !suspended
    }
}

/// Reads the runtime health of a fluxConfiguration from the status fields the agent pushes.
public enum RuntimeHealth {
    /// Assesses one fluxConfiguration.
    ///
    /// - Parameters:
    ///   - configuration: The resource as ARM or Resource Graph returns it (its `properties` are read; a bare
    ///     `properties` object works too). Member names match ignoring case.
    ///   - now: The current time, ISO-8601 (`2024-05-01T12:00:00Z`, fractions and `±hh:mm` offsets accepted).
    ///   - staleAfterSeconds: How old `statusUpdatedAt` may be before the status counts as stale.
    /// - Returns: The assessment. Missing fields give nil / empty values; a missing or unreadable timestamp
    ///   makes the status stale (nothing proves it is fresh).
    public static func assess(
        configuration: JSONValue,
        now: String,
        staleAfterSeconds: Int = 3600
    ) -> RuntimeAssessment {
        assess(
            configuration: configuration, now: ExpressionDateTime(parsing: now), staleAfterSeconds: staleAfterSeconds)
    }

    /// ``assess(configuration:now:staleAfterSeconds:)`` with the current time already parsed (nil: unreadable).
    static func assess(
        configuration: JSONValue,
        now current: ExpressionDateTime?,
        staleAfterSeconds: Int
    ) -> RuntimeAssessment {
        let properties = SpecDrift.member("properties", of: configuration)
        let status = properties.flatMap { $0.isObject ? $0 : nil } ?? configuration
        // One pass over the status for the four members read, as positions (nothing retained); the same storage
        // then serves every object and condition below (each level's values are read before the next lookup).
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: Names.status.count) { found in
            status.memberPositions(Names.status, matching: .preferringExact, into: found)
            let statuses = status.value(at: found[3])
            let complianceState = status.value(at: found[0])
            let updatedAt = status.value(at: found[1])?.string
            var stale = true
            if let updatedAt, let current, let updated = timestamp(updatedAt) {
                let age = (current.ticks - updated.ticks) / ExpressionDateTime.ticksPerSecond
                stale = age > Int64(staleAfterSeconds)
            }
            let suspend = status.value(at: found[2]).map(flag) ?? false
            let suspended = suspend || complianceState?.stringEqualsIgnoringCase("Suspended") == true
            var failing: [FailingObject] = []
            if let statuses {
                for object in statuses.elements {
                    if let failure = failure(of: object, scratch: found) { failing.append(failure) }
                }
            }
            return RuntimeAssessment(
                complianceState: complianceState?.string, stale: stale, statusUpdatedAt: updatedAt,
                suspended: suspended, failing: failing)
        }
    }

    /// The member names ``assess(configuration:now:staleAfterSeconds:)`` reads, each set found in one pass per
    /// object; immutable, so shared by every thread.
    enum Names {
        /// Of the status (`properties`): read for every configuration.
        static let status = JSONMemberNames(["complianceState", "statusUpdatedAt", "suspend", "statuses"])
        /// Of an object in `statuses[]`: what decides whether it is healthy.
        static let object = JSONMemberNames(["complianceState", "statusConditions"])
        /// Of a condition: whether it is the `Ready` one, and its status.
        static let condition = JSONMemberNames(["type", "status"])
    }

    /// The object as a failure, or nil when it is healthy; `found` is room for the positions of the members read.
    private static func failure(of object: JSONValue, scratch found: UnsafeMutableBufferPointer<Int>) -> FailingObject?
    {
        guard object.isObject else { return nil }
        // Most objects are healthy: decide without decoding strings or collecting the conditions.
        object.memberPositions(Names.object, matching: .preferringExact, into: found)
        let conditions = object.value(at: found[1])
        // "Compliant" (the usual value) rules out both non-compliant spellings in one comparison.
        let nonCompliant =
            object.value(at: found[0]).map {
                !$0.stringEqualsIgnoringCase("Compliant")
                    && ($0.stringEqualsIgnoringCase("Non-Compliant") || $0.stringEqualsIgnoringCase("Noncompliant"))
            } ?? false
        // The first condition whose type is `Ready`, and whether its status is false.
        var ready: JSONValue?
        var readyFalse = false
        if let conditions {
            for condition in conditions.elements {
                condition.memberPositions(Names.condition, matching: .preferringExact, into: found)
                if condition.value(at: found[0])?.stringEqualsIgnoringCase("Ready") == true {
                    ready = condition
                    readyFalse = condition.value(at: found[1]).map(isFalseStatus) ?? false
                    break
                }
            }
        }
        guard nonCompliant || readyFalse else { return nil }
        let explaining = readyFalse ? ready : (conditions?.elements.first(where: isFalse) ?? ready)
        return FailingObject(
            kind: SpecDrift.member("kind", of: object)?.string ?? "",
            name: SpecDrift.member("name", of: object)?.string ?? "",
            namespace: SpecDrift.member("namespace", of: object)?.string ?? "",
            reason: explaining.flatMap { SpecDrift.member("reason", of: $0)?.string },
            message: explaining.flatMap { SpecDrift.member("message", of: $0)?.string })
    }

    private static func isFalse(_ condition: JSONValue) -> Bool {
        SpecDrift.member("status", of: condition).map(isFalseStatus) ?? false
    }

    /// Whether a condition's `status` value says false: the bool, or the string `false` in any case.
    private static func isFalseStatus(_ status: JSONValue) -> Bool {
        status.bool == false || status.stringEqualsIgnoringCase("false")
    }

    /// A bool, or the strings `true`/`false` in any case.
    private static func flag(_ value: JSONValue) -> Bool {
        value.bool ?? value.stringEqualsIgnoringCase("true")
    }

    /// `statusUpdatedAt` parsed, the same as ``ExpressionDateTime/init(parsing:)``: the shape the agent writes is
    /// read in place (``agentTicks(_:)``), anything else by the full parser.
    static func timestamp(_ text: String) -> ExpressionDateTime? {
        var text = text
        if let ticks = text.withUTF8(agentTicks) { return ExpressionDateTime(ticks: ticks, style: .seconds) }
        return ExpressionDateTime(parsing: text)
    }

    /// The ticks of `yyyy-MM-ddTHH:mm:ss` then `Z` or `±hh:mm` (such as `2026-11-21T17:59:10+00:00`), without
    /// the array and scanner of the full parser; nil for any other text, and for one of this shape the full parser
    /// rejects (out-of-range fields), which then goes to the full parser (and is rejected there).
    static func agentTicks(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        let count = text.count
        guard count == 20 || count == 25, let p = text.baseAddress, p[4] == UInt8(ascii: "-"),
            p[7] == UInt8(ascii: "-"), p[10] == UInt8(ascii: "T"), p[13] == UInt8(ascii: ":"),
            p[16] == UInt8(ascii: ":")
        else { return nil }
        var digits = true
        /// The two-digit number at `k` (clears `digits` when either byte is not a digit).
        @inline(__always) func two(_ k: Int) -> Int64 {
            let high = p[k] &- UInt8(ascii: "0")
            let low = p[k + 1] &- UInt8(ascii: "0")
            if high > 9 || low > 9 { digits = false }
            return Int64(high) * 10 + Int64(low)
        }
        let year = two(0) * 100 + two(2)
        let month = two(5)
        let day = two(8)
        let hour = two(11)
        let minute = two(14)
        let second = two(17)
        guard digits, year >= 1, (1...12).contains(month), day >= 1,
            day <= ExpressionDateTime.daysInMonth(year: year, month: month), hour < 24, minute < 60, second < 60
        else { return nil }
        var ticks =
            ExpressionDateTime.days(year: year, month: month, day: day) * ExpressionDateTime.ticksPerDay
            + ((hour * 60 + minute) * 60 + second) * ExpressionDateTime.ticksPerSecond
        if count == 20 {
            guard p[19] == UInt8(ascii: "Z") else { return nil }
        } else {
            let sign: Int64
            switch p[19] {
            case UInt8(ascii: "+"): sign = 1
            case UInt8(ascii: "-"): sign = -1
            default: return nil
            }
            // Like the full parser: offset hours up to 14, its minutes any two digits.
            let hours = two(20)
            let minutes = two(23)
            guard digits, p[22] == UInt8(ascii: ":"), hours <= 14 else { return nil }
            ticks -= sign * (hours * 60 + minutes) * 60 * ExpressionDateTime.ticksPerSecond
        }
        guard ticks >= 0, ticks <= ExpressionDateTime.maximumTicks else { return nil }
        return ticks
    }
}
