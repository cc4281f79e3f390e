import FleetCore
import Foundation
import Synchronization

/// Credentials tried in order, the SDKs' `DefaultAzureCredential`: the first that gives a token is remembered and
/// used from then on.
///
/// A credential that is not set up here (variables unset, no IMDS, `az` not logged in) is skipped. One that is set
/// up but fails (a wrong secret, a refused assertion) ends the search, so a broken service principal never falls
/// through to a developer's `az` login. The error then lists every credential tried and why it failed, with the
/// remedies.
public final class ChainedCredential: TokenCredential {
    /// `auto`.
    public let name = "auto"
    /// The credentials in the order they are tried.
    public let credentials: [any TokenCredential]
    private let chosen = Mutex<Int?>(nil)

    /// Creates a chain of credentials, tried in order.
    public init(_ credentials: [any TokenCredential]) {
        self.credentials = credentials
    }

    /// The name of the credential that gave the first token, once one has.
    public var selected: String? { chosen.withLock { $0 }.map { credentials[$0].name } }

    /// A token from the remembered credential, or from the first in the chain that gives one.
    ///
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/unauthorized``) listing every credential tried.
    public func token(scope: String) throws -> AccessToken {
        if let index = chosen.withLock({ $0 }) { return try credentials[index].token(scope: scope) }
        var reasons: [String] = []
        for (index, credential) in credentials.enumerated() {
            do {
                let token = try credential.token(scope: scope)
                chosen.withLock { $0 = $0 ?? index }
                return token
            } catch let error as AzureARMError {
                reasons.append(Self.reason(error, of: credential.name))
                if !error.isCredentialUnavailable { break }
            } catch {
                reasons.append("\(credential.name): \(error)")
                break
            }
        }
        throw AzureARMError(
            .unauthorized, what: "no Azure credential gave a token for \(scope)",
            location: "credentials tried: " + reasons.joined(separator: "; "),
            remedy:
                "set up one of them (see each remedy), or choose one with --auth environment|workload-identity|managed-identity|azure-cli"
        )
    }

    /// `name: what (where) — remedy`, without the name twice.
    private static func reason(_ error: AzureARMError, of name: String) -> String {
        let text = error.description
        return text.hasPrefix(name + ":") ? text : "\(name): \(text)"
    }
}

/// A credential that is not set up here: every token request fails with the reason found when it was made.
struct UnavailableCredential: TokenCredential {
    let name: String
    let reason: AzureARMError

    func token(scope: String) throws -> AccessToken { throw reason }
}

/// How FluxFleet authenticates to Azure: `--auth auto|environment|workload-identity|managed-identity|azure-cli|none`.
public enum AzureAuth: String, Sendable, Hashable, CaseIterable {
    /// The chain: environment client secret → workload identity → managed identity → Azure CLI.
    case auto
    /// A client secret from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`.
    case environment
    /// A Kubernetes workload identity (`AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`).
    case workloadIdentity = "workload-identity"
    /// A managed identity (App Service endpoint or IMDS).
    case managedIdentity = "managed-identity"
    /// The Azure CLI's login (`az account get-access-token`).
    case azureCLI = "azure-cli"
    /// No token at all (an emulator that does not require one).
    case none

    /// Parses an `--auth` value, ignoring case.
    public init?(parsing text: String) {
        guard let auth = Self(rawValue: text.lowercased()) else { return nil }
        self = auth
    }

    /// The credential for `--auth`, or nil for ``none``, with real HTTP transports and the system clock.
    ///
    /// The environment's variables are read once, here: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
    /// `AZURE_CLIENT_SECRET`, `AZURE_CLIENT_CERTIFICATE_PATH` (refused), `AZURE_AUTHORITY_HOST`,
    /// `AZURE_FEDERATED_TOKEN_FILE`, `IDENTITY_ENDPOINT`, `IDENTITY_HEADER`, `AZURE_POD_IDENTITY_AUTHORITY_HOST`,
    /// `PATH`. In the chain IMDS is probed with a 1 second timeout.
    ///
    /// - Throws: ``AzureARMError`` (``AzureARMError/Category/unauthorized``, exit code 69) when a credential chosen
    ///   by name is not set up here (its variables are missing, `az` is not on `PATH`).
    public static func credential(_ auth: AzureAuth, cloud: AzureCloud, environment: [String: String])
        throws(AzureARMError) -> (any TokenCredential)?
    {
        let transport = try URLSessionTransport(
            endpoint: EnvironmentValues.authorityHost(environment, cloud: cloud), requestTimeout: 30,
            resourceTimeout: 60)
        let probe = try URLSessionTransport(
            endpoint: ManagedIdentityCredential.imdsHost, requestTimeout: 1, resourceTimeout: 2)
        return try credential(
            auth, cloud: cloud, environment: environment, transport: transport, clock: SystemClock(),
            imdsProbe: auth == .auto ? probe : nil)
    }

    /// The credential for `--auth` over a given transport and clock (tests, the emulator in-process).
    ///
    /// - Parameter imdsProbe: The transport of the first IMDS request in the chain (see
    ///   ``ManagedIdentityCredential``); nil sends it over `transport`.
    /// - Throws: ``AzureARMError`` as ``credential(_:cloud:environment:)``.
    public static func credential(
        _ auth: AzureAuth, cloud: AzureCloud, environment: [String: String], transport: any ARMTransport & Sendable,
        clock: any RemediationClock & Sendable, imdsProbe: (any ARMTransport & Sendable)? = nil
    ) throws(AzureARMError) -> (any TokenCredential)? {
        switch auth {
        case .none:
            return nil
        case .environment:
            return try ClientSecretCredential(
                environment: environment, cloud: cloud, transport: transport, clock: clock)
        case .workloadIdentity:
            return try WorkloadIdentityCredential(
                environment: environment, cloud: cloud, transport: transport, clock: clock)
        case .managedIdentity:
            return ManagedIdentityCredential(environment: environment, transport: transport, clock: clock)
        case .azureCLI:
            return try AzureCLICredential(environment: environment, clock: clock)
        case .auto:
            func attempt(_ name: String, _ make: () throws(AzureARMError) -> any TokenCredential) throws(AzureARMError)
                -> any TokenCredential
            {
                do {
                    return try make()
                } catch  where error.isCredentialUnavailable {
                    return UnavailableCredential(name: name, reason: error)
                }
            }
            return ChainedCredential([
                try attempt("environment") { () throws(AzureARMError) in
                    try ClientSecretCredential(
                        environment: environment, cloud: cloud, transport: transport, clock: clock)
                },
                try attempt("workload-identity") { () throws(AzureARMError) in
                    try WorkloadIdentityCredential(
                        environment: environment, cloud: cloud, transport: transport, clock: clock)
                },
                ManagedIdentityCredential(
                    environment: environment, transport: transport, clock: clock, probeTransport: imdsProbe),
                try attempt("azure-cli") { () throws(AzureARMError) in
                    try AzureCLICredential(environment: environment, clock: clock)
                },
            ])
        }
    }

    /// An `Authorization` header provider for ``URLSessionTransport``: `Bearer <token for scope>`.
    public static func authorization(_ credential: any TokenCredential, scope: String) -> @Sendable () throws -> String
    {
        { "Bearer " + (try credential.token(scope: scope)).token }
    }
}
