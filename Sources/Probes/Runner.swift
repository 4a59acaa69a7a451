import Artifacts
import Compat
import ELF
import Engine
import Foundation
import Policy

/// Where the same probes run to compare: the host, or another image (debian:12-slim).
public enum Baseline: Sendable, Hashable {
    case host
    case image(String)
    public var name: String {
        switch self {
        case .host: "host"
        case .image(let ref): ref
        }
    }
}

/// One built-in probe's result on one image.
public struct ProbeOutcome: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable {
        case ok
        /// The probe ran and reported an internal failure.
        case failed
        case timeout, crashed, killed
        /// No usable output (several lines, not JSON, not started).
        case broken
        /// Not run (no compiler, not selected for the baseline).
        case skipped
    }
    public var id: String
    public var title: String
    public var status: Status
    public var values: [String: ProbeManifest.Value]
    public var error: String?
    public var milliseconds: Int?
}

/// A program started in the image with `--version` (--exec-smoke).
public struct ExecSmoke: Codable, Sendable, Hashable {
    public var status: String
    public var exitCode: Int?
    public var errno: Int?
    public var firstLine: String
    /// What the static analysis expected: "starts", "not found" (interpreter), "exits 127" (loader).
    public var expected: String
    public var agrees: Bool
}

/// The loader probe's result for one artifact: musl's `--list` against the simulation.
public struct LoaderProbeOutcome: Codable, Sendable, Hashable {
    public enum Agreement: String, Codable, Sendable { case confirmed, contradicted, notRun = "not-run" }
    public var artifact: String
    public var agreement: Agreement
    public var differences: [String]
    public var listing: LoaderListing?
    public var expected: LoaderListing?
    public var execSmoke: ExecSmoke?
    public var note: String?
}

/// A built-in probe's field on the image and on the baseline.
public struct Comparison: Codable, Sendable, Hashable {
    public var probe: String
    public var field: String
    public var label: String
    public var value: ProbeManifest.Value?
    public var baseline: ProbeManifest.Value?
    public var differs: Bool
    /// "default thread stack: 8 MiB → 128 KiB" (baseline → image).
    public var text: String
}

/// Everything the probe runner found on one image.
public struct ImageProbeReport: Codable, Sendable, Hashable {
    public var image: String
    public var imageID: String?
    public var digest: String?
    public var osRelease: String?
    public var musl: String?
    public var sandbox: [String]
    public var compiler: String?
    public var probes: [ProbeOutcome]
    public var loader: [LoaderProbeOutcome]
    public var userProbes: [UserProbeOutcome]
    public var baseline: String?
    public var baselineProbes: [ProbeOutcome]
    public var comparisons: [Comparison]
    public var notes: [String]
    /// The engine could not run this image; nothing above was measured.
    public var error: String?

    /// A report for an image that could not be probed.
    public static func failed(_ image: String, error: String) -> ImageProbeReport {
        ImageProbeReport(image: image, imageID: nil, digest: nil, osRelease: nil, musl: nil, sandbox: [], compiler: nil, probes: [],
                         loader: [], userProbes: [], baseline: nil, baselineProbes: [], comparisons: [], notes: [], error: error)
    }
}

/// An artifact for the loader probe: where it is in the container, and how to simulate it there.
public struct LoaderProbeArtifact: Sendable {
    public var display: String
    /// Its path in the container (a read-only mount of the scanned path, or of a staged copy).
    public var containerPath: String
    public var file: ELFFile
    /// Resolves container paths (for the simulation's $ORIGIN lookups).
    public var tree: any ArtifactTree
    public var host: CompatData.HostSpec?
    public var isExecutable: Bool
    /// A program that needs no loader (static, static-pie): the kernel starts it, so the probe
    /// starts it instead of listing it.
    public var isStatic: Bool
    public init(display: String, containerPath: String, file: ELFFile, tree: any ArtifactTree, host: CompatData.HostSpec?,
                isExecutable: Bool, isStatic: Bool = false) {
        self.display = display
        self.containerPath = containerPath
        self.file = file
        self.tree = tree
        self.host = host
        self.isExecutable = isExecutable
        self.isStatic = isStatic
    }
}

/// Runs the catalog, the loader probe and user probes in one sandboxed container per image.
public struct ProbeRunner: Sendable {
    public var catalog: ProbeCatalog
    /// Probes built with a musl compiler (nil: none was found; built-in probes are skipped).
    public var musl: BuiltProbes?
    /// Probes built with the host compiler (for a baseline; its driver when there is no musl build).
    public var glibc: BuiltProbes?
    public var engine: ContainerEngine?
    public var runID: String
    public var sandbox = Sandbox()
    /// Built-in probes to run (nil: all).
    public var selected: Set<String>?
    public var runLoaderProbe = true
    public var execSmoke = false
    public var userProbes: [UserProbe] = []
    /// Overrides every probe's own time limit.
    public var probeTimeout: TimeInterval?
    /// The whole run of one image.
    public var runTimeout: TimeInterval = 600
    /// Host folders mounted read-only (host path → container path): the scanned paths.
    public var mounts: [(host: String, container: String)] = []
    /// How the probes and the artifacts reach the container (resolved: mount or copy).
    public var transfer: FileTransfer = .mount

    public init(catalog: ProbeCatalog, musl: BuiltProbes?, glibc: BuiltProbes?, engine: ContainerEngine?, runID: String) {
        self.catalog = catalog
        self.musl = musl
        self.glibc = glibc
        self.engine = engine
        self.runID = runID
    }

    static let probesMount = "/muslcheck/probes"
    static let runMount = "/muslcheck/run"

    var probes: [ProbeManifest] { catalog.probes.filter { selected?.contains($0.id) ?? true } }

    /// The built-in probes' jobs, with the probe folder at `root`.
    func probeJobs(root: String, built: BuiltProbes?) -> [DriverJob] {
        guard let built else { return [] }
        var jobs: [DriverJob] = []
        for p in probes where built.available.contains(p.id) {
            let exe = "\(root)/\(p.id)/\(p.id)"
            let timeout = probeTimeout ?? p.run.timeoutSeconds
            jobs.append(DriverJob(id: "probe:\(p.id)", argv: [exe] + p.run.args, env: p.run.env, timeout: timeout))
            if p.id == "gcompat" {
                // The same with libgcompat preloaded (musl ignores a preload that does not exist).
                jobs.append(DriverJob(id: "probe:gcompat:preload", argv: [exe] + p.run.args,
                                      env: p.run.env.merging(["LD_PRELOAD": "/lib/libgcompat.so.0"]) { $1 }, timeout: timeout))
            }
        }
        return jobs
    }

    /// Runs everything on one image. `expectation` is the image as a target, for the loader probe.
    public func run(image: String, index: Int, imageID: String?, digest: String?, target: Target?,
                    artifacts: [LoaderProbeArtifact], baseline: Baseline?) -> ImageProbeReport {
        var report = ImageProbeReport(image: image, imageID: imageID, digest: digest, osRelease: nil, musl: nil,
                                      sandbox: sandbox.arguments, compiler: musl?.toolchain.compiler, probes: [], loader: [],
                                      userProbes: [], baseline: baseline?.name, baselineProbes: [], comparisons: [], notes: [], error: nil)
        guard engine != nil else { report.error = "no container engine"; return report }
        guard let runDir = (musl ?? glibc)?.directory else { report.error = "no probe driver could be built"; return report }
        if musl == nil { report.notes.append("no musl C compiler found (install musl-tools, or set MUSLCHECK_MUSL_CC): built-in probes skipped") }

        var jobs: [DriverJob] = [DriverJob(id: "info:os-release", argv: ["@read", "/etc/os-release"], timeout: 5)]
        if target?.glibc != nil {
            // The built-in probes show where musl behaves differently from glibc: on a glibc (or
            // no-libc) image there is no musl to compare.
            report.notes.append("\(image) is a \(target?.libc == .none ? "no-libc" : "glibc") image: the built-in probes, which compare musl with glibc, were not run")
        } else {
            jobs.append(DriverJob(id: "info:musl", argv: ["/lib/ld-musl-x86_64.so.1"], timeout: 5))
            jobs += probeJobs(root: Self.probesMount, built: musl)
        }
        if runLoaderProbe {
            for (i, a) in artifacts.enumerated() {
                if a.isStatic {
                    // No loader to ask: what counts is whether the kernel starts it.
                    jobs.append(DriverJob(id: "start:\(i)", argv: [a.containerPath, "--version"], timeout: Self.startTimeout, outputCap: 4096))
                    continue
                }
                // A library-heavy program can print thousands of missing symbols: keep them all.
                if let glibc = target?.glibc {
                    // glibc's loader in trace mode (ldd -d): missing libraries, versions, and the
                    // symbols resolved at load.
                    guard let interpreter = glibc.interpreter else { continue }
                    jobs.append(DriverJob(id: "loader:\(i)", argv: [interpreter, a.containerPath],
                                          env: ["LD_TRACE_LOADED_OBJECTS": "1", "LD_WARN": "yes"], timeout: Self.listTimeout,
                                          outputCap: 8 << 20, killAt: 64 << 20))
                } else {
                    jobs.append(DriverJob(id: "loader:\(i)", argv: ["/lib/ld-musl-x86_64.so.1", "--list", a.containerPath], timeout: Self.listTimeout,
                                          outputCap: 8 << 20, killAt: 64 << 20))
                }
                if execSmoke && a.isExecutable {
                    jobs.append(DriverJob(id: "exec:\(i)", argv: [a.containerPath, "--version"], timeout: 5, outputCap: 4096))
                }
            }
        }
        for (i, p) in userProbes.enumerated() {
            for (k, cmd) in p.setup.enumerated() where !cmd.isEmpty {
                jobs.append(DriverJob(id: "user:\(i):setup:\(k)", argv: cmd, env: p.env, timeout: p.timeout))
            }
            jobs.append(DriverJob(id: "user:\(i)", argv: [p.command] + p.args, env: p.env, timeout: p.timeout))
        }

        let started = Date()
        let results: [String: JobResult]
        switch runContainer(image: image, index: index, runDir: runDir, jobs: jobs, files: files(for: probes)) {
        case .failure(let e):
            report.error = e.message
            return report
        case .success(let r):
            results = r
        }
        _ = started
        if let os = results["info:os-release"], os.status == .exited, os.code == 0 {
            report.osRelease = Self.prettyName(os.stdout)
        }
        if let v = results["info:musl"], let version = Self.muslVersion(v.stderr) { report.musl = version }
        report.probes = target?.glibc != nil ? [] : outcomes(results, built: musl)
        if let gc = report.probes.firstIndex(where: { $0.id == "gcompat" }), let pre = results["probe:gcompat:preload"] {
            // Merge the preloaded run into the gcompat probe's values.
            if let o = parseProbeLine(pre, id: "gcompat"), o.status == .ok {
                for (k, v) in o.values where k != "probe" && k != "ok" { report.probes[gc].values["preloaded_" + k] = v }
            }
        }

        if runLoaderProbe {
            for (i, a) in artifacts.enumerated() {
                report.loader.append(a.isStatic ? startOutcome(a, result: results["start:\(i)"])
                                     : loaderOutcome(a, result: results["loader:\(i)"], exec: results["exec:\(i)"], target: target))
            }
        }
        for (i, p) in userProbes.enumerated() {
            let setups = p.setup.indices.compactMap { results["user:\(i):setup:\($0)"] }
            let main = results["user:\(i)"] ?? .missing("user:\(i)", because: "the driver did not report it")
            report.userProbes.append(p.evaluate(main, setup: setups))
        }

        if let baseline {
            report.baselineProbes = runBaseline(baseline, index: index)
            report.comparisons = compare(report.probes, report.baselineProbes)
        }
        return report
    }

    /// Files some probes need in the container (the resolver's resolv.conf).
    func files(for probes: [ProbeManifest]) -> [String: String] {
        var out: [String: String] = [:]
        for p in probes { for (path, content) in p.run.files ?? [:] { out[path] = content } }
        return out
    }

    /// One `docker run` of the driver over the jobs; the container is labelled and removed.
    func runContainer(image: String, index: Int, runDir: URL, jobs: [DriverJob], files: [String: String],
                      sandbox overrides: Sandbox? = nil) -> Swift.Result<[String: JobResult], EngineError> {
        guard let engine else { return .failure(EngineError(.cliMissing, "no container engine")) }
        let sandbox = overrides ?? self.sandbox
        let staging: URL
        do { staging = try Self.stagingDirectory() } catch { return .failure(EngineError(.commandFailed, "\(error)")) }
        defer { Self.removeStagingDirectory(staging) }
        do {
            try Data(DriverJob.file(jobs).utf8).write(to: staging.appendingPathComponent("jobs"))
        } catch { return .failure(EngineError(.commandFailed, "cannot write the job file: \(error)")) }
        let name = "muslcheck-\(runID)-\(index)-\(UUID().uuidString.prefix(6).lowercased())"
        CleanupRegistry.shared.register(name: name, engine: engine)
        defer { CleanupRegistry.shared.forget(container: name) }
        let head = ["--name", name, "--label", "\(runLabel)=\(runID)", "--entrypoint", "\(Self.probesMount)/driver"]
            + Self.engineLimits(engine.kind)
        let timeout = min(runTimeout, jobs.reduce(30) { $0 + $1.timeout + 1 })
        let r: CommandOutput
        switch transfer {
        case .mount, .auto:
            var mountArgs = ["-v", "\(runDir.path):\(Self.probesMount):ro", "-v", "\(staging.path):\(Self.runMount):ro"]
            for (n, (path, content)) in files.sorted(by: { $0.key < $1.key }).enumerated() {
                let f = staging.appendingPathComponent("file\(n)")
                try? Data(content.utf8).write(to: f)
                mountArgs += ["-v", "\(f.path):\(path):ro"]
            }
            for m in mounts { mountArgs += ["-v", "\(m.host):\(m.container):ro"] }
            r = engine.run(["run", "--rm"] + head + sandbox.arguments + mountArgs + [image, "\(Self.runMount)/jobs"],
                           timeout: timeout, outputLimit: 256 << 20)
        case .copy:
            switch copyAndStart(name: name, head: head, sandbox: sandbox, image: image, runDir: runDir, staging: staging,
                                files: files, timeout: timeout) {
            case .failure(let e): return .failure(e)
            case .success(let out): r = out
            }
        }
        if r.timedOut { _ = engine.run(["rm", "-f", "-v", name], timeout: 60) }
        let (results, complete) = DriverOutput.parse(r.stdout, jobs: jobs)
        if results.isEmpty {
            let why = r.timedOut ? "the run passed its \(Int(timeout)) s limit" : r.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(EngineError(.commandFailed, "\(engine.kind.rawValue) run \(image) failed: \(why.isEmpty ? "status \(r.status)" : why)"))
        }
        var all = results
        if !complete {
            let why = r.timedOut ? "the whole run passed its time limit" : "the container ended early (status \(r.status))"
            for j in jobs where all[j.id] == nil { all[j.id] = .missing(j.id, because: why) }
        }
        return .success(all)
    }

    /// Limits the engine must be given. podman asks the runtime for RLIMIT_NOFILE 1048576 and
    /// RLIMIT_NPROC 32768 by default (and, given one of them, 1048576 for the other), which a
    /// machine without CAP_SYS_RESOURCE refuses ("error setting rlimit type 7"): both are set
    /// to what any machine allows. docker takes its daemon's limits, and lets any user bind low
    /// ports in the container's network, which podman must be told.
    static func engineLimits(_ kind: ContainerEngine.Kind) -> [String] {
        kind == .podman ? ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096",
                           // As docker does in a container's own network: ports below 1024 for any
                           // user (the resolver probe's DNS server binds port 53).
                           "--sysctl", "net.ipv4.ip_unprivileged_port_start=0"] : []
    }

    /// The copy transfer: the container is created with an anonymous volume at /muslcheck
    /// (removed with it), the probes, the job file and the artifacts are copied into the volume
    /// with `cp` (the root stays read-only), and the container is started attached. For an
    /// engine that does not see this machine's files: muslcheck in a container talking to the
    /// host's daemon through its socket, or a remote daemon.
    func copyAndStart(name: String, head: [String], sandbox: Sandbox, image: String, runDir: URL, staging: URL,
                      files: [String: String], timeout: TimeInterval) -> Swift.Result<CommandOutput, EngineError> {
        guard let engine else { return .failure(EngineError(.cliMissing, "no container engine")) }
        let deadline = Date().addingTimeInterval(timeout)
        func left() -> TimeInterval { max(1, deadline.timeIntervalSinceNow) }
        let root = "/muslcheck"
        // The folder tree copied first: the job file, and the parents of every copied path.
        let tree = staging.appendingPathComponent("tree")
        let run = tree.appendingPathComponent(String(Self.runMount.dropFirst(root.count + 1)))
        var extra: [String] = []
        do {
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: staging.appendingPathComponent("jobs"), to: run.appendingPathComponent("jobs"))
            for m in mounts {
                guard m.container.hasPrefix(root + "/") else {
                    return .failure(EngineError(.commandFailed, "cannot copy \(m.host) to \(m.container): the copy transfer places files under \(root) only"))
                }
                // Its parent folders below the volume ("a/0" for /muslcheck/a/0/file).
                let parent = m.container.dropFirst(root.count + 1).split(separator: "/").dropLast().joined(separator: "/")
                if !parent.isEmpty { try FileManager.default.createDirectory(at: tree.appendingPathComponent(parent), withIntermediateDirectories: true) }
            }
            for (path, content) in files.sorted(by: { $0.key < $1.key }) {
                if path == "/etc/resolv.conf" {
                    // The engine writes the container's resolv.conf at start: its own flags say what
                    // goes in. podman refuses --dns with --network none: there the resolver probe
                    // finds the engine's resolv.conf and reports its DNS part as skipped.
                    if engine.kind == .podman { continue }
                    for line in content.split(separator: "\n") {
                        let w = line.split(separator: " ").map(String.init)
                        guard let key = w.first else { continue }
                        switch key {
                        case "nameserver": extra += w.dropFirst().flatMap { ["--dns", $0] }
                        case "search": extra += w.dropFirst().flatMap { ["--dns-search", $0] }
                        case "options": extra += w.dropFirst().flatMap { ["--dns-option", $0] }
                        default: break
                        }
                    }
                } else if path.hasPrefix(root + "/") {
                    let f = tree.appendingPathComponent(String(path.dropFirst(root.count + 1)))
                    try FileManager.default.createDirectory(at: f.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(content.utf8).write(to: f)
                } else {
                    return .failure(EngineError(.commandFailed, "cannot place \(path) in the container with the copy transfer"))
                }
            }
        } catch {
            return .failure(EngineError(.commandFailed, "cannot stage the files to copy: \(error)"))
        }
        let create = engine.run(["create", "--rm"] + head + sandbox.arguments + ["-v", root] + extra + [image, "\(Self.runMount)/jobs"], timeout: left())
        guard create.status == 0 else {
            let why = create.timedOut ? "the time limit passed" : create.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return .failure(EngineError(.commandFailed, "\(engine.kind.rawValue) create \(image) failed: \(why)"))
        }
        var copies = [(tree.path + "/.", root), (runDir.path + "/.", Self.probesMount)]
        copies += mounts.map { ($0.host, $0.container) }
        for (from, to) in copies {
            // A link named as the source is followed (podman's cp has no -L: the path is resolved here).
            var source = from
            if engine.kind == .podman {
                let contents = from.hasSuffix("/.")
                source = URL(fileURLWithPath: contents ? String(from.dropLast(2)) : from).resolvingSymlinksInPath().path + (contents ? "/." : "")
            }
            let c = engine.run(["cp"] + (engine.kind == .podman ? [] : ["-L"]) + [source, "\(name):\(to)"], timeout: left())
            guard c.status == 0 else {
                _ = engine.run(["rm", "-f", "-v", name], timeout: 60)
                let why = c.timedOut ? "the run passed its \(Int(timeout)) s limit" : c.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                return .failure(EngineError(.commandFailed, "\(engine.kind.rawValue) cp \(from) into the container failed: \(why)"))
            }
        }
        return .success(engine.run(["start", "--attach", name], timeout: left(), outputLimit: 256 << 20))
    }

    /// The name of staging folders: muslcheck-run-<pid>-<random>, in $TMPDIR or /tmp.
    public static let stagingPrefix = "muslcheck-run-"

    /// Folders that runs killed with SIGKILL left are removed once per process, before the first
    /// staging folder is made.
    private static let staleRemoved: Void = { CleanupRegistry.removeStaleTemporaries(prefix: stagingPrefix) }()

    /// A private folder for the job file and staged artifacts (readable by the container's
    /// unprivileged user), removed by `removeStagingDirectory`, on an interrupt, and at the end
    /// of the run.
    public static func stagingDirectory() throws -> URL {
        _ = staleRemoved
        return try CleanupRegistry.shared.makeTemporaryDirectory(prefix: stagingPrefix)
    }

    public static func removeStagingDirectory(_ dir: URL) {
        CleanupRegistry.shared.remove(temporary: dir.path)
    }

    // MARK: - Reading results

    func parseProbeLine(_ r: JobResult, id: String) -> ProbeOutcome? {
        let title = catalog.probe(id)?.title ?? id
        var o = ProbeOutcome(id: id, title: title, status: .broken, values: [:], error: nil, milliseconds: r.ms)
        switch r.status {
        case .timeout: o.status = .timeout; o.error = r.summary; return o
        case .signaled: o.status = r.signal == 9 ? .killed : .crashed; o.error = r.summary; return o
        case .outputLimit, .execFailed, .missing: o.status = .broken; o.error = r.summary; return o
        case .exited: break
        }
        let lines = r.stdout.split(separator: "\n")
        guard lines.count == 1, let data = lines.first.map({ Data($0.utf8) }),
              let object = try? JSONDecoder().decode([String: ProbeManifest.Value].self, from: data) else {
            o.error = "expected one JSON line, got \(lines.count) lines (exit \(r.code ?? -1)): \(r.stdout.prefix(200))\(r.stderr.prefix(200))"
            return o
        }
        var values = object
        values.removeValue(forKey: "probe")
        if case .bool(false) = object["ok"] ?? .bool(true) {
            o.status = .failed
            if case .string(let e) = object["error"] ?? .null { o.error = e }
        } else {
            o.status = .ok
        }
        values.removeValue(forKey: "ok")
        o.values = values
        return o
    }

    func outcomes(_ results: [String: JobResult], built: BuiltProbes?) -> [ProbeOutcome] {
        probes.map { p in
            guard let built, built.available.contains(p.id) else {
                let why = built == nil ? "no compiler to build it" : (built?.failures[p.id].map { "did not build: \($0.prefix(300))" } ?? "not built")
                return ProbeOutcome(id: p.id, title: p.title, status: .skipped, values: [:], error: why, milliseconds: 0)
            }
            guard let r = results["probe:\(p.id)"] else {
                return ProbeOutcome(id: p.id, title: p.title, status: .broken, values: [:], error: "the driver did not report it", milliseconds: 0)
            }
            return parseProbeLine(r, id: p.id)!
        }
    }

    static func prettyName(_ osRelease: String) -> String? {
        for line in osRelease.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
        }
        return nil
    }

    static func muslVersion(_ banner: String) -> String? {
        for line in banner.split(separator: "\n") where line.hasPrefix("Version ") {
            return String(line.dropFirst("Version ".count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// Time limits of the loader's listing and of starting a static program.
    static let listTimeout: TimeInterval = 20
    static let startTimeout: TimeInterval = 5

    /// A static program started in the image (`PROGRAM --version`): the kernel maps it and its
    /// own start code relocates it. Confirmed when it runs (whatever it prints or returns);
    /// contradicted when it cannot be started or dies of a signal at once.
    func startOutcome(_ a: LoaderProbeArtifact, result: JobResult?) -> LoaderProbeOutcome {
        var out = LoaderProbeOutcome(artifact: a.display, agreement: .notRun, differences: [], listing: nil, expected: nil,
                                     execSmoke: nil, note: nil)
        guard let result else { out.note = "not run"; return out }
        let expected = a.file.loadDamage == nil ? "starts" : "cannot be loaded"
        let firstLine = String((result.stdout.isEmpty ? result.stderr : result.stdout).split(separator: "\n").first ?? "")
        out.execSmoke = ExecSmoke(status: result.status.rawValue, exitCode: result.code, errno: result.errno, firstLine: firstLine,
                                  expected: expected, agrees: false)
        switch result.status {
        case .exited, .outputLimit:
            out.note = "started with --version: \(result.summary)"
            out.execSmoke?.agrees = expected == "starts"
            if expected == "starts" {
                out.agreement = .confirmed
            } else {
                out.agreement = .contradicted
                out.differences = ["it started (\(result.summary)), although it was judged damaged: \(a.file.loadDamage!)"]
            }
        case .timeout:
            // It got past its start, but a program that is still running proves no more.
            out.note = "started with --version, still running after \(Int(Self.startTimeout)) s: not confirmed"
        case .execFailed:
            out.note = "the kernel \(result.summary)"
            // Permissions (the sandbox's user may not run a file only its owner can) say
            // nothing about whether the program can run: not checked.
            let denied = [Int(EACCES), Int(EPERM)].contains(result.errno ?? 0)
            if expected == "starts" && !denied {
                out.agreement = .contradicted
                out.differences = ["the kernel could not start it: \(String(cString: strerror(Int32(result.errno ?? 0))))"]
            }
        case .signaled:
            let signal = JobResult.signalName(result.signal ?? 0)
            out.note = "started with --version, it was killed by \(signal)"
            // SIGKILL is the sandbox's memory limit or the time limit, not the program's start.
            if expected == "starts" && result.signal != 9 {
                out.agreement = .contradicted
                out.differences = ["it was killed by \(signal) as it started"]
            }
        case .missing:
            out.note = result.summary
        }
        return out
    }

    func loaderOutcome(_ a: LoaderProbeArtifact, result: JobResult?, exec: JobResult?, target: Target?) -> LoaderProbeOutcome {
        var out = LoaderProbeOutcome(artifact: a.display, agreement: .notRun, differences: [], listing: nil, expected: nil,
                                     execSmoke: nil, note: nil)
        guard let result else { out.note = "not run"; return out }
        // A loader that crashed, was killed or ran out of time confirms nothing: when the static
        // analysis expected the file to load, that is a contradiction; otherwise it is not checked.
        switch result.status {
        case .exited:
            if let damage = a.file.loadDamage {
                if result.code == 0 {
                    out.agreement = .contradicted
                    out.differences = ["musl's loader listed it (exit 0), although the file was judged unloadable: \(damage)"]
                } else {
                    out.note = "musl's loader \(result.summary); the static analysis found the file cannot be loaded: \(damage)"
                }
                return out
            }
        case .signaled:
            let signal = JobResult.signalName(result.signal ?? 0)
            out.note = "musl's loader was killed by \(signal)"
            if let damage = a.file.loadDamage {
                out.note! += "; the static analysis found the file cannot be loaded: \(damage)"
            } else if result.signal != 9 {
                out.agreement = .contradicted
                out.differences = ["musl's loader was killed by \(signal) while listing it; the static analysis expected no crash"]
            }
            return out
        case .timeout:
            out.note = "musl's loader did not finish within \(Int(Self.listTimeout)) s"
            return out
        default:
            out.note = "musl's loader \(result.summary)"
            return out
        }
        if result.stderr.contains("Not a valid dynamic program") || result.stderr.contains("cannot load") {
            out.note = "the loader does not list it: \(result.stderr.split(separator: "\n").first ?? "")"
            return out
        }
        if result.stdoutBytes > result.stdout.utf8.count || result.stderrBytes > result.stderr.utf8.count {
            out.note = "the loader's output was cut at \(result.stdout.utf8.count + result.stderr.utf8.count) of \(result.stdoutBytes + result.stderrBytes) bytes"
            return out
        }
        if let target, let system = target.glibc {
            let listing = LoaderListing.parseGlibc(result.stdout + "\n" + result.stderr, status: result.code ?? -1)
            out.listing = listing
            let sim = GlibcLoaderSimulation(target: target, system: system, tree: a.tree, treeRoots: ["/muslcheck"])
            let outcome = sim.run(a.file, treePath: a.containerPath, displayPath: a.containerPath, mode: .list, host: a.host)
            let expected = LoaderListing.simulated(outcome)
            out.expected = expected
            let provided = Set((a.host?.providesPrefixes ?? []).flatMap { prefix in
                (listing.missingSymbols + expected.missingSymbols).compactMap { e in
                    let name = String(e.split(separator: " ").last ?? "")
                    return name.hasPrefix(prefix) ? name : nil
                }
            })
            out.differences = LoaderListing.differences(real: listing, simulated: expected, hostProvided: provided)
            out.agreement = out.differences.isEmpty ? .confirmed : .contradicted
            return out
        }
        let listing = LoaderListing.parse(stdout: result.stdout, stderr: result.stderr, status: result.code ?? -1)
        out.listing = listing
        if let target {
            let sim = LoaderSimulation(target: target, tree: a.tree, treeRoots: ["/muslcheck"])
            let outcome = sim.run(a.file, treePath: a.containerPath, displayPath: a.containerPath, mode: .list, host: a.host)
            let expected = LoaderListing.simulated(outcome)
            out.expected = expected
            out.differences = LoaderListing.differences(real: listing, simulated: expected, hostProvided: Set(outcome.hostProvided))
            out.agreement = out.differences.isEmpty ? .confirmed : .contradicted
        } else {
            out.note = "no static expectation for this image"
        }
        if let exec {
            var interpreterMissing = false
            if let interp = a.file.interpreter, let target, case .missing = target.fs.entry(interp) { interpreterMissing = true }
            // Started by the kernel: no interpreter (static, static-pie) means no musl loader at all.
            let expected = interpreterMissing ? "not found" : (a.file.interpreter == nil ? "starts" : (listing.status == 127 ? "exits 127" : "starts"))
            let actual: String
            switch exec.status {
            case .execFailed: actual = exec.errno == 2 ? "not found" : "cannot start"
            case .exited: actual = exec.code == 127 && exec.stderr.contains("Error ") ? "exits 127" : "starts"
            default: actual = "starts"
            }
            out.execSmoke = ExecSmoke(status: exec.status.rawValue, exitCode: exec.code, errno: exec.errno,
                                      firstLine: String((exec.stdout.isEmpty ? exec.stderr : exec.stdout).split(separator: "\n").first ?? ""),
                                      expected: expected, agrees: expected == actual)
            if expected != actual {
                out.differences.append("started with --version it \(actual == "not found" ? "was not found" : actual), expected: \(expected)")
                out.agreement = .contradicted
            }
        }
        return out
    }

    // MARK: - Baseline

    func runBaseline(_ baseline: Baseline, index: Int) -> [ProbeOutcome] {
        guard let glibc else {
            return probes.map { ProbeOutcome(id: $0.id, title: $0.title, status: .skipped, values: [:], error: "no host C compiler for the baseline", milliseconds: 0) }
        }
        switch baseline {
        case .host:
            // The glibc build, run by the driver on this machine (no container, no sandbox).
            let jobs = probeJobs(root: glibc.directory.path, built: glibc)
            guard let staging = try? Self.stagingDirectory() else { return [] }
            defer { Self.removeStagingDirectory(staging) }
            let file = staging.appendingPathComponent("jobs")
            try? Data(DriverJob.file(jobs).utf8).write(to: file)
            let r = Command.run(glibc.driver.path, [file.path], timeout: jobs.reduce(30) { $0 + $1.timeout + 1 }, outputLimit: 64 << 20)
            return outcomes(DriverOutput.parse(r.stdout, jobs: jobs).results, built: glibc)
        case .image(let ref):
            var sandbox = self.sandbox
            sandbox.enabled = self.sandbox.enabled
            let jobs = probeJobs(root: Self.probesMount, built: glibc)
            switch runContainer(image: ref, index: index + 1000, runDir: glibc.directory, jobs: jobs, files: files(for: probes), sandbox: sandbox) {
            case .success(let results): return outcomes(results, built: glibc)
            case .failure(let e):
                return probes.map { ProbeOutcome(id: $0.id, title: $0.title, status: .broken, values: [:], error: "baseline \(ref): \(e.message)", milliseconds: 0) }
            }
        }
    }

    func compare(_ image: [ProbeOutcome], _ baseline: [ProbeOutcome]) -> [Comparison] {
        var out: [Comparison] = []
        for o in image where o.status == .ok {
            guard let b = baseline.first(where: { $0.id == o.id }), b.status == .ok, let manifest = catalog.probe(o.id) else { continue }
            for f in manifest.fields {
                let v = o.values[f.name], bv = b.values[f.name]
                let differs = v != bv
                out.append(Comparison(probe: o.id, field: f.name, label: f.label, value: v, baseline: bv, differs: differs,
                                      text: "\(f.label): \(Self.format(bv, unit: f.unit)) → \(Self.format(v, unit: f.unit))"))
            }
        }
        return out
    }

    /// 8388608 bytes → "8 MiB", 131072 → "128 KiB".
    public static func format(_ value: ProbeManifest.Value?, unit: String?) -> String {
        guard let value else { return "-" }
        if case .number(let n) = value, let unit {
            switch unit {
            case "bytes":
                for (div, name) in [(1024.0 * 1024 * 1024, "GiB"), (1024.0 * 1024, "MiB"), (1024.0, "KiB")] where n >= div {
                    let x = n / div
                    return (x == x.rounded() ? String(Int(x)) : String(format: "%.1f", x)) + " " + name
                }
                return "\(Int(n)) bytes"
            case "KiB": return n >= 1024 ? String(format: "%.1f MiB", n / 1024) : "\(Int(n)) KiB"
            default: return "\(value.description) \(unit)"
            }
        }
        return value.description
    }
}

extension ImageProbeReport {
    /// Units of measured durations: values that change from run to run.
    public static let timingUnits: Set<String> = ["ns", "us", "ms", "s"]

    /// The report without what varies between two runs on the same inputs: durations (each
    /// probe's milliseconds, and fields measured in time units), so that reports compare byte
    /// for byte. Notes are sorted and deduplicated.
    public func withoutTimings(catalog: ProbeCatalog?) -> ImageProbeReport {
        var r = self
        func timed(_ probe: String, _ field: String) -> Bool {
            guard let unit = catalog?.probe(probe)?.fields.first(where: { $0.name == field })?.unit else { return false }
            return Self.timingUnits.contains(unit)
        }
        func strip(_ outcomes: [ProbeOutcome]) -> [ProbeOutcome] {
            outcomes.map { o in
                var o = o
                o.milliseconds = nil
                for key in o.values.keys where timed(o.id, key) { o.values.removeValue(forKey: key) }
                return o
            }
        }
        r.probes = strip(r.probes)
        r.baselineProbes = strip(r.baselineProbes)
        r.comparisons = r.comparisons.filter { !timed($0.probe, $0.field) }
        r.userProbes = r.userProbes.map { var u = $0; u.milliseconds = nil; return u }
        r.notes = Array(Set(r.notes)).sorted()
        return r
    }
}


/// How files reach a probe's container: bind mounts of this machine's paths, or copies made
/// with the engine's `cp` (for an engine that does not share this machine's files).
public enum FileTransfer: String, Sendable, Codable, CaseIterable {
    case auto, mount, copy

    /// `auto`: copy when the engine's daemon is remote (DOCKER_HOST or CONTAINER_HOST not a
    /// unix socket), or when muslcheck runs in a container (/.dockerenv, /run/.containerenv)
    /// whose host name is not the daemon's (a daemon in the same container sees its files);
    /// mount otherwise.
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment,
                         fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) },
                         localHostname: String? = FileTransfer.hostname(),
                         daemonHostname: () -> String?) -> FileTransfer {
        guard self == .auto else { return self }
        for key in ["DOCKER_HOST", "CONTAINER_HOST"] {
            if let host = environment[key], !host.isEmpty, !host.hasPrefix("unix://") { return .copy }
        }
        if fileExists("/.dockerenv") || fileExists("/run/.containerenv") {
            if let local = localHostname, let daemon = daemonHostname(), local == daemon { return .mount }
            return .copy
        }
        return .mount
    }

    /// This machine's (or container's) host name.
    public static func hostname() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(cString: buffer)
        return name.isEmpty ? nil : name
    }
}
