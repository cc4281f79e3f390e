import Foundation
import Testing

@testable import FleetCore

// Deterministic fuzzing of the JSON reader: random bytes, random token strings and mutations of ARM-shaped
// documents and of large multi-record inputs. Every input must parse or throw JSONError (a crash fails the run),
// parsed values must survive materialize -> JSONWriter -> parse, and parallel record reads must agree with
// sequential ones.

// MARK: - Random numbers

/// SplitMix64: a tiny, fast, seedable generator, so every run sees the same inputs.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next(upperBound: UInt64(n))) }

    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

// MARK: - Seeds

/// ARM-shaped documents in every layout JSONRecords accepts.
private let armSeeds: [String] = [
    #"""
    {
      "id": "/subscriptions/0000/resourceGroups/rg-fleet/providers/Microsoft.ContainerService/managedClusters/aks-01",
      "name": "aks-01",
      "type": "Microsoft.ContainerService/managedClusters",
      "location": "westeurope",
      "tags": {"env": "prod", "owner": "t\u00e9am \"a\"", "emoji": "\ud83d\ude00 😀", "path": "c:\\x\/y"},
      "sku": {"name": "Base", "tier": "Standard"},
      "properties": {
        "provisioningState": "Succeeded",
        "kubernetesVersion": "1.29.2",
        "agentPoolProfiles": [
          {"name": "system", "count": 3, "vmSize": "Standard_D4s_v5", "enableAutoScaling": true, "maxPods": 110},
          {"name": "user", "count": 0, "minCount": null, "scale": -1.5e-3, "weight": 0.25, "big": 18446744073709551615}
        ],
        "networkProfile": {"podCidr": "10.244.0.0/16", "serviceCidrs": ["10.0.0.0/16"], "outboundType": "loadBalancer"},
        "fluxEnabled": false,
        "limits": [1, -2, 3.5, 4e2, -0, 9223372036854775807, -9223372036854775808]
      }
    }
    """#,
    #"{"totalRecords":3,"count":3,"data":[{"id":"/a","name":"a","properties":{"x":1}},{"id":"/b","name":"b","#
        + #""tags":{}},{"id":"/c","v":[true,false,null]}],"facets":[],"resultTruncated":"false","$skipToken":"abc=="}"#,
    #"""
    {"value": [
      {"id": "/subscriptions/s/providers/Microsoft.KubernetesConfiguration/extensions/flux",
       "properties": {"version": "1.8.2", "configurationSettings": {"a.b": "c"}}},
      {"id": "/subscriptions/s/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/cfg",
       "properties": {"gitRepository": {"url": "https://example.com/repo.git", "repositoryRef": {"branch": "main"}},
                      "kustomizations": {"infra": {"path": "./infra", "dependsOn": []}}}}
    ], "nextLink": "https://management.azure.com/next?$skiptoken=x"}
    """#,
    #"{"id":"/1","n":1,"s":"a\nb"}"# + "\n" + #"{"id":"/2","n":2.5,"t":[1,{"x":[]}]}"# + "\r\n\n"
        + #"{"id":"/3","e":"\u00e9"}"# + "\n",
    #"[{"id":"/x","tags":{"k":"v \u2028 \ud834\udd1e"}},{"id":"/y","n":[[],[[]],{}]},{"id":"/z","q":"},{"},"#
        + #"{"id":"/w","u":"\\\""}]"#,
]

/// Tokens for random JSON-like strings: structure, literals, number pieces, escapes and raw UTF-8.
private let tokens: [String] = [
    "{", "}", "[", "]", ",", ":", "\"", "\"", "\"a\"", "\"key\"", "\\", "\\\"", "\\u", "\\u00e9", "\\ud83d", "\\ude00",
    "\\n", "\\x", "0", "1", "9", "-", "+", ".", "e", "E", "12", "1e400", "true", "false", "null", "tru", "nul", " ",
    "\n", "\t", "\r\n", "é", "😀", "\u{7F}", "\u{1}", "a", "x",
]

/// Bytes worth inserting: structure, quotes, escapes, digits, white space, invalid UTF-8 and controls.
private let interestingBytes: [UInt8] =
    Array("{}[],:\"\\-+.eE0123456789tfn \n\r\tu/".utf8) + [
        0x00, 0x01, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xA9, 0xE6, 0xED, 0xA0, 0xF0, 0xF4, 0xF5, 0xFF,
    ]

/// Number texts, including the 64-bit edges and values out of Double's range.
private let numberTexts = [
    "0", "-0", "1", "-12", "3.25", "1e5", "1E+2", "-0.5e-3", "0.1", "18446744073709551616", "18446744073709551615",
    "9223372036854775807", "-9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "5e-324", "2.0",
    "123456789012345678901234567890",
]

/// String pieces: plain, raw UTF-8, every escape, and separator-like text.
private let stringPieces = [
    "a", "Key", "é", "日本", "😀", #"\n"#, #"\t"#, #"\b\f\r"#, #"\u00e9"#, #"\u0000"#, #"\ud83d\ude00"#, #"\""#,
    #"\\"#, #"\/"#, " ", "},{", "]", "\u{7F}",
]

private let spaces = ["", "", "", " ", "\n", "\t", "\r\n", "  "]

/// A random valid JSON text (values nest up to five levels).
private func randomJSON(_ rng: inout SplitMix64, depth: Int = 0) -> String {
    func space() -> String { spaces[rng.below(spaces.count)] }
    func string() -> String {
        "\"" + (0..<rng.below(5)).map { _ in stringPieces[rng.below(stringPieces.count)] }.joined() + "\""
    }
    switch rng.below(depth >= 4 ? 6 : 9) {
    case 0: return "null"
    case 1: return rng.chance(50) ? "true" : "false"
    case 2, 3: return numberTexts[rng.below(numberTexts.count)]
    case 4, 5: return string()
    case 6, 7:
        let items = (0..<rng.below(5)).map { _ in space() + randomJSON(&rng, depth: depth + 1) + space() }
        return "[" + items.joined(separator: ",") + space() + "]"
    default:
        let members = (0..<rng.below(5)).map { _ in
            space() + string() + space() + ":" + space() + randomJSON(&rng, depth: depth + 1) + space()
        }
        return "{" + members.joined(separator: ",") + space() + "}"
    }
}

// MARK: - Checks

/// How many inputs hit each known bug (see the failing tests named in `normalizedForKnownBugs`).
private final class Tally: @unchecked Sendable {
    // @unchecked: each test owns its own tally and uses it from one task.
    var valid = 0
    var invalid = 0
    var knownWriterBug = 0
    var knownEmptyKeyBug = 0
    var oracleExcluded: [String: Int] = [:]
}

/// The tree with the two known writer/number bugs applied, so the round trip can be compared exactly otherwise.
///
/// - an integral `.double` with magnitude below 1e15 is written as an integer and reads back as `.int`
///   (JSONParserTests "doubles with an integral value keep their kind through the writer");
/// - a non-finite `.double` (from a number out of Double's range such as 1e400) is written as `null`
///   (JSONParserTests "a parsed number out of Double's range does not round trip").
private func normalizedForKnownBugs(_ json: JSON) -> JSON {
    switch json {
    case .number(.double(let d)):
        if !d.isFinite { return .null }
        if d.rounded() == d && abs(d) < 1e15 { return .number(.int(Int64(d))) }
        return json
    case .array(let items): return .array(items.map(normalizedForKnownBugs))
    case .object(let members): return .object(members.mapValues(normalizedForKnownBugs))
    default: return json
    }
}

/// Parses `bytes` as one document; when it parses, checks the accessors and the writer round trip.
///
/// Returns the error, or nil when the input is valid.
@discardableResult
private func checkDocument(_ bytes: [UInt8], _ tally: Tally, label: String) -> JSONError? {
    let input = JSONBytes(bytes, source: "fuzz")
    let document: JSONDocument
    do {
        document = try JSONDocument.parse(input)
    } catch {
        tally.invalid += 1
        // The error describes a real place in the input.
        #expect(error.offset >= 0 && error.offset <= bytes.count, "\(label)")
        #expect(input.lineAndColumn(of: error.offset) == (error.line, error.column), "\(label)")
        #expect(error.path.hasPrefix("$"), "\(label)")
        #expect(!error.message.isEmpty, "\(label)")
        return error
    }
    tally.valid += 1
    let root = document.root
    let tree = root.materialize()
    // The raw text of the root is the input without surrounding white space, and reads back the same.
    let raw = root.rawText
    #expect((try? JSON.parse(raw)) == tree, "\(label)")
    #expect(root.offset >= 0 && root.offset < bytes.count, "\(label)")
    for pretty in [false, true] {
        var writer = JSONWriter(pretty: pretty)
        writer.value(tree)
        let back: JSON
        do {
            back = try JSON.parse(writer.text)
        } catch {
            Issue.record("\(label): the writer's output does not parse: \(error)\n\(writer.text)")
            continue
        }
        if back != tree {
            tally.knownWriterBug += 1
            #expect(back == normalizedForKnownBugs(tree), "\(label): round trip changed the value: \(writer.text)")
        }
    }
    checkAccessors(root, tree, tally, label: label)
    return nil
}

/// Walks the tape and the tree together: counts, elements, and member lookups that must hit or miss.
private func checkAccessors(_ value: JSONValue, _ tree: JSON, _ tally: Tally, label: String) {
    switch tree {
    case .array(let items):
        #expect(value.count == items.count, "\(label)")
        for (element, item) in zip(value.elements, items) { checkAccessors(element, item, tally, label: label) }
    case .object(let members):
        #expect(value.members.count { _ in true } == value.count, "\(label)")
        for (key, member) in members {
            #expect(value[key]?.materialize() == member, "\(label): \(key.debugDescription)")
            // Near misses: a quote before or after the key, a prefix, a longer key.
            for query in ["\"" + key, key + "\"", String(key.dropLast()), key + "x", "\":"] {
                let found = value[query] != nil
                if found == (members[query] != nil) { continue }
                if query.hasPrefix("\"") && members[""] != nil {
                    // JSONParserTests "a query that starts with a quote does not match the empty key".
                    tally.knownEmptyKeyBug += 1
                    continue
                }
                Issue.record("\(label): lookup of \(query.debugDescription) found: \(found)")
            }
        }
        // Duplicate keys: only the last occurrence is in the tree.
        var last: [String: JSONValue] = [:]
        for (key, member) in value.members { last[key] = member }
        for (key, member) in last where members[key] != nil {
            checkAccessors(member, members[key]!, tally, label: label)
        }
    default:
        #expect(value.count == 0, "\(label)")
        #expect(value.rawText.isEmpty == false, "\(label)")
    }
}

/// Collects the offset of every record it visits.
private struct OffsetRecorder: RecordVisitor {
    func makeOutput() -> [Int] { [] }

    func visit(_ record: JSONDocument, into output: inout [Int]) { output.append(record.root.offset) }
}

/// Reads `bytes` as records sequentially and with 4 parts; both must give the same records or the same error, and
/// the parallel read's visitor must have seen exactly the returned records.
private func checkRecords(_ bytes: [UInt8], label: String) {
    let input = JSONBytes(bytes, source: "fuzz")
    let sequential = Result { () throws(JSONError) in try JSONRecords.read(input, parallelism: 1) }
    let visited = Result { () throws(JSONError) in
        try JSONRecords.read(input, parallelism: 4, visitor: OffsetRecorder(), releaseInput: false)
    }
    let parallel = visited.map(\.records)
    if case .success(let (set, outputs)) = visited {
        #expect(outputs.flatMap { $0 } == set.records.map(\.root.offset), "\(label): visitor outputs")
    }
    switch (sequential, parallel) {
    case (.success(let a), .success(let b)):
        #expect(a.layout == b.layout, "\(label)")
        #expect(a.envelope == b.envelope, "\(label)")
        #expect(a.records.count == b.records.count, "\(label)")
        let same = zip(a.records, b.records).allSatisfy { x, y in
            x.path == y.path && x.root.offset == y.root.offset && x.root.rawText == y.root.rawText
        }
        #expect(same, "\(label): parallel records differ")
    case (.failure(let a), .failure(let b)):
        #expect(a == b, "\(label): parallel error differs")
    case (.success, .failure(let e)):
        Issue.record("\(label): only the parallel read failed: \(e)")
    case (.failure(let e), .success):
        Issue.record("\(label): only the sequential read failed: \(e)")
    }
    // An array input: the records are the elements of one whole-document parse, errors are at the same byte.
    var first = 0
    while first < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[first]) { first += 1 }
    guard first < bytes.count, bytes[first] == UInt8(ascii: "[") else { return }
    let whole = Result { () throws(JSONError) in try JSONDocument.parse(input) }
    switch (sequential, whole) {
    case (.success(let set), .success(let document)):
        #expect(set.records.map(\.root.offset) == document.root.elements.map(\.offset), "\(label)")
    case (.failure(let a), .failure(let b)):
        #expect(a.offset == b.offset && a.path == b.path, "\(label): records \(a) vs document \(b)")
    case (.success, .failure(let e)):
        Issue.record("\(label): records read an input the document parser rejects: \(e)")
    case (.failure(let e), .success):
        Issue.record("\(label): records reject an input the document parser reads: \(e)")
    }
}

/// Whether Foundation's JSONSerialization reads `bytes` (fragments allowed).
private func foundationAccepts(_ bytes: [UInt8]) -> Bool {
    (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
}

/// Whether the tree holds a number that is not finite.
private func hasNonFiniteNumber(_ json: JSON) -> Bool {
    switch json {
    case .number(let n): !n.doubleValue.isFinite
    case .array(let items): items.contains(where: hasNonFiniteNumber)
    case .object(let members): members.values.contains(where: hasNonFiniteNumber)
    default: false
    }
}

/// Why JSONSerialization's verdict may differ from ours.
enum JSONOracleExclusion: String, Sendable {
    case encodingDetection = "encoding detection"
    case trailingComma = "trailing comma"
    case numberOutOfRange = "number out of range"
}

/// Compares the valid/invalid verdict with JSONSerialization's; returns the exclusion that explains a difference,
/// and records an issue for a difference nothing explains.
///
/// Exclusions, where JSONSerialization is not an RFC 8259 oracle:
/// - it accepts a trailing comma before `]` or `}` (`[1,]`, `{"a":1,}`); RFC 8259 forbids it;
/// - it rejects numbers outside Double's range (`1e400`); RFC 8259 lets a parser accept them, and ours does;
/// - it guesses UTF-16/UTF-32 from NUL bytes and skips a byte order mark; we read UTF-8 only.
/// On Linux it rejects lone surrogate escapes like we do, so they need no exclusion.
@discardableResult
private func compareWithFoundation(
    _ bytes: [UInt8], ourError: JSONError?, _ tally: Tally, label: String
) -> JSONOracleExclusion? {
    let theirs = foundationAccepts(bytes)
    let ours = ourError == nil
    if theirs == ours { return nil }
    func excluded(_ reason: JSONOracleExclusion) -> JSONOracleExclusion {
        tally.oracleExcluded[reason.rawValue, default: 0] += 1
        return reason
    }
    if bytes.prefix(4).contains(0) || bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFE, 0xFF])
        || bytes.starts(with: [0xFF, 0xFE])
    {
        return excluded(.encodingDetection)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let error = ourError, theirs {
        // A trailing comma: we stopped at `]` or `}` right after a comma (and white space).
        var i = error.offset - 1
        while i >= 0, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i -= 1 }
        let closer = error.offset < bytes.count ? bytes[error.offset] : 0
        if i >= 0, bytes[i] == UInt8(ascii: ","), closer == UInt8(ascii: "]") || closer == UInt8(ascii: "}") {
            return excluded(.trailingComma)
        }
        Issue.record("\(label): JSONSerialization accepts what we reject: \(error)\n\(text)")
        return nil
    }
    if let tree = try? JSONDocument.parse(JSONBytes(bytes, source: "fuzz")).root.materialize(),
        hasNonFiniteNumber(tree)
    {
        return excluded(.numberOutOfRange)
    }
    Issue.record("\(label): we accept what JSONSerialization rejects:\n\(text)")
    return nil
}

// MARK: - Mutations

/// Applies one random edit: flip a bit, overwrite, insert, delete, duplicate or move a range, truncate.
private func mutate(_ bytes: inout [UInt8], _ rng: inout SplitMix64, near: Int? = nil) {
    func position(_ count: Int) -> Int {
        guard count > 0 else { return 0 }
        if let near { return min(count - 1, max(0, near - 64 + rng.below(128))) }
        return rng.below(count)
    }
    func randomByte() -> UInt8 {
        rng.chance(70) ? interestingBytes[rng.below(interestingBytes.count)] : UInt8(truncatingIfNeeded: rng.next())
    }
    switch rng.below(9) {
    case 0 where !bytes.isEmpty:
        let i = position(bytes.count)
        bytes[i] ^= 1 << UInt8(rng.below(8))
    case 1 where !bytes.isEmpty:
        bytes[position(bytes.count)] = randomByte()
    case 2, 3:
        bytes.insert(randomByte(), at: min(bytes.count, position(bytes.count + 1)))
    case 4 where !bytes.isEmpty:
        bytes.remove(at: position(bytes.count))
    case 5 where !bytes.isEmpty:
        let start = position(bytes.count)
        let end = min(bytes.count, start + 1 + rng.below(16))
        bytes.removeSubrange(start..<end)
    case 6 where !bytes.isEmpty:
        let start = position(bytes.count)
        let slice = Array(bytes[start..<min(bytes.count, start + 1 + rng.below(24))])
        bytes.insert(contentsOf: slice, at: min(bytes.count, position(bytes.count + 1)))
    case 7 where !bytes.isEmpty:
        let a = position(bytes.count)
        let b = position(bytes.count)
        bytes.swapAt(a, b)
    case 8 where !bytes.isEmpty:
        bytes.removeLast(rng.below(min(bytes.count, 32)) + 1)
    default:
        bytes.append(randomByte())
    }
}

/// A record-array input above the parallel threshold, with separator-like text inside strings.
private func largeRecordArray(records: Int, ndjson: Bool) -> [UInt8] {
    let notes = ["},{", "}, {", #"\"},{\""#, "},{},{}]", "plain", "é😀", #"\\"#]
    var out: [UInt8] = ndjson ? [] : Array("[\n".utf8)
    out.reserveCapacity(records * 400)
    for n in 0..<records {
        if n > 0 && !ndjson { out.append(contentsOf: (n % 3 == 0 ? ",\n" : ",").utf8) }
        let text =
            #"{"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/"#
            + #"aks-\#(n)","#
            + #""name":"aks-\#(n)","tags":{"note":"\#(notes[n % notes.count])"},"properties":{"count":\#(n),"#
            + #""pools":[{"name":"a","size":1},{"name":"b","size":2.5}],"children":[{"id":"c1"},{"id":"c2"}],"#
            + #""ok":true,"x":null,"nested":[[{}],{"r":[]}]}}"#
        out.append(contentsOf: text.utf8)
        if ndjson { out.append(contentsOf: (n % 5 == 0 ? "\r\n" : "\n").utf8) }
    }
    if !ndjson { out.append(contentsOf: "\n]\n".utf8) }
    return out
}

// MARK: - Tests

@Suite("JSON fuzz")
struct JSONFuzzTests {
    @Test("SplitMix64 is deterministic and matches the reference sequence")
    func prng() {
        var a = SplitMix64(seed: 1_234_567)
        var b = SplitMix64(seed: 1_234_567)
        let first = (0..<5).map { _ in a.next() }
        #expect(first == (0..<5).map { _ in b.next() })
        // Reference values of SplitMix64 for seed 0.
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
        #expect(zero.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test(
        "the documented differences from JSONSerialization",
        arguments: [
            ("[1,]", JSONOracleExclusion?.some(.trailingComma)),
            ("{\"a\":1 ,\n}", .trailingComma),
            ("[1e400]", .numberOutOfRange),
            ("-1e999", .numberOutOfRange),
            ("\u{FEFF}[1]", .encodingDetection),
            ("[1]", nil),
            ("[01]", nil),
            (#""\ud800""#, nil),
        ])
    func oracleExclusions(text: String, expected: JSONOracleExclusion?) {
        let bytes = Array(text.utf8)
        let ours: JSONError? =
            switch Result(catching: { () throws(JSONError) in try JSONDocument.parse(JSONBytes(bytes, source: "t")) }) {
            case .success: nil
            case .failure(let error): error
            }
        #expect(compareWithFoundation(bytes, ourError: ours, Tally(), label: text) == expected)
    }

    @Test("random bytes parse or throw JSONError")
    func randomBytes() {
        var rng = SplitMix64(seed: 0xF1EE7)
        let tally = Tally()
        for iteration in 0..<1500 {
            let length = rng.below(48)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                bytes.append(
                    rng.chance(50)
                        ? UInt8(truncatingIfNeeded: rng.next()) : interestingBytes[rng.below(interestingBytes.count)])
            }
            checkDocument(bytes, tally, label: "random bytes #\(iteration)")
            checkRecords(bytes, label: "random bytes #\(iteration)")
        }
        #expect(tally.valid + tally.invalid == 1500)
    }

    @Test("random token strings and generated JSON agree with JSONSerialization")
    func randomTokens() {
        var rng = SplitMix64(seed: 0x70CE45)
        let tally = Tally()
        for iteration in 0..<2500 {
            var text = ""
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                // Token soup: mostly invalid.
                for _ in 0..<(1 + rng.below(24)) { text += tokens[rng.below(tokens.count)] }
                bytes = Array(text.utf8)
            } else {
                // Valid JSON from the grammar, then (half of the time) one byte-level edit.
                text = spaces[rng.below(spaces.count)] + randomJSON(&rng) + spaces[rng.below(spaces.count)]
                bytes = Array(text.utf8)
                if rng.chance(50) {
                    mutate(&bytes, &rng)
                    text = String(decoding: bytes, as: UTF8.self)
                }
            }
            let label = "tokens #\(iteration): \(text.debugDescription)"
            let error = checkDocument(bytes, tally, label: label)
            compareWithFoundation(bytes, ourError: error, tally, label: label)
            checkRecords(bytes, label: label)
        }
        // The generator produces both verdicts in quantity, so the comparison means something.
        #expect(tally.valid > 500)
        #expect(tally.invalid > 1000)
    }

    @Test("mutated ARM documents: parse or throw, round trip, records agree, JSONSerialization agrees")
    func mutatedARMDocuments() {
        var rng = SplitMix64(seed: 0xA2)
        let tally = Tally()
        for (s, seed) in armSeeds.enumerated() {
            let original = Array(seed.utf8)
            // The seeds themselves are valid for both parsers.
            #expect(checkDocument(original, tally, label: "seed \(s)") == nil || s == 3)
            #expect(foundationAccepts(original) || s == 3)
            checkRecords(original, label: "seed \(s)")
            for iteration in 0..<700 {
                var bytes = original
                for _ in 0..<(1 + rng.below(3)) { mutate(&bytes, &rng) }
                let label = "seed \(s) mutation #\(iteration)"
                let error = checkDocument(bytes, tally, label: label)
                if s != 3 {  // NDJSON is not one JSON text for either parser.
                    compareWithFoundation(bytes, ourError: error, tally, label: label)
                }
                checkRecords(bytes, label: label)
            }
        }
        #expect(tally.valid > 200)
        #expect(tally.invalid > 1000)
    }

    @Test("mutated large record arrays and NDJSON: parallel and sequential reads agree")
    func mutatedLargeInputs() {
        var rng = SplitMix64(seed: 0xB16)
        let array = largeRecordArray(records: 8000, ndjson: false)
        let lines = largeRecordArray(records: 8000, ndjson: true)
        #expect(array.count > JSONRecords.parallelThreshold)
        #expect(lines.count > JSONRecords.parallelThreshold)
        checkRecords(array, label: "large array")
        checkRecords(lines, label: "large ndjson")
        for iteration in 0..<10 {
            let ndjson = iteration % 4 == 3
            var bytes = ndjson ? lines : array
            // Edit near the places the parallel reader cuts (equal shares of 2, 3 and 4 parts), or anywhere.
            let shares = [1, 2, 3, 4]
            let parts = shares[rng.below(shares.count)] + 1
            let near = rng.chance(75) ? bytes.count * (1 + rng.below(parts - 1)) / parts + rng.below(2048) : nil
            for _ in 0..<(1 + rng.below(3)) { mutate(&bytes, &rng, near: near) }
            checkRecords(bytes, label: "large \(ndjson ? "ndjson" : "array") mutation #\(iteration)")
        }
    }
}
