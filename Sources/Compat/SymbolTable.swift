import Foundation
import ELF

/// FNV-1a over a symbol name's UTF-8 bytes: computed once per symbol and reused for every object
/// the loader looks in (musl likewise hashes a name once per lookup, not once per object).
@inline(__always)
public func symbolHash(_ name: String) -> UInt64 {
    var name = name
    return name.withUTF8 { bytes in
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h == 0 ? 1 : h
    }
}

/// An open-addressing table of symbol names with precomputed hashes: what an object defines,
/// and why find_sym would skip a definition it has (IFUNC, hidden version, no value). Built once
/// and never changed; a Bloom filter in front (like DT_GNU_HASH's) answers most misses without
/// touching the table itself, which matters because a lookup walks every object in load order.
public final class SymbolTable: @unchecked Sendable {
    /// 0: an acceptable definition; otherwise a rejection.
    enum Status: UInt8 { case accepted = 0, ifunc = 1, hidden = 2, zeroValue = 3 }

    /// The table's storage, read without reference counting: valid while the table lives.
    struct View {
        let keys: UnsafeMutablePointer<UInt64>
        let names: UnsafeMutablePointer<String>
        let status: UnsafeMutablePointer<UInt8>
        let bloom: UnsafeMutablePointer<UInt64>
        let mask: Int
        let bloomMask: Int

        @inline(__always)
        static func bloomWord(_ hash: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: hash >> 20) & mask }

        @inline(__always)
        static func bloomBits(_ hash: UInt64) -> UInt64 { (1 << (hash >> 52 & 63)) | (1 << (hash >> 58)) }

        /// False when the name is certainly absent (the filter's answer); true when it may be there.
        @inline(__always)
        func mayContain(_ hash: UInt64) -> Bool {
            let bits = Self.bloomBits(hash)
            return bloom[Self.bloomWord(hash, bloomMask)] & bits == bits
        }

        @inline(__always)
        func find(_ name: String, hash: UInt64) -> Status? {
            guard mayContain(hash) else { return nil }
            var i = Int(truncatingIfNeeded: hash) & mask
            while true {
                let k = keys[i]
                if k == 0 { return nil }
                if k == hash && names[i] == name { return Status(rawValue: status[i]) }
                i = (i + 1) & mask
            }
        }

        @inline(__always)
        func contains(_ name: String, hash: UInt64) -> Bool { find(name, hash: hash) == .accepted }
    }

    let view: View
    private let size: Int
    private let words: Int
    public let count: Int
    public let acceptedCount: Int

    /// Builds the table from (name, hash, status) entries. A name given twice keeps the best
    /// status: an accepted definition wins over a rejected one, IFUNC over other rejections.
    init(capacity: Int, _ fill: ((String, UInt64, Status) -> Void) -> Void) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        var words = 1
        while words * 4 < capacity { words <<= 1 }
        let keys = UnsafeMutablePointer<UInt64>.allocate(capacity: size)
        keys.initialize(repeating: 0, count: size)
        let names = UnsafeMutablePointer<String>.allocate(capacity: size)
        names.initialize(repeating: "", count: size)
        let status = UnsafeMutablePointer<UInt8>.allocate(capacity: size)
        status.initialize(repeating: 0, count: size)
        let bloom = UnsafeMutablePointer<UInt64>.allocate(capacity: words)
        bloom.initialize(repeating: 0, count: words)
        let mask = size - 1
        var count = 0
        var accepted = 0
        fill { name, hash, new in
            var i = Int(truncatingIfNeeded: hash) & mask
            while keys[i] != 0 {
                if keys[i] == hash && names[i] == name {
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
            names[i] = name
            status[i] = new.rawValue
            count += 1
            if new == .accepted { accepted += 1 }
            bloom[View.bloomWord(hash, words - 1)] |= View.bloomBits(hash)
        }
        view = View(keys: keys, names: names, status: status, bloom: bloom, mask: mask, bloomMask: words - 1)
        self.size = size
        self.words = words
        self.count = count
        self.acceptedCount = accepted
    }

    deinit {
        view.keys.deallocate()
        view.names.deinitialize(count: size)
        view.names.deallocate()
        view.status.deallocate()
        view.bloom.deallocate()
    }

    /// A table of names that are all acceptable definitions.
    convenience init<S: Sequence<String>>(names: S, count: Int) {
        self.init(capacity: count) { insert in
            for n in names { insert(n, symbolHash(n), .accepted) }
        }
    }

    @inline(__always)
    func find(_ name: String, hash: UInt64) -> Status? { view.find(name, hash: hash) }

    @inline(__always)
    func contains(_ name: String, hash: UInt64) -> Bool { view.find(name, hash: hash) == .accepted }
}

/// One load's answers of find_sym from the head, by name: (index of the defining object or -1,
/// index of the first library known by name only that could define it, or -1). Memos are
/// reused from load to load (`take`/`give`): a new load only bumps the generation, so neither
/// allocation nor clearing is paid per load.
final class LookupMemo: @unchecked Sendable {
    private var keys: [UInt64]
    private var generations: [UInt32]
    private var names: [String]
    private var values: [(def: Int, opaque: Int)]
    private var mask: Int
    private var count = 0
    private var generation: UInt32 = 1

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        generations = Array(repeating: 0, count: size)
        names = Array(repeating: "", count: size)
        values = Array(repeating: (-1, -1), count: size)
        mask = size - 1
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var pool: [LookupMemo] = []

    /// An empty memo, from the pool when one is free.
    static func take() -> LookupMemo {
        lock.lock()
        let memo = pool.popLast()
        lock.unlock()
        guard let memo else { return LookupMemo(capacity: 256) }
        memo.reset()
        return memo
    }

    static func give(_ memo: LookupMemo) {
        lock.lock()
        if pool.count < 16 { pool.append(memo) }
        lock.unlock()
    }

    func reset() {
        count = 0
        generation &+= 1
        if generation == 0 {
            for i in generations.indices { generations[i] = 0 }
            generation = 1
        }
    }

    @inline(__always)
    func find(_ name: String, hash: UInt64) -> (def: Int, opaque: Int)? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            if generations[i] != generation { return nil }
            if keys[i] == hash && names[i] == name { return values[i] }
            i = (i + 1) & mask
        }
    }

    func insert(_ name: String, hash: UInt64, _ value: (def: Int, opaque: Int)) {
        if (count + 1) * 2 > keys.count { grow() }
        var i = Int(truncatingIfNeeded: hash) & mask
        while generations[i] == generation {
            if keys[i] == hash && names[i] == name { values[i] = value; return }
            i = (i + 1) & mask
        }
        keys[i] = hash
        generations[i] = generation
        names[i] = name
        values[i] = value
        count += 1
    }

    private func grow() {
        let old = (keys, generations, names, values, generation)
        let size = keys.count * 2
        keys = Array(repeating: 0, count: size)
        generations = Array(repeating: 0, count: size)
        names = Array(repeating: "", count: size)
        values = Array(repeating: (-1, -1), count: size)
        mask = size - 1
        count = 0
        generation = 1
        for j in old.0.indices where old.1[j] == old.4 { insert(old.2[j], hash: old.0[j], old.3[j]) }
    }
}

/// One symbol an object's relocations reference, with its name hashed once.
struct Reference {
    let index: Int
    let hash: UInt64
}

/// What the loader needs of one file, computed once: its references (always) and its
/// definitions (built on first lookup: most artifacts are never looked into by another object).
final class LinkFacts: @unchecked Sendable {
    let references: [Reference]
    private let file: ELFFile?
    private var built: SymbolTable?
    private let lock = NSLock()

    /// Whether the file has definitions named __libc_start_main and stdin (what makes musl
    /// treat a library as libc itself); the table says whether they are acceptable.
    let mayBeLibc: Bool

    init(file: ELFFile) {
        var refs: [Reference] = []
        var startMain = false
        var stdin = false
        file.symbols.withUnsafeBufferPointer { buffer in
            for i in buffer.indices {
                if buffer[i].relocationUse.contains(.referenced) && buffer[i].binding != .STB_LOCAL {
                    refs.append(Reference(index: i, hash: symbolHash(buffer[i].name)))
                }
                if buffer[i].isDefined {
                    let n = buffer[i].name.utf8.count
                    if n == 17 && buffer[i].name == "__libc_start_main" { startMain = true }
                    if n == 5 && buffer[i].name == "stdin" { stdin = true }
                }
            }
        }
        self.references = refs
        self.file = file
        self.mayBeLibc = startMain && stdin
    }

    init(names: Set<String>) {
        self.built = SymbolTable(names: names, count: names.count)
        self.references = []
        self.file = nil
        self.mayBeLibc = names.contains("__libc_start_main") && names.contains("stdin")
    }

    /// The definitions, with find_sym's verdict on each.
    var table: SymbolTable {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let symbols = file?.symbols ?? []
        let table = SymbolTable(capacity: symbols.count) { insert in
            symbols.withUnsafeBufferPointer { buffer in
                for i in buffer.indices where buffer[i].isDefined {
                    let status: SymbolTable.Status
                    switch ExportTable.judge(buffer[i]) {
                    case .none: status = .accepted
                    case .some(.some(.ifunc)): status = .ifunc
                    case .some(.some(.hidden)): status = .hidden
                    case .some(.some(.zeroValue)): status = .zeroValue
                    case .some(.none): continue
                    }
                    insert(buffer[i].name, symbolHash(buffer[i].name), status)
                }
            }
        }
        built = table
        return table
    }
}
