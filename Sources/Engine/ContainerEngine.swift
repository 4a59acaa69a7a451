import Foundation

/// Why the container engine could not do something; each case reads as a sentence for the user.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The docker/podman CLI is not installed.
        case cliMissing
        /// The CLI runs but no daemon answers.
        case daemonUnreachable
        /// The image is not present and could not be pulled.
        case imageMissing
        /// A command failed.
        case commandFailed
        /// A command ran past its time limit.
        case timeout
    }
    public var kind: Kind
    public var message: String
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
    public var description: String { message }
}

/// The result of one CLI command.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
}

/// The label every container muslcheck starts carries, with the run's id as value.
public let runLabel = "org.muslcheck.run"

/// The docker CLI (or podman's, which takes the same commands), never the socket directly.
/// DOCKER_HOST and DOCKER_CONTEXT reach the CLI through the environment; `context` adds --context.
public struct ContainerEngine: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case docker, podman }

    public let kind: Kind
    public let executable: String
    public let context: String?

    /// Finds the CLI on PATH.
    public init(kind: Kind = .docker, context: String? = nil) throws(EngineError) {
        self.kind = kind
        self.context = context
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(kind.rawValue)"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                executable = candidate
                return
            }
        }
        throw EngineError(.cliMissing, "the \(kind.rawValue) command is not installed (not on PATH); install it or choose --engine \(kind == .docker ? "podman" : "docker")")
    }

    var baseArguments: [String] { context.map { ["--context", $0] } ?? [] }

    /// Runs the CLI to completion (stdout and stderr captured, each capped), with a time limit.
    public func run(_ arguments: [String], timeout: TimeInterval = 120, outputLimit: Int = 16 << 20) -> CommandOutput {
        Command.run(executable, baseArguments + arguments, timeout: timeout, outputLimit: outputLimit,
                    createsContainers: ["run", "create"].contains(arguments.first ?? ""))
    }

    /// Checks that the CLI reaches a daemon.
    public func checkDaemon() throws(EngineError) {
        let r = run(["version", "--format", "{{.Server.Version}}"], timeout: 30)
        if r.status != 0 || r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let why = r.stderr.split(separator: "\n").first.map(String.init) ?? "no answer"
            let host = ProcessInfo.processInfo.environment["DOCKER_HOST"].map { " at DOCKER_HOST=\($0)" } ?? ""
            throw EngineError(.daemonUnreachable, "no \(kind.rawValue) daemon answers\(host): \(why)")
        }
    }

    /// The host name of the machine the daemon runs on, or nil when it does not say.
    public func daemonHostname() -> String? {
        let r = run(["info", "--format", kind == .podman ? "{{.Host.Hostname}}" : "{{.Name}}"], timeout: 30)
        let name = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return r.status == 0 && !name.isEmpty ? name : nil
    }

    /// Makes sure the image is present: pulls it unless `pull` is .never.
    public func ensureImage(_ ref: String, pull: PullPolicy) throws(EngineError) {
        let present = run(["image", "inspect", "--format", "{{.Id}}", ref], timeout: 60).status == 0
        switch pull {
        case .never:
            if !present { throw EngineError(.imageMissing, "image \(ref) is not present locally and --pull never forbids pulling it") }
        case .missing:
            if present { return }
            fallthrough
        case .always:
            let r = run(["pull", ref], timeout: 900)
            if r.status != 0 {
                if present && pull == .always { return }
                let why = r.stderr.split(separator: "\n").last.map(String.init) ?? "pull failed"
                throw EngineError(.imageMissing, "image \(ref) is not present and could not be pulled: \(why)")
            }
        }
    }

    /// The image's id and, when it came from a registry, its repo digest.
    public func imageIdentity(_ ref: String) -> (id: String, digest: String?) {
        let r = run(["image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", ref], timeout: 60)
        let line = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, let space = line.firstIndex(of: " ") else { return ("", nil) }
        let id = String(line[..<space])
        let digests = (try? JSONDecoder().decode([String].self, from: Data(line[line.index(after: space)...].utf8))) ?? []
        return (id, digests.first)
    }

    /// The image's size in bytes as the engine reports it (uncompressed, all layers), nil when unknown.
    public func imageSize(_ ref: String) -> Int? {
        let r = run(["image", "inspect", "--format", "{{.Size}}", ref], timeout: 60)
        guard r.status == 0 else { return nil }
        return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Creates (does not start) a container of `image`, labelled with the run id; returns its id.
    public func createContainer(image: String, runID: String, arguments: [String] = [], command: [String] = ["/bin/true"]) throws(EngineError) -> String {
        let r = run(["create", "--label", "\(runLabel)=\(runID)"] + arguments + [image] + command, timeout: 120)
        let id = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard r.status == 0, !id.isEmpty else {
            throw EngineError(.commandFailed, "\(kind.rawValue) create \(image) failed: \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        CleanupRegistry.shared.register(container: id, engine: self)
        return id
    }

    /// Removes a container (forcefully), and forgets it.
    public func removeContainer(_ id: String) {
        _ = run(["rm", "-f", "-v", id], timeout: 60)
        CleanupRegistry.shared.forget(container: id)
    }

    /// Removes every container that carries the run's label.
    /// Removes the images a run's build made (its first stage carries the run label; the built
    /// image does not). Leaves first: removing one removes its untagged parents.
    public func removeImages(runID: String) {
        for all in [false, true] {
            let r = run(["images", all ? "-aq" : "-q", "--filter", "label=\(runLabel)=\(runID)"], timeout: 60)
            for id in Set(r.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }) {
                _ = run(["rmi", id], timeout: 120)
            }
        }
    }

    public func removeContainers(runID: String) {
        let r = run(["ps", "-aq", "--filter", "label=\(runLabel)=\(runID)"], timeout: 60)
        let ids = r.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        if !ids.isEmpty { _ = run(["rm", "-f", "-v"] + ids, timeout: 120) }
        for id in ids { CleanupRegistry.shared.forget(container: id) }
    }

    /// Starts `docker export ID`; the caller reads the tar stream from `stdout` and then calls `wait`.
    public func startExport(_ id: String) throws(EngineError) -> StreamingCommand {
        try StreamingCommand(executable: executable, arguments: baseArguments + ["export", id])
    }
}

/// Runs programs to completion with captured, capped output and a time limit.
public enum Command {
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           currentDirectory: String? = nil, timeout: TimeInterval = 120,
                           outputLimit: Int = 16 << 20, createsContainers: Bool = false) -> CommandOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try CleanupRegistry.shared.start(process, createsContainers: createsContainers) } catch {
            return CommandOutput(status: 127, stdout: "", stderr: "cannot run \(executable): \(error.localizedDescription)", timedOut: false)
        }
        defer { CleanupRegistry.shared.forget(process: process) }
        let outBox = CappedReader(out.fileHandleForReading, limit: outputLimit)
        let errBox = CappedReader(err.fileHandleForReading, limit: 1 << 20)
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                usleep(200_000)
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                break
            }
            usleep(2_000)
        }
        process.waitUntilExit()
        return CommandOutput(status: process.terminationStatus, stdout: outBox.finish(), stderr: errBox.finish(), timedOut: timedOut)
    }

    /// The absolute path of a program on PATH.
    public static func which(_ name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

public enum PullPolicy: String, Sendable, CaseIterable {
    case always, missing, never
}

/// A running command whose stdout is read as a stream (an image export).
public final class StreamingCommand: @unchecked Sendable {
    let process = Process()
    let errors: CappedReader
    /// Read end of the command's stdout.
    public let stdout: FileHandle

    init(executable: String, arguments: [String]) throws(EngineError) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try CleanupRegistry.shared.start(process) } catch {
            throw EngineError(.commandFailed, "cannot run \(executable): \(error.localizedDescription)")
        }
        stdout = out.fileHandleForReading
        errors = CappedReader(err.fileHandleForReading, limit: 1 << 20)
    }

    /// Waits for the command; throws with its stderr when it failed.
    public func wait(describing what: String) throws(EngineError) {
        process.waitUntilExit()
        CleanupRegistry.shared.forget(process: process)
        let err = errors.finish()
        if process.terminationStatus != 0 {
            throw EngineError(.commandFailed, "\(what) failed (status \(process.terminationStatus)): \(err.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    public func terminate() { if process.isRunning { process.terminate() } }
}

/// Reads a pipe to its end on a background thread, keeping at most `limit` bytes.
final class CappedReader: @unchecked Sendable {
    private var data = Data()
    private var dropped = 0
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle, limit: Int) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                let room = limit - data.count
                if room > 0 { data.append(chunk.prefix(room)) }
                dropped += max(0, chunk.count - max(room, 0))
            }
            done.signal()
        }
    }

    func finish() -> String {
        done.wait()
        var text = String(decoding: data, as: UTF8.self)
        if dropped > 0 { text += "\n[muslcheck: \(dropped) more bytes of output dropped]" }
        return text
    }
}

/// What a run leaves behind unless removed: containers it started, and temporary files and
/// folders it made. Everything registered is removed on SIGINT, SIGTERM and SIGHUP; temporary
/// paths also at the end of the run, whatever way it ends. A run killed with SIGKILL cannot clean
/// up: the next run removes folders whose name carries a process id that is gone
/// (`removeStaleTemporaries`).
public final class CleanupRegistry: @unchecked Sendable {
    public static let shared = CleanupRegistry()
    private let lock = NSLock()
    private var containers: [String: ContainerEngine] = [:]
    private var runs: [(String, ContainerEngine)] = []
    private var temporaries: Set<String> = []
    /// The lock file held open in each temporary folder this process made (folder → descriptor).
    private var folderLocks: [String: Int32] = [:]
    private var children: [ObjectIdentifier: (process: Process, createsContainers: Bool)] = [:]
    private var sources: [DispatchSourceSignal] = []
    private var installed = false
    private var interruption: Int32?

    /// The signals a run cleans up on, with the exit status each gives (128 + the signal).
    public static let signals: [(signal: Int32, status: Int32, word: String)] = [
        (SIGINT, 130, "interrupted"), (SIGTERM, 143, "terminated"), (SIGHUP, 129, "hung up"),
    ]

    /// The exit status of an interrupt being handled (130 for SIGINT, 143 for SIGTERM, 129 for
    /// SIGHUP), if any. Work ending because its containers were removed must not exit with its
    /// own status first.
    public var interruptedStatus: Int32? {
        lock.lock(); defer { lock.unlock() }
        return interruption
    }

    func register(container id: String, engine: ContainerEngine) {
        lock.lock()
        containers[id] = engine
        lock.unlock()
        installSignalHandlers()
    }

    /// A container known by name (created by `docker run --name`).
    public func register(name: String, engine: ContainerEngine) { register(container: name, engine: engine) }

    public func forget(container id: String) {
        lock.lock()
        containers.removeValue(forKey: id)
        lock.unlock()
    }

    /// Runs that build images: their labelled images are removed on exit too.
    private var buildRuns: Set<String> = []

    /// A run that builds an image: its labelled (intermediate) images are removed on exit too.
    public func register(buildRunID runID: String, engine: ContainerEngine) {
        lock.lock()
        buildRuns.insert(runID)
        lock.unlock()
        register(runID: runID, engine: engine)
    }

    /// Also sweep by label on exit (containers whose id was never seen, e.g. mid-create).
    public func register(runID: String, engine: ContainerEngine) {
        lock.lock()
        runs.append((runID, engine))
        lock.unlock()
        installSignalHandlers()
    }

    // MARK: - Child processes

    /// Starts a child process (a compiler, the engine's CLI), to be stopped on an interrupt:
    /// a compiler left running would leave its temporary files behind. Refused once an interrupt
    /// is being handled.
    /// `createsContainers`: an engine command (`run`, `create`) whose container the daemon may
    /// still make after the command is stopped; the cleanup waits for it instead.
    public func start(_ process: Process, createsContainers: Bool = false) throws {
        installSignalHandlers()
        lock.lock()
        defer { lock.unlock() }
        // The cleanup's own commands (docker rm) still run.
        guard interruption == nil || Thread.current.threadDictionary[Self.cleanupMarker] != nil else {
            throw EngineError(.commandFailed, "the run is being interrupted")
        }
        try process.run()
        children[ObjectIdentifier(process)] = (process, createsContainers)
    }

    /// Whether an engine command that makes containers is still running.
    var creatingContainers: Bool {
        lock.lock()
        defer { lock.unlock() }
        return children.values.contains { $0.createsContainers && $0.process.isRunning }
    }

    public func forget(process: Process) {
        lock.lock()
        children.removeValue(forKey: ObjectIdentifier(process))
        lock.unlock()
    }

    /// SIGTERM to every running child, then SIGKILL to those still running after two seconds.
    /// Returns how many were running.
    @discardableResult
    func stopChildren() -> Int {
        lock.lock()
        let running = children.values.map(\.process).filter(\.isRunning)
        children = [:]
        lock.unlock()
        for p in running where p.isRunning { kill(p.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(2)
        while running.contains(where: \.isRunning) && Date() < deadline { usleep(10_000) }
        for p in running where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        return running.count
    }

    // MARK: - Temporary files and folders

    /// Creates a private folder `<base>/<prefix><pid>-<random>` (mode 0755: containers read it),
    /// registered for removal. Refused once an interrupt is being handled, so that no folder
    /// appears after the cleanup.
    public func makeTemporaryDirectory(prefix: String, in base: String = CleanupRegistry.temporaryBase) throws(EngineError) -> URL {
        installSignalHandlers()
        lock.lock()
        defer { lock.unlock() }
        guard interruption == nil else { throw EngineError(.commandFailed, "the run is being interrupted") }
        for _ in 0..<16 {
            let path = "\(base)/\(prefix)\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
            if mkdir(path, 0o755) == 0 {
                // mkdir applies the umask; containers running as another user must read the folder.
                chmod(path, 0o755)
                temporaries.insert(path)
                // Held while the process lives: another run (in another PID namespace, where this
                // process looks gone) sees the folder in use and leaves it.
                let fd = open(path + "/" + Self.lockName, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                if fd >= 0 {
                    flock(fd, LOCK_EX)
                    folderLocks[path] = fd
                }
                return URL(fileURLWithPath: path)
            }
            if errno != EEXIST { throw EngineError(.commandFailed, "cannot create a temporary folder in \(base): \(String(cString: strerror(errno)))") }
        }
        throw EngineError(.commandFailed, "cannot create a temporary folder in \(base)")
    }

    /// A temporary file or folder made elsewhere, to be removed on an interrupt and at the end of
    /// the run. Returns false (and registers nothing) once an interrupt is being handled.
    @discardableResult
    public func register(temporary path: String) -> Bool {
        installSignalHandlers()
        lock.lock()
        defer { lock.unlock() }
        guard interruption == nil else { return false }
        temporaries.insert(path)
        return true
    }

    /// A temporary path that became permanent (renamed into place) or was removed by its owner.
    public func forget(temporary path: String) {
        lock.lock()
        temporaries.remove(path)
        lock.unlock()
    }

    /// The lock file in each temporary folder (see `makeTemporaryDirectory`).
    public static let lockName = ".muslcheck-lock"

    /// Removes a temporary file or folder (recursively) and forgets it.
    public func remove(temporary path: String) {
        Self.removeTree(path)
        forget(temporary: path)
        releaseLock(path)
    }

    /// Closes a folder's lock file (when the folder is removed, or renamed into place).
    public func releaseLock(_ path: String) {
        lock.lock()
        let fd = folderLocks.removeValue(forKey: path)
        lock.unlock()
        if let fd { close(fd) }
    }

    /// Removes every registered temporary path (the end of a run).
    public func removeTemporaries() {
        lock.lock()
        let paths = temporaries
        temporaries = []
        lock.unlock()
        for p in paths { Self.removeTree(p) }
        // On an interrupt, another thread may have been writing a file into a folder as it went:
        // a second pass, a moment later, takes what that write left.
        if interruptedStatus != nil && !paths.isEmpty {
            usleep(100_000)
            for p in paths { Self.removeTree(p) }
        }
    }

    /// $TMPDIR, or /tmp.
    public static var temporaryBase: String {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return dir.isEmpty ? "/tmp" : (dir.count > 1 && dir.hasSuffix("/") ? String(dir.dropLast()) : dir)
    }

    /// Removes what runs killed with SIGKILL left in `base`: entries named `<prefix><pid>-...`
    /// that belong to this user, whose process no longer exists, and whose lock file no process
    /// holds (a run in another PID namespace sharing the folder looks gone but holds its lock).
    /// Returns the removed paths.
    @discardableResult
    public static func removeStaleTemporaries(prefix: String, in base: String = temporaryBase) -> [String] {
        guard let dir = opendir(base) else { return [] }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(prefix) { names.append(name) }
        }
        closedir(dir)
        var removed: [String] = []
        for name in names {
            let rest = name.dropFirst(prefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = pid_t(rest[..<dash]), pid > 0, pid != getpid() else { continue }
            let path = base + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, st.st_uid == geteuid() else { continue }
            // Alive (or not ours to signal): leave it.
            if kill(pid, 0) == 0 || errno != ESRCH { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                let fd = open(path + "/" + lockName, O_RDWR | O_CLOEXEC)
                if fd >= 0 {
                    defer { close(fd) }
                    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
                } else if errno == ENOENT, time(nil) - st.st_mtim.tv_sec < 600 {
                    // No lock file yet: a folder being made this moment, or one from a run that
                    // died before making it. Only an old one is removed.
                    continue
                }
            }
            removeTree(path)
            removed.append(path)
        }
        return removed
    }

    /// rm -rf, never following symbolic links out of the tree.
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if let dir = opendir(path) {
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(dir)
                for n in names { removeTree(path + "/" + n) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    // MARK: - Cleanup

    /// Removes everything registered. Safe to call more than once.
    private static let cleanupMarker = "org.muslcheck.cleanup"

    /// Held for a whole cleanup: a second caller (the main thread ending while a signal's
    /// cleanup runs) waits for it instead of exiting half-way through.
    private let cleaning = NSLock()

    public func cleanUp() {
        cleaning.lock()
        defer { cleaning.unlock() }
        Thread.current.threadDictionary[Self.cleanupMarker] = true
        defer { Thread.current.threadDictionary.removeObject(forKey: Self.cleanupMarker) }
        lock.lock()
        let pending = containers
        let labelled = runs
        containers = [:]
        runs = []
        lock.unlock()
        // Containers first: removing one also ends the `docker run` that waits for it.
        for (id, engine) in pending { _ = engine.run(["rm", "-f", "-v", id], timeout: 60) }
        // A `docker run` or `docker create` under way still makes its container after it is
        // stopped: wait for those commands (each sweep removes what they made), then stop the rest.
        let deadline = Date().addingTimeInterval(20)
        repeat {
            for (run, engine) in labelled { engine.removeContainers(runID: run) }
            guard creatingContainers else { break }
            usleep(100_000)
        } while Date() < deadline
        if stopChildren() > 0 {
            usleep(300_000)
            for (run, engine) in labelled { engine.removeContainers(runID: run) }
        }
        for (run, engine) in labelled where buildRuns.contains(run) { engine.removeImages(runID: run) }
        removeTemporaries()
    }

    private func installSignalHandlers() {
        lock.lock()
        defer { lock.unlock() }
        guard !installed else { return }
        installed = true
        for (sig, code, word) in Self.signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue.global())
            source.setEventHandler { [self] in
                lock.lock()
                let first = interruption == nil
                if first { interruption = code }
                lock.unlock()
                guard first else { return }
                // write(2), not FileHandle: after a hangup the terminal answers EIO, and the
                // cleanup must run all the same.
                let message = Array("\nmuslcheck: \(word); removing containers and temporary files\n".utf8)
                _ = message.withUnsafeBytes { Foundation.write(STDERR_FILENO, $0.baseAddress, $0.count) }
                cleanUp()
                exit(code)
            }
            source.resume()
            sources.append(source)
        }
    }
}
