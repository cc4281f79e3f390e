import ArgumentParser
import ComplianceStore
import FleetCore
import Foundation
import Reports

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension ReportFormat: ExpressibleByArgument {}

/// `fluxfleet report`: renders the recorded compliance history in any format.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a compliance report from the recorded history, in any of nine formats.",
        discussion: """
            Reads the compliance history that `fluxfleet scan` records (see --db) and renders one run \
            (the latest unless --run is given) with the history before it: overall compliance the way \
            Azure computes it ((Compliant + Exempt + Unknown) ÷ distinct evaluated resources, each at \
            its worst state), per assignment, per policy, per subscription, resource group, location \
            and cluster kind; the top non-compliance reasons and the worst clusters; FluxFleet's strict \
            view (spec drift, Flux runtime health) beside it; and, from the runs inside --since, the \
            trend, time to compliance and clusters that flap.

            FORMATS
              table         a terminal summary (colour on a terminal unless NO_COLOR is set)
              json          the versioned document (formatVersion 1): the summary and every row
              csv           one row per result (RFC 4180; cells that look like formulas are defused)
              markdown      for pull-request comments
              html          one self-contained page: donut, trend, per-policy bars, a sortable and
                            filterable cluster table with every cluster's reasons and drift
              policyreport  a wgpolicyk8s.io/v1alpha2 ClusterPolicyReport (JSON, which is also YAML)
              junit         JUnit XML: a suite per assignment × policy, a case per evaluated resource
              sarif         SARIF 2.1.0: a rule per policy, a result per non-compliance
              prometheus    text exposition for node_exporter's textfile collector

            --out writes the report to a file (replaced atomically: a reader never sees half a \
            report); without it the report goes to standard output.

            Exit codes: 0 written; 64 no database at --db, no such run, an unreadable --since, or an \
            unwritable --out; 65 a database from a newer fluxfleet.

            Examples:
              fluxfleet report
              fluxfleet report --format html --out compliance.html --since 90d
              fluxfleet report --format prometheus --out /var/lib/node_exporter/fluxfleet.prom
              fluxfleet report --format junit --run 12 --out fluxfleet-junit.xml
            """
    )

    @OptionGroup var store: StoreOptions

    @Option(name: .long, help: "The format: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
    var format: ReportFormat = .table

    @Option(name: .long, help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var out: String?

    @Option(name: .customLong("run"), help: ArgumentHelp("The run to report (default: the latest).", valueName: "id"))
    var runID: Int64?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How much history: a duration (30d, 12h, 26w), an ISO 8601 date or time, or all.", valueName: "window"))
    var since: String = "30d"

    func validate() throws {
        guard ReportWindow(parsing: since) != nil else {
            throw ValidationError(
                "--since '\(since)' is not a window: use a duration like 30d, 12h or 26w, a date like 2026-11-01, or all"
            )
        }
    }

    func run() throws {
        let window = ReportWindow(parsing: since)!
        let opened = try store.openForReading()
        let data: ReportData
        do {
            data = try opened.reportData(run: runID, since: window)
        } catch {
            throw report(error)
        }
        let color = format == .table && out == nil && isatty(1) == 1 && getenv("NO_COLOR") == nil
        let bytes = ReportRenderer.render(data, format: format, options: ReportOptions(color: color))
        guard let out else {
            Console.out(bytes)
            return
        }
        try writeAtomically(bytes, to: out, what: "the report", flag: "--out")
        Console.stderr(
            "wrote the \(format.rawValue) report of run \(data.run.id.map(String.init) ?? "-") to \(out) (\(bytes.count) bytes)"
        )
    }
}
