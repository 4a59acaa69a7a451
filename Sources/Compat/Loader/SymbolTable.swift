import Foundation
import ELF

/// A hash of a symbol name's UTF-8 bytes (never 0; ELF's `symbolNameHash`): computed once per
/// symbol and reused for every object the loader looks in (musl likewise hashes a name once per
/// lookup, not once per object).
@inline(__always)
public func symbolHash(_ name: String) -> UInt64 { symbolNameHash(name) }

/// FNV-1a over a string's bytes: a stable value for identifiers that outlive a run (SARIF's
/// fingerprints); the symbol tables use the faster hash above.
public func stableHash(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    return h == 0 ? 1 : h
}

/// An open-addressing table of symbol names with precomputed hashes: what an object defines,
/// and why find_sym would skip a definition it has (IFUNC, hidden version, no value). Built once
/// and never changed; a Bloom filter in front (like DT_GNU_HASH's) answers most misses without
/// touching the table itself, which matters because a lookup walks every object in load order.
public final class SymbolTable: @unchecked Sendable {
    /// 0: an acceptable definition; otherwise a rejection.
    enum Status: UInt8 { case accepted = 0, ifunc = 1, hidden = 2, zeroValue = 3 }

    /// The table's storage, read without reference counting: valid while the table lives. A slot
    /// holds the position of its name in the table's source (the file's symbols, or a list of
    /// names), so building and freeing a table copies and releases no strings.
    struct View {
        let keys: UnsafeMutablePointer<UInt64>
        let positions: UnsafeMutablePointer<UInt32>
        let status: UnsafeMutablePointer<UInt8>
        let bloom: UnsafeMutablePointer<UInt64>
        let mask: Int
        let bloomMask: Int
        /// The first name's span in the source, and the distance between two spans.
        let spans: UnsafeRawPointer
        let stride: Int
        /// The bytes the spans point into.
        let bytes: UnsafePointer<UInt8>

        @inline(__always)
        static func bloomWord(_ hash: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: hash >> 20) & mask }

        @inline(__always)
        static func bloomBits(_ hash: UInt64) -> UInt64 { (1 << (hash >> 52 & 63)) | (1 << (hash >> 58)) }

        /// The name at a position of the source.
        @inline(__always)
        func name(at position: UInt32) -> NameBytes {
            let span = (spans + Int(position) &* stride).load(as: NameSpan.self)
            return NameBytes(start: bytes + Int(span.start), count: Int(span.length))
        }

        /// False when the name is certainly absent (the filter's answer); true when it may be there.
        @inline(__always)
        func mayContain(_ hash: UInt64) -> Bool {
            let bits = Self.bloomBits(hash)
            return bloom[Self.bloomWord(hash, bloomMask)] & bits == bits
        }

        @inline(__always)
        func find(_ name: NameBytes, hash: UInt64) -> Status? {
            guard mayContain(hash) else { return nil }
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let k = keys[i]
                if k == 0 { return nil }
                if k == hash && self.name(at: positions[i]) == name { return Status(rawValue: status[i]) }
                i = (i + 1) & mask
            }
        }

        /// find, for a name held in a string.
        @inline(__always)
        func find(_ name: String, hash: UInt64) -> Status? {
            guard mayContain(hash) else { return nil }
            var name = name
            return name.withUTF8 { find(NameBytes($0), hash: hash) }
        }

        @inline(__always)
        func contains(_ name: NameBytes, hash: UInt64) -> Bool { find(name, hash: hash) == .accepted }

        @inline(__always)
        func contains(_ name: String, hash: UInt64) -> Bool { find(name, hash: hash) == .accepted }
    }

    let view: View
    private let size: Int
    private let words: Int
    public let count: Int
    public let acceptedCount: Int
    /// The source the slots point into, kept alive (and never changed) with the table.
    private let symbols: [DynamicSymbol]
    private let strings: SymbolStrings?
    private let spans: [NameSpan]

    /// Builds the table from the defined symbols of a file, each with find_sym's verdict (nil:
    /// not a definition at all). A name given twice keeps the best status: an accepted definition
    /// wins over a rejected one, IFUNC over other rejections. The slots point into the file's own
    /// name storage; symbols gathered from several files get their names copied into one.
    init(symbols: [DynamicSymbol], status: (UnsafePointer<DynamicSymbol>) -> Status?) {
        self.symbols = symbols
        let shared = symbols.first?.strings
        let oneFile = symbols.allSatisfy { $0.strings === shared }
        let spans: [NameSpan]
        if oneFile {
            self.strings = shared
            spans = []
        } else {
            (self.strings, spans) = SymbolStrings.joining(symbols.lazy.map(\.name))
        }
        self.spans = spans
        let strings = self.strings
        (view, size, words, count, acceptedCount) = symbols.withUnsafeBufferPointer { buffer in
            spans.withUnsafeBufferPointer { copied in
                let source: UnsafeRawPointer
                let stride: Int
                if oneFile {
                    let offset = MemoryLayout<DynamicSymbol>.offset(of: \.nameSpan)!
                    source = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<DynamicSymbol>.alignment)!) + offset
                    stride = MemoryLayout<DynamicSymbol>.stride
                } else {
                    source = UnsafeRawPointer(copied.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<NameSpan>.alignment)!)
                    stride = MemoryLayout<NameSpan>.stride
                }
                return Self.build(capacity: buffer.count, spans: source, stride: stride, bytes: strings?.base ?? NameBytes.empty.start) { insert in
                    for i in buffer.indices where buffer[i].isDefined {
                        if let st = status(buffer.baseAddress! + i) { insert(i, buffer[i].nameHash, st) }
                    }
                }
            }
        }
    }

    /// A table of names that are all acceptable definitions.
    init<S: Sequence<String>>(names: S) {
        let (storage, spans) = SymbolStrings.joining(names)
        self.symbols = []
        self.strings = storage
        self.spans = spans
        (view, size, words, self.count, acceptedCount) = spans.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<NameSpan>.alignment)!)
            return Self.build(capacity: buffer.count, spans: base, stride: MemoryLayout<NameSpan>.stride, bytes: storage.base) { insert in
                for i in buffer.indices {
                    let n = NameBytes(start: storage.base + Int(buffer[i].start), count: Int(buffer[i].length))
                    insert(i, symbolNameHash(UnsafeRawBufferPointer(n.buffer)), .accepted)
                }
            }
        }
    }

    private static func build(capacity: Int, spans: UnsafeRawPointer, stride: Int, bytes: UnsafePointer<UInt8>,
                              _ fill: ((Int, UInt64, Status) -> Void) -> Void) -> (View, Int, Int, Int, Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        var words = 1
        while words * 4 < capacity { words <<= 1 }
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        keys.initialize(repeating: 0, count: size)
        let positions = UnsafeMutablePointer<UInt32>.allocate(capacity: size)
        let status = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        status.initialize(repeating: 0, count: size)
        let bloom = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        bloom.initialize(repeating: 0, count: words)
        let view = View(keys: keys, positions: positions, status: status, bloom: bloom, mask: size - 1, bloomMask: words - 1,
                        spans: spans, stride: stride, bytes: bytes)
        let mask = size - 1
        var count = 0
        var accepted = 0
        fill { position, hash, new in
            let name = view.name(at: UInt32(position))
            var i = Int(truncatingIfNeeded: hash) & mask
            while keys[i] != 0 {
                if keys[i] == hash && view.name(at: positions[i]) == name {
                    let old = Status(rawValue: status[i])!
                    if old != .accepted && (new == .accepted || new == .ifunc) {
                        if new == .accepted { accepted += 1 }
                        status[i] = new.rawValue
                    }
                    return
                }
                i = (i + 1) & mask
            }
            keys[i] = hash
            positions[i] = UInt32(position)
            status[i] = new.rawValue
            count += 1
            if new == .accepted { accepted += 1 }
            bloom[View.bloomWord(hash, words - 1)] |= View.bloomBits(hash)
        }
        return (view, size, words, count, accepted)
    }

    deinit {
        view.keys.deallocate()
        view.positions.deallocate()
        view.status.deallocate()
        view.bloom.deallocate()
    }

    @inline(__always)
    func find(_ name: String, hash: UInt64) -> Status? { view.find(name, hash: hash) }

    @inline(__always)
    func contains(_ name: String, hash: UInt64) -> Bool { view.find(name, hash: hash) == .accepted }

    @inline(__always)
    func contains(_ name: NameBytes, hash: UInt64) -> Bool { view.find(name, hash: hash) == .accepted }
}
