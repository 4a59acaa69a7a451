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
/// and why find_sym would skip a definition it has (IFUNC, hidden version, no value).
public final class SymbolTable: @unchecked Sendable {
    /// 0: an acceptable definition; otherwise a rejection.
    enum Status: UInt8 { case accepted = 0, ifunc = 1, hidden = 2, zeroValue = 3 }

    private var keys: [UInt64]
    private var names: [String]
    private var status: [UInt8]
    private let mask: Int
    public private(set) var count = 0
    public private(set) var acceptedCount = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        names = Array(repeating: "", count: size)
        status = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// Inserts a name; an accepted definition wins over a rejected one, IFUNC over other rejections.
    func insert(_ name: String, hash: UInt64, status new: Status) {
        var i = Int(truncatingIfNeeded: hash) & mask
        while keys[i] != 0 {
            if keys[i] == hash && names[i] == name {
                let old = Status(rawValue: status[i])!
                if old != .accepted && (new == .accepted || new == .ifunc) {
                    if new == .accepted { acceptedCount += 1 }
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
        if new == .accepted { acceptedCount += 1 }
    }

    @inline(__always)
    func find(_ name: String, hash: UInt64) -> Status? {
        var i = Int(truncatingIfNeeded: hash) & mask
        while true {
            let k = keys[i]
            if k == 0 { return nil }
            if k == hash && names[i] == name { return Status(rawValue: status[i]) }
            i = (i + 1) & mask
        }
    }

    func contains(_ name: String, hash: UInt64) -> Bool { find(name, hash: hash) == .accepted }
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

    init(file: ELFFile) {
        var refs: [Reference] = []
        file.symbols.withUnsafeBufferPointer { buffer in
            for i in buffer.indices where buffer[i].relocationUse.contains(.referenced) && buffer[i].binding != .STB_LOCAL {
                refs.append(Reference(index: i, hash: symbolHash(buffer[i].name)))
            }
        }
        self.references = refs
        self.file = file
    }

    init(names: Set<String>) {
        let table = SymbolTable(capacity: names.count)
        for n in names { table.insert(n, hash: symbolHash(n), status: .accepted) }
        self.built = table
        self.references = []
        self.file = nil
    }

    /// The definitions, with find_sym's verdict on each.
    var table: SymbolTable {
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let symbols = file?.symbols ?? []
        let table = SymbolTable(capacity: symbols.count)
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
                table.insert(buffer[i].name, hash: symbolHash(buffer[i].name), status: status)
            }
        }
        built = table
        return table
    }
}
