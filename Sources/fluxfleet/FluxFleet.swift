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
            responses or NDJSON; or an ARM endpoint's Resource Graph), evaluates Azure Policy \
            definitions over every cluster (scan), records compliance over time in SQLite (history, \
            report, db), plans the creation or repair of the microsoft.flux extension and identical \
            fluxConfigurations (plan, a dry run), and applies plans in waves within ARM's throttling \
            budget, journalled so that an interrupted run resumes (apply, resume, run).

            A typical day is one command, `fluxfleet run --management-group ID --yes` (live Azure, \
            signed in as --auth says: scan → plan → apply → verify → reports), or on a laptop `fluxfleet run --inventory \
            SNAPSHOT --simulate` (the same against the ARM emulator in-process, on a virtual clock). \
            Step by step: `fluxfleet scan`, `fluxfleet plan --out plan.json`, `fluxfleet apply \
            plan.json`, `fluxfleet report --format html --out compliance.html`.

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
