import ComplianceStore
import Foundation
import Remediator
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The crash test kills a journalling process; the process is this test bundle, started on one test.
enum JournalCrash {
    static let databaseVariable = "FLUXFLEET_JOURNAL_CHILD_DB"
    static let logVariable = "FLUXFLEET_JOURNAL_CHILD_LOG"
    static let states: [JournalState] = [.pending, .sent, .accepted, .succeeded]

    /// Whether this process is the child the crash test started.
    static var isChild: Bool { ProcessInfo.processInfo.environment[databaseVariable] != nil }

    /// The test bundle's executable (on Linux, argv[0] is `…/FluxFleetPackageTests.xctest`, an
    /// executable that runs the tests a `--filter` selects); nil where the bundle is not one.
    static var bundle: URL? {
        let path = CommandLine.arguments.first ?? ""
        guard path.hasSuffix(".xctest"), FileManager.default.isExecutableFile(atPath: path) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return nil
        }
        return URL(fileURLWithPath: path)
    }

    /// The entry of record `i`: operation `i / 4`, in state pending, sent, accepted, succeeded by turns.
    static func entry(run: Int64, _ i: Int) -> JournalEntry {
        JournalFixture.entry(run: run, i / 4, states[i % 4], at: Int64(i), requestId: i % 4 >= 1 ? "req-\(i / 4)" : nil)
    }
}

@Suite("the apply journal survives kill -9")
struct JournalCrashTests {
    @Test(
        "journalling child: records until it is killed, appending each returned record's number to a log",
        .enabled(if: JournalCrash.isChild, "runs only in the process the crash test starts"))
    func journalChild() throws {
        let environment = ProcessInfo.processInfo.environment
        let path = try #require(environment[JournalCrash.databaseVariable])
        let log = try #require(environment[JournalCrash.logVariable])
        let store = try ComplianceStore(path: path, access: .write(LeaseRequest(holder: "journal child")))
        let run = try store.beginRun(PlanStoreTests.applyStart())
        let journal = try StoreJournal(store: store, run: run)
        let fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        func say(_ line: String) {
            // write(2) hands the bytes to the kernel: they survive the process being killed.
            var text = line + "\n"
            text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
        }
        say("run \(run)")
        for i in 0..<200_000 {
            journal.record(JournalCrash.entry(run: run, i))
            try #require(journal.failure == nil, "\(journal.failure.map(String.init(describing:)) ?? "")")
            say("\(i)")
        }
    }

    @Test(
        "a process killed with SIGKILL while journalling leaves a sound database holding every record that returned",
        .enabled(if: JournalCrash.bundle != nil && !JournalCrash.isChild, "needs the test bundle as an executable"),
        .timeLimit(.minutes(3)))
    func killedWhileJournalling() throws {
        let dir = try Fixture.directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("crash.sqlite").path
        let log = dir.appendingPathComponent("child.log").path
        let child = Process()
        guard let bundle = JournalCrash.bundle else { return }  // (the trait above skips the test then)
        child.executableURL = bundle
        child.arguments = ["--testing-library", "swift-testing", "--filter", "JournalCrashTests/journalChild"]
        var environment = ProcessInfo.processInfo.environment
        environment[JournalCrash.databaseVariable] = path
        environment[JournalCrash.logVariable] = log
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        defer { if child.isRunning { kill(child.processIdentifier, SIGKILL) } }

        func lines() -> [Substring] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.split(separator: "\n")
        }
        // Kill it well into its work, at a moment of its choosing rather than ours.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, child.isRunning, lines().count < 1_500 { usleep(5_000) }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal, "the child ended before it was killed")

        let printed = lines()
        try #require(printed.count > 1, "the child recorded nothing: \(printed)")
        let run = try #require(printed.first.flatMap { Int64($0.dropFirst("run ".count)) })
        // The log line is written after record returns: a complete last line is a returned record.
        let returned = printed.dropFirst().compactMap { Int($0) }
        let last = try #require(returned.last)
        #expect(returned == Array(0...last))
        #expect(last >= 1_000, "killed after \(last + 1) record(s) only")

        let store = try Fixture.writer(path)
        #expect(store.warnings.contains { $0.contains("taking over the lease of journal child") })
        let check = try store.check()
        #expect(check.ok, "\(check.problems)")
        let rows = try store.operations(run: run)
        let states = JournalCrash.states
        // Every returned record is there: operation n is at least as far as its last returned record.
        let operationsReturned = last / 4 + 1
        try #require(rows.count >= operationsReturned, "rows \(rows.count), returned records up to \(last)")
        for n in 0..<operationsReturned {
            let reached = n < last / 4 ? states.count - 1 : last % 4
            let stored = states.firstIndex(of: JournalState(rawValue: rows[n].state.rawValue) ?? .pending) ?? -1
            #expect(stored >= reached, "operation \(n): stored \(rows[n].state), returned \(states[reached])")
            #expect(rows[n].clusterId == JournalFixture.cluster(n))
        }
        // At most the one record in flight when the process died is there beyond the returned ones.
        #expect(rows.count <= operationsReturned + 1)
        // What resume sees.
        let resumable = try #require(try store.resumableRun())
        #expect(resumable.run == run && resumable.status == .running)
        let resume = try store.beginResume(of: run, startedAt: "2026-11-21T19:00:00Z")
        let journal = try StoreJournal(store: store, run: resume)
        #expect(
            journal.lastState(
                run: String(resume), clusterId: JournalFixture.cluster(0), resourceId: JournalFixture.extensionId(0),
                desiredHash: "sha256:0001") == .succeeded)
        #expect(try store.check().ok)
    }
}
