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
        let items = results.map { result -> InspectItem in
            switch result {
            case .success(let file): .file(file)
            case .failure(let error): .error(path: error.path, message: error.reason.text)
            }
        }
        try output.write(text: blocks.isEmpty ? "" : blocks.joined(separator: "\n\n") + "\n", json: items)
        if results.contains(where: { if case .failure = $0 { true } else { false } }) {
            throw MuslcheckExit.findings.exitCode
        }
    }
}

enum InspectItem: Encodable {
    case file(ELFFile)
    case error(path: String, message: String)

    enum Keys: CodingKey { case path, error }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .file(let file): try file.encode(to: encoder)
        case .error(let path, let message):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(path, forKey: .path)
            try c.encode(message, forKey: .error)
        }
    }
}
