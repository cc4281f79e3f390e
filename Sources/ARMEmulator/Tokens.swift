import FleetCore

/// An access token the emulator issued: who it was issued to, for which audience, until when.
public struct IssuedToken: Sendable, Hashable {
    /// The resource the token is for, the scope without `/.default`: `https://management.azure.com`.
    public var audience: String
    /// The tenant it was issued in.
    public var tenant: String
    /// The client (application) id it was issued to.
    public var clientID: String
    /// When it expires on the virtual clock, in milliseconds since 1970.
    public var expiresAt: Int64

    /// Creates a record of an issued token.
    public init(audience: String, tenant: String, clientID: String, expiresAt: Int64) {
        self.audience = audience
        self.tenant = tenant
        self.clientID = clientID
        self.expiresAt = expiresAt
    }
}

/// The credentials the emulator's token endpoints accept and the clients it refuses.
///
/// The description never shows the secret, the federated token or the identity header.
public struct EmulatorAuthentication: Sendable, Hashable, CustomStringConvertible {
    /// The client secret the token endpoint requires; nil accepts any non-empty secret.
    public var clientSecret: String?
    /// The federated token (client assertion) the token endpoint requires; nil accepts any non-empty assertion.
    public var federatedToken: String?
    /// The `X-IDENTITY-HEADER` the App Service identity endpoint requires; nil accepts any non-empty value.
    public var identityHeader: String?
    /// The client id of the managed identity the IMDS and App Service endpoints hand out tokens for.
    public var managedIdentityClientID: String = "5a9d8c7b-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
    /// Client ids (lowercased) whose tokens are refused with 403 `AuthorizationFailed`.
    public var forbiddenClients: Set<String> = []
    /// How long a token from the token endpoint lives, in seconds (Entra ID's usual 3599).
    public var tokenLifetime: Int64 = 3_599
    /// How long a managed identity token lives, in seconds (IMDS's usual 86399).
    public var managedIdentityTokenLifetime: Int64 = 86_399

    /// Accepts any credential and refuses no client.
    public init() {}

    /// What is required, with every secret hidden.
    public var description: String {
        func shown(_ value: String?) -> String { value == nil ? "any" : "set" }
        return "client secret \(shown(clientSecret)), federated token \(shown(federatedToken)), "
            + "identity header \(shown(identityHeader)), forbidden clients \(forbiddenClients.sorted())"
    }
}

/// The token endpoints: Microsoft Entra ID's `POST /{tenant}/oauth2/v2.0/token` (client secret or client
/// assertion), IMDS's `GET /metadata/identity/oauth2/token` and App Service's `GET /msi/token`.
///
/// Each issues an opaque token (no secret inside) recorded in ``EmulatorState/issuedTokens`` with its audience
/// (the scope's resource), tenant, client id and expiry on the virtual clock; ``EmulatorState/authorize(_:audience:)``
/// checks it. Refusals have the shapes of the real endpoints: Entra ID's `{error, error_description, error_codes,
/// …}` with an `AADSTS` code.
public enum TokenEndpoint {
    /// The `client_assertion_type` of a federated (JWT bearer) client assertion.
    public static let jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    /// `POST /{tenant}/oauth2/v2.0/token` with a client-credentials form.
    static func entra(_ request: ARMRequest, tenant: String, state: inout EmulatorState) -> ARMResponse {
        guard request.method == "POST" else { return ARMEmulator.methodNotAllowed(request) }
        let form = ARMRequest(method: "POST", url: "/?" + String(decoding: request.body, as: UTF8.self))
        func field(_ name: String) -> String { form.queryValue(name) ?? "" }
        let auth = state.configuration.authentication
        for name in ["grant_type", "client_id", "scope"] where field(name).isEmpty {
            return entraError(
                400, "invalid_request", 900144, "The request body must contain the following parameter: '\(name)'.",
                state: state)
        }
        let clientID = field("client_id")
        guard field("grant_type") == "client_credentials" else {
            return entraError(
                400, "unsupported_grant_type", 70003,
                "The app requested an unsupported grant type '\(field("grant_type"))'.", state: state)
        }
        let scope = field("scope")
        guard scope.hasSuffix("/.default"), scope.count > "/.default".count else {
            return entraError(
                400, "invalid_scope", 1_002_012,
                "The provided value for scope \(scope) is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                state: state)
        }
        let assertion = field("client_assertion")
        let secret = field("client_secret")
        if !assertion.isEmpty, field("client_assertion_type") == jwtBearer {
            if let required = auth.federatedToken, required != assertion {
                return entraError(
                    401, "invalid_client", 70021,
                    "No matching federated identity record found for presented assertion. Check the issuer and subject of the federated identity credential of app '\(clientID)'.",
                    state: state)
            }
        } else if !secret.isEmpty {
            if let required = auth.clientSecret, required != secret {
                return entraError(
                    401, "invalid_client", 7_000_215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(clientID)'.",
                    state: state)
            }
        } else {
            return entraError(
                401, "invalid_client", 7_000_216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                state: state)
        }
        let token = issue(
            audience: String(scope.dropLast("/.default".count)), tenant: tenant, clientID: clientID,
            lifetime: auth.tokenLifetime, state: &state)
        let body: JSON = .object([
            "token_type": .string("Bearer"), "expires_in": .int(Int(auth.tokenLifetime)),
            "ext_expires_in": .int(Int(auth.tokenLifetime)), "access_token": .string(token),
        ])
        return ARMResponse(status: 200, body: body.bytes)
    }

    /// `GET /metadata/identity/oauth2/token` (IMDS, header `Metadata: true`) or `GET /msi/token` (App Service,
    /// header `X-IDENTITY-HEADER`), with `api-version`, `resource` and an optional `client_id`.
    static func managedIdentity(_ request: ARMRequest, appService: Bool, state: inout EmulatorState)
        -> ARMResponse
    {
        guard request.method == "GET" else { return ARMEmulator.methodNotAllowed(request) }
        let auth = state.configuration.authentication
        if appService {
            let header = request.header("X-IDENTITY-HEADER") ?? ""
            guard !header.isEmpty, auth.identityHeader.map({ $0 == header }) ?? true else {
                return identityError(401, "unauthorized_client", "The X-IDENTITY-HEADER header is missing or wrong.")
            }
        } else {
            guard request.header("Metadata")?.lowercased() == "true" else {
                return identityError(400, "invalid_request", "Required metadata header not specified")
            }
        }
        let version = request.queryValue("api-version") ?? ""
        let supported = appService ? "2019-08-01" : "2018-02-01"
        guard version == supported || (!appService && version.hasPrefix("20")) else {
            return identityError(
                400, "invalid_request", "Required query variable 'api-version' is missing or not \(supported).")
        }
        var resource = request.queryValue("resource") ?? ""
        while resource.hasSuffix("/") { resource.removeLast() }
        guard !resource.isEmpty else {
            return identityError(400, "invalid_request", "Required query variable 'resource' is missing")
        }
        let clientID = auth.managedIdentityClientID
        if let asked = request.queryValue("client_id"), !ASCII.equalsIgnoringCase(asked, clientID) {
            return identityError(400, "invalid_request", "Identity not found")
        }
        let lifetime = auth.managedIdentityTokenLifetime
        let token = issue(
            audience: resource, tenant: state.tenantId ?? "common", clientID: clientID, lifetime: lifetime,
            state: &state)
        let expiresOn = String(state.now / 1000 + lifetime)
        var body: [String: JSON] = [
            "access_token": .string(token), "expires_on": .string(expiresOn), "resource": .string(resource),
            "token_type": .string("Bearer"), "client_id": .string(clientID),
        ]
        if !appService {
            body["expires_in"] = .string(String(lifetime))
            body["ext_expires_in"] = .string(String(lifetime))
            body["not_before"] = .string(String(state.now / 1000))
            body["refresh_token"] = .string("")
        }
        return ARMResponse(status: 200, body: JSON.object(body).bytes)
    }

    /// Makes an opaque token and records it.
    static func issue(audience: String, tenant: String, clientID: String, lifetime: Int64, state: inout EmulatorState)
        -> String
    {
        let seed = state.configuration.seed
        let number = state.requestCount &+ UInt64(state.issuedTokens.count)
        let token = "emu." + (Mix.guid(seed, 40, number) + Mix.guid(seed, 41, number)).filter { $0 != "-" }
        state.issuedTokens[token] = IssuedToken(
            audience: audience, tenant: tenant, clientID: clientID, expiresAt: state.now + lifetime * 1000)
        return token
    }

    /// Entra ID's error answer: `{error, error_description, error_codes, timestamp, trace_id, correlation_id,
    /// error_uri}`, the description starting with `AADSTS<code>:` and ending with the trace and correlation ids.
    static func entraError(_ status: Int, _ error: String, _ code: Int, _ message: String, state: EmulatorState)
        -> ARMResponse
    {
        let trace = Mix.guid(state.configuration.seed, 42, state.requestCount)
        let correlation = Mix.guid(state.configuration.seed, 43, state.requestCount)
        let stamp = EmulatorClock.iso8601(state.now)
        let body: JSON = .object([
            "error": .string(error),
            "error_description": .string(
                "AADSTS\(code): \(message) Trace ID: \(trace) Correlation ID: \(correlation) Timestamp: \(stamp)"),
            "error_codes": .array([.int(code)]), "timestamp": .string(stamp), "trace_id": .string(trace),
            "correlation_id": .string(correlation),
            "error_uri": .string("https://login.microsoftonline.com/error?code=\(code)"),
        ])
        return ARMResponse(status: status, body: body.bytes)
    }

    private static func identityError(_ status: Int, _ error: String, _ message: String) -> ARMResponse {
        let body: JSON = .object(["error": .string(error), "error_description": .string(message)])
        return ARMResponse(status: status, body: body.bytes)
    }
}

extension ARMEmulator {
    /// The audience ARM and Resource Graph require (`https://management.core.windows.net` is accepted too).
    public static let armAudience = "https://management.azure.com"
}

extension EmulatorState {
    /// Checks a request's bearer token for `audience`: nil when it may proceed, otherwise ARM's 401 or 403.
    ///
    /// Nothing is checked unless ``EmulatorConfiguration/requireBearerToken`` is on. Then only a token this
    /// emulator issued passes: a missing or malformed header answers 401 `AuthenticationFailed`, an unknown token
    /// `InvalidAuthenticationToken`, an expired one `ExpiredAuthenticationToken`, one for another audience
    /// `InvalidAuthenticationTokenAudience` (each with a `WWW-Authenticate: Bearer authorization_uri=…` header),
    /// and a token of a forbidden client 403 `AuthorizationFailed` naming the action and the scope.
    public func authorize(_ request: ARMRequest, audience: String) -> ARMResponse? {
        guard configuration.requireBearerToken else { return nil }
        let header = (request.header("Authorization") ?? "").trimmingSpaces()
        guard !header.isEmpty else {
            return unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        }
        let lowered = header.lowercased()
        let token = String(header.dropFirst("bearer ".count)).trimmingSpaces()
        guard lowered.hasPrefix("bearer "), !token.isEmpty else {
            return unauthorized(
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.")
        }
        guard let issued = issuedTokens[token] else {
            return unauthorized("InvalidAuthenticationToken", "The access token is invalid.")
        }
        guard now < issued.expiresAt else {
            return unauthorized(
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time '\(EmulatorClock.iso8601(issued.expiresAt))' is earlier than current UTC time '\(EmulatorClock.iso8601(now))'."
            )
        }
        guard Self.sameAudience(issued.audience, audience) else {
            return unauthorized(
                "InvalidAuthenticationTokenAudience",
                "The access token has been obtained for wrong audience or resource '\(issued.audience)'. It should exactly match with one of the allowed audiences '\(audience)'."
            )
        }
        if configuration.authentication.forbiddenClients.contains(ASCII.lowercased(issued.clientID)) {
            let (action, scope) = Self.action(of: request)
            return ARMError.response(
                403, "AuthorizationFailed",
                "The client '\(issued.clientID)' with object id '\(issued.clientID)' does not have authorization to perform action '\(action)' over scope '\(scope)' or the scope is invalid. If access was recently granted, please refresh your credentials."
            )
        }
        return nil
    }

    /// A 401 with ARM's error body and a `WWW-Authenticate` header pointing at the emulator's token endpoint.
    private func unauthorized(_ code: String, _ message: String) -> ARMResponse {
        var response = ARMError.response(401, code, message)
        let authority = "\(configuration.baseURL)/\(tenantId ?? "common")"
        response.headers["WWW-Authenticate"] =
            "Bearer authorization_uri=\"\(authority)\", error=\"invalid_token\", error_description=\"\(message.replacingQuotes())\""
        return response
    }

    /// Whether two audiences name the same resource (case and a trailing slash aside; ARM's legacy audience
    /// `https://management.core.windows.net` is ARM's).
    static func sameAudience(_ a: String, _ b: String) -> Bool {
        func normal(_ text: String) -> String {
            var text = ASCII.lowercased(text)
            while text.hasSuffix("/") { text.removeLast() }
            return text == "https://management.core.windows.net" ? "https://management.azure.com" : text
        }
        return normal(a) == normal(b)
    }

    /// The RBAC action and scope of a request: `Microsoft.ContainerService/managedClusters/read` over the path.
    static func action(of request: ARMRequest) -> (action: String, scope: String) {
        let segments = request.path.split(separator: "/").map(String.init)
        let verb: String =
            switch request.method {
            case "GET", "HEAD": "read"
            case "DELETE": "delete"
            case "POST": "action"
            default: "write"
            }
        guard let providers = segments.lastIndex(where: { ASCII.equalsIgnoringCase($0, "providers") }),
            providers + 2 <= segments.count
        else { return ("*/\(verb)", request.path) }
        let rest = Array(segments[(providers + 1)...])
        var types = [rest[0]]
        for index in stride(from: 1, to: rest.count, by: 2) { types.append(rest[index]) }
        if ASCII.equalsIgnoringCase(rest[0], "Microsoft.ResourceGraph") {
            return ("Microsoft.ResourceGraph/resources/read", "/")
        }
        return (types.joined(separator: "/") + "/" + verb, request.path)
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }

    fileprivate func replacingQuotes() -> String {
        String(map { $0 == "\"" ? "'" : $0 })
    }
}
