// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "muslcheck",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "muslcheck", targets: ["muslcheck"]),
        .library(name: "ELF", targets: ["ELF"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libelf from elfutils (Debian: libelf-dev).
        .systemLibrary(
            name: "CLibELF",
            pkgConfig: "libelf",
            providers: [.apt(["libelf-dev"])]
        ),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLZMA", pkgConfig: "liblzma", providers: [.apt(["liblzma-dev"])]),
        // mallopt and getdents64 (glibc, Linux).
        .systemLibrary(name: "CSystem"),
        .target(name: "ELF", dependencies: ["CLibELF"]),
        .target(name: "Artifacts", dependencies: ["ELF", "CZlib", "CLZMA", "CSystem"]),
        .target(name: "Compat", dependencies: ["ELF", "Artifacts"], resources: [.copy("Resources")]),
        .target(name: "Engine"),
        // What the user decides about a run: fail level, ignores, baseline, user probes.
        .target(name: "Policy", dependencies: ["Compat"]),
        .target(name: "Probes", dependencies: ["Engine", "Compat", "Artifacts", "ELF", "Policy"], resources: [.copy("Resources/probes")]),
        .target(name: "Report", dependencies: ["ELF", "Compat", "Probes", "Policy"], resources: [.copy("Resources")]),
        // muslcheck.yml and container-structure-test files.
        .target(name: "Config", dependencies: ["Policy", .product(name: "Yams", package: "Yams")]),
        // The runs: scan, check, probe. Everything a test wants to reach is here or below.
        .target(name: "Pipeline", dependencies: ["ELF", "Artifacts", "Compat", "Engine", "Probes", "Report", "Policy", "Config"],
                plugins: ["BuildInfo"]),
        // The commit a build is made from, for --version and the reports.
        .plugin(name: "BuildInfo", capability: .buildTool()),
        .executableTarget(
            name: "muslcheck",
            dependencies: [
                "Pipeline", "ELF", "Compat", "Engine", "Probes", "Report", "Policy", "Config", "CSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["ELF"], path: "Tests/TestSupport"),
        .testTarget(name: "ELFTests", dependencies: ["ELF", "TestSupport"]),
        .testTarget(name: "ArtifactsTests", dependencies: ["Artifacts", "ELF", "TestSupport"]),
        .testTarget(name: "CompatTests", dependencies: ["Compat", "Artifacts", "ELF", "Engine", "TestSupport"]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "Config", "Compat", "Artifacts", "ELF", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Policy", "Compat", "Probes", "Artifacts", "ELF", "TestSupport"], resources: [.copy("Resources")]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "Compat", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Policy", "TestSupport"]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Artifacts", "Compat", "ELF", "Engine", "Probes", "Report", "Policy", "Config", "TestSupport"]),
        .testTarget(name: "muslcheckTests", dependencies: ["muslcheck", "ELF", "Probes", "TestSupport", .product(name: "Yams", package: "Yams")]),
    ]
)
