import ELF
import Foundation

/// Which files glibc's loader maps for an object, and in what order, in a root filesystem: the
/// breadth-first walk over DT_NEEDED of elf/dl-deps.c (_dl_map_object_deps), each name found as
/// elf/dl-load.c's _dl_map_object finds it. Symbols and versions are not resolved here.
public struct GlibcLibrarySearch {
    /// One object of the load, in the loader's order.
    public struct Loaded: Sendable, Hashable {
        /// The name it was asked for (DT_NEEDED).
        public var name: String
        /// Where it was found, as seen inside the root.
        public var path: String
        public init(name: String, path: String) {
            self.name = name
            self.path = path
        }
    }

    public struct Outcome: Sendable {
        public var loaded: [Loaded] = []
        /// Names no search found, in the order they were asked for ("libfoo.so.1 => not found").
        public var missing: [String] = []
        /// Version needs no loaded object defines, in glibc's words (elf/dl-version.c).
        public var versionErrors: [String] = []
        /// Weak version needs (VER_FLG_WEAK) no loaded object defines: the load goes on.
        public var weakVersionsMissing: [String] = []
    }

    /// The root filesystem ("/" for the machine itself, or a sysroot or an image's files).
    public let root: String
    public let cache: LoaderCache?
    /// The cache entries' flags for this machine (LoaderCache.libc6Flags).
    public let cacheFlags: Int32?
    /// The system directories, searched last (Debian x86-64: the multiarch ones first).
    public let systemDirectories: [String]
    /// LD_LIBRARY_PATH.
    public var libraryPath: [String] = []
    /// What $LIB expands to ("lib/x86_64-linux-gnu" on Debian x86-64) and $PLATFORM.
    public var libExpansion = "lib/x86_64-linux-gnu"
    public var platform = "x86_64"
    let machine: ELFMachine
    let elfClass: ELFClass

    public init(root: String, machine: ELFMachine, elfClass: ELFClass, systemDirectories: [String]) throws {
        self.root = root == "/" ? "" : (root.hasSuffix("/") ? String(root.dropLast()) : root)
        self.machine = machine
        self.elfClass = elfClass
        self.systemDirectories = systemDirectories
        cache = try LoaderCache.read(root: root)
        cacheFlags = LoaderCache.libc6Flags(elfMachine: machine.rawValue, is64: elfClass == .ELFCLASS64)
    }

    /// The load of a program (or library) at `path` inside the root. `interpreter`: the loader
    /// that runs it when the object names none (a library: the machine's glibc loader), which is
    /// in the link map from the start. `shownAs`: how messages name the object (default: `path`).
    public func load(_ file: ELFFile, path: String, interpreter: String? = nil, shownAs: String? = nil) -> Outcome {
        var out = Outcome()
        var search = GlibcLinkMap.Search()
        search.libraryPath = libraryPath
        search.systemDirectories = systemDirectories
        search.libExpansion = libExpansion
        search.platform = platform
        if let cache, let flags = cacheFlags { search.cache = { cache.lookup($0, flags: flags) } }
        var map = GlibcLinkMap(files: RootFiles(owner: self), search: search)
        let main = GlibcLinkMap.Object(image: GlibcImage(file: file), path: path, identity: realPath(path) ?? path, names: [],
                                       loader: nil, source: .artifactTree, package: nil)
        map.add(main)
        // The interpreter is loaded already: a DT_NEEDED of its soname is satisfied by it.
        if let interp = file.interpreter ?? interpreter, let real = realPath(interp), let f = read(interp) {
            map.add(GlibcLinkMap.Object(image: GlibcImage(file: f), path: interp, identity: real,
                                        names: Set([interp] + (f.soname.map { [$0] } ?? [])), loader: nil, source: .libc, package: nil),
                    inMap: false)
        }
        _ = map.loadDependencies(of: [main], bindNow: false)
        // In load order, each under the name it was first asked for.
        out.loaded = map.objects.dropFirst().filter { $0.source != .libc }.map { o in
            Loaded(name: map.firstName(o), path: o.path)
        }
        out.missing = map.missing.map(\.name)
        let shown = shownAs ?? path
        for p in map.checkVersions(map.objects) {
            let requirer = p.requirer === main ? shown : p.requirer.path
            let message = "\(shown): \(p.provider.path): version `\(p.version)' not found (required by \(requirer))"
            if p.weak { out.weakVersionsMissing.append(message) } else { out.versionErrors.append(message) }
        }
        return out
    }

    /// The root's files, read from disk.
    struct RootFiles: GlibcFiles {
        let owner: GlibcLibrarySearch
        func open(_ path: String) -> GlibcFile {
            guard let f = try? ELFReader.read(path: owner.root + path) else { return .missing }
            guard f.header.machine == owner.machine, f.header.fileClass == owner.elfClass else { return .otherClass }
            return .image(GlibcImage(file: f), identity: owner.realPath(path) ?? path, source: .target, package: nil)
        }
    }

    /// An ELF object the loader would take: this machine and class (open_verify skips others).
    func read(_ path: String) -> ELFFile? {
        guard let f = try? ELFReader.read(path: root + path), f.header.machine == machine, f.header.fileClass == elfClass else { return nil }
        return f
    }

    /// The path inside the root, its links resolved (for identity and $ORIGIN).
    func realPath(_ path: String) -> String? {
        guard let p = realpath(root + path, nil) else { return nil }
        defer { free(p) }
        let full = String(cString: p)
        return root.isEmpty ? full : (full.hasPrefix(root) ? String(full.dropFirst(root.count)) : full)
    }
}
