import ArgumentParser
import Compat
import Pipeline
import Policy
import Foundation
import Report

struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find every ELF file in paths, archives and images, and simulate musl's loader on each target.",
        discussion: """
        PATH may be a file, a directory (walked recursively; symbolic links followed once, FIFOs and \
        devices skipped), or an archive: .whl .zip .jar .war .ear .egg .aar .apk .tar .tar.gz .tgz \
        .tar.xz .txz, nested up to 4 levels; members are read in memory, never extracted. A member \
        is named ARCHIVE!MEMBER.

        Exit status: 0 the scan passes --fail-on; 1 it fails (by default: an artifact that does not \
        run on a target as given, or a file or archive member that could not be checked); 2 usage \
        error; 3 engine or environment error (the static results are still printed).
        """
    )

    @Argument(help: "Files, directories and archives to scan (default: the current directory, unless --image is given).")
    var paths: [String] = []

    @Option(name: .customLong("image"), help: ArgumentHelp("A container image whose filesystem is scanned and used as a target, repeatable.", valueName: "ref"))
    var images: [String] = []

    @OptionGroup var targetOptions: TargetOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var outputOptions: OutputOptions

    @Option(name: .customLong("fail-on"), help: FailLevel.help)
    var failOn: FailLevel = .default

    @Option(name: .customLong("jobs"), help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        _ = try outputOptions.resolved()
    }

    func run() throws {
        try requireInputs(paths)
        var flags = Flags()
        flags.paths = paths
        flags.images = images
        targetOptions.apply(to: &flags)
        engineOptions.apply(to: &flags)
        flags.jobs = jobs
        flags.failOn = failOn
        let settings = Settings.resolve(flags, defaultPaths: images.isEmpty ? ["."] : [])
        let result = try exitingOnError { try ScanRun(settings: settings, progress: ScanProgress.forTerminal()).run() }
        let written = writeReport(result.report, formats: try outputOptions.resolved(), verbose: outputOptions.verbose)
        try finish(environmentErrors: result.environmentErrors, written: written, failed: !Gate(level: failOn).failures(result.report).isEmpty)
    }
}
