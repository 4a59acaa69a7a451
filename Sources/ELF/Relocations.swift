/// What a relocation does, in the terms of the processor supplements (psABIs), reduced to what a
/// dynamic loader must do with it. musl's loader maps each machine's types to the same few kinds
/// (its `arch/*/reloc.h`); a type with no kind here is one a loader may refuse.
public enum RelocationKind: String, Sendable, Hashable, Codable, CaseIterable {
    case none
    /// Word-sized absolute or PC-relative reference to a symbol.
    case symbolic
    /// `*_GLOB_DAT`: GOT slot of a data or function symbol.
    case got
    /// `*_JUMP_SLOT`: PLT slot.
    case plt
    /// `*_COPY`: the executable holds a copy of a library's object.
    case copy
    /// `*_RELATIVE`: base-relative, no symbol.
    case relative
    /// `*_IRELATIVE`: resolved by calling an IFUNC resolver (glibc only).
    case irelative
    case tlsModule
    case tlsOffset
    /// `*_TPOFF*`: initial-exec / local-exec TLS offset from the thread pointer.
    case tlsInitialExec
    case tlsDescriptor
    /// A static-link or unknown type; not one a dynamic loader expects.
    case other
}

/// A relocation type number with its psABI name and kind for a machine.
public struct RelocationType: Sendable, Hashable {
    public var machine: ELFMachine
    public var rawValue: UInt32

    public init(machine: ELFMachine, rawValue: UInt32) {
        self.machine = machine
        self.rawValue = rawValue
    }

    public var name: String {
        RelocationType.table[machine]?[rawValue]?.0 ?? "R_\(rawValue)"
    }

    public var kind: RelocationKind {
        if let entry = RelocationType.table[machine]?[rawValue] { return entry.1 }
        return rawValue == 0 ? .none : .other
    }

    // The dynamic relocation types of the psABIs for the machines musl runs on most.
    static let table: [ELFMachine: [UInt32: (String, RelocationKind)]] = [
        .EM_X86_64: [
            0: ("R_X86_64_NONE", .none), 1: ("R_X86_64_64", .symbolic), 2: ("R_X86_64_PC32", .symbolic),
            5: ("R_X86_64_COPY", .copy), 6: ("R_X86_64_GLOB_DAT", .got), 7: ("R_X86_64_JUMP_SLOT", .plt),
            8: ("R_X86_64_RELATIVE", .relative), 10: ("R_X86_64_32", .other), 11: ("R_X86_64_32S", .other),
            16: ("R_X86_64_DTPMOD64", .tlsModule), 17: ("R_X86_64_DTPOFF64", .tlsOffset),
            18: ("R_X86_64_TPOFF64", .tlsInitialExec), 24: ("R_X86_64_PC64", .other),
            36: ("R_X86_64_TLSDESC", .tlsDescriptor), 37: ("R_X86_64_IRELATIVE", .irelative),
            38: ("R_X86_64_RELATIVE64", .other),
        ],
        .EM_386: [
            0: ("R_386_NONE", .none), 1: ("R_386_32", .symbolic), 2: ("R_386_PC32", .symbolic),
            5: ("R_386_COPY", .copy), 6: ("R_386_GLOB_DAT", .got), 7: ("R_386_JMP_SLOT", .plt),
            8: ("R_386_RELATIVE", .relative), 14: ("R_386_TLS_TPOFF", .tlsInitialExec),
            35: ("R_386_TLS_DTPMOD32", .tlsModule), 36: ("R_386_TLS_DTPOFF32", .tlsOffset),
            37: ("R_386_TLS_TPOFF32", .tlsInitialExec), 41: ("R_386_TLS_DESC", .tlsDescriptor),
            42: ("R_386_IRELATIVE", .irelative),
        ],
        .EM_AARCH64: [
            0: ("R_AARCH64_NONE", .none), 257: ("R_AARCH64_ABS64", .symbolic),
            1024: ("R_AARCH64_COPY", .copy), 1025: ("R_AARCH64_GLOB_DAT", .got),
            1026: ("R_AARCH64_JUMP_SLOT", .plt), 1027: ("R_AARCH64_RELATIVE", .relative),
            1028: ("R_AARCH64_TLS_DTPMOD64", .tlsModule), 1029: ("R_AARCH64_TLS_DTPREL64", .tlsOffset),
            1030: ("R_AARCH64_TLS_TPREL64", .tlsInitialExec), 1031: ("R_AARCH64_TLSDESC", .tlsDescriptor),
            1032: ("R_AARCH64_IRELATIVE", .irelative),
        ],
        .EM_ARM: [
            0: ("R_ARM_NONE", .none), 2: ("R_ARM_ABS32", .symbolic), 3: ("R_ARM_REL32", .symbolic),
            17: ("R_ARM_TLS_DTPMOD32", .tlsModule), 18: ("R_ARM_TLS_DTPOFF32", .tlsOffset),
            19: ("R_ARM_TLS_TPOFF32", .tlsInitialExec), 20: ("R_ARM_COPY", .copy),
            21: ("R_ARM_GLOB_DAT", .got), 22: ("R_ARM_JUMP_SLOT", .plt), 23: ("R_ARM_RELATIVE", .relative),
            13: ("R_ARM_TLS_DESC", .tlsDescriptor), 160: ("R_ARM_IRELATIVE", .irelative),
        ],
        .EM_RISCV: [
            0: ("R_RISCV_NONE", .none), 1: ("R_RISCV_32", .symbolic), 2: ("R_RISCV_64", .symbolic),
            3: ("R_RISCV_RELATIVE", .relative), 4: ("R_RISCV_COPY", .copy), 5: ("R_RISCV_JUMP_SLOT", .plt),
            6: ("R_RISCV_TLS_DTPMOD32", .tlsModule), 7: ("R_RISCV_TLS_DTPMOD64", .tlsModule),
            8: ("R_RISCV_TLS_DTPREL32", .tlsOffset), 9: ("R_RISCV_TLS_DTPREL64", .tlsOffset),
            10: ("R_RISCV_TLS_TPREL32", .tlsInitialExec), 11: ("R_RISCV_TLS_TPREL64", .tlsInitialExec),
            12: ("R_RISCV_TLSDESC", .tlsDescriptor), 58: ("R_RISCV_IRELATIVE", .irelative),
        ],
        .EM_PPC64: [
            0: ("R_PPC64_NONE", .none), 38: ("R_PPC64_ADDR64", .symbolic), 19: ("R_PPC64_COPY", .copy),
            20: ("R_PPC64_GLOB_DAT", .got), 21: ("R_PPC64_JMP_SLOT", .plt), 22: ("R_PPC64_RELATIVE", .relative),
            68: ("R_PPC64_DTPMOD64", .tlsModule), 78: ("R_PPC64_DTPREL64", .tlsOffset),
            73: ("R_PPC64_TPREL64", .tlsInitialExec), 248: ("R_PPC64_IRELATIVE", .irelative),
        ],
        .EM_S390: [
            0: ("R_390_NONE", .none), 22: ("R_390_64", .symbolic), 9: ("R_390_COPY", .copy),
            10: ("R_390_GLOB_DAT", .got), 11: ("R_390_JMP_SLOT", .plt), 12: ("R_390_RELATIVE", .relative),
            54: ("R_390_TLS_DTPMOD", .tlsModule), 55: ("R_390_TLS_DTPOFF", .tlsOffset),
            56: ("R_390_TLS_TPOFF", .tlsInitialExec), 61: ("R_390_IRELATIVE", .irelative),
        ],
    ]
}

/// How relocations use one dynamic symbol.
public struct RelocationUse: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Referenced by at least one relocation (any type).
    public static let referenced = RelocationUse(rawValue: 1 << 0)
    /// Through a PLT (`*_JUMP_SLOT`) relocation.
    public static let plt = RelocationUse(rawValue: 1 << 1)
    /// Through a `*_COPY` relocation: looked up in every object but the one relocated.
    public static let copy = RelocationUse(rawValue: 1 << 2)
    /// Through an initial-exec TLS relocation.
    public static let tlsInitialExec = RelocationUse(rawValue: 1 << 3)
    /// By a relocation other than a PLT one (glibc resolves these at load even when binding lazily).
    public static let nonPLT = RelocationUse(rawValue: 1 << 4)
}

/// The relocations of the dynamic relocation tables (DT_RELA, DT_REL, DT_JMPREL), summarised:
/// how many of each type, and which symbols they reference (see `DynamicSymbol.relocationUse`).
public struct RelocationSummary: Sendable, Hashable {
    /// Count per relocation type number, for the file's machine.
    public var countsByType: [UInt32: Int] = [:]
    /// Total number of relocation entries read.
    public var total: Int = 0
    /// Initial-exec TLS relocations without a symbol (the object's own TLS): on dlopen, musl
    /// refuses them like symbol-named ones.
    public var localTLSInitialExec: Int = 0

    public init() {}

    public func count(of kind: RelocationKind, machine: ELFMachine) -> Int {
        countsByType.reduce(0) { acc, entry in
            RelocationType(machine: machine, rawValue: entry.key).kind == kind ? acc + entry.value : acc
        }
    }
}
