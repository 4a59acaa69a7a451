import ArgumentParser
import Compat
import Config
import Foundation
import Probes
import Report

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: scan, check against every target, run the probes in every image, report, and exit with a code CI can gate on.",
        discussion: """
        With no PATH, the current directory is checked. Every --image is read (docker export) as a \
        target, and when a container engine answers, the probe catalog, musl's own loader on every \
        artifact (confirming or contradicting each static verdict) and the user probes run in it. \
        Without an engine the static analysis still runs, against the bundled profile standing for \
        the image, the report says so, and the exit status is 3. With no image, the default \
        profile is the target.

        Settings come from muslcheck.yml (--config; ./muslcheck.yml when present); flags override it.

        Formats (--format F or F=FILE, repeatable): \(FormatSpec.formatsHelp).

        Exit status: 0 the run passes --fail-on; 1 it fails: by default an artifact that does not \
        run on a target as given (incompatible, or needing gcompat where the target lacks it), and \
        at every level a loader-probe contradiction (MC150), a file that could not be read (MC001), \
        an archive member that was not checked (MC003, MC004) or a failed user probe (MC152), unless \
        an ignore or the baseline excuses it; 2 usage or configuration error, or a report that \
        could not be written; 3 engine or environment error (the report is still written). \
        --fail-on never: only 2 and 3.
        """
    )

    @Argument(help: "Files, directories and archives to check (default: the config's paths, else the current directory).")
    var paths: [String] = []

    @Option(name: .customLong("image"), help: ArgumentHelp("A target image, repeatable: its filesystem is the target, and the probes run in it.", valueName: "ref"))
    var images: [String] = []

    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup var engineOptions: EngineOptions

    @Option(name: .customLong("config"), help: ArgumentHelp("muslcheck.yml to read (default: ./muslcheck.yml when present).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("format"), help: ArgumentHelp("Report format, optionally with its file, repeatable: text (default), json, markdown, junit, sarif, github, html.", valueName: "format[=file]"))
    var formats: [FormatSpec] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("The file of the one --format given without a file (default: stdout).", valueName: "file"))
    var output: String?

    @Option(name: .customLong("fail-on"), help: FailOn.help)
    var failOn: FailOn?

    @Option(help: ArgumentHelp("A baseline file (--write-baseline): its findings are suppressed; new ones still fail.", valueName: "file"))
    var baseline: String?

    @Option(name: .customLong("write-baseline"), help: ArgumentHelp("Record the current findings and verdicts as a baseline, and exit 0 unless something went wrong.", valueName: "file"))
    var writeBaseline: String?

    @Option(help: ArgumentHelp("Check only shard i of n (1-based) of the files and archives; `muslcheck report merge` joins the shards.", valueName: "i/n"))
    var shard: ShardSpec?

    @Flag(name: .customLong("static-only"), help: "Do not run the probes, even when an engine answers.")
    var staticOnly = false

    @Option(name: .customLong("probe"), help: ArgumentHelp("Run only these built-in probes, repeatable ('loader' is the loader probe).", valueName: "id"))
    var probes: [String] = []

    @Option(name: .customLong("baseline-image"), help: ArgumentHelp("Run the probes on this image too (or 'host'), side by side.", valueName: "ref|host"))
    var baselineImage: String?

    @Flag(name: .customLong("exec-smoke"), help: "Also start each executable with --version in the images.")
    var execSmoke = false

    @Option(help: ArgumentHelp("A container-structure-test file: its commandTests run as user probes.", valueName: "file"))
    var cst: String?

    @Option(name: .customLong("jobs"), help: ArgumentHelp("Worker threads and images probed at once (default: the number of cores).", valueName: "n"))
    var jobsOption: Int?
    var jobs: Int { jobsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: ArgumentHelp("Time limit of each probe in seconds (default: each probe's own).", valueName: "seconds"))
    var timeout: Double?

    @Flag(name: .customLong("no-sandbox"), help: "Run the probes without the sandbox.")
    var noSandbox = false

    @Option(name: .customLong("musl-cc"), help: ArgumentHelp("The musl C compiler that builds the probes (default: musl-gcc).", valueName: "path"))
    var muslCC: String?

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("Where built probes are kept (default: ~/.cache/muslcheck).", valueName: "dir"))
    var cacheDir: String?

    @Option(name: .customLong("run-id"), help: ArgumentHelp("The run id in the containers' label org.muslcheck.run (default: random).", valueName: "id"))
    var runID: String?

    @Flag(help: "Put durations in the report (they make two reports of the same inputs differ).")
    var timings = false

    @Flag(help: "Show note-level findings in text output.")
    var verbose = false

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        try validateRunID(runID)
        _ = try resolveOutputs(formats, output: output)
    }

    func run() throws {
        let outputs = try resolveOutputs(formats, output: output, textToFreeStdout: true)
        // The configuration, then the flags over it.
        let (settings, userProbes) = try loadSettings(config: config, cst: cst)
        let failLevel = failOn ?? settings.failOn.flatMap { FailOn(rawValue: $0) } ?? .notRunnable

        var run = CheckRun()
        let chosenPaths = !paths.isEmpty ? paths : (settings.paths ?? ["."])
        for p in chosenPaths {
            if let problem = inputProblem(p) {
                Diagnostics.error("\(p): \(problem)")
                throw MuslcheckExit.usage.exitCode
            }
        }
        run.scan.paths = chosenPaths
        run.scan.images = !images.isEmpty ? images : (settings.images ?? [])
        run.scan.targetNames = !targetOptions.targets.isEmpty ? targetOptions.targets : (settings.targets ?? [])
        run.scan.sysroots = !targetOptions.sysroots.isEmpty ? targetOptions.sysroots : (settings.sysroots ?? [])
        run.scan.libraryPath = targetOptions.libraryPath.map { $0.split(separator: ":").map(String.init) } ?? (settings.libraryPath ?? [])
        run.scan.engineKind = engineOptions.engine.kind
        run.scan.context = engineOptions.context
        run.scan.pull = engineOptions.pull.policy
        run.scan.jobs = jobs
        run.scan.failOn = failLevel.rawValue
        run.scan.progress = Progress.forTerminal()
        run.scan.runID = runID
        run.runProbes = !staticOnly
        let chosenProbes = !probes.isEmpty ? probes : settings.probes
        run.probeIDs = chosenProbes
        if let b = baselineImage ?? settings.baselineImage { run.baselineImage = b == "host" ? .host : .image(b) }
        run.execSmoke = execSmoke || (settings.execSmoke ?? false)
        run.userProbes = userProbes
        run.sandbox.enabled = !noSandbox
        run.probeTimeout = timeout
        run.muslCompiler = muslCC
        run.cacheDir = cacheDir
        run.shard = shard.map { ($0.index, $0.count) }
        run.timings = timings
        run.gate = failLevel.gate
        if isatty(STDERR_FILENO) == 1 { run.log = { Diagnostics.note($0) } }
        let known = try exitingOnError { try baseline.map { try ReportBaseline.load($0) } }
        run.suppression = Suppression(ignores: settings.ignores, baseline: known)
        // Checked before the scan, also when no probe will run (--static-only).
        if let ids = chosenProbes, let problem = (try? ProbeCatalog.bundled())?.unknownProbes(ids) {
            Diagnostics.error(problem)
            throw MuslcheckExit.usage.exitCode
        }

        let result = try exitingOnError { try run.run() }
        var written = writeReport(result.report, formats: outputs, verbose: verbose)
        if let writeBaseline {
            do {
                let sink = try OutputSink(path: writeBaseline)
                try sink.write(try ReportBaseline.of(result.report).jsonData())
                try sink.close()
                Diagnostics.note("baseline written to \(writeBaseline): \(result.report.counts.findings.values.reduce(0, +) + result.report.counts.suppressed) findings")
            } catch let e as RunError {
                Diagnostics.error(e.description)
                written = false
            }
        }
        for e in result.environmentErrors { Diagnostics.error(e) }
        if !result.environmentErrors.isEmpty { throw MuslcheckExit.environment.exitCode }
        // A report that was not written is not the gate's answer (1): the run's output is incomplete.
        if !written { throw MuslcheckExit.usage.exitCode }
        if writeBaseline == nil && !result.failures.isEmpty { throw MuslcheckExit.findings.exitCode }
    }
}

/// `--shard i/n`.
struct ShardSpec: ExpressibleByArgument, Sendable {
    var index: Int
    var count: Int
    init?(argument: String) {
        let parts = argument.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i
        count = n
    }
}
