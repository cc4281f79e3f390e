import FleetCore
import Foundation
import Testing

@testable import ARMEmulator

/// Every status code the emulator answers, one row per path through it.
@Suite("status codes")
struct StatusCodeTests {
    static let aks = Fixture.aksID("aks-01")
    static let arc = Fixture.arcID("arc-01")
    static let missing = Fixture.aksID("aks-missing")
    static let ext = "\(aks)/providers/Microsoft.KubernetesConfiguration/extensions/flux"
    static let cfg = "\(aks)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-baseline"
    static let scc = "\(aks)/providers/Microsoft.KubernetesConfiguration/sourceControlConfigurations/legacy"

    /// A state with a Succeeded Flux extension on `aks-01` and an Arc cluster.
    static func state() -> EmulatorState {
        Fixture.state([Fixture.aks("aks-01"), Fixture.arc("arc-01"), Fixture.fluxExtension(on: aks)])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var path: String
        var apiVersion: String?
        var body: String?
        var query: [ARMQueryItem] = []
        var status: Int
        var code: String?

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "GET cluster", method: "GET", path: aks, apiVersion: "2026-08-01", status: 200),
        Case(name: "GET Arc cluster", method: "GET", path: arc, apiVersion: "2026-05-01", status: 200),
        Case(
            name: "GET missing cluster", method: "GET", path: missing, apiVersion: "2026-08-01", status: 404,
            code: "ResourceNotFound"),
        Case(
            name: "GET cluster without api-version", method: "GET", path: aks, status: 400,
            code: "MissingApiVersionParameter"),
        Case(
            name: "GET cluster with an unknown api-version", method: "GET", path: aks, apiVersion: "2099-01-01",
            status: 400, code: "NoRegisteredProviderFound"),
        Case(
            name: "extension api-version on a fluxConfiguration", method: "GET", path: cfg, apiVersion: "2025-03-01",
            status: 400, code: "NoRegisteredProviderFound"),
        Case(
            name: "PUT cluster", method: "PUT", path: aks, apiVersion: "2026-08-01", body: "{}", status: 405,
            code: "MethodNotAllowed"),
        Case(
            name: "list clusters of a subscription", method: "GET",
            path: "/subscriptions/\(Fixture.subscription)/providers/Microsoft.ContainerService/managedClusters",
            apiVersion: "2026-08-01", status: 200),
        Case(name: "GET extension", method: "GET", path: ext, apiVersion: "2025-03-01", status: 200),
        Case(
            name: "GET missing fluxConfiguration", method: "GET", path: cfg, apiVersion: "2025-04-01", status: 404,
            code: "ResourceNotFound"),
        Case(
            name: "GET child of a missing cluster", method: "GET",
            path: "\(missing)/providers/Microsoft.KubernetesConfiguration/extensions/flux", apiVersion: "2025-03-01",
            status: 404, code: "ParentResourceNotFound"),
        Case(
            name: "PUT child of a missing cluster", method: "PUT",
            path: "\(missing)/providers/Microsoft.KubernetesConfiguration/extensions/flux", apiVersion: "2025-03-01",
            body: Fixture.baselineExtension, status: 404, code: "ParentResourceNotFound"),
        Case(
            name: "PUT fluxConfiguration (create)", method: "PUT", path: cfg, apiVersion: "2025-04-01",
            body: Fixture.baselineConfiguration, status: 201),
        Case(
            name: "PUT extension without api-version", method: "PUT", path: ext, body: Fixture.baselineExtension,
            status: 400, code: "MissingApiVersionParameter"),
        Case(
            name: "PUT with a body that is not JSON", method: "PUT", path: cfg, apiVersion: "2025-04-01",
            body: "{\"properties\": ", status: 400, code: "InvalidRequestContent"),
        Case(
            name: "PUT with an array body", method: "PUT", path: cfg, apiVersion: "2025-04-01", body: "[]",
            status: 400, code: "InvalidRequestContent"),
        Case(
            name: "PUT extension without extensionType", method: "PUT",
            path: "\(aks)/providers/Microsoft.KubernetesConfiguration/extensions/other", apiVersion: "2025-03-01",
            body: "{\"properties\": {}}", status: 400, code: "InvalidRequestContent"),
        Case(
            name: "PATCH missing fluxConfiguration", method: "PATCH", path: cfg, apiVersion: "2025-04-01",
            body: "{\"properties\": {\"suspend\": true}}", status: 404, code: "ResourceNotFound"),
        Case(
            name: "PATCH extension that changes nothing", method: "PATCH", path: ext, apiVersion: "2025-03-01",
            body: "{\"properties\": {\"releaseTrain\": \"Stable\"}}", status: 200),
        Case(
            name: "PATCH extension", method: "PATCH", path: ext, apiVersion: "2025-03-01",
            body: "{\"properties\": {\"autoUpgradeMinorVersion\": false, \"version\": \"1.19.5\"}}", status: 202),
        Case(
            name: "PATCH extension's extensionType", method: "PATCH", path: ext, apiVersion: "2025-03-01",
            body: "{\"properties\": {\"extensionType\": \"microsoft.other\"}}", status: 400,
            code: "PropertyChangeNotAllowed"),
        Case(name: "DELETE extension", method: "DELETE", path: ext, apiVersion: "2025-03-01", status: 202),
        Case(
            name: "DELETE extension with forceDelete", method: "DELETE", path: ext, apiVersion: "2025-03-01",
            query: [ARMQueryItem(name: "forceDelete", value: "true")], status: 200),
        Case(
            name: "DELETE missing fluxConfiguration", method: "DELETE", path: cfg, apiVersion: "2025-04-01", status: 204
        ),
        Case(
            name: "DELETE missing sourceControlConfiguration", method: "DELETE", path: scc, apiVersion: "2024-11-01",
            status: 204),
        Case(
            name: "PUT sourceControlConfiguration", method: "PUT", path: scc, apiVersion: "2024-11-01", body: "{}",
            status: 405, code: "MethodNotAllowed"),
        Case(
            name: "POST extension", method: "POST", path: ext, apiVersion: "2025-03-01", status: 405,
            code: "MethodNotAllowed"),
        Case(
            name: "list extensions", method: "GET",
            path: "\(aks)/providers/Microsoft.KubernetesConfiguration/extensions", apiVersion: "2025-03-01",
            status: 200),
        Case(
            name: "unknown operation id", method: "GET", path: "\(ext)/operations/not-an-operation",
            apiVersion: "2025-03-01", status: 404, code: "ResourceNotFound"),
        Case(
            name: "unknown route", method: "GET", path: "/subscriptions/\(Fixture.subscription)/resourcegroups",
            apiVersion: "2025-03-01", status: 404, code: "NotFound"),
    ]

    @Test("answers", arguments: cases)
    func answers(_ row: Case) {
        var state = Self.state()
        let response = state.send(row.method, row.path, apiVersion: row.apiVersion, query: row.query, body: row.body)
        #expect(response.kind == .http)
        #expect(response.status == row.status, "\(response.text)")
        #expect(response.errorCode == row.code)
        #expect(response.header("x-ms-request-id") != nil)
        #expect(response.header("x-ms-correlation-request-id") != nil)
    }

    @Test("PUT of an existing resource answers 200, not 201")
    func updateIs200() {
        var state = Self.state()
        let response = state.putExtension(Self.aks)
        #expect(response.status == 200)
        #expect(response.property("provisioningState") == "Updating")
        #expect(response.header("Azure-AsyncOperation") != nil)
        #expect(response.header("Location") != nil)
    }

    @Test("a create answers 201 with Creating, the async headers and the resource's id")
    func createHeaders() throws {
        var state = Self.state()
        let response = state.putConfiguration(Self.aks)
        #expect(response.status == 201)
        #expect(response.property("provisioningState") == "Creating")
        #expect(response.property("complianceState") == "Pending")
        #expect(response.json["id"]?.string == Self.cfg)
        let async = try #require(response.header("Azure-AsyncOperation"))
        #expect(async.hasPrefix("https://management.azure.com\(Self.cfg)/operations/"))
        #expect(async.hasSuffix("?api-version=2025-04-01"))
        #expect(response.header("Location")?.contains("/operationResults/") == true)
        #expect(response.header("Retry-After") == "5")
        #expect(response.header("x-ms-async-operation-timeout") == "PT48H")
        // Secrets are write-only: never echoed.
        #expect(!response.text.contains("c2VjcmV0LWNhbmFyeQ=="))
        #expect(!response.text.contains("configurationProtectedSettings"))
    }

    @Test("ids, api-version and names compare ignoring case")
    func caseInsensitive() {
        var state = Self.state()
        let response = state.send(
            "GET", Self.ext.uppercased().replacingOccurrences(of: "/EXTENSIONS/FLUX", with: "/extensions/FLUX"),
            apiVersion: "2025-03-01")
        #expect(response.status == 200)
        #expect(response.json["name"]?.string == "flux")
    }

    @Test("the correlation id is echoed and request ids differ per request")
    func requestIDs() {
        var state = Self.state()
        let a = state.send("GET", Self.aks, apiVersion: "2026-08-01", headers: ["x-ms-correlation-request-id": "run-7"])
        let b = state.send("GET", Self.aks, apiVersion: "2026-08-01")
        #expect(a.header("x-ms-correlation-request-id") == "run-7")
        #expect(a.header("x-ms-request-id") != b.header("x-ms-request-id"))
        #expect(b.header("x-ms-correlation-request-id") == b.header("x-ms-request-id"))
    }

    @Test("an issued bearer token is required when configured; an invented one is refused")
    func bearer() {
        var state = Fixture.state([Fixture.aks("aks-01")]) { $0.requireBearerToken = true }
        let denied = state.send("GET", Self.aks, apiVersion: "2026-08-01")
        #expect(denied.status == 401)
        #expect(denied.errorCode == "AuthenticationFailed")
        let invented = state.send("GET", Self.aks, apiVersion: "2026-08-01", headers: ["authorization": "Bearer x"])
        #expect(invented.status == 401)
        #expect(invented.errorCode == "InvalidAuthenticationToken")
        let token = state.issueToken()
        let allowed = state.send(
            "GET", Self.aks, apiVersion: "2026-08-01", headers: ["authorization": "Bearer \(token)"])
        #expect(allowed.status == 200)
    }

    @Test("lists page with nextLink and the pages hold every item once")
    func listPaging() {
        let names = (1...7).map { String(format: "aks-%02d", $0) }
        var state = Fixture.state(names.map { Fixture.aks($0) }) { $0.listPageSize = 3 }
        var response = state.send(
            "GET",
            "/subscriptions/\(Fixture.subscription)/resourceGroups/rg-test/providers/Microsoft.ContainerService/managedClusters",
            apiVersion: "2026-08-01")
        var seen: [String] = []
        var pages = 0
        while true {
            #expect(response.status == 200)
            pages += 1
            if case .array(let items)? = response.json["value"] { seen += items.compactMap { $0["name"]?.string } }
            guard let next = response.json["nextLink"]?.string else { break }
            response = state.follow(next)
        }
        #expect(pages == 3)
        #expect(seen == names)
    }
}
