import Compat
import Policy
import Foundation

/// What fails a run (--fail-on). The default level, `not-runnable`, answers one question: does
/// every artifact run on every target as given? An incompatible artifact does not; one that
/// needs gcompat does not on a target without gcompat, nor a module that needs gcompat
/// preloaded. The verdict levels (`incompatible`, `needs-gcompat`, `compatible`) fail every
/// verdict at or above them instead. At every level but `never`, a loader-probe contradiction
/// (MC150), a file that could not be read (MC001), an archive member that was not checked (MC003
/// damaged archive, MC004 safety limit) and a failed user probe (MC152) fail the run too.
public struct Gate: Sendable, Hashable {
    public var level: FailLevel

    public init(level: FailLevel) { self.level = level }

    /// The verdict from which a verdict level fails (nil: not-runnable and never).
    public var threshold: Verdict? {
        switch level {
        case .incompatible: .incompatible
        case .needsGcompat: .needsGcompat
        case .compatible: .compatible
        case .notRunnable, .never: nil
        }
    }

    public var isGated: Bool { level != .never }

    /// Whether an artifact's verdict on a target fails the run (excuses aside).
    public func fails(_ verdict: Verdict, target: String, summary: ArtifactSummary) -> Bool {
        switch level {
        case .never: return false
        case .notRunnable:
            return verdict == .incompatible || (verdict == .needsGcompat && !summary.gcompatMet.contains(target))
        default:
            return verdict >= threshold! && verdict != .notApplicable
        }
    }

    /// Whether a verdict fails at a verdict level (for a renderer that has the verdict only).
    public func fails(_ verdict: Verdict, target: String, artifact: ArtifactAnalysis) -> Bool {
        fails(verdict, target: target, summary: ArtifactSummary(artifact))
    }

    /// Problems (findings outside artifacts) that fail the run: what could not be read or
    /// checked, and failed user probes.
    public static let failingProblems: Set<String> = Set([FindingID.unreadableFile, .malformedArchive, .archiveLimit, .userProbeFailed].map(\.rawValue))

    /// One reason the run fails.
    public struct Failure: Sendable, Hashable, Codable {
        public var artifact: String
        public var target: String?
        /// The verdict ("incompatible", "needs-gcompat") or the finding id (MC150, MC004).
        public var reason: String
    }

    public func failures(_ report: any ReportView) -> [Failure] {
        guard isGated else { return [] }
        var out: [Failure] = []
        for s in report.summaries {
            for (target, verdict) in s.verdicts.sorted(by: { $0.key < $1.key })
            where fails(verdict, target: target, summary: s) && !s.excused.contains(target) {
                out.append(Failure(artifact: s.path, target: target, reason: verdict.rawValue))
            }
            if s.contradicted { out.append(Failure(artifact: s.path, target: nil, reason: FindingID.loaderProbeContradiction.rawValue)) }
        }
        for p in report.problems where p.severity == .error || Self.failingProblems.contains(p.id) {
            out.append(Failure(artifact: p.artifact, target: p.target, reason: p.id))
        }
        return out
    }

    /// The run's answer in one line, with its reasons: "fail: 2 artifacts need gcompat (alpine:3.22
    /// has no gcompat); 1 member not checked (zip bomb)". A pass names what the level does not
    /// gate but the report shows as errors, so that "pass" and error findings never stand
    /// together unexplained.
    public struct Outcome: Sendable, Hashable {
        public enum Status: String, Sendable { case pass, fail, notGated = "not-gated" }
        public var status: Status
        /// The reasons, in a sentence (empty for a clean pass).
        public var reasons: String
        /// What errors the report shows that this level does not fail (a pass or not gated).
        public var ungated: String
        /// The artifacts that fail.
        public var failing: Set<String>

        /// "fail: 2 artifacts need gcompat ..." / "pass: every artifact runs on alpine:3.22 as given".
        public var line: String {
            switch status {
            case .fail: return "fail: " + reasons
            case .pass: return "pass: " + reasons + (ungated.isEmpty ? "" : "; not gated at this level: " + ungated)
            case .notGated: return "not gated (--fail-on never)" + (ungated.isEmpty ? "" : ": " + ungated)
            }
        }
    }

    public func outcome(_ report: any ReportView) -> Outcome {
        let failures = failures(report)
        let failing = Set(failures.map(\.artifact))
        let gcompatTargets = Set(report.targets.filter(\.gcompat).map(\.name))
        if isGated && !failures.isEmpty {
            return Outcome(status: .fail, reasons: Self.describe(failures, report: report, gcompatTargets: gcompatTargets),
                           ungated: "", failing: failing)
        }
        // What would fail at the default level (and every error problem) that this level lets pass.
        let strict = Gate(level: .notRunnable)
        var ungated = strict.failures(report)
        if level == .compatible || level == .needsGcompat {
            ungated = []  // stricter than not-runnable: nothing it fails is let through
        }
        // Excused verdicts are reported as such, not as ungated.
        let excused = report.summaries.reduce(0) { $0 + ($1.excused.isEmpty ? 0 : 1) }
        var ungatedText = Self.describe(ungated, report: report, gcompatTargets: gcompatTargets)
        if excused > 0 {
            ungatedText += (ungatedText.isEmpty ? "" : "; ") + "\(Self.count(excused, "artifact")) excused by the baseline or an ignore"
        }
        if !isGated { return Outcome(status: .notGated, reasons: "", ungated: ungatedText, failing: []) }
        let names = report.targets.map(\.name)
        let reasons: String
        switch level {
        case .notRunnable:
            reasons = report.summaries.isEmpty ? "no artifact to check" : "every artifact runs on \(Self.list(names)) as given"
        case .compatible:
            reasons = "every artifact is built for musl or static"
        default:
            reasons = "nothing at or above \(level.rawValue)"
        }
        return Outcome(status: .pass, reasons: reasons, ungated: ungatedText, failing: [])
    }

    /// "1 artifact", "3 artifacts".
    static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? noun : (plural ?? noun + "s"))
    }

    static func list(_ names: [String]) -> String {
        names.count <= 1 ? (names.first ?? "the target") : names.dropLast().joined(separator: ", ") + " and " + names.last!
    }

    /// The failures as a sentence: each reason once with its number of artifacts, worst first.
    static func describe(_ failures: [Failure], report: any ReportView, gcompatTargets: Set<String>) -> String {
        guard !failures.isEmpty else { return "" }
        let allTargets = report.targets.map(\.name)
        var byReason: [String: (artifacts: Set<String>, targets: Set<String>)] = [:]
        var preload: Set<String> = []
        let summaries = Dictionary(report.summaries.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
        for f in failures {
            var reason = f.reason
            if reason == Verdict.needsGcompat.rawValue, let t = f.target, summaries[f.artifact]?.gcompatPreload.contains(t) == true {
                reason = "preload"
                preload.insert(f.artifact)
            }
            byReason[reason, default: ([], [])].artifacts.insert(f.artifact)
            if let t = f.target { byReason[reason, default: ([], [])].targets.insert(t) }
        }
        func scope(_ targets: Set<String>) -> String {
            allTargets.count <= 1 || targets.isEmpty || targets.count == allTargets.count ? "" : " on " + list(targets.sorted())
        }
        var parts: [String] = []
        let order = [Verdict.incompatible.rawValue, Verdict.needsGcompat.rawValue, "preload", Verdict.compatible.rawValue,
                     FindingID.loaderProbeContradiction.rawValue, FindingID.unreadableFile.rawValue, FindingID.malformedArchive.rawValue,
                     FindingID.archiveLimit.rawValue, FindingID.userProbeFailed.rawValue]
        for reason in order + byReason.keys.filter({ !order.contains($0) }).sorted() {
            guard let (artifacts, targets) = byReason[reason] else { continue }
            let n = artifacts.count
            switch reason {
            case Verdict.incompatible.rawValue:
                parts.append("\(count(n, "artifact")) incompatible" + scope(targets))
            case Verdict.needsGcompat.rawValue:
                let lacking = targets.subtracting(gcompatTargets).sorted()
                let why = lacking.isEmpty ? "" : " (" + list(lacking) + (lacking.count == 1 ? " has" : " have") + " no gcompat)"
                parts.append("\(count(n, "artifact")) need\(n == 1 ? "s" : "") gcompat" + (allTargets.count > 1 ? scope(targets) : "") + why)
            case "preload":
                parts.append("\(count(n, "module")) need\(n == 1 ? "s" : "") gcompat preloaded (LD_PRELOAD)" + scope(targets))
            case Verdict.compatible.rawValue:
                parts.append("\(count(n, "artifact")) built for glibc" + scope(targets))
            case FindingID.loaderProbeContradiction.rawValue:
                parts.append("\(count(n, "verdict")) contradicted by musl's loader")
            case FindingID.unreadableFile.rawValue:
                parts.append("\(count(n, "file")) could not be read")
            case FindingID.malformedArchive.rawValue:
                parts.append("\(count(n, "archive")) damaged (members after the damage not checked)")
            case FindingID.archiveLimit.rawValue:
                parts.append("\(count(n, "member")) not checked (zip bomb or safety limit)")
            case FindingID.userProbeFailed.rawValue:
                let probes = failures.filter { $0.reason == reason }.count
                parts.append("\(count(probes, "user probe")) failed")
            default:
                parts.append("\(count(n, "artifact")) \(reason)")
            }
        }
        _ = preload
        return parts.joined(separator: "; ")
    }
}

extension ReportBaseline {
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
