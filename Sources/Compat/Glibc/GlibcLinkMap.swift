import ELF
import Foundation

/// What a path is to glibc's loader (elf/dl-load.c, open_verify).
enum GlibcFile {
    /// An object of the right machine and class. `identity`: the file itself (its real path,
    /// after where it lies: "target:", "tree:").
    case image(GlibcImage, identity: String, source: LoadedLibrary.Source, package: String?)
    /// An ELF file of another machine or class: skipped, the search goes on.
    case otherClass
    /// Not an ELF file: "invalid ELF header", which stops the load.
    case invalid(String)
    case missing
}

/// Where glibc's loader finds files.
protocol GlibcFiles {
    func open(_ path: String) -> GlibcFile
}

/// glibc's link map for one load: the breadth-first walk over DT_NEEDED of elf/dl-deps.c
/// (_dl_map_object_deps), each name found as elf/dl-load.c's _dl_map_object finds it; then the
/// version check of elf/dl-version.c and the symbol lookups of elf/dl-lookup.c.
struct GlibcLinkMap {
    /// A link-map entry.
    final class Object {
        let image: GlibcImage?
        /// l_name: the path it was opened at (shown in messages).
        let path: String
        let identity: String
        var names: Set<String>
        /// The object whose DT_NEEDED brought it in (its DT_RPATH is searched too).
        let loader: Object?
        let source: LoadedLibrary.Source
        let package: String?
        /// Relocated by a dlopen with RTLD_NOW (or by LD_BIND_NOW).
        var bindNow = false
        /// Its DT_RPATH and DT_RUNPATH with $ORIGIN, $LIB and $PLATFORM expanded, made on first use.
        var expandedRpath: [String]?
        var expandedRunpath: [String]?
        /// Its identity's number in the memo of loads (-1: not asked yet).
        var memoID = -1
        init(image: GlibcImage?, path: String, identity: String, names: Set<String>, loader: Object?,
             source: LoadedLibrary.Source, package: String?) {
            self.image = image
            self.path = path
            self.identity = identity
            self.names = names
            self.loader = loader
            self.source = source
            self.package = package
        }
    }

    /// Where a name is looked up: the directories in order, then the cache, then the system ones.
    struct Search {
        var libraryPath: [String] = []
        var cache: (String) -> String? = { _ in nil }
        var systemDirectories: [String] = []
        /// What $LIB and $PLATFORM expand to.
        var libExpansion = "lib/x86_64-linux-gnu"
        var platform = "x86_64"
        /// A library the target lacks that a package provides: (image, path, package).
        var fromPackage: (String) -> (GlibcImage, String, String)? = { _ in nil }
    }

    let files: GlibcFiles
    let search: Search
    /// The link map in load order.
    private(set) var objects: [Object] = []
    private var byIdentity: [String: Object] = [:]
    /// Every name an object answers to (the names it was loaded under, its soname): the first wins.
    private var byName: [String: Object] = [:]
    private(set) var missing: [MissingError] = []
    private var missingNames: Set<String> = []
    /// The identities of `objects` (the loader joins the map only when something needs it).
    private var inMap: Set<String> = []
    /// The objects each object's DT_NEEDED entries resolved to, once its needs were loaded.
    private var dependencies: [ObjectIdentifier: [Object]] = [:]

    /// What searches found and what objects' references leave unanswered by their own
    /// dependencies, kept across loads (nil: not kept). `treeIsStable`: a path in the tree names
    /// the same file in every load.
    let searches: GlibcLoadMemo?
    let residuals: GlibcLoadMemo?
    let treeIsStable: Bool

    init(files: GlibcFiles, search: Search, searches: GlibcLoadMemo? = nil, residuals: GlibcLoadMemo? = nil, treeIsStable: Bool = false) {
        self.files = files
        self.search = search
        self.searches = searches
        self.residuals = residuals
        self.treeIsStable = treeIsStable
    }

    /// Puts an object in the map without loading its needs yet (the program, the loader).
    mutating func add(_ object: Object, inMap: Bool = true) {
        byIdentity[object.identity] = object
        for name in object.names where byName[name] == nil { byName[name] = object }
        if let soname = object.image?.soname, byName[soname] == nil { byName[soname] = object }
        if inMap { enter(object) }
    }

    /// Appends an object to the link map, once.
    private mutating func enter(_ object: Object) {
        if inMap.insert(object.identity).inserted { objects.append(object) }
    }

    mutating func removeMissing(where drop: (MissingError) -> Bool) {
        missing.removeAll(where: drop)
        missingNames = Set(missing.map(\.name))
    }

    /// Loads the needs of `roots` and of everything they bring in, breadth first; returns the
    /// objects in that order, the roots first (an object's local scope).
    mutating func loadDependencies(of roots: [Object], bindNow: Bool) -> [Object] {
        var queue = roots
        var seen = Set(roots.map(\.identity))
        var index = 0
        while index < queue.count {
            let requester = queue[index]
            index += 1
            let recordDependencies = self.dependencies[ObjectIdentifier(requester)] == nil
            var dependencies: [Object] = []
            defer { if recordDependencies { self.dependencies[ObjectIdentifier(requester)] = dependencies } }
            for name in requester.image?.needed ?? [] {
                // _dl_map_object: an object loaded under this name, or with this soname, answers.
                if let known = byName[name] {
                    dependencies.append(known)
                    enter(known)
                    if seen.insert(known.identity).inserted { queue.append(known) }
                    continue
                }
                switch find(name, requester: requester) {
                case .failure(let m):
                    if missingNames.insert(m.name).inserted { missing.append(m) }
                case .success(let (image, path, identity, source, package)):
                    // The same file under another name is the same object.
                    if let same = byIdentity[identity] {
                        dependencies.append(same)
                        same.names.insert(name)
                        if byName[name] == nil { byName[name] = same }
                        enter(same)
                        if seen.insert(same.identity).inserted { queue.append(same) }
                        continue
                    }
                    let object = Object(image: image, path: path, identity: identity, names: [name], loader: requester,
                                        source: source, package: package)
                    object.bindNow = bindNow
                    dependencies.append(object)
                    add(object)
                    seen.insert(identity)
                    queue.append(object)
                }
            }
        }
        return queue
    }

    typealias Found = (GlibcImage, String, String, LoadedLibrary.Source, String?)

    /// _dl_map_object's search for a name: a path as given; else DT_RPATH (of the requester and
    /// the objects that loaded it, when the requester has no DT_RUNPATH), LD_LIBRARY_PATH, the
    /// requester's DT_RUNPATH, ld.so.cache, the system directories (unless DF_1_NODEFLIB).
    func find(_ name: String, requester: Object) -> Result<Found, MissingError> {
        func missing(_ reason: String, notLoadable: Bool = false) -> Result<Found, MissingError> {
            .failure(MissingError(name: name, neededBy: requester, reason: reason, notLoadable: notLoadable))
        }
        func attempt(_ path: String) -> Result<Found, MissingError>? {
            switch files.open(path) {
            case .image(let image, let identity, let source, let package): return .success((image, path, identity, source, package))
            case .invalid(let why): return missing(why, notLoadable: true)
            case .otherClass, .missing: return nil
            }
        }
        if name.contains("/") {
            return attempt(name) ?? missing("No such file or directory")
        }
        var directories: [String] = []
        if requester.image?.runpath.isEmpty ?? true {
            var l: Object? = requester
            while let object = l {
                directories += expanded(object, runpath: false)
                l = object.loader
            }
        }
        directories += search.libraryPath
        directories += expanded(requester, runpath: true)
        let noDefault = requester.image?.noDefaultLibraries ?? false
        // The same name searched in the same directories finds the same file, when every
        // path names the same file from load to load.
        let key = treeIsStable ? name + "\u{1}" + (noDefault ? "1" : "0") + directories.joined(separator: "\u{1}") : nil
        if let key, let searches, let known = searches.search(key) {
            switch known {
            case .foundAt(let path): if let r = attempt(path) { return r }
            case .missing(let reason, let notLoadable): return missing(reason, notLoadable: notLoadable)
            }
        }
        let result = search(name, in: directories, noDefault: noDefault, attempt: attempt) ?? missing("No such file or directory")
        if let key, let searches {
            switch result {
            // Where it was found (a package's library is found again by name).
            case .success(let found) where found.3 != .package: searches.store(search: .foundAt(found.1), for: key)
            case .success: break
            case .failure(let m): searches.store(search: .missing(m.reason, notLoadable: m.notLoadable), for: key)
            }
        }
        return result
    }

    private func search(_ name: String, in directories: [String], noDefault: Bool,
                        attempt: (String) -> Result<Found, MissingError>?) -> Result<Found, MissingError>? {
        for dir in directories {
            if let r = attempt((dir.isEmpty ? "." : dir) + "/" + name) { return r }
        }
        if let path = search.cache(name), let r = attempt(path) { return r }
        if !noDefault {
            for dir in search.systemDirectories {
                if let r = attempt(dir + "/" + name) { return r }
            }
        }
        if let (image, path, package) = search.fromPackage(name) {
            return .success((image, path, "package:" + path, .package, package))
        }
        return nil
    }

    /// An object's DT_RPATH or DT_RUNPATH, expanded once per object (each of its needs searches it).
    func expanded(_ object: Object, runpath: Bool) -> [String] {
        if let done = runpath ? object.expandedRunpath : object.expandedRpath { return done }
        let dirs = expand((runpath ? object.image?.runpath : object.image?.rpath) ?? [], origin: object)
        if runpath { object.expandedRunpath = dirs } else { object.expandedRpath = dirs }
        return dirs
    }

    /// $ORIGIN (the object's folder), $LIB and $PLATFORM in search path entries (_dl_dst_substitute).
    func expand(_ entries: [String], origin object: Object) -> [String] {
        guard !entries.isEmpty else { return [] }
        let base = object.identity.split(separator: ":", maxSplits: 1).last.map(String.init) ?? object.path
        let origin = PathText.parent(base)
        return entries.flatMap { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }.map { e in
            guard e.contains("$") else { return e }
            return e.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
                .replacingOccurrences(of: "${LIB}", with: search.libExpansion).replacingOccurrences(of: "$LIB", with: search.libExpansion)
                .replacingOccurrences(of: "${PLATFORM}", with: search.platform).replacingOccurrences(of: "$PLATFORM", with: search.platform)
        }
    }

    struct MissingError: Error {
        var name: String
        var neededBy: Object
        var reason: String
        var notLoadable: Bool
    }

    /// A version need no loaded object defines (elf/dl-version.c, _dl_check_map_versions).
    struct VersionProblem {
        var requirer: Object
        var provider: Object
        var version: String
        var weak: Bool
    }

    /// Every version an object needs from a file must be defined by the object loaded under that
    /// file's name. A file without version definitions satisfies every need.
    func checkVersions(_ objects: [Object]) -> [VersionProblem] {
        var out: [VersionProblem] = []
        for object in objects {
            guard let file = object.image?.file else { continue }
            for need in file.versionNeeds {
                guard let provider = byName[need.file],
                      let image = provider.image, image.hasVersionDefinitions else { continue }
                for version in need.versions where !image.definedVersions.contains(version.name) {
                    out.append(VersionProblem(requirer: object, provider: provider, version: version.name, weak: version.isWeak))
                }
            }
        }
        return out
    }

    /// An undefined symbol no object in the scope defines.
    struct Unresolved {
        var object: Object
        var name: String
        var version: String?
        /// The file the version need names.
        var library: String?
        /// Only PLT relocations use it, and the object binds lazily: it fails when first called.
        var lazy: Bool
    }

    /// The lookups of _dl_relocate_object for `objects`, each in `scope` (_dl_lookup_symbol_x):
    /// references no object answers, weak ones left out. `provided`: names the host program
    /// defines (reported apart, never unresolved).
    func unresolved(_ objects: [Object], scope: [Object], provided: (String) -> Bool) -> (unresolved: [Unresolved], provided: [String]) {
        var out: [Unresolved] = []
        var fromHost: [String] = []
        for object in objects {
            guard let image = object.image, let file = image.file else { continue }
            let lazyObject = !object.bindNow && !(file.dynamic?.bindNow ?? false)
            // An object's own dependencies are in every scope it is relocated in: what they
            // answer is answered in any map where the same files are its dependencies. Only the
            // rest is looked up in the rest of the scope.
            var references = image.references
            var rest = scope
            if let (residual, closure) = residualReferences(object) {
                references = residual
                if !references.isEmpty { rest = scope.filter { !closure.contains(ObjectIdentifier($0)) } }
            }
            for r in references {
                let found = rest.contains { o in
                    guard let image = o.image, !(r.copy && o === object) else { return false }
                    return image.answers(r.name, hash: r.hash, version: r.version, plt: r.pltOnly)
                }
                if found { continue }
                if provided(r.name) { fromHost.append(r.name); continue }
                out.append(Unresolved(object: object, name: r.name, version: r.version, library: r.library, lazy: r.pltOnly && lazyObject))
            }
        }
        return (out, fromHost)
    }

    /// The references of `object` that neither it nor its dependencies (in this map, transitively)
    /// answer, from the memo or worked out and kept; with that closure. Nil when an object in the
    /// closure is not the same file from load to load (an archive's member) or nothing is kept.
    private func residualReferences(_ object: Object) -> ([GlibcImage.Reference], Set<ObjectIdentifier>)? {
        guard let residuals else { return nil }
        var closure: [Object] = [object]
        var members: Set<ObjectIdentifier> = [ObjectIdentifier(object)]
        var index = 0
        while index < closure.count {
            let o = closure[index]
            index += 1
            if o.identity.hasPrefix("tree:") && !treeIsStable { return nil }
            for d in dependencies[ObjectIdentifier(o)] ?? [] where members.insert(ObjectIdentifier(d)).inserted { closure.append(d) }
        }
        for o in closure where o.memoID < 0 { o.memoID = residuals.id(o.identity) }
        let key = GlibcLoadMemo.Key(object: object.memoID, closure: closure.map(\.memoID).sorted())
        if let hit = residuals.residual(key) { return (hit, members) }
        var left: [GlibcImage.Reference] = []
        for r in object.image?.references ?? [] {
            let found = closure.contains { o in
                guard let image = o.image, !(r.copy && o === object) else { return false }
                return image.answers(r.name, hash: r.hash, version: r.version, plt: r.pltOnly)
            }
            if !found { left.append(r) }
        }
        residuals.store(left, for: key)
        return (left, members)
    }
}

/// Per target, across loads: what each search for a name found, and each object's references
/// that its own dependencies leave unanswered, by the object's identity and its dependencies'
/// identities (the same files answer the same way).
final class GlibcLoadMemo: @unchecked Sendable {
    enum Search {
        /// Opened at this path (opened again there: the images stay in their bounded caches).
        case foundAt(String)
        case missing(String, notLoadable: Bool)
    }
    private var searches: [String: Search] = [:]

    func search(_ key: String) -> Search? {
        lock.lock()
        defer { lock.unlock() }
        return searches[key]
    }

    func store(search: Search, for key: String) {
        lock.lock()
        defer { lock.unlock() }
        if searches.count >= 200_000 { searches.removeAll(keepingCapacity: true) }
        searches[key] = search
    }

    struct Key: Hashable {
        var object: Int
        var closure: [Int]
    }
    private let lock = NSLock()
    private var ids: [String: Int] = [:]
    private var residuals: [Key: [GlibcImage.Reference]] = [:]

    func id(_ identity: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        if let id = ids[identity] { return id }
        let id = ids.count
        ids[identity] = id
        return id
    }

    func residual(_ key: Key) -> [GlibcImage.Reference]? {
        lock.lock()
        defer { lock.unlock() }
        return residuals[key]
    }

    func store(_ references: [GlibcImage.Reference], for key: Key) {
        lock.lock()
        defer { lock.unlock() }
        // Bounded: a scan of many distinct loads starts again rather than grow without end.
        if residuals.count >= 200_000 { residuals.removeAll(keepingCapacity: true) }
        residuals[key] = references
    }
}
