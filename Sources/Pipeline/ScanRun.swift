import Artifacts
import Compat
import ELF
import Engine
import Foundation
import Policy
import Probes
import Report

/// Scans paths and images, builds the targets, analyses every artifact against every target,
/// and assembles the report. Engine failures do not stop static results: they are collected.
public struct ScanRun: Sendable {
    var paths: [String] = []
    var images: [String] = []
    var targetNames: [String] = []
    var sysroots: [String] = []
    var libraryPath: [String] = []
    var engineKind: ContainerEngine.Kind = .docker
    var context: String?
    var pull: PullPolicy = .missing
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    var failOn = FailLevel.default
    var progress: ScanProgress?
    /// The images' own files are artifacts too (scan); false: the images are targets only (check).
    var imageArtifacts = true
    /// An image that cannot be read is replaced by the bundled profile of the same name, or the
    /// default profile (check: the static analysis still runs).
    var imageFallback = false
    /// The run label's prefix on the export containers ("scan-", "check-").
    var runPrefix = "scan-"
    /// The run label on the containers (default: the prefix and a random part).
    var runID: String?
    /// Keeps what the loader probe needs from the same pass (check), so that no file is read twice.
    var probeCandidates: ProbeCandidates?
    /// Takes each analysis as it is made, on the worker threads, instead of the report's store
    /// (plan: the report's artifacts are then empty). The same path again replaces the earlier
    /// result, as in the store.
    var consumer: (@Sendable (ArtifactAnalysis) -> Void)?
    /// glibc targets take missing libraries from Debian 12's packages (plan --from-image on a
    /// Debian 12 image, whose packages' files are copied).
    var debianPackages = false
    /// Only the bundled profiles do (plan: a distroless profile gets them from a Debian 12 stage).
    var debianPackagesOnlyForProfiles = false

    /// A scan of `settings.paths` and `settings.images` (its files are artifacts, and a target).
    public init(settings: Settings, progress: ScanProgress? = nil) {
        paths = settings.paths
        images = settings.images
        targetNames = settings.targets
        sysroots = settings.sysroots
        libraryPath = settings.libraryPath
        engineKind = settings.engine.kind
        context = settings.engine.context
        pull = settings.engine.pull
        jobs = settings.jobs
        failOn = settings.failOn
        runID = settings.runID
        self.progress = progress
    }

    public struct Result {
        public var report: StoredReport
        /// Engine or environment errors (exit 3), static results still in the report.
        public var environmentErrors: [String]
        var scanSeconds: Double
        /// The images read as targets (for the probes' expectations).
        var imageTargets: [String: ImageExport.Result] = [:]
        /// Sentences for the report's notes.
        var notes: [String] = []
    }

    /// Collects analyses and problems from worker threads.
    final class Sink: @unchecked Sendable {
        let lock = NSLock()
        let store: ArtifactStore
        let consumer: (@Sendable (ArtifactAnalysis) -> Void)?
        var problems: [ScanProblem] = []
        var pendingBatches: [ArtifactBatch] = []
        var storeErrors: [String] = []
        /// Files on disk: which artifact loaded which library of the scan, and which libraries
        /// missed libraries (to be judged again as loaded by their loader).
        var diskLoads: [String: String] = [:]
        var diskMisses: [String] = []
        init(store: ArtifactStore, consumer: (@Sendable (ArtifactAnalysis) -> Void)? = nil) {
            self.store = store
            self.consumer = consumer
        }
        func noteDisk(_ a: ArtifactAnalysis) {
            lock.lock()
            for lib in a.treeLibraries where diskLoads[lib] == nil || a.path < diskLoads[lib]! { diskLoads[lib] = a.path }
            if a.missesLibraries && a.kind == .sharedLibrary { diskMisses.append(a.path) }
            lock.unlock()
        }
        /// Results go to the store at once: memory does not grow with the number of artifacts.
        func add(_ a: ArtifactAnalysis) {
            if let consumer { consumer(a); return }
            do { try store.add(a) } catch { lock.lock(); storeErrors.append("\(error)"); lock.unlock() }
        }
        func add(_ p: ScanProblem) { lock.lock(); problems.append(p); lock.unlock() }
        func hold(_ b: ArtifactBatch) { lock.lock(); pendingBatches.append(b); lock.unlock() }
    }

    /// The targets of a run and how the report names them.
    struct TargetSet {
        var targets: [Target] = []
        var infos: [CompatibilityReport.TargetInfo] = []
        /// Images read as targets (for the probes' expectations).
        var images: [String: ImageExport.Result] = [:]

        mutating func add(_ t: Target, kind: String) {
            targets.append(t)
            infos.append(.init(name: t.name, kind: kind, musl: t.muslVersion, gcompat: t.hasGcompat,
                               libc: t.libc == .musl ? nil : t.libc.rawValue, glibc: t.glibc?.version))
        }
    }

    public func run() throws -> Result {
        let started = Date()
        let data: CompatData
        do { data = try CompatData.shared() } catch { throw RunError(code: .environment, description: "\(error)") }
        // Bundled profiles (the default when no target of any kind is named).
        let profileNames = targetNames.isEmpty && sysroots.isEmpty && images.isEmpty ? [data.targets.default] : targetNames
        var targets = try fixedTargets(profiles: profileNames, data: data)

        let scanner = ArtifactScanner(jobs: jobs)
        let store: ArtifactStore
        do { store = try ArtifactStore() } catch { throw RunError(code: .environment, description: "\(error)") }
        let sink = Sink(store: store, consumer: consumer)
        progress?.start { scanner.currentCounts() }
        defer { progress?.stop() }

        let (environmentErrors, notes) = readImages(into: &targets, scanner: scanner, sink: sink, data: data)
        guard !targets.targets.isEmpty else {
            throw RunError(code: .environment, description: environmentErrors.joined(separator: "\n"))
        }
        if debianPackages {
            for t in targets.targets where !debianPackagesOnlyForProfiles || t.kind == .profile {
                do { try t.takingDebianPackages(data: data) } catch { throw RunError(code: .environment, description: "\(error)") }
            }
        }

        var options = AnalyzerOptions()
        options.libraryPath = libraryPath
        options.treeRoots = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let analyzer = Analyzer(targets: targets.targets, data: data, options: options)
        UntilExit.keep(analyzer, scanner, sink)
        if !paths.isEmpty { scanPaths(scanner: scanner, analyzer: analyzer, sink: sink) }
        // Image artifacts, now that their targets exist.
        for batch in sink.pendingBatches {
            for a in Self.analyze(batch, analyzer: analyzer, jobs: jobs) { sink.add(a) }
        }

        let problems = sink.problems.map { data.finding(for: $0) }
        if let first = sink.storeErrors.first { throw RunError(code: .environment, description: "writing results: \(first)") }
        let report = StoredReport(
            store: store, tool: MuslcheckVersion.reportTool,
            inputs: .init(paths: paths, images: images, targets: profileNames, sysroots: sysroots, failOn: failOn),
            targets: targets.infos, problems: problems, counts: Self.reportCounts(scanner.currentCounts()))
        return Result(report: report, environmentErrors: environmentErrors, scanSeconds: Date().timeIntervalSince(started),
                      imageTargets: targets.images, notes: notes)
    }

    /// The bundled profiles and the root filesystems on disk; a name or folder that is not one is a usage error.
    func fixedTargets(profiles: [String], data: CompatData) throws -> TargetSet {
        var set = TargetSet()
        for name in profiles {
            do { set.add(try Target.profile(name, data: data), kind: "profile") } catch {
                throw RunError(code: .usage, description: "\(error)")
            }
        }
        for dir in sysroots {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw RunError(code: .usage, description: "--sysroot \(dir): not a directory")
            }
            do {
                set.add(try Target.filesystem(name: "sysroot:" + dir, kind: .sysroot(dir), tree: SysrootTree(root: dir), data: data), kind: "sysroot")
            } catch {
                throw RunError(code: .usage, description: "--sysroot \(dir): \(error)")
            }
        }
        return set
    }

    /// The images, streamed from the engine's export: each a target, and (scan) its files
    /// artifacts. An image that cannot be read is an environment error; with `imageFallback`
    /// its bundled profile stands in. Returns the errors and the notes.
    func readImages(into set: inout TargetSet, scanner: ArtifactScanner, sink: Sink, data: CompatData) -> (errors: [String], notes: [String]) {
        guard !images.isEmpty else { return ([], []) }
        var errors: [String] = []
        var notes: [String] = []
        switch makeEngine() {
        case .failure(let error):
            errors.append("--image: \(error.message); only the paths were checked")
        case .success(let engine):
            let runID = self.runID ?? runPrefix + UUID().uuidString.prefix(8).lowercased()
            CleanupRegistry.shared.register(runID: runID, engine: engine)
            let keep = imageArtifacts
            for ref in images {
                let result = ImageExport.read(ref, engine: engine, pull: pull, runID: runID, scanner: keep ? scanner : ArtifactScanner(jobs: jobs), data: data) { event in
                    switch event {
                    case .batch(let b): if keep { sink.hold(b) }
                    case .problem(let p): if keep { sink.add(p) }
                    }
                }
                switch result {
                case .success(let image):
                    set.images[ref] = image
                    set.targets.append(image.target)
                    let t = image.target
                    set.infos.append(.init(name: ref, kind: "image", musl: t.muslVersion, gcompat: t.hasGcompat,
                                           imageID: image.imageID, digest: image.digest,
                                           libc: t.libc == .musl ? nil : t.libc.rawValue, glibc: t.glibc?.version))
                case .failure(let error):
                    errors.append("--image \(ref): \(error.message)")
                }
            }
        }
        if imageFallback {
            for ref in images where set.images[ref] == nil {
                let name = Self.profileName(for: ref, data: data)
                guard !set.targets.contains(where: { $0.name == name }), let t = try? Target.profile(name, data: data) else { continue }
                set.add(t, kind: "profile")
                notes.append("image \(ref) could not be read: checked against the bundled profile \(name) instead")
            }
        }
        return (errors, notes)
    }

    /// The paths, analysed as the scan hands batches over, on the scan's worker threads; what the
    /// loader probe needs is kept from the same pass.
    func scanPaths(scanner: ArtifactScanner, analyzer: Analyzer, sink: Sink) {
        let diskTree = DiskTree(name: "disk")
        UntilExit.keep(diskTree)
        let candidates = probeCandidates
        candidates?.attach(to: scanner)
        candidates?.disk = diskTree
        scanner.scan(paths: paths, tree: diskTree) { event in
            switch event {
            case .batch(let batch):
                candidates?.add(batch, analyzer: analyzer)
                if batch.archive == nil {
                    for item in batch.items {
                        let a = analyzer.analyze(Self.asExecuted(item, analyzer: analyzer), tree: batch.tree, archive: nil)
                        sink.noteDisk(a)
                        sink.add(a)
                    }
                } else {
                    for a in Self.analyze(batch, analyzer: analyzer, jobs: 1) { sink.add(a) }
                }
            case .problem(let p):
                sink.add(p)
                candidates?.add(p)
            }
        }
        // Libraries on disk that another scanned artifact loads: judged again in its context.
        let again = sink.diskMisses.compactMap { path in sink.diskLoads[lexicallyNormalized(path)].map { (path, $0) } }
        // The scan's own tree: files it still holds are not read again.
        Parallel.forEach(again.count, jobs: jobs) { i in
            let (path, loader) = again[i]
            guard case .elf(let lib, _) = diskTree.lookup(path), case .elf(let dep, _) = diskTree.lookup(loader) else { return }
            sink.add(analyzer.analyze(ScannedELF(displayPath: path, treePath: path, file: lib), tree: diskTree, archive: nil,
                                      loadedBy: Self.asExecuted(ScannedELF(displayPath: loader, treePath: loader, file: dep), analyzer: analyzer)))
        }
    }

    static func reportCounts(_ counts: ScanCounts) -> CompatibilityReport.Counts {
        var out = CompatibilityReport.Counts()
        out.files = counts.files + counts.archiveMembers
        out.elfFiles = counts.elfFiles
        out.nonELFFiles = counts.nonELFFiles
        out.archives = counts.archives
        out.archiveMembers = counts.archiveMembers
        out.specialFiles = counts.specialFiles
        out.duplicates = counts.duplicates
        return out
    }

    /// The bundled profile that stands for an image: alpine:3.20 (or docker.io/library/alpine:3.20.3)
    /// → alpine:3.20; anything else → the default profile.
    static func profileName(for ref: String, data: CompatData) -> String {
        var name = ref
        for prefix in ["docker.io/library/", "docker.io/", "library/"] where name.hasPrefix(prefix) { name.removeFirst(prefix.count) }
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        let names = Set(data.targets.profiles.map(\.name))
        if names.contains(name) { return name }
        // alpine:3.20.3 → alpine:3.20
        let parts = name.split(separator: ".")
        if parts.count > 2 {
            let short = parts.prefix(2).joined(separator: ".")
            if names.contains(short) { return short }
        }
        return data.targets.default
    }

    /// A program started through a symbolic link (/usr/bin/java → /usr/lib/jvm/.../bin/java)
    /// finds its $ORIGIN where the link leads: musl reads /proc/self/exe for a program the kernel
    /// mapped. A library keeps the path it was found under.
    static func asExecuted(_ item: ScannedELF, analyzer: Analyzer) -> ScannedELF {
        guard analyzer.kind(of: item.file, host: nil) == .executable, let real = ProbeRun.realPath(item.treePath),
              real != URL(fileURLWithPath: item.treePath).standardizedFileURL.path else { return item }
        var out = item
        out.treePath = real
        return out
    }

    /// Analyses the ELF members of one archive or image. A library that failed on missing
    /// libraries and that another member loads is judged again as loaded by that member.
    static func analyze(_ batch: ArtifactBatch, analyzer: Analyzer, jobs: Int) -> [ArtifactAnalysis] {
        final class Results: @unchecked Sendable {
            var items: [ArtifactAnalysis?]
            init(_ n: Int) { items = Array(repeating: nil, count: n) }
        }
        let results = Results(batch.items.count)
        let work: @Sendable (Int) -> Void = { i in
            results.items[i] = analyzer.analyze(batch.items[i], tree: batch.tree, archive: batch.archive)
        }
        Parallel.forEach(batch.items.count, jobs: jobs, work)
        var analyses = results.items.map { $0! }
        var byTreePath: [String: Int] = [:]
        for (i, item) in batch.items.enumerated() { byTreePath[lexicallyNormalized(item.treePath)] = i }
        var loader: [Int: Int] = [:]
        for (i, a) in analyses.enumerated() {
            for lib in a.treeLibraries {
                guard let j = byTreePath[lib], j != i else { continue }
                if loader[j] == nil || batch.items[i].displayPath < batch.items[loader[j]!].displayPath { loader[j] = i }
            }
        }
        for (j, i) in loader where analyses[j].missesLibraries && analyses[j].kind == .sharedLibrary {
            analyses[j] = analyzer.analyze(batch.items[j], tree: batch.tree, archive: batch.archive, loadedBy: batch.items[i])
        }
        return analyses
    }

    func makeEngine() -> Swift.Result<ContainerEngine, EngineError> {
        do {
            let engine = try ContainerEngine(kind: engineKind, context: context)
            try engine.checkDaemon()
            return .success(engine)
        } catch {
            return .failure(error)
        }
    }
}
