import ArgumentParser
import ComplianceStore
import FleetCore

/// The documented exit codes (DESIGN §9), in one place.
enum ExitStatus: Int32 {
    case success = 0
    case failure = 1
    case changes = 2
    case usage = 64
    case dataError = 65
    case unavailable = 69
    case locked = 73
    case resumable = 75

    var code: ExitCode { ExitCode(rawValue) }
}

/// Prints a user error to standard error and returns the exit code that goes with it.
func report(_ error: InventoryLoadError) -> ExitCode {
    Console.error(error.description)
    switch error {
    case .unreadable, .emptyDirectory: return ExitStatus.usage.code
    case .invalidJSON, .invalidRecords: return ExitStatus.dataError.code
    }
}

/// Prints a compliance-store error to standard error and returns the exit code that goes with it.
func report(_ error: StoreError) -> ExitCode {
    Console.error(error.description)
    switch error {
    case .locked: return ExitStatus.locked.code
    case .sqlite(let sqlite, _) where sqlite.isBusy: return ExitStatus.locked.code
    case .sqlite(let sqlite, _) where sqlite.primaryCode == 14 || sqlite.primaryCode == 8:
        return ExitStatus.usage.code  // cannot open, or read-only: the path given is the problem
    case .sqlite(let sqlite, _) where sqlite.primaryCode == 11: return ExitStatus.dataError.code  // corrupt
    case .sqlite: return ExitStatus.failure.code
    case .missing, .unknownRun, .unknownCluster, .ambiguousCluster: return ExitStatus.usage.code
    case .newerSchema, .olderSchema, .notADatabase, .noRuns: return ExitStatus.dataError.code
    case .planConsumed: return ExitStatus.resumable.code
    case .unknownPlan, .notResumable: return ExitStatus.usage.code
    case .journalRunMismatch: return ExitStatus.failure.code
    }
}
