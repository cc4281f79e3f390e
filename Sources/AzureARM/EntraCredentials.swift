import FleetCore
import Foundation
import Synchronization

/// A service principal's client secret from the environment (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
/// `AZURE_CLIENT_SECRET`), exchanged at Microsoft Entra ID's v2 token endpoint: the SDKs' `EnvironmentCredential`.
///
/// The token endpoint is `{authority}/{tenant}/oauth2/v2.0/token`, the authority `AZURE_AUTHORITY_HOST` or the
/// cloud's. Client certificates (`AZURE_CLIENT_CERTIFICATE_PATH`) are not supported in this version.
public final class ClientSecretCredential: TokenCredential {
    /// `environment`.
    public let name = "environment"
    /// The token endpoint URL.
    public let tokenURL: String
    /// The application (client) id.
    public let clientID: String
    private let secret: String
    private let context: CredentialContext

    /// Creates the credential from environment variables.
    ///
    /// - Parameters:
    ///   - environment: The process environment (or a test's).
    ///   - cloud: The cloud whose authority host is used when `AZURE_AUTHORITY_HOST` is not set.
    ///   - transport: Sends the token requests (absolute URLs).
    ///   - clock: The clock token lifetimes are measured on.
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/unauthorized``) naming the missing variables, or saying
    ///   that certificates are not supported when only `AZURE_CLIENT_CERTIFICATE_PATH` is set.
    public init(
        environment: [String: String], cloud: AzureCloud = .azureCloud, transport: any ARMTransport & Sendable,
        clock: any RemediationClock & Sendable
    ) throws(AzureARMError) {
        let names = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"]
        let missing = names.filter { EnvironmentValues.value(environment, $0) == nil }
        if missing.contains("AZURE_CLIENT_SECRET"),
            EnvironmentValues.value(environment, "AZURE_CLIENT_CERTIFICATE_PATH") != nil
        {
            throw AzureARMError(
                .unauthorized,
                what:
                    "environment: AZURE_CLIENT_CERTIFICATE_PATH is set, but client certificates are not supported in this version",
                location: "environment variables", remedy: "set AZURE_CLIENT_SECRET instead, or use a workload identity"
            )
        }
        guard missing.isEmpty else {
            throw CredentialContext.unavailable(
                "environment", "\(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not set",
                location: "environment variables",
                remedy: "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal")
        }
        let tenant = environment["AZURE_TENANT_ID", default: ""].trimmingCharacters(in: .whitespacesAndNewlines)
        guard EnvironmentValues.isTenant(tenant) else {
            throw AzureARMError(
                .unauthorized, what: "environment: AZURE_TENANT_ID is not a tenant id", location: "AZURE_TENANT_ID",
                remedy: "set the directory (tenant) id, a GUID, or a domain such as contoso.onmicrosoft.com")
        }
        self.clientID = EnvironmentValues.value(environment, "AZURE_CLIENT_ID") ?? ""
        self.secret = environment["AZURE_CLIENT_SECRET", default: ""].trimmingCharacters(in: .newlines)
        self.tokenURL = EnvironmentValues.authorityHost(environment, cloud: cloud) + "/\(tenant)/oauth2/v2.0/token"
        self.context = CredentialContext(name: name, transport: transport, clock: clock)
    }

    /// A token for `scope`, from the cache or from the token endpoint.
    ///
    /// - Throws: ``AzureARMError`` with Entra ID's error code and description, never the secret.
    public func token(scope: String) throws -> AccessToken {
        try context.cache.token(scope: scope) { scope in
            try context.entraToken(
                url: tokenURL,
                form: [
                    ("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", secret),
                    ("scope", scope),
                ],
                secrets: [secret],
                remedy:
                    "check AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (the secret's value, not its id) and that the secret has not expired"
            )
        }
    }
}

/// A Kubernetes workload identity: a projected service-account token (`AZURE_FEDERATED_TOKEN_FILE`) exchanged for an
/// Entra ID token of the app `AZURE_CLIENT_ID` in `AZURE_TENANT_ID` (the variables the AKS webhook injects).
///
/// The file is re-read at most every 600 seconds, as the SDKs do (the kubelet rotates it).
public final class WorkloadIdentityCredential: TokenCredential {
    /// `workload-identity`.
    public let name = "workload-identity"
    /// The token endpoint URL.
    public let tokenURL: String
    /// The application (client) id.
    public let clientID: String
    /// The projected token file.
    public let tokenFile: String
    private let context: CredentialContext
    private let assertion = Mutex<(text: String, readAt: Int64)?>(nil)

    /// How long a read assertion is reused before the file is read again, in seconds.
    static let rereadInterval: Int64 = 600

    /// Creates the credential from environment variables.
    ///
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/unauthorized``) naming the missing variables.
    public init(
        environment: [String: String], cloud: AzureCloud = .azureCloud, transport: any ARMTransport & Sendable,
        clock: any RemediationClock & Sendable
    ) throws(AzureARMError) {
        let names = ["AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"]
        let missing = names.filter { EnvironmentValues.value(environment, $0) == nil }
        guard missing.isEmpty else {
            throw CredentialContext.unavailable(
                "workload-identity", "\(missing.joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not set",
                location: "environment variables",
                remedy:
                    "run in a pod with the azure.workload.identity/use label and a service account annotated with the client id"
            )
        }
        let tenant = EnvironmentValues.value(environment, "AZURE_TENANT_ID") ?? ""
        guard EnvironmentValues.isTenant(tenant) else {
            throw AzureARMError(
                .unauthorized, what: "workload-identity: AZURE_TENANT_ID is not a tenant id",
                location: "AZURE_TENANT_ID",
                remedy: "set the directory (tenant) id, a GUID")
        }
        self.clientID = EnvironmentValues.value(environment, "AZURE_CLIENT_ID") ?? ""
        self.tokenFile = EnvironmentValues.value(environment, "AZURE_FEDERATED_TOKEN_FILE") ?? ""
        self.tokenURL = EnvironmentValues.authorityHost(environment, cloud: cloud) + "/\(tenant)/oauth2/v2.0/token"
        self.context = CredentialContext(name: name, transport: transport, clock: clock)
    }

    /// A token for `scope`, from the cache or by exchanging the federated token.
    ///
    /// - Throws: ``AzureARMError`` when the file cannot be read or Entra ID refuses the assertion, never holding it.
    public func token(scope: String) throws -> AccessToken {
        try context.cache.token(scope: scope) { scope in
            let assertion = try currentAssertion()
            return try context.entraToken(
                url: tokenURL,
                form: [
                    ("grant_type", "client_credentials"), ("client_id", clientID),
                    ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                    ("client_assertion", assertion), ("scope", scope),
                ],
                secrets: [assertion],
                remedy:
                    "check that the app AZURE_CLIENT_ID has a federated identity credential whose issuer and subject match this service account"
            )
        }
    }

    /// The federated token, re-read from the file when the last read is older than ``rereadInterval``.
    private func currentAssertion() throws(AzureARMError) -> String {
        let now = context.cache.nowSeconds
        if let cached = assertion.withLock({ $0 }), now - cached.readAt < Self.rereadInterval { return cached.text }
        guard let data = FileManager.default.contents(atPath: tokenFile) else {
            throw context.failure(
                "cannot read the federated token file", location: tokenFile,
                remedy: "check AZURE_FEDERATED_TOKEN_FILE and that the projected service-account token is mounted",
                secrets: [])
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else {
            throw context.failure(
                "the federated token file is empty", location: tokenFile,
                remedy: "check that the projected service-account token is mounted", secrets: [])
        }
        assertion.withLock { $0 = (text, now) }
        return text
    }
}
