import Foundation
import Testing
import TestSupport

/// Where reports go: a device or FIFO is written in place and never replaced; a regular file is
/// replaced whole, keeping its permissions; a report that cannot be written is an error of its
/// own (exit 2), and the other formats are still written.
@Suite struct OutputTests {
    /// makedev(1, 3): glibc's encoding of a small major and minor number.
    static let nullDevice: dev_t = (1 << 8) | 3

    static func fileType(_ path: String) -> (type: mode_t, rdev: dev_t, mode: mode_t)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return (st.st_mode & S_IFMT, st.st_rdev, st.st_mode & 0o7777)
    }

    @Test func aDeviceAndAFIFOAreWrittenInPlaceNeverReplaced() throws {
        let dir = try CheckedFixtures.scratch("output")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let null = dir + "/null", fifo = dir + "/fifo"
        // The null device (1,3), made here: the machine's own /dev/null is never at stake.
        guard mknod(null, S_IFCHR | 0o666, Self.nullDevice) == 0 else {
            Issue.record("mknod needs root (CAP_MKNOD): \(String(cString: strerror(errno)))")
            return
        }
        #expect(mkfifo(fifo, 0o644) == 0)
        let fixture = try Fixtures.path("hello-musl")

        let scan = try TestCommand.run(TestPaths.muslcheck, ["scan", fixture, "--format", "json", "--output", null])
        #expect(scan.status == 0, "\(scan.stderr)")
        let check = try TestCommand.run(TestPaths.muslcheck, ["check", fixture, "--static-only", "--format", "json=\(null)"])
        #expect(check.status == 0, "\(check.stderr)")
        let dev = try #require(Self.fileType(null))
        #expect(dev.type == S_IFCHR && dev.rdev == Self.nullDevice, "still the null device")

        // A reader on the FIFO gets the whole report.
        nonisolated(unsafe) var received = Data()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if let h = FileHandle(forReadingAtPath: fifo) { received = h.readDataToEndOfFile() }
            done.signal()
        }
        let toFIFO = try TestCommand.run(TestPaths.muslcheck, ["check", fixture, "--static-only", "--format", "json=\(fifo)"])
        #expect(toFIFO.status == 0, "\(toFIFO.stderr)")
        #expect(done.wait(timeout: .now() + 30) == .success, "the reader got end of file")
        let report = try #require(try JSONSerialization.jsonObject(with: received) as? [String: Any], "the reader got JSON: \(received.count) bytes")
        #expect((report["artifacts"] as? [[String: Any]])?.first?["path"] as? String == fixture)
        #expect(Self.fileType(fifo)?.type == S_IFIFO, "still a FIFO")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["fifo", "null"], "no temporary file left: \(left)")
    }

    @Test func aRegularFileIsReplacedWholeKeepingItsPermissions() throws {
        let dir = try CheckedFixtures.scratch("output")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let target = dir + "/report.json"
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        chmod(target, 0o640)
        let link = dir + "/link.json"
        let linked = dir + "/linked.json"
        try "old".write(toFile: linked, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "linked.json")
        let fixture = try Fixtures.path("hello-musl")
        let r = try TestCommand.run(TestPaths.muslcheck, ["check", fixture, "--static-only", "--format", "json=\(target)", "--format", "markdown=\(link)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.fileType(target)?.mode == 0o640)
        #expect(Self.fileType(target)?.type == S_IFREG)
        let json = try #require(FileManager.default.contents(atPath: target))
        #expect((try JSONSerialization.jsonObject(with: json) as? [String: Any])?["schemaVersion"] as? Int == 1)
        // A symbolic link stays a link; the file it points to gets the report.
        #expect(Self.fileType(link)?.type == S_IFLNK)
        #expect(try String(contentsOfFile: linked, encoding: .utf8).hasPrefix("## muslcheck"))
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(left == ["link.json", "linked.json", "report.json"], "no temporary file left: \(left)")
    }

    @Test func aReportThatCannotBeWrittenExitsTwoAndTheOthersAreStillWritten() throws {
        let dir = try CheckedFixtures.scratch("output")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try TestCommand.run(TestPaths.muslcheck, ["check", try Fixtures.path("hello-glibc"), "--static-only",
                                                          "--format", "html=/nonexistent/dir/r.html", "--format", "json=\(dir)/r.json"])
        #expect(r.status == 2, "not the gate's 1: \(r.stderr)")
        #expect(r.stderr.contains("cannot write /nonexistent/dir/r.html: No such file or directory"), "\(r.stderr)")
        #expect(r.stdout.contains("Result: fail"), "the text report is still printed: \(r.stdout)")
        #expect(FileManager.default.fileExists(atPath: dir + "/r.json"), "the other format is written")
    }
}
