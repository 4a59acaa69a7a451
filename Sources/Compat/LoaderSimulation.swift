import Artifacts
import ELF
import Foundation

/// How the artifact gets loaded.
public enum LoadMode: Sendable, Hashable {
    /// `ld-musl-ARCH.so.1 --list FILE`: the file is the main program, its interpreter is not checked.
    case list
    /// Started by the kernel: PT_INTERP must exist on the target.
    case exec
    /// Loaded with dlopen by a musl host program (python, node, java).
    case dlopen(hostID: String)
}

/// One error musl's loader would print, or one problem it would hit silently.
public struct LoaderError: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case missingInterpreter, missingLibrary, libraryNotLoadable, missingSymbol, unsupportedRelocation,
             initialExecTLS, relrUnsupported
    }
    /// Why a symbol was not found.
    public enum SymbolReason: String, Sendable, Hashable {
        case notFound, ifuncOnly, hiddenOnly, zeroValueOnly, lfs64Bug
    }
    public var kind: Kind
    /// The object the loader names first in its message (the one being relocated, or the needer).
    public var object: String
    /// The library name, symbol name or relocation type.
    public var subject: String
    /// The exact message musl prints (for silent problems, muslcheck's sentence).
    public var message: String
    public var symbolReason: SymbolReason?
    /// Where the rejected definition lives (IFUNC, hidden).
    public var definedIn: String?
    /// Relocations of an unsupported type.
    public var count: Int = 1
    /// The object is the artifact itself (not one of its dependencies).
    public var inArtifact: Bool
    /// For a missing symbol: the library its version need names (where it was expected from).
    public var library: String? = nil
}

/// A library the simulation loaded, and how it was found.
public struct LoadedLibrary: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable {
        /// musl itself (a reserved name, or libc's own file).
        case libc
        /// Beside the artifact: its archive or directory ($ORIGIN).
        case artifactTree = "artifact"
        /// The target's filesystem.
        case target
        /// A bundled profile's library known by name (base image).
        case profile
        /// A package the profile's release offers but the base image lacks.
        case package
        /// gcompat.
        case gcompat
        /// Provided by the program that loads the module.
        case host
    }
    public var requested: String
    public var path: String
    public var source: Source
    public var package: String?
}

/// Everything one simulated load produced.
public struct LoadOutcome: Sendable {
    public var errors: [LoaderError] = []
    public var loaded: [LoadedLibrary] = []
    /// Symbols the host program provides (never reported as missing).
    public var hostProvided: [String] = []
    /// Symbols expected from a library whose exports are not known: (symbol, library), each
    /// symbol once, in the order the loader met them.
    public var unverified: [(symbol: String, library: String)] = []
    /// Libraries that come from packages to add: soname → package.
    public var packagesNeeded: [String: String] = [:]
    /// Weak undefined references no object defines (left NULL, no error).
    public var weakUnresolved: [String] = []
    /// Symbols only gcompat provided.
    public var fromGcompat: [String] = []
    /// LFS64 names the loader mapped (NAME64 → NAME).
    public var lfs64Mapped: [String] = []
    public var ok: Bool { errors.isEmpty }
}

/// Simulates musl's dynamic loader (ldso/dynlink.c, 1.2.3–1.2.5) loading one artifact on one target.
public struct LoaderSimulation {
    public let target: Target
    /// The files around the artifact, for $ORIGIN and for paths inside the scanned roots.
    public let tree: any ArtifactTree
    /// Absolute roots of a scan on disk: absolute paths under them are read from the tree.
    public let treeRoots: [String]
    /// LD_LIBRARY_PATH / --library-path.
    public var libraryPath: [String] = []
    /// LD_PRELOAD / --preload.
    public var preload: [String] = []

    public init(target: Target, tree: any ArtifactTree, treeRoots: [String] = []) {
        self.target = target
        self.tree = tree
        self.treeRoots = treeRoots
    }

    final class DSO {
        enum Kind { case app, libc, elf, opaque, gcompat, host }
        let name: String
        var shortname: String?
        let identity: String
        let file: ELFFile?
        let kind: Kind
        private var table: ExportTable?
        private let makeTable: (() -> ExportTable)?
        /// The object's definitions, built on first use (most lookups never need the artifact's own).
        var exports: ExportTable {
            if let table { return table }
            let t = makeTable?() ?? .empty
            table = t
            return t
        }
        let neededBy: DSO?
        /// Found in the artifact's tree (its $ORIGIN paths stay there).
        let inTree: Bool
        /// Loaded by dlopen at run time (not counted as static TLS).
        let runtime: Bool
        var rpathDone = false
        /// Search directories; `origin` marks those that came from $ORIGIN (they stay beside the object).
        var rpath: [(path: String, origin: Bool)]? = nil
        let source: LoadedLibrary.Source
        let package: String?

        init(name: String, identity: String, file: ELFFile?, kind: Kind, exports: ExportTable?, neededBy: DSO?,
             inTree: Bool, runtime: Bool, source: LoadedLibrary.Source, package: String? = nil,
             lazyExports: (() -> ExportTable)? = nil) {
            self.name = name
            self.identity = identity
            self.file = file
            self.kind = kind
            self.table = exports
            self.makeTable = lazyExports
            self.neededBy = neededBy
            self.inTree = inTree
            self.runtime = runtime
            self.source = source
            self.package = package
        }
    }

    /// One run's state: the DSO list in load order (musl's head/next chain).
    final class Run {
        var chain: [DSO] = []
        var libc: DSO
        var libcInChain = false
        var ldsoName: String
        var outcome = LoadOutcome()
        var runtimeLoading = false
        init(libc: DSO, ldsoName: String) {
            self.libc = libc
            self.ldsoName = ldsoName
        }
        func appendLibc() {
            if !libcInChain { chain.append(libc); libcInChain = true }
        }
    }

    enum LoadFailure: Error {
        case notFound
        case noexec(String)
        case other(String)
        var errnoText: String {
            switch self {
            case .notFound: "No such file or directory"
            case .noexec(let t), .other(let t): t
            }
        }
    }

    /// Simulates loading `artifact` (at `treePath` inside the tree). `artifactExports` shares the
    /// artifact's export table between the runs of one analysis (built only if some object looks
    /// into it).
    ///
    /// `loadedBy`: another artifact that needs this one (a library in a wheel's `.libs`, loaded by
    /// the extension module). The library is then loaded the way that artifact loads it: with it
    /// as the needer, so the rpath walk continues into the needer's RPATH/RUNPATH ($ORIGIN).
    public func run(_ artifact: ELFFile, treePath: String, displayPath: String, mode: LoadMode, host: CompatData.HostSpec? = nil,
                    artifactExports: ArtifactExports? = nil, loadedBy: (file: ELFFile, treePath: String)? = nil) -> LoadOutcome {
        // The artifact's own table stays out of the target's cache: sharing it there made a
        // scan's memory grow with the number of files.
        let shared = artifactExports ?? ArtifactExports(artifact)
        let own: () -> ExportTable = { shared.table }
        let needer = loadedBy.map { d in
            DSO(name: d.treePath, identity: identityFor(d.treePath, inTree: true), file: d.file, kind: .app, exports: .empty,
                neededBy: nil, inTree: true, runtime: false, source: .artifactTree)
        }
        let libc = DSO(name: target.loaderPath, identity: "libc", file: nil, kind: .libc, exports: target.libcExports,
                       neededBy: nil, inTree: false, runtime: false, source: .libc)
        let run = Run(libc: libc, ldsoName: artifact.interpreter ?? target.loaderPath)
        var preloads = preload

        if mode == .exec, let interp = artifact.interpreter {
            switch target.fs.entry(interp) {
            case .libc: break
            case .gcompatStub:
                // gcompat's stub runs `ld-musl --preload /lib/libgcompat.so.0 PROGRAM`.
                preloads.insert(target.data.targets.gcompat.library, at: 0)
            case .elf(let file, _) where file.linkage == .staticPIE || file.linkage == .sharedLibrary:
                if target.hasGcompat { preloads.insert(target.data.targets.gcompat.library, at: 0) }
            default:
                run.outcome.errors.append(LoaderError(
                    kind: .missingInterpreter, object: displayPath, subject: interp,
                    message: "sh: \(displayPath): not found", inArtifact: true))
                return run.outcome
            }
            run.ldsoName = interp
        }

        var head: DSO
        var module: DSO? = nil
        if case .dlopen = mode, let host {
            // The host: a musl program already running with libc (static TLS: host and libc).
            head = DSO(name: host.id, identity: "host:" + host.id, file: nil, kind: .host, exports: .empty, neededBy: nil,
                       inTree: false, runtime: false, source: .host)
            run.chain = [head]
            run.appendLibc()
            run.ldsoName = target.loaderPath
            run.runtimeLoading = true
            let m = DSO(name: treePath, identity: identityFor(treePath, inTree: true), file: artifact, kind: .elf,
                        exports: nil, neededBy: head, inTree: true, runtime: true, source: .artifactTree,
                        lazyExports: own)
            run.chain.append(m)
            module = m
        } else {
            head = DSO(name: treePath, identity: identityFor(treePath, inTree: true), file: artifact, kind: .app,
                       exports: nil, neededBy: needer, inTree: true, runtime: false, source: .artifactTree,
                       lazyExports: own)
            run.chain = [head]
            // load_preload: failures are silently ignored.
            for name in preloads { _ = try? loadLibrary(name, neededBy: nil, run: run, host: host) }
        }

        // load_deps: breadth-first over the growing list.
        var i = module.map { m in run.chain.firstIndex { $0 === m }! } ?? 0
        while i < run.chain.count {
            let p = run.chain[i]
            i += 1
            guard let file = p.file, p.kind == .app || p.kind == .elf else { continue }
            for name in file.needed {
                do throws(LoadFailure) {
                    _ = try loadLibrary(name, neededBy: p, run: run, host: host)
                } catch {
                    // Mirrors load_direct_deps: print and go on (at run time dlopen stops at the first).
                    let isHead = p === head || p === module
                    let needer = isHead ? displayPath : p.name
                    var kind = LoaderError.Kind.missingLibrary
                    if case .noexec = error { kind = .libraryNotLoadable }
                    run.outcome.errors.append(LoaderError(
                        kind: kind, object: needer, subject: name,
                        message: "Error loading shared library \(name): \(error.errnoText) (needed by \(needer))",
                        inArtifact: isHead))
                }
            }
        }

        for d in run.chain where d.kind != .libc {
            switch d.source {
            case .artifactTree where d === head || d === module: continue
            default:
                run.outcome.loaded.append(LoadedLibrary(requested: d.shortname ?? d.name, path: d.name, source: d.source, package: d.package))
            }
        }
        if run.libcInChain {
            run.outcome.loaded.insert(LoadedLibrary(requested: "libc", path: target.loaderPath, source: .libc), at: 0)
        }

        relocate(run: run, head: head, module: module, displayPath: displayPath, mode: mode, host: host)
        return run.outcome
    }

    func identityFor(_ path: String, inTree: Bool) -> String {
        (inTree ? "tree:" : "target:") + normalizePath(path.hasPrefix("/") ? path : "/" + path)
    }

    // MARK: - load_library

    /// Whether `name` is one of the names musl answers itself ("lib" + c|pthread|rt|m|dl|util|xnet + ".").
    func isReserved(_ name: String) -> Bool {
        let bytes = name.utf8
        guard bytes.starts(with: "lib".utf8) else { return false }
        let rest = bytes.dropFirst(3)
        return target.data.loader.reservedNames.contains { rest.starts(with: $0.utf8) }
    }

    /// Where a path is looked up: the artifact's tree (relative paths, $ORIGIN of tree objects,
    /// absolute paths under the scanned roots) or the target.
    enum Place { case tree, target }

    func place(of path: String, fromTree: Bool) -> Place {
        if let member = tree as? MemberTree, member.rooted { return .target }  // an image: the tree is the target
        if !path.hasPrefix("/") { return fromTree ? .tree : .target }
        if fromTree && !(tree is DiskTree) { return .target }
        if treeRoots.contains(where: { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) { return .tree }
        return .target
    }

    enum Found {
        case dso(DSO)
        case entry(TargetEntry, place: Place, path: String)
    }

    /// path_open for one candidate: nil when nothing exists there (the search goes on).
    func probe(_ path: String, place: Place) -> (TargetEntry, Place)? {
        switch place {
        case .tree:
            switch tree.lookup(path) {
            case .elf(let file, let p): return (.elf(file, path: p), .tree)
            case .notELF(let p, let reason): return (.notELF(path: p, reason: reason), .tree)
            case .directory: return (.directory, .tree)
            case .missing:
                // An absolute path outside what the tree holds may still exist on the target.
                return path.hasPrefix("/") && !(tree is DiskTree) ? probe(path, place: .target) : nil
            }
        case .target:
            let e = target.fs.entry(path)
            if case .missing = e { return nil }
            return (e, .target)
        }
    }

    func loadLibrary(_ name: String, neededBy: DSO?, run: Run, host: CompatData.HostSpec?) throws(LoadFailure) -> DSO {
        if name.isEmpty { throw .other("Invalid argument") }
        if isReserved(name) || name == run.ldsoName {
            run.appendLibc()
            return run.libc
        }
        // A module's host libraries (libpython, libjvm) are already in the running program.
        if let host, host.libraries.contains(where: { name.hasPrefix($0) }) {
            if let existing = run.chain.first(where: { $0.kind == .host && $0.name == name }) { return existing }
            let d = DSO(name: name, identity: "host:" + name, file: nil, kind: .host, exports: .empty, neededBy: neededBy,
                        inTree: false, runtime: false, source: .host)
            run.chain.append(d)
            return d
        }
        var found: (TargetEntry, Place, String)? = nil
        var bySearch = false
        if name.utf8.contains(UInt8(ascii: "/")) {
            let fromTree = neededBy?.inTree ?? true
            let p = place(of: name, fromTree: fromTree)
            // A relative path is opened from the current directory: "/" in a container.
            let path = name.hasPrefix("/") || p == .tree ? name : "/" + name
            if let hit = probe(path, place: p) { found = (hit.0, hit.1, path) }
        } else {
            for p in run.chain.dropFirst() where p.shortname == name { return p }
            if name.utf8.count > 255 { throw .other("File name too long") }
            bySearch = true
            var stop = false
            // LD_LIBRARY_PATH first.
            for dir in libraryPath where found == nil && !stop {
                let path = dir + "/" + name
                if let hit = probe(path, place: place(of: path, fromTree: false)) { found = (hit.0, hit.1, path) }
            }
            // Then the rpath of the needing object and of every object that needed it (musl
            // walks needed_by up; RUNPATH replaces RPATH and is inherited the same way).
            var p = neededBy
            while found == nil, !stop, let dso = p {
                let (dirs, inhibit) = fixupRpath(dso)
                if inhibit { stop = true; break }
                for dir in dirs ?? [] {
                    let path = dir.path + "/" + name
                    guard path.utf8.count < 512 else { continue }
                    // $ORIGIN of an object beside the artifact points beside it, absolute or not.
                    let where_ = dir.origin && dso.inTree && !isImageTree ? .tree : place(of: path, fromTree: dso.inTree)
                    if let hit = probe(path, place: where_) { found = (hit.0, hit.1, path); break }
                }
                p = dso.neededBy
            }
            // Then /etc/ld-musl-ARCH.path, or /lib:/usr/local/lib:/usr/lib.
            if found == nil && !stop {
                for dir in target.systemPath {
                    let path = dir + "/" + name
                    if let hit = probe(path, place: .target) { found = (hit.0, hit.1, path); break }
                }
            }
            // A bundled profile stands for its release: a known package's library can be added.
            if found == nil && !stop && target.packagesAvailable, let package = target.data.packages.packages[name] {
                let d = DSO(name: "/usr/lib/" + name, identity: "package:" + name, file: nil, kind: .opaque, exports: .opaque,
                            neededBy: neededBy, inTree: false, runtime: run.runtimeLoading, source: .package, package: package)
                d.shortname = name
                run.chain.append(d)
                run.outcome.packagesNeeded[name] = package
                return d
            }
        }
        guard let (entry, placeFound, path) = found else { throw .notFound }

        let dso: DSO
        switch entry {
        case .libc:
            run.appendLibc()
            return run.libc
        case .directory:
            throw .noexec("Is a directory")
        case .notELF:
            throw .noexec("Exec format error")
        case .gcompatStub(let p):
            dso = DSO(name: path, identity: "target:" + p, file: nil, kind: .opaque, exports: .empty, neededBy: neededBy,
                      inTree: false, runtime: run.runtimeLoading, source: .gcompat)
        case .gcompatLibrary(let p):
            dso = DSO(name: path, identity: "target:" + p, file: nil, kind: .gcompat, exports: target.gcompatExports,
                      neededBy: neededBy, inTree: false, runtime: run.runtimeLoading, source: .gcompat)
        case .opaque(let p, let package):
            dso = DSO(name: path, identity: "target:" + p, file: nil, kind: .opaque, exports: .opaque, neededBy: neededBy,
                      inTree: false, runtime: run.runtimeLoading, source: .profile, package: package)
        case .elf(let file, let p):
            // map_library accepts ET_DYN/ET_EXEC with PT_DYNAMIC; it does not check the machine.
            guard file.header.type == .ET_DYN || file.header.type == .ET_EXEC, file.dynamic != nil,
                  file.header.fileClass == target.elfClass else {
                throw .noexec("Exec format error")
            }
            let inTree = placeFound == .tree
            let identity = identityFor(p, inTree: inTree)
            // Dedupe by dev/ino (here: the resolved path).
            if let existing = run.chain.dropFirst().first(where: { $0.identity == identity }) {
                if existing.shortname == nil && bySearch { existing.shortname = String(existing.name.split(separator: "/").last ?? "") }
                return existing
            }
            let exports = target.exports(of: file, at: identity + (inTree ? ":" + tree.name : ""))
            // A file that defines both __libc_start_main and stdin is a libc: musl answers with itself.
            if exports.facts?.mayBeLibc == true && exports.defines("__libc_start_main") && exports.defines("stdin") {
                run.appendLibc()
                return run.libc
            }
            let isGcompat = p.hasSuffix("/libgcompat.so.0")
            dso = DSO(name: path, identity: identity, file: file, kind: isGcompat ? .gcompat : .elf, exports: exports,
                      neededBy: neededBy, inTree: inTree, runtime: run.runtimeLoading,
                      source: isGcompat ? .gcompat : (inTree ? .artifactTree : .target))
        default:
            throw .notFound
        }
        if let existing = run.chain.dropFirst().first(where: { $0.identity == dso.identity }) {
            if existing.shortname == nil && bySearch { existing.shortname = name }
            return existing
        }
        if bySearch { dso.shortname = name }
        run.chain.append(dso)
        return dso
    }

    var isImageTree: Bool { (tree as? MemberTree)?.rooted ?? false }

    /// fixup_rpath: the search directories of one object (nil: none), and whether the search must stop.
    func fixupRpath(_ dso: DSO) -> ([(path: String, origin: Bool)]?, Bool) {
        if dso.rpathDone { return (dso.rpath, false) }
        dso.rpathDone = true
        guard let dynamic = dso.file?.dynamic else { return (nil, false) }
        // decode_dyn: DT_RUNPATH overrides DT_RPATH.
        let raw = !dynamic.runpath.isEmpty ? dynamic.runpath : dynamic.rpath
        guard !raw.isEmpty else { return (nil, false) }
        // Any '$' other than $ORIGIN / ${ORIGIN} makes musl ignore the whole rpath.
        let origin: String = {
            guard let slash = dso.name.lastIndex(of: "/") else { return "." }
            return String(dso.name[..<slash])
        }()
        var entries: [(path: String, origin: Bool)] = []
        for entry in raw.joined(separator: ":").split(whereSeparator: { $0 == ":" || $0 == "\n" }) {
            var expanded = ""
            var usedOrigin = false
            var rest = Substring(entry)
            while let dollar = rest.firstIndex(of: "$") {
                expanded += rest[..<dollar]
                let after = rest[dollar...]
                if after.hasPrefix("${ORIGIN}") {
                    expanded += origin; rest = after.dropFirst(9)
                } else if after.hasPrefix("$ORIGIN") {
                    expanded += origin; rest = after.dropFirst(7)
                } else {
                    return (nil, false)
                }
                usedOrigin = true
            }
            expanded += rest
            entries.append((expanded, usedOrigin))
        }
        dso.rpath = entries
        return (dso.rpath, false)
    }

    // MARK: - do_relocs

    func relocate(run: Run, head: DSO, module: DSO?, displayPath: String, mode: LoadMode, host: CompatData.HostSpec?) {
        let supported = target.supportedRelocations
        let lfs64 = target.data.loader.lfs64
        let lfs64Names = target.data.lfs64Names
        let glibcNames = target.data.glibcNames.view
        var hostProvided: [String] = []
        // Names met more than once are dropped at the end, by the hashes already at hand (cheaper
        // than hashing every name again into a Set or Dictionary as it comes).
        var unverified: [(symbol: String, hash: UInt64, library: String)] = []
        let chain = run.chain
        let libcIndex = chain.firstIndex { $0 === run.libc }
        let opaque = chain.map { $0.exports.isOpaque }
        // What the hot path asks of a definer, by position.
        let hasFacts = chain.map { $0.exports.facts != nil }
        let isGcompat = chain.map { $0.kind == .gcompat }
        let isRuntime = chain.map(\.runtime)
        let hasOpaque = opaque.contains(true)
        let hasGcompat = chain.contains { $0.kind == .gcompat }
        // Definition tables, fetched on first use. The tables stay alive in `tables` while their
        // views (no reference counting per lookup) are read.
        var tables = [SymbolTable?](repeating: nil, count: chain.count)
        var views = [SymbolTable.View?](repeating: nil, count: chain.count)
        var fetched = [Bool](repeating: false, count: chain.count)
        // find_sym from the head gives the same answer for a name whichever object asks, so each
        // name is looked up once per load. Worth it only when several objects are relocated
        // against a long list; a short walk costs less than remembering its answer.
        let relocated = chain.filter { ($0.kind == .app || $0.kind == .elf) && $0.file != nil && (module == nil || $0.runtime) }.count
        let memo: LookupMemo? = relocated >= 2 && chain.count >= 6 ? LookupMemo.take() : nil
        defer { if let memo { LookupMemo.give(memo) } }
        // Long lists are walked again and again for the same names by loads of related artifacts
        // (plugins of one toolchain, libraries of one package): what earlier loads learnt about
        // which object defines a name is checked first. It answers only "defined, nothing to
        // report", so it is not asked when gcompat or initial-exec TLS needs the exact definer.
        let definers: DefinerCache? = memo != nil && !hasGcompat ? DefinerCache.take() : nil
        defer { if let definers { DefinerCache.give(definers) } }
        let present = IDSet(hasGcompat ? [] : chain.enumerated().compactMap { k, d in
            d.exports.isOpaque ? nil : d.exports.facts.map { ($0.id, k) }
        })
        var usedDefiner = [Bool](repeating: false, count: chain.count)
        // gcompat's objects and their tables (the objects' export facts hold the tables for the load).
        let gcompatTables: [(position: Int, table: SymbolTable)] = chain.enumerated().compactMap { k, d in
            d.kind == .gcompat ? d.exports.facts.map { (k, $0.table) } : nil
        }
        let gcompatViews = gcompatTables.map { (position: $0.position, view: $0.table.view) }

        /// The definitions table of the object at a position, fetched on first use.
        func view(at k: Int) -> SymbolTable.View? {
            if !fetched[k] {
                tables[k] = chain[k].exports.facts?.table
                views[k] = tables[k]?.view
                fetched[k] = true
            }
            return views[k]
        }

        /// find_sym from chain[start]: the first acceptable definition, and the first library
        /// known by name only that could define the name (a profile's library).
        func findSym(_ name: NameBytes, hash: UInt64, from start: Int, asker: Int, sym: UnsafePointer<DynamicSymbol>,
                     ownShortcut: Bool) -> (def: Int, opaque: Int) {
            var opaqueCandidate = -1
            var glibcChecked = false
            var k = start
            while k < chain.count {
                defer { k += 1 }
                if opaque[k] {
                    // A library known by name only could define anything but glibc's own symbols.
                    if opaqueCandidate < 0 {
                        if !glibcChecked { glibcChecked = true; if glibcNames.find(name, hash: hash) != nil { continue } } else { continue }
                        opaqueCandidate = k
                    }
                    continue
                }
                if ownShortcut && k == asker {
                    if ExportTable.accepts(sym) { return (k, opaqueCandidate) }
                    continue
                }
                if let v = view(at: k), v.contains(name, hash: hash) { return (k, opaqueCandidate) }
            }
            return (-1, opaqueCandidate)
        }

        for (position, dso) in chain.enumerated() {
            guard let file = dso.file, dso.kind == .app || dso.kind == .elf, let facts = dso.exports.facts else { continue }
            // At run time (dlopen) only the newly loaded objects are relocated.
            if module != nil && !dso.runtime { continue }
            let isArtifact = dso === head || dso === module
            let objectName = isArtifact ? displayPath : dso.name
            // Without version definitions a name is in the table at most once, so the object's own
            // entry for a referenced symbol is that symbol itself: no table lookup needed.
            let ownShortcut = file.versionDefinitions.isEmpty
            let isHead = position == 0
            // The names an earlier load found defined, by objects that are all in this load too,
            // are found again: only the references it could not resolve are looked at.
            let orderFree = !hasGcompat && !facts.hasOrderSensitiveReferences
            var only: [Int]? = nil
            if orderFree, let known = facts.resolution, known.definers.allSatisfy(present.contains) { only = known.unresolved }
            var recording = orderFree && only == nil
            var unresolved: [Int] = []
            if recording { for k in usedDefiner.indices { usedDefiner[k] = false } }
            // Without gcompat, references the object defines itself need no look (see above).
            let references = hasGcompat ? facts.references : facts.lookups
            file.symbols.withUnsafeBufferPointer { symbols in
                let base = symbols.baseAddress!
                for j in 0..<(only?.count ?? references.count) {
                    let refIndex = only?[j] ?? j
                    let ref = references[refIndex]
                    let sym = base + ref.index
                    let use = sym.pointee.relocationUse
                    let copy = use.contains(.copy)
                    // An object that defines the symbol itself always finds a definition (its own or
                    // an earlier one): nothing to report unless gcompat or initial-exec TLS is involved.
                    if !copy && !use.contains(.tlsInitialExec) && ExportTable.accepts(sym) {
                        if !hasGcompat { continue }
                        // With gcompat, only a gcompat object loaded before this one and defining the
                        // name could be the definer that matters (the symbol then comes from gcompat).
                        if !gcompatViews.contains(where: { $0.position < position && $0.view.contains(sym.pointee.nameBytes, hash: ref.hash) }) {
                            continue
                        }
                    }
                    // Fast path: the object is first in lookup order and defines the symbol itself.
                    if !copy && isHead && ExportTable.accepts(sym) {
                        if use.contains(.tlsInitialExec) && dso.runtime {
                            let name = sym.pointee.name
                            run.outcome.errors.append(LoaderError(
                                kind: .initialExecTLS, object: objectName, subject: name,
                                message: "Error relocating \(objectName): \(name): initial-exec TLS resolves to dynamic definition in \(objectName)",
                                inArtifact: isArtifact))
                        }
                        continue
                    }
                    // The name is read in place (no string) until something is to be reported; the
                    // file's symbols, and so their names, live while the load runs.
                    let nameBytes = sym.pointee.nameBytes
                    // find_sym from head (or past the main program for COPY); first acceptable definition wins.
                    let found: (def: Int, opaque: Int)
                    if copy {
                        found = findSym(nameBytes, hash: ref.hash, from: 1, asker: position, sym: sym, ownShortcut: ownShortcut)
                    } else if let memo {
                        if let hit = memo.find(nameBytes, hash: ref.hash) {
                            found = hit
                        } else if let definers, !use.contains(.tlsInitialExec),
                                  case let id = definers.knownDefiner(hash: ref.hash, in: present, defines: { k in
                                      view(at: k)?.contains(nameBytes, hash: ref.hash) ?? false
                                  }), id != 0 {
                            if recording { usedDefiner[present.position(of: id)] = true }
                            continue
                        } else {
                            found = findSym(nameBytes, hash: ref.hash, from: 0, asker: position, sym: sym, ownShortcut: ownShortcut)
                            memo.insert(nameBytes, hash: ref.hash, found)
                            if let definers, found.def >= 0, let id = chain[found.def].exports.facts?.id {
                                definers.record(hash: ref.hash, definer: id)
                            }
                        }
                    } else {
                        found = findSym(nameBytes, hash: ref.hash, from: 0, asker: position, sym: sym, ownShortcut: ownShortcut)
                    }
                    if recording {
                        if found.def < 0 {
                            unresolved.append(refIndex)
                        } else if hasFacts[found.def] {
                            usedDefiner[found.def] = true
                        } else {
                            recording = false
                        }
                    }
                    // Found, from an object that is neither gcompat nor a runtime module with
                    // initial-exec TLS: nothing to note (read from flags, not from the objects).
                    if found.def >= 0 && !isGcompat[found.def] && !(use.contains(.tlsInitialExec) && isRuntime[found.def]) { continue }
                    let def: DSO? = found.def >= 0 ? chain[found.def] : nil
                    let name = nameBytes.string
                    if def == nil, let h = host, h.providesPrefixes.contains(where: { name.utf8.starts(with: $0.utf8) }) {
                        hostProvided.append(name)
                        continue
                    }
                    if def == nil, hasOpaque, found.opaque >= 0 {
                        let o = chain[found.opaque]
                        unverified.append((name, ref.hash, o.shortname ?? o.name))
                        continue
                    }
                    // get_lfs64 (musl 1.2.4+): NAME64 → NAME, searched from libc on.
                    if def == nil, target.lfs64Shim, let libcIndex,
                       let base = getLFS64(name, names: lfs64Names, special: lfs64.special, bufferSize: lfs64.bufferSize) {
                        let h = symbolHash(base)
                        if chain[libcIndex...].contains(where: { !$0.exports.isOpaque && $0.exports.defines(base, hash: h) }) {
                            run.outcome.lfs64Mapped.append(name)
                            continue
                        }
                    }
                    if let def {
                        if def.kind == .gcompat { run.outcome.fromGcompat.append(name) }
                        // Initial-exec TLS must resolve to a module loaded at startup.
                        if use.contains(.tlsInitialExec) && def.runtime {
                            run.outcome.errors.append(LoaderError(
                                kind: .initialExecTLS, object: objectName, subject: name,
                                message: "Error relocating \(objectName): \(name): initial-exec TLS resolves to dynamic definition in \(def === head || def === module ? displayPath : def.name)",
                                inArtifact: isArtifact))
                        }
                        continue
                    }
                    // Not found: an error unless a weak undefined reference.
                    if !sym.pointee.isDefined && sym.pointee.binding == .STB_WEAK {
                        run.outcome.weakUnresolved.append(name)
                        continue
                    }
                    var reason = LoaderError.SymbolReason.notFound
                    var definedIn: String? = nil
                    for (k, d) in chain.enumerated() where !opaque[k] {
                        let r: ExportTable.Rejection?
                        if d === dso && ownShortcut {
                            if case .some(.some(let why)) = ExportTable.judge(sym) { r = why } else { r = nil }
                        } else {
                            // Through the tables fetched for find_sym; a table without rejected
                            // definitions has no reason to give.
                            _ = view(at: k)
                            guard let table = tables[k], table.count > table.acceptedCount else { continue }
                            switch table.view.find(name, hash: ref.hash) {
                            case .ifunc: r = .ifunc
                            case .hidden: r = .hidden
                            case .zeroValue: r = .zeroValue
                            default: r = nil
                            }
                        }
                        if let r {
                            switch r {
                            case .ifunc: reason = .ifuncOnly
                            case .hidden: reason = .hiddenOnly
                            case .zeroValue: reason = .zeroValueOnly
                            }
                            definedIn = d === head || d === module ? displayPath : d.name
                            break
                        }
                    }
                    if reason == .notFound && target.lfs64Shim && name == "posix_fallocate64" { reason = .lfs64Bug }
                    run.outcome.errors.append(LoaderError(
                        kind: .missingSymbol, object: objectName, subject: name,
                        message: "Error relocating \(objectName): \(name): symbol not found",
                        symbolReason: reason, definedIn: definedIn, inArtifact: isArtifact,
                        library: sym.pointee.library))
                }
            }
            if recording {
                facts.resolution = LinkFacts.Resolution(
                    definers: usedDefiner.indices.filter { usedDefiner[$0] }.compactMap { chain[$0].exports.facts?.id },
                    unresolved: unresolved)
            }
            // Initial-exec TLS relocations of the object's own TLS, in a module loaded with dlopen.
            if dso.runtime && file.relocations.localTLSInitialExec > 0 {
                run.outcome.errors.append(LoaderError(
                    kind: .initialExecTLS, object: objectName, subject: "(local)",
                    message: "Error relocating \(objectName): initial-exec TLS resolves to dynamic definition in \(objectName)",
                    count: file.relocations.localTLSInitialExec, inArtifact: isArtifact))
            }
            // Relocation types musl's arch/*/reloc.h does not name.
            if let supported {
                for (type, count) in file.relocations.countsByType.sorted(by: { $0.key < $1.key }) where !supported.contains(type) {
                    run.outcome.errors.append(LoaderError(
                        kind: .unsupportedRelocation, object: objectName, subject: "\(type)",
                        message: "Error relocating \(objectName): unsupported relocation type \(type)",
                        count: count, inArtifact: isArtifact))
                }
            }
            if file.dynamic?.hasRELR == true && !target.supportsRELR {
                run.outcome.errors.append(LoaderError(
                    kind: .relrUnsupported, object: objectName, subject: "DT_RELR",
                    message: "\(objectName): DT_RELR relocations are ignored by musl \(target.muslVersion ?? "before 1.2.4"); the program crashes after loading",
                    inArtifact: isArtifact))
            }
        }
        hostProvided.sort()
        run.outcome.hostProvided = hostProvided.indices.compactMap { i in i > 0 && hostProvided[i] == hostProvided[i - 1] ? nil : hostProvided[i] }
        run.outcome.unverified = Self.distinct(unverified)
    }

    /// The entries whose symbol was not met before (order kept), through a set of their hashes.
    static func distinct(_ entries: [(symbol: String, hash: UInt64, library: String)]) -> [(symbol: String, library: String)] {
        if entries.count < 2 { return entries.map { ($0.symbol, $0.library) } }
        var size = 16
        while size < entries.count * 2 { size <<= 1 }
        var slots = [Int](repeating: -1, count: size)
        var out: [(symbol: String, library: String)] = []
        out.reserveCapacity(entries.count)
        next: for i in entries.indices {
            var k = Int(truncatingIfNeeded: entries[i].hash) & (size - 1)
            while slots[k] >= 0 {
                let j = slots[k]
                if entries[j].hash == entries[i].hash && entries[j].symbol == entries[i].symbol { continue next }
                k = (k + 1) & (size - 1)
            }
            slots[k] = i
            out.append((entries[i].symbol, entries[i].library))
        }
        return out
    }

    /// get_lfs64 (ldso/dynlink.c, musl 1.2.4/1.2.5): the base name a missing NAME64 maps to.
    func getLFS64(_ name: String, names: Set<String>, special: [String: String], bufferSize: Int) -> String? {
        let bytes = name.utf8
        // The copy into char buf[16] gives up at the 17th character.
        if bytes.count > bufferSize { return nil }
        if let mapped = special[name] { return mapped }
        guard bytes.count >= 2, bytes.reversed().starts(with: "46".utf8) else { return nil }
        let base = String(decoding: bytes.dropLast(2), as: UTF8.self)
        return names.contains(base) ? base : nil
    }
}

/// An artifact's export table, made once when first needed and shared by the runs of one
/// analysis (the target, its gcompat variant, the preloaded run).
public final class ArtifactExports: @unchecked Sendable {
    let file: ELFFile
    private var built: ExportTable?
    public init(_ file: ELFFile) { self.file = file }
    var table: ExportTable {
        if let built { return built }
        let t = ExportTable(file: file)
        built = t
        return t
    }
}
