import Compat
import Foundation
import Probes

/// The report in GitHub-flavoured Markdown, for $GITHUB_STEP_SUMMARY and pull-request comments:
/// the result, verdicts per target, the failing artifacts with their loader messages and fixes,
/// the probes, then everything else; cut with a note before it passes `limit` bytes.
public struct MarkdownRenderer {
    /// GitHub's step-summary limit is 1 MiB.
    public var limit = 1 << 20
    public var catalog: ProbeCatalog?

    public init(catalog: ProbeCatalog? = nil, limit: Int = 1 << 20) {
        self.catalog = catalog
        self.limit = limit
    }

    /// Accumulates blocks until the next one would pass the limit.
    struct Builder {
        var text = ""
        var bytes = 0
        let budget: Int
        var full = false
        mutating func add(_ block: String) -> Bool {
            guard !full else { return false }
            let n = block.utf8.count
            if bytes + n > budget { full = true; return false }
            text += block
            bytes += n
            return true
        }
    }

    public func render(_ report: any ReportView) throws -> String {
        // Room for the cut note.
        var b = Builder(budget: limit - 1024)
        let gate = Gate(level: report.inputs.failOn)
        let outcome = gate.outcome(report)
        let failing = outcome.failing
        let status: String
        switch outcome.status {
        case .notGated: status = Self.inline(outcome.line)
        case .pass: status = "✅ " + Self.inline(outcome.line)
        case .fail: status = "❌ " + Self.inline(outcome.line)
        }
        var head = "## muslcheck: \(status)\n\n"
        let targets = report.targets.map { t -> String in
            var extra: [String] = [t.kind]
            if let m = t.musl { extra.append("musl \(m)") }
            if t.gcompat && !t.name.hasSuffix("+gcompat") { extra.append("gcompat") }
            return "`\(t.name)` (\(extra.joined(separator: ", ")))"
        }
        head += "**Targets:** " + targets.joined(separator: " · ") + (report.inputs.shard.map { " · shard \($0)" } ?? "") + "\n\n"
        let verdicts = Verdict.allCases.sorted(by: >)
        head += "| target | " + verdicts.map { "\(Self.mark($0)) \($0.rawValue)" }.joined(separator: " | ") + " |\n"
        head += "| --- |" + String(repeating: " ---: |", count: verdicts.count) + "\n"
        for t in report.targets {
            let c = report.counts.verdicts[t.name] ?? [:]
            head += "| `\(Self.cell(t.name))` | " + verdicts.map { "\(c[$0.rawValue] ?? 0)" }.joined(separator: " | ") + " |\n"
        }
        let c = report.counts
        let f = c.findings
        head += "\n\(c.artifacts) artifacts from \(c.files) files (\(c.elfFiles) ELF, \(c.archives) archives, \(c.nonELFFiles) other) · "
            + "findings: \(f["error"] ?? 0) errors, \(f["warning"] ?? 0) warnings, \(f["note"] ?? 0) notes"
            + (c.suppressed > 0 ? " · \(c.suppressed) suppressed" : "") + "\n"
        for n in report.notes { head += "\n> **Note:** \(Self.inline(n))\n" }
        _ = b.add(head + "\n")

        // Artifacts with warnings or worse, worst first, then the rest in a table.
        let summaries = report.summaries
        let order = summaries.indices.sorted {
            let l = summaries[$0], r = summaries[$1]
            let lf = failing.contains(l.path), rf = failing.contains(r.path)
            if lf != rf { return lf }
            return l.worst != r.worst ? l.worst > r.worst : l.path < r.path
        }
        let detailed = order.filter { i in
            failing.contains(summaries[i].path) || (summaries[i].findings[.error] ?? 0) + (summaries[i].findings[.warning] ?? 0) > 0
        }
        var shown = 0
        if !detailed.isEmpty, b.add("### Artifacts with findings\n\n") {
            for i in detailed {
                guard b.add(artifactBlock(try report.artifact(at: i), failing: failing.contains(summaries[i].path))) else { break }
                shown += 1
            }
        }
        var cutArtifacts = detailed.count - shown

        if !b.full, !report.problems.isEmpty {
            var block = "### Problems\n\n| id | message | fix |\n| --- | --- | --- |\n"
            for p in report.problems { block += "| \(p.id) | \(Self.cell(p.message)) | \(Self.cell(p.fix)) |\n" }
            _ = b.add(block + "\n")
        }
        if !b.full, !report.probes.isEmpty { _ = b.add(probesBlock(report.probes)) }

        let rest = order.filter { i in !detailed.contains(i) }
        if !b.full, !rest.isEmpty {
            if b.add("<details><summary>\(rest.count) other artifact\(rest.count == 1 ? "" : "s")</summary>\n\n| artifact | verdicts |\n| --- | --- |\n") {
                var listed = 0
                for i in rest {
                    let s = summaries[i]
                    let v = s.verdicts.sorted { $0.key < $1.key }.map { "\(Self.mark($0.value)) \($0.value.rawValue) (\(Self.cell($0.key)))" }
                    guard b.add("| \(Self.code(s.path)) | \(v.joined(separator: ", ")) |\n") else { break }
                    listed += 1
                }
                cutArtifacts += rest.count - listed
                b.full = false
                _ = b.add("\n</details>\n")
            } else {
                cutArtifacts += rest.count
            }
        }
        var text = b.text
        if b.full || cutArtifacts > 0 {
            text += "\n> **Cut:** this summary stops at \(limit / 1024) KiB; \(cutArtifacts) artifact\(cutArtifacts == 1 ? "" : "s") not shown. "
                + "The JSON and HTML reports hold everything.\n"
        }
        return text
    }

    func artifactBlock(_ a: ArtifactAnalysis, failing: Bool) -> String {
        let verdicts = a.verdicts.map { v in
            "\(Self.mark(v.verdict)) **\(v.verdict.rawValue)** on `\(Self.cell(v.target))`"
                + (v.loaderProbe.map { " (\($0) by musl's loader)" } ?? "") + (v.excused.map { " (excused: \(Self.inline($0)))" } ?? "")
        }
        var facts = [a.kind.rawValue, a.libc.rawValue]
        let versions = ["GLIBC", "GLIBCXX", "CXXABI"].compactMap { k in a.highestVersions[k].map { "\(k)_\($0)" } }
        facts += versions
        if let m = a.manylinux { facts.append(m) }
        var s = "<details\(failing ? " open" : "")><summary>\(failing ? "❌" : Self.mark(a.worstVerdict)) <code>\(Self.html(a.path))</code></summary>\n\n"
        s += verdicts.joined(separator: " · ") + " — " + facts.joined(separator: ", ") + "\n\n"
        // The same finding on several targets once.
        var seen: [String: [String]] = [:]
        var order: [Finding] = []
        for f in a.findings.sorted(by: { $0.severity != $1.severity ? $0.severity > $1.severity : false }) where f.severity >= .warning {
            let key = f.id + "\u{0}" + f.message
            if seen[key] == nil { order.append(f) }
            seen[key, default: []].append(f.target ?? "")
        }
        for f in order {
            let targets = seen[f.id + "\u{0}" + f.message]!.filter { !$0.isEmpty }
            s += "- **\(f.id)** \(Self.code(f.message))" + (targets.isEmpty || a.verdicts.count < 2 ? "" : " on " + targets.map { "`\(Self.cell($0))`" }.joined(separator: ", "))
            s += "<br>fix: \(Self.inline(f.fix))\n"
        }
        return s + "\n</details>\n\n"
    }

    func probesBlock(_ images: [ImageProbeReport]) -> String {
        var s = "### Probes\n\n"
        for r in images {
            s += "#### `\(Self.cell(r.image))`" + (r.osRelease.map { " (\($0)\(r.musl.map { ", musl \($0)" } ?? ""))" } ?? "") + "\n\n"
            if let e = r.error {
                s += "❌ \(Self.inline(e))\n\n"
                continue
            }
            if !r.probes.isEmpty {
                s += "| probe | result |\n| --- | --- |\n"
                for p in r.probes {
                    let cellText = p.status != .ok
                        ? "\(p.status.rawValue)" + (p.error.map { ": " + $0 } ?? "")
                        : r.lines(for: p, catalog: catalog).map { $0.differs == true ? "**\($0.text)**" : $0.text }.joined(separator: "<br>")
                    s += "| \(p.id) | \(Self.cell(cellText, keepBreaks: true)) |\n"
                }
                s += "\n"
            }
            if !r.loader.isEmpty {
                let n = r.loaderCounts
                let contradicted = r.loader.filter { $0.agreement == .contradicted }
                s += "Loader probe: \(r.loader.count) artifacts, \(n.confirmed) confirmed, \(n.contradicted) contradicted, "
                    + "\(n.notChecked) not checked.\n\n"
                for l in contradicted { s += "- ❌ \(Self.code(l.artifact)): " + l.differences.map(Self.inline).joined(separator: "; ") + "\n" }
                if !contradicted.isEmpty { s += "\n" }
            }
            if !r.userProbes.isEmpty {
                for u in r.userProbes {
                    s += "- \(u.passed ? "✅" : "❌") user probe **\(Self.inline(u.name))**" + (u.failures.isEmpty ? "" : ": " + u.failures.map(Self.inline).joined(separator: "; ")) + "\n"
                }
                s += "\n"
            }
        }
        return s
    }

    static func mark(_ v: Verdict) -> String {
        switch v {
        case .incompatible: "✗"
        case .needsGcompat: "!"
        case .compatible, .nativeMusl, .static: "✓"
        case .notApplicable: "–"
        }
    }

    /// Text for a table cell: no pipes or line breaks.
    static func cell(_ s: String, keepBreaks: Bool = false) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == 0x0A || $0 == UInt8(ascii: "<") }) else { return s }
        var out = s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: keepBreaks ? "<br>" : " ")
        if !keepBreaks { out = out.replacingOccurrences(of: "<", with: "&lt;") }
        return out
    }

    /// Text inline in a paragraph: Markdown and HTML characters neutralised.
    static func inline(_ s: String) -> String {
        guard s.utf8.contains(where: { "<>&\n|*_`[]\\".utf8.contains($0) }) else { return s }
        var out = ""
        for ch in s {
            switch ch {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\n": out += " "
            case "|": out += "\\|"
            case "*", "_", "`", "[", "]", "\\": out += "\\" + String(ch)
            default: out.append(ch)
            }
        }
        return out
    }

    /// Inline code that holds any text.
    static func code(_ s: String) -> String {
        let flat = s.utf8.contains(where: { $0 == 0x0A || $0 == UInt8(ascii: "|") })
            ? s.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "|", with: "\\|") : s
        return flat.contains("`") ? "`` \(flat) ``" : "`\(flat)`"
    }

    static func html(_ s: String) -> String { Markup.escape(s) }
}
