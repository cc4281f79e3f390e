import Dispatch
import FleetCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The Azure CLI's signed-in account: `az account get-access-token --output json --resource …` (with `--tenant`
/// when `AZURE_TENANT_ID` is set), run with a timeout.
///
/// `az` is looked up on the environment's `PATH` (or given). The token's expiry is `expires_on` (epoch seconds,
/// CLI 2.54 and later), else `expiresOn` read as local time. Standard output holds the token, so it never appears
/// in an error; standard error does, shortened.
public final class AzureCLICredential: TokenCredential {
    /// `azure-cli`.
    public let name = "azure-cli"
    /// The `az` executable that is run.
    public let executable: String
    /// The longest `az` may take, in seconds, before it is killed.
    public let timeout: Double
    private let tenant: String?
    private let environment: [String: String]
    private let cache: TokenCache

    /// Creates the credential.
    ///
    /// - Parameters:
    ///   - environment: The process environment (or a test's): `PATH` to find `az`, `AZURE_TENANT_ID`; `az` runs
    ///     with this environment.
    ///   - clock: The clock token lifetimes are measured on.
    ///   - executable: The `az` to run instead of the one on `PATH`.
    ///   - timeout: The longest `az` may take, in seconds (the SDKs' 10).
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/unauthorized``) when `az` is not on `PATH`.
    public init(
        environment: [String: String], clock: any RemediationClock & Sendable, executable: String? = nil,
        timeout: Double = 10
    ) throws(AzureARMError) {
        guard let found = executable ?? Self.find("az", path: environment["PATH"] ?? "") else {
            throw CredentialContext.unavailable(
                "azure-cli", "az is not on PATH", location: "PATH",
                remedy: "install the Azure CLI (https://aka.ms/azure-cli) and run az login")
        }
        self.executable = found
        self.timeout = timeout
        self.environment = environment
        self.tenant = EnvironmentValues.value(environment, "AZURE_TENANT_ID")
        self.cache = TokenCache(clock: clock)
    }

    /// A token for `scope`, from the cache or from `az`.
    ///
    /// - Throws: ``AzureARMError``; unavailable (for the chain) when `az` says to log in.
    public func token(scope: String) throws -> AccessToken {
        try cache.token(scope: scope) { scope in try fetch(scope) }
    }

    private func fetch(_ scope: String) throws(AzureARMError) -> AccessToken {
        var arguments = [
            "account", "get-access-token", "--output", "json", "--resource", EnvironmentValues.resource(ofScope: scope),
        ]
        if let tenant { arguments += ["--tenant", tenant] }
        let command = "az account get-access-token"
        let run: ProcessRun
        do {
            run = try ProcessRun.run(executable, arguments, environment: environment, timeout: timeout)
        } catch {
            throw failure(
                "\(executable) could not be started (\(error.localizedDescription))",
                remedy: "check the Azure CLI installation")
        }
        if run.timedOut {
            throw failure(
                "\(command) did not finish within \(Self.seconds(timeout)) s and was stopped",
                remedy: "run \(command) yourself to see what it waits for (a login prompt, a proxy)")
        }
        let stderr = String(decoding: run.stderr, as: UTF8.self)
        guard run.status == 0 else {
            if stderr.contains("az login") || stderr.contains("az account set") {
                throw CredentialContext.unavailable(
                    name, "the Azure CLI is not logged in (\(command) exited \(run.status))", location: executable,
                    remedy: "run az login\(tenant.map { " --tenant \($0)" } ?? "")")
            }
            let first = stderr.split(whereSeparator: \.isNewline).first.map { String($0.prefix(300)) } ?? "no message"
            throw failure("\(command) exited \(run.status): \(first)", remedy: "run \(command) yourself to see why")
        }
        let json = try? JSON.parse(String(decoding: run.stdout, as: UTF8.self))
        guard let json, let token = json["accessToken"]?.string, !token.isEmpty else {
            throw failure(
                "\(command) printed \(run.stdout.count) bytes that are not a token (no accessToken)",
                remedy: "update the Azure CLI (az upgrade) and run az login")
        }
        if let on = CredentialContext.integer(json["expires_on"]) {
            return AccessToken(token: token, expiresOn: on)
        }
        if let text = json["expiresOn"]?.string, let on = Self.localTime(text) {
            return AccessToken(token: token, expiresOn: on)
        }
        throw failure(
            "\(command) printed a token without expires_on or a readable expiresOn",
            remedy: "update the Azure CLI (az upgrade)")
    }

    private func failure(_ what: String, remedy: String) -> AzureARMError {
        AzureARMError(.unauthorized, what: "\(name): \(what)", location: executable, remedy: remedy)
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` in the local time zone, as epoch seconds.
    static func localTime(_ text: String, timeZone: TimeZone = .current) -> Int64? {
        let parts = text.split(whereSeparator: { "-: .T".contains($0) }).prefix(6).map { Int($0) }
        guard parts.count == 6, parts.allSatisfy({ $0 != nil }) else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        (components.hour, components.minute, components.second) = (parts[3], parts[4], parts[5])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let date = calendar.date(from: components) else { return nil }
        return Int64(date.timeIntervalSince1970)
    }

    /// The first executable `name` in a `PATH` list.
    static func find(_ name: String, path: String) -> String? {
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = (String(directory) as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// One run of a child process with captured output and a timeout (the process is killed when it runs over).
struct ProcessRun {
    var status: Int32
    var stdout: [UInt8]
    var stderr: [UInt8]
    var timedOut: Bool

    /// Runs `executable` from `/` with `arguments` and `environment`, waiting at most `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String], timeout: Double)
        throws -> ProcessRun
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let stdout = Collected(out.fileHandleForReading)
        let stderr = Collected(err.fileHandleForReading)
        try process.run()
        if exited.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            if exited.wait(timeout: .now() + 1) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 1)
            }
            return ProcessRun(status: -1, stdout: [], stderr: [], timedOut: true)
        }
        return ProcessRun(
            status: process.terminationStatus, stdout: stdout.wait(), stderr: stderr.wait(), timedOut: false)
    }
}

/// A pipe read to its end on a background thread, so a chatty child never blocks on a full pipe.
private final class Collected: @unchecked Sendable {
    private var bytes: [UInt8] = []
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        DispatchQueue.global().async { [self] in
            bytes = [UInt8](handle.readDataToEndOfFile())
            done.signal()
        }
    }

    /// Everything read once the writer closed the pipe, or nothing when it stays open two more seconds (a
    /// grandchild holding it).
    func wait() -> [UInt8] {
        done.wait(timeout: .now() + 2) == .success ? bytes : []
    }
}
