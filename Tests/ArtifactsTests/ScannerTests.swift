import Artifacts
import ELF
import Foundation
import Testing
import TestSupport

/// Collects what a scan hands over, from any thread.
final class Collector: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var batches: [ArtifactBatch] = []
    private(set) var problems: [ScanProblem] = []
    func handle(_ event: ScanEvent) {
        lock.lock(); defer { lock.unlock() }
        switch event {
        case .batch(let b): batches.append(b)
        case .problem(let p): problems.append(p)
        }
    }
    var paths: [String] { batches.flatMap { $0.items.map(\.displayPath) }.sorted() }
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

/// Builds archives with Python's zipfile/tarfile, so the archives are made by an independent writer.
func python(_ script: String, _ args: [String] = []) throws {
    let result = try TestCommand.run("python3", ["-c", script] + args)
    if result.status != 0 { throw TestSupportError("python failed: \(result.stderr)") }
}

@Suite struct ScannerTests {
    func scan(_ paths: [String], limits: ScanLimits = ScanLimits()) -> (Collector, ScanCounts) {
        let collector = Collector()
        let counts = ArtifactScanner(limits: limits, jobs: 2).scan(paths: paths) { collector.handle($0) }
        return (collector, counts)
    }

    @Test func directoryWalkSkipsSpecialFilesAndLoopsAndCountsNonELF() throws {
        let dir = try Scratch("walk")
        let hello = try Fixtures.path("hello-glibc")
        try FileManager.default.createDirectory(atPath: dir.file("a/b"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: hello, toPath: dir.file("a/b/hello"))
        try Data("text".utf8).write(to: URL(fileURLWithPath: dir.file("a/readme.txt")))
        #expect(mkfifo(dir.file("a/pipe"), 0o644) == 0)
        #expect(symlink("..", dir.file("a/b/up")) == 0)          // a loop back to a/
        #expect(symlink("self", dir.file("a/self")) == 0)        // a link to itself
        #expect(symlink("b/hello", dir.file("a/hello-link")) == 0)  // a second name for one file
        #expect(symlink("missing", dir.file("a/dangling")) == 0)
        let (c, counts) = scan([dir.path])
        #expect(c.paths == [dir.file("a/b/hello")])
        #expect(counts.elfFiles == 1)
        #expect(counts.nonELFFiles == 1)
        #expect(counts.specialFiles == 1)
        #expect(counts.duplicates >= 2)  // a/ again through b/up, and hello through hello-link
        #expect(c.problems.contains { $0.kind == .symlink && $0.path.hasSuffix("a/self") && $0.message.contains("loop") })
        #expect(!c.problems.contains { $0.path.hasSuffix("dangling") })
    }

    @Test func unreadableFilesAreReportedAndTheScanGoesOn() throws {
        let dir = try Scratch("unreadable")
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-musl"), toPath: dir.file("ok"))
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-glibc"), toPath: dir.file("secret"))
        chmod(dir.file("secret"), 0)
        if getuid() == 0 {
            // root reads anything; the CLI test runs the scan as an unprivileged user instead.
            return
        }
        let (c, _) = scan([dir.path])
        #expect(c.paths == [dir.file("ok")])
        #expect(c.problems.contains { $0.kind == .unreadable && $0.path == dir.file("secret") })
    }

    @Test func wheelMembersAreNamedWithTheArchiveAndResolveInsideIt() throws {
        let dir = try Scratch("wheel")
        let wheel = dir.file("demo-1.0-cp311-cp311-manylinux_2_17_x86_64.whl")
        try python("""
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
            z.write(sys.argv[2], "demo/_ext.cpython-311-x86_64-linux-gnu.so")
            z.write(sys.argv[3], "demo.libs/libdep.so")
            z.writestr("demo/__init__.py", "x = 1\\n")
            z.writestr("demo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\\n")
        """, [wheel, try Fixtures.path("runpath/librunpath.so"), try Fixtures.path("runpath/libdep.so")])
        let (c, counts) = scan([wheel])
        #expect(c.paths == ["\(wheel)!demo.libs/libdep.so", "\(wheel)!demo/_ext.cpython-311-x86_64-linux-gnu.so"])
        #expect(counts.archives == 1)
        #expect(counts.nonELFFiles == 2)
        let batch = try #require(c.batches.first)
        #expect(batch.archive == wheel)
        // $ORIGIN/../demo.libs as the installed tree would have it.
        guard case .elf(let dep, let path) = batch.tree.lookup("demo/../demo.libs/libdep.so") else {
            Issue.record("libdep.so not found in the wheel's tree"); return
        }
        #expect(dep.soname == "libdep.so")
        #expect(path == "demo.libs/libdep.so")
        if case .missing = batch.tree.lookup("demo/libnothere.so") {} else { Issue.record("a missing member must be missing") }
    }

    @Test func nestedArchivesAreOpenedAndNamedByTheirChain() throws {
        let dir = try Scratch("nested")
        let tarball = dir.file("bundle.tar.gz")
        try python("""
        import io, sys, tarfile, zipfile
        jar = io.BytesIO()
        with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(sys.argv[2], "native/linux-x86_64/libjni.so")
            z.writestr("com/example/A.class", b"\\xca\\xfe\\xba\\xbe")
        war = io.BytesIO()
        with zipfile.ZipFile(war, "w", zipfile.ZIP_STORED) as z:
            z.writestr("WEB-INF/lib/native.jar", jar.getvalue())
        with tarfile.open(sys.argv[1], "w:gz") as t:
            info = tarfile.TarInfo("app/app.war"); info.size = len(war.getvalue())
            t.addfile(info, io.BytesIO(war.getvalue()))
            t.add(sys.argv[3], "app/bin/hello")
            link = tarfile.TarInfo("app/bin/hello-again"); link.type = tarfile.SYMTYPE; link.linkname = "hello"
            t.addfile(link)
        """, [tarball, try Fixtures.path("libtlsie.so"), try Fixtures.path("hello-musl")])
        let (c, counts) = scan([tarball])
        #expect(c.paths == ["\(tarball)!app/app.war!WEB-INF/lib/native.jar!native/linux-x86_64/libjni.so", "\(tarball)!app/bin/hello"])
        #expect(counts.archives == 3)
        #expect(c.problems.isEmpty, "\(c.problems)")
        let outer = try #require(c.batches.first { $0.archive == tarball })
        if case .elf(_, let path) = outer.tree.lookup("app/bin/hello-again") { #expect(path == "app/bin/hello") } else {
            Issue.record("a symlink inside the tarball must resolve")
        }
    }

    @Test func zipBombsAndDeepNestingGetAProblemAndTheScanGoesOn() throws {
        let dir = try Scratch("bomb")
        let bomb = dir.file("bomb.zip")
        let deep = dir.file("deep.zip")
        try python("""
        import io, sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr("zeros.bin", b"\\0" * (200 << 20))
            z.write(sys.argv[3], "lib/libok.so")
        data = open(sys.argv[3], "rb").read()
        for level in range(7):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("inner.zip" if level else "libdeep.so", data)
            data = buf.getvalue()
        open(sys.argv[2], "wb").write(data)
        """, [bomb, deep, try Fixtures.path("runpath/libdep.so")])
        let (c, _) = scan([bomb, deep])
        #expect(c.problems.contains { $0.kind == .limit && $0.path == "\(bomb)!zeros.bin" && $0.message.contains("zip bomb") })
        #expect(c.problems.contains { $0.kind == .limit && $0.message.contains("nested deeper") })
        #expect(c.paths == ["\(bomb)!lib/libok.so"], "the rest of the archive is still scanned")
    }

    @Test func expansionBudgetStopsRepeatedExpansion() throws {
        let dir = try Scratch("budget")
        let zip = dir.file("many.zip")
        try python("""
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
            for i in range(20):
                z.writestr(f"part{i}.whl", b"PK\\x03\\x04" + b"\\0" * (4 << 20))
        """, [zip])
        var limits = ScanLimits()
        limits.maxArchiveExpansion = 16 << 20
        let (c, _) = scan([zip], limits: limits)
        #expect(c.problems.contains { $0.kind == .limit && $0.message.contains("expansion limit") })
    }

    @Test func malformedAndTruncatedArchivesGetAProblem() throws {
        let dir = try Scratch("malformed")
        let good = dir.file("good.tar.gz")
        try python("""
        import sys, tarfile
        with tarfile.open(sys.argv[1], "w:gz") as t:
            t.add(sys.argv[2], "hello")
            t.add(sys.argv[3], "big")
        """, [good, try Fixtures.path("hello-musl"), try Fixtures.path("hello-glibc-static")])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir.file("cut.tar.gz")))
        try Data("PK\u{3}\u{4}garbage".utf8).write(to: URL(fileURLWithPath: dir.file("broken.whl")))
        var junk = [UInt8](repeating: 0x41, count: 1024)
        junk.replaceSubrange(257..<262, with: Array("ustar".utf8))
        try Data(junk).write(to: URL(fileURLWithPath: dir.file("junk.tar")))
        let (c, _) = scan([dir.path])
        #expect(c.paths.contains(good + "!hello"))
        #expect(c.paths.contains(dir.file("cut.tar.gz") + "!hello"), "members before the cut are still read")
        #expect(c.problems.contains { $0.path == dir.file("cut.tar.gz") && $0.kind == .malformedArchive && $0.message.contains("truncated") })
        #expect(c.problems.contains { $0.path == dir.file("broken.whl") && $0.kind == .malformedArchive })
        #expect(c.problems.contains { $0.path == dir.file("junk.tar") && $0.message.contains("checksum") })
    }

    @Test func xzTarballsAreStreamed() throws {
        let dir = try Scratch("xz")
        let txz = dir.file("pack.tar.xz")
        try python("""
        import sys, tarfile
        with tarfile.open(sys.argv[1], "w:xz") as t:
            t.add(sys.argv[2], "package/prebuilds/linux-x64/addon.node")
        """, [txz, try Fixtures.path("libcxxlib.so")])
        let (c, _) = scan([txz])
        #expect(c.paths == ["\(txz)!package/prebuilds/linux-x64/addon.node"])
        #expect(c.batches.first?.items.first?.file.needed.contains("libstdc++.so.6") == true)
    }
}
