import ArgumentParser
import Compat
import Foundation
import Pipeline
import Policy
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
    @OptionGroup var probeOptions: ProbeOptions
    @OptionGroup var outputOptions: OutputOptions

    @Option(name: .customLong("config"), help: ArgumentHelp("muslcheck.yml to read (default: ./muslcheck.yml when present).", valueName: "file"))
    var config: String?

    @Option(name: .customLong("fail-on"), help: FailLevel.help)
    var failOn: FailLevel?

    @Option(help: ArgumentHelp("A baseline file (--write-baseline): its findings are suppressed; new ones still fail.", valueName: "file"))
    var baseline: String?

    @Option(name: .customLong("write-baseline"), help: ArgumentHelp("Record the current findings and verdicts as a baseline, and exit 0 unless something went wrong.", valueName: "file"))
    var writeBaseline: String?

    @Option(help: ArgumentHelp("Check only shard i of n (1-based) of the files and archives; `muslcheck report merge` joins the shards.", valueName: "i/n"))
    var shard: Shard?

    @Flag(name: .customLong("static-only"), help: "Do not run the probes, even when an engine answers.")
    var staticOnly = false

    @Option(name: .customLong("jobs"), help: ArgumentHelp("Worker threads and images probed at once (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    @Flag(help: "Put durations in the report (they make two reports of the same inputs differ).")
    var timings = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        _ = try outputOptions.resolved()
    }

    func run() throws {
        let outputs = try outputOptions.resolved(textToFreeStdout: true)
        // The configuration, then the flags over it.
        let (config, userProbes) = try exitingOnError { try loadConfig(config: self.config, cst: probeOptions.cst) }
        var flags = Flags()
        flags.paths = paths
        flags.images = images
        targetOptions.apply(to: &flags)
        engineOptions.apply(to: &flags)
        probeOptions.apply(to: &flags)
        flags.jobs = jobs
        flags.failOn = failOn
        flags.staticOnly = staticOnly
        flags.shard = shard
        flags.baseline = baseline
        flags.timings = timings
        let settings = Settings.resolve(flags, config: config, userProbes: userProbes)
        try requireInputs(settings.paths)

        var log: @Sendable (String) -> Void = { _ in }
        if isatty(STDERR_FILENO) == 1 { log = { Diagnostics.note($0) } }
        let result = try exitingOnError { try CheckRun(settings: settings, progress: ScanProgress.forTerminal(), log: log).run() }
        var written = writeReport(result.report, formats: outputs, verbose: outputOptions.verbose)
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
        try finish(environmentErrors: result.environmentErrors, written: written, failed: writeBaseline == nil && !result.failures.isEmpty)
    }
}
