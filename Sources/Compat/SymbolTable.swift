import Foundation
import Synchronization
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

/// Open-addressing slots in manually managed memory: the memos below read them without the
/// exclusivity checks and reference counting that arrays in a class would cost per probe.
final class HashSlots<Name> {
    let keys: UnsafeMutablePointer<UInt64>
    let generations: UnsafeMutablePointer<UInt32>
    let names: UnsafeMutablePointer<Name>
    let a: UnsafeMutablePointer<Int>
    let b: UnsafeMutablePointer<Int>
    let size: Int
    var mask: Int { size - 1 }

    /// `empty`: what the value slots `a` and `b` hold before anything is stored; `noName` what
    /// the name slots hold.
    init(size: Int, empty: Int, noName: Name) {
        self.size = size
        keys = .allocate(capacity: size); keys.initialize(repeating: 0, count: size)
        generations = .allocate(capacity: size); generations.initialize(repeating: 0, count: size)
        names = .allocate(capacity: size); names.initialize(repeating: noName, count: size)
        a = .allocate(capacity: size); a.initialize(repeating: empty, count: size)
        b = .allocate(capacity: size); b.initialize(repeating: empty, count: size)
    }

    deinit {
        keys.deallocate()
        generations.deallocate()
        names.deinitialize(count: size)
        names.deallocate()
        a.deallocate()
        b.deallocate()
    }
}

/// Objects lent out per load and given back (never used by two threads at once), so that their
/// storage is allocated once per thread rather than once per load.
final class Pool<T: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [T] = []
    private let make: () -> T

    init(_ make: @escaping () -> T) { self.make = make }

    func take() -> T {
        lock.lock()
        let item = free.popLast()
        lock.unlock()
        return item ?? make()
    }

    func give(_ item: T) {
        lock.lock()
        if free.count < 16 { free.append(item) }
        lock.unlock()
    }
}

/// One load's answers of find_sym from the head, by name: (index of the defining object or -1,
/// index of the first library known by name only that could define it, or -1). Memos are
/// reused from load to load (`take`/`give`): a new load only bumps the generation, so neither
/// allocation nor clearing is paid per load.
final class LookupMemo: @unchecked Sendable {
    /// Names are the symbols' own name bytes, which outlive the load (the objects of the load
    /// hold their files); a slot of an earlier generation is never read.
    private var slots = HashSlots<NameBytes>(size: 512, empty: -1, noName: .empty)
    private var count = 0
    private var generation: UInt32 = 1

    static let pool = Pool { LookupMemo() }

    /// An empty memo, from the pool when one is free.
    static func take() -> LookupMemo {
        let memo = pool.take()
        memo.reset()
        return memo
    }

    static func give(_ memo: LookupMemo) { pool.give(memo) }

    func reset() {
        count = 0
        generation &+= 1
        if generation == 0 {
            slots.generations.update(repeating: 0, count: slots.size)
            generation = 1
        }
    }

    @inline(__always)
    func find(_ name: NameBytes, hash: UInt64) -> (def: Int, opaque: Int)? {
        let s = slots
        let g = generation
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while true {
            if s.generations[i] != g { return nil }
            if s.keys[i] == hash && s.names[i] == name { return (s.a[i], s.b[i]) }
            i = (i + 1) & s.mask
        }
    }

    func insert(_ name: NameBytes, hash: UInt64, _ value: (def: Int, opaque: Int)) {
        if (count + 1) * 2 > slots.size { grow() }
        let s = slots
        let g = generation
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while s.generations[i] == g {
            if s.keys[i] == hash && s.names[i] == name { s.a[i] = value.def; s.b[i] = value.opaque; return }
            i = (i + 1) & s.mask
        }
        s.keys[i] = hash
        s.generations[i] = g
        s.names[i] = name
        s.a[i] = value.def
        s.b[i] = value.opaque
        count += 1
    }

    private func grow() {
        let old = slots
        let g = generation
        slots = HashSlots(size: old.size * 2, empty: -1, noName: .empty)
        count = 0
        generation = 1
        for j in 0..<old.size where old.generations[j] == g { insert(old.names[j], hash: old.keys[j], (old.a[j], old.b[j])) }
    }
}

/// Which objects are known to accept a definition of a name, learned from earlier loads: a
/// later load that has one of them in its list needs no walk to know the name is defined. Like
/// LookupMemo, caches are lent out per load (never used by two threads at once); each is bounded.
final class DefinerCache: @unchecked Sendable {
    /// keys: name hashes (0: empty); a, b: up to two LinkFacts ids per hash (0: none). No names:
    /// a candidate is confirmed by the object's own table, so a hash two names share costs a
    /// look, never a wrong answer (and the cache holds and copies no strings).
    private var slots: HashSlots<Bool>
    private var count = 0
    static let limit = 1 << 16

    init() { slots = HashSlots(size: 1 << 12, empty: 0, noName: false) }

    static let pool = Pool { DefinerCache() }
    static func take() -> DefinerCache { pool.take() }
    static func give(_ cache: DefinerCache) { pool.give(cache) }

    /// The id of an object of `present` (the load's LinkFacts ids) known to define a name of
    /// this hash, confirmed by `defines` (given the object's position in the load), or 0.
    @inline(__always)
    func knownDefiner(hash: UInt64, in present: IDSet, defines: (Int) -> Bool) -> Int {
        let s = slots
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while true {
            let k = s.keys[i]
            if k == 0 { return 0 }
            if k == hash {
                let a = s.a[i], b = s.b[i]
                if case let p = present.position(of: a), p >= 0, defines(p) { return a }
                if case let p = present.position(of: b), p >= 0, defines(p) { return b }
                return 0
            }
            i = (i + 1) & s.mask
        }
    }

    func record(hash: UInt64, definer id: Int) {
        if (count + 1) * 2 > slots.size { grow() }
        let s = slots
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while s.keys[i] != 0 {
            if s.keys[i] == hash {
                if s.a[i] != id && s.b[i] != id { s.b[i] = s.a[i]; s.a[i] = id }
                return
            }
            i = (i + 1) & s.mask
        }
        s.keys[i] = hash
        s.a[i] = id
        s.b[i] = 0
        count += 1
    }

    private func grow() {
        let old = slots
        // Bounded: past the limit it starts over rather than grow.
        let size = old.size >= Self.limit * 2 ? old.size : old.size * 2
        slots = HashSlots(size: size, empty: 0, noName: false)
        count = 0
        guard size > old.size else { return }
        for j in 0..<old.size where old.keys[j] != 0 {
            if old.b[j] != 0 { record(hash: old.keys[j], definer: old.b[j]) }
            record(hash: old.keys[j], definer: old.a[j])
        }
    }
}

/// The positions of one load's objects by LinkFacts id (positive ids), open addressing.
struct IDSet {
    private var slots: [Int]
    private var positions: [Int]
    private let mask: Int

    init(_ ids: [(id: Int, position: Int)]) {
        var size = 8
        while size < ids.count * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        positions = Array(repeating: -1, count: size)
        mask = size - 1
        for (id, position) in ids where id > 0 {
            var i = (id &* 0x9E37_79B9) & mask
            while slots[i] != 0 && slots[i] != id { i = (i + 1) & mask }
            if slots[i] == 0 { slots[i] = id; positions[i] = position }
        }
    }

    /// The position of the object with this id, or -1.
    @inline(__always)
    func position(of id: Int) -> Int {
        guard id > 0 else { return -1 }
        var i = (id &* 0x9E37_79B9) & mask
        while true {
            let s = slots[i]
            if s == id { return positions[i] }
            if s == 0 { return -1 }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    func contains(_ id: Int) -> Bool { position(of: id) >= 0 }
}

/// One symbol an object's relocations reference, with its name hashed once.
struct Reference {
    let index: Int
    let hash: UInt64
}

/// What the loader needs of one file, computed once: its references (always) and its
/// definitions (built on first lookup: most artifacts are never looked into by another object).
final class LinkFacts: @unchecked Sendable {
    /// Never reused: names this object's definitions in a DefinerCache.
    let id = LinkFacts.nextID.add(1, ordering: .relaxed).newValue
    private static let nextID = Atomic<Int>(0)
    let references: [Reference]
    /// The references a load must look up when gcompat is not involved: all but those the object
    /// defines itself (which always find a definition) that are neither COPY nor initial-exec TLS.
    let lookups: [Reference]
    private let file: ELFFile?
    private var built: SymbolTable?
    private let lock = NSLock()

    /// Whether some reference is a COPY or initial-exec TLS relocation (their outcome depends on
    /// which object defines the symbol, not only on whether one does).
    let hasOrderSensitiveReferences: Bool

    /// What one load learnt about this object's references: the ids of the objects that defined
    /// the names it found, and the references (positions in `references`) it found no definition
    /// for. A later load that has all of these objects (and no gcompat) finds the same names
    /// again, so only the unresolved references need looking at.
    struct Resolution {
        var definers: [Int]
        var unresolved: [Int]
    }
    var resolution: Resolution? {
        get { lock.lock(); defer { lock.unlock() }; return known }
        set { lock.lock(); if known == nil { known = newValue }; lock.unlock() }
    }
    private var known: Resolution?

    /// Whether the file has definitions named __libc_start_main and stdin (what makes musl
    /// treat a library as libc itself); the table says whether they are acceptable.
    let mayBeLibc: Bool

    init(file: ELFFile) {
        var refs: [Reference] = []
        var startMain = false
        var stdin = false
        var special = false
        file.symbols.withUnsafeBufferPointer { buffer in
            for i in buffer.indices {
                if buffer[i].relocationUse.contains(.referenced) && buffer[i].binding != .STB_LOCAL {
                    refs.append(Reference(index: i, hash: buffer[i].nameHash))
                    if !buffer[i].relocationUse.isDisjoint(with: [.copy, .tlsInitialExec]) { special = true }
                }
                if buffer[i].isDefined {
                    let n = buffer[i].nameSpan.length
                    if n == 17 && buffer[i].hasName("__libc_start_main") { startMain = true }
                    if n == 5 && buffer[i].hasName("stdin") { stdin = true }
                }
            }
        }
        self.references = refs
        self.lookups = file.symbols.withUnsafeBufferPointer { buffer in
            refs.filter { ref in
                let use = buffer[ref.index].relocationUse
                return use.contains(.copy) || use.contains(.tlsInitialExec) || !ExportTable.accepts(buffer.baseAddress! + ref.index)
            }
        }
        self.file = file
        self.mayBeLibc = startMain && stdin
        self.hasOrderSensitiveReferences = special
    }

    init(names: Set<String>) {
        self.built = SymbolTable(names: names)
        self.references = []
        self.lookups = []
        self.file = nil
        self.mayBeLibc = names.contains("__libc_start_main") && names.contains("stdin")
        self.hasOrderSensitiveReferences = false
    }

    /// The definitions, with find_sym's verdict on each.
    var table: SymbolTable {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let table = SymbolTable(symbols: file?.symbols ?? []) { sym in
            switch ExportTable.judge(sym) {
            case .none: .accepted
            case .some(.some(.ifunc)): .ifunc
            case .some(.some(.hidden)): .hidden
            case .some(.some(.zeroValue)): .zeroValue
            case .some(.none): nil
            }
        }
        built = table
        return table
    }
}
