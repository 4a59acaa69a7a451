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
        /// glibc: a version need the library loaded under that name does not define.
        case missingVersion
        /// glibc: a symbol only PLT relocations use, in an object bound lazily: it fails when first called.
        case lazySymbol
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
    /// For a missing symbol on glibc: the version the reference asks for.
    public var version: String? = nil
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
    /// Problems that do not stop the load (glibc: a weak version need, a lazily bound symbol).
    public var deferred: [LoaderError] = []
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
            // gcompat's libgcompat.so.0 and its ld-linux stub are musl programs: each needs musl's
            // libc, which their turn loads (and so puts in the lookup order). A libgcompat read
            // from the target has its own DT_NEEDED.
            if p.source == .gcompat && p.file == nil { run.appendLibc(); continue }
            guard let file = p.file, p.kind == .app || p.kind == .elf || p.kind == .gcompat else { continue }
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

        relocate(run: run, head: head, module: module, displayPath: displayPath, host: host)
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

    // MARK: - reloc_all

    /// Mirrors musl's reloc_all (ldso/dynlink.c): relocates the objects in load order into the run's outcome.
    func relocate(run: Run, head: DSO, module: DSO?, displayPath: String, host: CompatData.HostSpec?) {
        let list = LoadList(chain: run.chain, libc: run.libc, head: head, module: module, displayPath: displayPath)
        let caches = LookupCaches.take(for: list)
        defer { caches.give() }
        var pass = RelocationPass(target: target, host: host, list: list, run: run)
        for (position, dso) in list.chain.enumerated() {
            guard let file = dso.file, dso.kind == .app || dso.kind == .elf, let facts = dso.exports.facts else { continue }
            // At run time (dlopen) only the newly loaded objects are relocated.
            if module != nil && !dso.runtime { continue }
            let object = RelocationPass.Object(
                position: position, dso: dso, name: list.displayName(dso), isArtifact: dso === head || dso === module,
                ownShortcut: file.versionDefinitions.isEmpty)
            pass.doRelocs(object, file: file, facts: facts, caches: caches)
            pass.checkSymbolFreeRelocations(object, file: file)
        }
        var hostProvided = pass.hostProvided
        hostProvided.sort()
        run.outcome.hostProvided = hostProvided.indices.compactMap { i in i > 0 && hostProvided[i] == hostProvided[i - 1] ? nil : hostProvided[i] }
        run.outcome.unverified = Self.distinct(pass.unverified)
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

    /// Mirrors musl's get_lfs64 (ldso/dynlink.c, musl 1.2.4/1.2.5): the base name a missing NAME64 maps to.
    static func getLFS64(_ name: String, names: Set<String>, special: [String: String], bufferSize: Int) -> String? {
        let bytes = name.utf8
        // The copy into char buf[16] gives up at the 17th character.
        if bytes.count > bufferSize { return nil }
        if let mapped = special[name] { return mapped }
        guard bytes.count >= 2, bytes.reversed().starts(with: "46".utf8) else { return nil }
        let base = String(decoding: bytes.dropLast(2), as: UTF8.self)
        return names.contains(base) ? base : nil
    }
}

// MARK: - do_relocs, find_sym, get_lfs64

extension LoaderSimulation {
    /// One load's objects in load order, and what relocation asks of each by position (read from
    /// these flags, not from the objects, on the hot path).
    struct LoadList {
        let chain: [DSO]
        let head: DSO
        let module: DSO?
        let displayPath: String
        let libcIndex: Int?
        /// Libraries known by name only (their exports are not known).
        let opaque: [Bool]
        let hasFacts: [Bool]
        let isGcompat: [Bool]
        let isRuntime: [Bool]
        let hasOpaque: Bool
        let hasGcompat: Bool
        /// gcompat's objects and their tables (the objects' export facts hold the tables for the
        /// load), with the tables' views.
        let gcompatTables: [(position: Int, table: SymbolTable)]
        let gcompatViews: [(position: Int, view: SymbolTable.View)]

        init(chain: [DSO], libc: DSO, head: DSO, module: DSO?, displayPath: String) {
            self.chain = chain
            self.head = head
            self.module = module
            self.displayPath = displayPath
            libcIndex = chain.firstIndex { $0 === libc }
            opaque = chain.map { $0.exports.isOpaque }
            hasFacts = chain.map { $0.exports.facts != nil }
            isGcompat = chain.map { $0.kind == .gcompat }
            isRuntime = chain.map(\.runtime)
            hasOpaque = opaque.contains(true)
            hasGcompat = chain.contains { $0.kind == .gcompat }
            gcompatTables = chain.enumerated().compactMap { k, d in
                d.kind == .gcompat ? d.exports.facts.map { (k, $0.table) } : nil
            }
            gcompatViews = gcompatTables.map { (position: $0.position, view: $0.table.view) }
        }

        /// The name the loader's messages give an object (the artifact: its display path).
        func displayName(_ d: DSO) -> String { d === head || d === module ? displayPath : d.name }
    }

    /// The caches in front of find_sym for one load, lent from their pools until `give`.
    struct LookupCaches {
        /// find_sym from the head gives the same answer for a name whichever object asks, so each
        /// name is looked up once per load.
        let memo: LookupMemo?
        /// Long lists are walked again and again for the same names by loads of related artifacts
        /// (plugins of one toolchain, libraries of one package): what earlier loads learnt about
        /// which object defines a name is checked first. It answers only "defined, nothing to
        /// report", so it is not asked when gcompat or initial-exec TLS needs the exact definer.
        let definers: DefinerCache?
        /// The load's objects by LinkFacts id: how the definers and an earlier load's resolution
        /// (LinkFacts.Resolution) name them.
        let present: IDSet

        static func take(for list: LoadList) -> LookupCaches {
            // The memo is worth it only when several objects are relocated against a long list; a
            // short walk costs less than remembering its answer.
            let relocated = list.chain.filter {
                ($0.kind == .app || $0.kind == .elf) && $0.file != nil && (list.module == nil || $0.runtime)
            }.count
            let memo: LookupMemo? = relocated >= 2 && list.chain.count >= 6 ? LookupMemo.take() : nil
            let definers: DefinerCache? = memo != nil && !list.hasGcompat ? DefinerCache.take() : nil
            let present = IDSet(list.hasGcompat ? [] : list.chain.enumerated().compactMap { k, d in
                d.exports.isOpaque ? nil : d.exports.facts.map { ($0.id, k) }
            })
            return LookupCaches(memo: memo, definers: definers, present: present)
        }

        func give() {
            if let definers { DefinerCache.give(definers) }
            if let memo { LookupMemo.give(memo) }
        }
    }

    /// The load's definition tables by position, fetched on first use. The tables stay alive in
    /// `tables` while their views (no reference counting per lookup) are read.
    struct DefinitionTables {
        private let chain: [DSO]
        private var tables: [SymbolTable?]
        private var views: [SymbolTable.View?]
        private var fetched: [Bool]

        init(chain: [DSO]) {
            self.chain = chain
            tables = [SymbolTable?](repeating: nil, count: chain.count)
            views = [SymbolTable.View?](repeating: nil, count: chain.count)
            fetched = [Bool](repeating: false, count: chain.count)
        }

        /// The definitions table of the object at a position, fetched on first use.
        @inline(__always)
        mutating func view(at k: Int) -> SymbolTable.View? {
            if !fetched[k] {
                tables[k] = chain[k].exports.facts?.table
                views[k] = tables[k]?.view
                fetched[k] = true
            }
            return views[k]
        }

        mutating func table(at k: Int) -> SymbolTable? {
            _ = view(at: k)
            return tables[k]
        }
    }

    /// What one object's relocation learns for a later load (LinkFacts.Resolution): the objects
    /// that defined the names it found, and the references it found no definition for.
    struct ResolutionRecord {
        /// Recording until a definer without facts is met.
        var on = false
        /// By position: the object defined a name this object found.
        var used: [Bool]
        var unresolved: [Int] = []

        init(count: Int) { used = [Bool](repeating: false, count: count) }

        mutating func start(_ on: Bool) {
            self.on = on
            unresolved = []
            if on { for k in used.indices { used[k] = false } }
        }

        /// Notes where the reference at `index` (of the object's references) found its definition.
        @inline(__always)
        mutating func note(_ def: Int, reference index: Int, hasFacts: [Bool]) {
            guard on else { return }
            if def < 0 {
                unresolved.append(index)
            } else if hasFacts[def] {
                used[def] = true
            } else {
                on = false
            }
        }

        func resolution(chain: [DSO]) -> LinkFacts.Resolution {
            LinkFacts.Resolution(definers: used.indices.filter { used[$0] }.compactMap { chain[$0].exports.facts?.id },
                                 unresolved: unresolved)
        }
    }

    /// One load's relocation: the objects' references looked up in load order, and what the
    /// loader would hit noted in the run's outcome.
    struct RelocationPass {
        /// find_sym's answer: the position of the defining object (-1: none), and of the first
        /// library known by name only that could define the name (-1: none).
        typealias SymDef = (def: Int, opaque: Int)

        /// The object being relocated (do_relocs' dso).
        struct Object {
            let position: Int
            let dso: DSO
            /// The name the loader's messages give it.
            let name: String
            /// The object is the artifact itself.
            let isArtifact: Bool
            /// Without version definitions a name is in the table at most once, so the object's own
            /// entry for a referenced symbol is that symbol itself: no table lookup needed.
            let ownShortcut: Bool
            var isHead: Bool { position == 0 }
        }

        let target: Target
        let host: CompatData.HostSpec?
        let list: LoadList
        let run: Run
        let glibcNames: SymbolTable.View
        var tables: DefinitionTables
        var record: ResolutionRecord
        /// Symbols the host program provides (sorted and made distinct at the end).
        var hostProvided: [String] = []
        /// Names met more than once are dropped at the end, by the hashes already at hand (cheaper
        /// than hashing every name again into a Set or Dictionary as it comes).
        var unverified: [(symbol: String, hash: UInt64, library: String)] = []

        init(target: Target, host: CompatData.HostSpec?, list: LoadList, run: Run) {
            self.target = target
            self.host = host
            self.list = list
            self.run = run
            glibcNames = target.data.glibcNames.view
            tables = DefinitionTables(chain: list.chain)
            record = ResolutionRecord(count: list.chain.count)
        }

        /// Mirrors musl's do_relocs (ldso/dynlink.c): looks up each symbol the object's relocations name.
        mutating func doRelocs(_ object: Object, file: ELFFile, facts: LinkFacts, caches: LookupCaches) {
            // The names an earlier load found defined, by objects that are all in this load too,
            // are found again: only the references it could not resolve are looked at.
            let orderFree = !list.hasGcompat && !facts.hasOrderSensitiveReferences
            var only: [Int]? = nil
            if orderFree, let known = facts.resolution, known.definers.allSatisfy(caches.present.contains) { only = known.unresolved }
            record.start(orderFree && only == nil)
            // Without gcompat, references the object defines itself need no look (see needsLookup).
            let references = list.hasGcompat ? facts.references : facts.lookups
            file.symbols.withUnsafeBufferPointer { symbols in
                let base = symbols.baseAddress!
                for j in 0..<(only?.count ?? references.count) {
                    let refIndex = only?[j] ?? j
                    let ref = references[refIndex]
                    let sym = base + ref.index
                    guard needsLookup(sym, hash: ref.hash, object) else { continue }
                    let found = findSym(sym, hash: ref.hash, object, caches: caches)
                    record.note(found.def, reference: refIndex, hasFacts: list.hasFacts)
                    // Found, from an object that is neither gcompat nor a runtime module with
                    // initial-exec TLS: nothing to note (read from flags, not from the objects).
                    if found.def >= 0 && !list.isGcompat[found.def]
                        && !(sym.pointee.relocationUse.contains(.tlsInitialExec) && list.isRuntime[found.def]) { continue }
                    noteLookup(found, sym: sym, hash: ref.hash, object)
                }
            }
            if record.on { facts.resolution = record.resolution(chain: list.chain) }
        }

        /// Mirrors do_relocs (ldso/dynlink.c) for a symbol the object defines: false when no lookup can change the outcome.
        @inline(__always)
        func needsLookup(_ sym: UnsafePointer<DynamicSymbol>, hash: UInt64, _ object: Object) -> Bool {
            let use = sym.pointee.relocationUse
            guard !use.contains(.copy), ExportTable.accepts(sym) else { return true }
            // An object that defines the symbol itself always finds a definition (its own or an
            // earlier one): nothing to report unless gcompat or initial-exec TLS is involved.
            if !use.contains(.tlsInitialExec) {
                if !list.hasGcompat { return false }
                // With gcompat, only a gcompat object loaded before this one and defining the
                // name could be the definer that matters (the symbol then comes from gcompat).
                let name = sym.pointee.nameBytes
                if !list.gcompatViews.contains(where: { $0.position < object.position && $0.view.contains(name, hash: hash) }) { return false }
            }
            // Fast path: the object is first in lookup order and defines the symbol itself.
            guard object.isHead else { return true }
            if use.contains(.tlsInitialExec) && object.dso.runtime {
                let name = sym.pointee.name
                run.outcome.errors.append(LoaderError(
                    kind: .initialExecTLS, object: object.name, subject: name,
                    message: "Error relocating \(object.name): \(name): initial-exec TLS resolves to dynamic definition in \(object.name)",
                    inArtifact: object.isArtifact))
            }
            return false
        }

        /// Mirrors musl's find_sym (ldso/dynlink.c): the definition from the head (COPY: past it), through the caches.
        mutating func findSym(_ sym: UnsafePointer<DynamicSymbol>, hash: UInt64, _ object: Object, caches: LookupCaches) -> SymDef {
            // The name is read in place (no string) until something is to be reported; the
            // file's symbols, and so their names, live while the load runs.
            let name = sym.pointee.nameBytes
            let use = sym.pointee.relocationUse
            if use.contains(.copy) { return findSym2(name, hash: hash, from: 1, object, sym: sym) }
            guard let memo = caches.memo else { return findSym2(name, hash: hash, from: 0, object, sym: sym) }
            if let hit = memo.find(name, hash: hash) { return hit }
            // An object known to define the name: it stands for the definer (not always the
            // first), which is all a reference needs when neither gcompat nor TLS is involved.
            if let definers = caches.definers, !use.contains(.tlsInitialExec) {
                let id = definers.knownDefiner(hash: hash, in: caches.present) { k in
                    tables.view(at: k)?.contains(name, hash: hash) ?? false
                }
                if id != 0 { return (caches.present.position(of: id), -1) }
            }
            let found = findSym2(name, hash: hash, from: 0, object, sym: sym)
            memo.insert(name, hash: hash, found)
            if let definers = caches.definers, found.def >= 0, let id = list.chain[found.def].exports.facts?.id {
                definers.record(hash: hash, definer: id)
            }
            return found
        }

        /// Mirrors musl's find_sym2 (ldso/dynlink.c): the first acceptable definition from `start`, and the first opaque library.
        mutating func findSym2(_ name: NameBytes, hash: UInt64, from start: Int, _ object: Object,
                               sym: UnsafePointer<DynamicSymbol>) -> SymDef {
            var opaqueCandidate = -1
            var glibcChecked = false
            var k = start
            while k < list.chain.count {
                defer { k += 1 }
                if list.opaque[k] {
                    // A library known by name only could define anything but glibc's own symbols.
                    if opaqueCandidate < 0 {
                        if !glibcChecked { glibcChecked = true; if glibcNames.find(name, hash: hash) != nil { continue } } else { continue }
                        opaqueCandidate = k
                    }
                    continue
                }
                if object.ownShortcut && k == object.position {
                    if ExportTable.accepts(sym) { return (k, opaqueCandidate) }
                    continue
                }
                if let v = tables.view(at: k), v.contains(name, hash: hash) { return (k, opaqueCandidate) }
            }
            return (-1, opaqueCandidate)
        }

        /// Mirrors do_relocs (ldso/dynlink.c) past find_sym: the initial-exec TLS check, or a missing symbol.
        mutating func noteLookup(_ found: SymDef, sym: UnsafePointer<DynamicSymbol>, hash: UInt64, _ object: Object) {
            let name = sym.pointee.nameBytes.string
            guard found.def >= 0 else { return noteMissing(found, name: name, sym: sym, hash: hash, object) }
            let def = list.chain[found.def]
            if def.kind == .gcompat { run.outcome.fromGcompat.append(name) }
            // Initial-exec TLS must resolve to a module loaded at startup.
            if sym.pointee.relocationUse.contains(.tlsInitialExec) && def.runtime {
                run.outcome.errors.append(LoaderError(
                    kind: .initialExecTLS, object: object.name, subject: name,
                    message: "Error relocating \(object.name): \(name): initial-exec TLS resolves to dynamic definition in \(list.displayName(def))",
                    inArtifact: object.isArtifact))
            }
        }

        /// Mirrors do_relocs (ldso/dynlink.c) for a name find_sym did not find: get_lfs64, a weak reference, or an error.
        mutating func noteMissing(_ found: SymDef, name: String, sym: UnsafePointer<DynamicSymbol>, hash: UInt64, _ object: Object) {
            if let host, host.providesPrefixes.contains(where: { name.utf8.starts(with: $0.utf8) }) {
                hostProvided.append(name)
                return
            }
            if list.hasOpaque, found.opaque >= 0 {
                let o = list.chain[found.opaque]
                unverified.append((name, hash, o.shortname ?? o.name))
                return
            }
            if getLFS64Finds(name) {
                run.outcome.lfs64Mapped.append(name)
                return
            }
            // Not found: an error unless a weak undefined reference.
            if !sym.pointee.isDefined && sym.pointee.binding == .STB_WEAK {
                run.outcome.weakUnresolved.append(name)
                return
            }
            symbolNotFound(name, sym: sym, hash: hash, object)
        }

        /// Mirrors do_relocs' error "symbol not found" (ldso/dynlink.c), with why no definition was accepted.
        mutating func symbolNotFound(_ name: String, sym: UnsafePointer<DynamicSymbol>, hash: UInt64, _ object: Object) {
            var reason = LoaderError.SymbolReason.notFound
            var definedIn: String? = nil
            if let rejected = rejectedDefinition(name, sym: sym, hash: hash, object) {
                switch rejected.why {
                case .ifunc: reason = .ifuncOnly
                case .hidden: reason = .hiddenOnly
                case .zeroValue: reason = .zeroValueOnly
                }
                definedIn = list.displayName(rejected.definer)
            }
            if reason == .notFound && target.lfs64Shim && name == "posix_fallocate64" { reason = .lfs64Bug }
            run.outcome.errors.append(LoaderError(
                kind: .missingSymbol, object: object.name, subject: name,
                message: "Error relocating \(object.name): \(name): symbol not found",
                symbolReason: reason, definedIn: definedIn, inArtifact: object.isArtifact,
                library: sym.pointee.library))
        }

        /// Mirrors musl's get_lfs64 (ldso/dynlink.c, 1.2.4+): whether a missing NAME64 is found as NAME from libc on.
        func getLFS64Finds(_ name: String) -> Bool {
            let lfs64 = target.data.loader.lfs64
            guard target.lfs64Shim, let libcIndex = list.libcIndex,
                  let base = LoaderSimulation.getLFS64(name, names: target.data.lfs64Names, special: lfs64.special,
                                                       bufferSize: lfs64.bufferSize) else { return false }
            let h = symbolHash(base)
            return list.chain[libcIndex...].contains(where: { !$0.exports.isOpaque && $0.exports.defines(base, hash: h) })
        }

        /// Mirrors find_sym2's checks (ldso/dynlink.c): the first object whose definition of the name they reject, and why.
        mutating func rejectedDefinition(_ name: String, sym: UnsafePointer<DynamicSymbol>, hash: UInt64,
                                         _ object: Object) -> (why: ExportTable.Rejection, definer: DSO)? {
            for (k, d) in list.chain.enumerated() where !list.opaque[k] {
                let r: ExportTable.Rejection?
                if d === object.dso && object.ownShortcut {
                    if case .some(.some(let why)) = ExportTable.judge(sym) { r = why } else { r = nil }
                } else {
                    // Through the tables fetched for find_sym; a table without rejected
                    // definitions has no reason to give.
                    guard let table = tables.table(at: k), table.count > table.acceptedCount else { continue }
                    switch table.view.find(name, hash: hash) {
                    case .ifunc: r = .ifunc
                    case .hidden: r = .hidden
                    case .zeroValue: r = .zeroValue
                    default: r = nil
                    }
                }
                if let r { return (r, d) }
            }
            return nil
        }

        /// Mirrors do_relocs' symbol-free checks and reloc_all's do_relr_relocs (ldso/dynlink.c): local TLS, types, DT_RELR.
        func checkSymbolFreeRelocations(_ object: Object, file: ELFFile) {
            // Initial-exec TLS relocations of the object's own TLS, in a module loaded with dlopen.
            if object.dso.runtime && file.relocations.localTLSInitialExec > 0 {
                run.outcome.errors.append(LoaderError(
                    kind: .initialExecTLS, object: object.name, subject: "(local)",
                    message: "Error relocating \(object.name): initial-exec TLS resolves to dynamic definition in \(object.name)",
                    count: file.relocations.localTLSInitialExec, inArtifact: object.isArtifact))
            }
            // Relocation types musl's arch/*/reloc.h does not name.
            if let supported = target.supportedRelocations {
                for (type, count) in file.relocations.countsByType.sorted(by: { $0.key < $1.key }) where !supported.contains(type) {
                    run.outcome.errors.append(LoaderError(
                        kind: .unsupportedRelocation, object: object.name, subject: "\(type)",
                        message: "Error relocating \(object.name): unsupported relocation type \(type)",
                        count: count, inArtifact: object.isArtifact))
                }
            }
            if file.dynamic?.hasRELR == true && !target.supportsRELR {
                run.outcome.errors.append(LoaderError(
                    kind: .relrUnsupported, object: object.name, subject: "DT_RELR",
                    message: "\(object.name): DT_RELR relocations are ignored by musl \(target.muslVersion ?? "before 1.2.4"); the program crashes after loading",
                    inArtifact: object.isArtifact))
            }
        }
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
