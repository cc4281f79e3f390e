import ArgumentParser
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
