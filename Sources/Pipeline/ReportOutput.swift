import Compat
import Foundation
import Probes
import Engine
import Report

/// A report format.
public enum ReportFormat: String, CaseIterable, Sendable {
    case text, json, markdown, junit, sarif, github, html

    public var help: String {
        switch self {
        case .text: "for a person, worst first (colored on a terminal unless NO_COLOR is set)"
        case .json: "the whole report (report.schema.json describes it)"
        case .markdown: "for $GITHUB_STEP_SUMMARY and pull-request comments (at most 1 MiB)"
        case .junit: "JUnit XML: a testsuite per target and per image's probes"
        case .sarif: "SARIF 2.1.0 for code scanning"
        case .github: "GitHub Actions workflow-command annotations"
        case .html: "one self-contained page: chart, filterable table, details"
        }
    }
}

/// `--format F[=FILE]`: a format and where it goes (stdout without a file).
public struct FormatSpec: Sendable, Hashable {
    public var format: ReportFormat
    public var file: String?

    public init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        guard let f = ReportFormat(rawValue: parts[0].lowercased()) else { return nil }
        format = f
        file = parts.count == 2 && !parts[1].isEmpty ? parts[1] : nil
    }

    public init(_ format: ReportFormat, file: String? = nil) {
        self.format = format
        self.file = file
    }

    public static var allValueStrings: [String] { ReportFormat.allCases.map(\.rawValue) }
    public static var formatsHelp: String {
        ReportFormat.allCases.map { "\($0.rawValue): \($0.help)" }.joined(separator: "; ")
    }
}

/// Resolves --format and --output into where each format goes (`fallback` when no format is
/// given); two formats on stdout are an error. With `textToFreeStdout`, the text report goes to
/// stdout when no format does.
public func resolveOutputs(_ specs: [FormatSpec], output: String?, fallback: ReportFormat = .text, textToFreeStdout: Bool = false) throws -> [FormatSpec] {
    var resolved = specs.isEmpty ? [FormatSpec(fallback)] : specs
    let toStdout = resolved.indices.filter { resolved[$0].file == nil }
    if let output {
        guard toStdout.count <= 1 else {
            throw RunError(code: .usage, description: "--output names one file, but \(toStdout.count) formats have none: write them as --format F=FILE")
        }
        if let i = toStdout.first { resolved[i].file = output }
        else if !specs.isEmpty { throw RunError(code: .usage, description: "--output: every --format already names its file") }
    } else if toStdout.count > 1 {
        throw RunError(code: .usage, description: "only one format can go to stdout: give the others a file, as --format html=report.html")
    }
    let files = resolved.compactMap(\.file)
    if Set(files).count != files.count { throw RunError(code: .usage, description: "two formats are written to the same file") }
    if textToFreeStdout && output == nil && resolved.allSatisfy({ $0.file != nil }) { resolved.append(FormatSpec(.text)) }
    return resolved
}

/// Writes a report in the given formats. A format that cannot be written is told on stderr
/// (its file, if any, is left as it was) and the others are still written; returns whether
/// every format was written.
@discardableResult
public func writeReport(_ report: any ReportView, formats: [FormatSpec], verbose: Bool) -> Bool {
    // A run cut short by a signal writes no report: it ends as the signal says.
    Interruption.finish()
    let catalog = try? ProbeCatalog.bundled()
    let data = try? CompatData.shared()
    var ok = true
    for spec in formats {
        do {
            let sink = try OutputSink(path: spec.file)
            switch spec.format {
            case .text:
                try TextRenderer(color: useColor(forFile: spec.file), verbose: verbose, catalog: catalog).write(report) { try sink.write($0) }
            case .json:
                try JSONRenderer.write(report) { try sink.write($0) }
            case .markdown:
                try sink.write(try MarkdownRenderer(catalog: catalog).render(report))
            case .junit:
                try sink.write(try JUnitRenderer().render(report))
            case .sarif:
                try SARIFRenderer(rules: data?.ruleList ?? [], readme: MuslcheckVersion.readmeURL,
                                  workingDirectory: FileManager.default.currentDirectoryPath).write(report) { try sink.write($0) }
            case .github:
                try sink.write(try GitHubRenderer().render(report))
            case .html:
                try sink.write(try HTMLRenderer(catalog: catalog, readme: MuslcheckVersion.readmeURL).render(report))
            }
            try sink.close()
        } catch let e as RunError {
            Diagnostics.error(e.description)
            ok = false
        } catch {
            Diagnostics.error("writing the \(spec.format.rawValue) report\(spec.file.map { " to \($0)" } ?? ""): \(error)")
            ok = false
        }
    }
    return ok
}

/// Color on a terminal unless NO_COLOR is set.
public func useColor(forFile path: String?) -> Bool {
    path == nil && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}

