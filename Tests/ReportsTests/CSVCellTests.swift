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

/// Reports are written with FleetCore's JSONWriter: escapes and the plain-string fast path.
@Suite("report JSON writer")
struct ReportJSONWriterTests {
    @Test("escapes what JSON needs escaped, copies everything else whole")
    func escapes() {
        var w = JSONWriter()
        w.beginObject()
        for (i, s) in ["plain", "quote \" back \\ slash", "line\nfeed\rtab\t", "bell\u{07}del\u{7F}", "é ü 日本", ""]
            .enumerated()
        {
            w.member("k\(i)", s)
        }
        w.key("n")
        w.number(Int64(-7))
        w.endObject()
        #expect(
            w.text
                == #"{"k0":"plain","k1":"quote \" back \\ slash","k2":"line\nfeed\rtab\t","k3":"bell\u0007del\u007f","k4":"é ü 日本","k5":"","n":-7}"#
        )
    }

    @Test("pretty output indents two spaces per level, also past 64 levels")
    func deepIndentation() {
        var w = JSONWriter(pretty: true)
        for _ in 0..<70 { w.beginArray() }
        w.number(1)
        for _ in 0..<70 { w.endArray() }
        let lines = w.text.split(separator: "\n")
        #expect(lines.count == 141)
        #expect(lines[70] == Substring(String(repeating: " ", count: 140) + "1"))
        #expect(lines[69] == Substring(String(repeating: " ", count: 138) + "["))
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
