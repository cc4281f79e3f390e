import FleetCore
import Testing

@Suite("CSV cells")
struct CSVCellTests {
    @Test(
        "quoted when they hold a comma, a quote or a line break (CR LF included); formulas defused",
        arguments: [
            ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("a\nb", "\"a\nb\""),
            ("a\rb", "\"a\rb\""), ("a\r\nb", "\"a\r\nb\""), ("=1+2", "'=1+2"), ("-x,y", "\"'-x,y\""),
        ])
    func cells(_ value: String, _ expected: String) {
        #expect(CSV.cell(value) == expected)
    }
}
