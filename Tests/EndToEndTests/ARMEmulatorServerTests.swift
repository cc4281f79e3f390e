import FleetCore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs blocking work (starting, waiting for a process) on a Dispatch thread rather than on one of the few threads
/// of Swift's cooperative pool, which the other suites running in parallel need.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// A running `arm-emulator` process: started with its arguments, its port read from the first line it prints.
final class EmulatorProcess: @unchecked Sendable {
    let process = Process()
    let directory: URL
    let port: Int
    let stderrFile: URL

    /// The `arm-emulator` binary next to the test bundle.
    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("arm-emulator")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return CLI.root.appendingPathComponent(".build/debug/arm-emulator")
    }

    /// The demo fleet.
    static let demo = CLI.root.appendingPathComponent("fleet-examples/demo").path

    /// Starts the emulator off the cooperative pool.
    static func start(_ arguments: [String]) async throws -> EmulatorProcess {
        try await offPool { try EmulatorProcess(arguments) }
    }

    /// Sends SIGTERM and waits for the exit status, off the cooperative pool.
    func stopped() async throws -> Int32 {
        try await offPool { self.stop() }
    }

    /// Starts the emulator on an ephemeral port (`--port 0` unless `arguments` name one).
    init(_ arguments: [String], inventory: String = EmulatorProcess.demo) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "arm-emulator-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stderrFile = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = Self.binary
        process.arguments = ["--inventory", inventory] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
        // The first line is `arm-emulator listening on http://127.0.0.1:PORT`.
        var line: [UInt8] = []
        let reader = out.fileHandleForReading
        while !line.contains(0x0A) {
            let chunk = reader.availableData
            if chunk.isEmpty { break }
            line.append(contentsOf: chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let range = text.range(of: "arm-emulator listening on http://127.0.0.1:"),
            let port = Int(text[range.upperBound...].prefix { $0.isNumber })
        else {
            process.waitUntilExit()
            let stderr = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
            throw EmulatorStartError(
                message: "arm-emulator did not start (status \(process.terminationStatus)): \(text)\(stderr)")
        }
        self.port = port
    }

    /// `http://127.0.0.1:PORT`.
    var base: String { "http://127.0.0.1:\(port)" }

    /// A file in the test's directory.
    func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Sends SIGTERM and waits for the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// What the emulator wrote to standard error.
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

struct EmulatorStartError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// An HTTP answer from the emulator.
struct HTTPAnswer {
    var status: Int
    var headers: [String: String]
    var body: Data

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }

    var json: JSON? { try? JSON.parse(String(decoding: body, as: UTF8.self), source: "response") }
}

extension JSON {
    /// The whole number, or nil.
    var integer: Int64? {
        if case .number(let n) = self { return n.int64Value }
        return nil
    }

    /// The items of an array (empty for anything else).
    var items: [JSON] {
        if case .array(let items) = self { return items }
        return []
    }

    /// The JSON text.
    var text: String {
        var writer = JSONWriter()
        writer.value(self)
        return writer.text
    }
}

/// Sends one request with a fresh session (no connection reuse, so nothing is retried behind the test's back).
func send(_ method: String, _ url: String, body: String? = nil, headers: [String: String] = [:]) async throws
    -> HTTPAnswer
{
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.timeoutInterval = 20
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let session = URLSession(configuration: .ephemeral)
    defer { session.finishTasksAndInvalidate() }
    let (data, response) = try await session.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    var headerFields: [String: String] = [:]
    for (key, value) in http.allHeaderFields {
        if let key = key as? String, let value = value as? String { headerFields[key] = value }
    }
    return HTTPAnswer(status: http.statusCode, headers: headerFields, body: data)
}

@Suite("arm-emulator over loopback", .serialized)
struct ARMEmulatorServerTests {
    static let subA = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
    static let cluster =
        "/subscriptions/\(subA)/resourceGroups/rg-prod-weu/providers/Microsoft.ContainerService/managedClusters/aks-prod-weu-01"
    static let aksVersion = "2025-10-01"
    static let configurationsVersion = "2025-04-01"
    static let configurationBody = #"""
        {"properties": {"scope": "cluster", "namespace": "flux-system", "sourceKind": "GitRepository",
          "gitRepository": {"url": "https://github.com/contoso/e2e", "repositoryRef": {"branch": "main"}},
          "kustomizations": {"apps": {"path": "./apps", "prune": true}}}}
        """#

    @Test(
        "GET, 404, PUT followed to Succeeded over Azure-AsyncOperation, Resource Graph pages, state-out and request log"
    )
    func servesARM() async throws {
        // The real run: files in a directory the process owns.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("arm-emu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stateOut = directory.appendingPathComponent("state.json").path
        let requestLog = directory.appendingPathComponent("requests.ndjson").path
        let arm = try await EmulatorProcess.start([
            "--time-scale", "1000", "--page-size", "2", "--state-out", stateOut, "--request-log", requestLog,
        ])
        var sent = 0

        // A cluster.
        let get = try await send("GET", "\(arm.base)\(Self.cluster)?api-version=\(Self.aksVersion)")
        sent += 1
        #expect(get.status == 200)
        #expect(get.json?["id"]?.string == Self.cluster)
        #expect(get.json?["properties"]?["powerState"]?["code"]?.string == "Running")
        #expect(get.header("x-ms-request-id") != nil)
        #expect(get.header("x-ms-ratelimit-remaining-subscription-reads") == "249")

        // A missing one: 404 with ARM's error body.
        let missing = try await send(
            "GET",
            "\(arm.base)\(Self.cluster.replacingOccurrences(of: "aks-prod-weu-01", with: "nope"))?api-version=\(Self.aksVersion)"
        )
        sent += 1
        #expect(missing.status == 404)
        #expect(missing.json?["error"]?["code"]?.string == "ResourceNotFound")
        #expect(missing.json?["error"]?["message"]?.string?.contains("nope") == true)

        // A PUT, followed over loopback to Succeeded (20 s of virtual time, 20 ms of real time).
        let configuration = "\(Self.cluster)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-e2e"
        let put = try await send(
            "PUT", "\(arm.base)\(configuration)?api-version=\(Self.configurationsVersion)", body: Self.configurationBody
        )
        sent += 1
        #expect(put.status == 201)
        #expect(put.json?["properties"]?["provisioningState"]?.string == "Creating")
        let asyncOperation = try #require(put.header("Azure-AsyncOperation"))
        #expect(asyncOperation.hasPrefix("\(arm.base)\(configuration)/operations/"))
        #expect(put.header("Location")?.hasPrefix(arm.base) == true)
        var status = "InProgress"
        for _ in 0..<100 where status == "InProgress" {
            try await Task.sleep(for: .milliseconds(20))
            let poll = try await send("GET", asyncOperation)
            sent += 1
            #expect(poll.status == 200)
            status = poll.json?["status"]?.string ?? "missing"
        }
        #expect(status == "Succeeded")

        // Resource Graph, two rows a page: every cluster once, over several pages.
        let query =
            #"resources | where type in~ ('microsoft.containerservice/managedclusters', 'microsoft.kubernetes/connectedclusters') | order by id asc"#
        var ids: [String] = []
        var pages = 0
        var skipToken: String?
        var total = 0
        repeat {
            var options: [String: JSON] = ["$top": .int(1000)]
            if let skipToken { options["$skipToken"] = .string(skipToken) }
            let body = JSON.object(["query": .string(query), "options": .object(options)])
            let page = try await send(
                "POST", "\(arm.base)/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01",
                body: body.text)
            sent += 1
            #expect(page.status == 200)
            let json = try #require(page.json)
            total = Int(json["totalRecords"]?.integer ?? -1)
            for row in json["data"]?.items ?? [] { ids.append(row["id"]?.string ?? "") }
            #expect((json["count"]?.integer ?? 0) <= 2)
            skipToken = json["$skipToken"]?.string
            pages += 1
        } while skipToken != nil && pages < 50
        #expect(total == 17)
        #expect(ids.count == 17)
        #expect(Set(ids.map { $0.lowercased() }).count == 17)
        #expect(pages == 9)

        // SIGTERM: a clean stop that writes the state, which the snapshot reader reads back with the PUT in it.
        #expect(try await arm.stopped() == 0)
        let fleet = try SnapshotReader.load(path: stateOut).fleet
        #expect(fleet.clusters.count == 17)
        let changed = try #require(fleet.cluster(id: Self.cluster))
        let added = try #require(changed.fluxConfigurations.first { $0.name == "gitops-e2e" })
        #expect(added.provisioningState == "Succeeded")
        #expect(added.sourceURL == "https://github.com/contoso/e2e")

        // One log line per request, numbered in order, with the virtual time and the request id.
        let lines = try String(contentsOfFile: requestLog, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == sent)
        for (index, line) in lines.enumerated() {
            let entry = try JSON.parse(String(line), source: "request log")
            #expect(entry["n"]?.integer == Int64(index + 1))
            #expect(entry["at"]?.integer ?? 0 >= 1_795_284_000_000)
            #expect(entry["requestId"]?.string?.count == 36)
        }
        let putLines = lines.filter { $0.contains("\"PUT\"") }
        #expect(putLines.count == 1)
        #expect(putLines.first?.contains("\"status\":201") == true)
    }

    @Test("a 429 storm answers 429 SubscriptionRequestsThrottled with Retry-After until it ends")
    func storm() async throws {
        let arm = try await EmulatorProcess.start(["--faults", "429storm=60s@0s"])
        let answer = try await send("GET", "\(arm.base)\(Self.cluster)?api-version=\(Self.aksVersion)")
        #expect(answer.status == 429)
        #expect(answer.json?["error"]?["code"]?.string == "SubscriptionRequestsThrottled")
        let retryAfter = try #require(answer.header("Retry-After").flatMap { Int($0) })
        #expect((50...60).contains(retryAfter))
        #expect(try await arm.stopped() == 0)
    }

    @Test("--require-auth: 401 without a bearer token; the token endpoint hands one out that is accepted")
    func requireAuth() async throws {
        let arm = try await EmulatorProcess.start(["--require-auth"])
        let url = "\(arm.base)\(Self.cluster)?api-version=\(Self.aksVersion)"
        let anonymous = try await send("GET", url)
        #expect(anonymous.status == 401)
        #expect(anonymous.json?["error"]?["code"]?.string == "AuthenticationFailed")
        let token = try await send(
            "POST", "\(arm.base)/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
            body: "grant_type=client_credentials&client_id=app&client_secret=s3cret"
                + "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
            headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(token.status == 200)
        let accessToken = try #require(token.json?["access_token"]?.string)
        let authorized = try await send("GET", url, headers: ["Authorization": "Bearer \(accessToken)"])
        #expect(authorized.status == 200)
        #expect(try await arm.stopped() == 0)
        #expect(!arm.stderr.contains("s3cret"))
    }

    @Test("a dropped connection reaches the client as a transport error, not an HTTP answer")
    func droppedConnection() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("drop-\(UUID().uuidString).ndjson")
        defer { try? FileManager.default.removeItem(at: log) }
        let arm = try await EmulatorProcess.start(["--faults", "drop=100%", "--request-log", log.path])
        await #expect(throws: URLError.self) {
            _ = try await send("GET", "\(arm.base)\(Self.cluster)?api-version=\(Self.aksVersion)")
        }
        // The emulator is still serving: its control endpoint answers.
        let state = try await send("POST", "\(arm.base)/_emulator/state")
        #expect(state.status == 200)
        #expect(state.json?.items.count ?? 0 > 17)
        #expect(try await arm.stopped() == 0)
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 1)
        #expect(lines.allSatisfy { $0.contains("\"status\":0") })
    }

    @Test("--no-keep-alive: with drops and one client session, the log has exactly one line per request sent")
    func noKeepAlive() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("nka-\(UUID().uuidString).ndjson")
        defer { try? FileManager.default.removeItem(at: log) }
        let arm = try await EmulatorProcess.start([
            "--faults", "drop=30%", "--no-keep-alive", "--request-log", log.path, "--throttle", "off",
        ])
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        var answered = 0
        var dropped = 0
        for _ in 0..<20 {
            var request = URLRequest(url: URL(string: "\(arm.base)\(Self.cluster)?api-version=\(Self.aksVersion)")!)
            request.timeoutInterval = 20
            do {
                let (_, response) = try await session.data(for: request)
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
                answered += 1
            } catch is URLError {
                dropped += 1
            }
        }
        #expect(answered + dropped == 20)
        #expect(dropped > 0)
        #expect(try await arm.stopped() == 0)
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 20)
        #expect(lines.filter { $0.contains("\"status\":0") }.count == dropped)
    }

    @Test("latency is slept outside the state's lock: 8 concurrent requests of 500 ms take well under 8 × 500 ms")
    func concurrentLatency() async throws {
        let arm = try await EmulatorProcess.start(["--latency", "500ms", "--throttle", "off"])
        let url = URL(string: "\(arm.base)\(Self.cluster)?api-version=\(Self.aksVersion)")!
        // Timed on Dispatch threads with completion handlers, so a busy cooperative pool (other suites running
        // at the same time) cannot stretch the measurement.
        let (statuses, elapsed) = try await offPool {
            let configuration = URLSessionConfiguration.ephemeral
            configuration.httpMaximumConnectionsPerHost = 8
            let session = URLSession(configuration: configuration)
            defer { session.finishTasksAndInvalidate() }
            let group = DispatchGroup()
            let lock = NSLock()
            nonisolated(unsafe) var statuses: [Int] = []
            let started = ContinuousClock.now
            for _ in 0..<8 {
                group.enter()
                session.dataTask(with: url) { _, response, _ in
                    lock.lock()
                    statuses.append((response as? HTTPURLResponse)?.statusCode ?? 0)
                    lock.unlock()
                    group.leave()
                }.resume()
            }
            group.wait()
            return (statuses, ContinuousClock.now - started)
        }
        #expect(statuses == Array(repeating: 200, count: 8))
        #expect(elapsed >= .milliseconds(500))
        // One after another they would take 4 s.
        #expect(elapsed < .milliseconds(3_000))
        #expect(try await arm.stopped() == 0)
    }

    @Test("usage errors exit 64, an unreadable inventory 65, a port in use 69, each with a message")
    func exitCodes() async throws {
        let badFaults = try await CLIProcess.start(["--inventory", EmulatorProcess.demo, "--faults", "5xx=2"])
        #expect(badFaults.status == 64)
        #expect(badFaults.stderr.contains("invalid --faults item '5xx=2'"))
        #expect(badFaults.stderr.contains("SPEC := ITEM"))
        #expect(badFaults.stdout.isEmpty)

        let remote = try await CLIProcess.start(["--inventory", EmulatorProcess.demo, "--host", "0.0.0.0"])
        #expect(remote.status == 64)
        #expect(remote.stderr.contains("--allow-remote"))

        let badLatency = try await CLIProcess.start(["--inventory", EmulatorProcess.demo, "--latency", "fast"])
        #expect(badLatency.status == 64)
        #expect(badLatency.stderr.contains("--latency 'fast'"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appendingPathComponent("broken.json")
        try Data("[{\"id\": \"/subscriptions/x\",\n  oops}]".utf8).write(to: broken)
        let unreadable = try await CLIProcess.start(["--inventory", broken.path])
        #expect(unreadable.status == 65)
        #expect(unreadable.stderr.contains("broken.json"))
        #expect(unreadable.stderr.contains("broken.json:2:3"))
        let missing = try await CLIProcess.start(["--inventory", directory.appendingPathComponent("nope.json").path])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("nope.json"))

        let first = try await EmulatorProcess.start([])
        let second = try await CLIProcess.start(["--inventory", EmulatorProcess.demo, "--port", String(first.port)])
        #expect(second.status == 69)
        #expect(second.stderr.contains("127.0.0.1:\(first.port)"))
        #expect(try await first.stopped() == 0)
    }
}

/// Runs `arm-emulator` to its exit (for the ways it refuses to start).
enum CLIProcess {
    /// Runs it off the cooperative pool.
    static func start(_ arguments: [String]) async throws -> CLIResult {
        try await offPool { try run(arguments) }
    }

    static func run(_ arguments: [String]) throws -> CLIResult {
        let process = Process()
        process.executableURL = EmulatorProcess.binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
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
