import ArgumentParser
import Compat
import Foundation
import Pipeline
import Report

struct Plan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rank candidate base images (Alpine, distroless, Debian slim) by size with what each needs to run the artifacts, and recommend one.",
        discussion: """
        By default every bundled candidate is checked: the Alpine releases, each plain and with \
        gcompat, and distroless/static-debian12, distroless/base-debian12, distroless/cc-debian12 \
        and debian:12-slim. --candidate NAME checks only the named ones; NAME=IMAGE checks NAME \
        against a real local image instead of its profile. Sizes are estimates: the base, plus \
        the packages to add, plus the artifacts' own bytes (sources in the JSON).

        Formats: text (default), json, markdown, html (a candidates × artifacts matrix), and \
        dockerfile (a multi-stage Dockerfile for the recommendation), each as F or F=FILE.

        --from-image REF plans from an application image instead of paths: the files no package \
        owns (dpkg's or apk's database) are the application's, --app-path adds more; the language \
        runtime (python, node) is planned too. The Dockerfile then starts FROM REF and copies only \
        the application (and, onto a Debian 12 base without apt, the Debian packages' files it lacks), \
        keeping the image's command, environment, folder, ports and user. --build TAG builds it; \
        --verify then runs the loader on every artifact, the built-in probes against REF, and the \
        user probes (muslcheck.yml, --cst) in the built image; --verify without --build runs the \
        same checks in REF itself (an image you already built).

        Exit status: 0 a candidate runs every artifact (and, with --build/--verify, it built and \
        every check passed); 1 none does, or the build or a check failed; 2 usage error; 3 engine \
        or environment error (an image could not be read).
        """
    )

    @Argument(help: "Files, directories and archives (wheels, jars, tarballs) to plan for (default: the current directory).")
    var paths: [String] = []

    @Option(name: .customLong("candidate"), help: ArgumentHelp("A candidate base: a bundled name, or NAME=IMAGE to check NAME against a local image; repeatable.", valueName: "name[=image]"))
    var candidates: [String] = []

    @Option(name: .customLong("image"), help: ArgumentHelp("A local image to check as a candidate of its own name; repeatable.", valueName: "ref"))
    var images: [String] = []

    @Option(name: .customLong("from-image"), help: ArgumentHelp("Plan from this application image: its files that no package owns, and its runtime.", valueName: "ref"))
    var fromImage: String?

    @Option(name: .customLong("app-path"), help: ArgumentHelp("With --from-image: a path in the image that is the application's too; repeatable.", valueName: "path"))
    var appPaths: [String] = []

    @Option(name: .customLong("build"), help: ArgumentHelp("With --from-image: build the planned Dockerfile as this tag.", valueName: "tag"))
    var buildTag: String?

    @Flag(name: .customLong("verify"), help: "With --build: run the loader, the built-in probes (against the original image) and the user probes in the built image. Without --build: the same in the --from-image image itself (no baseline).")
    var verify = false

    @Option(name: .customLong("run-id"), help: ArgumentHelp("The run id in the label org.muslcheck.run of the containers and build images (default: random).", valueName: "id"))
    var runID: String?

    @Option(name: .customLong("config"), help: ArgumentHelp("muslcheck.yml whose userProbes --verify runs (default: ./muslcheck.yml when present).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("A container-structure-test file whose commandTests --verify runs as user probes.", valueName: "file"))
    var cst: String?

    @Option(name: .customLong("index-url"), help: ArgumentHelp("Python package index asked whether a wheel's version has a musllinux build ('none': do not ask).", valueName: "url"))
    var indexURL = "https://pypi.org/simple"

    @Option(name: .customLong("format"), help: ArgumentHelp("text, json, markdown, html or dockerfile, as F or F=FILE; repeatable.", valueName: "f[=file]"))
    var formats: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Write the (single) format to this file.", valueName: "file"))
    var output: String?

    @Option(name: .customLong("library-path"), help: ArgumentHelp("LD_LIBRARY_PATH on the candidates.", valueName: "dirs"))
    var libraryPath: String?

    @OptionGroup var engineOptions: EngineOptions

    @Option(name: .customLong("jobs"), help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "n"))
    var jobs: Int?

    func parsedFormats() throws -> [(PlanFormat, String?)] {
        var out: [(PlanFormat, String?)] = []
        for f in formats {
            let parts = f.split(separator: "=", maxSplits: 1).map(String.init)
            guard let format = PlanFormat(rawValue: parts[0]) else {
                throw ValidationError("--format \(f): not one of \(PlanFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            out.append((format, parts.count == 2 ? parts[1] : nil))
        }
        if out.isEmpty { out = [(.text, output)] }
        if let output {
            guard out.count == 1, out[0].1 == nil || out[0].1 == output else { throw ValidationError("-o goes with a single --format without =FILE") }
            out[0].1 = output
        }
        if out.filter({ $0.1 == nil }).count > 1 { throw ValidationError("only one format can go to standard output; give the others =FILE") }
        return out
    }

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if fromImage == nil && (!appPaths.isEmpty || buildTag != nil || verify) {
            throw ValidationError("--app-path, --build and --verify go with --from-image")
        }
        if let id = runID, !ProbeOptions.isRunID(id) {
            throw ValidationError("--run-id: letters, digits, - and _ only")
        }
        if fromImage != nil && (!paths.isEmpty || !images.isEmpty) { throw ValidationError("--from-image plans the image's own files: give no paths and no --image") }
        for c in candidates where PlanRun.Candidate(argument: c) == nil { throw ValidationError("--candidate \(c): expected NAME or NAME=IMAGE") }
        _ = try parsedFormats()
        if let data = try? CompatData.shared() {
            let known = Set(PlanRun.bundledCandidates(data: data) + Target.profileNames(data: data))
            for c in candidates.compactMap(PlanRun.Candidate.init(argument:)) where c.image == nil && !known.contains(c.name) {
                throw ValidationError("--candidate \(c.name): not a bundled candidate (\(PlanRun.bundledCandidates(data: data).joined(separator: ", "))); give NAME=IMAGE to check a local image")
            }
        }
    }

    func run() throws {
        if let fromImage { return try runFromImage(fromImage) }
        try requireInputs(paths)
        var flags = Flags()
        flags.paths = paths
        flags.libraryPath = libraryPath
        engineOptions.apply(to: &flags)
        flags.jobs = jobs
        let settings = Settings.resolve(flags)
        let chosen = candidates.compactMap(PlanRun.Candidate.init(argument:)) + images.map { PlanRun.Candidate(name: $0, image: $0) }
        let run = PlanRun(settings: settings, candidates: chosen, indexURL: indexURL == "none" ? nil : indexURL,
                          progress: ScanProgress.forTerminal())
        let result = try exitingOnError { try run.run() }
        try write(result.plan)
        try finish(environmentErrors: result.environmentErrors, written: true, failed: result.plan.recommended == nil)
    }

    func runFromImage(_ ref: String) throws {
        let (config, userProbes) = try exitingOnError { try loadConfig(config: self.config, cst: cst) }
        var flags = Flags()
        flags.libraryPath = libraryPath
        engineOptions.apply(to: &flags)
        flags.jobs = jobs
        var settings = Settings.resolve(flags, config: config, userProbes: userProbes)
        settings.paths = []
        if let runID { settings.runID = runID }
        var log: @Sendable (String) -> Void = { _ in }
        if isatty(STDERR_FILENO) == 1 { log = { Diagnostics.note($0) } }
        let run = FromImageRun(settings: settings, image: ref, appPaths: appPaths, candidates: candidates.compactMap(PlanRun.Candidate.init(argument:)),
                               indexURL: indexURL == "none" ? nil : indexURL, buildTag: buildTag, verify: verify, log: log)
        let result = try exitingOnError { try run.run() }
        try write(result.plan)
        try finish(environmentErrors: result.environmentErrors, written: true,
                   failed: result.plan.recommended == nil || result.verificationFailed)
    }

    func write(_ plan: PlanReport) throws {
        for (format, file) in try parsedFormats() {
            let text: String
            switch format {
            case .text: text = PlanRenderer.text(plan)
            case .json: text = try PlanRenderer.json(plan)
            case .markdown: text = PlanRenderer.markdown(plan)
            case .html: text = PlanRenderer.html(plan)
            case .dockerfile: text = PlanRenderer.dockerfile(plan)
            }
            try exitingOnError {
                do {
                    let sink = try OutputSink(path: file)
                    try sink.write(text)
                    try sink.close()
                } catch {
                    throw RunError(code: .environment, description: "writing \(file ?? "standard output"): \(error)")
                }
            }
            if let file { Diagnostics.note("wrote \(format.rawValue) to \(file)") }
        }
    }
}
