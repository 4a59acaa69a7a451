import Compat
import Foundation

/// A report baseline (--baseline): the findings and failing verdicts of an accepted run. Known ones are suppressed;
/// a new finding, or a verdict that got worse, still fails.
public struct ReportBaseline: Codable, Sendable, Hashable {
    public struct Entry: Codable, Sendable, Hashable, Comparable {
        public var id: String
        public var artifact: String
        public var target: String?
        public var subject: String?
        public init(id: String, artifact: String, target: String?, subject: String?) {
            self.id = id
            self.artifact = artifact
            self.target = target
            self.subject = subject
        }
        public static func < (a: Entry, b: Entry) -> Bool {
            (a.artifact, a.target ?? "", a.id, a.subject ?? "") < (b.artifact, b.target ?? "", b.id, b.subject ?? "")
        }
    }
    public struct VerdictEntry: Codable, Sendable, Hashable, Comparable {
        public var artifact: String
        public var target: String
        public var verdict: Verdict
        public init(artifact: String, target: String, verdict: Verdict) {
            self.artifact = artifact
            self.target = target
            self.verdict = verdict
        }
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

    public func jsonData() throws -> Data {
        try JSONFormat.data(self)
    }
}

extension ReportBaseline.Entry {
    /// A finding's identity: its id, artifact, target and subject (the message may change
    /// wording between versions; the subject does not).
    public init(_ f: Finding) {
        self.init(id: f.id, artifact: f.artifact, target: f.target, subject: f.subject ?? f.message)
    }
}

/// A finding left out by an ignore rule or the baseline, for the record.
public struct SuppressedFinding: Codable, Sendable, Hashable {
    public var id: String
    public var artifact: String
    public var target: String?
    public var subject: String?
    /// The ignore's reason, or "baseline".
    public var reason: String
    public init(id: String, artifact: String, target: String?, subject: String?, reason: String) {
        self.id = id
        self.artifact = artifact
        self.target = target
        self.subject = subject
        self.reason = reason
    }
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
    public func apply(_ a: ArtifactAnalysis) -> (ArtifactAnalysis, [SuppressedFinding])? {
        guard !isEmpty else { return nil }
        var kept: [Finding] = []
        var removed: [SuppressedFinding] = []
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
    public func apply(problems: [Finding]) -> ([Finding], [SuppressedFinding]) {
        var kept: [Finding] = []
        var removed: [SuppressedFinding] = []
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
