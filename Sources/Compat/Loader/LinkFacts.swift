import Foundation
import Synchronization
import ELF

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
