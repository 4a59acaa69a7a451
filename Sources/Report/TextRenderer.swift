import Compat
import Foundation
import Probes

/// The report for a person. It leads with what to do: each distinct fix once, with the artifacts
/// it covers, worst first; then one line per artifact that does not run as given (grouped by
/// archive or directory, the first ones when there are many), the problems, where the images'
/// probes differ from glibc, the summary and the result. With `verbose`, every artifact follows
/// with musl's messages and each finding's fix, and every probe value.
public struct TextRenderer {
    public var color: Bool
    /// Every artifact with its findings, notes included, and every probe value.
    public var verbose: Bool
    /// For the probes' field labels.
    public var catalog: ProbeCatalog?
    /// Artifact lines shown before "… N more" (not verbose).
    public var artifactLines = 15
    /// Actions shown before "… N more" (not verbose).
    public var actionLines = 10
    /// Width the one-line lists are cut to.
    public var width = 110
    let data = try? CompatData.shared()

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
        try? write(MemoryReport(report)) { text += $0 }
        return text
    }

    /// "a, b, c and 12 more" within about `room` characters; `total` counts items beyond the
    /// ones given (a long list passes only its first ones).
    func list(_ items: [String], room: Int, total: Int? = nil, separator: String = ", ") -> String {
        let total = total ?? items.count
        var out = ""
        for (i, item) in items.enumerated() {
            let sep = i == 0 ? "" : separator
            let rest = total - i
            let tail = rest > 1 ? " and \(rest - 1) more" : ""
            if i > 0 && out.count + sep.count + item.count + tail.count > room {
                return out + " and \(rest) more"
            }
            out += sep + item
        }
        return total > items.count ? out + " and \(total - items.count) more" : out
    }

    /// The group an artifact is shown under: its archive, or its file's directory.
    static func group(_ s: ArtifactSummary) -> String {
        s.archive ?? (s.path.contains("/") ? String(s.path[..<s.path.lastIndex(of: "/")!]) : ".")
    }

    /// The artifact's path within its group.
    static func relative(_ path: String, group: String) -> String {
        if path.hasPrefix(group + "!") || path.hasPrefix(group + "/") { return String(path.dropFirst(group.count + 1)) }
        return path
    }

    /// Why an artifact does not run as given, in a few words: "needs libstdc++.so.6; lacks
    /// fcntl64, __memcpy_chk and 3 more; IFUNC-only symbols".
    func shortReasons(_ a: ArtifactAnalysis, gcompatMet: Set<String>) -> String {
        var needs: [String] = [], symbols: [String] = [], other: [String] = []
        func add(_ list: inout [String], _ item: String) { if !list.contains(item) { list.append(item) } }
        let needsGcompat = a.verdicts.contains { $0.verdict == .needsGcompat && !gcompatMet.contains($0.target) }
        let incompatible = a.verdicts.contains { $0.verdict == .incompatible }
        let preload = a.findings.contains { $0.findingID == .needsGcompatPreload }
        if needsGcompat { needs.append(preload ? "gcompat preloaded" : "gcompat") }
        for f in a.findings where f.severity >= .warning {
            switch f.findingID {
            case .missingLibrary?, .libraryFromPackage?:
                // Where gcompat is the answer, the glibc libraries it provides go with it.
                if let s = f.subject, !(needsGcompat && data?.packages.glibcOnly.gcompat.contains(s) == true) { add(&needs, s) }
            case .missingSymbol?, .lfs64LoaderBug?:
                // With libraries missing, another library's symbols follow from them.
                if incompatible, let s = f.subject, !(f.fix.hasSuffix("older than the one the artifact was built against") && a.findings.contains { $0.findingID == .missingLibrary }) {
                    add(&symbols, s)
                }
            case .missingInterpreter?:
                if incompatible && !a.findings.contains(where: { [.missingLibrary, .missingSymbol, .lfs64LoaderBug].contains($0.findingID) }) {
                    add(&other, f.subject.map { $0.contains("ld-musl") } ?? false ? "made for musl's loader"
                        : f.subject.map { $0.isEmpty } ?? true ? "no loader on the target" : "made for glibc's loader")
                }
            case .glibcMissingLibrary?:
                if let s = f.subject { add(&needs, s) }
            case .glibcVersionNotFound?:
                if let s = f.subject { add(&needs, s) }
            case .glibcUndefinedSymbol?, .glibcLazyUndefinedSymbol?:
                if let s = f.subject { add(&symbols, s) }
            case .ifuncDefinition?: add(&other, "IFUNC-only symbols")
            case .unsupportedRelocation?: add(&other, "relocations musl refuses: \(f.subject ?? "?")")
            case .initialExecTLS?: add(&other, "initial-exec TLS")
            case .relrUnsupported?: add(&other, "DT_RELR relocations")
            case .hiddenDefinitionOnly?: add(&other, "only hidden versions of \(f.subject ?? "a symbol")")
            case .libraryNotLoadable?: add(&other, "a non-loadable \(f.subject ?? "library") on the search path")
            case .damagedFile?: add(&other, "damaged (cut short)")
            case .loaderProbeContradiction?: add(&other, "contradicted by musl's loader")
            default: break
            }
        }
        var parts: [String] = []
        if !needs.isEmpty { parts.append("needs " + list(needs, room: 50)) }
        if !symbols.isEmpty { parts.append("lacks " + list(symbols, room: 50)) }
        return (parts + other).joined(separator: "; ")
    }

    /// Writes the report: artifacts are read one at a time.
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
        out.append(Self.scanned(c))

        // One pass over the artifacts: the actions, and a line for each that does not run as given.
        let summaries = report.summaries
        // What does not run as given (the default gate's failures), whatever level gates the run.
        let short: Set<String> = Set(Gate(level: .notRunnable).failures(report).map(\.artifact))
        var plan = ActionPlan()
        var lines: [(group: String, worst: Verdict, path: String, name: String, label: String, reasons: String)] = []
        for (i, s) in summaries.enumerated() {
            let a = try report.artifact(at: i)
            plan.add(a)
            guard short.contains(s.path) else { continue }
            let group = Self.group(s)
            let label = (symbol(for: s.worst) + " " + s.worst.rawValue).padding(toLength: 16, withPad: " ", startingAt: 0)
            lines.append((group, s.worst, s.path, Self.relative(s.path, group: group), paint(label, style(for: s.worst)),
                          shortReasons(a, gcompatMet: s.gcompatMet)))
        }
        for p in report.problems { plan.add(problem: p) }

        let actions = verbose ? plan.actions : plan.actionsWithOneApkAdd
        var groupOf: [String: String] = [:]
        var archiveGroups: Set<String> = []
        for s in summaries {
            let g = Self.group(s)
            groupOf[s.path] = g
            if s.archive != nil { archiveGroups.insert(g) }
        }
        for p in report.problems { groupOf[p.artifact] = p.artifact.split(separator: "!").first.map(String.init) ?? p.artifact }
        if !actions.isEmpty {
            out.append("")
            out.append(paint("What to do, worst first:", .bold))
            let cap = verbose || actions.count <= actionLines + 3 ? actions.count : actionLines
            for action in actions.prefix(cap) {
                let subjects = action.subjects.isEmpty ? "" : list(action.subjects, room: 60) + ": "
                let text: String
                switch action.key {
                case "musllinux-wheel": text = "use the musllinux wheels of " + list(action.subjects, room: 60) + " (\(action.coverage))"
                case "apk": text = "\(action.text) (\(action.coverage))"
                default: text = "\(action.text) (\(subjects)\(action.coverage))"
                }
                out.append("  " + paint(symbol(for: action.worst), style(for: action.worst)) + " " + text)
                if action.key == "musllinux-wheel" {
                    // The wheels to replace, by file name.
                    var wheels: [String] = []
                    for a in action.artifacts {
                        let wheel = String((groupOf[a] ?? a).split(separator: "/").last ?? "")
                        if !wheels.contains(wheel) { wheels.append(wheel) }
                    }
                    out.append("      " + paint(list(wheels, room: width - 6), .dim))
                    continue
                }
                // The names a line can hold (the list stops long before the end of a large set).
                let names = action.artifacts.prefix(40).map { Self.relative($0, group: groupOf[$0] ?? "") }
                out.append("      " + paint(list(names, room: width - 6, total: action.artifacts.count), .dim))
            }
            if cap < actions.count {
                out.append(paint("  … and \(actions.count - cap) more actions, each for fewer artifacts: --verbose lists them all", .dim))
            }
        }
        try emit(out.joined(separator: "\n") + "\n")
        out.removeAll(keepingCapacity: true)

        if verbose {
            try writeEveryArtifact(report, summaries: summaries, to: emit)
        } else if !lines.isEmpty {
            out.append("")
            let names = report.targets.map(\.name)
            out.append(paint("Does not run as given on \(Gate.list(names)): \(lines.count) of \(Self.count(summaries.count, "artifact")), worst first:", .bold))
            // Groups with their worst artifact first; within a group, worst first, then by path.
            var byGroup: [String: [Int]] = [:]
            for (i, l) in lines.enumerated() { byGroup[l.group, default: []].append(i) }
            let groups = byGroup.sorted { l, r in
                let lw = l.value.map { lines[$0].worst }.max()!, rw = r.value.map { lines[$0].worst }.max()!
                return lw != rw ? lw > rw : l.key < r.key
            }
            let cap = lines.count <= artifactLines + 5 ? lines.count : artifactLines
            var shown = 0
            let column = min(28, lines.map(\.name.count).max() ?? 0)
            for (group, members) in groups where shown < cap {
                out.append(paint("■ \(group)", .bold) + (archiveGroups.contains(group) ? "" : "/"))
                let sorted = members.sorted { lines[$0].worst != lines[$1].worst ? lines[$0].worst > lines[$1].worst : lines[$0].path < lines[$1].path }
                for i in sorted where shown < cap {
                    let l = lines[i]
                    let name = l.name.count < column ? l.name.padding(toLength: column, withPad: " ", startingAt: 0) : l.name
                    out.append("  " + l.label + " " + name + (l.reasons.isEmpty ? "" : "  " + paint(l.reasons, .dim)))
                    shown += 1
                }
            }
            if shown < lines.count {
                out.append(paint("  … and \(lines.count - shown) more: --verbose shows every artifact with musl's messages and the fixes; --format html, one page to browse", .dim))
            }
        }

        if !report.problems.isEmpty {
            out.append("")
            out.append(paint("problems (not checked):", .bold))
            let cap = verbose || report.problems.count <= 12 ? report.problems.count : 10
            for p in report.problems.prefix(cap) {
                out.append("  " + paint(p.id, style(for: p.severity)) + " " + p.message)
            }
            if cap < report.problems.count { out.append(paint("  … and \(report.problems.count - cap) more: --verbose lists them all", .dim)) }
        }
        if !report.probes.isEmpty {
            out.append("")
            if verbose {
                out.append(paint("probes:", .bold))
                out.append(ProbeTextRenderer(color: color).render(report.probes, catalog: catalog)
                    .split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n"))
            } else {
                out.append(contentsOf: probeDifferences(report.probes, summaries: summaries, targets: report.targets))
            }
        }
        if !report.suppressed.isEmpty {
            var reasons: [String: Int] = [:]
            for s in report.suppressed { reasons[s.reason, default: 0] += 1 }
            out.append("")
            out.append("suppressed: " + reasons.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key == "baseline" ? "the baseline" : "ignore (\($0.key))")" }.joined(separator: ", "))
        }
        if !report.notes.isEmpty { out.append("") }
        for n in report.notes { out.append(paint("note: ", .bold) + n) }
        out.append("")
        out.append(summary(report))
        out.append(result(report))
        try emit(out.joined(separator: "\n") + "\n")
    }

    /// "scanned 412 files: 9 ELF, 2 archives (388 members), 401 other, ...": members of image
    /// filesystems are counted apart from archives.
    static func scanned(_ c: CompatibilityReport.Counts) -> String {
        var parts = ["\(c.elfFiles) ELF"]
        if c.archives > 0 || c.archiveMembers == 0 {
            parts.append(count(c.archives, "archive") + (c.archives > 0 ? " (\(count(c.archiveMembers, "member")))" : ""))
        } else {
            parts.append(count(c.archiveMembers, "file") + " in images")
        }
        parts += ["\(c.nonELFFiles) other", "\(c.specialFiles) special skipped", count(c.problems, "problem")]
        return "scanned \(count(c.files, "file")): " + parts.joined(separator: ", ")
    }

    /// "1 file", "3 files".
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// Per image: where its probes differ from glibc (the baseline's run, or glibc's known
    /// values), one line per probe, and the loader probe's counts.
    func probeDifferences(_ images: [ImageProbeReport], summaries: [ArtifactSummary], targets: [CompatibilityReport.TargetInfo] = []) -> [String] {
        var out: [String] = []
        for r in images {
            var facts: [String] = []
            if let m = r.musl { facts.append("musl \(m)") }
            if let b = r.baseline { facts.append("baseline: \(b)") }
            let head = "probes in \(r.image)" + (facts.isEmpty ? "" : " (" + facts.joined(separator: ", ") + ")")
            if let e = r.error {
                out.append(paint(head + ":", .bold) + " " + paint("error: ", .red) + e)
                continue
            }
            out.append(paint(head + ", where it differs from glibc" + (r.baseline.map { " (\($0))" } ?? "") + ":", .bold))
            var same: [String] = []
            for p in r.probes {
                let id = p.id.padding(toLength: 14, withPad: " ", startingAt: 0)
                guard p.status == .ok else {
                    out.append("  " + id + paint(p.status.rawValue, p.status == .skipped ? .gray : .yellow) + (p.error.map { "  " + String($0.prefix(80)) } ?? ""))
                    continue
                }
                // A long value (a list of names) is cut: --verbose and the HTML report show it whole.
                let differences = r.differences(for: p, catalog: catalog).map { $0.text.count > 72 ? String($0.text.prefix(71)) + "…" : $0.text }
                if differences.isEmpty { same.append(p.id); continue }
                out.append("  " + id + paint(list(differences, room: width - 16, separator: "; "), .yellow))
            }
            if !same.isEmpty { out.append("  " + "same as glibc".padding(toLength: 14, withPad: " ", startingAt: 0) + same.joined(separator: ", ")) }
            if !r.loader.isEmpty {
                let n = r.loaderCounts
                // Object files and other machines' files: nothing loads them, the probe leaves them out.
                let left = summaries.filter { $0.verdicts[r.image] == .notApplicable }.count
                let who = CompatibilityReport.loaderName(r.image, in: targets)
                out.append("  \(who): \(Self.count(r.loader.count, "artifact")), \(n.confirmed) confirmed, "
                           + (n.contradicted > 0 ? paint("\(n.contradicted) contradicted", .red) : "0 contradicted")
                           + ", \(n.notChecked) not checked" + (n.notChecked + n.contradicted > 0 ? " (--verbose says why)" : "")
                           + (left > 0 ? "; \(Self.count(left, "not-applicable file")) left out (object files, other machines' files)" : ""))
            }
            if !r.userProbes.isEmpty {
                let failed = r.userProbes.filter { !$0.passed }
                out.append("  user probes: \(r.userProbes.count - failed.count) passed, " + (failed.isEmpty ? "0 failed" : paint("\(failed.count) failed", .red)
                           + ": " + failed.map(\.name).joined(separator: ", ")))
            }
        }
        return out
    }

    /// Every artifact, grouped by archive (or directory), worst first, with musl's messages and fixes.
    func writeEveryArtifact(_ report: any ReportView, summaries: [ArtifactSummary], to emit: (String) throws -> Void) throws {
        var out: [String] = []
        var groups: [String: [Int]] = [:]
        for (i, a) in summaries.enumerated() { groups[Self.group(a), default: []].append(i) }
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
    }

    /// The gate's answer on the run, one line, with its reasons.
    public func result(_ report: any ReportView) -> String {
        let gate = Gate(level: report.inputs.failOn)
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
            v.loaderProbe.map { p in
                let who = CompatibilityReport.loaderName(v.target, in: report.targets)
                return report.targets.count == 1 ? "\(who): \(p)" : "\(who) in \(v.target): \(p)"
            }
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
        let findings = [Self.count(f["error"] ?? 0, "error"), Self.count(f["warning"] ?? 0, "warning"), Self.count(f["note"] ?? 0, "note")].joined(separator: ", ")
        let n = report.summaries.count
        return paint("Summary:", .bold) + " \(n) artifact\(n == 1 ? "" : "s"); " + parts.joined(separator: "; ") + "; " + findings
    }
}
