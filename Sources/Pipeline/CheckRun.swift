import Compat
import Policy
import Engine
import Foundation
import Probes
import Report

/// The main job: scan, analyse against every target, run the probes in every image when an
/// engine answers, fold the probes' results into the verdicts, apply ignores and the baseline,
/// and judge the run against --fail-on.
public struct CheckRun: Sendable {
    let settings: Settings
    var scan: ScanRun
    /// Progress lines (on a terminal).
    var log: @Sendable (String) -> Void = { _ in }

    public init(settings: Settings, progress: ScanProgress? = nil, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.settings = settings
        scan = ScanRun(settings: settings, progress: progress)
        self.log = log
    }

    /// Run the probes in the images (false: --static-only).
    var runProbes: Bool { settings.probes.run }
    var probeIDs: [String]? { settings.probes.ids }
    var shard: Shard? { settings.shard }
    var gate: Gate { Gate(level: settings.failOn) }
    /// Keep durations in the report (they change from run to run).
    var timings: Bool { settings.timings }

    public struct Result {
        public var report: StoredReport
        /// Engine or environment errors (exit 3); the static results are in the report.
        public var environmentErrors: [String]
        public var failures: [Gate.Failure]
    }

    /// Reads the baseline and checks the probe ids: a problem with either is a usage error,
    /// found before the scan (also when no probe will run, as with --static-only).
    func loadSuppression() throws -> Suppression {
        let known = try settings.baselineFile.map { try ReportBaseline.load($0) }
        if let ids = probeIDs, let problem = (try? ProbeCatalog.bundled())?.unknownProbes(ids) {
            throw RunError(code: .usage, description: problem)
        }
        return Suppression(ignores: settings.ignores, baseline: known)
    }

    public func run() throws -> Result {
        let suppression = try loadSuppression()
        let started = Date()
        let data: CompatData
        do { data = try CompatData.shared() } catch { throw RunError(code: .environment, description: "\(error)") }
        var scan = self.scan
        scan.imageArtifacts = false
        scan.imageFallback = true
        scan.runPrefix = "check-"
        var notes: [String] = []
        var environmentErrors: [String] = []

        // Without an engine the images' bundled profiles stand in for them.
        var engine: ContainerEngine? = nil
        if !scan.images.isEmpty {
            switch scan.makeEngine() {
            case .success(let e): engine = e
            case .failure(let error):
                let stand = scan.images.map { ScanRun.profileName(for: $0, data: data) }
                notes.append("no container engine answers (\(error.message)): only static analysis ran, against the bundled profile"
                             + "\(Set(stand).count == 1 ? "" : "s") \(Array(Set(stand)).sorted().joined(separator: ", ")) in place of "
                             + scan.images.joined(separator: ", "))
                environmentErrors.append("\(scan.engineKind.rawValue): \(error.message)")
                for name in stand where !scan.targetNames.contains(name) { scan.targetNames.append(name) }
                scan.images = []
            }
        } else if runProbes {
            notes.append("no image given: only static analysis ran; give --image (for example --image alpine:3.22) to run the probes and musl's own loader in the image")
        }

        // The probes will run: the scan keeps what the loader probe needs, archives staged as read.
        var staging: URL? = nil
        if runProbes, engine != nil, !scan.images.isEmpty, !scan.paths.isEmpty {
            staging = try ProbeRun.stagingDirectory()
            scan.probeCandidates = ProbeCandidates(staging: staging!)
        }
        defer { if let staging { ProbeRunner.removeStagingDirectory(staging) } }
        let scanned = try scan.run()
        environmentErrors += scanned.environmentErrors
        notes += scanned.notes
        var report = scanned.report
        let probeStart = Date()

        // A shard keeps every artifact of its share of top-level files and archives.
        var inShard: @Sendable (String) -> Bool = { _ in true }
        if let shard {
            let chosen = Self.share(of: report.summaries.map(\.path) + report.problems.map(\.artifact), shard: shard)
            inShard = { chosen.contains(Self.shardKey($0)) }
            report = report.filtered { inShard($0.path) }
            report.problems = report.problems.filter { inShard($0.artifact) }
            report.inputs.shard = "\(shard.index)/\(shard.count)"
        }

        // Probes in the images the scan could read.
        var probed: ((ArtifactAnalysis) -> ArtifactAnalysis?)? = nil
        let images = scan.images.filter { scanned.imageTargets[$0] != nil }
        if runProbes, engine != nil, !images.isEmpty {
            var probe = ProbeRun(settings: settings, log: log)
            probe.images = images
            probe.include = inShard
            probe.preparedTargets = scanned.imageTargets
            probe.found = scan.probeCandidates
            probe.jobs = max(1, min(scan.jobs, images.count))
            let firstShard = (shard?.index ?? 1) == 1
            // The built-in catalog, the user probes and the baseline run once, in the first shard.
            probe.probeIDs = firstShard ? probeIDs : ["loader"]
            probe.userProbes = firstShard ? settings.probes.userProbes : []
            probe.baseline = firstShard ? settings.probes.baseline : nil
            do {
                let result = try probe.run()
                environmentErrors += result.environmentErrors
                let catalog = try? ProbeCatalog.bundled()
                report.probes = result.output.images.map { timings ? $0 : $0.withoutTimings(catalog: catalog) }
                for (name, compiler) in result.output.compilers.sorted(by: { $0.key < $1.key }) where firstShard {
                    notes.append("probes built with \(compiler)\(name == "host" ? " (baseline)" : "")")
                }
                if result.output.compilers["musl"] == nil {
                    notes.append("no musl C compiler found (install musl-tools, or set MUSLCHECK_MUSL_CC): the built-in probes did not run; the loader probe did")
                }
                probed = loaderFolding(result, data: data, glibcImages: Set(report.targets.filter { $0.libc == "glibc" }.map(\.name)))
                report.problems = (report.problems + userProbeFindings(result, data: data)).sorted(by: Finding.order)
            } catch let e as RunError where e.code == .environment {
                notes.append("the probes did not run: \(e.description)")
                environmentErrors.append(e.description)
            }
        }
        if !runProbes && !scan.images.isEmpty {
            notes.append("--static-only: the probes did not run")
        }

        // One pass over the stored artifacts: the loader probe's results, then ignores and the baseline.
        var suppressed: [CompatibilityReport.Suppressed] = []
        if probed != nil || !suppression.isEmpty {
            report = try report.updating { a in
                let folded = probed?(a)
                guard let (changed, removed) = suppression.apply(folded ?? a) else { return folded }
                suppressed += removed
                return changed
            }
        }
        if !suppression.isEmpty {
            let (kept, removed) = suppression.apply(problems: report.problems)
            report.problems = kept
            suppressed += removed
        }
        report.suppressed = suppressed
        report.notes = notes
        if timings {
            report.timings = .init(scanSeconds: rounded(scanned.scanSeconds), probeSeconds: rounded(Date().timeIntervalSince(probeStart)),
                                   totalSeconds: rounded(Date().timeIntervalSince(started)))
        }
        report = report.recounted()
        return Result(report: report, environmentErrors: environmentErrors, failures: gate.failures(report))
    }

    func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

    /// The split keys (top-level files and archives) that fall to a shard: every n-th of them,
    /// in sorted order, so that the shards of one run share them out exactly once.
    static func share(of paths: [String], shard: Shard) -> Set<String> {
        let keys = Set(paths.map(shardKey)).sorted()
        var mine: Set<String> = []
        for (i, k) in keys.enumerated() where i % shard.count == shard.index - 1 { mine.insert(k) }
        return mine
    }

    /// What a shard splits by: the outermost archive of a member, or the file itself.
    static func shardKey(_ path: String) -> String {
        if let bang = path.firstIndex(of: "!") { return String(path[..<bang]) }
        return path
    }

    /// The loader probe's outcomes as a change to each artifact: each image verdict's
    /// confirmation, a contradiction a finding (MC150), an artifact the probe could not check a
    /// warning (MC151). nil when the loader probe did not run.
    /// `glibcImages`: the images whose listing glibc's loader made.
    func loaderFolding(_ result: ProbeRun.Result, data: CompatData, glibcImages: Set<String> = []) -> ((ArtifactAnalysis) -> ArtifactAnalysis?)? {
        guard probeIDs?.contains("loader") ?? true else { return nil }
        var byImage: [String: [String: LoaderProbeOutcome]] = [:]
        var failedImages: Set<String> = []
        for image in result.output.images {
            if image.error != nil { failedImages.insert(image.image) }
            byImage[image.image] = Dictionary(image.loader.map { ($0.artifact, $0) }, uniquingKeysWith: { a, _ in a })
        }
        return { a in
            var out = a
            for i in out.verdicts.indices {
                let image = out.verdicts[i].target
                guard let outcomes = byImage[image] else { continue }
                // Nothing loads a not-applicable file (an object file, another machine's file).
                if out.verdicts[i].verdict == .notApplicable { continue }
                if let o = outcomes[a.path] {
                    out.verdicts[i].loaderProbe = o.agreement.rawValue
                    switch o.agreement {
                    case .contradicted:
                        out.findings.append(data.finding(
                            FindingID.loaderProbeContradiction,
                            message: "\(glibcImages.contains(image) ? "glibc's" : "musl's") loader in \(image) contradicts the static verdict (\(out.verdicts[i].verdict.rawValue)): "
                                + o.differences.joined(separator: "; "),
                            fix: Fixes.contradiction,
                            artifact: a.path, target: image))
                    case .notRun:
                        let damaged = out.findings.contains { $0.id == FindingID.damagedFile.rawValue && $0.target == image }
                        let byHand = damaged ? Fixes.damagedAsFound : (out.kind == .staticExecutable ? Fixes.startByHand : Fixes.listByHand)
                        out.findings.append(data.finding(
                            FindingID.loaderProbeFailed, message: "the loader probe could not check it in \(image): \(o.note ?? "not run")",
                            fix: byHand, artifact: a.path, target: image))
                    case .confirmed:
                        break
                    }
                } else if let skip = result.skipped[a.path] {
                    out.verdicts[i].loaderProbe = LoaderProbeOutcome.Agreement.notRun.rawValue
                    out.findings.append(data.finding(
                        FindingID.loaderProbeFailed, message: "the loader probe could not check it in \(image): \(skip.why)",
                        fix: skip.fix, artifact: a.path, target: image))
                } else if failedImages.contains(image) {
                    out.verdicts[i].loaderProbe = LoaderProbeOutcome.Agreement.notRun.rawValue
                }
            }
            guard out != a else { return nil }
            out.findings.sort(by: Finding.order)
            return out
        }
    }

    /// Failed user probes, as findings (MC152).
    func userProbeFindings(_ result: ProbeRun.Result, data: CompatData) -> [Finding] {
        var problems: [Finding] = []
        for image in result.output.images {
            for u in image.userProbes where !u.passed {
                problems.append(data.finding(
                    FindingID.userProbeFailed,
                    message: "user probe '\(u.name)' failed in \(image.image): " + u.failures.joined(separator: "; "),
                    subject: u.name,
                    fix: Fixes.userProbe,
                    artifact: image.image, target: image.image))
            }
        }
        return problems
    }
}
