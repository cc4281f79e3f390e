import FleetCore
import Foundation
import Planner
import Remediator

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Shows a remediation's progress on standard error: on a terminal a bar redrawn in place (done/total, rate,
/// time waiting on throttling, ETA); otherwise log lines — each wave, each failure, and a progress line at every
/// tenth of the work and at least every 30 s of the run's clock.
///
/// Times are on the run's clock: virtual under `--simulate`, so rate and ETA forecast a real run.
final class ProgressReporter {
    let terminal: Bool
    private var lastLine: Int64?
    private var lastTenth = 0
    private var drawn = false

    init(terminal: Bool = isatty(2) == 1) {
        self.terminal = terminal
    }

    /// Takes one event of the Remediator.
    func handle(_ event: RemediationEvent, _ progress: RemediationProgress) {
        switch event {
        case .waveStarted(let name, let clusters):
            line("wave \(name): \(clusters) cluster(s)")
        case .waveFinished(let result):
            line(
                "wave \(result.name): \(result.succeeded) succeeded, \(result.failed) failed "
                    + "(budget \(result.allowedFailures))" + (result.withinBudget ? "" : " — over budget, halting"))
        case .soaking(let wave, let until):
            line("soaking after wave \(wave) until \(ChangeWindow.iso8601(until))")
        case .stopping(let draining):
            line("stopping: \(draining) cluster(s) finish what they have in flight; nothing new starts")
        case .clusterFinished(let outcome):
            if outcome.status == .failed, let failure = outcome.failure {
                line(
                    "failed: \(outcome.name) [\(failure.code)] \(failure.message)"
                        + (outcome.requestId.map { " (request id \($0))" } ?? ""))
            }
            tick(progress)
        case .clusterStarted, .throttled:
            if terminal { draw(progress) }
        }
    }

    /// Ends the bar (a final newline on a terminal).
    func finish() {
        if terminal && drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
    }

    /// `120/400 clusters (2 failed) · 31.5/min · 12 s throttled · ETA 3m10s`.
    static func status(_ progress: RemediationProgress) -> String {
        var parts = [
            "\(progress.finished)/\(progress.total) clusters"
                + (progress.failed > 0 ? " (\(progress.failed) failed)" : "")
        ]
        parts.append(String(format: "%.1f/min", progress.clustersPerMinute))
        parts.append("\(progress.statistics.throttleWait / 1000) s throttled")
        if let left = progress.estimatedRemaining, progress.finished < progress.total {
            parts.append("ETA \(duration(left / 1000))")
        }
        return parts.joined(separator: " · ")
    }

    private func tick(_ progress: RemediationProgress) {
        guard progress.total > 0 else { return }
        if terminal {
            draw(progress)
            return
        }
        let tenth = 10 * progress.finished / progress.total
        let quiet = lastLine.map { progress.now - $0 < 30_000 } ?? false
        if tenth > lastTenth || !quiet || progress.finished == progress.total {
            lastTenth = tenth
            lastLine = progress.now
            Console.stderr("progress: \(Self.status(progress))")
        }
    }

    private func draw(_ progress: RemediationProgress) {
        guard progress.total > 0 else { return }
        let width = 30
        let filled = width * min(progress.finished, progress.total) / progress.total
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(Self.status(progress))\u{1B}[K".utf8))
        drawn = true
    }

    private func line(_ text: String) {
        if terminal && drawn { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        drawn = false
        Console.stderr(text)
    }

    static func duration(_ seconds: Int64) -> String {
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s" }
        return "\(seconds / 3600)h\(String(format: "%02d", seconds % 3600 / 60))m"
    }
}
