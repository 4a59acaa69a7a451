import Artifacts
@testable import Compat
import ELF
import Foundation
import Testing
import TestSupport

/// This machine's own root (Debian: glibc, with musl's loader from musl-tools beside it) as a target.
@Suite struct GlibcRootTests {
    @Test func aGlibcRootWithMuslsLoaderBesideItJudgesEachProgramByItsOwnLoader() throws {
        guard FileManager.default.fileExists(atPath: "/lib/ld-musl-x86_64.so.1"),
              FileManager.default.fileExists(atPath: "/lib64/ld-linux-x86-64.so.2") else {
            print("skipped: this machine lacks musl's or glibc's loader (ci/setup installs musl-tools)")
            return
        }
        let data = try CompatData.shared()
        let target = try Target.filesystem(name: "sysroot:/", kind: .sysroot("/"), tree: SysrootTree(root: "/"), data: data)
        #expect(target.libc == .glibc)
        #expect(target.glibc?.version == "2.36")
        let analyzer = Analyzer(targets: [target], data: data)
        var verdicts: [String: Verdict] = [:]
        for name in ["hello-musl", "hello-glibc", "libcxxlib.so"] {
            let path = try Fixtures.path(name)
            let file = try ELFReader.read(path: path)
            let item = ScannedELF(displayPath: path, treePath: path, file: file)
            verdicts[name] = analyzer.analyze(item, tree: DiskTree(name: "disk"), archive: nil).verdicts.first?.verdict
        }
        // The musl program starts under musl's loader here; the glibc ones under glibc's.
        #expect(verdicts == ["hello-musl": .nativeMusl, "hello-glibc": .compatible, "libcxxlib.so": .compatible])
    }
}

/// Hostile needs: a library that asks for tens of thousands of names ends in time, each missing name once.
@Suite struct GlibcHostileNeedsTests {
    @Test func twentyThousandMissingNeedsAreReportedOnceEachInTime() throws {
        var text = "library /lib/libmany.so\npackage hostile\nsoname libmany.so\n"
        for k in 0..<20_000 { text += "needed libgone\(k % 10_000).so\n" }
        text += "end\n"
        let libs = try GlibcProfileData.parseLibraries(Array(text.utf8), name: "hostile")
        let lib = try #require(libs["/lib/libmany.so"])
        struct Nothing: GlibcFiles { func open(_ path: String) -> GlibcFile { .missing } }
        var map = GlibcLinkMap(files: Nothing(), search: GlibcLinkMap.Search())
        let root = GlibcLinkMap.Object(image: GlibcImage(library: lib), path: lib.path, identity: "hostile", names: [], loader: nil,
                                       source: .artifactTree, package: nil)
        map.add(root)
        _ = map.loadDependencies(of: [root], bindNow: false)
        let missing = map.missing.map(\.name)
        #expect(missing.count == 10_000)
        #expect(Set(missing).count == 10_000)
    }
}
