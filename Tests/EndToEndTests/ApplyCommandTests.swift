import Foundation
import Testing

/// `fluxfleet apply`, `resume` and `run` with `--simulate`, run as a user would.
@Suite("fluxfleet apply / run --simulate (built binary)")
struct ApplyCommandTests {
    static let now = "2026-11-21T18:00:00Z"

    /// A fresh directory for a test's database, plan and state files.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-apply-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("run --simulate on the demo fleet converges: the verify plan has no change, reports are written")
    func runConverges() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run([
            "run", "--inventory", "fleet-examples/demo", "--simulate", "--now", Self.now,
            "--db", dir.appendingPathComponent("h.sqlite").path, "--report-dir", dir.appendingPathComponent("r").path,
            "--state-out", dir.appendingPathComponent("after.json").path,
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("Verify Plan: no changes;"), "stdout: \(result.stdout)")
        try Golden.check(result.stdout.replacingOccurrences(of: dir.path, with: "$TMP"), "run-demo-simulate.txt")
        let reports = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("r").path)
        #expect(
            Set(reports)
                == [
                    "compliance.json", "compliance.csv", "compliance.md", "compliance.html",
                    "compliance.policyreport.json", "compliance.junit.xml", "compliance.sarif", "compliance.prom",
                ])
        // The emulated fleet after the run, planned again from the file: nothing left to change.
        let again = try CLI.run([
            "plan", "--inventory", dir.appendingPathComponent("after.json").path, "--now", "2026-11-21T19:00:00Z",
            "--detailed-exitcode",
        ])
        #expect(again.status == 0, "stdout: \(again.stdout)\nstderr: \(again.stderr)")
    }

    @Test("plan --out → apply PLAN --simulate; the same plan applied twice is refused (exit 75)")
    func planThenApplyOnce() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("plan.json").path
        let db = dir.appendingPathComponent("h.sqlite").path
        let planned = try CLI.run(["plan", "--inventory", "fleet-examples/demo", "--now", Self.now, "--out", plan])
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        let first = try CLI.run(["apply", plan, "--simulate", "--yes", "--db", db])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        #expect(first.stdout.contains("4 succeeded, 0 failed"), "stdout: \(first.stdout)")
        let second = try CLI.run(["apply", plan, "--simulate", "--yes", "--db", db])
        #expect(second.status == 75)
        #expect(second.stderr.contains("already applied"), "stderr: \(second.stderr)")
    }

    @Test("apply without --yes and no terminal exits 64 and changes nothing")
    func needsYes() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        let result = try CLI.run([
            "apply", "--inventory", "fleet-examples/demo", "--now", Self.now, "--simulate", "--db", db,
        ])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--yes"))
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("a plan file edited by hand is refused with exit 65, naming planId")
    func editedPlan() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plan = dir.appendingPathComponent("plan.json")
        _ = try CLI.run(["plan", "--inventory", "fleet-examples/demo", "--now", Self.now, "--out", plan.path])
        var text = try String(contentsOf: plan, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"branch\" : \"main\"", with: "\"branch\" : \"evil\"")
        text = text.replacingOccurrences(of: "\"branch\": \"main\"", with: "\"branch\": \"evil\"")
        try text.write(to: plan, atomically: true, encoding: .utf8)
        let result = try CLI.run([
            "apply", plan.path, "--simulate", "--yes", "--db", dir.appendingPathComponent("h.sqlite").path,
        ])
        #expect(result.status == 65, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("$.planId"))
    }

    @Test("faults injected into the simulation are retried: 5% 500s, 5% 429s, 1% dropped connections")
    func faultsRetried() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try CLI.run([
            "run", "--inventory", "fleet-examples/demo", "--simulate", "--now", Self.now,
            "--faults", "5xx=5%,429=5%,drop=1%,seed=7",
            "--db", dir.appendingPathComponent("h.sqlite").path, "--report-dir", dir.appendingPathComponent("r").path,
        ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("Verify Plan: no changes;"), "stdout: \(result.stdout)")
    }
}
