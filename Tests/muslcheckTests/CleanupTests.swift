import Foundation
import Testing
import TestSupport

/// Nothing a run makes outlives it: its temporary folders and files, its containers, whatever
/// way it ends (success, SIGINT, SIGTERM, SIGHUP); what a run killed with SIGKILL left, the next
/// run removes.
@Suite(.serialized) struct CleanupTests {
    /// A private TMPDIR, a probe cache, a folder to check (fixtures and a zip of them, whose
    /// members the loader probe stages) and a config with a user probe that sleeps.
    struct Workspace {
        var root: String
        var tmp: String { root + "/tmp" }
        var cache: String { root + "/cache" }
        var input: String { root + "/input" }
        var config: String { root + "/muslcheck.yml" }

        init() throws {
            root = try CheckedFixtures.scratch("cleanup")
            for d in [tmp, cache, input] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            var members: [String] = []
            for name in ["hello-glibc", "hello-musl", "libcxxlib.so", "libweak.so"] {
                let to = input + "/" + name
                try FileManager.default.copyItem(atPath: try Fixtures.path(name), toPath: to)
                members.append(name)
            }
            let zip = try TestCommand.run("python3", ["-c", """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                for name in sys.argv[3:]:
                    z.write(sys.argv[2] + "/" + name, "pkg/" + name)
            """, input + "/bundle.whl", input] + members)
            guard zip.status == 0 else { throw TestSupportError("zip: \(zip.stderr)") }
            try """
            userProbes:
              - name: long
                command: sleep
                args: ["60"]
                timeout: 120
            """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        /// What runs left in the private TMPDIR and the cache (the cache's finished builds stay).
        func leftovers() -> [String] {
            let inTmp = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
            let inCache = ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { !$0.hasPrefix("probes-") }
            let inInput = ((try? FileManager.default.contentsOfDirectory(atPath: input)) ?? []).filter { $0.contains("muslcheck") }
            return inTmp.map { "tmp/" + $0 } + inCache.map { "cache/" + $0 } + inInput.map { "input/" + $0 }
        }

        func remove() { try? FileManager.default.removeItem(atPath: root) }
    }

    /// Whether the container tests can run: a skip on purpose says so, a missing daemon fails.
    static func dockerReady() -> Bool {
        guard let reason = DockerTest.unavailableReason else { return true }
        if DockerTest.skipped { print("skipped: \(reason)") } else { Issue.record(Comment(rawValue: reason)) }
        return false
    }

    static func containers(_ runID: String, engine: String = "docker") throws -> String {
        try TestCommand.run(engine, ["ps", "-aq", "--filter", "label=org.muslcheck.run=\(runID)"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts `check` on the workspace against the test image; the report goes to a file in the input folder.
    static func start(_ w: Workspace, runID: String, freshCache: Bool, engine: String = "docker") throws -> Process {
        if freshCache {
            try? FileManager.default.removeItem(atPath: w.cache)
            try FileManager.default.createDirectory(atPath: w.cache, withIntermediateDirectories: true)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.muslcheck)
        process.arguments = ["check", w.input, "--image", engine == "podman" ? PodmanTests.image : DockerTest.baseImage, "--pull", "never",
                             "--engine", engine, "--config", w.config,
                             "--cache-dir", w.cache, "--run-id", runID, "--format", "json=\(w.input)/report.json"]
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": w.tmp]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test(arguments: ["docker", "podman"])
    func interruptedRunsLeaveNoFolderAndNoContainer(engine: String) throws {
        guard Self.dockerReady() else { return }
        if engine == "podman" && !PodmanTests.ready() { return }
        let w = try Workspace()
        defer { w.remove() }
        // Moments: building the probes (fresh cache), staging and starting the container, the
        // container running; each signal at least once.
        let moments: [(Int32, Int32, Double, Bool)] = [
            (SIGINT, 130, 0.3, true), (SIGTERM, 143, 1.5, true), (SIGHUP, 129, 0.8, false),
            (SIGINT, 130, 2.0, false), (SIGTERM, 143, 4.0, false),
        ]
        var sawStaging = false
        for (n, (signal, status, after, fresh)) in moments.enumerated() {
            let runID = "cleanup-\(n)-\(UUID().uuidString.prefix(6).lowercased())"
            let process = try Self.start(w, runID: runID, freshCache: fresh, engine: engine)
            let deadline = Date().addingTimeInterval(after)
            while Date() < deadline && process.isRunning {
                if w.leftovers().contains(where: { $0.hasPrefix("tmp/muslcheck-run-") }) { sawStaging = true }
                usleep(20_000)
            }
            #expect(process.isRunning, "the run was still going after \(after) s")
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
            #expect(process.terminationStatus == status, "signal \(signal) after \(after) s")
            #expect(w.leftovers().isEmpty, "signal \(signal) after \(after) s left: \(w.leftovers())")
            let containers = try Self.containers(runID, engine: engine)
            #expect(containers.isEmpty, "\(engine): signal \(signal) after \(after) s left containers: \(containers)")
            #expect(!FileManager.default.fileExists(atPath: w.input + "/report.json"), "no report is written by an interrupted run")
        }
        #expect(sawStaging, "some interrupt came while a staging folder existed")
    }

    @Test func aRunRemovesWhatARunKilledWithSIGKILLLeft() throws {
        guard Self.dockerReady() else { return }
        let w = try Workspace()
        defer { w.remove() }
        let runID = "killed-\(UUID().uuidString.prefix(6).lowercased())"
        let process = try Self.start(w, runID: runID, freshCache: false)
        var staged: [String] = []
        for _ in 0..<600 where process.isRunning {
            staged = w.leftovers().filter { $0.hasPrefix("tmp/muslcheck-run-") }
            if !staged.isEmpty { break }
            usleep(50_000)
        }
        #expect(!staged.isEmpty, "the run made a staging folder")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(!w.leftovers().filter { $0.hasPrefix("tmp/muslcheck-run-") }.isEmpty, "SIGKILL leaves the folder")
        // A folder of another live process, or not named as a run's, is left alone.
        let alive = w.tmp + "/muslcheck-run-1-keep"
        let other = w.tmp + "/muslcheck-other-\(process.processIdentifier)-x"
        for d in [alive, other] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        _ = try? DockerTest.docker(["rm", "-f"] + (try Self.containers(runID)).split(separator: "\n").map(String.init))

        let next = try TestCommand.run(TestPaths.muslcheck, ["check", w.input + "/hello-musl", "--image", DockerTest.baseImage, "--pull", "never",
                                                             "--probe", "loader", "--cache-dir", w.cache, "--format", "json"],
                                       environment: ["TMPDIR": w.tmp])
        #expect(next.status == 0, "\(next.stderr)")
        let left = w.leftovers().sorted()
        #expect(left == ["tmp/muslcheck-other-\(process.processIdentifier)-x", "tmp/muslcheck-run-1-keep"], "\(left)")
    }
}
