import Foundation
import Policy
import Yams

/// A problem in a configuration file, with its line.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var file: String
    public var line: Int?
    public var message: String
    public var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(message)" }
}

/// muslcheck.yml. Every key is optional; command-line flags override them.
public struct MuslcheckConfig: Sendable, Hashable {
    public var paths: [String]?
    public var targets: [String]?
    public var images: [String]?
    public var sysroots: [String]?
    /// Built-in probes to run (ids from `muslcheck probe --list`).
    public var probes: [String]?
    public var userProbes: [UserProbe] = []
    public var ignores: [IgnoreRule] = []
    public var failOn: FailLevel?
    public var baselineImage: String?
    public var execSmoke: Bool?
    public var libraryPath: [String]?

    public init() {}

    public static let keys = ["paths", "targets", "images", "sysroots", "probes", "userProbes", "ignores", "failOn",
                              "baselineImage", "execSmoke", "libraryPath"]
    static let probeKeys = ["name", "command", "args", "env", "setup", "exitCode", "stdout", "stdoutExcludes", "stderr",
                            "stderrExcludes", "timeout"]
    static let ignoreKeys = ["id", "path", "reason"]

    /// Reads muslcheck.yml; unknown keys and wrong types are errors that name their line.
    public static func load(_ path: String) throws -> MuslcheckConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, message: "cannot read the file")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> MuslcheckConfig {
        let reader = NodeReader(file: file)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw ConfigError(file: file, line: reader.line(of: e), message: "not valid YAML: \(e)")
        }
        var config = MuslcheckConfig()
        guard let root else { return config }
        for (key, value) in try reader.pairs(root, what: "the file", allowed: keys) {
            switch key {
            case "paths": config.paths = try reader.strings(value, what: key)
            case "targets": config.targets = try reader.strings(value, what: key)
            case "images": config.images = try reader.strings(value, what: key)
            case "sysroots": config.sysroots = try reader.strings(value, what: key)
            case "probes": config.probes = try reader.strings(value, what: key)
            case "libraryPath": config.libraryPath = try reader.strings(value, what: key)
            case "failOn":
                let v = try reader.string(value, what: key)
                guard let level = FailLevel(rawValue: v) else {
                    throw reader.error(value, "failOn must be \(FailLevel.spelled), not '\(v)'")
                }
                config.failOn = level
            case "baselineImage": config.baselineImage = try reader.string(value, what: key)
            case "execSmoke": config.execSmoke = try reader.bool(value, what: key)
            case "userProbes":
                for item in try reader.sequence(value, what: key) { config.userProbes.append(try userProbe(item, reader: reader)) }
            case "ignores":
                for item in try reader.sequence(value, what: key) {
                    let m = try reader.mapping(item, what: "an ignore", allowed: ignoreKeys)
                    guard let id = m["id"], let path = m["path"], let reason = m["reason"] else {
                        throw reader.error(item, "an ignore needs id, path and reason")
                    }
                    config.ignores.append(IgnoreRule(id: try reader.string(id, what: "id"), path: try reader.string(path, what: "path"),
                                                     reason: try reader.string(reason, what: "reason")))
                }
            default: break
            }
        }
        return config
    }

    static func userProbe(_ node: Node, reader: NodeReader) throws -> UserProbe {
        let m = try reader.mapping(node, what: "a user probe", allowed: probeKeys)
        guard let name = m["name"], let command = m["command"] else { throw reader.error(node, "a user probe needs name and command") }
        var p = UserProbe(name: try reader.string(name, what: "name"), command: try reader.string(command, what: "command"))
        if let v = m["args"] { p.args = try reader.strings(v, what: "args") }
        if let v = m["env"] { p.env = try reader.stringMap(v, what: "env") }
        if let v = m["setup"] { p.setup = try reader.sequence(v, what: "setup").map { try reader.strings($0, what: "setup") } }
        if let v = m["exitCode"] { p.exitCode = try reader.int(v, what: "exitCode") }
        if let v = m["stdout"] { p.stdout = try reader.strings(v, what: "stdout") }
        if let v = m["stdoutExcludes"] { p.stdoutExcludes = try reader.strings(v, what: "stdoutExcludes") }
        if let v = m["stderr"] { p.stderr = try reader.strings(v, what: "stderr") }
        if let v = m["stderrExcludes"] { p.stderrExcludes = try reader.strings(v, what: "stderrExcludes") }
        if let v = m["timeout"] { p.timeout = Double(try reader.int(v, what: "timeout")) }
        if let problem = p.validate() { throw reader.error(node, problem) }
        return p
    }

    /// container-structure-test's YAML: its commandTests become user probes (other test kinds
    /// are not about musl and are skipped with a note).
    public static func loadContainerStructureTest(_ path: String) throws -> (probes: [UserProbe], skipped: [String]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(file: path, line: nil, message: "cannot read the file")
        }
        let reader = NodeReader(file: path)
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch let e as YamlError {
            throw ConfigError(file: path, line: reader.line(of: e), message: "not valid YAML: \(e)")
        }
        guard let root else { return ([], []) }
        let map = try reader.mapping(root, what: "the file", allowed: nil)
        var probes: [UserProbe] = []
        var skipped: [String] = []
        for key in map.keys.sorted() where key != "schemaVersion" && key != "commandTests" { skipped.append(key) }
        guard let tests = map["commandTests"] else { return ([], skipped) }
        let allowed = ["name", "command", "args", "envVars", "setup", "teardown", "expectedOutput", "excludedOutput",
                       "expectedError", "excludedError", "exitCode"]
        for item in try reader.sequence(tests, what: "commandTests") {
            let m = try reader.mapping(item, what: "a commandTest", allowed: allowed)
            guard let name = m["name"], let command = m["command"] else { throw reader.error(item, "a commandTest needs name and command") }
            var p = UserProbe(name: try reader.string(name, what: "name"), command: try reader.string(command, what: "command"))
            if let v = m["args"] { p.args = try reader.strings(v, what: "args") }
            if let v = m["envVars"] {
                for e in try reader.sequence(v, what: "envVars") {
                    let kv = try reader.mapping(e, what: "an envVar", allowed: ["key", "value"])
                    guard let k = kv["key"], let val = kv["value"] else { throw reader.error(e, "an envVar needs key and value") }
                    p.env[try reader.string(k, what: "key")] = try reader.string(val, what: "value")
                }
            }
            if let v = m["setup"] { p.setup = try reader.sequence(v, what: "setup").map { try reader.strings($0, what: "setup") } }
            if let v = m["expectedOutput"] { p.stdout = try reader.strings(v, what: "expectedOutput") }
            if let v = m["excludedOutput"] { p.stdoutExcludes = try reader.strings(v, what: "excludedOutput") }
            if let v = m["expectedError"] { p.stderr = try reader.strings(v, what: "expectedError") }
            if let v = m["excludedError"] { p.stderrExcludes = try reader.strings(v, what: "excludedError") }
            p.exitCode = try m["exitCode"].map { try reader.int($0, what: "exitCode") } ?? 0
            if let problem = p.validate() { throw reader.error(item, problem) }
            probes.append(p)
        }
        return (probes, skipped)
    }
}

/// Reads typed values out of Yams nodes, with errors that name the line.
struct NodeReader {
    let file: String

    func error(_ node: Node, _ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, message: message)
    }

    func line(of e: YamlError) -> Int? {
        switch e {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    /// A mapping's pairs in file order; keys not in `allowed` (nil: any) are errors naming their line.
    func pairs(_ node: Node, what: String, allowed: [String]?) throws -> [(String, Node)] {
        guard case .mapping(let m) = node else { throw error(node, "\(what) must be a mapping (key: value)") }
        var out: [(String, Node)] = []
        for (k, v) in m {
            guard case .scalar(let s) = k else { throw error(k, "keys must be plain words") }
            if let allowed, !allowed.contains(s.string) {
                throw error(k, "unknown key '\(s.string)' in \(what); known keys: \(allowed.joined(separator: ", "))")
            }
            out.append((s.string, v))
        }
        return out
    }

    func mapping(_ node: Node, what: String, allowed: [String]?) throws -> [String: Node] {
        Dictionary(try pairs(node, what: what, allowed: allowed), uniquingKeysWith: { _, b in b })
    }

    func sequence(_ node: Node, what: String) throws -> [Node] {
        guard case .sequence(let s) = node else { throw error(node, "\(what) must be a list") }
        return Array(s)
    }

    func string(_ node: Node, what: String) throws -> String {
        guard case .scalar(let s) = node else { throw error(node, "\(what) must be a single value") }
        return s.string
    }

    func strings(_ node: Node, what: String) throws -> [String] {
        if case .scalar(let s) = node { return [s.string] }
        return try sequence(node, what: what).map { try string($0, what: what) }
    }

    func int(_ node: Node, what: String) throws -> Int {
        guard let v = Int(try string(node, what: what)) else { throw error(node, "\(what) must be a whole number") }
        return v
    }

    func bool(_ node: Node, what: String) throws -> Bool {
        switch try string(node, what: what).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(node, "\(what) must be true or false")
        }
    }

    func stringMap(_ node: Node, what: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in try pairs(node, what: what, allowed: nil) { out[k] = try string(v, what: "\(what).\(k)") }
        return out
    }
}
