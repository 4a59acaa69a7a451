import ArgumentParser
import ELF
import Foundation
import Pipeline

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what an ELF file needs from its loader: interpreter, libraries, symbols and versions.",
        discussion: """
        Exit status: 0 when every file was read, 1 when at least one could not be (each such file is \
        named on stderr, and in the JSON output as {"path", "error"}), 2 on a usage error.
        """
    )

    @Argument(help: "ELF files to read.")
    var files: [String]

    @OptionGroup var output: PlainOutputOptions

    @Flag(help: "In text output, list every dynamic symbol.")
    var symbols = false

    func run() throws {
        var results: [Result<ELFFile, ELFError>] = []
        for file in files {
            do throws(ELFError) {
                results.append(.success(try ELFReader.read(path: file)))
            } catch {
                results.append(.failure(error))
                Diagnostics.error(error.description)
            }
        }
        let blocks = results.compactMap { try? $0.get().textSummary(listSymbols: symbols) }
        let items = results.map(InspectItem.init)
        try output.write(text: blocks.isEmpty ? "" : blocks.joined(separator: "\n\n") + "\n", json: items)
        if results.contains(where: { if case .failure = $0 { true } else { false } }) {
            throw MuslcheckExit.findings.exitCode
        }
    }
}
