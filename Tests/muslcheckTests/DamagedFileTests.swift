import Foundation
import Testing
import TestSupport

/// A file no loader can map never passes, and the real loader confirms a verdict only by a load
/// that ran to its end: a crash, a kill or a timeout is never "confirmed".
@Suite struct DamagedFileTests {
    /// Real libraries and programs cut short, as a broken download leaves them.
    static func cutShort(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        let libz = try #require(["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"].first { FileManager.default.fileExists(atPath: $0) })
        for (name, source, keep) in [("libz.so.1", libz, 100_000), ("hello-musl", try Fixtures.path("hello-musl"), 6000),
                                     ("hello-musl-static", try Fixtures.path("hello-musl-static"), 9000)] {
            let data = try #require(FileManager.default.contents(atPath: (source as NSString).resolvingSymlinksInPath))
            #expect(data.count > keep, "\(source) is longer than the cut")
            try data.prefix(keep).write(to: URL(fileURLWithPath: dir + "/" + name))
            chmod(dir + "/" + name, 0o755)
            out[name] = dir + "/" + name
        }
        return out
    }

    static func report(_ json: String) throws -> [String: [String: Any]] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let artifacts = try #require(object["artifacts"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: artifacts.map { (($0["path"] as? String ?? "") as NSString).lastPathComponent as String }.enumerated().map { ($1, artifacts[$0]) })
    }

    @Test func aFileCutShortIsIncompatibleAndFailsTheDefaultGate() throws {
        let dir = try CheckedFixtures.scratch("damaged")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.cutShort(dir)
        let r = try TestCommand.run(TestPaths.muslcheck, ["check", dir, "--static-only", "--target", "alpine:3.22", "--format", "json"])
        #expect(r.status == 1, "a damaged file never passes: \(r.stderr)")
        let byName = try Self.report(r.stdout)
        for name in ["libz.so.1", "hello-musl", "hello-musl-static"] {
            let a = try #require(byName[name], "\(name) is reported")
            let verdict = (a["verdicts"] as? [[String: Any]])?.first?["verdict"] as? String
            #expect(verdict == "incompatible", "\(name): \(verdict ?? "nil")")
            let findings = a["findings"] as? [[String: Any]] ?? []
            let damaged = try #require(findings.first { $0["id"] as? String == "MC115" }, "\(name) has MC115")
            #expect((damaged["message"] as? String)?.contains("but the file has") == true, "\(damaged)")
            #expect(damaged["severity"] as? String == "error")
        }
        // The intact files are judged as usual: no MC115.
        let intact = try TestCommand.run(TestPaths.muslcheck, ["scan", "/lib/x86_64-linux-gnu/libz.so.1", try Fixtures.path("hello-musl"),
                                                               try Fixtures.path("hello-musl-static"), "--format", "json"])
        #expect(!intact.stdout.contains("MC115"), "\(intact.stdout)")
        #expect(try Self.report(intact.stdout).count == 3)
    }

    @Test func theLoaderProbeNeverConfirmsACrashAndStartsStaticPrograms() throws {
        if let reason = DockerTest.unavailableReason {
            if DockerTest.skipped { print("skipped: \(reason)") } else { Issue.record(Comment(rawValue: reason)) }
            return
        }
        let dir = try CheckedFixtures.scratch("damaged-probe")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let damaged = try Self.cutShort(dir)
        for name in ["hello-glibc-static-pie", "hello-musl-static"] {
            try FileManager.default.copyItem(atPath: try Fixtures.path(name), toPath: dir + "/ok-" + name)
        }
        let r = try TestCommand.run(TestPaths.muslcheck, ["check", dir, "--image", DockerTest.baseImage, "--pull", "never",
                                                          "--probe", "loader", "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let loader = try #require(((object["probes"] as? [[String: Any]])?.first)?["loader"] as? [[String: Any]])
        let outcomes = Dictionary(uniqueKeysWithValues: loader.map { (($0["artifact"] as? String ?? "") as NSString).lastPathComponent as String }.enumerated().map { ($1, loader[$0]) })

        // musl's loader dies with SIGBUS on the library cut short: named, and not confirmed.
        let libz = try #require(outcomes["libz.so.1"])
        #expect(libz["agreement"] as? String == "not-run", "\(libz)")
        #expect((libz["note"] as? String)?.contains("killed by SIGBUS (signal 7)") == true, "\(libz)")
        _ = damaged

        // Static programs are started, not listed: the glibc static-pie runs (musl's --list of it
        // would end with "unsupported relocation type 37").
        for name in ["ok-hello-glibc-static-pie", "ok-hello-musl-static"] {
            let o = try #require(outcomes[name])
            #expect(o["agreement"] as? String == "confirmed", "\(name): \(o)")
            #expect(o["listing"] == nil, "\(name) is not listed by musl's loader")
            #expect((o["execSmoke"] as? [String: Any])?["firstLine"] as? String == "hello 1.0", "\(name): \(o)")
        }
        // A static program cut short is not confirmed either.
        let cut = try #require(outcomes["hello-musl-static"])
        #expect(cut["agreement"] as? String != "confirmed", "\(cut)")

        // The verdicts carry the same outcome, and the report lists no "confirmed" for the damaged files.
        let byName = try Self.report(r.stdout)
        for name in ["libz.so.1", "hello-musl", "hello-musl-static"] {
            let v = try #require((byName[name]?["verdicts"] as? [[String: Any]])?.first)
            #expect(v["verdict"] as? String == "incompatible")
            #expect(v["loaderProbe"] as? String != "confirmed", "\(name): \(v)")
        }
    }

    /// A 64-bit little-endian ELF with its PT_DYNAMIC program header turned into PT_NULL: the
    /// section headers still name .dynamic, which no loader reads.
    static func withoutPTDynamic(_ source: String, to path: String) throws {
        var data = try #require(FileManager.default.contents(atPath: source))
        func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
        func u64(_ o: Int) -> Int { (0..<8).reduce(0) { $0 | Int(data[o + $1]) << (8 * $1) } }
        let phoff = u64(0x20), entsize = u16(0x36), count = u16(0x38)
        var patched = 0
        for i in 0..<count where data[phoff + i * entsize] == 2 && data[phoff + i * entsize + 1] == 0 {
            data[phoff + i * entsize] = 0
            patched += 1
        }
        #expect(patched == 1, "\(source) has one PT_DYNAMIC")
        try data.write(to: URL(fileURLWithPath: path))
    }

    /// As musl's loader reads a library (map_library: `if (!dyn) goto noexec`): through PT_DYNAMIC
    /// only. A library whose only dynamic section is in the section headers cannot be loaded; its
    /// needs are shown apart, never judged.
    @Test func aLibraryWithoutPTDynamicIsNotLoadableAndItsSectionIsShownApart() throws {
        let dir = try CheckedFixtures.scratch("no-pt-dynamic")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Fixtures.path("libmuslshared.so")
        let lib = dir + "/libnodyn.so"
        try Self.withoutPTDynamic(source, to: lib)

        let original = try TestCommand.run(TestPaths.muslcheck, ["inspect", source, "--format", "json"])
        let inspected = try TestCommand.run(TestPaths.muslcheck, ["inspect", lib, "--format", "json"])
        #expect(inspected.status == 0, "\(inspected.stderr)")
        func object(_ json: String) throws -> [String: Any] {
            let any = try JSONSerialization.jsonObject(with: Data(json.utf8))
            return try #require((any as? [[String: Any]])?.first ?? (any as? [String: Any]))
        }
        let before = try object(original.stdout), after = try object(inspected.stdout)
        let needed = try #require(before["needed"] as? [String])
        #expect(!needed.isEmpty, "the fixture needs libraries")
        #expect((after["needed"] as? [String]) == [], "the loader's view: no dynamic section")
        let section = try #require(after["sectionOnlyDynamic"] as? [String: Any])
        #expect(section["needed"] as? [String] == needed, "the section headers' view, kept apart")
        #expect((after["loadDamage"] as? String)?.contains("no PT_DYNAMIC") == true)
        #expect(before["sectionOnlyDynamic"] is NSNull && before["loadDamage"] is NSNull)

        // musl's own loader refuses it.
        let musl = "/lib/ld-musl-x86_64.so.1"
        if FileManager.default.isExecutableFile(atPath: musl) {
            let real = try TestCommand.run(musl, ["--list", lib])
            #expect(real.status != 0 && real.stderr.contains("Not a valid dynamic program"), "\(real.status) \(real.stderr)")
        } else {
            Issue.record("no musl loader at \(musl): run ci/setup (musl-tools)")
        }
        // muslcheck: incompatible on musl and on glibc, MC115.
        let r = try TestCommand.run(TestPaths.muslcheck, ["check", lib, "--static-only", "--target", "alpine:3.22", "--target", "debian:12-slim", "--format", "json"])
        #expect(r.status == 1, "\(r.stderr)")
        let a = try #require(try Self.report(r.stdout)["libnodyn.so"])
        for v in a["verdicts"] as? [[String: Any]] ?? [] { #expect(v["verdict"] as? String == "incompatible", "\(v)") }
        #expect((a["findings"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == "MC115" })
    }
}
