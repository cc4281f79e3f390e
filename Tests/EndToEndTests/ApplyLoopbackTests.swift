import ComplianceStore
import FleetCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `fluxfleet plan` / `apply` / `resume` against the `arm-emulator` binary over loopback: real sockets, the
/// inventory read from the emulator's Resource Graph in several pages, faults, `kill -9` and stale plans.
@Suite("fluxfleet apply over loopback (built binaries)", .serialized)
struct ApplyLoopbackTests {
    static let now = "2026-11-21T18:00:00Z"

    /// An emulator of the demo fleet at a time scale that keeps provisioning delays short, no keep-alive (so a
    /// dropped connection is never resent silently by the HTTP client) and a request log.
    static func emulator(_ extra: [String] = [], timeScale: String = "1000") throws -> EmulatorProcess {
        let log = requestLog(UUID().uuidString)
        return try EmulatorProcess(
            ["--time-scale", timeScale, "--page-size", "4", "--no-keep-alive", "--request-log", log] + extra)
    }

    /// Stops an emulator and removes its request log.
    static func finish(_ emulator: EmulatorProcess) {
        emulator.stop()
        let arguments = emulator.process.arguments ?? []
        if let flag = arguments.firstIndex(of: "--request-log"), flag + 1 < arguments.count {
            try? FileManager.default.removeItem(atPath: arguments[flag + 1])
        }
    }

    /// Where an emulator writes its request log (its own directory is known only once it started).
    static func requestLog(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("fluxfleet-requests-\(name).ndjson").path
    }

    /// The request log's lines: method, path (lowercased) and status, in order.
    static func requests(_ emulator: EmulatorProcess) -> [(method: String, path: String, status: Int)] {
        let arguments = emulator.process.arguments ?? []
        guard let flag = arguments.firstIndex(of: "--request-log"), flag + 1 < arguments.count else { return [] }
        let text = (try? String(contentsOfFile: arguments[flag + 1], encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let json = try? JSON.parse(String(line)), let method = json["method"]?.string,
                let path = json["path"]?.string
            else { return nil }
            return (method, path.lowercased(), Int(json["status"]?.integer ?? 0))
        }
    }

    /// Plans from the emulator's Resource Graph into `plan.json`; returns the plan's stdout.
    static func plan(_ emulator: EmulatorProcess, out: String? = nil, detailed: Bool = false) throws -> CLIResult {
        var args = ["plan", "--arm-endpoint", emulator.base, "--now", now]
        if let out { args += ["--out", out] }
        if detailed { args.append("--detailed-exitcode") }
        return try CLI.run(args)
    }

    @Test("plan from Resource Graph (several pages) → apply → a new plan has no change")
    func converges() throws {
        let emulator = try Self.emulator()
        defer { Self.finish(emulator) }
        let planFile = emulator.file("plan.json")
        let planned = try Self.plan(emulator, out: planFile)
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        #expect(planned.stderr.contains("read 17 cluster(s)"), "stderr: \(planned.stderr)")
        let graphPages = Self.requests(emulator).filter { $0.path.hasSuffix("/microsoft.resourcegraph/resources") }
        #expect(graphPages.count >= 6, "17 clusters and their children at 4 rows a page")
        let applied = try CLI.run([
            "apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", emulator.file("h.sqlite"),
            "--wave", "rest",
        ])
        #expect(applied.status == 0, "stdout: \(applied.stdout)\nstderr: \(applied.stderr)")
        #expect(applied.stdout.contains("4 succeeded, 0 failed"))
        let again = try Self.plan(emulator, detailed: true)
        #expect(again.status == 0, "a change is left: \(again.stdout)")
        #expect(again.stdout.contains("Plan: no changes;"))
    }

    @Test("run --arm-endpoint: scan and plan from Resource Graph, apply, verify from Resource Graph, reports")
    func runAgainstEndpoint() throws {
        let emulator = try Self.emulator()
        defer { Self.finish(emulator) }
        let reports = emulator.file("reports")
        let result = try CLI.run([
            "run", "--arm-endpoint", emulator.base, "--now", Self.now, "--yes", "--wave", "rest", "--db",
            emulator.file("h.sqlite"), "--report-dir", reports, "--report-format", "json", "--report-format", "junit",
        ])
        #expect(result.status == 0, "stdout: \(result.stdout)\nstderr: \(result.stderr)")
        #expect(result.stdout.contains("4 succeeded, 0 failed"), "stdout: \(result.stdout)")
        #expect(result.stdout.contains("Verify Plan: no changes;"), "stdout: \(result.stdout)")
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: reports))
                == ["compliance.json", "compliance.junit.xml"])
    }

    @Test("inventory --arm-endpoint --save writes a snapshot that plans exactly as the live read does")
    func saveAndReplay() throws {
        let emulator = try Self.emulator()
        defer { Self.finish(emulator) }
        let snapshot = emulator.file("snapshot")
        let saved = try CLI.run(["inventory", "--arm-endpoint", emulator.base, "--save", snapshot])
        #expect(saved.status == 0, "stderr: \(saved.stderr)")
        let live = try CLI.run(["plan", "--arm-endpoint", emulator.base, "--now", Self.now, "--output", "json"])
        let replayed = try CLI.run(["plan", "--inventory", snapshot, "--now", Self.now, "--output", "json"])
        #expect(live.status == 0 && replayed.status == 0, "\(live.stderr)\n\(replayed.stderr)")
        // The same clusters, fingerprints, decisions and actions; only the inputs' labels differ.
        let a = try JSON.parse(live.stdout)["clusters"]
        let b = try JSON.parse(replayed.stdout)["clusters"]
        #expect(a != nil && a == b)
    }

    @Test("the same with 5% 500/503s, 5% 429s and 1% dropped connections injected")
    func convergesUnderFaults() throws {
        let emulator = try Self.emulator(["--faults", "5xx=5%,429=5%,drop=1%,seed=11"])
        defer { Self.finish(emulator) }
        let planFile = emulator.file("plan.json")
        let planned = try Self.plan(emulator, out: planFile)
        #expect(planned.status == 0, "stderr: \(planned.stderr)")
        let applied = try CLI.run([
            "apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", emulator.file("h.sqlite"),
            "--wave", "rest",
        ])
        #expect(applied.status == 0, "stdout: \(applied.stdout)\nstderr: \(applied.stderr)")
        let faults = Self.requests(emulator).filter { $0.status >= 500 || $0.status == 429 || $0.status == 0 }
        #expect(!faults.isEmpty, "faults were injected")
        let again = try Self.plan(emulator, detailed: true)
        #expect(again.status == 0, "a change is left: \(again.stdout)")
    }

    @Test("a stale plan is refused for exactly the clusters that moved; the others are applied (exit 75)")
    func stalePlan() async throws {
        let emulator = try Self.emulator()
        defer { Self.finish(emulator) }
        let planFile = emulator.file("plan.json")
        _ = try Self.plan(emulator, out: planFile)
        let document = try JSON.parse(String(contentsOfFile: planFile, encoding: .utf8))
        // Move the clusters whose configuration the plan updates: change the configuration on ARM.
        let updates = document["clusters"]!.items.filter { cluster in
            cluster["actions"]!.items.contains { $0["kind"]?.string == "update-configuration" }
        }
        #expect(updates.count == 2)
        var moved: Set<String> = []
        for cluster in updates {
            let action = cluster["actions"]!.items.first { $0["kind"]?.string == "update-configuration" }!
            let id = action["resourceId"]!.string!
            let current = try await send("GET", emulator.base + id + "?api-version=2025-04-01")
            guard case .object(var body)? = current.json, case .object(var properties)? = body["properties"] else {
                Issue.record("no configuration at \(id)")
                continue
            }
            properties["suspend"] = .bool(true)
            body["properties"] = .object(properties)
            let put = try await send(
                "PUT", emulator.base + id + "?api-version=2025-04-01", body: JSON.object(body).text)
            #expect(put.status == 200 || put.status == 201, "PUT answered \(put.status)")
            moved.insert(cluster["name"]!.string!)
        }
        let applied = try CLI.run([
            "apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", emulator.file("h.sqlite"),
            "--wave", "rest",
        ])
        #expect(applied.status == 75, "stdout: \(applied.stdout)\nstderr: \(applied.stderr)")
        let refused = Set(
            applied.stdout.split(separator: "\n").filter { $0.contains("[fingerprintMoved]") }.map {
                String($0.split(separator: " ")[1])
            })
        #expect(refused == moved, "refused: \(refused), moved: \(moved)\n\(applied.stdout)")
        #expect(applied.stdout.contains("2 succeeded, 0 failed"), "stdout: \(applied.stdout)")
    }

    @Test("SIGINT drains: apply ends interrupted with exit 75, nothing left sent-but-unknown; resume finishes")
    func interruptDrains() throws {
        let emulator = try Self.emulator(timeScale: "50")
        defer { Self.finish(emulator) }
        let planFile = emulator.file("plan.json")
        let db = emulator.file("h.sqlite")
        _ = try Self.plan(emulator, out: planFile)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = [
            "apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", db, "--wave", "rest", "--max-parallel",
            "1",
        ]
        process.currentDirectoryURL = CLI.root
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        usleep(700_000)
        kill(process.processIdentifier, SIGINT)
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 75, "stdout: \(stdout)\nstderr: \(stderr)")
        #expect(stderr.contains("draining"), "stderr: \(stderr)")
        let store = try ComplianceStore(path: db, access: .read)
        let apply = try #require(try store.runs().first { $0.kind == "apply" })
        #expect(apply.status == "interrupted")
        let unsettled = try store.operations(run: apply.id).filter { $0.state == .sent || $0.state == .accepted }
        #expect(unsettled.isEmpty, "a drain leaves nothing in flight: \(unsettled.map(\.resourceId))")
        store.close()
        let resumed = try CLI.run(["resume", "--arm-endpoint", emulator.base, "--db", db, "--wave", "rest"])
        #expect(resumed.status == 0, "stdout: \(resumed.stdout)\nstderr: \(resumed.stderr)")
        let again = try Self.plan(emulator, detailed: true)
        #expect(again.status == 0, "not converged: \(again.stdout)")
    }

    @Test("a second SIGINT aborts at once with exit 130; resume then finishes the run")
    func secondInterruptAborts() throws {
        let emulator = try Self.emulator(timeScale: "20")
        defer { Self.finish(emulator) }
        let planFile = emulator.file("plan.json")
        let db = emulator.file("h.sqlite")
        _ = try Self.plan(emulator, out: planFile)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", db, "--wave", "rest"]
        process.currentDirectoryURL = CLI.root
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        usleep(600_000)
        kill(process.processIdentifier, SIGINT)
        usleep(100_000)
        kill(process.processIdentifier, SIGINT)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130, "stderr: \(stderr)")
        #expect(stderr.contains("second interrupt: aborting"), "stderr: \(stderr)")
        let resumed = try CLI.run(["resume", "--arm-endpoint", emulator.base, "--db", db, "--wave", "rest"])
        #expect(resumed.status == 0, "stdout: \(resumed.stdout)\nstderr: \(resumed.stderr)")
        let again = try Self.plan(emulator, detailed: true)
        #expect(again.status == 0, "not converged: \(again.stdout)")
    }

    @Test("kill -9 of apply at 20 random moments, each followed by resume: converges, no completed operation resent")
    func killAndResume() throws {
        var generator = SeededGenerator(
            seed: UInt64(ProcessInfo.processInfo.environment["FLUXFLEET_KILL_SEED"] ?? "") ?? 20_261_122)
        var killedMidway = 0
        for trial in 0..<20 {
            let emulator = try Self.emulator(timeScale: "100")
            defer { Self.finish(emulator) }
            let planFile = emulator.file("plan.json")
            let db = emulator.file("h.sqlite")
            let planned = try Self.plan(emulator, out: planFile)
            #expect(planned.status == 0, "trial \(trial): \(planned.stderr)")
            // Start apply and kill it after 30–900 ms.
            let delay = UInt32.random(in: 30_000...900_000, using: &generator)
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = [
                "apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", db, "--wave", "rest",
            ]
            process.currentDirectoryURL = CLI.root
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(delay)
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if wasRunning { killedMidway += 1 }
            // What the journal holds as done, and where the request log stands, when resume starts.
            var done: Set<String> = []
            // A database killed before its schema was written cannot be opened: then nothing is journalled.
            if FileManager.default.fileExists(atPath: db), let store = try? ComplianceStore(path: db, access: .read) {
                for run in try store.runs() where run.kind == "apply" {
                    for operation in try store.operations(run: run.id) where operation.state == .succeeded {
                        done.insert(operation.resourceId.lowercased())
                    }
                }
                store.close()
            }
            let before = Self.requests(emulator).count
            let resumed = try CLI.run(["resume", "--arm-endpoint", emulator.base, "--db", db, "--wave", "rest"])
            if !wasRunning {
                // apply finished before the kill: nothing is left to resume.
                #expect(resumed.status == 64, "trial \(trial): \(resumed.stderr)")
            } else if resumed.status == 64 {
                // Killed before the run recorded its plan: nothing to resume, so the plan is applied again.
                let rerun = try CLI.run([
                    "apply", planFile, "--arm-endpoint", emulator.base, "--yes", "--db", db, "--wave", "rest",
                ])
                #expect(rerun.status == 0, "trial \(trial): \(rerun.stdout)\n\(rerun.stderr)")
            } else {
                #expect(
                    resumed.status == 0,
                    "trial \(trial) (kill after \(delay / 1000) ms): \(resumed.stdout)\n\(resumed.stderr)")
            }
            let resent = Self.requests(emulator).dropFirst(before).filter {
                $0.method != "GET" && done.contains($0.path)
            }
            #expect(resent.isEmpty, "trial \(trial): completed operations sent again: \(resent.map(\.path))")
            let again = try Self.plan(emulator, detailed: true)
            #expect(again.status == 0, "trial \(trial): not converged after resume:\n\(again.stdout)")
        }
        #expect(killedMidway >= 10, "most kills should land while apply runs (\(killedMidway) of 20)")
    }
}

/// A small deterministic generator (SplitMix64) for reproducible kill moments.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
