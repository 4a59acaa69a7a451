import Foundation
import Testing
import TestSupport
import Yams

/// The CI files (ci/github, ci/gitlab and the GitHub Action, action.yml) are valid YAML, match
/// their official schemas, run the matrix the README promises, and call muslcheck only with
/// subcommands and flags it has.
@Suite struct CIFilesTests {
    static func load(_ path: String) throws -> [String: Any] {
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent(path), encoding: .utf8)
        return try #require(try Yams.load(yaml: text) as? [String: Any], "\(path) is a YAML mapping")
    }

    /// Every `muslcheck ...` command line in the file's shell steps (a workflow's or GitLab job's
    /// `run`/`script`, action.yml's composite steps).
    static func commands(_ yaml: Any) -> [String] {
        var out: [String] = []
        func walk(_ x: Any) {
            if let s = x as? String {
                // Joined continuation lines.
                let joined = s.replacingOccurrences(of: "\\\n", with: " ")
                for line in joined.split(separator: "\n") {
                    let t = line.trimmingCharacters(in: .whitespaces)
                    if t.hasPrefix("muslcheck ") || t.hasPrefix("muslcheck-dist/muslcheck ") { out.append(t) }
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

    /// The inputs action.yml declares.
    static func actionInputs() throws -> [String: Any] {
        try #require(try load("action.yml")["inputs"] as? [String: Any])
    }

    @Test func theGitHubWorkflowRunsTheMatrixThroughTheAction() throws {
        let wf = try Self.load("ci/github/muslcheck.yml")
        let permissions = try #require(wf["permissions"] as? [String: Any])
        #expect(permissions["security-events"] as? String == "write")
        #expect(permissions["contents"] as? String == "read")
        let jobs = try #require(wf["jobs"] as? [String: Any])
        #expect(Set(jobs.keys) == ["check"])
        let check = try #require(jobs["check"] as? [String: Any])
        let matrix = try #require((check["strategy"] as? [String: Any])?["matrix"] as? [String: Any])
        #expect(matrix["alpine"] as? [String] == ["3.20", "3.21", "3.22"])
        let steps = try #require(check["steps"] as? [[String: Any]])
        let action = try #require(steps.first { ($0["uses"] as? String)?.hasPrefix("muslcheck/muslcheck@") == true })
        #expect(action["uses"] as? String == "muslcheck/muslcheck@v0.1.0")
        let with = try #require(action["with"] as? [String: Any])
        #expect(with["images"] as? String == "alpine:${{ matrix.alpine }}")
        // One code scanning category (and artifact) per release.
        #expect((with["sarif-category"] as? String)?.contains("${{ matrix.alpine }}") == true)
        let inputs = try Self.actionInputs()
        for key in with.keys {
            #expect(inputs[key] != nil, "the workflow passes \(key), which action.yml does not declare")
        }
    }

    /// action.yml: its inputs and outputs, the muslcheck command line (flags as `muslcheck check
    /// --help` has them, also those added to its argument list), the reports it writes and
    /// uploads, and no `${{ }}` inside a shell script (inputs reach the shell through env).
    @Test func theActionRunsCheckWithItsInputsAndUploadsTheReports() throws {
        let action = try Self.load("action.yml")
        #expect(action["name"] as? String == "muslcheck")
        let inputs = try Self.actionInputs()
        let defaults: [String: String] = [
            "paths": ".", "images": "alpine:3.22", "targets": "", "fail-on": "not-runnable", "formats": "",
            "version": "0.1.0", "upload-sarif": "true", "sarif-category": "muslcheck", "upload-html": "true",
        ]
        #expect(Set(inputs.keys) == Set(defaults.keys))
        for (key, value) in defaults {
            let input = try #require(inputs[key] as? [String: Any], "input \(key)")
            #expect(input["default"] as? String == value, "input \(key)'s default")
            #expect(!((input["description"] as? String) ?? "").isEmpty, "input \(key) has a description")
        }
        let outputs = try #require(action["outputs"] as? [String: Any])
        #expect(Set(outputs.keys) == ["exit-code", "sarif", "html", "json"])
        let runs = try #require(action["runs"] as? [String: Any])
        #expect(runs["using"] as? String == "composite")
        let steps = try #require(runs["steps"] as? [[String: Any]])
        for step in steps {
            if let run = step["run"] as? String {
                #expect(!run.contains("${{"), "step \(step["name"] ?? "?") interpolates an expression into its script")
                #expect(step["shell"] as? String == "bash")
            }
        }
        let uses = steps.compactMap { $0["uses"] as? String }
        for prefix in ["actions/cache/restore@v4", "actions/cache/save@v4", "github/codeql-action/upload-sarif@v3", "actions/upload-artifact@v4"] {
            #expect(uses.contains(prefix), "the action uses \(prefix)")
        }
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("action.yml"), encoding: .utf8)
        for needle in ["releases/download/v$VERSION", "linux-x86_64.tar.gz", "sha256sum -c --ignore-missing SHA256SUMS",
                       "apt-get install -y --no-install-recommends libelf1 zlib1g liblzma5", ">> \"$GITHUB_PATH\"",
                       "sarif=$name.sarif", "html=$name.html", "json=$name.json", "markdown=$GITHUB_STEP_SUMMARY",
                       "--format github", "exit-code=$status", "hashFiles("] {
            #expect(text.contains(needle), "the action has \(needle)")
        }
        let commands = Self.commands(action)
        #expect(commands.contains { $0.hasPrefix("muslcheck check ") })
        try Self.verify(commands)
        // Flags added to the argument list (args+=(--image "$ref")) are check's too.
        let help = try CheckedFixtures.muslcheck(["check", "--help"]).stdout
        var added: [String] = []
        for line in text.split(separator: "\n") {
            var rest = line[...]
            while let r = rest.range(of: "+=(--") {
                let flag = "--" + rest[r.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" }
                added.append(flag)
                rest = rest[r.upperBound...]
            }
        }
        #expect(Set(added) == ["--image", "--target", "--format"])
        for flag in added {
            #expect(help.contains(flag), "action.yml adds \(flag), which `muslcheck check` does not have")
        }
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

    /// check-jsonschema (PyPI; ci/setup installs it) with one of its bundled schemas, run in the
    /// package root.
    static func checkJSONSchema(_ schema: String, _ file: String) throws -> CommandResult {
        guard TestCommand.exists("check-jsonschema") else {
            throw TestSupportError("check-jsonschema is missing: run ci/setup (pip install check-jsonschema)")
        }
        return try TestCommand.run("check-jsonschema", ["--builtin-schema", schema, file],
                                   currentDirectory: TestPaths.packageRoot.path)
    }

    @Test(arguments: [
        ("vendor.github-actions", "action.yml"),
        ("vendor.github-workflows", "ci/github/muslcheck.yml"),
        ("vendor.gitlab-ci", "ci/gitlab/muslcheck.gitlab-ci.yml"),
    ])
    func theFileMatchesItsOfficialSchema(schema: String, file: String) throws {
        let r = try Self.checkJSONSchema(schema, file)
        #expect(r.status == 0, "check-jsonschema --builtin-schema \(schema) \(file) exited \(r.status):\n\(r.stdout)\(r.stderr)")
    }

    /// The validation can fail: action.yml without runs.using is rejected.
    @Test func theActionSchemaRejectsAnActionWithoutRunsUsing() throws {
        let text = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("action.yml"), encoding: .utf8)
        let line = "\n  using: composite\n"
        #expect(text.components(separatedBy: line).count == 2, "action.yml has runs.using once")
        let broken = text.replacingOccurrences(of: line, with: "\n")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-action-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("action.yml")
        try broken.write(to: file, atomically: true, encoding: .utf8)
        let runs = try #require(try Yams.load(yaml: broken) as? [String: Any])["runs"] as? [String: Any]
        #expect(runs?["using"] == nil && runs?["steps"] != nil, "only runs.using is gone")
        let r = try Self.checkJSONSchema("vendor.github-actions", file.path)
        #expect(r.status == 1, "check-jsonschema exited \(r.status):\n\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("'using' is a required property"), "\(r.stdout)\(r.stderr)")
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

