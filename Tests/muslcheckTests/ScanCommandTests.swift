import Foundation
import Testing
import TestSupport

/// `muslcheck scan` as a user runs it.
@Suite struct ScanCommandTests {
    static func scan(_ args: [String], env: [String: String]? = nil) throws -> CommandResult {
        try TestCommand.run(TestPaths.muslcheck, ["scan"] + args, environment: env)
    }

    static func json(_ r: CommandResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "stdout is a JSON object: \(r.stderr)")
    }

    /// A folder with copies of some fixtures.
    static func folder(_ names: [String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-cli-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for n in names {
            try FileManager.default.copyItem(atPath: try Fixtures.path(n), toPath: dir + "/" + (n as NSString).lastPathComponent)
        }
        return dir
    }

    @Test func jsonReportHasTheDocumentedKeysAndVerdicts() throws {
        let r = try Self.scan(["--format", "json", try Fixtures.directory().path])
        #expect(r.status == 1, "libifunc.so is incompatible: exit 1 at the default --fail-on")
        let report = try Self.json(r)
        #expect(report["schemaVersion"] as? Int == 1)
        #expect((report["tool"] as? [String: Any])?["name"] as? String == "muslcheck")
        let targets = try #require(report["targets"] as? [[String: Any]])
        #expect(targets.map { $0["name"] as? String } == ["alpine:3.22"])
        #expect(targets.first?["musl"] as? String == "1.2.5")
        let artifacts = try #require(report["artifacts"] as? [[String: Any]])
        let root = try Fixtures.directory().path + "/"
        let byName = Dictionary(uniqueKeysWithValues: artifacts.map { (String(($0["path"] as! String).dropFirst(root.count)), $0) })
        func verdict(_ name: String) -> String? { ((byName[name]?["verdicts"] as? [[String: Any]])?.first)?["verdict"] as? String }
        #expect(verdict("hello-musl") == "native-musl")
        #expect(verdict("hello-glibc") == "needs-gcompat")
        #expect(verdict("hello-glibc-static") == "static")
        #expect(verdict("libifunc.so") == "incompatible")
        #expect(verdict("libcxxlib.so") == "compatible")
        #expect(byName["libcxxlib.so"]?["libc"] as? String == "glibc")
        #expect((byName["libcxxlib.so"]?["highestVersions"] as? [String: String])?["GLIBCXX"] == "3.4.21")
        let findings = try #require(byName["libifunc.so"]?["findings"] as? [[String: Any]])
        #expect(findings.contains { $0["id"] as? String == "MC105" && ($0["message"] as? String)?.hasSuffix("unsupported relocation type 37") == true })
        let counts = try #require(report["counts"] as? [String: Any])
        #expect((counts["verdicts"] as? [String: [String: Int]])?["alpine:3.22"]?["incompatible"] ?? 0 >= 4)
        #expect(counts["artifacts"] as? Int == artifacts.count)
    }

    /// Files wait in the queue with their directory open; under a low descriptor limit the scan
    /// still opens every file (past its budget of open directories it uses full paths).
    @Test func aLowDescriptorLimitLosesNoFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-fds-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let library = try Fixtures.path("libweak.so")
        for i in 0..<300 {
            let sub = dir + "/d\(i)"
            try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: library, toPath: sub + "/libweak.so")
            try Data("text \(i)\n".utf8).write(to: URL(fileURLWithPath: sub + "/notes.txt"))
        }
        let r = try TestCommand.run("/bin/sh", ["-c", "ulimit -n 48 && exec \"$0\" scan --format json --fail-on never \"$1\"", TestPaths.muslcheck, dir])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try Self.json(r)
        let counts = try #require(report["counts"] as? [String: Any])
        #expect(counts["files"] as? Int == 600)
        #expect(counts["elfFiles"] as? Int == 300)
        #expect((report["problems"] as? [Any])?.count == 0, "\(report["problems"] ?? "")")
    }

    @Test func failOnDecidesTheExitCode() throws {
        let musl = try Self.folder(["hello-musl", "hello-musl-static"])
        let compatible = try Self.folder(["libweak.so"])
        let gcompat = try Self.folder(["hello-glibc"])
        defer { for d in [musl, compatible, gcompat] { try? FileManager.default.removeItem(atPath: d) } }
        let cases: [(String, String, Int32)] = [
            (musl, "compatible", 0), (compatible, "incompatible", 0), (compatible, "needs-gcompat", 0),
            (compatible, "compatible", 1), (gcompat, "incompatible", 0), (gcompat, "needs-gcompat", 1),
            (gcompat, "never", 0),
        ]
        for (dir, level, code) in cases {
            let r = try Self.scan(["--fail-on", level, dir])
            #expect(r.status == code, "\(dir) --fail-on \(level): \(r.stderr)")
        }
        let bad = try Self.scan(["--fail-on", "sometimes", musl])
        #expect(bad.status == 2)
    }

    @Test func textReportLeadsWithWhatToDoThenTheArtifactsWorstFirst() throws {
        let r = try Self.scan([try Fixtures.directory().path])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[3] == "What to do, worst first:")
        let header = try #require(lines.firstIndex { $0.hasPrefix("Does not run as given on alpine:3.22: ") })
        let artifactLines = lines[header...].filter { $0.hasPrefix("  ✗") || $0.hasPrefix("  !") }
        #expect(artifactLines.first?.hasPrefix("  ✗ incompatible") == true, "worst first")
        #expect(lines[4..<header].contains { $0.hasPrefix("  ! apk add gcompat (") }, "the gcompat action")
        #expect(lines.filter { $0.hasPrefix("Summary:") }.count == 1)
        #expect(!r.stdout.contains("fix: "), "fixes per finding only with --verbose")
        let verbose = try Self.scan(["--verbose", try Fixtures.directory().path])
        #expect(verbose.stdout.contains("fix: apk add gcompat"))
        #expect(!r.stdout.contains("\u{1b}["), "no color when stdout is not a terminal")
    }

    @Test func unknownTargetIsAUsageError() throws {
        let r = try Self.scan(["--target", "alpine:9.99", "."])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown target 'alpine:9.99'"))
        #expect(r.stderr.contains("alpine:3.22"))
    }

    @Test func specialFilesAndUnreadableFilesDoNotStopTheScan() throws {
        let dir = try Self.folder(["hello-musl", "hello-glibc"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/pipe", 0o644) == 0)
        #expect(chmod(dir + "/hello-glibc", 0) == 0)
        chmod(dir, 0o755)
        // As an unprivileged user (root reads everything).
        var args = [TestPaths.muslcheck, "scan", "--format", "json", dir]
        if getuid() == 0 { args = ["--reuid=65534", "--regid=65534", "--clear-groups", "--"] + args }
        let r = try TestCommand.run(getuid() == 0 ? "setpriv" : TestPaths.muslcheck, getuid() == 0 ? args : Array(args.dropFirst()))
        let report = try Self.json(r)
        let problems = try #require(report["problems"] as? [[String: Any]])
        #expect(problems.contains { $0["id"] as? String == "MC001" && ($0["artifact"] as? String) == dir + "/hello-glibc" && ($0["message"] as? String)?.contains("Permission denied") == true })
        let artifacts = try #require(report["artifacts"] as? [[String: Any]])
        #expect(artifacts.map { ($0["path"] as! String as NSString).lastPathComponent } == ["hello-musl"])
        #expect((report["counts"] as? [String: Any])?["specialFiles"] as? Int == 1)
    }

    @Test func imageIsScannedAndIsTheTarget() throws {
        if let reason = DockerTest.unavailableReason {
            if DockerTest.skipped { print("skipped: \(reason)"); return }
            Issue.record(Comment(rawValue: reason)); return
        }
        let r = try Self.scan(["--format", "json", "--image", DockerTest.baseImage, "--pull", "never", try Fixtures.path("libcxxlib.so"), try Fixtures.path("hello-musl")])
        #expect(r.status == 1, "libcxxlib.so cannot load in the bare image: \(r.stderr)")
        let report = try Self.json(r)
        let target = try #require((report["targets"] as? [[String: Any]])?.first)
        #expect(target["kind"] as? String == "image")
        #expect(target["musl"] as? String == "1.2.3")
        #expect((target["imageID"] as? String)?.hasPrefix("sha256:") == true)
        let artifacts = try #require(report["artifacts"] as? [[String: Any]])
        let paths = artifacts.map { $0["path"] as! String }
        #expect(paths.contains("\(DockerTest.baseImage)!lib/ld-musl-x86_64.so.1"))
        #expect(paths.contains("\(DockerTest.baseImage)!bin/busybox"))
        let cxx = try #require(artifacts.first { ($0["path"] as! String).hasSuffix("libcxxlib.so") })
        let v = try #require((cxx["verdicts"] as? [[String: Any]])?.first)
        #expect(v["verdict"] as? String == "incompatible")
        #expect((v["loaderMessages"] as? [String])?.contains { $0.hasPrefix("Error loading shared library libstdc++.so.6: No such file or directory") } == true)
        // Other tests may run containers meanwhile; scans label theirs "scan-...".
        let left = try DockerTest.docker(["ps", "-a", "--filter", "label=org.muslcheck.run", "--format", "{{.Label \"org.muslcheck.run\"}}"]).stdout
        #expect(!left.split(separator: "\n").contains { $0.hasPrefix("scan-") }, "the scan's container was removed")
    }

    @Test func engineProblemsExitWithThreeAndKeepStaticResults() throws {
        let dir = try Self.folder(["hello-musl"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let dead = try Self.scan(["--format", "json", "--image", "alpine:3.20", "--target", "alpine:3.22", dir],
                                 env: ["DOCKER_HOST": "unix:///nonexistent/docker.sock"])
        #expect(dead.status == 3)
        #expect(dead.stderr.contains("no docker daemon answers"))
        let report = try Self.json(dead)
        #expect((report["artifacts"] as? [[String: Any]])?.count == 1, "the path was still checked")

        if DockerTest.unavailableReason == nil {
            let missing = try Self.scan(["--image", "muslcheck-test/does-not-exist:1", "--pull", "never", "--target", "alpine:3.22", dir])
            #expect(missing.status == 3)
            #expect(missing.stderr.contains("muslcheck-test/does-not-exist:1 is not present locally"))
            #expect(missing.stdout.contains("native-musl"))
        }
    }
}

extension ScanCommandTests {
    /// A repaired wheel: the module's RUNPATH ($ORIGIN/../demo.libs) is how its bundled library
    /// finds its own dependency; that library alone (no RPATH) would miss it.
    @Test func bundledLibrariesAreJudgedAsTheirModuleLoadsThem() throws {
        let tree = try Fixtures.path("wheeltree")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-wheeltree-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wheel = dir + "/demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
        let zip = try TestCommand.run("python3", ["-c", """
        import os, sys, zipfile
        root, out = sys.argv[1], sys.argv[2]
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for d, _, files in os.walk(root):
                for f in files:
                    p = os.path.join(d, f); z.write(p, os.path.relpath(p, root))
        """, tree, wheel])
        #expect(zip.status == 0, "\(zip.stderr)")
        for input in [wheel, tree] {
            let r = try Self.scan(["--format", "json", input])
            #expect(r.status == 0, "\(input): \(r.stdout.prefix(2000))")
            let artifacts = try #require(try Self.json(r)["artifacts"] as? [[String: Any]])
            let lib = try #require(artifacts.first { ($0["path"] as! String).hasSuffix("demo.libs/libneedsdep.so") })
            #expect((lib["loadedBy"] as? String)?.hasSuffix("demo/rpathmod.cpython-311-x86_64-linux-gnu.so") == true, "\(input)")
            #expect(((lib["verdicts"] as? [[String: Any]])?.first?["verdict"] as? String) == "compatible", "\(input)")
            let module = try #require(artifacts.first { ($0["path"] as! String).hasSuffix("rpathmod.cpython-311-x86_64-linux-gnu.so") })
            #expect(module["loadedBy"] == nil, "a module is judged on its own")
            #expect(((module["verdicts"] as? [[String: Any]])?.first?["verdict"] as? String) == "compatible")
        }
    }
}
