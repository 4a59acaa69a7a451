import Foundation
import Testing
import TestSupport

/// `muslcheck plan --from-image` on the application image ci/setup builds
/// (muslcheck-test/app:debian12), against the local stand-ins for Alpine (the musl test image),
/// distroless/cc and debian:12-slim: the files found, the packages, the build, the proof.
@Suite(.serialized) struct FromImageTests {
    static let app = "muslcheck-test/app:debian12"
    static let standIns = ["--candidate", "alpine:3.22=muslcheck-test/musl:1.2.3",
                           "--candidate", "distroless/cc-debian12=muslcheck-test/distroless-cc:debian12",
                           "--candidate", "debian:12-slim=muslcheck-test/debian-slim:12"]
    static let label = "org.muslcheck.run"

    /// The images are there (ci/setup builds them), or why not.
    static func ready() -> Bool {
        if let why = DockerTest.unavailableReason {
            if DockerTest.skipped { print("from-image tests skipped: \(why)"); return false }
            Issue.record("\(why)")
            return false
        }
        for image in [app, "muslcheck-test/distroless-cc:debian12", "muslcheck-test/debian-slim:12", "muslcheck-test/musl:1.2.3"] {
            guard (try? DockerTest.docker(["image", "inspect", image]))?.status == 0 else {
                Issue.record("\(image) is missing: run ci/setup (it builds it)")
                return false
            }
        }
        return true
    }

    /// muslcheck.yml with the application's own smoke tests.
    static func config() throws -> String {
        let dir = try CheckedFixtures.scratch("fromimage-config")
        let path = dir + "/muslcheck.yml"
        try """
        userProbes:
          - name: plugin loads with dlopen
            command: /app/bin/plugin-host
            stdout: ["plugin says: hello from a plugin"]
          - name: python imports orjson
            command: python3
            args: ["-c", "import orjson; print(orjson.dumps({'a': 1}).decode())"]
            stdout: ['\\{"a":1\\}']
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func json(_ path: String) throws -> [String: Any] {
        let data = try #require(FileManager.default.contents(atPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func imageSize(_ ref: String) throws -> Int? {
        Int(try DockerTest.docker(["image", "inspect", "--format", "{{.Size}}", ref]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Nothing of the run is left: no container or image with its label, no private folder.
    static func expectNothingLeft(runID: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let containers = try DockerTest.docker(["ps", "-aq", "--filter", "label=\(label)=\(runID)"]).stdout
        #expect(containers.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "containers left: \(containers)", sourceLocation: sourceLocation)
        let images = try DockerTest.docker(["images", "-aq", "--filter", "label=\(label)=\(runID)"]).stdout
        #expect(images.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "images left: \(images)", sourceLocation: sourceLocation)
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let mine = (try? FileManager.default.contentsOfDirectory(atPath: base))?.filter { $0.hasPrefix("muslcheck-from-image-") } ?? []
        let live = mine.filter { name in
            // Another run's folder (a concurrent test process) carries its live pid.
            let pid = name.dropFirst("muslcheck-from-image-".count).split(separator: "-").first.flatMap { Int32($0) }
            return pid.map { kill($0, 0) != 0 } ?? true
        }
        #expect(live.isEmpty, "private folders left: \(live)", sourceLocation: sourceLocation)
    }

    @Test func theJourneyFromTheApplicationImageToASmallerOneThatIsBuiltAndProven() throws {
        guard Self.ready() else { return }
        let dir = try CheckedFixtures.scratch("fromimage-plan")
        let runID = "fromimage-\(UUID().uuidString.prefix(6).lowercased())"
        let tag = "muslcheck-test/app-planned:\(runID)"
        defer { DockerTest.removeImage(tag) }
        let r = try CheckedFixtures.muslcheck(["plan", "--from-image", Self.app, "--index-url", "none"] + Self.standIns
                                        + ["--config", try Self.config(), "--build", tag, "--verify", "--run-id", runID,
                                           "--format", "json=\(dir)/plan.json", "--format", "dockerfile=\(dir)/Dockerfile", "--format", "text"])
        #expect(r.status == 0, "plan --from-image --build --verify: \(r.stdout)\n\(r.stderr)")
        let plan = try Self.json(dir + "/plan.json")

        // The application's files are exactly what ci/setup put in /app, as find sees them in the image.
        let from = try #require(plan["fromImage"] as? [String: Any])
        let found = try DockerTest.docker(["run", "--rm", "--network", "none", "--label", DockerTest.label, "--entrypoint", "/usr/bin/find",
                                           Self.app, "/app", "(", "-type", "f", "-o", "-type", "l", ")"])
        let expected = Set(found.stdout.split(separator: "\n").map(String.init))
        #expect(expected.isSuperset(of: ["/app/bin/hello-cxx", "/app/bin/plugin-host", "/app/bin/static-hello", "/app/lib/libgreet.so"]))
        #expect(expected.contains { $0.hasPrefix("/app/lib/python/orjson/") && $0.hasSuffix(".so") })
        #expect(Set(from["appFiles"] as? [String] ?? []) == expected)
        #expect(from["appRoots"] as? [String] == ["/app"])
        let runtime = try #require(from["runtime"] as? [String: Any])
        #expect(runtime["kind"] as? String == "python" && runtime["version"] as? String == "3.11" && runtime["package"] as? String == "python3.11-minimal")
        let config = try #require(from["config"] as? [String: Any])
        #expect(config["entrypoint"] as? [String] == ["/app/bin/hello-cxx"] && config["workingDir"] as? String == "/app")
        #expect(config["user"] as? String == "app" && from["numericUser"] as? String == "1000:1000")

        // The candidates and what each takes.
        let candidates = try #require(plan["candidates"] as? [[String: Any]])
        func candidate(_ name: String) throws -> [String: Any] { try #require(candidates.first { $0["name"] as? String == name }) }
        #expect(plan["recommended"] as? String == "distroless/cc-debian12")
        let cc = try candidate("distroless/cc-debian12")
        let ccCopies = Set(cc["copies"] as? [String] ?? [])
        // hello-cxx needs libz (zlib1g), which distroless/cc lacks; libstdc++ it has; Python comes with its libraries.
        #expect(ccCopies.isSuperset(of: ["zlib1g", "python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", "libexpat1"]))
        #expect(!ccCopies.contains("libstdc++6") && !ccCopies.contains("libc6") && !ccCopies.contains("dpkg"))
        let slim = try candidate("debian:12-slim")
        // debian:12-slim has apt: the runtime is installed as packages (apt brings their dependencies); zlib1g it has.
        let slimPackages = Set(slim["packages"] as? [String] ?? [])
        #expect(slim["copies"] == nil && slim["packageManager"] as? String == "apt")
        #expect(slimPackages.isSuperset(of: ["python3.11-minimal", "python3.11", "python3-minimal"]) && !slimPackages.contains("zlib1g"), "\(slimPackages)")
        #expect((slim["runtime"] as? String ?? "").hasPrefix("apt-get install "))
        let alpine = try candidate("alpine:3.22")
        let alpineArtifacts = alpine["artifacts"] as? [[String: Any]] ?? []
        let cxxOnAlpine = try #require(alpineArtifacts.first { $0["path"] as? String == "/app/bin/hello-cxx" })
        #expect(cxxOnAlpine["outcome"] as? String == "fails")
        #expect((alpine["runtime"] as? String ?? "").hasPrefix("not available"))
        let appSize = try Self.imageSize(Self.app)
        #expect(from["sizeBytes"] as? Int == appSize, "the original's real size beside the candidates")

        // The Dockerfile: the image as its first stage, its command, environment, folder, ports, user.
        let dockerfile = try String(contentsOfFile: dir + "/Dockerfile", encoding: .utf8)
        for line in ["FROM muslcheck-test/app:debian12 AS app", "FROM ${BASE}", "COPY --from=app /muslcheck-out/ /", "ENV PYTHONPATH=\"/app/lib/python\"",
                     "WORKDIR /app", "EXPOSE 8080/tcp", "USER 1000:1000", "ENTRYPOINT [\"/app/bin/hello-cxx\"]",
                     "ARG BASE=gcr.io/distroless/cc-debian12:nonroot"] {
            #expect(dockerfile.split(separator: "\n").contains(Substring(line)), "the Dockerfile has \(line)")
        }
        #expect(!dockerfile.contains(":latest"))

        // Built and proven: every artifact loads and the user's probes pass, in the built image.
        let verification = try #require(plan["verification"] as? [String: Any])
        #expect(verification["built"] as? Bool == true && verification["verified"] as? Bool == true)
        let checks = verification["checks"] as? [[String: Any]] ?? []
        let loaderChecks = checks.filter { $0["kind"] as? String == "loader" }.compactMap { $0["name"] as? String }
        #expect(Set(loaderChecks) == Set(["/app/bin/hello-cxx", "/app/bin/plugin-host", "/app/bin/static-hello", "/app/lib/libgreet.so"]
                                            + expected.filter { $0.hasPrefix("/app/lib/python/orjson/") && $0.hasSuffix(".so") }))
        #expect(checks.filter { $0["kind"] as? String == "user-probe" }.count == 2)
        #expect(checks.allSatisfy { $0["passed"] as? Bool == true }, "\(checks.filter { $0["passed"] as? Bool != true })")
        // Smaller than the original, both real sizes in the report.
        let built = try #require(verification["sizeBytes"] as? Int)
        let original = try #require(verification["originalSizeBytes"] as? Int)
        let realBuilt = try Self.imageSize(tag)
        let realOriginal = try Self.imageSize(Self.app)
        #expect(built == realBuilt && original == realOriginal)
        #expect(built < original / 2, "\(built) against \(original)")
        // The image itself runs as the original did.
        let run = try DockerTest.docker(["run", "--rm", "--network", "none", "--label", DockerTest.label, tag])
        #expect(run.status == 0 && run.stdout.hasPrefix("hello from C++, zlib 1.2.13"), "\(run.stdout) \(run.stderr)")
        #expect(r.stdout.contains("Verified in \(tag): every check passed"))

        let schemaErrors = try JSONSchemaValidator.errors(document: dir + "/plan.json", schema: TestPaths.packageRoot.path + "/Sources/Report/Resources/plan.schema.json")
        #expect(schemaErrors == [])
        try Self.expectNothingLeft(runID: runID)
    }

    @Test func aGlibcProgramForcedOntoPlainMuslFailsVerifyWithTheLoadersOwnMessage() throws {
        guard Self.ready() else { return }
        let dir = try CheckedFixtures.scratch("fromimage-musl")
        let runID = "fromimagemusl-\(UUID().uuidString.prefix(6).lowercased())"
        let tag = "muslcheck-test/app-planned:\(runID)"
        defer { DockerTest.removeImage(tag) }
        let r = try CheckedFixtures.muslcheck(["plan", "--from-image", Self.app, "--index-url", "none", "--candidate", "alpine:3.22=muslcheck-test/musl:1.2.3",
                                         "--config", try Self.config(), "--build", tag, "--verify", "--run-id", runID, "--format", "json=\(dir)/plan.json"])
        #expect(r.status == 1, "\(r.stderr)")
        let plan = try Self.json(dir + "/plan.json")
        #expect(plan["recommended"] is NSNull && plan["closest"] as? String == "alpine:3.22")
        let verification = try #require(plan["verification"] as? [String: Any])
        #expect(verification["built"] as? Bool == true && verification["verified"] as? Bool == false)
        let checks = verification["checks"] as? [[String: Any]] ?? []
        let cxx = try #require(checks.first { $0["name"] as? String == "/app/bin/hello-cxx" })
        #expect(cxx["passed"] as? Bool == false)
        let messages = cxx["messages"] as? [String] ?? []
        #expect(messages.contains("Error loading shared library libstdc++.so.6: No such file or directory (needed by /app/bin/hello-cxx)"), "\(messages)")
        let python = try #require(checks.first { $0["name"] as? String == "python imports orjson" })
        #expect(python["passed"] as? Bool == false)
        try Self.expectNothingLeft(runID: runID)
    }

    @Test func anInterruptedBuildLeavesNoContainerImageOrFolder() throws {
        guard Self.ready() else { return }
        let runID = "fromimageint-\(UUID().uuidString.prefix(6).lowercased())"
        let tag = "muslcheck-test/app-planned:\(runID)"
        defer { DockerTest.removeImage(tag) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestPaths.muslcheck)
        process.arguments = ["plan", "--from-image", Self.app, "--index-url", "none", "--candidate", "distroless/cc-debian12=muslcheck-test/distroless-cc:debian12",
                             "--build", tag, "--run-id", runID, "--format", "json=/dev/null"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The build has begun once its first stage made an image with the run's label.
        var building = false
        for _ in 0..<1200 where process.isRunning {
            let images = try DockerTest.docker(["images", "-aq", "--filter", "label=\(Self.label)=\(runID)"])
            if !images.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { building = true; break }
            usleep(50_000)
        }
        #expect(building, "the build started before the run ended")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 130)
        let inspected = try DockerTest.docker(["image", "inspect", tag])
        #expect(inspected.status != 0, "the interrupted build tagged nothing")
        try Self.expectNothingLeft(runID: runID)
    }

    @Test func onAlpineTheRuntimeIsAPackageWhoseVersionIsCompared() throws {
        guard Self.ready() else { return }
        let dir = try CheckedFixtures.scratch("fromimage-alpine")
        let runID = "fromimagealp-\(UUID().uuidString.prefix(6).lowercased())"
        let r = try CheckedFixtures.muslcheck(["plan", "--from-image", Self.app, "--index-url", "none", "--candidate", "alpine:3.18+gcompat",
                                               "--candidate", "alpine:3.22+gcompat", "--run-id", runID, "--format", "json=\(dir)/plan.json",
                                               "--format", "dockerfile=\(dir)/Dockerfile"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let plan = try Self.json(dir + "/plan.json")
        let candidates = try #require(plan["candidates"] as? [[String: Any]])
        let old = try #require(candidates.first { $0["name"] as? String == "alpine:3.18+gcompat" })
        let new = try #require(candidates.first { $0["name"] as? String == "alpine:3.22+gcompat" })
        // Alpine 3.18's python3 is 3.11, as in the image; 3.22's is 3.12, where a CPython 3.11 module cannot load.
        #expect(old["runtime"] as? String == "apk add python3: Python 3.11")
        #expect(new["runtime"] as? String == "apk add python3: Python 3.12, not 3.11 as in the image")
        for c in [old, new] {
            #expect((c["packages"] as? [String] ?? []).contains("python3") && c["packageManager"] as? String == "apk")
            #expect((c["packages"] as? [String] ?? []).contains("libstdc++"), "hello-cxx's libstdc++ from apk")
        }
        let module = { (c: [String: Any]) in (c["artifacts"] as? [[String: Any]] ?? []).first { ($0["path"] as? String ?? "").hasSuffix(".cpython-311-x86_64-linux-gnu.so") } }
        let onNew = try #require(module(new))
        #expect(onNew["outcome"] as? String == "fails" && onNew["message"] as? String == "built for CPython 3.11; alpine:3.22+gcompat's python3 is 3.12")
        let onOld = try #require(module(old))
        #expect(onOld["message"] as? String != "built for CPython 3.11; alpine:3.18+gcompat's python3 is 3.11")
        try Self.expectNothingLeft(runID: runID)
    }

    @Test func theOptionsThatNeedAnImageSaySo() throws {
        let r = try CheckedFixtures.muslcheck(["plan", "--build", "x:1"])
        #expect(r.status == 2 && r.stderr.contains("--app-path, --build and --verify go with --from-image"))
        let v = try CheckedFixtures.muslcheck(["plan", "--verify", "."])
        #expect(v.status == 2 && v.stderr.contains("--app-path, --build and --verify go with --from-image"))
    }
}
