import FleetCore

/// An instant in UTC with 100-ns resolution (.NET ticks), plus how its source text was written.
struct ExpressionDateTime: Equatable {
    /// 100-ns ticks since 0001-01-01T00:00:00Z.
    var ticks: Int64
    /// How the value was written, so results can keep that shape.
    var style: Style

    /// The shape of an ISO-8601 text.
    enum Style: Equatable {
        /// `2024-05-01`.
        case date
        /// `2024-05-01T10:00:00Z` (seconds, no fraction).
        case seconds
        /// `2024-05-01T10:00:00.1234567Z`.
        case fraction
    }

    static let ticksPerSecond: Int64 = 10_000_000
    static let ticksPerDay: Int64 = 86_400 * ticksPerSecond
    static let maximumTicks: Int64 = days(year: 10_000, month: 1, day: 1) * ticksPerDay - 1

    /// Days from 0001-01-01 to the given proleptic Gregorian date.
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        CivilDate.daysSinceEpoch(year: year, month: month, day: day) + CivilDate.daysFromYearOneToEpoch
    }

    /// The date of a day count from 0001-01-01.
    static func civil(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        CivilDate.date(daysSinceEpoch: days - CivilDate.daysFromYearOneToEpoch)
    }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// The calendar fields of this instant (UTC).
    var fields: (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, fraction: Int64) {
        let (days, rest) = ticks.quotientAndRemainder(dividingBy: Self.ticksPerDay)
        let (y, m, d) = Self.civil(days)
        let seconds = rest / Self.ticksPerSecond
        return (y, m, d, seconds / 3600, seconds / 60 % 60, seconds % 60, rest % Self.ticksPerSecond)
    }

    /// Parses ISO-8601 date or date-time text: `2024-05-01`, `2024-05-01T10:00[:00[.1234567]]`
    /// with `T` or a space, then `Z`, `±hh:mm`, `±hhmm`, `±hh` or nothing (UTC); also the basic
    /// `20240501T100000Z` form that ARM's `utcNow()` returns by default.
    init?(parsing text: String) {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(4) else { return nil }
        let basic = !scanner.take(UInt8(ascii: "-"))
        guard let month = scanner.number(2), basic || scanner.take(UInt8(ascii: "-")), let day = scanner.number(2),
            (1...12).contains(month), day >= 1, day <= Self.daysInMonth(year: year, month: month), year >= 1
        else { return nil }
        var ticks = Self.days(year: year, month: month, day: day) * Self.ticksPerDay
        var style = Style.date
        if scanner.take(UInt8(ascii: "T")) || scanner.take(UInt8(ascii: "t")) || scanner.take(UInt8(ascii: " ")) {
            guard let hour = scanner.number(2), basic || scanner.take(UInt8(ascii: ":")),
                let minute = scanner.number(2),
                hour < 24, minute < 60
            else { return nil }
            var second: Int64 = 0
            if basic || scanner.take(UInt8(ascii: ":")) {
                guard let s = scanner.number(2), s < 60 else { return nil }
                second = s
            }
            style = .seconds
            ticks += ((hour * 60 + minute) * 60 + second) * Self.ticksPerSecond
            if scanner.take(UInt8(ascii: ".")) || scanner.take(UInt8(ascii: ",")) {
                var scale = Self.ticksPerSecond / 10
                var digits = 0
                while let d = scanner.digit() {
                    ticks += d * scale
                    scale /= 10
                    digits += 1
                }
                guard digits > 0 else { return nil }
                style = .fraction
            }
            if scanner.take(UInt8(ascii: "Z")) || scanner.take(UInt8(ascii: "z")) {
                // UTC.
            } else if let sign = scanner.sign() {
                guard let hours = scanner.number(2), hours <= 14 else { return nil }
                _ = scanner.take(UInt8(ascii: ":"))
                let minutes = scanner.number(2) ?? 0
                ticks -= sign * (hours * 60 + minutes) * 60 * Self.ticksPerSecond
            }
        }
        guard scanner.atEnd, ticks >= 0, ticks <= Self.maximumTicks else { return nil }
        self.ticks = ticks
        self.style = style
    }

    init(ticks: Int64, style: Style) {
        self.ticks = ticks
        self.style = style
    }

    /// The text in the same shape the input had: `yyyy-MM-dd`, `yyyy-MM-ddTHH:mm:ssZ` or with 7 fraction digits.
    var isoText: String {
        switch style {
        case .date: format(custom: Array("yyyy-MM-dd"))
        case .seconds: format(custom: Array("yyyy-MM-ddTHH:mm:ssZ"))
        case .fraction: format(custom: Array("yyyy-MM-ddTHH:mm:ss.fffffffZ"))
        }
    }

    /// Formats with a .NET date format string; nil for an unsupported standard format.
    ///
    /// Standard formats (invariant culture): `o`, `s`, `u`, `d`, `D`, `t`, `T`, `g`, `G`, `f`, `F`,
    /// `M`, `Y`, `R`. Custom formats: `yyyy`, `MM`, `dd`, `HH`, `hh`, `mm`, `ss`, `f…`, `F…`, `tt`,
    /// `K`, `z…`, `MMM`, `dddd`, quoted literals and `\x` escapes.
    func format(_ pattern: String) -> String? {
        if pattern.count == 1 {
            let standard: String? =
                switch pattern {
                case "o", "O": "yyyy-MM-ddTHH:mm:ss.fffffffK"
                case "s": "yyyy-MM-ddTHH:mm:ss"
                case "u": "yyyy-MM-dd HH:mm:ssZ"
                case "d": "MM/dd/yyyy"
                case "D": "dddd, dd MMMM yyyy"
                case "t": "HH:mm"
                case "T": "HH:mm:ss"
                case "g": "MM/dd/yyyy HH:mm"
                case "G": "MM/dd/yyyy HH:mm:ss"
                case "f": "dddd, dd MMMM yyyy HH:mm"
                case "F": "dddd, dd MMMM yyyy HH:mm:ss"
                case "m", "M": "MMMM dd"
                case "y", "Y": "yyyy MMMM"
                case "r", "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'"
                default: nil
                }
            guard let standard else { return nil }
            return format(custom: Array(standard))
        }
        return format(custom: Array(pattern.hasPrefix("%") ? String(pattern.dropFirst()) : pattern))
    }

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]
    private static let dayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    private func format(custom p: [Character]) -> String {
        let f = fields
        var out = ""
        var i = 0
        func padded(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: Swift.max(0, width - s.count)) + s
        }
        while i < p.count {
            let c = p[i]
            var run = 1
            while i + run < p.count && p[i + run] == c { run += 1 }
            switch c {
            case "y":
                out += run == 2 ? padded(f.year % 100, 2) : run == 1 ? String(f.year % 100) : padded(f.year, run)
            case "M":
                let name = Self.monthNames[Int(f.month - 1)]
                out += run >= 4 ? name : run == 3 ? String(name.prefix(3)) : padded(f.month, run)
            case "d":
                let name = Self.dayNames[Int((ticks / Self.ticksPerDay) % 7)]
                out += run >= 4 ? name : run == 3 ? String(name.prefix(3)) : padded(f.day, run)
            case "H": out += padded(f.hour, Swift.min(run, 2))
            case "h": out += padded(f.hour % 12 == 0 ? 12 : f.hour % 12, Swift.min(run, 2))
            case "m": out += padded(f.minute, Swift.min(run, 2))
            case "s": out += padded(f.second, Swift.min(run, 2))
            case "f", "F":
                let digits = String(padded(f.fraction, 7).prefix(Swift.min(run, 7)))
                if c == "f" {
                    out += digits
                } else {
                    var trimmed = Substring(digits)
                    while trimmed.last == "0" { trimmed = trimmed.dropLast() }
                    if trimmed.isEmpty && out.last == "." { out.removeLast() }
                    out += trimmed
                }
            case "t": out += String((f.hour < 12 ? "AM" : "PM").prefix(run))
            case "K": out += String(repeating: "Z", count: run)
            case "z": out += run == 1 ? "+0" : run == 2 ? "+00" : "+00:00"
            case "'", "\"":
                var k = i + 1
                while k < p.count && p[k] != c {
                    out.append(p[k])
                    k += 1
                }
                i = k + 1
                continue
            case "\\":
                if i + 1 < p.count { out.append(p[i + 1]) }
                i += 2
                continue
            default:
                out += String(repeating: String(c), count: run)
            }
            i += run
        }
        return out
    }
}

/// Reads fixed-width digits and signs from ASCII bytes.
private struct DigitScanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    mutating func take(_ c: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == c else { return false }
        index += 1
        return true
    }

    mutating func digit() -> Int64? {
        guard index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 else { return nil }
        index += 1
        return Int64(bytes[index - 1] - UInt8(ascii: "0"))
    }

    mutating func number(_ width: Int) -> Int64? {
        var value: Int64 = 0
        for _ in 0..<width {
            guard let d = digit() else { return nil }
            value = value * 10 + d
        }
        return value
    }

    mutating func sign() -> Int64? {
        if take(UInt8(ascii: "+")) { return 1 }
        if take(UInt8(ascii: "-")) { return -1 }
        return nil
    }
}

/// `addDays`, `dateTimeAdd` and the formatting behind `utcNow(format)`.
enum DateFunctions {
    /// Formats the ISO text `now` (from the context) with a .NET date format.
    static func format(_ now: String, with pattern: String, _ a: FunctionArguments) throws(ExpressionError) -> String {
        guard let date = ExpressionDateTime(parsing: now) else {
            throw a.fail("got an unreadable time '\(now)' from the context")
        }
        guard let text = date.format(pattern) else { throw a.fail("has an unsupported date format '\(pattern)'") }
        return text
    }

    private static func date(_ a: FunctionArguments, _ i: Int) throws(ExpressionError) -> ExpressionDateTime {
        let text = try a.string(i)
        guard let date = ExpressionDateTime(parsing: text) else {
            throw a.fail("expects an ISO-8601 date-time, got '\(text)'")
        }
        return date
    }

    private static func shifted(
        _ date: ExpressionDateTime,
        by ticks: Int64,
        _ a: FunctionArguments
    ) throws(ExpressionError) -> ExpressionDateTime {
        let (result, overflow) = date.ticks.addingReportingOverflow(ticks)
        guard !overflow, result >= 0, result <= ExpressionDateTime.maximumTicks else {
            throw a.fail("produces a date outside years 1 to 9999")
        }
        return ExpressionDateTime(ticks: result, style: date.style)
    }

    /// `addDays(dateTime, days)`: the date moved by whole days, in the input's shape (UTC).
    static func addDays(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        let base = try date(a, 0)
        let days = try a.integer(1, in: -3_700_000...3_700_000, "a number of days")
        return .string(try shifted(base, by: Int64(days) * ExpressionDateTime.ticksPerDay, a).isoText)
    }

    /// `dateTimeAdd(base, duration, format?)`: the base date moved by an ISO-8601 duration.
    ///
    /// Durations look like `P1Y2M3DT4H5M6.5S`, `P2W` or `-PT1H`. Years and months are calendar steps
    /// that clamp the day (Jan 31 + P1M = Feb 28/29). Without `format` the result keeps the base's shape.
    static func dateTimeAdd(_ a: FunctionArguments) throws(ExpressionError) -> JSON {
        var result = try date(a, 0)
        let text = try a.string(1)
        guard let duration = Duration(parsing: text) else {
            throw a.fail("expects an ISO-8601 duration such as 'P1D' or 'PT1H', got '\(text)'")
        }
        if duration.months != 0 {
            let f = result.fields
            let monthIndex = f.year * 12 + (f.month - 1) + duration.months
            let (year, month) = (monthIndex / 12, monthIndex % 12 + 1)
            guard monthIndex >= 12, year <= 9999 else { throw a.fail("produces a date outside years 1 to 9999") }
            let day = Swift.min(f.day, ExpressionDateTime.daysInMonth(year: year, month: month))
            let timeOfDay = result.ticks % ExpressionDateTime.ticksPerDay
            result.ticks =
                ExpressionDateTime.days(year: year, month: month, day: day) * ExpressionDateTime.ticksPerDay
                + timeOfDay
        }
        result = try shifted(result, by: duration.ticks, a)
        if a.count > 2 {
            let pattern = try a.string(2)
            guard let formatted = result.format(pattern) else {
                throw a.fail("has an unsupported date format '\(pattern)'")
            }
            return .string(formatted)
        }
        if result.style == .date && result.ticks % ExpressionDateTime.ticksPerDay != 0 { result.style = .seconds }
        return .string(result.isoText)
    }

    /// An ISO-8601 duration split into calendar months and exact ticks.
    struct Duration {
        var months: Int64 = 0
        var ticks: Int64 = 0

        init?(parsing text: String) {
            var chars = Array(text.uppercased().utf8)
            var sign: Int64 = 1
            if chars.first == UInt8(ascii: "-") {
                sign = -1
                chars.removeFirst()
            } else if chars.first == UInt8(ascii: "+") {
                chars.removeFirst()
            }
            guard chars.first == UInt8(ascii: "P"), chars.count > 1 else { return nil }
            var inTime = false
            var number: [UInt8] = []
            var sawComponent = false
            var sawTimeComponent = false
            let second = Double(ExpressionDateTime.ticksPerSecond)
            for c in chars.dropFirst() {
                if c &- UInt8(ascii: "0") < 10 || c == UInt8(ascii: ".") || c == UInt8(ascii: ",") {
                    number.append(c == UInt8(ascii: ",") ? UInt8(ascii: ".") : c)
                    continue
                }
                if c == UInt8(ascii: "T") {
                    guard !inTime, number.isEmpty else { return nil }
                    inTime = true
                    continue
                }
                guard let value = Double(String(decoding: number, as: UTF8.self)), value < 1e9 else { return nil }
                let whole = value.rounded(.towardZero) == value
                number.removeAll()
                sawComponent = true
                switch (c, inTime) {
                case (UInt8(ascii: "Y"), false) where whole: months += Int64(value) * 12
                case (UInt8(ascii: "M"), false) where whole: months += Int64(value)
                case (UInt8(ascii: "W"), false): ticks += Int64(value * 7 * 86_400 * second)
                case (UInt8(ascii: "D"), false): ticks += Int64(value * 86_400 * second)
                case (UInt8(ascii: "H"), true): ticks += Int64(value * 3600 * second)
                case (UInt8(ascii: "M"), true): ticks += Int64(value * 60 * second)
                case (UInt8(ascii: "S"), true): ticks += Int64((value * second).rounded())
                default: return nil
                }
                if inTime { sawTimeComponent = true }
            }
            guard number.isEmpty, sawComponent, !inTime || sawTimeComponent else { return nil }
            months *= sign
            ticks *= sign
        }
    }
}
