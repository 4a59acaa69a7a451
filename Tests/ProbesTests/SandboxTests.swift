import Foundation
import Testing
import TestSupport

/// The sandbox holds, hostile probes are contained, and containers never outlive the run.
@Suite(.serialized) struct SandboxTests {
    static func dockerReady() -> Bool {
        guard let reason = DockerTest.unavailableReason else { return true }
        if DockerTest.skipped { print("skipped: \(reason)") } else { Issue.record(Comment(rawValue: reason)) }
        return false
    }

    static func write(_ text: String, name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-\(name)-\(getpid()).yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func outcomes(_ r: CommandResult) throws -> [String: [String: Any]] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        let image = try #require((json["images"] as? [[String: Any]])?.first)
        let user = try #require(image["userProbes"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: user.map { ($0["name"] as! String, $0) })
    }

    @Test func hostileProbesAreContainedAndTheRunCompletes() throws {
        guard Self.dockerReady() else { return }
        let config = try Self.write("""
        userProbes:
          - name: network
            command: nc
            args: ["-w", "3", "1.1.1.1", "80"]
            exitCode: 1
            stderr: ["Network is unreachable"]
          - name: read-only root
            command: sh
            args: ["-c", "echo x > /etc/muslcheck-was-here"]
            exitCode: 1
            stderr: ["Read-only file system"]
          - name: fork bomb
            command: sh
            args: ["-c", "(b() { b | b & }; b); while :; do :; done"]
            timeout: 4
          - name: memory
            command: dd
            args: ["if=/dev/zero", "of=/dev/null", "bs=600M", "count=1"]
          - name: output flood
            command: sh
            args: ["-c", "yes 0123456789abcdef0123456789abcdef | head -c 1073741824"]
            timeout: 60
          - name: endless loop
            command: sh
            args: ["-c", "while :; do :; done"]
            timeout: 2
          - name: tmp is writable, and the container still works
            command: sh
            args: ["-c", "echo ok > /tmp/x && cat /tmp/x && id -u"]
            stdout: ["^ok\\n65534$"]
        """, name: "hostile")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let started = Date()
        let r = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", DockerTest.baseImage, "--pull", "never", "--probe", "getopt",
                                                          "--config", config, "--format", "json"])
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 1, "some user probes fail by design: \(r.stderr)")
        #expect(elapsed < 90)
        let o = try Self.outcomes(r)
        #expect(o.count == 7, "every probe has a result")
        #expect(o["network"]?["passed"] as? Bool == true, "no network: \(o["network"] ?? [:])")
        #expect(o["read-only root"]?["passed"] as? Bool == true, "\(o["read-only root"] ?? [:])")
        #expect(o["fork bomb"]?["status"] as? String == "timeout", "killed at its limit with all its processes")
        let memory = try #require(o["memory"])
        #expect(memory["passed"] as? Bool == false)
        #expect((memory["failures"] as? [String])?.joined().contains("signal 9") == true || memory["exitCode"] as? Int != 0,
                "the memory limit stops it: \(memory)")
        let flood = try #require(o["output flood"])
        #expect(flood["status"] as? String == "output-limit", "\(flood)")
        #expect((flood["stdout"] as? String)?.count ?? .max <= 2000, "output kept is capped")
        #expect(o["endless loop"]?["status"] as? String == "timeout")
        #expect(o["tmp is writable, and the container still works"]?["passed"] as? Bool == true,
                "\(o["tmp is writable, and the container still works"] ?? [:])")
    }

    @Test func containerStructureTestFilesRunTheirCommandTests() throws {
        guard Self.dockerReady() else { return }
        let cst = try Self.write("""
        schemaVersion: 2.0.0
        commandTests:
          - name: "busybox answers"
            command: "sh"
            args: ["-c", "echo hello $WHO"]
            envVars:
              - key: WHO
                value: musl
            expectedOutput: ["hello musl"]
          - name: "wrong exit code"
            command: "true"
            exitCode: 3
        fileExistenceTests:
          - name: "sh"
            path: "/bin/sh"
            shouldExist: true
        """, name: "cst")
        defer { try? FileManager.default.removeItem(atPath: cst) }
        let r = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", DockerTest.baseImage, "--pull", "never", "--probe", "getopt",
                                                          "--cst", cst, "--format", "json"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("skipped fileExistenceTests"))
        let o = try Self.outcomes(r)
        #expect(o["busybox answers"]?["passed"] as? Bool == true, "\(o["busybox answers"] ?? [:])")
        #expect(o["wrong exit code"]?["passed"] as? Bool == false)
        #expect((o["wrong exit code"]?["failures"] as? [String]) == ["exit status 0, expected 3"])
    }

    @Test func configErrorsNameTheLine() throws {
        let bad = try Self.write("""
        userProbes:
          - name: x
            command: sh
            colour: blue
        """, name: "bad")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let r = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", "whatever", "--config", bad])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(bad):4: unknown key 'colour' in a user probe"))
    }

    /// Sends `signal` to a running probe; no container of its run may remain.
    func interrupt(with signal: Int32, expectedStatus: Int32) throws {
        let runID = "test-\(signal)-\(UUID().uuidString.prefix(6).lowercased())"
        let config = try Self.write("""
        userProbes:
          - name: long
            command: sleep
            args: ["60"]
            timeout: 120
        """, name: "long-\(signal)")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.muslcheck)
        process.arguments = ["probe", "--image", DockerTest.baseImage, "--pull", "never", "--probe", "getopt", "--config", config,
                             "--run-id", runID]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait for the container to exist.
        var seen = false
        for _ in 0..<200 {
            let ps = try DockerTest.docker(["ps", "-q", "--filter", "label=org.muslcheck.run=\(runID)"])
            if !ps.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { seen = true; break }
            usleep(100_000)
        }
        #expect(seen, "the run's container started")
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(process.terminationStatus == expectedStatus)
        let left = try DockerTest.docker(["ps", "-aq", "--filter", "label=org.muslcheck.run=\(runID)"])
        #expect(left.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "containers left: \(left.stdout)")
    }

    @Test func sigintRemovesTheRunsContainers() throws {
        guard Self.dockerReady() else { return }
        try interrupt(with: SIGINT, expectedStatus: 130)
    }

    @Test func sigtermRemovesTheRunsContainers() throws {
        guard Self.dockerReady() else { return }
        try interrupt(with: SIGTERM, expectedStatus: 143)
    }

    @Test func engineProblemsGiveASentenceAndExitThree() throws {
        let dead = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", "alpine:3.20"],
                                       environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(dead.status == 3)
        #expect(dead.stderr.contains("no docker daemon answers at DOCKER_HOST=unix:///nonexistent/docker.sock"))
        guard Self.dockerReady() else { return }
        let missing = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", "muslcheck-test/absent:0", "--pull", "never"])
        #expect(missing.status == 3)
        #expect(missing.stderr.contains("image muslcheck-test/absent:0 is not present locally and --pull never forbids pulling it"))
        let noCLI = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", "x", "--engine", "podman"], environment: ["PATH": "/nonexistent"])
        #expect(noCLI.status == 3)
        #expect(noCLI.stderr.contains("the podman command is not installed"))
    }
}
