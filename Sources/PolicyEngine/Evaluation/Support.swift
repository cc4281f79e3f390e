import FleetCore

extension JSON {
    /// The member `key` of an object compared ignoring ASCII case (Azure's JSON is case-insensitive).
    func member(ignoringCase key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        if let exact = members[key] { return exact }
        return members.first { ASCII.equalsIgnoringCase($0.key, key) }?.value
    }
}

/// ISO 8601 timestamps compared in time (fractions and offsets allowed).
enum ISOTime {
    /// -1, 0 or 1 as `a` is before, at or after `b`; nil when either is not a timestamp.
    static func compare(_ a: String, _ b: String) -> Int? {
        guard let x = ExpressionDateTime(parsing: a), let y = ExpressionDateTime(parsing: b) else { return nil }
        return x.ticks < y.ticks ? -1 : (x.ticks > y.ticks ? 1 : 0)
    }
}
