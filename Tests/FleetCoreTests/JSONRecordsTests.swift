import Foundation
import Testing

@testable import FleetCore

// Tests of JSONRecords.read: layouts, error positions, and the speculative parallel array/NDJSON split.

// MARK: - Helpers

private let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

private func read(_ text: String, parallelism: Int = 1, maxDepth: Int = 256) throws(JSONError) -> JSONRecordSet {
    try JSONRecords.read(JSONBytes(text, source: "records.json"), parallelism: parallelism, maxDepth: maxDepth)
}

private func read(bytes: [UInt8], parallelism: Int) throws(JSONError) -> JSONRecordSet {
    try JSONRecords.read(JSONBytes(bytes, source: "records.json"), parallelism: parallelism)
}

/// The error reading `bytes` throws, or nil when it reads.
private func readError(bytes: [UInt8], parallelism: Int) -> JSONError? {
    do {
        _ = try read(bytes: bytes, parallelism: parallelism)
        return nil
    } catch {
        return error
    }
}

private func readError(_ text: String, parallelism: Int = 1) -> JSONError? {
    readError(bytes: Array(text.utf8), parallelism: parallelism)
}

/// The error JSONDocument.parse (one sequential parse of the whole input) throws, or nil.
private func documentError(bytes: [UInt8]) -> JSONError? {
    do {
        _ = try JSONDocument.parse(JSONBytes(bytes, source: "records.json"))
        return nil
    } catch {
        return error
    }
}

/// Checks two record sets hold the same records (text, path, offset) in the same layout.
private func expectSame(
    _ a: JSONRecordSet, _ b: JSONRecordSet, _ label: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(a.layout == b.layout, "\(label)", sourceLocation: sourceLocation)
    #expect(a.envelope == b.envelope, "\(label)", sourceLocation: sourceLocation)
    #expect(a.records.count == b.records.count, "\(label)", sourceLocation: sourceLocation)
    var mismatches = 0
    for (x, y) in zip(a.records, b.records)
    where x.root.rawText != y.root.rawText || x.path != y.path || x.root.offset != y.root.offset {
        mismatches += 1
        if mismatches <= 3 {
            Issue.record(
                "\(label): \(x.path) @\(x.root.offset) vs \(y.path) @\(y.root.offset)", sourceLocation: sourceLocation)
        }
    }
    #expect(mismatches == 0, "\(label)", sourceLocation: sourceLocation)
}

/// The 1-based line of a byte offset, counted independently of JSONBytes.
private func line(of offset: Int, in bytes: [UInt8]) -> Int {
    bytes.withUnsafeBufferPointer { buffer in
        var line = 1
        for i in 0..<min(offset, buffer.count) where buffer[i] == 0x0A { line += 1 }
        return line
    }
}

// MARK: - Layouts

@Suite("JSONRecords: layouts")
struct JSONRecordsLayoutTests {
    @Test("a top-level array: one record per element, paths $[i]")
    func topLevelArray() throws {
        let set = try read(#"[{"id":1},{"id":2,"x":[1,2]},{"id":3}]"#)
        #expect(set.layout == .array)
        #expect(set.envelope.isEmpty)
        #expect(set.records.map(\.root.rawText) == [#"{"id":1}"#, #"{"id":2,"x":[1,2]}"#, #"{"id":3}"#])
        #expect(set.records.map(\.path) == ["$[0]", "$[1]", "$[2]"])
        #expect(set.records.map { $0.root["id"]?.int64 } == [1, 2, 3])
        #expect(set.records[1].root["x"]?[1]?.number == .int(2))
    }

    @Test("array elements of every kind, with white space and line breaks")
    func scalarElements() throws {
        let set = try read("\n [\n 1 ,\"a\" ,\r\n null,[2] ,{ } ,true,-0.5e1\n]\n\n")
        #expect(set.layout == .array)
        #expect(set.records.map(\.root.rawText) == ["1", "\"a\"", "null", "[2]", "{ }", "true", "-0.5e1"])
        #expect(set.records.map(\.root.kind) == [.number, .string, .null, .array, .object, .bool, .number])
        #expect(set.records[6].root.double == -5)
        #expect(set.records[2].root.location == (4, 2))
    }

    @Test("empty arrays", arguments: ["[]", "[ ]", " [\n]\n", "\u{FEFF}[]", "\u{FEFF} [ \r\n ] "])
    func emptyArray(text: String) throws {
        let set = try read(text)
        #expect(set.layout == .array)
        #expect(set.records.isEmpty)
    }

    @Test("a Resource Graph envelope keeps its other members")
    func resourceGraphEnvelope() throws {
        let text = #"""
            {"totalRecords":2,"count":2,"data":[{"id":"a","n":1},{"id":"b","n":2}],"facets":[],
             "resultTruncated":"false","$skipToken":"abc"}
            """#
        let set = try read(text)
        #expect(set.layout == .envelope)
        #expect(set.records.map(\.path) == ["$.data[0]", "$.data[1]"])
        #expect(set.records.map(\.root.rawText) == [#"{"id":"a","n":1}"#, #"{"id":"b","n":2}"#])
        #expect(
            set.envelope == [
                "totalRecords": .int(2), "count": .int(2), "facets": .array([]), "resultTruncated": .string("false"),
                "$skipToken": .string("abc"),
            ])
        #expect(set.envelope["data"] == nil)
        #expect(set.records[1].root.location == (1, 54))
    }

    @Test("the shape of `az graph query` output")
    func azGraphQuery() throws {
        let text = """
            {
              "count": 2,
              "data": [
                {"id": "a"},
                {"id": "b"}
              ],
              "skip_token": "tok==",
              "total_records": 7
            }
            """
        let set = try read(text)
        #expect(set.layout == .envelope)
        #expect(set.records.count == 2)
        #expect(set.records.map(\.path) == ["$.data[0]", "$.data[1]"])
        #expect(set.envelope["skip_token"] == .string("tok=="))
        #expect(set.envelope["total_records"] == .int(7))
        #expect(set.records[1].root.location == (5, 5))
    }

    @Test("an ARM list response: records in `value`, paths $.value[i]")
    func armList() throws {
        let set = try read(#"{"value":[{"id":"a"},{"id":"b"},{"id":"c"}],"nextLink":null}"#)
        #expect(set.layout == .envelope)
        #expect(set.records.map(\.path) == ["$.value[0]", "$.value[1]", "$.value[2]"])
        #expect(set.envelope == ["nextLink": .null])
        let paged = try read(#"{"nextLink":"https://management.azure.com/x?$skiptoken=1","value":[]}"#)
        #expect(paged.layout == .envelope)
        #expect(paged.records.isEmpty)
        #expect(paged.envelope["nextLink"]?.string == "https://management.azure.com/x?$skiptoken=1")
    }

    @Test(
        "objects without a data/value array are a single record",
        arguments: [
            #"{"data":{"a":1}}"#, #"{"value":"x"}"#, #"{"id":"x","properties":{"data":1}}"#, "{}", "{ }",
            "{\n  \"id\": \"x\",\n  \"value\": 3\n}",
        ])
    func singleObject(text: String) throws {
        let set = try read(text)
        #expect(set.layout == .single)
        #expect(set.records.count == 1)
        #expect(set.records.first?.path == "$")
        #expect(set.records.first?.root.rawText == text)
        #expect(set.envelope.isEmpty)
    }

    @Test("single scalars", arguments: ["42", "\"s\"", "null", " true ", "-1.5"])
    func singleScalar(text: String) throws {
        let set = try read(text)
        #expect(set.layout == .single)
        #expect(set.records.map(\.root.rawText) == [text.filter { $0 != " " }])
    }

    @Test("NDJSON: blank lines, CRLF, white space lines, no final line break")
    func ndjson() throws {
        let text = "{\"a\":1}\n{\"a\":2}\n\n  {\"a\":3}  \r\n\t \r\n{\"a\":4}\r\n[5]\n\"six\"\n7"
        let set = try read(text)
        #expect(set.layout == .ndjson)
        #expect(set.envelope.isEmpty)
        #expect(
            set.records.map(\.root.rawText) == [
                #"{"a":1}"#, #"{"a":2}"#, #"{"a":3}"#, #"{"a":4}"#, "[5]", "\"six\"", "7",
            ])
        #expect(set.records.allSatisfy { $0.path == "$" })
        #expect(set.records.map(\.root.location.line) == [1, 2, 4, 6, 7, 8, 9])
        #expect(set.records[2].root.location.column == 3)
    }

    @Test("NDJSON with CRLF only")
    func ndjsonCRLF() throws {
        let set = try read("{\"a\":1}\r\n{\"b\":2}\r\n")
        #expect(set.layout == .ndjson)
        #expect(set.records.map(\.root.rawText) == [#"{"a":1}"#, #"{"b":2}"#])
        #expect(set.records[1].root["b"]?.int64 == 2)
    }

    @Test(
        "a UTF-8 byte order mark is skipped in every layout",
        arguments: [
            ("[1,2]", RecordLayout.array, 2),
            (#"{"data":[1,2,3]}"#, .envelope, 3),
            ("{\"a\":1}\n{\"a\":2}\n", .ndjson, 2),
            (#"{"id":"x"}"#, .single, 1),
            ("42", .single, 1),
        ])
    func byteOrderMark(text: String, layout: RecordLayout, count: Int) throws {
        // bug (for .single): JSONRecords.read skips the BOM before choosing the layout, but the .single fallback
        // re-parses with JSONDocument.parse(bytes) from offset 0, so `BOM{"id":"x"}` fails with
        // "expected a value, found 'byte 0xEF'".
        let bytes = bom + Array(text.utf8)
        let withoutBOM = try read(text)
        let set = try read(bytes: bytes, parallelism: 1)
        #expect(set.layout == layout)
        #expect(set.records.count == count)
        #expect(set.records.map(\.root.rawText) == withoutBOM.records.map(\.root.rawText))
        #expect(set.records.map(\.root.offset) == withoutBOM.records.map { $0.root.offset + 3 })
    }

    @Test("the per-record depth limit")
    func depth() throws {
        // Each record is parsed with maxDepth on its own (the enclosing array does not count).
        #expect(try read("[[[1]]]", maxDepth: 2).records.count == 1)
        #expect(throws: JSONError.self) { try read("[[[[1]]]]", maxDepth: 2) }
        let error = readError("[1, [[[[2]]]]]")
        #expect(error == nil)
        do {
            _ = try read("[1, [[[2]]]]", maxDepth: 2)
            Issue.record("must fail")
        } catch {
            #expect(error.message == "nesting deeper than 2 levels")
            #expect(error.path == "$[1][0][0]")
            #expect(error.column == 7)
        }
    }

    @Test("the parallel threshold is 2 MiB")
    func threshold() {
        #expect(JSONRecords.parallelThreshold == 2 * 1024 * 1024)
        #expect(JSONRecords.availableCores >= 1)
    }
}

// MARK: - Errors

/// A broken input and where JSONRecords must say it broke.
struct JSONRecordsErrorCase: Sendable, CustomTestStringConvertible {
    var input: String
    var line: Int
    var column: Int
    var path: String
    var message: String

    var testDescription: String { input.debugDescription }
}

@Suite("JSONRecords: errors")
struct JSONRecordsErrorTests {
    static let cases: [JSONRecordsErrorCase] = [
        .init(
            input: "[\n  {\"a\": 1},\n  {\"a\": 2},\n  {\"a\": [1, x]}\n]", line: 4, column: 13, path: "$[2].a[1]",
            message: "expected a value, found 'x'"),
        .init(
            input: #"{"totalRecords": 2, "data": [{"b": 1}, {"b": tru}]}"#, line: 1, column: 46, path: "$.data[1].b",
            message: "invalid literal: expected 'true'"),
        .init(
            input: "{\"value\": [\n{\"id\": \"a\", \"x\": [}]}", line: 2, column: 19, path: "$.value[0].x[0]",
            message: "expected a value, found '}'"),
        .init(
            input: "{\"a\":1}\n{\"a\":2}\n{\"a\":}\n{\"a\":4}", line: 3, column: 6, path: "$.a",
            message: "expected a value, found '}'"),
        .init(
            input: "{\"a\":1}\r\n\r\n{\"a\":\"\\x\"}\r\n", line: 3, column: 7, path: "$.a",
            message: "invalid escape sequence '\\x'"),
        .init(
            input: "[1, 2", line: 1, column: 6, path: "$[1]", message: "unexpected end of input: expected ',' or ']'"),
        .init(
            input: "[1, 2 3]", line: 1, column: 7, path: "$[1]",
            message: "expected ',' or ']' after an array element, found '3'"),
        .init(input: "[1,]", line: 1, column: 4, path: "$[1]", message: "expected a value, found ']'"),
        .init(input: "[", line: 1, column: 2, path: "$[0]", message: "unexpected end of input: expected a value"),
        .init(input: "[1] x", line: 1, column: 5, path: "$", message: "unexpected data after the JSON value"),
        .init(input: "[1]\n[2]", line: 2, column: 1, path: "$", message: "unexpected data after the JSON value"),
        .init(
            input: "", line: 1, column: 1, path: "$",
            message: "the input is empty: expected a JSON array, an object or NDJSON"),
        .init(
            input: " \n\t\r\n", line: 1, column: 1, path: "$",
            message: "the input is empty: expected a JSON array, an object or NDJSON"),
        .init(
            input: #"{"totalRecords": x, "data": []}"#, line: 1, column: 18, path: "$.totalRecords",
            message: "expected a value, found 'x'"),
        .init(
            input: #"{"data": [1] "x": 2}"#, line: 1, column: 14, path: "$.data",
            message: "expected ',' or '}' after an object member, found '\"'"),
        .init(
            input: #"{"data": [1]} x"#, line: 1, column: 15, path: "$",
            message: "unexpected data after the JSON value"),
        .init(
            input: #"{"data" [1]}"#, line: 1, column: 9, path: "$",
            message: "expected ':' after an object key, found '['"),
        .init(
            input: #"{"data": [1], }"#, line: 1, column: 15, path: "$",
            message: "expected an object key in double quotes, found '}'"),
        .init(
            input: #"{"data": [1, 2"#, line: 1, column: 15, path: "$.data[1]",
            message: "unexpected end of input: expected ',' or ']'"),
        .init(
            input: #"{"id": "x", "n": 01}"#, line: 1, column: 18, path: "$.n",
            message: "invalid number: leading zeros are not allowed"),
    ]

    @Test("line, column, path and message", arguments: cases)
    func position(_ c: JSONRecordsErrorCase) throws {
        for parallelism in [1, 4] {
            let error = try #require(readError(c.input, parallelism: parallelism))
            #expect(error.line == c.line)
            #expect(error.column == c.column)
            #expect(error.path == c.path)
            #expect(error.message == c.message)
            #expect(error.source == "records.json")
        }
    }

    @Test(
        "array errors are located like one sequential parse of the whole input",
        arguments: [
            "[1, 2", "[1, 2 3]", "[1,]", "[", "[1] x", "[{\"a\":[1,{\"b\":x}]}]", "[{},{},{\"k\":\"\\u12\"}]",
            "[\n{\"a\":1},\n{\"a\":2}\n{\"a\":3}\n]", "[[],[[]],[[[", "[\"a\",\n\"b\n\"]",
            "[1,2,3,4,5,6,7,8,9,10,11,-]",
        ])
    func sameAsDocument(text: String) throws {
        let bytes = Array(text.utf8)
        let records = try #require(readError(bytes: bytes, parallelism: 1))
        let document = try #require(documentError(bytes: bytes))
        #expect(records.offset == document.offset)
        #expect(records.line == document.line)
        #expect(records.column == document.column)
        #expect(records.path == document.path)
    }
}

// MARK: - Large inputs: the parallel path

/// String values that contain element separators, so that guessed cut points can land inside strings.
private let adversarialNotes = [
    "},{", "}, {", "}   ,   {", #"\"},{\""#, #"\"}\n,\n{\""#, #"\"}, {\""#, "},{},{}]", "}, {}, {}, 1, 2]", "}]}, {",
    "{}", "é},{😀", #"x}\\\",{"#, "}]", "]},{[", #"\\"#,
]

/// Separators before elements 2, 3, …: the one before element 1 is always `,`, the separator the reader learns,
/// so the compact `},{` inside strings and nested arrays matches it.
private let separators = [",", ", ", "\n,\n", ",\n  ", "\r\n,\r\n", " , ", ",\t"]

/// The text a blob string repeats: every flavour of `}` `,` `{` with white space.
private let blobUnit = #"},{}, {} ,{\"a\":1},"#

/// One ARM-shaped record (about 600 bytes) with nested objects whose first key is "id"; `blob` repeats
/// ``blobUnit`` in a string value.
///
/// Returns the text, the offset of the `true` literal of `properties.ok` and the range of the blob's content.
private func armRecord(_ n: Int, blob: Int = 0) -> (text: String, ok: Int, blob: Range<Int>) {
    let note = adversarialNotes[n % adversarialNotes.count]
    let big = String(repeating: blobUnit, count: blob)
    let head =
        #"{"id":"/subscriptions/s/resourceGroups/rg-\#(n)/providers/Microsoft.ContainerService/"#
        + #"managedClusters/aks-\#(n)","name":"aks-\#(n)","type":"Microsoft.ContainerService/managedClusters","#
        + #""location":"westeurope","sku":{"name":"Base","tier":"Standard"},"#
        + #""tags":{"note":"\#(note)","blob":""#
    let middle =
        #""},"properties":{"count":\#(n),"children":[{"id":"c\#(n)-0","v":0},{"id":"c\#(n)-1","v":[{"id":"g"},"#
        + #"{"id":"h"}]},{"id":"c\#(n)-2"}],"pools":[{"name":"a","size":1},{"name":"b","size":2}],"ok":"#
    let tail =
        #"true,"version":"1.29.\#(n % 10)","x":null,"f":-1.5e3,"nested":[[{"q":[{}]}],{"r":{}}]}}"#
    let blobStart = head.utf8.count
    let blobEnd = blobStart + big.utf8.count
    return (head + big + middle + tail, blobEnd + middle.utf8.count, blobStart..<blobEnd)
}

/// A large input and where each record starts and ends and where its `true` literal is.
private struct LargeInput {
    var bytes: [UInt8] = []
    var recordStarts: [Int] = []
    var recordEnds: [Int] = []
    var okOffsets: [Int] = []
    /// The content of each big string value.
    var blobRanges: [Range<Int>] = []
    /// The offset of the comma before each record (nil for the first).
    var commaBefore: [Int?] = []

    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func appendRecord(_ record: (text: String, ok: Int, blob: Range<Int>)) {
        let start = bytes.count
        recordStarts.append(start)
        okOffsets.append(start + record.ok)
        if !record.blob.isEmpty {
            blobRanges.append((start + record.blob.lowerBound)..<(start + record.blob.upperBound))
        }
        bytes.append(contentsOf: record.text.utf8)
        recordEnds.append(bytes.count)
    }

    /// `[` records `]`; `separator(n)` goes before record n (n >= 1), `blob(n)` sizes record n's big string.
    static func array(
        records: Int, blob: (Int) -> Int = { _ in 0 },
        separator: (Int) -> String = { $0 == 1 ? "," : separators[$0 % separators.count] },
        prefix: String = "", suffix: String = ""
    ) -> LargeInput {
        var input = LargeInput()
        input.append(prefix + "[\n")
        for n in 0..<records {
            if n > 0 {
                let text = separator(n)
                input.commaBefore.append(input.bytes.count + Array(text.utf8).firstIndex(of: UInt8(ascii: ","))!)
                input.append(text)
            } else {
                input.commaBefore.append(nil)
            }
            input.appendRecord(armRecord(n, blob: blob(n)))
        }
        input.append("\n]" + suffix + "\n")
        return input
    }

    /// One record per line, with blank lines, white space lines and CRLF mixed in.
    static func ndjson(records: Int) -> LargeInput {
        var input = LargeInput()
        for n in 0..<records {
            input.appendRecord(armRecord(n))
            switch n % 7 {
            case 0: input.append("\r\n")
            case 3: input.append("\n\n")
            case 5: input.append("\n \t \r\n")
            default: input.append("\n")
            }
        }
        return input
    }

    /// The offsets after equal shares of the array, where the parallel reader starts looking for cuts.
    func cutPoints(parallelism: Int) -> [Int] {
        let first = recordStarts[0]
        return (1..<parallelism).map { first + (bytes.count - first) * $0 / parallelism }
    }

    /// The element starts JSONRecords guesses, mirroring `guessElementStart` as of a9679a8: after each cut point,
    /// `}` + the separator after the first element + `{`, preferring a `{"id"` within 256 KiB.
    ///
    /// Used only to aim errors at the cuts; if the reader's strategy changes, the tests stay correct but aim
    /// less precisely.
    func guessedStarts(parallelism: Int) -> [Int] {
        guard recordStarts.count > 1 else { return [] }
        let separator = Array(bytes[recordEnds[0]..<recordStarts[1]])
        guard separator.first == UInt8(ascii: ",") else { return [] }
        let idKey = Array(#""id""#.utf8)
        let count = bytes.count
        var starts = [recordStarts[0]]
        for from in cutPoints(parallelism: parallelism) {
            var firstMatch: Int?
            var found: Int?
            var i = from
            let preferWithin = from + (256 << 10)
            while i + separator.count + 1 < count {
                if bytes[i] == UInt8(ascii: "}") && bytes[(i + 1)...].starts(with: separator)
                    && bytes[i + 1 + separator.count] == UInt8(ascii: "{")
                {
                    let brace = i + 1 + separator.count
                    if bytes[(brace + 1)...].starts(with: idKey) {
                        found = brace
                        break
                    }
                    if firstMatch == nil { firstMatch = brace }
                }
                if i > preferWithin, firstMatch != nil { break }
                i += 1
            }
            if let guess = found ?? firstMatch, guess > starts.last! { starts.append(guess) }
        }
        return Array(starts.dropFirst())
    }

    /// The index of the record that contains `offset`.
    func record(containing offset: Int) -> Int {
        (recordStarts.lastIndex { $0 <= offset }) ?? 0
    }
}

/// The large array inputs.
enum LargeShape: String, CaseIterable, Sendable {
    /// 4500 compact records, rotating separators, nested `{"id"` objects matching the learned separator.
    case compact
    /// Every 19th record holds a 110 KB string of separator-like text.
    case blobs
    /// One record in the middle holds a 2.3 MB string: every cut point falls inside it.
    case giant
    /// `,\n  ` between all records, as `az` and `jq` print arrays.
    case pretty

    fileprivate var input: LargeInput {
        switch self {
        case .compact: LargeInputs.compact
        case .blobs: LargeInputs.blobs
        case .giant: LargeInputs.giant
        case .pretty: LargeInputs.pretty
        }
    }
}

/// Built once per test process.
private enum LargeInputs {
    static let compact = LargeInput.array(records: 4500)
    static let blobs = LargeInput.array(records: 400, blob: { $0 % 19 == 7 ? 5500 : 0 })
    static let giant = LargeInput.array(records: 11, blob: { $0 == 5 ? 115_000 : 0 })
    static let pretty = LargeInput.array(records: 4500, separator: { _ in ",\n  " })
    static let lines = LargeInput.ndjson(records: 4500)
}

@Suite("JSONRecords: large inputs, parallel and sequential agree")
struct JSONRecordsParallelTests {
    @Test("the inputs are above the parallel threshold and the giant string spans every cut point")
    func sizes() {
        for shape in LargeShape.allCases {
            #expect(shape.input.bytes.count > JSONRecords.parallelThreshold, "\(shape)")
        }
        #expect(LargeInputs.lines.bytes.count > JSONRecords.parallelThreshold)
        let giant = LargeInputs.giant
        for parallelism in [2, 3, 4, 8] {
            for cut in giant.cutPoints(parallelism: parallelism) {
                #expect(giant.blobRanges[0].contains(cut))
            }
        }
        // The mirror of the reader's guesses lands inside the giant string and on nested objects.
        #expect(giant.guessedStarts(parallelism: 4).allSatisfy { giant.blobRanges[0].contains($0) })
        let compact = LargeInputs.compact
        #expect(compact.guessedStarts(parallelism: 8).contains { !compact.recordStarts.contains($0) })
    }

    @Test("a large array: parallel reads give the sequential records", arguments: LargeShape.allCases)
    func largeArray(shape: LargeShape) throws {
        let input = shape.input
        let bytes = JSONBytes(input.bytes, source: "big.json")
        let sequential = try JSONRecords.read(bytes, parallelism: 1)
        #expect(sequential.layout == .array)
        #expect(sequential.records.count == input.recordStarts.count)
        #expect(sequential.records.map(\.root.offset) == input.recordStarts)
        for parallelism in shape == .compact ? [2, 3, 4, 8] : [3, 4] {
            let parallel = try JSONRecords.read(bytes, parallelism: parallelism)
            expectSame(sequential, parallel, "\(shape), parallelism \(parallelism)")
            #expect(parallel.records.enumerated().allSatisfy { $0.element.path == "$[\($0.offset)]" })
            // Spot checks: the records decode.
            for k in [0, input.recordStarts.count / 2, input.recordStarts.count - 1] {
                #expect(parallel.records[k].root["name"]?.string == "aks-\(k)")
                #expect(parallel.records[k].root.value(atPath: "properties", "count")?.int64 == Int64(k))
            }
        }
    }

    @Test("the giant string record matches one sequential JSONDocument parse")
    func giantAgainstDocument() throws {
        let input = LargeInputs.giant
        let whole = try JSONDocument.parse(JSONBytes(input.bytes, source: "big.json"))
        let elements = Array(whole.root.elements)
        let parallel = try read(bytes: input.bytes, parallelism: 4)
        #expect(elements.count == parallel.records.count)
        #expect(elements.map(\.rawText) == parallel.records.map(\.root.rawText))
        #expect(elements.map(\.offset) == parallel.records.map(\.root.offset))
        let blob = String(repeating: blobUnit.replacing(#"\""#, with: "\""), count: 115_000)
        #expect(parallel.records[5].root.value(atPath: "tags", "blob")?.string == blob)
    }

    @Test("a large envelope: paths $.data[i], envelope members kept", arguments: [1, 4])
    func largeEnvelope(parallelism: Int) throws {
        let input = LargeInput.array(
            records: 4500, separator: { _ in ",\n  " }, prefix: #"{"totalRecords":4500,"count":4500,"data":"#,
            suffix: #","facets":[],"resultTruncated":"false","$skipToken":"abc"}"#)
        let set = try read(bytes: input.bytes, parallelism: parallelism)
        #expect(set.layout == .envelope)
        #expect(set.records.count == 4500)
        #expect(set.records.map(\.root.offset) == input.recordStarts)
        #expect(set.records[4499].path == "$.data[4499]")
        #expect(set.records[3210].path == "$.data[3210]")
        #expect(set.envelope["$skipToken"] == .string("abc"))
        #expect(set.envelope["totalRecords"] == .int(4500))
        #expect(set.envelope.count == 5)
    }

    @Test("a small data array followed by a large member: the guesses fall outside the records")
    func guessesAfterTheArray() throws {
        var bytes = Array(#"{"data":[{"id":"a"},{"id":"b"}],"facets":"#.utf8)
        bytes += LargeInputs.compact.bytes
        bytes += Array("}".utf8)
        let sequential = try read(bytes: bytes, parallelism: 1)
        let parallel = try read(bytes: bytes, parallelism: 4)
        #expect(parallel.records.map(\.root.rawText) == [#"{"id":"a"}"#, #"{"id":"b"}"#])
        expectSame(sequential, parallel, "facets")
    }

    @Test("large NDJSON: every parallelism gives the sequential records", arguments: [2, 4, 7])
    func largeNDJSON(parallelism: Int) throws {
        let input = LargeInputs.lines
        let sequential = try read(bytes: input.bytes, parallelism: 1)
        let parallel = try read(bytes: input.bytes, parallelism: parallelism)
        #expect(sequential.layout == .ndjson)
        #expect(sequential.records.map(\.root.offset) == input.recordStarts)
        expectSame(sequential, parallel, "ndjson parallelism \(parallelism)")
        #expect(parallel.records[3777].root["name"]?.string == "aks-3777")
    }

    /// Patches the `true` of record `k` into `tru_` (same length, so every other offset stays put).
    private static func breakLiteral(_ input: LargeInput, record k: Int) -> ([UInt8], Int) {
        var bytes = input.bytes
        let at = input.okOffsets[k]
        bytes[at + 3] = UInt8(ascii: "_")
        return (bytes, at)
    }

    /// Checks parallel reads report exactly the sequential error, and that it is at `offset` with `path`.
    private static func expectSameError(
        _ bytes: [UInt8], offset: Int, path: String, compareWithDocument: Bool = true, parallelisms: [Int] = [4],
        checkLine: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard let sequential = readError(bytes: bytes, parallelism: 1) else {
            Issue.record("the input must be rejected", sourceLocation: sourceLocation)
            return
        }
        #expect(sequential.offset == offset, sourceLocation: sourceLocation)
        #expect(sequential.path == path, sourceLocation: sourceLocation)
        if checkLine {
            #expect(sequential.line == line(of: offset, in: bytes), sourceLocation: sourceLocation)
        }
        for parallelism in parallelisms {
            let parallel = readError(bytes: bytes, parallelism: parallelism)
            #expect(parallel == sequential, "parallelism \(parallelism)", sourceLocation: sourceLocation)
        }
        if compareWithDocument, let document = documentError(bytes: bytes) {
            #expect(document.offset == sequential.offset, sourceLocation: sourceLocation)
            #expect(document.line == sequential.line, sourceLocation: sourceLocation)
            #expect(document.column == sequential.column, sourceLocation: sourceLocation)
            #expect(document.path == sequential.path, sourceLocation: sourceLocation)
        }
    }

    @Test("an error in the second half of a large array is reported like the sequential parse")
    func errorInSecondHalf() {
        for input in [LargeInputs.compact, LargeInputs.pretty, LargeInputs.giant] {
            let n = input.recordStarts.count
            for k in Set([n * 2 / 3, n - 1]) {
                let (bytes, at) = Self.breakLiteral(input, record: k)
                Self.expectSameError(
                    bytes, offset: at, path: "$[\(k)].properties.ok", parallelisms: [2, 4], checkLine: true)
            }
        }
    }

    @Test("an error in the first half is not hidden by the later parts")
    func errorInFirstHalf() {
        let input = LargeInputs.compact
        let (bytes, at) = Self.breakLiteral(input, record: 10)
        Self.expectSameError(bytes, offset: at, path: "$[10].properties.ok")
        // Two errors: the first in input order wins.
        var both = bytes
        both[input.okOffsets[4000] + 3] = UInt8(ascii: "_")
        Self.expectSameError(both, offset: at, path: "$[10].properties.ok")
    }

    @Test("errors right before and right at each guessed cut", arguments: [LargeShape.compact, .pretty])
    func errorsAtCuts(shape: LargeShape) {
        let input = shape.input
        let guesses = input.guessedStarts(parallelism: 4)
        #expect(guesses.count == 3)
        for guess in guesses {
            let r = input.record(containing: guess)
            for k in Set([max(0, r - 1), r]) {
                let (bytes, at) = Self.breakLiteral(input, record: k)
                Self.expectSameError(bytes, offset: at, path: "$[\(k)].properties.ok", compareWithDocument: false)
            }
            // A missing comma right before the element holding the guess.
            if let comma = input.commaBefore[r] {
                var bytes = input.bytes
                bytes[comma] = UInt8(ascii: " ")
                Self.expectSameError(bytes, offset: input.recordStarts[r], path: "$[\(r - 1)]")
            }
        }
    }

    @Test("structural errors at the end of a large array")
    func errorsAtTheEnd() {
        let input = LargeInputs.pretty
        let n = input.recordStarts.count
        // Truncated: no closing bracket.
        var truncated = input.bytes
        truncated.removeLast(3)  // "\n]\n"
        Self.expectSameError(truncated, offset: truncated.count, path: "$[\(n - 1)]")
        // A trailing comma before the bracket.
        var trailing = input.bytes
        trailing[trailing.count - 3] = UInt8(ascii: ",")
        Self.expectSameError(trailing, offset: trailing.count - 2, path: "$[\(n)]")
        // Data after the bracket.
        let after = input.bytes + Array("x".utf8)
        Self.expectSameError(after, offset: input.bytes.count, path: "$")
        // A control character inside a string of a record in the last quarter.
        var control = input.bytes
        let k = n * 7 / 8
        let name = input.recordStarts[k] + 10  // inside the "id" string
        control[name] = 0x01
        Self.expectSameError(control, offset: name, path: "$[\(k)].id")
    }

    @Test("an error inside the giant string, just after each cut point")
    func errorInsideGiantString() {
        let input = LargeInputs.giant
        for cut in input.cutPoints(parallelism: 4) {
            // The next `{` of the blob: overwrite the two bytes after it with an invalid escape.
            let brace = input.bytes[cut...].firstIndex(of: UInt8(ascii: "{"))!
            var bytes = input.bytes
            bytes[brace + 1] = UInt8(ascii: "\\")
            bytes[brace + 2] = UInt8(ascii: "q")
            Self.expectSameError(bytes, offset: brace + 1, path: "$[5].tags.blob", parallelisms: [2, 4])
        }
    }

    @Test("an error in the second half of large NDJSON")
    func ndjsonError() {
        let input = LargeInputs.lines
        for k in [5, 3000, input.recordStarts.count - 1] {
            let (bytes, at) = Self.breakLiteral(input, record: k)
            Self.expectSameError(
                bytes, offset: at, path: "$.properties.ok", compareWithDocument: false, parallelisms: [2, 4],
                checkLine: k == 3000)
        }
    }

    @Test("an error in a large envelope's data array")
    func envelopeError() {
        let input = LargeInput.array(
            records: 4500, separator: { _ in ",\n  " }, prefix: #"{"count":4500,"data":"#, suffix: "}")
        let (bytes, at) = Self.breakLiteral(input, record: 3210)
        Self.expectSameError(bytes, offset: at, path: "$.data[3210].properties.ok")
    }
}

// MARK: - Visitors and mapped input

/// One visited record: what the visitor saw while the record was being parsed.
private struct Visit: Sendable, Equatable {
    var path: String
    var offset: Int
}

/// Records the path and offset of every record it visits.
private struct PathRecorder: RecordVisitor {
    func makeOutput() -> [Visit] { [] }

    func visit(_ record: JSONDocument, into output: inout [Visit]) {
        output.append(Visit(path: record.path, offset: record.root.offset))
    }
}

@Suite("JSONRecords: visitors and memory-mapped input")
struct JSONRecordsVisitorTests {
    @Test(
        "the visitors' outputs hold exactly the returned records, in order",
        arguments: [LargeShape.compact, .pretty, .giant])
    func outputsMatchRecords(shape: LargeShape) throws {
        let bytes = JSONBytes(shape.input.bytes, source: "big.json")
        for parallelism in [1, 4] {
            let (set, outputs) = try JSONRecords.read(
                bytes, parallelism: parallelism, visitor: PathRecorder(), releaseInput: false)
            // A part whose guessed start was wrong must not leave its output behind.
            #expect(outputs.flatMap { $0 }.map(\.offset) == set.records.map(\.root.offset))
            #expect(set.records.map(\.root.offset) == shape.input.recordStarts)
        }
    }

    @Test("small inputs in every layout are visited once per record")
    func smallLayouts() throws {
        for text in [
            "[1, {\"a\": 2}]", #"{"data": [{"id": 1}, {"id": 2}], "count": 2}"#, "{\"a\":1}\n{\"a\":2}\n", "{\"a\":1}",
            "[]",
        ] {
            let (set, outputs) = try JSONRecords.read(JSONBytes(text), visitor: PathRecorder(), releaseInput: false)
            #expect(outputs.flatMap { $0 }.map(\.offset) == set.records.map(\.root.offset), "\(text)")
            #expect(outputs.flatMap { $0 }.map(\.path) == set.records.map(\.path), "\(text)")
        }
    }

    @Test("record paths are final once read returns, on every parallelism", arguments: [1, 2, 4])
    func pathsAfterRead(parallelism: Int) throws {
        // A part's first index is known only when the parts join, so a visitor must not keep
        // `record.path` strings (RecordVisitor says so); after `read` returns, every path is final.
        let input = LargeInputs.pretty
        let bytes = JSONBytes(input.bytes, source: "big.json")
        let (set, outputs) = try JSONRecords.read(
            bytes, parallelism: parallelism, visitor: PathRecorder(), releaseInput: false)
        let visited = outputs.flatMap { $0 }
        #expect(visited.count == set.records.count)
        for (n, record) in set.records.enumerated() { #expect(record.path == "$[\(n)]") }
        // The visitor saw exactly the returned records, in order.
        #expect(zip(visited, set.records).allSatisfy { $0.offset == $1.root.offset })
    }

    @Test("an unusable record in the second half of a large array is named by its final index")
    func inventoryProblemIndex() throws {
        var content = Array("[\n".utf8)
        let count = 3000
        let pad = String(repeating: "x", count: 900)
        for n in 0..<count {
            if n > 0 { content += Array(",\n".utf8) }
            let id =
                n == 2500
                ? ""
                : #""id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c\#(n)","#
            content += Array(#"{\#(id)"pad":"\#(pad)"}"#.utf8)
        }
        content += Array("\n]\n".utf8)
        #expect(content.count > JSONRecords.parallelThreshold)
        let path = try Self.temporaryFile(content)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for parallelism in [1, 2, 4] {
            do {
                _ = try SnapshotReader.load(path: path, parallelism: parallelism)
                Issue.record("expected an invalid-records error")
            } catch {
                guard case .invalidRecords(let problems) = error else {
                    Issue.record("unexpected error \(error)")
                    continue
                }
                #expect(problems.problems.map(\.path) == ["$[2500].id"], "parallelism \(parallelism)")
            }
        }
    }

    /// Writes `bytes` to a new temporary file and returns its path (removed by the caller).
    private static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "jsonrecords-\(UUID().uuidString).json").path
        try Data(bytes).write(to: URL(filePath: path))
        return path
    }

    @Test("a memory-mapped file read with page release gives the records of a plain read")
    func mappedWithRelease() throws {
        // ~40 MiB of records with long strings (cheap to scan), above JSONBytes.mapThreshold and releaseChunk.
        let blob = [UInt8](repeating: UInt8(ascii: "q"), count: 65_000)
        var content = Array("[\n".utf8)
        var starts: [Int] = []
        var n = 0
        while content.count < JSONBytes.mapThreshold + (8 << 20) {
            if n > 0 { content += Array(",\n".utf8) }
            starts.append(content.count)
            content += Array(#"{"id":"/r/\#(n)","blob":""#.utf8) + blob + Array(#""}"#.utf8)
            n += 1
        }
        content += Array("\n]\n".utf8)
        let path = try Self.temporaryFile(content)
        defer { unlink(path) }

        let mapped = try JSONBytes(contentsOfFile: path)
        #expect(mapped.isMapped)
        #expect(mapped.count == content.count)
        #expect((0..<JSONBytes.padding).allSatisfy { mapped.start[mapped.count + $0] == 0 })
        for parallelism in [1, 4] {
            let (set, outputs) = try JSONRecords.read(
                mapped, parallelism: parallelism, visitor: PathRecorder(), releaseInput: true)
            #expect(set.records.map(\.root.offset) == starts)
            #expect(outputs.flatMap { $0 }.map(\.offset) == starts)
            // Records read after their pages went back to the page cache still hold their text.
            for k in [0, 1, n / 2, n - 1] {
                #expect(set.records[k].root["id"]?.string == "/r/\(k)")
                #expect(set.records[k].root["blob"]?.string?.utf8.count == blob.count)
            }
        }
        // The same file read into memory.
        let plain = try JSONRecords.read(JSONBytes(content, source: path), parallelism: 4)
        #expect(plain.records.map(\.root.offset) == starts)
    }

    @Test("a mapped file whose size is a multiple of the page size is followed by zeros")
    func mappedPageMultiple() throws {
        // 32 MiB exactly: an unterminated string runs to the end of the file; the scanner must stop at the zero
        // padding after the mapping and report the end, not read past it.
        let size = JSONBytes.mapThreshold
        #expect(size % Int(sysconf(Int32(_SC_PAGESIZE))) == 0)
        var content = [UInt8](repeating: UInt8(ascii: "a"), count: size)
        content[0] = UInt8(ascii: "\"")
        let path = try Self.temporaryFile(content)
        defer { unlink(path) }
        let bytes = try JSONBytes(contentsOfFile: path)
        #expect(bytes.isMapped)
        #expect((0..<JSONBytes.padding).allSatisfy { bytes.start[size + $0] == 0 })
        do {
            _ = try JSONDocument.parse(bytes)
            Issue.record("an unterminated string must be rejected")
        } catch {
            #expect(error.message == "unterminated string")
            #expect(error.offset == size)
            #expect(error.line == 1 && error.column == size + 1)
        }
    }
}
