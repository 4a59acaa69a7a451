import Foundation
import Testing
import TestSupport

/// `muslcheck check` end to end, as a CI step runs it: exit codes, determinism, shards,
/// baselines, ignores, a dead engine, re-rendering and diffs.
@Suite(.serialized) struct CheckCommandTests {
    static func run(_ args: [String], env: [String: String]? = nil, in dir: String? = nil) throws -> CommandResult {
        try CheckedFixtures.muslcheck(args, environment: env, in: dir)
    }

    static func object(_ path: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: path), "\(path) was written")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A folder with copies of some fixtures.
    static func folder(_ names: [String]) throws -> String {
        let dir = try CheckedFixtures.scratch("check")
        for n in names {
            try FileManager.default.copyItem(atPath: try Fixtures.path(n), toPath: dir + "/" + (n as NSString).lastPathComponent)
        }
        return dir
    }

    /// nil when docker is skipped on purpose; a recorded issue when it is missing.
    static func image() -> String? {
        if let reason = DockerTest.unavailableReason {
            if !DockerTest.skipped { Issue.record(Comment(rawValue: reason)) } else { print("skipped: \(reason)") }
            return nil
        }
        return DockerTest.baseImage
    }

    @Test func failOnLevelsGiveTheDocumentedExitCodesAgainstTheImage() throws {
        guard let image = Self.image() else { return }
        let full = try CheckedFixtures.withImage!.get()
        #expect(full.status == 1, "the fixtures hold incompatible files")
        let fixturesReport = try Self.object(full.directory + "/report.json")
        let fixtureCounts = try #require((fixturesReport["counts"] as? [String: Any])?["verdicts"] as? [String: [String: Int]])
        #expect(fixtureCounts[image]?["incompatible"] ?? 0 >= 5)

        // A compatible library (glibc-built, loads on musl), a glibc program (needs gcompat), musl programs.
        let compatible = try Self.folder(["libweak.so"])
        let gcompat = try Self.folder(["hello-glibc"])
        let musl = try Self.folder(["hello-musl", "hello-musl-static"])
        defer { for d in [compatible, gcompat, musl] { try? FileManager.default.removeItem(atPath: d) } }
        let cases: [(String, String, Int32)] = [
            ("fixtures/build", "not-runnable", 1), ("fixtures/build", "incompatible", 1), ("fixtures/build", "never", 0),
            (compatible, "not-runnable", 0), (compatible, "incompatible", 0), (compatible, "needs-gcompat", 0), (compatible, "compatible", 1),
            (compatible, "never", 0),
            (gcompat, "not-runnable", 1), (gcompat, "incompatible", 0), (gcompat, "needs-gcompat", 1), (gcompat, "compatible", 1),
            (musl, "not-runnable", 0), (musl, "compatible", 0),
        ]
        for (path, level, expected) in cases {
            let r = try Self.run(["check", path, "--image", image, "--fail-on", level, "--probe", "loader", "--format", "json"])
            #expect(r.status == expected, "check \(path) --fail-on \(level): \(r.status), \(r.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect((report["inputs"] as? [String: Any])?["failOn"] as? String == level)
            // The loader probe ran in the image and confirmed each artifact (a static one by starting it).
            for a in report["artifacts"] as? [[String: Any]] ?? [] {
                let v = (a["verdicts"] as? [[String: Any]])?.first
                #expect(v?["loaderProbe"] as? String == "confirmed", "\(a["path"] ?? "")")
            }
        }
    }

    @Test func theSameInputsGiveTheSameBytes() throws {
        guard let image = Self.image() else { return }
        let first = try CheckedFixtures.withImage!.get()
        let dir = try CheckedFixtures.scratch("again")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let again = try Self.run(["check", "fixtures/build", "--image", image, "--format", "json=\(dir)/report.json", "--format", "sarif=\(dir)/r.sarif",
                                  "--format", "junit=\(dir)/r.xml", "--format", "markdown=\(dir)/r.md", "--format", "html=\(dir)/r.html"])
        #expect(again.status == first.status)
        let second = try #require(FileManager.default.contents(atPath: dir + "/report.json"))
        #expect(second == first.json, "two runs on the same inputs give byte-identical JSON")
        // With --timings the durations are there, and only then.
        let timed = try Self.run(["check", "fixtures/build", "--image", image, "--timings", "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(timed.stdout.utf8)) as? [String: Any])
        #expect((report["timings"] as? [String: Double])?["totalSeconds"] ?? 0 > 0)
        let probes = try #require((report["probes"] as? [[String: Any]])?.first?["probes"] as? [[String: Any]])
        #expect(probes.contains { $0["milliseconds"] != nil })
        #expect(!String(decoding: first.json, as: UTF8.self).contains("\"milliseconds\""))
        // Every format was written, and the saved report renders the same again.
        for f in ["r.sarif", "r.xml", "r.md", "r.html"] {
            let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + f)[.size] as? Int) ?? 0
            #expect(size > 1000, "\(f): \(size) bytes")
        }
        let rendered = try Self.run(["report", dir + "/report.json", "--format", "json"])
        #expect(rendered.status == 1, "the saved report still fails its gate")
        #expect(Data(rendered.stdout.utf8) == second, "report FILE --format json gives the file back")
    }

    @Test func mergingTheShardsGivesTheUnshardedReport() throws {
        guard let image = Self.image() else { return }
        let whole = try CheckedFixtures.withImage!.get()
        let dir = try CheckedFixtures.scratch("shards")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for n in [2, 3] {
            var files: [String] = []
            var artifactCounts: [Int] = []
            for i in 1...n {
                let file = "\(dir)/shard-\(i)-of-\(n).json"
                let r = try Self.run(["check", "fixtures/build", "--image", image, "--shard", "\(i)/\(n)", "--format", "json=\(file)"])
                #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
                let report = try Self.object(file)
                #expect((report["inputs"] as? [String: Any])?["shard"] as? String == "\(i)/\(n)")
                artifactCounts.append((report["artifacts"] as? [Any])?.count ?? 0)
                files.append(file)
            }
            #expect(artifactCounts.allSatisfy { $0 > 0 }, "every shard has work: \(artifactCounts)")
            let merged = "\(dir)/merged-\(n).json"
            let m = try Self.run(["report", "merge"] + files + ["--output", merged])
            #expect(m.status == 1, "the merged report fails like the whole one: \(m.stderr)")
            let data = try #require(FileManager.default.contents(atPath: merged))
            #expect(data == whole.json, "merging \(n) shards gives the unsharded report byte for byte")
        }
        // A shard given twice is refused.
        let twice = try Self.run(["report", "merge", "\(dir)/shard-1-of-2.json", "\(dir)/shard-1-of-2.json"])
        #expect(twice.status == 2)
        #expect(twice.stderr.contains("a shard is given twice"))
    }

    @Test func withoutAnEngineOnlyStaticAnalysisRunsAndTheExitIsThree() throws {
        let dir = try CheckedFixtures.scratch("noengine")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.run(["check", "fixtures/build", "--image", "alpine:3.20", "--format", "json=\(dir)/r.json", "--format", "text"],
                             env: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(r.status == 3, "engine error: \(r.stderr)")
        #expect(r.stderr.contains("muslcheck: error: docker:"))
        #expect(r.stdout.contains("note: no container engine answers"))
        let report = try Self.object(dir + "/r.json")
        let targets = try #require(report["targets"] as? [[String: Any]])
        #expect(targets.map { $0["name"] as? String } == ["alpine:3.20"], "the bundled profile stands in for the image")
        #expect(targets.first?["kind"] as? String == "profile")
        let notes = try #require(report["notes"] as? [String])
        #expect(notes.contains { $0.hasPrefix("no container engine answers") && $0.contains("only static analysis ran, against the bundled profile alpine:3.20 in place of alpine:3.20") })
        #expect((report["artifacts"] as? [Any])?.count ?? 0 > 20, "the static results are still written")
    }

    @Test func aBaselineSuppressesKnownFindingsAndANewOneStillFails() throws {
        let dir = try Self.folder(["hello-glibc", "hello-musl"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["check", ".", "--static-only", "--target", "alpine:3.22", "--fail-on", "needs-gcompat"]
        #expect(try Self.run(args, in: dir).status == 1, "hello-glibc needs gcompat")
        let written = try Self.run(args + ["--write-baseline", "baseline.json"], in: dir)
        #expect(written.status == 0, "writing a baseline accepts the current state: \(written.stderr)")
        let baseline = try Self.object(dir + "/baseline.json")
        #expect((baseline["findings"] as? [[String: Any]])?.contains { $0["id"] as? String == "MC100" && $0["artifact"] as? String == "./hello-glibc" } == true)

        let known = try Self.run(args + ["--baseline", "baseline.json", "--format", "json"], in: dir)
        #expect(known.status == 0, "known findings are suppressed: \(known.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(known.stdout.utf8)) as? [String: Any])
        let suppressed = try #require(report["suppressed"] as? [[String: Any]])
        #expect(suppressed.contains { $0["id"] as? String == "MC100" && $0["reason"] as? String == "baseline" })
        #expect((report["counts"] as? [String: Any])?["suppressed"] as? Int == suppressed.count)
        let glibc = (report["artifacts"] as? [[String: Any]])?.first { $0["path"] as? String == "./hello-glibc" }
        #expect((glibc?["verdicts"] as? [[String: Any]])?.first?["excused"] as? String == "baseline")

        // A new artifact with a new finding fails although the baseline is given.
        try FileManager.default.copyItem(atPath: try Fixtures.path("libifunc.so"), toPath: dir + "/libifunc.so")
        let new = try Self.run(args + ["--baseline", "baseline.json"], in: dir)
        #expect(new.status == 1)
        #expect(new.stdout.contains("Result: fail: 1 artifact incompatible\n"), "\(new.stdout)")
        let broken = try Self.run(args + ["--baseline", "missing.json"], in: dir)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("missing.json: cannot read the baseline file"))
    }

    @Test func theConfigFileIgnoresFindingsAndFlagsOverrideIt() throws {
        let dir = try Self.folder(["hello-glibc", "libifunc.so"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let initialized = try Self.run(["init"], in: dir)
        #expect(initialized.status == 0)
        // The starter config is valid as written: check reads it.
        let starter = try Self.run(["check", "--static-only", "--format", "json"], in: dir)
        #expect(starter.status == 1, "libifunc.so is incompatible: \(starter.stderr)")
        #expect(try Self.run(["init"], in: dir).status == 2, "init does not overwrite")

        try """
        paths: [.]
        targets: [alpine:3.22]
        failOn: needs-gcompat
        ignores:
          - id: "*"
            path: "**/libifunc.so"
            reason: vendored, replaced next release
          - id: MC100
            path: "./hello-*"
            reason: runs with gcompat in production
          - id: MC112
            path: "./hello-*"
            reason: runs with gcompat in production
        """.write(toFile: dir + "/muslcheck.yml", atomically: true, encoding: .utf8)
        let ignored = try Self.run(["check", "--static-only", "--format", "json"], in: dir)
        #expect(ignored.status == 0, "everything at or above needs-gcompat is ignored: \(ignored.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(ignored.stdout.utf8)) as? [String: Any])
        let suppressed = try #require(report["suppressed"] as? [[String: Any]])
        #expect(Set(suppressed.compactMap { $0["reason"] as? String }) == ["vendored, replaced next release", "runs with gcompat in production"])
        #expect((report["inputs"] as? [String: Any])?["failOn"] as? String == "needs-gcompat")
        // A flag overrides the file.
        let flagged = try Self.run(["check", "--static-only", "--fail-on", "compatible"], in: dir)
        #expect(flagged.status == 0, "ignored verdicts stay excused at every level")
        let other = try Self.run(["check", "--static-only", "--target", "alpine:3.16", "--format", "json"], in: dir)
        let otherTargets = (try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])?["targets"] as? [[String: Any]]
        #expect(otherTargets?.map { $0["name"] as? String } == ["alpine:3.16"])

        try "paths: [.]\nfailOn: incompatible\nfail_on: never\n".write(toFile: dir + "/muslcheck.yml", atomically: true, encoding: .utf8)
        let unknown = try Self.run(["check", "--static-only"], in: dir)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("muslcheck.yml:3"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("fail_on"))
    }

    @Test func usageErrorsExitTwo() throws {
        let cases: [([String], String)] = [
            (["check", "fixtures/build", "--format", "json", "--format", "text"], "only one format can go to stdout"),
            (["check", "fixtures/build", "--shard", "3/2"], "--shard"),
            (["check", "fixtures/build", "--format", "yaml"], "--format"),
            (["check", "no/such/dir"], "no/such/dir: no such file or directory"),
            (["check", "fixtures/build", "--probe", "nonsense", "--static-only"], "unknown probe nonsense"),
            (["report", "Package.swift"], "Package.swift: not a muslcheck report"),
        ]
        for (args, message) in cases {
            let r = try Self.run(args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }

    @Test func aFailedUserProbeIsAFindingAndFailsTheRun() throws {
        guard let image = Self.image() else { return }
        let dir = try Self.folder(["hello-musl"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        userProbes:
          - name: shell works
            command: /bin/sh
            args: ["-c", "echo hello"]
            stdout: ["^hello$"]
          - name: wants exit 0
            command: /bin/sh
            args: ["-c", "echo nope >&2; exit 3"]
            exitCode: 0
        """.write(toFile: dir + "/muslcheck.yml", atomically: true, encoding: .utf8)
        let r = try Self.run(["check", ".", "--image", image, "--probe", "loader", "--format", "json"], in: dir)
        #expect(r.status == 1, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems.first?["id"] as? String == "MC152")
        #expect((problems.first?["message"] as? String)?.hasPrefix("user probe 'wants exit 0' failed in \(image): ") == true)
        let users = (report["probes"] as? [[String: Any]])?.first?["userProbes"] as? [[String: Any]]
        #expect(users?.map { $0["passed"] as? Bool } == [true, false])
    }

    @Test func linksOutOfTheCheckedFolderAreJudgedAsMuslLoadsThem() throws {
        guard let image = Self.image() else { return }
        // Absolute links leave the checked folder: inside the container they would point into
        // the image. A program runs from where its link leads (musl reads /proc/self/exe): its
        // real folder is mounted. A library keeps the link's folder as its $ORIGIN: librunpath.so
        // (RUNPATH $ORIGIN) does not find libdep.so beside the link, and the container cannot
        // reproduce that, so the loader probe says so instead of guessing.
        let dir = try CheckedFixtures.scratch("links")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/prog", withDestinationPath: try Fixtures.path("hello-musl"))
        try FileManager.default.createSymbolicLink(atPath: dir + "/linked.so", withDestinationPath: try Fixtures.path("runpath/librunpath.so"))
        let r = try Self.run(["check", ".", "--image", image, "--probe", "loader", "--format", "json"], in: dir)
        #expect(r.status == 1, "linked.so misses libdep.so: \(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let artifacts = Dictionary(uniqueKeysWithValues: (report["artifacts"] as? [[String: Any]] ?? []).map { ($0["path"] as! String, $0) })
        let prog = try #require((artifacts["./prog"]?["verdicts"] as? [[String: Any]])?.first)
        #expect(prog["verdict"] as? String == "native-musl")
        #expect(prog["loaderProbe"] as? String == "confirmed")
        let lib = try #require(artifacts["./linked.so"])
        let libVerdict = try #require((lib["verdicts"] as? [[String: Any]])?.first)
        #expect(libVerdict["verdict"] as? String == "incompatible")
        #expect((libVerdict["loaderMessages"] as? [String])?.first == "Error loading shared library libdep.so: No such file or directory (needed by ./linked.so)")
        #expect(libVerdict["loaderProbe"] as? String == "not-run")
        let mc151 = (lib["findings"] as? [[String: Any]])?.first { $0["id"] as? String == "MC151" }
        #expect((mc151?["message"] as? String)?.contains("a symbolic link to ") == true)
        let loader = (report["probes"] as? [[String: Any]])?.first?["loader"] as? [[String: Any]]
        let listed = loader?.first { $0["artifact"] as? String == "./prog" }?["listing"] as? [String: Any]
        #expect((listed?["status"] as? Int) == 0)
    }

    @Test func diffListsWhatGotWorseAndBetter() throws {
        let dir = try Self.folder(["hello-musl", "libweak.so"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["check", ".", "--static-only", "--target", "alpine:3.22", "--fail-on", "never"]
        #expect(try Self.run(args + ["--format", "json=old.json"], in: dir).status == 0)
        try FileManager.default.copyItem(atPath: try Fixtures.path("libifunc.so"), toPath: dir + "/libifunc.so")
        try FileManager.default.removeItem(atPath: dir + "/libweak.so")
        #expect(try Self.run(args + ["--format", "json=new.json"], in: dir).status == 0)

        let worse = try Self.run(["report", "diff", "old.json", "new.json"], in: dir)
        #expect(worse.status == 1, "\(worse.stderr)")
        #expect(worse.stdout.contains("worse ("))
        #expect(worse.stdout.contains("✗ ./libifunc.so [alpine:3.22]: new artifact: incompatible"))
        #expect(worse.stdout.contains("+ MC105 Error relocating ./libifunc.so: unsupported relocation type 37"))
        #expect(worse.stdout.contains("~ ./libweak.so [alpine:3.22]: gone (was compatible)"))
        let better = try Self.run(["report", "diff", "new.json", "old.json", "--format", "json"], in: dir)
        #expect(better.status == 0)
        let d = try #require(try JSONSerialization.jsonObject(with: Data(better.stdout.utf8)) as? [String: Any])
        #expect((d["worse"] as? [Any])?.isEmpty == true)
        #expect((d["better"] as? [[String: Any]])?.contains { $0["artifact"] as? String == "./libifunc.so" && $0["text"] as? String == "gone (was incompatible)" } == true)
    }
}
