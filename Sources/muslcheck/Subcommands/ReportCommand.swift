import ArgumentParser
import Compat
import Pipeline
import Policy
import Foundation
import Report

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Re-render, merge or compare saved reports (--format json output of check).",
        discussion: """
        muslcheck report FILE.json --format html=report.html     re-render a saved report
        muslcheck report merge A.json B.json --output all.json   join the shards of a split run
        muslcheck report diff OLD.json NEW.json                  what got worse and better (exit 1 when worse)
        muslcheck report schema                                  print the report's JSON Schema
        """,
        subcommands: [Render.self, Merge.self, Diff.self, Schema.self],
        defaultSubcommand: Render.self
    )

    static func load(_ path: String) throws -> CompatibilityReport {
        try exitingOnError { try CompatibilityReport.load(path) }
    }

    /// Writes the report in every format, then judges it at its --fail-on.
    static func write(_ report: MemoryReport, outputs: [FormatSpec], verbose: Bool) throws {
        let written = writeReport(report, formats: outputs, verbose: verbose)
        try finish(environmentErrors: [], written: written, failed: !Gate(level: report.inputs.failOn).failures(report).isEmpty)
    }

    struct Render: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Render a saved report in other formats.",
            discussion: "Exit status: 0, or 1 when the report fails its --fail-on (or the one given here); 2 when the file is not a report."
        )

        @Argument(help: "A report written with --format json.")
        var file: String

        @OptionGroup var outputOptions: OutputOptions

        @Option(name: .customLong("fail-on"), help: "Judge the report at this level instead of its own.")
        var failOn: FailLevel?

        func validate() throws { _ = try outputOptions.resolved() }

        func run() throws {
            var report = try ReportCommand.load(file)
            if let failOn { report.inputs.failOn = failOn }
            try ReportCommand.write(MemoryReport(report), outputs: try outputOptions.resolved(textToFreeStdout: true), verbose: outputOptions.verbose)
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Join reports: the shards of a split run give the unsharded report.",
            discussion: "Exit status: 0, or 1 when the merged report fails its --fail-on; 2 when a file is not a report or the reports do not fit together."
        )

        @Argument(help: "Reports written with --format json.")
        var files: [String]

        @OptionGroup var outputOptions: OutputOptions

        func validate() throws {
            if files.isEmpty { throw ValidationError("give the reports to merge") }
            _ = try outputOptions.resolved(fallback: .json)
        }

        func run() throws {
            let reports = try files.map { try ReportCommand.load($0) }
            let merged = MemoryReport(try exitingOnError { try CompatibilityReport.merge(reports, names: files) })
            try ReportCommand.write(merged, outputs: try outputOptions.resolved(fallback: .json), verbose: outputOptions.verbose)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what got worse and what got better from OLD to NEW.",
            discussion: """
            Worse: a verdict that rose (compatible → incompatible), a new artifact that needs gcompat \
            or is incompatible, a new warning or error, a probe or user probe that stopped passing. \
            Better: the reverse. Changed: probe values, artifacts that came or went harmlessly.

            Exit status: 0 nothing got worse; 1 something got worse; 2 a file is not a report.
            """
        )

        @Argument(help: "The earlier report.")
        var old: String

        @Argument(help: "The later report.")
        var new: String

        @OptionGroup var output: PlainOutputOptions

        func run() throws {
            let diff = ReportDiff(old: try ReportCommand.load(old), new: try ReportCommand.load(new))
            try output.write(text: diff.text(), json: diff)
            if diff.isWorse { throw MuslcheckExit.findings.exitCode }
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the JSON Schema of the report (--format json).")

        func run() throws {
            guard let data = ReportSchema.data else {
                Diagnostics.error("the report schema is missing from muslcheck's resources")
                throw MuslcheckExit.environment.exitCode
            }
            FileHandle.standardOutput.write(data)
        }
    }
}

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
        let text = StarterConfig.text(defaultProfile: profile)
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

enum StarterConfig {
    static func text(defaultProfile: String) -> String {
        """
        # muslcheck.yml: settings for `muslcheck check` (and user probes for `muslcheck probe`).
        # Every key is optional; flags on the command line override them. Unknown keys are errors.

        # Files, directories and archives to check (wheels, jars, tarballs are read in place).
        paths:
          - .

        # Bundled target profiles (`muslcheck targets` lists them). With no target, image or sysroot
        # at all, \(defaultProfile) is checked; a profile named here is checked besides any image.
        # targets:
        #   - \(defaultProfile)

        # Images to check against: their filesystem is the target, and the probes and musl's own
        # loader run in them (needs docker or podman). Without an engine, the bundled profile of
        # the same name stands in and the run exits 3.
        # images:
        #   - \(defaultProfile)

        # Root filesystems on disk to check against.
        # sysroots:
        #   - ./rootfs

        # Exit 1 when a verdict is at or above: incompatible, needs-gcompat, compatible, never.
        failOn: incompatible

        # Built-in probes to run (`muslcheck probe --list`); default: all of them and the loader probe.
        # probes: [loader, thread-stack, resolver, locale, iconv]

        # Run the probes on a glibc image too (or the host: `host`), side by side.
        # baselineImage: debian:12-slim

        # Also start each executable with --version in the images.
        # execSmoke: false

        # LD_LIBRARY_PATH on the target.
        # libraryPath: [/opt/app/lib]

        # Findings to ignore: the finding id (or *), a glob over the artifact path (* within a
        # path component, ** across them), and why. Ignored findings are listed as suppressed.
        ignores: []
        #  - id: MC130
        #    path: "vendor/**"
        #    reason: the application sets its thread stack size

        # Command probes, run in each image (container-structure-test's commandTests work too,
        # with --cst FILE).
        userProbes: []
        #  - name: numpy imports
        #    command: python3
        #    args: ["-c", "import numpy"]
        #    exitCode: 0
        #    stderrExcludes: ["Error relocating"]
        #    timeout: 30

        """
    }
}
