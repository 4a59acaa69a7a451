import Compat
import Foundation

/// One thing to do, with the artifacts it helps: "apk add libstdc++ (libstdc++.so.6: 3 programs)".
public struct Action: Sendable, Hashable {
    /// What makes two findings the same action ("apk:libstdc++", "advice:rebuild without _FORTIFY_SOURCE ...").
    public var key: String
    /// What to do, in the user's words.
    public var text: String
    /// The symbols, libraries or projects it is about, in the order first seen.
    public var subjects: [String] = []
    /// The worst verdict among the artifacts it helps (incompatible first).
    public var worst: Verdict
    /// The artifacts it helps (display paths), in the order first seen.
    public var artifacts: [String] = []
    /// How many of them are programs, libraries, modules.
    var kinds: [String: Int] = [:]

    /// "3 programs", "54 modules", "12 artifacts".
    public var coverage: String {
        let n = artifacts.count
        let noun = kinds.count == 1 ? kinds.keys.first! : "artifact"
        return "\(n) \(n == 1 ? noun : noun == "library" ? "libraries" : noun + "s")"
    }
}

/// Every distinct action a report calls for, each once with the artifacts it covers, worst first.
/// Built one artifact at a time (a report's artifacts are read one by one).
public struct ActionPlan: Sendable {
    let data: CompatData?
    private var byKey: [String: Action] = [:]
    private var seen: [String: Set<String>] = [:]
    private var subjectSets: [String: Set<String>] = [:]

    public init(data: CompatData? = try? CompatData.shared()) { self.data = data }

    /// The actions, worst first, then those that help more artifacts.
    public var actions: [Action] { Self.sorted(Array(byKey.values)) }

    static func sorted(_ actions: [Action]) -> [Action] {
        actions.sorted { a, b in
            if a.worst != b.worst { return a.worst > b.worst }
            if a.artifacts.count != b.artifacts.count { return a.artifacts.count > b.artifacts.count }
            return a.text < b.text
        }
    }

    /// The same, with every `apk add PACKAGE` joined into one `apk add` of all the packages (the
    /// ones more artifacts need first): what a Dockerfile's one RUN line takes. gcompat stays apart.
    public var actionsWithOneApkAdd: [Action] {
        let packages = byKey.values.filter { $0.key.hasPrefix("apk:") }
        guard packages.count > 1 else { return actions }
        let ordered = Self.sorted(packages).sorted { $0.artifacts.count > $1.artifacts.count }
        var joined = Action(key: "apk", text: "apk add " + ordered.map { String($0.key.dropFirst(4)) }.joined(separator: " "),
                            worst: ordered.map(\.worst).max()!)
        var seen: Set<String> = []
        for p in ordered {
            joined.subjects += p.subjects
            for a in p.artifacts where seen.insert(a).inserted { joined.artifacts.append(a) }
            for (k, n) in p.kinds { joined.kinds[k, default: 0] += n }
        }
        // Kinds counted per package overcount shared artifacts; only whether they differ matters.
        return Self.sorted(byKey.values.filter { !$0.key.hasPrefix("apk:") } + [joined])
    }

    mutating func note(_ key: String, _ text: String, subject: String?, verdict: Verdict, artifact: String, kind: String) {
        // Changed where it is stored: a copy taken out and put back would copy its lists each time.
        if byKey[key] == nil { byKey[key] = Action(key: key, text: text, worst: verdict) }
        if verdict > byKey[key]!.worst { byKey[key]!.worst = verdict }
        if let subject, subjectSets[key, default: []].insert(subject).inserted { byKey[key]!.subjects.append(subject) }
        if seen[key, default: []].insert(artifact).inserted {
            byKey[key]!.artifacts.append(artifact)
            byKey[key]!.kinds[kind, default: 0] += 1
        }
    }

    /// "program", "library", "module" for the coverage count.
    static func noun(_ kind: ArtifactKind) -> String {
        switch kind {
        case .executable, .staticExecutable: "program"
        case .sharedLibrary: "library"
        case .pythonExtension, .nodeAddon, .jniLibrary: "module"
        case .object, .core: "file"
        }
    }

    /// The project of a wheel from its file name: "pandas-2.2.3-cp311-...whl" → "pandas".
    static func project(ofWheel path: String) -> String {
        let base = (path.split(separator: "!").first.map(String.init) ?? path).split(separator: "/").last.map(String.init) ?? path
        return base.split(separator: "-").first.map(String.init) ?? base
    }

    /// What an artifact needs done, from its warnings and errors on each target.
    public mutating func add(_ a: ArtifactAnalysis) {
        let verdicts = Dictionary(a.verdicts.map { ($0.target, $0.verdict) }, uniquingKeysWith: { x, _ in x })
        let worst = a.worstVerdict
        let kind = Self.noun(a.kind)
        let path = a.path
        func note(_ key: String, _ text: String, subject: String? = nil, verdict: Verdict? = nil) {
            self.note(key, text, subject: subject, verdict: verdict ?? worst, artifact: path, kind: kind)
        }
        // A manylinux wheel's module: its musllinux wheel is the fix, whatever else it lacks.
        if worst == .incompatible || worst == .needsGcompat, let wheel = a.findings.first(where: { $0.findingID == .manylinuxWheel }) {
            note("musllinux-wheel", "use the musllinux wheels", subject: Self.project(ofWheel: wheel.subject ?? a.archive ?? path))
            return
        }
        // Targets where a library is missing (its symbols' findings follow from that).
        let missingGlibcLibrary = Set(a.findings.filter { $0.findingID == .glibcMissingLibrary }.map(\.target))
        let missingMuslLibrary = Set(a.findings.filter { $0.findingID == .missingLibrary }.map(\.target))
        for f in a.findings where f.severity >= .warning {
            let v = f.target.flatMap { verdicts[$0] } ?? worst
            guard v != .notApplicable else { continue }
            let subject = f.subject
            switch f.findingID {
            case .malformedELF?, .damagedFile?:
                note("damaged", Fixes.unloadableFile.replacingOccurrences(of: "the file", with: "the damaged files")
                        .replacingOccurrences(of: ": it is cut short or corrupted", with: ""), verdict: .incompatible)
            case .missingInterpreter? where f.fix == Fixes.glibcInterpreterFix(f):
                note("loader:" + f.fix, f.fix, subject: subject.map { ($0 as NSString).lastPathComponent }, verdict: v)
            case .glibcMissingLibrary?:
                guard let soname = subject else { continue }
                if let package = (try? data?.glibcProfiles())??.sonames[soname], f.fix.hasPrefix("apt-get ") {
                    note("apt:" + package, Fixes.aptInstall(package), subject: soname, verdict: v)
                } else {
                    note("glibc-library:" + f.fix, f.fix, subject: soname, verdict: v)
                }
            case .libraryFromPackage? where f.fix.hasPrefix("apt-get "):
                note("apt:" + (f.fix.split(separator: " ").last.map(String.init) ?? f.fix), f.fix, subject: subject, verdict: v)
            case .glibcVersionNotFound?:
                note("glibc-version", "build against the target's libraries or older ones (a Debian 12 or manylinux build), or choose a newer base",
                     subject: subject, verdict: v)
            case .glibcUndefinedSymbol?, .glibcLazyUndefinedSymbol?:
                if !missingGlibcLibrary.contains(f.target) {
                    note("glibc-symbols", "link against the libraries that define these symbols, or build against the target's libraries",
                         subject: subject, verdict: v)
                }
            case .missingInterpreter?:
                if v == .needsGcompat {
                    note("gcompat", Fixes.needsGcompat, verdict: v)
                } else {
                    note("rebuild-musl", Self.rebuild, subject: subject.map { ($0 as NSString).lastPathComponent }, verdict: v)
                }
            case .missingLibrary?:
                guard let soname = subject else { continue }
                let package = data?.packages.packages[soname]
                if let removed = data?.packages.removed[soname] {
                    note("removed:" + soname, removed, subject: soname, verdict: v)
                } else if let package {
                    note("apk:" + package, Fixes.package(package), subject: soname, verdict: v)
                } else if data?.packages.glibcOnly.gcompat.contains(soname) == true {
                    // gcompat's own library: the gcompat action covers it where gcompat is enough.
                    if v != .needsGcompat { note("rebuild-musl", Self.rebuild, subject: soname, verdict: v) }
                } else if data?.packages.glibcOnly.none.contains(soname) == true {
                    note("rebuild-musl", Self.rebuild, subject: soname, verdict: v)
                } else {
                    note("unknown-libraries", "install these libraries (muslcheck knows no Alpine package for them), or ship them beside the artifacts",
                         subject: soname, verdict: v)
                }
            case .missingSymbol?, .lfs64LoaderBug?:
                // Where gcompat is enough, its action covers the symbols it provides.
                guard v != .needsGcompat, let symbol = subject else { continue }
                let advice = data?.advice(for: symbol)
                let glibc = data?.glibc[symbol] != nil || Fixes.isGlibcInternal(fix: f.fix)
                if let advice, !advice.isDefault, advice.text.short != Self.rebuild {
                    note("advice:" + advice.text.short, advice.text.short, subject: symbol, verdict: v)
                } else if glibc || advice?.isDefault == false {
                    note("rebuild-musl", Self.rebuild, subject: symbol, verdict: v)
                } else if !missingMuslLibrary.contains(f.target) {
                    // Another library's symbol: with libraries missing, installing them is the action.
                    note("missing-symbols", "install or update the libraries that should define these symbols", subject: symbol, verdict: v)
                }
            case .ifuncDefinition?, .unsupportedRelocation?:
                note("ifunc", "rebuild without IFUNC: no ifunc attributes, no target_clones, no glibc static-pie",
                     subject: ((f.object ?? path) as NSString).lastPathComponent, verdict: v)
            case .initialExecTLS?:
                note("tls", "rebuild with -ftls-model=global-dynamic", subject: ((f.object ?? path) as NSString).lastPathComponent, verdict: v)
            case .relrUnsupported?:
                note("relr", Fixes.relr, verdict: v)
            case .hiddenDefinitionOnly?:
                note("hidden", "export a default version (sym@@VER) of each symbol, or rebuild against musl", subject: subject, verdict: v)
            case .libraryFromPackage?:
                guard let package = f.fix.hasPrefix("apk add ") ? String(f.fix.dropFirst(8)) : nil else { continue }
                note("apk:" + package, Fixes.package(package), subject: subject, verdict: v)
            case .needsGcompat?:
                note("gcompat", Fixes.needsGcompat, verdict: v)
            case .needsGcompatPreload?:
                note("gcompat-preload", Fixes.needsGcompatPreloaded(library: data?.targets.gcompat.library ?? "/lib/libgcompat.so.0", installed: false),
                     verdict: v)
            case .libraryNotLoadable?:
                note("shadowed", "remove or rename the files that shadow these libraries on the search path", subject: subject, verdict: v)
            case .loaderProbeContradiction?:
                note("contradiction", "trust the image over the static verdicts it contradicts, and please report them to muslcheck",
                     verdict: .incompatible)
            case .loaderProbeFailed?:
                // A damaged file the loader failed on, as expected: the damage is the action.
                guard f.fix != Fixes.damagedAsFound else { continue }
                note("not-checked", "check by hand in the image what the loader probe could not", verdict: .compatible)
            default:
                continue
            }
        }
    }

    /// The action that covers glibc's own symbols, libraries and loader.
    static let rebuild = "rebuild against musl"

    /// Problems that fail the run: what could not be read or checked.
    public mutating func add(problem p: Finding) {
        switch p.findingID {
        case .unreadableFile?:
            note("unreadable", "make these files readable, or leave them out of the paths", subject: nil, verdict: .incompatible, artifact: p.artifact, kind: "file")
        case .malformedArchive?:
            note("damaged-archives", "download or build these archives again; members after the damage were not checked", subject: nil,
                 verdict: .incompatible, artifact: p.artifact, kind: "archive")
        case .archiveLimit?:
            note("archive-limit", "look inside these archives: members that passed a safety limit (zip bomb?) were not checked", subject: nil,
                 verdict: .incompatible, artifact: p.artifact, kind: "member")
        default:
            break
        }
    }
}
