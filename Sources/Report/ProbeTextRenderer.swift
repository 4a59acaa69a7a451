import Foundation
import Probes

/// Probe results for a person: per image, each probe's values (or the baseline next to them),
/// the loader probe's agreement, and user probes.
public struct ProbeTextRenderer {
    public var color: Bool
    public init(color: Bool) { self.color = color }

    func paint(_ s: String, _ code: String) -> String { color ? "\u{1b}[\(code)m\(s)\u{1b}[0m" : s }

    public func render(_ reports: [ImageProbeReport], catalog: ProbeCatalog?) -> String {
        var out: [String] = []
        for r in reports {
            var head = paint("■ \(r.image)", "1")
            var facts: [String] = []
            if let os = r.osRelease { facts.append(os) }
            if let m = r.musl { facts.append("musl \(m)") }
            if let b = r.baseline { facts.append("baseline: \(b)") }
            if !facts.isEmpty { head += " (" + facts.joined(separator: ", ") + ")" }
            out.append(head)
            if let e = r.error {
                out.append("  " + paint("error:", "31") + " \(e)")
                out.append("")
                continue
            }
            for p in r.probes {
                let status = p.status == .ok ? paint("ok", "32") : paint(p.status.rawValue, p.status == .skipped ? "90" : "33")
                var line = "  " + p.id.padding(toLength: 14, withPad: " ", startingAt: 0) + " " + status
                if p.status != .ok, let e = p.error { line += "  " + e }
                out.append(line)
                guard p.status == .ok else { continue }
                for line in r.lines(for: p, catalog: catalog, allFields: true) {
                    switch line.differs {
                    case true?: out.append("      " + paint(line.text, "33"))
                    case false?: out.append("      " + paint(line.text + " (same)", "90"))
                    case nil: out.append("      " + line.text)
                    }
                }
            }
            if !r.loader.isEmpty {
                let n = r.loaderCounts
                out.append("  loader probe: \(r.loader.count) artifacts, \(n.confirmed) confirmed, "
                           + (n.contradicted > 0 ? paint("\(n.contradicted) contradicted", "31") : "0 contradicted")
                           + ", \(n.notChecked) not checked")
                for l in r.loader where l.agreement != .confirmed {
                    out.append("    " + (l.agreement == .contradicted ? paint("✗", "31") : paint("-", "90")) + " \(l.artifact)")
                    for d in l.differences { out.append("        \(d)") }
                    if let n = l.note { out.append("        \(n)") }
                }
                for l in r.loader where l.agreement == .confirmed {
                    // Static programs (started) and --exec-smoke: what the start printed.
                    if let e = l.execSmoke { out.append("    ✓ \(l.artifact): \(e.expected == "starts" ? "started" : e.expected) (\(e.firstLine.prefix(60)))") }
                }
            }
            if !r.userProbes.isEmpty {
                let passed = r.userProbes.filter(\.passed).count
                out.append("  user probes: \(passed) passed, \(r.userProbes.count - passed) failed")
                for u in r.userProbes {
                    out.append("    " + (u.passed ? paint("✓", "32") : paint("✗", "31")) + " \(u.name)")
                    for f in u.failures { out.append("        \(f)") }
                }
            }
            for n in r.notes { out.append("  note: \(n)") }
            out.append("")
        }
        return out.joined(separator: "\n")
    }
}
