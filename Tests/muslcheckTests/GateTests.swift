import Foundation
import Testing
import TestSupport

/// The default gate answers "does every artifact run on the target as given?", and the result
/// line gives its reasons: what fails, and what a pass leaves ungated.
@Suite struct GateTests {
    static func folder(_ names: [String]) throws -> String {
        let dir = try CheckedFixtures.scratch("gate")
        for n in names {
            try FileManager.default.copyItem(atPath: try Fixtures.path(n), toPath: dir + "/" + (n as NSString).lastPathComponent)
        }
        return dir
    }

    static func check(_ args: [String], in dir: String) throws -> (status: Int32, result: String, stdout: String) {
        let r = try CheckedFixtures.muslcheck(["check", "."] + args, in: dir)
        let line = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (r.status, line, r.stdout)
    }

    @Test func needingGcompatFailsWhereTheTargetLacksItAndPassesWhereItHasIt() throws {
        let dir = try Self.folder(["hello-glibc", "hello-musl"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = try Self.check(["--static-only", "--target", "alpine:3.22"], in: dir)
        #expect(plain.status == 1)
        #expect(plain.result == "Result: fail: 1 artifact needs gcompat (alpine:3.22 has no gcompat)")

        let withGcompat = try Self.check(["--static-only", "--target", "alpine:3.22+gcompat"], in: dir)
        #expect(withGcompat.status == 0, "gcompat installed: it runs as given")
        #expect(withGcompat.result == "Result: pass: every artifact runs on alpine:3.22+gcompat as given")

        let both = try Self.check(["--static-only", "--target", "alpine:3.22", "--target", "alpine:3.22+gcompat"], in: dir)
        #expect(both.status == 1)
        #expect(both.result == "Result: fail: 1 artifact needs gcompat on alpine:3.22 (alpine:3.22 has no gcompat)")

        // The old level lets it pass, and says what it leaves ungated.
        let lenient = try Self.check(["--static-only", "--target", "alpine:3.22", "--fail-on", "incompatible"], in: dir)
        #expect(lenient.status == 0)
        #expect(lenient.result == "Result: pass: nothing at or above incompatible; not gated at --fail-on incompatible: 1 artifact needs gcompat (alpine:3.22 has no gcompat)")

        let never = try Self.check(["--static-only", "--target", "alpine:3.22", "--fail-on", "never"], in: dir)
        #expect(never.status == 0)
        #expect(never.result == "Result: not gated (--fail-on never): 1 artifact needs gcompat (alpine:3.22 has no gcompat)")
    }

    @Test func membersThatWereNotCheckedFailTheRunAndAreNamed() throws {
        let dir = try CheckedFixtures.scratch("gate-bomb")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try TestCommand.run("python3", ["-c", """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr("zeros.bin", b"\\0" * (200 << 20))
            z.write(sys.argv[2], "lib/libmuslshared.so")
        """, dir + "/app.whl", try Fixtures.path("libmuslshared.so")])
        #expect(made.status == 0, "\(made.stderr)")
        let r = try Self.check(["--static-only", "--target", "alpine:3.22"], in: dir)
        #expect(r.status == 1, "a member that was never checked does not pass")
        #expect(r.result == "Result: fail: 1 member not checked (zip bomb or safety limit)")
        #expect(r.stdout.contains("MC004 ./app.whl!zeros.bin: declares 200 MiB from "), "\(r.stdout)")
        let never = try Self.check(["--static-only", "--fail-on", "never"], in: dir)
        #expect(never.status == 0)
    }

    @Test func aWheelWhoseModulesNeedGcompatPreloadedFails() throws {
        let wheels: [String]
        switch Wheels.all() {
        case .success(let w): wheels = w
        case .failure(let e):
            print("skipped: \(e)")
            return
        }
        let manylinux = try #require(wheels.first { $0.contains("pillow") && $0.contains("manylinux") })
        let dir = try CheckedFixtures.scratch("gate-wheel")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: manylinux, toPath: dir + "/" + (manylinux as NSString).lastPathComponent)
        let r = try Self.check(["--static-only", "--target", "alpine:3.22+gcompat", "--format", "json=report.json"], in: dir)
        let data = try #require(FileManager.default.contents(atPath: dir + "/report.json"))
        let report = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let artifacts = try #require(report["artifacts"] as? [[String: Any]])
        let preloaded = artifacts.filter { a in (a["findings"] as? [[String: Any]] ?? []).contains { $0["id"] as? String == "MC113" } }
        #expect(!preloaded.isEmpty, "pillow's manylinux modules need gcompat preloaded")
        #expect(r.status == 1, "a module that needs gcompat preloaded does not run as given")
        #expect(r.result.hasPrefix("Result: fail: "), "\(r.result)")
        #expect(r.result.contains("\(preloaded.count) module\(preloaded.count == 1 ? "" : "s") need\(preloaded.count == 1 ? "s" : "") gcompat preloaded (LD_PRELOAD)"), "\(r.result)")
    }
}
