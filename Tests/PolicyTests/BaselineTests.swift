import Compat
import Foundation
import Policy
import Testing

@Suite struct ReportBaselineTests {
    static let sample = ReportBaseline(
        tool: "muslcheck 1.0",
        findings: [
            .init(id: "MC110", artifact: "b/libz.so", target: "alpine-3.20", subject: "memcpy@GLIBC_2.14"),
            .init(id: "MC101", artifact: "a/app", target: nil, subject: nil),
            .init(id: "MC101", artifact: "a/app", target: "alpine-3.20", subject: "libfoo.so.1"),
        ],
        verdicts: [
            .init(artifact: "b/libz.so", target: "alpine-3.20", verdict: .needsGcompat),
            .init(artifact: "a/app", target: "alpine-3.20", verdict: .incompatible),
        ])

    @Test func findingsAndVerdictsAreKeptInArtifactOrder() {
        let b = Self.sample
        #expect(b.findings.map(\.artifact) == ["a/app", "a/app", "b/libz.so"])
        // Within an artifact: no target before a target.
        #expect(b.findings.map(\.target) == [nil, "alpine-3.20", "alpine-3.20"])
        #expect(b.verdicts.map(\.artifact) == ["a/app", "b/libz.so"])
        #expect(b.schemaVersion == 1)
    }

    @Test func theJSONFormDecodesToTheSameBaseline() throws {
        let data = try Self.sample.jsonData()
        #expect(data.last == 0x0a)
        let back = try JSONDecoder().decode(ReportBaseline.self, from: data)
        #expect(back == Self.sample)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"schemaVersion\" : 1"))
        #expect(text.contains("\"verdict\" : \"needs-gcompat\""))
        // Sorted keys: the same baseline always gives the same bytes.
        #expect(text.range(of: "\"findings\"")!.lowerBound < text.range(of: "\"tool\"")!.lowerBound)
        #expect(try Self.sample.jsonData() == data)
    }

    @Test func aFindingsEntryUsesItsSubjectOrElseItsMessage() {
        let withSubject = Finding(id: "MC101", rule: "missing-library", severity: .error, message: "Error loading shared library libfoo.so.1",
                                  subject: "libfoo.so.1", fix: "install it", artifact: "app", target: "alpine")
        #expect(ReportBaseline.Entry(withSubject) == .init(id: "MC101", artifact: "app", target: "alpine", subject: "libfoo.so.1"))
        let without = Finding(id: "MC001", rule: "r", severity: .warning, message: "the file is truncated", subject: nil, fix: "",
                              artifact: "app", target: nil)
        #expect(ReportBaseline.Entry(without) == .init(id: "MC001", artifact: "app", target: nil, subject: "the file is truncated"))
    }
}
