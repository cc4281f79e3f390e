import FleetCore
import Foundation

/// What every credential shares: its environment, transport, clock and token cache, and the rules for errors.
///
/// Errors never hold a secret: messages are built from fixed text, variable names, URLs without queries and the
/// `error` / `error_description` of an answer, and every piece taken from an answer passes through ``redact(_:)``
/// with the credential's secrets.
struct CredentialContext: Sendable {
    /// The credential's name (`environment`, `workload-identity`, …), first in every message.
    let name: String
    let transport: any ARMTransport & Sendable
    let cache: TokenCache

    init(name: String, transport: any ARMTransport & Sendable, clock: any RemediationClock & Sendable) {
        self.name = name
        self.transport = transport
        self.cache = TokenCache(clock: clock)
    }

    /// The `errorCode` of an ``AzureARMError`` from a credential that is not set up here (the chain goes on).
    static let unavailableCode = "CredentialUnavailable"

    /// A credential that is not set up in this environment.
    static func unavailable(_ name: String, _ what: String, location: String, remedy: String) -> AzureARMError {
        AzureARMError(
            .unauthorized, what: "\(name): \(what)", location: location, remedy: remedy, errorCode: unavailableCode)
    }

    /// A credential that is set up but failed.
    func failure(
        _ what: String, location: String, remedy: String, status: Int? = nil, code: String? = nil, secrets: [String]
    ) -> AzureARMError {
        AzureARMError(
            .unauthorized, what: "\(name): " + Self.redact(what, secrets), location: Self.redact(location, secrets),
            remedy: remedy, status: status, errorCode: code.map { Self.redact($0, secrets) })
    }

    /// `text` with every secret (of four or more characters) replaced by `***`.
    static func redact(_ text: String, _ secrets: [String]) -> String {
        var text = text
        for secret in secrets where secret.count >= 4 { text = text.replacingOccurrences(of: secret, with: "***") }
        return text
    }

    /// A URL without its query, for messages.
    static func place(_ url: String) -> String { String(url.prefix { $0 != "?" }) }

    /// Sends a request, retrying 429, 5xx and answers lost on the way up to three times (1 s, then 2 s apart).
    func send(_ request: ARMHTTPRequest, retryStatuses: Set<Int> = [429, 500, 502, 503, 504]) throws(TransportError)
        -> ARMHTTPResponse
    {
        var attempt = 1
        while true {
            do {
                let response = try transport.send(request)
                guard retryStatuses.contains(response.status), attempt < 3 else { return response }
            } catch {
                if case .unreachable = error { throw error }
                if attempt >= 3 { throw error }
            }
            cache.sleep(seconds: Int64(attempt))
            attempt += 1
        }
    }

    /// POSTs a client-credentials form to a Microsoft Entra ID token endpoint and reads the token.
    ///
    /// - Parameters:
    ///   - form: The form's fields in order (encoded here).
    ///   - secrets: The values to keep out of every message (the client secret or the assertion).
    ///   - remedy: What to check when Entra ID refuses the credential.
    func entraToken(url: String, form: [(String, String)], secrets: [String], remedy: String) throws(AzureARMError)
        -> AccessToken
    {
        let request = ARMHTTPRequest(
            method: "POST", url: url,
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: Array(FormEncoding.encode(form).utf8))
        let response: ARMHTTPResponse
        do {
            response = try send(request)
        } catch {
            throw failure(
                "the token endpoint could not be reached (\(Self.describe(error)))", location: Self.place(url),
                remedy: "check the network path to the authority host (AZURE_AUTHORITY_HOST or the cloud's)",
                secrets: secrets)
        }
        return try readToken(response, url: url, secrets: secrets, remedy: remedy)
    }

    /// Reads `{access_token, expires_in | expires_on, refresh_in?}` from a 200 answer, or turns an error answer
    /// (Entra ID's `{error, error_description}`) into an error.
    func readToken(_ response: ARMHTTPResponse, url: String, secrets: [String], remedy: String) throws(AzureARMError)
        -> AccessToken
    {
        let body = try? JSON.parse(String(decoding: response.body, as: UTF8.self))
        guard response.status == 200 else {
            let (code, detail) = Self.errorDetail(body)
            var what = "the token endpoint answered \(response.status)"
            if let code { what += " \(code)" }
            if let detail { what += ": \(detail)" }
            throw failure(
                what, location: Self.place(url), remedy: remedy, status: response.status, code: code, secrets: secrets)
        }
        let now = cache.nowSeconds
        guard let body, let token = body["access_token"]?.string, !token.isEmpty else {
            throw failure(
                "the token endpoint answered 200 without an access_token (\(response.body.count) bytes that are not a token response)",
                location: Self.place(url), remedy: "check that the authority host is a Microsoft Entra ID endpoint",
                status: 200, secrets: secrets)
        }
        let expiresOn: Int64
        if let on = Self.integer(body["expires_on"]) {
            expiresOn = on
        } else if let lifetime = Self.integer(body["expires_in"]) {
            expiresOn = now + lifetime
        } else {
            throw failure(
                "the token endpoint answered a token without expires_in or expires_on", location: Self.place(url),
                remedy: "check that the authority host is a Microsoft Entra ID endpoint", status: 200,
                secrets: secrets)
        }
        let refreshOn = Self.integer(body["refresh_in"]).map { now + $0 }
        return AccessToken(token: token, expiresOn: expiresOn, refreshOn: refreshOn)
    }

    /// An integer given as a JSON number or a string of digits.
    static func integer(_ value: JSON?) -> Int64? {
        switch value {
        case .number(let number)?: number.int64Value
        case .string(let text)?: Int64(text.trimmingCharacters(in: .whitespaces))
        default: nil
        }
    }

    /// The `error` code and the first line of `error_description` (without Entra's trace and correlation ids)
    /// of an error answer.
    static func errorDetail(_ body: JSON?) -> (code: String?, detail: String?) {
        guard let body else { return (nil, nil) }
        let code = body["error"]?.string ?? body["error"]?["code"]?.string
        var detail = body["error_description"]?.string ?? body["error"]?["message"]?.string ?? body["message"]?.string
        if let text = detail {
            var line = String(text.prefix { $0 != "\r" && $0 != "\n" })
            if let trace = line.range(of: " Trace ID:") { line = String(line[..<trace.lowerBound]) }
            detail = String(line.prefix(300))
        }
        return (code.map { String($0.prefix(80)) }, detail)
    }

    /// A transport failure in words.
    static func describe(_ error: TransportError) -> String {
        switch error {
        case .droppedConnection: "the connection dropped"
        case .timedOut: "no answer in time"
        case .unreachable(let reason): reason
        }
    }
}

extension AzureARMError {
    /// Whether the error says a credential is not set up here (so a chain tries the next one).
    var isCredentialUnavailable: Bool { errorCode == CredentialContext.unavailableCode }
}

/// `application/x-www-form-urlencoded`, percent-encoding everything but the unreserved characters.
enum FormEncoding {
    /// `name=value&…`, each part encoded.
    static func encode(_ fields: [(String, String)]) -> String {
        fields.map { PercentEncoding.encode($0.0) + "=" + PercentEncoding.encode($0.1) }.joined(separator: "&")
    }
}

/// Reading the shared environment variables.
enum EnvironmentValues {
    /// A variable's value, trimmed, or nil when unset or blank.
    static func value(_ environment: [String: String], _ name: String) -> String? {
        guard let raw = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else {
            return nil
        }
        return raw
    }

    /// The authority host from `AZURE_AUTHORITY_HOST` (a bare host gets `https://`) or the cloud's, without a
    /// trailing slash.
    static func authorityHost(_ environment: [String: String], cloud: AzureCloud) -> String {
        guard var host = value(environment, "AZURE_AUTHORITY_HOST") else { return cloud.authorityHost }
        if !host.lowercased().hasPrefix("http://") && !host.lowercased().hasPrefix("https://") {
            host = "https://" + host
        }
        while host.hasSuffix("/") { host.removeLast() }
        return host
    }

    /// Whether a tenant id is safe to put in a URL path (letters, digits, `.` and `-`).
    static func isTenant(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || isAlphanumeric($0) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// The v1 `resource` of a scope: the scope without `/.default`.
    static func resource(ofScope scope: String) -> String {
        scope.hasSuffix("/.default") ? String(scope.dropLast("/.default".count)) : scope
    }
}
