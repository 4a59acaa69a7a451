import Engine
import Foundation
import Testing

/// The registry's temporary folders and the removal of what killed runs left; no signal is sent.
@Suite struct CleanupRegistryTests {
    /// A private folder to play the part of $TMPDIR.
    static func base() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-cleanup-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Whether another open file description can take the folder's lock now.
    static func lockIsFree(_ folder: String) -> Bool {
        let fd = open(folder + "/" + CleanupRegistry.lockName, O_RDWR)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return flock(fd, LOCK_EX | LOCK_NB) == 0
    }

    /// The pid of a process that has ended.
    static func deadPid() throws -> pid_t {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    @Test func aTemporaryFolderIsNamedByPidReadableAndLocked() throws {
        let base = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let folder = try CleanupRegistry.shared.makeTemporaryDirectory(prefix: "mctest-", in: base).path
        let name = String(folder.dropFirst(base.count + 1))
        #expect(folder.hasPrefix(base + "/"))
        #expect(name.hasPrefix("mctest-\(getpid())-"))
        #expect(name.count == "mctest-\(getpid())-".count + 8)
        var st = stat()
        #expect(stat(folder, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o755)
        #expect(FileManager.default.fileExists(atPath: folder + "/" + CleanupRegistry.lockName))
        #expect(!Self.lockIsFree(folder))

        let second = try CleanupRegistry.shared.makeTemporaryDirectory(prefix: "mctest-", in: base).path
        #expect(second != folder)

        CleanupRegistry.shared.remove(temporary: folder)
        CleanupRegistry.shared.remove(temporary: second)
        #expect(!FileManager.default.fileExists(atPath: folder))
        #expect(!FileManager.default.fileExists(atPath: second))
    }

    @Test func releasingTheLockLeavesTheFolder() throws {
        let base = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let folder = try CleanupRegistry.shared.makeTemporaryDirectory(prefix: "mctest-", in: base).path
        defer { CleanupRegistry.shared.remove(temporary: folder) }
        #expect(!Self.lockIsFree(folder))
        CleanupRegistry.shared.releaseLock(folder)
        #expect(Self.lockIsFree(folder))
        #expect(FileManager.default.fileExists(atPath: folder))
    }

    @Test func aFolderThatCannotBeMadeSaysWhere() {
        do {
            _ = try CleanupRegistry.shared.makeTemporaryDirectory(prefix: "mctest-", in: "/nonexistent-muslcheck-dir")
            Issue.record("made a folder in a folder that does not exist")
        } catch {
            #expect(error.kind == .commandFailed)
            #expect(error.message == "cannot create a temporary folder in /nonexistent-muslcheck-dir: No such file or directory")
        }
    }

    @Test func removingATemporaryTreeDoesNotFollowSymbolicLinks() throws {
        let base = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let outside = base + "/outside"
        let tree = base + "/tree"
        let fm = FileManager.default
        try fm.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try "keep".write(toFile: outside + "/keep", atomically: true, encoding: .utf8)
        try fm.createDirectory(atPath: tree + "/sub/deeper", withIntermediateDirectories: true)
        try "x".write(toFile: tree + "/sub/deeper/file", atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: tree + "/sub/link", withDestinationPath: outside)
        try fm.createSymbolicLink(atPath: tree + "/filelink", withDestinationPath: outside + "/keep")
        #expect(CleanupRegistry.shared.register(temporary: tree))
        CleanupRegistry.shared.remove(temporary: tree)
        #expect(!fm.fileExists(atPath: tree))
        #expect(try String(contentsOfFile: outside + "/keep", encoding: .utf8) == "keep")
    }

    @Test func staleEntriesOfGoneProcessesAreRemovedAndOthersKept() throws {
        let base = try Self.base()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let fm = FileManager.default
        let dead = try Self.deadPid()
        try #require(kill(dead, 0) != 0 && errno == ESRCH)
        let p = "mcstale-"
        func folder(_ name: String, lockFile: Bool) throws -> String {
            let path = base + "/" + name
            try fm.createDirectory(atPath: path + "/inner", withIntermediateDirectories: true)
            try "data".write(toFile: path + "/inner/file", atomically: true, encoding: .utf8)
            if lockFile { try #require(fm.createFile(atPath: path + "/" + CleanupRegistry.lockName, contents: nil)) }
            return path
        }
        let unlocked = try folder("\(p)\(dead)-aaaa", lockFile: true)
        let held = try folder("\(p)\(dead)-bbbb", lockFile: true)
        let fresh = try folder("\(p)\(dead)-cccc", lockFile: false)
        let old = try folder("\(p)\(dead)-dddd", lockFile: false)
        try fm.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: old)
        let file = base + "/\(p)\(dead)-eeee.tar"
        try #require(fm.createFile(atPath: file, contents: Data("tar".utf8)))
        _ = try folder("\(p)\(getpid())-ffff", lockFile: false)
        _ = try folder("\(p)1-gggg", lockFile: false)
        _ = try folder("\(p)notapid-hhhh", lockFile: false)
        _ = try folder("other-\(dead)-iiii", lockFile: false)

        // A run in another PID namespace holds its folder's lock although its pid looks gone.
        let fd = open(held + "/" + CleanupRegistry.lockName, O_RDWR)
        try #require(fd >= 0)
        defer { close(fd) }
        try #require(flock(fd, LOCK_EX) == 0)

        let removed = CleanupRegistry.removeStaleTemporaries(prefix: p, in: base)
        #expect(Set(removed) == [unlocked, old, file])
        #expect(removed.count == 3)
        let left = Set(try fm.contentsOfDirectory(atPath: base))
        #expect(left == ["\(p)\(dead)-bbbb", "\(p)\(dead)-cccc", "\(p)\(getpid())-ffff", "\(p)1-gggg", "\(p)notapid-hhhh", "other-\(dead)-iiii"])
        #expect(fm.fileExists(atPath: fresh + "/inner/file"))
    }

    @Test func aFolderThatIsNotThereHasNothingStale() {
        #expect(CleanupRegistry.removeStaleTemporaries(prefix: "mcstale-", in: "/nonexistent-muslcheck-dir") == [])
    }

    @Test func eachSignalExitsWith128PlusItsNumber() {
        let table = CleanupRegistry.signals
        #expect(table.map(\.signal) == [SIGINT, SIGTERM, SIGHUP])
        #expect(table.allSatisfy { $0.status == 128 + $0.signal })
        #expect(table.map(\.word) == ["interrupted", "terminated", "hung up"])
    }
}
