import Artifacts
import ELF
import Foundation

/// The definitions musl's find_sym accepts in one object: defined, st_value set (or TLS),
/// type NOTYPE/OBJECT/FUNC/COMMON/TLS, binding GLOBAL/WEAK/UNIQUE, versym not hidden.
/// Definitions it skips are kept with the reason, to explain a "symbol not found".
public final class ExportTable: @unchecked Sendable {
    public enum Rejection: String, Sendable { case ifunc, hidden, zeroValue }
    /// The object's definitions and references; nil for an object without a file.
    let facts: LinkFacts?
    /// The object's exports are not known (a library of a bundled profile).
    public let isOpaque: Bool

    public static let opaque = ExportTable(facts: nil, isOpaque: true)
    public static let empty = ExportTable(facts: nil, isOpaque: false)

    init(facts: LinkFacts?, isOpaque: Bool) {
        self.facts = facts
        self.isOpaque = isOpaque
    }

    public convenience init(names: Set<String>) { self.init(facts: LinkFacts(names: names), isOpaque: false) }

    // Mirrors find_sym2's acceptance rules (ldso/dynlink.c).
    public convenience init(file: ELFFile) { self.init(facts: LinkFacts(file: file), isOpaque: false) }

    /// Whether find_sym2 accepts this definition (ldso/dynlink.c): nil when it does, else why not;
    /// `.some(nil)` for a symbol that is no definition at all (undefined, local, section).
    public static func judge(_ s: DynamicSymbol) -> Rejection?? {
        withUnsafePointer(to: s) { judge($0) }
    }

    /// judge, reading the fields in place (no copy of the symbol's strings).
    @inline(__always)
    static func judge(_ s: UnsafePointer<DynamicSymbol>) -> Rejection?? {
        guard s.pointee.sectionIndex != SectionIndex.SHN_UNDEF else { return .some(nil) }
        let b = s.pointee.binding
        if b != .STB_GLOBAL && b != .STB_WEAK && b != .STB_GNU_UNIQUE { return .some(nil) }
        if s.pointee.hidden { return .hidden }
        let t = s.pointee.type
        if s.pointee.value == 0 && t != .STT_TLS { return .zeroValue }
        switch t {
        case .STT_NOTYPE, .STT_OBJECT, .STT_FUNC, .STT_COMMON, .STT_TLS: return nil
        case .STT_GNU_IFUNC: return .ifunc
        default: return .some(nil)
        }
    }

    /// judge's "accepted" answer from the fields, without copying the symbol.
    @inline(__always)
    static func accepts(_ s: UnsafePointer<DynamicSymbol>) -> Bool {
        guard s.pointee.sectionIndex != SectionIndex.SHN_UNDEF, !s.pointee.hidden else { return false }
        let b = s.pointee.binding
        guard b == .STB_GLOBAL || b == .STB_WEAK || b == .STB_GNU_UNIQUE else { return false }
        let t = s.pointee.type
        if s.pointee.value == 0 && t != .STT_TLS { return false }
        return t == .STT_FUNC || t == .STT_OBJECT || t == .STT_NOTYPE || t == .STT_TLS || t == .STT_COMMON
    }

    public func defines(_ name: String) -> Bool { defines(name, hash: symbolHash(name)) }

    @inline(__always)
    func defines(_ name: String, hash: UInt64) -> Bool { facts?.table.contains(name, hash: hash) ?? false }

    /// Number of accepted definitions.
    public var count: Int { facts?.table.acceptedCount ?? 0 }
}

/// What a path is on the target.
public enum TargetEntry: Sendable {
    /// musl itself (the loader file, or one of libc's names for it).
    case libc(path: String)
    /// A real ELF file.
    case elf(ELFFile, path: String)
    /// A library of a bundled profile, known by name only.
    case opaque(path: String, package: String?)
    /// gcompat's libgcompat.so.0 of a bundled profile or overlay.
    case gcompatLibrary(path: String)
    /// gcompat's loader stub at glibc's interpreter path.
    case gcompatStub(path: String)
    case notELF(path: String, reason: String)
    case directory
    case missing
}

/// A target's files, as the loader sees them.
public protocol TargetFilesystem: Sendable {
    func entry(_ path: String) -> TargetEntry
    func text(_ path: String) -> String?
}

/// A bundled profile's files: the loader, the base image's libraries, optionally gcompat.
struct ProfileFilesystem: TargetFilesystem {
    let entries: [String: TargetEntry]
    func entry(_ path: String) -> TargetEntry {
        entries[normalizePath(path)] ?? .missing
    }
    func text(_ path: String) -> String? { nil }
}

/// A real filesystem (an image's export, or a sysroot on disk) seen through an artifact tree.
struct TreeFilesystem: TargetFilesystem {
    let tree: any ArtifactTree
    let loaderPath: String
    func entry(_ path: String) -> TargetEntry {
        switch tree.lookup(path) {
        case .elf(let file, let resolved):
            if resolved == loaderPath || resolved == "/" + loaderPath.drop(while: { $0 == "/" }) { return .libc(path: resolved) }
            return .elf(file, path: resolved)
        case .notELF(let p, let reason): return .notELF(path: p, reason: reason)
        case .directory: return .directory
        case .missing: return .missing
        }
    }
    func text(_ path: String) -> String? { tree.text(path) }
}

/// gcompat's files laid over another filesystem (to ask "would it load with gcompat?").
struct GcompatOverlay: TargetFilesystem {
    let base: any TargetFilesystem
    let overlay: [String: TargetEntry]
    func entry(_ path: String) -> TargetEntry {
        if let e = overlay[normalizePath(path)] { return e }
        return base.entry(path)
    }
    func text(_ path: String) -> String? { base.text(path) }
}

/// An absolute path without "//", "." and "..": lexically, as the profile's files are laid out.
func normalizePath(_ path: String) -> String {
    // Most paths are clean already (absolute, no "//", no "/.", no trailing "/"): skip the split and join.
    if isCleanPath(path) { return path }
    var out: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) {
        if part == "." { continue }
        if part == ".." { if !out.isEmpty { out.removeLast() }; continue }
        out.append(part)
    }
    return "/" + out.joined(separator: "/")
}

/// Whether a path is absolute and has no "//", no "/." and no trailing "/" (one pass over the bytes).
@inline(__always)
func isCleanPath(_ path: String) -> Bool {
    var previous: UInt8 = 0
    var first = true
    for b in path.utf8 {
        if first {
            guard b == UInt8(ascii: "/") else { return false }
            first = false
        } else if previous == UInt8(ascii: "/") && (b == UInt8(ascii: "/") || b == UInt8(ascii: ".")) {
            return false
        }
        previous = b
    }
    return !first && previous != UInt8(ascii: "/")
}

/// What artifacts must run on: a bundled profile, a root filesystem on disk, or an image.
public final class Target: @unchecked Sendable {
    public enum Kind: Sendable, Hashable {
        case profile
        case sysroot(String)
        case image(String)
    }

    /// The C library the target runs programs with.
    public enum Libc: String, Sendable, Hashable, Codable {
        case musl, glibc
        /// No C library and no loader (distroless/static, scratch): only static programs run.
        case none
    }

    public let name: String
    public let kind: Kind
    public let libc: Libc
    /// glibc's loader, files and search facts, for a glibc (or no-libc) target.
    public let glibc: GlibcSystem?
    /// The machine name in loader.json ("x86_64").
    public let machine: String
    public let machineFacts: CompatData.MachineFacts
    /// The machine's ELF identity (from loader.json): what its objects' e_machine and class are.
    public let elfMachine: ELFMachine
    public let elfClass: ELFClass
    /// The relocation types musl's arch/*/reloc.h handles for this machine (nil: not known).
    let supportedRelocations: Set<UInt32>?
    /// musl's version when known ("1.2.5").
    public let muslVersion: String?
    public let fs: any TargetFilesystem
    public let libcExports: ExportTable
    public let gcompatExports: ExportTable
    /// gcompat is installed (or the profile is a +gcompat variant).
    public let hasGcompat: Bool
    /// musl 1.2.4+: the loader maps missing LFS64 names (get_lfs64).
    public let lfs64Shim: Bool
    /// musl 1.2.4+: DT_RELR is applied.
    public let supportsRELR: Bool
    public let loaderPath: String
    /// /etc/ld-musl-ARCH.path, or the default when the file does not exist.
    public let systemPath: [String]
    /// A bundled profile: libraries of known Alpine packages can be added.
    public let packagesAvailable: Bool
    let data: CompatData
    private let lock = NSLock()
    /// Export tables by path, bounded by the symbols of their files.
    private var exportCache = Generations<String, ExportTable>(budget: Target.exportCacheBudget)
    /// The export cache holds at most this many symbols (half in each generation), so memory
    /// stays bounded.
    static let exportCacheBudget = 200_000
    private var gcompatVariant: Target?

    init(name: String, kind: Kind, machine: String, muslVersion: String?, fs: any TargetFilesystem,
         libcExports: ExportTable, hasGcompat: Bool, lfs64Shim: Bool, supportsRELR: Bool, loaderPath: String,
         systemPath: [String], packagesAvailable: Bool, data: CompatData, libc: Libc = .musl, glibc: GlibcSystem? = nil) throws {
        self.name = name
        self.kind = kind
        self.libc = libc
        self.glibc = glibc
        self.machine = machine
        guard let facts = data.machine(machine) else { throw CompatDataError("no loader facts for machine \(machine)") }
        self.machineFacts = facts
        self.elfMachine = ELFMachine(rawValue: facts.elfMachine)
        switch facts.elfClass {
        case 32: self.elfClass = .ELFCLASS32
        case 64: self.elfClass = .ELFCLASS64
        default: throw CompatDataError("machine \(machine): elfClass \(facts.elfClass) is neither 32 nor 64")
        }
        self.supportedRelocations = facts.relocations.map(Set.init)
        self.muslVersion = muslVersion
        self.fs = fs
        self.libcExports = libcExports
        self.gcompatExports = ExportTable(names: try data.exports(data.targets.gcompat.exports))
        self.hasGcompat = hasGcompat
        self.lfs64Shim = lfs64Shim
        self.supportsRELR = supportsRELR
        self.loaderPath = loaderPath
        self.systemPath = systemPath
        self.packagesAvailable = packagesAvailable
        self.data = data
    }

    /// The export table of a file on the target or in a tree, computed once per path.
    func exports(of file: ELFFile, at path: String) -> ExportTable {
        lock.lock()
        if let hit = exportCache.newer(path) { lock.unlock(); return hit }
        let older = exportCache.older(path)
        lock.unlock()
        let table = older ?? ExportTable(file: file)
        lock.lock()
        defer { lock.unlock() }
        if let hit = exportCache.newer(path) { return hit }
        exportCache.add(table, for: path, cost: file.symbols.count)
        return table
    }

    /// This target with gcompat added (itself when it has gcompat already).
    public func withGcompat() -> Target {
        if hasGcompat { return self }
        lock.lock(); defer { lock.unlock() }
        if let v = gcompatVariant { return v }
        let spec = data.targets.gcompat
        var overlay: [String: TargetEntry] = [spec.library: .gcompatLibrary(path: spec.library)]
        for link in spec.links { overlay[link] = .gcompatLibrary(path: spec.library) }
        for stub in spec.loaderStubs { overlay[stub] = .gcompatStub(path: stub) }
        let v = try! Target(name: name + "+gcompat", kind: kind, machine: machine, muslVersion: muslVersion,
                            fs: GcompatOverlay(base: fs, overlay: overlay), libcExports: libcExports, hasGcompat: true,
                            lfs64Shim: lfs64Shim, supportsRELR: supportsRELR, loaderPath: loaderPath,
                            systemPath: systemPath, packagesAvailable: packagesAvailable, data: data)
        gcompatVariant = v
        return v
    }

    // MARK: - Making targets

    /// The bundled profiles' names, gcompat variants included.
    public static func profileNames(data: CompatData) -> [String] {
        data.targets.profiles.flatMap { [$0.name, $0.name + "+gcompat"] } + glibcProfileNames(data: data)
    }

    /// A bundled profile: `alpine:3.22`, `musl:1.2.5`, either with `+gcompat`.
    public static func profile(_ requested: String, data: CompatData) throws -> Target {
        if let glibc = try glibcProfile(requested, data: data) { return glibc }
        let wantsGcompat = requested.hasSuffix("+gcompat")
        let base = wantsGcompat ? String(requested.dropLast("+gcompat".count)) : requested
        guard let spec = data.targets.profiles.first(where: { $0.name == base }) else {
            let names = data.targets.profiles.map(\.name).joined(separator: ", ")
            let glibcNames = glibcProfileNames(data: data).joined(separator: ", ")
            throw CompatDataError("unknown target '\(requested)'; bundled profiles: \(names) (each also with +gcompat); \(glibcNames); or use --sysroot DIR / --image REF")
        }
        let loaderPath = data.targets.loader
        var entries: [String: TargetEntry] = [loaderPath: .libc(path: loaderPath)]
        for link in data.targets.libcLinks { entries[link] = .libc(path: loaderPath) }
        for lib in spec.baseLibraries {
            let soname = String(lib.split(separator: "/").last ?? "")
            entries[lib] = .opaque(path: lib, package: data.packages.packages[soname])
        }
        let v = VersionNumber(spec.musl)
        let target = try Target(
            name: base, kind: .profile, machine: "x86_64", muslVersion: spec.musl,
            fs: ProfileFilesystem(entries: entries), libcExports: ExportTable(names: try data.exports(spec.exports)),
            hasGcompat: false, lfs64Shim: v >= VersionNumber("1.2.4"), supportsRELR: v >= VersionNumber("1.2.4"),
            loaderPath: loaderPath, systemPath: data.loader.defaultSystemPath, packagesAvailable: true, data: data)
        return wantsGcompat ? target.withGcompat() : target
    }

    /// A real root filesystem: an image's export or a directory on disk, read through `tree`.
    public static func filesystem(name: String, kind: Kind, tree: any ArtifactTree, data: CompatData) throws -> Target {
        // A real glibc (libc.so.6 defining GLIBC_2.x versions) makes a glibc root, even with musl's
        // loader beside it (Debian's musl package); gcompat's libc.so.6 on Alpine defines none.
        if glibcVersion(tree: tree, interpreter: "/lib64/ld-linux-x86-64.so.2") != nil,
           let glibc = try glibcFilesystem(name: name, kind: kind, tree: tree, data: data), let system = glibc.glibc, system.interpreter != nil {
            // musl's programs there start under musl's loader: they are judged by musl's rules.
            system.muslSibling = try? muslFilesystem(name: name, kind: kind, tree: tree, data: data)
            return glibc
        }
        if let musl = try muslFilesystem(name: name, kind: kind, tree: tree, data: data) { return musl }
        if let glibc = try glibcFilesystem(name: name, kind: kind, tree: tree, data: data) { return glibc }
        throw CompatDataError("\(name): no loader (musl's /lib/ld-musl-ARCH.so.1 or glibc's ld-linux-*.so.*) and no /etc in this filesystem; is it a root filesystem?")
    }

    /// A root filesystem with musl's loader (`/lib/ld-musl-ARCH.so.1`), or nil.
    static func muslFilesystem(name: String, kind: Kind, tree: any ArtifactTree, data: CompatData) throws -> Target? {
        // The machine: the loader file that exists decides (x86_64 first).
        var machine: String? = nil
        var loaderPath = data.targets.loader
        var libcFile: ELFFile? = nil
        for (key, facts) in data.loader.machines.sorted(by: { $0.key == "x86_64" ? true : ($1.key == "x86_64" ? false : $0.key < $1.key) }) {
            let path = "/lib/ld-musl-\(facts.muslArch).so.1"
            if case .elf(let file, _) = tree.lookup(path) {
                machine = key
                loaderPath = path
                libcFile = file
                break
            }
        }
        guard let machine, let libcFile else { return nil }
        let libc = ExportTable(file: libcFile)
        let arch = data.loader.machines[machine]!.muslArch
        // /etc/ld-musl-ARCH.path: present (even empty) replaces the default search path.
        let pathFile = "/etc/ld-musl-\(arch).path"
        let systemPath: [String]
        if let text = tree.text(pathFile) {
            systemPath = text.split(whereSeparator: { $0 == ":" || $0 == "\n" }).map(String.init)
        } else if tree.exists(pathFile) {
            systemPath = []
        } else {
            systemPath = data.loader.defaultSystemPath
        }
        // musl 1.2.4 dropped the LFS64 exports from libc and added get_lfs64 and DT_RELR.
        let modern = !libc.defines("stat64")
        let version = muslVersion(tree: tree) ?? (modern ? nil : nil)
        let hasGcompat: Bool
        if case .elf = tree.lookup(data.targets.gcompat.library) { hasGcompat = true } else { hasGcompat = false }
        return try Target(
            name: name, kind: kind, machine: machine, muslVersion: version,
            fs: TreeFilesystem(tree: tree, loaderPath: loaderPath), libcExports: libc, hasGcompat: hasGcompat,
            lfs64Shim: modern, supportsRELR: modern, loaderPath: loaderPath, systemPath: systemPath,
            packagesAvailable: false, data: data)
    }

    /// The text files a filesystem target reads; image exports keep these.
    public static let textFiles: Set<String> = [
        "etc/ld-musl-x86_64.path", "etc/ld-musl-aarch64.path", "etc/ld-musl-i386.path", "etc/os-release",
        "etc/alpine-release", "lib/apk/db/installed", "etc/muslcheck-musl-version", "etc/ld.so.cache", "etc/debian_version",
    ]

    /// musl's version from the apk database ("P:musl" then "V:1.2.5-r10") or the test image's note.
    static func muslVersion(tree: any ArtifactTree) -> String? {
        if let db = tree.text("/lib/apk/db/installed") {
            var inMusl = false
            for line in db.split(separator: "\n") {
                if line == "P:musl" { inMusl = true; continue }
                if line.hasPrefix("P:") { inMusl = false }
                if inMusl, line.hasPrefix("V:") {
                    let v = line.dropFirst(2)
                    return String(v.prefix { $0.isNumber || $0 == "." })
                }
            }
        }
        if let note = tree.text("/etc/muslcheck-musl-version") {
            return note.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return nil
    }
}
