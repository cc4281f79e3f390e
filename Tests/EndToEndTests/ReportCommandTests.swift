import Foundation
import Testing

/// `fluxfleet report` as users run it: the built binary over a recorded history of the demo fleet.
@Suite("report command")
struct ReportCommandTests {
    static let formats: [(format: String, file: String)] = [
        ("table", "report-demo.txt"), ("json", "report-demo.json"), ("csv", "report-demo.csv"),
        ("markdown", "report-demo.md"), ("html", "report-demo.html"), ("policyreport", "report-demo.policyreport.json"),
        ("junit", "report-demo.junit.xml"), ("sarif", "report-demo.sarif"), ("prometheus", "report-demo.prom"),
    ]

    @Test("every format over two recorded scans of the demo fleet matches its golden file")
    func everyFormat() throws {
        let dir = try StoreCommandTests.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        try StoreCommandTests.recordDemo(db)
        // When each scan started is wall-clock time: every format gets the same stand-in for it.
        let json = try CLI.run(["report", "--db", db, "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let started = try #require((document["run"] as? [String: Any])?["startedAt"] as? String)
        #expect(!started.isEmpty)
        for (format, file) in Self.formats {
            let result = try CLI.run(["report", "--db", db, "--format", format, "--since", "all"])
            #expect(result.status == 0, "\(format): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(format): \(result.stderr)")
            try Golden.check(result.stdout.replacingOccurrences(of: started, with: "STARTED-AT"), file)
        }
    }

    @Test("--out replaces the file whole and says what it wrote; --run picks an earlier run")
    func outAndRun() throws {
        let dir = try StoreCommandTests.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        try StoreCommandTests.recordDemo(db)
        let out = dir.appendingPathComponent("report.prom").path
        try Data("stale content\n".utf8).write(to: URL(fileURLWithPath: out))
        let written = try CLI.run(["report", "--db", db, "--format", "prometheus", "--out", out])
        #expect(written.status == 0, "stderr: \(written.stderr)")
        #expect(written.stdout.isEmpty)
        #expect(written.stderr.hasPrefix("wrote the prometheus report of run 2 to \(out) ("))
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!text.contains("stale content"))
        #expect(text.contains("# TYPE fluxfleet_compliance_ratio gauge"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
        let first = try CLI.run(["report", "--db", db, "--format", "json", "--run", "1"])
        #expect(first.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let run = try #require(document["run"] as? [String: Any])
        #expect(run["id"] as? Int == 1)
        #expect(run["evaluatedAt"] as? String == StoreCommandTests.day1)
    }

    @Test("wrong inputs exit 64 and say what to do")
    func wrongInputs() throws {
        let dir = try StoreCommandTests.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        let missing = try CLI.run(["report", "--db", db])
        #expect(missing.status == 64, "stderr: \(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))  // reading never creates a database
        try StoreCommandTests.recordDemo(db)
        let since = try CLI.run(["report", "--db", db, "--since", "last tuesday"])
        #expect(since.status == 64)
        #expect(since.stderr.contains("--since 'last tuesday' is not a window"))
        let run = try CLI.run(["report", "--db", db, "--run", "99"])
        #expect(run.status == 64, "stderr: \(run.stderr)")
        let format = try CLI.run(["report", "--db", db, "--format", "pdf"])
        #expect(format.status == 64)
        let unwritable = try CLI.run([
            "report", "--db", db, "--out", dir.appendingPathComponent("no/such/dir/r.txt").path,
        ])
        #expect(unwritable.status == 64)
        #expect(unwritable.stderr.contains("cannot write the report"))
    }
}
