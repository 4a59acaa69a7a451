import Artifacts
@testable import Compat
import ELF
import Engine
import Foundation
import Testing
import TestSupport

/// The glibc loader simulation against glibc's real loader in the local Debian 12 stand-in
/// images (and one made from distroless-cc without libstdc++), run as `ldd -r` runs it
/// (LD_TRACE_LOADED_OBJECTS, LD_WARN, LD_BIND_NOW): missing libraries, missing versions and
/// undefined symbols must agree, for each image read through muslcheck's export path and for
/// the bundled profile of the same name. Host-provided symbols are removed from both sides.
@Suite(.serialized) struct GlibcRealLoaderDifferentialTests {
    /// Files where the simulation knowingly differs from the real loader, with the reason: by
    /// file name, "variant file name" or "variant image|profile file name".
    static let knownDifferences: [String: String] = {
        let crash = "glibc 2.36's ld.so dies (SIGSEGV) relocating this library in trace mode with LD_WARN when no "
            + "libc.so.6 is loaded (every library that would bring it in is missing): the undefined symbols are never printed"
        return [
            "distroless-base libabsl_bad_any_cast_impl.so.20220623.0.0": crash,
            "distroless-base libabsl_periodic_sampler.so.20220623.0.0": crash,
            "distroless-base libabsl_random_internal_randen.so.20220623.0.0": crash,
            "distroless-cc-no-libstdc++ libabsl_bad_any_cast_impl.so.20220623.0.0": crash,
            "distroless-cc-no-libstdc++ libabsl_periodic_sampler.so.20220623.0.0": crash,
        ]
    }()

    static func knownDifference(variant: String, label: String, file: String) -> String? {
        let base = baseName(file)
        return knownDifferences[base] ?? knownDifferences[variant + " " + base] ?? knownDifferences[variant + " " + label + " " + base]
    }

    static let interpreter = "/lib64/ld-linux-x86-64.so.2"
    static let busybox = "/.mc/busybox"

    struct Variant {
        var name: String
        var image: String
        /// The image through muslcheck's export path, and the bundled profile of the same name.
        var targets: [(label: String, target: Target, system: GlibcSystem)]
    }

    struct Setup {
        var variants: [Variant]
        var fixtures: String
    }

    static let setup: Result<Setup, TestSupportError> = {
        if let reason = DockerTest.unavailableReason { return .failure(TestSupportError(reason)) }
        do {
            let dir = try Fixtures.directory().path
            let data = try CompatData.shared()
            let images: [(String, String, String?)] = [
                ("distroless-base", "muslcheck-test/distroless-base:debian12", "distroless/base-debian12"),
                ("distroless-cc", "muslcheck-test/distroless-cc:debian12", "distroless/cc-debian12"),
                ("debian-slim", "muslcheck-test/debian-slim:12", "debian:12-slim"),
            ]
            for (_, image, _) in images where (try? DockerTest.docker(["image", "inspect", image]))?.status != 0 {
                return .failure(TestSupportError("the glibc stand-in image \(image) is missing: run ci/setup (it builds it)"))
            }
            let noCxx = try imageWithoutLibstdcxx(from: images[1].1)
            var variants: [Variant] = []
            for (name, image, profile) in images + [("distroless-cc-no-libstdc++", noCxx, nil)] {
                let fromImage = try RealLoaderDifferentialTests.imageTarget(image, data: data)
                guard let system = fromImage.glibc, fromImage.libc == .glibc else {
                    return .failure(TestSupportError("\(image) is not read as a glibc target"))
                }
                var targets = [(label: "image", target: fromImage, system: system)]
                if let profile {
                    let p = try Target.profile(profile, data: data)
                    guard let s = p.glibc else { return .failure(TestSupportError("\(profile) is not a glibc profile")) }
                    targets.append((label: "profile", target: p, system: withoutPackages(s)))
                }
                variants.append(Variant(name: name, image: image, targets: targets))
            }
            return .success(Setup(variants: variants, fixtures: dir))
        } catch let e as TestSupportError {
            return .failure(e)
        } catch {
            return .failure(TestSupportError("\(error)"))
        }
    }()

    /// A profile's system as its image is: debian:12-slim's profile would add a missing
    /// library's Debian package, the real image has only what is installed.
    static func withoutPackages(_ s: GlibcSystem) -> GlibcSystem {
        GlibcSystem(version: s.version, interpreter: s.interpreter, systemDirectories: s.systemDirectories, files: s.files,
                    cache: s.cache, fromPackage: { _ in nil }, packages: s.packages)
    }

    /// distroless-cc with libstdc++ taken out (its ld.so.cache still names it): export, delete
    /// the members, import. Reused while the source image is the same.
    static func imageWithoutLibstdcxx(from source: String) throws -> String {
        let tag = "muslcheck-test/distroless-cc-no-libstdcxx:debian12"
        let sourceID = try DockerTest.docker(["image", "inspect", "--format", "{{.Id}}", source]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let existing = try DockerTest.docker(["image", "inspect", "--format", "{{index .Config.Labels \"org.muslcheck.from\"}}", tag])
        if existing.status == 0, existing.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == sourceID { return tag }
        let created = try DockerTest.docker(["create", "--label", DockerTest.label, source, "/none"])
        guard created.status == 0 else { throw TestSupportError("docker create \(source) failed: \(created.stderr)") }
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? DockerTest.docker(["rm", "-f", id]) }
        let script = """
        set -e -o pipefail
        docker export \(id) | tar --delete --wildcards -f - '*/libstdc++.so*' \
          | docker import --change 'LABEL org.muslcheck.test=1' --change 'LABEL org.muslcheck.from=\(sourceID)' - \(tag) >/dev/null
        """
        let r = try TestCommand.run("/bin/bash", ["-c", script])
        guard r.status == 0 else { throw TestSupportError("making \(tag) failed: \(r.stderr)") }
        return tag
    }

    /// What glibc's loader printed for one file, as `ldd -r` prints it.
    struct Trace {
        var missingLibraries: Set<String> = []
        /// "requirer basename VERSION"
        var missingVersions: Set<String> = []
        /// "object basename SYMBOL"
        var undefinedSymbols: Set<String> = []
        var loaded: [String] = []
        var otherLines: [String] = []
        var lines = 0
        var status = -1
    }

    static func baseName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }

    /// Runs glibc's loader in trace mode on each file, in one container of `image` with
    /// busybox and `mounts` (host → container) read-only, and parses what it printed.
    static func realTrace(image: String, mounts: [(String, String)], files: [String]) throws -> [String: Trace] {
        var script = ""
        for f in files {
            script += "echo '@@@ \(f)'; LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes LD_BIND_NOW=yes \(interpreter) '\(f)' 2>&1; echo \"@@@ status $?\"\n"
        }
        var args = ["run", "--rm", "--label", DockerTest.label, "--network", "none", "-v", "/bin/busybox:\(busybox):ro"]
        for (host, path) in mounts { args += ["-v", "\(host):\(path):ro"] }
        args += ["--entrypoint", busybox, image, "sh", "-c", script]
        let result = try DockerTest.docker(args)
        guard result.status == 0 else { throw TestSupportError("docker run \(image) failed: \(result.stderr)") }
        var out: [String: Trace] = [:]
        var current: String? = nil
        var t = Trace()
        for line in result.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("@@@ status ") {
                t.status = Int(line.dropFirst(11)) ?? -1
                if let c = current { out[c] = t }
                current = nil
                continue
            }
            if line.hasPrefix("@@@ ") { current = String(line.dropFirst(4)); t = Trace(); continue }
            if line.isEmpty { continue }
            t.lines += 1
            if line.hasPrefix("\t"), line.hasSuffix(" => not found") {
                t.missingLibraries.insert(String(line.dropFirst().dropLast(" => not found".count)))
            } else if let u = line.range(of: "undefined symbol: "), let o = line.range(of: "\t(", options: .backwards) {
                let what = line[u.upperBound..<o.lowerBound]
                let name = what.range(of: ", version ").map { String(what[..<$0.lowerBound]) } ?? String(what)
                let object = String(line[o.upperBound...].dropLast())
                t.undefinedSymbols.insert(baseName(object) + " " + name)
            } else if let v = line.range(of: ": version `"), let q = line.range(of: "' not found (required by ", range: v.upperBound..<line.endIndex) {
                let version = String(line[v.upperBound..<q.lowerBound])
                let requirer = String(line[q.upperBound...].dropLast())
                t.missingVersions.insert(baseName(requirer) + " " + version)
            } else if let e = line.range(of: "error while loading shared libraries: ") {
                // A library that cannot be loaded stops the load (elf/dl-deps.c).
                let rest = line[e.upperBound...]
                if let colon = rest.firstIndex(of: ":") { t.missingLibraries.insert(String(rest[..<colon])) }
                t.otherLines.append(line)
            } else if line.hasPrefix("\t") {
                t.loaded.append(line.trimmingCharacters(in: .whitespaces))
            } else {
                t.otherLines.append(line)
            }
        }
        return out
    }

    struct Figures {
        var loads = 0
        var errors = 0
        /// Of the errors, missing versions.
        var versions = 0
        var failures: [String] = []
        /// Known differences left out.
        var skipped = 0
        static func + (a: Figures, b: Figures) -> Figures {
            Figures(loads: a.loads + b.loads, errors: a.errors + b.errors, versions: a.versions + b.versions, failures: a.failures + b.failures,
                    skipped: a.skipped + b.skipped)
        }
    }

    /// The files glibc's loader can trace: ET_DYN or ET_EXEC with PT_DYNAMIC, for x86_64.
    static func loadable(_ files: [String]) -> [String] {
        files.filter { f in
            guard let elf = try? ELFReader.read(path: f) else { return false }
            return elf.dynamic != nil && (elf.header.type == .ET_DYN || elf.header.type == .ET_EXEC)
                && elf.header.machine == ELFMachine(rawValue: 62) && elf.header.fileClass == .ELFCLASS64
        }
    }

    /// Compares one set of files in one variant, each target of the variant against the same
    /// real run. `mounts`: host folder → the same folder's path in the container and in `files`.
    static func compare(files: [String], mounts: [(String, String)], variant: Variant) throws -> [String: Figures] {
        let data = try CompatData.shared()
        let real = try realTrace(image: variant.image, mounts: mounts, files: files)
        let roots = mounts.map(\.1)
        var figures: [String: Figures] = [:]
        for (label, target, system) in variant.targets {
            let analyzer = Analyzer(targets: [target], data: data)
            let tree = DiskTree(name: "glibc-differential")
            let results = ConcurrentMap.map(files) { file -> Figures in
                if knownDifference(variant: variant.name, label: label, file: file) != nil { return Figures(skipped: 1) }
                guard let result = real[file] else { return Figures(failures: ["[\(variant.name)] \(file): no loader output"]) }
                guard result.lines > 0, let elf = try? ELFReader.read(path: file) else { return Figures() }
                let host = analyzer.host(for: elf, name: file)
                let provided: (String) -> Bool = { entry in
                    let name = entry.split(separator: " ").last.map(String.init) ?? entry
                    return host?.providesPrefixes.contains { name.hasPrefix($0) } ?? false
                }
                var sim = GlibcLoaderSimulation(target: target, system: system, tree: tree, treeRoots: roots)
                sim.bindNow = true
                let outcome = sim.run(elf, treePath: file, displayPath: file, mode: .list, host: host)
                let simLibs = Set(outcome.errors.filter { $0.kind == .missingLibrary || $0.kind == .libraryNotLoadable }.map(\.subject))
                let simVersions = Set(outcome.errors.filter { $0.kind == .missingVersion }.map { baseName($0.object) + " " + $0.subject })
                let simSyms = Set((outcome.errors + outcome.deferred).filter { $0.kind == .missingSymbol || $0.kind == .lazySymbol }
                    .map { baseName($0.object) + " " + $0.subject }).filter { !provided($0) }
                let realSyms = result.undefinedSymbols.filter { !provided($0) }
                if result.status >= 128 {
                    // glibc's loader itself died (Debian 12's ld.so segfaults tracing some C++
                    // libraries whose libstdc++ is missing): its listing stops there, so only the
                    // libraries it named before dying are compared; the file is counted apart.
                    let named = result.missingLibraries.isSubset(of: simLibs)
                    if named { print("glibc differential: [\(variant.name) \(label)] \(file): glibc's loader died (status \(result.status)); the \(result.missingLibraries.count) missing libraries it named agree") }
                    return Figures(failures: named ? [] : ["[\(variant.name) \(label)] \(file): glibc's loader died (status \(result.status)) after naming missing \(result.missingLibraries.sorted()), muslcheck \(simLibs.sorted())"],
                                   skipped: 1)
                }
                var diffs: [String] = []
                if simLibs != result.missingLibraries {
                    diffs.append("libraries: muslcheck \(simLibs.sorted()) vs glibc \(result.missingLibraries.sorted())")
                }
                if simVersions != result.missingVersions {
                    diffs.append("versions only muslcheck: \(simVersions.subtracting(result.missingVersions).sorted().prefix(6)), only glibc: \(result.missingVersions.subtracting(simVersions).sorted().prefix(6))")
                }
                if simSyms != realSyms {
                    diffs.append("symbols only muslcheck: \(simSyms.subtracting(realSyms).sorted().prefix(6)), only glibc: \(realSyms.subtracting(simSyms).sorted().prefix(6))")
                }
                if result.status >= 128 { diffs.append("glibc's loader died (status \(result.status))") }
                let unparsed = result.otherLines.filter { !$0.contains("error while loading shared libraries: ") }
                if !unparsed.isEmpty { diffs.append("loader lines not understood: \(unparsed.prefix(3))") }
                let errors = result.missingLibraries.count + result.missingVersions.count + realSyms.count
                return Figures(loads: 1, errors: errors, versions: result.missingVersions.count,
                               failures: diffs.isEmpty ? [] : ["[\(variant.name) \(label)] \(file): " + diffs.joined(separator: "; ")])
            }
            figures[label] = results.reduce(Figures(), +)
        }
        return figures
    }

    func requireSetup() throws -> Setup? {
        switch Self.setup {
        case .success(let s): return s
        case .failure(let e):
            if DockerTest.skipped { print("skipped: \(e)"); return nil }
            Issue.record("glibc container tests cannot run: \(e)")
            return nil
        }
    }

    /// Runs every variant (their containers side by side) and prints a line per variant and target.
    static func run(_ what: String, files: [String], mounts: [(String, String)], setup: Setup) throws -> [String: [String: Figures]] {
        let outcomes = ConcurrentMap.map(Array(setup.variants.indices)) { i -> Result<[String: Figures], TestSupportError> in
            do { return .success(try compare(files: files, mounts: mounts, variant: setup.variants[i])) } catch let e as TestSupportError {
                return .failure(e)
            } catch {
                return .failure(TestSupportError("\(error)"))
            }
        }
        var out: [String: [String: Figures]] = [:]
        for (variant, outcome) in zip(setup.variants, outcomes) {
            let figures = try outcome.get()
            out[variant.name] = figures
            for (label, f) in figures.sorted(by: { $0.key < $1.key }) {
                print("glibc loader vs simulation [\(variant.name) \(label)] \(what): \(f.loads) loads, \(f.errors) errors compared (\(f.versions) missing versions), \(f.failures.count) disagreements, \(f.skipped) known differences left out")
            }
        }
        return out
    }

    /// The disagreements for the failure message: the first 30, or MUSLCHECK_DIFF_MAX of them.
    static func listed(_ failures: [String]) -> Comment {
        let limit = ProcessInfo.processInfo.environment["MUSLCHECK_DIFF_MAX"].flatMap { Int($0) } ?? 30
        return Comment(rawValue: "\(failures.count) disagreements:\n" + failures.prefix(limit).joined(separator: "\n"))
    }

    static func summary(_ what: String, _ all: [String: [String: Figures]]) -> Figures {
        let total = all.values.flatMap(\.values).reduce(Figures(), +)
        print("glibc loader vs simulation: \(total.loads) loads, \(total.errors) errors compared (\(what); \(total.versions) missing versions)")
        return total
    }

    /// A library built twice with one soname: the newer build (version VD_2 added: f2 and the
    /// variable `counter` moved there) linked into a program and a library, the older one (only
    /// VD_1) found first through their RUNPATH. glibc's loader then misses a version and symbols
    /// of that version, one of them through a copy relocation.
    static func olderLibraryFiles() throws -> String {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-glibc-versions-\(getpid())").path
        ScratchFolders.removeAtExit(work)
        let script = """
        set -e
        w=\(work)
        mkdir -p $w/new $w/old
        cd $w
        printf 'int counter = 1;\\nint f1(void) { return 1; }\\nint f2(void) { return 2; }\\n' > lib.c
        printf 'VD_1 { global: f1; local: *; };\\nVD_2 { global: f2; counter; } VD_1;\\n' > new.map
        printf 'VD_1 { global: f1; f2; counter; local: *; };\\n' > old.map
        printf 'extern int counter; int f1(void); int f2(void);\\nint main(void) { return f1() + f2() + counter; }\\n' > main.c
        printf 'int f1(void); int f2(void);\\nint g(void) { return f1() + f2(); }\\n' > user.c
        gcc -O1 -shared -fPIC -Wl,--version-script=new.map -Wl,-soname,libvdemo.so.1 -o new/libvdemo.so.1 lib.c
        gcc -O1 -shared -fPIC -Wl,--version-script=old.map -Wl,-soname,libvdemo.so.1 -o old/libvdemo.so.1 lib.c
        gcc -O1 -no-pie -o use-vdemo main.c -Lnew -l:libvdemo.so.1 -Wl,-rpath,'$ORIGIN/old'
        gcc -O1 -shared -fPIC -o libuses-vdemo.so user.c -Lnew -l:libvdemo.so.1 -Wl,-rpath,'$ORIGIN/old'
        rm -f *.c *.map
        """
        let r = try TestCommand.run("/bin/sh", ["-c", script])
        guard r.status == 0 else { throw TestSupportError("building the versioned library pair failed: \(r.stderr)") }
        return work
    }

    @Test func fixturesAgreeWithGlibcsLoaderInEveryImage() throws {
        guard let setup = try requireSetup() else { return }
        let older = try Self.olderLibraryFiles()
        let files = Self.loadable(ELFFiles.find(under: [setup.fixtures, older], limit: nil))
        #expect(files.count >= 20)
        let all = try Self.run("fixtures", files: files, mounts: [(setup.fixtures, setup.fixtures), (older, older)], setup: setup)
        let total = Self.summary("fixtures", all)
        #expect(total.loads >= 7 * 20, "compared \(total.loads) loads")
        #expect(total.errors >= 100, "the images must make the loader fail in many ways")
        #expect(total.versions >= 7 * 2, "missing versions compared: \(total.versions)")
        // Without libstdc++ the C++ fixture loses its library and every C++ symbol.
        let noCxx = all["distroless-cc-no-libstdc++"]?["image"]
        let cc = all["distroless-cc"]?["image"]
        #expect((noCxx?.errors ?? 0) > (cc?.errors ?? 0) + 10, "libstdc++ removed must make C++ files fail")
        #expect(total.failures.isEmpty, Self.listed(total.failures))
    }

    @Test func systemFilesAgreeWithGlibcsLoaderInEveryImage() throws {
        guard let setup = try requireSetup() else { return }
        // This host's folders are mounted beside the image's own (not over them): a folder of
        // symbolic links here names them at the paths they have in the container.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-glibc-differential-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sources = [("/usr/bin", dir + "/usr-bin", 60), ("/usr/lib/x86_64-linux-gnu", dir + "/usr-lib", 90)]
        var files: [String] = []
        for (source, link, limit) in sources {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: source)
            files += Self.loadable(ELFFiles.find(under: [source], recursive: false, limit: limit)).map { link + $0.dropFirst(source.count) }
        }
        let all = try Self.run("system files", files: files, mounts: sources.map { ($0.0, $0.1) }, setup: setup)
        let total = Self.summary("system files", all)
        #expect(total.loads >= 7 * 100, "compared \(total.loads) loads")
        #expect(total.errors >= 500)
        let noCxx = all["distroless-cc-no-libstdc++"]?["image"]
        let cc = all["distroless-cc"]?["image"]
        #expect((noCxx?.errors ?? 0) > (cc?.errors ?? 0) + 50, "libstdc++ removed must make C++ files fail")
        #expect(total.failures.isEmpty, Self.listed(total.failures))
    }

    @Test func manylinuxWheelsAgreeWithGlibcsLoaderInEveryImage() throws {
        guard let setup = try requireSetup() else { return }
        let wheels: [String]
        switch Wheels.all() {
        case .success(let w): wheels = w.filter { ($0 as NSString).lastPathComponent.contains("manylinux") }
        case .failure(let e):
            print("skipped: \(e)")
            return
        }
        let root = TestPaths.packageRoot.appendingPathComponent(".build-test-data/wheels-unpacked").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let dirs = try wheels.map { try Wheels.unpack($0, into: root) }
        let files = Self.loadable(ELFFiles.find(under: dirs, limit: nil))
        #expect(files.count >= 30, "the wheels hold many native files")
        let all = try Self.run("\(wheels.count) manylinux wheels", files: files, mounts: [(root, root)], setup: setup)
        let total = Self.summary("\(wheels.count) manylinux wheels", all)
        #expect(total.loads >= 7 * 30, "compared \(total.loads) loads")
        #expect(total.failures.isEmpty, Self.listed(total.failures))
    }
}
