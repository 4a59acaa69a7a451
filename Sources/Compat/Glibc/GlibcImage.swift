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
    private var definitionTable: [String: [GlibcDefinition]]?

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
    }

    init(library: GlibcProfileData.Library) {
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
        definitionTable = library.definitions
    }

    /// Whether the object has version definitions (a need on a file without any always holds).
    var hasVersionDefinitions: Bool { file.map { !$0.versionDefinitions.isEmpty } ?? !(library?.versions.isEmpty ?? true) }

    func versionName(_ index: UInt16) -> String? { versionNames[index] }

    /// The definitions of `name` that glibc's check_match (elf/dl-lookup.c) looks at: defined,
    /// global, weak or unique, a data, function, TLS or IFUNC type, a value unless TLS; and an
    /// executable's undefined functions with a PLT address.
    func definitions(_ name: String) -> [GlibcDefinition] {
        lock.lock()
        defer { lock.unlock() }
        if definitionTable == nil, let file { definitionTable = Self.table(file) }
        return definitionTable?[name] ?? []
    }

    static func table(_ file: ELFFile) -> [String: [GlibcDefinition]] {
        var out: [String: [GlibcDefinition]] = [:]
        let isExecutable = file.header.type == .ET_EXEC || file.interpreter != nil
        for s in file.symbols {
            let b = s.binding
            guard b == .STB_GLOBAL || b == .STB_WEAK || b == .STB_GNU_UNIQUE, s.nameSpan.length > 0 else { continue }
            let t = s.type
            guard t == .STT_NOTYPE || t == .STT_OBJECT || t == .STT_FUNC || t == .STT_COMMON || t == .STT_TLS || t == .STT_GNU_IFUNC else { continue }
            let raw = s.versionIndex ?? 1
            if s.isUndefined {
                // A function's canonical PLT address in an executable answers non-PLT lookups.
                guard isExecutable, s.value != 0, t == .STT_FUNC else { continue }
                out[s.name, default: []].append(GlibcDefinition(versionIndex: raw & 0x7fff, hidden: raw & 0x8000 != 0, pltAddress: true,
                                                                 neededVersion: s.version))
                continue
            }
            guard s.value != 0 || t == .STT_TLS || s.sectionIndex == 0xfff1 else { continue }  // SHN_ABS
            out[s.name, default: []].append(GlibcDefinition(versionIndex: raw & 0x7fff, hidden: raw & 0x8000 != 0))
        }
        return out
    }

    /// check_match's verdict on this object for a reference: whether some definition answers it.
    /// `version`: the version the reference needs (nil: unversioned); `plt`: a PLT relocation's lookup.
    func answers(_ name: String, version: String?, plt: Bool) -> Bool {
        let defs = definitions(name)
        guard !defs.isEmpty else { return false }
        var versionedDefaults = 0
        for d in defs {
            if d.pltAddress && plt { continue }
            guard hasVersionTable else { return true }
            if let version {
                // The same version, or an unversioned (index 0 or 1) default definition.
                if (d.pltAddress ? d.neededVersion : versionName(d.versionIndex)) == version { return true }
                if d.versionIndex < 2 && !d.hidden { return true }
            } else {
                // No version asked: index 0-2 answers; of the later ones only a lone default does.
                if d.versionIndex < 3 { return true }
                if !d.hidden { versionedDefaults += 1 }
            }
        }
        return versionedDefaults == 1
    }
}
