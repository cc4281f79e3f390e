/// FluxFleet's version.
public enum FleetCoreVersion {
    /// The version string shown by `fluxfleet --version`.
    public static let string = "0.1.0"
}
