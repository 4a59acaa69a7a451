import ArgumentParser
import Config
import Engine
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

    @Option(name: .customLong("probe"), help: ArgumentHelp("Run only these probes, repeatable (see --list; 'loader' is the loader probe).", valueName: "id"))
    var probes: [String] = []

    @Flag(help: "List the probes and exit.")
    var list = false

    @Option(name: .customLong("baseline-image"), help: ArgumentHelp("Run the same probes on this image (built with the host compiler) or on the host ('host'), and show both.", valueName: "ref|host"))
    var baselineImage: String?

    @Flag(name: .customLong("exec-smoke"), help: "Also start each executable with --version (5 s limit).")
    var execSmoke = false

    @Option(help: ArgumentHelp("muslcheck.yml with userProbes (default: ./muslcheck.yml when present).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("A container-structure-test file: its commandTests run as user probes.", valueName: "file"))
    var cst: String?

    @OptionGroup var engineOptions: EngineOptions

    @Option(help: "Images probed at once.")
    var jobs: Int = 2

    @Option(help: ArgumentHelp("Time limit of each probe in seconds (default: each probe's own).", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .customLong("run-timeout"), help: ArgumentHelp("Time limit of the whole run of one image, in seconds.", valueName: "seconds"))
    var runTimeout: Double = 600

    @Flag(name: .customLong("no-sandbox"), help: "Run without the sandbox (network, writable root, capabilities); labels, removal and time limits stay.")
    var noSandbox = false

    @Option(help: "Memory limit of the container.")
    var memory = "256m"

    @Option(name: .customLong("pids-limit"), help: "Process limit of the container.")
    var pidsLimit = 256

    @Option(name: .customLong("musl-cc"), help: ArgumentHelp("The musl C compiler that builds the probes (default: musl-gcc).", valueName: "path"))
    var muslCC: String?

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("Where built probes are kept (default: ~/.cache/muslcheck).", valueName: "dir"))
    var cacheDir: String?

    @Option(name: .customLong("run-id"), help: ArgumentHelp("The run id in the containers' label (default: random).", valueName: "id"))
    var runID: String?

    @Option(help: "Output format: text or json.")
    var format: Scan.ScanFormat = .text

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the results to a file instead of stdout.", valueName: "file"))
    var output: String?

    func validate() throws {
        if !list && images.isEmpty { throw ValidationError("give at least one --image to probe (for example --image alpine:3.20)") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        try validateRunID(runID)
    }

    func run() throws {
        if list {
            let catalog: ProbeCatalog
            do { catalog = try ProbeCatalog.bundled() } catch {
                Diagnostics.error("\(error)")
                throw MuslcheckExit.environment.exitCode
            }
            print("loader".padding(toLength: 14, withPad: " ", startingAt: 0) + "musl's loader in list mode on each artifact (ld-musl-ARCH.so.1 --list FILE)")
            for p in catalog.probes { print(p.id.padding(toLength: 14, withPad: " ", startingAt: 0) + p.detects) }
            return
        }
        var run = ProbeRun()
        run.images = images
        run.paths = paths
        run.probeIDs = probes.isEmpty ? nil : probes
        if let b = baselineImage { run.baseline = b == "host" ? .host : .image(b) }
        run.engineKind = engineOptions.engine.kind
        run.context = engineOptions.context
        run.pull = engineOptions.pull.policy
        run.jobs = jobs
        run.sandbox.enabled = !noSandbox
        run.sandbox.memory = memory
        run.sandbox.pids = pidsLimit
        run.probeTimeout = timeout
        run.runTimeout = runTimeout
        run.execSmoke = execSmoke
        run.muslCompiler = muslCC
        run.cacheDir = cacheDir
        if let runID { run.runID = runID }
        run.log = { Diagnostics.note($0) }
        run.userProbes += try loadSettings(config: config, cst: cst).userProbes
        let result = try exitingOnError { try run.run() }
        let sink = try OutputSink(path: output)
        switch format {
        case .text:
            try sink.write(ProbeTextRenderer(color: useColor(forFile: output)).render(result.output.images, catalog: try? ProbeCatalog.bundled()))
        case .json:
            try sink.write(try JSONOutput.encoder().encode(result.output) + Data("\n".utf8))
        }
        try sink.close()
        for e in result.environmentErrors { Diagnostics.error(e) }
        if !result.environmentErrors.isEmpty { throw MuslcheckExit.environment.exitCode }
        let contradicted = result.output.images.contains { $0.loader.contains { $0.agreement == .contradicted } }
        let failedUser = result.output.images.contains { $0.userProbes.contains { !$0.passed } }
        if contradicted || failedUser { throw MuslcheckExit.findings.exitCode }
    }
}
