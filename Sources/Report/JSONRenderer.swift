import Compat
import Foundation

/// Writes a report as JSON, piece by piece: the bytes are those JSONEncoder (pretty-printed,
/// sorted keys) gives for the whole report, but no more than one artifact is in memory at a time.
public enum JSONRenderer {
    static let encoder = JSONFormat.encoder()

    /// Re-indents a pretty-printed value for embedding `depth` levels deep.
    static func indented(_ data: Data, depth: Int) -> Data {
        guard depth > 0 else { return data }
        let pad = depth * 2
        return data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Data in
            let n = raw.count
            var newlines = 0
            for b in raw where b == 0x0a { newlines += 1 }
            var out = [UInt8](repeating: 0x20, count: n + newlines * pad)
            var o = 0
            var i = 0
            while i < n {
                let b = raw[i]
                out[o] = b
                o += 1
                i += 1
                // The encoder leaves the blank line of an empty array or object unindented.
                if b == 0x0a && i < n && raw[i] != 0x0a { o += pad }
            }
            return Data(out[0..<o])
        }
    }

    static func encoded<T: Encodable>(_ value: T, depth: Int) throws -> Data {
        indented(try encoder.encode(value), depth: depth)
    }

    public static func write(_ view: any ReportView, to out: (Data) throws -> Void) throws {
        func text(_ s: String) throws { try out(Data(s.utf8)) }
        try text("{\n  \"artifacts\" : [")
        if view.summaries.isEmpty {
            try text("\n\n  ]")
        } else {
            for i in view.summaries.indices {
                try text(i == 0 ? "\n    " : ",\n    ")
                if let stored = view as? StoredReport {
                    try out(try stored.artifactJSON(at: i))
                } else {
                    var json = PrettyJSON()
                    json.artifact(try view.artifact(at: i), depth: ArtifactStore.depth)
                    try out(Data(json.bytes))
                }
            }
            try text("\n  ]")
        }
        try text(",\n  \"counts\" : ")
        try out(try encoded(view.counts, depth: 1))
        try text(",\n  \"inputs\" : ")
        try out(try encoded(view.inputs, depth: 1))
        try text(",\n  \"notes\" : ")
        try out(try encoded(view.notes, depth: 1))
        try text(",\n  \"probes\" : ")
        try out(try encoded(view.probes, depth: 1))
        try text(",\n  \"problems\" : ")
        try out(try encoded(view.problems, depth: 1))
        try text(",\n  \"schemaVersion\" : \(view.schemaVersion)")
        try text(",\n  \"suppressed\" : ")
        try out(try encoded(view.suppressed, depth: 1))
        try text(",\n  \"targets\" : ")
        try out(try encoded(view.targets, depth: 1))
        if let timings = view.timings {
            try text(",\n  \"timings\" : ")
            try out(try encoded(timings, depth: 1))
        }
        try text(",\n  \"tool\" : ")
        try out(try encoded(view.tool, depth: 1))
        try text("\n}\n")
    }

    /// The whole JSON in memory.
    public static func data(_ view: any ReportView) throws -> Data {
        var all = Data()
        try write(view) { all.append($0) }
        return all
    }
}
