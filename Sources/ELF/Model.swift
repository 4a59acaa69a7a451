#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ELF header's identity and type (`e_ident`, `e_type`, `e_machine`, `e_entry`).
public struct ELFHeader: Sendable, Hashable {
    public var fileClass: ELFClass
    public var data: ELFData
    public var osABI: ELFOSABI
    public var abiVersion: UInt8
    public var type: ELFType
    public var machine: ELFMachine
    public var entry: UInt64

    /// x32: 32-bit pointers on x86-64 (ELFCLASS32 + EM_X86_64).
    public var isX32: Bool { fileClass == .ELFCLASS32 && machine == .EM_X86_64 }
}

/// How a file is meant to be loaded.
public enum Linkage: String, Sendable, Hashable, Codable, CaseIterable {
    /// An executable with no PT_INTERP and no dynamic section: needs no loader and no libc.
    case `static`
    /// ET_DYN with no PT_INTERP that relocates itself (gcc `-static-pie`): needs no loader.
    case staticPIE = "static-pie"
    /// ET_EXEC with PT_INTERP.
    case dynamicExecutable = "dynamic-executable"
    /// ET_DYN with PT_INTERP (or DF_1_PIE): a position-independent executable.
    case dynamicPIE = "dynamic-pie-executable"
    /// ET_DYN meant to be loaded by another program.
    case sharedLibrary = "shared-library"
    /// ET_REL: an object file, never loaded.
    case relocatable
    /// ET_CORE.
    case core
    case unknown
}

/// PT_GNU_STACK: whether the stack is executable, and its size when the linker set one
/// (`-z stack-size=`). musl uses a main program's p_memsz as the default thread stack size.
public struct GNUStack: Sendable, Hashable {
    public var size: UInt64
    public var executable: Bool
}

/// The dynamic section, as the loader reads it.
public struct DynamicSection: Sendable, Hashable {
    /// DT_NEEDED, in file order (the loader's order).
    public var needed: [String] = []
    public var soname: String?
    /// DT_RPATH, each entry split on ':'.
    public var rpath: [String] = []
    /// DT_RUNPATH, each entry split on ':'.
    public var runpath: [String] = []
    public var flags: DynamicFlags = []
    public var flags1: DynamicFlags1 = []
    public var hasTextRelocations = false
    public var bindNow = false
    /// DT_RELR is present.
    public var hasRELR = false
    /// Number of entries up to and including DT_NULL.
    public var entryCount = 0
    /// A DT_NEEDED/DT_SONAME/DT_RPATH/DT_RUNPATH whose string offset lies outside the string table.
    public var badStringReferences = 0
}

/// One symbol of `.dynsym` (or of DT_SYMTAB), with its GNU version. A library has up to a
/// hundred thousand of these: the strings (name, version names) live once in the file's
/// `SymbolStrings`, and the fields are declared largest first, so a symbol takes 64 bytes.
public struct DynamicSymbol: Sendable, Hashable {
    /// Index in the dynamic symbol table (what relocations refer to).
    public var index: Int
    /// The file's symbol strings (names and version names), shared by all of its symbols: a
    /// symbol holds no string of its own (a large library has a hundred thousand names).
    public internal(set) var strings: SymbolStrings
    /// Where the name lies in `strings`.
    public internal(set) var nameSpan: NameSpan
    /// `symbolNameHash` of the name's bytes, computed while reading it.
    public var nameHash: UInt64
    public var value: UInt64
    public var size: UInt64
    public var sectionIndex: UInt32
    /// The versym entry (`.gnu.version`), or nil when the file has no version table.
    public var versionIndex: UInt16?
    public var binding: SymbolBinding
    public var type: SymbolType
    public var visibility: SymbolVisibility
    /// VERSYM_HIDDEN is set: a non-default definition (`sym@VER`), which musl's loader skips.
    public var hidden: Bool
    /// How the dynamic relocations use this symbol.
    public var relocationUse: RelocationUse
    /// The name's first byte (0 for an empty name): a look at it needs no visit to the name.
    public var nameFirstByte: UInt8

    /// The name, as a new string.
    public var name: String { String(decoding: nameBytes.buffer, as: UTF8.self) }

    /// The name's bytes, in place: valid while this symbol or its file lives.
    @inline(__always)
    public var nameBytes: NameBytes { NameBytes(start: strings.base + Int(nameSpan.start), count: Int(nameSpan.length)) }

    /// The version's name: from a version definition for a defined symbol, from a version need for
    /// an undefined one. Nil for unversioned, local and base-version symbols.
    public var version: String? {
        guard let raw = versionIndex else { return nil }
        let index = raw & SymbolVersioning.VERSYM_VERSION
        guard index > SymbolVersioning.VER_NDX_GLOBAL else { return nil }
        if isDefined { return strings.definition(index) ?? strings.need(index)?.name }
        return strings.need(index)?.name ?? strings.definition(index)
    }

    /// For an undefined symbol with a version need: the file (DT_NEEDED name) that need belongs to.
    public var library: String? {
        guard !isDefined, let raw = versionIndex else { return nil }
        let index = raw & SymbolVersioning.VERSYM_VERSION
        guard index > SymbolVersioning.VER_NDX_GLOBAL else { return nil }
        return strings.need(index)?.file
    }

    /// Whether the name is `text`, compared in place (no string made).
    @inline(__always)
    public func hasName(_ text: String) -> Bool {
        guard text.utf8.count == Int(nameSpan.length) else { return false }
        return withExtendedLifetime(strings) { nameBytes.equals(text) }
    }

    public var isDefined: Bool { sectionIndex != SectionIndex.SHN_UNDEF }
    public var isUndefined: Bool { sectionIndex == SectionIndex.SHN_UNDEF }

    public static func == (a: DynamicSymbol, b: DynamicSymbol) -> Bool {
        a.index == b.index && a.nameHash == b.nameHash && a.value == b.value && a.size == b.size
            && a.version == b.version && a.library == b.library && a.sectionIndex == b.sectionIndex
            && a.versionIndex == b.versionIndex && a.binding == b.binding && a.type == b.type
            && a.visibility == b.visibility && a.hidden == b.hidden && a.relocationUse == b.relocationUse
            && withExtendedLifetime((a.strings, b.strings)) { a.nameBytes == b.nameBytes }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        withExtendedLifetime(strings) { hasher.combine(bytes: UnsafeRawBufferPointer(nameBytes.buffer)) }
        hasher.combine(value)
        hasher.combine(sectionIndex)
        hasher.combine(version)
        hasher.combine(library)
    }
}

/// The strings of one file's dynamic symbols: a copy of its string table (plus any stand-in
/// names for entries the table could not name) and its version names by version index. Shared
/// by the file's symbols and freed with the last of them.
public final class SymbolStrings: @unchecked Sendable {
    /// Never changed after init.
    public let base: UnsafePointer<UInt8>
    public let count: Int
    /// Version names by index: in flat arrays up to `flatLimit` (a symbol's version is looked up
    /// by array index), in maps past it (only hostile files number their versions that high).
    private let definitions: [String?]
    private let needs: [(name: String, file: String)?]
    private let farDefinitions: [UInt16: String]
    private let farNeeds: [UInt16: (name: String, file: String)]
    static let flatLimit = 4096

    /// A copy of `table`, then `extra`; the version definitions and needs by index.
    public init(copying table: UnsafeRawBufferPointer, extra: [UInt8] = [],
                definitions: [UInt16: String] = [:], needs: [UInt16: (name: String, file: String)] = [:]) {
        (base, count) = Self.copy(table, extra)
        let top = min(Self.flatLimit, max(definitions.keys.max().map(Int.init) ?? -1, needs.keys.max().map(Int.init) ?? -1))
        var flatDefinitions = [String?](repeating: nil, count: top + 1)
        var flatNeeds = [(name: String, file: String)?](repeating: nil, count: top + 1)
        for (k, v) in definitions where Int(k) <= top { flatDefinitions[Int(k)] = v }
        for (k, v) in needs where Int(k) <= top { flatNeeds[Int(k)] = v }
        self.definitions = flatDefinitions
        self.needs = flatNeeds
        farDefinitions = definitions.filter { Int($0.key) > top }
        farNeeds = needs.filter { Int($0.key) > top }
    }

    /// The same version names, with these bytes.
    init(copying table: UnsafeRawBufferPointer, extra: [UInt8], versionsOf other: SymbolStrings) {
        (base, count) = Self.copy(table, extra)
        definitions = other.definitions
        needs = other.needs
        farDefinitions = other.farDefinitions
        farNeeds = other.farNeeds
    }

    /// New storage holding `table`, then `extra`.
    private static func copy(_ table: UnsafeRawBufferPointer, _ extra: [UInt8]) -> (UnsafePointer<UInt8>, Int) {
        let count = table.count + extra.count
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(count, 1))
        if let b = table.baseAddress, table.count > 0 {
            UnsafeMutableRawPointer(storage).copyMemory(from: b, byteCount: table.count)
        }
        if !extra.isEmpty { (storage + table.count).update(from: extra, count: extra.count) }
        return (UnsafePointer(storage), count)
    }

    /// The version definition's name at a version index.
    @inline(__always)
    public func definition(_ index: UInt16) -> String? {
        Int(index) < definitions.count ? definitions[Int(index)] : farDefinitions[index]
    }

    /// The version need (version name, and the file it is needed from) at a version index.
    @inline(__always)
    public func need(_ index: UInt16) -> (name: String, file: String)? {
        Int(index) < needs.count ? needs[Int(index)] : farNeeds[index]
    }

    /// The names one after another, and where each lies.
    public static func joining<S: Sequence<String>>(_ names: S) -> (SymbolStrings, [NameSpan]) {
        var bytes: [UInt8] = []
        var spans: [NameSpan] = []
        for n in names {
            spans.append(NameSpan(start: UInt32(bytes.count), length: UInt32(n.utf8.count)))
            bytes.append(contentsOf: n.utf8)
        }
        return (SymbolStrings(copying: UnsafeRawBufferPointer(start: nil, count: 0), extra: bytes), spans)
    }

    deinit { base.deallocate() }
}

/// A name's place in its `SymbolStrings`.
public struct NameSpan: Sendable, Hashable {
    public var start: UInt32
    public var length: UInt32
    public init(start: UInt32, length: UInt32) { self.start = start; self.length = length }
}

/// A symbol name's bytes in place: valid only while the storage it points into lives.
public struct NameBytes {
    public let start: UnsafePointer<UInt8>
    public let count: Int

    @inline(__always)
    public init(start: UnsafePointer<UInt8>, count: Int) { self.start = start; self.count = count }

    public init(_ buffer: UnsafeBufferPointer<UInt8>) {
        start = buffer.baseAddress ?? NameBytes.empty.start
        count = buffer.count
    }

    /// No name (what an empty slot holds); never read.
    nonisolated(unsafe) public static let empty = NameBytes(start: UnsafePointer(bitPattern: 1)!, count: 0)

    public var buffer: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: count) }

    /// The name as a new string.
    public var string: String { String(decoding: buffer, as: UTF8.self) }

    @inline(__always)
    public static func == (a: NameBytes, b: NameBytes) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.start, b.start, a.count) == 0)
    }

    /// Whether these are the UTF-8 bytes of `text`.
    @inline(__always)
    public func equals(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { NameBytes($0) == self }
    }

    /// Whether the name starts with `prefix`.
    public func starts(with prefix: String) -> Bool { buffer.starts(with: prefix.utf8) }
}

/// One entry of `.gnu.version_r`: the versions needed from one file.
public struct VersionNeed: Sendable, Hashable {
    public var file: String
    public var versions: [VersionNeedEntry]
}

/// One `Vernaux`: a version name needed from a file, and the versym index that names it.
public struct VersionNeedEntry: Sendable, Hashable {
    public var name: String
    public var index: UInt16
    public var flags: UInt16
    public var hash: UInt32
    public var isWeak: Bool { flags & SymbolVersioning.VER_FLG_WEAK != 0 }
}

/// One entry of `.gnu.version_d`.
public struct VersionDefinition: Sendable, Hashable {
    public var index: UInt16
    public var flags: UInt16
    public var name: String
    /// The version names this one inherits from (the Verdaux entries after the first).
    public var parents: [String]
    /// VER_FLG_BASE: the entry naming the file itself (its soname).
    public var isBase: Bool { flags & SymbolVersioning.VER_FLG_BASE != 0 }
}

/// What the notes say about the toolchain and the target OS.
public struct NoteSummary: Sendable, Hashable {
    /// NT_GNU_ABI_TAG: OS (0 = Linux) and oldest kernel version.
    public var abiTag: ABITag?
    /// NT_GNU_BUILD_ID, lowercase hex.
    public var buildID: String?
    /// The Go toolchain's build id: present only in binaries built by Go.
    public var goBuildID: String?

    public struct ABITag: Sendable, Hashable {
        public var os: UInt32
        public var major: UInt32
        public var minor: UInt32
        public var patch: UInt32
        public var osName: String {
            switch os {
            case 0: "Linux"
            case 1: "GNU"
            case 2: "Solaris2"
            case 3: "FreeBSD"
            default: "os-\(os)"
            }
        }
        public var description: String { "\(osName) \(major).\(minor).\(patch)" }
    }
}

/// Everything muslcheck reads from one ELF file.
public struct ELFFile: Sendable, Hashable {
    /// How the user names the file, including an archive member (`dist/app.whl!pkg/mod.so`).
    public var path: String
    public var header: ELFHeader
    public var interpreter: String?
    public var linkage: Linkage
    public var gnuStack: GNUStack?
    /// A PT_TLS segment: the file has thread-local storage.
    public var hasTLS: Bool
    /// The dynamic section as a loader finds it, through PT_DYNAMIC (or, in a file with no
    /// section headers, through the program headers alone). Nil when the file has none.
    public var dynamic: DynamicSection?
    /// A dynamic section that only the section headers name, in a program or library with no
    /// PT_DYNAMIC: no loader reads it (musl's map_library refuses the file with ENOEXEC, glibc
    /// with "object file has no dynamic section"). `inspect` shows it, marked as such.
    public var sectionOnlyDynamic: DynamicSection?
    /// The dynamic symbols, without the null symbol at index 0, in table order.
    public var symbols: [DynamicSymbol]
    public var versionNeeds: [VersionNeed]
    public var versionDefinitions: [VersionDefinition]
    public var relocations: RelocationSummary
    public var notes: NoteSummary
    /// Where the file's tables are damaged: what was read is kept, and each problem is named here.
    public var problems: [String]
    /// The file has no section headers; everything was read through the program headers.
    public var readThroughSegments: Bool
    /// Why no loader can map this program or library as it is (a file cut short, segments
    /// outside the file, no PT_LOAD), or nil. Damage only in the section headers or symbol
    /// tables does not stop a loader, which reads the program headers and the dynamic section.
    public var loadDamage: String?

    /// True when some part could not be read (see `problems`).
    public var isPartial: Bool { !problems.isEmpty }

    public var needed: [String] { dynamic?.needed ?? [] }
    public var soname: String? { dynamic?.soname }
}
