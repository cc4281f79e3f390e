/// An OAuth 2.0 access token for one scope, with its expiry.
///
/// The token is a secret: ``description`` and ``debugDescription`` never show it, so interpolating a token into a
/// message or a log line cannot leak it. Read ``token`` only to build an `Authorization` header.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The bearer token itself (never log it).
    public var token: String
    /// When the token expires, in seconds since 1970-01-01 UTC.
    public var expiresOn: Int64
    /// When the token should be refreshed, in seconds since 1970-01-01 UTC (before ``expiresOn``).
    public var refreshOn: Int64

    /// Creates a token; `refreshOn` defaults to five minutes before expiry (the Azure SDKs' refresh offset).
    public init(token: String, expiresOn: Int64, refreshOn: Int64? = nil) {
        self.token = token
        self.expiresOn = expiresOn
        self.refreshOn = refreshOn ?? (expiresOn - 300)
    }

    /// `AccessToken(expires 1795000000)`, never the token.
    public var description: String { "AccessToken(expires \(expiresOn))" }

    /// The same as ``description``: the token stays hidden in debug output too.
    public var debugDescription: String { description }
}

/// Something that obtains access tokens for a scope (`https://management.azure.com/.default`): a client secret, a
/// workload identity, a managed identity, the Azure CLI, or a chain of them.
///
/// Implementations may block (they talk to a token endpoint or run a process) and may be called from several
/// threads at once.
public protocol TokenCredential: Sendable {
    /// A short name for messages and `--auth`: `environment`, `workload-identity`, `managed-identity`, `azure-cli`.
    var name: String { get }

    /// A token for `scope`, fresh enough to use now.
    ///
    /// - Throws: An error whose description says what failed and how to fix it, never holding a secret.
    func token(scope: String) throws -> AccessToken
}

/// Reads secrets from Azure Key Vault, for secret references in plans
/// (`{"reference": {"keyVault": {"id": "<vault id>"}, "secretName": "…", "secretVersion": "…"}}`).
public protocol KeyVaultSecretReader: Sendable {
    /// The value of secret `name` (its `version`, or the current one when nil) in the vault with ARM id `vaultId`.
    ///
    /// - Throws: An error naming the vault, the secret and the remedy, never holding the value.
    func secret(vaultId: String, name: String, version: String?) throws -> String
}
