import Foundation
import Testing
import TestSupport

/// The release archive (ci/dist) and muslcheck's own image (ci/image): the archive is whole and
/// its sums hold; unpacked into a Debian image without a toolchain, it checks the fixtures
/// against the local musl image through the host's engine socket; the image is built from
/// muslcheck's own plan, runs README's command, and `plan --verify` passes on it.
@Suite(.serialized) struct ReleaseTests {
    /// The archive: MUSLCHECK_DIST_ARCHIVE (ci/test makes it), or one made here with ci/dist.
    static let archive: Result<String, TestSupportError> = {
        if let a = ProcessInfo.processInfo.environment["MUSLCHECK_DIST_ARCHIVE"], FileManager.default.fileExists(atPath: a) { return .success(a) }
        print("MUSLCHECK_DIST_ARCHIVE is not set: building the release archive with ci/dist (a release build, minutes)")
        let out = NSTemporaryDirectory() + "muslcheck-test-dist-\(getpid())"
        guard let r = try? TestCommand.run(TestPaths.packageRoot.path + "/ci/dist", [out]), r.status == 0 else {
            return .failure(TestSupportError("ci/dist failed"))
        }
        let found = (try? FileManager.default.contentsOfDirectory(atPath: out))?.first { $0.hasSuffix("-linux-x86_64.tar.gz") }
        return found.map { .success(out + "/" + $0) } ?? .failure(TestSupportError("ci/dist wrote no archive into \(out)"))
    }()

    /// The archive unpacked into a scratch folder: the release folder's path.
    static func unpacked(_ into: String) throws -> String {
        let a = try archive.get()
        let r = try TestCommand.run("tar", ["-xzf", a, "-C", into])
        #expect(r.status == 0, "\(r.stderr)")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: into).first { $0.hasPrefix("muslcheck-") })
        return into + "/" + name
    }

    static var socket: String {
        let host = ProcessInfo.processInfo.environment["DOCKER_HOST"] ?? ""
        return host.hasPrefix("unix://") ? String(host.dropFirst("unix://".count)) : "/var/run/docker.sock"
    }

    /// The shared libraries the binary names (DT_NEEDED), from readelf.
    static func needed(_ binary: String) throws -> [String] {
        let r = try TestCommand.run("readelf", ["-dW", binary])
        return r.stdout.split(separator: "\n").compactMap { line in
            guard line.contains("(NEEDED)"), let a = line.firstIndex(of: "["), let b = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: a)..<b])
        }.sorted()
    }

    @Test func theArchiveIsWholeItsSumsHoldAndREADMEListsWhatTheBinaryNeeds() throws {
        let dir = try CheckedFixtures.scratch("release")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let archive = try Self.archive.get()
        #expect((archive as NSString).lastPathComponent.wholeMatch(of: /muslcheck-[0-9]+\.[0-9]+\.[0-9]+-linux-x86_64\.tar\.gz/) != nil)
        // The sums beside the archive, and those inside it.
        let outer = try TestCommand.run("sha256sum", ["-c", "SHA256SUMS"], currentDirectory: (archive as NSString).deletingLastPathComponent)
        #expect(outer.status == 0, "\(outer.stdout)\(outer.stderr)")
        let release = try Self.unpacked(dir)
        let inner = try TestCommand.run("sha256sum", ["-c", "--strict", "SHA256SUMS"], currentDirectory: release)
        #expect(inner.status == 0 && inner.stdout.split(separator: "\n").count > 50, "\(inner.stdout.suffix(500))\(inner.stderr)")
        let fm = FileManager.default
        for f in ["muslcheck", "LICENSE", "README.md", "muslcheck_Compat.resources/Resources/data.json", "muslcheck_Report.resources/Resources/report.schema.json",
                  "muslcheck_Probes.resources/probes", "probes/musl/driver", "probes/musl/toolchain.json", "probes/glibc/driver"] {
            #expect(fm.fileExists(atPath: release + "/" + f), "\(f) in the archive")
        }
        let readme = try String(contentsOfFile: release + "/README.md", encoding: .utf8)
        #expect(readme.contains("muslcheck check") && readme.count > 1000, "the README excerpt")
        #expect(try String(contentsOfFile: release + "/LICENSE", encoding: .utf8).contains("Apache License"))
        // No Swift runtime library: the binary runs without the toolchain.
        let needed = try Self.needed(release + "/muslcheck")
        #expect(!needed.contains { $0.contains("swift") || $0.contains("Foundation") || $0.contains("dispatch") }, "\(needed)")
        // README lists exactly those libraries.
        let projectReadme = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let listed = try #require(projectReadme.split(separator: "\n").first { $0.hasPrefix("The binary needs these shared libraries:") })
        let names = listed.matches(of: /`([^`]+\.so[^`]*)`/).map { String($0.output.1) }.sorted()
        #expect(names == needed, "README: \(names); the binary: \(needed)")
        // muslcheck plan on the binary itself confirms them: on debian:12-slim only libelf1 is
        // missing, on distroless/cc libelf1, liblzma5 and zlib1g.
        let plan = try TestCommand.run(release + "/muslcheck", ["plan", release + "/muslcheck", "--index-url", "none", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])
        let candidates = try #require(object["candidates"] as? [[String: Any]])
        let slim = try #require(candidates.first { $0["name"] as? String == "debian:12-slim" })
        #expect(slim["packages"] as? [String] == ["libelf1"])
        let cc = try #require(candidates.first { $0["name"] as? String == "distroless/cc-debian12" })
        #expect(cc["copies"] as? [String] == ["libelf1", "liblzma5", "zlib1g"])
        #expect(object["recommended"] as? String == "distroless/cc-debian12", "\(object["reason"] ?? "")")
    }

    static func dockerReady() -> Bool {
        if let reason = DockerTest.unavailableReason {
            if !DockerTest.skipped { Issue.record(Comment(rawValue: reason)) } else { print("skipped: \(reason)") }
            return false
        }
        for image in ["muslcheck-test/musl:1.2.3", "muslcheck-test/debian-build:12", "muslcheck-test/distroless-cc:debian12"] {
            guard (try? DockerTest.docker(["image", "inspect", image]))?.status == 0 else {
                Issue.record("the image \(image) is missing: run ci/setup")
                return false
            }
        }
        return true
    }

    /// What check reports on the fixtures from inside a container: every loader verdict
    /// confirmed and every probe run. The image has no compiler, so the probes are the shipped
    /// ones; the engine does not see the container's files, so they were copied.
    static func expectConfirmed(_ run: CommandResult, fixtures: Int) throws {
        #expect(run.status == 0, "\(run.stderr.suffix(1500))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout.prefix(500))")
        let image = try #require((report["probes"] as? [[String: Any]])?.first)
        #expect(image["error"] == nil, "\(image["error"] ?? "")")
        let loader = try #require(image["loader"] as? [[String: Any]])
        #expect(loader.count == fixtures)
        let confirmed = loader.filter { $0["agreement"] as? String == "confirmed" }
        #expect(confirmed.count == loader.count, "not confirmed: \(loader.filter { $0["agreement"] as? String != "confirmed" }.map { "\($0["artifact"] ?? ""): \($0["note"] ?? "")" })")
        let probes = try #require(image["probes"] as? [[String: Any]])
        #expect(probes.count >= 10 && probes.allSatisfy { $0["status"] as? String == "ok" }, "\(probes.map { "\($0["id"] ?? "") \($0["status"] ?? "")" })")
    }

    /// The number of artifacts the loader probe runs on in the fixtures (check on the host).
    static func fixtureArtifacts() throws -> Int {
        let r = try CheckedFixtures.muslcheck(["check", try Fixtures.directory().path, "--image", "muslcheck-test/musl:1.2.3", "--fail-on", "never",
                                               "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try #require(((report["probes"] as? [[String: Any]])?.first?["loader"] as? [Any])?.count)
    }

    @Test func theArchiveRunsInADebianImageWithoutAToolchainThroughTheHostsSocket() throws {
        guard Self.dockerReady() else { return }
        let dir = try CheckedFixtures.scratch("release-run")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let release = try Self.unpacked(dir)
        // Debian packages only: debian:12-slim's (libc6, zlib1g, liblzma5, libstdc++6, libgcc-s1), libelf1, and Debian's docker CLI.
        let cli = try #require(try TestCommand.run("dpkg", ["-L", "docker.io"]).stdout.split(separator: "\n").first { $0 == "/usr/bin/docker" })
        try FileManager.default.copyItem(atPath: String(cli), toPath: dir + "/docker")
        try FileManager.default.moveItem(atPath: release, toPath: dir + "/muslcheck")
        try "FROM muslcheck-test/debian-build:12\nCOPY muslcheck/ /opt/muslcheck/\nCOPY docker /usr/bin/docker\n"
            .write(toFile: dir + "/Dockerfile", atomically: true, encoding: .utf8)
        let tag = "muslcheck-test/release-run:\(getpid())"
        defer { DockerTest.removeImage(tag) }
        let build = try DockerTest.docker(["build", "-q", "--label", DockerTest.label, "-t", tag, dir])
        try #require(build.status == 0, "\(build.stderr)")
        // No compiler and no Swift there.
        let tools = try DockerTest.docker(["run", "--rm", "--label", DockerTest.label, "--network", "none", "--entrypoint", "sh", tag, "-c",
                                           "for t in swift swiftc cc gcc clang musl-gcc ld; do command -v $t; done; true"])
        #expect(tools.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "tools in the image: \(tools.stdout)")
        let fixtures = try Fixtures.directory().path
        let run = try DockerTest.docker(["run", "--rm", "--label", DockerTest.label, "-v", "\(Self.socket):/var/run/docker.sock",
                                         "-v", "\(fixtures):/src:ro", "--entrypoint", "/opt/muslcheck/muslcheck", tag,
                                         "check", "/src", "--image", "muslcheck-test/musl:1.2.3", "--fail-on", "never", "--format", "json"])
        try Self.expectConfirmed(run, fixtures: try Self.fixtureArtifacts())
        // probe says how: the shipped probes, copied into the container.
        let probe = try DockerTest.docker(["run", "--rm", "--label", DockerTest.label, "-v", "\(Self.socket):/var/run/docker.sock",
                                           "--entrypoint", "/opt/muslcheck/muslcheck", tag, "probe", "--image", "muslcheck-test/musl:1.2.3", "--probe", "time"])
        #expect(probe.status == 0, "\(probe.stderr)")
        #expect(probe.stderr.contains("no musl C compiler here; using the probes shipped in /opt/muslcheck/probes/musl"), "\(probe.stderr)")
        #expect(probe.stderr.contains("the probes and artifacts are copied into each container"), "\(probe.stderr)")
    }

    @Test func theImageIsBuiltFromItsOwnPlanRunsREADMEsCommandAndPassesPlanVerify() throws {
        guard Self.dockerReady() else { return }
        let tag = "muslcheck-test/muslcheck:\(getpid())"
        defer { DockerTest.removeImage(tag) }
        let build = try TestCommand.run(TestPaths.packageRoot.path + "/ci/image/build",
                                        ["--archive", try Self.archive.get(), "--tag", tag, "--base", "muslcheck-test/distroless-cc:debian12",
                                         "--debian", "muslcheck-test/debian-build:12"])
        try #require(build.status == 0, "\(build.stderr)")
        #expect(build.stderr.contains("distroless/cc-debian12, with libelf1 liblzma5 zlib1g copied from a Debian 12 stage (as the Dockerfile has)"))
        let inspect = try DockerTest.docker(["image", "inspect", "-f", "{{.Config.User}} {{.Size}}", tag]).stdout.split(separator: " ")
        #expect(inspect.first == "65532:65532", "runs as a user without privileges")
        print("muslcheck's image: \(inspect.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?") bytes")
        // README's command, with the socket's group for the unprivileged user.
        var st = stat()
        try #require(stat(Self.socket, &st) == 0, "the engine socket \(Self.socket)")
        let fixtures = try Fixtures.directory().path
        let run = try DockerTest.docker(["run", "--rm", "--label", DockerTest.label, "--group-add", "\(st.st_gid)",
                                         "-v", "\(Self.socket):/var/run/docker.sock", "-v", "\(fixtures):/src", tag,
                                         "check", "/src", "--image", "muslcheck-test/musl:1.2.3", "--fail-on", "never", "--format", "json"])
        try Self.expectConfirmed(run, fixtures: try Self.fixtureArtifacts())
        // plan --verify on the image itself: the binary and the docker CLI load there, and start.
        let verify = try CheckedFixtures.muslcheck(["plan", "--from-image", tag, "--app-path", "/opt/muslcheck/muslcheck", "--app-path", "/usr/local/bin/docker",
                                                    "--verify", "--index-url", "none", "--format", "json", "--run-id", "release\(getpid())"])
        #expect(verify.status == 0, "\(verify.stderr.suffix(1500))")
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any])
        let v = try #require(plan["verification"] as? [String: Any])
        let checks = try #require(v["checks"] as? [[String: Any]])
        #expect(Set(checks.compactMap { $0["name"] as? String }) == ["/opt/muslcheck/muslcheck", "/usr/local/bin/docker"])
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true }, "\(checks)")
        #expect(v["verified"] as? Bool == true)
    }
}
