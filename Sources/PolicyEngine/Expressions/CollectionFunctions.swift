import FleetCore

/// Array, object and "either" functions: `concat`, `contains`, `empty`, `length`, `union`, `json`, ….
enum CollectionFunctions {
    /// `coalesce(…)`: the first argument that is not null, or null.
    static func coalesce(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        a.values.first { $0 != .null } ?? .null
    }

    /// `concat(…)`: arrays when the first argument is an array (all must be), otherwise text.
    ///
    /// In text mode ints and bools are converted as `string()` does (ARM's `concat('vm', 1)` is `vm1`);
    /// null, arrays and objects are errors.
    static func concat(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        if case .array = a[0] {
            var items: [JSON] = []
            for i in 0..<a.count { items += try a.array(i) }
            return .array(items)
        }
        var text = ""
        for i in 0..<a.count {
            switch a[i] {
            case .string(let s): text += s
            case .number, .bool: text += ExpressionValues.text(a[i])
            default: throw a.typeError(i, expected: "a string, an int or a bool (the first argument is not an array)")
            }
        }
        return .string(text)
    }

    /// `contains(container, item)`: substring (case-sensitive), object key (ignoring case) or array
    /// element (`equals`).
    static func contains(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .string(let s):
            switch a[1] {
            case .string, .number, .bool:
                let needle = Array(ExpressionValues.text(a[1]).utf16)
                return .bool(StringFunctions.find(needle, in: Array(s.utf16), ignoringCase: false) != nil)
            default:
                throw a.typeError(1, expected: "a string when the container is a string")
            }
        case .array(let items):
            return .bool(items.contains { ExpressionValues.equal($0, a[1]) })
        case .object(let members):
            let key = try a.string(1)
            return .bool(ExpressionValues.member(key, of: members) != nil)
        default:
            throw a.typeError(0, expected: "a string, an array or an object")
        }
    }

    /// `empty(value)`: true for null, `""`, `[]` and `{}`.
    static func empty(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .null: .bool(true)
        case .string(let s): .bool(s.isEmpty)
        case .array(let items): .bool(items.isEmpty)
        case .object(let members): .bool(members.isEmpty)
        default: throw a.typeError(0, expected: "a string, an array or an object")
        }
    }

    /// `length(value)`: UTF-16 length of a string, element count of an array, member count of an object.
    static func length(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .string(let s): .int(s.utf16.count)
        case .array(let items): .int(items.count)
        case .object(let members): .int(members.count)
        default: throw a.typeError(0, expected: "a string, an array or an object")
        }
    }

    /// `first(value)`: first element (null for `[]`) or first character (`""` for `""`).
    static func first(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .array(let items): items.first ?? .null
        case .string(let s): .string(s.first.map { String($0) } ?? "")
        default: throw a.typeError(0, expected: "a string or an array")
        }
    }

    /// `last(value)`: last element (null for `[]`) or last character (`""` for `""`).
    static func last(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        switch a[0] {
        case .array(let items): items.last ?? .null
        case .string(let s): .string(s.last.map { String($0) } ?? "")
        default: throw a.typeError(0, expected: "a string or an array")
        }
    }

    /// `take(value, n)`: the first `n` elements or UTF-16 units (all when `n` is larger, none when ≤ 0).
    static func take(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let n = Int(clamping: Swift.max(0, try a.integer(1)))
        switch a[0] {
        case .array(let items): return .array(Array(items.prefix(n)))
        case .string(let s): return .string(String(decoding: Array(s.utf16.prefix(n)), as: UTF16.self))
        default: throw a.typeError(0, expected: "a string or an array")
        }
    }

    /// `skip(value, n)`: all but the first `n` elements or UTF-16 units.
    static func skip(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let n = Int(clamping: Swift.max(0, try a.integer(1)))
        switch a[0] {
        case .array(let items): return .array(Array(items.dropFirst(n)))
        case .string(let s): return .string(String(decoding: Array(s.utf16.dropFirst(n)), as: UTF16.self))
        default: throw a.typeError(0, expected: "a string or an array")
        }
    }

    /// `union(…)`: arrays → every distinct element in first-seen order; objects → members of all,
    /// later arguments winning, with nested objects merged recursively (ARM's current behaviour).
    static func union(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        if case .array = a[0] {
            var result: [JSON] = []
            for i in 0..<a.count {
                for item in try a.array(i) where !result.contains(where: { ExpressionValues.equal($0, item) }) {
                    result.append(item)
                }
            }
            return .array(result)
        }
        guard case .object = a[0] else { throw a.typeError(0, expected: "an array or an object") }
        var result: [String: JSON] = [:]
        for i in 0..<a.count { result = merge(result, try a.object(i)) }
        return .object(result)
    }

    private static func merge(_ base: [String: JSON], _ other: [String: JSON]) -> [String: JSON] {
        var result = base
        for (key, value) in other {
            if case .object(let old)? = result[key], case .object(let new) = value {
                result[key] = .object(merge(old, new))
            } else {
                result[key] = value
            }
        }
        return result
    }

    /// `intersection(…)`: array elements (distinct) or object members (same name and value) in every argument.
    static func intersection(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        if case .array(let first) = a[0] {
            var others: [[JSON]] = []
            for i in 1..<a.count { others.append(try a.array(i)) }
            var result: [JSON] = []
            for item in first where !result.contains(where: { ExpressionValues.equal($0, item) }) {
                if others.allSatisfy({ $0.contains { ExpressionValues.equal($0, item) } }) { result.append(item) }
            }
            return .array(result)
        }
        guard case .object(let first) = a[0] else { throw a.typeError(0, expected: "an array or an object") }
        var others: [[String: JSON]] = []
        for i in 1..<a.count { others.append(try a.object(i)) }
        let kept = first.filter { key, value in
            others.allSatisfy { other in other[key].map { ExpressionValues.equal($0, value) } ?? false }
        }
        return .object(kept)
    }

    /// `createObject(key1, value1, …)`: an object from string keys and any values.
    static func createObject(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        guard a.count % 2 == 0 else {
            throw a.fail("expects an even number of arguments (key, value pairs), got \(a.count)")
        }
        var members: [String: JSON] = [:]
        for i in stride(from: 0, to: a.count, by: 2) { members[try a.string(i)] = a[i + 1] }
        return .object(members)
    }

    /// `array(value)`: an array as is, anything else wrapped in a one-element array.
    static func array(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        if case .array = a[0] { return a[0] }
        return .array([a[0]])
    }

    /// `json(text)`: parses any JSON text (`json('null')` is null, the way templates omit a property).
    static func json(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let text = try a.string(0)
        do {
            return try JSON.parse(text, source: "json() argument")
        } catch {
            throw a.fail("cannot parse its argument as JSON: \(error)")
        }
    }
}
