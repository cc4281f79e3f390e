import FleetCore
import Foundation
import Planner
import Testing

@Suite("plan documents read back")
struct PlanDocumentTests {
    @Test("the demo plan round-trips through its JSON document with the same planId")
    func roundTrip() throws {
        let plan = try demoPlan(PlanOptions(allowReplace: true, migrateFluxV1: true))
        let (read, planId) = try Plan.read(plan.jsonBytes(), file: "plan.json")
        #expect(read == plan)
        #expect(planId == plan.planId)
        #expect(read.clusters.contains { !$0.actions.isEmpty })
    }

    @Test("change windows in the options read back, so the planId still matches")
    func windows() throws {
        var options = PlanOptions()
        options.changeWindows = [
            ChangeWindow(
                name: "weekend nights", days: [.friday, .saturday], start: 22 * 60, end: 6 * 60, utcOffset: 60),
            ChangeWindow(
                name: "canary", days: [.tuesday], start: 9 * 60, end: 17 * 60, utcOffset: -330,
                selector: .tag(key: "ring", value: "canary")),
        ]
        let plan = try demoPlan(options)
        let (read, planId) = try Plan.read(plan.jsonBytes(), file: "plan.json")
        #expect(read.options.changeWindows == options.changeWindows)
        #expect(planId == plan.planId)
    }

    @Test("a plan edited after it was written is refused, naming planId")
    func edited() throws {
        let plan = try demoPlan()
        var text = String(decoding: plan.jsonBytes(), as: UTF8.self)
        let change = try #require(plan.clusters.first { $0.decision == .change })
        text = text.replacingOccurrences(of: change.fingerprint, with: "sha256:" + String(repeating: "0", count: 64))
        #expect(throws: PlanDocumentError.self) { try Plan.read(Array(text.utf8), file: "plan.json") }
        do {
            _ = try Plan.read(Array(text.utf8), file: "plan.json")
        } catch {
            #expect(error.path == "$.planId")
            #expect(error.description.contains("edited"))
        }
    }

    @Test("not JSON, a newer format and a wrong decision name their place")
    func malformed() throws {
        func failure(_ text: String) -> PlanDocumentError? {
            do {
                _ = try Plan.read(Array(text.utf8), file: "p.json")
                return nil
            } catch { return error }
        }
        #expect(failure("{")?.path == "$")
        #expect(failure("[]")?.path == "$")
        #expect(failure(#"{"formatVersion": 2, "planId": "x"}"#)?.message.contains("format 2") == true)
        let plan = try demoPlan()
        let text = String(decoding: plan.jsonBytes(), as: UTF8.self)
            .replacingOccurrences(of: #""decision" : "noop""#, with: #""decision" : "maybe""#)
            .replacingOccurrences(of: #""decision": "noop""#, with: #""decision": "maybe""#)
        let error = try #require(failure(text))
        #expect(error.path.hasSuffix(".decision"))
    }
}
