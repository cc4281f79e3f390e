/// A memo's changing state at a fixed address, allocated with the memo and freed with it.
///
/// A memo is used by one thread at a time and never re-entered, so its state is reached through this pointer
/// rather than stored `var`s of the class: those cost a run-time exclusivity check on every access (about 80
/// instructions, several per look-up on the scan's hot path).
struct MemoState<State: ~Copyable>: ~Copyable {
    /// The state.
    let pointer: UnsafeMutablePointer<State>

    /// Allocates `state`.
    init(_ state: consuming State) {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: state)
    }

    deinit {
        pointer.deinitialize(count: 1)
        pointer.deallocate()
    }
}
