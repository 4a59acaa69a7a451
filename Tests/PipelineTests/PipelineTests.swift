import Artifacts
import Compat
import Config
import Foundation
import Policy
import Probes
import Report
import Testing
import TestSupport

@testable import Pipeline

/// The runs as a library: no binary is started.
@Suite struct PipelineTests {
    static func settings(_ paths: [String], targets: [String] = ["alpine:3.22"]) -> Settings {
        var flags = Flags()
        flags.paths = paths
        flags.targets = targets
        flags.jobs = 2
        return Settings.resolve(flags)
    }

    static func artifacts(_ report: some ReportView) throws -> [ArtifactAnalysis] {
        var out: [ArtifactAnalysis] = []
        try report.forEachArtifact { out.append($0) }
        return out
    }

    // MARK: Settings

    @Test func flagsWinOverTheConfigWhichWinsOverTheDefaults() throws {
        var config = try MuslcheckConfig.parse("paths: [src]\nimages: [alpine:3.20]\nfailOn: needs-gcompat\nexecSmoke: true\n", file: "m.yml")
        var flags = Flags()
        flags.failOn = .never
        var s = Settings.resolve(flags, config: config)
        #expect(s.paths == ["src"])
        #expect(s.images == ["alpine:3.20"])
        #expect(s.failOn == .never, "the flag wins")
        #expect(s.probes.execSmoke)
        config.paths = nil
        flags.images = ["alpine:3.22"]
        s = Settings.resolve(flags, config: config)
        #expect(s.paths == ["."], "the default path")
        #expect(s.images == ["alpine:3.22"])
        #expect(Settings.resolve(Flags()).failOn == .notRunnable)
    }

    // MARK: Shards

    @Test func shardsShareTheTopLevelFilesAndArchivesOutExactlyOnce() {
        let paths = ["dist/b.whl!pkg/x.so", "lib/a.so", "dist/b.whl!pkg/y.so", "c", "dist/b.whl!inner.whl!z.so"]
        #expect(CheckRun.shardKey("dist/b.whl!inner.whl!z.so") == "dist/b.whl")
        #expect(CheckRun.shardKey("lib/a.so") == "lib/a.so")
        let first = CheckRun.share(of: paths, shard: Shard("1/2")!)
        let second = CheckRun.share(of: paths, shard: Shard("2/2")!)
        // Sorted keys: c, dist/b.whl, lib/a.so; every second one from the first.
        #expect(first == ["c", "lib/a.so"])
        #expect(second == ["dist/b.whl"])
        #expect(CheckRun.share(of: paths, shard: Shard("1/1")!) == ["c", "dist/b.whl", "lib/a.so"])
        #expect(Shard("0/2") == nil && Shard("3/2") == nil && Shard("1") == nil)
    }

    // MARK: Image to profile

    @Test func anImageStandsForTheProfileOfItsRelease() throws {
        let data = try CompatData.shared()
        #expect(ScanRun.profileName(for: "alpine:3.20.3", data: data) == "alpine:3.20")
        #expect(ScanRun.profileName(for: "docker.io/library/alpine:3.22@sha256:00", data: data) == "alpine:3.22")
        #expect(ScanRun.profileName(for: "registry.example/app:1", data: data) == data.targets.default)
    }

    @Test func withoutAnEngineCheckFallsBackToTheProfileAndSaysSo() throws {
        let dir = try CheckedFixtures.scratch("fallback")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-musl"), toPath: dir + "/hello-musl")
        var s = Self.settings([dir], targets: [])
        s.images = ["alpine:3.20.3"]
        s.engine.context = "muslcheck-no-such-context"
        let result = try CheckRun(settings: s).run()
        #expect(result.report.targets.map(\.name) == ["alpine:3.20"])
        #expect(result.report.targets.map(\.kind) == ["profile"])
        #expect(result.environmentErrors.count == 1)
        #expect(result.environmentErrors.first?.hasPrefix("docker: ") == true)
        #expect(result.report.notes.first?.contains("only static analysis ran, against the bundled profile alpine:3.20 in place of alpine:3.20.3") == true)
        #expect(try Self.artifacts(result.report).map(\.verdicts.first?.verdict) == [.nativeMusl])
    }

    // MARK: Scan problems, MC001–MC005

    @Test func whatTheScanCannotReadBecomesAFindingWithItsFix() throws {
        let data = try CompatData.shared()
        let dir = try CheckedFixtures.scratch("problems")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // MC002: the ELF magic and nothing readable after it.
        try Data([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0]).write(to: URL(fileURLWithPath: dir + "/damaged.so"))
        // MC003: a wheel cut short.
        try ("PK\u{3}\u{4}" + String(repeating: "x", count: 40)).data(using: .isoLatin1)!.write(to: URL(fileURLWithPath: dir + "/cut.whl"))
        // MC005: a link loop (a dangling link inside a tree is common, and no problem).
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop.so", withDestinationPath: "loop2.so")
        try FileManager.default.createSymbolicLink(atPath: dir + "/loop2.so", withDestinationPath: "loop.so")
        try FileManager.default.createSymbolicLink(atPath: dir + "/gone.so", withDestinationPath: "nothing-here.so")
        let scanned = try ScanRun(settings: Self.settings([dir])).run()
        let byID = Dictionary(grouping: scanned.report.problems, by: \.id)
        #expect(byID[FindingID.malformedELF.rawValue]?.map(\.artifact) == [dir + "/damaged.so"])
        #expect(byID[FindingID.malformedArchive.rawValue]?.map(\.artifact) == [dir + "/cut.whl"])
        #expect(byID[FindingID.symlinkProblem.rawValue]?.map(\.artifact) == [dir + "/loop.so", dir + "/loop2.so"])
        for p in scanned.report.problems {
            #expect(p.message.hasPrefix(p.artifact + ": "), "the message names the file")
            #expect(!p.fix.isEmpty)
        }
        // MC001 and MC004 from the problems the scanner reports (a root process reads every file).
        let unreadable = data.finding(for: ScanProblem(path: "a.so", kind: .unreadable, message: "permission denied"))
        #expect(unreadable.id == FindingID.unreadableFile.rawValue && unreadable.message == "a.so: permission denied")
        let limit = data.finding(for: ScanProblem(path: "b.whl!x.so", kind: .limit, message: "a zip bomb?"))
        #expect(limit.id == FindingID.archiveLimit.rawValue && limit.artifact == "b.whl!x.so")
        #expect(Gate(level: .notRunnable).failures(scanned.report).contains { $0.artifact == dir + "/cut.whl" },
                "an archive that was not checked fails the run")
    }

    // MARK: Loader probe, MC150–MC152

    static func outcome(_ artifact: String, _ agreement: String, note: String? = nil, differences: [String] = []) throws -> LoaderProbeOutcome {
        var json: [String: Any] = ["artifact": artifact, "agreement": agreement, "differences": differences]
        if let note { json["note"] = note }
        return try JSONDecoder().decode(LoaderProbeOutcome.self, from: JSONSerialization.data(withJSONObject: json))
    }

    @Test func theLoaderProbesOutcomesChangeTheVerdictsAndFindings() throws {
        let data = try CompatData.shared()
        let dir = try CheckedFixtures.scratch("folding")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["hello-musl", "hello-glibc", "libweak.so"] {
            try FileManager.default.copyItem(atPath: try Fixtures.path(name), toPath: dir + "/" + name)
        }
        let target = "alpine:3.22"
        let scanned = try ScanRun(settings: Self.settings([dir], targets: [target])).run()
        let artifacts = try Self.artifacts(scanned.report)
        #expect(artifacts.count == 3)
        var image = ImageProbeReport.failed(target, error: "")
        image.error = nil
        image.loader = [
            try Self.outcome(dir + "/hello-musl", "confirmed"),
            try Self.outcome(dir + "/hello-glibc", "contradicted", differences: ["the loader loaded it"]),
            try Self.outcome(dir + "/libweak.so", "not-run", note: "killed by SIGBUS (signal 7)"),
        ]
        image.userProbes = [try JSONDecoder().decode(UserProbeOutcome.self, from: Data("""
            {"name": "imports", "passed": false, "failures": ["exit status 1, expected 0"], "status": "exited", "stdout": "", "stderr": ""}
            """.utf8))]
        let result = ProbeRun.Result(output: .init(runID: "t", compilers: [:], images: [image]), environmentErrors: [])
        let check = CheckRun(settings: Self.settings([dir], targets: [target]))
        let fold = try #require(check.loaderFolding(result, data: data))
        let byName = Dictionary(uniqueKeysWithValues: artifacts.map { (($0.path as NSString).lastPathComponent, $0) })

        #expect(fold(byName["hello-musl"]!)?.verdicts.first?.loaderProbe == "confirmed")
        let contradicted = try #require(fold(byName["hello-glibc"]!))
        let mc150 = contradicted.findings.filter { $0.id == FindingID.loaderProbeContradiction.rawValue }
        #expect(mc150.count == 1)
        #expect(mc150.first?.message.hasPrefix("musl's loader in alpine:3.22 contradicts the static verdict (") == true)
        #expect(mc150.first?.message.hasSuffix("): the loader loaded it") == true)
        let notRun = try #require(fold(byName["libweak.so"]!))
        #expect(notRun.verdicts.first?.loaderProbe == "not-run")
        #expect(notRun.findings.contains {
            $0.id == FindingID.loaderProbeFailed.rawValue && $0.message == "the loader probe could not check it in alpine:3.22: killed by SIGBUS (signal 7)"
        })

        let mc152 = check.userProbeFindings(result, data: data)
        #expect(mc152.map(\.id) == [FindingID.userProbeFailed.rawValue])
        #expect(mc152.first?.message == "user probe 'imports' failed in alpine:3.22: exit status 1, expected 0")
        #expect(mc152.first?.artifact == target)
    }

    // MARK: Artifacts in the container

    @Test func artifactsAreMappedToTheirPlacesInTheContainer() throws {
        let data = try CompatData.shared()
        let dir = try CheckedFixtures.scratch("mapping")
        let outside = try CheckedFixtures.scratch("outside")
        defer { for d in [dir, outside] { try? FileManager.default.removeItem(atPath: d) } }
        try FileManager.default.createDirectory(atPath: dir + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-musl"), toPath: dir + "/bin/hello-musl")
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-glibc"), toPath: outside + "/hello-glibc")
        try FileManager.default.copyItem(atPath: try Fixtures.path("libweak.so"), toPath: outside + "/libweak.so")
        // A program linked from outside is started where its link leads; a library is not.
        try FileManager.default.createSymbolicLink(atPath: dir + "/bin/hello", withDestinationPath: outside + "/hello-glibc")
        try FileManager.default.createSymbolicLink(atPath: dir + "/libweak.so", withDestinationPath: outside + "/libweak.so")
        let zip = try TestCommand.run("python3", ["-c", """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                z.write(sys.argv[2], "pkg/hello-musl")
            """, dir + "/app.whl", dir + "/bin/hello-musl"])
        #expect(zip.status == 0)

        var probe = ProbeRun()
        probe.paths = [dir]
        let staging = try ProbeRun.stagingDirectory()
        defer { ProbeRunner.removeStagingDirectory(staging) }
        let prepared = probe.prepareArtifacts(probe.scanForProbe(data: data, staging: staging))
        let places = Dictionary(uniqueKeysWithValues: prepared.artifacts.map { ($0.display, $0.containerPath) })
        #expect(places[dir + "/bin/hello-musl"] == "/muslcheck/a/0/bin/hello-musl")
        #expect(places[dir + "/bin/hello"] == "/muslcheck/r/0/hello-glibc")
        #expect(places[dir + "/app.whl!pkg/hello-musl"] == "/muslcheck/s/0/pkg/hello-musl")
        #expect(places[dir + "/libweak.so"] == nil)
        #expect(prepared.skipped[dir + "/libweak.so"]?.why.hasPrefix("a symbolic link to \(outside)/libweak.so, outside the checked folders") == true)
        #expect(prepared.mounts.map(\.container) == ["/muslcheck/a/0", "/muslcheck/r/0", "/muslcheck/s"])
        #expect(prepared.mounts.map(\.host) == [dir, outside, staging.path])
        // The staged member is the archive's bytes.
        #expect(FileManager.default.contentsEqual(atPath: staging.path + "/0/pkg/hello-musl", andPath: dir + "/bin/hello-musl"))
        // How far $ORIGIN climbs decides which folder is mounted for a linked program.
        #expect(ProbeRun.originLevels("$ORIGIN/../lib") == 1)
        #expect(ProbeRun.originLevels("$ORIGIN:${ORIGIN}/../../lib64") == 2)
        #expect(ProbeRun.originLevels("/usr/lib:$ORIGIN/lib") == 0)
    }
}
