import Compat
import ELF
import Foundation
import Testing
import TestSupport

/// Export tables read names in place from the file's name storage; symbols gathered from two
/// files (two storages) get one copy of their names and must answer the same.
@Suite struct ExportTableTests {
    @Test func aTableOfTwoFilesSymbolsAnswersLikeTheTwoTables() throws {
        let a = try ELFReader.read(path: try Fixtures.path("libversioned.so.1"))
        let b = try ELFReader.read(path: try Fixtures.path("runpath/librunpath.so"))
        var mixed = a
        mixed.symbols += b.symbols
        let tableA = ExportTable(file: a), tableB = ExportTable(file: b), both = ExportTable(file: mixed)
        let names = Set((a.symbols + b.symbols).map(\.name)).union(["no_such_symbol", ""])
        var defined = 0
        for name in names {
            let expected = tableA.defines(name) || tableB.defines(name)
            #expect(both.defines(name) == expected, "\(name)")
            if expected { defined += 1 }
        }
        // Each file contributes a definition of its own, so both name storages are read.
        #expect(names.contains { tableA.defines($0) && !tableB.defines($0) && both.defines($0) })
        #expect(names.contains { tableB.defines($0) && !tableA.defines($0) && both.defines($0) })
        #expect(both.count == defined, "one accepted entry per name")
        // The hidden foo@VERS_1 does not hide the default foo@@VERS_2.
        #expect(tableA.defines("foo"))
    }
}
