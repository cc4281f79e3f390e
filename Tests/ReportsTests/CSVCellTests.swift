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
