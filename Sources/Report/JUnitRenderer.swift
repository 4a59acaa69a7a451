import Compat
import Foundation
import Probes

/// JUnit XML: a testsuite per target with a testcase per artifact (a failure when its verdict
/// fails the gate, carrying the loader's messages), a testsuite per probed image with a
/// testcase per probe, per loader-probe artifact and per user probe, and one for problems.
public struct JUnitRenderer {
    public init() {}

    struct Case {
        var classname: String
        var name: String
        /// (type, message, body)
        var failure: (String, String, String)?
        var skipped: String?
        var output: String?
    }

    public func render(_ report: any ReportView) throws -> String {
        let gate = Gate(level: report.inputs.failOn)
        var suites: [(name: String, properties: [(String, String)], cases: [Case])] = []

        let summaries = report.summaries
        for t in report.targets {
            var cases: [Case] = []
            for i in summaries.indices where summaries[i].verdicts[t.name] != nil {
                let a = try report.artifact(at: i)
                guard let v = a.verdicts.first(where: { $0.target == t.name }) else { continue }
                let findings = a.findings.filter { $0.target == t.name || $0.target == nil }
                var c = Case(classname: "muslcheck.\(t.name)", name: a.path)
                var out = "verdict: \(v.verdict.rawValue)"
                if let p = v.loaderProbe { out += " (\(p) by musl's loader)" }
                if let e = v.excused { out += " (excused: \(e))" }
                out += "\nkind: \(a.kind.rawValue), built for \(a.libc.rawValue)"
                for m in v.loaderMessages { out += "\n\(m)" }
                for f in findings { out += "\n\(f.id) \(f.severity.rawValue): \(f.message)\n  fix: \(f.fix)" }
                c.output = out
                if v.verdict == .notApplicable {
                    c.skipped = findings.first(where: { $0.id == FindingID.notApplicable.rawValue })?.message ?? "not a file this target runs"
                } else if gate.fails(v.verdict, target: t.name, summary: summaries[i]) && v.excused == nil {
                    let first = v.loaderMessages.first ?? findings.first(where: { $0.severity == .error })?.message ?? v.verdict.rawValue
                    var body = v.loaderMessages.joined(separator: "\n")
                    for f in findings where f.severity >= .warning { body += (body.isEmpty ? "" : "\n") + "\(f.id): \(f.message)\nfix: \(f.fix)" }
                    c.failure = (v.verdict.rawValue, first, body)
                } else if let contradiction = findings.first(where: { $0.id == FindingID.loaderProbeContradiction.rawValue && $0.target == t.name }) {
                    c.failure = (contradiction.id, contradiction.message, contradiction.fix)
                }
                cases.append(c)
            }
            var props = [("kind", t.kind), ("gcompat", t.gcompat ? "yes" : "no")]
            if let m = t.musl { props.append(("musl", m)) }
            if let id = t.imageID { props.append(("imageID", id)) }
            if let d = t.digest { props.append(("digest", d)) }
            suites.append((t.name, props, cases))
        }

        for r in report.probes {
            var cases: [Case] = []
            let cls = "muslcheck.probes.\(r.image)"
            if let e = r.error {
                cases.append(Case(classname: cls, name: "run", failure: ("engine", e, e)))
            }
            let byProbe = Dictionary(grouping: r.comparisons, by: \.probe)
            for p in r.probes {
                var c = Case(classname: cls, name: "probe \(p.id)")
                var out = p.title
                if let comparisons = byProbe[p.id] { for x in comparisons { out += "\n" + x.text } }
                for k in p.values.keys.sorted() { out += "\n\(k) = \(ProbeRunner.format(p.values[k], unit: nil))" }
                c.output = out
                switch p.status {
                case .ok: break
                case .skipped: c.skipped = p.error ?? "skipped"
                default: c.failure = (p.status.rawValue, p.error ?? p.status.rawValue, p.error ?? "")
                }
                cases.append(c)
            }
            for l in r.loader {
                var c = Case(classname: "muslcheck.loader.\(r.image)", name: l.artifact)
                var out = "\(l.agreement.rawValue)"
                if let listing = l.listing {
                    out += " (loader exit \(listing.status))"
                    for x in listing.loaded { out += "\n" + x }
                    for x in listing.missingLibraries { out += "\nmissing library: " + x }
                    for x in listing.missingSymbols { out += "\nmissing symbol: " + x }
                    for x in listing.unsupportedRelocations + listing.otherErrors { out += "\n" + x }
                }
                c.output = out
                switch l.agreement {
                case .confirmed: break
                case .notRun: c.skipped = l.note ?? "not run"
                case .contradicted:
                    c.failure = (FindingID.loaderProbeContradiction.rawValue, l.differences.first ?? "contradicted", l.differences.joined(separator: "\n"))
                }
                cases.append(c)
            }
            for u in r.userProbes {
                var c = Case(classname: "muslcheck.user.\(r.image)", name: u.name)
                c.output = "status: \(u.status)" + (u.exitCode.map { ", exit \($0)" } ?? "") + "\nstdout:\n\(u.stdout)\nstderr:\n\(u.stderr)"
                if !u.passed { c.failure = (FindingID.userProbeFailed.rawValue, u.failures.first ?? "failed", u.failures.joined(separator: "\n")) }
                cases.append(c)
            }
            var props: [(String, String)] = []
            if let m = r.musl { props.append(("musl", m)) }
            if let os = r.osRelease { props.append(("os", os)) }
            if let b = r.baseline { props.append(("baseline", b)) }
            suites.append(("probes: \(r.image)", props, cases))
        }

        if !report.problems.isEmpty {
            let cases = report.problems.map { p -> Case in
                var c = Case(classname: "muslcheck.problems", name: "\(p.id) \(p.artifact)")
                if gate.isGated && (p.severity == .error || Gate.failingProblems.contains(p.id)) {
                    c.failure = (p.id, p.message, p.fix)
                } else {
                    c.output = "\(p.severity.rawValue): \(p.message)\nfix: \(p.fix)"
                }
                return c
            }
            suites.append(("problems", [], cases))
        }

        let total = suites.reduce(0) { $0 + $1.cases.count }
        let failures = suites.reduce(0) { $0 + $1.cases.filter { $0.failure != nil }.count }
        let skipped = suites.reduce(0) { $0 + $1.cases.filter { $0.skipped != nil }.count }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites name=\"muslcheck\" tests=\"\(total)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\">\n"
        for s in suites {
            let f = s.cases.filter { $0.failure != nil }.count
            let sk = s.cases.filter { $0.skipped != nil }.count
            x += "  <testsuite name=\"\(Self.attr(s.name))\" tests=\"\(s.cases.count)\" failures=\"\(f)\" errors=\"0\" skipped=\"\(sk)\">\n"
            if !s.properties.isEmpty {
                x += "    <properties>\n"
                for (k, v) in s.properties { x += "      <property name=\"\(Self.attr(k))\" value=\"\(Self.attr(v))\"/>\n" }
                x += "    </properties>\n"
            }
            for c in s.cases {
                x += "    <testcase classname=\"\(Self.attr(c.classname))\" name=\"\(Self.attr(c.name))\""
                if c.failure == nil && c.skipped == nil && c.output == nil { x += "/>\n"; continue }
                x += ">\n"
                if let (type, message, body) = c.failure {
                    x += "      <failure type=\"\(Self.attr(type))\" message=\"\(Self.attr(message))\">\(Self.text(body))</failure>\n"
                }
                if let why = c.skipped { x += "      <skipped message=\"\(Self.attr(why))\"/>\n" }
                if let out = c.output { x += "      <system-out>\(Self.text(out))</system-out>\n" }
                x += "    </testcase>\n"
            }
            x += "  </testsuite>\n"
        }
        x += "</testsuites>\n"
        return x
    }

    static func text(_ s: String) -> String { Markup.escape(s) }

    static func attr(_ s: String) -> String {
        guard Markup.needsWork(s, special: "&<>\"\n\r\t") else { return s }
        return text(s).replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "\n", with: "&#10;")
            .replacingOccurrences(of: "\r", with: "&#13;").replacingOccurrences(of: "\t", with: "&#9;")
    }
}
