import Compat
import ELF
import Foundation

/// SARIF 2.1.0 for code scanning: one rule per finding id (help text, a help URI into the
/// README), one result per finding (the same finding on several targets once), located at the
/// file relative to the directory muslcheck ran in or to the scanned root; an archive member is
/// located at its archive, the member named in the message.
public struct SARIFRenderer {
    public var rules: [CompatData.RuleSpec]
    /// The README's address; rules link to its anchors (#mc101).
    public var readme: String
    /// Relative artifact paths are relative to this directory (SRCROOT).
    public var workingDirectory: String

    public init(rules: [CompatData.RuleSpec], readme: String, workingDirectory: String) {
        self.rules = rules
        self.readme = readme
        self.workingDirectory = workingDirectory
    }

    /// The log's one run (`write` puts it in the log: $schema, runs, version).
    struct Run: Encodable {
        var tool: Tool
        var automationDetails: AutomationDetails
        var originalUriBaseIds: [String: ArtifactLocation]
        var results: [Result]
        var invocations: [Invocation]
        var columnKind = "unicodeCodePoints"
    }
    struct AutomationDetails: Encodable { var id: String }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name = "muslcheck"
        var version: String
        var semanticVersion: String
        var informationUri: String
        var rules: [Rule]
    }
    struct Text: Encodable { var text: String; var markdown: String? = nil }
    struct Rule: Encodable {
        var id: String
        var name: String
        var shortDescription: Text
        var fullDescription: Text
        var help: Text
        var helpUri: String
        var defaultConfiguration: Configuration
        var properties: RuleProperties
    }
    struct Configuration: Encodable { var level: String }
    struct RuleProperties: Encodable { var tags: [String]; var precision: String }
    struct ArtifactLocation: Encodable { var uri: String; var uriBaseId: String? = nil }
    struct Region: Encodable { var startLine: Int }
    struct PhysicalLocation: Encodable { var artifactLocation: ArtifactLocation; var region: Region }
    struct LogicalLocation: Encodable { var name: String; var kind: String }
    struct Location: Encodable {
        var physicalLocation: PhysicalLocation?
        var logicalLocations: [LogicalLocation]?
    }
    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Text
        var locations: [Location]
        var partialFingerprints: [String: String]
        var properties: ResultProperties
    }
    struct ResultProperties: Encodable {
        var artifact: String
        var member: String?
        var targets: [String]
        var subject: String?
        var fix: String
    }
    struct Invocation: Encodable {
        var executionSuccessful: Bool
        var toolExecutionNotifications: [Notification]
    }
    struct Notification: Encodable { var level: String; var message: Text }

    static func level(_ s: Severity) -> String {
        switch s {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }

    /// Where a display path lives: a base id and a relative URI, or an absolute file URI.
    struct Locator {
        var bases: [(id: String, root: String)]
        init(report: any ReportView, workingDirectory: String) {
            var bases: [(String, String)] = [("SRCROOT", Self.normalize(workingDirectory))]
            var n = 0
            for p in report.inputs.paths {
                let abs = Self.absolute(p, cwd: workingDirectory)
                var isDir: ObjCBool = false
                let root = FileManager.default.fileExists(atPath: abs, isDirectory: &isDir) && !isDir.boolValue
                    ? PathText.parent(abs) : abs
                if bases.contains(where: { root == $0.1 || root.hasPrefix($0.1 == "/" ? "/" : $0.1 + "/") }) { continue }
                n += 1
                bases.append(("ROOT\(n)", root))
            }
            self.bases = bases
        }
        static func normalize(_ p: String) -> String {
            // An absolute path with no "." or ".." part, no doubled or trailing slash, is already
            // what standardizing gives; only others go through URL.
            if p.hasPrefix("/"), p.count > 1, !p.hasSuffix("/"), !p.contains("//"),
               !p.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
                return p
            }
            return URL(fileURLWithPath: p).standardizedFileURL.path
        }
        static func absolute(_ p: String, cwd: String) -> String { normalize(p.hasPrefix("/") ? p : cwd + "/" + p) }

        func locate(_ path: String, cwd: String) -> ArtifactLocation {
            let abs = Self.absolute(path, cwd: cwd)
            for (id, root) in bases {
                let prefix = root == "/" ? "/" : root + "/"
                if abs.hasPrefix(prefix) { return ArtifactLocation(uri: Self.encode(String(abs.dropFirst(prefix.count))), uriBaseId: id) }
            }
            return ArtifactLocation(uri: "file://" + Self.encode(abs))
        }
        /// Bytes a URI path keeps as they are (RFC 3986's pchar and "/", without ";").
        static let plain: [Bool] = (0..<256).map { b in
            let c = UInt8(b)
            return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || "-._~!$&'()*+,=:@/".utf8.contains(c)
        }

        static func encode(_ p: String) -> String {
            if p.utf8.allSatisfy({ plain[Int($0)] }) { return p }
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: ";")
            return p.addingPercentEncoding(withAllowedCharacters: allowed) ?? p
        }
        var originalUriBaseIds: [String: ArtifactLocation] {
            Dictionary(uniqueKeysWithValues: bases.map { ($0.id, ArtifactLocation(uri: "file://" + Self.encode($0.root == "/" ? "/" : $0.root + "/"))) })
        }
    }

    /// The whole log in memory (for small reports and tests).
    public func render(_ report: any ReportView) throws -> Data {
        var all = Data()
        try write(report) { all.append($0) }
        return all
    }

    /// Writes the log piece by piece: results go out as they are written, never all at once.
    public func write(_ report: any ReportView, to emit: (Data) throws -> Void) throws {
        let index = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1.id, $0) })
        let anchor = { (id: String) in "\(readme)#\(id.lowercased())" }
        let sarifRules = rules.map { r in
            Rule(id: r.id, name: r.name, shortDescription: Text(text: r.title), fullDescription: Text(text: r.help),
                 help: Text(text: r.help, markdown: "**\(r.title)**\n\n\(r.help)\n\n[\(r.id) in the muslcheck README](\(anchor(r.id)))"),
                 helpUri: anchor(r.id), defaultConfiguration: Configuration(level: Self.level(r.severity)),
                 properties: RuleProperties(tags: ["musl", "portability", r.name], precision: "very-high"))
        }
        let locator = Locator(report: report, workingDirectory: workingDirectory)
        var results: [Result] = []
        // An artifact's findings share its file: located once.
        var located: [String: ArtifactLocation] = [:]
        func locate(_ file: String) -> ArtifactLocation {
            if let hit = located[file] { return hit }
            let l = locator.locate(file, cwd: workingDirectory)
            located[file] = l
            return l
        }

        func add(_ findings: [Finding]) {
            // One result per finding; the same on several targets once.
            var groups: [String: (Finding, [String])] = [:]
            var order: [String] = []
            for f in findings {
                let key = [f.id, f.artifact, f.subject ?? "", f.message].joined(separator: "\u{0}")
                if groups[key] == nil { order.append(key); groups[key] = (f, []) }
                if let t = f.target { groups[key]!.1.append(t) }
            }
            for key in order {
                let (f, targets) = groups[key]!
                var member: String? = nil
                var file = f.artifact
                if let bang = f.artifact.firstIndex(of: "!") {
                    file = String(f.artifact[..<bang])
                    member = String(f.artifact[f.artifact.index(after: bang)...])
                }
                var text = f.message
                if let member { text = "In \(member): " + text }
                if !targets.isEmpty { text += " [" + targets.joined(separator: ", ") + "]" }
                text += " Fix: " + f.fix
                let location: Location
                if f.findingID == .userProbeFailed {
                    location = Location(physicalLocation: nil, logicalLocations: [LogicalLocation(name: f.artifact, kind: "module")])
                } else {
                    location = Location(physicalLocation: PhysicalLocation(artifactLocation: locate(file),
                                                                          region: Region(startLine: 1)), logicalLocations: nil)
                }
                let hex = String(stableHash([f.id, f.artifact, f.subject ?? f.message].joined(separator: "\u{0}")), radix: 16)
                let fingerprint = String(repeating: "0", count: max(0, 16 - hex.count)) + hex
                results.append(Result(ruleId: f.id, ruleIndex: index[f.id] ?? -1, level: Self.level(f.severity),
                                      message: Text(text: text), locations: [location],
                                      partialFingerprints: ["muslcheckFinding/v1": fingerprint],
                                      properties: ResultProperties(artifact: f.artifact, member: member, targets: targets,
                                                                   subject: f.subject, fix: f.fix)))
            }
        }
        try report.forEachArtifact { add($0.findings) }
        add(report.problems)
        results.removeAll { $0.ruleIndex < 0 }

        var notifications = report.notes.map { Notification(level: "note", message: Text(text: $0)) }
        for p in report.probes { if let e = p.error { notifications.append(Notification(level: "error", message: Text(text: "\(p.image): \(e)"))) } }
        let id = "muslcheck/" + report.targets.map(\.name).joined(separator: ",") + (report.inputs.shard.map { "/shard-" + $0.replacingOccurrences(of: "/", with: "-of-") } ?? "") + "/"
        let run = Run(tool: Tool(driver: Driver(version: report.tool.version, semanticVersion: report.tool.version, informationUri: readme, rules: sarifRules)),
                      automationDetails: AutomationDetails(id: id),
                      originalUriBaseIds: locator.originalUriBaseIds, results: results,
                      invocations: [Invocation(executionSuccessful: report.probes.allSatisfy { $0.error == nil },
                                               toolExecutionNotifications: notifications)])
        try Self.write(run, to: emit)
    }

    /// The log with the bytes JSONEncoder (pretty-printed, sorted keys) gives it: the results,
    /// one per finding, written directly; the rest through the encoder.
    static func write(_ run: Run, to emit: (Data) throws -> Void) throws {
        var out = Data()
        func text(_ s: String) { out.append(contentsOf: s.utf8) }
        text("{\n  \"$schema\" : \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"runs\" : [\n    {\n")
        text("      \"automationDetails\" : ")
        out.append(try JSONRenderer.encoded(run.automationDetails, depth: 3))
        text(",\n      \"columnKind\" : ")
        out.append(try JSONRenderer.encoded(run.columnKind, depth: 3))
        text(",\n      \"invocations\" : ")
        out.append(try JSONRenderer.encoded(run.invocations, depth: 3))
        text(",\n      \"originalUriBaseIds\" : ")
        out.append(try JSONRenderer.encoded(run.originalUriBaseIds, depth: 3))
        text(",\n      \"results\" : ")
        try emit(out)
        out.removeAll(keepingCapacity: true)
        // The results, in pieces of about 1 MiB.
        var json = PrettyJSON(reservingCapacity: 1 << 20)
        var results = json.open(UInt8(ascii: "["), depth: 3)
        for r in run.results {
            json.member(&results)
            json.sarifResult(r, depth: 4)
            if json.count >= 1 << 20 {
                try json.withBytes { try emit(Data($0)) }
                json.removeAll()
            }
        }
        json.close(results, UInt8(ascii: "]"))
        try json.withBytes { try emit(Data($0)) }
        text(",\n      \"tool\" : ")
        out.append(try JSONRenderer.encoded(run.tool, depth: 3))
        text("\n    }\n  ],\n  \"version\" : \"2.1.0\"\n}\n")
        try emit(out)
    }
}

extension PrettyJSON {
    /// One SARIF result, its keys in the encoder's order.
    mutating func sarifResult(_ r: SARIFRenderer.Result, depth: Int) {
        var o = open(UInt8(ascii: "{"), depth: depth)
        field(&o, "level", r.level)
        field(&o, "locations", array: r.locations) { json, l, d in
            var lo = json.open(UInt8(ascii: "{"), depth: d)
            if let logical = l.logicalLocations {
                json.field(&lo, "logicalLocations", array: logical) { json, x, d in
                    var e = json.open(UInt8(ascii: "{"), depth: d)
                    json.field(&e, "kind", x.kind)
                    json.field(&e, "name", x.name)
                    json.close(e, UInt8(ascii: "}"))
                }
            }
            if let p = l.physicalLocation {
                json.member(&lo, key: "physicalLocation")
                var po = json.open(UInt8(ascii: "{"), depth: d + 1)
                json.member(&po, key: "artifactLocation")
                var a = json.open(UInt8(ascii: "{"), depth: d + 2)
                json.field(&a, "uri", p.artifactLocation.uri)
                json.field(&a, "uriBaseId", p.artifactLocation.uriBaseId)
                json.close(a, UInt8(ascii: "}"))
                json.member(&po, key: "region")
                var rg = json.open(UInt8(ascii: "{"), depth: d + 2)
                json.field(&rg, "startLine", integer: p.region.startLine)
                json.close(rg, UInt8(ascii: "}"))
                json.close(po, UInt8(ascii: "}"))
            }
            json.close(lo, UInt8(ascii: "}"))
        }
        member(&o, key: "message")
        var m = open(UInt8(ascii: "{"), depth: depth + 1)
        field(&m, "markdown", r.message.markdown)
        field(&m, "text", r.message.text)
        close(m, UInt8(ascii: "}"))
        field(&o, "partialFingerprints", dictionary: r.partialFingerprints)
        member(&o, key: "properties")
        var p = open(UInt8(ascii: "{"), depth: depth + 1)
        field(&p, "artifact", r.properties.artifact)
        field(&p, "fix", r.properties.fix)
        field(&p, "member", r.properties.member)
        field(&p, "subject", r.properties.subject)
        field(&p, "targets", strings: r.properties.targets)
        close(p, UInt8(ascii: "}"))
        field(&o, "ruleId", r.ruleId)
        field(&o, "ruleIndex", integer: r.ruleIndex)
        close(o, UInt8(ascii: "}"))
    }
}
