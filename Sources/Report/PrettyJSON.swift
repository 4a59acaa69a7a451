import Compat

/// Writes an artifact's JSON with the bytes JSONEncoder gives it (pretty-printed, sorted keys,
/// slashes unescaped) at a given depth, an order of magnitude faster: a scan stores every
/// artifact this way, and the encoder was the largest cost after the analysis itself.
/// JSONStreamingTests compares the two on every fixture and on hostile strings.
struct PrettyJSON {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity n: Int = 4096) { bytes.reserveCapacity(n) }

    /// An object or array being written: its depth and how many members it has so far.
    struct Scope {
        let depth: Int
        var members = 0
    }

    @inline(__always)
    mutating func indent(_ depth: Int) {
        for _ in 0..<(depth * 2) { bytes.append(0x20) }
    }

    mutating func open(_ bracket: UInt8, depth: Int) -> Scope {
        bytes.append(bracket)
        return Scope(depth: depth)
    }

    /// Starts the next member: a key (objects) or nothing (arrays).
    mutating func member(_ scope: inout Scope, key: String? = nil) {
        if scope.members > 0 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(0x0a)
        indent(scope.depth + 1)
        if let key {
            string(key)
            bytes.append(contentsOf: [0x20, UInt8(ascii: ":"), 0x20])
        }
        scope.members += 1
    }

    mutating func close(_ scope: Scope, _ bracket: UInt8) {
        // The encoder leaves an empty container's blank line unindented.
        bytes.append(0x0a)
        if scope.members == 0 { bytes.append(0x0a) }
        indent(scope.depth)
        bytes.append(bracket)
    }

    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            var i = 0
            let n = utf8.count
            while i < n {
                // Eight bytes at a time while none of them needs escaping (most of a message).
                if i + 8 <= n, !Self.mayNeedEscape(UnsafeRawPointer(utf8.baseAddress! + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let b = utf8[i]
                i += 1
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<(i - 1)]))
                start = i
                bytes.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(b)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x0a: bytes.append(UInt8(ascii: "n"))
                case 0x0c: bytes.append(UInt8(ascii: "f"))
                case 0x0d: bytes.append(UInt8(ascii: "r"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// False when none of the eight bytes is a control character, '"' or '\\' (true may be a
    /// false alarm: the bytes are then looked at one by one).
    @inline(__always)
    static func mayNeedEscape(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let control = (w &- ones &* 0x20) & ~w & high
        let quote = w ^ (ones &* 0x22)
        let backslash = w ^ (ones &* 0x5c)
        return control | ((quote &- ones) & ~quote & high) | ((backslash &- ones) & ~backslash & high) != 0
    }

    // MARK: - Fields, in the encoder's (byte-wise sorted) key order

    mutating func field(_ scope: inout Scope, _ key: String, _ value: String) {
        member(&scope, key: key)
        string(value)
    }

    mutating func field(_ scope: inout Scope, _ key: String, _ value: String?) {
        guard let value else { return }
        field(&scope, key, value)
    }

    /// An array member: `element` writes each value at the depth it is given.
    mutating func field<T>(_ scope: inout Scope, _ key: String, array values: [T],
                           _ element: (inout PrettyJSON, T, Int) -> Void) {
        member(&scope, key: key)
        var array = open(UInt8(ascii: "["), depth: scope.depth + 1)
        for v in values {
            member(&array)
            element(&self, v, scope.depth + 2)
        }
        close(array, UInt8(ascii: "]"))
    }

    mutating func field(_ scope: inout Scope, _ key: String, strings: [String]) {
        field(&scope, key, array: strings) { json, s, _ in json.string(s) }
    }

    mutating func field(_ scope: inout Scope, _ key: String, dictionary: [String: String]) {
        member(&scope, key: key)
        var object = open(UInt8(ascii: "{"), depth: scope.depth + 1)
        for (k, v) in dictionary.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            field(&object, k, v)
        }
        close(object, UInt8(ascii: "}"))
    }

    // MARK: - The report's artifact

    mutating func artifact(_ a: ArtifactAnalysis, depth: Int) {
        var o = open(UInt8(ascii: "{"), depth: depth)
        field(&o, "archive", a.archive)
        field(&o, "findings", array: a.findings) { json, f, d in json.finding(f, depth: d) }
        field(&o, "highestVersions", dictionary: a.highestVersions)
        field(&o, "interpreter", a.interpreter)
        field(&o, "kind", a.kind.rawValue)
        field(&o, "libc", a.libc.rawValue)
        field(&o, "linkage", a.linkage)
        field(&o, "loadedBy", a.loadedBy)
        field(&o, "machine", a.machine)
        field(&o, "manylinux", a.manylinux)
        field(&o, "needed", strings: a.needed)
        field(&o, "path", a.path)
        field(&o, "soname", a.soname)
        field(&o, "verdicts", array: a.verdicts) { json, v, d in json.verdict(v, depth: d) }
        close(o, UInt8(ascii: "}"))
    }

    mutating func finding(_ f: Finding, depth: Int) {
        var o = open(UInt8(ascii: "{"), depth: depth)
        field(&o, "artifact", f.artifact)
        field(&o, "detail", f.detail)
        field(&o, "fix", f.fix)
        field(&o, "id", f.id)
        field(&o, "message", f.message)
        field(&o, "object", f.object)
        field(&o, "rule", f.rule)
        field(&o, "severity", f.severity.rawValue)
        field(&o, "subject", f.subject)
        field(&o, "target", f.target)
        close(o, UInt8(ascii: "}"))
    }

    mutating func verdict(_ v: TargetVerdict, depth: Int) {
        var o = open(UInt8(ascii: "{"), depth: depth)
        field(&o, "excused", v.excused)
        field(&o, "loaded", array: v.loaded) { json, l, d in
            var e = json.open(UInt8(ascii: "{"), depth: d)
            json.field(&e, "name", l.name)
            json.field(&e, "package", l.package)
            json.field(&e, "path", l.path)
            json.field(&e, "source", l.source)
            json.close(e, UInt8(ascii: "}"))
        }
        field(&o, "loaderMessages", strings: v.loaderMessages)
        field(&o, "loaderProbe", v.loaderProbe)
        field(&o, "target", v.target)
        field(&o, "verdict", v.verdict.rawValue)
        close(o, UInt8(ascii: "}"))
    }
}
