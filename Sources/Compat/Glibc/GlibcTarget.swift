import Artifacts
import ELF
import Foundation

/// A glibc target's loader and files: where its loader is, what it searches, its ld.so.cache,
/// and (a bundled profile) the Debian packages that could be added.
public final class GlibcSystem: @unchecked Sendable {
    /// glibc's version ("2.36"), when known.
    public let version: String?
    /// The loader's path (PT_INTERP of the target's programs); nil for a target without one.
    public let interpreter: String?
    public let systemDirectories: [String]
    let files: any TargetGlibcFiles
    /// ld.so.cache: soname → path.
    let cache: (String) -> String?
    /// A library of a Debian package the image lacks (a bundled profile that can add packages).
    var fromPackage: (String) -> (GlibcImage, String, String)?
    /// Debian packages the image holds (a bundled profile).
    public let packages: [String]
    /// musl's loader in the same root (Debian's musl package): musl's programs are judged as
    /// musl loads them. Set once, when the target is made.
    public internal(set) var muslSibling: Target?
    /// Images of the scanned files on disk that loads found (a scan's libraries load each other), by path.
    let diskImages = GlibcImageCache()
    /// What searches found, kept across loads.
    let searches = GlibcLoadMemo()
    /// What references objects leave unanswered by their own dependencies, kept across loads;
    /// shared by the bundled profiles of one scan (a path there is the same library in each).
    var residuals = GlibcLoadMemo()
    /// A bundled profile's files (its paths name the bundled data's libraries).
    var isProfile: Bool { files is ProfileGlibcFiles }

    init(version: String?, interpreter: String?, systemDirectories: [String], files: any TargetGlibcFiles,
         cache: @escaping (String) -> String?, fromPackage: @escaping (String) -> (GlibcImage, String, String)?, packages: [String]) {
        self.version = version
        self.interpreter = interpreter
        self.systemDirectories = systemDirectories
        self.files = files
        self.cache = cache
        self.fromPackage = fromPackage
        self.packages = packages
    }
}

/// A glibc target's own files.
protocol TargetGlibcFiles: GlibcFiles, Sendable {}

/// A bundled profile's files: the libraries of the packages its image holds.
final class ProfileGlibcFiles: TargetGlibcFiles, @unchecked Sendable {
    let data: GlibcProfileData
    let installed: Set<String>

    init(data: GlibcProfileData, installed: Set<String>) {
        self.data = data
        self.installed = installed
    }

    /// The real path of a library at `path`, seen as on a merged-/usr system (/lib = /usr/lib).
    func realPath(_ path: String) -> String? {
        let p = normalizePath(path)
        if let real = data.paths[p] { return real }
        if p.hasPrefix("/usr/lib/") { return data.paths[String(p.dropFirst(4))] }
        if p.hasPrefix("/lib/") { return data.paths["/usr" + p] }
        return nil
    }

    func image(_ library: GlibcProfileData.Library) -> GlibcImage { data.image(library) }

    func open(_ path: String) -> GlibcFile {
        guard let real = realPath(path), let library = data.libraries[real], installed.contains(library.package) else { return .missing }
        return .image(image(library), identity: "target:" + real, source: .profile, package: library.package)
    }
}

/// A real root filesystem's files (an image's export, a sysroot), read through its tree.
final class TreeGlibcFiles: TargetGlibcFiles, @unchecked Sendable {
    let tree: any ArtifactTree
    let machine: ELFMachine
    let elfClass: ELFClass
    let images = GlibcImageCache()

    init(tree: any ArtifactTree, machine: ELFMachine, elfClass: ELFClass) {
        self.tree = tree
        self.machine = machine
        self.elfClass = elfClass
    }

    func open(_ path: String) -> GlibcFile {
        GlibcFile(tree.lookup(path), machine: machine, elfClass: elfClass, images: images, key: normalizePath, place: "target:", source: .target)
    }
}

/// Images of ELF files by path, made once per path; bounded by their symbols (two generations).
final class GlibcImageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var images = Generations<String, GlibcImage>(budget: 400_000)

    func image(_ file: ELFFile, key: String) -> GlibcImage {
        lock.lock()
        defer { lock.unlock() }
        if let hit = images.newer(key) { return hit }
        let image = images.older(key) ?? GlibcImage(file: file)
        images.add(image, for: key, cost: file.symbols.count + 1)
        return image
    }
}

extension GlibcFile {
    /// What open_verify makes of a file a tree holds: another machine's or class's ELF file is
    /// skipped, a file that is not ELF stops the load. `key` normalises the resolved path, which
    /// after `place` ("target:", "tree:") is the object's identity. `images`: where images made
    /// once per path are kept (nil: made each time).
    init(_ lookup: TreeLookup, machine: ELFMachine, elfClass: ELFClass, images: GlibcImageCache?, key: (String) -> String,
         place: String, source: LoadedLibrary.Source) {
        switch lookup {
        case .elf(let file, let resolved):
            guard file.header.machine == machine, file.header.fileClass == elfClass else { self = .otherClass; return }
            guard file.header.type == .ET_DYN || file.header.type == .ET_EXEC else { self = .invalid("only ET_DYN and ET_EXEC can be loaded"); return }
            let k = key(resolved)
            self = .image(images?.image(file, key: k) ?? GlibcImage(file: file), identity: place + k, source: source, package: nil)
        case .notELF(_, let reason):
            self = reason.contains("symbolic links") ? .missing : .invalid("invalid ELF header")
        case .directory, .missing:
            self = .missing
        }
    }
}

extension Target {
    /// Lets a glibc target take the libraries it lacks from Debian 12's packages (the bundled
    /// data): for `plan --from-image` on a Debian 12 image, whose packages' files can be copied
    /// onto any Debian 12 base, with or without a package manager. Packages it holds already
    /// (a bundled profile's) are not offered again.
    public func takingDebianPackages(data: CompatData) throws {
        guard libc == .glibc, let system = glibc else { return }
        let glibcData = try data.glibcProfiles()
        guard system.version == nil || system.version == glibcData.glibcVersion else { return }
        let installed = Set(system.packages)
        let all = ProfileGlibcFiles(data: glibcData, installed: Set(glibcData.packages.keys))
        system.fromPackage = { soname in
            guard let package = glibcData.sonames[soname], !installed.contains(package),
                  let lib = glibcData.libraries.values.first(where: { $0.soname == soname && $0.package == package }) else { return nil }
            return (all.image(lib), lib.path, package)
        }
    }

    /// The bundled glibc and no-libc profiles' names.
    public static func glibcProfileNames(data: CompatData) -> [String] {
        (try? data.glibcProfiles().profiles.map(\.name)) ?? []
    }

    /// A bundled Debian-based profile: `distroless/static-debian12`, `distroless/base-debian12`,
    /// `distroless/cc-debian12`, `debian:12-slim`.
    static func glibcProfile(_ name: String, data: CompatData) throws -> Target? {
        let glibcData = try data.glibcProfiles()
        guard let spec = glibcData.profiles.first(where: { $0.name == name }) else { return nil }
        let installed = Set(spec.packages)
        let files = ProfileGlibcFiles(data: glibcData, installed: installed)
        // ldconfig's cache: every installed library by its soname.
        var cache: [String: String] = [:]
        for lib in glibcData.libraries.values where installed.contains(lib.package) {
            if let soname = lib.soname, cache[soname] == nil { cache[soname] = lib.path }
        }
        // debian:12-slim has apt: a library of a known package can be added; distroless has no
        // package manager.
        let canAdd = installed.contains("apt")
        let all = ProfileGlibcFiles(data: glibcData, installed: Set(glibcData.packages.keys))
        let fromPackage: (String) -> (GlibcImage, String, String)? = { soname in
            guard canAdd, let package = glibcData.sonames[soname], !installed.contains(package),
                  let lib = glibcData.libraries.values.first(where: { $0.soname == soname && $0.package == package }) else { return nil }
            return (all.image(lib), lib.path, package)
        }
        let hasLibc = spec.libc == "glibc"
        let system = GlibcSystem(version: hasLibc ? glibcData.glibcVersion : nil, interpreter: hasLibc ? glibcData.interpreter : nil,
                                 systemDirectories: glibcData.systemDirectories, files: files, cache: { cache[$0] },
                                 fromPackage: fromPackage, packages: spec.packages)
        return try Target(name: name, kind: .profile, machine: glibcData.machine, muslVersion: nil, fs: ProfileFilesystem(entries: [:]),
                          libcExports: .empty, hasGcompat: false, lfs64Shim: false, supportsRELR: true,
                          loaderPath: glibcData.interpreter, systemPath: glibcData.systemDirectories, packagesAvailable: canAdd,
                          data: data, libc: hasLibc ? .glibc : .none, glibc: system)
    }

    /// A root filesystem with glibc's loader (`ld-linux-*.so.*`), or with no loader at all.
    static func glibcFilesystem(name: String, kind: Kind, tree: any ArtifactTree, data: CompatData) throws -> Target? {
        var found: (machine: String, facts: CompatData.MachineFacts, interpreter: String)? = nil
        for (key, facts) in data.loader.machines.sorted(by: { $0.key == "x86_64" ? true : ($1.key == "x86_64" ? false : $0.key < $1.key) }) {
            if let interp = facts.glibcInterpreters.first(where: { if case .elf = tree.lookup($0) { return true } else { return false } }) {
                found = (key, facts, interp)
                break
            }
        }
        let machine = found?.machine ?? "x86_64"
        guard let facts = data.machine(machine) else { return nil }
        if found == nil {
            // No loader of either C library: a root filesystem still (distroless/static, scratch)?
            guard tree.exists("/etc/passwd") || tree.exists("/etc/os-release") else { return nil }
        }
        let elfMachine = ELFMachine(rawValue: facts.elfMachine)
        let elfClass: ELFClass = facts.elfClass == 32 ? .ELFCLASS32 : .ELFCLASS64
        let files = TreeGlibcFiles(tree: tree, machine: elfMachine, elfClass: elfClass)
        var cache: (String) -> String? = { _ in nil }
        if let bytes = tree.bytes("/etc/ld.so.cache"), let parsed = try? LoaderCache(bytes: bytes),
           let flags = LoaderCache.libc6Flags(elfMachine: facts.elfMachine, is64: facts.elfClass == 64) {
            cache = { parsed.lookup($0, flags: flags) }
        }
        let triplet = machine == "x86_64" ? "x86_64-linux-gnu" : machine + "-linux-gnu"
        let directories = ["/lib/\(triplet)", "/usr/lib/\(triplet)", "/lib", "/usr/lib"]
        let system = GlibcSystem(version: found.flatMap { glibcVersion(tree: tree, interpreter: $0.interpreter) },
                                 interpreter: found?.interpreter, systemDirectories: directories, files: files, cache: cache,
                                 fromPackage: { _ in nil }, packages: [])
        return try Target(name: name, kind: kind, machine: machine, muslVersion: nil, fs: ProfileFilesystem(entries: [:]),
                          libcExports: .empty, hasGcompat: false, lfs64Shim: false, supportsRELR: true,
                          loaderPath: found?.interpreter ?? facts.glibcInterpreters.first ?? "", systemPath: directories,
                          packagesAvailable: false, data: data, libc: found == nil ? .none : .glibc, glibc: system)
    }

    /// glibc's version: the newest GLIBC_2.x version libc.so.6 defines.
    static func glibcVersion(tree: any ArtifactTree, interpreter: String) -> String? {
        let dir = PathText.parent(interpreter)
        for path in ["/lib/x86_64-linux-gnu/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6", dir + "/libc.so.6", "/lib64/libc.so.6", "/usr/lib/libc.so.6"] {
            guard case .elf(let file, _) = tree.lookup(path) else { continue }
            let versions = file.versionDefinitions.compactMap { d -> VersionNumber? in
                d.name.hasPrefix("GLIBC_2.") ? VersionNumber(String(d.name.dropFirst(6))) : nil
            }
            return versions.max()?.text
        }
        return nil
    }
}
