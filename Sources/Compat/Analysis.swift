import Artifacts
import ELF
import Foundation

/// What sort of native artifact a file is.
public enum ArtifactKind: String, Sendable, Hashable, Codable {
    case executable
    case sharedLibrary = "shared-library"
    case pythonExtension = "python-extension"
    case nodeAddon = "node-addon"
    case jniLibrary = "jni-library"
    case staticExecutable = "static-executable"
    case object
    case core
}

/// The C library a file was built against.
public enum BuiltFor: String, Sendable, Hashable, Codable {
    case musl, glibc, none, go, unknown
}

/// The verdict on one target, with what the simulated load found.
public struct TargetVerdict: Sendable, Hashable, Codable {
    public var target: String
    public var verdict: Verdict
    /// Libraries the loader would load, in load order, with where they were found.
    public var loaded: [LoadedEntry]
    /// The messages musl would print, in order.
    public var loaderMessages: [String]
    /// On an image target, after the probes ran: "confirmed" or "contradicted" by musl's real
    /// loader (`--list`), or "not-run".
    public var loaderProbe: String?
    /// Why this verdict does not fail the run although it is at or above --fail-on: "baseline"
    /// (known in the --baseline file) or an ignore's reason.
    public var excused: String?

    public struct LoadedEntry: Sendable, Hashable, Codable {
        public var name: String
        public var path: String
        public var source: String
        public var package: String?
        public init(name: String, path: String, source: String, package: String?) {
            self.name = name
            self.path = path
            self.source = source
            self.package = package
        }
    }

    public init(target: String, verdict: Verdict, loaded: [LoadedEntry], loaderMessages: [String], loaderProbe: String? = nil,
                excused: String? = nil) {
        self.target = target
        self.verdict = verdict
        self.loaded = loaded
        self.loaderMessages = loaderMessages
        self.loaderProbe = loaderProbe
        self.excused = excused
    }
}

/// Everything muslcheck concludes about one artifact.
public struct ArtifactAnalysis: Sendable, Hashable, Codable {
    public var path: String
    /// The archive the artifact came from, nil for a file on disk.
    public var archive: String?
    public var kind: ArtifactKind
    public var machine: String
    public var linkage: String
    public var interpreter: String?
    public var needed: [String]
    public var soname: String?
    public var libc: BuiltFor
    /// The highest version needed per prefix: {"GLIBC": "2.34", "GLIBCXX": "3.4.29", ...}.
    public var highestVersions: [String: String]
    /// The oldest manylinux policy the version needs fit (auditwheel's symbol policy), for glibc builds.
    public var manylinux: String?
    public var verdicts: [TargetVerdict]
    public var findings: [Finding]
    /// Another artifact that loads this one (a bundled library): the verdict is for that context.
    public var loadedBy: String?

    /// The worst verdict over all targets.
    public var worstVerdict: Verdict { verdicts.map(\.verdict).max() ?? .notApplicable }

    public init(path: String, archive: String?, kind: ArtifactKind, machine: String, linkage: String, interpreter: String?,
                needed: [String], soname: String?, libc: BuiltFor, highestVersions: [String: String], manylinux: String?,
                verdicts: [TargetVerdict], findings: [Finding], loadedBy: String?) {
        self.path = path
        self.archive = archive
        self.kind = kind
        self.machine = machine
        self.linkage = linkage
        self.interpreter = interpreter
        self.needed = needed
        self.soname = soname
        self.libc = libc
        self.highestVersions = highestVersions
        self.manylinux = manylinux
        self.verdicts = verdicts
        self.findings = findings
        self.loadedBy = loadedBy
    }
}

/// Options of the analysis.
public struct AnalyzerOptions: Sendable {
    /// LD_LIBRARY_PATH entries on the target.
    public var libraryPath: [String] = []
    /// Absolute paths of the scanned roots on disk (their absolute paths resolve in the scan).
    public var treeRoots: [String] = []
    /// LD_BIND_NOW on glibc targets: every PLT relocation is resolved at load.
    public var bindNow = false
    public init() {}
}

/// Turns scanned ELF files into verdicts and findings against targets.
public final class Analyzer: Sendable {
    public let targets: [Target]
    public let data: CompatData
    public let options: AnalyzerOptions

    /// The manylinux policies in priority order, their highest versions parsed once: name, then
    /// per architecture per prefix the highest allowed version (nil: none allowed).
    let policies: [(name: String, byArch: [String: [String: VersionNumber?]])]

    public init(targets: [Target], data: CompatData, options: AnalyzerOptions = AnalyzerOptions()) {
        self.targets = targets
        self.data = data
        self.options = options
        // The bundled Debian-based profiles name the same libraries by the same paths: what an
        // object's own dependencies leave unanswered is the same on each.
        let shared = GlibcLoadMemo()
        for t in targets where t.kind == .profile { t.glibc?.residuals = shared }
        policies = data.manylinux.map { p in (p.name, p.symbolVersions.mapValues { $0.mapValues { $0.map(VersionNumber.init) } }) }
    }

    // MARK: - Facts about the file

    public func host(for file: ELFFile, name: String) -> CompatData.HostSpec? {
        let base = String(name.split(separator: "/").last ?? Substring(name))
        let looksShared = base.hasSuffix(".so") || base.contains(".so.")
        for host in data.hosts {
            if looksShared, let patterns = host.fileNamePatterns, patterns.contains(where: { base.contains($0) }) { return host }
            if let suffixes = host.fileNameSuffixes, suffixes.contains(where: { base.hasSuffix($0) }) { return host }
        }
        // By exports: one pass over the defined symbols, first bytes checked before prefixes.
        var firsts = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for h in data.hosts {
            for p in h.exportPrefixes {
                guard let c = p.utf8.first else { continue }
                switch c >> 6 {
                case 0: firsts.0 |= 1 << (c & 63)
                case 1: firsts.1 |= 1 << (c & 63)
                case 2: firsts.2 |= 1 << (c & 63)
                default: firsts.3 |= 1 << (c & 63)
                }
            }
        }
        return file.symbols.withUnsafeBufferPointer { symbols in
            for s in symbols.indices where symbols[s].isDefined {
                // The first byte is kept with the symbol: most names are never visited.
                let c = symbols[s].nameFirstByte
                let word = switch c >> 6 { case 0: firsts.0; case 1: firsts.1; case 2: firsts.2; default: firsts.3 }
                guard word & (1 << (c & 63)) != 0 else { continue }
                let name = symbols[s].nameBytes
                if let host = data.hosts.first(where: { h in h.exportPrefixes.contains { name.starts(with: $0) } }) { return host }
            }
            return nil
        }
    }

    public func kind(of file: ELFFile, host: CompatData.HostSpec?) -> ArtifactKind {
        switch file.linkage {
        case .relocatable, .unknown: return .object
        case .core: return .core
        case .static, .staticPIE: return .staticExecutable
        case .dynamicExecutable, .dynamicPIE: return host == nil ? .executable : hostKind(host!)
        case .sharedLibrary: return host.map(hostKind) ?? .sharedLibrary
        }
    }

    func hostKind(_ host: CompatData.HostSpec) -> ArtifactKind {
        switch host.id {
        case "python": .pythonExtension
        case "node": .nodeAddon
        default: .jniLibrary
        }
    }

    public func builtFor(_ file: ELFFile, name: String) -> BuiltFor {
        if file.notes.goBuildID != nil && file.interpreter == nil { return .go }
        if let interp = file.interpreter {
            if interp.contains("ld-musl") { return .musl }
            if interp.contains("ld-linux") || interp.contains("/ld64.so") || interp.hasSuffix("/ld.so.1") { return .glibc }
        }
        if file.needed.contains(where: { $0.hasPrefix("libc.musl-") || $0 == "libc.so" }) { return .musl }
        if file.versionNeeds.contains(where: { $0.versions.contains { $0.name.hasPrefix("GLIBC_") } }) { return .glibc }
        if file.needed.contains("libc.so.6") { return .glibc }
        let base = String(name.split(separator: "/").last ?? "")
        if base.contains("-linux-musl") { return .musl }
        if base.contains("-linux-gnu") { return .glibc }
        if file.linkage == .static || file.linkage == .staticPIE {
            // glibc's static start code carries the GNU ABI tag note; musl's does not.
            return file.notes.abiTag != nil ? .glibc : .musl
        }
        return file.needed.isEmpty ? .none : .unknown
    }

    public func highestVersions(_ file: ELFFile) -> [String: String] {
        var out: [String: VersionNumber] = [:]
        for need in file.versionNeeds {
            for v in need.versions {
                guard let underscore = v.name.firstIndex(of: "_") else { continue }
                let prefix = String(v.name[..<underscore])
                let number = String(v.name[v.name.index(after: underscore)...])
                guard ["GLIBC", "GLIBCXX", "CXXABI", "GCC"].contains(prefix), number.first?.isNumber == true else { continue }
                let n = VersionNumber(number)
                if out[prefix].map({ $0 < n }) ?? true { out[prefix] = n }
            }
        }
        return out.mapValues(\.text)
    }

    /// auditwheel's symbol policy: the oldest manylinux policy whose highest allowed versions
    /// cover every version the file needs, for its architecture.
    public func manylinuxPolicy(_ file: ELFFile) -> String? {
        let arch: String
        switch file.header.machine {
        case .EM_X86_64: arch = file.header.fileClass == .ELFCLASS32 ? "x32" : "x86_64"
        case .EM_386: arch = "i686"
        case .EM_AARCH64: arch = "aarch64"
        case .EM_PPC64: arch = file.header.data.isBigEndian ? "ppc64" : "ppc64le"
        case .EM_S390: arch = "s390x"
        case .EM_ARM: arch = "armv7l"
        case .EM_RISCV: arch = "riscv64"
        case .EM_LOONGARCH: arch = "loongarch64"
        default: return nil
        }
        var needs: [String: [VersionNumber]] = [:]
        for need in file.versionNeeds {
            // auditwheel skips the loader's own versions (ld-linux*, ld64.so.*).
            if need.file.hasPrefix("ld-linux") || need.file.hasPrefix("ld64.so") { continue }
            for v in need.versions {
                guard let underscore = v.name.firstIndex(of: "_") else { continue }
                let number = v.name[v.name.index(after: underscore)...]
                guard number.first?.isNumber == true else { continue }
                needs[String(v.name[..<underscore]), default: []].append(VersionNumber(String(number)))
            }
        }
        for policy in policies {
            guard let versions = policy.byArch[arch] else { continue }
            let fits = needs.allSatisfy { prefix, wanted in
                guard let allowed = versions[prefix] else { return true }  // prefixes a policy does not list are not checked
                guard let highest = allowed else { return false }
                return wanted.allSatisfy { $0 <= highest }
            }
            if fits { return policy.name }
        }
        return "linux"
    }

    func machineName(_ file: ELFFile) -> String {
        file.header.isX32 ? "x32" : file.header.machine.description
    }

    // MARK: - Analysis

    /// Analyses one artifact. `loadedBy`: an artifact of the same scan that needs this library;
    /// it is then judged as loaded by that one (see LoaderSimulation.run).
    public func analyze(_ item: ScannedELF, tree: any ArtifactTree, archive: String?, loadedBy: ScannedELF? = nil) -> ArtifactAnalysis {
        let file = item.file
        let host = host(for: file, name: item.displayPath)
        let kind = kind(of: file, host: host)
        let libc = builtFor(file, name: item.displayPath)
        var analysis = ArtifactAnalysis(
            path: item.displayPath, archive: archive, kind: kind, machine: machineName(file), linkage: file.linkage.rawValue,
            interpreter: file.interpreter, needed: file.needed, soname: file.soname, libc: libc,
            highestVersions: highestVersions(file), manylinux: libc == .glibc ? manylinuxPolicy(file) : nil,
            verdicts: [], findings: [], loadedBy: loadedBy?.displayPath)
        let display = item.displayPath

        if file.isPartial {
            analysis.findings.append(damagedTablesFinding(display: display, problems: file.problems))
        }
        if kind == .staticExecutable && libc == .glibc {
            analysis.findings.append(staticGlibcFinding(display: display))
        }
        if libc == .glibc, let archive, archive.lowercased().hasSuffix(".whl"), archive.contains("manylinux") || archive.contains("linux_") {
            analysis.findings.append(manylinuxWheelFinding(display: display, archive: archive))
        }
        if libc == .glibc || libc == .unknown,
           file.symbols.contains(where: { $0.isUndefined && $0.hasName("pthread_create") }),
           (file.gnuStack?.size ?? 0) == 0, kind == .executable {
            analysis.findings.append(threadStackFinding(display: display))
        }

        if kind == .sharedLibrary, file.dynamic?.flags.contains(.DF_STATIC_TLS) == true || file.relocations.count(of: .tlsInitialExec, machine: file.header.machine) > 0 {
            analysis.findings.append(initialExecTLSLibraryFinding(display: display))
        }
        // The artifact as glibc's loader sees it: made once for all glibc targets.
        let glibcImage = targets.contains { $0.glibc != nil } && file.dynamic != nil ? GlibcImage(file: file) : nil
        for target in targets {
            analysis.verdicts.append(verdict(item, file: file, tree: tree, archive: archive, kind: kind, libc: libc, host: host,
                                             target: target, loadedBy: loadedBy, glibcImage: glibcImage, findings: &analysis.findings))
        }
        return analysis
    }

    func notApplicableReason(_ file: ELFFile, target: Target) -> String? {
        if !file.header.osABI.isLinuxCompatible { return "built for \(file.header.osABI) (OS/ABI), not Linux" }
        switch file.linkage {
        case .relocatable: return "an object file (ET_REL); the linker uses it, the loader never does"
        case .core: return "a core dump"
        case .unknown: return "its program headers could not be read"
        default: break
        }
        if file.header.machine != target.elfMachine || file.header.fileClass != target.elfClass {
            return "built for \(machineName(file)); the target \(target.name) is \(target.machine)"
        }
        return nil
    }

    func simulate(_ item: ScannedELF, tree: any ArtifactTree, target: Target, mode: LoadMode, host: CompatData.HostSpec?,
                  exports: ArtifactExports, preload: [String] = [], loadedBy: ScannedELF? = nil) -> LoadOutcome {
        var sim = LoaderSimulation(target: target, tree: tree, treeRoots: options.treeRoots)
        sim.libraryPath = options.libraryPath
        sim.preload = preload
        return sim.run(item.file, treePath: item.treePath, displayPath: item.displayPath, mode: mode, host: host,
                       artifactExports: exports, loadedBy: loadedBy.map { ($0.file, $0.treePath) })
    }

    /// Whether gcompat could fix every one of these errors (else it need not be tried).
    func gcompatMightFix(_ errors: [LoaderError], target: Target) -> Bool {
        errors.allSatisfy { e in
            switch e.kind {
            case .missingInterpreter: return target.machineFacts.glibcInterpreters.contains(e.subject)
            case .missingLibrary: return data.packages.glibcOnly.gcompat.contains(e.subject)
            case .missingSymbol: return e.symbolReason == .notFound && target.gcompatExports.defines(e.subject)
            default: return false
            }
        }
    }

    func verdict(_ item: ScannedELF, file: ELFFile, tree: any ArtifactTree, archive: String?, kind: ArtifactKind, libc: BuiltFor,
                 host: CompatData.HostSpec?, target: Target, loadedBy: ScannedELF?, glibcImage: GlibcImage? = nil,
                 findings: inout [Finding]) -> TargetVerdict {
        let display = item.displayPath
        if let reason = notApplicableReason(file, target: target) {
            findings.append(notApplicableFinding(display: display, reason: reason, target: target))
            return TargetVerdict(target: target.name, verdict: .notApplicable, loaded: [], loaderMessages: [])
        }
        if let damage = file.loadDamage {
            // The kernel (for a program) or musl's map_library (for a library) maps what the
            // program headers say; a file cut short dies with SIGBUS, printing nothing of musl's.
            findings.append(damagedFileFinding(display: display, damage: damage, target: target))
            return TargetVerdict(target: target.name, verdict: .incompatible, loaded: [], loaderMessages: [])
        }
        if kind == .staticExecutable {
            return TargetVerdict(target: target.name, verdict: .static, loaded: [], loaderMessages: [])
        }
        let mode: LoadMode
        switch kind {
        case .executable: mode = .exec
        case .pythonExtension, .nodeAddon, .jniLibrary: mode = .dlopen(hostID: host?.id ?? "")
        default: mode = .list
        }
        if let system = target.glibc {
            if libc == .musl, let musl = system.muslSibling {
                return verdict(item, file: file, tree: tree, archive: archive, kind: kind, libc: libc, host: host, target: musl,
                               loadedBy: loadedBy, findings: &findings)
            }
            return glibcVerdict(item, file: file, tree: tree, archive: archive, libc: libc, host: host, target: target, system: system,
                                mode: mode, image: glibcImage, findings: &findings)
        }
        let exports = ArtifactExports(file)
        let outcome = simulate(item, tree: tree, target: target, mode: mode, host: host, exports: exports, loadedBy: loadedBy)
        var verdict: Verdict
        var gcompatFixes = false
        var preloadNeeded = false
        var gcompatRun: LoadOutcome? = nil
        let usedGcompat = outcome.loaded.contains { $0.source == .gcompat } || !outcome.fromGcompat.isEmpty
        if outcome.ok {
            verdict = usedGcompat ? .needsGcompat : (libc == .musl ? .nativeMusl : .compatible)
        } else if target.hasGcompat || !gcompatMightFix(outcome.errors, target: target) {
            verdict = .incompatible
        } else {
            let withGcompat = target.withGcompat()
            var gc = simulate(item, tree: tree, target: withGcompat, mode: mode, host: host, exports: exports, loadedBy: loadedBy)
            if !gc.ok, case .dlopen = mode {
                // A dlopen'ed module gets gcompat's symbols only when libgcompat is preloaded.
                let preloaded = simulate(item, tree: tree, target: withGcompat, mode: .list, host: host, exports: exports,
                                         preload: [data.targets.gcompat.library])
                if preloaded.ok { gc = preloaded; preloadNeeded = true }
            }
            gcompatFixes = gc.ok
            gcompatRun = gc
            verdict = gc.ok ? .needsGcompat : .incompatible
        }
        if !outcome.ok, target.hasGcompat, case .dlopen = mode, gcompatMightFix(outcome.errors, target: target) {
            // Installed but not preloaded: would preloading make the module load?
            let preloaded = simulate(item, tree: tree, target: target, mode: .list, host: host, exports: exports,
                                     preload: [data.targets.gcompat.library])
            if preloaded.ok { verdict = .needsGcompat; preloadNeeded = true; gcompatFixes = true }
        }

        // Findings: what happens on the target as it is. A symbol that went missing only because
        // the library it is expected from is missing is told with that library, not on its own.
        var missingLibraries: [String: Set<String>] = [:]  // needer → missing sonames
        for e in outcome.errors where e.kind == .missingLibrary || e.kind == .libraryNotLoadable {
            missingLibraries[e.object, default: []].insert(e.subject)
        }
        var consequences: [String: [String]] = [:]  // "needer\0soname" → symbols
        var ownFindings: [Finding] = []
        // A missing interpreter stops everything; what gcompat's stub would then run into is told too.
        var errors = outcome.errors.map { ($0, false) }
        if outcome.errors.allSatisfy({ $0.kind == .missingInterpreter }), let gc = gcompatRun, !gc.ok {
            errors += gc.errors.map { ($0, true) }
            for e in gc.errors where e.kind == .missingLibrary || e.kind == .libraryNotLoadable {
                missingLibraries[e.object, default: []].insert(e.subject)
            }
        }
        for (error, afterGcompat) in errors {
            if error.kind == .missingSymbol, error.symbolReason == .notFound, let missing = missingLibraries[error.object] {
                if let lib = error.library, missing.contains(lib) {
                    consequences[error.object + "\0" + lib, default: []].append(error.subject)
                    continue
                }
                if error.library == nil && data.glibc[error.subject] == nil && missing.count == 1 {
                    consequences[error.object + "\0" + missing.first!, default: []].append(error.subject)
                    continue
                }
            }
            var f = finding(for: error, item: item, archive: archive, target: target, gcompatFixes: gcompatFixes)
            if afterGcompat { f.detail = "once gcompat's loader stub starts the program" + (f.detail.map { "; " + $0 } ?? "") }
            ownFindings.append(f)
        }
        for i in ownFindings.indices where ownFindings[i].findingID == .missingLibrary || ownFindings[i].findingID == .libraryNotLoadable {
            let needer = ownFindings[i].object ?? display
            guard let symbols = consequences[needer + "\0" + (ownFindings[i].subject ?? "")], !symbols.isEmpty else { continue }
            ownFindings[i].detail = (ownFindings[i].detail.map { $0 + "; " } ?? "") + "then \(symbols.count) symbol\(symbols.count == 1 ? "" : "s") it provides \(symbols.count == 1 ? "is" : "are") not found either (\(symbols.prefix(4).joined(separator: ", "))\(symbols.count > 4 ? ", ..." : ""))"
        }
        findings.append(contentsOf: ownFindings)
        for (soname, package) in outcome.packagesNeeded.sorted(by: { $0.key < $1.key }) {
            findings.append(packageFinding(soname: soname, package: package, display: display, target: target))
        }
        if !outcome.unverified.isEmpty {
            let libs = Set(outcome.unverified.map(\.library)).sorted().joined(separator: ", ")
            findings.append(unverifiedSymbolsFinding(count: outcome.unverified.count, libraries: libs, display: display, target: target))
        }
        if !outcome.hostProvided.isEmpty, let host {
            findings.append(hostProvidedFinding(symbols: outcome.hostProvided, host: host, display: display, target: target))
        }
        if verdict == .needsGcompat {
            findings.append(gcompatFinding(display: display, target: target, loadsAsIs: outcome.ok, preloadNeeded: preloadNeeded))
        }
        let loaded = outcome.loaded.map { TargetVerdict.LoadedEntry(name: $0.requested, path: $0.path, source: $0.source.rawValue, package: $0.package) }
        return TargetVerdict(target: target.name, verdict: verdict, loaded: loaded, loaderMessages: outcome.errors.map(\.message))
    }

    func finding(for error: LoaderError, item: ScannedELF, archive: String?, target: Target, gcompatFixes: Bool) -> Finding {
        let display = item.displayPath
        let object = error.inArtifact ? nil : error.object
        switch error.kind {
        case .missingInterpreter:
            return missingInterpreterFinding(error, display: display, target: target, gcompatFixes: gcompatFixes)
        case .missingLibrary:
            return missingLibraryFinding(error, item: item, archive: archive, target: target, object: object)
        case .libraryNotLoadable:
            return libraryNotLoadableFinding(error, display: display, target: target, object: object)
        case .missingSymbol:
            return missingSymbolFinding(error, display: display, target: target, object: object)
        case .unsupportedRelocation:
            let type = UInt32(error.subject) ?? 0
            let name = RelocationType(machine: target.elfMachine, rawValue: type).name
            return unsupportedRelocationFinding(error, type: type, name: name, display: display, target: target, object: object)
        case .initialExecTLS:
            return initialExecTLSFinding(error, display: display, target: target, object: object)
        case .relrUnsupported:
            return relrFinding(error, display: display, target: target, object: object)
        case .missingVersion, .lazySymbol:
            // Only glibc's loader reports these (glibcVerdict makes their findings).
            return data.finding(.glibcVersionNotFound, message: error.message, subject: error.subject, fix: "", artifact: display,
                                target: target.name, object: object)
        }
    }
}

extension ArtifactAnalysis {
    /// Tree paths of the libraries from the artifact's own tree that it loads (on any target),
    /// normalised ("a/../b" → "b").
    public var treeLibraries: Set<String> {
        var out = Set<String>()
        for v in verdicts {
            for l in v.loaded where l.source == LoadedLibrary.Source.artifactTree.rawValue {
                out.insert(lexicallyNormalized(l.path))
            }
        }
        return out
    }

    /// Whether some target's load failed on a missing library (what a needer's rpath may fix).
    public var missesLibraries: Bool {
        findings.contains { $0.findingID == .missingLibrary && $0.object == nil }
    }
}

/// "a/./b/../c" → "a/c"; keeps a leading "/".
public func lexicallyNormalized(_ path: String) -> String {
    var out: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == "..", let last = out.last, last != ".." { out.removeLast(); continue }
        out.append(part)
    }
    return (path.hasPrefix("/") ? "/" : "") + out.joined(separator: "/")
}
