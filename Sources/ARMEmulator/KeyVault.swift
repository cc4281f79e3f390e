import FleetCore

/// The secrets the emulator's Key Vault serves, by vault and secret name (both ignoring case).
///
/// Seeded in-process with ``add(vault:name:value:version:enabled:forbidden:at:)`` or from a JSON file with
/// ``init(seed:source:at:)`` (`arm-emulator --key-vault-secrets FILE`). A vault without secrets answers as an empty
/// vault (404 `SecretNotFound`): the emulator serves every vault name at `/keyvault/{vault}`.
public struct EmulatedKeyVaults: Sendable, Hashable {
    /// One version of a secret.
    public struct SecretVersion: Sendable, Hashable {
        /// The value (only ever sent in a GET answer's `value`).
        public var value: String
        /// The version id: 32 lowercase hex digits in Azure, any name here.
        public var version: String
        /// Whether the version may be read; a GET of a disabled one answers 403 with `innererror.code`
        /// `SecretDisabled`.
        public var enabled: Bool
        /// When it was created, in seconds since 1970 (`attributes.created` and `updated`).
        public var created: Int64
    }

    /// A secret: its versions, the current (last added) one last.
    struct Secret: Sendable, Hashable {
        var name: String
        var versions: [SecretVersion] = []
        /// Every GET of the secret answers 403 `Forbidden` (`ForbiddenByRbac`), as for a caller without the
        /// "Key Vault Secrets User" role.
        var forbidden = false
    }

    /// Secrets by lowercased vault name, then lowercased secret name.
    var vaults: [String: [String: Secret]] = [:]
    /// The next this many Key Vault requests are answered 429 `Throttled` with `Retry-After: 1`.
    public var throttleNext = 0

    /// No secrets.
    public init() {}

    /// How many secret versions are held.
    public var count: Int { vaults.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.versions.count } } }

    /// Adds a version of a secret, which becomes its current version.
    ///
    /// - Parameters:
    ///   - version: The version id; by default 32 hex digits derived from the vault, the name and the version's
    ///     number, so ids are the same on every run.
    ///   - forbidden: Makes every read of the secret (all versions) answer 403 `Forbidden`.
    ///   - time: The creation time in milliseconds since 1970 (the state's clock, say).
    public mutating func add(
        vault: String, name: String, value: String, version: String? = nil, enabled: Bool = true,
        forbidden: Bool = false, at time: Int64 = EmulatorClock.defaultStart
    ) {
        let key = ASCII.lowercased(name)
        var secret = vaults[ASCII.lowercased(vault)]?[key] ?? Secret(name: name)
        let id =
            version
            ?? String(Mix.commitID(of: "\(ASCII.lowercased(vault))/\(key)/\(secret.versions.count)").prefix(32))
        secret.versions.append(SecretVersion(value: value, version: id, enabled: enabled, created: time / 1000))
        secret.forbidden = secret.forbidden || forbidden
        vaults[ASCII.lowercased(vault), default: [:]][key] = secret
    }

    /// Reads the seed file of `arm-emulator --key-vault-secrets`.
    ///
    /// The form: `{"<vault>": {"<secret>": SPEC}}` where SPEC is the value as a string, or
    /// `{"value": "…", "version": "…"?, "enabled": true?, "forbidden": false?}`, or an array of such objects (the
    /// versions, the current one last). Vault names are 3–24 and secret names 1–127 letters, digits and hyphens.
    ///
    /// - Throws: ``KeyVaultSeedError`` naming the file, the JSON path and the fix; never a value.
    public init(seed bytes: [UInt8], source: String, at time: Int64) throws(KeyVaultSeedError) {
        self.init()
        let root: JSON
        do {
            root = try JSON.parse(bytes: bytes, source: source)
        } catch {
            throw KeyVaultSeedError(file: source, path: "$", message: "is not valid JSON: \(error)")
        }
        guard case .object(let vaults) = root else {
            throw KeyVaultSeedError(file: source, path: "$", message: "must be an object of vaults")
        }
        for vault in vaults.keys.sorted() {
            let vaultPath = "$.\(vault)"
            guard KeyVaultNames.isVaultName(vault) else {
                throw KeyVaultSeedError(
                    file: source, path: vaultPath, message: "is not a vault name (3-24 letters, digits and hyphens)")
            }
            guard case .object(let secrets) = vaults[vault]! else {
                throw KeyVaultSeedError(file: source, path: vaultPath, message: "must be an object of secrets")
            }
            for name in secrets.keys.sorted() {
                let path = "\(vaultPath).\(name)"
                guard KeyVaultNames.isSecretName(name) else {
                    throw KeyVaultSeedError(
                        file: source, path: path, message: "is not a secret name (1-127 letters, digits and hyphens)")
                }
                let specs: [JSON]
                switch secrets[name]! {
                case .string(let value):
                    add(vault: vault, name: name, value: value, at: time)
                    continue
                case .array(let items) where !items.isEmpty: specs = items
                case let object: specs = [object]
                }
                for (index, spec) in specs.enumerated() {
                    let at = specs.count > 1 ? "\(path)[\(index)]" : path
                    guard let value = spec.member(ignoringCase: "value")?.string else {
                        throw KeyVaultSeedError(
                            file: source, path: at,
                            message: "must be a string, or an object with a string \"value\" (or an array of those)")
                    }
                    let version = spec.member(ignoringCase: "version")
                    let enabled = spec.member(ignoringCase: "enabled")
                    let forbidden = spec.member(ignoringCase: "forbidden")
                    guard version == nil || version?.string != nil, enabled == nil || enabled?.boolValue != nil,
                        forbidden == nil || forbidden?.boolValue != nil
                    else {
                        throw KeyVaultSeedError(
                            file: source, path: at,
                            message: "\"version\" must be a string, \"enabled\" and \"forbidden\" true or false")
                    }
                    add(
                        vault: vault, name: name, value: value, version: version?.string,
                        enabled: enabled?.boolValue ?? true, forbidden: forbidden?.boolValue ?? false, at: time)
                }
            }
        }
    }

    /// The secret named `name` in `vault`, ignoring case.
    func secret(vault: String, name: String) -> Secret? {
        vaults[ASCII.lowercased(vault)]?[ASCII.lowercased(name)]
    }
}

/// A `--key-vault-secrets` file that cannot be used: where, what, and how to fix it (never a secret value).
public struct KeyVaultSeedError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The JSON path of the problem (`$.vault.secret`).
    public var path: String
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    /// `file: $.path message; the expected form`.
    public var description: String {
        "\(file): \(path) \(message); write {\"<vault>\": {\"<secret>\": \"value\" | {\"value\": …, \"version\": …, "
            + "\"enabled\": true, \"forbidden\": false}}}"
    }
}

/// Key Vault's naming rules.
enum KeyVaultNames {
    /// 3–24 ASCII letters, digits and hyphens.
    static func isVaultName(_ name: String) -> Bool { (3...24).contains(name.utf8.count) && isAlnumHyphen(name) }

    /// 1–127 ASCII letters, digits and hyphens.
    static func isSecretName(_ name: String) -> Bool { (1...127).contains(name.utf8.count) && isAlnumHyphen(name) }

    private static func isAlnumHyphen(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D
        }
    }
}

/// Azure Key Vault's secrets data plane: `GET /keyvault/{vault}/secrets/{name}[/{version}]?api-version=…`.
///
/// A real vault lives at `https://{vault}.vault.azure.net`; the emulator serves every vault under its own address
/// at `/keyvault/{vault}`, so a client's vault URL template is `http://127.0.0.1:PORT/keyvault/{vault}`. Order of
/// checks: bearer token (always required: 401 with Key Vault's `WWW-Authenticate` challenge) → throttling
/// (``EmulatedKeyVaults/throttleNext``) → `api-version` → method → the secret. Answers are in Key Vault's shapes
/// (`{"value", "id", "attributes"}`; errors `{"error": {"code", "message", "innererror"?}}`); requests are not
/// charged to ARM's subscription buckets and never meet injected ARM faults.
enum KeyVault {
    /// The data-plane api-versions served (2025-07-01 is the current GA version).
    static let apiVersions = ["2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"]

    /// Answers a request under `/keyvault/{vault}`; `path` is what follows the vault name.
    static func handle(_ request: ARMRequest, vault: String, path: [String], state: inout EmulatorState)
        -> ARMResponse
    {
        let authorization = request.header("Authorization") ?? ""
        guard authorization.lowercased().hasPrefix("bearer "), authorization.count > 7 else {
            var response = error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
            let tenant = state.tenantId ?? "common"
            response.headers["WWW-Authenticate"] =
                "Bearer authorization=\"https://login.microsoftonline.com/\(tenant)\", resource=\"https://vault.azure.net\""
            return response
        }
        // With --require-auth the token must be one this emulator issued, unexpired, for Key Vault's audience.
        if let refusal = state.authorize(request, audience: "https://vault.azure.net") { return refusal }
        if state.keyVaults.throttleNext > 0 {
            state.keyVaults.throttleNext -= 1
            var response = error(
                429, "Throttled",
                "Request was not processed because too many requests were received. Reason: A generic error has occurred (throttling injected by the emulator)."
            )
            response.headers["Retry-After"] = "1"
            return response
        }
        guard let version = request.queryValue("api-version"), !version.isEmpty else {
            return error(400, "BadParameter", "The 'api-version' query parameter is required.")
        }
        guard apiVersions.contains(version) else {
            return error(
                400, "BadParameter",
                "The specified version (\(version)) is not recognized. Consider using the latest supported version (\(apiVersions.last!))."
            )
        }
        guard path.count == 2 || path.count == 3, ASCII.equalsIgnoringCase(path[0], "secrets") else {
            return error(
                404, "NotFound",
                "The emulator's Key Vault serves only GET /keyvault/{vault}/secrets/{name}[/{version}], not \(request.path)."
            )
        }
        guard request.method == "GET" else {
            return error(
                405, "MethodNotAllowed", "The emulator's Key Vault only reads secrets: \(request.method) is not served."
            )
        }
        let name = path[1]
        let wanted = path.count == 3 ? path[2] : nil
        let notFound = error(
            404, "SecretNotFound",
            "A secret with (name/id) \(name)\(wanted.map { "/\($0)" } ?? "") was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
        )
        guard let secret = state.keyVaults.secret(vault: vault, name: name) else { return notFound }
        if secret.forbidden {
            return error(
                403, "Forbidden",
                "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\nCaller: appid=emulator\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\nAssignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC'\r\nVault: \(vault);location=westeurope\r\n",
                inner: "ForbiddenByRbac")
        }
        let found: EmulatedKeyVaults.SecretVersion?
        if let wanted {
            found = secret.versions.last { ASCII.equalsIgnoringCase($0.version, wanted) }
        } else {
            found = secret.versions.last
        }
        guard let found else { return notFound }
        guard found.enabled else {
            return error(
                403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner: "SecretDisabled")
        }
        let body: JSON = .object([
            "value": .string(found.value),
            "id": .string("https://\(ASCII.lowercased(vault)).vault.azure.net/secrets/\(secret.name)/\(found.version)"),
            "attributes": .object([
                "enabled": .bool(true), "created": .int(Int(found.created)), "updated": .int(Int(found.created)),
                "recoveryLevel": .string("Recoverable+Purgeable"), "recoverableDays": .int(90),
            ]),
        ])
        return ARMResponse(status: 200, body: body.bytes)
    }

    /// A Key Vault error answer: `{"error": {"code", "message", "innererror": {"code"}?}}`.
    static func error(_ status: Int, _ code: String, _ message: String, inner: String? = nil) -> ARMResponse {
        var error: [String: JSON] = ["code": .string(code), "message": .string(message)]
        if let inner { error["innererror"] = .object(["code": .string(inner)]) }
        return ARMResponse(status: status, body: JSON.object(["error": .object(error)]).bytes)
    }
}
