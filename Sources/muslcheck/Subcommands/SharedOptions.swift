import ArgumentParser
import Compat
import Config
import Probes
import Engine
import Foundation

/// Where artifacts must run: bundled profiles, root filesystems, images.
struct TargetOptions: ParsableArguments {
    @Option(name: .customLong("target"), help: ArgumentHelp("A bundled target profile, repeatable (default alpine:3.22; `muslcheck targets` lists them).", valueName: "profile"))
    var targets: [String] = []

    @Option(name: .customLong("sysroot"), help: ArgumentHelp("A musl root filesystem on disk to check against, repeatable.", valueName: "dir"))
    var sysroots: [String] = []

    @Option(name: .customLong("library-path"), help: ArgumentHelp("LD_LIBRARY_PATH on the target, ':'-separated.", valueName: "dirs"))
    var libraryPath: String?
}

/// The container engine.
struct EngineOptions: ParsableArguments {
    @Option(help: "Container engine CLI: docker or podman.")
    var engine: EngineKindArgument = .docker

    @Option(help: ArgumentHelp("Docker context to use (DOCKER_HOST and DOCKER_CONTEXT are honoured too).", valueName: "name"))
    var context: String?

    @Option(help: "Pull images: always, missing (default) or never.")
    var pull: PullArgument = .missing
}

enum EngineKindArgument: String, ExpressibleByArgument, CaseIterable {
    case docker, podman
    var kind: ContainerEngine.Kind { self == .docker ? .docker : .podman }
}

enum PullArgument: String, ExpressibleByArgument, CaseIterable {
    case always, missing, never
    var policy: PullPolicy { PullPolicy(rawValue: rawValue)! }
}

/// The verdict at or above which the exit status is 1.
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case incompatible
    case needsGcompat = "needs-gcompat"
    case compatible
    case never

    var threshold: Verdict? {
        switch self {
        case .incompatible: .incompatible
        case .needsGcompat: .needsGcompat
        case .compatible: .compatible
        case .never: nil
        }
    }

    /// Whether a verdict fails the run.
    func fails(_ verdict: Verdict) -> Bool {
        guard let threshold else { return false }
        return verdict >= threshold && verdict != .notApplicable
    }
}

/// Writes text to a file or stdout.
func emit(_ data: Data, to path: String?) throws {
    if let path {
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw RunError(code: .usage, description: "cannot write \(path): \(error.localizedDescription)")
        }
    } else {
        FileHandle.standardOutput.write(data)
    }
}

/// Color on a terminal unless NO_COLOR is set.
func useColor(forFile path: String?) -> Bool {
    path == nil && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}

/// Where a report goes: a file (written to a temporary name, then renamed) or stdout, in pieces.
final class OutputSink {
    let handle: FileHandle
    let path: String?
    let temporary: String?
    var buffer = Data()

    init(path: String?) throws {
        self.path = path
        if let path {
            let tmp = path + ".muslcheck-partial"
            guard FileManager.default.createFile(atPath: tmp, contents: nil), let h = FileHandle(forWritingAtPath: tmp) else {
                throw RunError(code: .usage, description: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
            handle = h
            temporary = tmp
        } else {
            handle = FileHandle.standardOutput
            temporary = nil
        }
    }

    func write(_ data: Data) throws {
        buffer.append(data)
        if buffer.count >= 1 << 16 { flush() }
    }

    func write(_ text: String) throws { try write(Data(text.utf8)) }

    func flush() {
        handle.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        flush()
        if let temporary, let path {
            try? handle.close()
            if rename(temporary, path) != 0 {
                throw RunError(code: .usage, description: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// muslcheck.yml (`--config`, else ./muslcheck.yml when present) and the commandTests of a
/// container-structure-test file (`--cst`): the settings, and every user probe. A problem in
/// either file exits 2 naming the file and line.
func loadSettings(config: String?, cst: String?) throws -> (settings: MuslcheckConfig, userProbes: [UserProbe]) {
    try exitingOnError {
        var settings = MuslcheckConfig()
        if let path = config ?? (FileManager.default.fileExists(atPath: "muslcheck.yml") ? "muslcheck.yml" : nil) {
            settings = try MuslcheckConfig.load(path)
        }
        var probes = settings.userProbes
        if let cst {
            let loaded = try MuslcheckConfig.loadContainerStructureTest(cst)
            probes += loaded.probes
            if !loaded.skipped.isEmpty { Diagnostics.note("\(cst): only commandTests run; skipped \(loaded.skipped.joined(separator: ", "))") }
        }
        return (settings, probes)
    }
}
