import Artifacts
import Compat
import ELF
import Foundation
import Testing
import TestSupport

/// The simulation on bundled profiles, for what the local musl 1.2.3 image cannot show (musl
/// 1.2.4/1.2.5's LFS64 mapping, DT_RELR, dlopen) and for the verdicts and fixes.
@Suite struct SimulationTests {
    static func target(_ name: String) throws -> Target { try Target.profile(name, data: try CompatData.shared()) }

    static func item(_ name: String) throws -> ScannedELF {
        let path = try Fixtures.path(name)
        return ScannedELF(displayPath: path, treePath: path, file: try ELFReader.read(path: path))
    }

    static func analyze(_ name: String, on targets: [String]) throws -> ArtifactAnalysis {
        let analyzer = Analyzer(targets: try targets.map(target), data: try CompatData.shared())
        return analyzer.analyze(try item(name), tree: DiskTree(name: "test"), archive: nil)
    }

    static func list(_ name: String, on targetName: String, mode: LoadMode = .list, host: String? = nil, preload: [String] = []) throws -> LoadOutcome {
        let data = try CompatData.shared()
        let i = try item(name)
        var sim = LoaderSimulation(target: try target(targetName), tree: DiskTree(name: "test"))
        sim.preload = preload
        return sim.run(i.file, treePath: i.treePath, displayPath: i.displayPath, mode: mode, host: data.hosts.first { $0.id == host })
    }

    @Test func lfs64NamesResolveOn123AndMapOn124ExceptPosixFallocate64() throws {
        let on123 = try Self.list("lfs64-glibc", on: "musl:1.2.3")
        #expect(on123.errors.isEmpty, "musl 1.2.3 exports the LFS64 names: \(on123.errors.map(\.message))")
        #expect(on123.lfs64Mapped.isEmpty)
        for version in ["musl:1.2.4", "musl:1.2.5", "alpine:3.18", "alpine:3.22"] {
            let o = try Self.list("lfs64-glibc", on: version)
            #expect(o.errors.map(\.subject) == ["posix_fallocate64"], "\(version)")
            #expect(o.errors.first?.symbolReason == .lfs64Bug)
            #expect(Set(o.lfs64Mapped) == ["stat64", "fopen64", "open64"], "\(version)")
        }
        let a = try Self.analyze("lfs64-glibc", on: ["alpine:3.22+gcompat"])
        #expect(a.findings.contains { $0.id == "MC103" && $0.subject == "posix_fallocate64" && $0.fix.contains("posix_fallocate") })
        #expect(a.verdicts.first?.verdict == .incompatible, "gcompat does not provide posix_fallocate64")
    }

    @Test func relrIsIgnoredBeforeMusl124() throws {
        let old = try Self.list("librelr.so", on: "musl:1.2.3")
        #expect(old.errors.map(\.kind) == [.relrUnsupported])
        #expect(try Self.list("librelr.so", on: "musl:1.2.4").errors.isEmpty)
        let a = try Self.analyze("librelr.so", on: ["alpine:3.17", "alpine:3.18"])
        #expect(a.verdicts.map(\.verdict) == [.incompatible, .compatible])
        #expect(a.findings.contains { $0.id == "MC108" && $0.target == "alpine:3.17" })
    }

    @Test func initialExecTLSFailsOnlyWhenLoadedWithDlopen() throws {
        #expect(try Self.list("libtlsie.so", on: "alpine:3.22").errors.isEmpty)
        let dl = try Self.list("libtlsie.so", on: "alpine:3.22", mode: .dlopen(hostID: "python"), host: "python")
        #expect(dl.errors.map(\.kind) == [.initialExecTLS])
        #expect(dl.errors.first?.message.hasSuffix(": tls_counter: initial-exec TLS resolves to dynamic definition in \(try Fixtures.path("libtlsie.so"))") == true)
    }

    @Test func hostModulesGetTheirHostsSymbols() throws {
        let py = try Self.analyze("modules/pyext.cpython-311-x86_64-linux-gnu.so", on: ["alpine:3.22"])
        #expect(py.kind == .pythonExtension)
        #expect(py.verdicts.first?.verdict == .compatible)
        #expect(py.findings.contains { $0.id == "MC140" && $0.message.contains("PyLong_FromLong") })
        #expect(!py.findings.contains { $0.id == "MC102" })

        let node = try Self.analyze("modules/addon.node", on: ["alpine:3.22"])
        #expect(node.kind == .nodeAddon)
        #expect(node.verdicts.first?.verdict == .compatible)
        let nodeOutcome = try Self.list("modules/addon.node", on: "alpine:3.22", mode: .dlopen(hostID: "node"), host: "node")
        #expect(Set(nodeOutcome.hostProvided) == ["napi_create_int32", "uv_version"])

        let jni = try Self.analyze("modules/libjnidemo.so", on: ["alpine:3.22"])
        #expect(jni.kind == .jniLibrary)
        #expect(jni.verdicts.first?.verdict == .compatible)
        // Without a host (plain --list), the same file's Py* symbols are errors, as musl reports them.
        let bare = try Self.list("modules/pyext.cpython-311-x86_64-linux-gnu.so", on: "alpine:3.22")
        #expect(bare.errors.map(\.subject) == ["PyLong_FromLong"])
    }

    @Test func verdictsOfTheFixtures() throws {
        let cases: [(String, Verdict, Verdict)] = [
            // (fixture, on alpine:3.22, on alpine:3.22+gcompat)
            ("hello-musl", .nativeMusl, .nativeMusl),
            ("hello-musl-static", .static, .static),
            ("hello-glibc-static", .static, .static),
            ("hello-glibc", .needsGcompat, .needsGcompat),
            ("fortify-glibc", .needsGcompat, .needsGcompat),
            ("libifunc.so", .incompatible, .incompatible),
            ("libneedsresolv.so", .incompatible, .incompatible),
            ("compat/use-compat", .incompatible, .incompatible),
            ("libweak.so", .compatible, .compatible),
            ("libmuslshared.so", .nativeMusl, .nativeMusl),
            ("libcxxlib.so", .compatible, .compatible),
        ]
        for (name, plain, withGcompat) in cases {
            let a = try Self.analyze(name, on: ["alpine:3.22", "alpine:3.22+gcompat"])
            #expect(a.verdicts.map(\.verdict) == [plain, withGcompat], "\(name)")
        }
    }

    @Test func findingsCarryMuslsMessageAndAFix() throws {
        let hello = try Self.analyze("hello-glibc", on: ["alpine:3.22"])
        let interp = try #require(hello.findings.first { $0.id == "MC100" })
        #expect(interp.message.hasPrefix("sh: \(try Fixtures.path("hello-glibc")): not found"))
        #expect(interp.subject == "/lib64/ld-linux-x86-64.so.2")
        #expect(interp.fix.contains("apk add gcompat"))

        let fortify = try Self.analyze("fortify-glibc", on: ["alpine:3.22+gcompat", "musl:1.2.5"])
        // Through gcompat it loads; on plain musl the exec fails at the interpreter already.
        #expect(fortify.findings.contains { $0.id == "MC112" && $0.target == "alpine:3.22+gcompat" && $0.severity == .note })

        let resolv = try Self.analyze("libneedsresolv.so", on: ["alpine:3.22"])
        let lib = try #require(resolv.findings.first { $0.id == "MC101" })
        #expect(lib.message == "Error loading shared library libresolv.so.2: No such file or directory (needed by \(try Fixtures.path("libneedsresolv.so")))")
        #expect(lib.fix.contains("gcompat"))
        let sym = try #require(resolv.findings.first { $0.id == "MC102" && $0.subject == "__res_init" })
        #expect(sym.message == "Error relocating \(try Fixtures.path("libneedsresolv.so")): __res_init: symbol not found")
        #expect(sym.fix.hasPrefix("__res_init (in glibc's libc since 2.2.5) is a glibc resolver internal"))
        #expect(sym.fix.contains("which neither musl 1.2.5 nor gcompat provides: rebuild against musl"))

        let compat = try Self.analyze("compat/use-compat", on: ["alpine:3.22+gcompat"])
        #expect(compat.findings.contains { $0.id == "MC109" && $0.subject == "baz" })

        let ifunc = try Self.analyze("libifunc.so", on: ["alpine:3.22"])
        #expect(ifunc.findings.contains { $0.id == "MC104" && $0.subject == "fast_double" })
        #expect(ifunc.findings.contains { $0.id == "MC105" && $0.subject == "R_X86_64_IRELATIVE (37)" })

        let cxx = try Self.analyze("libcxxlib.so", on: ["alpine:3.22"])
        #expect(Set(cxx.findings.filter { $0.id == "MC110" }.map(\.fix)) == ["apk add libstdc++", "apk add libgcc"])
        #expect(cxx.findings.contains { $0.id == "MC111" })
        #expect(cxx.highestVersions == ["GLIBC": "2.14", "GLIBCXX": "3.4.21", "CXXABI": "1.3.9", "GCC": "3.0"])
    }

    @Test func aModuleNeedingGcompatSymbolsNeedsThemPreloaded() throws {
        // A glibc module needing only libc.so.6 with fortified calls, loaded by a musl python:
        // libc.so.6 is musl itself, so gcompat's __*_chk arrive only when preloaded.
        let dir = try Scratch("preload")
        let module = dir.file("fort.cpython-311-x86_64-linux-gnu.so")
        try FileManager.default.copyItem(atPath: try Fixtures.path("modules/pyext.cpython-311-x86_64-linux-gnu.so"), toPath: module)
        _ = module
        let data = try CompatData.shared()
        let fortifyPath = try Fixtures.path("fortify-glibc")
        let elf = try ELFReader.read(path: fortifyPath)
        let target = try Self.target("alpine:3.22+gcompat")
        var sim = LoaderSimulation(target: target, tree: DiskTree(name: "t"))
        let plain = sim.run(elf, treePath: fortifyPath, displayPath: fortifyPath, mode: .dlopen(hostID: "python"), host: data.hosts[0])
        #expect(!plain.ok, "without the preload, musl answers libc.so.6 and __snprintf_chk is missing")
        sim.preload = [data.targets.gcompat.library]
        let preloaded = sim.run(elf, treePath: fortifyPath, displayPath: fortifyPath, mode: .list, host: data.hosts[0])
        #expect(preloaded.ok, "\(preloaded.errors.map(\.message))")
        #expect(preloaded.fromGcompat.contains("__snprintf_chk"))
    }

    /// The simulation remembers what earlier loads found (which objects define which names, what
    /// each object could not resolve) to skip work in later ones. Every artifact must get the same
    /// analysis from an analyzer that has seen everything else first as from a fresh one.
    /// Libraries that load chains of libraries beside them (the fixtures' RUNPATH and wheel trees,
    /// and where present samba's and the Swift toolchain's private libraries) are where it matters.
    @Test func rememberedLoadsGiveTheSameAnswersAsFreshOnes() throws {
        let data = try CompatData.shared()
        var roots = [try Fixtures.directory().path]
        for extra in ["/usr/lib/x86_64-linux-gnu/samba", "/opt/swift/usr/lib/swift/host"]
        where FileManager.default.fileExists(atPath: extra) { roots.append(extra) }
        final class Items: @unchecked Sendable { var list: [(ScannedELF, any ArtifactTree, String?)] = []; let lock = NSLock() }
        let items = Items()
        ArtifactScanner(jobs: 2).scan(paths: roots) { event in
            guard case .batch(let b) = event else { return }
            items.lock.lock()
            for i in b.items { items.list.append((i, b.tree, b.archive)) }
            items.lock.unlock()
        }
        let all = items.list.sorted { $0.0.displayPath < $1.0.displayPath }
        #expect(all.count >= 25)
        let targets = ["alpine:3.22", "musl:1.2.3"]
        let warm = Analyzer(targets: try targets.map(Self.target), data: data, options: { var o = AnalyzerOptions(); o.treeRoots = roots; return o }())
        // Everything once, in reverse, so that the second pass meets remembered facts.
        for (item, tree, archive) in all.reversed() { _ = warm.analyze(item, tree: tree, archive: archive) }
        var compared = 0
        for (item, tree, archive) in all {
            let remembered = warm.analyze(item, tree: tree, archive: archive)
            let fresh = Analyzer(targets: try targets.map(Self.target), data: data, options: warm.options)
                .analyze(item, tree: archive == nil ? DiskTree(name: "disk") : tree, archive: archive)
            if remembered != fresh {
                let a = Set(remembered.findings.map(\.message) + remembered.verdicts.flatMap(\.loaderMessages))
                let b = Set(fresh.findings.map(\.message) + fresh.verdicts.flatMap(\.loaderMessages))
                Issue.record("""
                    \(item.displayPath): the analysis after others differs from a fresh one; \
                    only after others: \(Array(a.subtracting(b).sorted().prefix(3))); only fresh: \(Array(b.subtracting(a).sorted().prefix(3))); \
                    verdicts \(remembered.verdicts.map(\.verdict.rawValue)) vs \(fresh.verdicts.map(\.verdict.rawValue))
                    """)
            }
            compared += 1
        }
        #expect(compared == all.count)
    }

    @Test func unknownTargetNamesTheBundledOnes() throws {
        #expect(throws: CompatDataError.self) { try Self.target("alpine:2.0") }
        do { _ = try Self.target("alpine:2.0") } catch {
            #expect("\(error)".contains("alpine:3.22"))
            #expect("\(error)".contains("--sysroot"))
        }
        // The Alpine and musl profiles, each also with gcompat, and the four Debian-based ones.
        #expect(Target.profileNames(data: try CompatData.shared()).count == 24)
    }
}

/// A scratch folder removed at the end of the test.
struct Scratch: ~Copyable {
    let url: URL
    init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}
