import Foundation
import Testing
import TestSupport
import Yams

/// Help texts, tables and messages that read right.
@Suite struct SmallSlipsTests {
    static func run(_ args: [String], in dir: String? = nil) throws -> CommandResult {
        try TestCommand.run(TestPaths.muslcheck, args, currentDirectory: dir)
    }

    @Test func jobsHelpGivesItsDefaultOnce() throws {
        for command in ["check", "scan"] {
            let help = try Self.run([command, "--help"]).stdout.replacingOccurrences(of: "\n", with: " ")
                .replacingOccurrences(of: #" +"#, with: " ", options: .regularExpression)
            #expect(help.contains("--jobs <n> Worker threads"), "\(command): \(help)")
            #expect(help.contains("(default: the number of cores)."), "\(command)")
            let jobs = try #require(help.range(of: "--jobs <n>"))
            let rest = help[jobs.upperBound...].prefix(120)
            #expect(rest.components(separatedBy: "(default").count == 2, "one default: \(rest)")
        }
    }

    @Test func theTargetsTableKeepsItsColumnsApart() throws {
        let lines = try Self.run(["targets"]).stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try #require(lines.first)
        let musl = try #require(header.range(of: "MUSL")).lowerBound.utf16Offset(in: header)
        let base = try #require(header.range(of: "BASE LIBRARIES")).lowerBound.utf16Offset(in: header)
        let rows = lines.dropFirst().prefix { !$0.isEmpty }
        #expect(rows.count >= 20)
        for row in rows {
            let chars = Array(row)
            #expect(chars[musl - 1] == " " && chars[musl - 2] == " ", "\(row)")
            #expect(chars.count <= base || (chars[base - 1] == " " && chars[base - 2] == " "), "\(row)")
        }
        #expect(rows.contains { $0.contains("1.2.4 (1.2.4_git20230717-r5)  libz.so.1") })
    }

    @Test func theStarterConfigLeavesTheTargetsToTheImages() throws {
        let dir = try CheckedFixtures.scratch("init")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try Self.run(["init"], in: dir).status == 0)
        let text = try String(contentsOfFile: dir + "/muslcheck.yml", encoding: .utf8)
        let yaml = try #require(try Yams.load(yaml: text) as? [String: Any])
        #expect(yaml["targets"] == nil, "no profile is checked besides an image")
        #expect(text.contains("#   - alpine:3.22"))
        guard DockerTest.unavailableReason == nil else { return }
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-musl"), toPath: dir + "/hello-musl")
        let r = try Self.run(["check", "hello-musl", "--image", DockerTest.baseImage, "--pull", "never", "--probe", "loader", "--format", "json"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((report["targets"] as? [[String: Any]])?.map { $0["name"] as? String } == [DockerTest.baseImage])
    }

    @Test func aLinkLoopOnTheCommandLineIsCalledALoop() throws {
        let dir = try CheckedFixtures.scratch("loop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir + "/a", withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: dir + "/b", withDestinationPath: "a")
        try FileManager.default.createSymbolicLink(atPath: dir + "/gone", withDestinationPath: "nothing-here")
        for command in ["check", "scan"] {
            let loop = try Self.run([command, "a"], in: dir)
            #expect(loop.status == 2)
            #expect(loop.stderr == "muslcheck: error: a: a symbolic link loop\n", "\(loop.stderr)")
            let gone = try Self.run([command, "gone"], in: dir)
            #expect(gone.status == 2)
            #expect(gone.stderr == "muslcheck: error: gone: a symbolic link to nothing-here, which does not exist\n", "\(gone.stderr)")
        }
    }

    @Test func countsReadInTheRightNumber() throws {
        let r = try Self.run(["scan", try Fixtures.path("hello-musl")])
        #expect(r.stdout.split(separator: "\n")[1] == "scanned 1 file: 1 ELF, 0 archives, 0 other, 0 special skipped, 0 problems")
        #expect(r.stdout.contains("; 0 errors, 0 warnings, 0 notes\n"))
    }
}
