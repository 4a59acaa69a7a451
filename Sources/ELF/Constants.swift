// Names and values from the System V gABI ("ELF-64 Object File Format", gABI 4.1 draft) and the
// LSB's symbol-versioning extensions. Each type keeps the raw value so that an unknown value is
// carried through instead of being dropped.

/// `e_ident[EI_CLASS]`.
public struct ELFClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ELFCLASS32 = ELFClass(rawValue: 1)
    public static let ELFCLASS64 = ELFClass(rawValue: 2)
    public var description: String {
        switch self {
        case .ELFCLASS32: "ELF32"
        case .ELFCLASS64: "ELF64"
        default: "class-\(rawValue)"
        }
    }
}

/// `e_ident[EI_DATA]`.
public struct ELFData: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ELFDATA2LSB = ELFData(rawValue: 1)
    public static let ELFDATA2MSB = ELFData(rawValue: 2)
    public var isBigEndian: Bool { self == .ELFDATA2MSB }
    public var description: String {
        switch self {
        case .ELFDATA2LSB: "little"
        case .ELFDATA2MSB: "big"
        default: "data-\(rawValue)"
        }
    }
}

/// `e_ident[EI_OSABI]`.
public struct ELFOSABI: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let ELFOSABI_NONE = ELFOSABI(rawValue: 0)
    public static let ELFOSABI_HPUX = ELFOSABI(rawValue: 1)
    public static let ELFOSABI_NETBSD = ELFOSABI(rawValue: 2)
    public static let ELFOSABI_GNU = ELFOSABI(rawValue: 3)  // also "ELFOSABI_LINUX"
    public static let ELFOSABI_SOLARIS = ELFOSABI(rawValue: 6)
    public static let ELFOSABI_AIX = ELFOSABI(rawValue: 7)
    public static let ELFOSABI_IRIX = ELFOSABI(rawValue: 8)
    public static let ELFOSABI_FREEBSD = ELFOSABI(rawValue: 9)
    public static let ELFOSABI_TRU64 = ELFOSABI(rawValue: 10)
    public static let ELFOSABI_OPENBSD = ELFOSABI(rawValue: 12)
    public static let ELFOSABI_ARM_AEABI = ELFOSABI(rawValue: 64)
    public static let ELFOSABI_ARM = ELFOSABI(rawValue: 97)
    public static let ELFOSABI_STANDALONE = ELFOSABI(rawValue: 255)

    /// Linux loaders (glibc's and musl's) accept these two.
    public var isLinuxCompatible: Bool { self == .ELFOSABI_NONE || self == .ELFOSABI_GNU }

    public var description: String {
        switch self {
        case .ELFOSABI_NONE: "SYSV"
        case .ELFOSABI_HPUX: "HPUX"
        case .ELFOSABI_NETBSD: "NETBSD"
        case .ELFOSABI_GNU: "GNU"
        case .ELFOSABI_SOLARIS: "SOLARIS"
        case .ELFOSABI_AIX: "AIX"
        case .ELFOSABI_IRIX: "IRIX"
        case .ELFOSABI_FREEBSD: "FREEBSD"
        case .ELFOSABI_TRU64: "TRU64"
        case .ELFOSABI_OPENBSD: "OPENBSD"
        case .ELFOSABI_ARM_AEABI: "ARM_AEABI"
        case .ELFOSABI_ARM: "ARM"
        case .ELFOSABI_STANDALONE: "STANDALONE"
        default: "OSABI-\(rawValue)"
        }
    }
}

/// `e_type`.
public struct ELFType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let ET_NONE = ELFType(rawValue: 0)
    public static let ET_REL = ELFType(rawValue: 1)
    public static let ET_EXEC = ELFType(rawValue: 2)
    public static let ET_DYN = ELFType(rawValue: 3)
    public static let ET_CORE = ELFType(rawValue: 4)
    public var description: String {
        switch self {
        case .ET_NONE: "NONE"
        case .ET_REL: "REL"
        case .ET_EXEC: "EXEC"
        case .ET_DYN: "DYN"
        case .ET_CORE: "CORE"
        default: "TYPE-\(rawValue)"
        }
    }
}

/// `e_machine`. `description` is the name used in muslcheck's output and in musl's loader
/// file names where the two coincide.
public struct ELFMachine: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let EM_NONE = ELFMachine(rawValue: 0)
    public static let EM_SPARC = ELFMachine(rawValue: 2)
    public static let EM_386 = ELFMachine(rawValue: 3)
    public static let EM_68K = ELFMachine(rawValue: 4)
    public static let EM_MIPS = ELFMachine(rawValue: 8)
    public static let EM_MIPS_RS3_LE = ELFMachine(rawValue: 10)
    public static let EM_PARISC = ELFMachine(rawValue: 15)
    public static let EM_SPARC32PLUS = ELFMachine(rawValue: 18)
    public static let EM_PPC = ELFMachine(rawValue: 20)
    public static let EM_PPC64 = ELFMachine(rawValue: 21)
    public static let EM_S390 = ELFMachine(rawValue: 22)
    public static let EM_ARM = ELFMachine(rawValue: 40)
    public static let EM_SH = ELFMachine(rawValue: 42)
    public static let EM_SPARCV9 = ELFMachine(rawValue: 43)
    public static let EM_IA_64 = ELFMachine(rawValue: 50)
    public static let EM_X86_64 = ELFMachine(rawValue: 62)
    public static let EM_OPENRISC = ELFMachine(rawValue: 92)
    public static let EM_XTENSA = ELFMachine(rawValue: 94)
    public static let EM_MSP430 = ELFMachine(rawValue: 105)
    public static let EM_AARCH64 = ELFMachine(rawValue: 183)
    public static let EM_AVR32 = ELFMachine(rawValue: 185)
    public static let EM_MICROBLAZE = ELFMachine(rawValue: 189)
    public static let EM_CUDA = ELFMachine(rawValue: 190)
    public static let EM_RISCV = ELFMachine(rawValue: 243)
    public static let EM_BPF = ELFMachine(rawValue: 247)
    public static let EM_LOONGARCH = ELFMachine(rawValue: 258)

    public var description: String {
        switch self {
        case .EM_NONE: "none"
        case .EM_SPARC: "sparc"
        case .EM_386: "i386"
        case .EM_68K: "m68k"
        case .EM_MIPS, .EM_MIPS_RS3_LE: "mips"
        case .EM_PARISC: "parisc"
        case .EM_SPARC32PLUS: "sparc32plus"
        case .EM_PPC: "powerpc"
        case .EM_PPC64: "powerpc64"
        case .EM_S390: "s390"
        case .EM_ARM: "arm"
        case .EM_SH: "sh"
        case .EM_SPARCV9: "sparc64"
        case .EM_IA_64: "ia64"
        case .EM_X86_64: "x86_64"
        case .EM_OPENRISC: "or1k"
        case .EM_XTENSA: "xtensa"
        case .EM_MSP430: "msp430"
        case .EM_AARCH64: "aarch64"
        case .EM_AVR32: "avr32"
        case .EM_MICROBLAZE: "microblaze"
        case .EM_CUDA: "cuda"
        case .EM_RISCV: "riscv"
        case .EM_BPF: "bpf"
        case .EM_LOONGARCH: "loongarch"
        default: "machine-\(rawValue)"
        }
    }
}

/// `p_type`.
public struct SegmentType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let PT_NULL = SegmentType(rawValue: 0)
    public static let PT_LOAD = SegmentType(rawValue: 1)
    public static let PT_DYNAMIC = SegmentType(rawValue: 2)
    public static let PT_INTERP = SegmentType(rawValue: 3)
    public static let PT_NOTE = SegmentType(rawValue: 4)
    public static let PT_SHLIB = SegmentType(rawValue: 5)
    public static let PT_PHDR = SegmentType(rawValue: 6)
    public static let PT_TLS = SegmentType(rawValue: 7)
    public static let PT_GNU_EH_FRAME = SegmentType(rawValue: 0x6474_e550)
    public static let PT_GNU_STACK = SegmentType(rawValue: 0x6474_e551)
    public static let PT_GNU_RELRO = SegmentType(rawValue: 0x6474_e552)
    public static let PT_GNU_PROPERTY = SegmentType(rawValue: 0x6474_e553)
}

/// `sh_type`, the ones the reader looks at.
public struct SectionType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let SHT_NULL = SectionType(rawValue: 0)
    public static let SHT_PROGBITS = SectionType(rawValue: 1)
    public static let SHT_SYMTAB = SectionType(rawValue: 2)
    public static let SHT_STRTAB = SectionType(rawValue: 3)
    public static let SHT_RELA = SectionType(rawValue: 4)
    public static let SHT_HASH = SectionType(rawValue: 5)
    public static let SHT_DYNAMIC = SectionType(rawValue: 6)
    public static let SHT_NOTE = SectionType(rawValue: 7)
    public static let SHT_NOBITS = SectionType(rawValue: 8)
    public static let SHT_REL = SectionType(rawValue: 9)
    public static let SHT_DYNSYM = SectionType(rawValue: 11)
    public static let SHT_GNU_HASH = SectionType(rawValue: 0x6fff_fff6)
    public static let SHT_GNU_verdef = SectionType(rawValue: 0x6fff_fffd)
    public static let SHT_GNU_verneed = SectionType(rawValue: 0x6fff_fffe)
    public static let SHT_GNU_versym = SectionType(rawValue: 0x6fff_ffff)
}

/// `d_tag`.
public struct DynamicTag: RawRepresentable, Hashable, Sendable {
    public var rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public static let DT_NULL = DynamicTag(rawValue: 0)
    public static let DT_NEEDED = DynamicTag(rawValue: 1)
    public static let DT_PLTRELSZ = DynamicTag(rawValue: 2)
    public static let DT_HASH = DynamicTag(rawValue: 4)
    public static let DT_STRTAB = DynamicTag(rawValue: 5)
    public static let DT_SYMTAB = DynamicTag(rawValue: 6)
    public static let DT_RELA = DynamicTag(rawValue: 7)
    public static let DT_RELASZ = DynamicTag(rawValue: 8)
    public static let DT_RELAENT = DynamicTag(rawValue: 9)
    public static let DT_STRSZ = DynamicTag(rawValue: 10)
    public static let DT_SYMENT = DynamicTag(rawValue: 11)
    public static let DT_SONAME = DynamicTag(rawValue: 14)
    public static let DT_RPATH = DynamicTag(rawValue: 15)
    public static let DT_SYMBOLIC = DynamicTag(rawValue: 16)
    public static let DT_REL = DynamicTag(rawValue: 17)
    public static let DT_RELSZ = DynamicTag(rawValue: 18)
    public static let DT_RELENT = DynamicTag(rawValue: 19)
    public static let DT_PLTREL = DynamicTag(rawValue: 20)
    public static let DT_TEXTREL = DynamicTag(rawValue: 22)
    public static let DT_JMPREL = DynamicTag(rawValue: 23)
    public static let DT_BIND_NOW = DynamicTag(rawValue: 24)
    public static let DT_RUNPATH = DynamicTag(rawValue: 29)
    public static let DT_FLAGS = DynamicTag(rawValue: 30)
    /// Packed relative relocations (`-z pack-relative-relocs`); musl reads them from 1.2.4 on.
    public static let DT_RELR = DynamicTag(rawValue: 36)
    public static let DT_GNU_HASH = DynamicTag(rawValue: 0x6fff_fef5)
    public static let DT_VERSYM = DynamicTag(rawValue: 0x6fff_fff0)
    public static let DT_FLAGS_1 = DynamicTag(rawValue: 0x6fff_fffb)
    public static let DT_VERDEF = DynamicTag(rawValue: 0x6fff_fffc)
    public static let DT_VERDEFNUM = DynamicTag(rawValue: 0x6fff_fffd)
    public static let DT_VERNEED = DynamicTag(rawValue: 0x6fff_fffe)
    public static let DT_VERNEEDNUM = DynamicTag(rawValue: 0x6fff_ffff)
}

/// Values of `DT_FLAGS`.
public struct DynamicFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let DF_ORIGIN = DynamicFlags(rawValue: 0x1)
    public static let DF_SYMBOLIC = DynamicFlags(rawValue: 0x2)
    public static let DF_TEXTREL = DynamicFlags(rawValue: 0x4)
    public static let DF_BIND_NOW = DynamicFlags(rawValue: 0x8)
    /// The object uses the initial-exec TLS model: it cannot be loaded with dlopen by loaders
    /// without static TLS reserve (musl included).
    public static let DF_STATIC_TLS = DynamicFlags(rawValue: 0x10)

    static let names: [(DynamicFlags, String)] = [
        (.DF_ORIGIN, "ORIGIN"), (.DF_SYMBOLIC, "SYMBOLIC"), (.DF_TEXTREL, "TEXTREL"),
        (.DF_BIND_NOW, "BIND_NOW"), (.DF_STATIC_TLS, "STATIC_TLS"),
    ]
    public var names: [String] { flagNames(rawValue, Self.names.map { ($0.0.rawValue, $0.1) }) }
}

/// Values of `DT_FLAGS_1`.
public struct DynamicFlags1: OptionSet, Hashable, Sendable {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let DF_1_NOW = DynamicFlags1(rawValue: 0x1)
    public static let DF_1_GLOBAL = DynamicFlags1(rawValue: 0x2)
    public static let DF_1_GROUP = DynamicFlags1(rawValue: 0x4)
    public static let DF_1_NODELETE = DynamicFlags1(rawValue: 0x8)
    public static let DF_1_INITFIRST = DynamicFlags1(rawValue: 0x20)
    public static let DF_1_NOOPEN = DynamicFlags1(rawValue: 0x40)
    public static let DF_1_ORIGIN = DynamicFlags1(rawValue: 0x80)
    public static let DF_1_PIE = DynamicFlags1(rawValue: 0x0800_0000)

    static let names: [(DynamicFlags1, String)] = [
        (.DF_1_NOW, "NOW"), (.DF_1_GLOBAL, "GLOBAL"), (.DF_1_GROUP, "GROUP"),
        (.DF_1_NODELETE, "NODELETE"), (.DF_1_INITFIRST, "INITFIRST"), (.DF_1_NOOPEN, "NOOPEN"),
        (.DF_1_ORIGIN, "ORIGIN"), (.DF_1_PIE, "PIE"),
    ]
    public var names: [String] { flagNames(rawValue, Self.names.map { ($0.0.rawValue, $0.1) }) }
}

func flagNames(_ value: UInt64, _ table: [(UInt64, String)]) -> [String] {
    var rest = value
    var out: [String] = []
    for (bit, name) in table where value & bit != 0 {
        out.append(name)
        rest &= ~bit
    }
    if rest != 0 { out.append("0x" + String(rest, radix: 16)) }
    return out
}

/// `ELF64_ST_BIND(st_info)`.
public struct SymbolBinding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let STB_LOCAL = SymbolBinding(rawValue: 0)
    public static let STB_GLOBAL = SymbolBinding(rawValue: 1)
    public static let STB_WEAK = SymbolBinding(rawValue: 2)
    public static let STB_GNU_UNIQUE = SymbolBinding(rawValue: 10)
    public var description: String {
        switch self {
        case .STB_LOCAL: "LOCAL"
        case .STB_GLOBAL: "GLOBAL"
        case .STB_WEAK: "WEAK"
        case .STB_GNU_UNIQUE: "UNIQUE"
        default: "<\(rawValue)>"
        }
    }
}

/// `ELF64_ST_TYPE(st_info)`.
public struct SymbolType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let STT_NOTYPE = SymbolType(rawValue: 0)
    public static let STT_OBJECT = SymbolType(rawValue: 1)
    public static let STT_FUNC = SymbolType(rawValue: 2)
    public static let STT_SECTION = SymbolType(rawValue: 3)
    public static let STT_FILE = SymbolType(rawValue: 4)
    public static let STT_COMMON = SymbolType(rawValue: 5)
    public static let STT_TLS = SymbolType(rawValue: 6)
    public static let STT_GNU_IFUNC = SymbolType(rawValue: 10)
    public var description: String {
        switch self {
        case .STT_NOTYPE: "NOTYPE"
        case .STT_OBJECT: "OBJECT"
        case .STT_FUNC: "FUNC"
        case .STT_SECTION: "SECTION"
        case .STT_FILE: "FILE"
        case .STT_COMMON: "COMMON"
        case .STT_TLS: "TLS"
        case .STT_GNU_IFUNC: "IFUNC"
        default: "<\(rawValue)>"
        }
    }
}

/// `ELF64_ST_VISIBILITY(st_other)`.
public struct SymbolVisibility: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let STV_DEFAULT = SymbolVisibility(rawValue: 0)
    public static let STV_INTERNAL = SymbolVisibility(rawValue: 1)
    public static let STV_HIDDEN = SymbolVisibility(rawValue: 2)
    public static let STV_PROTECTED = SymbolVisibility(rawValue: 3)
    public var description: String {
        switch self {
        case .STV_DEFAULT: "DEFAULT"
        case .STV_INTERNAL: "INTERNAL"
        case .STV_HIDDEN: "HIDDEN"
        default: "PROTECTED"
        }
    }
}

/// Special section indexes (`st_shndx`).
public enum SectionIndex {
    public static let SHN_UNDEF: UInt32 = 0
    public static let SHN_ABS: UInt32 = 0xfff1
    public static let SHN_COMMON: UInt32 = 0xfff2
    public static let SHN_XINDEX: UInt32 = 0xffff
}

/// LSB symbol versioning (`.gnu.version`, `.gnu.version_r`, `.gnu.version_d`).
public enum SymbolVersioning {
    /// Version index 0: the symbol is local.
    public static let VER_NDX_LOCAL: UInt16 = 0
    /// Version index 1: the symbol is global, unversioned (or the base definition).
    public static let VER_NDX_GLOBAL: UInt16 = 1
    /// High bit of a versym entry: the definition is hidden (`sym@VER`, not `sym@@VER`).
    public static let VERSYM_HIDDEN: UInt16 = 0x8000
    public static let VERSYM_VERSION: UInt16 = 0x7fff
    /// `vd_flags`: the version definition of the file itself.
    public static let VER_FLG_BASE: UInt16 = 0x1
    /// `vna_flags` / `vd_flags`: a weak version reference.
    public static let VER_FLG_WEAK: UInt16 = 0x2
}

/// Note types, per owner.
public enum NoteType {
    /// Owner "GNU": OS and oldest kernel ABI the object supports.
    public static let NT_GNU_ABI_TAG: UInt32 = 1
    /// Owner "GNU": unique build identifier.
    public static let NT_GNU_BUILD_ID: UInt32 = 3
    /// Owner "Go": the Go toolchain's build id (`.note.go.buildid`).
    public static let NT_GO_BUILD_ID: UInt32 = 4
}
