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
