/// A probability in parts per million (`2%` is 20,000).
public struct FaultRate: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// Parts per million, 0…1,000,000.
    public var partsPerMillion: Int

    /// Creates a rate from parts per million (clamped to 0…1,000,000).
    public init(partsPerMillion: Int) {
        self.partsPerMillion = min(max(partsPerMillion, 0), 1_000_000)
    }

    /// Creates a rate from a percentage with up to four decimals (`percent: 0.5` is 0.5%).
    public init(percent: Double) {
        self.init(partsPerMillion: Int((percent * 10_000).rounded()))
    }

    /// Never.
    public static let never = FaultRate(partsPerMillion: 0)

    /// As written in a spec: `2%`, `0.5%`.
    public var description: String {
        let whole = partsPerMillion / 10_000
        var fraction = String(partsPerMillion % 10_000)
        if fraction == "0" { return "\(whole)%" }
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)%"
    }

    /// Orders by probability.
    public static func < (lhs: FaultRate, rhs: FaultRate) -> Bool { lhs.partsPerMillion < rhs.partsPerMillion }
}

/// A window of virtual time in which every ARM request is answered 429.
public struct ThrottleStorm: Sendable, Hashable {
    /// When it starts, in milliseconds after the emulator's start time.
    public var start: Int64
    /// How long it lasts, in milliseconds.
    public var duration: Int64

    /// Creates a storm.
    public init(start: Int64, duration: Int64) {
        self.start = start
        self.duration = duration
    }
}

/// The faults to inject, decided deterministically from the seed and the request or operation sequence number.
///
/// Written as a compact spec (see ``init(parsing:)``), such as `5xx=2%,429storm=60s@300s,drop=1%,slow=10%x5,stuck=0.5%`.
public struct FaultPlan: Sendable, Hashable, CustomStringConvertible {
    /// The share of ARM and Resource Graph requests answered 500 `InternalServerError` or 503
    /// `ServiceUnavailable` (with `Retry-After`), half each, before the request takes effect.
    public var serverErrors: FaultRate = .never
    /// The share of ARM and Resource Graph requests whose connection drops: half of them after the request
    /// took effect (the answer is lost), half before.
    public var droppedConnections: FaultRate = .never
    /// The share of ARM and Resource Graph requests answered 429 `SubscriptionRequestsThrottled` with a
    /// `Retry-After` of 1–3 s, before the request takes effect (sporadic throttling, as ARM's other instances give).
    public var throttled: FaultRate = .never
    /// Windows in which every ARM and Resource Graph request is answered 429 with `Retry-After` until the
    /// window ends.
    public var storms: [ThrottleStorm] = []
    /// The share of long-running operations that take ``slowFactor`` times their usual delay.
    public var slowOperations: FaultRate = .never
    /// How much longer a slow operation takes (at least 1).
    public var slowFactor: Int = 1
    /// The share of long-running operations that never finish (stay `InProgress`).
    public var stuckOperations: FaultRate = .never
    /// The share of long-running operations that end `Failed`.
    public var failedOperations: FaultRate = .never
    /// A seed given in the spec (`seed=N`); it replaces ``EmulatorConfiguration/seed`` when set.
    public var seed: UInt64?

    /// No faults.
    public init() {}

    /// Whether nothing is injected.
    public var isEmpty: Bool { self == FaultPlan() }

    /// The grammar of a fault spec, for help texts and error messages.
    public static let grammar = """
        SPEC := ITEM[,ITEM…]   (empty = no faults; blanks around items are ignored)
        ITEM := 5xx=P          answer P of ARM requests 500 or 503 (503 with Retry-After)
              | 429=P          answer P of requests 429 with Retry-After 1–3 s (sporadic throttling)
              | drop=P         drop the connection of P of requests (half after the request took effect)
              | 429storm=D@T   answer every ARM request 429 for D from T after start (repeatable)
              | slow=PxF       make P of long-running operations F times slower (F ≥ 1)
              | stuck=P        P of long-running operations never finish
              | fail=P         P of long-running operations end Failed
              | seed=N         the seed of every fault decision (an unsigned integer)
        P    := a percentage 0…100 with up to 4 decimals, such as 2% or 0.5%
        D, T := a duration: a number with ms, s, m or h, such as 60s, 5m, 1500ms
        """

    /// Parses a fault spec, such as `5xx=2%,429storm=60s@300s,drop=1%,slow=10%x5,stuck=0.5%`.
    ///
    /// - Throws: ``FaultSpecError`` naming the item, what was expected and an example.
    public init(parsing spec: String) throws(FaultSpecError) {
        self.init()
        var seen: Set<String> = []
        for rawItem in spec.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingBlanks()
            if item.isEmpty {
                if spec.trimmingBlanks().isEmpty { continue }
                throw FaultSpecError(spec: spec, item: String(rawItem), message: "empty item (two commas in a row?)")
            }
            guard let equals = item.firstIndex(of: "=") else {
                throw FaultSpecError(
                    spec: spec, item: String(item), message: "expected NAME=VALUE, such as 5xx=2% or stuck=0.5%")
            }
            let name = item[..<equals].lowercased()
            let value = item[item.index(after: equals)...].trimmingBlanks()
            let fail = { (message: String) in FaultSpecError(spec: spec, item: String(item), message: message) }
            if name != "429storm" {
                guard seen.insert(name).inserted else { throw fail("'\(name)' is given twice") }
            }
            switch name {
            case "5xx": serverErrors = try Self.rate(value, fail)
            case "429": throttled = try Self.rate(value, fail)
            case "drop": droppedConnections = try Self.rate(value, fail)
            case "stuck": stuckOperations = try Self.rate(value, fail)
            case "fail": failedOperations = try Self.rate(value, fail)
            case "slow":
                guard let x = value.lastIndex(where: { $0 == "x" || $0 == "X" }) else {
                    throw fail("expected a percentage, 'x' and a factor, such as slow=10%x5")
                }
                slowOperations = try Self.rate(value[..<x], fail)
                guard let factor = Int(value[value.index(after: x)...]), factor >= 1 else {
                    throw fail(
                        "the factor after 'x' must be a whole number of at least 1, found '\(value[value.index(after: x)...])'"
                    )
                }
                slowFactor = factor
            case "429storm":
                guard let at = value.firstIndex(of: "@") else {
                    throw fail("expected DURATION@START, such as 429storm=60s@300s")
                }
                let duration = try Self.duration(value[..<at], fail)
                let start = try Self.duration(value[value.index(after: at)...], fail)
                guard duration > 0 else { throw fail("a storm must last longer than 0") }
                storms.append(ThrottleStorm(start: start, duration: duration))
            case "seed":
                guard let seed = UInt64(value) else {
                    throw fail("the seed must be an unsigned integer, found '\(value)'")
                }
                self.seed = seed
            default:
                throw fail("unknown fault '\(name)'; known: 5xx, 429, drop, 429storm, slow, stuck, fail, seed")
            }
        }
    }

    /// The plan written as a spec that parses back to it.
    public var description: String {
        var items: [String] = []
        if serverErrors != .never { items.append("5xx=\(serverErrors)") }
        if throttled != .never { items.append("429=\(throttled)") }
        if droppedConnections != .never { items.append("drop=\(droppedConnections)") }
        for storm in storms {
            items.append("429storm=\(Self.render(storm.duration))@\(Self.render(storm.start))")
        }
        if slowOperations != .never { items.append("slow=\(slowOperations)x\(slowFactor)") }
        if stuckOperations != .never { items.append("stuck=\(stuckOperations)") }
        if failedOperations != .never { items.append("fail=\(failedOperations)") }
        if let seed { items.append("seed=\(seed)") }
        return items.joined(separator: ",")
    }

    private static func render(_ milliseconds: Int64) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }

    private static func rate(_ text: Substring, _ fail: (String) -> FaultSpecError) throws(FaultSpecError) -> FaultRate
    {
        let text = text.trimmingBlanks()
        guard text.hasSuffix("%") else {
            throw fail("expected a percentage ending in '%', such as 2% or 0.5%, found '\(text)'")
        }
        let number = text.dropLast()
        guard let ppm = decimal(number, scale: 10_000) else {
            throw fail("'\(number)' is not a number with at most 4 decimals")
        }
        guard ppm <= 1_000_000 else { throw fail("a percentage cannot exceed 100%, found '\(text)'") }
        return FaultRate(partsPerMillion: Int(ppm))
    }

    private static func duration(_ text: Substring, _ fail: (String) -> FaultSpecError) throws(FaultSpecError)
        -> Int64
    {
        let text = text.trimmingBlanks()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            let number = text.dropLast(unit.count)
            guard let value = decimal(number, scale: 1000), (value * scale) % 1000 == 0 else { break }
            return value * scale / 1000
        }
        throw fail("'\(text)' is not a duration: use a number with ms, s, m or h, such as 60s or 5m")
    }

    /// A non-negative decimal times `scale` (a power of ten), or nil when malformed or too precise.
    private static func decimal(_ text: Substring, scale: Int64) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.allSatisfy(\.isASCIIDigit),
            wholeText.count <= 9, let whole = Int64(wholeText)
        else { return nil }
        var result = whole * scale
        if parts.count == 2 {
            let fraction = parts[1]
            let places = String(scale).count - 1
            guard !fraction.isEmpty, fraction.count <= places, fraction.allSatisfy(\.isASCIIDigit) else { return nil }
            let padded = fraction + String(repeating: "0", count: places - fraction.count)
            result += Int64(padded) ?? 0
        }
        return result
    }
}

/// A fault spec that cannot be parsed.
public struct FaultSpecError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The whole spec.
    public var spec: String
    /// The item at fault.
    public var item: String
    /// What is wrong and what was expected.
    public var message: String

    /// `invalid fault spec item 'slow=10%': …`, followed by the grammar.
    public var description: String {
        "invalid --faults item '\(item)' in '\(spec)': \(message)\n\(FaultPlan.grammar)"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension StringProtocol {
    fileprivate func trimmingBlanks() -> Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
