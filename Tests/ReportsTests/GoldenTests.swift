import FleetCore
import Foundation
import PolicyEngine
import Reports
import Testing

/// Every format on the demo fleet (with the hand-built history) matches its golden file.
@Suite("golden reports")
struct GoldenTests {
    @Test("the demo report in every format matches its golden file", arguments: ReportFormat.allCases)
    func demo(_ format: ReportFormat) throws {
        let text = Fixtures.render(Fixtures.withHistory, format)
        try Golden.check(text, "demo.\(format.fileExtension)")
    }

    @Test("the same data renders the same bytes, and generatedAt comes from the options only")
    func deterministic() {
        for format in ReportFormat.allCases {
            let first = ReportRenderer.render(Fixtures.withHistory, format: format)
            let second = ReportRenderer.render(Fixtures.withHistory, format: format)
            #expect(first == second, "\(format)")
        }
        let stamped = Fixtures.render(Fixtures.withHistory, .json, ReportOptions(generatedAt: "2030-01-02T03:04:05Z"))
        #expect(stamped.contains("\"generatedAt\": \"2030-01-02T03:04:05Z\""))
        let plain = Fixtures.render(Fixtures.withHistory, .json)
        #expect(plain.contains("\"generatedAt\": \"\(Fixtures.now)\""))
    }
}
