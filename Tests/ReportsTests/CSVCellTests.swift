import FleetCore
import Testing

@testable import Reports

/// The report CSV encodes cells as the inventory CSV does, and also quotes CR LF.
@Suite("CSV cells")
struct CSVCellTests {
    @Test(
        "cells are encoded like FleetCore's CSV.cell",
        arguments: [
            "", "plain", "a,b", "say \"hi\"", "line\nbreak", "=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx", "é,ü",
            "=a,\"b\"",
        ])
    func sameAsInventory(_ value: String) {
        #expect(CSVRenderer.cell(value) == CSV.cell(value))
        var bytes: [UInt8] = []
        CSVRenderer.append(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == CSV.cell(value))
    }

    @Test("a CR LF inside a value is quoted, so it cannot end the row")
    func crlf() {
        #expect(CSVRenderer.cell("a\r\nb") == "\"a\r\nb\"")
        var bytes: [UInt8] = []
        CSVRenderer.append("a\r\nb", to: &bytes)
        #expect(bytes == Array("\"a\r\nb\"".utf8))
    }
}

/// XML escaping keeps text that needs none, and escapes or replaces what XML cannot hold.
@Suite("XML text")
struct XMLTextTests {
    @Test("escapes markup characters, keeps line breaks as references, replaces what XML 1.0 forbids")
    func escapes() {
        #expect(Text.xml("plain é text") == "plain é text")
        #expect(Text.xml("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;")
        #expect(Text.xml("x\ty\nz\r") == "x&#9;y&#10;z&#13;")
        #expect(Text.xml("bell\u{07}nul\u{0}") == "bell?nul?")
        #expect(Text.xml("a\u{FFFE}b\u{FFFF}c\u{FEFF}") == "a?b?c\u{FEFF}")
    }
}

/// The reports' JSON writer writes what FleetCore's JSONWriter writes.
@Suite("report JSON writer")
struct ReportJSONWriterTests {
    @Test("same bytes as JSONWriter, pretty and compact, escapes included", arguments: [true, false])
    func sameAsJSONWriter(_ pretty: Bool) {
        let strings = ["plain", "quote \" back \\ slash", "line\nfeed\rtab\t", "bell\u{07}del\u{7F}", "é ü 日本", ""]
        var mine = ReportJSONWriter(pretty: pretty, capacity: 64)
        var theirs = JSONWriter(pretty: pretty)
        mine.beginObject()
        theirs.beginObject()
        for (i, s) in strings.enumerated() {
            mine.member("k\(i) \(s)", s)
            theirs.member("k\(i) \(s)", s)
        }
        mine.key("list")
        theirs.key("list")
        mine.beginArray()
        theirs.beginArray()
        mine.number(42)
        theirs.number(42)
        mine.number(Int64(-7))
        theirs.number(.int(-7))
        mine.number(63.157_894, decimals: 2)
        theirs.number(63.157_894, decimals: 2)
        mine.bool(true)
        theirs.bool(true)
        mine.null()
        theirs.null()
        mine.beginObject()
        theirs.beginObject()
        mine.endObject()
        theirs.endObject()
        mine.endArray()
        theirs.endArray()
        mine.member("n", 3)
        theirs.member("n", 3)
        mine.member("b", false)
        theirs.member("b", false)
        mine.member("missing", nil as String?)
        theirs.member("missing", nil as String?)
        mine.endObject()
        theirs.endObject()
        mine.newlineAtEnd()
        theirs.newlineAtEnd()
        #expect(mine.bytes == theirs.bytes)
    }
}

/// The last id segment, as ARM names are read.
@Suite("last segment")
struct LastSegmentTests {
    @Test(
        "the text after the last slash, trailing slashes ignored",
        arguments: [
            ("/subscriptions/s/resourceGroups/rg/providers/A/b/aks-1", "aks-1"), ("name", "name"),
            ("/a/b/", "b"), ("", ""), ("/", ""), ("a/ü日本", "ü日本"),
        ])
    func lastSegment(_ pair: (String, String)) {
        #expect(Text.lastSegment(pair.0) == pair.1)
    }
}
