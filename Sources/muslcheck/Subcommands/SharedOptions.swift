import ArgumentParser
import Compat
import Config
import Probes
import Report
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

/// --fail-on: what makes the exit status 1 (Gate.Level).
enum FailOn: String, ExpressibleByArgument, CaseIterable {
    case notRunnable = "not-runnable"
    case incompatible
    case needsGcompat = "needs-gcompat"
    case compatible
    case never

    var gate: Gate { Gate(level: Gate.Level(rawValue: rawValue)!) }

    /// The option's help: every level with what it fails.
    static var help: ArgumentHelp {
        ArgumentHelp("Exit 1 on: " + allCases.map { "\($0.rawValue) (\($0.gate.level.meaning))" }.joined(separator: "; ")
                     + ". Default: not-runnable.", valueName: "level")
    }
}

/// Why a path given on the command line cannot be checked, or nil: "a symbolic link loop", "a
/// symbolic link to X, which does not exist", "no such file or directory", "permission denied".
func inputProblem(_ path: String) -> String? {
    var st = stat()
    if stat(path, &st) == 0 { return nil }
    let error = errno
    if error == ELOOP { return "a symbolic link loop" }
    var link = stat()
    if error == ENOENT, lstat(path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        return "a symbolic link to \(target), which does not exist"
    }
    return String(cString: strerror(error)).lowercased()
}

/// --run-id: it becomes a label value and part of container names.
func validateRunID(_ id: String?) throws {
    if let id, id.isEmpty || id.contains(where: { !($0.isASCII && ($0.isLetter || $0.isNumber)) && $0 != "-" && $0 != "_" }) {
        throw ValidationError("--run-id may hold letters, digits, '-' and '_' only")
    }
}

/// Color on a terminal unless NO_COLOR is set.
func useColor(forFile path: String?) -> Bool {
    path == nil && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
}

/// Where a report goes, in pieces: stdout, or a file. A regular file (or a new one) is written
/// under a temporary name beside it and renamed over it when complete, keeping the permissions
/// of the file it replaces; a symbolic link is followed, and stays. Anything else (a device such
/// as /dev/null, a FIFO) is written in place and never replaced; /dev/stdout, /dev/stderr and
/// /dev/fd/N are the process's own descriptors, written as a shell's redirection set them up.
final class OutputSink {
    let path: String?
    private let fd: Int32
    /// The temporary file renamed over `destination` on close (nil: written in place).
    private var temporary: String?
    /// The regular file a temporary file replaces (the path, or where its links lead).
    private var destination: String?
    private var buffer: [UInt8] = []
    private var closed = false

    /// The descriptor a path names: /dev/stdout → 1, /dev/stderr → 2, /dev/fd/N and /proc/self/fd/N → N.
    static func descriptor(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) { return Int32(path.dropFirst(prefix.count)) }
            return nil
        }
    }

    init(path: String?) throws {
        self.path = path
        guard let path else {
            fd = STDOUT_FILENO
            return
        }
        func failure(_ why: String) -> RunError { RunError(code: .usage, description: "cannot write \(path): \(why)") }
        if let n = Self.descriptor(path) {
            let copy = fcntl(n, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else { throw failure(String(cString: strerror(errno))) }
            fd = copy
            return
        }
        // Where the path leads: a symbolic link is followed to its file (a dangling link to the
        // file it names, created).
        var target = path
        var st = stat()
        var exists = lstat(path, &st) == 0
        if exists && (st.st_mode & S_IFMT) == S_IFLNK {
            if let real = realpath(path, nil) {
                target = String(cString: real)
                free(real)
                exists = stat(target, &st) == 0
            } else {
                // A link to nothing yet: the file is made where it points.
                let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
                guard opened >= 0 else { throw failure(String(cString: strerror(errno))) }
                fd = opened
                return
            }
        }
        if exists && (st.st_mode & S_IFMT) == S_IFDIR { throw failure("it is a directory") }
        if exists && (st.st_mode & S_IFMT) != S_IFREG {
            // A device, FIFO or socket: write to it, never replace it. A FIFO waits here for its
            // reader, as a shell's redirection does.
            let opened = open(target, O_WRONLY | O_CLOEXEC)
            guard opened >= 0 else { throw failure(String(cString: strerror(errno))) }
            fd = opened
            return
        }
        // A regular file or a new one: a temporary file in the same folder, renamed over it.
        let folder = (target as NSString).deletingLastPathComponent
        let base = (target as NSString).lastPathComponent
        var made: Int32 = -1
        var name = ""
        for _ in 0..<16 {
            name = (folder.isEmpty ? "" : folder + "/") + ".\(base).muslcheck-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
            made = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if made >= 0 || errno != EEXIST { break }
        }
        guard made >= 0 else { throw failure(String(cString: strerror(errno))) }
        guard CleanupRegistry.shared.register(temporary: name) else {
            Foundation.close(made)
            unlink(name)
            throw failure("the run is being interrupted")
        }
        if exists {
            // Keep the replaced file's owner (when allowed) and permissions.
            _ = fchown(made, st.st_uid, st.st_gid)
            fchmod(made, st.st_mode & 0o7777)
        }
        fd = made
        temporary = name
        destination = target
    }

    func write(_ data: Data) throws {
        // A large piece goes out as it is, without a copy into the buffer.
        if data.count >= 1 << 16 {
            try flush()
            try data.withUnsafeBytes { try writeAll($0) }
            return
        }
        buffer.append(contentsOf: data)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw RunError(code: .usage, description: "cannot write \(path ?? "to stdout"): \(n < 0 ? String(cString: strerror(errno)) : "nothing written")")
        }
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        guard !closed else { return }
        closed = true
        do { try flush() } catch {
            discard()
            throw error
        }
        guard let path else { return }
        if let temporary, let destination {
            let closedOK = Foundation.close(fd) == 0
            guard closedOK, rename(temporary, destination) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(temporary)
                CleanupRegistry.shared.forget(temporary: temporary)
                throw RunError(code: .usage, description: "cannot write \(path): \(why)")
            }
            CleanupRegistry.shared.forget(temporary: temporary)
        } else if Foundation.close(fd) != 0 && errno != EINTR {
            throw RunError(code: .usage, description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Gives up: the temporary file is removed, and the target left as it was.
    func discard() {
        guard path != nil else { return }
        if let temporary {
            Foundation.close(fd)
            unlink(temporary)
            CleanupRegistry.shared.forget(temporary: temporary)
            self.temporary = nil
        } else if fd >= 0 {
            Foundation.close(fd)
        }
    }

    deinit {
        // A sink dropped without close (an error on the way): nothing half-written stays.
        if !closed { closed = true; discard() }
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
