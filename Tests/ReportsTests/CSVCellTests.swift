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
    }

    @Test("a CR LF inside a value is quoted, so it cannot end the row")
    func crlf() {
        #expect(CSVRenderer.cell("a\r\nb") == "\"a\r\nb\"")
    }
}
