import FleetCore
import Foundation
import Testing

@testable import ARMEmulator

/// Long-running operations followed through the virtual clock.
@Suite("long-running operations")
struct OperationTests {
    static let aks = Fixture.aksID("aks-01")

    @Test("an extension install: InProgress, then Succeeded after the configured delay")
    func extensionLifecycle() throws {
        var state = Fixture.state([Fixture.aks("aks-01")]) { $0.extensionProvisioningDelay = 90_000 }
        let put = state.putExtension(Self.aks)
        #expect(put.status == 201)
        let async = try #require(put.header("Azure-AsyncOperation"))
        let location = try #require(put.header("Location"))

        state.advance(by: 89_999)
        let running = state.follow(async)
        #expect(running.status == 200)
        #expect(running.json["status"]?.string == "InProgress")
        #expect(running.json["endTime"] == nil)
        let pending = state.follow(location)
        #expect(pending.status == 202)
        #expect(pending.header("Location") == location)
        #expect(pending.header("Retry-After") == "5")
        #expect(state.getChild(Self.aks, .extensions, "flux").property("provisioningState") == "Creating")
        #expect(state.getChild(Self.aks, .extensions, "flux").json["properties"]?["currentVersion"] == .null)

        state.advance(by: 1)
        let done = state.follow(async)
        #expect(done.json["status"]?.string == "Succeeded")
        #expect(done.json["endTime"]?.string == EmulatorClock.iso8601(EmulatorClock.defaultStart + 90_000))
        #expect(done.json["error"] == .null)
        let result = state.follow(location)
        #expect(result.status == 200)
        #expect(result.property("provisioningState") == "Succeeded")
        let extensionBody = state.getChild(Self.aks, .extensions, "flux")
        #expect(extensionBody.property("provisioningState") == "Succeeded")
        #expect(extensionBody.property("currentVersion") == FluxVersionCatalog.builtIn.latest.description)
    }

    @Test("a fluxConfiguration: Creating → Succeeded, then Pending → Compliant, statusUpdatedAt kept current")
    func configurationLifecycle() throws {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)]) {
            $0.configurationProvisioningDelay = 20_000
            $0.complianceDelay = 30_000
            $0.statusReportInterval = 60_000
        }
        let put = state.putConfiguration(Self.aks)
        #expect(put.status == 201)
        state.advance(by: 20_000)
        var body = state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline")
        #expect(body.property("provisioningState") == "Succeeded")
        #expect(body.property("complianceState") == "Pending")
        state.advance(by: 29_999)
        #expect(
            state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline").property("complianceState") == "Pending")
        state.advance(by: 1)
        body = state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline")
        #expect(body.property("complianceState") == "Compliant")
        #expect(body.property("statusUpdatedAt") == EmulatorClock.iso8601(EmulatorClock.defaultStart + 50_000))
        #expect(body.property("sourceSyncedCommitId")?.hasPrefix("main@sha1:") == true)
        let statuses = body.json["properties"]?["statuses"]
        guard case .array(let items)? = statuses else {
            Issue.record("no statuses")
            return
        }
        #expect(
            items.compactMap { $0["name"]?.string } == [
                "gitops-baseline", "gitops-baseline-apps", "gitops-baseline-infra",
            ])
        // Defaults ARM fills in are echoed.
        #expect(body.json["properties"]?["kustomizations"]?["infra"]?["name"]?.string == "infra")
        #expect(body.json["properties"]?["kustomizations"]?["infra"]?["syncIntervalInSeconds"] == .int(600))

        // The agent keeps reporting: statusUpdatedAt follows the clock in report intervals.
        state.advance(by: 10 * 60_000 + 5_000)
        body = state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline")
        let now = state.now
        #expect(body.property("statusUpdatedAt") == EmulatorClock.iso8601(now - now % 60_000))
    }

    @Test("a suspended configuration ends Suspended")
    func suspended() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)])
        let body = Fixture.baselineConfiguration.replacingOccurrences(
            of: "\"suspend\": false", with: "\"suspend\": true")
        #expect(state.putConfiguration(Self.aks, body: body).status == 201)
        state.advance(by: 3_600_000)
        #expect(
            state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline").property("complianceState") == "Suspended")
    }

    @Test("a delete: 202 with the delete timeout, then gone (204 from Location, 404 on GET)")
    func deleteLifecycle() throws {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)]) {
            $0.deletionDelay = 10_000
        }
        let delete = state.send(
            "DELETE", "\(Self.aks)/providers/Microsoft.KubernetesConfiguration/extensions/flux",
            apiVersion: Fixture.extensionsVersion)
        #expect(delete.status == 202)
        #expect(delete.header("x-ms-async-operation-timeout") == "PT1H")
        #expect(delete.body.isEmpty)
        #expect(state.getChild(Self.aks, .extensions, "flux").property("provisioningState") == "Deleting")
        // Deleting again while it runs answers the same operation.
        let again = state.send(
            "DELETE", "\(Self.aks)/providers/Microsoft.KubernetesConfiguration/extensions/flux",
            apiVersion: Fixture.extensionsVersion)
        #expect(again.status == 202)
        #expect(again.header("Azure-AsyncOperation") == delete.header("Azure-AsyncOperation"))
        state.advance(by: 10_000)
        let location = try #require(delete.header("Location"))
        #expect(state.follow(location).status == 204)
        #expect(state.follow(try #require(delete.header("Azure-AsyncOperation"))).json["status"]?.string == "Succeeded")
        #expect(state.getChild(Self.aks, .extensions, "flux").status == 404)
    }

    @Test("operations end in time order, each at its own due time")
    func order() {
        let b = Fixture.aksID("aks-02")
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.aks("aks-02")]) {
            $0.extensionProvisioningDelay = 60_000
        }
        _ = state.putExtension(Self.aks)
        state.advance(by: 30_000)
        _ = state.putExtension(b)
        state.advance(by: 30_000)
        #expect(state.getChild(Self.aks, .extensions, "flux").property("provisioningState") == "Succeeded")
        #expect(state.getChild(b, .extensions, "flux").property("provisioningState") == "Creating")
        state.advance(by: 30_000)
        #expect(state.getChild(b, .extensions, "flux").property("provisioningState") == "Succeeded")
        let ends = state.operations.values.sorted { $0.sequence < $1.sequence }.compactMap(\.endTime)
        #expect(ends == [EmulatorClock.defaultStart + 60_000, EmulatorClock.defaultStart + 90_000])
    }

    @Test("one long jump of the clock ends every operation at its own time, slow ones included")
    func longJump() throws {
        let names = (0..<200).map { "aks-\($0)" }
        let plan = try FaultPlan(parsing: "slow=30%x4,seed=3")
        var state = Fixture.state(names.map { Fixture.aks($0) }) {
            $0.extensionProvisioningDelay = 60_000
            $0.faults = plan
        }
        for name in names {
            #expect(state.putExtension(Fixture.aksID(name)).status == 201)
            state.advance(by: 100)
        }
        state.advance(by: 3_600_000)
        let operations = state.operations.values.sorted { $0.sequence < $1.sequence }
        #expect(operations.count == 200)
        let slow = operations.filter { $0.endTime == $0.startTime + 240_000 }.count
        #expect(operations.allSatisfy { $0.status == .succeeded })
        #expect(operations.allSatisfy { $0.endTime == $0.startTime + 60_000 || $0.endTime == $0.startTime + 240_000 })
        #expect(slow > 30 && slow < 100, "\(slow) slow of 200 at 30%")
        for name in names {
            let body = state.getChild(Fixture.aksID(name), .extensions, "flux")
            #expect(body.property("provisioningState") == "Succeeded")
        }
    }

    @Test("a write while an operation runs is refused with 409 OperationNotAllowed")
    func busy() {
        var state = Fixture.state([Fixture.aks("aks-01")])
        #expect(state.putExtension(Self.aks).status == 201)
        let second = state.putExtension(Self.aks)
        #expect(second.status == 409)
        #expect(second.errorCode == "OperationNotAllowed")
    }

    @Test("PATCH merges: null removes a kustomization, new keys add, others stay")
    func patchMerges() {
        var state = Fixture.state([Fixture.aks("aks-01"), Fixture.fluxExtension(on: Self.aks)])
        _ = state.putConfiguration(Self.aks)
        state.advance(by: 3_600_000)
        let patch = state.send(
            "PATCH", "\(Self.aks)/providers/Microsoft.KubernetesConfiguration/fluxConfigurations/gitops-baseline",
            apiVersion: Fixture.configurationsVersion,
            body: #"{"properties": {"kustomizations": {"apps": null, "extra": {"path": "./extra"}}}}"#)
        #expect(patch.status == 202)
        #expect(patch.property("provisioningState") == "Updating")
        #expect(patch.property("complianceState") == "Pending")
        let kustomizations = patch.json["properties"]?["kustomizations"]
        #expect(kustomizations?["apps"] == nil)
        #expect(kustomizations?["infra"]?["path"]?.string == "./infrastructure")
        #expect(kustomizations?["extra"]?["prune"] == .bool(false))
        state.advance(by: 3_600_000)
        #expect(
            state.getChild(Self.aks, .fluxConfigurations, "gitops-baseline").property("complianceState") == "Compliant")
    }
}
