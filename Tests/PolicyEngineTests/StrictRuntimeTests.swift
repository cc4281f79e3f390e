import FleetCore
import PolicyEngine
import Testing

@Suite("RuntimeHealth: Flux's own status of a fluxConfiguration")
struct StrictRuntimeTests {
    private let now = "2025-03-01T12:00:00Z"

    /// A fluxConfiguration with the given compliance, status time and `statuses[]` JSON.
    private func configuration(
        compliance: String = #""Compliant""#,
        updatedAt: String = #""2025-03-01T11:50:00.1234567Z""#,
        suspend: Bool = false,
        statuses: String = "[]"
    ) -> JSONValue {
        observedJSON(
            #"{"name": "fleet", "properties": {"suspend": "# + String(suspend) + #", "complianceState": "# + compliance
                + #", "statusUpdatedAt": "# + updatedAt + #", "statuses": "# + statuses + "}}")
    }

    private let healthyStatuses = #"""
        [{"name": "fleet", "namespace": "flux-config", "kind": "GitRepository", "complianceState": "Compliant",
          "statusConditions": [
            {"type": "Ready", "status": "True", "reason": "Succeeded", "message": "stored artifact"}]},
         {"name": "fleet-apps", "namespace": "flux-config", "kind": "Kustomization", "complianceState": "Compliant",
          "statusConditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded"}]}]
        """#

    @Test("compliant, fresh, nothing failing: healthy")
    func compliant() {
        let assessment = RuntimeHealth.assess(configuration: configuration(statuses: healthyStatuses), now: now)
        #expect(
            assessment
                == RuntimeAssessment(
                    complianceState: "Compliant", stale: false, statusUpdatedAt: "2025-03-01T11:50:00.1234567Z",
                    suspended: false, failing: []))
        #expect(assessment.healthy)
    }

    @Test("non-compliant with a failing Kustomization: the object, its reason and message")
    func nonCompliantKustomization() {
        let statuses = #"""
            [{"name": "fleet", "namespace": "flux-config", "kind": "GitRepository", "complianceState": "Compliant",
              "statusConditions": [{"type": "Ready", "status": "True", "reason": "Succeeded"}]},
             {"name": "fleet-apps", "namespace": "flux-config", "kind": "Kustomization",
              "complianceState": "Non-Compliant",
              "statusConditions": [
                {"type": "Healthy", "status": "Unknown", "reason": "Progressing", "message": "waiting"},
                {"type": "Ready", "status": "False", "reason": "BuildFailed",
                 "message": "kustomization path not found: ./apps/prod"}]},
             {"name": "podinfo", "namespace": "apps", "kind": "HelmRelease", "complianceState": "Pending",
              "statusConditions": [{"type": "Ready", "status": "Unknown", "reason": "Progressing"}]}]
            """#
        let assessment = RuntimeHealth.assess(
            configuration: configuration(compliance: #""Non-Compliant""#, statuses: statuses), now: now)
        #expect(assessment.complianceState == "Non-Compliant")
        #expect(
            assessment.failing == [
                FailingObject(
                    kind: "Kustomization", name: "fleet-apps", namespace: "flux-config", reason: "BuildFailed",
                    message: "kustomization path not found: ./apps/prod")
            ])
        #expect(!assessment.healthy)
    }

    @Test("a Ready=False object fails even without a complianceState; a Non-Compliant one without conditions too")
    func readyFalseAlone() {
        let statuses = #"""
            [{"Name": "fleet", "Namespace": "flux-config", "Kind": "GitRepository",
              "StatusConditions": [{"Type": "Ready", "Status": "False", "Reason": "GitOperationFailed",
                                    "Message": "authentication required"}]},
             {"name": "fleet-infra", "namespace": "flux-config", "kind": "Kustomization",
              "complianceState": "Non-Compliant"}]
            """#
        let assessment = RuntimeHealth.assess(configuration: configuration(statuses: statuses), now: now)
        #expect(
            assessment.failing == [
                FailingObject(
                    kind: "GitRepository", name: "fleet", namespace: "flux-config", reason: "GitOperationFailed",
                    message: "authentication required"),
                FailingObject(
                    kind: "Kustomization", name: "fleet-infra", namespace: "flux-config", reason: nil, message: nil),
            ])
    }

    @Test("suspended: reported as such and not healthy")
    func suspended() {
        let assessment = RuntimeHealth.assess(
            configuration: configuration(compliance: #""Suspended""#, suspend: true, statuses: healthyStatuses),
            now: now)
        #expect(assessment.complianceState == "Suspended")
        #expect(assessment.suspended)
        #expect(!assessment.stale)
        #expect(assessment.failing.isEmpty)
        #expect(!assessment.healthy)
    }

    @Test("stale: status older than the threshold; offsets and fractions are honoured")
    func stale() {
        let old = configuration(updatedAt: #""2025-03-01T10:59:59Z""#, statuses: healthyStatuses)
        #expect(RuntimeHealth.assess(configuration: old, now: now).stale)
        #expect(!RuntimeHealth.assess(configuration: old, now: now, staleAfterSeconds: 7200).stale)
        // 13:00+02:00 is 11:00Z: exactly one hour old, which is not yet stale.
        let offset = configuration(updatedAt: #""2025-03-01T13:00:00+02:00""#)
        #expect(!RuntimeHealth.assess(configuration: offset, now: now).stale)
        #expect(RuntimeHealth.assess(configuration: offset, now: "2025-03-01T12:00:01.5Z").stale)
        // A timestamp slightly ahead of `now` (clock skew) is fresh.
        let ahead = configuration(updatedAt: #""2025-03-01T12:00:30.9999999Z""#)
        #expect(!RuntimeHealth.assess(configuration: ahead, now: now).stale)
        let assessment = RuntimeHealth.assess(configuration: old, now: now)
        #expect(assessment.statusUpdatedAt == "2025-03-01T10:59:59Z")
        #expect(!assessment.healthy)
    }

    @Test("missing or unreadable statusUpdatedAt: stale, since nothing proves the status is fresh")
    func missingStatusTime() {
        let missing = observedJSON(#"{"properties": {"complianceState": "Compliant"}}"#)
        let assessment = RuntimeHealth.assess(configuration: missing, now: now)
        #expect(
            assessment
                == RuntimeAssessment(
                    complianceState: "Compliant", stale: true, statusUpdatedAt: nil, suspended: false, failing: []))
        let garbage = configuration(updatedAt: #""yesterday""#)
        #expect(RuntimeHealth.assess(configuration: garbage, now: now).stale)
        let null = configuration(updatedAt: "null")
        #expect(RuntimeHealth.assess(configuration: null, now: now).statusUpdatedAt == nil)
    }

    @Test("a bare properties object and PascalCase names are read too")
    func bareProperties() {
        let bare = observedJSON(
            #"{"ComplianceState": "Pending", "StatusUpdatedAt": "2025-03-01T11:59:00Z", "Suspend": "false"}"#)
        let assessment = RuntimeHealth.assess(configuration: bare, now: now)
        #expect(assessment.complianceState == "Pending")
        #expect(!assessment.stale)
        #expect(!assessment.suspended)
        #expect(!assessment.healthy)
    }
}
