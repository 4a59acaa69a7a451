import Compat

/// Writes an artifact's JSON with the bytes JSONEncoder gives it (pretty-printed, sorted keys,
/// slashes unescaped) at a given depth, an order of magnitude faster: a scan stores every
/// artifact this way, and the encoder was the largest cost after the analysis itself.
/// JSONStreamingTests compares the two on every fixture and on hostile strings.
struct PrettyJSON: ~Copyable {
    /// The bytes so far, in a buffer grown by doubling: written a few bytes at a time, so each
    /// write is a bounds check and a copy, without an array's uniqueness and capacity checks.
    private var start: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(reservingCapacity n: Int = 4096) {
        capacity = max(64, n)
        start = .allocate(capacity: capacity)
    }

    deinit { start.deallocate() }

    /// The bytes written.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }

    /// Forgets the bytes written (they were handed on), keeping the buffer.
    mutating func removeAll() { count = 0 }

    /// The bytes written, without a copy (valid inside `body` only).
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: start, count: count))
    }

    @inline(__always)
    private mutating func reserve(_ n: Int) {
        if count + n <= capacity { return }
        var c = capacity * 2
        while c < count + n { c *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        bigger.update(from: start, count: count)
        start.deallocate()
        start = bigger
        capacity = c
    }

    @inline(__always)
    private mutating func put(_ b: UInt8) {
        reserve(1)
        start[count] = b
        count += 1
    }

    @inline(__always)
    private mutating func put(_ p: UnsafeRawBufferPointer) {
        guard let base = p.baseAddress, p.count > 0 else { return }
        reserve(p.count)
        (start + count).update(from: base.assumingMemoryBound(to: UInt8.self), count: p.count)
        count += p.count
    }

    /// An object or array being written: its depth and how many members it has so far.
    struct Scope {
        let depth: Int
        var members = 0
    }

    @inline(__always)
    mutating func indent(_ depth: Int) {
        let n = depth * 2
        reserve(n)
        (start + count).initialize(repeating: 0x20, count: n)
        count += n
    }

    mutating func open(_ bracket: UInt8, depth: Int) -> Scope {
        put(bracket)
        return Scope(depth: depth)
    }

    /// Starts the next member: a key (objects) or nothing (arrays).
    mutating func member(_ scope: inout Scope, key: String? = nil) {
        if scope.members > 0 { put(UInt8(ascii: ",")) }
        put(0x0a)
        indent(scope.depth + 1)
        if let key {
            string(key)
            colon()
        }
        scope.members += 1
    }

    @inline(__always)
    private mutating func colon() {
        reserve(3)
        start[count] = 0x20
        start[count + 1] = UInt8(ascii: ":")
        start[count + 2] = 0x20
        count += 3
    }

    /// Starts the next member of an object under a key written in the source: plain ASCII with
    /// nothing to escape, so its bytes are copied as they are.
    mutating func member(_ scope: inout Scope, key: StaticString) {
        if scope.members > 0 { put(UInt8(ascii: ",")) }
        put(0x0a)
        indent(scope.depth + 1)
        put(UInt8(ascii: "\""))
        key.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
        put(UInt8(ascii: "\""))
        colon()
        scope.members += 1
    }

    mutating func close(_ scope: Scope, _ bracket: UInt8) {
        // The encoder leaves an empty container's blank line unindented.
        put(0x0a)
        if scope.members == 0 { put(0x0a) }
        indent(scope.depth)
        put(bracket)
    }

    mutating func string(_ s: String) {
        put(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var from = 0
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
                put(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[from..<(i - 1)])))
                from = i
                put(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): put(b)
                case 0x08: put(UInt8(ascii: "b"))
                case 0x09: put(UInt8(ascii: "t"))
                case 0x0a: put(UInt8(ascii: "n"))
                case 0x0c: put(UInt8(ascii: "f"))
                case 0x0d: put(UInt8(ascii: "r"))
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    for c in [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]] { put(c) }
                }
            }
            put(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[from..<n])))
        }
        put(UInt8(ascii: "\""))
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

    mutating func field(_ scope: inout Scope, _ key: StaticString, _ value: String) {
        member(&scope, key: key)
        string(value)
    }

    mutating func field(_ scope: inout Scope, _ key: StaticString, integer value: Int) {
        member(&scope, key: key)
        for b in String(value).utf8 { put(b) }
    }

    mutating func field(_ scope: inout Scope, _ key: StaticString, _ value: String?) {
        guard let value else { return }
        field(&scope, key, value)
    }

    /// An array member: `element` writes each value at the depth it is given.
    mutating func field<T>(_ scope: inout Scope, _ key: StaticString, array values: [T],
                           _ element: (inout PrettyJSON, T, Int) -> Void) {
        member(&scope, key: key)
        var array = open(UInt8(ascii: "["), depth: scope.depth + 1)
        for v in values {
            member(&array)
            element(&self, v, scope.depth + 2)
        }
        close(array, UInt8(ascii: "]"))
    }

    mutating func field(_ scope: inout Scope, _ key: StaticString, strings: [String]) {
        field(&scope, key, array: strings) { json, s, _ in json.string(s) }
    }

    mutating func field(_ scope: inout Scope, _ key: StaticString, dictionary: [String: String]) {
        member(&scope, key: key)
        var object = open(UInt8(ascii: "{"), depth: scope.depth + 1)
        for (k, v) in dictionary.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            member(&object, key: k)
            string(v)
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
