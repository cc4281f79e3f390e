import FleetCore
import Foundation

/// Reads Key Vault secrets over Key Vault's REST API, for the secret references of a plan.
///
/// A secret is read with `GET {vaultURL}/secrets/{name}[/{version}]?api-version=2025-07-01` and an
/// `Authorization: Bearer …` token for the vault scope. The vault URL is `https://{vault}.{dnsSuffix}`, or, with an
/// endpoint template, the template with `{vault}` replaced by the vault's name: the emulator serves every vault at
/// `http://127.0.0.1:PORT/keyvault/{vault}`.
///
/// | Cloud | `dnsSuffix` | `scope` |
/// |---|---|---|
/// | Azure public | `vault.azure.net` | `https://vault.azure.net/.default` |
/// | US Government | `vault.usgovcloudapi.net` | `https://vault.usgovcloudapi.net/.default` |
/// | China (21Vianet) | `vault.azure.cn` | `https://vault.azure.cn/.default` |
///
/// The vault id and the secret name are checked before any request. 429, 5xx, dropped connections and timeouts are
/// retried a few times (waiting `Retry-After`, bounded); every other failure is a ``KeyVaultError`` that names the
/// vault and the secret, never the value or the token. Values are cached per (vault, name, version) for the life of
/// the client, so a fleet-wide apply reads each secret once; so are Key Vault's definite refusals (403, 404, other
/// 4xx but 401), so a secret the identity may not read fails every cluster after one request, not one each. Reads
/// are serialised: the client may be shared by threads, and two threads asking for the same secret cause one
/// request.
public final class KeyVaultClient: KeyVaultSecretReader, @unchecked Sendable {
    /// Opens a transport for a vault URL (`https://kv-fleet.vault.azure.net`); requests carry absolute URLs under it.
    public typealias Connect = @Sendable (_ vaultURL: String) throws -> any ARMTransport

    /// The Key Vault data-plane api-version requested (the current GA version).
    public static let apiVersion = "2025-07-01"

    /// The vault DNS suffix (`vault.azure.net`).
    public let dnsSuffix: String
    /// The token scope (`https://vault.azure.net/.default`).
    public let scope: String
    /// The vault URL template with `{vault}` in it, when one replaces `https://{vault}.{dnsSuffix}`.
    public let endpointTemplate: String?
    /// How many times a request is sent at most (1 + retries of 429, 5xx, drops and timeouts).
    public let maxAttempts: Int
    /// The longest wait before a retry, in seconds (a longer `Retry-After` is cut to it).
    public let maxRetryWait: Double

    private let credential: any TokenCredential
    private let connect: Connect
    private let sleep: @Sendable (Double) -> Void
    private let lock = NSLock()
    private var cache: [String: Result<String, KeyVaultError>] = [:]

    /// Opens a ``URLSessionTransport`` for the vault URL.
    public static let urlSession: Connect = { try URLSessionTransport(endpoint: $0) }

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - credential: Gives the tokens for `scope`.
    ///   - dnsSuffix: The cloud's Key Vault DNS suffix (see the table above).
    ///   - scope: The cloud's Key Vault token scope (see the table above).
    ///   - endpointTemplate: A vault URL with `{vault}` in it, such as `http://127.0.0.1:8080/keyvault/{vault}` for the
    ///     emulator; nil for `https://{vault}.{dnsSuffix}`.
    ///   - maxAttempts: How many times a request is sent at most (at least 1).
    ///   - maxRetryWait: The longest wait before a retry, in seconds.
    ///   - sleep: Waits a number of seconds before a retry (tests pass one that records the wait).
    ///   - connect: Opens a transport for a vault URL.
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/usage``) when the template is not an `http` or `https`
    ///   URL holding `{vault}`.
    public init(
        credential: any TokenCredential, dnsSuffix: String = "vault.azure.net",
        scope: String = "https://vault.azure.net/.default", endpointTemplate: String? = nil, maxAttempts: Int = 4,
        maxRetryWait: Double = 30, sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
        connect: @escaping Connect = KeyVaultClient.urlSession
    ) throws(AzureARMError) {
        if let template = endpointTemplate {
            let lower = template.lowercased()
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://"), template.contains("{vault}"),
                !template.contains("?")
            else {
                throw AzureARMError(
                    .usage, what: "the Key Vault endpoint template '\(template)' is not an http(s) URL with {vault}",
                    location: "Key Vault endpoint template",
                    remedy: "give a URL such as http://127.0.0.1:PORT/keyvault/{vault} (the emulator's form)")
            }
        }
        self.credential = credential
        self.dnsSuffix = dnsSuffix
        self.scope = scope
        self.endpointTemplate = endpointTemplate.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.maxAttempts = max(1, maxAttempts)
        self.maxRetryWait = max(0, maxRetryWait)
        self.sleep = sleep
        self.connect = connect
    }

    /// The URL of the vault named `name`: `https://{name}.{dnsSuffix}` or the endpoint template filled in.
    public func vaultURL(name: String) -> String {
        endpointTemplate?.replacingOccurrences(of: "{vault}", with: name) ?? "https://\(name).\(dnsSuffix)"
    }

    /// The vault's name from its ARM id (`/subscriptions/…/resourceGroups/…/providers/Microsoft.KeyVault/vaults/NAME`),
    /// or nil when the id is not one of a vault or the name breaks Key Vault's rules (3–24 letters, digits, hyphens).
    public static func vaultName(fromId id: String) -> String? {
        let s = id.split(separator: "/").map(String.init)
        let shape = ["subscriptions", nil, "resourceGroups", nil, "providers", "Microsoft.KeyVault", "vaults", nil]
        guard s.count == shape.count, id.hasPrefix("/"),
            zip(s, shape).allSatisfy({ segment, word in word.map { ASCII.equalsIgnoringCase(segment, $0) } ?? true }),
            isName(s[7], 3...24)
        else { return nil }
        return s[7]
    }

    /// The value of secret `name` (its `version`, or the current one) in the vault with ARM id `vaultId`.
    ///
    /// - Throws: ``KeyVaultError`` naming the vault, the secret and the remedy.
    public func secret(vaultId: String, name: String, version: String?) throws -> String {
        guard let vault = Self.vaultName(fromId: vaultId) else {
            throw KeyVaultError(
                .invalidReference, vault: vaultId, secret: name,
                message: "the vault id is not the ARM id of a Key Vault",
                remedy:
                    "write keyVault.id as /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name} (the name 3-24 letters, digits and hyphens)"
            )
        }
        guard Self.isName(name, 1...127) else {
            throw KeyVaultError(
                .invalidReference, vault: vault, secret: name,
                message: "the secret name is not a Key Vault secret name",
                remedy: "write secretName with 1-127 letters, digits and hyphens")
        }
        if let version, !Self.isName(version, 1...64) || version.contains("-") {
            throw KeyVaultError(
                .invalidReference, vault: vault, secret: name, message: "the secret version '\(version)' is not valid",
                remedy: "write secretVersion as the version id (32 hex digits), or leave it out for the current version"
            )
        }
        let key = [vault, name, version ?? ""].map(ASCII.lowercased).joined(separator: "/")
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[key] { return try cached.get() }
        do {
            let value = try read(vault: vault, name: name, version: version)
            cache[key] = .success(value)
            return value
        } catch {
            if [.forbidden, .disabled, .notFound, .rejected].contains(error.kind) { cache[key] = .failure(error) }
            throw error
        }
    }

    /// Sends the GET, retrying transient failures, and returns the value or throws the classified failure.
    private func read(vault: String, name: String, version: String?) throws(KeyVaultError) -> String {
        func failure(_ kind: KeyVaultError.Kind, _ message: String, _ remedy: String) -> KeyVaultError {
            KeyVaultError(kind, vault: vault, secret: name, message: message, remedy: remedy)
        }
        let base = vaultURL(name: vault)
        let url = "\(base)/secrets/\(name)\(version.map { "/\($0)" } ?? "")?api-version=\(Self.apiVersion)"
        let transport: any ARMTransport
        do {
            transport = try connect(base)
        } catch {
            throw failure(
                .unreachable, "the vault URL \(base) cannot be used: \(error)",
                "check the vault name and the Key Vault endpoint (template)")
        }
        let token: AccessToken
        do {
            token = try credential.token(scope: scope)
        } catch {
            throw failure(
                .credential, "no access token for \(scope) from the \(credential.name) credential: \(error)",
                "fix the Azure credentials (--auth) so they can get a token for Key Vault")
        }
        let request = ARMHTTPRequest(
            method: "GET", url: url, headers: ["Authorization": "Bearer \(token.token)", "Accept": "application/json"])
        var attempt = 0
        while true {
            attempt += 1
            let response: ARMHTTPResponse
            do {
                response = try transport.send(request)
            } catch {
                let what: String
                switch error {
                case .unreachable(let reason):
                    throw failure(
                        .unreachable, "Key Vault at \(base) cannot be reached: \(reason)",
                        "check the vault name, DNS and the network path to the vault (firewall, private endpoint)")
                case .droppedConnection: what = "the connection to \(base) dropped"
                case .timedOut: what = "\(base) did not answer in time"
                }
                guard attempt < maxAttempts else {
                    throw failure(.unreachable, "\(what) \(attempt) times", "retry later; check the network to \(base)")
                }
                sleep(min(maxRetryWait, Double(1 << (attempt - 1))))
                continue
            }
            if response.status == 200 {
                guard let value = Self.json(response.body)?["value"]?.string else {
                    throw failure(
                        .badResponse, "Key Vault answered 200 without a string 'value'",
                        "check that \(base) is a Key Vault endpoint")
                }
                return value
            }
            let transient = response.status == 429 || response.status == 408 || response.status >= 500
            if transient && attempt < maxAttempts {
                sleep(min(maxRetryWait, retryAfter(response) ?? Double(1 << (attempt - 1))))
                continue
            }
            throw classify(response, vault: vault, name: name, attempts: attempt)
        }
    }

    /// The wait a throttled or unavailable answer asks for, in seconds (`retry-after-ms`, then `Retry-After`).
    private func retryAfter(_ response: ARMHTTPResponse) -> Double? {
        if let text = response.header("retry-after-ms"), let ms = Double(text), ms >= 0 { return ms / 1000 }
        if let text = response.header("Retry-After"), let seconds = Double(text), seconds >= 0 { return seconds }
        return nil
    }

    /// The failure for a non-200 answer, from Key Vault's `{"error": {"code", "message", "innererror"}}`.
    private func classify(_ response: ARMHTTPResponse, vault: String, name: String, attempts: Int) -> KeyVaultError {
        let error = Self.json(response.body)?["error"]
        let code = error?["code"]?.string
        let inner = (error?["innererror"] ?? error?["innerError"])?["code"]?.string
        let said = error?["message"]?.string.map { message in
            ": " + (message.split(whereSeparator: \.isNewline).first.map(String.init) ?? message)
        }
        let answer =
            "Key Vault answered \(response.status) \([code, inner].compactMap { $0 }.joined(separator: "/"))"
            + (said ?? "")
        let kind: KeyVaultError.Kind
        let remedy: String
        switch (response.status, inner) {
        case (401, _):
            kind = .unauthorized
            let authority = response.header("WWW-Authenticate").flatMap(Self.challengeAuthority)
            remedy =
                "the token for \(scope) was refused: sign in with Azure credentials (--auth) of the tenant that owns the vault"
                + (authority.map { " (Key Vault asks for a token from \($0))" } ?? "")
                + " and check that the cloud's Key Vault suffix (\(dnsSuffix)) is the vault's"
        case (403, "SecretDisabled"):
            kind = .disabled
            remedy =
                "enable the secret (az keyvault secret set-attributes --vault-name \(vault) --name \(name) --enabled true) or reference an enabled secretVersion"
        case (403, "ForbiddenByFirewall"), (403, "ForbiddenByConnection"):
            kind = .forbidden
            remedy = "allow this machine in the networking rules of vault \(vault) (firewall or private endpoint)"
        case (403, _):
            kind = .forbidden
            remedy =
                "grant the identity the role \"Key Vault Secrets User\" on vault \(vault) (Azure RBAC), or, for a vault that uses access policies, the secret permission get (az keyvault set-policy --name \(vault) --secret-permissions get --object-id …)"
        case (404, _):
            kind = .notFound
            remedy =
                "create the secret (az keyvault secret set --vault-name \(vault) --name \(name)), recover a deleted one (az keyvault secret recover), or fix secretName/secretVersion in the assignment"
        case (429, _):
            kind = .throttled
            remedy = "Key Vault kept throttling after \(attempts) attempts: retry later"
        case (500..., _), (408, _):
            kind = .unreachable
            remedy = "Key Vault kept failing after \(attempts) attempts: retry later"
        default:
            kind = .rejected
            remedy = "see Key Vault's message; check the reference (vault, secretName, secretVersion)"
        }
        var failure = KeyVaultError(kind, vault: vault, secret: name, message: answer, remedy: remedy)
        failure.status = response.status
        failure.errorCode = inner ?? code
        failure.requestId = response.header("x-ms-request-id")
        return failure
    }

    /// The JSON of an answer's body, or nil when it is not JSON.
    private static func json(_ body: [UInt8]) -> JSON? {
        try? JSONDocument.parse(JSONBytes(body, source: "Key Vault answer")).root.materialize()
    }

    /// The `authorization="…"` of a `WWW-Authenticate: Bearer …` challenge.
    static func challengeAuthority(_ header: String) -> String? {
        guard let start = header.range(of: "authorization=\"") else { return nil }
        let rest = header[start.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    /// Whether `text` is `range` ASCII letters, digits and hyphens long.
    private static func isName(_ text: String, _ range: ClosedRange<Int>) -> Bool {
        range.contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || (0x61...0x7A).contains(ASCII.lower(byte)) || byte == 0x2D
            }
    }
}

/// Why a Key Vault secret could not be read: what happened, for which vault and secret, and how to fix it.
///
/// It never holds the secret's value or the token. As a `LocalizedError`, `errorDescription` is the message with the
/// vault and the secret and `recoverySuggestion` the remedy (the Remediator reads them).
public struct KeyVaultError: Error, Sendable, Hashable, CustomStringConvertible, LocalizedError {
    /// The kind of failure.
    public enum Kind: String, Sendable, Hashable {
        /// The reference is malformed (vault id, secret name or version); no request was sent.
        case invalidReference
        /// The credential gave no token.
        case credential
        /// Key Vault refused the token (401).
        case unauthorized
        /// The identity may not read the secret (403: RBAC, access policy or network rules).
        case forbidden
        /// The secret (or the version) is disabled (403 `SecretDisabled`).
        case disabled
        /// No such secret or version (404 `SecretNotFound`).
        case notFound
        /// Still throttled (429) after the retries.
        case throttled
        /// No answer, or 5xx, after the retries.
        case unreachable
        /// An answer that is not Key Vault's.
        case badResponse
        /// Any other refusal (400, …).
        case rejected
    }

    /// The kind of failure.
    public var kind: Kind
    /// The vault's name (its id as written when it is not a vault id).
    public var vault: String
    /// The secret's name.
    public var secret: String
    /// What happened (Key Vault's status, code and message when it answered).
    public var message: String
    /// How to fix it.
    public var remedy: String
    /// The HTTP status of Key Vault's answer, when there was one.
    public var status: Int?
    /// Key Vault's `innererror.code` (else `error.code`), when it sent one.
    public var errorCode: String?
    /// Key Vault's `x-ms-request-id`, for a support case.
    public var requestId: String?

    /// Creates an error.
    public init(_ kind: Kind, vault: String, secret: String, message: String, remedy: String) {
        self.kind = kind
        self.vault = vault
        self.secret = secret
        self.message = message
        self.remedy = remedy
    }

    /// `Key Vault 'kv', secret 's': message (x-ms-request-id …)`.
    public var errorDescription: String? {
        "Key Vault '\(vault)', secret '\(secret)': \(message)" + (requestId.map { " (x-ms-request-id \($0))" } ?? "")
    }

    /// The remedy.
    public var recoverySuggestion: String? { remedy }

    /// The message and the remedy on one line.
    public var description: String { "\(errorDescription ?? message) — \(remedy)" }
}
