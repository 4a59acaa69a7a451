import Artifacts
@testable import Compat
import ELF
import Foundation
import Policy
import Report
import Testing
import TestSupport

/// Reports from the real fixtures, analysed against two targets.
enum FixtureReport {
    static func analyses() throws -> [ArtifactAnalysis] {
        let data = try CompatData.shared()
        let analyzer = Analyzer(targets: [try Target.profile("alpine:3.22", data: data), try Target.profile("alpine:3.18+gcompat", data: data)], data: data)
        final class Box: @unchecked Sendable { var items: [ArtifactAnalysis] = []; let lock = NSLock() }
        let box = Box()
        ArtifactScanner(jobs: 2).scan(paths: [try Fixtures.directory().path]) { event in
            guard case .batch(let b) = event else { return }
            for item in b.items {
                let a = analyzer.analyze(item, tree: b.tree, archive: b.archive)
                box.lock.lock(); box.items.append(a); box.lock.unlock()
            }
        }
        return box.items
    }

    static func report(_ artifacts: [ArtifactAnalysis], problems: [Finding] = []) -> CompatibilityReport {
        CompatibilityReport(tool: .init(version: "test"),
                            inputs: .init(paths: ["fixtures/build"], images: [], targets: ["alpine:3.22", "alpine:3.18+gcompat"], sysroots: [], failOn: .incompatible),
                            targets: [.init(name: "alpine:3.22", kind: "profile", musl: "1.2.5", gcompat: false),
                                      .init(name: "alpine:3.18+gcompat", kind: "profile", musl: "1.2.4", gcompat: true)],
                            artifacts: artifacts, problems: problems, counts: .init())
    }
}

@Suite struct JSONStreamingTests {
    @Test func streamedJSONIsWhatTheEncoderGivesForTheWholeReport() throws {
        let artifacts = try FixtureReport.analyses()
        #expect(artifacts.count >= 20)
        let report = FixtureReport.report(artifacts)
        let whole = try report.jsonData()
        let streamed = try JSONRenderer.data(report)
        #expect(streamed == whole)
        // The empty report too (empty arrays print differently).
        let empty = FixtureReport.report([])
        #expect(try JSONRenderer.data(empty) == (try empty.jsonData()))
        // And the report decodes back to the same model.
        #expect(try CompatibilityReport.decode(streamed) == report)
    }

    @Test func storedReportStreamsTheSameBytes() throws {
        let artifacts = try FixtureReport.analyses()
        let store = try ArtifactStore()
        for a in artifacts.reversed() { try store.add(a) }
        let base = FixtureReport.report(artifacts)
        let stored = StoredReport(store: store, tool: base.tool, inputs: base.inputs, targets: base.targets,
                                  problems: base.problems, counts: .init())
        #expect(stored.summaries.map(\.path) == base.artifacts.map(\.path), "path order whatever the arrival order")
        #expect(stored.counts.verdicts == base.counts.verdicts)
        #expect(try JSONRenderer.data(stored) == (try base.jsonData()))
        #expect(try stored.materialize() == base)
    }

    /// The store writes artifacts with its own writer: it must give JSONEncoder's bytes for every
    /// field, set or not, and for every character a file name or symbol can hold.
    @Test func storedArtifactsAreWhatTheEncoderGives() throws {
        var hostile = ""
        for c in 0..<0x80 { hostile.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        hostile += "é\u{2028}\u{FEFF}😀\u{FFFD}/a\\b\"c"
        let finding = Finding(id: "MC101", rule: "missing-library", severity: .error, message: hostile, subject: "s" + hostile,
                              fix: "f" + hostile, artifact: "a" + hostile, target: "t", object: "o" + hostile, detail: "d" + hostile)
        let bare = Finding(id: "MC107", rule: "not-applicable", severity: .note, message: "m", subject: nil, fix: "none",
                           artifact: "x", target: nil)
        let full = ArtifactAnalysis(
            path: "dist/app.whl!" + hostile, archive: "dist/app.whl", kind: .pythonExtension, machine: "x86_64", linkage: "shared-library",
            interpreter: "/lib64/ld-linux-x86-64.so.2", needed: ["libc.so.6", hostile], soname: "lib" + hostile, libc: .glibc,
            highestVersions: ["GLIBCXX": "3.4.29", "GLIBC": "2.34", "CXXABI": "1.3.13", "GCC": "4.2.0", "b": "1", "B": "2", "a10": "3", "a9": "4"],
            manylinux: "manylinux_2_34_x86_64",
            verdicts: [TargetVerdict(target: "alpine:3.22", verdict: .incompatible,
                                     loaded: [.init(name: "libstdc++.so.6", path: "/usr/lib/libstdc++.so.6", source: "package", package: "libstdc++"),
                                              .init(name: "n", path: "p", source: "target", package: nil)],
                                     loaderMessages: [hostile, ""], loaderProbe: "confirmed", excused: "baseline"),
                       TargetVerdict(target: "x", verdict: .static, loaded: [], loaderMessages: [])],
            findings: [finding, bare], loadedBy: "by" + hostile)
        let empty = ArtifactAnalysis(path: "", archive: nil, kind: .object, machine: "", linkage: "", interpreter: nil, needed: [],
                                     soname: nil, libc: .none, highestVersions: [:], manylinux: nil, verdicts: [], findings: [], loadedBy: nil)
        let fixtures = try FixtureReport.analyses()
        let store = try ArtifactStore()
        for a in [full, empty] + fixtures { try store.add(a) }
        let base = FixtureReport.report([full, empty] + fixtures)
        let stored = StoredReport(store: store, tool: base.tool, inputs: base.inputs, targets: base.targets,
                                  problems: base.problems, counts: .init())
        let streamed = try JSONRenderer.data(stored)
        #expect(streamed == (try base.jsonData()))
        #expect(try CompatibilityReport.decode(streamed).artifacts.first { $0.archive == "dist/app.whl" } == full)
    }
}

