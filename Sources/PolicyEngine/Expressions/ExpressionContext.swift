import FleetCore

/// What an expression can read from the world: parameters, variables, the evaluated resource, loops.
///
/// Name lookup is the context's job, but **callers must look parameters (and variables) up
/// case-insensitively**, as ARM and Azure Policy do: three real built-ins reference
/// `parameters('repositoryhttpsCACert')` for a parameter declared `repositoryHttpsCACert` (and
/// `repositorylocalAuthRef` for `repositoryLocalAuthRef`), and a case-sensitive lookup makes them
/// fail. ``StaticExpressionContext`` shows the expected behaviour.
///
/// Every requirement except ``parameter(_:)`` and ``utcNow()`` has a default that reports
/// "not available here" (nil), so a template-side context only supplies what it has.
public protocol ExpressionContext: Sendable {
    /// The value of parameter `name`, or nil when it is not defined. Look names up case-insensitively.
    func parameter(_ name: String) -> JSON?

    /// The value of template variable `name`, or nil when it is not defined (case-insensitive lookup).
    func variable(_ name: String) -> JSON?

    /// The value at field path or alias `path` of the evaluated resource (policy side), or nil
    /// when the resource has no such value.
    ///
    /// `field()` turns nil into `""` (or `[]` for a `[*]` path), Azure's documented value for a
    /// missing field. Throw for paths that are not valid at all (an unknown alias).
    func field(_ path: String) throws -> JSON?

    /// The current element of the count loop named `name` (innermost loop when nil), or nil outside one.
    func current(_ name: String?) -> JSON?

    /// The resource group of the evaluated resource (`resourceGroup()`), or nil when unavailable.
    func resourceGroup() -> JSON?

    /// The subscription of the evaluated resource (`subscription()`), or nil when unavailable.
    func subscription() -> JSON?

    /// The evaluation time as an ISO-8601 UTC string, e.g. `2024-05-01T12:00:00.0000000Z`.
    ///
    /// Injected so that evaluation is reproducible; the library never reads the wall clock.
    func utcNow() -> String
}

extension ExpressionContext {
    /// No variables by default.
    public func variable(_ name: String) -> JSON? { nil }
    /// No evaluated resource by default.
    public func field(_ path: String) throws -> JSON? { nil }
    /// No count loop by default.
    public func current(_ name: String?) -> JSON? { nil }
    /// No resource group by default.
    public func resourceGroup() -> JSON? { nil }
    /// No subscription by default.
    public func subscription() -> JSON? { nil }
}

/// An ``ExpressionContext`` over fixed values, with case-insensitive names throughout.
///
/// Suitable for tests, for evaluating initiative parameter values, and for deployment templates
/// (where `field()` is unavailable). Field paths are matched exactly first, then ignoring case.
public struct StaticExpressionContext: ExpressionContext {
    /// Parameter values by name.
    public var parameters: [String: JSON]
    /// Variable values by name.
    public var variables: [String: JSON]
    /// Field values by path or alias.
    public var fields: [String: JSON]
    /// Current count-loop elements by loop name; the entry for `""` answers `current()`.
    public var currentValues: [String: JSON]
    /// What `resourceGroup()` returns.
    public var resourceGroupValue: JSON?
    /// What `subscription()` returns.
    public var subscriptionValue: JSON?
    /// What `utcNow()` returns.
    public var now: String
    /// Stand-in symbols among the values, for the deployment memo: set only while it evaluates a template.
    var symbolTrap: SymbolTrap?

    /// Creates a context; `now` defaults to a fixed instant so results never depend on the clock.
    public init(
        parameters: [String: JSON] = [:],
        variables: [String: JSON] = [:],
        fields: [String: JSON] = [:],
        currentValues: [String: JSON] = [:],
        resourceGroupValue: JSON? = nil,
        subscriptionValue: JSON? = nil,
        now: String = "2000-01-01T00:00:00.0000000Z"
    ) {
        self.parameters = parameters
        self.variables = variables
        self.fields = fields
        self.currentValues = currentValues
        self.resourceGroupValue = resourceGroupValue
        self.subscriptionValue = subscriptionValue
        self.now = now
    }

    /// The parameter whose name equals `name` ignoring case.
    public func parameter(_ name: String) -> JSON? { Self.lookup(name, in: parameters) }

    /// The variable whose name equals `name` ignoring case.
    public func variable(_ name: String) -> JSON? { Self.lookup(name, in: variables) }

    /// The field at `path` (exact, then ignoring case).
    public func field(_ path: String) throws -> JSON? { Self.lookup(path, in: fields) }

    /// The loop element for `name` (ignoring case), or the `""` entry when `name` is nil.
    public func current(_ name: String?) -> JSON? { Self.lookup(name ?? "", in: currentValues) }

    /// ``resourceGroupValue``.
    public func resourceGroup() -> JSON? { resourceGroupValue }

    /// ``subscriptionValue``.
    public func subscription() -> JSON? { subscriptionValue }

    /// ``now``.
    public func utcNow() -> String { now }

    private static func lookup(_ name: String, in values: [String: JSON]) -> JSON? {
        if let exact = values[name] { return exact }
        // Sorted, so that keys differing only in case resolve the same way every time.
        let key = values.keys.sorted().first { ASCII.equalsIgnoringCase($0, name) }
        return key.flatMap { values[$0] }
    }
}
