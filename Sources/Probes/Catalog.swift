import Foundation

/// probes/<id>/manifest.json (documented in probes/README.md).
public struct ProbeManifest: Codable, Sendable, Hashable {
    public struct Library: Codable, Sendable, Hashable {
        public var output: String
        public var sources: [String]
        public var cflags: [String]
        public var ldflags: [String]?
        /// "probe": the probe's own compiler; "host": always the host's (a glibc-built library).
        public var toolchain: String
    }
    public struct Build: Codable, Sendable, Hashable {
        public var sources: [String]
        public var cflags: [String]
        public var ldflags: [String]
        public var libraries: [Library]
    }
    public struct Run: Codable, Sendable, Hashable {
        public var args: [String]
        public var env: [String: String]
        public var timeoutSeconds: Double
        /// Files mounted read-only into the container for the probe (path → content).
        public var files: [String: String]?
    }
    /// A value of a field: what the JSON line may carry.
    public enum Value: Codable, Sendable, Hashable, CustomStringConvertible {
        case null, bool(Bool), number(Double), string(String), array([Value]), object([String: Value])

        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([Value].self) { self = .array(a) }
            else { self = .object(try c.decode([String: Value].self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .null: try c.encodeNil()
            case .bool(let b): try c.encode(b)
            case .number(let n):
                if n == n.rounded(), abs(n) < 1e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
            case .string(let s): try c.encode(s)
            case .array(let a): try c.encode(a)
            case .object(let o): try c.encode(o)
            }
        }

        public var description: String {
            switch self {
            case .null: "null"
            case .bool(let b): b ? "yes" : "no"
            case .number(let n):
                n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : (abs(n) >= 100 ? String(format: "%.0f", n) : String(format: "%.2f", n))
            case .string(let s): "\"\(s)\""
            case .array(let a): "[" + a.map(\.description).joined(separator: ", ") + "]"
            case .object(let o): "{" + o.keys.sorted().map { "\($0): \(o[$0]!)" }.joined(separator: ", ") + "}"
            }
        }
    }
    public struct Field: Codable, Sendable, Hashable {
        public var name: String
        public var label: String
        public var unit: String?
        public var musl: Value?
        public var glibc: Value?
        public var describe: String
    }

    public var id: String
    public var title: String
    public var detects: String
    public var why: String
    public var build: Build
    public var run: Run
    public var read: String
    public var fields: [Field]
}

/// The probes in probes/: manifests and their folders.
public struct ProbeCatalog: Sendable {
    public let root: URL
    public let probes: [ProbeManifest]

    /// `muslcheck probe --list`: each probe's id and what it detects, the loader probe first.
    public func listing() -> String {
        (["loader".padding(toLength: 14, withPad: " ", startingAt: 0) + "musl's loader in list mode on each artifact (ld-musl-ARCH.so.1 --list FILE)"]
            + probes.map { $0.id.padding(toLength: 14, withPad: " ", startingAt: 0) + $0.detects }).joined(separator: "\n")
    }

    /// The catalog bundled with muslcheck (probes/ in the source tree), or MUSLCHECK_PROBES_DIR.
    public static func bundled() throws -> ProbeCatalog {
        if let dir = ProcessInfo.processInfo.environment["MUSLCHECK_PROBES_DIR"] {
            return try ProbeCatalog(root: URL(fileURLWithPath: dir))
        }
        guard let url = Bundle.module.url(forResource: "probes", withExtension: nil) else {
            throw ProbeError("the probe catalog (probes/) is missing beside the executable; reinstall muslcheck with its muslcheck_Probes.resources folder, or set MUSLCHECK_PROBES_DIR")
        }
        return try ProbeCatalog(root: url)
    }

    public init(root: URL) throws {
        self.root = root
        var found: [ProbeManifest] = []
        let dirs = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
        for dir in dirs {
            let manifest = root.appendingPathComponent(dir).appendingPathComponent("manifest.json")
            guard FileManager.default.fileExists(atPath: manifest.path) else { continue }
            do {
                let m = try JSONDecoder().decode(ProbeManifest.self, from: Data(contentsOf: manifest))
                guard m.id == dir else { throw ProbeError("\(manifest.path): id '\(m.id)' does not match its folder") }
                found.append(m)
            } catch let e as ProbeError {
                throw e
            } catch {
                throw ProbeError("\(manifest.path) is not a valid probe manifest: \(error)")
            }
        }
        probes = found
    }

    public func probe(_ id: String) -> ProbeManifest? { probes.first { $0.id == id } }

    /// The ids a user can ask for, the loader probe included.
    public var ids: [String] { ["loader"] + probes.map(\.id) }

    /// The sentence for ids that name no probe, or nil when all do.
    public func unknownProbes(_ selected: [String]) -> String? {
        let unknown = selected.filter { !ids.contains($0) }
        return unknown.isEmpty ? nil : "unknown probe \(unknown.joined(separator: ", ")); probes: \(ids.joined(separator: ", "))"
    }
}

public struct ProbeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
