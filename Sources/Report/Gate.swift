import Compat
import Config
import Foundation

/// What fails a run: verdicts at or above --fail-on that nothing excuses, loader-probe
/// contradictions, and error findings outside artifacts (unreadable files, failed user probes).
public struct Gate: Sendable, Hashable {
    public static let levels = ["incompatible", "needs-gcompat", "compatible", "never"]

    /// nil: nothing fails (--fail-on never).
    public var threshold: Verdict?

    public init(threshold: Verdict?) { self.threshold = threshold }

    /// From a --fail-on level; nil for an unknown level.
    public init?(failOn: String) {
        switch failOn {
        case "incompatible": threshold = .incompatible
        case "needs-gcompat": threshold = .needsGcompat
        case "compatible": threshold = .compatible
        case "never": threshold = nil
        default: return nil
        }
    }

    /// Whether a verdict is at or above the threshold.
    public func fails(_ verdict: Verdict) -> Bool {
        guard let threshold else { return false }
        return verdict >= threshold && verdict != .notApplicable
    }

    /// One reason the run fails.
    public struct Failure: Sendable, Hashable, Codable {
        public var artifact: String
        public var target: String?
        /// The verdict ("incompatible") or the finding id ("MC150").
        public var reason: String
    }

    public func failures(_ report: any ReportView) -> [Failure] {
        guard threshold != nil else { return [] }
        var out: [Failure] = []
        for s in report.summaries {
            for (target, verdict) in s.verdicts.sorted(by: { $0.key < $1.key }) where fails(verdict) && !s.excused.contains(target) {
                out.append(Failure(artifact: s.path, target: target, reason: verdict.rawValue))
            }
            if s.contradicted { out.append(Failure(artifact: s.path, target: nil, reason: FindingID.loaderContradiction)) }
        }
        for p in report.problems where p.severity == .error {
            out.append(Failure(artifact: p.artifact, target: p.target, reason: p.id))
        }
        return out
    }
}

/// A report baseline (--baseline): the findings and failing verdicts of an accepted run. Known ones are suppressed;
/// a new finding, or a verdict that got worse, still fails.
public struct ReportBaseline: Codable, Sendable, Hashable {
    public struct Entry: Codable, Sendable, Hashable, Comparable {
        public var id: String
        public var artifact: String
        public var target: String?
        public var subject: String?
        public static func < (a: Entry, b: Entry) -> Bool {
            (a.artifact, a.target ?? "", a.id, a.subject ?? "") < (b.artifact, b.target ?? "", b.id, b.subject ?? "")
        }
    }
    public struct VerdictEntry: Codable, Sendable, Hashable, Comparable {
        public var artifact: String
        public var target: String
        public var verdict: Verdict
        public static func < (a: VerdictEntry, b: VerdictEntry) -> Bool { (a.artifact, a.target) < (b.artifact, b.target) }
    }

    public var schemaVersion = 1
    public var tool: String
    public var findings: [Entry]
    public var verdicts: [VerdictEntry]

    public init(tool: String, findings: [Entry], verdicts: [VerdictEntry]) {
        self.tool = tool
        self.findings = findings.sorted()
        self.verdicts = verdicts.sorted()
    }

    /// The baseline of a report: every finding (suppressed ones included, so that a baseline
    /// written with a baseline keeps what it knew) and every verdict that is not compatible or better.
    public static func of(_ report: any ReportView) throws -> ReportBaseline {
        var findings: Set<Entry> = []
        var verdicts: [VerdictEntry] = []
        try report.forEachArtifact { a in
            for f in a.findings { findings.insert(Entry(f)) }
            for v in a.verdicts where v.verdict >= .compatible && v.verdict != .notApplicable {
                verdicts.append(VerdictEntry(artifact: a.path, target: v.target, verdict: v.verdict))
            }
        }
        for p in report.problems { findings.insert(Entry(p)) }
        for s in report.suppressed { findings.insert(Entry(id: s.id, artifact: s.artifact, target: s.target, subject: s.subject)) }
        return ReportBaseline(tool: "muslcheck \(report.tool.version)", findings: Array(findings), verdicts: verdicts)
    }

    public static func load(_ path: String) throws -> ReportBaseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportError("\(path): cannot read the baseline file")
        }
        do { return try JSONDecoder().decode(ReportBaseline.self, from: data) } catch {
            throw ReportError("\(path): not a muslcheck baseline (\(describe(error)))")
        }
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}

extension ReportBaseline.Entry {
    /// A finding's identity: its id, artifact, target and subject (the message may change
    /// wording between versions; the subject does not).
    public init(_ f: Finding) {
        self.init(id: f.id, artifact: f.artifact, target: f.target, subject: f.subject ?? f.message)
    }
}

/// A report problem: a file that is not a report, a baseline that cannot be read.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A decoding error in a sentence.
func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.keyNotFound(let key, let c):
        return "missing \(([key] + []).map(\.stringValue).joined()) at \(path(c.codingPath))"
    case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
        return "\(c.debugDescription) at \(path(c.codingPath))"
    case DecodingError.dataCorrupted(let c):
        return c.codingPath.isEmpty ? "not valid JSON" : "\(c.debugDescription) at \(path(c.codingPath))"
    default:
        return "\(error)"
    }
}

private func path(_ keys: [CodingKey]) -> String {
    keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
}

/// Applies ignores and a baseline to a report's findings: matching findings move to the
/// report's `suppressed` list, and a verdict whose every warning and error is suppressed (or
/// that the baseline knew at the same level or worse) is excused from the gate.
public struct Suppression: Sendable {
    public var ignores: [IgnoreRule]
    public var baseline: ReportBaseline?
    let knownFindings: Set<ReportBaseline.Entry>
    let knownVerdicts: [String: Verdict]

    public init(ignores: [IgnoreRule], baseline: ReportBaseline?) {
        self.ignores = ignores
        self.baseline = baseline
        knownFindings = Set(baseline?.findings ?? [])
        var v: [String: Verdict] = [:]
        for e in baseline?.verdicts ?? [] { v[e.artifact + "\u{0}" + e.target] = e.verdict }
        knownVerdicts = v
    }

    public var isEmpty: Bool { ignores.isEmpty && baseline == nil }

    /// Why a finding is suppressed, or nil.
    public func reason(for f: Finding) -> String? {
        if let rule = ignores.first(where: { $0.matches(id: f.id, artifact: f.artifact) }) { return rule.reason }
        if baseline != nil, knownFindings.contains(ReportBaseline.Entry(f)) { return "baseline" }
        return nil
    }

    /// The artifact with suppressed findings removed and excused verdicts marked; the removed
    /// findings are returned. nil when nothing changes.
    public func apply(_ a: ArtifactAnalysis) -> (ArtifactAnalysis, [CompatibilityReport.Suppressed])? {
        guard !isEmpty else { return nil }
        var kept: [Finding] = []
        var removed: [CompatibilityReport.Suppressed] = []
        var suppressedByTarget: [String: [String]] = [:]
        for f in a.findings {
            if let why = reason(for: f) {
                removed.append(.init(id: f.id, artifact: f.artifact, target: f.target, subject: f.subject ?? f.message, reason: why))
                suppressedByTarget[f.target ?? "", default: []].append(why)
            } else {
                kept.append(f)
            }
        }
        var out = a
        out.findings = kept
        for i in out.verdicts.indices {
            let v = out.verdicts[i]
            guard v.verdict >= .compatible, v.verdict != .notApplicable else { continue }
            // The verdict's causes: its warnings and errors on this target (and the file's own).
            let causes = a.findings.filter { ($0.target == v.target || $0.target == nil) && $0.severity >= .warning }
            let open = kept.filter { ($0.target == v.target || $0.target == nil) && $0.severity >= .warning }
            if let known = knownVerdicts[a.path + "\u{0}" + v.target], known >= v.verdict, open.isEmpty {
                out.verdicts[i].excused = "baseline"
            } else if let rule = ignores.first(where: { $0.id == "*" && Glob($0.path).matches(a.path) }) {
                out.verdicts[i].excused = rule.reason
            } else if !causes.isEmpty && open.isEmpty {
                let reasons = (suppressedByTarget[v.target] ?? []) + (suppressedByTarget[""] ?? [])
                out.verdicts[i].excused = reasons.first ?? "suppressed"
            }
        }
        guard !removed.isEmpty || out.verdicts != a.verdicts else { return nil }
        return (out, removed)
    }

    /// Problems (findings outside artifacts) that are not suppressed, and those that are.
    public func apply(problems: [Finding]) -> ([Finding], [CompatibilityReport.Suppressed]) {
        var kept: [Finding] = []
        var removed: [CompatibilityReport.Suppressed] = []
        for p in problems {
            if let why = reason(for: p) {
                removed.append(.init(id: p.id, artifact: p.artifact, target: p.target, subject: p.subject ?? p.message, reason: why))
            } else {
                kept.append(p)
            }
        }
        return (kept, removed)
    }
}
