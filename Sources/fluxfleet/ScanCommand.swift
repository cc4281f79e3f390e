import ArgumentParser
import AzureARM
import ComplianceStore
import FleetCore
import Foundation
import PolicyEngine
import Remediator

/// The output formats of `fluxfleet scan`.
enum ScanOutput: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// Inventory and policies options shared by scan, plan, apply, run and explain.
struct PolicyInputs: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The snapshot: a file or a directory of files.", valueName: "path"))
    var inventory: String?

    @OptionGroup(title: "Azure (without --inventory the fleet is read from Resource Graph)")
    var azure: AzureConnectionOptions

    @OptionGroup var scope: FleetScopeOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The Azure Policy documents (definitions/, initiatives/, assignments/, exemptions/).", valueName: "dir"))
    var policies: String = "policies"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The rollout file: waves, change windows, the never-touch tag (default: rollout.json in --policies when present; `none` for none).",
            valueName: "path"))
    var rollout: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The evaluation time, ISO 8601 UTC (default: now). Exemption expiry, utcNow() and staleness use it.",
            valueName: "time"))
    var now: String?

    /// The evaluation time as ISO 8601 UTC.
    func evaluationTime() throws -> String {
        if let now {
            guard ISO8601DateFormatter().date(from: now) != nil else {
                throw ValidationError("--now '\(now)' is not an ISO 8601 time like 2026-11-21T18:00:00Z")
            }
            return now
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }

    func validate() throws {
        if inventory != nil && scope.isGiven {
            throw ValidationError(
                "--subscription, --management-group and --resource-group filter a Resource Graph read: drop them or --inventory"
            )
        }
    }

    /// Whether the fleet is read from Resource Graph: no --inventory, and an endpoint or a scope given.
    var isLive: Bool { inventory == nil && (azure.armEndpoint != nil || scope.isGiven) }

    /// What the inventory is read from, as recorded: the snapshot path, or the Resource Graph endpoint and scope.
    var inventoryLabel: String {
        if let inventory { return inventory }
        return "resource-graph:\(azure.endpoint)" + scope.label
    }

    /// The rollout file (`--rollout`, else `rollout.json` in the policies directory when present), or nil; exits
    /// 65 listing every problem of an invalid one.
    func loadRollout(defaults: WaveDefaults = WaveDefaults()) throws -> Rollout? {
        let path: String
        if let rollout {
            if rollout == "none" { return nil }
            path = rollout
        } else {
            path = (policies as NSString).appendingPathComponent("rollout.json")
            guard FileManager.default.fileExists(atPath: path) else { return nil }
        }
        do {
            return try Rollout.load(path: path, defaults: defaults)
        } catch {
            for problem in error.problems { Console.error(problem.description) }
            throw ExitStatus.dataError.code
        }
    }

    /// Reads the inventory: the snapshot, else the endpoint's Resource Graph; exits with the documented code.
    ///
    /// The digest of a Resource Graph read covers its rows, as a snapshot's covers its files; it is "" when
    /// `withDigest` is false (a command that records nothing and writes no plan has no use for it).
    func loadInventory(withDigest: Bool = true) throws -> (Inventory, digest: String) {
        if let inventory {
            do {
                // The scan reads the records again: their pages stay mapped.
                let loaded = try SnapshotReader.load(path: inventory, keepsInput: true, digests: withDigest)
                return (loaded, withDigest ? ScanCommand.digest(of: loaded) : "")
            } catch {
                throw report(error)
            }
        }
        guard isLive else {
            Console.error(
                "give the fleet: --inventory PATH (a snapshot), or --subscription ID / --management-group ID "
                    + "(Azure's Resource Graph), or --arm-endpoint URL (an emulator's)")
            throw ExitStatus.usage.code
        }
        let live = try Self.readResourceGraph(try AzureConnection.open(azure), scope: scope.scope)
        guard withDigest else { return (live.inventory, "") }
        var digest = ContentDigest()
        for row in live.clusterRows + live.childRows {
            var writer = JSONWriter()
            writer.raw(row.root)
            digest.add(writer.bytes)
            digest.add(CollectionOfOne(0x0A))
        }
        return (live.inventory, digest.hex)
    }

    /// Reads the fleet from the connection's Resource Graph (one line about it on stderr), or exits with the
    /// documented code (69 unreachable or unauthorised, 65 a bad response, 64 a bad endpoint or scope).
    ///
    /// A subscription asked for by --subscription that returns no cluster gets a warning: Resource Graph answers
    /// nothing, not an error, for a subscription the identity cannot read.
    static func readResourceGraph(_ connection: AzureConnection, scope: ResourceGraphScope) throws
        -> ResourceGraphInventory
    {
        do {
            let transport = try connection.transport()
            var options = ResourceGraphOptions()
            options.endpoint = connection.endpoint
            let live = try ResourceGraphInventory.read(
                transport: transport, clock: AzureARM.SystemClock(), scope: scope, options: options)
            Console.stderr(
                "read \(live.fleet.clusters.count) cluster(s) from \(connection.endpoint)'s Resource Graph "
                    + "(\(live.statistics.pages) page(s), \(live.statistics.requests) request(s))")
            let seen = Set(live.fleet.clusters.map { ASCII.lowercased($0.subscriptionId) })
            for subscription in scope.subscriptions where !seen.contains(ASCII.lowercased(subscription)) {
                Console.warning(
                    "subscription \(subscription) returned no cluster: check the id, and that the identity has Reader "
                        + "on it (Resource Graph leaves out what it may not read)")
            }
            return live
        } catch let error as AzureARMError {
            Console.error(error.description)
            throw ExitCode(error.category.exitCode)
        }
    }

    /// Loads the inventory and the policies, or exits with the documented code; the digest is "" when
    /// `withDigest` is false.
    func load(withDigest: Bool = true) throws -> (Inventory, PolicyBundle, digest: String) {
        let (inventory, digest) = try loadInventory(withDigest: withDigest)
        guard FileManager.default.fileExists(atPath: policies) else {
            Console.error(
                "cannot read policies directory '\(policies)': No such file or directory — pass --policies DIR (the layout: definitions/, initiatives/, assignments/, exemptions/)"
            )
            throw ExitStatus.usage.code
        }
        let loaded = PolicyLoader.load(directory: policies, aliasValidator: AliasCatalog.isKnown)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        for diagnostic in loaded.diagnostics { Console.stderr("\(diagnostic)") }
        if !errors.isEmpty {
            Console.error(
                "\(errors.count) problem(s) in '\(policies)'; run `fluxfleet policy validate \(policies)` for the list")
            throw ExitStatus.dataError.code
        }
        KeptUntilExit.keep(inventory)
        return (inventory, loaded.bundle, digest)
    }
}

/// `fluxfleet scan`: evaluate the assignments over every cluster.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Evaluate Azure Policy assignments over every cluster: Azure's view and FluxFleet's strict view.",
        discussion: """
            Loads the policy documents (Azure's own JSON: definitions, initiatives, assignments, \
            exemptions) and evaluates every assignment over every cluster in scope, as Azure Policy \
            would: one result per evaluated resource × assignment × policy, Compliant, NonCompliant, \
            Exempt, Unknown or Error, with every failing condition (expression, path, actual, target, \
            operator). Beside it, the strict view compares each DeployIfNotExists desired resource \
            field by field with the observed one and reads Flux's own runtime state.

            Every scan is recorded in the compliance history (--db, default ./fluxfleet.sqlite or \
            $FLUXFLEET_DB; --no-record to write nothing): one run row, plus only what changed since \
            the previous scan — state intervals opened and closed, clusters added, updated or \
            removed — in one transaction. Reasons are stored with credentials masked, as in the \
            JSON output. `fluxfleet history CLUSTER` shows a cluster's timeline; `fluxfleet db` \
            checks, prunes and migrates the file.

            Exit code 0 whatever is found, unless --fail-on-noncompliant (then 2 when anything is \
            NonCompliant or Error); 65 when the policy documents are invalid; 73 when another run \
            holds the database's writer lease (the message names it).

            Examples:
              fluxfleet scan --inventory fleet-examples/demo
              fluxfleet scan --inventory snapshot/ --db history.sqlite --output json
              fluxfleet scan --inventory snapshot/ --no-record --fail-on-noncompliant
            """
    )

    @OptionGroup var inputs: PolicyInputs

    @Option(name: .long, help: "Output format: table or json.")
    var output: ScanOutput = .table

    @Flag(name: .long, help: "Exit 2 when any result is NonCompliant or Error.")
    var failOnNoncompliant = false

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Do not record the scan in the compliance history (nothing is written).")
    var noRecord = false

    func run() throws {
        let startedAt = StoreTime.iso(Int64(time(nil)))
        let now = try inputs.evaluationTime()
        let (inventory, bundle, digest) = try inputs.load(withDigest: !noRecord)
        // Take the writer lease before the evaluation, so a concurrent run fails at once (exit 73).
        let history = noRecord ? nil : try store.openForWriting(holder: "fluxfleet scan")
        let scan = PolicyEvaluator.scan(fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: now))
        KeptUntilExit.keep(scan)
        let run = ScanRun(
            inventory: inputs.inventoryLabel, policies: inputs.policies, policiesDigest: bundle.digest,
            evaluatedAt: now,
            clusters: inventory.fleet.clusters.count)
        if let history {
            do {
                let outcome = try history.record(
                    scan: scan, fleet: inventory.fleet, run: run, startedAt: startedAt,
                    finishedAt: StoreTime.iso(Int64(time(nil))), inventoryDigest: digest,
                    assignmentNames: Self.assignmentNames(bundle))
                Console.stderr(
                    "recorded run \(outcome.runID) in \(store.path): \(outcome.rowsAdded) row(s) added "
                        + "(\(outcome.intervalsOpened + outcome.strictOpened) interval(s) opened, "
                        + "\(outcome.intervalsClosed + outcome.strictClosed) closed; clusters: \(outcome.clustersAdded) new, "
                        + "\(outcome.clustersUpdated) changed, \(outcome.clustersRemoved) removed)")
            } catch {
                throw report(error)
            }
            history.close()
        }
        let rendered = ScanReport(scan: scan, run: run, fleet: inventory.fleet)
        switch output {
        case .table: Console.out(rendered.table())
        case .json: rendered.writeJSON { Console.out($0) }
        }
        // Every result counts here, not each resource's worst state: an Error under one assignment
        // must fail the run even if another assignment finds the resource Compliant.
        if failOnNoncompliant && scan.results.contains(where: { $0.state == .nonCompliant || $0.state == .error }) {
            throw ExitStatus.changes.code
        }
    }
}

extension ScanCommand {
    /// A digest of the inventory files' paths and bytes, in the order read; empty when a file has none.
    ///
    /// Each file's ``SnapshotFile/contentDigest`` (``BlockDigest``, made by the loader from the bytes it parsed:
    /// load with `digests: true`) is folded with its path.
    static func digest(of inventory: Inventory) -> String {
        var digest = ContentDigest()
        for file in inventory.files {
            guard let content = file.contentDigest else { return "" }
            digest.add(file.path.utf8)
            digest.add(CollectionOfOne(0))
            withUnsafeBytes(of: content.littleEndian) { digest.add($0) }
        }
        return digest.hex
    }

    /// Assignment display names (or names) by lowercased id, for reports.
    static func assignmentNames(_ bundle: PolicyBundle) -> [String: String] {
        var names: [String: String] = [:]
        for assignment in bundle.assignments {
            names[ASCII.lowercased(assignment.id)] = assignment.displayName ?? assignment.name
        }
        return names
    }
}
