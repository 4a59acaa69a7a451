import Foundation
import Testing
import TestSupport
import Yams

/// The CI files in ci/ are valid YAML, run the matrix the README promises, and call muslcheck
/// only with subcommands and flags it has.
@Suite struct CIFilesTests {
    static func load(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent(path), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(path) is a YAML mapping")
    }

    /// Every `muslcheck ...` command line in the file's shell steps.
    static func commands(_ yaml: Any) -> [String] {
        var out: [String] = []
        func walk(_ x: Any) {
            if let s = x as? String {
                // Joined continuation lines.
                let joined = s.replacingOccurrences(of: "\\\n", with: " ")
                for line in joined.split(separator: "\n") {
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if t.hasPrefix("muslcheck ") || t.hasPrefix("/tmp/dist/muslcheck ") || t.hasPrefix("muslcheck-dist/muslcheck ") { out.append(t) }
                }
            } else if let a = x as? [Any] {
                a.forEach(walk)
            } else if let m = x as? [String: Any] {
                m.values.forEach(walk)
            }
        }
        walk(yaml)
        return out
    }

    /// Checks each command's subcommand and flags against `muslcheck ... --help`.
    static func verify(_ commands: [String]) throws {
        #expect(!commands.isEmpty)
        var help: [String: String] = [:]
        for c in commands {
            var words = c.split(separator: " ").map(String.init).dropFirst()
            var sub: [String] = []
            while let w = words.first, !w.hasPrefix("-"), ["check", "report", "merge", "diff", "init", "scan", "probe"].contains(w) {
                sub.append(w)
                words = words.dropFirst()
            }
            // `muslcheck report FILE` is `report render FILE`.
            if sub == ["report"] { sub.append("render") }
            let key = sub.joined(separator: " ")
            if help[key] == nil {
                let r = try CheckedFixtures.muslcheck(sub + ["--help"])
                #expect(r.status == 0, "muslcheck \(key) --help")
                help[key] = r.stdout
            }
            for w in words where w.hasPrefix("--") {
                let flag = String(w.split(separator: "=")[0])
                #expect(help[key]!.contains(flag), "`\(c)` uses \(flag), which `muslcheck \(key)` does not have")
            }
        }
    }

    @Test func theGitHubWorkflowRunsTheMatrixAndUploadsTheReports() throws {
        let wf = try Self.load("ci/github/muslcheck.yml")
        let jobs = try #require(wf["jobs"] as? [String: Any])
        #expect(Set(jobs.keys) == ["build", "check", "report"])
        let check = try #require(jobs["check"] as? [String: Any])
        let matrix = try #require((check["strategy"] as? [String: Any])?["matrix"] as? [String: Any])
        #expect(matrix["alpine"] as? [String] == ["3.20", "3.21", "3.22"])
        #expect((matrix["shard"] as? [Int])?.count ?? 0 >= 2)
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("ci/github/muslcheck.yml"), encoding: .utf8)
        for needle in ["--shard", "report merge", "upload-sarif", "sarif=muslcheck.sarif", "html=muslcheck.html", "markdown=$GITHUB_STEP_SUMMARY", "--format github"] {
            #expect(text.contains(needle), "the workflow has \(needle)")
        }
        try Self.verify(Self.commands(wf))
    }

    @Test func theGitLabJobRunsTheMatrixAndKeepsTheReports() throws {
        let ci = try Self.load("ci/gitlab/muslcheck.gitlab-ci.yml")
        let check = try #require(ci["muslcheck:check"] as? [String: Any])
        let matrix = try #require(((check["parallel"] as? [String: Any])?["matrix"] as? [[String: Any]])?.first)
        #expect(matrix["ALPINE"] as? [String] == ["3.20", "3.21", "3.22"])
        #expect((matrix["SHARD"] as? [String])?.count ?? 0 >= 2)
        let report = try #require(ci["muslcheck:report"] as? [String: Any])
        let artifacts = try #require(report["artifacts"] as? [String: Any])
        #expect((artifacts["reports"] as? [String: Any])?["junit"] as? String == "muslcheck-$ALPINE.xml")
        #expect((artifacts["paths"] as? [String])?.contains("muslcheck-$ALPINE.sarif") == true)
        #expect((artifacts["paths"] as? [String])?.contains("muslcheck-$ALPINE.html") == true)
        try Self.verify(Self.commands(ci))
    }
    /// ci/setup's apt-get waits for another apt-get or dpkg that holds dpkg's lock, instead of
    /// failing at once (a plain apt-get fails with "Could not get lock").
    @Test func setupWaitsForTheDpkgLock() throws {
        guard getuid() == 0 else {
            print("skipped: taking dpkg's lock needs root")
            return
        }
        guard TestCommand.exists("apt-get"), FileManager.default.fileExists(atPath: "/var/lib/dpkg/lock-frontend") else {
            print("skipped: not a Debian machine (no apt-get, no dpkg lock)")
            return
        }
        // Another process holds the lock for 8 seconds.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: try TestCommand.which("python3"))
        holder.arguments = ["-c", """
        import fcntl, sys, time
        f = open("/var/lib/dpkg/lock-frontend", "w")
        fcntl.lockf(f, fcntl.LOCK_EX)
        print("locked", flush=True)
        time.sleep(8)
        """]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        _ = out.fileHandleForReading.readData(ofLength: 7)
        let plain = try TestCommand.run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "hostname"])
        #expect(plain.status != 0 && plain.stderr.contains("Could not get lock"), "apt-get alone fails: \(plain.stderr)")
        let started = Date()
        let lib = TestPaths.packageRoot.appendingPathComponent("ci/lib.sh").path
        let waited = try TestCommand.run("bash", ["-c", ". \"$0\"; SUDO=; apt_get install -y -qq --no-install-recommends hostname", lib])
        #expect(waited.status == 0, "\(waited.stderr)")
        #expect(Date().timeIntervalSince(started) > 3, "it waited for the lock")
        holder.waitUntilExit()
    }
}

