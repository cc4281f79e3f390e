// fluxfleet-bench: times each pipeline stage on generated fleets and prints one JSON line per case.
//
//   swift run -c release fluxfleet-bench                       # 10,000 and 100,000 clusters
//   swift run -c release fluxfleet-bench --clusters 10000 --repeat 5
//   swift run -c release fluxfleet-bench --stage load --inventory FILE   # one case, this process
//   swift run -c release fluxfleet-bench --stage remediate              # 2,000 clusters over 10 subscriptions
//                                                                        # remediated on the in-process emulator
//
// Every case runs in a fresh child process, so its peak RSS (getrusage ru_maxrss) is the
// stage's own and not the generator's. Fleets are generated once per (clusters, seed) into the
// work directory and reused.

import FleetCore
import FleetGenerator
import Foundation
import PolicyEngine

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The stages a child process can measure.
enum Stage: String, CaseIterable {
    /// Read the file and parse every record on one core.
    case parse1 = "parse-1core"
    /// Read the file and parse every record on all cores.
    case parse
    /// Parse plus Fleet assembly: the inventory load.
    case load
    /// Eligibility of every cluster, after a load.
    case eligibility
    /// The inventory JSON document, after a load.
    case inventoryJSON = "inventory-json"
    /// Evaluation of the gitops-baseline initiative (desired resources and strict view included), after a load.
    case scan
    /// Recording one scan into an empty store, then the unchanged re-scan (StoreStages.swift).
    case record
    /// 365 daily scans with 2% churn recorded, then the report data over the year (StoreStages.swift).
    case year
    /// The report data over the year again, from the database the `year` stage left (StoreStages.swift).
    case reportData = "report-data"
    /// Every report format over a year of synthesised history, after a scan (ReportsStage.swift); one line
    /// per format.
    case reports
    /// Remediation of a generated fleet over several subscriptions with the in-process emulator on a virtual
    /// clock, ARM's throttling on (RemediateStage.swift); not in the default run. Generates its own fleet:
    /// `--clusters 2000 --subscriptions 10` by default.
    case remediate
}

struct Options {
    var clusters = [10_000, 100_000]
    var seed: UInt64 = 1
    var workdir = "/tmp/fluxfleet-bench"
    var repeats = 3
    var stage: Stage?
    var inventory: String?
    var stages = Stage.allCases.filter { $0 != .remediate }
    var policies = "policies"
    var subscriptions = 10
    var maxParallel = 2_000
    var clustersGiven = false
    var keepFlux = false
    var provisioningDelay: Int64? = 5_000
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("fluxfleet-bench: \(message)\n".utf8))
    exit(64)
}

func parseOptions() -> Options {
    var options = Options()
    var args = CommandLine.arguments.dropFirst()
    func value(_ flag: String) -> String {
        guard let v = args.popFirst() else { fail("\(flag) needs a value") }
        return v
    }
    while let arg = args.popFirst() {
        switch arg {
        case "--clusters":
            options.clustersGiven = true
            options.clusters = value(arg).split(separator: ",").map {
                guard let n = Int($0.replacing("_", with: "")), n > 0 else {
                    fail("--clusters takes numbers like 10000,100000")
                }
                return n
            }
        case "--seed":
            guard let s = UInt64(value(arg)) else { fail("--seed takes a whole number") }
            options.seed = s
        case "--workdir": options.workdir = value(arg)
        case "--repeat":
            guard let r = Int(value(arg)), r > 0 else { fail("--repeat takes a positive number") }
            options.repeats = r
        case "--stage":
            let name = value(arg)
            guard let s = Stage(rawValue: name) else {
                fail("unknown stage \(name); stages: \(Stage.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.stage = s
        case "--stages":
            options.stages = value(arg).split(separator: ",").map {
                guard let s = Stage(rawValue: String($0)) else { fail("unknown stage \($0)") }
                return s
            }
        case "--inventory": options.inventory = value(arg)
        case "--subscriptions":
            guard let n = Int(value(arg)), n > 0 else { fail("--subscriptions takes a positive number") }
            options.subscriptions = n
        case "--keep-flux": options.keepFlux = true
        case "--provisioning-seconds":
            let text = value(arg)
            if text == "default" {
                options.provisioningDelay = nil
            } else {
                guard let n = Double(text), n >= 0 else { fail("--provisioning-seconds takes seconds or 'default'") }
                options.provisioningDelay = Int64(n * 1000)
            }
        case "--max-parallel":
            guard let n = Int(value(arg)), n > 0 else { fail("--max-parallel takes a positive number") }
            options.maxParallel = n
        case "--policies": options.policies = value(arg)
        case "-h", "--help":
            print(
                """
                usage: fluxfleet-bench [--clusters 10000,100000] [--seed 1] [--repeat 3] [--workdir DIR] [--stages a,b]
                       fluxfleet-bench --stage STAGE --inventory FILE
                       fluxfleet-bench --stage remediate [--clusters 2000] [--subscriptions 10] [--max-parallel 2000]
                                       [--keep-flux] [--provisioning-seconds 5|default]
                stages: \(Stage.allCases.map(\.rawValue).joined(separator: ", "))
                """)
            exit(0)
        default: fail("unknown argument \(arg) (try --help)")
        }
    }
    return options
}

func peakRSSBytes() -> Int {
    let usage = resourceUsage()
    #if canImport(Darwin)
        return Int(usage.ru_maxrss)
    #else
        return Int(usage.ru_maxrss) * 1024
    #endif
}

/// This process's resource usage so far (all threads).
func resourceUsage() -> rusage {
    var usage = rusage()
    #if canImport(Glibc)
        getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage
}

/// User + system CPU time of this process so far (all threads): steadier than wall time on a busy machine.
func cpuSeconds() -> Double {
    let usage = resourceUsage()
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// System CPU time of this process so far (all threads): page faults and memory the kernel hands out.
func systemCPUSeconds() -> Double {
    let usage = resourceUsage()
    return Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func emit(_ fields: [(String, JSON)]) {
    var w = JSONWriter()
    w.beginObject()
    for (k, v) in fields {
        w.key(k)
        w.value(v)
    }
    w.endObject()
    // Unbuffered, so lines from child processes and from this one come out in order.
    FileHandle.standardOutput.write(Data((w.text + "\n").utf8))
}

func rounded(_ x: Double, _ places: Int = 3) -> JSON {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return .number(.double((x * scale).rounded() / scale))
}

/// The policies of `directory`, with the first assignment re-scoped to the whole tenant and the
/// others dropped, so a generated fleet (random subscriptions) is entirely in scope.
func benchmarkPolicies(_ directory: String) -> PolicyBundle {
    let loaded = PolicyLoader.load(directory: directory)
    guard !loaded.hasErrors, var assignment = loaded.bundle.assignments.first else {
        fail("policies in \(directory) do not load: \(loaded.diagnostics.prefix(3))")
    }
    assignment.scope = "/"
    assignment.notScopes = []
    var bundle = loaded.bundle
    bundle.assignments = [assignment]
    bundle.exemptions = []
    return bundle
}

/// Runs one stage in this process and prints its JSON line.
func runStage(_ stage: Stage, inventory path: String, policies: String) {
    if stage == .reports {
        // FLUXFLEET_BENCH_REPORTS_OUT=DIR also writes every rendering there, to look at.
        let out = ProcessInfo.processInfo.environment["FLUXFLEET_BENCH_REPORTS_OUT"]
        runReportsStage(inventory: path, policies: policies, repeats: 1, writeTo: out)
        return
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    var fields: [(String, JSON)] = [("case", .string(stage.rawValue)), ("file", .string(path)), ("bytes", .int(size))]
    do {
        switch stage {
        case .parse1, .parse:
            let cores = stage == .parse1 ? 1 : JSONRecords.availableCores
            var records = 0
            var readTime = 0.0
            let total = try seconds {
                var bytes: JSONBytes?
                readTime = try seconds { bytes = try JSONBytes(contentsOfFile: path) }
                records = try JSONRecords.read(bytes!, parallelism: cores).records.count
            }
            let parseTime = total - readTime
            fields += [
                ("cores", .int(cores)), ("records", .int(records)), ("readSeconds", rounded(readTime)),
                ("parseSeconds", rounded(parseTime)), ("seconds", rounded(total)),
                ("parseMBps", rounded(Double(size) / 1e6 / parseTime, 1)),
            ]
        case .load:
            var inventory: Inventory?
            let t = try seconds { inventory = try SnapshotReader.load(path: path) }
            let clusters = inventory!.fleet.clusters.count
            fields += [
                ("clusters", .int(clusters)), ("seconds", rounded(t)),
                ("MBps", rounded(Double(size) / 1e6 / t, 1)),
            ]
        case .eligibility:
            let inventory = try SnapshotReader.load(path: path)
            var eligible = 0
            let t = seconds {
                for cluster in inventory.fleet.clusters where Eligibility.evaluate(cluster).eligible { eligible += 1 }
            }
            fields += [
                ("clusters", .int(inventory.fleet.clusters.count)), ("eligible", .int(eligible)),
                ("seconds", rounded(t)),
            ]
        case .scan:
            // As `fluxfleet scan` loads it: the records' pages stay mapped for the scan.
            let inventory = try SnapshotReader.load(path: path, keepsInput: true)
            let bundle = benchmarkPolicies(policies)
            var scan: ScanResult?
            let cpuBefore = cpuSeconds()
            let systemBefore = systemCPUSeconds()
            let t = seconds {
                scan = PolicyEvaluator.scan(
                    fleet: inventory.fleet, bundle: bundle, options: ScanOptions(now: FleetGenerator.referenceTime))
            }
            let cpu = cpuSeconds() - cpuBefore
            let system = systemCPUSeconds() - systemBefore
            var summary: ScanResult.Summary?
            let summaryTime = seconds { summary = scan!.summary }
            fields += [
                ("clusters", .int(inventory.fleet.clusters.count)), ("results", .int(scan!.results.count)),
                ("desiredResources", .int(scan!.results.reduce(0) { $0 + $1.desiredResources.count })),
                ("strictEntries", .int(scan!.strict.count)),
                ("compliancePercent", rounded(summary!.compliancePercent, 1)),
                ("seconds", rounded(t)), ("cpuSeconds", rounded(cpu)), ("systemSeconds", rounded(system)),
                ("summarySeconds", rounded(summaryTime)),
            ]
        case .record: fields += try recordStage(inventory: path, policies: policies)
        case .year: fields += try yearStage(inventory: path, policies: policies)
        case .reportData: fields += try reportStage(inventory: path)
        case .reports, .remediate: break  // handled above
        case .inventoryJSON:
            let inventory = try SnapshotReader.load(path: path)
            var length = 0
            let t = seconds { length = InventoryReport(inventory: inventory).jsonBytes().count }
            fields += [
                ("clusters", .int(inventory.fleet.clusters.count)), ("outputBytes", .int(length)),
                ("seconds", rounded(t)),
            ]
        }
    } catch {
        fail("\(stage.rawValue) on \(path): \(error)")
    }
    let rss = peakRSSBytes()
    fields += [("peakRSSBytes", .int(rss)), ("peakRSSOverFile", rounded(Double(rss) / Double(max(size, 1)), 2))]
    emit(fields)
}

/// Generates (once) the fleet file for `clusters`.
func fleetFile(clusters: Int, options: Options) -> String {
    try? FileManager.default.createDirectory(atPath: options.workdir, withIntermediateDirectories: true)
    let path = "\(options.workdir)/fleet-\(clusters)-seed\(options.seed).json"
    if FileManager.default.fileExists(atPath: path) { return path }
    let partial = path + ".partial"
    guard FileManager.default.createFile(atPath: partial, contents: nil),
        let handle = FileHandle(forWritingAtPath: partial)
    else { fail("cannot write \(partial)") }
    let t = seconds {
        FleetGenerator(clusters: clusters, seed: options.seed).write(format: .array) { chunk in
            handle.write(Data(chunk))
        }
    }
    try? handle.close()
    do {
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    } catch {
        fail("cannot move \(partial) to \(path): \(error)")
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    emit([
        ("case", .string("generate")), ("clusters", .int(clusters)), ("bytes", .int(size)),
        ("bytesPerCluster", .int(size / clusters)), ("seconds", rounded(t)),
    ])
    return path
}

let options = parseOptions()
if options.stage == .remediate {
    var remediate = RemediateOptions()
    if options.clustersGiven, let clusters = options.clusters.first { remediate.clusters = clusters }
    remediate.subscriptions = options.subscriptions
    remediate.seed = options.seed
    remediate.maxParallel = options.maxParallel
    remediate.keepFlux = options.keepFlux
    remediate.provisioningDelay = options.provisioningDelay
    remediate.policies = options.policies
    emit(remediateStage(remediate))
    exit(0)
}
if let stage = options.stage {
    guard let inventory = options.inventory else { fail("--stage needs --inventory FILE") }
    runStage(stage, inventory: inventory, policies: options.policies)
    exit(0)
}
let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
for clusters in options.clusters {
    let path = options.inventory ?? fleetFile(clusters: clusters, options: options)
    for stage in options.stages {
        for _ in 0..<options.repeats {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: me)
            child.arguments = ["--stage", stage.rawValue, "--inventory", path, "--policies", options.policies]
            do {
                try child.run()
            } catch {
                fail("cannot start \(me): \(error)")
            }
            child.waitUntilExit()
            if child.terminationStatus != 0 { fail("stage \(stage.rawValue) exited \(child.terminationStatus)") }
        }
    }
}
