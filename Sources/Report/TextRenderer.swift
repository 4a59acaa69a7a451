import Compat
import Foundation
import Probes

/// The report for a person: grouped by archive (or directory), worst first, one summary line.
public struct TextRenderer {
    public var color: Bool
    /// Show note-level findings too.
    public var verbose: Bool
    /// For the probes' field labels.
    public var catalog: ProbeCatalog?

    public init(color: Bool, verbose: Bool = false, catalog: ProbeCatalog? = nil) {
        self.color = color
        self.verbose = verbose
        self.catalog = catalog
    }

    enum Style: String {
        case red = "31", yellow = "33", cyan = "36", green = "32", gray = "90", bold = "1", dim = "2"
    }

    func paint(_ text: String, _ style: Style) -> String {
        color ? "\u{1b}[\(style.rawValue)m\(text)\u{1b}[0m" : text
    }

    func style(for verdict: Verdict) -> Style {
        switch verdict {
        case .incompatible: .red
        case .needsGcompat: .yellow
        case .compatible: .cyan
        case .nativeMusl, .static: .green
        case .notApplicable: .gray
        }
    }

    func symbol(for verdict: Verdict) -> String {
        switch verdict {
        case .incompatible: "✗"
        case .needsGcompat: "!"
        case .compatible, .nativeMusl, .static: "✓"
        case .notApplicable: "-"
        }
    }

    public func render(_ report: CompatibilityReport) -> String {
        var text = ""
        try? write(report) { text += $0 }
        return text
    }

    /// Writes the report, one group and artifact at a time.
    public func write(_ report: any ReportView, to emit: (String) throws -> Void) throws {
        var out: [String] = []
        let targets = report.targets.map { t in
            var s = t.name
            var extra: [String] = []
            if let m = t.musl { extra.append("musl \(m)") }
            if t.gcompat && !t.name.hasSuffix("+gcompat") { extra.append("gcompat") }
            if !extra.isEmpty { s += " (" + extra.joined(separator: ", ") + ")" }
            return s
        }
        out.append(paint("muslcheck \(report.tool.version)", .bold) + " — target\(targets.count == 1 ? "" : "s"): " + targets.joined(separator: ", "))
        let c = report.counts
        out.append("scanned \(c.files) files: \(c.elfFiles) ELF, \(c.archives) archives (\(c.archiveMembers) members), \(c.nonELFFiles) other, \(c.specialFiles) special skipped, \(c.problems) problems")

        // Groups: the archive, or the directory of a file on disk.
        var groups: [String: [Int]] = [:]
        let summaries = report.summaries
        for (i, a) in summaries.enumerated() {
            let key = a.archive ?? (a.path.contains("/") ? String(a.path[..<a.path.lastIndex(of: "/")!]) : ".")
            groups[key, default: []].append(i)
        }
        let ordered = groups.sorted { l, r in
            let lw = l.value.map { summaries[$0].worst }.max()!, rw = r.value.map { summaries[$0].worst }.max()!
            return lw != rw ? lw > rw : l.key < r.key
        }
        for (name, members) in ordered {
            out.append("")
            out.append(paint("■ \(name)", .bold) + (summaries[members[0]].archive != nil ? "" : "/"))
            let sorted = members.sorted {
                summaries[$0].worst != summaries[$1].worst ? summaries[$0].worst > summaries[$1].worst : summaries[$0].path < summaries[$1].path
            }
            for i in sorted {
                out.append(contentsOf: renderArtifact(try report.artifact(at: i), group: name, report: report))
                try emit(out.joined(separator: "\n") + "\n")
                out.removeAll(keepingCapacity: true)
            }
        }
        if !report.problems.isEmpty {
            out.append("")
            out.append(paint("problems (not checked):", .bold))
            for p in report.problems {
                out.append("  " + paint(p.id, style(for: p.severity)) + " " + p.message)
            }
        }
        if !report.probes.isEmpty {
            out.append("")
            out.append(paint("probes:", .bold))
            out.append(ProbeTextRenderer(color: color).render(report.probes, catalog: catalog)
                .split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n"))
        }
        if !report.suppressed.isEmpty {
            var reasons: [String: Int] = [:]
            for s in report.suppressed { reasons[s.reason, default: 0] += 1 }
            out.append("")
            out.append("suppressed: " + reasons.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key == "baseline" ? "the baseline" : "ignore (\($0.key))")" }.joined(separator: ", "))
        }
        for n in report.notes { out.append(paint("note: ", .bold) + n) }
        out.append("")
        out.append(summary(report))
        out.append(result(report))
        try emit(out.joined(separator: "\n") + "\n")
    }

    /// The gate's answer on the run, one line, with its reasons.
    public func result(_ report: any ReportView) -> String {
        let gate = Gate(failOn: report.inputs.failOn) ?? Gate(level: Gate.defaultLevel)
        let o = gate.outcome(report)
        let head = paint("Result:", .bold) + " "
        switch o.status {
        case .fail: return head + paint("fail", .red) + ": " + o.reasons
        case .pass: return head + paint("pass", .green) + ": " + o.reasons + (o.ungated.isEmpty ? "" : "; not gated at --fail-on \(gate.level.rawValue): " + o.ungated)
        case .notGated: return head + "not gated (--fail-on never)" + (o.ungated.isEmpty ? "" : ": " + o.ungated)
        }
    }

    func style(for severity: Severity) -> Style {
        switch severity {
        case .error: .red
        case .warning: .yellow
        case .note: .gray
        }
    }

    func renderArtifact(_ a: ArtifactAnalysis, group: String, report: any ReportView) -> [String] {
        var lines: [String] = []
        let worst = a.worstVerdict
        let relative: String = {
            if a.archive != nil, a.path.hasPrefix(group + "!") { return String(a.path.dropFirst(group.count + 1)) }
            if a.path.hasPrefix(group + "/") { return String(a.path.dropFirst(group.count + 1)) }
            return a.path
        }()
        var facts: [String] = [a.kind.rawValue]
        var libc = a.libc.rawValue
        let versions = ["GLIBC", "GLIBCXX", "CXXABI"].compactMap { k in a.highestVersions[k].map { "\(k) \($0)" } }
        if !versions.isEmpty { libc += " (" + versions.joined(separator: ", ") + ")" }
        facts.append(libc)
        if let m = a.manylinux { facts.append(m) }
        if let by = a.loadedBy {
            let short = by.hasPrefix(group + "!") ? String(by.dropFirst(group.count + 1)) : (by.hasPrefix(group + "/") ? String(by.dropFirst(group.count + 1)) : by)
            facts.append("as loaded by \(short)")
        }
        let probes = a.verdicts.compactMap { v in
            v.loaderProbe.map { report.targets.count == 1 ? "musl's loader: \($0)" : "musl's loader in \(v.target): \($0)" }
        }
        facts.append(contentsOf: probes)
        let excused = a.verdicts.compactMap { v in v.excused.map { "excused on \(v.target): \($0)" } }
        facts.append(contentsOf: excused)
        let label = (symbol(for: worst) + " " + worst.rawValue).padding(toLength: 16, withPad: " ", startingAt: 0)
        lines.append("  " + paint(label, style(for: worst)) + " " + relative + paint("  " + facts.joined(separator: ", "), .dim))
        // Per-target verdicts when they differ.
        let distinct = Set(a.verdicts.map(\.verdict))
        if distinct.count > 1 {
            let parts = a.verdicts.map { "\($0.target): " + paint($0.verdict.rawValue, style(for: $0.verdict)) }
            lines.append("      " + parts.joined(separator: ", "))
        }
        // Findings, the same message on several targets shown once.
        struct Key: Hashable { var id: String; var message: String; var fix: String; var severity: Severity; var detail: String? }
        var byKey: [Key: [String]] = [:]
        var order: [Key] = []
        for f in a.findings where verbose || f.severity >= .warning {
            let k = Key(id: f.id, message: f.message, fix: f.fix, severity: f.severity, detail: f.detail)
            if byKey[k] == nil { order.append(k) }
            byKey[k, default: []].append(f.target ?? "")
        }
        let allTargets = Set(report.targets.map(\.name))
        for k in order.sorted(by: { $0.severity != $1.severity ? $0.severity > $1.severity : false }) {
            let targets = byKey[k]!.filter { !$0.isEmpty }
            let scope = targets.isEmpty || Set(targets) == allTargets || report.targets.count == 1 ? "" : " [" + targets.joined(separator: ", ") + "]"
            lines.append("      " + paint(k.id, style(for: k.severity)) + " " + k.message + paint(scope, .dim))
            if let detail = k.detail { lines.append("            " + paint(detail, .dim)) }
            lines.append("            " + paint("fix: ", .bold) + k.fix)
        }
        return lines
    }

    public func summary(_ report: any ReportView) -> String {
        var parts: [String] = []
        for target in report.targets {
            let counts = report.counts.verdicts[target.name] ?? [:]
            let text = Verdict.allCases.sorted(by: >).compactMap { v -> String? in
                guard let n = counts[v.rawValue], n > 0 else { return nil }
                return paint("\(n) \(v.rawValue)", style(for: v))
            }.joined(separator: ", ")
            parts.append("\(target.name): " + (text.isEmpty ? "nothing to check" : text))
        }
        let f = report.counts.findings
        let findings = "\(f["error"] ?? 0) errors, \(f["warning"] ?? 0) warnings, \(f["note"] ?? 0) notes"
        let n = report.summaries.count
        return paint("Summary:", .bold) + " \(n) artifact\(n == 1 ? "" : "s"); " + parts.joined(separator: "; ") + "; " + findings
    }
}
