import FleetCore
import Foundation
import Synchronization

/// An Azure managed identity: the App Service / Container Apps identity endpoint when `IDENTITY_ENDPOINT` and
/// `IDENTITY_HEADER` are set, otherwise the Instance Metadata Service (IMDS) of a VM, a scale set or an AKS node.
///
/// IMDS is `http://169.254.169.254` unless `AZURE_POD_IDENTITY_AUTHORITY_HOST` names another base URL; a
/// user-assigned identity is chosen with `AZURE_CLIENT_ID`. IMDS answering 400 means no identity is assigned.
/// Tokens that live two hours or more are refreshed at half their lifetime, as the SDKs do.
public final class ManagedIdentityCredential: TokenCredential {
    /// `managed-identity`.
    public let name = "managed-identity"
    /// Where tokens come from, for messages: `IMDS http://169.254.169.254` or `App Service http://…`.
    public let source: String
    private let endpoint: String
    private let identityHeader: String?
    private let clientID: String?
    private let context: CredentialContext
    private let probe: (any ARMTransport & Sendable)?
    private let probed = Mutex(false)

    /// Where IMDS answers unless `AZURE_POD_IDENTITY_AUTHORITY_HOST` says otherwise.
    public static let imdsHost = "http://169.254.169.254"

    /// Creates the credential for the environment's managed identity source.
    ///
    /// - Parameters:
    ///   - environment: The process environment (or a test's).
    ///   - transport: Sends the token requests.
    ///   - clock: The clock token lifetimes are measured on.
    ///   - probeTransport: When given, IMDS is first asked over this transport (with a short timeout, 1 s in the
    ///     credential chain); no answer there means no IMDS, so the credential is unavailable.
    public init(
        environment: [String: String], transport: any ARMTransport & Sendable, clock: any RemediationClock & Sendable,
        probeTransport: (any ARMTransport & Sendable)? = nil
    ) {
        self.clientID = EnvironmentValues.value(environment, "AZURE_CLIENT_ID")
        self.context = CredentialContext(name: name, transport: transport, clock: clock)
        if let endpoint = EnvironmentValues.value(environment, "IDENTITY_ENDPOINT"),
            let header = EnvironmentValues.value(environment, "IDENTITY_HEADER")
        {
            self.endpoint = endpoint
            self.identityHeader = header
            self.source = "App Service \(CredentialContext.place(endpoint))"
            self.probe = nil
        } else {
            var host = EnvironmentValues.value(environment, "AZURE_POD_IDENTITY_AUTHORITY_HOST") ?? Self.imdsHost
            while host.hasSuffix("/") { host.removeLast() }
            self.endpoint = host + "/metadata/identity/oauth2/token"
            self.identityHeader = nil
            self.source = "IMDS \(host)"
            self.probe = probeTransport
        }
    }

    /// A token for `scope` (its resource, the scope without `/.default`), from the cache or the identity endpoint.
    ///
    /// - Throws: ``AzureARMError``; unavailable (for the chain) when IMDS does not answer the probe or answers
    ///   400 (no identity assigned).
    public func token(scope: String) throws -> AccessToken {
        try context.cache.token(scope: scope) { scope in try fetch(scope) }
    }

    private func fetch(_ scope: String) throws(AzureARMError) -> AccessToken {
        let resource = EnvironmentValues.resource(ofScope: scope)
        var query = [("resource", resource)]
        if let clientID { query.append(("client_id", clientID)) }
        let request: ARMHTTPRequest
        if let identityHeader {
            query.insert(("api-version", "2019-08-01"), at: 0)
            let separator = endpoint.contains("?") ? "&" : "?"
            request = ARMHTTPRequest(
                method: "GET", url: endpoint + separator + FormEncoding.encode(query),
                headers: ["X-IDENTITY-HEADER": identityHeader])
        } else {
            query.insert(("api-version", "2018-02-01"), at: 0)
            request = ARMHTTPRequest(
                method: "GET", url: endpoint + "?" + FormEncoding.encode(query), headers: ["Metadata": "true"])
        }
        let secrets = identityHeader.map { [$0] } ?? []
        let response: ARMHTTPResponse
        do {
            if let probe, !probed.withLock({ $0 }) {
                response = try probe.send(request)
                probed.withLock { $0 = true }
            } else {
                response = try context.send(request, retryStatuses: [404, 410, 429, 500, 502, 503, 504])
            }
        } catch {
            if probe != nil, !probed.withLock({ $0 }) {
                throw CredentialContext.unavailable(
                    name, "no managed identity endpoint answered (\(CredentialContext.describe(error)))",
                    location: source, remedy: "run on an Azure VM, scale set, AKS node or App Service with an identity")
            }
            throw context.failure(
                "the identity endpoint could not be reached (\(CredentialContext.describe(error)))", location: source,
                remedy: "check that the managed identity endpoint is reachable from here", secrets: secrets)
        }
        if response.status == 400, identityHeader == nil {
            throw CredentialContext.unavailable(
                name,
                "IMDS answered 400: no managed identity is assigned\(clientID.map { " with client id \($0)" } ?? "")",
                location: source,
                remedy: "assign a managed identity to this VM or node (or set AZURE_CLIENT_ID to an assigned one)")
        }
        let now = context.cache.nowSeconds
        var token = try context.readToken(
            response, url: endpoint, secrets: secrets,
            remedy: "check that the identity is assigned here and has access to the resource \(resource)")
        let lifetime = token.expiresOn - now
        if lifetime >= 7200 { token.refreshOn = now + lifetime / 2 }
        return token
    }
}
