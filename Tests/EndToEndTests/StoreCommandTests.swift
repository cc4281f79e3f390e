import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `scan --db`, `history` and `db` run as users run them: the built binary, real files.
@Suite("compliance history commands")
struct StoreCommandTests {
    static let day1 = "2026-11-21T18:00:00Z"
    static let day2 = "2026-11-22T18:00:00Z"

    /// A fresh directory, removed by the caller.
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Two scans of the demo fleet a day apart (the second finds Flux status stale) into `db`.
    static func recordDemo(_ db: String) throws {
        for now in [day1, day2] {
            let result = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--now", now, "--db", db])
            #expect(result.status == 0, "stderr: \(result.stderr)")
        }
    }

    /// Output with the temporary database path replaced by `DB`.
    static func scrub(_ text: String, _ db: String) -> String { text.replacingOccurrences(of: db, with: "DB") }

    @Test("scan records a run and says so; an unchanged re-scan adds one row; the file is private")
    func scanRecords() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        let first = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--now", Self.day1, "--db", db])
        #expect(first.status == 0)
        #expect(first.stderr.hasPrefix("recorded run 1 in \(db): "), "stderr: \(first.stderr)")
        #expect(first.stderr.contains("clusters: 17 new, 0 changed, 0 removed"))
        let golden = try CLI.run(["scan", "--no-record", "--inventory", "fleet-examples/demo", "--now", Self.day1])
        #expect(first.stdout == golden.stdout)  // recording does not change what scan prints
        let again = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--now", Self.day1, "--db", db])
        #expect(again.stderr.hasPrefix("recorded run 2 in \(db): 1 row(s) added (0 interval(s) opened, 0 closed"))
        let mode = (try FileManager.default.attributesOfItem(atPath: db)[.posixPermissions] as? Int ?? 0) & 0o777
        #expect(mode == 0o600)
    }

    @Test("FLUXFLEET_DB names the database; --no-record writes nothing")
    func environmentAndNoRecord() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("env.sqlite").path
        let skipped = try CLI.run(
            ["scan", "--no-record", "--inventory", "fleet-examples/demo", "--now", Self.day1],
            environment: ["FLUXFLEET_DB": db])
        #expect(skipped.status == 0 && skipped.stderr.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: db))
        let recorded = try CLI.run(
            ["scan", "--inventory", "fleet-examples/demo", "--now", Self.day1], environment: ["FLUXFLEET_DB": db])
        #expect(recorded.stderr.contains("recorded run 1 in \(db)"))
        let check = try CLI.run(["db", "check"], environment: ["FLUXFLEET_DB": db])
        #expect(check.status == 0 && check.stdout.contains("1 run(s)"))
    }

    @Test("history of a cluster over two runs matches the golden files (table and JSON)")
    func historyGolden() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        try Self.recordDemo(db)
        let table = try CLI.run(["history", "aks-dev-arm64", "--db", db])
        #expect(table.status == 0, "stderr: \(table.stderr)")
        try Golden.check(table.stdout, "history-aks-dev-arm64.txt")
        let json = try CLI.run(["history", "aks-legacy-spn", "--db", db, "--output", "json"])
        #expect(json.status == 0, "stderr: \(json.stderr)")
        try Golden.check(json.stdout, "history-aks-legacy-spn.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["formatVersion"] as? Int == 1)
        #expect((document["timeline"] as? [Any])?.isEmpty == false)
    }

    @Test("db check, prune and migrate on the demo history match the golden files")
    func dbGolden() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = dir.appendingPathComponent("h.sqlite").path
        try Self.recordDemo(db)
        let check = try CLI.run(["db", "check", "--db", db])
        #expect(check.status == 0, "stderr: \(check.stderr)")
        try Golden.check(Self.scrub(check.stdout, db), "db-check.txt")
        let migrate = try CLI.run(["db", "migrate", "--db", db])
        #expect(migrate.status == 0, "stderr: \(migrate.stderr)")
        try Golden.check(Self.scrub(migrate.stdout, db), "db-migrate.txt")
        // A third day like the second: prune then drops what closed on day 2 and only that.
        let day3 = "2026-11-23T18:00:00Z"
        let third = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--now", day3, "--db", db])
        #expect(third.stderr.contains("recorded run 3 in \(db): 1 row(s) added"))
        let prune = try CLI.run(["db", "prune", "--older-than", "12h", "--now", day3, "--db", db])
        #expect(prune.status == 0, "stderr: \(prune.stderr)")
        try Golden.check(Self.scrub(prune.stdout, db), "db-prune.txt")
        let after = try CLI.run(["db", "check", "--db", db])
        #expect(after.status == 0 && after.stdout.contains("check: ok"))
    }

    @Test("errors say what, where and how to fix, with the documented exit codes")
    func errors() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.sqlite").path
        let noDB = try CLI.run(["history", "aks-dev-arm64", "--db", missing])
        #expect(noDB.status == 64)
        #expect(
            noDB.stderr
                == "error: no database at \(missing) — run `fluxfleet scan --db \(missing) …` first, or pass --db PATH\n"
        )
        #expect(!FileManager.default.fileExists(atPath: missing))

        let db = dir.appendingPathComponent("h.sqlite").path
        try Self.recordDemo(db)
        let unknown = try CLI.run(["history", "aks-nowhere", "--db", db])
        #expect(unknown.status == 64 && unknown.stderr.contains("has no cluster 'aks-nowhere'"))
        let badAge = try CLI.run(["db", "prune", "--older-than", "a while", "--db", db])
        #expect(badAge.status == 64 && badAge.stderr.contains("is not a duration like 400d"))
        let badDir = try CLI.run([
            "scan", "--inventory", "fleet-examples/demo", "--db", dir.appendingPathComponent("no/such/dir.sqlite").path,
        ])
        #expect(badDir.status == 64 && badDir.stderr.contains("check that the directory exists"))

        // A database from a newer fluxfleet: user_version is the big-endian integer at byte 60.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: db))
        try handle.seek(toOffset: 60)
        try handle.write(contentsOf: Data([0, 0, 0, 99]))
        try handle.close()
        let newer = try CLI.run(["history", "aks-dev-arm64", "--db", db])
        #expect(newer.status == 65)
        #expect(newer.stderr.contains("has schema version 99, but this fluxfleet supports up to version 3"))
        let newerScan = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--db", db])
        #expect(newerScan.status == 65 && newerScan.stdout.isEmpty)
    }

    // MARK: - Generated fleets: concurrency and crashes

    /// A generated fleet of `clusters` and a policies directory whose assignment covers it.
    static func generatedWorkspace(_ dir: URL, clusters: Int) throws -> (fleet: String, policies: String) {
        let fleet = dir.appendingPathComponent("fleet.json").path
        let generator = Process()
        generator.executableURL = CLI.binary.deletingLastPathComponent().appendingPathComponent("fleetgen")
        generator.arguments = ["--clusters", "\(clusters)", "--seed", "11", "--out", fleet]
        generator.standardError = FileHandle.nullDevice
        try generator.run()
        generator.waitUntilExit()
        #expect(generator.terminationStatus == 0)
        let policies = dir.appendingPathComponent("policies")
        let fm = FileManager.default
        try fm.createDirectory(at: policies.appendingPathComponent("assignments"), withIntermediateDirectories: true)
        for folder in ["definitions", "initiatives"] {
            try fm.copyItem(
                at: CLI.root.appendingPathComponent("policies/\(folder)"), to: policies.appendingPathComponent(folder))
        }
        // The prod assignment, scoped to a management group so that it covers every generated subscription.
        let prod = try Data(contentsOf: CLI.root.appendingPathComponent("policies/assignments/prod.json"))
        var assignment = try #require(try JSONSerialization.jsonObject(with: prod) as? [String: Any])
        let scope = "/providers/Microsoft.Management/managementGroups/contoso"
        assignment["id"] = scope + "/providers/Microsoft.Authorization/policyAssignments/gitops-baseline-all"
        assignment["name"] = "gitops-baseline-all"
        var properties = try #require(assignment["properties"] as? [String: Any])
        properties["scope"] = scope
        properties["notScopes"] = nil
        assignment["properties"] = properties
        try JSONSerialization.data(withJSONObject: assignment).write(
            to: policies.appendingPathComponent("assignments/all.json"))
        return (fleet, policies.path)
    }

    /// Starts `fluxfleet args…` without waiting; its stderr goes to `stderr`.
    static func start(_ args: [String], stderr: URL) throws -> Process {
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = args
        process.currentDirectoryURL = CLI.root
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderr)
        try process.run()
        return process
    }

    /// Polls `condition` every 20 ms for up to `seconds`.
    static func wait(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(20_000)
        }
        return try condition()
    }

    @Test("a second writer exits 73 naming the run that holds the lease", .timeLimit(.minutes(3)))
    func concurrentWriters() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fleet, policies) = try Self.generatedWorkspace(dir, clusters: 2000)
        let db = dir.appendingPathComponent("h.sqlite").path
        let first = try Self.start(
            ["scan", "--inventory", fleet, "--policies", policies, "--now", Self.day1, "--db", db],
            stderr: dir.appendingPathComponent("first.err"))
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        let held = try Self.wait(seconds: 60) {
            let check = try CLI.run(["db", "check", "--db", db])
            return check.stdout.contains("writer lease: held by fluxfleet scan (pid \(first.processIdentifier)")
        }
        try #require(held, "the first scan never took the lease")
        let second = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--now", Self.day1, "--db", db])
        #expect(second.status == 73)
        #expect(second.stderr.contains("is locked by another run: fluxfleet scan (pid \(first.processIdentifier) on "))
        #expect(second.stderr.contains("wait for it to finish, or pass another --db"))
        #expect(second.stdout.isEmpty)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let check = try CLI.run(["db", "check", "--db", db])
        #expect(check.status == 0 && check.stdout.contains("1 run(s)") && check.stdout.contains("writer lease: free"))
    }

    @Test(
        "a scan killed while it writes leaves a sound database with every committed run; the next run takes over",
        .timeLimit(.minutes(3)))
    func crashSafety() throws {
        let dir = try Self.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (fleet, policies) = try Self.generatedWorkspace(dir, clusters: 20000)
        let db = dir.appendingPathComponent("h.sqlite").path
        try Self.recordDemo(db)  // runs 1 and 2, committed
        let wal = db + "-wal"
        let walBefore = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
        let errors = dir.appendingPathComponent("killed.err")
        let victim = try Self.start(
            ["scan", "--inventory", fleet, "--policies", policies, "--now", "2026-11-23T18:00:00Z", "--db", db],
            stderr: errors)
        // The record transaction spills pages into the WAL once its changes outgrow the page cache
        // (about 2 MB; 20,000 clusters make about 9 MB, most of it the clusters, which are written
        // last): kill it at the first spill, well before it commits.
        let writing = Self.wait(seconds: 120) {
            let size = (try? FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0
            return size > walBefore + 256_000 || !victim.isRunning
        }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        try #require(writing)
        #expect(victim.terminationReason == .uncaughtSignal, "the scan finished before it could be killed")
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        #expect(!stderr.contains("recorded run"), "the scan committed before it was killed: \(stderr)")

        let check = try CLI.run(["db", "check", "--db", db])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("check: ok"))
        #expect(check.stdout.contains("2 run(s), 17 cluster(s)"))
        #expect(check.stdout.contains("writer lease: held by fluxfleet scan (pid \(victim.processIdentifier)"))
        let history = try CLI.run(["history", "aks-dev-arm64", "--db", db])
        #expect(history.status == 0)

        let next = try CLI.run(["scan", "--inventory", "fleet-examples/demo", "--now", Self.day2, "--db", db])
        #expect(next.status == 0, "stderr: \(next.stderr)")
        #expect(
            next.stderr.contains(
                "warning: \(db): taking over the lease of fluxfleet scan (pid \(victim.processIdentifier)"))
        #expect(next.stderr.contains("its process is gone"))
        #expect(next.stderr.contains("recorded run 3 in"))
        let after = try CLI.run(["db", "check", "--db", db])
        #expect(after.status == 0 && after.stdout.contains("3 run(s)") && after.stdout.contains("writer lease: free"))
    }
}
