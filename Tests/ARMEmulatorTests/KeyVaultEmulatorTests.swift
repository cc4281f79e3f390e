import FleetCore
import Testing

@testable import ARMEmulator

@Suite("Key Vault data plane")
struct KeyVaultEmulatorTests {
    static let bearer = ["Authorization": "Bearer t"]

    static func state(_ seed: (inout EmulatedKeyVaults) -> Void) -> EmulatorState {
        var state = EmulatorState()
        seed(&state.keyVaults)
        return state
    }

    static func get(_ url: String, headers: [String: String] = bearer, in state: inout EmulatorState) -> ARMResponse {
        ARMEmulator.handle(ARMRequest(method: "GET", url: url, headers: headers), in: &state)
    }

    static func json(_ response: ARMResponse) throws -> JSON { try JSON.parse(response.text) }

    @Test("GET answers value, id and attributes in Key Vault's shape; names ignore case")
    func get() throws {
        var state = Self.state { $0.add(vault: "kv-fleet", name: "git-token", value: "v1", version: "abc123") }
        let response = Self.get("/keyvault/KV-FLEET/secrets/Git-Token?api-version=7.4", in: &state)
        #expect(response.status == 200)
        let body = try Self.json(response)
        #expect(body["value"]?.string == "v1")
        #expect(body["id"]?.string == "https://kv-fleet.vault.azure.net/secrets/git-token/abc123")
        #expect(body["attributes"]?["enabled"] == .bool(true))
        #expect(body["attributes"]?["created"] == .int(Int(EmulatorClock.defaultStart / 1000)))
        #expect(body["attributes"]?["recoveryLevel"]?.string == "Recoverable+Purgeable")
        #expect(response.header("x-ms-request-id") != nil)
    }

    @Test("without a bearer token: 401 with Key Vault's challenge")
    func challenge() throws {
        var state = Self.state { $0.add(vault: "kv-fleet", name: "s", value: "v") }
        let response = Self.get("/keyvault/kv-fleet/secrets/s?api-version=2025-07-01", headers: [:], in: &state)
        #expect(response.status == 401)
        #expect(try Self.json(response)["error"]?["code"]?.string == "Unauthorized")
        let challenge = try #require(response.header("WWW-Authenticate"))
        #expect(challenge.hasPrefix("Bearer authorization=\"https://login.microsoftonline.com/"))
        #expect(challenge.hasSuffix("resource=\"https://vault.azure.net\""))
    }

    @Test("api-version: 400 BadParameter when missing or unknown")
    func apiVersion() throws {
        var state = Self.state { $0.add(vault: "kv-fleet", name: "s", value: "v") }
        let missing = Self.get("/keyvault/kv-fleet/secrets/s", in: &state)
        #expect(missing.status == 400)
        #expect(try Self.json(missing)["error"]?["code"]?.string == "BadParameter")
        let unknown = Self.get("/keyvault/kv-fleet/secrets/s?api-version=2025-03-01", in: &state)
        #expect(unknown.status == 400)
        #expect(try Self.json(unknown)["error"]?["message"]?.string?.contains("(2025-03-01) is not recognized") == true)
    }

    @Test("404 SecretNotFound, 403 SecretDisabled and 403 ForbiddenByRbac in Key Vault's shapes")
    func errors() throws {
        var state = Self.state {
            $0.add(vault: "kv-fleet", name: "off", value: "v", enabled: false)
            $0.add(vault: "kv-fleet", name: "locked", value: "v", forbidden: true)
        }
        let missing = Self.get("/keyvault/kv-fleet/secrets/nope?api-version=7.5", in: &state)
        #expect(missing.status == 404)
        #expect(try Self.json(missing)["error"]?["code"]?.string == "SecretNotFound")
        let disabled = Self.get("/keyvault/kv-fleet/secrets/off?api-version=7.5", in: &state)
        #expect(disabled.status == 403)
        #expect(try Self.json(disabled)["error"]?["code"]?.string == "Forbidden")
        #expect(try Self.json(disabled)["error"]?["innererror"]?["code"]?.string == "SecretDisabled")
        let forbidden = Self.get("/keyvault/kv-fleet/secrets/locked?api-version=7.5", in: &state)
        #expect(forbidden.status == 403)
        #expect(try Self.json(forbidden)["error"]?["innererror"]?["code"]?.string == "ForbiddenByRbac")
        #expect(!forbidden.text.contains("\"value\""))
        let other = Self.get("/keyvault/kv-fleet/keys/k?api-version=7.5", in: &state)
        #expect(other.status == 404)
        let put = ARMEmulator.handle(
            ARMRequest(method: "PUT", url: "/keyvault/kv-fleet/secrets/s?api-version=7.5", headers: Self.bearer),
            in: &state)
        #expect(put.status == 405)
    }

    @Test("Key Vault requests are not charged to ARM's buckets and meet no ARM faults; throttling is injectable")
    func notARM() throws {
        var state = Self.state {
            $0.add(vault: "kv-fleet", name: "s", value: "v")
            $0.throttleNext = 1
        }
        state.configuration.throttling = ThrottlingLimits(
            writeBurst: 1, writeRefillPerSecond: 1, readBurst: 1, readRefillPerSecond: 1)
        state.configuration.faults.serverErrors = FaultRate(percent: 100)
        let throttled = Self.get("/keyvault/kv-fleet/secrets/s?api-version=7.6", in: &state)
        #expect(throttled.status == 429)
        #expect(throttled.header("Retry-After") == "1")
        #expect(try Self.json(throttled)["error"]?["code"]?.string == "Throttled")
        for _ in 0..<3 {
            #expect(Self.get("/keyvault/kv-fleet/secrets/s?api-version=7.6", in: &state).status == 200)
        }
        #expect(state.statistics.readsAccepted.isEmpty)
        #expect(state.statistics.injectedErrors == 0)
        #expect(throttled.header("x-ms-ratelimit-remaining-subscription-reads") == nil)
    }

    @Test("the seed file: strings, objects and version arrays; errors name the path, never a value")
    func seed() throws {
        let text = #"""
            {"kv-fleet": {"plain": "v-plain",
                          "object": {"value": "v-object", "version": "0a1b", "enabled": false},
                          "versions": [{"value": "v-old", "version": "01"}, {"value": "v-new"}],
                          "locked": {"value": "v-locked", "forbidden": true}}}
            """#
        var state = EmulatorState()
        state.keyVaults = try EmulatedKeyVaults(seed: Array(text.utf8), source: "kv.json", at: state.now)
        #expect(state.keyVaults.count == 5)
        func read(_ path: String) throws -> (status: Int, value: String?) {
            let response = Self.get("/keyvault/kv-fleet/secrets/\(path)?api-version=2025-07-01", in: &state)
            return (response.status, try Self.json(response)["value"]?.string)
        }
        #expect(try read("plain") == (200, "v-plain"))
        #expect(try read("object/0a1b").status == 403)
        #expect(try read("versions") == (200, "v-new"))
        #expect(try read("versions/01") == (200, "v-old"))
        #expect(try read("locked").status == 403)

        let bad: [(String, String)] = [
            (#"["x"]"#, "$ must be an object"),
            (#"{"kv": {}}"#, "$.kv is not a vault name"),
            (#"{"kv-fleet": {"bad_name": "v-secret"}}"#, "$.kv-fleet.bad_name is not a secret name"),
            (#"{"kv-fleet": {"s": {"value": 1}}}"#, "$.kv-fleet.s must be a string"),
            (#"{"kv-fleet": {"s": {"value": "v-secret", "enabled": "yes"}}}"#, "$.kv-fleet.s \"version\""),
            (#"{"kv-fleet": {"s": [{"value": "v-secret"}, {"valu": "v-secret"}]}}"#, "$.kv-fleet.s[1] must be"),
            ("{", "$ is not valid JSON"),
        ]
        for (text, expected) in bad {
            do {
                _ = try EmulatedKeyVaults(seed: Array(text.utf8), source: "kv.json", at: 0)
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.description.hasPrefix("kv.json: \(expected)"), "\(error)")
                #expect(!error.description.contains("v-secret"))
            }
        }
    }
}
