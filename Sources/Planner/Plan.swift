import FleetCore

/// What the plan decides for one cluster.
public enum PlanDecision: String, Sendable, CaseIterable {
    /// The cluster needs changes and can take them now: see the actions.
    case change
    /// The cluster is on the baseline; nothing to do.
    case noop
    /// The cluster needs a change that cannot be made until a person fixes the cause (reason + remedy).
    case blocked
    /// The cluster needs a change that cannot be made now; a later run retries (reason + remedy).
    case deferred
    /// The cluster is deliberately left alone: exempt, DoNotEnforce, outside its change windows or tagged
    /// "never touch".
    case skipped
}

/// The kind of one action, in the order actions run on a cluster.
public enum PlanActionKind: String, Sendable, CaseIterable, Comparable {
    /// Delete a Flux v1 `sourceControlConfigurations` resource (only with `--migrate-flux-v1`).
    case deleteFluxV1 = "delete-flux-v1"
    /// PUT the `microsoft.flux` extension where there is none.
    case installExtension = "install-extension"
    /// Re-PUT the extension: it is `Failed`, or a non-version field drifted.
    case repairExtension = "repair-extension"
    /// PUT the extension to move it to a supported version (version fields drifted, too old for a feature, or
    /// outside N-2 support).
    case upgradeExtension = "upgrade-extension"
    /// PUT a Flux configuration that does not exist.
    case createConfiguration = "create-configuration"
    /// PUT a Flux configuration whose fields drifted (or that is `Failed`).
    case updateConfiguration = "update-configuration"
    /// Delete and re-create a Flux configuration whose scope or namespace changed (only with `--allow-replace`):
    /// destructive when prune is on.
    case replaceConfiguration = "replace-configuration"

    /// Orders by execution order: Flux v1 deletion, extension, configurations.
    public static func < (lhs: PlanActionKind, rhs: PlanActionKind) -> Bool { lhs.stage < rhs.stage }

    /// 0: Flux v1 deletion, 1: the extension, 2: configurations.
    var stage: Int {
        switch self {
        case .deleteFluxV1: 0
        case .installExtension, .repairExtension, .upgradeExtension: 1
        case .createConfiguration, .updateConfiguration, .replaceConfiguration: 2
        }
    }

    /// The Terraform-like marker of the human view: `+`, `~`, `-/+` or `-`.
    public var symbol: String {
        switch self {
        case .installExtension, .createConfiguration: "+"
        case .repairExtension, .upgradeExtension, .updateConfiguration: "~"
        case .replaceConfiguration: "-/+"
        case .deleteFluxV1: "-"
        }
    }
}

/// One field that an action changes: the observed value before, the desired value after.
public struct PlanDiffEntry: Sendable, Hashable {
    /// The path in the resource, such as `properties.kustomizations.apps.path`.
    public var path: String
    /// The observed value (nil when absent or null), credentials masked.
    public var before: JSON?
    /// The desired value (nil when the PUT removes it), credentials masked.
    public var after: JSON?

    /// Creates an entry.
    public init(path: String, before: JSON?, after: JSON?) {
        self.path = path
        self.before = before
        self.after = after
    }
}

/// One ARM operation the plan wants on a cluster.
public struct PlanAction: Sendable, Hashable {
    /// What the action does.
    public var kind: PlanActionKind
    /// The full ARM id of the resource the request goes to.
    public var resourceId: String
    /// The resource type, such as `Microsoft.KubernetesConfiguration/fluxConfigurations`.
    public var resourceType: String
    /// The API version of the request.
    public var apiVersion: String
    /// The PUT body, nil for a deletion.
    ///
    /// Secret references stay `{"$secretReference": …}`; literal secrets and URL credentials are masked, so a
    /// body with ``Redaction/mask`` cannot be sent as it is.
    public var body: JSON?
    /// The field-level difference from the strict view (empty for a resource that does not exist yet).
    public var diff: [PlanDiffEntry]
    /// Why the action is there: `missing`, `drift`, `nonCompliant`, `failed`, an eligibility advisory code
    /// (`extensionOutsideSupport`, …), `scopeChanged` or `fluxV1Present`.
    public var reason: String
    /// The assignments that want the resource (empty for a Flux v1 deletion).
    public var assignmentIds: [String]

    /// Creates an action.
    public init(
        kind: PlanActionKind, resourceId: String, resourceType: String, apiVersion: String, body: JSON?,
        diff: [PlanDiffEntry], reason: String, assignmentIds: [String]
    ) {
        self.kind = kind
        self.resourceId = resourceId
        self.resourceType = resourceType
        self.apiVersion = apiVersion
        self.body = body
        self.diff = diff
        self.reason = reason
        self.assignmentIds = assignmentIds
    }
}

/// A reason a cluster is blocked, deferred or skipped: a stable code, what is wrong and how to fix it.
public struct PlanReason: Sendable, Hashable {
    /// The stable code: an eligibility-table code or a planner code (see ``PlannerCode``).
    public var code: String
    /// What is wrong on this cluster.
    public var message: String
    /// What to do about it.
    public var remedy: String

    /// Creates a reason.
    public init(code: String, message: String, remedy: String) {
        self.code = code
        self.message = message
        self.remedy = remedy
    }
}

/// The plan for one cluster.
public struct ClusterPlan: Sendable, Hashable {
    /// The cluster's ARM id as read.
    public var clusterId: String
    /// The cluster's name.
    public var name: String
    /// The fingerprint of the observed state the decision rests on (see ``Fingerprint``).
    public var fingerprint: String
    /// The decision.
    public var decision: PlanDecision
    /// The deciding reason for blocked, deferred and skipped (nil for change and noop).
    public var reason: PlanReason?
    /// Every other reason of the same weight or lower that also applies (blocked, then deferred).
    public var otherReasons: [PlanReason]
    /// The actions, in execution order (only for `change`).
    public var actions: [PlanAction]

    /// Creates a cluster plan.
    public init(
        clusterId: String, name: String, fingerprint: String, decision: PlanDecision, reason: PlanReason?,
        otherReasons: [PlanReason] = [], actions: [PlanAction] = []
    ) {
        self.clusterId = clusterId
        self.name = name
        self.fingerprint = fingerprint
        self.decision = decision
        self.reason = reason
        self.otherReasons = otherReasons
        self.actions = actions
    }
}

/// What the plan was made from: pinned so that `apply` can tell whether its inputs still hold.
public struct PlanInputs: Sendable, Hashable {
    /// The inventory path as given.
    public var inventory: String
    /// A digest of the inventory files' bytes.
    public var inventoryDigest: String
    /// The policies directory as given.
    public var policies: String
    /// The policy bundle's digest (``PolicyBundle/digest``).
    public var policiesDigest: String
    /// The evaluation time, ISO 8601 UTC.
    public var evaluatedAt: String

    /// Creates inputs.
    public init(
        inventory: String = "", inventoryDigest: String = "", policies: String = "", policiesDigest: String = "",
        evaluatedAt: String = ""
    ) {
        self.inventory = inventory
        self.inventoryDigest = inventoryDigest
        self.policies = policies
        self.policiesDigest = policiesDigest
        self.evaluatedAt = evaluatedAt
    }
}

/// How the planner decides.
public struct PlanOptions: Sendable, Hashable {
    /// The default "never touch" tag: a cluster tagged `fluxfleet.io/never-touch=true` is skipped.
    public static let defaultNeverTouchTag = "fluxfleet.io/never-touch"

    /// Allow `replace-configuration` (scope or namespace changed); without it such a cluster is blocked.
    public var allowReplace: Bool
    /// Delete Flux v1 configurations before installing Flux v2; without it such a cluster is blocked.
    public var migrateFluxV1: Bool
    /// Remediate DoNotEnforce assignments too; without it their clusters are skipped.
    public var includeDoNotEnforce: Bool
    /// The tag name that marks a cluster "never touch" (its value must be `true`, ignoring case).
    public var neverTouchTag: String
    /// The `microsoft.flux` version catalog (N-2 support and feature minimums).
    public var catalog: FluxVersionCatalog
    /// The change windows (from `rollout.json`); empty for no restriction.
    ///
    /// A cluster that a window applies to is planned only while one of the windows applying to it is open at the
    /// plan's evaluation time (``PlanInputs/evaluatedAt``); otherwise it is `skipped` with the reason
    /// `outsideChangeWindow`.
    public var changeWindows: [ChangeWindow]

    /// Creates options; the defaults are the safe ones.
    public init(
        allowReplace: Bool = false, migrateFluxV1: Bool = false, includeDoNotEnforce: Bool = false,
        neverTouchTag: String = PlanOptions.defaultNeverTouchTag, catalog: FluxVersionCatalog = .builtIn,
        changeWindows: [ChangeWindow] = []
    ) {
        self.allowReplace = allowReplace
        self.migrateFluxV1 = migrateFluxV1
        self.includeDoNotEnforce = includeDoNotEnforce
        self.neverTouchTag = neverTouchTag
        self.catalog = catalog
        self.changeWindows = changeWindows
    }
}

/// A plan: one decision per cluster in scope, with the inputs and options it was made from.
public struct Plan: Sendable, Hashable {
    /// The plan document's format version (DESIGN §9).
    public static let formatVersion = 1

    /// What the plan was made from.
    public var inputs: PlanInputs
    /// How it was made.
    public var options: PlanOptions
    /// One entry per cluster in scope, in inventory order.
    public var clusters: [ClusterPlan]

    /// Creates a plan.
    public init(inputs: PlanInputs, options: PlanOptions, clusters: [ClusterPlan]) {
        self.inputs = inputs
        self.options = options
        self.clusters = clusters
    }

    /// Clusters per decision.
    public var summary: [PlanDecision: Int] {
        var counts: [PlanDecision: Int] = [:]
        for decision in PlanDecision.allCases { counts[decision] = 0 }
        for cluster in clusters { counts[cluster.decision, default: 0] += 1 }
        return counts
    }

    /// Actions per kind over every cluster.
    public var actionCounts: [PlanActionKind: Int] {
        var counts: [PlanActionKind: Int] = [:]
        for cluster in clusters {
            for action in cluster.actions { counts[action.kind, default: 0] += 1 }
        }
        return counts
    }

    /// Whether any cluster has a `change` decision (`--detailed-exitcode` exits 2).
    public var hasChanges: Bool { clusters.contains { $0.decision == .change } }
}

/// Which clusters a wave or a change window takes: named clusters, a tag, a hashed share of the fleet, or all.
///
/// The Remediator calls it `WaveSelector`; `rollout.json` and `--wave` write it as text (see the Remediator's
/// `WaveSelector(parsing:)`).
public enum ClusterSelector: Sendable, Hashable {
    /// Clusters named by name or ARM id (ignoring case): a canary list.
    case clusters([String])
    /// Clusters with a tag of this value (the key and the value compared ignoring case).
    case tag(key: String, value: String)
    /// A share of the whole fleet, 0…100, chosen by a hash of the cluster id (see ``ClusterSelector/bucket(of:)``),
    /// so that plan and apply, and every run, pick the same clusters; percentages are cumulative (`5`, then `25`
    /// adds 20% more).
    case percent(Double)
    /// Every cluster left.
    case rest

    /// A cluster's bucket, 0…9,999: FNV-1a of its lowercased id, modulo 10,000.
    public static func bucket(of clusterId: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in clusterId.lowercased().utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % 10_000)
    }

    /// The selector as `rollout.json` and `--wave` write it: `clusters=a,b`, `tag=KEY=VALUE`, `5%` or `rest`.
    public var text: String {
        switch self {
        case .clusters(let names): return "clusters=" + names.joined(separator: ",")
        case .tag(let key, let value): return "tag=\(key)=\(value)"
        case .percent(let share):
            return (share == share.rounded() ? String(Int(share)) : String(share)) + "%"
        case .rest: return "rest"
        }
    }

    /// Whether the selector takes a cluster (`tags` are the cluster's tags).
    public func matches(clusterId: String, name: String, tags: [String: String]) -> Bool {
        switch self {
        case .clusters(let names):
            return names.contains { $0.lowercased() == name.lowercased() || $0.lowercased() == clusterId.lowercased() }
        case .tag(let key, let value):
            return tags.contains {
                $0.key.lowercased() == key.lowercased() && $0.value.lowercased() == value.lowercased()
            }
        case .percent(let share):
            return Double(Self.bucket(of: clusterId)) < share * 100
        case .rest:
            return true
        }
    }
}

/// A recurring time when changes are allowed, such as weekend nights: on the listed days the window opens at
/// `start` (local time at `utcOffset`) and closes at `end`, on the next day when `end` is not after `start`.
///
/// A window with a selector applies only to the clusters it takes. At plan time a cluster that some window applies
/// to, and that is outside every window applying to it, is `skipped` with the reason `outsideChangeWindow`.
public struct ChangeWindow: Sendable, Hashable {
    /// A day of the week, Monday first (ISO 8601 numbering).
    public enum Weekday: Int, Sendable, Hashable, CaseIterable, Comparable {
        /// Monday.
        case monday = 1
        /// Tuesday.
        case tuesday
        /// Wednesday.
        case wednesday
        /// Thursday.
        case thursday
        /// Friday.
        case friday
        /// Saturday.
        case saturday
        /// Sunday.
        case sunday

        /// The three-letter English name: `Mon` … `Sun`.
        public var shortName: String {
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][rawValue - 1]
        }

        /// The day named `Mon`, `monday`, … (ignoring case), or nil.
        public init?(name: String) {
            let lowered = name.lowercased()
            guard
                let day = Weekday.allCases.first(where: {
                    let short = $0.shortName.lowercased()
                    return lowered == short || lowered == Self.fullNames[$0.rawValue - 1]
                })
            else { return nil }
            self = day
        }

        static let fullNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

        /// Orders Monday first.
        public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The weekday of a day counted from 1970-01-01 (a Thursday).
        static func of(day: Int64) -> Weekday {
            let index = ((day % 7) + 7 + 3) % 7  // 0 = Monday
            return Weekday(rawValue: Int(index) + 1)!
        }
    }

    /// The window's name, used in messages.
    public var name: String
    /// The days the window opens on (local time).
    public var days: Set<Weekday>
    /// When it opens, in minutes after local midnight (0…1439).
    public var start: Int
    /// When it closes, in minutes after local midnight (0…1440); at or before `start` means the next day.
    public var end: Int
    /// The local time's offset from UTC in minutes (`+01:00` is 60).
    public var utcOffset: Int
    /// The clusters it applies to; nil for every cluster.
    public var selector: ClusterSelector?

    /// Creates a window.
    public init(
        name: String, days: Set<Weekday>, start: Int, end: Int, utcOffset: Int = 0, selector: ClusterSelector? = nil
    ) {
        self.name = name
        self.days = days
        self.start = start
        self.end = end
        self.utcOffset = utcOffset
        self.selector = selector
    }

    static let day: Int64 = 86_400_000

    /// Whether the window applies to a cluster.
    public func applies(clusterId: String, name: String, tags: [String: String]) -> Bool {
        selector?.matches(clusterId: clusterId, name: name, tags: tags) ?? true
    }

    /// Whether the window is open at `time` (ms since 1970).
    public func isOpen(at time: Int64) -> Bool {
        let local = time + Int64(utcOffset) * 60_000
        let day = local >= 0 ? local / Self.day : (local - Self.day + 1) / Self.day
        let minute = Int((local - day * Self.day) / 60_000)
        if start < end {
            return days.contains(.of(day: day)) && minute >= start && minute < end
        }
        return (days.contains(.of(day: day)) && minute >= start) || (days.contains(.of(day: day - 1)) && minute < end)
    }

    /// The first opening after `time` (ms since 1970), or nil when the window has no days.
    public func nextOpening(after time: Int64) -> Int64? {
        let offset = Int64(utcOffset) * 60_000
        let local = time + offset
        let today = local >= 0 ? local / Self.day : (local - Self.day + 1) / Self.day
        for day in today...(today + 8) where days.contains(.of(day: day)) {
            let opening = day * Self.day + Int64(start) * 60_000 - offset
            if opening > time { return opening }
        }
        return nil
    }

    /// `Fri,Sat 22:00–06:00 +01:00`: the window as a person reads it.
    public var summary: String {
        let dayList = days.sorted().map(\.shortName).joined(separator: ",")
        return "\(dayList) \(Self.clock(start))–\(Self.clock(end)) \(Self.offsetText(utcOffset))"
    }

    static func clock(_ minutes: Int) -> String {
        let h = minutes / 60
        let m = minutes % 60
        return (h < 10 ? "0" : "") + "\(h):" + (m < 10 ? "0" : "") + "\(m)"
    }

    /// `UTC`, or `+01:00` / `-05:30`.
    public static func offsetText(_ minutes: Int) -> String {
        guard minutes != 0 else { return "UTC" }
        return (minutes < 0 ? "-" : "+") + clock(abs(minutes))
    }

    /// ISO 8601 UTC text of a time: `2026-11-27T21:00:00Z`.
    public static func iso8601(_ time: Int64) -> String {
        let seconds = time >= 0 ? time / 1000 : (time - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (year, month, dayOfMonth) = CivilDate.date(daysSinceEpoch: days)
        let rest = seconds - days * 86_400
        func two(_ value: Int64) -> String { (value < 10 ? "0" : "") + "\(value)" }
        return "\(year)-\(two(month))-\(two(dayOfMonth))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))Z"
    }

    /// Parses ISO 8601 date-time text (`2026-11-21T18:00:00Z`, fractions and `±HH:MM` offsets accepted) into ms
    /// since 1970; nil when it does not parse.
    public static func parseTime(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[from..<(from + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard bytes.count >= 19, bytes[4] == 45, bytes[7] == 45, bytes[10] == 84 || bytes[10] == 116,
            bytes[13] == 58, bytes[16] == 58, let year = number(0, 4), let month = number(5, 2),
            let day = number(8, 2), let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var scale: Int64 = 100
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                millis += Int64(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offset: Int64 = 0
        if index < bytes.count {
            if bytes[index] == 90 || bytes[index] == 122, index == bytes.count - 1 {
                offset = 0
            } else if bytes[index] == 43 || bytes[index] == 45, bytes.count == index + 6, bytes[index + 3] == 58,
                let h = number(index + 1, 2), let m = number(index + 4, 2)
            {
                offset = (h * 60 + m) * (bytes[index] == 45 ? -1 : 1)
            } else {
                return nil
            }
        }
        let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
        return ((days * 86_400 + hour * 3600 + minute * 60 + second) - offset * 60) * 1000 + millis
    }
}
