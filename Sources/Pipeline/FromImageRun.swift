import Artifacts
import Compat
import ELF
import Engine
import Foundation
import Probes
import Report

/// `muslcheck plan --from-image REF`: finds the application's files in an image (those no
/// package owns) and its runtime, plans them on every candidate as `plan` does, and can build the
/// planned image (`--build TAG`) and prove it in the real image (`--verify`).
public struct FromImageRun {
    var settings: Settings
    var image: String
    var appPaths: [String]
    var candidates: [PlanRun.Candidate]
    var indexURL: String?
    var buildTag: String?
    var verify: Bool
    var log: @Sendable (String) -> Void

    public init(settings: Settings, image: String, appPaths: [String], candidates: [PlanRun.Candidate], indexURL: String?,
                buildTag: String?, verify: Bool, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.settings = settings
        self.image = image
        self.appPaths = appPaths
        self.candidates = candidates
        self.indexURL = indexURL
        self.buildTag = buildTag
        self.verify = verify
        self.log = log
    }

    public struct Result {
        public var plan: PlanReport
        public var environmentErrors: [String]
        /// --build or --verify ran and something failed.
        public var verificationFailed: Bool
    }

    public func run() throws -> Result {
        let data: CompatData
        do { data = try CompatData.shared() } catch { throw RunError(code: .environment, description: "\(error)") }
        let engine: ContainerEngine
        do throws(EngineError) {
            engine = try ContainerEngine(kind: settings.engine.kind, context: settings.engine.context)
            try engine.checkDaemon()
        } catch {
            throw RunError(code: .environment, description: "--from-image: \(error.message)")
        }
        let runID = settings.runID ?? "plan-" + UUID().uuidString.prefix(8).lowercased()
        CleanupRegistry.shared.register(runID: runID, engine: engine)
        defer { engine.removeContainers(runID: runID) }

        log("reading \(image)")
        let inventory: ImageInventory
        switch ImageInventory.read(image, engine: engine, pull: settings.engine.pull, runID: runID, appPaths: appPaths) {
        case .success(let i): inventory = i
        case .failure(let e):
            let unsupported = e.message.contains("RPM-based") || e.message.contains("--app-path")
            throw RunError(code: unsupported ? .usage : .environment, description: "--from-image \(image): \(e.message)")
        }
        guard !inventory.appFiles.isEmpty || inventory.runtime?.package == nil && !inventory.runtimeFiles.isEmpty else {
            throw RunError(code: .usage, description: "--from-image \(image): no application files found (a package owns every file outside /etc, /var and the like); name them with --app-path PATH")
        }
        log("\(image): \(inventory.appFiles.count) application files in \(inventory.appRoots.map { "/" + $0 }.joined(separator: ", "))"
            + (inventory.runtime.map { "; runtime: \($0.note)" } ?? ""))

        // The application's files (and a runtime outside the package manager), copied out of the
        // image to a private folder at their paths, then planned as `plan` plans files.
        let temporary: URL
        do { temporary = try CleanupRegistry.shared.makeTemporaryDirectory(prefix: "muslcheck-from-image-") } catch {
            throw RunError(code: .environment, description: "\(error)")
        }
        defer { CleanupRegistry.shared.remove(temporary: temporary.path) }
        let root = temporary.path + "/root"
        let copied = try copyOut(inventory, engine: engine, runID: runID, to: root)

        var planSettings = settings
        planSettings.paths = copied
        var planRun = PlanRun(settings: planSettings, candidates: candidates, indexURL: indexURL)
        planRun.debianPackages = inventory.distribution == "debian" && (inventory.release?.hasPrefix("12") ?? false)
        planRun.fromImage = true
        let planned = try planRun.run()
        var plan = try Self.rooted(planned.plan, root: root)
        plan.inputs.paths = inventory.appRoots.map { "/" + $0 }
        // A candidate image that has no apk cannot take packages (the probes' test image, a distroless one).
        var withoutApk = Set<String>()
        for c in plan.candidates where c.libc == "musl" {
            if let image = c.image, !Self.hasApk(image, engine: engine, runID: runID) { withoutApk.insert(c.name) }
        }
        adjust(&plan, inventory: inventory, data: data, withoutApk: withoutApk)
        plan.fromImage = PlanReport.FromImage(
            image: image, imageID: inventory.imageID, sizeBytes: inventory.sizeBytes, distribution: inventory.distribution,
            release: inventory.release, config: inventory.config, appFiles: inventory.appFiles.map { "/" + $0 },
            appRoots: inventory.appRoots.map { "/" + $0 }, runtime: inventory.runtime, runtimeFiles: inventory.runtimeFiles.count)
        plan.fromImage?.numericUser = inventory.numericUser

        var failed = false
        if let tag = buildTag {
            var verification = build(plan, tag: tag, engine: engine, runID: runID, temporary: temporary)
            if verification.built && verify {
                verifyImage(&verification, plan: plan, root: root, engine: engine, runID: runID, data: data)
            }
            failed = !verification.passed
            plan.verification = verification
        } else if verify {
            // The image itself: its artifacts where they are, its probes without a baseline.
            var verification = PlanReport.Verification(candidate: "\(image) as it is", image: image, sizeBytes: plan.fromImage?.sizeBytes,
                                                       originalSizeBytes: plan.fromImage?.sizeBytes, built: true, buildError: nil,
                                                       verified: nil, checks: [], differences: [],
                                                       notes: ["--verify without --build: the checks ran in \(image) itself"])
            verifyImage(&verification, plan: plan, root: root, engine: engine, runID: runID, data: data, baseline: false)
            failed = !verification.passed
            plan.verification = verification
        }
        return Result(plan: plan, environmentErrors: planned.environmentErrors, verificationFailed: failed)
    }

    /// Copies the application's folders and files, and a runtime outside the package manager,
    /// out of a container of the image. Returns the copies' paths (what `plan` scans).
    func copyOut(_ inventory: ImageInventory, engine: ContainerEngine, runID: String, to root: String) throws -> [String] {
        let id: String
        do { id = try engine.createContainer(image: image, runID: runID) } catch {
            throw RunError(code: .environment, description: "--from-image \(image): \(error.message)")
        }
        defer { engine.removeContainer(id) }
        var sources = inventory.appRoots
        // A runtime in /usr/local: its folders whole, its other files one by one.
        var runtimeRoots = Set<String>()
        for f in inventory.runtimeFiles {
            let parts = f.split(separator: "/").map(String.init)
            if parts.count > 4, ["lib", "include"].contains(parts[2]) { runtimeRoots.insert(parts.prefix(4).joined(separator: "/")) } else { runtimeRoots.insert(f) }
        }
        sources += runtimeRoots.sorted()
        var out: [String] = []
        for s in sources {
            let destination = root + "/" + s
            try? FileManager.default.createDirectory(atPath: PathText.parent(destination), withIntermediateDirectories: true)
            let r = engine.run(["cp", "\(id):/\(s)", destination], timeout: 600)
            guard r.status == 0 else {
                throw RunError(code: .environment, description: "\(engine.kind.rawValue) cp \(image):/\(s): \(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            out.append(destination)
        }
        return out
    }

    /// The plan with the private folder's paths shown as the image's paths.
    static func rooted(_ plan: PlanReport, root: String) throws -> PlanReport {
        let encoded = try JSONEncoder().encode(plan)
        var text = String(decoding: encoded, as: UTF8.self)
        let escaped = root.replacingOccurrences(of: "/", with: "\\/")
        text = text.replacingOccurrences(of: escaped, with: "").replacingOccurrences(of: root, with: "")
        return try JSONDecoder().decode(PlanReport.self, from: Data(text.utf8))
    }

    /// What the image changes in each candidate: the Debian packages copied from it (a Debian 12
    /// image onto a Debian 12 base), the runtime (copied, or a package, its version compared), the
    /// sizes against the image's own; then the recommendation again.
    func adjust(_ plan: inout PlanReport, inventory: ImageInventory, data: CompatData, withoutApk: Set<String> = []) {
        let glibcData = try? data.glibcProfiles()
        let debian12 = inventory.distribution == "debian" && (inventory.release?.hasPrefix("12") ?? false)
        let runtimes = try? AlpineRuntimes.read()
        let runtime = inventory.runtime
        for i in plan.candidates.indices {
            var c = plan.candidates[i]
            let profile = glibcData?.profiles.first { $0.name == c.name }
            let has = Set(profile?.packages ?? [])
            var copies: [String] = []
            // Packages apt installs for the runtime (with what they depend on), for the size.
            var aptInstalled: [String] = []
            if withoutApk.contains(c.name) {
                // What packages or gcompat would give cannot be had there.
                let wanted = c.packages + (c.gcompat && !c.name.hasSuffix("+gcompat") ? ["gcompat"] : [])
                for j in c.artifacts.indices where c.artifacts[j].outcome == .runsWithPackages || c.artifacts[j].outcome == .runsWithGcompat {
                    c.artifacts[j].outcome = .fails
                    c.artifacts[j].message = "needs \(wanted.joined(separator: " ")), which \(c.image ?? c.name) cannot install: it has no apk"
                }
                c.packages = []
                c.gcompat = false
                c.packageManager = nil
                c.remaining = c.remaining.filter { !$0.hasPrefix("apk add ") }
                if !wanted.isEmpty { c.remaining.insert("use a base with apk: \(c.image ?? c.name) cannot install \(wanted.joined(separator: " "))", at: 0) }
            }
            // A Debian 12 base with apt installs packages; one without (distroless) gets their files
            // copied from the image (offline, the same versions).
            let hasApt = has.contains("apt")
            if c.libc == "glibc" && debian12 && !hasApt {
                // The packages the artifacts need, as files from the image (offline, the same versions).
                copies = inventory.closure(c.packages).filter { !has.contains($0) && inventory.isCopyWorthy($0) }
                if !copies.isEmpty { c.packages = [] }
            }
            if let runtime {
                var outcome = PlanReport.ArtifactOutcome(path: runtime.executable, outcome: .runs, findings: [], message: nil)
                if runtime.package == nil {
                    // Its programs and modules were copied out and planned as artifacts.
                    c.runtime = "copied from the image (\(inventory.runtimeFiles.count) files in /usr/local); its programs and modules are among the artifacts"
                } else if c.libc == "glibc" && debian12 && profile != nil || c.libc == "glibc" && debian12 && c.image != nil {
                    // The interpreter's package, the full one, and the package of its plain name (python3).
                    var roots = [runtime.package!]
                    if runtime.kind == "python" {
                        roots.append("python\(runtime.version)")
                        if let plain = inventory.package(ofPath: "usr/bin/python3") { roots.append(plain) }
                    }
                    let language = runtime.kind == "python" ? "Python" : "Node.js"
                    if hasApt {
                        // apt brings what they depend on.
                        let named = roots.filter { inventory.packages[$0] != nil && !has.contains($0) }
                        c.packages = Array(Set(c.packages).union(named)).sorted()
                        c.packageManager = "apt"
                        aptInstalled = inventory.closure(named).filter { !has.contains($0) }
                        outcome.outcome = .runsWithPackages
                        c.runtime = "apt-get install \(named.joined(separator: " ")): Debian 12's \(language) \(runtime.version), as in the image"
                    } else {
                        let needed = inventory.closure(roots).filter { !has.contains($0) && inventory.isCopyWorthy($0) }
                        copies = Array(Set(copies).union(needed)).sorted()
                        c.runtime = "copied from the image: \(language) \(runtime.version), Debian 12's \(runtime.package!) and the packages it needs"
                    }
                } else if c.libc == "musl", c.image == nil, let versions = runtimes?.releases[String(c.name.split(separator: "+").first ?? "")] {
                    let package = runtime.kind == "python" ? "python3" : "nodejs"
                    let have = runtime.kind == "python" ? versions.python : versions.node
                    if !c.packages.contains(package) { c.packages.append(package) }
                    c.packageManager = "apk"
                    outcome.outcome = .runsWithPackages
                    let same = runtime.kind == "python" ? have == runtime.version : runtime.version.hasPrefix(have + ".") || runtime.version == have
                    c.runtime = "apk add \(package): \(runtime.kind == "python" ? "Python" : "Node.js") \(have)" + (same ? "" : ", not \(runtime.version) as in the image")
                    if !same && runtime.kind == "python" {
                        // CPython's extension modules are built for one minor version.
                        let tag = "cpython-" + runtime.version.replacingOccurrences(of: ".", with: "")
                        for j in c.artifacts.indices where c.artifacts[j].path.contains(".\(tag)-") {
                            c.artifacts[j].outcome = .fails
                            c.artifacts[j].message = "built for CPython \(runtime.version); \(c.name)'s python3 is \(have)"
                        }
                    }
                } else {
                    outcome.outcome = .fails
                    outcome.message = c.libc == "none"
                        ? "\(c.name) has no C library: \(runtime.executable) (\(runtime.note)) cannot run there"
                        : "\(c.name) cannot get \(runtime.executable): \(c.image.map { "\($0) has no package manager muslcheck can use" } ?? "no package provides it there")"
                    c.runtime = "not available: " + outcome.message!
                }
                if runtime.package != nil { c.artifacts.insert(outcome, at: 0) }
            }
            if !copies.isEmpty {
                c.copies = copies
                c.copiedFrom = "image"
                c.packageManager = c.packages.isEmpty ? nil : c.packageManager
            }
            c.runsAll = !c.artifacts.contains { $0.outcome != .runs } && (c.copies ?? []).isEmpty
            // Size: the base (the real image, or the profile's estimate), the application's and
            // runtime's bytes, the copied packages (their Installed-Size in the image's dpkg database).
            let copyBytes = copies.compactMap { inventory.packages[$0]?.installedKiB }.reduce(0, +) * 1024
            let aptBytes = aptInstalled.compactMap { inventory.packages[$0]?.installedKiB }.reduce(0, +) * 1024
            if let size = c.sizeBytes {
                var base = size
                // A profile's estimate counted the packages as installed: they are copied instead.
                if let profile, c.image == nil, c.copies != nil { base = profile.sizeBytes + plan.artifactBytes }
                c.sizeBytes = base + copyBytes + aptBytes
                if aptBytes > 0 {
                    c.sizeIsEstimate = true
                    c.sizeSource += "; apt-get install of the runtime: \(aptInstalled.count) packages, \(PlanRenderer.megabytes(aptBytes)) (their Installed-Size in \(image)'s dpkg database)"
                }
                if copyBytes > 0 {
                    c.sizeIsEstimate = true
                    c.sizeSource += "; copied from \(image): \(copies.count) Debian packages, \(PlanRenderer.megabytes(copyBytes)) (Installed-Size in its dpkg database)"
                }
            }
            plan.candidates[i] = c
        }
        plan.candidates.sort(by: PlanRun.bySize)
        let (recommended, closest, reason) = PlanRun.recommend(plan.candidates)
        plan.recommended = recommended
        plan.closest = closest
        plan.reason = reason
        if let size = inventory.sizeBytes, let name = recommended, let c = plan.candidates.first(where: { $0.name == name }), let mine = c.sizeBytes {
            plan.reason += "; \(image) is \(PlanRenderer.megabytes(size)), the planned image about \(PlanRenderer.megabytes(mine))"
        }
    }

    /// Whether an image has apk (run in a labelled, removed container, without network).
    static func hasApk(_ image: String, engine: ContainerEngine, runID: String) -> Bool {
        let r = engine.run(["run", "--rm", "--network", "none", "--label", "\(runLabel)=\(runID)", "--entrypoint", "/bin/sh", image,
                            "-c", "command -v apk"], timeout: 120)
        return r.status == 0 && !r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    // MARK: - --build

    /// Builds the planned Dockerfile as TAG; only TAG is tagged, and the build's intermediate
    /// images and containers are removed.
    func build(_ plan: PlanReport, tag: String, engine: ContainerEngine, runID: String, temporary: URL) -> PlanReport.Verification {
        let name = plan.recommended ?? plan.closest ?? ""
        let candidate = plan.candidates.first { $0.name == name }
        var v = PlanReport.Verification(candidate: name, image: tag, sizeBytes: nil, originalSizeBytes: plan.fromImage?.sizeBytes, built: false,
                                        buildError: nil, verified: nil, checks: [], differences: [], notes: [])
        guard let candidate else {
            v.buildError = "no candidate to build on"
            return v
        }
        let context = temporary.appendingPathComponent("context")
        // The first stage carries the run's label: its images and containers are found and
        // removed by it, also after an interrupt; the built image does not carry it.
        CleanupRegistry.shared.register(buildRunID: runID, engine: engine)
        defer { engine.removeImages(runID: runID) }
        let dockerfile = PlanRenderer.dockerfile(plan).replacingOccurrences(
            of: "FROM \(image) AS app\n", with: "FROM \(image) AS app\nLABEL \(runLabel)=\(runID)\n")
        do {
            try FileManager.default.createDirectory(at: context, withIntermediateDirectories: true)
            try dockerfile.write(to: context.appendingPathComponent("Dockerfile"), atomically: true, encoding: .utf8)
        } catch {
            v.buildError = "writing the Dockerfile: \(error)"
            return v
        }
        let base = candidate.image ?? PlanRenderer.baseTag(candidate.name)
        log("building \(tag) on \(candidate.name) (\(base))")
        let r = engine.run(["build", "--force-rm", "--build-arg", "BASE=\(base)", "-t", tag,
                            "-f", context.appendingPathComponent("Dockerfile").path, context.path], timeout: 3600, outputLimit: 64 << 20)
        if r.status == 0 {
            v.built = true
            v.sizeBytes = engine.imageSize(tag)
        } else {
            let lines = (r.stderr + "\n" + r.stdout).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            v.buildError = "\(engine.kind.rawValue) build failed (exit \(r.status)): " + lines.suffix(5).joined(separator: " | ")
        }
        return v
    }

    // MARK: - --verify

    /// Runs, in the built image: the loader on every artifact at its path there, the built-in
    /// probes with the original image as the baseline, and the user's probes (muslcheck.yml, --cst).
    func verifyImage(_ v: inout PlanReport.Verification, plan: PlanReport, root: String, engine: ContainerEngine, runID: String, data: CompatData,
                     baseline: Bool = true) {
        // The artifacts, read from the copies, run where the Dockerfile put them.
        let analyzer = Analyzer(targets: [], data: data)
        var map: [(container: String, host: String)] = []
        for r in plan.fromImage?.appRoots ?? [] { map.append((r, root + r)) }
        let tree = RemappedTree(name: "built image", map: map)
        var artifacts: [LoaderProbeArtifact] = []
        for path in plan.fromImage?.appFiles ?? [] {
            guard case .elf(let file, _) = tree.lookup(path) else { continue }
            let kind = analyzer.kind(of: file, host: analyzer.host(for: file, name: path))
            guard kind != .object, kind != .core else { continue }
            artifacts.append(LoaderProbeArtifact(display: path, containerPath: path, file: file, tree: tree,
                                                 host: analyzer.host(for: file, name: path),
                                                 isExecutable: kind == .executable || kind == .staticExecutable, isStatic: kind == .staticExecutable))
        }
        var probe = ProbeRun(settings: settings, log: log)
        // The user's probes run as the image runs: with its environment (theirs over it).
        let imageEnv = Dictionary((plan.fromImage?.config.env ?? []).compactMap { e -> (String, String)? in
            guard let eq = e.firstIndex(of: "=") else { return nil }
            return (String(e[..<eq]), String(e[e.index(after: eq)...]))
        }, uniquingKeysWith: { _, b in b }).filter { $0.key != "PATH" }
        probe.userProbes = settings.probes.userProbes.map { p in
            var p = p
            p.env = imageEnv.merging(p.env) { _, own in own }
            return p
        }
        probe.images = [v.image]
        probe.paths = []
        probe.baseline = baseline ? .image(image) : nil
        probe.runID = runID
        probe.inImageArtifacts = artifacts
        // Programs are started too: one the kernel cannot start (no loader there) fails.
        probe.execSmoke = true
        log("verifying \(v.image): the loader on \(artifacts.count) artifacts, the built-in probes\(baseline ? " against \(image)" : ""), \(settings.probes.userProbes.count) user probes")
        let result: ProbeRun.Result
        do { result = try probe.run() } catch {
            v.verified = false
            v.notes.append("the probes could not run: \(error)")
            return
        }
        guard let report = result.output.images.first else { v.verified = false; return }
        if let error = report.error {
            v.verified = false
            v.notes.append("the probes could not run in \(v.image): \(error)")
            return
        }
        for o in report.loader {
            // Loads: the simulation in the built image expected a clean load and the real loader
            // agreed (a static program: it started).
            // A module's host (python) provides symbols the loader lists as undefined on its own.
            let prefixes = artifacts.first { $0.display == o.artifact }?.host?.providesPrefixes ?? []
            let fromHost: (Substring) -> Bool = { text in prefixes.contains { p in text.contains(" " + p) || text.contains(": " + p) } }
            let expected = o.expected
            let clean = expected.map { e in
                e.missingLibraries.isEmpty && e.missingSymbols.filter { !fromHost(Substring($0)) }.isEmpty && (e.missingVersions ?? []).isEmpty
                    && e.unsupportedRelocations.isEmpty && e.otherErrors.isEmpty
            } ?? true
            let started = o.execSmoke.map { $0.status != "exec-failed" && $0.status != "signaled" && $0.status != "missing" } ?? true
            let passed = o.agreement == .confirmed && clean && started
            var messages = (o.listing?.messages ?? []).filter { !fromHost(Substring($0)) }
            if !passed {
                if let line = o.execSmoke?.firstLine, !line.isEmpty, !messages.contains(line) { messages.append(line) }
                messages += o.differences
                if messages.isEmpty, let note = o.note { messages.append(note) }
            }
            v.checks.append(.init(kind: "loader", name: o.artifact, passed: passed, messages: messages))
        }
        for u in report.userProbes {
            v.checks.append(.init(kind: "user-probe", name: u.name, passed: u.passed, messages: u.failures))
        }
        v.differences = report.comparisons.filter(\.differs).map(\.text)
        v.notes += report.notes
        v.verified = v.checks.allSatisfy(\.passed)
    }
}

extension ImageInventory {
    /// Worth copying onto another base: a runtime's own package, or one with shared libraries
    /// (tools such as dpkg or tar, which packages depend on for their scripts, are not).
    func isCopyWorthy(_ name: String) -> Bool {
        if name.hasPrefix("python3") || name.hasPrefix("libpython3") || name == "nodejs" || name.hasPrefix("libnode") { return true }
        return packages[name]?.files.contains { $0.hasSuffix(".so") || $0.contains(".so.") } ?? false
    }

    /// The configured user as uid:gid, from the image's /etc/passwd (a number stays as it is).
    var numericUser: String? {
        guard let user = config.user, !user.isEmpty else { return nil }
        let name = String(user.split(separator: ":").first ?? "")
        if name.allSatisfy(\.isNumber) { return user }
        for line in (tree.text("/etc/passwd") ?? "").split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count >= 4, f[0] == name { return "\(f[2]):\(f[3])" }
        }
        return nil
    }

    /// The C library the image's runtime was built for ("glibc" on Debian, "musl" on Alpine).
    var libcFamily: String? {
        switch distribution {
        case "debian": "glibc"
        case "alpine": "musl"
        default: nil
        }
    }
}

/// The Python and Node.js versions of Alpine's packages (Resources/glibc/alpine-runtimes.json).
struct AlpineRuntimes: Decodable {
    struct Versions: Decodable { var python: String; var node: String }
    var releases: [String: Versions]

    static func read() throws -> AlpineRuntimes {
        let url = try CompatData.resourcesURL().appendingPathComponent("glibc/alpine-runtimes.json")
        return try JSONDecoder().decode(AlpineRuntimes.self, from: Data(contentsOf: url))
    }
}
