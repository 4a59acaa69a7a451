import Engine
import Foundation
import Testing

@Suite struct CommandTests {
    @Test func outputStatusAndErrorsAreCaptured() {
        let r = Command.run("/bin/sh", ["-c", "printf 'out'; printf 'err' >&2; exit 3"])
        #expect(r.status == 3)
        #expect(r.stdout == "out")
        #expect(r.stderr == "err")
        #expect(!r.timedOut)
    }

    @Test func outputBeyondTheLimitIsDroppedAndCounted() {
        let r = Command.run("/bin/sh", ["-c", "printf 0123456789"], outputLimit: 4)
        #expect(r.status == 0)
        #expect(r.stdout == "0123\n[muslcheck: 6 more bytes of output dropped]")
    }

    @Test func aCommandPastItsTimeLimitIsStopped() {
        let start = Date()
        let r = Command.run("/bin/sleep", ["30"], timeout: 0.3)
        #expect(r.timedOut)
        #expect(r.status != 0)
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func theEnvironmentAndFolderAreThoseGiven() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = Command.run("/bin/sh", ["-c", "pwd -P; echo \"$MUSLCHECK_TEST_VALUE\"; echo \"${HOME:-unset}\""],
                            environment: ["MUSLCHECK_TEST_VALUE": "forty two", "PATH": "/usr/bin:/bin"],
                            currentDirectory: dir.path)
        #expect(r.stdout == "\(dir.resolvingSymlinksInPath().path)\nforty two\nunset\n")
    }

    @Test func aProgramThatCannotStartGivesStatus127() {
        let r = Command.run("/nonexistent-muslcheck-dir/prog", ["x"])
        #expect(r.status == 127)
        #expect(r.stderr.hasPrefix("cannot run /nonexistent-muslcheck-dir/prog: "))
        #expect(r.stdout == "")
    }

    @Test func whichFindsProgramsOnPathAndChecksGivenPaths() throws {
        let sh = try #require(Command.which("sh"))
        #expect(sh.hasPrefix("/") && sh.hasSuffix("/sh"))
        #expect(FileManager.default.isExecutableFile(atPath: sh))
        #expect(Command.which("/bin/sh") == "/bin/sh")
        #expect(Command.which("/nonexistent-muslcheck-dir/sh") == nil)
        #expect(Command.which("muslcheck-no-such-program") == nil)
    }
}
