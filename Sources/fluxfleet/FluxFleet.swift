import ArgumentParser
import FleetCore

/// The `fluxfleet` command: keeps a fleet of AKS and Azure Arc clusters on one Flux GitOps baseline.
@main
struct FluxFleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxfleet",
        abstract: "Keep a fleet of AKS and Azure Arc clusters on one Flux v2 GitOps baseline.",
        discussion: """
            FluxFleet reads a cluster inventory (a saved snapshot: ARM resource arrays, Resource Graph \
            responses or NDJSON), evaluates Azure Policy definitions over every cluster (scan), records \
            compliance over time in SQLite (history, report, db), and plans the creation or repair of \
            the microsoft.flux extension and identical fluxConfigurations (plan, a dry run; applying \
            plans comes in a later version).

            A typical day: `fluxfleet scan --inventory SNAPSHOT` (records the run), then \
            `fluxfleet report --format html --out compliance.html` and `fluxfleet plan --inventory \
            SNAPSHOT --out plan.json`.

            EXIT CODES
              0   success
              1   runtime failure
              2   changes present / non-compliance found (only when asked for)
              64  usage error (unknown flag, missing or unreadable path)
              65  invalid input data (malformed JSON, unusable records)
              69  Azure unreachable or unauthorised
              73  database locked by another run
              75  work left undone but resumable
            """,
        version: FleetCoreVersion.string,
        subcommands: [
            InventoryCommand.self, ScanCommand.self, PlanCommand.self, ApplyCommand.self, ResumeCommand.self,
            RunCommand.self, ReportCommand.self, HistoryCommand.self, PolicyCommand.self, DBCommand.self,
        ]
    )
}
