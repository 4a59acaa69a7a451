import Compat
import Foundation
import Policy
import Probes

/// One self-contained HTML page (no network: styles and script inline): the result, a chart of
/// verdicts per target, a table of artifacts filterable by verdict, target and path, details per
/// artifact with its loader messages and fixes, the probes, problems and notes.
///
/// The filter state lives in the address's fragment (#verdict=incompatible&target=alpine:3.22&q=numpy),
/// so a filtered view can be linked to.
public struct HTMLRenderer {
    public var catalog: ProbeCatalog?
    /// Where finding ids link to (README anchors), or nil for no links.
    public var readme: String?

    public init(catalog: ProbeCatalog? = nil, readme: String? = nil) {
        self.catalog = catalog
        self.readme = readme
    }

    static let verdictOrder: [Verdict] = Verdict.allCases.sorted(by: >)

    public func render(_ report: any ReportView) throws -> String {
        var h = ""
        let gate = Gate(level: report.inputs.failOn)
        let outcome = gate.outcome(report)
        let failures = gate.failures(report)
        let failing = outcome.failing
        let status = outcome.status.rawValue
        let statusText = outcome.line.prefix(1).uppercased() + outcome.line.dropFirst()

        h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<meta name=\"generator\" content=\"muslcheck \(e(report.tool.version))\">\n"
        h += "<title>muslcheck: \(e(statusText))</title>\n<style>\n\(Self.css)</style>\n</head>\n<body>\n"
        h += "<header>\n<h1>muslcheck report</h1>\n"
        h += "<p id=\"result\" class=\"result \(status)\" data-status=\"\(status)\" data-failures=\"\(failures.count)\">\(e(statusText))</p>\n"
        h += "<p class=\"targets\">Targets: " + report.targets.map { t in
            var extra = [t.kind]
            if let m = t.musl { extra.append("musl \(m)") }
            if t.gcompat && !t.name.hasSuffix("+gcompat") { extra.append("gcompat") }
            return "<b>\(e(t.name))</b> (\(e(extra.joined(separator: ", "))))"
        }.joined(separator: ", ") + (report.inputs.shard.map { " · shard \(e($0))" } ?? "") + "</p>\n"
        let c = report.counts
        h += "<p class=\"scan\">Checked <span id=\"count-files\">\(c.files)</span> files: \(c.elfFiles) ELF, \(c.archives) archives "
            + "(\(c.archiveMembers) members), \(c.nonELFFiles) other, \(c.specialFiles) special files skipped, \(c.problems) problems. "
            + "Inputs: \(e(report.inputs.paths.joined(separator: ", ")))</p>\n</header>\n"

        // Cards: artifacts by their worst verdict.
        var worst: [Verdict: Int] = [:]
        for s in report.summaries { worst[s.worst, default: 0] += 1 }
        h += "<section id=\"summary\">\n<div class=\"cards\">\n"
        h += "<div class=\"card\"><span class=\"n\" id=\"count-artifacts\">\(report.summaries.count)</span> artifacts</div>\n"
        for v in Self.verdictOrder {
            h += "<div class=\"card v-\(v.rawValue)\"><span class=\"n\" id=\"count-\(v.rawValue)\">\(worst[v] ?? 0)</span> \(v.rawValue)</div>\n"
        }
        let f = c.findings
        h += "<div class=\"card\"><span class=\"n\" id=\"count-errors\">\(f["error"] ?? 0)</span> errors, "
            + "<span id=\"count-warnings\">\(f["warning"] ?? 0)</span> warnings, <span id=\"count-notes\">\(f["note"] ?? 0)</span> notes"
            + (c.suppressed > 0 ? ", <span id=\"count-suppressed\">\(c.suppressed)</span> suppressed" : "") + "</div>\n"
        h += "</div>\n<p class=\"hint\">Cards count each artifact once, by its worst verdict over the targets.</p>\n</section>\n"

        h += chart(report)
        h += try table(report, failing: failing)
        if !report.problems.isEmpty {
            h += "<section id=\"problems\">\n<h2>Problems</h2>\n<table><thead><tr><th>id</th><th>file</th><th>message</th><th>fix</th></tr></thead><tbody>\n"
            for p in report.problems {
                h += "<tr class=\"problem sev-\(p.severity.rawValue)\"><td>\(idLink(p.id))</td><td><code>\(e(p.artifact))</code></td><td>\(e(p.message))</td><td>\(e(p.fix))</td></tr>\n"
            }
            h += "</tbody></table>\n</section>\n"
        }
        if !report.probes.isEmpty { h += probes(report.probes) }
        if !report.suppressed.isEmpty {
            h += "<section id=\"suppressed\">\n<h2>Suppressed findings</h2>\n<table><thead><tr><th>id</th><th>artifact</th><th>target</th><th>subject</th><th>reason</th></tr></thead><tbody>\n"
            for s in report.suppressed {
                h += "<tr><td>\(e(s.id))</td><td><code>\(e(s.artifact))</code></td><td>\(e(s.target ?? ""))</td><td>\(e(s.subject ?? ""))</td><td>\(e(s.reason))</td></tr>\n"
            }
            h += "</tbody></table>\n</section>\n"
        }
        if !report.notes.isEmpty {
            h += "<section id=\"notes\">\n<h2>Notes</h2>\n<ul>\n" + report.notes.map { "<li>\(e($0))</li>\n" }.joined() + "</ul>\n</section>\n"
        }
        h += "<footer>muslcheck \(e(report.tool.version)) · report schema \(report.schemaVersion)</footer>\n"
        h += "<script>\n\(Self.script)</script>\n</body>\n</html>\n"
        return h
    }

    func e(_ s: String) -> String { Self.escape(s) }

    static func escape(_ s: String) -> String { Markup.escape(s, quotes: true) }

    func idLink(_ id: String) -> String {
        guard let readme else { return e(id) }
        return "<a href=\"\(e(readme))#\(id.lowercased())\">\(e(id))</a>"
    }

    /// Stacked bars: one per target, a segment per verdict.
    func chart(_ report: any ReportView) -> String {
        let width = 720.0, label = 200.0, barH = 22.0, gap = 10.0
        let height = Double(report.targets.count) * (barH + gap) + 40
        var s = "<section id=\"chart\">\n<h2>Verdicts per target</h2>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"verdicts per target\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        for (row, t) in report.targets.enumerated() {
            let counts = report.counts.verdicts[t.name] ?? [:]
            let total = max(1, counts.values.reduce(0, +))
            let y = Double(row) * (barH + gap) + 4
            s += "<text x=\"0\" y=\"\(fmt(y + barH * 0.7))\" class=\"label\">\(e(t.name.count > 28 ? String(t.name.prefix(27)) + "…" : t.name))</text>\n"
            var x = label
            for v in Self.verdictOrder {
                let n = counts[v.rawValue] ?? 0
                guard n > 0 else { continue }
                let w = (width - label - 10) * Double(n) / Double(total)
                s += "<rect class=\"bar v-\(v.rawValue)\" data-target=\"\(row)\" data-verdict=\"\(v.rawValue)\" data-count=\"\(n)\" "
                    + "x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(max(w, 1)))\" height=\"\(fmt(barH))\"><title>\(e(t.name)): \(n) \(v.rawValue)</title></rect>\n"
                if w > 24 { s += "<text class=\"barlabel\" x=\"\(fmt(x + 4))\" y=\"\(fmt(y + barH * 0.7))\">\(n)</text>\n" }
                x += w
            }
        }
        // Legend.
        var lx = 0.0
        let ly = Double(report.targets.count) * (barH + gap) + 14
        for v in Self.verdictOrder {
            s += "<rect class=\"v-\(v.rawValue)\" x=\"\(fmt(lx))\" y=\"\(fmt(ly))\" width=\"10\" height=\"10\"></rect>"
                + "<text class=\"legend\" x=\"\(fmt(lx + 14))\" y=\"\(fmt(ly + 9))\">\(v.rawValue)</text>\n"
            lx += 14 + Double(v.rawValue.count) * 6.5 + 14
        }
        s += "</svg>\n<p class=\"hint\">Click a bar to filter the table.</p>\n</section>\n"
        return s
    }

    func fmt(_ x: Double) -> String { String(format: "%.1f", x) }

    /// Strings the page holds once, however many artifacts repeat them (fixes, rules, targets,
    /// library names): the details refer to them by number.
    struct StringTable {
        var strings: [String] = []
        var index: [String: Int] = [:]
        mutating func id(_ s: String) -> Int {
            if let i = index[s] { return i }
            index[s] = strings.count
            strings.append(s)
            return strings.count - 1
        }
    }

    /// The table: a row per artifact, grouped by archive (or folder) with the group's name once,
    /// worst first; each row opens a full-width row below it with the artifact's details, drawn
    /// by the page's script from the report data (every string in it stored once).
    func table(_ report: any ReportView, failing: Set<String>) throws -> String {
        var s = "<section id=\"artifacts\">\n<h2>Artifacts</h2>\n<div class=\"filters\">\n"
        s += "<label>Verdict <select id=\"filter-verdict\"><option value=\"\">any</option>"
            + Self.verdictOrder.map { "<option value=\"\($0.rawValue)\">\($0.rawValue)</option>" }.joined() + "</select></label>\n"
        s += "<label>Target <select id=\"filter-target\"><option value=\"\">any</option>"
            + report.targets.enumerated().map { "<option value=\"\($0.offset)\" data-name=\"\(e($0.element.name))\">\(e($0.element.name))</option>" }.joined()
            + "</select></label>\n"
        s += "<label>Path <input id=\"filter-text\" type=\"search\" placeholder=\"filter by path\"></label>\n"
        s += "<label><input id=\"filter-failing\" type=\"checkbox\"> failing only</label>\n"
        s += "<span class=\"shown\"><span id=\"shown-count\">\(report.summaries.count)</span> of <span id=\"total-count\">\(report.summaries.count)</span> shown</span>\n</div>\n"
        let columns = report.targets.count + 3
        s += "<table id=\"artifact-table\">\n<thead><tr><th>artifact</th><th>kind</th>"
            + report.targets.map { "<th>\(e($0.name))</th>" }.joined() + "<th>findings</th></tr></thead>\n<tbody>\n"
        let targetIndex = Dictionary(uniqueKeysWithValues: report.targets.enumerated().map { ($1.name, $0) })
        let summaries = report.summaries
        // Groups: the archive, or the folder of a file on disk; the worst group first.
        var groups: [String: [Int]] = [:]
        for (i, a) in summaries.enumerated() { groups[TextRenderer.group(a), default: []].append(i) }
        let ordered = groups.sorted { l, r in
            let lw = l.value.map { summaries[$0].worst }.max()!, rw = r.value.map { summaries[$0].worst }.max()!
            return lw != rw ? lw > rw : l.key < r.key
        }
        var strings = StringTable()
        var details: [String] = []
        var row = 0
        for (g, (name, members)) in ordered.enumerated() {
            let isArchive = summaries[members[0]].archive != nil
            s += "<tr class=\"group\" data-group=\"\(g)\"><th colspan=\"\(columns)\">■ \(e(name))\(isArchive ? "" : "/")"
                + " <span class=\"hint\">\(members.count) artifact\(members.count == 1 ? "" : "s")</span></th></tr>\n"
            let sorted = members.sorted {
                summaries[$0].worst != summaries[$1].worst ? summaries[$0].worst > summaries[$1].worst : summaries[$0].path < summaries[$1].path
            }
            for i in sorted {
                let a = try report.artifact(at: i)
                var attrs = "class=\"artifact\" data-group=\"\(g)\" data-path=\"\(e(a.path))\" data-worst=\"\(a.worstVerdict.rawValue)\" data-failing=\"\(failing.contains(a.path) ? 1 : 0)\""
                attrs += " data-verdicts=\"" + a.verdicts.map(\.verdict.rawValue).joined(separator: " ") + "\""
                for v in a.verdicts { if let t = targetIndex[v.target] { attrs += " data-t\(t)=\"\(v.verdict.rawValue)\"" } }
                s += "<tr \(attrs)>\n<td class=\"path\"><button class=\"toggle\" type=\"button\" aria-expanded=\"false\" aria-controls=\"d\(row)\" data-detail=\"\(row)\">"
                    + "<code>\(e(TextRenderer.relative(a.path, group: name)))</code></button></td>\n<td>\(e(a.kind.rawValue))</td>\n"
                for t in report.targets {
                    if let v = a.verdicts.first(where: { $0.target == t.name }) {
                        var extra = ""
                        if let p = v.loaderProbe {
                            let by = a.kind == .staticExecutable ? "started in the image" : "musl's loader in the image"
                            extra += "<span class=\"probe probe-\(e(p))\" title=\"\(by)\">\(e(p))</span>"
                        }
                        if let x = v.excused { extra += "<span class=\"excused\" title=\"\(e(x))\">excused</span>" }
                        s += "<td class=\"v v-\(v.verdict.rawValue)\">\(Self.symbol(v.verdict)) \(v.verdict.rawValue)\(extra)</td>\n"
                    } else {
                        s += "<td></td>\n"
                    }
                }
                s += "<td>\(findingsCell(a))</td>\n</tr>\n"
                s += "<tr class=\"detail\" id=\"d\(row)\" data-group=\"\(g)\" hidden><td colspan=\"\(columns)\"><div class=\"detail\"></div></td></tr>\n"
                details.append(detailData(a, strings: &strings))
                row += 1
            }
        }
        s += "</tbody>\n</table>\n</section>\n"
        // The details and their strings, as JSON the script reads ("</" kept out of the script).
        var data = "{\"readme\":" + (readme.map(Self.jsonString) ?? "null") + ",\n\"strings\":["
            + strings.strings.map(Self.jsonString).joined(separator: ",") + "],\n\"details\":[\n"
        data += details.joined(separator: ",\n") + "]}"
        // jsonString writes <, > and & as \u003c, \u003e and \u0026: no text can end or
        // change the script element it stands in.
        s += "<script type=\"application/json\" id=\"report-data\">\n\(data)\n</script>\n"
        return s
    }

    /// The findings column: how many of each severity. Where gcompat is what the artifact needs,
    /// the errors it fixes are said to be fixed by it, not shown as failures.
    func findingsCell(_ a: ArtifactAnalysis) -> String {
        let errors = a.findings.filter { $0.severity == .error }.count
        let warnings = a.findings.filter { $0.severity == .warning }.count
        let notes = a.findings.count - errors - warnings
        let gcompatFixes = a.worstVerdict == .needsGcompat
        var parts: [String] = []
        if errors > 0 {
            let text = "\(errors) error\(errors == 1 ? "" : "s")"
            parts.append(gcompatFixes ? "<span class=\"sev-warning\" title=\"gcompat fixes them\">\(text), gcompat fixes</span>"
                                      : "<span class=\"sev-error\">\(text)</span>")
        }
        if warnings > 0 { parts.append("<span class=\"sev-warning\">\(warnings) warning\(warnings == 1 ? "" : "s")</span>") }
        if notes > 0 { parts.append("\(notes) note\(notes == 1 ? "" : "s")") }
        return parts.joined(separator: ", ")
    }

    /// One artifact's details as JSON, every string a number into the table:
    /// [facts: [[label, value]...], verdicts: [[target, verdict, probe, excused, [messages], [[name, path, source, package]...]]...],
    ///  findings: [[severity, id, rule, target, message, detail, fix]...]] (-1 for none).
    func detailData(_ a: ArtifactAnalysis, strings: inout StringTable) -> String {
        // The artifact's own path, which most of its messages name, is stored as U+0001 and put
        // back by the script: "Error relocating \u{1}: __printf_chk: symbol not found" is then
        // one string for every artifact that lacks __printf_chk.
        func n(_ s: String?) -> String {
            guard let s else { return "-1" }
            return String(strings.id(Self.replacing(a.path, in: s) ?? s))
        }
        var facts: [(String, String)] = [("kind", a.kind.rawValue), ("machine", a.machine), ("linkage", a.linkage), ("built for", a.libc.rawValue)]
        if let i = a.interpreter { facts.append(("interpreter", i)) }
        if !a.needed.isEmpty { facts.append(("needed", a.needed.joined(separator: ", "))) }
        if let so = a.soname { facts.append(("soname", so)) }
        if !a.highestVersions.isEmpty {
            facts.append(("highest versions", a.highestVersions.sorted { $0.key < $1.key }.map { "\($0.key)_\($0.value)" }.joined(separator: ", ")))
        }
        if let m = a.manylinux { facts.append(("manylinux", m)) }
        if let by = a.loadedBy { facts.append(("judged as loaded by", by)) }
        let f = "[" + facts.map { "[\(n($0.0)),\(n($0.1))]" }.joined(separator: ",") + "]"
        let v = "[" + a.verdicts.map { v in
            "[\(n(v.target)),\(n(v.verdict.rawValue)),\(n(v.loaderProbe)),\(n(v.excused)),["
                + v.loaderMessages.map { n($0) }.joined(separator: ",") + "],["
                + v.loaded.map { "[\(n($0.name)),\(n($0.path)),\(n($0.source)),\(n($0.package))]" }.joined(separator: ",") + "]]"
        }.joined(separator: ",") + "]"
        let sorted = a.findings.sorted { $0.severity != $1.severity ? $0.severity > $1.severity : $0.id < $1.id }
        let x = "[" + sorted.map { f in
            "[\(n(f.severity.rawValue)),\(n(f.id)),\(n(f.rule)),\(n(f.target)),\(n(f.message)),\(n(f.detail)),\(n(f.fix))]"
        }.joined(separator: ",") + "]"
        return "[\(f),\(v),\(x)]"
    }

    /// `s` with every `path` in it written as U+0001, or nil when `path` is not in it (a byte
    /// search: UTF-8 is self-synchronising, so a match is always a whole path).
    static func replacing(_ path: String, in s: String) -> String? {
        let needle = Array(path.utf8)
        guard !needle.isEmpty, s.utf8.count >= needle.count else { return nil }
        var hay = s
        return hay.withUTF8 { bytes -> String? in
            var out: [UInt8] = []
            var i = 0, from = 0
            let first = needle[0], n = needle.count
            while i + n <= bytes.count {
                if bytes[i] == first && bytes[i..<(i + n)].elementsEqual(needle) {
                    out.append(contentsOf: bytes[from..<i])
                    out.append(1)
                    i += n
                    from = i
                } else {
                    i += 1
                }
            }
            guard from > 0 else { return nil }
            out.append(contentsOf: bytes[from...])
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// A JSON string literal.
    public static func jsonString(_ s: String) -> String {
        // Most strings (paths, messages, fixes) have nothing to escape: one pass over the bytes.
        let plain = s.utf8.allSatisfy { b in
            b >= 0x20 && b < 0x80 && b != UInt8(ascii: "\"") && b != UInt8(ascii: "\\") && b != UInt8(ascii: "<")
                && b != UInt8(ascii: ">") && b != UInt8(ascii: "&")
        }
        if plain { return "\"" + s + "\"" }
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 || u == "<" || u == ">" || u == "&" {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    func probes(_ images: [ImageProbeReport]) -> String {
        var s = "<section id=\"probes\">\n<h2>Probes</h2>\n"
        for r in images {
            var head = e(r.image)
            var facts: [String] = []
            if let os = r.osRelease { facts.append(os) }
            if let m = r.musl { facts.append("musl \(m)") }
            if let b = r.baseline { facts.append("baseline: \(b)") }
            if !facts.isEmpty { head += " <span class=\"hint\">(\(e(facts.joined(separator: ", "))))</span>" }
            s += "<div class=\"image\" data-image=\"\(e(r.image))\">\n<h3>\(head)</h3>\n"
            if let err = r.error { s += "<p class=\"sev-error\">\(e(err))</p>\n</div>\n"; continue }
            if !r.probes.isEmpty {
                // "ran" is not "same as glibc": each probe says whether the image differs from
                // glibc (the baseline's run, or glibc's known values), the differences first.
                let against = r.baseline ?? "glibc"
                s += "<table class=\"probes\"><thead><tr><th>probe</th><th>compared with \(e(against))</th><th>result</th></tr></thead><tbody>\n"
                for p in r.probes {
                    let differences = p.status == .ok ? r.differences(for: p, catalog: catalog) : []
                    let status: String
                    let cls: String
                    if p.status != .ok {
                        status = p.status.rawValue
                        cls = "status-\(p.status.rawValue)"
                    } else if differences.isEmpty {
                        status = "same as \(e(against))"
                        cls = "status-same"
                    } else {
                        status = "differs from \(e(against))"
                        cls = "status-differs"
                    }
                    var cell = ""
                    if p.status != .ok {
                        cell = e(p.error ?? "")
                    } else {
                        cell = differences.map { "<div class=\"differs\">\(e($0.text))</div>" }.joined()
                        let others = r.lines(for: p, catalog: catalog).filter { line in line.differs != true && !differences.contains { $0.text.hasPrefix(line.text.split(separator: ":").first.map(String.init) ?? "") } }
                        cell += others.map { "<div class=\"same\">\(e($0.text))</div>" }.joined()
                    }
                    s += "<tr class=\"probe-row \(cls)\" data-probe=\"\(e(p.id))\" data-differs=\"\(differences.count)\"><td title=\"\(e(p.title))\">\(e(p.id))</td><td class=\"pstatus\">\(status)</td><td>\(cell)</td></tr>\n"
                }
                s += "</tbody></table>\n"
            }
            if !r.loader.isEmpty {
                let n = r.loaderCounts
                s += "<p class=\"loader-summary\">Loader probe: <span class=\"loader-total\">\(r.loader.count)</span> artifacts, "
                    + "<span class=\"loader-confirmed\">\(n.confirmed)</span> confirmed, <span class=\"loader-contradicted\">\(n.contradicted)</span> contradicted, "
                    + "\(n.notChecked) not checked.</p>\n"
                for l in r.loader where l.agreement == .contradicted {
                    s += "<p class=\"sev-error\"><code>\(e(l.artifact))</code>: \(e(l.differences.joined(separator: "; ")))</p>\n"
                }
            }
            if !r.userProbes.isEmpty {
                s += "<ul class=\"user-probes\">\n"
                for u in r.userProbes {
                    s += "<li class=\"\(u.passed ? "pass" : "sev-error")\">\(u.passed ? "✓" : "✗") \(e(u.name))"
                        + (u.failures.isEmpty ? "" : ": " + e(u.failures.joined(separator: "; "))) + "</li>\n"
                }
                s += "</ul>\n"
            }
            for n in r.notes { s += "<p class=\"hint\">note: \(e(n))</p>\n" }
            s += "</div>\n"
        }
        return s + "</section>\n"
    }

    static func symbol(_ v: Verdict) -> String {
        switch v {
        case .incompatible: "✗"
        case .needsGcompat: "!"
        case .compatible, .nativeMusl, .static: "✓"
        case .notApplicable: "–"
        }
    }

    static let css = """
    :root { --red: #c62828; --yellow: #b26a00; --cyan: #00838f; --green: #2e7d32; --gray: #757575; --bg: #fafafa; }
    body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1400px; padding: 16px 24px; color: #212121; background: #fff; }
    h1 { margin: 0 0 4px; font-size: 22px; }
    h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #e0e0e0; padding-bottom: 4px; }
    h3 { font-size: 15px; margin: 16px 0 6px; }
    h4 { margin: 10px 0 4px; font-size: 13px; }
    code, pre { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; }
    pre.loader { background: #fff3f3; border-left: 3px solid var(--red); padding: 6px 8px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
    .result { display: inline-block; font-weight: 600; padding: 4px 10px; border-radius: 4px; margin: 6px 0; }
    .result.fail { background: #ffebee; color: var(--red); }
    .result.pass { background: #e8f5e9; color: var(--green); }
    .result.not-gated { background: #eeeeee; color: #424242; }
    .cards { display: flex; flex-wrap: wrap; gap: 8px; }
    .card { border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 12px; background: var(--bg); min-width: 90px; }
    .card .n { display: block; font-size: 20px; font-weight: 600; }
    .hint { color: var(--gray); font-size: 12px; }
    .v-incompatible { color: var(--red); fill: var(--red); }
    .v-needs-gcompat { color: var(--yellow); fill: #f9a825; }
    .v-compatible { color: var(--cyan); fill: #26a69a; }
    .v-native-musl { color: var(--green); fill: #66bb6a; }
    .v-static { color: var(--green); fill: #a5d6a7; }
    .v-not-applicable { color: var(--gray); fill: #bdbdbd; }
    svg text { fill: #212121; font-size: 12px; }
    svg text.barlabel { fill: #fff; font-weight: 600; pointer-events: none; }
    svg rect.bar { cursor: pointer; }
    svg rect.bar:hover { opacity: .8; }
    .filters { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; margin-bottom: 8px; }
    .filters .shown { color: var(--gray); }
    table { border-collapse: collapse; width: 100%; }
    th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid #eeeeee; }
    th { background: var(--bg); position: sticky; top: 0; }
    td.path { max-width: 640px; overflow-wrap: anywhere; }
    button.toggle { all: unset; cursor: pointer; }
    button.toggle::before { content: "▸ "; color: var(--gray); }
    button.toggle[aria-expanded="true"]::before { content: "▾ "; }
    button.toggle:focus-visible { outline: 2px solid #1565c0; }
    tr.group th { background: #f0f0f0; font-weight: 600; text-align: left; position: static; }
    tr.detail > td { background: #fcfcfc; padding: 4px 12px 10px; }
    .detail code, .detail dd { overflow-wrap: anywhere; }
    td.v { white-space: nowrap; font-weight: 600; }
    tr[data-failing="1"] td.path code { font-weight: 600; }
    details summary { cursor: pointer; }
    .detail { padding: 6px 0 6px 14px; border-left: 2px solid #e0e0e0; margin: 4px 0; font-weight: normal; overflow-wrap: anywhere; }
    .detail dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 6px; }
    .detail dt { color: var(--gray); }
    .detail dd { margin: 0; }
    .findings { padding-left: 18px; margin: 6px 0; }
    .findings li { margin-bottom: 6px; }
    .sev-error { color: var(--red); }
    .sev-warning { color: var(--yellow); }
    .findings li.sev-note { color: #424242; }
    .fix { color: #1b5e20; }
    .rule, .tgt, .detailtext { color: var(--gray); }
    .probe, .excused { font-size: 11px; font-weight: normal; margin-left: 6px; padding: 0 4px; border-radius: 3px; background: #e8f5e9; color: var(--green); }
    .probe-contradicted { background: #ffebee; color: var(--red); }
    .probe-not-run, .excused { background: #eeeeee; color: #424242; }
    .differs { font-weight: 600; color: var(--yellow); }
    .status-differs .pstatus { color: var(--yellow); font-weight: 600; }
    .status-same .pstatus { color: var(--green); }
    .same { color: var(--gray); }
    .user-probes .pass { color: var(--green); }
    footer { margin-top: 32px; color: var(--gray); font-size: 12px; }

    """

    static let script = """
    (function () {
      "use strict";
      var verdict = document.getElementById("filter-verdict");
      var target = document.getElementById("filter-target");
      var text = document.getElementById("filter-text");
      var failingOnly = document.getElementById("filter-failing");
      var shown = document.getElementById("shown-count");
      var rows = Array.prototype.slice.call(document.querySelectorAll("#artifact-table tbody tr.artifact"));
      var groups = Array.prototype.slice.call(document.querySelectorAll("#artifact-table tbody tr.group"));
      var dataNode = document.getElementById("report-data");
      var data = dataNode ? JSON.parse(dataNode.textContent) : { strings: [], details: [] };
      var current = "";
      // A string of the table, with the artifact's own path put back where it stands as U+0001.
      function str(i) { return i < 0 ? null : data.strings[i].split("\\u0001").join(current); }
      function el(tag, cls, content) {
        var node = document.createElement(tag);
        if (cls) node.className = cls;
        if (content !== undefined && content !== null) node.textContent = content;
        return node;
      }
      // An artifact's details, drawn the first time they are opened.
      function drawDetail(index, box, path) {
        var d = data.details[index];
        if (!d) return;
        current = path;
        var dl = el("dl");
        dl.appendChild(el("dt", null, "path"));
        dl.appendChild(el("dd", null, path));
        d[0].forEach(function (f) { dl.appendChild(el("dt", null, str(f[0]))); dl.appendChild(el("dd", null, str(f[1]))); });
        box.appendChild(dl);
        d[1].forEach(function (v) {
          var verdictName = str(v[1]);
          var head = el("h4", "v-" + verdictName, str(v[0]) + ": " + verdictName);
          if (v[2] >= 0) head.appendChild(document.createTextNode(" — " + str(v[2]) + " in the image"));
          if (v[3] >= 0) head.appendChild(document.createTextNode(" — excused (" + str(v[3]) + ")"));
          box.appendChild(head);
          if (v[4].length) box.appendChild(el("pre", "loader", v[4].map(str).join("\\n")));
          if (v[5].length) {
            var p = el("p", "loaded", "loads: ");
            v[5].forEach(function (l, i) {
              if (i) p.appendChild(document.createTextNode(" · "));
              var span = el("span", null, str(l[0]));
              span.title = str(l[1]) + " (" + str(l[2]) + (l[3] >= 0 ? ", apk " + str(l[3]) : "") + ")";
              p.appendChild(span);
            });
            box.appendChild(p);
          }
        });
        if (d[2].length) {
          var ul = el("ul", "findings");
          d[2].forEach(function (f) {
            var li = el("li", "sev-" + str(f[0]));
            var id = str(f[1]);
            var b = el("b");
            if (data.readme) { var a = el("a", null, id); a.href = data.readme + "#" + id.toLowerCase(); b.appendChild(a); } else { b.textContent = id; }
            li.appendChild(b);
            li.appendChild(document.createTextNode(" "));
            li.appendChild(el("span", "rule", str(f[2])));
            if (f[3] >= 0) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "tgt", "[" + str(f[3]) + "]")); }
            li.appendChild(el("br"));
            li.appendChild(el("code", null, str(f[4])));
            if (f[5] >= 0) { li.appendChild(el("br")); li.appendChild(el("span", "detailtext", str(f[5]))); }
            li.appendChild(el("br"));
            li.appendChild(el("span", "fix", "fix: " + str(f[6])));
            ul.appendChild(li);
          });
          box.appendChild(ul);
        }
      }
      function setOpen(button, open) {
        var row = document.getElementById(button.getAttribute("aria-controls"));
        if (!row) return;
        var box = row.querySelector("div.detail");
        if (open && !box.hasChildNodes()) drawDetail(Number(button.getAttribute("data-detail")), box, button.closest("tr").getAttribute("data-path"));
        button.setAttribute("aria-expanded", open ? "true" : "false");
        row.hidden = !open || button.closest("tr").hidden;
      }
      Array.prototype.forEach.call(document.querySelectorAll("button.toggle"), function (button) {
        button.addEventListener("click", function () { setOpen(button, button.getAttribute("aria-expanded") !== "true"); });
      });
      function targetIndex(name) {
        var options = target.options;
        for (var i = 0; i < options.length; i++) {
          if (options[i].getAttribute("data-name") === name || options[i].value === name) return options[i].value;
        }
        return "";
      }
      function apply(updateHash) {
        var v = verdict.value, t = target.value, q = text.value.toLowerCase(), f = failingOnly.checked, n = 0;
        var visibleGroups = {};
        rows.forEach(function (row) {
          var ok = true;
          if (t !== "") {
            var vt = row.getAttribute("data-t" + t);
            ok = vt !== null && (v === "" || vt === v);
          } else if (v !== "") {
            ok = row.getAttribute("data-verdicts").split(" ").indexOf(v) >= 0;
          }
          if (ok && q) ok = row.getAttribute("data-path").toLowerCase().indexOf(q) >= 0;
          if (ok && f) ok = row.getAttribute("data-failing") === "1";
          row.hidden = !ok;
          var button = row.querySelector("button.toggle");
          var detail = button && document.getElementById(button.getAttribute("aria-controls"));
          if (detail) detail.hidden = !ok || button.getAttribute("aria-expanded") !== "true";
          if (ok) { n++; visibleGroups[row.getAttribute("data-group")] = true; }
        });
        groups.forEach(function (g) { g.hidden = !visibleGroups[g.getAttribute("data-group")]; });
        shown.textContent = String(n);
        if (updateHash) {
          var parts = [];
          if (v) parts.push("verdict=" + encodeURIComponent(v));
          if (t !== "") parts.push("target=" + encodeURIComponent(target.options[target.selectedIndex].getAttribute("data-name")));
          if (q) parts.push("q=" + encodeURIComponent(q));
          if (f) parts.push("failing=1");
          try { history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search); } catch (e) {}
        }
      }
      function fromHash() {
        var params = {};
        location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
          if (!kv) return;
          var i = kv.indexOf("=");
          try {
            params[decodeURIComponent(i < 0 ? kv : kv.slice(0, i))] = decodeURIComponent(i < 0 ? "" : kv.slice(i + 1));
          } catch (e) { /* a malformed part of the address is left out */ }
        });
        verdict.value = params.verdict || "";
        if (verdict.value !== (params.verdict || "")) verdict.value = "";
        target.value = params.target ? targetIndex(params.target) : "";
        text.value = params.q || "";
        failingOnly.checked = params.failing === "1";
        apply(false);
        // #open=PATH opens that artifact's details (a link to one artifact).
        if (params.open) {
          rows.forEach(function (row) {
            if (row.getAttribute("data-path") === params.open) setOpen(row.querySelector("button.toggle"), true);
          });
        }
      }
      [verdict, target, failingOnly].forEach(function (el) { el.addEventListener("change", function () { apply(true); }); });
      text.addEventListener("input", function () { apply(true); });
      window.addEventListener("hashchange", fromHash);
      Array.prototype.forEach.call(document.querySelectorAll("svg rect.bar"), function (bar) {
        bar.addEventListener("click", function () {
          target.value = bar.getAttribute("data-target");
          verdict.value = bar.getAttribute("data-verdict");
          apply(true);
          document.getElementById("artifacts").scrollIntoView();
        });
      });
      fromHash();
    })();

    """
}
