import ArgumentParser
import Pipeline
import Foundation
import Probes
import Report

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the probe catalog, the loader on your artifacts, and your own checks, in each image.",
        discussion: """
        One sandboxed container per image runs every probe (a small driver runs them in turn): \
        --network none, a read-only root with a writable /tmp, no capabilities, no new privileges, \
        limits on processes and memory, an unprivileged user, the probes and artifacts mounted \
        read-only. Containers carry the label org.muslcheck.run=RUN-ID and are removed at the end, \
        on errors, timeouts, Ctrl-C and SIGTERM.

        Exit status: 0 all ran and agreed; 1 the loader contradicted a static verdict, or a user \
        probe failed; 2 usage or configuration error; 3 container engine or image problem.
        """
    )

    @Option(name: .customLong("image"), help: ArgumentHelp("An image to probe, repeatable (alpine:3.20). Images run in parallel (--jobs).", valueName: "ref"))
    var images: [String] = []

    @Argument(help: "Artifacts for the loader probe: files, directories, archives (ld-musl --list runs on each).")
    var paths: [String] = []

    @Flag(help: "List the probes and exit.")
    var list = false

    @Option(name: .customLong("build-into"), help: ArgumentHelp("Build the probes with this machine's compilers (musl-gcc, gcc) into DIR/musl and DIR/glibc, as a release archive ships them beside the binary, and exit.", valueName: "dir"))
    var buildInto: String?

    @Option(help: ArgumentHelp("muslcheck.yml with userProbes (default: ./muslcheck.yml when present).", valueName: "file"))
    var config: String?

    @OptionGroup var probeOptions: ProbeOptions
    @OptionGroup var engineOptions: EngineOptions

    @Option(help: "Images probed at once.")
    var jobs: Int = 2

    @Option(name: .customLong("run-timeout"), help: ArgumentHelp("Time limit of the whole run of one image, in seconds.", valueName: "seconds"))
    var runTimeout: Double = 600

    @Option(help: "Memory limit of the container.")
    var memory = "256m"

    @Option(name: .customLong("pids-limit"), help: "Process limit of the container.")
    var pidsLimit = 256

    @OptionGroup var output: PlainOutputOptions

    func validate() throws {
        if !list && buildInto == nil && images.isEmpty { throw ValidationError("give at least one --image to probe (for example --image alpine:3.20)") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        if let buildInto {
            try exitingOnError {
                try ProbeRun.buildShipped(into: URL(fileURLWithPath: buildInto), muslCompiler: probeOptions.muslCC, cacheDir: probeOptions.cacheDir,
                                          log: { Diagnostics.note($0) })
            }
            return
        }
        if list {
            let catalog = try exitingOnError {
                do { return try ProbeCatalog.bundled() } catch { throw RunError(code: .environment, description: "\(error)") }
            }
            print(catalog.listing())
            return
        }
        let (_, userProbes) = try exitingOnError { try loadConfig(config: config, cst: probeOptions.cst) }
        var flags = Flags()
        flags.paths = paths
        flags.images = images
        probeOptions.apply(to: &flags)
        engineOptions.apply(to: &flags)
        flags.jobs = jobs
        flags.runTimeout = runTimeout
        flags.memory = memory
        flags.pidsLimit = pidsLimit
        // The probes' own settings come from the flags; muslcheck.yml gives the user probes only.
        let settings = Settings.resolve(flags, userProbes: userProbes, defaultPaths: [])
        let result = try exitingOnError { try ProbeRun(settings: settings, log: { Diagnostics.note($0) }).run() }
        try output.write(text: ProbeTextRenderer(color: useColor(forFile: output.output)).render(result.output.images, catalog: try? ProbeCatalog.bundled()),
                         json: result.output)
        try finish(environmentErrors: result.environmentErrors, written: true, failed: result.failed)
    }
}
