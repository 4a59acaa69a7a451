import Compat
import ELF
import Foundation
import Testing
import TestSupport

/// The order and places glibc's loader maps libraries in, compared with glibc's own loader
/// (`LD_TRACE_LOADED_OBJECTS=1 ld.so FILE`, what ldd prints) on this machine's programs.
@Suite struct GlibcLibrarySearchTests {
    static let interpreter = "/lib64/ld-linux-x86-64.so.2"

    /// ld.so's trace: "name => path (addr)" loaded, "name => not found" missing; the vDSO and
    /// the loader itself left out.
    static func trace(_ path: String) throws -> (loaded: [GlibcLibrarySearch.Loaded], missing: [String], versionErrors: [String])? {
        let r = try TestCommand.run(interpreter, [path], environment: ["LD_TRACE_LOADED_OBJECTS": "1"])
        guard r.status == 0 else { return nil }
        var loaded: [GlibcLibrarySearch.Loaded] = []
        var missing: [String] = []
        for line in r.stdout.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            guard let arrow = t.range(of: " => ") else { continue }
            let name = String(t[..<arrow.lowerBound])
            let rest = t[arrow.upperBound...]
            if rest == "not found" { missing.append(name); continue }
            let file = rest.split(separator: " (").first.map(String.init) ?? String(rest)
            loaded.append(.init(name: name, path: file))
        }
        // What the loader reports of versions goes to stderr, prefixed with the traced name.
        let versions = r.stderr.split(separator: "\n").map(String.init).filter { $0.contains(": version `") }
        return (loaded, missing, versions)
    }

    @Test func theSearchFindsWhatGlibcsLoaderFindsForThisMachinesPrograms() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.interpreter), FileManager.default.fileExists(atPath: "/etc/ld.so.cache") else {
            print("skipped: no glibc loader at \(Self.interpreter) on this machine")
            return
        }
        let search = try GlibcLibrarySearch(root: "/", machine: .EM_X86_64, elfClass: .ELFCLASS64,
                                            systemDirectories: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"])
        let programs = ELFFiles.find(under: ["/usr/bin", "/usr/sbin"], recursive: false, limit: nil).sorted()
        let libraries = ELFFiles.find(under: ["/usr/lib/x86_64-linux-gnu"], recursive: false, limit: nil).sorted().filter { $0.contains(".so") }
        var compared = 0, found = 0, checkedLibraries = 0
        for path in programs.prefix(400) + libraries.prefix(300) {
            guard let file = try? ELFReader.read(path: path), file.interpreter == Self.interpreter || (file.interpreter == nil && file.soname != nil),
                  file.header.machine == .EM_X86_64, let real = try Self.trace(path) else { continue }
            let simulated = search.load(file, path: path, interpreter: Self.interpreter)
            #expect(simulated.loaded == real.loaded, "\(path)")
            #expect(simulated.missing == real.missing, "\(path)")
            #expect(simulated.versionErrors == real.versionErrors, "\(path)")
            compared += 1
            found += real.loaded.count
            if file.interpreter == nil { checkedLibraries += 1 }
        }
        print("glibc loader vs search: \(compared) objects (\(checkedLibraries) of them libraries), \(found) loads compared")
        #expect(compared > 50)
    }

    @Test func aMissingLibraryAndARunpathAreFoundAsTheLoaderFindsThem() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.interpreter) else {
            print("skipped: no glibc loader at \(Self.interpreter) on this machine")
            return
        }
        let search = try GlibcLibrarySearch(root: "/", machine: .EM_X86_64, elfClass: .ELFCLASS64,
                                            systemDirectories: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"])
        // The fixtures: a RUNPATH $ORIGIN library and its dependency; a copy without the dependency.
        let dir = try CheckedFixtures.scratch("glibc-search")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["librunpath.so", "libdep.so"] {
            try FileManager.default.copyItem(atPath: try Fixtures.path("runpath/" + name), toPath: dir + "/" + name)
        }
        let lib = try ELFReader.read(path: dir + "/librunpath.so")
        let real = try #require(try Self.trace(dir + "/librunpath.so"))
        let simulated = search.load(lib, path: dir + "/librunpath.so", interpreter: Self.interpreter)
        #expect(simulated.loaded == real.loaded)
        #expect(simulated.loaded.contains { $0.path == dir + "/libdep.so" })
        try FileManager.default.removeItem(atPath: dir + "/libdep.so")
        let realMissing = try #require(try Self.trace(dir + "/librunpath.so"))
        let missing = search.load(lib, path: dir + "/librunpath.so", interpreter: Self.interpreter)
        #expect(missing.missing == realMissing.missing)
        #expect(missing.missing == ["libdep.so"])
    }

    @Test func aVersionNoLibraryDefinesIsGlibcsMessage() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.interpreter), FileManager.default.isExecutableFile(atPath: "/usr/bin/ls") else {
            print("skipped: no glibc loader at \(Self.interpreter) on this machine")
            return
        }
        // A copy of ls asking libc.so.6 for GLIBC_9.34 instead of GLIBC_2.34 (same length).
        let dir = try CheckedFixtures.scratch("glibc-version")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "/usr/bin/ls")))
        let wanted = Array("GLIBC_2.34\u{0}".utf8)
        let at = try #require((0...(bytes.count - wanted.count)).first { bytes[$0..<$0 + wanted.count].elementsEqual(wanted) })
        bytes.replaceSubrange(at..<at + 10, with: Array("GLIBC_9.34".utf8))
        let copy = dir + "/ls"
        try Data(bytes).write(to: URL(fileURLWithPath: copy))
        let search = try GlibcLibrarySearch(root: "/", machine: .EM_X86_64, elfClass: .ELFCLASS64,
                                            systemDirectories: ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib", "/usr/lib"])
        let real = try #require(try Self.trace(copy))
        let simulated = search.load(try ELFReader.read(path: copy), path: copy, shownAs: copy)
        #expect(real.versionErrors == ["\(copy): /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_9.34' not found (required by \(copy))"])
        #expect(simulated.versionErrors == real.versionErrors)
        #expect(simulated.weakVersionsMissing.isEmpty)
    }
}
