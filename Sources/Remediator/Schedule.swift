/// The Remediator's run queue: which cluster's step is due first.
///
/// A binary min-heap of (due time, operations left — more first, start order). A worker's due time changes only
/// when it is stepped, so each worker has exactly one live entry: it is popped, stepped and pushed back.
struct Schedule {
    struct Entry {
        var due: Int64
        var operationsLeft: Int
        var sequence: Int
        var slot: Int

        /// Earlier first; among steps due together the cluster with more operations left (so long chains do not
        /// straggle behind a bucket's queue); then the cluster started first.
        func precedes(_ other: Entry) -> Bool {
            if due != other.due { return due < other.due }
            if operationsLeft != other.operationsLeft { return operationsLeft > other.operationsLeft }
            return sequence < other.sequence
        }
    }

    private var heap: [Entry] = []

    var isEmpty: Bool { heap.isEmpty }

    /// The entry `pop` would return.
    func peek() -> Entry? { heap.first }

    mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var best = parent
            if left < heap.count, heap[left].precedes(heap[best]) { best = left }
            if right < heap.count, heap[right].precedes(heap[best]) { best = right }
            if best == parent { break }
            heap.swapAt(parent, best)
            parent = best
        }
        return top
    }
}
