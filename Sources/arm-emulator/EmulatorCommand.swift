import ARMEmulator
import ArgumentParser
import FleetCore
import FlyingFox
import FlyingSocks
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `arm-emulator`: the ARM, Resource Graph and token endpoint emulator served over loopback HTTP.
@main
struct EmulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "arm-emulator",
        abstract: "Serves Azure Resource Manager, Resource Graph and a token endpoint over loopback HTTP, emulated.",
        discussion: """
            The fleet comes from an inventory snapshot (any file or directory `fluxfleet inventory` reads). On start \
            one line goes to standard output: `arm-emulator listening on http://127.0.0.1:PORT`; logs go to \
            standard error. SIGINT or SIGTERM stops the server (and writes --state-out).

            Token endpoints: POST /{tenant}/oauth2/v2.0/token (client secret or federated client assertion), GET \
            /metadata/identity/oauth2/token (IMDS, header Metadata: true) and GET /msi/token (App Service, header \
            X-IDENTITY-HEADER). Point the Azure SDK variables at the emulator: AZURE_AUTHORITY_HOST, \
            AZURE_POD_IDENTITY_AUTHORITY_HOST or IDENTITY_ENDPOINT=http://127.0.0.1:PORT/msi/token.

            Control endpoint: POST /_emulator/state answers the current state as an inventory snapshot (and \
            writes --state-out when given).

            Exit codes: 0 stopped cleanly, 64 usage error, 65 unreadable inventory or --key-vault-secrets, 69 the \
            address cannot be bound (port in use).
            """
    )

    @Option(help: "The inventory snapshot to serve: a JSON, NDJSON or Resource Graph file, or a directory of them.")
    var inventory: String

    @Option(help: "The TCP port; 0 picks a free one (printed on start).")
    var port: Int = 0

    @Option(help: "The address to listen on; only loopback (127.0.0.1, ::1, localhost) unless --allow-remote.")
    var host: String = "127.0.0.1"

    @Flag(help: "Allow listening on a non-loopback address.")
    var allowRemote = false

    @Option(
        name: .customLong("state-out"),
        help: "Where to write the state as an inventory snapshot on stop (and on POST /_emulator/state).")
    var stateOut: String?

    @Option(help: "ARM's per-subscription throttling and Resource Graph's quota: arm or off.")
    var throttle: ThrottleMode = .arm

    @Option(
        name: .customLong("time-scale"),
        help: "Virtual milliseconds per real millisecond (60 makes a 60 s operation take 1 s).")
    var timeScale: Double = 1

    @Option(help: "Faults to inject, such as 5xx=2%,429storm=60s@300s,drop=1%,slow=10%x5,stuck=0.5%.")
    var faults: String = ""

    @Option(help: "Delay added to every answer: 0, 50ms, or 20-80ms (uniform, seeded by the request number).")
    var latency: String = "0"

    @Option(help: "The seed of every pseudo-random choice (fault decisions, ids, latency).")
    var seed: UInt64 = 0

    @Option(
        name: .customLong("page-size"),
        help: "Items per page of ARM lists and most rows per Resource Graph page (default: ARM's 100 and 1000).")
    var pageSize: Int?

    @Option(
        name: .customLong("request-log"),
        help: "Append one NDJSON line per request: n, method, path, status, at (virtual ms), requestId.")
    var requestLog: String?

    @Option(
        name: .customLong("key-vault-secrets"),
        help: ArgumentHelp(
            "Secrets the Key Vault data plane serves at /keyvault/{vault}/secrets/{name}[/{version}].",
            discussion:
                "A JSON file: {\"<vault>\": {\"<secret>\": \"value\" | {\"value\", \"version\"?, \"enabled\"?, \"forbidden\"?} | [versions…, current last]}}."
        ))
    var keyVaultSecrets: String?

    @Flag(
        name: .customLong("require-auth"),
        help:
            "Answer 401 to ARM and Resource Graph requests without a valid, unexpired token this emulator issued for ARM."
    )
    var requireAuth = false

    @Option(
        name: .customLong("client-secret"),
        help:
            "The client secret the token endpoint requires (default: any); visible in ps, prefer --client-secret-file."
    )
    var clientSecret: String?

    @Option(name: .customLong("client-secret-file"), help: "Read the required client secret from a file.")
    var clientSecretFile: String?

    @Option(
        name: .customLong("federated-token-file"),
        help: "Require client assertions to equal this file's contents (default: any non-empty JWT-bearer assertion).")
    var federatedTokenFile: String?

    @Option(
        name: .customLong("identity-header"),
        help: "The X-IDENTITY-HEADER the App Service identity endpoint GET /msi/token requires (default: any).")
    var identityHeader: String?

    @Option(
        name: .customLong("managed-identity-client-id"),
        help: "The client id of the managed identity served at /metadata/identity/oauth2/token and /msi/token.")
    var managedIdentityClientID: String?

    @Option(
        name: .customLong("management-group"),
        help: ArgumentHelp(
            "A management group and its subscriptions, for Resource Graph queries scoped to it (repeatable).",
            valueName: "id=sub[,sub…]"))
    var managementGroup: [String] = []

    @Option(
        name: .customLong("lock-scope"),
        help: ArgumentHelp(
            "A scope under a resource lock: writes and deletes under it answer 409 ScopeLocked (repeatable).",
            valueName: "id"))
    var lockScope: [String] = []

    @Option(
        name: .customLong("forbid-client"),
        help: "Answer 403 AuthorizationFailed to tokens of this client id (repeatable; implies --require-auth).")
    var forbidClient: [String] = []

    @Flag(
        name: .customLong("no-keep-alive"),
        help:
            "Answer with Connection: close, so clients open a connection per request (libcurl, and so URLSession on Linux, silently resends a request whose reused connection drops)."
    )
    var noKeepAlive = false

    @Flag(help: "Log every request to standard error.")
    var verbose = false

    /// What `--throttle` accepts.
    enum ThrottleMode: String, ExpressibleByArgument, CaseIterable {
        case arm
        case off
    }

    func validate() throws {
        guard (0...65_535).contains(port) else {
            throw ValidationError("--port must be from 0 to 65535 (0 picks a free port), found \(port).")
        }
        guard timeScale.isFinite, timeScale > 0 else {
            throw ValidationError("--time-scale must be a number greater than 0, such as 1 or 60, found \(timeScale).")
        }
        if let pageSize, !(1...1000).contains(pageSize) {
            throw ValidationError("--page-size must be from 1 to 1000, found \(pageSize).")
        }
        guard allowRemote || ServerAddress.isLoopback(host) else {
            throw ValidationError(
                "--host \(host) is not a loopback address: the emulator listens on 127.0.0.1, ::1 or localhost unless --allow-remote is given."
            )
        }
        if ServerAddress.parse(host) == nil {
            throw ValidationError("--host must be an IPv4 or IPv6 address or localhost, found '\(host)'.")
        }
    }

    func run() async throws {
        let faultPlan: FaultPlan
        do {
            faultPlan = try FaultPlan(parsing: faults)
        } catch {
            Log.error(error.description)
            throw ExitCode(64)
        }
        let delay: LatencySpec
        do {
            delay = try LatencySpec(parsing: latency)
        } catch {
            Log.error(error.description)
            throw ExitCode(64)
        }
        let fleet: Fleet
        do {
            fleet = try SnapshotReader.load(path: inventory).fleet
        } catch {
            Log.error("cannot read the inventory '\(inventory)': \(error.description)")
            throw ExitCode(65)
        }
        var logFile: RequestLog?
        if let requestLog {
            do {
                logFile = try RequestLog(path: requestLog)
            } catch {
                Log.error(error.description)
                throw ExitCode(64)
            }
        }

        var configuration = EmulatorConfiguration()
        configuration.faults = faultPlan
        configuration.seed = seed
        configuration.requireBearerToken = requireAuth || !forbidClient.isEmpty
        configuration.lockedScopes = lockScope
        for entry in managementGroup {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                Log.error("--management-group '\(entry)' is not ID=SUBSCRIPTION[,SUBSCRIPTION…]")
                throw ExitCode(64)
            }
            configuration.managementGroups[ASCII.lowercased(parts[0]), default: []] += parts[1]
                .split(separator: ",").map(String.init)
        }
        do {
            configuration.authentication = try authentication()
        } catch {
            Log.error(error.description)
            throw ExitCode(64)
        }
        if throttle == .off {
            configuration.throttling = nil
            configuration.resourceGraphQuota = nil
        }
        if let pageSize {
            configuration.listPageSize = pageSize
            configuration.resourceGraphMaxPageSize = pageSize
        }
        var state = EmulatorState(inventory: fleet, configuration: configuration)
        if let keyVaultSecrets {
            do {
                guard let bytes = FileManager.default.contents(atPath: keyVaultSecrets) else {
                    throw KeyVaultSeedError(file: keyVaultSecrets, path: "$", message: "cannot be read")
                }
                state.keyVaults = try EmulatedKeyVaults(seed: [UInt8](bytes), source: keyVaultSecrets, at: state.now)
            } catch {
                Log.error("--key-vault-secrets: \(error)")
                throw ExitCode(65)
            }
        }
        let host = EmulatorHost(
            state: state, clock: ScaledClock(start: state.now, scale: timeScale), requestLog: logFile,
            stateOut: stateOut)
        let handler = EmulatorHTTPHandler(
            host: host, latency: delay, seed: seed, keepAlive: !noKeepAlive, verbose: verbose, timeScale: timeScale)
        guard let address = ServerAddress.parse(host: self.host, port: UInt16(port)) else {
            throw ValidationError("--host must be an IPv4 or IPv6 address or localhost, found '\(self.host)'.")
        }
        let stop = StopSignal()
        let server = HTTPServer(
            config: HTTPServer.Configuration(
                address: address.socketAddress, timeout: 120, logger: StderrLogger(stop: stop)),
            handler: handler)
        stop.install { Task { await server.stop(timeout: 0.2) } }

        let clusters = fleet.clusters.count
        let urlHost = address.urlHost
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                group.addTask {
                    try await server.waitUntilListening(timeout: 30)
                    guard let bound = await server.listeningAddress else { throw SocketError.disconnected }
                    let base = "http://\(urlHost):\(bound.port)"
                    await host.setBaseURL(base)
                    Log.standardOutput("arm-emulator listening on \(base)\n")
                    Log.info(
                        "serving \(clusters) clusters from \(inventory); time scale \(timeScale), throttling \(throttle.rawValue), faults '\(faultPlan)', latency \(delay)"
                    )
                }
                // The first error (the address cannot be bound) ends the group and cancels the wait for listening.
                while try await group.next() != nil {}
            }
        } catch {
            if !stop.requested {
                Log.error("cannot serve on \(self.host):\(port): \(error.localizedDescription)")
                throw ExitCode(69)
            }
        }
        if stop.requested {
            do {
                try await host.stop()
            } catch {
                Log.error(error.description)
                throw ExitCode(1)
            }
            Log.info("stopped after \(await host.requestCount) requests")
        }
    }
}

extension EmulatorCommand {
    /// The credentials the token endpoints accept, from the flags (secrets read from their files).
    func authentication() throws(UsageError) -> EmulatorAuthentication {
        var auth = EmulatorAuthentication()
        auth.clientSecret = clientSecret
        if let clientSecretFile {
            auth.clientSecret = try Self.secret(from: clientSecretFile, flag: "--client-secret-file")
        }
        if let federatedTokenFile {
            auth.federatedToken = try Self.secret(from: federatedTokenFile, flag: "--federated-token-file")
        }
        auth.identityHeader = identityHeader
        if let managedIdentityClientID { auth.managedIdentityClientID = managedIdentityClientID }
        auth.forbiddenClients = Set(forbidClient.map { $0.lowercased() })
        return auth
    }

    /// A file's contents without surrounding whitespace; an unreadable or empty file is a usage error.
    private static func secret(from path: String, flag: String) throws(UsageError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError(description: "\(flag) \(path) cannot be read.")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw UsageError(description: "\(flag) \(path) is empty.") }
        return text
    }
}

/// A bad flag value found while starting.
struct UsageError: Error, CustomStringConvertible {
    var description: String
}

extension Socket.Address {
    /// The port of an IP address (0 for a Unix socket).
    fileprivate var port: UInt16 {
        switch self {
        case .ip4(_, let port), .ip6(_, let port): port
        case .unix: 0
        }
    }
}

/// SIGINT and SIGTERM: the first one stops the server.
final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var sources: [any DispatchSourceSignal] = []

    /// Whether a signal arrived.
    var requested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }

    /// Calls `action` once, on the first SIGINT or SIGTERM.
    func install(_ action: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                lock.lock()
                let first = !flag
                flag = true
                lock.unlock()
                if first { action() }
            }
            source.resume()
            sources.append(source)
        }
    }
}
