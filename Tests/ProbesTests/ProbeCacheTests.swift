import Foundation
import Probes
import Testing

/// Built probes are kept in a cache; only a whole build is used from it.
@Suite struct ProbeCacheTests {
    @Test func aCachedBuildThatLostItsDriverIsBuiltAgain() throws {
        guard let musl = Toolchain.musl() else {
            print("skipped: no musl-gcc (install musl-tools)")
            return
        }
        let cache = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("muslcheck-probe-cache-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: cache) }
        let catalog = try ProbeCatalog.bundled()
        let first = try ProbeBuilder.build(catalog: catalog, toolchain: musl, host: Toolchain.host(), driverToolchain: musl, cacheRoot: cache)
        #expect(!first.cached)
        let driver = first.directory.appendingPathComponent("driver").path
        #expect(FileManager.default.isExecutableFile(atPath: driver))
        let again = try ProbeBuilder.build(catalog: catalog, toolchain: musl, host: Toolchain.host(), driverToolchain: musl, cacheRoot: cache)
        #expect(again.cached, "a whole build is reused")
        // What an interrupt's cleanup racing the build's last step could leave: the record without the driver.
        try FileManager.default.removeItem(atPath: driver)
        let rebuilt = try ProbeBuilder.build(catalog: catalog, toolchain: musl, host: Toolchain.host(), driverToolchain: musl, cacheRoot: cache)
        #expect(!rebuilt.cached, "a build missing its driver is not used")
        #expect(FileManager.default.isExecutableFile(atPath: driver))
        #expect(rebuilt.available == first.available)
    }

    /// Probes shipped beside the binary (a release archive's probes/) are found whole, and only
    /// for the catalog they were built from.
    @Test func shippedProbesAreUsedOnlyWholeAndForTheirCatalog() throws {
        guard let musl = Toolchain.musl() else {
            print("skipped: no musl-gcc (install musl-tools)")
            return
        }
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("muslcheck-shipped-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: base) }
        let catalog = try ProbeCatalog.bundled()
        let built = try ProbeBuilder.build(catalog: catalog, toolchain: musl, host: Toolchain.host(), driverToolchain: musl,
                                           cacheRoot: base.appendingPathComponent("cache"))
        let root = base.appendingPathComponent("probes")
        try ShippedProbes.write(built, catalog: catalog, into: root)
        let found = try #require(ShippedProbes.find(.musl, catalog: catalog, root: root))
        #expect(found.available == built.available)
        #expect(found.toolchain == musl)
        #expect(FileManager.default.isExecutableFile(atPath: found.driver.path))
        #expect(ShippedProbes.find(.glibc, catalog: catalog, root: root) == nil, "no glibc probes were written")

        // Another catalog (a probe's source changed): not used.
        let otherSource = base.appendingPathComponent("catalog")
        try FileManager.default.copyItem(at: catalog.root, to: otherSource)
        let c = otherSource.appendingPathComponent("time/probe.c")
        try (try String(contentsOf: c, encoding: .utf8) + "\n/* changed */\n").write(to: c, atomically: true, encoding: .utf8)
        let other = try ProbeCatalog(root: otherSource)
        #expect(ShippedProbes.find(.musl, catalog: other, root: root) == nil)

        // A shipped folder that lost its driver: not used.
        try FileManager.default.removeItem(at: root.appendingPathComponent("musl/driver"))
        #expect(ShippedProbes.find(.musl, catalog: catalog, root: root) == nil)
    }
}
