import FleetCore

/// Where a policy document came from: its file and the JSON path of the value inside it.
public struct PolicySource: Sendable, Hashable, CustomStringConvertible {
    /// The file path.
    public var file: String
    /// The JSON path, such as `$.properties.policyRule.if.allOf[2]`.
    public var path: String

    /// Creates a source location.
    public init(file: String, path: String = "$") {
        self.file = file
        self.path = path
    }

    /// The same file with a longer path.
    public func appending(_ component: JSONPathComponent) -> PolicySource {
        PolicySource(file: file, path: JSONPathComponent.render([component], root: path))
    }

    /// `file: path`.
    public var description: String { "\(file): \(path)" }
}

/// A problem found in policy documents, with where it is and how to fix it.
public struct PolicyDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How bad it is.
    public enum Severity: String, Sendable {
        /// The document cannot be used as written.
        case error
        /// The document works but probably not as intended.
        case warning
    }

    /// How bad it is.
    public var severity: Severity
    /// Where.
    public var source: PolicySource
    /// What is wrong.
    public var message: String
    /// Near misses or a fix, such as `did you mean 'gitRepository.url'?`.
    public var suggestion: String?

    /// Creates a diagnostic.
    public init(_ severity: Severity, _ source: PolicySource, _ message: String, suggestion: String? = nil) {
        self.severity = severity
        self.source = source
        self.message = message
        self.suggestion = suggestion
    }

    /// `file: path: error: message (suggestion)`.
    public var description: String {
        "\(source): \(severity.rawValue): \(message)" + (suggestion.map { " — \($0)" } ?? "")
    }
}

/// The type of a policy parameter (type names are case-insensitive in Azure's JSON).
public enum PolicyParameterType: String, Sendable, CaseIterable {
    /// `string`.
    case string
    /// `array`.
    case array
    /// `object`.
    case object
    /// `boolean`.
    case boolean
    /// `integer`.
    case integer
    /// `float`.
    case float
    /// `dateTime`.
    case dateTime

    /// The type for a name compared ignoring case, or nil.
    public init?(name: String) {
        guard let match = Self.allCases.first(where: { ASCII.equalsIgnoringCase($0.rawValue, name) }) else {
            return nil
        }
        self = match
    }
}

/// A parameter declared by a policy definition or an initiative.
public struct PolicyParameterDefinition: Sendable, Hashable {
    /// The name as declared.
    public var name: String
    /// The type.
    public var type: PolicyParameterType
    /// The default value; a parameter without one is required.
    public var defaultValue: JSON?
    /// The allowed values (compared case-sensitively, as Azure does at assignment time).
    public var allowedValues: [JSON]?
    /// `metadata.strongType`, such as `Microsoft.KeyVault/vaults`.
    public var strongType: String?
    /// `metadata.displayName`.
    public var displayName: String?
    /// Where the declaration is.
    public var source: PolicySource

    /// Creates a parameter declaration.
    public init(
        name: String, type: PolicyParameterType, defaultValue: JSON? = nil, allowedValues: [JSON]? = nil,
        strongType: String? = nil, displayName: String? = nil, source: PolicySource
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.allowedValues = allowedValues
        self.strongType = strongType
        self.displayName = displayName
        self.source = source
    }

    /// Whether an assignment must give a value.
    public var isRequired: Bool { defaultValue == nil }
}

/// Parameter declarations looked up by name ignoring case (three real built-ins rely on it).
public struct PolicyParameters: Sendable, Hashable {
    /// The declarations in document order.
    public private(set) var all: [PolicyParameterDefinition] = []
    private var byName: [String: Int] = [:]

    /// Creates an empty set.
    public init() {}

    /// Creates a set from declarations (a later duplicate name replaces an earlier one).
    public init(_ parameters: [PolicyParameterDefinition]) {
        for parameter in parameters { add(parameter) }
    }

    /// Adds or replaces a declaration.
    public mutating func add(_ parameter: PolicyParameterDefinition) {
        let key = ASCII.lowercased(parameter.name)
        if let index = byName[key] {
            all[index] = parameter
        } else {
            byName[key] = all.count
            all.append(parameter)
        }
    }

    /// The declaration with a name, ignoring case.
    public subscript(name: String) -> PolicyParameterDefinition? {
        byName[ASCII.lowercased(name)].map { all[$0] }
    }
}

/// A policy definition (`Microsoft.Authorization/policyDefinitions`).
public struct PolicyDefinition: Sendable {
    /// The resource id, such as `/providers/Microsoft.Authorization/policyDefinitions/<name>`.
    public var id: String
    /// The name (last segment of the id).
    public var name: String
    /// `properties.displayName`.
    public var displayName: String?
    /// `properties.mode` (`All`, `Indexed`, …).
    public var mode: String?
    /// The declared parameters.
    public var parameters: PolicyParameters
    /// `properties.policyRule.if`, as written.
    public var condition: JSON
    /// `properties.policyRule.then`, as written (`effect` and `details`).
    public var then: JSON
    /// Where `properties` starts.
    public var source: PolicySource
    /// `properties.metadata.category`.
    public var category: String?
}

/// A reference from an initiative to a definition, with the parameter values it passes.
public struct PolicyDefinitionReference: Sendable {
    /// The referenced definition's id.
    public var policyDefinitionId: String
    /// The reference id, unique in the initiative (used by exemptions and overrides).
    public var referenceId: String
    /// Parameter values: `{"name": {"value": <literal or expression over initiative parameters>}}`.
    public var parameters: [String: JSON]
    /// `groupNames`.
    public var groupNames: [String]
    /// Where the reference is.
    public var source: PolicySource
}

/// An initiative (`Microsoft.Authorization/policySetDefinitions`).
public struct PolicySetDefinition: Sendable {
    /// The resource id.
    public var id: String
    /// The name.
    public var name: String
    /// `properties.displayName`.
    public var displayName: String?
    /// The initiative's own parameters.
    public var parameters: PolicyParameters
    /// The definitions it groups, in order.
    public var definitions: [PolicyDefinitionReference]
    /// Where `properties` starts.
    public var source: PolicySource
}

/// A resource selector of an assignment or an override.
public struct PolicySelector: Sendable, Hashable {
    /// `resourceLocation`, `resourceType`, `resourceWithoutLocation` or `policyDefinitionReferenceId`.
    public var kind: String
    /// Values the property must be one of (nil when `notIn` is used).
    public var `in`: [String]?
    /// Values the property must not be (nil when `in` is used).
    public var notIn: [String]?
}

/// A named set of selectors; a resource must satisfy every selector of at least one set.
public struct PolicyResourceSelector: Sendable, Hashable {
    /// The set's name.
    public var name: String
    /// The selectors, all of which must match.
    public var selectors: [PolicySelector]
}

/// An override of an assignment: another effect for some references or locations.
public struct PolicyOverride: Sendable, Hashable {
    /// `policyEffect` (the only kind that changes evaluation here) or `policyVersion`.
    public var kind: String
    /// The new value, such as `Audit`.
    public var value: String
    /// Which references or locations it applies to.
    public var selectors: [PolicySelector]
}

/// `Default` (enforced) or `DoNotEnforce` (evaluated and reported, never remediated).
public enum EnforcementMode: String, Sendable {
    /// Effects are enforced and remediation runs.
    case `default` = "Default"
    /// Compliance is computed; nothing is remediated unless asked.
    case doNotEnforce = "DoNotEnforce"
}

/// A policy assignment (`Microsoft.Authorization/policyAssignments`).
public struct PolicyAssignment: Sendable {
    /// The resource id.
    public var id: String
    /// The name.
    public var name: String
    /// `properties.displayName`.
    public var displayName: String?
    /// The scope: `properties.scope`, else the id before `/providers/Microsoft.Authorization/`.
    public var scope: String
    /// Scopes excluded from evaluation (not evaluated, not counted).
    public var notScopes: [String]
    /// The assigned definition or initiative id.
    public var policyDefinitionId: String
    /// Parameter values: `{"name": {"value": …}}` or a secret reference (`reference`, `fromEnv`, `fromFile`).
    public var parameters: [String: JSON]
    /// Enforcement.
    public var enforcementMode: EnforcementMode
    /// Resource selectors (empty: every resource in scope).
    public var resourceSelectors: [PolicyResourceSelector]
    /// Overrides, applied in order.
    public var overrides: [PolicyOverride]
    /// Non-compliance messages: reference id (or "" for the whole assignment) → message.
    public var nonComplianceMessages: [String: String]
    /// Where `properties` starts.
    public var source: PolicySource
}

/// `Waiver` or `Mitigated`.
public enum ExemptionCategory: String, Sendable {
    /// Non-compliance accepted for now.
    case waiver = "Waiver"
    /// The intent is met another way.
    case mitigated = "Mitigated"
}

/// A policy exemption (`Microsoft.Authorization/policyExemptions`).
public struct PolicyExemption: Sendable {
    /// The resource id.
    public var id: String
    /// The name.
    public var name: String
    /// The exempted scope: the id before `/providers/Microsoft.Authorization/policyExemptions/`.
    public var scope: String
    /// The assignment it exempts from.
    public var policyAssignmentId: String
    /// The initiative references it covers (empty: all of them).
    public var policyDefinitionReferenceIds: [String]
    /// Waiver or Mitigated.
    public var category: ExemptionCategory
    /// When it stops applying (ISO 8601 UTC), if ever.
    public var expiresOn: String?
    /// Where `properties` starts.
    public var source: PolicySource
}

/// Every policy document of a `policies/` directory, resolved across files.
public struct PolicyBundle: Sendable {
    /// Definitions by id ignoring case.
    public var definitions: [String: PolicyDefinition]
    /// Initiatives by id ignoring case.
    public var initiatives: [String: PolicySetDefinition]
    /// Assignments in file order.
    public var assignments: [PolicyAssignment]
    /// Exemptions in file order.
    public var exemptions: [PolicyExemption]
    /// A digest of every input file's bytes (pinned by plan files).
    public var digest: String

    /// Creates a bundle.
    public init(
        definitions: [String: PolicyDefinition] = [:], initiatives: [String: PolicySetDefinition] = [:],
        assignments: [PolicyAssignment] = [], exemptions: [PolicyExemption] = [], digest: String = ""
    ) {
        self.definitions = definitions
        self.initiatives = initiatives
        self.assignments = assignments
        self.exemptions = exemptions
        self.digest = digest
    }

    /// The definition with an id, ignoring case.
    public func definition(id: String) -> PolicyDefinition? { definitions[ASCII.lowercased(id)] }

    /// The initiative with an id, ignoring case.
    public func initiative(id: String) -> PolicySetDefinition? { initiatives[ASCII.lowercased(id)] }
}
