import ArgumentParser
import CSystem
import Engine
import Foundation
import Pipeline

@main
struct Muslcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muslcheck",
        abstract: "Tells whether native code (executables, shared libraries, wheels, jars, addons) will run on musl (Alpine), and proves it in the target image.",
        discussion: """
        Exit status: 0 success; 1 findings at or above --fail-on (inspect: a file could not be read); \
        2 usage or configuration error; 3 container engine or environment error.
        """,
        version: MuslcheckVersion.long,
        subcommands: [Check.self, Scan.self, Plan.self, Probe.self, Inspect.self, Targets.self, ReportCommand.self, Init.self]
    )

    /// Parses, runs, and maps errors to muslcheck's documented exit codes (usage errors: 2).
    static func main() {
        // The worker threads' malloc heaps grow in steps of 64 MiB of address space (pages are
        // still only touched as used) instead of a page or so at a time: a scan otherwise spends
        // thousands of mprotect calls and page faults growing and trimming them.
        muslcheck_malloc_top_pad(64 << 20)
        defer { Interruption.finish() }
        do {
            var command = try parseAsRoot()
            try command.run()
            CleanupRegistry.shared.removeTemporaries()
        } catch {
            Interruption.finish()
            CleanupRegistry.shared.removeTemporaries()
            if let e = error as? RunError {
                Diagnostics.error(e.description)
                Foundation.exit(e.code.rawValue)
            }
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(MuslcheckExit.usage.rawValue)
            }
            exit(withError: error)
        }
    }
}
