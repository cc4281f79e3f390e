import FleetCore

/// The emulator's pure core as an in-process ARM transport and clock: what `--simulate` and the tests use.
///
/// Requests are answered by ``ARMEmulator/handle(_:in:)`` on the held state; sleeping moves the emulator's virtual
/// clock, so a remediation of thousands of clusters under ARM's throttling takes no real time and runs the same way
/// every time.
public final class InProcessARM: ARMTransport, RemediationClock {
    /// The emulator's state: the fleet as ARM now sees it, its clock, operations and statistics.
    public private(set) var state: EmulatorState

    /// Wraps a state (seeded from an inventory snapshot with ``EmulatorState/init(configuration:now:)`` and its
    /// loaders).
    public init(_ state: EmulatorState) {
        self.state = state
    }

    /// The emulator's virtual time.
    public var now: Int64 { state.now }

    /// Moves the emulator's clock to `time` (nothing when it has passed).
    public func sleep(until time: Int64) {
        if time > state.now { state.advance(to: time) }
    }

    /// Answers one request as the emulator would over the network; a dropped connection throws.
    public func send(_ request: ARMHTTPRequest) throws(TransportError) -> ARMHTTPResponse {
        let answer = ARMEmulator.handle(
            ARMRequest(method: request.method, url: request.url, headers: request.headers, body: request.body),
            in: &state)
        if answer.kind == .droppedConnection { throw .droppedConnection }
        return ARMHTTPResponse(status: answer.status, headers: answer.headers, body: answer.body)
    }
}
