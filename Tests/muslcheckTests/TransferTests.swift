import Foundation
import Testing
import TestSupport
import Probes

/// The copy transfer (for muslcheck in a container using the host's engine, or a remote
/// engine): the probes and the artifacts are copied into a volume of the container instead of
/// bind-mounted; the results are the mount transfer's, and nothing is left behind.
@Suite(.serialized) struct TransferTests {
    @Test func autoCopiesInAContainerOrToARemoteEngineAndMountsOtherwise() {
        let none: (String) -> Bool = { _ in false }
        let sameHost: () -> String? = { "vm" }, otherHost: () -> String? = { "docker-host" }, silent: () -> String? = { nil }
        #expect(FileTransfer.auto.resolved(environment: [:], fileExists: none, localHostname: "vm", daemonHostname: otherHost) == .mount)
        #expect(FileTransfer.auto.resolved(environment: ["DOCKER_HOST": "unix:///var/run/docker.sock"], fileExists: none, localHostname: "vm",
                                           daemonHostname: otherHost) == .mount)
        #expect(FileTransfer.auto.resolved(environment: ["DOCKER_HOST": "tcp://10.0.0.2:2376"], fileExists: none, localHostname: "vm",
                                           daemonHostname: sameHost) == .copy)
        #expect(FileTransfer.auto.resolved(environment: ["CONTAINER_HOST": "ssh://me@box/run/podman/podman.sock"], fileExists: none,
                                           localHostname: "vm", daemonHostname: sameHost) == .copy)
        // In a container: the host's daemon (another host name) does not see its files; a daemon
        // running in the same container does.
        for marker in ["/.dockerenv", "/run/.containerenv"] {
            let inContainer: (String) -> Bool = { $0 == marker }
            #expect(FileTransfer.auto.resolved(environment: [:], fileExists: inContainer, localHostname: "bc764b9615bd", daemonHostname: otherHost) == .copy)
            #expect(FileTransfer.auto.resolved(environment: [:], fileExists: inContainer, localHostname: "vm", daemonHostname: sameHost) == .mount)
            #expect(FileTransfer.auto.resolved(environment: [:], fileExists: inContainer, localHostname: "vm", daemonHostname: silent) == .copy)
        }
        #expect(FileTransfer.mount.resolved(environment: ["DOCKER_HOST": "tcp://x:1"], fileExists: { _ in true }, daemonHostname: otherHost) == .mount)
        #expect(FileTransfer.copy.resolved(environment: [:], fileExists: none, daemonHostname: sameHost) == .copy)
    }

    /// JSON with sorted keys, for comparing decoded values.
    static func canonical(_ x: Any?) -> String {
        guard let x, let d = try? JSONSerialization.data(withJSONObject: [x], options: [.sortedKeys]) else { return "null" }
        return String(decoding: d, as: UTF8.self)
    }

    static func volumes() throws -> Set<String> {
        Set(try DockerTest.docker(["volume", "ls", "-q"]).stdout.split(separator: "\n").map(String.init))
    }

    @Test func copyGivesTheSameProbeResultsAsMountAndLeavesNothingBehind() throws {
        if let reason = DockerTest.unavailableReason {
            if !DockerTest.skipped { Issue.record(Comment(rawValue: reason)) } else { print("skipped: \(reason)") }
            return
        }
        let fixtures = try Fixtures.directory().path
        let dir = try CheckedFixtures.scratch("transfer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A wheel too: its ELF members are staged, and reach the container under /muslcheck/s.
        try FileManager.default.createDirectory(atPath: dir + "/wheels", withIntermediateDirectories: true)
        let packed = try TestCommand.run("python3", ["-c", """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
            for name in sys.argv[3:]:
                z.write(sys.argv[2] + "/" + name, "pkg/" + name)
        """, dir + "/wheels/bundle-1.0-py3-none-any.whl", fixtures, "hello-musl", "libcxxlib.so"])
        try #require(packed.status == 0, "\(packed.stderr)")
        let before = try Self.volumes()
        var reports: [String: [String: Any]] = [:]
        for t in ["mount", "copy"] {
            let r = try CheckedFixtures.muslcheck(["check", fixtures, dir + "/wheels", "--image", DockerTest.baseImage, "--fail-on", "never", "--transfer", t,
                                                   "--run-id", "transfer\(t)", "--format", "json=\(dir)/\(t).json"])
            #expect(r.status == 0, "\(t): \(r.stderr)")
            if t == "copy" { #expect(!r.stderr.contains("bind-mount")) }
            let data = try #require(FileManager.default.contents(atPath: "\(dir)/\(t).json"))
            reports[t] = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        }
        func image(_ t: String) throws -> [String: Any] {
            try #require((reports[t]?["probes"] as? [[String: Any]])?.first, "\(t) has a probed image")
        }
        let m = try image("mount"), c = try image("copy")
        #expect((m["error"] as? String) == nil && (c["error"] as? String) == nil)
        let ml = try #require(m["loader"] as? [[String: Any]]), cl = try #require(c["loader"] as? [[String: Any]])
        #expect(ml.count > 20, "the fixtures' loader outcomes: \(ml.count)")
        #expect(ml.count == cl.count)
        for (a, b) in zip(ml, cl) {
            #expect(a["artifact"] as? String == b["artifact"] as? String)
            #expect(a["agreement"] as? String == b["agreement"] as? String, "\(a["artifact"] ?? "")")
            #expect(Self.canonical(a["listing"]) == Self.canonical(b["listing"]), "\(a["artifact"] ?? ""): the same listing")
        }
        #expect(ml.filter { $0["agreement"] as? String == "confirmed" }.count == ml.count, "every verdict confirmed")
        let mp = try #require(m["probes"] as? [[String: Any]]), cp = try #require(c["probes"] as? [[String: Any]])
        #expect(mp.count >= 10 && mp.count == cp.count)
        for (a, b) in zip(mp, cp) {
            #expect(a["status"] as? String == "ok" && b["status"] as? String == "ok", "\(a["id"] ?? ""): \(a["status"] ?? "") / \(b["status"] ?? "")")
            // The resolver's resolv.conf comes from the engine's --dns flags under copy: the same values.
            #expect(Self.canonical(a["values"]) == Self.canonical(b["values"]), "\(a["id"] ?? ""): \(Self.canonical(a["values"])) / \(Self.canonical(b["values"]))")
        }
        // The volume of each container went with it; no container is left.
        #expect(try Self.volumes().subtracting(before).isEmpty)
        for t in ["mount", "copy"] {
            let left = try DockerTest.docker(["ps", "-aq", "--filter", "label=org.muslcheck.run=transfer\(t)"])
            #expect(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        }
    }
}
