import Artifacts
import Compat
import Foundation
import Report

/// `muslcheck plan`: checks the artifacts against every candidate base image (a bundled profile,
/// or a real local image under a candidate's name), and ranks the candidates by estimated size.
public struct PlanRun {
    public struct Candidate: Sendable, Hashable {
        public var name: String
        /// A real image to check against instead of the bundled profile.
        public var image: String?
        public init(name: String, image: String? = nil) {
            self.name = name
            self.image = image
        }
        /// "NAME" or "NAME=IMAGE".
        public init?(argument: String) {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard let first = parts.first, !first.isEmpty else { return nil }
            name = first
            image = parts.count == 2 && !parts[1].isEmpty ? parts[1] : nil
            if parts.count == 2 && image == nil { return nil }
        }
    }

    var settings: Settings
    var candidates: [Candidate]
    /// The Python package index asked whether a wheel's version has a musllinux build (nil: not asked).
    var indexURL: String?
    var progress: ScanProgress?
    /// glibc candidates take missing libraries from Debian 12's packages: on a base without apt
    /// (distroless), their files are copied from a Debian 12 build stage; plan --from-image sets
    /// it for a Debian 12 image, whose own packages' files are copied.
    var debianPackages = true
    /// plan --from-image: the image's run decides the copies.
    var fromImage = false

    public init(settings: Settings, candidates: [Candidate], indexURL: String?, progress: ScanProgress? = nil) {
        self.settings = settings
        self.candidates = candidates
        self.indexURL = indexURL
        self.progress = progress
    }

    /// Every bundled candidate: the Alpine releases, each plain and with gcompat, then the Debian-based ones.
    public static func bundledCandidates(data: CompatData) -> [String] {
        data.targets.profiles.filter { $0.name.hasPrefix("alpine:") }.flatMap { [$0.name, $0.name + "+gcompat"] }
            + Target.glibcProfileNames(data: data)
    }

    public struct Result {
        public var plan: PlanReport
        public var environmentErrors: [String]
    }

    public func run() throws -> Result {
        let data: CompatData
        do { data = try CompatData.shared() } catch { throw RunError(code: .environment, description: "\(error)") }
        let chosen = candidates.isEmpty ? Self.bundledCandidates(data: data).map { Candidate(name: $0) } : candidates
        var seen = Set<String>()
        for c in chosen where !seen.insert(c.name).inserted {
            throw RunError(code: .usage, description: "--candidate \(c.name) is named twice")
        }
        var scanSettings = settings
        // Bundled candidates that are the same target to the loader (Alpine releases with the same
        // musl and base libraries, each plain or with gcompat) are checked once, as their
        // representative. A +gcompat variant is a target of its own: behind a glibc program's
        // missing loader, the plain one never sees the libraries gcompat's loader goes on to need.
        var representative: [String: String] = [:]
        var byKey: [String: String] = [:]
        // A plain Alpine candidate's glibc programs run once gcompat is added: what they need then
        // comes from its +gcompat variant's target (checked as well, if not a candidate).
        var gcompatSibling: [String: String] = [:]
        func representativeOf(_ name: String) -> String? {
            let withGcompat = name.hasSuffix("+gcompat")
            let plain = withGcompat ? String(name.dropLast(8)) : name
            guard let spec = data.targets.profiles.first(where: { $0.name == plain }) else { return nil }
            let key = spec.musl + "|" + spec.exports + "|" + spec.baseLibraries.joined(separator: ",") + (withGcompat ? "|gcompat" : "")
            if byKey[key] == nil { byKey[key] = name }
            return byKey[key]!
        }
        for c in chosen where c.image == nil { representative[c.name] = representativeOf(c.name) ?? c.name }
        for c in chosen where c.image == nil && !c.name.hasSuffix("+gcompat") {
            if data.targets.profiles.contains(where: { $0.name == c.name }), let sibling = representativeOf(c.name + "+gcompat") {
                gcompatSibling[c.name] = sibling
            }
        }
        scanSettings.targets = Array(Set(representative.values).union(gcompatSibling.values)).sorted()
        scanSettings.images = chosen.compactMap(\.image)
        scanSettings.sysroots = []
        // The target's name in the report for each candidate.
        var targetName: [String: String] = [:]
        for c in chosen { targetName[c.name] = c.image ?? representative[c.name] ?? c.name }
        // Each artifact's outcome on each candidate is worked out on the scan's threads as the
        // artifact is analysed; the input files' bytes are counted meanwhile.
        let collector = Collector(candidates: chosen, targetName: targetName, gcompatSibling: gcompatSibling)
        let paths = settings.paths
        let counted = Background { Self.inputFiles(paths) }
        var scan = ScanRun(settings: scanSettings, progress: progress)
        scan.imageArtifacts = false
        scan.runPrefix = "plan-"
        scan.consumer = { a in collector.add(a) }
        scan.debianPackages = debianPackages
        scan.debianPackagesOnlyForProfiles = !fromImage
        let result = try scan.run()
        let inputs = counted.value
        // musl, glibc or none, per target name.
        var libcOfTarget: [String: String] = [:]
        for t in result.report.targets { libcOfTarget[t.name] = t.libc ?? "musl" }
        let missingImages = chosen.filter { c in c.image != nil && !result.report.targets.contains { $0.name == c.image } }

        var outcomes: [String: [PlanReport.ArtifactOutcome]] = [:]
        var remaining: [String: ActionPlan] = [:]
        var packagesOf: [String: Set<String>] = [:]
        var notes: [String] = []
        // A manylinux wheel whose version publishes a musllinux build: pip on Alpine takes that
        // one, so its files say nothing about Alpine.
        let wheels = Self.wheels(inputs.wheels, indexURL: indexURL, notes: &notes)
        let fineOnAlpine = Dictionary(wheels.filter { $0.musllinux == true }.map { (($0.file as NSString).lastPathComponent, $0) },
                                      uniquingKeysWith: { a, _ in a })
        for a in collector.artifacts() {
            let musllinux = a.archive.flatMap { fineOnAlpine[($0 as NSString).lastPathComponent] }
            for (c, on) in zip(chosen, a.candidates) {
                guard let on, let t = targetName[c.name] else { continue }
                if let w = musllinux, libcOfTarget[t] == "musl" {
                    outcomes[c.name, default: []].append(.init(path: a.path, outcome: .runs, findings: [],
                                                              message: "pip on Alpine installs the musllinux wheel of \(w.project) \(w.version) instead"))
                    continue
                }
                if let failing = on.failing { remaining[c.name, default: ActionPlan(data: data)].add(failing) }
                for p in on.packages { packagesOf[c.name, default: []].insert(p) }
                outcomes[c.name, default: []].append(on.outcome)
            }
        }
        let sizes = try? AlpineSizes.read(data: data)
        let glibcData = try? data.glibcProfiles()
        let artifactBytes = inputs.bytes
        var list: [PlanReport.Candidate] = []
        for c in chosen where !missingImages.contains(c) {
            let t = targetName[c.name]!
            let arts = outcomes[c.name] ?? []
            let packages = (packagesOf[c.name] ?? []).sorted()
            let info = result.report.targets.first { $0.name == t }
            let isGlibc = glibcData?.profiles.contains { $0.name == c.name } ?? false
            let glibcSpec = glibcData?.profiles.first { $0.name == c.name }
            let libc = glibcSpec?.libc ?? info?.libc ?? "musl"
            let gcompat = c.name.hasSuffix("+gcompat") || arts.contains { $0.outcome == .runsWithGcompat }
            var size: Int? = nil
            var source = "unknown: muslcheck has no size data for \(c.name)"
            var measured = false
            if let image = c.image, case .success(let engine) = scan.makeEngine(), let bytes = engine.imageSize(image) {
                // The real image, as the engine reports its size; packages to add are estimates on top.
                size = bytes + artifactBytes
                measured = true
                source = "\(image): its size as \(engine.kind.rawValue) image inspect reports it (uncompressed), plus the artifacts' own bytes"
                if !packages.isEmpty || (gcompat && !c.name.hasSuffix("+gcompat")) {
                    source += "; the packages to add are not counted"
                }
            } else if let spec = glibcSpec, let glibcData {
                let closure = Self.debianClosure(packages, base: spec.packages, data: glibcData)
                size = spec.sizeBytes + closure.compactMap { glibcData.packages[$0]?.installedBytes }.reduce(0, +) + artifactBytes
                source = spec.sizeSource + "; packages: Installed-Size from Debian 12's apt metadata"
            } else if let sizes, let base = sizes.releases[String(c.name.split(separator: "+").first ?? "")] {
                var all = packages + (gcompat ? [data.targets.gcompat.package] : [])
                var closure = Set<String>()
                while let p = all.popLast() {
                    guard closure.insert(p).inserted else { continue }
                    all += sizes.packages[p]?.depends ?? []
                }
                size = base.bytes + closure.compactMap { sizes.packages[$0]?.bytes }.reduce(0, +) + artifactBytes
                source = base.source
            }
            // A Debian 12 base without apt (distroless): the packages' files come from a Debian 12
            // build stage, with the packages they depend on that the base lacks.
            var copies: [String] = []
            if !fromImage, libc == "glibc", let spec = glibcSpec, !spec.packages.contains("apt"), !packages.isEmpty, let glibcData {
                // Packages with no library (gcc-12-base: documents only) are not worth a copy.
                copies = Self.debianClosure(packages, base: spec.packages, data: glibcData).filter { p in
                    glibcData.libraries.values.contains { $0.package == p }
                }.sorted()
            }
            var candidate = PlanReport.Candidate(
                name: c.name, libc: libc, version: info?.musl ?? info?.glibc ?? (isGlibc && libc == "glibc" ? glibcData?.glibcVersion : nil),
                image: c.image, runsAll: !arts.contains { $0.outcome != .runs }, packages: copies.isEmpty ? packages : [],
                packageManager: libc == "musl" ? "apk" : (!copies.isEmpty || packages.isEmpty && !(glibcSpec?.packages.contains("apt") ?? false) ? nil : "apt"),
                gcompat: gcompat, sizeBytes: size, sizeIsEstimate: !measured || !packages.isEmpty, sizeSource: source, artifacts: arts,
                remaining: (remaining[c.name]?.actions ?? []).map { "\($0.text) (\($0.coverage))" })
            if !copies.isEmpty {
                candidate.copies = copies
                candidate.copiedFrom = "build-stage"
            }
            list.append(candidate)
        }
        list.sort(by: Self.bySize)
        let (recommended, closest, reason) = Self.recommend(list)
        if list.contains(where: { $0.artifacts.contains { $0.findings.contains(FindingID.staticGlibc.rawValue) } }) {
            notes.append("a statically linked glibc program still loads NSS modules, gconv modules and locales at run time (MC121): on distroless/static or Alpine, name lookups beyond /etc/hosts, iconv and locales may not work")
        }
        let plan = PlanReport(
            tool: MuslcheckVersion.planTool,
            inputs: .init(paths: settings.paths, candidates: chosen.map { c in c.image.map { "\(c.name)=\($0)" } ?? c.name }, indexURL: indexURL),
            artifactBytes: artifactBytes, candidates: list, recommended: recommended, reason: reason, closest: closest,
            wheels: wheels, notes: notes + result.notes)
        var errors = result.environmentErrors
        for c in missingImages { errors.append("--candidate \(c.name)=\(c.image!): the image could not be read; the candidate is left out") }
        return Result(plan: plan, environmentErrors: errors)
    }

    /// Debian 12 packages and what they depend on that the base (its package list) lacks.
    static func debianClosure(_ packages: [String], base: [String], data: GlibcProfileData) -> Set<String> {
        var closure = Set<String>()
        var queue = packages
        while let p = queue.popLast() {
            guard closure.insert(p).inserted, let known = data.packages[p] else { continue }
            queue += known.depends.filter { !base.contains($0) }
        }
        return closure
    }

    /// What a candidate adds to its base: packages, copied packages, gcompat.
    static func additions(_ c: PlanReport.Candidate) -> Int {
        c.packages.count + (c.copies ?? []).count + (c.gcompat ? 1 : 0)
    }

    /// Smallest first; those without a size last; then by name.
    static func bySize(_ a: PlanReport.Candidate, _ b: PlanReport.Candidate) -> Bool {
        switch (a.sizeBytes, b.sizeBytes) {
        case let (x?, y?) where x != y: return x < y
        case (nil, _?): return false
        case (_?, nil): return true
        default: return a.name < b.name
        }
    }

    /// The smallest candidate that runs everything (with its packages), and why; else the one
    /// with the fewest failing artifacts, and what remains.
    static func recommend(_ list: [PlanReport.Candidate]) -> (String?, String?, String) {
        if var best = list.first(where: { $0.viable }) {
            // A candidate barely larger (1 MB or 1%) that needs fewer additions is the simpler choice.
            let smallest = best
            let margin = max(1_000_000, (smallest.sizeBytes ?? 0) / 100)
            for c in list where c.viable && Self.additions(c) < Self.additions(best) {
                if let a = c.sizeBytes, let b = smallest.sizeBytes, a - b <= margin { best = c }
            }
            var reason = "the smallest candidate (\(PlanRenderer.megabytes(best.sizeBytes)), estimate) on which every artifact loads"
            let needs = PlanRenderer.needs(best)
            if needs != "nothing" { reason += ", with " + needs }
            if best.name != smallest.name {
                reason += "; \(smallest.name) is only \(PlanRenderer.megabytes((best.sizeBytes ?? 0) - (smallest.sizeBytes ?? 0))) smaller and needs more: \(PlanRenderer.needs(smallest))"
            }
            if let smaller = list.first, smaller.name != best.name, !smaller.viable {
                reason += "; \(smaller.name) is smaller but \(smaller.failing) artifact\(smaller.failing == 1 ? " fails" : "s fail") there"
            }
            return (best.name, nil, reason)
        }
        guard let closest = list.min(by: { a, b in
            a.failing != b.failing ? a.failing < b.failing : (a.sizeBytes ?? Int.max) < (b.sizeBytes ?? Int.max)
        }) else { return (nil, nil, "no candidate was checked") }
        var reason = "closest: \(closest.name), where \(closest.failing) of \(closest.artifacts.count) artifacts still fail"
        if !closest.remaining.isEmpty { reason += "; to fix: " + closest.remaining.prefix(3).joined(separator: "; ") }
        return (nil, closest.name, reason)
    }

    /// One walk over the inputs (links not followed): the bytes of their regular files, and the wheels.
    static func inputFiles(_ paths: [String]) -> (bytes: Int, wheels: [String]) {
        var bytes = 0
        var wheels: [String] = []
        func visit(_ path: String, depth: Int) {
            var st = stat()
            // A path named on the command line is followed if it is a link; the rest are not.
            guard (depth == 0 ? stat(path, &st) : lstat(path, &st)) == 0 else { return }
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                bytes += Int(st.st_size)
                if path.lowercased().hasSuffix(".whl") { wheels.append(path) }
            case S_IFDIR where depth < 64:
                guard let dir = opendir(path) else { return }
                defer { closedir(dir) }
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name == "." || name == ".." { continue }
                    visit(path + "/" + name, depth: depth + 1)
                }
            default:
                break
            }
        }
        for p in paths { visit(p, depth: 0) }
        return (bytes, wheels.sorted())
    }

    /// For each wheel: whether its version publishes a musllinux wheel for x86_64, from the
    /// index's JSON simple API (PEP 691).
    static func wheels(_ files: [String], indexURL: String?, notes: inout [String]) -> [PlanReport.Wheel] {
        var out: [PlanReport.Wheel] = []
        var offline = false
        for file in files {
            let base = (file as NSString).lastPathComponent
            let parts = base.dropLast(4).split(separator: "-")
            guard parts.count >= 5 else { continue }
            let project = String(parts[0]), version = String(parts[1])
            let platform = String(parts.last!)
            guard platform.contains("manylinux") || platform.hasPrefix("linux_") else { continue }
            guard let indexURL, !offline else {
                out.append(.init(file: file, project: project, version: version, musllinux: nil,
                                 note: indexURL == nil ? "not looked up (--index-url none)" : "unknown: the index could not be reached"))
                continue
            }
            switch Self.musllinuxPublished(project: project, version: version, index: indexURL) {
            case .success(true):
                out.append(.init(file: file, project: project, version: version, musllinux: true,
                                 note: "fine on Alpine: pip installs its musllinux wheel"))
            case .success(false):
                out.append(.init(file: file, project: project, version: version, musllinux: false,
                                 note: "builds from source on Alpine (slow, needs a compiler): this version publishes no musllinux wheel for x86_64"))
            case .failure(let why):
                offline = true
                notes.append("the package index \(indexURL) could not be reached (\(why)): whether the wheels have musllinux builds is unknown")
                out.append(.init(file: file, project: project, version: version, musllinux: nil, note: "unknown: the index could not be reached"))
            }
        }
        return out
    }

    struct IndexError: Error, CustomStringConvertible { var description: String }

    static func musllinuxPublished(project: String, version: String, index: String) -> Swift.Result<Bool, IndexError> {
        let normalized = project.lowercased().replacingOccurrences(of: "_", with: "-").replacingOccurrences(of: ".", with: "-")
        guard let url = URL(string: (index.hasSuffix("/") ? index : index + "/") + normalized + "/") else {
            return .failure(IndexError(description: "not a URL: \(index)"))
        }
        // curl, as a user would: no TLS or proxy stack of muslcheck's own.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "-L", "--max-time", "20", "-H", "Accept: application/vnd.pypi.simple.v1+json",
                             "-w", "\n%{http_code}", url.absoluteString]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(IndexError(description: "curl could not be started: \(error)")) }
        let body = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(IndexError(description: errText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "curl exited with \(process.terminationStatus)" : errText.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        var text = String(decoding: body, as: UTF8.self)
        guard let newline = text.lastIndex(of: "\n") else { return .failure(IndexError(description: "no answer")) }
        let status = String(text[text.index(after: newline)...])
        text = String(text[..<newline])
        if status == "404" { return .success(false) }
        guard status == "200" else { return .failure(IndexError(description: "HTTP \(status)")) }
        let data = Data(text.utf8)
        struct Page: Decodable { struct File: Decodable { var filename: String }; var files: [File] }
        guard let page = try? JSONDecoder().decode(Page.self, from: data) else {
            return .failure(IndexError(description: "the answer is not the JSON simple API"))
        }
        let prefix = normalized.replacingOccurrences(of: "-", with: "_") + "-" + version + "-"
        return .success(page.files.contains { f in
            f.filename.lowercased().hasPrefix(prefix.lowercased()) && f.filename.contains("musllinux") && f.filename.contains("x86_64")
        })
    }
}

extension PlanRun {
    /// Each artifact's outcome per candidate, worked out as the scan hands analyses over (on its
    /// worker threads); the same path again replaces the earlier result, as in a report.
    final class Collector: @unchecked Sendable {
        struct OnCandidate {
            var outcome: PlanReport.ArtifactOutcome
            /// The artifact's verdict and findings there, when it fails (for what remains to fix).
            var failing: ArtifactAnalysis?
            /// The packages its findings ask for (MC110's `apk add X` / `apt-get install ... X`).
            var packages: [String]
        }
        struct Artifact {
            var path: String
            var archive: String?
            /// Per candidate, in the candidates' order: nil where it was not judged (not applicable).
            var candidates: [OnCandidate?]
        }
        let candidates: [Candidate]
        let targetName: [String: String]
        /// A plain candidate → the +gcompat target its glibc programs are judged on once gcompat is added.
        let gcompatSibling: [String: String]
        private let lock = NSLock()
        private var byPath: [String: Artifact] = [:]

        init(candidates: [Candidate], targetName: [String: String], gcompatSibling: [String: String] = [:]) {
            self.candidates = candidates
            self.targetName = targetName
            self.gcompatSibling = gcompatSibling
        }

        func add(_ a: ArtifactAnalysis) {
            let one = Artifact(path: a.path, archive: a.archive, candidates: candidates.map { Self.outcome(a, on: $0, target: targetName[$0.name],
                                                                                                          sibling: gcompatSibling[$0.name]) })
            lock.lock()
            byPath[a.path] = one
            lock.unlock()
        }

        /// Every artifact in path order.
        func artifacts() -> [Artifact] {
            lock.lock()
            defer { lock.unlock() }
            return byPath.values.sorted { $0.path < $1.path }
        }

        static func outcome(_ a: ArtifactAnalysis, on c: Candidate, target: String?, sibling: String? = nil) -> OnCandidate? {
            guard let t = target, let v = a.verdicts.first(where: { $0.target == t }), v.verdict != .notApplicable else { return nil }
            let withGcompat = c.name.hasSuffix("+gcompat")
            var own = a.findings.filter { f in
                // gcompat is part of a +gcompat candidate: that it needs it is no finding there.
                ((f.target == t && f.severity >= .warning) || (f.target == nil && f.findingID == .staticGlibc))
                    && !(withGcompat && f.findingID == .needsGcompat)
            }
            var outcome: PlanReport.Outcome
            var deciding = v
            switch v.verdict {
            case .incompatible: outcome = .fails
            case .needsGcompat where withGcompat:
                outcome = own.contains { $0.findingID == .libraryFromPackage } ? .runsWithPackages : .runs
            case .needsGcompat:
                outcome = .runsWithGcompat
                // With gcompat added: what gcompat's loader goes on to need, or where it fails.
                if let sibling, let sv = a.verdicts.first(where: { $0.target == sibling }) {
                    own += a.findings.filter { $0.target == sibling && $0.severity >= .warning && $0.findingID != .needsGcompat }
                    if sv.verdict == .incompatible { outcome = .fails; deciding = sv }
                }
            default: outcome = own.contains { $0.findingID == .libraryFromPackage } ? .runsWithPackages : .runs
            }
            var failing: ArtifactAnalysis?
            if outcome == .fails {
                var one = a
                one.verdicts = [deciding]
                one.findings = own
                failing = one
            }
            var ids: [String] = []
            var seen = Set<String>()
            for f in own where seen.insert(f.id).inserted { ids.append(f.id) }
            var packages: [String] = []
            for f in own where f.findingID == .libraryFromPackage {
                if let p = f.fix.split(separator: " ").last.map(String.init) { packages.append(p) }
            }
            return OnCandidate(outcome: .init(path: a.path, outcome: outcome, findings: ids,
                                              message: outcome == .fails ? deciding.loaderMessages.first ?? own.first?.message : nil),
                               failing: failing, packages: packages)
        }
    }
}

/// Work on another thread, its value waited for when asked.
final class Background<T>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: T?

    init(_ work: @escaping @Sendable () -> T) {
        Thread.detachNewThread { [self] in
            result = work()
            done.signal()
        }
    }

    var value: T {
        done.wait()
        done.signal()
        return result!
    }
}

/// Whether a Debian-based profile holds a package already.
/// Estimated sizes of Alpine releases and packages (Resources/glibc/alpine-sizes.json).
struct AlpineSizes: Decodable {
    struct Entry: Decodable { var bytes: Int; var depends: [String]?; var source: String }
    var releases: [String: Entry]
    var packages: [String: Entry]

    static func read(data: CompatData) throws -> AlpineSizes {
        let url = try CompatData.resourcesURL().appendingPathComponent("glibc/alpine-sizes.json")
        return try JSONDecoder().decode(AlpineSizes.self, from: Data(contentsOf: url))
    }
}
