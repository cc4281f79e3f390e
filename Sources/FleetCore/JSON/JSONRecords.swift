import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the records of an input were laid out.
public enum RecordLayout: String, Sendable {
    /// A top-level JSON array of records.
    case array
    /// An object holding the records in a `data` array (Resource Graph) or a `value` array (ARM list).
    case envelope
    /// Newline-delimited JSON: one record per line.
    case ndjson
    /// A single top-level value that is none of the above.
    case single
}

/// The records of one input, each its own ``JSONDocument``.
public struct JSONRecordSet: Sendable {
    /// The records in input order.
    public var records: [JSONDocument]
    /// How the input was laid out.
    public var layout: RecordLayout
    /// For an envelope: its other members (`$skipToken`, `skip_token`, `totalRecords`, `nextLink`, …).
    public var envelope: [String: JSON]
}

/// Splits an input into records and parses them, in parallel on large inputs.
///
/// Accepted layouts: a JSON array; an object with a `data` or `value` array (a Resource Graph or
/// ARM list response; the other members are kept in ``JSONRecordSet/envelope``); NDJSON; or any
/// other single value. A UTF-8 byte order mark is skipped.
///
/// Large arrays are cut at guessed element boundaries (`},{` with any white space between) and
/// the parts are parsed on all cores. Each guess is confirmed by the part before it reaching
/// exactly that offset between two elements; a wrong guess (the pattern inside a string) is
/// discarded and that stretch is parsed by the part before, so the result is always the
/// sequential one. NDJSON is cut at line breaks, which JSON strings cannot contain.
public enum JSONRecords {
    /// Inputs below this size are parsed on one core.
    public static let parallelThreshold = 2 << 20

    /// The number of cores this process may use.
    public static var availableCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Reads the records of `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: The input.
    ///   - parallelism: How many parts to parse at once (default: every core).
    ///   - maxDepth: The nesting limit of each record.
    /// - Throws: ``JSONError`` for the first invalid byte in input order.
    public static func read(
        _ bytes: JSONBytes, parallelism: Int = availableCores, maxDepth: Int = JSONDocument.defaultMaxDepth
    ) throws(JSONError) -> JSONRecordSet {
        try read(bytes, parallelism: parallelism, maxDepth: maxDepth, visitor: NoVisitor(), releaseInput: false).records
    }

    /// Reads the records of `bytes` and runs `visitor` on each record on the core that parsed it,
    /// while the record is still in the cache.
    ///
    /// - Parameters:
    ///   - bytes: The input.
    ///   - parallelism: How many parts to parse at once.
    ///   - maxDepth: The nesting limit of each record.
    ///   - visitor: The work to do on every record.
    ///   - releaseInput: For a memory-mapped input, hand the pages of visited records back to the
    ///     page cache as parsing moves on (they fault back in when read again), so peak memory is
    ///     the tapes plus what the visitor keeps rather than the whole file.
    /// - Returns: The records and one visitor output per part, in input order.
    /// - Throws: ``JSONError`` for the first invalid byte in input order.
    public static func read<V: RecordVisitor>(
        _ bytes: JSONBytes, parallelism: Int = availableCores, maxDepth: Int = JSONDocument.defaultMaxDepth,
        visitor: V, releaseInput: Bool
    ) throws(JSONError) -> (records: JSONRecordSet, outputs: [V.Output]) {
        let p = bytes.start
        var i = 0
        if bytes.count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { i = 3 }
        skipSpace(p, &i, bytes.count)
        guard i < bytes.count else {
            throw JSONError(
                source: bytes.source, line: 1, column: 1, offset: 0, path: "$",
                message: "the input is empty: expected a JSON array, an object or NDJSON")
        }
        let release = releaseInput && bytes.isMapped
        if p[i] == UInt8(ascii: "[") {
            let (records, outputs, end) = try readArray(
                bytes, open: i, pathRoot: "$", parallelism: parallelism, maxDepth: maxDepth, visitor: visitor,
                release: release)
            try expectEnd(bytes, from: end)
            return (JSONRecordSet(records: records, layout: .array, envelope: [:]), outputs)
        }
        if isNDJSON(bytes, start: i, maxDepth: maxDepth) {
            let (records, outputs) = try readNDJSON(
                bytes, start: i, parallelism: parallelism, maxDepth: maxDepth, visitor: visitor, release: release)
            return (JSONRecordSet(records: records, layout: .ndjson, envelope: [:]), outputs)
        }
        if p[i] == UInt8(ascii: "{") {
            if let (set, outputs) = try readEnvelope(
                bytes, open: i, parallelism: parallelism, maxDepth: maxDepth, visitor: visitor, release: release)
            {
                return (set, outputs)
            }
        }
        let document = try JSONDocument.parse(
            bytes, from: i, to: bytes.count, path: "$", maxDepth: maxDepth, requireEnd: true
        ).document
        var output = visitor.makeOutput()
        visitor.visit(document, into: &output)
        return (JSONRecordSet(records: [document], layout: .single, envelope: [:]), [output])
    }

    @inline(__always) private static func skipSpace(_ p: UnsafeMutablePointer<UInt8>, _ i: inout Int, _ end: Int) {
        while i < end, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
    }

    private static func expectEnd(_ bytes: JSONBytes, from start: Int) throws(JSONError) {
        var i = start
        skipSpace(bytes.start, &i, bytes.count)
        if i < bytes.count {
            throw JSONError(
                failure: TapeFailure(offset: i, message: "unexpected data after the JSON value", path: []),
                bytes: bytes, rootPath: "$")
        }
    }

    /// `'x'` for a printable byte, `byte 0x0B` otherwise.
    static func found(_ c: UInt8) -> String {
        if c >= 0x20 && c < 0x7F { return "'\(String(UnicodeScalar(c)))'" }
        let digits = Array("0123456789ABCDEF".utf8)
        return "byte 0x" + String(decoding: [digits[Int(c >> 4)], digits[Int(c & 15)]], as: UTF8.self)
    }

    private static func failure(_ bytes: JSONBytes, _ offset: Int, _ message: String, _ path: String) -> JSONError {
        JSONError(failure: TapeFailure(offset: offset, message: message, path: []), bytes: bytes, rootPath: path)
    }

    // MARK: - NDJSON

    /// NDJSON when the first line holds a complete value and more content follows it.
    private static func isNDJSON(_ bytes: JSONBytes, start: Int, maxDepth: Int) -> Bool {
        let p = bytes.start
        var newline = start
        let limit = min(bytes.count, start + (16 << 20))
        while newline < limit && p[newline] != 0x0A { newline += 1 }
        guard newline < limit else { return false }
        var rest = newline
        skipSpace(p, &rest, bytes.count)
        guard rest < bytes.count else { return false }
        return
            (try? JSONDocument.parse(bytes, from: start, to: newline, path: "$", maxDepth: maxDepth, requireEnd: true))
            != nil
    }

    private static func readNDJSON<V: RecordVisitor>(
        _ bytes: JSONBytes, start: Int, parallelism: Int, maxDepth: Int, visitor: V, release: Bool
    ) throws(JSONError) -> ([JSONDocument], [V.Output]) {
        let p = bytes.start
        let count = bytes.count
        // Cut at line breaks near equal shares.
        let parts = count - start < parallelThreshold ? 1 : max(1, parallelism)
        var cuts = [start]
        for k in 1..<max(parts, 1) {
            var c = start + (count - start) * k / parts
            while c < count && p[c] != 0x0A { c += 1 }
            if c < count && c + 1 > cuts.last! { cuts.append(c + 1) }
        }
        cuts.append(count)
        let results = ResultSlots<Result<([JSONDocument], V.Output), JSONError>>(count: cuts.count - 1)
        let lineCuts = cuts
        DispatchQueue.concurrentPerform(iterations: cuts.count - 1) { k in
            let p = bytes.start
            var docs: [JSONDocument] = []
            var output = visitor.makeOutput()
            var i = lineCuts[k]
            var released = i
            let stop = lineCuts[k + 1]
            do throws(JSONError) {
                while i < stop {
                    var lineEnd = i
                    while lineEnd < stop && p[lineEnd] != 0x0A { lineEnd += 1 }
                    var s = i
                    skipSpace(p, &s, lineEnd)
                    if s < lineEnd {
                        let (doc, _) = try JSONDocument.parse(
                            bytes, from: s, to: lineEnd, path: "$", maxDepth: maxDepth, requireEnd: true)
                        docs.append(doc)
                        visitor.visit(doc, into: &output)
                    }
                    i = lineEnd + 1
                    if release && i - released >= releaseChunk {
                        bytes.releasePages(from: released, to: i)
                        released = i
                    }
                }
                if release { bytes.releasePages(from: released, to: stop) }
                results.set(k, .success((docs, output)))
            } catch {
                results.set(k, .failure(error))
            }
        }
        var all: [JSONDocument] = []
        var outputs: [V.Output] = []
        for k in 0..<(cuts.count - 1) {
            switch results.get(k)! {
            case .success(let (docs, output)):
                all.append(contentsOf: docs)
                outputs.append(output)
            case .failure(let error): throw error
            }
        }
        return (all, outputs)
    }

    /// How much visited input a part accumulates before handing its pages back.
    static let releaseChunk = 8 << 20

    // MARK: - Envelope

    /// Reads `{ …, "data": [records], … }`; nil when the object has no `data`/`value` array.
    private static func readEnvelope<V: RecordVisitor>(
        _ bytes: JSONBytes, open: Int, parallelism: Int, maxDepth: Int, visitor: V, release: Bool
    ) throws(JSONError) -> (JSONRecordSet, [V.Output])? {
        let p = bytes.start
        let count = bytes.count
        var i = open + 1
        var envelope: [String: JSON] = [:]
        var records: [JSONDocument]?
        var outputs: [V.Output] = []
        skipSpace(p, &i, count)
        if i < count && p[i] == UInt8(ascii: "}") { return nil }
        while true {
            skipSpace(p, &i, count)
            guard i < count, p[i] == UInt8(ascii: "\"") else {
                throw failure(
                    bytes, i,
                    "expected an object key in double quotes, found \(i < count ? found(p[i]) : "end of input")",
                    "$")
            }
            let (keyDoc, afterKey) = try JSONDocument.parse(
                bytes, from: i, to: count, path: "$", maxDepth: maxDepth, requireEnd: false)
            let key = keyDoc.root.string ?? ""
            i = afterKey
            skipSpace(p, &i, count)
            guard i < count, p[i] == UInt8(ascii: ":") else {
                throw failure(
                    bytes, i, "expected ':' after an object key, found \(i < count ? found(p[i]) : "end of input")", "$"
                )
            }
            i += 1
            skipSpace(p, &i, count)
            let memberPath = JSONPathComponent.render([.key(key)])
            if records == nil && (key == "data" || key == "value") && i < count && p[i] == UInt8(ascii: "[") {
                let (docs, visited, end) = try readArray(
                    bytes, open: i, pathRoot: memberPath, parallelism: parallelism, maxDepth: maxDepth,
                    visitor: visitor, release: release)
                records = docs
                outputs = visited
                i = end
            } else {
                let (doc, end) = try JSONDocument.parse(
                    bytes, from: i, to: count, path: memberPath, maxDepth: maxDepth - 1, requireEnd: false)
                envelope[key] = doc.root.materialize()
                i = end
            }
            skipSpace(p, &i, count)
            guard i < count else { throw failure(bytes, count, "unexpected end of input: expected ',' or '}'", "$") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard p[i] == UInt8(ascii: "}") else {
                throw failure(bytes, i, "expected ',' or '}' after an object member, found \(found(p[i]))", memberPath)
            }
            i += 1
            break
        }
        try expectEnd(bytes, from: i)
        guard let records else { return nil }
        return (JSONRecordSet(records: records, layout: .envelope, envelope: envelope), outputs)
    }

    // MARK: - Arrays

    private struct Part<Output> {
        enum End {
            /// Reached the closing bracket; the offset after it.
            case arrayEnd(Int)
            /// Reached exactly the start of the part with this index.
            case handoff(Int)
            /// Failed at local element `index` of this part.
            case failed(index: Int, failure: TapeFailure)
        }
        var end: End = .arrayEnd(0)
        var documents: [JSONDocument] = []
        let numbering: RecordNumbering
        var output: Output
    }

    /// Reads `[record, record, …]` whose `[` is at `open`; returns the records and the offset after `]`.
    static func readArray<V: RecordVisitor>(
        _ bytes: JSONBytes, open: Int, pathRoot: String, parallelism: Int, maxDepth: Int, visitor: V, release: Bool
    ) throws(JSONError) -> ([JSONDocument], [V.Output], Int) {
        let p = bytes.start
        let count = bytes.count
        var first = open + 1
        skipSpace(p, &first, count)
        if first < count && p[first] == UInt8(ascii: "]") { return ([], [], first + 1) }

        // Guess part starts after equal shares of the input: a `}` followed by exactly the
        // separator seen after the first element (so `,\n  ` of a pretty array does not match a
        // deeper-indented nested array), preferring a `{` whose first key is "id".
        var starts = [first]
        if count - first >= parallelThreshold && parallelism > 1,
            let separator = firstSeparator(bytes, first: first, maxDepth: maxDepth)
        {
            for k in 1..<parallelism {
                let from = first + (count - first) * k / parallelism
                if let guess = guessElementStart(p, from: from, end: count, separator: separator),
                    guess > starts.last!
                {
                    starts.append(guess)
                }
            }
        }
        let parts = ResultSlots<Part<V.Output>>(count: starts.count)
        let guessed = starts
        let work: @Sendable (Int) -> Void = { k in
            parts.set(
                k,
                parsePart(
                    bytes, start: guessed[k], starts: guessed, partIndex: k, root: pathRoot, maxDepth: maxDepth,
                    visitor: visitor, release: release))
        }
        if starts.count == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: starts.count, execute: work)
        }

        // Follow the chain of confirmed hand-offs from part 0.
        var documents: [JSONDocument] = []
        var outputs: [V.Output] = []
        var k = 0
        while true {
            let part = parts.get(k)!
            part.numbering.offset = documents.count
            documents.reserveCapacity(documents.count + part.documents.count)
            switch part.end {
            case .arrayEnd(let end):
                documents.append(contentsOf: part.documents)
                outputs.append(part.output)
                return (documents, outputs, end)
            case .handoff(let next):
                documents.append(contentsOf: part.documents)
                outputs.append(part.output)
                k = next
            case .failed(let index, let failure):
                let path = JSONPathComponent.render([.index(documents.count + index)] + failure.path, root: pathRoot)
                let (line, column) = bytes.lineAndColumn(of: failure.offset)
                throw JSONError(
                    source: bytes.source, line: line, column: column, offset: failure.offset, path: path,
                    message: failure.message)
            }
        }
    }

    /// The bytes between the first element and the second (`,`, `,\n`, `,\n  `, …), or nil.
    private static func firstSeparator(_ bytes: JSONBytes, first: Int, maxDepth: Int) -> [UInt8]? {
        var tape = TapeBuffer(capacity: 1024)
        let parser = TapeParser(bytes: bytes, base: first, end: bytes.count, maxDepth: maxDepth)
        guard let end = try? parser.parseValue(from: first, into: &tape), end < bytes.count,
            bytes.start[end] == UInt8(ascii: ",")
        else { return nil }
        var i = end + 1
        skipSpace(bytes.start, &i, bytes.count)
        guard i < bytes.count, bytes.start[i] == UInt8(ascii: "{") else { return nil }
        return Array(UnsafeBufferPointer(start: bytes.start + end, count: i - end))
    }

    /// Finds `}` + `separator` + `{` at or after `from` and returns the offset of that `{`;
    /// within the first 256 KiB a match whose first key is `"id"` is preferred.
    private static func guessElementStart(
        _ p: UnsafeMutablePointer<UInt8>, from: Int, end: Int, separator: [UInt8]
    ) -> Int? {
        let idKey = Array("\"id\"".utf8)
        var firstMatch: Int?
        var i = from
        let preferWithin = from + (256 << 10)
        while i + separator.count + 1 < end {
            if p[i] == UInt8(ascii: "}") {
                var matches = true
                for (k, b) in separator.enumerated() where p[i + 1 + k] != b {
                    matches = false
                    break
                }
                let brace = i + 1 + separator.count
                if matches && p[brace] == UInt8(ascii: "{") {
                    var keyMatches = brace + 1 + idKey.count < end
                    if keyMatches {
                        for (k, b) in idKey.enumerated() where p[brace + 1 + k] != b {
                            keyMatches = false
                            break
                        }
                    }
                    if keyMatches { return brace }
                    if firstMatch == nil { firstMatch = brace }
                    if i > preferWithin { return firstMatch }
                }
            }
            if i > preferWithin, let firstMatch { return firstMatch }
            i += 1
        }
        return firstMatch
    }

    /// Parses elements from `start` until the array ends or the next part's start is reached.
    private static func parsePart<V: RecordVisitor>(
        _ bytes: JSONBytes, start: Int, starts: [Int], partIndex: Int, root: String, maxDepth: Int, visitor: V,
        release: Bool
    ) -> Part<V.Output> {
        let p = bytes.start
        let count = bytes.count
        var part = Part(numbering: RecordNumbering(root: root), output: visitor.makeOutput())
        var released = start
        var nextStart = partIndex + 1
        var i = start
        var tape = TapeBuffer(capacity: 1 << 14)
        while true {
            // `i` is the first byte of an element.
            do throws(TapeFailure) {
                tape.count = 0
                let parser = TapeParser(bytes: bytes, base: i, end: count, maxDepth: maxDepth)
                let end = try parser.parseValue(from: i, into: &tape)
                let document = JSONDocument(
                    bytes: bytes, base: i, numbering: part.numbering, localIndex: part.documents.count,
                    tape: tape.copyOut())
                part.documents.append(document)
                visitor.visit(document, into: &part.output)
                i = end
                if release && i - released >= releaseChunk {
                    bytes.releasePages(from: released, to: i)
                    released = i
                }
            } catch {
                part.end = .failed(index: part.documents.count, failure: error)
                return part
            }
            skipSpace(p, &i, count)
            guard i < count else {
                part.end = .failed(
                    index: part.documents.count - 1,
                    failure: TapeFailure(
                        offset: count, message: "unexpected end of input: expected ',' or ']'", path: []))
                return part
            }
            if p[i] == UInt8(ascii: "]") {
                part.end = .arrayEnd(i + 1)
                if release { bytes.releasePages(from: released, to: i) }
                return part
            }
            guard p[i] == UInt8(ascii: ",") else {
                part.end = .failed(
                    index: part.documents.count - 1,
                    failure: TapeFailure(
                        offset: i, message: "expected ',' or ']' after an array element, found \(found(p[i]))",
                        path: []))
                return part
            }
            i += 1
            skipSpace(p, &i, count)
            // Hand off when this element start is exactly a later part's guessed start.
            while nextStart < starts.count && starts[nextStart] < i { nextStart += 1 }
            if nextStart < starts.count && starts[nextStart] == i {
                part.end = .handoff(nextStart)
                if release { bytes.releasePages(from: released, to: i) }
                return part
            }
        }
    }
}

/// Fixed slots written by concurrent workers, each slot by exactly one worker.
///
/// For `DispatchQueue.concurrentPerform`: worker `k` writes slot `k`; the caller reads the slots
/// after every worker has returned.
public final class ResultSlots<T>: @unchecked Sendable {
    // @unchecked: every slot is written by one worker and read only after all workers joined.
    private let slots: UnsafeMutablePointer<T?>
    private let count: Int

    /// Creates `count` empty slots.
    public init(count: Int) {
        self.count = count
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// Fills slot `k` (from the worker that owns it).
    public func set(_ k: Int, _ value: T) { slots[k] = value }

    /// Reads slot `k` (after every worker has returned).
    public func get(_ k: Int) -> T? { slots[k] }
}

/// The JSON path root and first index of a run of records, fixed once the parts are joined.
final class RecordNumbering: @unchecked Sendable {
    // @unchecked: `offset` is set before any document of the run is handed out, never after.
    let root: String
    var offset = 0

    init(root: String) { self.root = root }
}

/// Work done on each record right after it is parsed, on the core that parsed it.
///
/// Each part of a parallel read gets its own ``Output``; the outputs of the parts that make up the
/// input are returned in input order (a part whose guessed start turned out wrong is dropped with
/// its output). A record's ``JSONDocument/path`` is final only once `read` returns (a part learns
/// the index of its first record when the parts join), so a visitor keeps documents, not paths.
public protocol RecordVisitor: Sendable {
    /// What a part accumulates.
    associatedtype Output: Sendable
    /// A fresh output for a part.
    func makeOutput() -> Output
    /// Visits one record.
    func visit(_ record: JSONDocument, into output: inout Output)
}

/// The visitor that does nothing.
struct NoVisitor: RecordVisitor {
    func makeOutput() {}
    func visit(_ record: JSONDocument, into output: inout Void) {}
}
