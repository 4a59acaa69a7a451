import Artifacts
import ELF
import Foundation

/// Simulates glibc's dynamic loader (elf/rtld.c, dl-load.c, dl-deps.c, dl-version.c,
/// dl-lookup.c; 2.36) loading one artifact on a glibc target, in glibc's own words.
public struct GlibcLoaderSimulation {
    public let target: Target
    public let system: GlibcSystem
    /// The files around the artifact, for $ORIGIN and for paths inside the scanned roots.
    public let tree: any ArtifactTree
    public let treeRoots: [String]
    /// LD_LIBRARY_PATH.
    public var libraryPath: [String] = []
    /// LD_BIND_NOW: every object's PLT relocations are resolved at load.
    public var bindNow = false

    public init(target: Target, system: GlibcSystem, tree: any ArtifactTree, treeRoots: [String] = []) {
        self.target = target
        self.system = system
        self.tree = tree
        self.treeRoots = treeRoots
    }

    /// The artifact's tree over the target's files: relative paths and paths under the scanned
    /// roots are read from the tree, the rest from the target.
    struct Files: GlibcFiles {
        let target: any TargetGlibcFiles
        let system: GlibcSystem
        let machine: ELFMachine
        let elfClass: ELFClass
        let tree: any ArtifactTree
        let treeRoots: [String]

        var treeIsTarget: Bool { (tree as? MemberTree)?.rooted ?? false }

        func inTree(_ path: String) -> Bool {
            if treeIsTarget { return false }
            if !path.hasPrefix("/") { return true }
            // Absolute paths under the scanned roots (on disk, or where a probe mounts them).
            return treeRoots.contains { path == $0 || path.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        }

        func open(_ path: String) -> GlibcFile {
            guard inTree(path) else { return target.open(path) }
            // A folder on disk is one tree for the whole scan: its images are made once per path.
            // An archive's tree lives for its own artifacts only, and another may hold the same paths.
            let found = GlibcFile(tree.lookup(path), machine: machine, elfClass: elfClass, images: tree is DiskTree ? system.diskImages : nil,
                                  key: lexicallyNormalized, place: "tree:", source: .artifactTree)
            if case .missing = found, path.hasPrefix("/") { return target.open(path) }
            return found
        }
    }

    /// `image`: the artifact's image when another target's run made it already (it is the same file).
    public func run(_ artifact: ELFFile, treePath: String, displayPath: String, mode: LoadMode,
                    host: CompatData.HostSpec? = nil, image: GlibcImage? = nil) -> LoadOutcome {
        var outcome = LoadOutcome()
        let files = Files(target: system.files, system: system, machine: target.elfMachine, elfClass: target.elfClass, tree: tree,
                          treeRoots: treeRoots)
        var search = GlibcLinkMap.Search()
        search.libraryPath = libraryPath
        search.systemDirectories = system.systemDirectories
        search.cache = system.cache
        search.fromPackage = system.fromPackage
        if target.machine != "x86_64" {
            search.libExpansion = "lib/\(target.machine)-linux-gnu"
            search.platform = target.machine
        }
        // A folder on disk, or the target's own tree, holds the same file at a path in every load.
        var map = GlibcLinkMap(files: files, search: search, searches: system.searches, residuals: system.residuals,
                               treeIsStable: tree is DiskTree || files.treeIsTarget)

        // The kernel runs PT_INTERP; a library or module needs the target's own loader.
        let interpreter = mode == .exec ? artifact.interpreter : system.interpreter
        let rtld: GlibcLinkMap.Object?
        if let interpreter, case .image(let image, let identity, let source, let package) = system.files.open(interpreter) {
            rtld = GlibcLinkMap.Object(image: image, path: interpreter, identity: identity,
                                       names: Set([interpreter] + (image.soname.map { [$0] } ?? [])), loader: nil,
                                       source: source, package: package)
        } else {
            rtld = nil
        }
        guard let rtld else {
            let what = interpreter ?? "glibc's loader"
            let message = mode == .exec ? "exec \(displayPath): no such file or directory"
                : "\(target.name) has no dynamic loader (\(what)): nothing there can load \(displayPath)"
            outcome.errors.append(LoaderError(kind: .missingInterpreter, object: displayPath, subject: interpreter ?? "",
                                              message: message, inArtifact: true))
            return outcome
        }
        map.add(rtld, inMap: false)

        let artifactObject = GlibcLinkMap.Object(image: image ?? GlibcImage(file: artifact), path: displayPath,
                                                 identity: "tree:" + lexicallyNormalized(treePath), names: [], loader: nil,
                                                 source: .artifactTree, package: nil)
        var relocated: [GlibcLinkMap.Object]
        var scope: [GlibcLinkMap.Object]
        var hostProvides: (String) -> Bool = { _ in false }
        let dlopen: Bool
        if case .dlopen = mode, let host {
            dlopen = true
            // The host program is running: glibc and its loader are in the global scope.
            let hostObject = GlibcLinkMap.Object(image: nil, path: host.id, identity: "host:" + host.id, names: [], loader: nil,
                                                 source: .host, package: nil)
            map.add(hostObject)
            if case .success(let (image, path, identity, source, package)) = map.find("libc.so.6", requester: hostObject) {
                let libc = GlibcLinkMap.Object(image: image, path: path, identity: identity, names: ["libc.so.6"], loader: hostObject,
                                               source: source, package: package)
                map.add(libc)
                _ = map.loadDependencies(of: [libc], bindNow: false)
            }
            let global = map.objects
            let before = Set(global.map(\.identity))
            map.add(artifactObject)
            // dlopen(RTLD_NOW) relocates every object it loads at once.
            let now = bindNow || host.dlopenFlags.contains("RTLD_NOW")
            artifactObject.bindNow = now
            let local = map.loadDependencies(of: [artifactObject], bindNow: now)
            relocated = local.filter { !before.contains($0.identity) }
            scope = global + local.filter { !before.contains($0.identity) }
            hostProvides = { name in host.providesPrefixes.contains { name.utf8.starts(with: $0.utf8) } }
            // The host's own libraries (libpython) are in the running program.
            map.dropMissing { host.libraries.contains(where: $0.hasPrefix) }
        } else {
            dlopen = false
            artifactObject.bindNow = bindNow
            map.add(artifactObject)
            scope = map.loadDependencies(of: [artifactObject], bindNow: bindNow)
            relocated = scope
        }
        let isArtifact: (GlibcLinkMap.Object) -> Bool = { $0 === artifactObject }
        let shown: (GlibcLinkMap.Object) -> String = { $0 === artifactObject ? displayPath : $0.path }

        for m in map.missing {
            let needer = shown(m.neededBy)
            let text = m.notLoadable ? "\(m.name): \(m.reason)" : "\(m.name): cannot open shared object file: \(m.reason)"
            outcome.errors.append(LoaderError(
                kind: m.notLoadable ? .libraryNotLoadable : .missingLibrary, object: needer, subject: m.name,
                message: dlopen ? text : "\(displayPath): error while loading shared libraries: \(text)",
                inArtifact: isArtifact(m.neededBy)))
        }
        for p in map.checkVersions(relocated) {
            let message = "\(displayPath): \(p.provider.path): version `\(p.version)' not found (required by \(shown(p.requirer)))"
            var e = LoaderError(kind: .missingVersion, object: shown(p.requirer), subject: p.version, message: message,
                                inArtifact: isArtifact(p.requirer))
            e.library = p.provider.image?.soname ?? p.provider.path
            e.definedIn = p.provider.path
            if p.weak { outcome.deferred.append(e) } else { outcome.errors.append(e) }
        }
        let (unresolved, provided) = map.unresolved(relocated, scope: scope, provided: hostProvides)
        var seen = Set<String>()
        for u in unresolved {
            let object = shown(u.object)
            guard seen.insert(object + "\0" + u.name + "\0" + (u.version ?? "")).inserted else { continue }
            let text = "\(object): undefined symbol: \(u.name)" + (u.version.map { ", version \($0)" } ?? "")
            var e = LoaderError(kind: u.lazy ? .lazySymbol : .missingSymbol, object: object, subject: u.name,
                                message: dlopen ? text : "\(displayPath): symbol lookup error: \(text)",
                                symbolReason: .notFound, inArtifact: isArtifact(u.object))
            e.library = u.library
            e.version = u.version
            if u.lazy { outcome.deferred.append(e) } else { outcome.errors.append(e) }
        }
        outcome.hostProvided = Array(Set(provided)).sorted()

        for o in map.objects where o !== artifactObject && o.source != .host {
            let name = map.firstName(o)
            outcome.loaded.append(LoadedLibrary(requested: name, path: o.path, source: o.source, package: o.package))
            if o.source == .package, let package = o.package { outcome.packagesNeeded[o.image?.soname ?? name] = package }
        }
        return outcome
    }
}

extension GlibcLinkMap {
    /// The name an object was first loaded under: the first DT_NEEDED, in load order, it answers.
    func firstName(_ object: Object) -> String {
        for o in objects {
            for name in o.image?.needed ?? [] where object.names.contains(name) || object.image?.soname == name { return name }
        }
        return object.names.sorted().first ?? object.path
    }

    /// Forgets the missing names `drop` says are not missing after all.
    mutating func dropMissing(_ drop: (String) -> Bool) {
        removeMissing(where: { drop($0.name) })
    }
}
