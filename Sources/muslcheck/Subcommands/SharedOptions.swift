import ArgumentParser
import Engine
import Compat
import Foundation
import Pipeline
import Policy
import Probes

/// Where artifacts must run: bundled profiles, root filesystems, images.
struct TargetOptions: ParsableArguments {
    @Option(name: .customLong("target"), help: ArgumentHelp("A bundled target profile, repeatable (default alpine:3.22; `muslcheck targets` lists them).", valueName: "profile"))
    var targets: [String] = []

    @Option(name: .customLong("sysroot"), help: ArgumentHelp("A musl root filesystem on disk to check against, repeatable.", valueName: "dir"))
    var sysroots: [String] = []

    @Option(name: .customLong("library-path"), help: ArgumentHelp("LD_LIBRARY_PATH on the target, ':'-separated.", valueName: "dirs"))
    var libraryPath: String?

    func apply(to flags: inout Flags) {
        flags.targets = targets
        flags.sysroots = sysroots
        flags.libraryPath = libraryPath
    }
}

/// The container engine.
struct EngineOptions: ParsableArguments {
    @Option(help: "Container engine CLI: docker or podman.")
    var engine: ContainerEngine.Kind = .docker

    @Option(help: ArgumentHelp("Docker context to use (DOCKER_HOST and DOCKER_CONTEXT are honoured too).", valueName: "name"))
    var context: String?

    @Option(help: "Pull images: always, missing (default) or never.")
    var pull: PullPolicy = .missing

    @Option(help: ArgumentHelp("How the probes and artifacts reach the containers: mount (bind mounts of this machine's paths), copy (the engine's cp, into a volume removed with the container: for muslcheck in a container using the host's engine socket, or a remote engine) or auto (copy when muslcheck runs in a container or DOCKER_HOST/CONTAINER_HOST is not a unix socket; mount otherwise).", valueName: "auto|mount|copy"))
    var transfer: FileTransfer = .auto

    func apply(to flags: inout Flags) {
        flags.engine.kind = engine
        flags.engine.context = context
        flags.engine.pull = pull
        flags.engine.transfer = transfer
    }
}

/// What runs in the images, and how (check and probe).
struct ProbeOptions: ParsableArguments {
    @Option(name: .customLong("probe"), help: ArgumentHelp("Run only these built-in probes, repeatable (`muslcheck probe --list`; 'loader' is the loader probe).", valueName: "id"))
    var probes: [String] = []

    @Option(name: .customLong("baseline-image"), help: ArgumentHelp("Run the same probes on this image (built with the host compiler) or on the host ('host'), side by side.", valueName: "ref|host"))
    var baselineImage: String?

    @Flag(name: .customLong("exec-smoke"), help: "Also start each executable with --version in the images (5 s limit).")
    var execSmoke = false

    @Option(help: ArgumentHelp("A container-structure-test file: its commandTests run as user probes.", valueName: "file"))
    var cst: String?

    @Option(help: ArgumentHelp("Time limit of each probe in seconds (default: each probe's own).", valueName: "seconds"))
    var timeout: Double?

    @Flag(name: .customLong("no-sandbox"), help: "Run the probes without the sandbox (network, writable root, capabilities); labels, removal and time limits stay.")
    var noSandbox = false

    @Option(name: .customLong("musl-cc"), help: ArgumentHelp("The musl C compiler that builds the probes (default: musl-gcc).", valueName: "path"))
    var muslCC: String?

    @Option(name: .customLong("cache-dir"), help: ArgumentHelp("Where built probes are kept (default: ~/.cache/muslcheck).", valueName: "dir"))
    var cacheDir: String?

    @Option(name: .customLong("run-id"), help: ArgumentHelp("The run id in the containers' label org.muslcheck.run (default: random).", valueName: "id"))
    var runID: String?

    /// A run id becomes a label value and part of container names: letters, digits, '-' and '_'.
    static func isRunID(_ id: String) -> Bool {
        !id.isEmpty && id.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" }
    }

    func validate() throws {
        // It becomes a label value and part of container names.
        if let id = runID, !Self.isRunID(id) {
            throw ValidationError("--run-id may hold letters, digits, '-' and '_' only")
        }
    }

    func apply(to flags: inout Flags) {
        flags.probes = probes
        flags.baselineImage = baselineImage
        flags.execSmoke = execSmoke
        flags.timeout = timeout
        flags.noSandbox = noSandbox
        flags.muslCompiler = muslCC
        flags.cacheDir = cacheDir
        flags.runID = runID
    }
}

/// Where the output goes: `--format F[=FILE]` (repeatable where `repeatable`) and `--output`.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("format"), help: ArgumentHelp("Format, optionally with its file, repeatable: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")) (default: text; report merge: json).", valueName: "format[=file]"))
    var formats: [FormatSpec] = []

    @Option(name: .shortAndLong, help: ArgumentHelp("The file of the one --format given without a file (default: stdout).", valueName: "file"))
    var output: String?

    @Flag(help: "Show note-level findings in text output.")
    var verbose = false

    /// Where each format goes; `fallback` when none is given.
    func resolved(fallback: ReportFormat = .text, textToFreeStdout: Bool = false) throws -> [FormatSpec] {
        do { return try resolveOutputs(formats, output: output, fallback: fallback, textToFreeStdout: textToFreeStdout) }
        catch let e as RunError { throw ValidationError(e.description) }
    }
}

/// `--format text|json` for the outputs that are not reports, and the file it goes to.
struct PlainOutputOptions: ParsableArguments {
    /// text or json: the report formats an output that is not a report comes in.
    struct PlainFormat: ExpressibleByArgument {
        var format: ReportFormat
        init(_ format: ReportFormat) { self.format = format }
        init?(argument: String) {
            guard let f = ReportFormat(rawValue: argument.lowercased()), f == .text || f == .json else { return nil }
            format = f
        }
        static var allValueStrings: [String] { ["text", "json"] }
        var defaultValueDescription: String { format.rawValue }
    }

    @Option(help: "Output format.")
    var format = PlainFormat(.text)

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to a file instead of stdout.", valueName: "file"))
    var output: String?

    var isJSON: Bool { format.format == .json }

    /// Writes the text, or the value as JSON.
    func write<T: Encodable>(text: @autoclosure () throws -> String, json value: @autoclosure () throws -> T) throws {
        try exitingOnError {
            let sink = try OutputSink(path: output)
            if isJSON { try sink.write(try JSONFormat.data(value())) } else { try sink.write(try text()) }
            try sink.close()
        }
    }
}

extension FormatSpec: ExpressibleByArgument {}
extension ContainerEngine.Kind: ExpressibleByArgument {}
extension PullPolicy: ExpressibleByArgument {}
extension FileTransfer: ExpressibleByArgument {}

extension FailLevel: ExpressibleByArgument {
    /// The option's help: every level with what it fails.
    static var help: ArgumentHelp {
        ArgumentHelp("Exit 1 on: " + allCases.map { "\($0.rawValue) (\($0.meaning))" }.joined(separator: "; ")
                     + ". Default: \(FailLevel.default.rawValue).", valueName: "level")
    }
}

extension Shard: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// The paths given must exist: a usage error names the first that does not, and why.
func requireInputs(_ paths: [String]) throws {
    for p in paths {
        if let problem = inputProblem(p) {
            Diagnostics.error("\(p): \(problem)")
            throw MuslcheckExit.usage.exitCode
        }
    }
}
