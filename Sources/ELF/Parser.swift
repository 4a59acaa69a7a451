import CLibELF

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One pass over an open libelf handle. Every table is located either through its section
/// header or, when the file has none, through PT_DYNAMIC's tags as a loader would. Every count
/// read from the file is bounded by the bytes that back it, so a hostile value cannot make a loop
/// run long or read out of bounds.
struct Parser {
    let elf: OpaquePointer
    let path: String
    let header: ELFHeader
    let fileSize: UInt64
    /// e_shoff, e_shnum and e_phoff, e_phnum as the header states them.
    let sectionHeaderOffset: UInt64, sectionHeaderCount: UInt16
    var problems: [String] = []
    var programHeadersReadable = true

    // Program headers.
    var loads: [GElf_Phdr] = []
    var interpreter: String?
    var gnuStack: GNUStack?
    var hasTLS = false
    var dynamicSegment: GElf_Phdr?
    var noteSegments: [GElf_Phdr] = []

    // Section headers (nil section = absent).
    var sectionCount = 0
    var dynamicSection: OpaquePointer?
    var dynsymSection: OpaquePointer?
    var dynsymSectionIndex = 0
    var versymSection: OpaquePointer?
    var verneedSection: OpaquePointer?
    var verdefSection: OpaquePointer?
    var relocationSections: [(scn: OpaquePointer, link: Int, isRela: Bool)] = []
    var noteSections: [OpaquePointer] = []
    var nobitsDynamic = false

    // Dynamic tags (last value wins, as in musl's decode_vec).
    var dynamicTags: [Int64: UInt64] = [:]
    var dynamicStrings: UnsafeRawBufferPointer?

    init(elf: OpaquePointer, path: String, fileSize: UInt64) throws(ELFError) {
        self.elf = elf
        self.path = path
        self.fileSize = fileSize
        var ehdr = GElf_Ehdr()
        guard gelf_getehdr(elf, &ehdr) != nil else {
            throw ELFError(path: path, reason: .truncated("ELF header unreadable (\(ELFReader.libelfMessage()))"))
        }
        header = ELFHeader(
            fileClass: ELFClass(rawValue: ehdr.e_ident.4),
            data: ELFData(rawValue: ehdr.e_ident.5),
            osABI: ELFOSABI(rawValue: ehdr.e_ident.7),
            abiVersion: ehdr.e_ident.8,
            type: ELFType(rawValue: ehdr.e_type),
            machine: ELFMachine(rawValue: ehdr.e_machine),
            entry: ehdr.e_entry
        )
        sectionHeaderOffset = ehdr.e_shoff
        sectionHeaderCount = ehdr.e_shnum
    }

    mutating func run() -> ELFFile {
        readProgramHeaders()
        readSectionHeaders()
        var dynamic = readDynamic()
        // A loader finds the dynamic section through PT_DYNAMIC only.
        var sectionOnlyDynamic: DynamicSection? = nil
        if dynamic != nil, usesSections, dynamicSegment == nil, programHeadersReadable,
           header.type == .ET_DYN || header.type == .ET_EXEC {
            sectionOnlyDynamic = dynamic
            dynamic = nil
        }
        let (versionNeeds, needIndex) = readVersionNeeds()
        let (versionDefinitions, defIndex) = readVersionDefinitions()
        var symbols = readSymbols(needIndex: needIndex, defIndex: defIndex)
        let relocations = readRelocations(symbols: &symbols)
        let notes = readNotes()
        let linkage = classify(dynamic: dynamic, symbols: symbols)
        return ELFFile(
            path: path, header: header, interpreter: interpreter, linkage: linkage, gnuStack: gnuStack,
            hasTLS: hasTLS, dynamic: dynamic, sectionOnlyDynamic: sectionOnlyDynamic, symbols: symbols, versionNeeds: versionNeeds,
            versionDefinitions: versionDefinitions, relocations: relocations, notes: notes,
            problems: problems, readThroughSegments: sectionCount == 0, loadDamage: loadDamage()
        )
    }

    /// What stops a loader (the kernel for a program, musl's `map_library` for a library) from
    /// mapping the file: every PT_LOAD's bytes and PT_DYNAMIC must lie inside the file. A
    /// segment past the end is mapped all the same, and touching its missing part raises SIGBUS.
    func loadDamage() -> String? {
        guard header.type == .ET_EXEC || header.type == .ET_DYN else { return nil }
        guard programHeadersReadable else { return "its program headers cannot be read" }
        guard !loads.isEmpty else { return "it has no PT_LOAD segment: a loader has nothing to map" }
        func end(_ ph: GElf_Phdr) -> UInt64? {
            let (sum, overflow) = ph.p_offset.addingReportingOverflow(ph.p_filesz)
            return overflow ? nil : sum
        }
        // A segment with no file bytes (all bss) maps nothing of the file, wherever its offset.
        for (i, ph) in loads.enumerated() where ph.p_filesz > 0 {
            guard let e = end(ph), e <= fileSize else {
                let needs = end(ph).map { "up to byte \($0)" } ?? "past 2^64"
                return "PT_LOAD segment \(i + 1) of \(loads.count) (offset \(ph.p_offset), \(ph.p_filesz) bytes) needs the file's bytes "
                    + "\(needs), but the file has \(fileSize): it is cut short, and touching the missing part raises SIGBUS"
            }
        }
        if let dyn = dynamicSegment, dyn.p_filesz > 0, (end(dyn).map { $0 > fileSize } ?? true) {
            return "PT_DYNAMIC (offset \(dyn.p_offset), \(dyn.p_filesz) bytes) lies outside the file (\(fileSize) bytes): "
                + "the loader reads the dynamic section from there and gets SIGBUS"
        }
        // A library, or a program the dynamic loader starts, without PT_DYNAMIC: musl's
        // map_library stops (`if (!dyn) goto noexec`), glibc's says "object file has no dynamic section".
        if dynamicSegment == nil && (header.type == .ET_DYN || interpreter != nil) {
            return "it has no PT_DYNAMIC segment\(dynamicSection != nil ? " (only the section headers name a .dynamic section)" : ""): "
                + "a dynamic loader finds no dynamic section to load it by (musl: Exec format error; glibc: object file has no dynamic section)"
        }
        return nil
    }

    // MARK: - Program headers

    mutating func readProgramHeaders() {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else {
            problems.append("program headers unreadable: \(ELFReader.libelfMessage())")
            programHeadersReadable = false
            return
        }
        for i in 0..<count {
            var ph = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(i), &ph) != nil else {
                problems.append("program header \(i) of \(count) unreadable: \(ELFReader.libelfMessage())")
                break
            }
            switch SegmentType(rawValue: ph.p_type) {
            case .PT_LOAD: loads.append(ph)
            case .PT_INTERP:
                // The loader takes the first PT_INTERP; PATH_MAX bounds any real one.
                guard interpreter == nil else { continue }
                if ph.p_filesz > 4096 {
                    problems.append("PT_INTERP is \(ph.p_filesz) bytes, longer than any path")
                    continue
                }
                if let raw = chunk(offset: ph.p_offset, size: ph.p_filesz, type: ELF_T_BYTE) {
                    let bytes = raw.bytes
                    let end = bytes.firstIndex(of: 0) ?? bytes.count
                    interpreter = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
                } else {
                    problems.append("PT_INTERP at offset \(ph.p_offset) lies outside the file")
                }
            case .PT_DYNAMIC: if dynamicSegment == nil { dynamicSegment = ph }
            case .PT_NOTE: noteSegments.append(ph)
            case .PT_TLS: hasTLS = true
            case .PT_GNU_STACK: gnuStack = GNUStack(size: ph.p_memsz, executable: ph.p_flags & 1 != 0)
            default: break
            }
        }
    }

    // MARK: - Section headers

    mutating func readSectionHeaders() {
        var count = 0
        guard elf_getshdrnum(elf, &count) == 0 else {
            problems.append("section headers unreadable: \(ELFReader.libelfMessage())")
            return
        }
        sectionCount = count
        if count == 0 && sectionHeaderOffset != 0 && (sectionHeaderCount != 0 || sectionHeaderOffset >= fileSize) {
            problems.append("section headers at offset \(sectionHeaderOffset) lie outside the file (\(fileSize) bytes); read through the program headers")
        }
        guard count > 0 else { return }
        var scn: OpaquePointer? = nil
        var relocs: [(OpaquePointer, Int, Bool)] = []
        var seen = 0
        while let next = elf_nextscn(elf, scn), seen < count {
            scn = next
            seen += 1
            var sh = GElf_Shdr()
            guard gelf_getshdr(next, &sh) != nil else {
                problems.append("section header \(seen) unreadable: \(ELFReader.libelfMessage())")
                continue
            }
            let type = SectionType(rawValue: sh.sh_type)
            switch type {
            case .SHT_DYNAMIC where dynamicSection == nil && !nobitsDynamic:
                dynamicSection = next
            case .SHT_DYNSYM where dynsymSection == nil:
                dynsymSection = next
                dynsymSectionIndex = elf_ndxscn(next)
            case .SHT_GNU_versym where versymSection == nil: versymSection = next
            case .SHT_GNU_verneed where verneedSection == nil: verneedSection = next
            case .SHT_GNU_verdef where verdefSection == nil: verdefSection = next
            case .SHT_RELA, .SHT_REL: relocs.append((next, Int(sh.sh_link), type == .SHT_RELA))
            case .SHT_NOTE: noteSections.append(next)
            case .SHT_NOBITS:
                // A separate debug file keeps the dynamic section's header but not its bytes.
                if dynamicSection == nil, let name = sectionName(sh), name == ".dynamic" { nobitsDynamic = true }
            default: break
            }
        }
        relocationSections = relocs.filter { $0.1 == dynsymSectionIndex && dynsymSection != nil }.map {
            (scn: $0.0, link: $0.1, isRela: $0.2)
        }
    }

    func sectionName(_ sh: GElf_Shdr) -> String? {
        var shstrndx = 0
        guard elf_getshdrstrndx(elf, &shstrndx) == 0, let p = elf_strptr(elf, shstrndx, Int(sh.sh_name)) else { return nil }
        return String(cString: p)
    }

    // MARK: - Data access

    struct Chunk {
        let data: UnsafeMutablePointer<Elf_Data>
        var bytes: UnsafeRawBufferPointer {
            guard let buf = data.pointee.d_buf else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            return UnsafeRawBufferPointer(start: buf, count: data.pointee.d_size)
        }
    }

    /// A piece of the file, converted to memory representation by libelf.
    func chunk(offset: UInt64, size: UInt64, type: Elf_Type) -> Chunk? {
        guard size > 0, offset <= UInt64(Int64.max), size <= UInt64(Int.max) else { return nil }
        guard let data = elf_getdata_rawchunk(elf, Int64(offset), Int(size), type) else { return nil }
        guard data.pointee.d_buf != nil else { return nil }
        return Chunk(data: data)
    }

    /// The file offset and the number of file bytes behind a virtual address (from PT_LOAD).
    func fileRange(ofAddress address: UInt64) -> (offset: UInt64, available: UInt64)? {
        for ph in loads where address >= ph.p_vaddr && address - ph.p_vaddr < ph.p_filesz {
            let delta = address - ph.p_vaddr
            let (offset, overflow) = ph.p_offset.addingReportingOverflow(delta)
            if overflow { return nil }
            return (offset, ph.p_filesz - delta)
        }
        return nil
    }

    /// The bytes at a virtual address; `size` nil means "up to the end of the segment".
    func chunk(address: UInt64, size: UInt64?, type: Elf_Type, maxSize: UInt64 = 1 << 28) -> Chunk? {
        guard let range = fileRange(ofAddress: address) else { return nil }
        let want = min(size ?? range.available, range.available, maxSize)
        return chunk(offset: range.offset, size: want, type: type)
    }

    /// A section's data, unless it has none in the file (SHT_NOBITS).
    func sectionData(_ scn: OpaquePointer?) -> Chunk? {
        guard let scn else { return nil }
        var sh = GElf_Shdr()
        guard gelf_getshdr(scn, &sh) != nil, sh.sh_type != SectionType.SHT_NOBITS.rawValue else { return nil }
        guard let data = elf_getdata(scn, nil), data.pointee.d_buf != nil else { return nil }
        return Chunk(data: data)
    }

    func sectionHeader(_ scn: OpaquePointer?) -> GElf_Shdr? {
        guard let scn else { return nil }
        var sh = GElf_Shdr()
        return gelf_getshdr(scn, &sh) != nil ? sh : nil
    }

    func linkedStrings(_ scn: OpaquePointer?) -> UnsafeRawBufferPointer? {
        guard let sh = sectionHeader(scn), sh.sh_link != 0, let strScn = elf_getscn(elf, Int(sh.sh_link)) else { return nil }
        return sectionData(strScn)?.bytes
    }

    var usesSections: Bool { sectionCount > 0 }

    // MARK: - Dynamic section

    mutating func readDynamic() -> DynamicSection? {
        let table: Chunk?
        if usesSections {
            if dynamicSection == nil {
                if nobitsDynamic {
                    problems.append("the dynamic section has no bytes in this file (SHT_NOBITS: a separate debug file?)")
                }
                return nil
            }
            table = sectionData(dynamicSection)
            dynamicStrings = linkedStrings(dynamicSection)
        } else {
            guard let seg = dynamicSegment else { return nil }
            table = chunk(offset: seg.p_offset, size: seg.p_filesz, type: ELF_T_DYN)
            if table == nil {
                problems.append("PT_DYNAMIC (offset \(seg.p_offset), \(seg.p_filesz) bytes) lies outside the file")
                return nil
            }
        }
        guard let table else {
            problems.append("dynamic section unreadable: \(ELFReader.libelfMessage())")
            return nil
        }
        // libelf holds the entries in memory representation, whose size equals the file's.
        let entrySize = gelf_fsize(elf, ELF_T_DYN, 1, UInt32(EV_CURRENT))
        guard entrySize > 0 else { return nil }
        let capacity = table.bytes.count / entrySize
        var out = DynamicSection()
        var entries: [(Int64, UInt64)] = []
        entries.reserveCapacity(min(capacity, 64))
        var sawNull = false
        for i in 0..<capacity {
            var dyn = GElf_Dyn()
            guard gelf_getdyn(table.data, Int32(i), &dyn) != nil else { break }
            entries.append((dyn.d_tag, dyn.d_un.d_val))
            if dyn.d_tag == DynamicTag.DT_NULL.rawValue { sawNull = true; break }
        }
        if !sawNull { problems.append("dynamic section has no DT_NULL terminator") }
        out.entryCount = entries.count
        for (tag, value) in entries where tag != DynamicTag.DT_NEEDED.rawValue {
            dynamicTags[tag] = value
        }
        if dynamicStrings == nil, let strtab = dynamicTags[DynamicTag.DT_STRTAB.rawValue] {
            let size = dynamicTags[DynamicTag.DT_STRSZ.rawValue]
            dynamicStrings = chunk(address: strtab, size: size, type: ELF_T_BYTE)?.bytes
            if dynamicStrings == nil {
                problems.append("DT_STRTAB (0x\(String(strtab, radix: 16))) is not backed by the file")
            }
        }
        for (tag, value) in entries {
            switch DynamicTag(rawValue: tag) {
            case .DT_NEEDED, .DT_SONAME, .DT_RPATH, .DT_RUNPATH:
                guard let text = dynamicString(value) else {
                    out.badStringReferences += 1
                    continue
                }
                switch DynamicTag(rawValue: tag) {
                case .DT_NEEDED: out.needed.append(text)
                case .DT_SONAME: out.soname = text
                case .DT_RPATH: out.rpath.append(contentsOf: text.split(separator: ":", omittingEmptySubsequences: false).map(String.init))
                default: out.runpath.append(contentsOf: text.split(separator: ":", omittingEmptySubsequences: false).map(String.init))
                }
            case .DT_FLAGS:
                out.flags = DynamicFlags(rawValue: value)
            case .DT_FLAGS_1:
                out.flags1 = DynamicFlags1(rawValue: value)
            case .DT_TEXTREL:
                out.hasTextRelocations = true
            case .DT_BIND_NOW:
                out.bindNow = true
            case .DT_RELR:
                out.hasRELR = true
            default: break
            }
        }
        if out.badStringReferences > 0 {
            problems.append("\(out.badStringReferences) dynamic entries name strings outside the dynamic string table")
        }
        if out.flags.contains(.DF_TEXTREL) { out.hasTextRelocations = true }
        if out.flags.contains(.DF_BIND_NOW) || out.flags1.contains(.DF_1_NOW) { out.bindNow = true }
        return out
    }

    func dynamicString(_ offset: UInt64) -> String? {
        guard let table = dynamicStrings else { return nil }
        return Parser.string(in: table, at: offset)
    }

    /// A NUL-terminated string inside a string table; nil when the offset or the terminator is out of bounds.
    static func string(in table: UnsafeRawBufferPointer, at offset: UInt64) -> String? {
        guard offset < UInt64(table.count), let base = table.baseAddress else { return nil }
        let start = base + Int(offset)
        let remaining = table.count - Int(offset)
        guard let nul = memchr(start, 0, remaining) else { return nil }
        let length = UnsafeRawPointer(nul) - start
        return String(decoding: UnsafeRawBufferPointer(start: start, count: length), as: UTF8.self)
    }

    // MARK: - Tables by section header or by dynamic tag

    /// How many entries one of the tables below holds.
    enum TableCount {
        /// The section's sh_info, or the value of this dynamic tag (version needs and definitions:
        /// the tag's table is read to the end of its segment, 1 MiB at most).
        case versions(DynamicTag)
        /// The section's size over the entry size, or what DT_HASH or DT_GNU_HASH gives, bounded
        /// by the bytes that back it (symbols: the tag's table is read for that count).
        case symbols(entrySize: Int)
    }

    /// A table with its string table and its number of entries.
    struct DynamicTable {
        let chunk: Chunk
        let strings: UnsafeRawBufferPointer?
        let count: Int
    }

    /// A table found through its section header, or through its dynamic tag when the file has no
    /// section headers. nil when the file has no such table, or when it cannot be read (noted in
    /// `problems`, except for a section without data in the file).
    mutating func dynamicTable(section: OpaquePointer?, sectionName: String, tag: DynamicTag, tagName: String,
                               type: Elf_Type, count tableCount: TableCount) -> DynamicTable? {
        if usesSections {
            guard let scn = section else { return nil }
            let table = sectionData(scn)
            let strings = linkedStrings(scn)
            guard let table else {
                if sectionHeader(scn)?.sh_type != SectionType.SHT_NOBITS.rawValue {
                    problems.append("\(sectionName) unreadable: \(ELFReader.libelfMessage())")
                }
                return nil
            }
            switch tableCount {
            case .versions: return DynamicTable(chunk: table, strings: strings, count: Int(sectionHeader(scn)?.sh_info ?? 0))
            case .symbols(let entrySize): return DynamicTable(chunk: table, strings: strings, count: table.bytes.count / entrySize)
            }
        }
        guard let address = dynamicTags[tag.rawValue] else { return nil }
        let table: Chunk?
        var count: Int
        switch tableCount {
        case .versions(let countTag):
            count = Int(clamping: dynamicTags[countTag.rawValue] ?? 0)
            table = chunk(address: address, size: nil, type: type, maxSize: 1 << 20)
        case .symbols(let entrySize):
            guard let n = symbolCountFromHash() else {
                problems.append("the number of dynamic symbols is unknown (no readable DT_HASH or DT_GNU_HASH)")
                return nil
            }
            count = n
            table = chunk(address: address, size: UInt64(n) * UInt64(entrySize), type: type)
            if let t = table, t.bytes.count / entrySize < count {
                problems.append("\(tagName) holds \(t.bytes.count / entrySize) of \(count) symbols")
                count = t.bytes.count / entrySize
            }
        }
        guard let table else {
            problems.append("\(tagName) is not backed by the file")
            return nil
        }
        return DynamicTable(chunk: table, strings: dynamicStrings, count: count)
    }

    // MARK: - Versions (LSB: .gnu.version_r and .gnu.version_d)

    typealias NeedIndex = [UInt16: (name: String, file: String)]
    typealias DefIndex = [UInt16: String]

    mutating func readVersionNeeds() -> ([VersionNeed], NeedIndex) {
        guard let found = dynamicTable(section: verneedSection, sectionName: "version needs (.gnu.version_r)",
                                       tag: .DT_VERNEED, tagName: "DT_VERNEED", type: ELF_T_VNEED,
                                       count: .versions(.DT_VERNEEDNUM)) else { return ([], [:]) }
        let table = found.chunk
        var count = found.count
        guard let strings = found.strings else {
            problems.append("version needs have no string table")
            return ([], [:])
        }
        let size = table.bytes.count
        // Each Verneed is 16 bytes and each Vernaux 16 bytes: no valid table holds more than size/16.
        let budget = size / 16
        if count > budget { count = budget }
        var needs: [VersionNeed] = []
        var index: NeedIndex = [:]
        var offset = 0
        var auxBudget = budget
        for _ in 0..<count {
            var vn = GElf_Verneed()
            guard offset >= 0, offset < size, gelf_getverneed(table.data, Int32(offset), &vn) != nil else {
                problems.append("version need at offset \(offset) lies outside .gnu.version_r")
                break
            }
            let file = Parser.string(in: strings, at: UInt64(vn.vn_file)) ?? "<bad string \(vn.vn_file)>"
            var entries: [VersionNeedEntry] = []
            var auxOffset = offset + Int(vn.vn_aux)
            for _ in 0..<Int(vn.vn_cnt) {
                guard auxBudget > 0 else { problems.append("version need entries exceed the table's size"); break }
                auxBudget -= 1
                var aux = GElf_Vernaux()
                guard auxOffset >= 0, auxOffset < size, gelf_getvernaux(table.data, Int32(auxOffset), &aux) != nil else {
                    problems.append("version need entry at offset \(auxOffset) lies outside .gnu.version_r")
                    break
                }
                let name = Parser.string(in: strings, at: UInt64(aux.vna_name)) ?? "<bad string \(aux.vna_name)>"
                entries.append(VersionNeedEntry(name: name, index: aux.vna_other, flags: aux.vna_flags, hash: aux.vna_hash))
                index[aux.vna_other & SymbolVersioning.VERSYM_VERSION] = (name, file)
                if aux.vna_next == 0 { break }
                auxOffset += Int(aux.vna_next)
            }
            needs.append(VersionNeed(file: file, versions: entries))
            if vn.vn_next == 0 { break }
            offset += Int(vn.vn_next)
        }
        return (needs, index)
    }

    mutating func readVersionDefinitions() -> ([VersionDefinition], DefIndex) {
        guard let found = dynamicTable(section: verdefSection, sectionName: "version definitions (.gnu.version_d)",
                                       tag: .DT_VERDEF, tagName: "DT_VERDEF", type: ELF_T_VDEF,
                                       count: .versions(.DT_VERDEFNUM)) else { return ([], [:]) }
        let table = found.chunk
        var count = found.count
        guard let strings = found.strings else {
            problems.append("version definitions have no string table")
            return ([], [:])
        }
        let size = table.bytes.count
        // Verdef is 20 bytes, Verdaux 8.
        let budget = size / 8
        if count > size / 20 { count = size / 20 }
        var defs: [VersionDefinition] = []
        var index: DefIndex = [:]
        var offset = 0
        var auxBudget = budget
        for _ in 0..<count {
            var vd = GElf_Verdef()
            guard offset >= 0, offset < size, gelf_getverdef(table.data, Int32(offset), &vd) != nil else {
                problems.append("version definition at offset \(offset) lies outside .gnu.version_d")
                break
            }
            var names: [String] = []
            var auxOffset = offset + Int(vd.vd_aux)
            for _ in 0..<Int(vd.vd_cnt) {
                guard auxBudget > 0 else { problems.append("version definition entries exceed the table's size"); break }
                auxBudget -= 1
                var aux = GElf_Verdaux()
                guard auxOffset >= 0, auxOffset < size, gelf_getverdaux(table.data, Int32(auxOffset), &aux) != nil else {
                    problems.append("version definition entry at offset \(auxOffset) lies outside .gnu.version_d")
                    break
                }
                names.append(Parser.string(in: strings, at: UInt64(aux.vda_name)) ?? "<bad string \(aux.vda_name)>")
                if aux.vda_next == 0 { break }
                auxOffset += Int(aux.vda_next)
            }
            let name = names.first ?? ""
            defs.append(VersionDefinition(index: vd.vd_ndx, flags: vd.vd_flags, name: name, parents: Array(names.dropFirst())))
            index[vd.vd_ndx & SymbolVersioning.VERSYM_VERSION] = name
            if vd.vd_next == 0 { break }
            offset += Int(vd.vd_next)
        }
        return (defs, index)
    }

    // MARK: - Dynamic symbols

    mutating func readSymbols(needIndex: NeedIndex, defIndex: DefIndex) -> [DynamicSymbol] {
        let symbolSize = gelf_fsize(elf, ELF_T_SYM, 1, UInt32(EV_CURRENT))
        guard symbolSize > 0 else { return [] }
        guard let found = dynamicTable(section: dynsymSection, sectionName: ".dynsym", tag: .DT_SYMTAB, tagName: "DT_SYMTAB",
                                       type: ELF_T_SYM, count: .symbols(entrySize: symbolSize)) else { return [] }
        let table = found.chunk
        let count = found.count
        guard let strings = found.strings else {
            problems.append("dynamic symbols have no string table")
            return []
        }
        // Names are kept as 32-bit spans of the table.
        guard strings.count < 1 << 31 else {
            problems.append("the dynamic string table is \(strings.count) bytes, more than muslcheck reads")
            return []
        }
        let versym = readVersym(expected: count)
        var out: [DynamicSymbol] = []
        out.reserveCapacity(max(count - 1, 0))
        // One copy of the string table holds every name, and the version names are kept by
        // version index: a symbol keeps where its name lies and its versym entry.
        let names = SymbolStrings(copying: strings, definitions: defIndex, needs: needIndex)
        // Stand-ins for names outside the table, placed after it (see below).
        var badNames: [(symbol: Int, text: String)] = []
        // The names are read in the symbols' order, which jumps about a large string table: the
        // name a few symbols ahead is fetched early (st_name leads both ELF classes' entries).
        let entries = table.bytes
        let prefetchAhead = 8
        for i in 1..<max(count, 1) {
            let ahead = (i &+ prefetchAhead) &* symbolSize
            if ahead &+ 4 <= entries.count {
                let offset = Int(entries.loadUnaligned(fromByteOffset: ahead, as: UInt32.self))
                if offset < strings.count { muslcheck_prefetch(strings.baseAddress! + offset) }
            }
            var sym = GElf_Sym()
            guard gelf_getsym(table.data, Int32(i), &sym) != nil else { break }
            let span: NameSpan
            let nameHash: UInt64
            let firstByte: UInt8
            if let n = terminatedName(in: strings, at: Int(sym.st_name)) {
                span = NameSpan(start: UInt32(truncatingIfNeeded: n.start - strings.baseAddress!), length: UInt32(truncatingIfNeeded: n.length))
                nameHash = n.hash
                firstByte = n.length > 0 ? n.start.load(as: UInt8.self) : 0
            } else {
                let text = "<bad string \(sym.st_name)>"
                badNames.append((out.count, text))
                span = NameSpan(start: 0, length: 0)
                nameHash = symbolNameHash(text)
                firstByte = UInt8(ascii: "<")
            }
            var versionIndex: UInt16? = nil
            var hidden = false
            if let versym, i < versym.count {
                versionIndex = versym[i]
                hidden = versym[i] & SymbolVersioning.VERSYM_HIDDEN != 0
            }
            out.append(DynamicSymbol(
                index: i, strings: names, nameSpan: span, nameHash: nameHash, value: sym.st_value, size: sym.st_size,
                sectionIndex: UInt32(sym.st_shndx), versionIndex: versionIndex,
                binding: SymbolBinding(rawValue: sym.st_info >> 4),
                type: SymbolType(rawValue: sym.st_info & 0xf),
                visibility: SymbolVisibility(rawValue: sym.st_other & 0x3),
                hidden: hidden, relocationUse: [], nameFirstByte: firstByte
            ))
        }
        if !badNames.isEmpty {
            problems.append("\(badNames.count) dynamic symbols name strings outside the string table")
            // The stand-ins go after the table in a second copy, shared by all symbols again.
            var extra: [UInt8] = []
            var spans: [NameSpan] = []
            for bad in badNames {
                spans.append(NameSpan(start: UInt32(strings.count + extra.count), length: UInt32(bad.text.utf8.count)))
                extra.append(contentsOf: bad.text.utf8)
            }
            let all = SymbolStrings(copying: strings, extra: extra, versionsOf: names)
            for k in out.indices { out[k].strings = all }
            for (bad, span) in zip(badNames, spans) { out[bad.symbol].nameSpan = span }
        }
        return out
    }

    func readVersym(expected: Int) -> [UInt16]? {
        let table: Chunk?
        if usesSections {
            table = sectionData(versymSection)
        } else {
            guard let address = dynamicTags[DynamicTag.DT_VERSYM.rawValue] else { return nil }
            table = chunk(address: address, size: UInt64(expected) * 2, type: ELF_T_HALF)
        }
        guard let table else { return nil }
        let n = min(table.bytes.count / 2, expected)
        var out = [UInt16](repeating: 0, count: n)
        for i in 0..<n {
            var v = GElf_Versym()
            guard gelf_getversym(table.data, Int32(i), &v) != nil else { return Array(out[0..<i]) }
            out[i] = v
        }
        return out
    }

    /// The dynamic symbol count when there is no .dynsym header: DT_HASH's nchain, or the end of
    /// DT_GNU_HASH's last chain (the way musl's count_syms does it).
    func symbolCountFromHash() -> Int? {
        let order = RawOrder(bigEndian: header.data.isBigEndian)
        if let address = dynamicTags[DynamicTag.DT_HASH.rawValue],
           let raw = chunk(address: address, size: 8, type: ELF_T_BYTE)?.bytes,
           let nchain = order.u32(raw, 4) {
            return Int(nchain)
        }
        guard let address = dynamicTags[DynamicTag.DT_GNU_HASH.rawValue],
              let raw = chunk(address: address, size: nil, type: ELF_T_BYTE)?.bytes,
              let nbuckets = order.u32(raw, 0), let symoffset = order.u32(raw, 4),
              let bloomSize = order.u32(raw, 8) else { return nil }
        let wordSize = header.fileClass == .ELFCLASS64 ? 8 : 4
        let bucketsAt = 16 + Int(bloomSize) * wordSize
        let chainsAt = bucketsAt + Int(nbuckets) * 4
        guard chainsAt <= raw.count else { return nil }
        var maxBucket: UInt32 = 0
        for b in 0..<Int(nbuckets) {
            if let v = order.u32(raw, bucketsAt + b * 4), v > maxBucket { maxBucket = v }
        }
        if maxBucket == 0 { return Int(symoffset) }
        guard maxBucket >= symoffset else { return nil }
        var index = Int(maxBucket)
        // Bounded by the bytes that remain: a chain without an end bit ends with the data.
        while let entry = order.u32(raw, chainsAt + (index - Int(symoffset)) * 4) {
            index += 1
            if entry & 1 != 0 { return index }
        }
        return nil
    }

    // MARK: - Relocations

    mutating func readRelocations(symbols: inout [DynamicSymbol]) -> RelocationSummary {
        var summary = RelocationSummary()
        var tables: [(Chunk, Bool)] = []
        if usesSections {
            for section in relocationSections {
                if let data = sectionData(section.scn) { tables.append((data, section.isRela)) }
            }
        } else {
            func add(_ addressTag: DynamicTag, _ sizeTag: DynamicTag, isRela: Bool) {
                guard let address = dynamicTags[addressTag.rawValue], let size = dynamicTags[sizeTag.rawValue], size > 0 else { return }
                if let data = chunk(address: address, size: size, type: isRela ? ELF_T_RELA : ELF_T_REL) {
                    tables.append((data, isRela))
                }
            }
            add(.DT_RELA, .DT_RELASZ, isRela: true)
            add(.DT_REL, .DT_RELSZ, isRela: false)
            if dynamicTags[DynamicTag.DT_JMPREL.rawValue] != nil {
                let isRela = dynamicTags[DynamicTag.DT_PLTREL.rawValue] == UInt64(DynamicTag.DT_RELA.rawValue)
                add(.DT_JMPREL, .DT_PLTRELSZ, isRela: isRela)
            }
        }
        guard !tables.isEmpty else { return summary }
        // Relocations name symbols by table index; symbols[k] has index k+1.
        let machine = header.machine
        let mips64LE = machine == .EM_MIPS && header.fileClass == .ELFCLASS64 && !header.data.isBigEndian
        let mips64BE = machine == .EM_MIPS && header.fileClass == .ELFCLASS64 && header.data.isBigEndian
        // Per-type counts and kinds in flat arrays for the small type numbers every machine uses
        // (a file has up to hundreds of thousands of relocations); a dictionary for the rest.
        var smallCounts = [Int](repeating: 0, count: 256)
        var smallKinds = [RelocationKind?](repeating: nil, count: 256)
        var kindCache: [UInt32: RelocationKind] = [:]
        var outOfRange = 0
        // Uses gathered in a byte per symbol (relocations hit symbols in no particular order, and
        // a byte array stays in the cache where the symbols themselves do not), merged at the end.
        var uses = [UInt8](repeating: 0, count: symbols.count)
        for (table, isRela) in tables {
            let entrySize = gelf_fsize(elf, isRela ? ELF_T_RELA : ELF_T_REL, 1, UInt32(EV_CURRENT))
            guard entrySize > 0 else { continue }
            // 64-bit entries are read in place (libelf has converted them to the host's order):
            // r_info is the second word of both Elf64_Rel and Elf64_Rela. A call per entry was a
            // large part of reading a library with hundreds of thousands of relocations.
            let direct = header.fileClass == .ELFCLASS64 && entrySize == (isRela ? 24 : 16)
                && table.data.pointee.d_type == (isRela ? ELF_T_RELA : ELF_T_REL)
            let raw = table.bytes
            for i in 0..<(table.bytes.count / entrySize) {
                var info: UInt64
                if direct {
                    info = raw.loadUnaligned(fromByteOffset: i * entrySize + 8, as: UInt64.self)
                } else if isRela {
                    var r = GElf_Rela()
                    guard gelf_getrela(table.data, Int32(i), &r) != nil else { break }
                    info = r.r_info
                } else {
                    var r = GElf_Rel()
                    guard gelf_getrel(table.data, Int32(i), &r) != nil else { break }
                    info = r.r_info
                }
                var symbolIndex = info >> 32
                var type = UInt32(truncatingIfNeeded: info)
                // MIPS64 packs r_sym, r_ssym and three types into r_info; the first type is the one.
                if mips64LE { symbolIndex = info & 0xffff_ffff; type = UInt32(info >> 56) }
                if mips64BE { type = UInt32(info & 0xff) }
                summary.total += 1
                let kind: RelocationKind
                if type < 256 {
                    smallCounts[Int(type)] += 1
                    if let cached = smallKinds[Int(type)] { kind = cached } else {
                        kind = RelocationType(machine: machine, rawValue: type).kind
                        smallKinds[Int(type)] = kind
                    }
                } else {
                    summary.countsByType[type, default: 0] += 1
                    if let cached = kindCache[type] { kind = cached } else {
                        kind = RelocationType(machine: machine, rawValue: type).kind
                        kindCache[type] = kind
                    }
                }
                guard symbolIndex != 0 else {
                    if kind == .tlsInitialExec { summary.localTLSInitialExec += 1 }
                    continue
                }
                let k = Int(symbolIndex) - 1
                guard k < symbols.count else { outOfRange += 1; continue }
                var use: RelocationUse = .referenced
                switch kind {
                case .plt: use.insert(.plt)
                case .copy: use.formUnion([.copy, .nonPLT])
                case .tlsInitialExec: use.formUnion([.tlsInitialExec, .nonPLT])
                default: use.insert(.nonPLT)
                }
                uses[k] |= use.rawValue
            }
        }
        for k in uses.indices where uses[k] != 0 { symbols[k].relocationUse.formUnion(RelocationUse(rawValue: uses[k])) }
        for (type, n) in smallCounts.enumerated() where n > 0 { summary.countsByType[UInt32(type), default: 0] += n }
        if outOfRange > 0 {
            problems.append("\(outOfRange) relocations name symbols beyond the dynamic symbol table")
        }
        return summary
    }

    // MARK: - Notes

    mutating func readNotes() -> NoteSummary {
        var summary = NoteSummary()
        var tables: [Chunk] = []
        if usesSections {
            for scn in noteSections { if let data = sectionData(scn) { tables.append(data) } }
        } else {
            for ph in noteSegments {
                let type = ph.p_align == 8 ? ELF_T_NHDR8 : ELF_T_NHDR
                if let data = chunk(offset: ph.p_offset, size: ph.p_filesz, type: type) { tables.append(data) }
            }
        }
        let order = RawOrder(bigEndian: header.data.isBigEndian)
        for table in tables {
            var offset = 0
            let size = Int(table.data.pointee.d_size)
            var guardCount = 0
            while offset < size, guardCount < 4096 {
                guardCount += 1
                var nhdr = GElf_Nhdr()
                var nameOffset = 0
                var descOffset = 0
                let next = gelf_getnote(table.data, offset, &nhdr, &nameOffset, &descOffset)
                guard next > offset else { break }
                let bytes = table.bytes
                let owner: String = {
                    guard nhdr.n_namesz > 0, nameOffset + Int(nhdr.n_namesz) <= bytes.count else { return "" }
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[nameOffset..<(nameOffset + Int(nhdr.n_namesz))])
                    let end = raw.firstIndex(of: 0) ?? raw.count
                    return String(decoding: UnsafeRawBufferPointer(rebasing: raw[0..<end]), as: UTF8.self)
                }()
                let descEnd = descOffset + Int(nhdr.n_descsz)
                if descEnd <= bytes.count {
                    let desc = UnsafeRawBufferPointer(rebasing: bytes[descOffset..<descEnd])
                    switch (owner, nhdr.n_type) {
                    case ("GNU", NoteType.NT_GNU_ABI_TAG) where desc.count >= 16:
                        summary.abiTag = NoteSummary.ABITag(
                            os: order.u32(desc, 0) ?? 0, major: order.u32(desc, 4) ?? 0,
                            minor: order.u32(desc, 8) ?? 0, patch: order.u32(desc, 12) ?? 0)
                    case ("GNU", NoteType.NT_GNU_BUILD_ID):
                        summary.buildID = desc.map { byte in
                            let s = String(byte, radix: 16)
                            return s.count == 1 ? "0" + s : s
                        }.joined()
                    case ("Go", NoteType.NT_GO_BUILD_ID):
                        let end = desc.firstIndex(of: 0) ?? desc.count
                        summary.goBuildID = String(decoding: UnsafeRawBufferPointer(rebasing: desc[0..<end]), as: UTF8.self)
                    default: break
                    }
                }
                offset = next
            }
        }
        return summary
    }

    // MARK: - Linkage

    func classify(dynamic: DynamicSection?, symbols: [DynamicSymbol]) -> Linkage {
        if !programHeadersReadable && header.type != .ET_REL && header.type != .ET_CORE { return .unknown }
        switch header.type {
        case .ET_REL: return .relocatable
        case .ET_CORE: return .core
        case .ET_EXEC:
            return interpreter != nil ? .dynamicExecutable : .static
        case .ET_DYN:
            let pie = dynamic?.flags1.contains(.DF_1_PIE) ?? false
            if interpreter != nil {
                // glibc's libc.so.6 carries PT_INTERP so it can run; its SONAME says it is a library.
                if dynamic?.soname != nil && !pie { return .sharedLibrary }
                return .dynamicPIE
            }
            let needsNothing = dynamic?.needed.isEmpty ?? true
            guard needsNothing else { return .sharedLibrary }
            if pie { return .staticPIE }
            // Without DF_1_PIE (older linkers): an entry point, no soname, and nothing left
            // for a loader to bind means the file relocates itself.
            let unboundRefs = symbols.contains { $0.isUndefined && $0.binding != .STB_WEAK && $0.binding != .STB_LOCAL && $0.nameSpan.length != 0 }
            if header.entry != 0 && dynamic?.soname == nil && !unboundRefs && dynamicSegment != nil {
                return .staticPIE
            }
            return .sharedLibrary
        default:
            return .unknown
        }
    }
}

/// Reads integers of the file's byte order from raw (untranslated) bytes.
struct RawOrder {
    let bigEndian: Bool
    func u32(_ buffer: UnsafeRawBufferPointer, _ offset: Int) -> UInt32? {
        guard offset >= 0, offset + 4 <= buffer.count else { return nil }
        let b0 = UInt32(buffer[offset]), b1 = UInt32(buffer[offset + 1])
        let b2 = UInt32(buffer[offset + 2]), b3 = UInt32(buffer[offset + 3])
        return bigEndian ? (b0 << 24 | b1 << 16 | b2 << 8 | b3) : (b3 << 24 | b2 << 16 | b1 << 8 | b0)
    }
}
