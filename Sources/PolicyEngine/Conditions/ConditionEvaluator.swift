import FleetCore

/// Evaluates parsed conditions against resource records with Azure Policy's semantics.
///
/// Semantics (Azure's, with the choices made where Azure is not documented marked *chosen*):
/// - Every string comparison ignores case (invariant culture) except `match`/`notMatch`; `location` values and the
///   targets compared with the `location` field are normalised (lowercase, no spaces).
/// - A missing field (absent or JSON `null`) compares as `""` for `equals`, `notEquals`, `in`, `notIn`, `like`,
///   `notLike`, `contains`, `notContains` and (*chosen*) the `match` family; `exists: false` is true for it;
///   `containsKey` is false for it; and (*chosen*) `less`/`greater`… are false for it rather than an error.
/// - `equals` coerces scalars: a bool equals `"true"`/`"false"` in any case, numbers compare by value, a number
///   equals its decimal string; arrays and objects compare member by member under the same rules.
/// - A condition on a `[*]` field holds when every member satisfies it (an empty collection satisfies it);
///   a member without the property is evaluated as missing.
/// - `count` counts the members (field count) or elements (value count) for which `where` holds (no `where`:
///   all of them) and compares that number with the operator. Inside `where`, `[*]` fields under the counted
///   array read the current member, `current()` is the innermost loop's element, `current('name')` a value
///   count's element and `current('<alias[*]>')` a field count's member.
/// - `less`, `lessOrEquals`, `greater`, `greaterOrEquals` compare numbers, strings ignoring case, or ISO-8601
///   dates (when both strings parse); any other pair is an evaluation error.
/// - Aliases of a type other than `resourceType` are missing (see ``AliasCatalog``).
///
/// **Errors** (an expression failing, a type mismatch, `in` without an array) never crash: the result has
/// ``ConditionResult/error`` set and `matched` false. Evaluation runs left to right and stops at the first
/// error unless an earlier sibling already decided the enclosing `allOf`/`anyOf`.
///
/// **Reasons** (when ``collectsReasons``) are the leaves that decided the result: a leaf gives itself; a false
/// `allOf` its false children's reasons, a true one all children's; a true `anyOf` its true children's, a false one
/// all children's; `not` its child's, with messages negated. To find every decisive leaf, an `allOf`/`anyOf` keeps
/// evaluating after its result is known (errors there are ignored); with reasons off it stops at once.
/// Conditions inside `where` give no reasons; the count leaf does.
///
/// For speed, parse conditions once, bind assignment-constant operands once with ``bindingConstants(in:context:)``,
/// and pass records straight from their ``JSONDocument``: fields are read in place and only compared scalars
/// are decoded.
public struct ConditionEvaluator: Sendable {
    /// Whether results carry ``ConditionResult/reasons`` (costs decoding the values involved).
    public var collectsReasons: Bool
    /// Whether the `field()` *function* reads the context's resource instead of the evaluated one.
    ///
    /// Set it for an existenceCondition: its field conditions read the related resource, but the
    /// `field()` function still reads the resource the policy's `if` evaluated (as Azure does).
    public var fieldFunctionReadsContext: Bool

    /// Creates an evaluator.
    public init(collectsReasons: Bool = true, fieldFunctionReadsContext: Bool = false) {
        self.collectsReasons = collectsReasons
        self.fieldFunctionReadsContext = fieldFunctionReadsContext
    }

    /// Evaluates `condition` for one resource.
    ///
    /// - Parameters:
    ///   - condition: The parsed condition.
    ///   - resource: The resource record (ARM shape: `name`, `type`, `location`, `tags`, `properties`, …).
    ///   - resourceType: The record's ARM type; aliases of other types read as missing.
    ///   - context: Parameters, variables and the clock; `field()` and `current()` are answered here, from the
    ///     resource and the count loops.
    /// - Returns: Whether it matched, why, or the evaluation error.
    public func evaluate(
        _ condition: Condition,
        resource: JSONValue,
        resourceType: String,
        context: some ExpressionContext
    ) -> ConditionResult {
        var run = ConditionRun(
            base: context, resource: resource, resourceType: resourceType,
            collect: collectsReasons)
        run.fieldFromContext = fieldFunctionReadsContext
        var reasons: [ConditionReason] = []
        do {
            let matched = try run.evaluate(condition, negated: false, reasons: &reasons)
            return ConditionResult(matched: matched, reasons: reasons)
        } catch {
            return ConditionResult(matched: false, reasons: error.reason.map { [$0] } ?? [], error: error.message)
        }
    }

    /// The condition with every operand that does not read the resource replaced by its value.
    ///
    /// Call it once per assignment (parameters are fixed by then) to avoid evaluating `[parameters('x')]` for
    /// every resource. Operands that read `field()` or `current()`, and operands whose evaluation fails, are
    /// kept as they are, so their errors still surface per resource.
    public func bindingConstants(in condition: Condition, context: some ExpressionContext) -> Condition {
        switch condition {
        case .allOf(let children, let source):
            return .allOf(children.map { bindingConstants(in: $0, context: context) }, source: source)
        case .anyOf(let children, let source):
            return .anyOf(children.map { bindingConstants(in: $0, context: context) }, source: source)
        case .not(let child, let source):
            return .not(bindingConstants(in: child, context: context), source: source)
        case .leaf(let leaf):
            let subject: ConditionSubject
            switch leaf.subject {
            case .field(let field):
                subject = .field(bind(field, context))
            case .value(let operand):
                subject = .value(bind(operand, context))
            case .fieldCount(let field, let whereCondition):
                subject = .fieldCount(
                    bind(field, context), where: whereCondition.map { bindingConstants(in: $0, context: context) })
            case .valueCount(let operand, let name, let whereCondition):
                subject = .valueCount(
                    bind(operand, context), name: name,
                    where: whereCondition.map { bindingConstants(in: $0, context: context) })
            }
            return .leaf(
                ConditionLeaf(
                    subject: subject, operator: leaf.operator, operand: bind(leaf.operand, context),
                    source: leaf.source))
        }
    }

    private func bind(_ operand: ConditionOperand, _ context: some ExpressionContext) -> ConditionOperand {
        guard operand.isResourceIndependent else { return operand }
        switch operand {
        case .literal:
            return operand
        case .expression(let expression, let text):
            guard let value = try? ExpressionEvaluator().evaluate(expression, context: context, source: text) else {
                return operand
            }
            return .literal(value)
        case .template(let json):
            guard let value = try? ExpressionEvaluator().evaluateTemplate(json, context: context) else {
                return operand
            }
            return .literal(value)
        }
    }

    private func bind(_ field: ConditionField, _ context: some ExpressionContext) -> ConditionField {
        guard case .expression(let expression, let text) = field, !ConditionOperand.readsResource(expression),
            case .string(let name)? = try? ExpressionEvaluator().evaluate(expression, context: context, source: text),
            let reference = AliasCatalog.resolve(name)
        else { return field }
        return .resolved(reference)
    }
}

/// An evaluation error, with the reason of the leaf that raised it.
struct EvaluationFailure: Error {
    var message: String
    var reason: ConditionReason?
}

/// The element a count loop is at.
struct LoopFrame: Sendable {
    /// A value count's `name`, or a field count's field as written.
    let name: String?
    /// The counted field of a field count (its segments end with `[*]`).
    let counted: FieldReference?
    /// The current member or element.
    let member: ActualValue
}

/// One evaluation of one condition against one resource.
///
/// Not generic over the context: the context is erased once per evaluation, so no generic metadata is looked up
/// per leaf.
struct ConditionRun {
    let base: any ExpressionContext
    let resource: JSONValue
    let resourceType: String
    /// The index of the resource's type in ``AliasCatalog/supportedTypes`` (nil: another type), once computed.
    private var typeIndexCache: Int??
    var collect: Bool
    /// `field()` (the function) answers from `base` (existence conditions).
    var fieldFromContext = false
    var frames: [LoopFrame] = []
    /// The record's `properties` member, once looked up.
    private var properties: JSONValue?
    private var propertiesLoaded = false

    init(base: any ExpressionContext, resource: JSONValue, resourceType: String, collect: Bool) {
        self.base = base
        self.resource = resource
        self.resourceType = resourceType
        self.collect = collect
    }

    /// The expression context seen by operands: the base context plus `field()` and `current()`.
    mutating func scope() -> ConditionScope {
        ConditionScope(
            base: base, resource: resource, typeIndex: typeIndex(), frames: frames, fieldFromContext: fieldFromContext)
    }

    /// The index of the resource's type in ``AliasCatalog/supportedTypes``; computed when an alias first needs it.
    mutating func typeIndex() -> Int? {
        if let cached = typeIndexCache { return cached }
        let index = AliasCatalog.typeIndex(of: resourceType)
        typeIndexCache = .some(index)
        return index
    }

    mutating func evaluate(
        _ condition: Condition,
        negated: Bool,
        reasons: inout [ConditionReason]
    ) throws(EvaluationFailure) -> Bool {
        switch condition {
        case .leaf(let leaf):
            return try evaluate(leaf, negated: negated, reasons: &reasons)
        case .not(let child, _):
            return try !evaluate(child, negated: !negated, reasons: &reasons)
        case .allOf(let children, _):
            return try combine(children, decisive: false, negated: negated, reasons: &reasons)
        case .anyOf(let children, _):
            return try combine(children, decisive: true, negated: negated, reasons: &reasons)
        }
    }

    /// `allOf` (`decisive` false: the first false child decides) or `anyOf` (`decisive` true).
    private mutating func combine(
        _ children: [Condition],
        decisive: Bool,
        negated: Bool,
        reasons: inout [ConditionReason]
    ) throws(EvaluationFailure) -> Bool {
        // Reasons are appended in place and trimmed, so that no temporary arrays are built.
        let start = reasons.count
        var decided = false
        for child in children {
            let mark = reasons.count
            if !decided {
                let result = try evaluate(child, negated: negated, reasons: &reasons)
                if result == decisive {
                    decided = true
                    if !collect { return decisive }
                    // Only the deciding children count from now on.
                    reasons.removeSubrange(start..<mark)
                }
            } else {
                // Already decided: evaluated only to find the other decisive leaves; errors here do not count.
                let result = try? evaluate(child, negated: negated, reasons: &reasons)
                if result != decisive { reasons.removeSubrange(mark...) }
            }
        }
        return decided ? decisive : !decisive
    }

    private mutating func evaluate(
        _ leaf: ConditionLeaf,
        negated: Bool,
        reasons: inout [ConditionReason]
    ) throws(EvaluationFailure) -> Bool {
        var path = ""
        var actual: ActualValue = .missing
        var target: ComparisonTarget? = leaf.preparedTarget
        do throws(ConditionFailure) {
            let resolvedTarget: ComparisonTarget
            if let target {
                resolvedTarget = target
            } else {
                let value = try operandValue(leaf.operand)
                resolvedTarget = ComparisonTarget(value, location: leaf.isLocationField)
                target = resolvedTarget
            }
            let result: Bool
            if let reference = leaf.resolvedField {
                // The common case, without copying the subject out of the leaf.
                path = reference.path
                result = try field(reference, leaf.operator, resolvedTarget, actual: &actual)
            } else {
                switch leaf.subject {
                case .field(let field):
                    let reference = try resolve(field)
                    path = reference.path
                    result = try self.field(reference, leaf.operator, resolvedTarget, actual: &actual)
                case .value(let operand):
                    actual = .json(try operandValue(operand))
                    result = try ConditionValues.apply(leaf.operator, actual, resolvedTarget)
                case .fieldCount(let field, let whereCondition):
                    let reference = try resolve(field)
                    path = reference.path
                    actual = .json(.int(try count(reference, whereCondition)))
                    result = try ConditionValues.apply(leaf.operator, actual, resolvedTarget)
                case .valueCount(let operand, let name, let whereCondition):
                    actual = .json(.int(try count(operand, name: name, whereCondition)))
                    result = try ConditionValues.apply(leaf.operator, actual, resolvedTarget)
                }
            }
            if collect {
                reasons.append(reason(leaf, path: path, actual: actual, target: resolvedTarget, negated, result))
            }
            return result
        } catch {
            if error.located { throw EvaluationFailure(message: error.message, reason: nil) }
            let message = "\(leaf.source): \(leaf.expressionText): \(error.message)"
            let failed = target.map { reason(leaf, path: path, actual: actual, target: $0, negated, false) }
            throw EvaluationFailure(message: message, reason: collect ? failed : nil)
        }
    }

    /// Applies `op` to a field: to its value, or to every member of a `[*]` field (an empty collection passes).
    private mutating func field(
        _ reference: FieldReference,
        _ op: ConditionOperator,
        _ target: ComparisonTarget,
        actual: inout ActualValue
    ) throws(ConditionFailure) -> Bool {
        let read = self.read(reference)
        if collect { actual = ActualValue(read) }
        guard case .collection(let members) = read else {
            return try ConditionValues.apply(op, ActualValue(read), target)
        }
        for member in members {
            if try !ConditionValues.apply(op, member.map(ActualValue.tape) ?? .missing, target) { return false }
        }
        return true
    }

    /// Reads a field of the resource (relative to the current count member when inside `where`).
    ///
    /// Outside count loops, the record's `properties` object is looked up once per evaluation and reused.
    private mutating func read(_ reference: FieldReference) -> FieldReference.Read {
        let typeIndex = reference.typeIndex == nil ? nil : self.typeIndex()
        guard frames.isEmpty, reference.readsProperties, reference.applies(toTypeIndex: typeIndex) else {
            return Self.read(reference, in: resource, typeIndex: typeIndex, frames: frames)
        }
        if !propertiesLoaded {
            properties = resource.member(ignoringCase: "properties")
            propertiesLoaded = true
        }
        guard let properties, !properties.isNull else {
            return reference.isCollection ? .collection([]) : .missing
        }
        return FieldReference.walk(properties, reference.segments.dropFirst())
    }

    private func reason(
        _ leaf: ConditionLeaf,
        path: String,
        actual: ActualValue,
        target: ComparisonTarget,
        _ negated: Bool,
        _ result: Bool
    ) -> ConditionReason {
        let op = leaf.operator
        let message =
            op == .exists
            ? op.reasonMessage(target: (target.bool ?? true) != negated)
            : (negated ? op.complement : op).reasonMessage()
        return ConditionReason(
            expression: leaf.expressionText, path: path, actual: actual.json, target: target.json,
            operator: op.rawValue, message: message, result: result, source: leaf.source, sourceText: leaf.sourceText)
    }

    // MARK: - Operands and fields

    private mutating func operandValue(_ operand: ConditionOperand) throws(ConditionFailure) -> JSON {
        do {
            switch operand {
            case .literal(let json):
                return json
            case .expression(let expression, let text):
                return try ExpressionEvaluator().evaluate(expression, context: scope(), source: text)
            case .template(let json):
                return try ExpressionEvaluator().evaluateTemplate(json, context: scope()) ?? .null
            }
        } catch {
            throw ConditionFailure(message: error.description)
        }
    }

    private mutating func resolve(_ field: ConditionField) throws(ConditionFailure) -> FieldReference {
        switch field {
        case .resolved(let reference):
            return reference
        case .expression(let expression, let text):
            let value: JSON
            do {
                value = try ExpressionEvaluator().evaluate(expression, context: scope(), source: text)
            } catch {
                throw ConditionFailure(message: error.description)
            }
            guard case .string(let name) = value else {
                throw ConditionFailure(
                    message: "the field expression must give a string, got \(ExpressionValues.typeName(value))")
            }
            guard let reference = AliasCatalog.resolve(name) else {
                let suggestion = AliasCatalog.isKnown(name).suggestion.map { "; did you mean '\($0)'?" } ?? ""
                throw ConditionFailure(message: "unknown field '\(name)'" + suggestion)
            }
            return reference
        }
    }

    /// Reads a field, relative to the innermost field-count member whose counted array contains it.
    static func read(
        _ reference: FieldReference,
        in resource: JSONValue,
        typeIndex: Int?,
        frames: [LoopFrame]
    ) -> FieldReference.Read {
        guard let frame = countFrame(containing: reference, in: frames), let counted = frame.counted else {
            return reference.read(in: resource, typeIndex: typeIndex)
        }
        let rest = reference.segments[counted.segments.count...]
        guard case .tape(let member) = frame.member else {
            return rest.contains(.everyElement) ? .collection([]) : .missing
        }
        return FieldReference.walk(member, rest)
    }

    /// The innermost field-count frame whose counted array is a prefix of `reference`, or nil.
    static func countFrame(containing reference: FieldReference, in frames: [LoopFrame]) -> LoopFrame? {
        frames.last { frame in
            guard let counted = frame.counted else { return false }
            return counted.transform == reference.transform
                && counted.typeIndex == reference.typeIndex
                && isPrefix(counted.segments, of: reference.segments)
        }
    }

    private static func isPrefix(_ prefix: [FieldPathSegment], of segments: [FieldPathSegment]) -> Bool {
        guard prefix.count <= segments.count else { return false }
        for (a, b) in zip(prefix, segments) {
            switch (a, b) {
            case (.everyElement, .everyElement): continue
            case (.member(let x), .member(let y)) where ASCII.equalsIgnoringCase(x, y): continue
            default: return false
            }
        }
        return true
    }

    // MARK: - Counts

    private mutating func count(_ reference: FieldReference, _ whereCondition: Condition?) throws(ConditionFailure)
        -> Int
    {
        guard reference.segments.last == .everyElement else {
            throw ConditionFailure(message: "'count.field' must be an array alias ending in '[*]'")
        }
        guard case .collection(let members) = read(reference) else { return 0 }
        guard let whereCondition else { return members.count }
        var n = 0
        for member in members {
            let frame = LoopFrame(
                name: reference.field, counted: reference, member: member.map(ActualValue.tape) ?? .missing)
            if try loop(frame, whereCondition) { n += 1 }
        }
        return n
    }

    private mutating func count(
        _ operand: ConditionOperand,
        name: String?,
        _ whereCondition: Condition?
    ) throws(ConditionFailure) -> Int {
        let value = try operandValue(operand)
        guard case .array(let items) = value else {
            throw ConditionFailure(message: "'count.value' must be an array, got \(ExpressionValues.typeName(value))")
        }
        guard let whereCondition else { return items.count }
        var n = 0
        for item in items where try loop(LoopFrame(name: name, counted: nil, member: .json(item)), whereCondition) {
            n += 1
        }
        return n
    }

    /// Evaluates `where` for one loop element, without reasons.
    private mutating func loop(_ frame: LoopFrame, _ whereCondition: Condition) throws(ConditionFailure) -> Bool {
        frames.append(frame)
        let saved = collect
        collect = false
        defer {
            frames.removeLast()
            collect = saved
        }
        var sink: [ConditionReason] = []
        do {
            return try evaluate(whereCondition, negated: false, reasons: &sink)
        } catch {
            throw ConditionFailure(message: error.message, located: true)
        }
    }
}

/// The expression context of a condition: the caller's, plus `field()` and `current()` for the resource.
struct ConditionScope: ExpressionContext {
    let base: any ExpressionContext
    let resource: JSONValue
    let typeIndex: Int?
    let frames: [LoopFrame]
    var fieldFromContext = false

    func parameter(_ name: String) -> JSON? { base.parameter(name) }
    func variable(_ name: String) -> JSON? { base.variable(name) }
    func resourceGroup() -> JSON? { base.resourceGroup() }
    func subscription() -> JSON? { base.subscription() }
    func utcNow() -> String { base.utcNow() }

    func field(_ path: String) throws -> JSON? {
        if fieldFromContext { return try base.field(path) }
        guard let reference = AliasCatalog.resolve(path) else {
            throw ConditionFailure(message: "unknown field '\(path)'")
        }
        let read = ConditionRun.read(reference, in: resource, typeIndex: typeIndex, frames: frames)
        return ActualValue(read).json
    }

    func current(_ name: String?) -> JSON? {
        guard let name else {
            guard let frame = frames.last else { return base.current(nil) }
            return frame.member.json ?? .null
        }
        for frame in frames.reversed() {
            if let frameName = frame.name, ASCII.equalsIgnoringCase(frameName, name) {
                return frame.member.json ?? .null
            }
        }
        // `current('alias[*].property')` inside a field count reads the property of the current member.
        if let reference = AliasCatalog.resolve(name),
            ConditionRun.countFrame(containing: reference, in: frames) != nil
        {
            let read = ConditionRun.read(reference, in: resource, typeIndex: typeIndex, frames: frames)
            return ActualValue(read).json ?? .null
        }
        return base.current(name)
    }
}
