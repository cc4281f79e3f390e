import Testing

@testable import AzureARM

@Suite("clouds and --auth")
struct CloudTests {
    @Test("--cloud parses ignoring case; each cloud has its endpoints and scopes")
    func clouds() throws {
        #expect(AzureCloud(parsing: "azurecloud") == .azureCloud)
        #expect(AzureCloud(parsing: "AZUREUSGOVERNMENT") == .azureUSGovernment)
        #expect(AzureCloud(parsing: "AzureChinaCloud") == .azureChinaCloud)
        #expect(AzureCloud(parsing: "AzureGermanCloud") == nil)
        #expect(AzureCloud.azureCloud.armScope == "https://management.azure.com/.default")
        #expect(AzureCloud.azureCloud.authorityHost == "https://login.microsoftonline.com")
        #expect(AzureCloud.azureCloud.keyVaultScope == "https://vault.azure.net/.default")
        #expect(AzureCloud.azureUSGovernment.armEndpoint == "https://management.usgovcloudapi.net")
        #expect(AzureCloud.azureUSGovernment.armScope == "https://management.usgovcloudapi.net/.default")
        #expect(AzureCloud.azureUSGovernment.authorityHost == "https://login.microsoftonline.us")
        #expect(AzureCloud.azureUSGovernment.keyVaultScope == "https://vault.usgovcloudapi.net/.default")
        #expect(AzureCloud.azureUSGovernment.keyVaultDNSSuffix == "vault.usgovcloudapi.net")
        #expect(AzureCloud.azureChinaCloud.armScope == "https://management.chinacloudapi.cn/.default")
        #expect(AzureCloud.azureChinaCloud.authorityHost == "https://login.chinacloudapi.cn")
        #expect(AzureCloud.azureChinaCloud.keyVaultScope == "https://vault.azure.cn/.default")
        #expect(AzureCloud.azureChinaCloud.keyVaultDNSSuffix == "vault.azure.cn")
    }

    @Test("--auth parses its six values ignoring case")
    func auth() {
        #expect(
            AzureAuth.allCases.map(\.rawValue) == [
                "auto", "environment", "workload-identity", "managed-identity", "azure-cli", "none",
            ])
        #expect(AzureAuth(parsing: "Workload-Identity") == .workloadIdentity)
        #expect(AzureAuth(parsing: "AZURE-CLI") == .azureCLI)
        #expect(AzureAuth(parsing: "cli") == nil)
    }

    @Test("form fields are percent-encoded except the unreserved characters")
    func formEncoding() {
        #expect(FormEncoding.encode([("a b", "x&y=z+%/é~._-")]) == "a%20b=x%26y%3Dz%2B%25%2F%C3%A9~._-")
    }

    @Test("AZURE_AUTHORITY_HOST: a bare host gets https://, a trailing slash goes; unset means the cloud's")
    func authorityHost() {
        #expect(EnvironmentValues.authorityHost([:], cloud: .azureUSGovernment) == "https://login.microsoftonline.us")
        #expect(
            EnvironmentValues.authorityHost(["AZURE_AUTHORITY_HOST": "login.example/"], cloud: .azureCloud)
                == "https://login.example")
        #expect(
            EnvironmentValues.authorityHost(["AZURE_AUTHORITY_HOST": "http://127.0.0.1:8080/"], cloud: .azureCloud)
                == "http://127.0.0.1:8080")
    }
}
