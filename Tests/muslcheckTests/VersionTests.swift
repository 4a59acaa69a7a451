import Foundation
import Testing
import TestSupport

/// `muslcheck --version` and the reports' tool section give the version, the commit the binary
/// was built from and the bundled data's dates; the dates are those of the data's last change.
@Suite struct VersionTests {
    struct Manifest: Decodable {
        struct Set: Decodable { var name: String; var date: String; var files: [String]; var source: String }
        var sets: [Set]
        var catalogues: [String]
    }

    static let resources = TestPaths.packageRoot.appendingPathComponent("Sources/Compat/Resources")

    static func manifest() throws -> Manifest {
        try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: resources.appendingPathComponent("data.json")))
    }

    static func git(_ args: [String]) -> String? {
        guard let r = try? TestCommand.run("git", ["-C", TestPaths.packageRoot.path] + args), r.status == 0 else { return nil }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func everyDataFileIsInTheManifestOnceAndExists() throws {
        let m = try Self.manifest()
        let listed = m.sets.flatMap(\.files) + m.catalogues + ["data.json"]
        #expect(Set(listed).count == listed.count, "a file is listed twice")
        let walker = try #require(FileManager.default.enumerator(atPath: Self.resources.path))
        var onDisk: [String] = []
        while let rel = walker.nextObject() as? String {
            var dir: ObjCBool = false
            FileManager.default.fileExists(atPath: Self.resources.path + "/" + rel, isDirectory: &dir)
            if !dir.boolValue && !rel.hasSuffix(".md") { onDisk.append(rel) }
        }
        #expect(Set(onDisk) == Set(listed), "not in data.json: \(Set(onDisk).subtracting(listed).sorted()); missing: \(Set(listed).subtracting(onDisk).sorted())")
        for s in m.sets {
            #expect(s.date.wholeMatch(of: /20[0-9]{2}-[01][0-9]-[0-3][0-9]/) != nil, "\(s.name): \(s.date)")
            #expect(!s.source.isEmpty)
        }
    }

    /// A set's date is the day of the last commit that changed its files: regenerating data
    /// without updating its date fails here.
    @Test func eachSetIsDatedByTheLastCommitOfItsFiles() throws {
        guard Self.git(["rev-parse", "--is-inside-work-tree"]) == "true" else {
            print("skipped: the package is not a git checkout, so the data's commit dates are unknown")
            return
        }
        for s in try Self.manifest().sets {
            let paths = s.files.map { "Sources/Compat/Resources/" + $0 }
            // Files changed in the work tree and not committed yet carry today's date.
            let changed = !(Self.git(["status", "--porcelain", "--"] + paths) ?? "").isEmpty
            let last = changed ? Self.todayUTC() : try #require(Self.git(["log", "-1", "--format=%cs", "--"] + paths))
            #expect(s.date == last, "\(s.name) is dated \(s.date); its files last changed on \(last)")
        }
    }

    static func todayUTC() -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd"
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: Date())
    }

    @Test func versionPrintsTheCommitAndEveryDataSetsDate() throws {
        let r = try TestCommand.run(TestPaths.muslcheck, ["--version"])
        #expect(r.status == 0)
        let first = String(r.stdout.split(separator: "\n").first ?? "")
        #expect(first.hasPrefix("muslcheck 0."), "\(first)")
        if let head = Self.git(["rev-parse", "HEAD"]) {
            #expect(first.contains("commit \(head.prefix(12))"), "\(first) names HEAD \(head)")
        } else {
            #expect(first.contains("commit unknown"))
        }
        for s in try Self.manifest().sets {
            #expect(r.stdout.split(separator: "\n").contains { $0.contains(s.name) && $0.contains(s.date) }, "\(s.name) \(s.date) in:\n\(r.stdout)")
        }
    }

    @Test func theJSONReportRecordsTheSameAsVersion() throws {
        let fixture = try Fixtures.path("hello-musl")
        let r = try TestCommand.run(TestPaths.muslcheck, ["scan", fixture, "--format", "json"])
        #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let tool = try #require(report["tool"] as? [String: Any])
        #expect(tool["version"] as? String == "0.1.0")
        let data = try #require(tool["data"] as? [String: String])
        for s in try Self.manifest().sets { #expect(data[s.name] == s.date) }
        if let head = Self.git(["rev-parse", "HEAD"]) {
            let commit = try #require(tool["commit"] as? String)
            #expect(commit.hasPrefix(head), "\(commit) is HEAD \(head)")
        }
    }
}
