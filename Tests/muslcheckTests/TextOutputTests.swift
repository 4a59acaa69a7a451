import Foundation
import Testing
import TestSupport

/// The default text output fits a terminal and says what to do, on real inputs: the system's
/// programs and real wheels.
@Suite struct TextOutputTests {
    @Test func theSystemsProgramsFitATerminalAndLeadWithWhatToDo() throws {
        let r = try TestCommand.run(TestPaths.muslcheck, ["check", "/usr/bin", "--static-only", "--target", "alpine:3.22", "--fail-on", "never"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count <= 66, "about 60 lines, not one per missing symbol: \(lines.count)")
        #expect(lines[3] == "What to do, worst first:")
        let header = try #require(lines.firstIndex { $0.hasPrefix("Does not run as given on alpine:3.22: ") })
        let actions = lines[4..<header].filter { $0.hasPrefix("  ✗") || $0.hasPrefix("  !") || $0.hasPrefix("  ✓") }
        #expect(actions.count >= 3)
        #expect(Set(actions).count == actions.count, "each action once")
        #expect(actions.contains { $0.hasPrefix("  ! apk add gcompat (") && $0.hasSuffix(" programs)") }, "Debian's glibc programs need gcompat")
        #expect(!r.stdout.contains("Error relocating"), "no per-symbol message by default")
        #expect(lines.contains { $0.hasPrefix("  … and ") && $0.contains(" more: --verbose shows every artifact") })
        #expect(lines.last { !$0.isEmpty }?.hasPrefix("Result: not gated (--fail-on never): ") == true)

        let verbose = try TestCommand.run(TestPaths.muslcheck, ["check", "/usr/bin", "--static-only", "--target", "alpine:3.22", "--fail-on", "never", "--verbose"])
        #expect(verbose.stdout.contains("Error relocating /usr/bin/"), "--verbose gives musl's messages")
        #expect(verbose.stdout.split(separator: "\n").count > lines.count * 10)
    }

    @Test func manylinuxWheelsLeadWithTheirMusllinuxWheels() throws {
        let wheels: [String]
        switch Wheels.all() {
        case .success(let w): wheels = w.filter { $0.contains("manylinux") }
        case .failure(let e):
            print("skipped: \(e)")
            return
        }
        let r = try TestCommand.run(TestPaths.muslcheck, ["check"] + wheels + ["--static-only", "--target", "alpine:3.22", "--fail-on", "never"])
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = try #require(lines.dropFirst(4).first)
        #expect(first.hasPrefix("  ✗ use the musllinux wheels of "), "\(first)")
        for project in ["numpy", "pillow"] { #expect(first.contains(project), "\(first)") }
        // The wheels to replace, by name, on the line below.
        #expect(lines[5].contains("numpy-2.1.3-cp311-cp311-manylinux") || lines[5].contains(" more"), "\(lines[5])")
        // A member is named within its wheel, under the wheel's name.
        #expect(lines.contains { $0.hasPrefix("■ ") && $0.hasSuffix("manylinux2014_x86_64.whl") })
        #expect(!lines.contains { $0.hasPrefix("  ✗ incompatible") && $0.contains(".whl!") }, "no wheel path repeated on every row")
    }
}
