import Foundation
import Testing

/// Runs the built `fluxfleet` binary and captures what it printed.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum CLI {
    /// The repository root (this file is Tests/EndToEndTests/CLIRunner.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The `fluxfleet` binary next to the test bundle.
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux argv[0] is …/debug/FluxFleetPackageTests.xctest; on macOS the bundle is one level deeper.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("fluxfleet")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/fluxfleet")
    }

    /// Runs `fluxfleet args…` in the repository root.
    static func run(_ args: [String], environment: [String: String] = [:]) throws -> CLIResult {
        let process = Process()
        process.executableURL = binary
        process.arguments = args
        process.currentDirectoryURL = root
        // Credentials of the machine running the tests never reach the binary, and a managed-identity probe goes to
        // a closed loopback port, never to 169.254.169.254.
        var env = ProcessInfo.processInfo.environment.filter { key, _ in
            !["AZURE_", "IDENTITY_", "MSI_", "IMDS_"].contains { key.hasPrefix($0) }
        }
        env["AZURE_POD_IDENTITY_AUTHORITY_HOST"] = "http://127.0.0.1:9"
        env["NO_COLOR"] = "1"
        // A command that records without --db gets a database of its own, removed afterwards, never
        // ./fluxfleet.sqlite in the repository.
        let scratchDB = FileManager.default.temporaryDirectory.appendingPathComponent(
            "fluxfleet-cli-\(UUID().uuidString).sqlite"
        ).path
        env["FLUXFLEET_DB"] = scratchDB
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                try? FileManager.default.removeItem(atPath: scratchDB + suffix)
            }
        }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a large output cannot fill a pipe and deadlock.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CLIResult(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// Golden files: compare with `Golden/<name>`; `FLUXFLEET_RECORD_GOLDEN=1` rewrites them.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static func check(_ actual: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["FLUXFLEET_RECORD_GOLDEN"] == "1" {
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record(
                "missing golden file \(name); run with FLUXFLEET_RECORD_GOLDEN=1 to create it",
                sourceLocation: sourceLocation)
            return
        }
        if expected != actual {
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
            let want = line < e.count ? String(e[line]) : "<end>"
            let got = line < a.count ? String(a[line]) : "<end>"
            Issue.record(
                "\(name) differs at line \(line + 1):\n  expected: \(want)\n  actual:   \(got)\n(FLUXFLEET_RECORD_GOLDEN=1 re-records)",
                sourceLocation: sourceLocation)
        }
    }
}
