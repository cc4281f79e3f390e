import FleetCore
import Testing

@testable import ARMEmulator

@Suite("tokens and authorization")
struct TokenTests {
    static let aks = Fixture.aksID("aks-01")
    static let graph = "/providers/Microsoft.ResourceGraph/resources"
    static let vaultScope = "https://vault.azure.net/.default"

    static func state(_ configure: (inout EmulatorConfiguration) -> Void = { _ in }) -> EmulatorState {
        Fixture.state([Fixture.aks("aks-01")]) {
            $0.requireBearerToken = true
            configure(&$0)
        }
    }

    static func tokenRequest(_ form: String, tenant: String = Fixture.tenant) -> ARMRequest {
        ARMRequest(method: "POST", url: "/\(tenant)/oauth2/v2.0/token", body: Array(form.utf8))
    }

    static func read(_ state: inout EmulatorState, token: String?) -> ARMResponse {
        state.send(
            "GET", aks, apiVersion: "2026-08-01", headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
    }

    @Test("an issued token is recorded with its audience, tenant, client and expiry, and holds no secret")
    func issued() throws {
        var state = Self.state()
        let token = state.issueToken(clientID: "app-7", secret: "canary-secret-1")
        #expect(!token.contains("canary"))
        let record = try #require(state.issuedTokens[token])
        #expect(record.audience == "https://management.azure.com")
        #expect(record.tenant == Fixture.tenant)
        #expect(record.clientID == "app-7")
        #expect(record.expiresAt == state.now + 3_599_000)
        #expect(Self.read(&state, token: token).status == 200)
        #expect(
            state.send(
                "POST", Self.graph, apiVersion: "2024-04-01", body: #"{"query": "resources"}"#,
                headers: ["Authorization": "Bearer \(token)"]
            ).status == 200)
        #expect(state.issueToken() != token)
    }

    @Test("401 shapes: missing, malformed, unknown, expired and wrong-audience tokens, each with WWW-Authenticate")
    func unauthorized() throws {
        var state = Self.state()
        let missing = Self.read(&state, token: nil)
        #expect(missing.status == 401)
        #expect(missing.errorCode == "AuthenticationFailed")
        let challenge = try #require(missing.header("WWW-Authenticate"))
        #expect(challenge.hasPrefix("Bearer authorization_uri=\"https://management.azure.com/"))
        #expect(challenge.contains("error=\"invalid_token\""))

        let basic = state.send("GET", Self.aks, apiVersion: "2026-08-01", headers: ["Authorization": "Basic abc"])
        #expect(basic.errorCode == "AuthenticationFailed")
        #expect(basic.json["error"]?["message"]?.string?.contains("invalid format") == true)

        let unknown = Self.read(&state, token: "emu.invented")
        #expect(unknown.status == 401)
        #expect(unknown.errorCode == "InvalidAuthenticationToken")
        #expect(unknown.header("WWW-Authenticate") != nil)

        let vault = state.issueToken(scope: Self.vaultScope)
        #expect(state.issuedTokens[vault]?.audience == "https://vault.azure.net")
        let wrong = Self.read(&state, token: vault)
        #expect(wrong.status == 401)
        #expect(wrong.errorCode == "InvalidAuthenticationTokenAudience")
        #expect(wrong.json["error"]?["message"]?.string?.contains("'https://vault.azure.net'") == true)
        let graph = state.send(
            "POST", Self.graph, apiVersion: "2024-04-01", body: #"{"query": "resources"}"#,
            headers: ["Authorization": "Bearer \(vault)"])
        #expect(graph.errorCode == "InvalidAuthenticationTokenAudience")

        let legacy = state.issueToken(scope: "https://management.core.windows.net//.default")
        #expect(Self.read(&state, token: legacy).status == 200)

        let arm = state.issueToken()
        state.advance(by: 3_599_000)
        let expired = Self.read(&state, token: arm)
        #expect(expired.status == 401)
        #expect(expired.errorCode == "ExpiredAuthenticationToken")
        #expect(expired.json["error"]?["message"]?.string?.contains("is earlier than current UTC time") == true)
    }

    @Test("authorize checks nothing when no token is required, and is usable for another audience")
    func authorizeDirectly() {
        var open = Fixture.state([Fixture.aks("aks-01")])
        #expect(open.authorize(ARMRequest(method: "GET", path: "/x"), audience: "https://vault.azure.net") == nil)
        #expect(Self.read(&open, token: "anything").status == 200)

        var state = Self.state()
        let vault = state.issueToken(scope: Self.vaultScope)
        let request = ARMRequest(method: "GET", path: "/secrets/s", headers: ["authorization": "bearer \(vault)"])
        #expect(state.authorize(request, audience: "https://vault.azure.net/") == nil)
        #expect(state.authorize(request, audience: ARMEmulator.armAudience)?.status == 401)
    }

    @Test("a forbidden client gets 403 AuthorizationFailed naming the action and the scope")
    func forbidden() {
        var state = Self.state { $0.authentication.forbiddenClients = ["reader-app"] }
        let token = state.issueToken(clientID: "Reader-App")
        let read = Self.read(&state, token: token)
        #expect(read.status == 403)
        #expect(read.errorCode == "AuthorizationFailed")
        let message = read.json["error"]?["message"]?.string ?? ""
        #expect(message.contains("The client 'Reader-App'"))
        #expect(message.contains("'Microsoft.ContainerService/managedClusters/read'"))
        #expect(message.contains("over scope '\(Self.aks)'"))
        let put = state.send(
            "PUT", Self.aks + "/providers/Microsoft.KubernetesConfiguration/extensions/flux",
            apiVersion: Fixture.extensionsVersion, body: "{}", headers: ["Authorization": "Bearer \(token)"])
        #expect(put.status == 403)
        #expect(
            put.json["error"]?["message"]?.string?.contains("'Microsoft.KubernetesConfiguration/extensions/write'")
                == true)
        let other = state.issueToken(clientID: "writer-app")
        #expect(Self.read(&state, token: other).status == 200)
    }

    @Test("a required client secret: a wrong one answers 401 invalid_client AADSTS7000215 in Entra's shape")
    func clientSecret() throws {
        var state = Self.state { $0.authentication.clientSecret = "right&secret=+%" }
        let scope = "scope=https%3A%2F%2Fmanagement.azure.com%2F.default"
        let wrong = ARMEmulator.handle(
            Self.tokenRequest("grant_type=client_credentials&client_id=app&client_secret=canary-wrong&\(scope)"),
            in: &state)
        #expect(wrong.status == 401)
        #expect(wrong.json["error"]?.string == "invalid_client")
        #expect(wrong.json["error_codes"] == .array([.int(7_000_215)]))
        let description = try #require(wrong.json["error_description"]?.string)
        #expect(description.hasPrefix("AADSTS7000215: Invalid client secret provided."))
        #expect(description.contains("Trace ID:"))
        #expect(wrong.json["trace_id"]?.string != nil && wrong.json["correlation_id"]?.string != nil)
        #expect(!wrong.text.contains("canary-wrong"))
        let right = ARMEmulator.handle(
            Self.tokenRequest(
                "grant_type=client_credentials&client_id=app&client_secret=right%26secret%3D%2B%25&\(scope)"),
            in: &state)
        #expect(right.status == 200)
        let none = ARMEmulator.handle(
            Self.tokenRequest("grant_type=client_credentials&client_id=app&\(scope)"), in: &state)
        #expect(none.status == 401)
        #expect(none.json["error_codes"] == .array([.int(7_000_216)]))
    }

    @Test("client assertions: any non-empty JWT-bearer assertion, or exactly the configured federated token")
    func clientAssertion() {
        let scope = "scope=https%3A%2F%2Fvault.azure.net%2F.default"
        let type = "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        var open = Self.state()
        let any = ARMEmulator.handle(
            Self.tokenRequest("grant_type=client_credentials&client_id=wi&\(type)&client_assertion=eyJ.x.y&\(scope)"),
            in: &open)
        #expect(any.status == 200)
        let issued = any.json["access_token"]?.string ?? ""
        #expect(open.issuedTokens[issued]?.audience == "https://vault.azure.net")
        let badType = ARMEmulator.handle(
            Self.tokenRequest(
                "grant_type=client_credentials&client_id=wi&client_assertion_type=x&client_assertion=a&\(scope)"),
            in: &open)
        #expect(badType.status == 401)

        var strict = Self.state { $0.authentication.federatedToken = "eyJ.projected.token" }
        let wrong = ARMEmulator.handle(
            Self.tokenRequest(
                "grant_type=client_credentials&client_id=wi&\(type)&client_assertion=eyJ.canary&\(scope)"),
            in: &strict)
        #expect(wrong.status == 401)
        #expect(wrong.json["error_description"]?.string?.hasPrefix("AADSTS70021:") == true)
        #expect(!wrong.text.contains("eyJ.canary"))
        let right = ARMEmulator.handle(
            Self.tokenRequest(
                "grant_type=client_credentials&client_id=wi&\(type)&client_assertion=eyJ.projected.token&\(scope)"),
            in: &strict)
        #expect(right.status == 200)
    }

    @Test("bad token requests: a missing parameter, another grant type, a scope without /.default, a GET")
    func badRequests() {
        var state = Self.state()
        let missing = ARMEmulator.handle(Self.tokenRequest("grant_type=client_credentials&client_id=a"), in: &state)
        #expect(missing.status == 400)
        #expect(missing.json["error"]?.string == "invalid_request")
        #expect(missing.json["error_description"]?.string?.hasPrefix("AADSTS900144:") == true)
        let grant = ARMEmulator.handle(
            Self.tokenRequest("grant_type=password&client_id=a&client_secret=b&scope=https%3A%2F%2Fx%2F.default"),
            in: &state)
        #expect(grant.json["error"]?.string == "unsupported_grant_type")
        let scope = ARMEmulator.handle(
            Self.tokenRequest("grant_type=client_credentials&client_id=a&client_secret=b&scope=https%3A%2F%2Fx"),
            in: &state)
        #expect(scope.json["error"]?.string == "invalid_scope")
        let get = ARMEmulator.handle(ARMRequest(method: "GET", url: "/t/oauth2/v2.0/token"), in: &state)
        #expect(get.status == 405)
        #expect(state.issuedTokens.isEmpty)
    }

    @Test("IMDS: Metadata: true required; numbers as strings; a client id that is not the identity is not found")
    func imds() throws {
        var state = Self.state()
        let path = "/metadata/identity/oauth2/token"
        let query = [ARMQueryItem(name: "resource", value: "https://management.azure.com")]
        let bare = state.send("GET", path, apiVersion: "2018-02-01", query: query)
        #expect(bare.status == 400)
        #expect(bare.json["error_description"]?.string == "Required metadata header not specified")
        let ok = state.send("GET", path, apiVersion: "2018-02-01", query: query, headers: ["Metadata": "true"])
        #expect(ok.status == 200)
        #expect(ok.json["expires_in"]?.string == "86399")
        #expect(ok.json["expires_on"]?.string == String(state.now / 1000 + 86_399))
        #expect(ok.json["resource"]?.string == "https://management.azure.com")
        let token = try #require(ok.json["access_token"]?.string)
        #expect(state.issuedTokens[token]?.clientID == EmulatorAuthentication().managedIdentityClientID)
        #expect(Self.read(&state, token: token).status == 200)
        let other = state.send(
            "GET", path, apiVersion: "2018-02-01", query: query + [ARMQueryItem(name: "client_id", value: "nope")],
            headers: ["Metadata": "true"])
        #expect(other.status == 400)
        #expect(other.json["error_description"]?.string == "Identity not found")
        let noResource = state.send("GET", path, apiVersion: "2018-02-01", headers: ["Metadata": "true"])
        #expect(noResource.status == 400)
    }

    @Test("App Service: X-IDENTITY-HEADER must match; expires_on is epoch seconds")
    func appService() throws {
        var state = Self.state { $0.authentication.identityHeader = "header-value" }
        let query = [ARMQueryItem(name: "resource", value: "https://vault.azure.net")]
        let wrong = state.send(
            "GET", "/msi/token", apiVersion: "2019-08-01", query: query, headers: ["X-IDENTITY-HEADER": "x"])
        #expect(wrong.status == 401)
        let ok = state.send(
            "GET", "/msi/token", apiVersion: "2019-08-01", query: query, headers: ["x-identity-header": "header-value"])
        #expect(ok.status == 200)
        #expect(ok.json["expires_on"]?.string == String(state.now / 1000 + 86_399))
        let token = try #require(ok.json["access_token"]?.string)
        #expect(state.issuedTokens[token]?.audience == "https://vault.azure.net")
        let oldVersion = state.send(
            "GET", "/msi/token", apiVersion: "2017-09-01", query: query, headers: ["x-identity-header": "header-value"])
        #expect(oldVersion.status == 400)
    }

    @Test("the authentication settings never show their secrets")
    func description() {
        var auth = EmulatorAuthentication()
        auth.clientSecret = "canary-1"
        auth.federatedToken = "canary-2"
        auth.identityHeader = "canary-3"
        #expect(!"\(auth)".contains("canary"))
        #expect("\(auth)".contains("client secret set"))
    }
}
