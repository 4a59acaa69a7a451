import Config
import Engine
import Foundation
import Policy
import Probes

/// What a run does, resolved once from the command line over muslcheck.yml. Every run of the
/// pipeline (scan, check, probe) takes one.
public struct Settings: Sendable {
    /// Files, directories and archives.
    public var paths: [String] = []
    /// Images: targets (check), or targets and artifacts (scan), or where the probes run (probe).
    public var images: [String] = []
    /// Bundled profiles; none, with no image or sysroot either, means the default profile.
    public var targets: [String] = []
    public var sysroots: [String] = []
    /// LD_LIBRARY_PATH on the target.
    public var libraryPath: [String] = []
    public var engine = EngineSettings()
    /// Worker threads (scan), images probed at once (check: at most the images; probe: as given).
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var failOn = FailLevel.default
    public var probes = ProbeSettings()
    /// The run label on the containers (default: a random one).
    public var runID: String?
    /// Check only this share of the top-level files and archives.
    public var shard: Shard?
    public var ignores: [IgnoreRule] = []
    /// A baseline file (--baseline): its findings do not fail the run. Read when the run
    /// starts, so that a file that is missing or not a baseline is a usage error.
    public var baselineFile: String?
    /// Durations in the report (they make two reports of the same inputs differ).
    public var timings = false

    public init() {}
}

/// The container engine and how images are pulled.
public struct EngineSettings: Sendable {
    public var kind: ContainerEngine.Kind = .docker
    public var context: String?
    public var pull: PullPolicy = .missing
    /// How the probes and artifacts reach the containers.
    public var transfer: FileTransfer = .auto
    public init() {}
}

/// What runs in the images.
public struct ProbeSettings: Sendable {
    /// false: static analysis only (--static-only).
    public var run = true
    /// Only these built-in probes ('loader' is the loader probe); nil: all of them.
    public var ids: [String]?
    public var baseline: Probes.Baseline?
    public var execSmoke = false
    public var userProbes: [UserProbe] = []
    public var sandbox = Sandbox()
    /// Each probe's time limit (nil: each probe's own) and the whole run's in one image.
    public var timeout: TimeInterval?
    public var runTimeout: TimeInterval = 600
    public var muslCompiler: String?
    public var cacheDir: String?
    public init() {}
}

/// `--shard i/n`: 1-based.
public struct Shard: Sendable, Hashable {
    public var index: Int
    public var count: Int
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        index = i
        count = n
    }
}

/// What the command line gave; nil and empty stand for "not given", so that muslcheck.yml fills in.
public struct Flags: Sendable {
    public var paths: [String] = []
    public var images: [String] = []
    public var targets: [String] = []
    public var sysroots: [String] = []
    public var libraryPath: String?
    public var engine = EngineSettings()
    public var jobs: Int?
    public var failOn: FailLevel?
    public var staticOnly = false
    public var probes: [String] = []
    public var baselineImage: String?
    public var execSmoke = false
    public var noSandbox = false
    public var memory: String?
    public var pidsLimit: Int?
    public var timeout: Double?
    public var runTimeout: Double?
    public var muslCompiler: String?
    public var cacheDir: String?
    public var runID: String?
    public var shard: Shard?
    public var baseline: String?
    public var timings = false
    public init() {}
}

extension Settings {
    /// The settings of a run: each flag given wins over muslcheck.yml, which wins over the default.
    /// `defaultPaths`: the paths when neither names any.
    public static func resolve(_ flags: Flags, config: MuslcheckConfig = MuslcheckConfig(), userProbes: [UserProbe] = [],
                               defaultPaths: [String] = ["."]) -> Settings {
        func pick<T>(_ given: [T], _ configured: [T]?) -> [T] { !given.isEmpty ? given : (configured ?? []) }
        var s = Settings()
        s.paths = !flags.paths.isEmpty ? flags.paths : (config.paths ?? defaultPaths)
        s.images = pick(flags.images, config.images)
        s.targets = pick(flags.targets, config.targets)
        s.sysroots = pick(flags.sysroots, config.sysroots)
        s.libraryPath = flags.libraryPath.map { $0.split(separator: ":").map(String.init) } ?? (config.libraryPath ?? [])
        s.engine = flags.engine
        if let jobs = flags.jobs { s.jobs = jobs }
        s.failOn = flags.failOn ?? config.failOn ?? .default
        s.probes.run = !flags.staticOnly
        s.probes.ids = !flags.probes.isEmpty ? flags.probes : config.probes
        if let b = flags.baselineImage ?? config.baselineImage { s.probes.baseline = b == "host" ? .host : .image(b) }
        s.probes.execSmoke = flags.execSmoke || (config.execSmoke ?? false)
        s.probes.userProbes = userProbes
        s.probes.sandbox.enabled = !flags.noSandbox
        if let m = flags.memory { s.probes.sandbox.memory = m }
        if let p = flags.pidsLimit { s.probes.sandbox.pids = p }
        s.probes.timeout = flags.timeout
        if let t = flags.runTimeout { s.probes.runTimeout = t }
        s.probes.muslCompiler = flags.muslCompiler
        s.probes.cacheDir = flags.cacheDir
        s.runID = flags.runID
        s.shard = flags.shard
        s.ignores = config.ignores
        s.baselineFile = flags.baseline
        s.timings = flags.timings
        return s
    }
}
