import FleetCore
import Foundation

/// Which part of Azure a Resource Graph inventory reads.
public struct ResourceGraphScope: Sendable, Hashable {
    /// Subscription ids (GUIDs); empty reads every subscription the caller can see (or the management group's).
    public var subscriptions: [String]
    /// A management group name; its subscriptions are read (not together with ``subscriptions``).
    public var managementGroup: String?
    /// A resource group name: only clusters in a resource group of this name (ignoring case) and their resources
    /// are kept.
    public var resourceGroup: String?

    /// Creates a scope; the defaults read everything the caller can see.
    public init(subscriptions: [String] = [], managementGroup: String? = nil, resourceGroup: String? = nil) {
        self.subscriptions = subscriptions
        self.managementGroup = managementGroup
        self.resourceGroup = resourceGroup
    }

    /// The scope in words, for messages and the snapshot's README.
    public var summary: String {
        var parts: [String] = []
        if !subscriptions.isEmpty {
            parts.append("subscription(s) \(subscriptions.joined(separator: ", "))")
        } else if let managementGroup {
            parts.append("management group \(managementGroup)")
        } else {
            parts.append("every subscription the caller can read")
        }
        if let resourceGroup { parts.append("resource group \(resourceGroup)") }
        return parts.joined(separator: ", ")
    }
}

/// How a Resource Graph inventory is read: page size, subscription batches, retries.
///
/// Durations are milliseconds on the ``RemediationClock`` passed to ``ResourceGraphInventory/read(transport:clock:scope:options:)``.
public struct ResourceGraphOptions: Sendable, Hashable {
    /// The endpoint as the user gave it, for messages and the snapshot's README (the transport decides where
    /// requests go).
    public var endpoint: String = "https://management.azure.com"
    /// Rows per page (`options.$top`), 1…1000.
    public var pageSize: Int = 1000
    /// Subscriptions per request, 1…1000 (Resource Graph recommends batches under 300 for its quota).
    public var subscriptionsPerRequest: Int = 200
    /// Attempts per page before giving up on 429, 408, 5xx, dropped connections and timeouts (at least 1).
    public var maxAttempts: Int = 6
    /// The wait before the first retry when ARM names none; doubled per retry up to ``maxBackoff``.
    public var initialBackoff: Int64 = 1_000
    /// The longest wait between two attempts, also capping what `Retry-After` and the quota headers ask for.
    public var maxBackoff: Int64 = 120_000
    /// The most pages one query may return before the read stops as a runaway continuation.
    public var maxPages: Int = 100_000

    /// The defaults: 1000 rows per page, 200 subscriptions per request, 6 attempts per page.
    public init() {}
}

/// What a read cost: requests, pages, retries and waiting.
public struct ResourceGraphStatistics: Sendable, Hashable {
    /// Requests sent, retries included.
    public var requests = 0
    /// Pages received.
    public var pages = 0
    /// Requests repeated after a 429, 408, 5xx, dropped connection or timeout.
    public var retries = 0
    /// Times the read waited for the quota window to reset (`x-ms-user-quota-remaining: 0`).
    public var quotaWaits = 0
    /// Milliseconds spent waiting (quota and back-off) on the clock.
    public var waited: Int64 = 0

    /// No requests yet.
    public init() {}
}

/// The fleet read live from Azure Resource Graph, and the rows it came from.
///
/// ``read(transport:clock:scope:options:)`` posts the two inventory queries of DESIGN §3.1 to the Resource Graph
/// query endpoint — ``clusterQuery`` (`resources`: managedClusters and connectedClusters) and ``childQuery``
/// (`kubernetesconfigurationresources`: extensions, fluxConfigurations, sourceControlConfigurations) — follows
/// `$skipToken` pages, sends at most ``ResourceGraphOptions/subscriptionsPerRequest`` subscriptions per request,
/// waits on the clock when `x-ms-user-quota-remaining` reaches 0, and retries throttling, server errors and
/// dropped connections with bounded back-off. The rows are joined on the lowercased cluster id (a child belongs to
/// the cluster whose id precedes its last `/providers/`) and assembled by FleetCore into the same ``Fleet`` a
/// snapshot of the same rows gives; ``save(to:)`` writes that snapshot.
public struct ResourceGraphInventory: Sendable {
    /// The Resource Graph query endpoint's path.
    public static let path = "/providers/Microsoft.ResourceGraph/resources"
    /// The api-version sent (the latest stable one).
    public static let apiVersion = "2024-04-01"
    /// The clusters: AKS managed clusters and Arc connected clusters (AKS Arc included), whole rows, by id.
    public static let clusterQuery =
        "resources | where type in~ ('microsoft.containerservice/managedclusters', 'microsoft.kubernetes/connectedclusters') | order by id asc"
    /// The clusters' extension resources: extensions, Flux configurations and Flux v1 configurations, by id.
    public static let childQuery =
        "kubernetesconfigurationresources | where type in~ ('microsoft.kubernetesconfiguration/extensions', 'microsoft.kubernetesconfiguration/fluxconfigurations', 'microsoft.kubernetesconfiguration/sourcecontrolconfigurations') | order by id asc"
    /// The file names ``save(to:)`` writes the two queries' rows to.
    public static let clusterFile = "resources.json"
    /// The file name of the children's rows.
    public static let childFile = "kubernetesconfigurationresources.json"
    /// The file name of the snapshot's description.
    public static let readmeFile = "README.txt"

    /// The fleet and the pages it was read from (one ``SnapshotFile`` per page, named by endpoint, query and page).
    public let inventory: Inventory
    /// The cluster rows kept (after the resource-group filter), in the order received.
    public let clusterRows: [JSONDocument]
    /// The extension, fluxConfiguration and sourceControlConfiguration rows kept, in the order received.
    public let childRows: [JSONDocument]
    /// What was read.
    public let scope: ResourceGraphScope
    /// The endpoint as given in the options.
    public let endpoint: String
    /// When the read started, in milliseconds since 1970 on the clock it ran on.
    public let takenAt: Int64
    /// What the read cost.
    public let statistics: ResourceGraphStatistics

    /// The assembled fleet.
    public var fleet: Fleet { inventory.fleet }

    /// Reads the fleet from Resource Graph.
    ///
    /// - Parameters:
    ///   - transport: Where requests go (``URLSessionTransport``, or the emulator in-process).
    ///   - clock: What the read waits on (``SystemClock`` live, the emulator's virtual clock in tests).
    ///   - scope: The subscriptions, management group and resource group to read.
    ///   - options: Page size, batching and retries.
    /// - Throws: ``AzureARMError`` naming the endpoint, the query, the batch and page, ARM's status, error code and
    ///   `x-ms-request-id`, and what to do.
    public static func read(
        transport: any ARMTransport, clock: any RemediationClock, scope: ResourceGraphScope = ResourceGraphScope(),
        options: ResourceGraphOptions = ResourceGraphOptions()
    ) throws(AzureARMError) -> ResourceGraphInventory {
        let subscriptions = try validate(scope, options)
        var reader = Reader(transport: transport, clock: clock, options: options)
        let takenAt = clock.now
        var batches: [[String]?] = [nil]
        if !subscriptions.isEmpty {
            batches = stride(from: 0, to: subscriptions.count, by: options.subscriptionsPerRequest).map {
                Array(subscriptions[$0..<min(subscriptions.count, $0 + options.subscriptionsPerRequest)])
            }
        }
        var clusterPages: [Page] = []
        var childPages: [Page] = []
        for (n, batch) in batches.enumerated() {
            let batchLabel = batches.count > 1 ? "subscription batch \(n + 1) of \(batches.count)" : nil
            clusterPages += try reader.run(
                .clusters, subscriptions: batch, managementGroup: scope.managementGroup, batchLabel: batchLabel)
            childPages += try reader.run(
                .children, subscriptions: batch, managementGroup: scope.managementGroup, batchLabel: batchLabel)
        }

        // FleetCore joins the rows on the lowercased cluster id (a child belongs to the cluster whose id precedes its
        // last `/providers/`). A resource-group filter keeps clusters of that group and the children under them
        // (a child's id starts with its cluster's, so it names the same group).
        var clusterRows: [JSONDocument] = []
        var childRows: [JSONDocument] = []
        var records: [InventoryRecord] = []
        let wantedGroup = scope.resourceGroup.map(ASCII.lowercased)
        func wanted(_ row: JSONDocument) -> Bool {
            guard let wantedGroup else { return true }
            guard let id = row.root.member(ignoringCase: "id")?.string.flatMap({ try? ResourceID(parsing: $0) })
            else { return true }  // Fleet.assemble reports the malformed row
            return ASCII.lowercased(id.resourceGroup ?? "") == wantedGroup
        }
        for page in clusterPages {
            for row in page.rows where wanted(row) {
                clusterRows.append(row)
                records.append(InventoryRecord(document: row, file: page.label))
            }
        }
        for page in childPages {
            for row in page.rows where wanted(row) {
                childRows.append(row)
                records.append(InventoryRecord(document: row, file: page.label))
            }
        }
        let fleet: Fleet
        do {
            fleet = try Fleet.assemble(records)
        } catch {
            throw AzureARMError(
                .badResponse, what: "Resource Graph returned rows that are not usable ARM resources: \(error)",
                location: "POST \(options.endpoint)\(path)?api-version=\(apiVersion)",
                remedy:
                    "re-run; if it persists, save the raw answer with `az graph query` and report it (the rows need an id, a name and a type)"
            )
        }
        let files = (clusterPages + childPages).map {
            SnapshotFile(path: $0.label, layout: .envelope, records: $0.rows.count, bytes: $0.bytes, skipToken: nil)
        }
        return ResourceGraphInventory(
            inventory: Inventory(fleet: fleet, files: files), clusterRows: clusterRows, childRows: childRows,
            scope: scope, endpoint: options.endpoint, takenAt: takenAt, statistics: reader.statistics)
    }

    /// Checks the scope and options; returns the subscriptions without duplicates (ignoring case), in order.
    private static func validate(_ scope: ResourceGraphScope, _ options: ResourceGraphOptions) throws(AzureARMError)
        -> [String]
    {
        func usage(_ what: String, _ location: String, _ remedy: String) -> AzureARMError {
            AzureARMError(.usage, what: what, location: location, remedy: remedy)
        }
        guard (1...1000).contains(options.pageSize) else {
            throw usage(
                "the Resource Graph page size \(options.pageSize) is out of range", "ResourceGraphOptions.pageSize",
                "use 1 to 1000 rows per page")
        }
        guard (1...1000).contains(options.subscriptionsPerRequest) else {
            throw usage(
                "\(options.subscriptionsPerRequest) subscriptions per request is out of range",
                "ResourceGraphOptions.subscriptionsPerRequest", "use 1 to 1000 (Resource Graph recommends under 300)")
        }
        guard options.maxAttempts >= 1, options.initialBackoff >= 0, options.maxBackoff >= options.initialBackoff,
            options.maxPages >= 1
        else {
            throw usage(
                "the retry options are inconsistent (attempts \(options.maxAttempts), back-off \(options.initialBackoff)…\(options.maxBackoff) ms, pages \(options.maxPages))",
                "ResourceGraphOptions", "use at least 1 attempt and 1 page and a back-off range from low to high")
        }
        if !scope.subscriptions.isEmpty, scope.managementGroup != nil {
            throw usage(
                "both subscriptions and a management group were given", "--subscription, --management-group",
                "give either subscriptions or one management group")
        }
        if let group = scope.managementGroup, group.isEmpty || group.contains(where: { $0 == "/" || $0 == "'" }) {
            throw usage(
                "the management group '\(group)' is not a management group name", "--management-group",
                "pass the group's name (its id's last segment), such as 'platform-prod'")
        }
        if let group = scope.resourceGroup, group.isEmpty || group.contains("/") {
            throw usage(
                "the resource group '\(group)' is not a resource group name", "--resource-group",
                "pass the resource group's name, such as 'rg-prod-weu'")
        }
        var seen: Set<String> = []
        var subscriptions: [String] = []
        for subscription in scope.subscriptions {
            guard isGUID(subscription) else {
                throw usage(
                    "the subscription '\(subscription)' is not a subscription id", "--subscription",
                    "pass the subscription's GUID, such as 0b1f6471-1bf0-4dda-aec3-cb9272f09590 (`az account list -o table` lists them)"
                )
            }
            if seen.insert(ASCII.lowercased(subscription)).inserted { subscriptions.append(subscription) }
        }
        return subscriptions
    }

    /// Whether a text is a GUID: 8-4-4-4-12 hexadecimal digits.
    static func isGUID(_ text: String) -> Bool {
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }
}

// MARK: - Reading pages

extension ResourceGraphInventory {
    /// The two inventory queries.
    enum Query {
        case clusters, children

        var text: String { self == .clusters ? clusterQuery : childQuery }
        var table: String { self == .clusters ? "resources" : "kubernetesconfigurationresources" }
        var purpose: String { self == .clusters ? "clusters" : "extensions and Flux configurations" }
    }

    /// One page of rows as received.
    struct Page: Sendable {
        var label: String
        var rows: [JSONDocument]
        var bytes: Int
    }

    /// Sends the queries: quota, retries, paging.
    struct Reader {
        let transport: any ARMTransport
        let clock: any RemediationClock
        let options: ResourceGraphOptions
        var statistics = ResourceGraphStatistics()
        /// When the quota window reopens after `x-ms-user-quota-remaining: 0`.
        var quotaReopensAt: Int64?
        /// One `x-ms-correlation-request-id` for every request of the read, so ARM's logs tie them together.
        let correlationId = UUID().uuidString.lowercased()

        init(transport: any ARMTransport, clock: any RemediationClock, options: ResourceGraphOptions) {
            self.transport = transport
            self.clock = clock
            self.options = options
        }

        var url: String { "\(ResourceGraphInventory.path)?api-version=\(ResourceGraphInventory.apiVersion)" }

        /// Every page of one query over one subscription batch.
        mutating func run(
            _ query: Query, subscriptions: [String]?, managementGroup: String?, batchLabel: String?
        ) throws(AzureARMError) -> [Page] {
            var pages: [Page] = []
            var token: String?
            var seenTokens: Set<String> = []
            repeat {
                let number = pages.count + 1
                var place = "POST \(options.endpoint)\(url), query '\(query.table)' (\(query.purpose))"
                if let batchLabel { place += ", \(batchLabel)" }
                place += ", page \(number)"
                guard number <= options.maxPages else {
                    throw AzureARMError(
                        .badResponse, what: "Resource Graph kept returning $skipToken after \(options.maxPages) pages",
                        location: place, remedy: "narrow the scope (--subscription, --resource-group) and re-run")
                }
                let body = requestBody(
                    query, subscriptions: subscriptions, managementGroup: managementGroup, skipToken: token)
                let response = try send(body, place: place)
                let label =
                    "\(options.endpoint)\(ResourceGraphInventory.path) \(query.table)\(batchLabel.map { ", \($0)," } ?? "") page \(number)"
                let set: JSONRecordSet
                do {
                    set = try JSONRecords.read(JSONBytes(response.body, source: label), parallelism: 1)
                } catch {
                    throw AzureARMError(
                        .badResponse,
                        what: "Resource Graph answered \(response.status) with a body that is not JSON: \(error)",
                        location: place, remedy: "re-run; if it persists, check that --arm-endpoint is ARM's endpoint",
                        status: response.status, requestId: response.header("x-ms-request-id"))
                }
                guard set.layout == .envelope else {
                    throw AzureARMError(
                        .badResponse,
                        what:
                            "Resource Graph answered \(response.status) without a 'data' array of rows (resultFormat objectArray)",
                        location: place, remedy: "check that --arm-endpoint is ARM's endpoint and re-run",
                        status: response.status, requestId: response.header("x-ms-request-id"))
                }
                statistics.pages += 1
                let next = set.envelope.first { ASCII.lowercased($0.key) == "$skiptoken" }?.value.string
                let truncated = set.envelope.first { ASCII.lowercased($0.key) == "resulttruncated" }?.value
                if truncated == .string("true") || truncated == .bool(true), (next ?? "").isEmpty {
                    throw AzureARMError(
                        .badResponse,
                        what:
                            "Resource Graph marked the result truncated without a $skipToken to continue: the inventory would be incomplete",
                        location: place, remedy: "narrow the scope (--subscription, --resource-group) and re-run",
                        status: response.status, requestId: response.header("x-ms-request-id"))
                }
                pages.append(Page(label: label, rows: set.records, bytes: response.body.count))
                token = (next ?? "").isEmpty ? nil : next
                if let token, !seenTokens.insert(token).inserted {
                    throw AzureARMError(
                        .badResponse, what: "Resource Graph returned the same $skipToken twice",
                        location: place, remedy: "re-run; if it persists, narrow the scope and report it",
                        requestId: response.header("x-ms-request-id"))
                }
            } while token != nil
            return pages
        }

        /// `{"subscriptions"|"managementGroups", "query", "options": {"$top", "$skipToken", "resultFormat"}}`.
        func requestBody(
            _ query: Query, subscriptions: [String]?, managementGroup: String?, skipToken: String?
        ) -> [UInt8] {
            var w = JSONWriter()
            w.beginObject()
            if let subscriptions {
                w.key("subscriptions")
                w.beginArray()
                for subscription in subscriptions { w.string(subscription) }
                w.endArray()
            } else if let managementGroup {
                w.key("managementGroups")
                w.beginArray()
                w.string(managementGroup)
                w.endArray()
            }
            w.member("query", query.text)
            w.key("options")
            w.beginObject()
            w.member("$top", options.pageSize)
            if let skipToken { w.member("$skipToken", skipToken) }
            w.member("resultFormat", "objectArray")
            w.endObject()
            w.endObject()
            return w.bytes
        }

        /// Posts one page's request until ARM answers 2xx, retrying what is worth retrying.
        mutating func send(_ body: [UInt8], place: String) throws(AzureARMError) -> ARMHTTPResponse {
            var attempt = 0
            var lastProblem = ""
            while true {
                attempt += 1
                waitForQuota()
                let request = ARMHTTPRequest(
                    method: "POST", url: url,
                    headers: [
                        "Content-Type": "application/json", "Accept": "application/json",
                        "x-ms-client-request-id": UUID().uuidString.lowercased(),
                        "x-ms-correlation-request-id": correlationId,
                        "User-Agent": "fluxfleet/\(FleetCoreVersion.string)",
                    ],
                    body: body)
                statistics.requests += 1
                let response: ARMHTTPResponse
                do {
                    response = try transport.send(request)
                } catch {
                    switch error {
                    case .unreachable(let what) where what.hasPrefix(URLSessionTransport.credentialFailure):
                        throw AzureARMError(
                            .unauthorized, what: "cannot sign in to Resource Graph: \(what)", location: place,
                            remedy: "sign in (`az login`) or set up the credential, then re-run")
                    case .unreachable(let what):
                        throw AzureARMError(
                            .unreachable, what: "cannot reach Resource Graph: \(what)", location: place,
                            remedy:
                                "check --arm-endpoint, DNS, proxy and firewall (ARM is https://management.azure.com; the emulator prints its address)"
                        )
                    case .droppedConnection, .timedOut:
                        lastProblem = error == .timedOut ? "timed out" : "dropped the connection"
                        guard attempt < options.maxAttempts else {
                            throw AzureARMError(
                                .unreachable,
                                what: "Resource Graph \(lastProblem) on all \(attempt) attempts", location: place,
                                remedy: "check the network and re-run")
                        }
                        retry(after: backoff(attempt))
                        continue
                    }
                }
                noteQuota(response)
                let status = response.status
                if (200..<300).contains(status) { return response }
                let (code, message) = armError(response.body)
                let requestId = response.header("x-ms-request-id")
                let answered = "Resource Graph answered \(status)\(code.map { " \($0)" } ?? "")"
                let detail = message.map { ": \($0)" } ?? ""
                switch status {
                case 429, 408, 500...599:
                    guard attempt < options.maxAttempts else {
                        throw AzureARMError(
                            .unreachable, what: "\(answered) on all \(attempt) attempts\(detail)", location: place,
                            remedy:
                                status == 429
                                ? "Resource Graph's quota is exhausted: wait a few minutes, narrow the scope or stop other clients of the same principal, then re-run"
                                : "Azure is having trouble: wait and re-run (see https://azure.status.microsoft)",
                            status: status, errorCode: code, requestId: requestId)
                    }
                    retry(after: retryAfter(response) ?? backoff(attempt))
                case 401, 403:
                    throw AzureARMError(
                        .unauthorized, what: "\(answered)\(detail)", location: place,
                        remedy:
                            status == 401
                            ? "sign in (--auth, `az login`, the AZURE_* variables) or check the credential's tenant and the cloud (--cloud)"
                            : "grant the principal Reader on the subscriptions or management group being read",
                        status: status, errorCode: code, requestId: requestId)
                case 404:
                    throw AzureARMError(
                        .unreachable, what: "\(answered)\(detail)", location: place,
                        remedy:
                            "the endpoint does not serve Resource Graph: check --arm-endpoint (Azure's is https://management.azure.com) and --cloud",
                        status: status, errorCode: code, requestId: requestId)
                default:
                    throw AzureARMError(
                        .other, what: "\(answered)\(detail)", location: place,
                        remedy:
                            "check the scope (--subscription, --management-group) and the endpoint; report it if they are right",
                        status: status, errorCode: code, requestId: requestId)
                }
            }
        }

        /// Waits, when the last answer said the quota is used up, until its window reopens.
        mutating func waitForQuota() {
            guard let reopens = quotaReopensAt else { return }
            quotaReopensAt = nil
            let now = clock.now
            guard reopens > now else { return }
            statistics.quotaWaits += 1
            statistics.waited += reopens - now
            clock.sleep(until: reopens)
        }

        /// Reads `x-ms-user-quota-remaining` and `x-ms-user-quota-resets-after`.
        mutating func noteQuota(_ response: ARMHTTPResponse) {
            guard let remaining = response.header("x-ms-user-quota-remaining").flatMap({ Int($0) }), remaining <= 0
            else { return }
            let wait = response.header("x-ms-user-quota-resets-after").flatMap(parseTimeSpan) ?? options.initialBackoff
            quotaReopensAt = clock.now + min(max(wait, 0), options.maxBackoff)
        }

        /// Waits before a retry.
        mutating func retry(after delay: Int64) {
            statistics.retries += 1
            let wait = min(max(delay, 0), options.maxBackoff)
            statistics.waited += wait
            clock.sleep(until: clock.now + wait)
        }

        /// The exponential back-off for an attempt: initial, doubled per attempt, capped.
        func backoff(_ attempt: Int) -> Int64 {
            var delay = options.initialBackoff
            for _ in 1..<max(1, attempt) {
                delay *= 2
                if delay >= options.maxBackoff { return options.maxBackoff }
            }
            return min(delay, options.maxBackoff)
        }

        /// What ARM asked to wait: `retry-after-ms`, `x-ms-retry-after-ms`, `Retry-After` (seconds or an HTTP date).
        func retryAfter(_ response: ARMHTTPResponse) -> Int64? {
            for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
                if let value = response.header(name).flatMap({ Int64($0.trimmingCharacters(in: .whitespaces)) }) {
                    return value
                }
            }
            guard let value = response.header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
            if let seconds = Int64(value) { return seconds * 1000 }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            guard let date = formatter.date(from: value) else { return nil }
            return Int64(date.timeIntervalSince1970 * 1000) - clock.now
        }

        /// ARM's `error.code` (with the first detail's code after a slash) and `error.message`, when the body has them.
        func armError(_ body: [UInt8]) -> (code: String?, message: String?) {
            guard !body.isEmpty, let json = try? JSON.parse(String(decoding: body, as: UTF8.self), source: "answer"),
                let error = json["error"]
            else { return (nil, nil) }
            var code = error["code"]?.string
            if case .array(let details) = error["details"], let first = details.first?["code"]?.string,
                first != code
            {
                code = code.map { "\($0)/\(first)" } ?? first
            }
            var message = error["message"]?.string
            if case .array(let details) = error["details"], let first = details.first?["message"]?.string {
                message = message.map { "\($0) \(first)" } ?? first
            }
            return (code, message.map { $0.count > 400 ? String($0.prefix(400)) + "…" : $0 })
        }
    }

    /// Parses a .NET time span as Resource Graph writes it: `hh:mm:ss`, optionally `d.` before and `.fff` after.
    static func parseTimeSpan(_ text: String) -> Int64? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        var days: Int64 = 0
        let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var hoursText = parts[0]
        if let dot = hoursText.firstIndex(of: ".") {
            guard let d = Int64(hoursText[..<dot]) else { return nil }
            days = d
            hoursText = hoursText[hoursText.index(after: dot)...]
        }
        guard let hours = Int64(hoursText), let minutes = Int64(parts[1]) else { return nil }
        rest = parts[2]
        guard let seconds = Double(rest), seconds >= 0 else { return nil }
        return ((days * 24 + hours) * 60 + minutes) * 60_000 + Int64((seconds * 1000).rounded(.up))
    }
}
