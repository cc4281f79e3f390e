import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How many SIGINT/SIGTERM the process has received since ``Interrupts/install()``.
private let interruptCount = Atomic<Int>(0)

/// SIGINT and SIGTERM during a remediation: the first asks the run to drain (no new cluster starts, the ones in
/// flight finish, everything is journalled), the second aborts at once (exit 130; `fluxfleet resume` finishes).
enum Interrupts {
    /// Installs the handlers.
    static func install() {
        let handler: @convention(c) (Int32) -> Void = { _ in
            if interruptCount.add(1, ordering: .sequentiallyConsistent).newValue >= 2 {
                let message = "\nsecond interrupt: aborting; `fluxfleet resume` finishes the run\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                _exit(130)
            }
            let message = "\ninterrupt: draining the operations in flight (interrupt again to abort)\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked (posix_spawn keeps the caller's mask):
        // unblock them, or a drain request would wait unseen until the run ends.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Whether a stop was asked for.
    static var requested: Bool { interruptCount.load(ordering: .sequentiallyConsistent) > 0 }
}
