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

/// One symbol of `.dynsym` (or of DT_SYMTAB), with its GNU version. The fields are declared
/// largest first: a library has up to a hundred thousand of these, and this order takes 96 bytes
/// a symbol where the natural one took 120.
public struct DynamicSymbol: Sendable, Hashable {
    /// Index in the dynamic symbol table (what relocations refer to).
    public var index: Int
    public var name: String
    /// `symbolNameHash` of the name's bytes, computed while reading it.
    public var nameHash: UInt64
    public var value: UInt64
    public var size: UInt64
    /// The version's name: from a version definition for a defined symbol, from a version need for
    /// an undefined one. Nil for unversioned, local and base-version symbols.
    public var version: String?
    /// For an undefined symbol with a version need: the file (DT_NEEDED name) that need belongs to.
    public var library: String?
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

    public var isDefined: Bool { sectionIndex != SectionIndex.SHN_UNDEF }
    public var isUndefined: Bool { sectionIndex == SectionIndex.SHN_UNDEF }
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
    /// Nil when the file has no dynamic section.
    public var dynamic: DynamicSection?
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

    /// True when some part could not be read (see `problems`).
    public var isPartial: Bool { !problems.isEmpty }

    public var needed: [String] { dynamic?.needed ?? [] }
    public var soname: String? { dynamic?.soname }
}
