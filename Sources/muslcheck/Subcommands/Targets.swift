import ArgumentParser
import Compat
import Pipeline
import Report

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the bundled target profiles.")

    @OptionGroup var output: PlainOutputOptions

    func run() throws {
        let data = try exitingOnError {
            do { return try CompatData.shared() } catch { throw RunError(code: .environment, description: "\(error)") }
        }
        let table = TargetsRenderer(data: data)
        try output.write(text: table.text(), json: table.rows)
    }
}
