/// An Azure cloud: where ARM, Microsoft Entra ID and Key Vault live, and the scopes tokens are asked for.
///
/// The IMDS address does not change between clouds; the ARM endpoint, the authority and the token audiences do.
public enum AzureCloud: String, Sendable, Hashable, CaseIterable {
    /// The public cloud.
    case azureCloud = "AzureCloud"
    /// Azure Government (US).
    case azureUSGovernment = "AzureUSGovernment"
    /// Azure operated by 21Vianet (China).
    case azureChinaCloud = "AzureChinaCloud"

    /// Parses a `--cloud` value, ignoring case: `AzureCloud`, `AzureUSGovernment` or `AzureChinaCloud`.
    public init?(parsing text: String) {
        guard let cloud = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else {
            return nil
        }
        self = cloud
    }

    /// The ARM endpoint, without a trailing slash: `https://management.azure.com`.
    public var armEndpoint: String {
        switch self {
        case .azureCloud: "https://management.azure.com"
        case .azureUSGovernment: "https://management.usgovcloudapi.net"
        case .azureChinaCloud: "https://management.chinacloudapi.cn"
        }
    }

    /// The Microsoft Entra ID authority host, without a trailing slash: `https://login.microsoftonline.com`.
    public var authorityHost: String {
        switch self {
        case .azureCloud: "https://login.microsoftonline.com"
        case .azureUSGovernment: "https://login.microsoftonline.us"
        case .azureChinaCloud: "https://login.chinacloudapi.cn"
        }
    }

    /// The scope of ARM tokens: `https://management.azure.com/.default`.
    public var armScope: String { armEndpoint + "/.default" }

    /// The DNS suffix of Key Vault vaults: `vault.azure.net`.
    public var keyVaultDNSSuffix: String {
        switch self {
        case .azureCloud: "vault.azure.net"
        case .azureUSGovernment: "vault.usgovcloudapi.net"
        case .azureChinaCloud: "vault.azure.cn"
        }
    }

    /// The scope of Key Vault tokens: `https://vault.azure.net/.default`.
    public var keyVaultScope: String { "https://\(keyVaultDNSSuffix)/.default" }
}
