import FleetCore

/// The value rules the template functions share: type names, ARM's string conversion, equality.
enum ExpressionValues {
    /// The type of `value` with an article, for messages ("a string", "an int", "null").
    static func typeName(_ value: JSON) -> String {
        switch value {
        case .null: "null"
        case .bool: "a bool"
        case .number(let n): integer(n) != nil ? "an int" : "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The number as an exact `Int64` (an integral double counts), or nil.
    static func integer(_ number: JSONNumber) -> Int64? {
        switch number {
        case .int(let v): v
        case .uint: nil
        case .double(let d): d.isFinite && d.rounded() == d && abs(d) < 9.2e18 ? Int64(d) : nil
        }
    }

    /// ARM's conversion to text (`string()`, `concat()`, `format()`): strings as they are, numbers in
    /// decimal, booleans as .NET prints them (`True`/`False`), null as `""`, arrays and objects as
    /// compact JSON with sorted keys.
    static func text(_ value: JSON) -> String {
        switch value {
        case .null: ""
        case .bool(let b): b ? "True" : "False"
        case .number(let n): n.description
        case .string(let s): s
        case .array, .object: json(value)
        }
    }

    /// Compact JSON text, object keys sorted.
    static func json(_ value: JSON) -> String {
        var writer = JSONWriter()
        writer.value(value)
        return writer.text
    }

    /// Deep equality as ARM's `equals` sees it: strings compare case-sensitively (ordinal), numbers by
    /// value (`1` equals `1.0`), arrays element by element, objects by member names and values.
    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
        case (.number(let x), .number(let y)): return numbersEqual(x, y)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        case (.object(let x), .object(let y)):
            guard x.count == y.count else { return false }
            for (key, value) in x {
                guard let other = y[key], equal(value, other) else { return false }
            }
            return true
        default: return false
        }
    }

    /// Numeric equality across the int, uint and double representations.
    static func numbersEqual(_ x: JSONNumber, _ y: JSONNumber) -> Bool {
        switch (x, y) {
        case (.int(let a), .int(let b)): a == b
        case (.uint(let a), .uint(let b)): a == b
        case (.int, .uint), (.uint, .int): false
        default: x.doubleValue == y.doubleValue
        }
    }

    /// The member of `object` named `key`: the exact name first, then ignoring case.
    ///
    /// ARM objects are case-insensitive. Keys differing only in case resolve to the first in sorted order.
    static func member(_ key: String, of object: [String: JSON]) -> JSON? {
        if let exact = object[key] { return exact }
        let match = object.keys.sorted().first { ASCII.equalsIgnoringCase($0, key) }
        return match.flatMap { object[$0] }
    }

    /// `s` without leading and trailing Unicode white space.
    static func trim(_ s: String) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// `s` lowercased scalar by scalar with simple (one-to-one) mappings, like .NET's `ToLowerInvariant`.
    static func lowercased(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let mapped = scalar.properties.lowercaseMapping.unicodeScalars
            out.append(mapped.count == 1 ? mapped.first! : scalar)
        }
        return String(out)
    }

    /// `s` uppercased scalar by scalar with simple mappings (`ß` stays `ß`), like `ToUpperInvariant`.
    static func uppercased(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let mapped = scalar.properties.uppercaseMapping.unicodeScalars
            out.append(mapped.count == 1 ? mapped.first! : scalar)
        }
        return String(out)
    }
}
