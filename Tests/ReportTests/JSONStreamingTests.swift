import Artifacts
import Compat
import ELF
import Foundation
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
                            inputs: .init(paths: ["fixtures/build"], images: [], targets: ["alpine:3.22", "alpine:3.18+gcompat"], sysroots: [], failOn: "incompatible"),
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
}
