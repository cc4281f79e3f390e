import ARMEmulator
import FleetCore
import Foundation
import Testing

@testable import AzureARM

@Suite("Resource Graph inventory over the in-process emulator")
struct ResourceGraphInventoryTests {
    @Test("the demo fleet read page by page equals the snapshot it was seeded from")
    func demoEqualsSnapshot() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet)
        let recording = Recording(arm)
        let read = try ResourceGraphInventory.read(transport: recording, clock: arm, options: Fixture.options())

        let expected = Fixture.facts(snapshot.fleet)
        let actual = Fixture.facts(read.fleet)
        #expect(actual.ids == expected.ids)
        #expect(actual.fingerprints == expected.fingerprints)
        #expect(read.fleet.clusters.count == 17)
        // 17 clusters at 4 per page: 5 pages; the children take several more.
        #expect(read.inventory.files.filter { $0.path.hasSuffix("/resources resources page 5") }.count == 1)
        #expect(read.statistics.pages == read.inventory.files.count)
        #expect(read.statistics.pages > 7)
        #expect(read.statistics.requests == read.statistics.pages)
        #expect(read.statistics.retries == 0)
        #expect(read.clusterRows.count == 17)
        let extensions = snapshot.fleet.clusters.reduce(0) {
            $0 + ($1.fluxExtension == nil ? 0 : 1) + $1.otherExtensionResources.count
        }
        let configurations = snapshot.fleet.clusters.reduce(0) {
            $0 + $1.fluxConfigurations.count + $1.fluxV1Configurations.count
        }
        #expect(read.childRows.count == extensions + configurations)
        #expect(read.fleet.findings.isEmpty)

        // Every request: POST to the documented path and api-version, objectArray, $top 4, continuation tokens.
        let bodies = try recording.bodies()
        let correlation = recording.requests.first?.headers["x-ms-correlation-request-id"]
        #expect(correlation?.count == 36)
        #expect(
            Set(recording.requests.compactMap { $0.headers["x-ms-client-request-id"] }).count
                == recording.requests.count)
        for request in recording.requests {
            #expect(request.headers["x-ms-correlation-request-id"] == correlation)
            #expect(request.method == "POST")
            #expect(request.url == "/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01")
            #expect(request.headers["Content-Type"] == "application/json")
        }
        for body in bodies {
            #expect(body["options"]?["$top"] == .int(4))
            #expect(body["options"]?["resultFormat"] == .string("objectArray"))
            #expect(body["subscriptions"] == nil)
        }
        #expect(bodies.first?["options"]?["$skipToken"] == nil)
        #expect(bodies.dropFirst().first?["options"]?["$skipToken"]?.string?.isEmpty == false)
        #expect(bodies.first?["query"]?.string == ResourceGraphInventory.clusterQuery)
        #expect(bodies.last?["query"]?.string == ResourceGraphInventory.childQuery)
    }

    @Test("a generated fleet of 240 clusters reads back with the same facts per cluster")
    func generatedFleet() throws {
        let snapshot = try Fixture.generated(clusters: 240, seed: 5)
        let arm = Fixture.emulator(snapshot.fleet)
        let read = try ResourceGraphInventory.read(transport: arm, clock: arm, options: Fixture.options(pageSize: 50))
        let expected = Fixture.facts(snapshot.fleet)
        let actual = Fixture.facts(read.fleet)
        #expect(actual.ids.count == 240)
        #expect(actual.ids == expected.ids)
        #expect(actual.fingerprints == expected.fingerprints)
        #expect(read.statistics.pages >= 5 + 2)
    }

    @Test("save writes a snapshot directory that SnapshotReader reads back to the same fleet")
    func saveRoundTrip() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet)
        var options = Fixture.options(pageSize: 5)
        options.endpoint = "http://127.0.0.1:8080"
        let read = try ResourceGraphInventory.read(transport: arm, clock: arm, options: options)
        let directory = Fixture.temporaryPath("save")
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let written = try read.save(to: directory)
        #expect(
            written.map { ($0 as NSString).lastPathComponent } == [
                "resources.json", "kubernetesconfigurationresources.json", "README.txt",
            ])
        let reloaded = try SnapshotReader.load(path: directory)
        #expect(Fixture.facts(reloaded.fleet).ids == Fixture.facts(read.fleet).ids)
        #expect(Fixture.facts(reloaded.fleet).fingerprints == Fixture.facts(snapshot.fleet).fingerprints)
        #expect(reloaded.files.map(\.layout) == [.envelope, .envelope])
        #expect(reloaded.files.allSatisfy { $0.skipToken == nil })
        #expect(reloaded.fleet.findings.isEmpty)
        // No temporary files are left behind.
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(entries == ["README.txt", "kubernetesconfigurationresources.json", "resources.json"])

        let readme = try String(
            contentsOfFile: (directory as NSString).appendingPathComponent("README.txt"), encoding: .utf8)
        #expect(readme.contains("Azure Resource Graph"))
        #expect(readme.contains("Taken:     \(ResourceGraphInventoryTests.iso(read.takenAt))"))
        #expect(readme.contains("http://127.0.0.1:8080"))
        #expect(readme.contains("17 cluster(s)"))
        #expect(readme.contains("fluxfleet inventory --inventory"))

        // Saving again over its own files is fine; a directory with other inventory files is refused.
        try read.save(to: directory)
        try Data("[]".utf8).write(to: URL(fileURLWithPath: (directory as NSString).appendingPathComponent("old.json")))
        let error = #expect(throws: AzureARMError.self) { try read.save(to: directory) }
        #expect(error?.category == .usage)
        #expect(error?.description.contains("old.json") == true)
        #expect(error?.location == directory)
    }

    @Test("a subscription filter sends the subscriptions and reads only their clusters")
    func subscriptionFilter() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet)
        let recording = Recording(arm)
        let scope = ResourceGraphScope(subscriptions: [Fixture.subscriptionB, Fixture.subscriptionB.uppercased()])
        let read = try ResourceGraphInventory.read(
            transport: recording, clock: arm, scope: scope, options: Fixture.options())

        let inB = snapshot.fleet.clusters.filter { ASCII.lowercased($0.subscriptionId) == Fixture.subscriptionB }
        #expect(inB.count == 9)
        #expect(Fixture.facts(read.fleet).ids == Fixture.facts(Fleet(clusters: inB, findings: [])).ids)
        #expect(read.fleet.clusters.allSatisfy { ASCII.lowercased($0.subscriptionId) == Fixture.subscriptionB })
        for body in try recording.bodies() {
            // The duplicate (another case) is sent once.
            #expect(body["subscriptions"] == .array([.string(Fixture.subscriptionB)]))
        }
    }

    @Test("many subscriptions are sent in batches, each batch paged on its own")
    func subscriptionBatches() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet)
        let recording = Recording(arm)
        var options = Fixture.options(pageSize: 1000)
        options.subscriptionsPerRequest = 2
        let unknown = "9d3c1a2b-0000-4000-8000-00000000abcd"
        let scope = ResourceGraphScope(subscriptions: [Fixture.subscriptionA, unknown, Fixture.subscriptionB])
        let read = try ResourceGraphInventory.read(transport: recording, clock: arm, scope: scope, options: options)

        #expect(Fixture.facts(read.fleet).fingerprints == Fixture.facts(snapshot.fleet).fingerprints)
        let sent = try recording.bodies().map { body -> [String] in
            guard case .array(let items) = body["subscriptions"] else { return [] }
            return items.compactMap(\.string)
        }
        // Two batches (2 + 1 subscriptions), two queries each, one page each.
        #expect(
            sent == [
                [Fixture.subscriptionA, unknown], [Fixture.subscriptionA, unknown], [Fixture.subscriptionB],
                [Fixture.subscriptionB],
            ])
    }

    @Test("a resource-group filter keeps that group's clusters and their resources only")
    func resourceGroupFilter() throws {
        let snapshot = try Fixture.demo()
        let group = try #require(snapshot.fleet.clusters.first?.resourceGroup)
        let arm = Fixture.emulator(snapshot.fleet)
        let read = try ResourceGraphInventory.read(
            transport: arm, clock: arm, scope: ResourceGraphScope(resourceGroup: group.uppercased()),
            options: Fixture.options())
        let expected = snapshot.fleet.clusters.filter { $0.resourceGroup.lowercased() == group.lowercased() }
        #expect(!expected.isEmpty)
        #expect(expected.count < snapshot.fleet.clusters.count)
        #expect(Fixture.facts(read.fleet).ids == Fixture.facts(Fleet(clusters: expected, findings: [])).ids)
        #expect(read.fleet.findings.isEmpty)
        for row in read.childRows {
            let id = try #require(row.root.member(ignoringCase: "id")?.string)
            #expect(try ResourceID(parsing: id).resourceGroup?.lowercased() == group.lowercased())
        }
    }

    @Test("a management group is sent as managementGroups")
    func managementGroup() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet)
        let recording = Recording(arm)
        _ = try ResourceGraphInventory.read(
            transport: recording, clock: arm, scope: ResourceGraphScope(managementGroup: "platform-prod"),
            options: Fixture.options(pageSize: 1000))
        for body in try recording.bodies() {
            #expect(body["managementGroups"] == .array([.string("platform-prod")]))
            #expect(body["subscriptions"] == nil)
        }
    }

    @Test(
        "wrong arguments are usage errors naming the argument",
        arguments: [
            (ResourceGraphScope(subscriptions: ["not-a-guid"]), "--subscription"),
            (ResourceGraphScope(subscriptions: [Fixture.subscriptionA], managementGroup: "mg"), "--management-group"),
            (ResourceGraphScope(managementGroup: "a/b"), "--management-group"),
            (ResourceGraphScope(resourceGroup: ""), "--resource-group"),
        ])
    func usageErrors(scope: ResourceGraphScope, argument: String) throws {
        let transport = Scripted([])
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: transport, clock: VirtualClock(), scope: scope)
        }
        #expect(error?.category == .usage)
        #expect(error?.category.exitCode == 64)
        #expect(error?.location.contains(argument) == true)
        #expect(transport.sent == 0)
    }

    @Test("an exhausted quota waits on the clock for the window to reset instead of running into 429")
    func quotaWaits() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet) {
            $0.resourceGraphQuota = ResourceGraphQuota(queries: 3, window: 5_000)
        }
        let recording = Recording(arm)
        let start = arm.now
        let read = try ResourceGraphInventory.read(
            transport: recording, clock: arm, options: Fixture.options(pageSize: 2))

        #expect(Fixture.facts(read.fleet).fingerprints == Fixture.facts(snapshot.fleet).fingerprints)
        #expect(!recording.statuses.contains(429))
        #expect(read.statistics.retries == 0)
        let pages = read.statistics.pages
        #expect(pages > 12)
        // 3 queries per 5 s window: every third page waits for the next window.
        #expect(read.statistics.quotaWaits == (pages - 1) / 3)
        #expect(arm.now - start >= Int64((pages - 1) / 3) * 4_000)
        #expect(read.statistics.waited == arm.now - start)
    }

    @Test("injected 5xx answers and dropped connections are retried with back-off")
    func serverErrorsRetried() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet) {
            $0.faults.serverErrors = FaultRate(percent: 30)
            $0.faults.droppedConnections = FaultRate(percent: 10)
            $0.faults.seed = 7
        }
        let recording = Recording(arm)
        var options = Fixture.options(pageSize: 3)
        options.maxAttempts = 12
        let read = try ResourceGraphInventory.read(transport: recording, clock: arm, options: options)

        #expect(Fixture.facts(read.fleet).fingerprints == Fixture.facts(snapshot.fleet).fingerprints)
        #expect(Fixture.facts(read.fleet).ids == Fixture.facts(snapshot.fleet).ids)
        #expect(read.statistics.retries > 0)
        #expect(recording.statuses.contains { $0 >= 500 })
        #expect(read.statistics.requests == read.statistics.pages + read.statistics.retries)
        #expect(arm.state.statistics.injectedErrors > 0)
    }

    @Test("a 429 storm is waited out with Retry-After on the virtual clock")
    func throttleStormRetried() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet) {
            $0.faults.storms = [ThrottleStorm(start: 0, duration: 60_000)]
        }
        let recording = Recording(arm)
        let start = arm.now
        let read = try ResourceGraphInventory.read(
            transport: recording, clock: arm, options: Fixture.options(pageSize: 6))
        #expect(Fixture.facts(read.fleet).fingerprints == Fixture.facts(snapshot.fleet).fingerprints)
        #expect(recording.statuses.first == 429)
        #expect(read.statistics.retries == 1)
        #expect(arm.now - start >= 60_000)
    }

    @Test("retries are bounded: then the error names endpoint, query, page, request id and error code")
    func retriesExhausted() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet) { $0.faults.serverErrors = FaultRate(percent: 100) }
        var options = Fixture.options()
        options.maxAttempts = 4
        options.endpoint = "http://127.0.0.1:9"
        let recording = Recording(arm)
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: recording, clock: arm, options: options)
        }
        #expect(recording.requests.count == 4)
        let e = try #require(error)
        #expect(e.category == .unreachable)
        #expect(e.category.exitCode == 69)
        #expect(e.status == 500 || e.status == 503)
        #expect(e.errorCode == "InternalServerError" || e.errorCode == "ServiceUnavailable")
        #expect(e.requestId?.isEmpty == false)
        let text = e.description
        #expect(text.contains("http://127.0.0.1:9/providers/Microsoft.ResourceGraph/resources?api-version=2024-04-01"))
        #expect(text.contains("query 'resources'"))
        #expect(text.contains("page 1"))
        #expect(text.contains("on all 4 attempts"))
        #expect(text.contains(e.requestId ?? "?"))
        #expect(text.contains(e.errorCode ?? "?"))
    }

    @Test("401 without a token is an unauthorised error; with an issued bearer token the read succeeds")
    func unauthorized() throws {
        let snapshot = try Fixture.demo()
        let arm = Fixture.emulator(snapshot.fleet) { $0.requireBearerToken = true }
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: arm, clock: arm)
        }
        #expect(error?.category == .unauthorized)
        #expect(error?.category.exitCode == 69)
        #expect(error?.status == 401)
        #expect(error?.errorCode == "AuthenticationFailed")
        #expect(error?.remedy.contains("az login") == true)

        let withToken = Recording(arm)
        withToken.extraHeaders["Authorization"] = "Bearer \(try Fixture.armToken(from: arm))"
        let read = try ResourceGraphInventory.read(transport: withToken, clock: arm)
        #expect(read.fleet.clusters.count == 17)
    }

    @Test("an unreachable endpoint fails at once with the transport's reason")
    func unreachable() throws {
        let transport = Scripted([.failure(.unreachable("cannot connect to 127.0.0.1: connection refused"))])
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: transport, clock: VirtualClock())
        }
        #expect(transport.sent == 1)
        #expect(error?.category == .unreachable)
        #expect(error?.what.contains("connection refused") == true)
    }

    @Test("a credential that cannot give a token is an unauthorised error, not a network one")
    func credentialFailure() throws {
        let transport = Scripted([
            .failure(.unreachable(URLSessionTransport.credentialFailure + "management.azure.com: not signed in"))
        ])
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: transport, clock: VirtualClock())
        }
        #expect(error?.category == .unauthorized)
        #expect(error?.what.contains("not signed in") == true)
    }

    @Test("a rejected query is an error with ARM's code and message, not retried")
    func rejectedQuery() throws {
        let body = #"""
            {"error": {"code": "BadRequest", "message": "Please provide below info when asking for support.",
              "details": [{"code": "InvalidQuery", "message": "Query is invalid."}]}}
            """#
        let transport = Scripted([.success(.json(400, body, headers: ["x-ms-request-id": "req-400"]))])
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: transport, clock: VirtualClock())
        }
        #expect(transport.sent == 1)
        #expect(error?.category == .other)
        #expect(error?.category.exitCode == 1)
        #expect(error?.errorCode == "BadRequest/InvalidQuery")
        #expect(error?.requestId == "req-400")
        #expect(error?.what.contains("Query is invalid.") == true)
    }

    @Test(
        "answers that are not Resource Graph responses are bad-response errors",
        arguments: [
            "<html>gateway</html>",
            #"{"columns": [], "rows": []}"#,
            #"{"totalRecords": 1, "count": 1, "data": [{"name": "no-id"}], "resultTruncated": "false"}"#,
            #"{"totalRecords": 9, "count": 1, "data": [], "resultTruncated": "true"}"#,
        ])
    func badResponses(body: String) throws {
        let transport = Scripted([.success(.json(200, body))])
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: transport, clock: VirtualClock())
        }
        #expect(error?.category == .badResponse)
        #expect(error?.category.exitCode == 65)
    }

    @Test("a $skipToken returned twice stops the read instead of looping")
    func repeatedSkipToken() throws {
        let page = #"{"totalRecords": 2, "count": 0, "data": [], "$skipToken": "same", "resultTruncated": "false"}"#
        let transport = Scripted([.success(.json(200, page)), .success(.json(200, page))])
        let error = #expect(throws: AzureARMError.self) {
            _ = try ResourceGraphInventory.read(transport: transport, clock: VirtualClock())
        }
        #expect(error?.category == .badResponse)
        #expect(error?.location.contains("page 2") == true)
        #expect(transport.sent == 2)
    }

    @Test("Retry-After in seconds, the quota reset and exponential back-off are waited on the clock")
    func waitsFollowHeaders() throws {
        let ok = #"{"totalRecords": 0, "count": 0, "data": [], "resultTruncated": "false"}"#
        let clock = VirtualClock()
        let transport = Scripted([
            .success(.json(429, "{}", headers: ["Retry-After": "7"])),
            .failure(.droppedConnection),
            .failure(.timedOut),
            .success(.json(503, "")),
            .success(
                .json(200, ok, headers: ["x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:03"])),
            .success(.json(200, ok)),
        ])
        var options = ResourceGraphOptions()
        options.initialBackoff = 1_000
        let read = try ResourceGraphInventory.read(transport: transport, clock: clock, options: options)
        #expect(read.fleet.clusters.isEmpty)
        // 7 s (Retry-After), then back-off 2 s and 4 s (attempts 2, 3), 8 s (503 without Retry-After), then the
        // quota's 3 s before the second query.
        #expect(clock.sleeps == [7_000, 2_000, 4_000, 8_000, 3_000])
        #expect(read.statistics.retries == 4)
        #expect(read.statistics.quotaWaits == 1)
        #expect(read.statistics.waited == 24_000)
    }

    @Test(
        "Resource Graph time spans parse to milliseconds",
        arguments: [
            ("00:00:05", Int64(5_000)), ("00:01:00", 60_000), ("01:00:00", 3_600_000), ("1.00:00:01", 86_401_000),
            ("00:00:04.5", 4_500),
        ])
    func timeSpans(text: String, milliseconds: Int64) {
        #expect(ResourceGraphInventory.parseTimeSpan(text) == milliseconds)
    }

    @Test("malformed time spans are rejected", arguments: ["", "5", "00:05", "aa:bb:cc", "00:00:-1"])
    func badTimeSpans(text: String) {
        #expect(ResourceGraphInventory.parseTimeSpan(text) == nil)
    }

    static func iso(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds / 1000)))
    }
}
