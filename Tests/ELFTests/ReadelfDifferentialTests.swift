import ELF
import Foundation
import Testing
import TestSupport

/// The reader against GNU readelf, field by field, on real files.
@Suite struct ReadelfDifferentialTests {
    /// Files where readelf and a second oracle (eu-readelf, or the file's own documentation) disagree,
    /// or where readelf prints something that is not the file's content. For these the test asserts
    /// only that the reader returns a result or a typed error.
    static let oracleDisagreements: [String: String] = [
        // pyelftools' deliberately broken files: readelf prints warnings and partial tables.
        "corrupt_sh.elf": "section headers deliberately corrupt; readelf and eu-readelf each print a different partial view",
        "section_header_bogus_size.elf": "section header table size is bogus; readelf refuses sections",
        "section_link_to_self.elf": "a section links to itself; oracles differ on the string table used",
        "x64_bad_sections.elf": "section offsets point outside the file",
        "compressed_bad_size.o": "compressed section with a bogus size",
        // No PT_DYNAMIC and overlapping PT_LOADs at address 0: readelf maps .gnu.version through
        // the segments onto the ELF header and prints garbage versions; eu-readelf reads the
        // section. Neither shows a dynamic section, and the reader agrees (the section headers'
        // one is kept apart as sectionOnlyDynamic; InspectCommandTests checks it).
        "main.elf": "no PT_DYNAMIC; readelf reads .gnu.version through the segments onto the ELF header",
        // Two .dynstr sections: the file exists to check that a reader follows .dynamic's sh_link.
        // readelf picks the other one and prints garbage names ("d2", "dc"); eu-readelf warns.
        "lib_with_two_dynstr_sections_reversed.so.elf": "readelf uses the wrong .dynstr of two",
    ]

    /// Compares one file with the oracle that can read it; returns the differences in words.
    /// readelf by default; `readelf -D` when the file has no section headers (plain readelf then
    /// shows no dynamic symbols); eu-readelf when readelf itself warns about the file.
    static func differences(_ path: String) throws -> [String] {
        let ours: ELFFile
        do {
            ours = try ELFReader.read(path: path)
        } catch {
            // Refused: the oracle must refuse too.
            let oracle = try Readelf.facts(path)
            return oracle.complained ? [] : ["reader failed where readelf did not: \(error)"]
        }
        var oracle: ReadelfFacts
        if ours.readThroughSegments {
            oracle = try Readelf.facts(path, tool: .readelfDynamic)
        } else {
            oracle = try Readelf.facts(path)
            if oracle.complained {
                let eu = try Readelf.facts(path, tool: .euReadelf)
                if !eu.complained { oracle = eu }
            }
        }
        let compareVersionTables = !ours.readThroughSegments
        var diffs: [String] = []
        func check<T: Equatable>(_ what: String, _ mine: T, _ theirs: T) {
            if mine != theirs { diffs.append("\(what): muslcheck \(mine) vs readelf \(theirs)") }
        }
        check("interpreter", ours.interpreter, oracle.interpreter)
        check("needed", ours.needed, oracle.needed)
        check("soname", ours.soname, oracle.soname)
        check("rpath", ours.dynamic.map { $0.rpath.isEmpty ? nil : $0.rpath.joined(separator: ":") } ?? nil, oracle.rpath)
        check("runpath", ours.dynamic.map { $0.runpath.isEmpty ? nil : $0.runpath.joined(separator: ":") } ?? nil, oracle.runpath)
        if compareVersionTables {
        check("version needs", ours.versionNeeds.map { ReadelfFacts.VersionNeed(file: $0.file, versions: $0.versions.map(\.name)) },
              oracle.versionNeeds)
        check("version definitions", ours.versionDefinitions.map {
            ReadelfFacts.VersionDefinition(index: Int($0.index), name: $0.name, parents: $0.parents)
        }, oracle.versionDefinitions)
        }
        if oracle.hasDynamicSymbolTable || !ours.symbols.isEmpty {
            check("symbol count (\(oracle.oracle))", ours.symbols.count, oracle.symbols.count)
            for (mine, theirs) in zip(ours.symbols, oracle.symbols) {
                var d: [String] = []
                if mine.index != theirs.index { d.append("index \(mine.index)/\(theirs.index)") }
                // readelf names an unnamed STT_SECTION symbol after its section.
                let sectionSymbol = mine.name.isEmpty && theirs.type == "SECTION"
                if mine.name != theirs.name && !sectionSymbol { d.append("name '\(mine.name)'/'\(theirs.name)'") }
                if mine.nameFirstByte != mine.name.utf8.first ?? 0 { d.append("first byte \(mine.nameFirstByte) of '\(mine.name)'") }
                if mine.isDefined != theirs.defined { d.append("defined \(mine.isDefined)/\(theirs.defined)") }
                if mine.binding.description != theirs.binding && !theirs.binding.hasPrefix("<") { d.append("binding \(mine.binding)/\(theirs.binding)") }
                if mine.type.description != theirs.type && !theirs.type.hasPrefix("<") { d.append("type \(mine.type)/\(theirs.type)") }
                // readelf omits the version of a version's own ABS symbol (name == version).
                let expected = theirs.version ?? (mine.version == mine.name ? mine.name : nil)
                if mine.version != expected { d.append("version \(mine.version ?? "-")/\(theirs.version ?? "-")") }
                if let vs = oracle.versym[mine.index] {
                    if mine.hidden != vs.1 { d.append("hidden \(mine.hidden)/\(vs.1)") }
                    if mine.versionIndex.map({ Int($0 & 0x7fff) }) != vs.0 { d.append("versym \(String(describing: mine.versionIndex))/\(vs.0)") }
                }
                if !d.isEmpty { diffs.append("symbol \(mine.index) \(mine.name): " + d.joined(separator: ", ")) }
                if diffs.count > 20 { break }
            }
        }
        return diffs
    }

    static func assertAgreement(_ files: [String], minimum: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(files.count >= minimum, Comment(rawValue: "only \(files.count) ELF files found, expected at least \(minimum)"), sourceLocation: sourceLocation)
        // Files are independent: compare them on every core.
        let results = ConcurrentMap.map(files) { file -> (compared: Bool, failure: String?) in
            let name = (file as NSString).lastPathComponent
            if oracleDisagreements[name] != nil {
                // Listed: the oracles disagree. Reading must still end with a result or an error.
                _ = try? ELFReader.read(path: file)
                return (false, nil)
            }
            do {
                let diffs = try differences(file)
                return (true, diffs.isEmpty ? nil : "\(file):\n    " + diffs.prefix(8).joined(separator: "\n    "))
            } catch {
                return (true, "\(file): oracle did not run: \(error)")
            }
        }
        let compared = results.filter(\.compared).count
        let failures = results.compactMap(\.failure)
        #expect(compared + results.filter { !$0.compared }.count == files.count)
        let summary = "\(failures.count) of \(compared) files disagree with readelf:\n" + failures.prefix(15).joined(separator: "\n")
        #expect(failures.isEmpty, Comment(rawValue: summary), sourceLocation: sourceLocation)
    }

    @Test func fixturesAgreeWithReadelf() throws {
        let files = try Fixtures.all()
        try Self.assertAgreement(files, minimum: 13)
    }

    @Test func systemBinariesAgreeWithReadelf() throws {
        let bin = ELFFiles.find(under: ["/usr/bin"], recursive: false, limit: 200)
        let lib = ELFFiles.find(under: ["/usr/lib/x86_64-linux-gnu"], recursive: false, limit: 200)
        try Self.assertAgreement(bin + lib, minimum: 300)
    }

    @Test func sharedCorporaAgreeWithReadelf() throws {
        guard let corpora = TestPaths.corpora else {
            print("skipped: ../shared/corpora is absent (a fresh clone has none); the corpus comparison did not run")
            return
        }
        let files = ELFFiles.find(under: [corpora.path], limit: nil)
        try Self.assertAgreement(files, minimum: 100)
    }
}
