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
}
