import FleetCore

/// One difference between a desired PUT body and the resource on the cluster.
public struct DriftEntry: Sendable, Hashable {
    /// Where, relative to the resource, such as `properties.kustomizations.apps.path` (members that are not
    /// plain identifiers are bracketed: `properties.kustomizations['kustomization-1']`); `""` for the whole
    /// resource.
    public var path: String
    /// The observed value: nil when the resource lacks it, or the API default when that applies.
    public var actual: JSON?
    /// The desired value: nil for something the cluster has that the desired body does not want (an extra
    /// kustomization).
    public var desired: JSON?

    /// Creates an entry.
    public init(path: String, actual: JSON?, desired: JSON?) {
        self.path = path
        self.actual = actual
        self.desired = desired
    }
}

/// The strict view of a Flux resource: every field the desired body sets, compared with what ARM returns.
///
/// Azure Policy's existence conditions check a few fields; this compares all of them:
/// - Member names match ignoring case (Resource Graph returns some extension properties in PascalCase).
/// - Read-only and status members (`provisioningState`, `complianceState`, `statuses`, `systemData`,
///   `currentVersion`, …) are never compared, nor write-only secrets (`configurationProtectedSettings` and
///   the other `x-ms-secret` fields): the service never returns them, so nothing is reported for them. A
///   desired value that is a ``SecretReference`` is skipped too.
/// - JSON null and a missing member are the same; a desired null sets nothing.
/// - `properties.kustomizations` is compared as a whole map, because a PUT replaces it: a kustomization the
///   cluster has but the body lacks is drift, and so is a missing one.
/// - Strings compare exactly (Flux is case-sensitive: branch `Main` ≠ `main`) except ARM enums such as
///   `scope`, `sourceKind`, `extensionType` and `releaseTrain`, which ignore case, and `location`, which is
///   normalised. Numbers compare by value; a bool equals the strings `"true"`/`"false"`.
/// - Defaults the API fills in count when the observed resource omits a member: for fluxConfigurations
///   `scope` cluster, `namespace` default, `sourceKind` GitRepository, `suspend` false, source intervals and
///   timeouts 600, kustomization `path` "", `prune` false, `force` false, `wait` true, intervals 600; for
///   extensions `autoUpgradeMinorVersion` true, `releaseTrain` Stable, `autoUpgradeMode` compatible.
/// - Arrays compare element by element, in order, and are reported whole.
public enum SpecDrift {
    /// Compares a desired body with the observed resource.
    ///
    /// - Parameters:
    ///   - desired: The PUT body (``DesiredResource/body``): `properties` and any of `identity`, `location`, ….
    ///   - observed: The resource as ARM or Resource Graph returns it (with `properties`), or nil when it does
    ///     not exist.
    /// - Returns: The differences, in a stable order (members sorted, extra kustomizations after the desired
    ///   ones); one entry with path `""` and `desired` = the body when the resource is missing.
    public static func compare(desired: JSON, observed: JSONValue?) -> [DriftEntry] {
        guard let observed, !observed.isNull else {
            // The whole body is the drift: never carry write-only secrets along with it.
            return [DriftEntry(path: "", actual: nil, desired: Redaction.json(desired, secretKeys: DriftRules.secrets))]
        }
        var walker = DriftWalker(kind: DriftResourceKind.detect(desired: desired, observed: observed))
        walker.compare(desired, observed, key: "", path: [], schema: [])
        return walker.entries
    }

    /// The member `key` of an observed object: exact name first, then ignoring case.
    static func member(_ key: String, of value: JSONValue) -> JSONValue? {
        value[key] ?? value.member(ignoringCase: key)
    }
}

/// The recursive comparison behind ``SpecDrift/compare(desired:observed:)``.
private struct DriftWalker {
    let kind: DriftResourceKind
    var entries: [DriftEntry] = []

    init(kind: DriftResourceKind) {
        self.kind = kind
    }

    /// Compares one desired value with the observed one (nil or null when missing).
    ///
    /// `path` holds the member names as the body spells them; `schema` the lowercased names with `*` for a
    /// kustomization name, to look defaults up.
    mutating func compare(
        _ desired: JSON,
        _ observed: JSONValue?,
        key: String,
        path: [JSONPathComponent],
        schema: [String]
    ) {
        if desired == .null || SecretReference.isReference(desired) { return }
        let present = observed.flatMap { $0.isNull ? nil : $0 }
        if schema == ["properties", "kustomizations"], case .object(let wanted) = desired {
            compareKustomizations(wanted, present, path: path)
            return
        }
        switch desired {
        case .object(let members):
            if let present, !present.isObject {
                report(path, actual: present.materialize(), desired: desired)
                return
            }
            for name in members.keys.sorted() where !DriftRules.isSkipped(name, under: schema) {
                let child = present.flatMap { SpecDrift.member(name, of: $0) }
                // Extension (proxy) resources take `location` on PUT but ARM never returns it: a
                // top-level location the observed record lacks is not drift.
                if schema.isEmpty, ASCII.equalsIgnoringCase(name, "location"), child?.string?.isEmpty ?? true {
                    continue
                }
                compare(
                    members[name]!, child, key: name, path: path + [.key(name)],
                    schema: schema + [ASCII.lowercased(name)])
            }
        case .array(let items):
            guard let present else {
                if !items.isEmpty { report(path, actual: nil, desired: desired) }
                return
            }
            let observedItems = Array(present.elements)
            let same =
                present.isArray && observedItems.count == items.count
                && zip(items, observedItems).allSatisfy { Self.equal($0, $1, key: key) }
            if !same { report(path, actual: present.materialize(), desired: desired) }
        default:
            if let present {
                let actual = present.materialize()
                if !DriftRules.scalarsEqual(desired, actual, key: key) {
                    report(path, actual: actual, desired: desired)
                }
            } else if let fallback = DriftRules.defaultValue(at: schema, kind: kind) {
                if !DriftRules.scalarsEqual(desired, fallback, key: key) {
                    report(path, actual: fallback, desired: desired)
                }
            } else {
                report(path, actual: nil, desired: desired)
            }
        }
    }

    /// The kustomizations map as a whole: missing, extra and different kustomizations.
    private mutating func compareKustomizations(
        _ wanted: [String: JSON],
        _ observed: JSONValue?,
        path: [JSONPathComponent]
    ) {
        if let observed, !observed.isObject {
            report(path, actual: observed.materialize(), desired: .object(wanted))
            return
        }
        var matched: Set<String> = []
        for name in wanted.keys.sorted() where wanted[name]! != .null {
            let found = observed.flatMap { $0[name] ?? $0.member(ignoringCase: name) }
            guard let found, !found.isNull else {
                report(path + [.key(name)], actual: nil, desired: wanted[name]!)
                continue
            }
            matched.insert(ASCII.lowercased(name))
            compare(
                wanted[name]!, found, key: name, path: path + [.key(name)],
                schema: ["properties", "kustomizations", "*"])
        }
        guard let observed else { return }
        let extras = observed.members.filter { !matched.contains(ASCII.lowercased($0.key)) && !$0.value.isNull }
        for (name, value) in extras.sorted(by: { $0.key < $1.key }) {
            report(path + [.key(name)], actual: value.materialize(), desired: nil)
        }
    }

    private mutating func report(_ path: [JSONPathComponent], actual: JSON?, desired: JSON?) {
        var rendered = JSONPathComponent.render(path, root: "")
        if rendered.hasPrefix(".") { rendered.removeFirst() }
        entries.append(DriftEntry(path: rendered, actual: actual, desired: desired))
    }

    /// Deep equality for array elements, with the scalar rules of the member holding the array.
    private static func equal(_ desired: JSON, _ observed: JSONValue, key: String) -> Bool {
        switch desired {
        case .object(let members):
            guard observed.isObject else { return false }
            return members.allSatisfy { name, value in
                let child = SpecDrift.member(name, of: observed)
                guard let child, !child.isNull else { return value == .null }
                return equal(value, child, key: name)
            }
        case .array(let items):
            let observedItems = Array(observed.elements)
            return observed.isArray && observedItems.count == items.count
                && zip(items, observedItems).allSatisfy { equal($0, $1, key: key) }
        default:
            return DriftRules.scalarsEqual(desired, observed.materialize(), key: key)
        }
    }
}
