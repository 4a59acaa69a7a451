import Compat
import Foundation

/// Reads a report's artifacts from JSON an order of magnitude faster than JSONDecoder: the
/// artifacts are most of a report, and `report` and every renderer of `check` read them all.
/// It takes any valid JSON (keys in any order, any whitespace, every escape) and gives exactly
/// what JSONDecoder gives; on anything else it throws, and the caller asks JSONDecoder for its
/// own error (ReportReaderTests compares the two on real and hostile reports).
struct JSONReader {
    struct Failure: Error {}

    let bytes: UnsafeRawBufferPointer
    var i = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inline(__always)
    mutating func skipSpace() {
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x20 || b == 0x0a || b == 0x0d || b == 0x09 else { return }
            i += 1
        }
    }

    @inline(__always)
    mutating func peek() throws -> UInt8 {
        skipSpace()
        guard i < bytes.count else { throw Failure() }
        return bytes[i]
    }

    @inline(__always)
    mutating func expect(_ c: UInt8) throws {
        guard try peek() == c else { throw Failure() }
        i += 1
    }

    /// A literal: true, false, null.
    mutating func word(_ w: StaticString) throws {
        let n = w.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw Failure() }
        for k in 0..<n where bytes[i + k] != w.utf8Start[k] { throw Failure() }
        i += n
    }

    /// Whether the next value is null (consumed if so).
    mutating func null() throws -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try word("null")
        return true
    }

    mutating func string() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = i
        var ascii = true
        // The common case: no escape before the closing quote.
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let text = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                i += 1
                // ASCII is valid UTF-8 as it is; anything else is checked: invalid UTF-8 fails,
                // as it does in JSONDecoder (which does not repair it).
                if ascii { return String(decoding: text, as: UTF8.self) }
                guard let s = String(validating: text, as: UTF8.self) else { throw Failure() }
                return s
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { break }
            ascii = ascii && b < 0x80
            i += 1
        }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\\") else { throw Failure() }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw Failure() }
                return s
            case UInt8(ascii: "\\"):
                guard i < bytes.count else { throw Failure() }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair: the low half must follow.
                        guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw Failure() }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Failure() }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw Failure()
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw Failure() }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw Failure()
                }
            default:
                guard b >= 0x20 else { throw Failure() }
                out.append(b)
            }
        }
        throw Failure()
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw Failure() }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            i += 1
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw Failure()
            }
            v = v << 4 | d
        }
        return v
    }

    mutating func optionalString() throws -> String? { try null() ? nil : try string() }

    /// Each key of an object, its value read by `body` (which must consume it).
    mutating func object(_ body: (inout JSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") { i += 1; return }
        while true {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
            let c = try peek()
            i += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw Failure() }
        }
    }

    /// Each element of an array, read by `body`.
    mutating func array(_ body: (inout JSONReader) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        if try peek() == UInt8(ascii: "]") { i += 1; return }
        while true {
            try body(&self)
            let c = try peek()
            i += 1
            if c == UInt8(ascii: "]") { return }
            guard c == UInt8(ascii: ",") else { throw Failure() }
        }
    }

    mutating func strings() throws -> [String] {
        var out: [String] = []
        try array { r in out.append(try r.string()) }
        return out
    }

    /// Any value, unread (a key this reader does not know: JSONDecoder ignores it too). Returns
    /// where it starts.
    @discardableResult
    mutating func skipValue() throws -> Int {
        let c = try peek()
        let start = i
        switch c {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"): try object { r, _ in try r.skipValue() }
        case UInt8(ascii: "["): try array { r in try r.skipValue() }
        case UInt8(ascii: "t"): try word("true")
        case UInt8(ascii: "f"): try word("false")
        case UInt8(ascii: "n"): try word("null")
        default:
            // A number.
            let from = i
            while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
            guard i > from else { throw Failure() }
        }
        return start
    }

    // MARK: - The report's types

    mutating func artifact() throws -> ArtifactAnalysis {
        var path: String?, archive: String?, kind: ArtifactKind?, machine: String?, linkage: String?, interpreter: String?
        var needed: [String]?, soname: String?, libc: BuiltFor?, highest: [String: String]?, manylinux: String?
        var verdicts: [TargetVerdict]?, findings: [Finding]?, loadedBy: String?
        try object { r, key in
            switch key {
            case "path": path = try r.string()
            case "archive": archive = try r.optionalString()
            case "kind": kind = ArtifactKind(rawValue: try r.string())
            case "machine": machine = try r.string()
            case "linkage": linkage = try r.string()
            case "interpreter": interpreter = try r.optionalString()
            case "needed": needed = try r.strings()
            case "soname": soname = try r.optionalString()
            case "libc": libc = BuiltFor(rawValue: try r.string())
            case "highestVersions":
                var d: [String: String] = [:]
                try r.object { r, k in d[k] = try r.string() }
                highest = d
            case "manylinux": manylinux = try r.optionalString()
            case "verdicts":
                var out: [TargetVerdict] = []
                try r.array { r in out.append(try r.verdict()) }
                verdicts = out
            case "findings":
                var out: [Finding] = []
                try r.array { r in out.append(try r.finding()) }
                findings = out
            case "loadedBy": loadedBy = try r.optionalString()
            default: try r.skipValue()
            }
        }
        guard let path, let kind, let machine, let linkage, let needed, let libc, let highest, let verdicts, let findings else { throw Failure() }
        return ArtifactAnalysis(path: path, archive: archive, kind: kind, machine: machine, linkage: linkage, interpreter: interpreter,
                                needed: needed, soname: soname, libc: libc, highestVersions: highest, manylinux: manylinux,
                                verdicts: verdicts, findings: findings, loadedBy: loadedBy)
    }

    mutating func verdict() throws -> TargetVerdict {
        var target: String?, verdict: Verdict?, loaded: [TargetVerdict.LoadedEntry]?, messages: [String]?
        var probe: String?, excused: String?
        try object { r, key in
            switch key {
            case "target": target = try r.string()
            case "verdict": verdict = Verdict(rawValue: try r.string())
            case "loaded":
                var out: [TargetVerdict.LoadedEntry] = []
                try r.array { r in
                    var name: String?, path: String?, source: String?, package: String?
                    try r.object { r, k in
                        switch k {
                        case "name": name = try r.string()
                        case "path": path = try r.string()
                        case "source": source = try r.string()
                        case "package": package = try r.optionalString()
                        default: try r.skipValue()
                        }
                    }
                    guard let name, let path, let source else { throw Failure() }
                    out.append(TargetVerdict.LoadedEntry(name: name, path: path, source: source, package: package))
                }
                loaded = out
            case "loaderMessages": messages = try r.strings()
            case "loaderProbe": probe = try r.optionalString()
            case "excused": excused = try r.optionalString()
            default: try r.skipValue()
            }
        }
        guard let target, let verdict, let loaded, let messages else { throw Failure() }
        return TargetVerdict(target: target, verdict: verdict, loaded: loaded, loaderMessages: messages, loaderProbe: probe, excused: excused)
    }

    mutating func finding() throws -> Finding {
        var id: String?, rule: String?, severity: Severity?, message: String?, subject: String?, fix: String?
        var artifact: String?, target: String?, object: String?, detail: String?
        try self.object { r, key in
            switch key {
            case "id": id = try r.string()
            case "rule": rule = try r.string()
            case "severity": severity = Severity(rawValue: try r.string())
            case "message": message = try r.string()
            case "subject": subject = try r.optionalString()
            case "fix": fix = try r.string()
            case "artifact": artifact = try r.string()
            case "target": target = try r.optionalString()
            case "object": object = try r.optionalString()
            case "detail": detail = try r.optionalString()
            default: try r.skipValue()
            }
        }
        guard let id, let rule, let severity, let message, let fix, let artifact else { throw Failure() }
        return Finding(id: id, rule: rule, severity: severity, message: message, subject: subject, fix: fix, artifact: artifact,
                       target: target, object: object, detail: detail)
    }
}

extension ArtifactAnalysis {
    /// One artifact from its JSON: the fast reader, and JSONDecoder (for its error) when that fails.
    static func read(_ data: Data) throws -> ArtifactAnalysis {
        let fast: ArtifactAnalysis? = data.withUnsafeBytes { raw in
            var r = JSONReader(raw)
            guard let a = try? r.artifact() else { return nil }
            r.skipSpace()
            return r.i == raw.count ? a : nil
        }
        return try fast ?? JSONDecoder().decode(ArtifactAnalysis.self, from: data)
    }
}

extension CompatibilityReport {
    /// A whole report from its JSON: the artifacts and problems through the fast reader, the
    /// rest (probes, counts, targets...) through JSONDecoder; all of it through JSONDecoder when
    /// the fast reader fails, so that errors are JSONDecoder's.
    static func read(_ data: Data) throws -> CompatibilityReport {
        let fast: CompatibilityReport? = data.withUnsafeBytes { raw in
            var r = JSONReader(raw)
            var artifacts: [ArtifactAnalysis]?
            var problems: [Finding]?
            var rest: [(key: String, range: Range<Int>)] = []
            do {
                try r.object { r, key in
                    switch key {
                    case "artifacts":
                        var out: [ArtifactAnalysis] = []
                        try r.array { r in out.append(try r.artifact()) }
                        artifacts = out
                    case "problems":
                        var out: [Finding] = []
                        try r.array { r in out.append(try r.finding()) }
                        problems = out
                    default:
                        let start = try r.skipValue()
                        rest.append((key, start..<r.i))
                    }
                }
                r.skipSpace()
                guard r.i == raw.count, let artifacts, let problems else { return nil }
                // The other members, decoded as JSONDecoder decodes them, with no artifact or problem.
                var small = Data("{\"artifacts\":[],\"problems\":[]".utf8)
                for (key, range) in rest {
                    small.append(contentsOf: ",".utf8)
                    small.append(contentsOf: HTMLRenderer.jsonString(key).utf8)
                    small.append(contentsOf: ":".utf8)
                    small.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[range]))
                }
                small.append(contentsOf: "}".utf8)
                var report = try JSONDecoder().decode(CompatibilityReport.self, from: small)
                report.artifacts = artifacts
                report.problems = problems
                return report
            } catch {
                return nil
            }
        }
        return try fast ?? JSONDecoder().decode(CompatibilityReport.self, from: data)
    }
}
