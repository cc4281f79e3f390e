// swift-tools-version: 6.0
import PackageDescription

/// Settings every target shares: Swift 6 language mode comes from the tools version; these
/// upcoming features keep existential and import use explicit.
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "FluxFleet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fluxfleet", targets: ["fluxfleet"]),
        .library(name: "FleetCore", targets: ["FleetCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
    ],
    targets: [
        // The fleet model: JSON reader, ARM ids, cluster facts, eligibility, snapshot readers.
        .target(name: "FleetCore", swiftSettings: strictness),
        // Azure Policy: definitions, assignments, the expression language, conditions, effects.
        .target(name: "PolicyEngine", dependencies: ["FleetCore"], swiftSettings: strictness),
        // Report renderers over one result model: table, JSON, CSV, Markdown, HTML, PolicyReport, JUnit, SARIF,
        // Prometheus. Pure: values in, text out.
        .target(name: "Reports", dependencies: ["FleetCore", "PolicyEngine"], swiftSettings: strictness),
        // The system libsqlite3 (Debian/Ubuntu: libsqlite3-dev), with a shim for its variadic calls.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The compliance history in SQLite: runs, clusters, state intervals, the apply journal, the lease.
        .target(
            name: "ComplianceStore", dependencies: ["CSQLite", "FleetCore", "PolicyEngine", "Reports", "Remediator"],
            swiftSettings: strictness),
        // The plan: per cluster change | noop | blocked | deferred | skipped, with ordered ARM actions. Pure.
        .target(name: "Planner", dependencies: ["FleetCore", "PolicyEngine"], swiftSettings: strictness),
        // Applies plans to ARM: token buckets, retries, long-running operations, waves, the journal hook. No I/O of
        // its own: a transport and a clock are injected.
        .target(name: "Remediator", dependencies: ["FleetCore", "Planner"], swiftSettings: strictness),
        // The CLI: argument parsing and wiring only.
        .executableTarget(
            name: "fluxfleet",
            dependencies: [
                "FleetCore",
                "PolicyEngine",
                "ComplianceStore",
                "Reports",
                "Planner",
                "Remediator",
                "ARMEmulator",
                "AzureARM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictness
        ),
        // The pure core of the ARM + Resource Graph + token endpoint emulator: (state, request) → (state, response)
        // on a virtual clock. No I/O and no third-party packages; the loopback server wraps it.
        .target(name: "ARMEmulator", dependencies: ["FleetCore"], swiftSettings: strictness),
        // The emulator served over loopback HTTP (FlyingFox is used here only).
        .executableTarget(
            name: "arm-emulator",
            dependencies: [
                "ARMEmulator",
                "FleetCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
            ],
            swiftSettings: strictness
        ),
        // Live Azure: the URLSession transport (the only FoundationNetworking import) and the Resource Graph inventory.
        .target(name: "AzureARM", dependencies: ["FleetCore"], swiftSettings: strictness),
        // Deterministic ARG-shaped fleets for tests and benchmarks.
        .target(name: "FleetGenerator", dependencies: ["FleetCore"], swiftSettings: strictness),
        .executableTarget(
            name: "fleetgen",
            dependencies: [
                "FleetGenerator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/fleetgen",
            swiftSettings: strictness
        ),
        .executableTarget(
            name: "fluxfleet-bench",
            dependencies: [
                "FleetCore", "FleetGenerator", "PolicyEngine", "ComplianceStore", "Reports", "Planner", "Remediator",
                "ARMEmulator",
            ],
            path: "Benchmarks/fluxfleet-bench",
            swiftSettings: strictness
        ),
        .testTarget(
            name: "FleetCoreTests",
            dependencies: ["FleetCore", "FleetGenerator"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "PolicyEngineTests",
            dependencies: ["PolicyEngine", "FleetCore", "FleetGenerator"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "ComplianceStoreTests",
            dependencies: ["ComplianceStore", "FleetCore", "PolicyEngine", "Reports", "Remediator"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "ReportsTests",
            dependencies: ["Reports", "PolicyEngine", "FleetCore"],
            resources: [.copy("Golden")],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "PlannerTests",
            dependencies: ["Planner", "PolicyEngine", "FleetCore"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "RemediatorTests",
            dependencies: ["Remediator", "ARMEmulator", "Planner", "PolicyEngine", "FleetCore"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "ARMEmulatorTests",
            dependencies: ["ARMEmulator", "FleetCore"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "AzureARMTests",
            dependencies: ["AzureARM", "ARMEmulator", "FleetCore", "FleetGenerator", "Planner", "Remediator"],
            swiftSettings: strictness
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["FleetCore", "ComplianceStore", "fluxfleet", "arm-emulator"],
            resources: [.copy("Golden")],
            swiftSettings: strictness
        ),
    ]
)
