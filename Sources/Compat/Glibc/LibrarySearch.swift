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

    /// A link-map entry: the object, the path it was loaded from, the names it answers to, and
    /// the object that loaded it (for DT_RPATH inheritance).
    final class Object {
        let file: ELFFile
        let path: String
        var names: Set<String>
        let loader: Object?
        init(file: ELFFile, path: String, names: Set<String>, loader: Object?) {
            self.file = file
            self.path = path
            self.names = names
            self.loader = loader
        }
    }

    /// The load of a program (or library) at `path` inside the root. `interpreter`: the loader
    /// that runs it when the object names none (a library: the machine's glibc loader), which is
    /// in the link map from the start. `shownAs`: how messages name the object (default: `path`).
    public func load(_ file: ELFFile, path: String, interpreter: String? = nil, shownAs: String? = nil) -> Outcome {
        var out = Outcome()
        let main = Object(file: file, path: path, names: [], loader: nil)
        var objects = [main]
        var identities: [String: Object] = [:]
        var queue = [main]
        // The interpreter is loaded already: a DT_NEEDED of its soname is satisfied by it.
        if let interp = file.interpreter ?? interpreter, let real = realPath(interp), let f = read(interp) {
            let rtld = Object(file: f, path: interp, names: Set([interp] + (f.soname.map { [$0] } ?? [])), loader: nil)
            identities[real] = rtld
            objects.append(rtld)
        }
        var index = 0
        while index < queue.count {
            let requester = queue[index]
            index += 1
            for name in requester.file.needed {
                // _dl_map_object: an object loaded under this name, or with this soname, answers.
                if objects.contains(where: { $0.names.contains(name) || $0.file.soname == name }) { continue }
                guard let (found, foundPath) = find(name, requester: requester) else {
                    if !out.missing.contains(name) { out.missing.append(name) }
                    continue
                }
                // The same file under another name is the same object.
                let identity = realPath(foundPath) ?? foundPath
                if let same = identities[identity] {
                    same.names.insert(name)
                    continue
                }
                let object = Object(file: found, path: foundPath, names: [name], loader: requester)
                identities[identity] = object
                objects.append(object)
                queue.append(object)
                out.loaded.append(Loaded(name: name, path: foundPath))
            }
        }
        checkVersions(objects, main: main, shownAs: shownAs ?? path, into: &out)
        return out
    }

    /// Mirrors glibc's _dl_check_map_versions (elf/dl-version.c): every version an object needs
    /// from a file must be defined by the object loaded under that file's name. A file without
    /// version definitions satisfies every need (glibc only warns in verbose mode).
    func checkVersions(_ objects: [Object], main: Object, shownAs: String, into out: inout Outcome) {
        for object in objects {
            let requirer = object === main ? shownAs : object.path
            for need in object.file.versionNeeds {
                guard let provider = objects.first(where: { $0.names.contains(need.file) || $0.file.soname == need.file }),
                      !provider.file.versionDefinitions.isEmpty else { continue }
                let defined = Set(provider.file.versionDefinitions.filter { !$0.isBase }.map(\.name))
                for version in need.versions where !defined.contains(version.name) {
                    let message = "\(shownAs): \(provider.path): version `\(version.name)' not found (required by \(requirer))"
                    if version.isWeak { out.weakVersionsMissing.append(message) } else { out.versionErrors.append(message) }
                }
            }
        }
    }

    /// _dl_map_object's search for a name: a path as given; else DT_RPATH (of the requester and
    /// the objects that loaded it, when the requester has no DT_RUNPATH), LD_LIBRARY_PATH, the
    /// requester's DT_RUNPATH, ld.so.cache, the system directories (unless DF_1_NODEFLIB).
    func find(_ name: String, requester: Object) -> (ELFFile, String)? {
        if name.contains("/") { return read(name).map { ($0, name) } }
        var directories: [String] = []
        let runpath = requester.file.dynamic?.runpath ?? []
        if runpath.isEmpty {
            var l: Object? = requester
            while let object = l {
                directories += expand(object.file.dynamic?.rpath ?? [], origin: object)
                l = object.loader
            }
        }
        directories += libraryPath
        directories += expand(runpath, origin: requester)
        for dir in directories {
            let candidate = (dir.isEmpty ? "." : dir) + "/" + name
            if let f = read(candidate) { return (f, candidate) }
        }
        if let cache, let flags = cacheFlags, let path = cache.lookup(name, flags: flags), let f = read(path) { return (f, path) }
        guard (requester.file.dynamic?.flags1.rawValue ?? 0) & 0x800 == 0 else { return nil }  // DF_1_NODEFLIB
        for dir in systemDirectories {
            let candidate = dir + "/" + name
            if let f = read(candidate) { return (f, candidate) }
        }
        return nil
    }

    /// $ORIGIN (the object's folder), $LIB and $PLATFORM in search path entries (_dl_dst_substitute).
    func expand(_ entries: [String], origin object: Object) -> [String] {
        let origin = ((realPath(object.path) ?? object.path) as NSString).deletingLastPathComponent
        return entries.map { e in
            e.replacingOccurrences(of: "${ORIGIN}", with: origin).replacingOccurrences(of: "$ORIGIN", with: origin)
                .replacingOccurrences(of: "${LIB}", with: libExpansion).replacingOccurrences(of: "$LIB", with: libExpansion)
                .replacingOccurrences(of: "${PLATFORM}", with: platform).replacingOccurrences(of: "$PLATFORM", with: platform)
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
