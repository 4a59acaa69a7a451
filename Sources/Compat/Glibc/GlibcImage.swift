import ELF
import Foundation

/// A shared object as glibc's loader sees it, before it is mapped: its dynamic section's facts,
/// its version definitions and needs, and its definitions by name. Made from a real ELF file or
/// from a bundled profile's library (whose references are not known, only its definitions).
public final class GlibcImage: @unchecked Sendable {
    public let file: ELFFile?
    let library: GlibcProfileData.Library?
    public let soname: String?
    public let needed: [String]
    let rpath: [String]
    let runpath: [String]
    /// DF_1_NODEFLIB: the system directories are not searched for this object's needs.
    let noDefaultLibraries: Bool
    /// The names of the non-base version definitions.
    let definedVersions: Set<String>
    /// Version index → name (index 2 and up).
    private let versionNames: [UInt16: String]
    /// The object has a version table (.gnu.version): check_match then compares versions.
    let hasVersionTable: Bool
    private let lock = NSLock()

    init(file: ELFFile) {
        self.file = file
        library = nil
        soname = file.soname
        needed = file.needed
        rpath = file.dynamic?.rpath ?? []
        runpath = file.dynamic?.runpath ?? []
        noDefaultLibraries = (file.dynamic?.flags1.rawValue ?? 0) & 0x800 != 0
        var names: [UInt16: String] = [:]
        for d in file.versionDefinitions where !d.isBase { names[d.index & 0x7fff] = d.name }
        versionNames = names
        definedVersions = Set(names.values)
        hasVersionTable = file.symbols.contains { $0.versionIndex != nil }
        slots = Self.slots(file)
    }

    init(library: GlibcProfileData.Library) {
        _ = library.seal()
        file = nil
        self.library = library
        soname = library.soname
        needed = library.needed
        rpath = library.rpath
        runpath = library.runpath
        noDefaultLibraries = library.flags1 & 0x800 != 0
        var names: [UInt16: String] = [:]
        for (k, v) in library.versions.enumerated() { names[UInt16(k + 2)] = v }
        versionNames = names
        definedVersions = Set(library.versions)
        hasVersionTable = true
        slots = [0]
    }

    /// Whether the object has version definitions (a need on a file without any always holds).
    var hasVersionDefinitions: Bool { file.map { !$0.versionDefinitions.isEmpty } ?? !(library?.versions.isEmpty ?? true) }

    func versionName(_ index: UInt16) -> String? { versionNames[index] }

    /// An ELF file's definitions that glibc's check_match (elf/dl-lookup.c) looks at, in an
    /// open-addressing table by name hash (symbol index + 1; 0 is empty): defined, global, weak
    /// or unique, a data, function, TLS or IFUNC type, a value unless TLS or absolute; and an
    /// executable's undefined functions with a PLT address.
    private let slots: [Int32]

    static func slots(_ file: ELFFile) -> [Int32] {
        let isExecutable = file.header.type == .ET_EXEC || file.interpreter != nil
        return file.symbols.withUnsafeBufferPointer { symbols in
            var size = 16
            while size < symbols.count * 2 { size <<= 1 }
            var table = [Int32](repeating: 0, count: size)
            let mask = UInt64(size - 1)
            for k in symbols.indices {
                let b = symbols[k].binding
                guard b == .STB_GLOBAL || b == .STB_WEAK || b == .STB_GNU_UNIQUE, symbols[k].nameSpan.length > 0 else { continue }
                let t = symbols[k].type
                guard t == .STT_NOTYPE || t == .STT_OBJECT || t == .STT_FUNC || t == .STT_COMMON || t == .STT_TLS || t == .STT_GNU_IFUNC else { continue }
                if symbols[k].isUndefined {
                    // A function's canonical PLT address in an executable answers non-PLT lookups.
                    guard isExecutable, symbols[k].value != 0, t == .STT_FUNC else { continue }
                } else {
                    guard symbols[k].value != 0 || t == .STT_TLS || symbols[k].sectionIndex == 0xfff1 else { continue }  // SHN_ABS
                }
                var i = Int(symbols[k].nameHash & mask)
                while table[i] != 0 { i = (i + 1) & Int(mask) }
                table[i] = Int32(k + 1)
            }
            return table
        }
    }

    /// Calls `body` with each definition of `name` (its `symbolNameHash` is `hash`) until it returns true.
    @inline(__always)
    func forEachDefinition(_ name: String, hash: UInt64, _ body: (GlibcDefinition) -> Bool) -> Bool {
        guard let file else {
            return library?.forEachDefinition(name, hash: hash, body) ?? false
        }
        let mask = slots.count - 1
        var i = Int(hash & UInt64(mask))
        while slots[i] != 0 {
            let k = Int(slots[i] - 1)
            i = (i + 1) & mask
            guard file.symbols[k].nameHash == hash, file.symbols[k].hasName(name) else { continue }
            let raw = file.symbols[k].versionIndex ?? 1
            let undefined = file.symbols[k].isUndefined
            if body(GlibcDefinition(versionIndex: raw & 0x7fff, hidden: raw & 0x8000 != 0, pltAddress: undefined,
                                    neededVersion: undefined ? file.symbols[k].version : nil)) { return true }
        }
        return false
    }

    /// One reference a relocation looks up (elf/dl-reloc.c): strong, by name and version.
    struct Reference {
        var name: String
        var hash: UInt64
        var version: String?
        /// The file its version need names.
        var library: String?
        /// Only PLT relocations use it (bound lazily unless the object binds now).
        var pltOnly: Bool
        /// A copy relocation: the object itself is skipped.
        var copy: Bool
    }

    /// The strong references of the file's relocations, read once. An executable's
    /// copy-relocated variables are defined in it (its .bss), but the R_*_COPY relocation still
    /// looks them up, skipping the executable itself.
    var references: [Reference] {
        lock.lock()
        defer { lock.unlock() }
        if let cached = referenceList { return cached }
        var out: [Reference] = []
        for s in file?.symbols ?? [] where (s.isUndefined || s.relocationUse.contains(.copy)) && s.relocationUse.contains(.referenced)
            && s.nameSpan.length > 0 && s.binding != .STB_WEAK {
            out.append(Reference(name: s.name, hash: s.nameHash, version: s.version, library: s.library,
                                 pltOnly: !s.relocationUse.contains(.nonPLT), copy: s.relocationUse.contains(.copy)))
        }
        referenceList = out
        return out
    }
    private var referenceList: [Reference]?

    /// check_match's verdict on this object for a reference: whether some definition answers it.
    /// `version`: the version the reference needs (nil: unversioned); `plt`: a PLT relocation's lookup.
    func answers(_ name: String, hash: UInt64, version: String?, plt: Bool) -> Bool {
        var versionedDefaults = 0
        let found = forEachDefinition(name, hash: hash) { d in
            if d.pltAddress && plt { return false }
            guard hasVersionTable else { return true }
            if let version {
                // The same version, or an unversioned (index 0 or 1) default definition.
                if (d.pltAddress ? d.neededVersion : versionName(d.versionIndex)) == version { return true }
                return d.versionIndex < 2 && !d.hidden
            }
            // No version asked: index 0-2 answers; of the later ones only a lone default does.
            if d.versionIndex < 3 { return true }
            if !d.hidden { versionedDefaults += 1 }
            return false
        }
        return found || versionedDefaults == 1
    }
}
