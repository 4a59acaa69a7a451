import Artifacts
import Compat
import ELF
import Engine
import Foundation
import Policy
import Probes

/// Builds the probes, prepares the artifacts for the loader probe, and runs everything in each
/// image (images in parallel), with an optional baseline.
public struct ProbeRun: Sendable {
    var images: [String] = []
    var paths: [String] = []
    var probeIDs: [String]?
    var baseline: Baseline?
    var engineKind: ContainerEngine.Kind = .docker
    var context: String?
    var pull: PullPolicy = .missing
    var transfer: FileTransfer = .auto
    var jobs = 2
    var sandbox = Sandbox()
    var probeTimeout: TimeInterval?
    var runTimeout: TimeInterval = 600
    var execSmoke = false
    var userProbes: [UserProbe] = []
    var muslCompiler: String?
    var cacheDir: String?
    var runID = "p" + UUID().uuidString.prefix(8).lowercased()
    /// Only the artifacts whose display path this accepts go to the loader probe (a shard).
    var include: (@Sendable (String) -> Bool)?
    /// What check's scan kept for the loader probe (nil: the probe scans the paths itself).
    var found: ProbeCandidates?
    /// Images already read as targets (check reads them for the static analysis).
    var preparedTargets: [String: ImageExport.Result] = [:]
    /// Artifacts already in the images at their paths (plan --verify): nothing is mounted.
    var inImageArtifacts: [LoaderProbeArtifact]?
    var log: @Sendable (String) -> Void = { _ in }

    init() {}

    /// The probes of `settings.images`, with the loader probe on `settings.paths`.
    public init(settings: Settings, log: @escaping @Sendable (String) -> Void = { _ in }) {
        images = settings.images
        paths = settings.paths
        probeIDs = settings.probes.ids
        baseline = settings.probes.baseline
        engineKind = settings.engine.kind
        context = settings.engine.context
        pull = settings.engine.pull
        transfer = settings.engine.transfer
        jobs = settings.jobs
        sandbox = settings.probes.sandbox
        probeTimeout = settings.probes.timeout
        runTimeout = settings.probes.runTimeout
        execSmoke = settings.probes.execSmoke
        userProbes = settings.probes.userProbes
        muslCompiler = settings.probes.muslCompiler
        cacheDir = settings.probes.cacheDir
        if let id = settings.runID { runID = id }
        self.log = log
    }

    public struct Output: Codable {
        var schemaVersion = 1
        var runID: String
        var compilers: [String: String]
        public var images: [ImageProbeReport]
    }

    public struct Result {
        public var output: Output
        public var environmentErrors: [String]
        /// The loader contradicted a static verdict, or a user probe failed.
        public var failed: Bool {
            output.images.contains { $0.loader.contains { $0.agreement == .contradicted } || $0.userProbes.contains { !$0.passed } }
        }
        /// Artifacts the loader probe could not run on: why, and what the user can do.
        var skipped: [String: Skip] = [:]
    }

    /// Why the loader probe left an artifact out, and what to do instead.
    struct Skip {
        var why: String
        var fix: String
    }

    struct Prepared {
        var artifacts: [LoaderProbeArtifact] = []
        var mounts: [(host: String, container: String)] = []
        var notes: [String] = []
        var skipped: [String: Skip] = [:]
    }

    /// The probes built for musl (nil when there is no musl compiler) and for the host. Without
    /// a compiler, the probes shipped beside the binary (a release archive's `probes/`) are used.
    static func build(catalog: ProbeCatalog, muslCompiler: String?, needGlibc: Bool, cacheDir: String?,
                      shipped: URL? = ShippedProbes.defaultRoot(),
                      log: @Sendable (String) -> Void) throws -> (musl: BuiltProbes?, glibc: BuiltProbes?) {
        let cache = cacheDir.map { URL(fileURLWithPath: $0) } ?? ProbeBuilder.defaultCacheRoot()
        let musl = Toolchain.musl(override: muslCompiler)
        let host = Toolchain.host()
        let shippedMusl = musl == nil ? ShippedProbes.find(.musl, catalog: catalog, root: shipped) : nil
        let shippedGlibc = host == nil ? ShippedProbes.find(.glibc, catalog: catalog, root: shipped) : nil
        guard musl != nil || host != nil || shippedMusl != nil || shippedGlibc != nil else {
            throw RunError(code: .environment, description: "no C compiler found to build the probe driver, and no probes shipped beside muslcheck (\(shipped?.path ?? "its folder")): install musl-tools (musl-gcc) or gcc, or use a release archive, which carries them")
        }
        var builtMusl: BuiltProbes? = nil
        var builtGlibc: BuiltProbes? = nil
        if let musl {
            do {
                builtMusl = try ProbeBuilder.build(catalog: catalog, toolchain: musl, host: host, driverToolchain: musl, cacheRoot: cache)
            } catch { throw RunError(code: .environment, description: "\(error)") }
            log("probes: built with \(musl.compiler) (\(musl.version))\(builtMusl!.cached ? ", from the cache" : "")")
            for (id, why) in builtMusl!.failures.sorted(by: { $0.key < $1.key }) { log("probes: \(id) did not build: \(why.prefix(200))") }
        } else if let shippedMusl {
            builtMusl = shippedMusl
            log("probes: no musl C compiler here; using the probes shipped in \(shippedMusl.directory.path) (built with \(shippedMusl.toolchain.version))")
        } else {
            log("probes: no musl C compiler found (install Debian's musl-tools, or set MUSLCHECK_MUSL_CC); built-in probes are skipped")
        }
        if needGlibc || builtMusl == nil {
            if let host {
                do {
                    builtGlibc = try ProbeBuilder.build(catalog: catalog, toolchain: host, host: host, driverToolchain: host, cacheRoot: cache)
                } catch { throw RunError(code: .environment, description: "\(error)") }
                log("probes: baseline built with \(host.compiler) (\(host.version))\(builtGlibc!.cached ? ", from the cache" : "")")
            } else if let shippedGlibc {
                builtGlibc = shippedGlibc
                log("probes: no host C compiler here; using the baseline probes shipped in \(shippedGlibc.directory.path)")
            }
        }
        return (builtMusl, builtGlibc)
    }

    /// Builds the probes with this machine's compilers (musl-gcc, and gcc for the baseline) and
    /// writes them into `root/musl` and `root/glibc`, as a release archive ships them.
    public static func buildShipped(into root: URL, muslCompiler: String?, cacheDir: String?, log: @Sendable (String) -> Void) throws {
        let catalog: ProbeCatalog
        do { catalog = try ProbeCatalog.bundled() } catch { throw RunError(code: .environment, description: "\(error)") }
        guard let musl = Toolchain.musl(override: muslCompiler) else {
            throw RunError(code: .environment, description: "no musl C compiler found: install Debian's musl-tools (musl-gcc), or set MUSLCHECK_MUSL_CC")
        }
        guard let host = Toolchain.host() else { throw RunError(code: .environment, description: "no host C compiler found: install gcc") }
        let cache = cacheDir.map { URL(fileURLWithPath: $0) } ?? ProbeBuilder.defaultCacheRoot()
        do {
            let m = try ProbeBuilder.build(catalog: catalog, toolchain: musl, host: host, driverToolchain: musl, cacheRoot: cache)
            guard m.failures.isEmpty else {
                throw RunError(code: .environment, description: "probes did not build with \(musl.compiler): \(m.failures.keys.sorted().joined(separator: ", "))")
            }
            let g = try ProbeBuilder.build(catalog: catalog, toolchain: host, host: host, driverToolchain: host, cacheRoot: cache)
            try ShippedProbes.write(m, catalog: catalog, into: root)
            try ShippedProbes.write(g, catalog: catalog, into: root)
            log("probes: \(m.available.count) probes and the driver for musl (\(musl.version)), \(g.available.count) for the glibc baseline (\(host.version)), written into \(root.path)")
        } catch let e as RunError { throw e } catch { throw RunError(code: .environment, description: "\(error)") }
    }

    /// The scanned artifacts, each mounted (a file or folder on disk) or staged (an archive's ELF
    /// members, written by the scan to a private folder that is removed afterwards) in the container.
    func prepareArtifacts(_ found: ProbeCandidates) -> Prepared {
        var notes = found.problems(inOrderOf: paths).map { "\($0.path): \($0.message)" }
        var skipped: [String: Skip] = [:]
        var mounts: [(host: String, container: String)] = []
        var map: [(container: String, host: String)] = []
        for (i, p) in paths.enumerated() {
            let abs = URL(fileURLWithPath: p).standardizedFileURL.path
            let container = "/muslcheck/a/\(i)"
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: abs, isDirectory: &isDir)
            let target = isDir.boolValue ? container : container + "/" + (abs as NSString).lastPathComponent
            mounts.append((abs, target))
            map.append((target, abs))
        }
        let realMounts = mounts.map { (host: Self.realPath($0.host) ?? $0.host, container: $0.container) }
        var extra: [String: String] = [:]  // real folder outside the inputs → container folder
        var artifacts: [LoaderProbeArtifact] = []
        let groups = found.groups(inOrderOf: paths)
        // The archives the probe runs on, numbered in the order of the walk.
        let used = groups.compactMap { g in
            g.archive.flatMap { a in !a.contains("!") && g.items.contains { include?($0.item.displayPath) ?? true } ? a : nil }
        }
        let staged = found.staging.finish(order: used)
        var mapped: Set<String> = []
        for group in groups {
            for candidate in group.items where include?(candidate.item.displayPath) ?? true {
                let item = candidate.item
                var containerPath: String
                if let archive = group.archive {
                    guard !archive.contains("!") else {
                        notes.append("\(item.displayPath): a member of a nested archive; the loader probe skips it")
                        skipped[item.displayPath] = Skip(why: "a member of a nested archive, which the loader probe does not stage",
                                                         fix: Fixes.nestedArchive)
                        continue
                    }
                    guard let folder = staged[archive] else {
                        if mapped.insert(archive).inserted {
                            notes.append("\(archive): cannot stage its members for the loader probe: \(found.staging.failures[archive] ?? "the run is being interrupted")")
                        }
                        skipped[item.displayPath] = Skip(why: "its archive could not be staged for the loader probe",
                                                         fix: Fixes.archiveNotStaged)
                        continue
                    }
                    if mapped.insert(archive).inserted { map.append(("/muslcheck/s/\(folder)", found.staging.root.path + "/" + folder)) }
                    containerPath = "/muslcheck/s/\(folder)/" + item.treePath
                } else {
                    // The file as the container reaches it: symbolic links resolved on the host
                    // (an absolute link would point into the image); a file whose real folder is
                    // outside every mount gets that folder mounted.
                    let abs = URL(fileURLWithPath: item.treePath).standardizedFileURL.path
                    let real = Self.realPath(abs) ?? abs
                    if let m = realMounts.first(where: { real == $0.host || real.hasPrefix($0.host + "/") }) {
                        containerPath = m.container + real.dropFirst(m.host.count)
                    } else if !candidate.isProgram {
                        // A library is loaded under the path it was found at: its $ORIGIN is the
                        // link's folder, which the container cannot show with the link's target.
                        skipped[item.displayPath] = Skip(
                            why: "a symbolic link to \(real), outside the checked folders; musl takes a library's $ORIGIN from the link's folder, which the container cannot reproduce",
                            fix: Fixes.linkOutsideChecked(PathText.parent(real)))
                        notes.append("\(item.displayPath): a symbolic link to a library outside the checked folders; the loader probe skips it")
                        continue
                    } else {
                        // Its folder, or the ancestor its $ORIGIN paths reach ($ORIGIN/../lib).
                        let up = ((item.file.dynamic?.runpath ?? []) + (item.file.dynamic?.rpath ?? [])).map { Self.originLevels($0) }.max() ?? 0
                        var folder = PathText.parent(real)
                        var below = (real as NSString).lastPathComponent
                        for _ in 0..<up where folder != "/" {
                            below = (folder as NSString).lastPathComponent + "/" + below
                            folder = PathText.parent(folder)
                        }
                        if let covering = extra.keys.first(where: { folder.hasPrefix($0 + "/") }) {
                            below = String(folder.dropFirst(covering.count + 1)) + "/" + below
                            folder = covering
                        }
                        if extra[folder] == nil {
                            let container = "/muslcheck/r/\(extra.count)"
                            extra[folder] = container
                            mounts.append((folder, container))
                            map.append((container, folder))
                        }
                        containerPath = extra[folder]! + "/" + below
                    }
                }
                artifacts.append(LoaderProbeArtifact(display: item.displayPath, containerPath: containerPath, file: item.file,
                                                     tree: RemappedTree(name: "container", map: map, disk: found.disk), host: candidate.host,
                                                     isExecutable: candidate.kind == .executable || candidate.kind == .staticExecutable,
                                                     isStatic: candidate.kind == .staticExecutable))
            }
        }
        if !staged.isEmpty { mounts.append((found.staging.root.path, "/muslcheck/s")) }
        // Every artifact's tree knows every mount (a dependency may be in another one).
        let tree = RemappedTree(name: "container", map: map, disk: found.disk)
        for i in artifacts.indices { artifacts[i].tree = tree }
        return Prepared(artifacts: artifacts.sorted { $0.display < $1.display }, mounts: mounts, notes: notes, skipped: skipped)
    }

    /// The probe's own pass over the paths (`muslcheck probe`): no analysis, only what the loader
    /// probe needs, archives staged as they are read.
    func scanForProbe(data: CompatData, staging: URL) -> ProbeCandidates {
        let found = ProbeCandidates(staging: staging)
        let analyzer = Analyzer(targets: [], data: data)
        let scanner = ArtifactScanner(jobs: jobs)
        found.attach(to: scanner)
        scanner.scan(paths: paths) { event in
            switch event {
            case .batch(let b): found.add(b, analyzer: analyzer)
            case .problem(let p): found.add(p)
            }
        }
        return found
    }

    /// A private folder for staged archive members, removed on every way out.
    static func stagingDirectory() throws -> URL {
        do { return try ProbeRunner.stagingDirectory() } catch { throw RunError(code: .environment, description: "\(error)") }
    }

    /// How many folders above $ORIGIN a search path entry climbs: "$ORIGIN/../lib" → 1.
    static func originLevels(_ entry: String) -> Int {
        var best = 0
        for part in entry.split(separator: ":") where part.hasPrefix("$ORIGIN") || part.hasPrefix("${ORIGIN}") {
            var depth = 0, lowest = 0
            for c in part.split(separator: "/").dropFirst() {
                if c == ".." { depth -= 1 } else if c != "." { depth += 1 }
                lowest = min(lowest, depth)
            }
            best = max(best, -lowest)
        }
        return best
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    public func run() throws -> Result {
        let data: CompatData
        let catalog: ProbeCatalog
        do {
            data = try CompatData.shared()
            catalog = try ProbeCatalog.bundled()
        } catch { throw RunError(code: .environment, description: "\(error)") }
        if let ids = probeIDs, let problem = catalog.unknownProbes(ids) { throw RunError(code: .usage, description: problem) }
        let engine: ContainerEngine
        do throws(EngineError) {
            engine = try ContainerEngine(kind: engineKind, context: context)
            try engine.checkDaemon()
        } catch {
            throw RunError(code: .environment, description: error.message)
        }
        CleanupRegistry.shared.register(runID: runID, engine: engine)
        defer { engine.removeContainers(runID: runID) }
        let built = try Self.build(catalog: catalog, muslCompiler: muslCompiler, needGlibc: baseline != nil, cacheDir: cacheDir, log: log)
        log("probe run \(runID): \(images.count) image\(images.count == 1 ? "" : "s")")

        // What check's scan found, or the probe's own pass over the paths.
        let ownStaging = found == nil && !paths.isEmpty ? try Self.stagingDirectory() : nil
        defer { if let ownStaging { ProbeRunner.removeStagingDirectory(ownStaging) } }
        let prepared = inImageArtifacts.map { Prepared(artifacts: $0) } ?? found.map(prepareArtifacts) ?? ownStaging.map { prepareArtifacts(scanForProbe(data: data, staging: $0)) } ?? Prepared()

        var runner = ProbeRunner(catalog: catalog, musl: built.musl, glibc: built.glibc, engine: engine, runID: runID)
        runner.sandbox = sandbox
        runner.selected = probeIDs.map { Set($0).subtracting(["loader"]) }
        runner.runLoaderProbe = probeIDs?.contains("loader") ?? true
        runner.execSmoke = execSmoke
        runner.userProbes = userProbes
        runner.probeTimeout = probeTimeout
        runner.runTimeout = runTimeout
        runner.mounts = prepared.mounts
        runner.transfer = transfer.resolved(daemonHostname: { engine.daemonHostname() })
        if transfer == .auto && runner.transfer == .copy {
            log("probes: the engine does not share this machine's files (muslcheck runs in a container, or the daemon is remote): the probes and artifacts are copied into each container (--transfer mount to bind-mount them)")
        }

        final class Reports: @unchecked Sendable {
            var items: [ImageProbeReport?]
            init(_ n: Int) { items = Array(repeating: nil, count: n) }
        }
        // Images in parallel, each slot written by one thread.
        let reports = Reports(images.count)
        let configuredRunner = runner
        Parallel.forEach(images.count, jobs: jobs) { index in
            reports.items[index] = self.probe(images[index], index: index, engine: engine, runner: configuredRunner, prepared: prepared, data: data)
        }
        let errors = zip(images, reports.items).compactMap { image, report in report?.error.map { "--image \(image): \($0)" } }
        var compilers: [String: String] = [:]
        if let m = built.musl { compilers["musl"] = "\(m.toolchain.compiler) (\(m.toolchain.version))" }
        if let g = built.glibc { compilers["host"] = "\(g.toolchain.compiler) (\(g.toolchain.version))" }
        let output = Output(runID: runID, compilers: compilers, images: reports.items.map { $0! })
        return Result(output: output, environmentErrors: errors, skipped: prepared.skipped)
    }

    /// One image's probes. The image is read as a target (a streamed export) for the loader
    /// probe's expectations, unless check read it already; without artifacts only its identity
    /// is needed. An image that cannot be read gives a failed report.
    func probe(_ image: String, index: Int, engine: ContainerEngine, runner: ProbeRunner, prepared: Prepared, data: CompatData) -> ImageProbeReport {
        var target: Target? = nil
        var imageID: String? = nil
        var digest: String? = nil
        if let e = preparedTargets[image] {
            target = e.target
            imageID = e.imageID
            digest = e.digest
        } else if prepared.artifacts.isEmpty {
            do throws(EngineError) {
                try engine.ensureImage(image, pull: pull)
                let identity = engine.imageIdentity(image)
                imageID = identity.id
                digest = identity.digest
            } catch {
                return .failed(image, error: error.message)
            }
        } else {
            switch ImageExport.read(image, engine: engine, pull: pull, runID: runID, scanner: ArtifactScanner(jobs: 1), data: data, handler: { _ in }) {
            case .success(let e):
                target = e.target
                imageID = e.imageID
                digest = e.digest
            case .failure(let e):
                return .failed(image, error: e.message)
            }
        }
        log("probing \(image)")
        var report = runner.run(image: image, index: index, imageID: imageID, digest: digest, target: target,
                                artifacts: prepared.artifacts, baseline: baseline)
        report.notes += prepared.notes
        return report
    }
}
