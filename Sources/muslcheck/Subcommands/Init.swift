import ArgumentParser
import Compat
import Config
import Foundation
import Pipeline

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a commented starter muslcheck.yml.",
        discussion: "Exit status: 0 written; 2 the file exists (use --force) or cannot be written."
    )

    @Argument(help: "Where to write it.")
    var file: String = "muslcheck.yml"

    @Flag(help: "Overwrite an existing file.")
    var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: file) && !force {
            Diagnostics.error("\(file) exists; use --force to overwrite it")
            throw MuslcheckExit.usage.exitCode
        }
        let profile = (try? CompatData.shared().targets.default) ?? "alpine:3.22"
        let text = MuslcheckConfig.starter(defaultProfile: profile)
        do {
            let sink = try OutputSink(path: file)
            try sink.write(text)
            try sink.close()
        } catch let e as RunError {
            Diagnostics.error(e.description)
            throw MuslcheckExit.usage.exitCode
        }
        Diagnostics.note("wrote \(file); `muslcheck check` reads it from the current directory")
    }
}
