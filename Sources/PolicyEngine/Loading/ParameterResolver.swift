import FleetCore

/// A parameter of an assignment that cannot be given a value, with the fix.
public struct ParameterError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The parameter (of the definition, or of the initiative for initiative-level problems).
    public var parameter: String
    /// The assignment being resolved.
    public var assignmentId: String
    /// The initiative reference, when the definition is assigned through an initiative.
    public var referenceId: String?
    /// What is wrong.
    public var message: String
    /// How to fix it.
    public var fix: String

    /// Creates an error.
    public init(parameter: String, assignmentId: String, referenceId: String? = nil, message: String, fix: String) {
        self.parameter = parameter
        self.assignmentId = assignmentId
        self.referenceId = referenceId
        self.message = message
        self.fix = fix
    }

    /// `assignment '<id>' (reference '<ref>'): parameter '<name>': message — fix`.
    public var description: String {
        let reference = referenceId.map { " (reference '\($0)')" } ?? ""
        return "assignment '\(assignmentId)'\(reference): parameter '\(parameter)': \(message) — \(fix)"
    }
}

/// Computes the effective parameter values of a definition under an assignment.
///
/// Where a value comes from:
/// - **Direct assignment** (`initiative` and `reference` nil): the assignment's `{"value": …}`,
///   else the definition's `defaultValue`.
/// - **Through an initiative**: the reference's `{"value": …}`, evaluated as a template value
///   (expressions over the initiative's parameters, e.g.
///   `[if(equals(parameters('effect'), 'Disabled'), 'Disabled', 'DeployIfNotExists')]`) with a
///   ``StaticExpressionContext`` whose parameters are the initiative's effective values (the
///   assignment's values, else the initiative's defaults); else the definition's `defaultValue`.
///
/// Names are matched ignoring case (exact spelling first). Assignment values are literal: they
/// are not evaluated. Secret references are kept as markers unless `secrets` is given; see
/// ``ParameterSecretReference``.
public enum ParameterResolver {
    /// The effective value of every parameter the definition declares, keyed by the declared name.
    ///
    /// - Parameters:
    ///   - definition: The definition being evaluated.
    ///   - assignment: The assignment (of the definition, or of `initiative`).
    ///   - reference: The initiative's reference to `definition`; nil for a direct assignment.
    ///   - initiative: The assigned initiative; nil for a direct assignment.
    ///   - secrets: Resolves a secret reference entry (`{"fromEnv": …}`, …) to its value; only the
    ///     apply stage passes it. Without it a secret is kept as `{"$secretReference": <entry>}`.
    /// - Throws: ``ParameterError`` for a required parameter without a value (naming the parameter,
    ///   the assignment and the fix), a malformed entry, a failing expression or a failing secret.
    public static func values(
        for definition: PolicyDefinition,
        assignment: PolicyAssignment,
        reference: PolicyDefinitionReference?,
        initiative: PolicySetDefinition?,
        secrets: ((JSON) throws -> JSON)? = nil
    ) throws(ParameterError) -> [String: JSON] {
        let run = Run(assignment: assignment, referenceId: reference?.referenceId, secrets: secrets)
        guard let initiative else {
            guard reference == nil else {
                throw run.error(
                    "", "a reference was given without its initiative", fix: "pass the initiative that holds it")
            }
            try run.expectTarget(definition.id)
            return try run.values(
                declared: definition.parameters, given: assignment.parameters,
                fix: { "add \"\($0)\": {\"value\": …} to the parameters of assignment '\(assignment.name)'" })
        }
        guard let reference else {
            throw run.error(
                "", "the definition is assigned through initiative '\(initiative.name)' but no reference was given",
                fix: "pass the initiative's reference to '\(definition.name)'")
        }
        try run.expectTarget(initiative.id)
        guard ASCII.equalsIgnoringCase(reference.policyDefinitionId, definition.id) else {
            throw run.error(
                "",
                "reference '\(reference.referenceId)' points at '\(reference.policyDefinitionId)', "
                    + "not at '\(definition.id)'",
                fix: "pass the definition the reference names")
        }
        let initiativeValues = try run.values(
            declared: initiative.parameters, given: assignment.parameters,
            fix: { "add \"\($0)\": {\"value\": …} to the parameters of assignment '\(assignment.name)'" })
        let context = StaticExpressionContext(parameters: initiativeValues)
        var values: [String: JSON] = [:]
        for parameter in definition.parameters.all {
            guard let entry = PolicyParameterEntry.lookup(parameter.name, in: reference.parameters) else {
                guard let value = parameter.defaultValue else {
                    throw run.error(
                        parameter.name,
                        "is required by definition '\(definition.name)' but initiative '\(initiative.name)' "
                            + "passes no value",
                        fix: "add \"\(parameter.name)\": {\"value\": …} to reference '\(reference.referenceId)' "
                            + "in initiative '\(initiative.name)'")
                }
                values[parameter.name] = value
                continue
            }
            switch PolicyParameterEntry(entry) {
            case .value(let template):
                do throws(ExpressionError) {
                    values[parameter.name] =
                        try ExpressionEvaluator().evaluateTemplate(template, context: context) ?? .null
                } catch {
                    throw run.error(
                        parameter.name,
                        "the value passed by initiative '\(initiative.name)' cannot be evaluated: "
                            + "\(error)",
                        fix: "fix the expression in reference '\(reference.referenceId)' (a secret can only be "
                            + "passed on as [parameters('name')])")
                }
            case .secret(let secret):
                values[parameter.name] = try run.secret(secret, parameter: parameter.name)
            case .invalid:
                throw run.error(
                    parameter.name, "the entry in reference '\(reference.referenceId)' has no 'value'",
                    fix: "write {\"value\": …}")
            }
        }
        return values
    }

    /// The assignment-specific parts of one resolution.
    private struct Run {
        let assignment: PolicyAssignment
        let referenceId: String?
        let secrets: ((JSON) throws -> JSON)?

        func error(_ parameter: String, _ message: String, fix: String) -> ParameterError {
            ParameterError(
                parameter: parameter, assignmentId: assignment.id, referenceId: referenceId, message: message,
                fix: fix)
        }

        func expectTarget(_ id: String) throws(ParameterError) {
            guard ASCII.equalsIgnoringCase(assignment.policyDefinitionId, id) else {
                throw error(
                    "", "the assignment assigns '\(assignment.policyDefinitionId)', not '\(id)'",
                    fix: "resolve parameters for the definition or initiative the assignment names")
            }
        }

        /// Every declared parameter: the assignment's entry, else the default.
        func values(
            declared: PolicyParameters, given: [String: JSON], fix: (String) -> String
        ) throws(ParameterError) -> [String: JSON] {
            var values: [String: JSON] = [:]
            for parameter in declared.all {
                guard let entry = PolicyParameterEntry.lookup(parameter.name, in: given) else {
                    guard let value = parameter.defaultValue else {
                        throw error(
                            parameter.name, "is required (it has no defaultValue) but the assignment gives no value",
                            fix: fix(parameter.name))
                    }
                    values[parameter.name] = value
                    continue
                }
                switch PolicyParameterEntry(entry) {
                case .value(let value):
                    values[parameter.name] = value
                case .secret(let secret):
                    values[parameter.name] = try self.secret(secret, parameter: parameter.name)
                case .invalid:
                    throw error(
                        parameter.name, "the assignment's entry has no 'value'",
                        fix: "write {\"value\": …} or a secret reference")
                }
            }
            return values
        }

        /// The marker for a secret reference, or its value when a resolver was given.
        func secret(_ entry: JSON, parameter: String) throws(ParameterError) -> JSON {
            guard let secrets else { return ParameterSecretReference.marker(for: entry) }
            do {
                return try secrets(entry)
            } catch {
                throw self.error(
                    parameter, "its secret cannot be read: \(error)",
                    fix: "check the secret reference \(PolicyIds.render(entry))")
            }
        }
    }
}
