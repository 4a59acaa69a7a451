import Artifacts
import ELF

// MC200-MC204, and MC100/MC110/MC114 on a glibc target: what glibc's loader would say.

extension Fixes {
    /// The fix of an MC100 finding when it is a glibc target's (else nil).
    public static func glibcInterpreterFix(_ f: Finding) -> String? {
        f.fix.hasPrefix(text(.muslProgram, ["target": "", "interpreter": ""]).prefix(30))
            || f.fix.contains(" has no C library and no loader") ? f.fix : nil
    }

    /// MC110 on a Debian-based target.
    public static func aptInstall(_ package: String) -> String { text(.aptPackage, ["package": package]) }

    /// MC100 on a glibc or no-libc target.
    public static func glibcInterpreter(_ interpreter: String, target: Target) -> String {
        target.libc == .none ? text(.noLoader, ["target": target.name, "libc": "glibc (distroless/base-debian12 or larger)"])
            : text(.muslProgram, ["target": target.name, "interpreter": interpreter])
    }

    /// MC200: a library glibc's loader does not find. `package`: the Debian package that has it;
    /// `canInstall`: the target has apt.
    public static func glibcMissingLibrary(_ soname: String, package: String?, canInstall: Bool) -> String {
        if soname.hasPrefix("libc.musl-") || soname == "libc.so" { return text(.muslLibrary, ["soname": soname]) }
        guard let package else { return text(.unknownGlibcLibrary, ["soname": soname]) }
        return text(canInstall ? .debianPackage : .distrolessPackage, ["package": package, "soname": soname])
    }

    /// MC201: a version need the target's library does not define.
    public static func olderBuild(artifact: String, library: String, glibc: String, version: String) -> String {
        let minor = glibc.split(separator: ".").dropFirst().first.map(String.init) ?? "?"
        return text(.olderBuild, ["artifact": artifact, "library": library, "glibc": glibc, "glibcMinor": minor, "version": version])
    }

    /// MC202 / MC203: an undefined symbol, at load or when first called.
    public static func provideSymbol(object: String, symbol: String, lazy: Bool) -> String {
        text(lazy ? .provideLazySymbol : .provideSymbol, ["object": object, "symbol": symbol])
    }

    /// MC204: a weak version need.
    public static var weakVersion: String { text(.weakVersion) }
}

extension Analyzer {
    /// The verdict on a glibc (or no-libc) target: glibc's loader simulated (GlibcLoaderSimulation).
    func glibcVerdict(_ item: ScannedELF, file: ELFFile, tree: any ArtifactTree, archive: String?, libc: BuiltFor, host: CompatData.HostSpec?,
                      target: Target, system: GlibcSystem, mode: LoadMode, image: GlibcImage?, findings: inout [Finding]) -> TargetVerdict {
        let display = item.displayPath
        var sim = GlibcLoaderSimulation(target: target, system: system, tree: tree, treeRoots: options.treeRoots)
        sim.libraryPath = options.libraryPath
        sim.bindNow = options.bindNow
        let outcome = sim.run(file, treePath: item.treePath, displayPath: display, mode: mode, host: host, image: image)

        // A symbol expected from a missing library is told with that library.
        var missing: [String: Set<String>] = [:]
        for e in outcome.errors where e.kind == .missingLibrary { missing[e.object, default: []].insert(e.subject) }
        var consequences: [String: [String]] = [:]
        var own: [Finding] = []
        let packages = (try? data.glibcProfiles().sonames) ?? [:]
        for e in outcome.errors + outcome.deferred {
            if e.kind == .missingSymbol || e.kind == .lazySymbol || e.kind == .missingVersion, let gone = missing[e.object] {
                // Expected from a missing library: the one its version need names, or the only one missing.
                if let lib = e.library ?? (gone.count == 1 ? gone.first : nil), gone.contains(lib) {
                    consequences[e.object + "\0" + lib, default: []].append(e.subject)
                    continue
                }
            }
            let object = e.inArtifact ? nil : e.object
            switch e.kind {
            case .missingInterpreter:
                own.append(data.finding(.missingInterpreter, message: e.message, subject: e.subject,
                                        fix: Fixes.glibcInterpreter(e.subject, target: target), artifact: display, target: target.name))
            case .missingLibrary:
                own.append(data.finding(.glibcMissingLibrary, message: e.message, subject: e.subject,
                                        fix: Fixes.glibcMissingLibrary(e.subject, package: packages[e.subject], canInstall: target.packagesAvailable),
                                        artifact: display, target: target.name, object: object))
            case .libraryNotLoadable:
                own.append(libraryNotLoadableFinding(e, display: display, target: target, object: object))
            case .missingVersion:
                let weak = outcome.deferred.contains(e)
                own.append(data.finding(weak ? .glibcWeakVersion : .glibcVersionNotFound, message: e.message, subject: e.subject,
                                        fix: weak ? Fixes.weakVersion
                                            : Fixes.olderBuild(artifact: display, library: e.library ?? "the library",
                                                               glibc: system.version ?? "?", version: e.subject),
                                        artifact: display, target: target.name, object: object))
            case .missingSymbol, .lazySymbol:
                let lazy = e.kind == .lazySymbol
                own.append(data.finding(lazy ? .glibcLazyUndefinedSymbol : .glibcUndefinedSymbol, message: e.message, subject: e.subject,
                                        fix: Fixes.provideSymbol(object: e.object, symbol: e.subject, lazy: lazy),
                                        artifact: display, target: target.name, object: object))
            default:
                own.append(finding(for: e, item: item, archive: archive, target: target, gcompatFixes: false))
            }
        }
        for i in own.indices where own[i].findingID == .glibcMissingLibrary {
            let needer = own[i].object ?? display
            guard let symbols = consequences[needer + "\0" + (own[i].subject ?? "")], !symbols.isEmpty else { continue }
            own[i].detail = "then \(symbols.count) symbol\(symbols.count == 1 ? "" : "s") or version\(symbols.count == 1 ? "" : "s") it provides \(symbols.count == 1 ? "is" : "are") not found either (\(symbols.prefix(4).joined(separator: ", "))\(symbols.count > 4 ? ", ..." : ""))"
        }
        findings.append(contentsOf: own)
        for (soname, package) in outcome.packagesNeeded.sorted(by: { $0.key < $1.key }) {
            findings.append(data.finding(.libraryFromPackage, message: "\(soname) is not in the \(target.name) base image; the \(package) package provides it",
                                         subject: soname, fix: Fixes.text(.aptPackage, ["package": package]), artifact: display, target: target.name))
        }
        if !outcome.hostProvided.isEmpty, let host {
            findings.append(hostProvidedFinding(symbols: outcome.hostProvided, host: host, display: display, target: target))
        }
        let loaded = outcome.loaded.map { TargetVerdict.LoadedEntry(name: $0.requested, path: $0.path, source: $0.source.rawValue, package: $0.package) }
        return TargetVerdict(target: target.name, verdict: outcome.ok ? .compatible : .incompatible, loaded: loaded,
                             loaderMessages: outcome.errors.map(\.message))
    }
}
