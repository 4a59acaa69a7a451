import Artifacts
import Compat
import ELF
import Engine
import Foundation
import Testing
import TestSupport

/// The loader simulation against musl's real loader (`ld-musl-x86_64.so.1 --list`) in the local
/// musl image and images assembled from it: missing libraries, missing symbols and unsupported
/// relocations must agree, host-provided symbols removed from both sides.
@Suite(.serialized) struct RealLoaderDifferentialTests {
    /// Artifacts where the simulation knowingly differs from the real loader, with the reason.
    static let knownDifferences: [String: String] = [:]

    struct Variant {
        var name: String
        var image: String
        var target: Target
        var preload: String?
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
            // A stand-in libgcompat.so.0 defining gcompat 1.1.0's exports, built with musl-gcc.
            let exportsURL = try CompatData.resourcesURL().appendingPathComponent("gcompat-1.1.0-x86_64.exports")
            let names = try String(contentsOf: exportsURL, encoding: .utf8).split(separator: "\n")
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-gcompat-standin")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            ScratchFolders.removeAtExit(work.path)
            let source = work.appendingPathComponent("standin.c")
            try names.map { "void \($0)(void) {}" }.joined(separator: "\n").write(to: source, atomically: true, encoding: .utf8)
            let lib = work.appendingPathComponent("libgcompat.so.0").path
            let cc = try TestCommand.run("musl-gcc", ["-shared", "-fPIC", "-fno-builtin", "-w", "-o", lib, source.path])
            guard cc.status == 0 else { return .failure(TestSupportError("building the gcompat stand-in failed: \(cc.stderr)")) }

            let libs: [(String, String)] = [
                ("\(dir)/libversioned.so.1", "/usr/lib/libversioned.so.1"),
                ("\(dir)/compat/libcompat.so.1", "/usr/lib/libcompat.so.1"),
                ("\(dir)/runpath/librunpath.so", "/usr/lib/librunpath.so"),
            ]
            let withLibs = try DockerTest.derivedImage(tag: "muslcheck-test/libs:latest", add: libs + [("\(dir)/runpath/libdep.so", "/usr/lib/libdep.so")])
            // librunpath.so without the libdep.so it needs.
            let missing = try DockerTest.derivedImage(tag: "muslcheck-test/missing:latest", add: libs)
            let gcompat = try DockerTest.derivedImage(tag: "muslcheck-test/gcompat:latest", from: withLibs, add: [(lib, "/lib/libgcompat.so.0")])
            var variants: [Variant] = []
            for (name, image, preload) in [("base", DockerTest.baseImage, nil as String?), ("libs", withLibs, nil),
                                           ("missing", missing, nil), ("gcompat", gcompat, "/lib/libgcompat.so.0")] {
                variants.append(Variant(name: name, image: image, target: try imageTarget(image, data: data), preload: preload))
            }
            return .success(Setup(variants: variants, fixtures: dir))
        } catch let e as TestSupportError {
            return .failure(e)
        } catch {
            return .failure(TestSupportError("\(error)"))
        }
    }()

    /// The image's filesystem through muslcheck's own export path.
    static func imageTarget(_ image: String, data: CompatData) throws -> Target {
        let engine = try ContainerEngine()
        let id = try engine.createContainer(image: image, runID: "test-differential")
        defer { engine.removeContainer(id) }
        let export = try engine.startExport(id)
        let source = FileDescriptorSource(fd: export.stdout.fileDescriptor, name: image, owns: false)
        let tree = try ArtifactScanner().scanFilesystemStream(source, name: image, textFiles: Target.textFiles) { _ in }
        try export.wait(describing: "docker export")
        return try Target.filesystem(name: image, kind: .image(image), tree: tree, data: data)
    }

    /// Compares one set of files. The folders in `roots` are mounted read-only at the same paths
    /// in the container, so absolute RPATHs and $ORIGIN mean the same on both sides.
    static func compare(files: [String], roots: [String], variant: Variant) throws -> (compared: Int, failures: [String], errorsSeen: Int) {
        let data = try CompatData.shared()
        let analyzer = Analyzer(targets: [variant.target], data: data)
        let treeRoots = roots
        let containerPaths = files
        let real = try DockerTest.realLoaderList(image: variant.image, mounts: roots.map { ($0, $0) }, files: containerPaths, preload: variant.preload)
        let tree = DiskTree(name: "test")
        var failures: [String] = []
        var compared = 0
        var errorsSeen = 0
        for (file, containerPath) in zip(files, containerPaths) {
            guard let result = real[containerPath] else { failures.append("\(file): no loader output"); continue }
            let base = (file as NSString).lastPathComponent
            if knownDifferences[base] != nil { continue }
            let elf: ELFFile
            do { elf = try ELFReader.read(path: file) } catch { continue }
            // The loader's --list maps ET_DYN/ET_EXEC with PT_DYNAMIC only.
            guard elf.dynamic != nil, elf.header.type == .ET_DYN || elf.header.type == .ET_EXEC else { continue }
            let host = analyzer.host(for: elf, name: file)
            var sim = LoaderSimulation(target: variant.target, tree: tree, treeRoots: treeRoots)
            if let p = variant.preload { sim.preload = [p] }
            let outcome = sim.run(elf, treePath: file, displayPath: file, mode: .list, host: host)
            func baseName(_ p: String) -> String { String(p.split(separator: "/").last ?? Substring(p)) }
            let simLibs = Set(outcome.errors.filter { $0.kind == .missingLibrary || $0.kind == .libraryNotLoadable }.map(\.subject))
            let simSyms = Set(outcome.errors.filter { $0.kind == .missingSymbol }.map { baseName($0.object) + " " + $0.subject })
            let simRelocs = Set(outcome.errors.filter { $0.kind == .unsupportedRelocation }.map { baseName($0.object) + " " + $0.subject })
            // Host-provided symbols are reported missing by --list (no host is running): drop them.
            let provided = Set(outcome.hostProvided)
            let realSyms = result.missingSymbols.filter { entry in !provided.contains(String(entry.split(separator: " ").last!)) }
            var diffs: [String] = []
            if simLibs != result.missingLibraries { diffs.append("libraries: muslcheck \(simLibs.sorted()) vs musl \(result.missingLibraries.sorted())") }
            if simSyms != realSyms {
                diffs.append("symbols only muslcheck: \(simSyms.subtracting(realSyms).sorted().prefix(6)), only musl: \(realSyms.subtracting(simSyms).sorted().prefix(6))")
            }
            if simRelocs != result.unsupportedRelocations { diffs.append("relocations: muslcheck \(simRelocs.sorted()) vs musl \(result.unsupportedRelocations.sorted())") }
            // The exit status: 127 exactly when there are errors.
            let simFails = !(simLibs.isEmpty && simSyms.isEmpty && simRelocs.isEmpty && provided.isEmpty)
            if (result.status == 127) != (simFails || !result.missingSymbols.isEmpty) { diffs.append("status \(result.status), muslcheck errors: \(simFails)") }
            compared += 1
            errorsSeen += result.missingLibraries.count + result.missingSymbols.count + result.unsupportedRelocations.count
            if !diffs.isEmpty { failures.append("[\(variant.name)] \(file): " + diffs.joined(separator: "; ")) }
        }
        return (compared, failures, errorsSeen)
    }

    func requireSetup() throws -> Setup? {
        switch Self.setup {
        case .success(let s): return s
        case .failure(let e):
            if DockerTest.skipped { print("skipped: \(e)"); return nil }
            Issue.record("container tests cannot run: \(e)")
            return nil
        }
    }

    @Test func fixturesAgreeWithTheRealLoaderInEveryImageVariant() throws {
        guard let setup = try requireSetup() else { return }
        let files = ELFFiles.find(under: [setup.fixtures], limit: nil)
        #expect(files.count >= 20)
        var total = 0, errors = 0
        var failures: [String] = []
        for variant in setup.variants {
            let r = try Self.compare(files: files, roots: [setup.fixtures], variant: variant)
            total += r.compared
            errors += r.errorsSeen
            failures += r.failures
        }
        print("real loader vs simulation: \(total) loads of fixtures, \(errors) loader errors compared")
        #expect(total >= 60, "compared \(total) loads")
        #expect(errors >= 100, "the variants must make the loader fail in many ways")
        #expect(failures.isEmpty, Comment(rawValue: failures.joined(separator: "\n")))
    }

    @Test func systemBinariesAgreeWithTheRealLoader() throws {
        guard let setup = try requireSetup() else { return }
        let files = ELFFiles.find(under: ["/usr/bin"], recursive: false, limit: 60)
            + ELFFiles.find(under: ["/usr/lib/x86_64-linux-gnu"], recursive: false, limit: 90)
        let base = setup.variants.first { $0.name == "base" }!
        let gcompat = setup.variants.first { $0.name == "gcompat" }!
        var failures: [String] = []
        var total = 0, errors = 0
        for variant in [base, gcompat] {
            let r = try Self.compare(files: files, roots: ["/usr/bin", "/usr/lib/x86_64-linux-gnu"], variant: variant)
            total += r.compared
            errors += r.errorsSeen
            failures += r.failures
        }
        print("real loader vs simulation: \(total) loads of system binaries, \(errors) loader errors compared")
        #expect(total >= 250, "compared \(total) loads")
        #expect(errors >= 1000)
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) disagreements:\n" + failures.prefix(20).joined(separator: "\n")))
    }
}

extension RealLoaderDifferentialTests {
    @Test func realWheelsAgreeWithTheRealLoader() throws {
        guard let setup = try requireSetup() else { return }
        let wheels: [String]
        switch Wheels.all() {
        case .success(let w): wheels = w
        case .failure(let e):
            print("skipped: \(e)")
            return
        }
        let root = TestPaths.packageRoot.appendingPathComponent(".build-test-data/wheels-unpacked").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for w in wheels { _ = try Wheels.unpack(w, into: root) }
        let files = ELFFiles.find(under: [root], limit: nil)
        #expect(files.count >= 30, "the wheels hold many native files")
        var failures: [String] = []
        var total = 0, errors = 0
        for variant in setup.variants where variant.name == "base" || variant.name == "gcompat" {
            let r = try Self.compare(files: files, roots: [root], variant: variant)
            total += r.compared
            errors += r.errorsSeen
            failures += r.failures
        }
        print("real loader vs simulation: \(total) loads from \(wheels.count) wheels, \(errors) loader errors compared")
        #expect(failures.isEmpty, Comment(rawValue: "\(failures.count) disagreements:\n" + failures.prefix(20).joined(separator: "\n")))
    }
}

/// A wheel read as an archive (in memory, $ORIGIN inside the archive) gives the same loader
/// errors as the same wheel unpacked on disk.
@Suite struct ArchiveTreeConsistencyTests {
    @Test func wheelsScannedInMemoryMatchTheUnpackedTree() throws {
        let wheels: [String]
        switch Wheels.all() {
        case .success(let w): wheels = w
        case .failure(let e): print("skipped: \(e)"); return
        }
        let target = try Target.profile("alpine:3.22", data: try CompatData.shared())
        let root = TestPaths.packageRoot.appendingPathComponent(".build-test-data/wheels-unpacked").path
        var compared = 0
        for wheel in wheels {
            let unpacked = try Wheels.unpack(wheel, into: root)
            let batch = try scanOnce(wheel)
            for item in batch.items {
                let onDisk = unpacked + "/" + item.treePath
                let fromArchive = LoaderSimulation(target: target, tree: batch.tree)
                    .run(item.file, treePath: item.treePath, displayPath: item.displayPath, mode: .list)
                let disk = LoaderSimulation(target: target, tree: DiskTree(name: "disk"))
                    .run(try ELFReader.read(path: onDisk), treePath: onDisk, displayPath: onDisk, mode: .list)
                func key(_ o: LoadOutcome) -> [String] {
                    o.errors.map { "\($0.kind) \($0.subject)" }.sorted() + o.loaded.map { "\($0.source) \(($0.path as NSString).lastPathComponent)" }.sorted()
                }
                #expect(key(fromArchive) == key(disk), "\(item.displayPath)")
                compared += 1
            }
        }
        #expect(compared >= 30)
    }

    func scanOnce(_ wheel: String) throws -> ArtifactBatch {
        final class Box: @unchecked Sendable { var batch: ArtifactBatch? }
        let box = Box()
        ArtifactScanner(jobs: 1).scan(paths: [wheel]) { if case .batch(let b) = $0 { box.batch = b } }
        return try #require(box.batch)
    }
}
