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
        let properties = SpecDrift.member("properties", of: configuration).flatMap { $0.isObject ? $0 : nil }
        let status = properties ?? configuration
        let complianceState = SpecDrift.member("complianceState", of: status)?.string
        let updatedAt = SpecDrift.member("statusUpdatedAt", of: status)?.string
        var stale = true
        if let updatedAt, let updated = ExpressionDateTime(parsing: updatedAt), let current {
            let age = (current.ticks - updated.ticks) / ExpressionDateTime.ticksPerSecond
            stale = age > Int64(staleAfterSeconds)
        }
        let suspend = SpecDrift.member("suspend", of: status).map(flag) ?? false
        let suspended = suspend || complianceState.map { ASCII.equalsIgnoringCase($0, "Suspended") } == true
        var failing: [FailingObject] = []
        if let statuses = SpecDrift.member("statuses", of: status) {
            for object in statuses.elements {
                if let failure = failure(of: object) { failing.append(failure) }
            }
        }
        return RuntimeAssessment(
            complianceState: complianceState, stale: stale, statusUpdatedAt: updatedAt, suspended: suspended,
            failing: failing)
    }

    /// The object as a failure, or nil when it is healthy.
    private static func failure(of object: JSONValue) -> FailingObject? {
        guard object.isObject else { return nil }
        // Most objects are healthy: decide without decoding strings or collecting the conditions.
        let state = SpecDrift.member("complianceState", of: object)
        let nonCompliant =
            state.map { $0.stringEqualsIgnoringCase("Non-Compliant") || $0.stringEqualsIgnoringCase("Noncompliant") }
            ?? false
        let conditions = SpecDrift.member("statusConditions", of: object)?.elements
        let ready = conditions?.first { SpecDrift.member("type", of: $0)?.stringEqualsIgnoringCase("Ready") == true }
        let readyFalse = ready.map(isFalse) ?? false
        guard nonCompliant || readyFalse else { return nil }
        let explaining = readyFalse ? ready : (conditions?.first(where: isFalse) ?? ready)
        return FailingObject(
            kind: SpecDrift.member("kind", of: object)?.string ?? "",
            name: SpecDrift.member("name", of: object)?.string ?? "",
            namespace: SpecDrift.member("namespace", of: object)?.string ?? "",
            reason: explaining.flatMap { SpecDrift.member("reason", of: $0)?.string },
            message: explaining.flatMap { SpecDrift.member("message", of: $0)?.string })
    }

    private static func isFalse(_ condition: JSONValue) -> Bool {
        guard let status = SpecDrift.member("status", of: condition) else { return false }
        return status.bool == false || status.stringEqualsIgnoringCase("false")
    }

    /// A bool, or the strings `true`/`false` in any case.
    private static func flag(_ value: JSONValue) -> Bool {
        value.bool ?? value.stringEqualsIgnoringCase("true")
    }
}
