/// A `major.minor.patch` version, compared numerically (`1.10.0` > `1.9.3`).
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The major version.
    public var major: Int
    /// The minor version.
    public var minor: Int
    /// The patch version.
    public var patch: Int

    /// Creates a version from its parts.
    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `1.19.5`, `v1.19`, or `1.19.5-preview` (the suffix is ignored); nil otherwise.
    public init?(_ text: String) {
        var s = Substring(text)
        if s.first == "v" || s.first == "V" { s = s.dropFirst() }
        if let dash = s.firstIndex(where: { $0 == "-" || $0 == "+" }) { s = s[..<dash] }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                let n = Int(part)
            else { return nil }
            numbers.append(n)
        }
        while numbers.count < 3 { numbers.append(0) }
        self.init(numbers[0], numbers[1], numbers[2])
    }

    /// `major.minor.patch`.
    public var description: String { "\(major).\(minor).\(patch)" }

    /// Orders numerically by major, minor, patch.
    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}

/// What FluxFleet knows about `microsoft.flux` extension versions.
///
/// Microsoft supports the newest minor version of the extension and the two before it (N-2).
/// The newest version is FluxFleet's own table entry, overridable (`--flux-latest`) so a team can
/// move ahead of a FluxFleet release. Feature minimums come from the extension's release notes.
public struct FluxVersionCatalog: Sendable, Hashable {
    /// The newest released version FluxFleet knows of.
    public var latest: SemanticVersion
    /// How many minor versions before the newest are still supported.
    public var supportedMinorVersionsBehind: Int

    /// A feature that needs a minimum extension version.
    public struct Feature: Sendable, Hashable {
        /// A stable identifier, such as `arm64`.
        public var code: String
        /// What the feature is.
        public var title: String
        /// The first version that supports it.
        public var minimum: SemanticVersion
    }

    /// The feature minimums.
    public var features: [Feature]

    /// FluxFleet's built-in catalog.
    public static let builtIn = FluxVersionCatalog(
        latest: SemanticVersion(1, 19, 5),
        supportedMinorVersionsBehind: 2,
        features: [
            Feature(code: "arm64", title: "ARM64 nodes", minimum: SemanticVersion(1, 7, 0)),
            Feature(
                code: "helmDriftDetection", title: "Helm drift detection and OOM watch",
                minimum: SemanticVersion(1, 7, 5)),
            Feature(code: "workloadIdentity", title: "workload identity on AKS", minimum: SemanticVersion(1, 8, 0)),
        ])

    /// The catalog with another newest version.
    public func with(latest: SemanticVersion) -> FluxVersionCatalog {
        var copy = self
        copy.latest = latest
        return copy
    }

    /// The oldest minor version still supported (`1.17.0` when the newest is `1.19.x`).
    public var oldestSupported: SemanticVersion {
        SemanticVersion(latest.major, max(0, latest.minor - supportedMinorVersionsBehind), 0)
    }

    /// Whether a version is within N-2 support.
    public func isSupported(_ version: SemanticVersion) -> Bool {
        version.major == latest.major && version >= oldestSupported
    }

    /// The minimum version of a feature, by code.
    public func minimum(for code: String) -> SemanticVersion? {
        features.first { $0.code == code }?.minimum
    }
}
