import ArgumentParser
import AzureARM
import FleetCore
import Foundation

/// Where Azure is and how to sign in to it: the options of every command that talks to ARM.
struct AzureConnectionOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The ARM endpoint (default: the cloud's, https://management.azure.com); http://127.0.0.1:PORT for `arm-emulator`.",
            valueName: "url"))
    var armEndpoint: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Azure cloud: AzureCloud, AzureUSGovernment or AzureChinaCloud (its ARM endpoint, sign-in authority and token audiences).",
            valueName: "name"))
    var cloud: String = AzureCloud.azureCloud.rawValue

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How to sign in: auto (environment client secret → workload identity → managed identity → Azure CLI), environment, workload-identity, managed-identity, azure-cli or none. auto sends no token to a plain-http endpoint.",
            valueName: "mode"))
    var auth: String = AzureAuth.auto.rawValue

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where Key Vault secrets are read (default https://{vault}.vault.azure.net for the cloud); {vault} stands for the vault's name, e.g. http://127.0.0.1:PORT/keyvault/{vault} for `arm-emulator`.",
            valueName: "url"))
    var keyVaultEndpoint: String?

    func validate() throws {
        guard AzureCloud(parsing: cloud) != nil else {
            throw ValidationError(
                "--cloud '\(cloud)' is not a cloud: use \(AzureCloud.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard AzureAuth(parsing: auth) != nil else {
            throw ValidationError(
                "--auth '\(auth)' is not a sign-in mode: use \(AzureAuth.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
    }

    /// The cloud `--cloud` names.
    var azureCloud: AzureCloud { AzureCloud(parsing: cloud) ?? .azureCloud }

    /// The ARM endpoint requests go to: `--arm-endpoint`, else the cloud's.
    var endpoint: String { armEndpoint ?? azureCloud.armEndpoint }
}

/// Which part of Azure the fleet is read from: subscriptions, a management group, a resource group.
struct FleetScopeOptions: ParsableArguments {
    @Option(
        name: .customLong("subscription"),
        help: ArgumentHelp(
            "Read the fleet from this subscription's Resource Graph (repeatable; with --arm-endpoint alone: every subscription it returns).",
            valueName: "id"))
    var subscriptions: [String] = []

    @Option(
        name: .long,
        help: ArgumentHelp("Read every subscription under this management group.", valueName: "id"))
    var managementGroup: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Keep only clusters in this resource group (of the subscriptions read).", valueName: "name"))
    var resourceGroup: String?

    func validate() throws {
        if managementGroup != nil && !subscriptions.isEmpty {
            throw ValidationError("--management-group and --subscription exclude each other: pick one")
        }
        if resourceGroup != nil && subscriptions.isEmpty && managementGroup == nil {
            throw ValidationError("--resource-group needs the subscription it is in: add --subscription ID")
        }
    }

    /// Whether any filter was given (which makes the read live without --arm-endpoint).
    var isGiven: Bool { !subscriptions.isEmpty || managementGroup != nil || resourceGroup != nil }

    /// The Resource Graph scope.
    var scope: ResourceGraphScope {
        ResourceGraphScope(subscriptions: subscriptions, managementGroup: managementGroup, resourceGroup: resourceGroup)
    }

    /// The scope as a query string for labels (`?subscriptions=a,b&resourceGroup=rg`), empty when none.
    var label: String {
        var parts: [String] = []
        if !subscriptions.isEmpty { parts.append("subscriptions=" + subscriptions.joined(separator: ",")) }
        if let managementGroup { parts.append("managementGroup=" + managementGroup) }
        if let resourceGroup { parts.append("resourceGroup=" + resourceGroup) }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }
}

/// A signed-in connection to ARM: the endpoint, the cloud and the credential (nil: no token is sent).
///
/// Opening a connection asks for a first token at once, so a sign-in problem ends the command before anything is
/// read, with exit code 69 and the list of what was tried. Tokens are cached by the credential and never printed.
struct AzureConnection {
    let endpoint: String
    let cloud: AzureCloud
    let credential: (any TokenCredential)?
    let keyVaultEndpoint: String?

    /// Connections opened by this process, by endpoint, cloud, sign-in mode and Key Vault endpoint: `run` reads the
    /// fleet and applies with one sign-in. (The CLI is single-threaded.)
    nonisolated(unsafe) private static var opened: [String: AzureConnection] = [:]

    /// The connection the options describe; exits 64 for a bad endpoint and 69 when signing in fails.
    static func open(_ options: AzureConnectionOptions) throws -> AzureConnection {
        let key = [options.endpoint, options.cloud, options.auth, options.keyVaultEndpoint ?? ""].joined(separator: "|")
        if let known = opened[key] { return known }
        let connection = try connect(options)
        opened[key] = connection
        return connection
    }

    private static func connect(_ options: AzureConnectionOptions) throws -> AzureConnection {
        let endpoint = options.endpoint
        let cloud = options.azureCloud
        let requested = AzureAuth(parsing: options.auth) ?? .auto
        let url = URL(string: endpoint)
        let plain = url?.scheme?.lowercased() == "http"
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(url?.host?.lowercased() ?? "")
        var auth = requested
        if plain && requested == .auto {
            auth = .none
        } else if plain && !loopback && requested != .none {
            Console.error(
                "--auth \(requested.rawValue) would send a token in clear text to \(endpoint) — use an https endpoint "
                    + "(tokens go over plain http only to a loopback emulator)")
            throw ExitStatus.usage.code
        }
        do {
            guard let credential = try AzureAuth.credential(auth, cloud: cloud, environment: Self.environment) else {
                return AzureConnection(
                    endpoint: endpoint, cloud: cloud, credential: nil, keyVaultEndpoint: options.keyVaultEndpoint)
            }
            _ = try credential.token(scope: cloud.armScope)
            Console.stderr("signed in to \(cloud.rawValue) with \(credential.name)")
            return AzureConnection(
                endpoint: endpoint, cloud: cloud, credential: credential, keyVaultEndpoint: options.keyVaultEndpoint)
        } catch let error as AzureARMError {
            Console.error(error.description)
            throw ExitCode(error.category.exitCode)
        } catch {
            Console.error("signing in to \(cloud.rawValue) failed: \(error) — check --auth and the environment")
            throw ExitStatus.unavailable.code
        }
    }

    /// The process environment the credentials read (`AZURE_*`, `IDENTITY_*`, `PATH`).
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The Key Vault reader for secret references, with a token for the vault audience of the cloud (nil without a
    /// credential); exits 64 for a bad --key-vault-endpoint.
    func keyVault() throws -> (any KeyVaultSecretReader)? {
        guard let credential else { return nil }
        do {
            return try KeyVaultClient(
                credential: credential, dnsSuffix: cloud.keyVaultDNSSuffix, scope: cloud.keyVaultScope,
                endpointTemplate: keyVaultEndpoint)
        } catch {
            Console.error(error.description)
            throw ExitCode(error.category.exitCode)
        }
    }

    /// An HTTP transport to the endpoint that signs every request with a fresh token (when there is a credential).
    func transport() throws -> URLSessionTransport {
        do {
            return try URLSessionTransport(
                endpoint: endpoint,
                authorization: credential.map { AzureAuth.authorization($0, scope: cloud.armScope) })
        } catch {
            Console.error(error.description)
            throw ExitCode(error.category.exitCode)
        }
    }
}
