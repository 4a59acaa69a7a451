import Compat
import Foundation
import Report
import Testing
import TestSupport

@testable import Pipeline

/// `muslcheck plan`: the candidates, the recommendation, and proof in the local stand-in images.
@Suite(.serialized) struct PlanTests {
    static func settings(_ paths: [String]) -> Settings {
        var flags = Flags()
        flags.paths = paths
        flags.jobs = 2
        return Settings.resolve(flags)
    }

    /// A folder with copies of some fixtures.
    static func folder(_ names: [String]) throws -> String {
        let dir = try Fixtures.directory()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-plan-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("app"), withIntermediateDirectories: true)
        ScratchFolders.removeAtExit(out.path)
        for n in names {
            try FileManager.default.copyItem(at: dir.appendingPathComponent(n), to: out.appendingPathComponent("app/" + n))
        }
        return out.path
    }

    @Test func theBundledCandidatesAreRankedBySizeAndTheSmallestThatRunsEverythingIsRecommended() throws {
        let root = try Self.folder(["hello-glibc", "libcxxlib.so"])
        let plan = try PlanRun(settings: Self.settings([root + "/app"]), candidates: [], indexURL: nil).run().plan
        let data = try CompatData.shared()
        #expect(plan.candidates.map(\.name).sorted() == PlanRun.bundledCandidates(data: data).sorted())
        #expect(plan.candidates.count == 18)
        let sizes = plan.candidates.compactMap(\.sizeBytes)
        #expect(sizes.count == plan.candidates.count && sizes == sizes.sorted(), "every candidate has a size, smallest first")
        let recommended = try #require(plan.candidates.first { $0.name == plan.recommended })
        #expect(recommended.viable)
        for c in plan.candidates.prefix { $0.name != recommended.name } {
            #expect(!c.viable || (c.sizeBytes ?? 0) == recommended.sizeBytes, "\(c.name) is smaller, so something fails there")
        }
        let cc = try #require(plan.candidates.first { $0.name == "distroless/cc-debian12" })
        #expect(cc.runsAll && cc.libc == "glibc" && cc.version == "2.36" && cc.packages.isEmpty)
        let base = try #require(plan.candidates.first { $0.name == "distroless/base-debian12" })
        // distroless/base has no apt: libstdc++6 and what it needs come from a Debian 12 stage.
        let cxx = try #require(base.artifacts.first { $0.path.hasSuffix("libcxxlib.so") })
        #expect(cxx.outcome == .runsWithPackages && !cxx.findings.contains("MC200"))
        #expect(base.copies == ["libgcc-s1", "libstdc++6"] && base.copiedFrom == "build-stage" && base.packages.isEmpty && base.packageManager == nil)
        #expect(base.viable && !base.runsAll)
        // Barely smaller, with two packages to copy: between the two, distroless/cc, which needs
        // nothing, is the choice.
        let b = try #require(base.sizeBytes), c = try #require(cc.sizeBytes)
        #expect(b < c && c - b <= 1_000_000, "distroless/base + libstdc++6 + libgcc-s1 (\(b)) against distroless/cc (\(c))")
        let (choice, _, why) = PlanRun.recommend([base, cc])
        #expect(choice == "distroless/cc-debian12")
        #expect(why.contains("distroless/base-debian12 is only 0.") && why.contains("libgcc-s1 libstdc++6 copied from a Debian 12 stage"), "\(why)")
        var onlyBase = plan
        onlyBase.candidates = [base]
        onlyBase.recommended = base.name
        let dockerfile = PlanRenderer.dockerfile(onlyBase)
        #expect(dockerfile.contains("ARG DEBIAN=debian:12-slim") && dockerfile.contains("FROM ${DEBIAN} AS packages")
                && dockerfile.contains("for p in libgcc-s1 libstdc++6;") && dockerfile.contains("COPY --from=packages /muslcheck-out/ /"))
        let staticBase = try #require(plan.candidates.first { $0.name == "distroless/static-debian12" })
        #expect(staticBase.libc == "none" && staticBase.failing == 2)
        let slim = try #require(plan.candidates.first { $0.name == "debian:12-slim" })
        #expect(slim.runsAll && slim.packageManager == "apt")
        // On Alpine: libstdc++ and libgcc from packages, gcompat for the glibc builds.
        let alpine = try #require(plan.candidates.first { $0.name == "alpine:3.22" })
        #expect(alpine.packages == ["libgcc", "libstdc++"] && alpine.gcompat && alpine.viable && !alpine.runsAll)
        #expect(alpine.artifacts.contains { $0.outcome == .runsWithGcompat })

        let json = try PlanRenderer.json(plan)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let first = try #require((object["candidates"] as? [[String: Any]])?.first)
        for key in ["name", "libc", "runsAll", "packages", "gcompat", "sizeBytes", "sizeIsEstimate", "artifacts"] {
            #expect(first[key] != nil, "candidates[].\(key)")
        }
        #expect(object["recommended"] as? String == plan.recommended && object["reason"] is String)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-plan-\(getpid()).json")
        ScratchFolders.removeAtExit(file.path)
        try json.write(to: file, atomically: true, encoding: .utf8)
        let schema = try #require(PlanRenderer.schemaURL)
        #expect(try JSONSchemaValidator.errors(document: file.path, schema: schema.path) == [])
        #expect(PlanRenderer.text(plan).contains("Recommended: \(plan.recommended!)"))
        #expect(PlanRenderer.markdown(plan).contains("| `app/hello-glibc` |") || PlanRenderer.markdown(plan).contains("hello-glibc"))
        #expect(PlanRenderer.html(plan).contains("<table>"))
    }

    /// Behind a glibc program's missing loader, plain Alpine sees nothing more; with gcompat, its
    /// loader goes on to need libstdc++. Both candidates name the package.
    @Test func withGcompatAGlibcProgramStillNeedsItsLibrariesFromPackages() throws {
        let dir = try CheckedFixtures.scratch("plan-gcompat")
        try "#include <iostream>\nint main() { std::cout << \"hi\" << std::endl; }\n".write(toFile: dir + "/hi.cpp", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/app", withIntermediateDirectories: true)
        let cc = try TestCommand.run("g++", ["-O1", "-o", dir + "/app/hi", dir + "/hi.cpp"])
        #expect(cc.status == 0, "g++: \(cc.stderr)")
        let plan = try PlanRun(settings: Self.settings([dir + "/app"]), candidates: [.init(name: "alpine:3.22"), .init(name: "alpine:3.22+gcompat")],
                               indexURL: nil).run().plan
        let plain = try #require(plan.candidates.first { $0.name == "alpine:3.22" })
        let gcompat = try #require(plan.candidates.first { $0.name == "alpine:3.22+gcompat" })
        #expect(plain.packages == ["libstdc++"] && plain.gcompat && plain.artifacts.first?.outcome == .runsWithGcompat)
        #expect(gcompat.packages == ["libstdc++"] && gcompat.artifacts.first?.outcome == .runsWithPackages)
        #expect(gcompat.artifacts.first?.findings == ["MC110"])
    }

    @Test func staticProgramsGoToDistrolessStaticWithTheNSSNote() throws {
        let root = try Self.folder(["hello-glibc-static", "hello-musl-static"])
        let plan = try PlanRun(settings: Self.settings([root + "/app"]), candidates: [], indexURL: nil).run().plan
        #expect(plan.recommended == "distroless/static-debian12")
        #expect(plan.notes.contains { $0.contains("MC121") })
    }

    @Test func whenNothingRunsEverythingTheClosestIsNamedWithWhatRemains() throws {
        // IFUNC-only symbols fail on musl; a musl program fails on glibc.
        let root = try Self.folder(["libifunc.so", "hello-musl"])
        let plan = try PlanRun(settings: Self.settings([root + "/app"]),
                               candidates: [.init(name: "distroless/cc-debian12"), .init(name: "alpine:3.22")], indexURL: nil).run().plan
        #expect(plan.recommended == nil)
        #expect(try PlanRenderer.json(plan).contains("\"recommended\" : null"), "recommended is written as null")
        let closest = try #require(plan.closest)
        #expect(plan.reason.contains(closest) && plan.reason.contains("still fail"))
    }

    // MARK: - In the stand-in images

    static let standIns: [(name: String, image: String)] = [
        ("distroless/static-debian12", "muslcheck-test/distroless-static:debian12"),
        ("distroless/base-debian12", "muslcheck-test/distroless-base:debian12"),
        ("distroless/cc-debian12", "muslcheck-test/distroless-cc:debian12"),
        ("debian:12-slim", "muslcheck-test/debian-slim:12"),
        ("alpine:3.22", DockerTest.baseImage),
    ]

    func requireImages() -> Bool {
        if let reason = DockerTest.unavailableReason {
            if DockerTest.skipped { print("skipped: \(reason)"); return false }
            Issue.record("container tests cannot run: \(reason)")
            return false
        }
        for (_, image) in Self.standIns where (try? DockerTest.docker(["image", "inspect", image]))?.status != 0 {
            Issue.record("the stand-in image \(image) is missing: run ci/setup (it builds it)")
            return false
        }
        return true
    }

    /// Whether the real loader in `image` loads every file (bind now, glibc's or musl's loader).
    /// Symbols a host program provides (CPython's Py*, ...) are not counted: no host runs here.
    static func realLoaderAccepts(image: String, libc: String, root: String, files: [String]) throws -> [String: Bool] {
        var script = ""
        for f in files {
            let list = libc == "musl" ? "/lib/ld-musl-x86_64.so.1 --list '\(f)'"
                : "LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes LD_BIND_NOW=yes /lib64/ld-linux-x86-64.so.2 '\(f)'"
            script += "echo '@@@ \(f)'; \(list) 2>&1; echo \"@@@ status $?\"\n"
        }
        let r = try DockerTest.docker(["run", "--rm", "--label", DockerTest.label, "--network", "none",
                                       "-v", "/bin/busybox:/.mc/busybox:ro", "-v", "\(root):\(root):ro",
                                       "--entrypoint", "/.mc/busybox", image, "sh", "-c", script])
        let provided = try CompatData.shared().hosts.flatMap(\.providesPrefixes)
        func hostSymbol(_ line: String) -> Bool {
            // glibc: "undefined symbol: NAME[, version V]\t(FILE)"; musl: "Error relocating FILE: NAME: symbol not found".
            let name: String
            if let r = line.range(of: "undefined symbol: ") {
                name = String(line[r.upperBound...].prefix { $0 != "," && $0 != "\t" })
            } else if line.hasSuffix(": symbol not found"), let colon = line.dropLast(18).range(of: ": ", options: .backwards) {
                name = String(line.dropLast(18)[colon.upperBound...])
            } else { return false }
            return provided.contains { name.hasPrefix($0) }
        }
        var out: [String: Bool] = [:]
        var current: String?
        var ok = true
        for line in r.stdout.split(separator: "\n").map(String.init) {
            if line.hasPrefix("@@@ status ") {
                if let c = current { out[c] = ok && (line == "@@@ status 0" || line == "@@@ status 127" && libc == "musl") }
                current = nil
                continue
            }
            if line.hasPrefix("@@@ ") { current = String(line.dropFirst(4)); ok = true; continue }
            if line.contains("not found") && !hostSymbol(line) || line.contains("Error loading") || line.contains("undefined symbol") && !hostSymbol(line)
                || line.contains("No such file") || line.contains("unsupported relocation") {
                ok = false
            }
        }
        return out
    }

    @Test func theRecommendationLoadsInItsImageAndEverySmallerCandidateFails() throws {
        guard requireImages() else { return }
        let root = try Self.folder(["hello-glibc", "libcxxlib.so", "libversioned.so.1", "use-versioned-glibc"])
        var files = try FileManager.default.contentsOfDirectory(atPath: root + "/app").map { root + "/app/" + $0 }
        var paths = [root + "/app"]
        if case .success(let wheels) = Wheels.all() {
            let unpacked = root + "/wheels"
            for w in wheels.filter({ $0.contains("manylinux") }).prefix(3) { _ = try Wheels.unpack(w, into: unpacked) }
            paths.append(unpacked)
            files += ELFFiles.find(under: [unpacked], limit: 40)
        }
        let plan = try PlanRun(settings: Self.settings(paths), candidates: Self.standIns.map { .init(name: $0.name, image: $0.image) },
                               indexURL: nil).run().plan
        #expect(plan.candidates.count == Self.standIns.count)
        // A real image's size is measured, not estimated (packages to add aside).
        for c in plan.candidates {
            #expect(c.sizeSource.contains("image inspect") && (c.sizeIsEstimate == !c.packages.isEmpty), "\(c.name): \(c.sizeSource)")
            let reported = try DockerTest.docker(["image", "inspect", "-f", "{{.Size}}", c.image!]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(c.sizeBytes == (Int(reported) ?? -1) + plan.artifactBytes, "\(c.name)")
        }
        let name = try #require(plan.recommended)
        let recommended = try #require(plan.candidates.first { $0.name == name })
        let image = try #require(Self.standIns.first { $0.name == name }?.image)
        let real = try Self.realLoaderAccepts(image: image, libc: recommended.libc, root: root, files: files.filter { f in
            recommended.artifacts.contains { $0.path == f }
        })
        #expect(!real.isEmpty)
        #expect(real.values.allSatisfy { $0 }, "the real loader fails in \(image): \(real.filter { !$0.value }.keys.sorted())")
        print("plan in the stand-ins: recommended \(name), \(real.count) artifacts listed by the real loader there")
        for c in plan.candidates where (c.sizeBytes ?? 0) < (recommended.sizeBytes ?? 0) {
            let image = Self.standIns.first { $0.name == c.name }!.image
            let checked = try Self.realLoaderAccepts(image: image, libc: c.libc == "musl" ? "musl" : "glibc", root: root,
                                                     files: c.artifacts.map(\.path).filter { $0.hasPrefix("/") })
            #expect(checked.values.contains(false) || !c.packages.isEmpty, "\(c.name) is smaller: the real loader must fail an artifact there")
        }
    }

    @Test func theDockerfileBuildsOnTheStandInAndItsArtifactsLoad() throws {
        guard requireImages() else { return }
        let root = try Self.folder(["hello-glibc", "libcxxlib.so"])
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(root)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let plan = try PlanRun(settings: Self.settings(["app"]), candidates: Self.standIns.map { .init(name: $0.name, image: $0.image) },
                               indexURL: nil).run().plan
        #expect(plan.recommended == "distroless/cc-debian12")
        let dockerfile = PlanRenderer.dockerfile(plan)
        #expect(dockerfile.contains("ARG BASE=gcr.io/distroless/cc-debian12:nonroot") && !dockerfile.contains(":latest"))
        #expect(dockerfile.contains("USER 65532"))
        try dockerfile.write(toFile: root + "/Dockerfile", atomically: true, encoding: .utf8)
        let tag = "muslcheck-test/plan-built:\(getpid())"
        defer { DockerTest.removeImage(tag) }
        let build = try DockerTest.docker(["build", "-q", "--label", DockerTest.label, "--build-arg", "BASE=muslcheck-test/distroless-cc:debian12",
                                           "-t", tag, root])
        #expect(build.status == 0, "docker build: \(build.stderr)")
        guard build.status == 0 else { return }
        for f in ["/app/app/hello-glibc", "/app/app/libcxxlib.so"] {
            let r = try DockerTest.docker(["run", "--rm", "--label", DockerTest.label, "--network", "none", "--entrypoint", "/lib64/ld-linux-x86-64.so.2",
                                           "-e", "LD_TRACE_LOADED_OBJECTS=1", "-e", "LD_BIND_NOW=yes", "-e", "LD_WARN=yes", tag, f])
            #expect(r.status == 0 && !r.stdout.contains("not found") && !r.stdout.contains("undefined symbol"), "\(f): \(r.stdout) \(r.stderr)")
        }
        let user = try DockerTest.docker(["image", "inspect", "-f", "{{.Config.User}}", tag])
        #expect(user.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "65532:65532")
    }

    @Test func checkOnAGlibcImageIsConfirmedByGlibcsLoaderThere() throws {
        guard requireImages() else { return }
        let root = try Self.folder(["hello-glibc", "libcxxlib.so", "hello-musl", "libversioned.so.1", "use-versioned-glibc"])
        var s = Self.settings([root + "/app"])
        s.images = ["muslcheck-test/distroless-cc:debian12"]
        let result = try CheckRun(settings: s).run()
        #expect(result.environmentErrors.isEmpty, "\(result.environmentErrors)")
        #expect(result.report.targets.first?.libc == "glibc" && result.report.targets.first?.glibc == "2.36")
        let image = try #require(result.report.probes.first)
        #expect(image.probes.isEmpty && image.notes.contains { $0.contains("is a glibc image") })
        #expect(image.loader.count == 5)
        #expect(image.loader.allSatisfy { $0.agreement == .confirmed }, "\(image.loader.map { "\($0.artifact): \($0.agreement) \($0.differences)" })")
        var verdicts: [String: Verdict] = [:]
        try result.report.forEachArtifact { verdicts[($0.path as NSString).lastPathComponent] = $0.verdicts.first?.verdict }
        #expect(verdicts["hello-musl"] == .incompatible && verdicts["libcxxlib.so"] == .compatible)
    }

    @Test func aManylinuxWheelIsFineOnAlpineWhenItsVersionPublishesAMusllinuxWheel() throws {
        let wheel: String
        switch Wheels.all() {
        case .success(let w):
            guard let numpy = w.first(where: { $0.contains("numpy") && $0.contains("manylinux") }) else { print("skipped: no numpy wheel"); return }
            wheel = numpy
        case .failure(let e): print("skipped: \(e)"); return
        }
        // No index reachable: unknown, said so; the manylinux files decide.
        let offline = try PlanRun(settings: Self.settings([wheel]), candidates: [.init(name: "alpine:3.22")],
                                  indexURL: "http://127.0.0.1:9/simple").run().plan
        #expect(offline.wheels.count == 1 && offline.wheels.first?.musllinux == nil)
        #expect(offline.notes.contains { $0.contains("could not be reached") })
        #expect(offline.candidates.first?.artifacts.contains { $0.outcome != .runs } == true, "the manylinux files need gcompat or packages on Alpine")
        // The public index: numpy 2.1.3 publishes musllinux x86_64 wheels.
        guard (try? TestCommand.run("curl", ["-sS", "--max-time", "10", "-o", "/dev/null", "https://pypi.org/simple/"]))?.status == 0 else {
            print("skipped: pypi.org cannot be reached from here")
            return
        }
        let online = try PlanRun(settings: Self.settings([wheel]), candidates: [.init(name: "alpine:3.22")],
                                 indexURL: "https://pypi.org/simple").run().plan
        #expect(online.wheels.first?.musllinux == true && online.wheels.first?.project == "numpy")
        let alpine = try #require(online.candidates.first)
        #expect(alpine.runsAll && alpine.packages.isEmpty && !alpine.gcompat)
    }
}
