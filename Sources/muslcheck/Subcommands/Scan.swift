import ArgumentParser
import Compat
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

    @Option(help: "Output format: text or json.")
    var format: ScanFormat = .text

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report to a file instead of stdout.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("fail-on"), help: FailOn.help)
    var failOn: FailOn = .notRunnable

    @Option(name: .customLong("jobs"), help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "n"))
    var jobsOption: Int?
    var jobs: Int { jobsOption ?? ProcessInfo.processInfo.activeProcessorCount }

    @Flag(help: "Show note-level findings in text output.")
    var verbose = false

    enum ScanFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() throws {
        for p in paths {
            if let problem = inputProblem(p) {
                Diagnostics.error("\(p): \(problem)")
                throw MuslcheckExit.usage.exitCode
            }
        }
        var run = ScanRun()
        run.paths = paths.isEmpty && images.isEmpty ? ["."] : paths
        run.images = images
        run.targetNames = targetOptions.targets
        run.sysroots = targetOptions.sysroots
        run.libraryPath = targetOptions.libraryPath.map { $0.split(separator: ":").map(String.init) } ?? []
        run.engineKind = engineOptions.engine.kind
        run.context = engineOptions.context
        run.pull = engineOptions.pull.policy
        run.jobs = jobs
        run.failOn = failOn.rawValue
        run.progress = Progress.forTerminal()
        let result = try exitingOnError { try run.run() }
        let sink = try OutputSink(path: output)
        switch format {
        case .text:
            try TextRenderer(color: useColor(forFile: output), verbose: verbose).write(result.report) { try sink.write($0) }
        case .json:
            try JSONRenderer.write(result.report) { try sink.write($0) }
        }
        try sink.close()
        for e in result.environmentErrors { Diagnostics.error(e) }
        if !result.environmentErrors.isEmpty { throw MuslcheckExit.environment.exitCode }
        if !failOn.gate.failures(result.report).isEmpty { throw MuslcheckExit.findings.exitCode }
    }
}

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the bundled target profiles.")

    @Option(help: "Output format: text or json.")
    var format: Scan.ScanFormat = .text

    func run() throws {
        let data: CompatData
        do { data = try CompatData.shared() } catch {
            Diagnostics.error("\(error)")
            throw MuslcheckExit.environment.exitCode
        }
        struct Row: Encodable { var name: String; var musl: String; var muslPackage: String?; var gcompat: Bool; var baseLibraries: [String]; var isDefault: Bool }
        var rows: [Row] = []
        for p in data.targets.profiles {
            for gc in [false, true] {
                rows.append(Row(name: p.name + (gc ? "+gcompat" : ""), musl: p.musl, muslPackage: p.muslPackage, gcompat: gc,
                                baseLibraries: p.baseLibraries + (gc ? [data.targets.gcompat.library] : []),
                                isDefault: p.name == data.targets.default && !gc))
            }
        }
        switch format {
        case .json: try JSONOutput.write(rows)
        case .text:
            // Each column as wide as its widest cell, two spaces apart.
            let cells = rows.map { r in
                [r.name + (r.isDefault ? " *" : ""), r.musl + (r.muslPackage.map { " (\($0))" } ?? ""),
                 r.baseLibraries.map { String($0.split(separator: "/").last!) }.joined(separator: " ")]
            }
            let head = ["NAME", "MUSL", "BASE LIBRARIES"]
            let widths = (0..<2).map { i in max(head[i].count, cells.map { $0[i].count }.max() ?? 0) + 2 }
            func line(_ c: [String]) -> String {
                c[0].padding(toLength: widths[0], withPad: " ", startingAt: 0) + c[1].padding(toLength: widths[1], withPad: " ", startingAt: 0) + c[2]
            }
            print(line(head))
            for c in cells { print(line(c)) }
            print("\n* default. A profile stands for the release: libraries of Alpine packages it lacks are reported as packages to add.")
            print("+gcompat: with gcompat \(data.targets.gcompat.version) (libgcompat.so.0, the glibc loader stub and its library links).")
        }
    }
}
