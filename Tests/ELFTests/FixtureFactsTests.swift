import ELF
import Foundation
import Testing
import TestSupport

/// What each fixture was built to contain, read back.
@Suite struct FixtureFactsTests {
    static func read(_ name: String) throws -> ELFFile {
        try ELFReader.read(path: try Fixtures.path(name))
    }

    @Test(arguments: [
        ("hello-glibc", Linkage.dynamicPIE, "/lib64/ld-linux-x86-64.so.2"),
        ("hello-musl", .dynamicPIE, "/lib/ld-musl-x86_64.so.1"),
        ("hello-glibc-static", .static, nil),
        ("hello-musl-static", .static, nil),
        ("hello-glibc-static-pie", .staticPIE, nil),
        ("libversioned.so.1", .sharedLibrary, nil),
        ("runpath/librunpath.so", .sharedLibrary, nil),
    ] as [(String, Linkage, String?)])
    func linkageAndInterpreter(name: String, linkage: Linkage, interpreter: String?) throws {
        let file = try Self.read(name)
        #expect(file.linkage == linkage)
        #expect(file.interpreter == interpreter)
        #expect(!file.isPartial, "\(file.problems)")
    }

    @Test func staticExecutablesHaveNoDynamicSection() throws {
        let glibcStatic = try Self.read("hello-glibc-static")
        let muslStatic = try Self.read("hello-musl-static")
        #expect(glibcStatic.dynamic == nil)
        #expect(muslStatic.dynamic == nil)
        let pie = try Self.read("hello-glibc-static-pie")
        #expect(pie.dynamic?.needed == [])
        #expect(pie.dynamic?.flags1.contains(.DF_1_PIE) == true)
        // glibc's static-pie start code relocates its IFUNCs itself.
        #expect(pie.relocations.count(of: .irelative, machine: pie.header.machine) > 0)
    }

    @Test func muslProgramNeedsMuslLibcByItsReservedName() throws {
        let file = try Self.read("hello-musl")
        #expect(file.needed == ["libc.so"])
        #expect(file.versionNeeds.isEmpty)
        #expect(file.symbols.filter(\.isUndefined).allSatisfy { $0.version == nil })
    }

    @Test func versionScriptGivesHiddenCompatAndDefaultDefinitions() throws {
        let lib = try Self.read("libversioned.so.1")
        #expect(lib.versionDefinitions.map(\.name) == ["libversioned.so.1", "VERS_1", "VERS_2"])
        #expect(lib.versionDefinitions.map(\.isBase) == [true, false, false])
        #expect(lib.versionDefinitions[2].parents == ["VERS_1"])
        let foo = lib.symbols.filter { $0.name == "foo" }
        #expect(foo.map(\.version) == ["VERS_1", "VERS_2"])
        #expect(foo.map(\.hidden) == [true, false])
        #expect(foo.allSatisfy { $0.isDefined })

        let user = try Self.read("use-versioned-glibc")
        let need = try #require(user.versionNeeds.first { $0.file == "libversioned.so.1" })
        #expect(need.versions.map(\.name) == ["VERS_2"])
        let bound = try #require(user.symbols.first { $0.name == "foo" })
        #expect(bound.isUndefined)
        #expect(bound.version == "VERS_2")
        #expect(bound.library == "libversioned.so.1")
        #expect(user.dynamic?.runpath == ["$ORIGIN"] || user.dynamic?.rpath == ["$ORIGIN"])
    }

    @Test func cxxLibraryNeedsLibstdcxxVersions() throws {
        let lib = try Self.read("libcxxlib.so")
        #expect(lib.needed.contains("libstdc++.so.6"))
        let stdcxx = try #require(lib.versionNeeds.first { $0.file == "libstdc++.so.6" })
        let names = stdcxx.versions.map(\.name)
        #expect(names.contains { $0.hasPrefix("GLIBCXX_3.4") })
        #expect(names.contains { $0.hasPrefix("CXXABI_1.3") })
        let gcc = try #require(lib.versionNeeds.first { $0.file == "libgcc_s.so.1" })
        #expect(gcc.versions.map(\.name).contains { $0.hasPrefix("GCC_") })
        // Undefined C++ symbols name the library their version need belongs to.
        let mangled = lib.symbols.filter { $0.isUndefined && $0.name.hasPrefix("_Z") && $0.version?.hasPrefix("GLIBCXX") == true }
        #expect(!mangled.isEmpty)
        #expect(mangled.allSatisfy { $0.library == "libstdc++.so.6" })
    }

    @Test func runpathOriginAndDependency() throws {
        let lib = try Self.read("runpath/librunpath.so")
        #expect(lib.dynamic?.runpath == ["$ORIGIN"])
        #expect(lib.dynamic?.rpath == [])
        #expect(lib.needed == ["libdep.so"])
        let dep = try Self.read("runpath/libdep.so")
        #expect(dep.soname == "libdep.so")
    }

    @Test func fortifiedProgramCallsChkFunctions() throws {
        let file = try Self.read("fortify-glibc")
        let chk = file.symbols.filter { $0.isUndefined && $0.name.hasPrefix("__") && $0.name.hasSuffix("_chk") }.map(\.name)
        #expect(chk.contains("__snprintf_chk") || chk.contains("__sprintf_chk"))
        #expect(chk.contains("__strcpy_chk") || chk.contains("__memcpy_chk"))
        #expect(file.symbols.filter { chk.contains($0.name) }.allSatisfy { $0.relocationUse.contains(.referenced) })
    }

    @Test func ifuncLibraryExportsAnIFUNCAndUsesIRELATIVE() throws {
        let lib = try Self.read("libifunc.so")
        let fast = try #require(lib.symbols.first { $0.name == "fast_double" })
        #expect(fast.type == .STT_GNU_IFUNC)
        #expect(fast.isDefined)
        #expect(lib.relocations.countsByType[37] == 1, "one R_X86_64_IRELATIVE for the hidden IFUNC")
        #expect(RelocationType(machine: .EM_X86_64, rawValue: 37).name == "R_X86_64_IRELATIVE")
    }

    @Test func initialExecTLSLibrarySetsStaticTLS() throws {
        let lib = try Self.read("libtlsie.so")
        #expect(lib.dynamic?.flags.contains(.DF_STATIC_TLS) == true)
        #expect(lib.hasTLS)
        let counter = try #require(lib.symbols.first { $0.name == "tls_counter" })
        #expect(counter.type == .STT_TLS)
        #expect(counter.relocationUse.contains(.tlsInitialExec))
        #expect(lib.relocations.count(of: .tlsInitialExec, machine: .EM_X86_64) >= 1)
    }

    @Test func notesGiveABITagBuildIDAndGoBuildID() throws {
        let hello = try Self.read("hello-glibc")
        #expect(hello.notes.abiTag?.osName == "Linux")
        #expect(hello.notes.buildID?.count == 40)
        #expect(hello.notes.goBuildID == nil)
        let go = try Self.read("hello-go-note")
        #expect(go.notes.goBuildID == "muslcheck-go-id!")
    }

    @Test func memoryAndFileReadsAgree() throws {
        for name in ["libcxxlib.so", "hello-musl", "libversioned.so.1", "hello-glibc-static-pie"] {
            let path = try Fixtures.path(name)
            let fromFile = try ELFReader.read(path: path)
            let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
            let fromMemory = try ELFReader.read(bytes: bytes, displayPath: path)
            #expect(fromFile == fromMemory)
        }
    }
}

/// Symbol names are spans of one copy of the file's string table; a name outside the table gets
/// a stand-in that says so, and the other names are unchanged.
@Suite struct SymbolNameStorageTests {
    /// The file offset of `.dynsym`'s entry `index` in an ELF64 little-endian image.
    static func dynsymEntry(_ bytes: [UInt8], index: Int) throws -> Int {
        func word<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: T.self) }
        }
        let shoff = Int(word(0x28, UInt64.self))
        let shentsize = Int(word(0x3a, UInt16.self))
        let shnum = Int(word(0x3c, UInt16.self))
        for i in 0..<shnum {
            let sh = shoff + i * shentsize
            if word(sh + 4, UInt32.self) == 11 {  // SHT_DYNSYM
                return Int(word(sh + 0x18, UInt64.self)) + index * Int(word(sh + 0x38, UInt64.self))
            }
        }
        throw ELFError(path: "fixture", reason: .notELF)
    }

    @Test func aNameOutsideTheStringTableGetsAStandInAndTheOthersKeepTheirs() throws {
        let path = try Fixtures.path("libversioned.so.1")
        let original = try ELFReader.read(path: path)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        let entry = try Self.dynsymEntry(bytes, index: 1)
        let bad: UInt32 = 0xffff_ff00
        withUnsafeBytes(of: bad.littleEndian) { for (k, b) in $0.enumerated() { bytes[entry + k] = b } }
        let damaged = try ELFReader.read(bytes: bytes, displayPath: "damaged")

        #expect(damaged.symbols.count == original.symbols.count)
        #expect(damaged.symbols[0].name == "<bad string \(bad)>")
        #expect(damaged.symbols[0].nameHash == symbolNameHash("<bad string \(bad)>"))
        #expect(damaged.symbols[0].nameFirstByte == UInt8(ascii: "<"))
        #expect(damaged.problems.contains("1 dynamic symbols name strings outside the string table"), "\(damaged.problems)")
        // Every other symbol reads as before, and compares equal to the undamaged file's
        // (the names lie in two different copies of the table).
        #expect(Array(damaged.symbols.dropFirst()) == Array(original.symbols.dropFirst()))
        #expect(Set(damaged.symbols.dropFirst()) == Set(original.symbols.dropFirst()))
        #expect(damaged.symbols[0] != original.symbols[0])
        // One storage per file, shared by all of its symbols.
        #expect(Set(damaged.symbols.map { ObjectIdentifier($0.strings) }).count == 1)
        #expect(Set(original.symbols.map { ObjectIdentifier($0.strings) }).count == 1)
    }

    @Test func namesComparedInPlaceAgreeWithStrings() throws {
        let lib = try FixtureFactsTests.read("libversioned.so.1")
        for s in lib.symbols {
            #expect(s.hasName(s.name))
            #expect(!s.hasName(s.name + "x"))
            #expect(s.nameBytes.equals(s.name))
            #expect(Int(s.nameSpan.length) == s.name.utf8.count)
            #expect(s.nameHash == symbolNameHash(s.name))
        }
        #expect(lib.symbols.contains { $0.hasName("foo") })
        // The layout the comment on DynamicSymbol promises.
        #expect(MemoryLayout<DynamicSymbol>.stride == 64)
    }
}
