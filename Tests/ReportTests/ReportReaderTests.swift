import Compat
import Foundation
@testable import Report
import Testing
import TestSupport

/// The fast reader of reports gives exactly what JSONDecoder gives: on real reports, on JSON
/// written another way (keys reordered, other spacing, escapes, unknown keys), and on broken
/// JSON it fails with JSONDecoder's own error.
@Suite struct ReportReaderTests {
    @Test func aRealReportReadsAsJSONDecoderReadsIt() throws {
        let run = try CheckedFixtures.best()
        let fast = try CompatibilityReport.decode(run.json)
        let slow = try JSONDecoder().decode(CompatibilityReport.self, from: run.json)
        #expect(fast.artifacts.count > 20)
        #expect(fast == slow)
        // The JSON written back is the same bytes.
        #expect(try JSONRenderer.data(MemoryReport(fast)) == run.json)
    }

    /// The same report re-encoded by JSONSerialization: keys in another order, other spacing,
    /// slashes escaped, and an unknown key in every artifact and finding.
    @Test func jsonWrittenAnotherWayReadsTheSame() throws {
        let run = try CheckedFixtures.best()
        var object = try #require(try JSONSerialization.jsonObject(with: run.json) as? [String: Any])
        var artifacts = try #require(object["artifacts"] as? [[String: Any]])
        for i in artifacts.indices {
            artifacts[i]["someFutureKey"] = ["nested": [1, 2.5, true, NSNull(), "x\u{1}y"]]
            if var findings = artifacts[i]["findings"] as? [[String: Any]] {
                for j in findings.indices { findings[j]["extra"] = "é \u{1F600} \"quoted\" \\ /" }
                artifacts[i]["findings"] = findings
            }
        }
        // Hostile text where strings go: escapes, surrogate pairs, control characters.
        artifacts[0]["path"] = "a\"b\\c/d\n\t\u{7}é😀\u{2028}"
        object["artifacts"] = artifacts
        let data = try JSONSerialization.data(withJSONObject: object, options: [])
        let fast = try CompatibilityReport.decode(data)
        let slow = try JSONDecoder().decode(CompatibilityReport.self, from: data)
        #expect(fast == slow)
        #expect(fast.artifacts[0].path == "a\"b\\c/d\n\t\u{7}é😀\u{2028}")
        // \u escapes, a surrogate pair among them, read as JSONDecoder reads them.
        let escaped = Data(#"{"path":"\u00e9\ud83d\ude00\/x","kind":"executable","machine":"x86_64","linkage":"static","needed":[],"libc":"musl","highestVersions":{},"verdicts":[],"findings":[]}"#.utf8)
        #expect(try ArtifactAnalysis.read(escaped) == JSONDecoder().decode(ArtifactAnalysis.self, from: escaped))
        #expect(try ArtifactAnalysis.read(escaped).path == "é😀/x")
    }

    @Test func brokenJSONFailsWithJSONDecodersError() throws {
        let good = #"{"path":"x","kind":"executable","machine":"x86_64","linkage":"static","needed":[],"libc":"musl","highestVersions":{},"verdicts":[],"findings":[]}"#
        let broken = [
            String(good.dropLast(5)),                                       // cut short
            good.replacingOccurrences(of: #""kind":"executable""#, with: #""kind":"program""#),  // not a kind
            good.replacingOccurrences(of: #""needed":[]"#, with: #""needed":"libc.so""#),         // wrong type
            good.replacingOccurrences(of: #""machine":"x86_64","#, with: ""),                     // a key missing
            good.replacingOccurrences(of: #""path":"x""#, with: #""path":"\ud800x""#),           // a lone surrogate
            good + "x",                                                     // trailing bytes
        ]
        for text in broken {
            let data = Data(text.utf8)
            var slowError = ""
            do { _ = try JSONDecoder().decode(ArtifactAnalysis.self, from: data) } catch { slowError = "\(error)" }
            var fastError = ""
            do { _ = try ArtifactAnalysis.read(data) } catch { fastError = "\(error)" }
            #expect(!slowError.isEmpty || !fastError.isEmpty ? slowError == fastError : true, "\(text)")
        }
        // Invalid UTF-8 in a string fails, as it does for JSONDecoder.
        var bytes = Array(good.utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "x"))!] = 0xff
        let invalid = Data(bytes)
        #expect((try? JSONDecoder().decode(ArtifactAnalysis.self, from: invalid)) == nil)
        #expect((try? ArtifactAnalysis.read(invalid)) == nil)
    }
}
