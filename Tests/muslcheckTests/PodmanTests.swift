import Foundation
import Testing
import TestSupport

/// `--engine podman` against Debian's podman (rootful), with the musl test image ci/setup loads
/// into it: check's static analysis of the image, the probes and the loader on the fixtures in
/// both transfers, a missing image, and nothing left behind.
@Suite(.serialized) struct PodmanTests {
    static let image = "muslcheck-test/musl:1.2.3"

    /// Why podman cannot be used here, or nil.
    static let unavailable: String? = {
        if DockerTest.skipped { return "MUSLCHECK_SKIP_DOCKER=1" }
        guard TestCommand.exists("podman") else { return "podman is not installed (ci/setup installs Debian's podman)" }
        guard let r = try? TestCommand.run("podman", ["image", "inspect", image]), r.status == 0 else {
            return "podman has no \(image): run ci/setup (it loads it from docker)"
        }
        return nil
    }()

    static func ready() -> Bool {
        guard let why = unavailable else { return true }
        if DockerTest.skipped { print("skipped: \(why)") } else { Issue.record(Comment(rawValue: why)) }
        return false
    }

    static func lines(_ args: [String]) throws -> [String] {
        try TestCommand.run("podman", args).stdout.split(separator: "\n").map(String.init)
    }

    @Test(arguments: ["mount", "copy"])
    func checkRunsTheProbesAndTheLoaderThroughPodman(transfer: String) throws {
        guard Self.ready() else { return }
        let dir = try CheckedFixtures.scratch("podman-\(transfer)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let volumes = Set(try Self.lines(["volume", "ls", "-q"]))
        let runID = "podman\(transfer)\(getpid())"
        let r = try CheckedFixtures.muslcheck(["check", try Fixtures.directory().path, "--engine", "podman", "--transfer", transfer,
                                               "--image", Self.image, "--pull", "never", "--fail-on", "never", "--run-id", runID,
                                               "--format", "json=\(dir)/report.json"])
        #expect(r.status == 0, "\(r.stderr.suffix(1500))")
        let data = try #require(FileManager.default.contents(atPath: dir + "/report.json"))
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        // The image was read through podman for the static analysis.
        let targets = try #require(report["targets"] as? [[String: Any]])
        #expect(targets.contains { ($0["name"] as? String) == Self.image && ($0["musl"] as? String) == "1.2.3" }, "\(targets)")
        let probed = try #require((report["probes"] as? [[String: Any]])?.first)
        #expect(probed["error"] == nil, "\(probed["error"] ?? "")")
        let loader = try #require(probed["loader"] as? [[String: Any]])
        #expect(loader.count > 20 && loader.allSatisfy { $0["agreement"] as? String == "confirmed" },
                "\(loader.filter { $0["agreement"] as? String != "confirmed" }.map { "\($0["artifact"] ?? "") \($0["note"] ?? "")" })")
        let probes = try #require(probed["probes"] as? [[String: Any]])
        #expect(probes.count >= 10 && probes.allSatisfy { $0["status"] as? String == "ok" }, "\(probes.map { "\($0["id"] ?? "") \($0["status"] ?? "")" })")
        // podman refuses --dns with --network none: under copy the resolver's DNS part is skipped.
        let resolver = try #require(probes.first { $0["id"] as? String == "resolver" }?["values"] as? [String: Any])
        #expect(resolver["dns_server"] as? String == (transfer == "mount" ? "running" : "skipped"), "\(resolver["dns_server"] ?? "")")
        // Nothing left: no container of the run, no volume.
        #expect(try Self.lines(["ps", "-aq", "--filter", "label=org.muslcheck.run=\(runID)"]).isEmpty)
        #expect(Set(try Self.lines(["volume", "ls", "-q"])).subtracting(volumes).isEmpty)
    }

    @Test func aMissingImageIsAnEngineErrorNamingIt() throws {
        guard Self.ready() else { return }
        let started = Date()
        let r = try CheckedFixtures.muslcheck(["check", try Fixtures.path("hello-musl"), "--engine", "podman", "--image", "muslcheck-test/no-such:1",
                                               "--pull", "never", "--format", "json"])
        #expect(r.status == 3, "\(r.stderr)")
        #expect(r.stderr.contains("muslcheck-test/no-such:1"), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 60)
    }
}
