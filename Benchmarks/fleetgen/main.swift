import ArgumentParser
import FleetCore
import FleetGenerator

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The entry point. This file is `main.swift` (top-level code), where `@main` is not allowed, so the
// ArgumentParser command is started explicitly.
FleetGen.main()

/// `fleetgen`: writes deterministic Resource Graph-shaped fleets for tests and benchmarks.
struct FleetGen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleetgen",
        abstract: "Generate a deterministic AKS + Azure Arc fleet with its Flux resources.",
        discussion: """
            Generate a fleet:      fleetgen --clusters 10000 --seed 42 --out /tmp/fleet.json
            Churn it by one day:   fleetgen --churn-from /tmp/fleet.json --churn 2% --seed 43 --out /tmp/day2.json

            The same arguments always give the same bytes. Times are relative to \
            \(FleetGenerator.referenceTime). A churned fleet keeps the layout of its input unless \
            --format is given. One summary line goes to standard error.
            """
    )

    @Option(help: "The number of clusters to generate.")
    var clusters: Int?

    @Option(help: "The seed of every generated value.")
    var seed: UInt64 = 1

    @Option(
        help: ArgumentHelp(
            "The number of subscriptions to spread the clusters over (default: one per 1,000 clusters).",
            discussion: "The default keeps the bytes of every fleet generated before this option existed."))
    var subscriptions: Int?

    @Option(help: "The file to write ('-' for standard output).")
    var out: String

    @Option(help: "The layout: array, ndjson or envelope (default: array, or the input's layout with --churn-from).")
    var format: String?

    @Option(name: .customLong("churn-from"), help: "A previous fleet to churn instead of generating a new one.")
    var churnFrom: String?

    @Option(help: "The churn fraction with --churn-from: a percentage such as 2% or a fraction such as 0.02.")
    var churn: String?

    func validate() throws {
        if let format, FleetFormat(rawValue: format) == nil {
            throw ValidationError("unknown --format '\(format)'; use array, ndjson or envelope")
        }
        if churnFrom != nil {
            if clusters != nil { throw ValidationError("--clusters cannot be combined with --churn-from") }
            if subscriptions != nil {
                throw ValidationError("--subscriptions cannot be combined with --churn-from (the input's are kept)")
            }
            guard let churn else { throw ValidationError("--churn-from needs --churn, such as --churn 2%") }
            _ = try Self.parseFraction(churn)
        } else {
            if churn != nil { throw ValidationError("--churn needs --churn-from FILE") }
            if let subscriptions, subscriptions < 1 || subscriptions > 100_000 {
                throw ValidationError("--subscriptions must be between 1 and 100000 (got \(subscriptions))")
            }
            guard let clusters else { throw ValidationError("give --clusters N, or --churn-from FILE --churn P") }
            guard clusters >= 1 else { throw ValidationError("--clusters must be at least 1 (got \(clusters))") }
            guard clusters <= 10_000_000 else {
                throw ValidationError("--clusters must be at most 10000000 (got \(clusters))")
            }
        }
        if out.isEmpty { throw ValidationError("--out must name a file, or '-' for standard output") }
    }

    /// Parses `2%` or `0.02` into a fraction between 0 and 1.
    static func parseFraction(_ text: String) throws -> Double {
        var body = Substring(text)
        var scale = 1.0
        if body.hasSuffix("%") {
            body = body.dropLast()
            scale = 100
        }
        guard let value = Double(body), value.isFinite, value >= 0, value / scale <= 1 else {
            throw ValidationError(
                "--churn must be a percentage (2%) or a fraction (0.02) between 0 and 1, not '\(text)'")
        }
        return value / scale
    }

    func run() throws {
        var sink: OutputFile?
        do {
            let summary = try generate(into: &sink)
            Self.standardError("fleetgen: \(summary)\(out == "-" ? "" : " -> \(out)")\n")
        } catch let error as FileReadError {
            try fail(error.description, sink)
        } catch let error as JSONError {
            try fail(error.description, sink)
        } catch let error as OutputError {
            try fail(error.description, sink)
        } catch let error as InputError {
            try fail(error.description, sink)
        }
    }

    /// Writes the fleet and returns the summary line.
    private func generate(into sink: inout OutputFile?) throws -> String {
        let clock = ContinuousClock()
        let start = clock.now
        let requested = format.flatMap(FleetFormat.init(rawValue:))
        guard let churnFrom else {
            let generator = FleetGenerator(clusters: clusters ?? 0, seed: seed, subscriptions: subscriptions)
            let output = try OutputFile(path: out)
            sink = output
            try generator.write(format: requested ?? .array) { try output.write($0) }
            try output.finish()
            let elapsed = clock.now - start
            return "\(generator.clusters) clusters, \(generator.recordCount) records, \(output.bytes) bytes "
                + "(\(Self.mebibytes(output.bytes))) in \(Self.seconds(elapsed)) s"
        }
        let previous = try JSONRecords.read(JSONBytes(contentsOfFile: churnFrom))
        let read = clock.now
        let fleetChurn = FleetChurn(previous: previous, fraction: try Self.parseFraction(churn ?? "0"), seed: seed)
        guard fleetChurn.summary.clusters > 0 else {
            throw InputError(
                description: "'\(churnFrom)' has no cluster rows (microsoft.containerservice/managedclusters or "
                    + "microsoft.kubernetes/connectedclusters) to churn")
        }
        let output = try OutputFile(path: out)
        sink = output
        try fleetChurn.write(format: requested ?? fleetChurn.inputFormat) { try output.write($0) }
        try output.finish()
        let s = fleetChurn.summary
        return "\(s.clusters) -> \(s.nextClusters) clusters (removed \(s.removed), added \(s.added), "
            + "changed \(s.changed)), \(s.records) records, \(output.bytes) bytes (\(Self.mebibytes(output.bytes))) "
            + "in \(Self.seconds(clock.now - read)) s after reading the input in \(Self.seconds(read - start)) s"
    }

    private func fail(_ message: String, _ sink: OutputFile?) throws {
        sink?.abandon()
        Self.standardError("fleetgen: error: \(message)\n")
        throw ExitCode.failure
    }

    static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            _ = write(2, bytes.baseAddress, bytes.count)
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let (whole, atto) = duration.components
        let millis = Int(whole) * 1000 + Int(atto / 1_000_000_000_000_000)
        let tail = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - tail.count))\(tail)"
    }

    static func mebibytes(_ bytes: Int) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}

/// A file (or standard output) written in chunks; a file is written under a temporary name and
/// renamed into place when complete, so a failed run leaves no partial output behind.
final class OutputFile {
    let path: String
    private let temporary: String?
    private var fd: Int32
    private(set) var bytes = 0

    init(path: String) throws {
        self.path = path
        if path == "-" {
            temporary = nil
            fd = 1
            return
        }
        let temporary = "\(path).fleetgen-\(getpid())"
        self.temporary = temporary
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw OutputError(path: path, code: errno) }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < chunk.count {
            let n = Glibc.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw OutputError(path: path, code: errno)
            }
            offset += n
        }
        bytes += chunk.count
    }

    func finish() throws {
        guard let temporary else { return }
        if close(fd) != 0 { throw OutputError(path: path, code: errno) }
        fd = -1
        if rename(temporary, path) != 0 { throw OutputError(path: path, code: errno) }
    }

    func abandon() {
        guard let temporary else { return }
        if fd >= 0 { close(fd) }
        fd = -1
        unlink(temporary)
    }
}

/// The input cannot be churned.
struct InputError: Error, CustomStringConvertible {
    let description: String
}

/// The output could not be written.
struct OutputError: Error, CustomStringConvertible {
    let path: String
    let code: Int32

    var description: String { "cannot write '\(path)': \(String(cString: strerror(code)))" }
}
