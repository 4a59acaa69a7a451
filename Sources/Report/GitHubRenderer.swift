import Compat
import Foundation

/// GitHub Actions workflow commands: an `::error` annotation per error finding of an artifact
/// that fails the run, a `::warning` per other error or warning (the same finding on several
/// targets once), at the file (an archive member at its archive), and a closing `::notice`
/// with the summary.
public struct GitHubRenderer {
    public init() {}

    public func render(_ report: any ReportView) throws -> String {
        var out = ""
        // An error annotation for what fails the run; what does not (an error on an artifact
        // below --fail-on) is a warning.
        let gate = Gate(level: report.inputs.failOn)
        let failing = Set(gate.failures(report).map(\.artifact))
        func emit(_ findings: [Finding]) {
            var groups: [String: (Finding, [String])] = [:]
            var order: [String] = []
            for f in findings where f.severity >= .warning {
                let key = [f.id, f.artifact, f.message].joined(separator: "\u{0}")
                if groups[key] == nil { order.append(key); groups[key] = (f, []) }
                if let t = f.target { groups[key]!.1.append(t) }
            }
            for key in order {
                let (f, targets) = groups[key]!
                var file = f.artifact
                var message = f.message
                if let bang = f.artifact.firstIndex(of: "!") {
                    file = String(f.artifact[..<bang])
                    message = "In \(f.artifact[f.artifact.index(after: bang)...]): " + message
                }
                if file.hasPrefix("./") { file.removeFirst(2) }
                let title = "\(f.id) \(f.rule)" + (targets.isEmpty ? "" : " on " + targets.joined(separator: ", "))
                let command = f.severity == .error && failing.contains(f.artifact) ? "error" : "warning"
                var props = f.findingID == .userProbeFailed ? "" : "file=\(Self.property(file)),line=1,"
                props += "title=\(Self.property(title))"
                out += "::\(command) \(props)::\(Self.data(message + "\nfix: " + f.fix))\n"
            }
        }
        try report.forEachArtifact { emit($0.findings) }
        emit(report.problems)
        for p in report.probes { if let e = p.error { out += "::error title=\(Self.property("muslcheck probes on \(p.image)"))::\(Self.data(e))\n" } }
        let text = TextRenderer(color: false)
        out += "::notice title=muslcheck::\(Self.data(text.summary(report) + "\n" + text.result(report)))\n"
        return out
    }

    /// A command's message: %, CR and LF escaped.
    static func data(_ s: String) -> String { escaped(s, property: false) }

    /// A command's property value: also ':' and ','.
    static func property(_ s: String) -> String { escaped(s, property: true) }

    /// One pass over the bytes; text with nothing to escape is returned as it is.
    static func escaped(_ s: String, property: Bool) -> String {
        func special(_ b: UInt8) -> Bool {
            b == UInt8(ascii: "%") || b == 0x0A || b == 0x0D || (property && (b == UInt8(ascii: ":") || b == UInt8(ascii: ",")))
        }
        guard s.utf8.contains(where: special) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 16)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "%"): out += Array("%25".utf8)
            case 0x0D: out += Array("%0D".utf8)
            case 0x0A: out += Array("%0A".utf8)
            case UInt8(ascii: ":") where property: out += Array("%3A".utf8)
            case UInt8(ascii: ",") where property: out += Array("%2C".utf8)
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
