import Foundation

/// Work that blocks on the network, run on threads of its own.
///
/// Each call of `work` gets a thread: Dispatch's global queue on Linux keeps about one thread per core busy however
/// long its work blocks, which would put two requests on the wire at a time on two cores.
enum Threads {
    /// Runs `work(0)`, …, `work(count - 1)` at once, each on its own thread, and returns the results in order.
    ///
    /// `work` may capture values that are not `Sendable` (a transport): the caller promises they may be used from
    /// several threads at once.
    static func map<T>(_ count: Int, _ work: @escaping (Int) -> T) -> [T] {
        if count == 1 { return [work(0)] }
        let results = Results(work, count: count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                results.run(index)
                group.leave()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        return results.values
    }

    /// The work and its results, one slot per call, filled under a lock (`@unchecked Sendable`: see ``map(_:_:)``).
    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private let work: (Int) -> T
        private var slots: [T?]

        init(_ work: @escaping (Int) -> T, count: Int) {
            self.work = work
            slots = Array(repeating: nil, count: count)
        }

        func run(_ index: Int) {
            let result = work(index)
            lock.lock()
            slots[index] = result
            lock.unlock()
        }

        /// Every result (each call has returned once `DispatchGroup.wait` does).
        var values: [T] {
            lock.lock()
            defer { lock.unlock() }
            return slots.map { $0! }
        }
    }
}
