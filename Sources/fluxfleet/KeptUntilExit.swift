import Foundation

/// Values a command keeps until the process exits, rather than freeing them object by object on its way out.
///
/// A command's last act would otherwise be to free the fleet and the scan: at 100,000 clusters that is millions
/// of objects and 0.2 s of work nobody waits for, since the kernel takes the whole address space back at exit
/// at once (compilers skip the same work with `-disable-free`). Only the command layer keeps values here; the
/// libraries free what they make.
enum KeptUntilExit {
    private final class Store: @unchecked Sendable {
        // @unchecked: `values` is only touched under `lock`.
        let lock = NSLock()
        var values: [Any] = []
    }

    private static let store = Store()

    /// Keeps `value` (and everything it holds) alive until the process exits.
    static func keep(_ value: Any) {
        store.lock.lock()
        store.values.append(value)
        store.lock.unlock()
    }
}
