import Foundation
import Testing
import TestSupport

/// `muslcheck inspect` as a user runs it: the built executable, its output and exit status.
@Suite struct InspectCommandTests {
    static func json(_ result: CommandResult) throws -> [[String: Any]] {
        let value = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        return try #require(value as? [[String: Any]], "inspect --format json prints an array")
    }

    @Test func jsonOfLsShowsTheGlibcInterpreterAndVersionNeeds() throws {
        let result = try TestCommand.run(TestPaths.muslcheck, ["inspect", "--format", "json", "/bin/ls"])
        #expect(result.status == 0, "\(result.stderr)")
        let file = try #require(try Self.json(result).first)
        #expect(file["path"] as? String == "/bin/ls")
        #expect(file["interpreter"] as? String == "/lib64/ld-linux-x86-64.so.2")
        #expect(file["class"] as? String == "ELF64")
        #expect(file["endianness"] as? String == "little")
        #expect(file["machine"] as? String == "x86_64")
        #expect(file["type"] as? String == "DYN")
        #expect(file["linkage"] as? String == "dynamic-pie-executable")
        #expect((file["needed"] as? [String])?.contains("libc.so.6") == true)
        let needs = try #require(file["versionNeeds"] as? [[String: Any]])
        let libc = try #require(needs.first { $0["file"] as? String == "libc.so.6" })
        let versions = try #require(libc["versions"] as? [String])
        #expect(versions.contains("GLIBC_2.2.5"))
        #expect(versions.allSatisfy { $0.hasPrefix("GLIBC_") })
        let symbols = try #require(file["symbols"] as? [[String: Any]])
        let malloc = try #require(symbols.first { $0["name"] as? String == "malloc" })
        #expect(malloc["defined"] as? Bool == false)
        #expect(malloc["library"] as? String == "libc.so.6")
        #expect((malloc["version"] as? String)?.hasPrefix("GLIBC_") == true)
        #expect(malloc["binding"] as? String == "GLOBAL")
        #expect(malloc["type"] as? String == "FUNC")
        #expect(malloc["hidden"] as? Bool == false)
        // Every documented key is present on every file.
        for key in ["path", "class", "endianness", "machine", "type", "linkage", "interpreter", "needed", "soname",
                    "rpath", "runpath", "versionNeeds", "versionDefinitions", "symbols"] {
            #expect(file.keys.contains(key), "missing key \(key)")
        }
    }

    @Test func jsonAgreesWithTheReaderOnTheVersionedFixture() throws {
        let lib = try Fixtures.path("libversioned.so.1")
        let result = try TestCommand.run(TestPaths.muslcheck, ["inspect", "--format", "json", lib])
        let file = try #require(try Self.json(result).first)
        #expect(file["soname"] as? String == "libversioned.so.1")
        let defs = try #require(file["versionDefinitions"] as? [[String: Any]])
        #expect(defs.map { $0["name"] as? String } == ["libversioned.so.1", "VERS_1", "VERS_2"])
        #expect(defs[2]["parents"] as? [String] == ["VERS_1"])
        let symbols = try #require(file["symbols"] as? [[String: Any]])
        let foos = symbols.filter { $0["name"] as? String == "foo" }
        #expect(foos.count == 2)
        #expect(foos.contains { $0["version"] as? String == "VERS_1" && $0["hidden"] as? Bool == true })
        #expect(foos.contains { $0["version"] as? String == "VERS_2" && $0["hidden"] as? Bool == false })
    }

    @Test func badInputsAreNamedAndTheOthersStillPrinted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-inspect-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.txt")
        try Data("hello\n".utf8).write(to: text)
        let missing = dir.appendingPathComponent("missing").path

        let result = try TestCommand.run(TestPaths.muslcheck, ["inspect", text.path, "/bin/ls", missing])
        #expect(result.status == 1)
        #expect(result.stdout.contains("/bin/ls: ELF64 little-endian x86_64 DYN"))
        #expect(result.stdout.contains("interpreter    /lib64/ld-linux-x86-64.so.2"))
        let errors = result.stderr.split(separator: "\n")
        #expect(errors.count == 2)
        #expect(errors.contains { $0.contains(text.path) && $0.contains("not an ELF file") })
        #expect(errors.contains { $0.contains(missing) && $0.contains("No such file or directory") })

        let json = try TestCommand.run(TestPaths.muslcheck, ["inspect", "--format", "json", text.path, "/bin/ls"])
        #expect(json.status == 1)
        let items = try Self.json(json)
        #expect(items.count == 2)
        #expect(items[0]["path"] as? String == text.path)
        #expect((items[0]["error"] as? String)?.contains("not an ELF file") == true)
        #expect(items[1]["interpreter"] as? String == "/lib64/ld-linux-x86-64.so.2")
    }

    @Test func usageErrorsExitWithTwo() throws {
        let none = try TestCommand.run(TestPaths.muslcheck, ["inspect"])
        #expect(none.status == 2)
        #expect(none.stderr.contains("Missing expected argument"))
        let badFormat = try TestCommand.run(TestPaths.muslcheck, ["inspect", "--format", "yaml", "/bin/ls"])
        #expect(badFormat.status == 2)
        #expect(badFormat.stderr.contains("yaml"))
    }
}
