import ELF
import Foundation

/// What a path names inside an artifact tree.
public enum TreeLookup: Sendable {
    /// An ELF file, and the path it was found at after following symlinks.
    case elf(ELFFile, path: String)
    /// A file that is not ELF (or not readable as ELF), with the reason.
    case notELF(path: String, reason: String)
    case directory
    case missing
}

/// What one path component names, for `resolveLinks`.
enum LinkStep {
    /// A symbolic link, with its target.
    case link(String)
    /// Anything else that exists.
    case other
    /// Nothing: fine as the last component (the caller reports it missing), else the path fails.
    case missing
    /// A link that cannot be read: the path fails.
    case broken
}

/// Resolves a path component by component: "." and ".." lexically, symbolic links through
/// `step` (given the components so far, joined by "/"), at most 40 hops as on Linux; an absolute
/// target starts again from the root. The resolved components, or nil (a loop, or a missing or
/// unreadable component before the last).
func resolveLinks(_ path: String, step: (String) -> LinkStep) -> [String]? {
    var pending = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    var out: [String] = []
    var hops = 0
    while !pending.isEmpty {
        let part = pending.removeFirst()
        if part == "." { continue }
        if part == ".." { if !out.isEmpty { out.removeLast() }; continue }
        out.append(part)
        switch step(out.joined(separator: "/")) {
        case .other: continue
        case .missing: return pending.isEmpty ? out : nil
        case .broken: return nil
        case .link(let target):
            hops += 1
            if hops > 40 { return nil }
            out.removeLast()
            if target.hasPrefix("/") { out = [] }
            pending = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init) + pending
        }
    }
    return out
}

/// The files around an artifact, as the loader would see them once the artifact is installed:
/// a directory on disk, an archive's members, or an image's filesystem. `$ORIGIN` lookups of the
/// loader simulation go here.
public protocol ArtifactTree: AnyObject, Sendable {
    /// A name for messages ("dist/app.whl", "image alpine:3.20", a directory).
    var name: String { get }
    func lookup(_ path: String) -> TreeLookup
    /// A small text file's content (a loader path file, os-release), if the tree has it.
    func text(_ path: String) -> String?
    /// Whether any entry (file, symlink, directory) exists at the path.
    func exists(_ path: String) -> Bool
    /// A small file's bytes (a loader cache), if the tree has it.
    func bytes(_ path: String) -> [UInt8]?
}

/// A regular file's bytes, when it is at most 16 MiB.
func smallFileBytes(_ path: String) -> [UInt8]? {
    var st = stat()
    guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size <= 1 << 24,
          let data = FileManager.default.contents(atPath: path) else { return nil }
    return [UInt8](data)
}

/// A cache bounded by a budget (symbols, say), in two generations of at most half of it each:
/// when the newer fills up it becomes the older and the older is dropped; the owner moves a value
/// found in the older back to the newer (`add`). So values in use stay while memory stays bounded.
public struct Generations<Key: Hashable, Value> {
    private var newerValues: [Key: Value] = [:]
    private var olderValues: [Key: Value] = [:]
    private var cost = 0
    public let budget: Int

    public init(budget: Int) { self.budget = budget }

    public func newer(_ key: Key) -> Value? { newerValues[key] }
    public func older(_ key: Key) -> Value? { olderValues[key] }

    /// Puts a value in the newer generation, unless it is there already; true when this dropped
    /// the older generation.
    @discardableResult
    public mutating func add(_ value: Value, for key: Key, cost valueCost: Int) -> Bool {
        guard newerValues[key] == nil else { return false }
        var dropped = false
        if cost + valueCost > budget / 2 {
            olderValues = newerValues
            newerValues = [:]
            cost = 0
            dropped = true
        }
        newerValues[key] = value
        cost += valueCost
        return dropped
    }
}

/// Files on disk, read on demand and cached. Paths are as the loader would open them
/// (absolute, or relative to the current directory). The cache is keyed by real path, so one
/// library reached by several spellings is read once, and bounded by the symbols it holds.
public final class DiskTree: ArtifactTree, @unchecked Sendable {
    public let name: String
    /// Read-mostly: lookups of paths seen before take the shared side, so workers do not queue.
    private let lock = ReadWriteLock()
    private var byPath: [String: TreeLookup] = [:]
    /// Files the scan read, by device and inode (the same file under any name, no realpath),
    /// bounded by the symbols they hold.
    private var byIdentity: Generations<FileIdentity, ELFFile>

    public init(name: String, symbolBudget: Int = 200_000) {
        self.name = name
        byIdentity = Generations(budget: symbolBudget)
    }

    public func lookup(_ path: String) -> TreeLookup {
        if let hit = lock.reading({ byPath[path] }) { return hit }
        let result = load(path)
        lock.writing {
            if byPath.count > 65536 { byPath.removeAll(keepingCapacity: true) }
            byPath[path] = result
        }
        return result
    }

    /// Offers a file the scan has read, so that a dependency on it is not read again.
    /// Only shared libraries (with a soname) are kept.
    public func remember(_ file: ELFFile, status st: stat) {
        guard file.soname != nil else { return }
        store(file, identity: FileIdentity(st))
    }

    /// A file a load has read already (the scan then need not read it again), by its identity.
    public func known(_ st: stat) -> ELFFile? {
        let identity = FileIdentity(st)
        return lock.reading { byIdentity.newer(identity) ?? byIdentity.older(identity) }
    }

    private func store(_ file: ELFFile, identity: FileIdentity) {
        lock.writing {
            // Paths may name files of a dropped generation.
            if byIdentity.add(file, for: identity, cost: file.symbols.count) { byPath.removeAll(keepingCapacity: true) }
        }
    }

    func load(_ path: String) -> TreeLookup {
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        if st.st_mode & S_IFMT == S_IFDIR { return .directory }
        let identity = FileIdentity(st)
        if let known = lock.reading({ byIdentity.newer(identity) }) { return .elf(known, path: path) }
        if let older = lock.reading({ byIdentity.older(identity) }) {
            store(older, identity: identity)
            return .elf(older, path: path)
        }
        do {
            let file = try ELFReader.read(path: path)
            store(file, identity: identity)
            return .elf(file, path: path)
        } catch {
            return .notELF(path: path, reason: error.reason.text)
        }
    }

    public func text(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size < 1 << 20 else { return nil }
        return try? String(contentsOfFile: path, encoding: .utf8)
    }

    public func bytes(_ path: String) -> [UInt8]? { smallFileBytes(path) }

    public func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }
}

/// An archive's or an image's members, held as facts in memory. Paths are relative to the
/// archive root without a leading slash ("numpy/core/_umath.so", "usr/lib/libz.so.1");
/// lookups accept absolute paths too and resolve "." and ".." and symlinks inside the tree.
public final class MemberTree: ArtifactTree, @unchecked Sendable {
    public let name: String
    var elves: [String: ELFFile] = [:]
    var others: [String: String] = [:]  // non-ELF files: path -> why not ELF
    var symlinks: [String: String] = [:]
    var directories: Set<String> = []
    var texts: [String: String] = [:]
    var binaries: [String: [UInt8]] = [:]

    /// Paths are absolute in the installed system (an image's filesystem) rather than relative
    /// to wherever an archive gets unpacked.
    public let rooted: Bool

    public init(name: String, rooted: Bool) {
        self.name = name
        self.rooted = rooted
    }

    func shown(_ resolved: String) -> String { rooted ? "/" + resolved : resolved }

    func addELF(_ file: ELFFile, at path: String) { elves[path] = file; addParents(path) }
    func addOther(_ path: String, reason: String) { others[path] = reason; addParents(path) }
    func addSymlink(_ path: String, target: String) { symlinks[path] = target; addParents(path) }
    func addDirectory(_ path: String) { if !path.isEmpty { directories.insert(path) }; addParents(path) }
    func addText(_ path: String, _ text: String) { texts[path] = text }
    func addBytes(_ path: String, _ bytes: [UInt8]) { binaries[path] = bytes }
    func addParents(_ path: String) {
        var p = path
        while let slash = p.lastIndex(of: "/") {
            p = String(p[..<slash])
            if !directories.insert(p).inserted { break }
        }
    }

    public var elfPaths: [String] { elves.keys.sorted() }
    /// Every regular file (ELF or not), by its path in the tree (no leading slash).
    public var filePaths: [String] { Array(elves.keys) + Array(others.keys) }
    /// Every symbolic link: path → where it points.
    public var symlinkTargets: [String: String] { symlinks }
    public func elf(at path: String) -> ELFFile? { elves[path] }

    /// Resolves a path inside the tree: lexical "." and "..", symlinks (at most 40, as Linux).
    public func resolve(_ path: String) -> String? {
        resolveLinks(path) { current in symlinks[current].map { .link($0) } ?? .other }?.joined(separator: "/")
    }

    public func lookup(_ path: String) -> TreeLookup {
        guard let resolved = resolve(path) else { return .notELF(path: path, reason: "too many levels of symbolic links") }
        if let file = elves[resolved] { return .elf(file, path: shown(resolved)) }
        if let reason = others[resolved] { return .notELF(path: shown(resolved), reason: reason) }
        if directories.contains(resolved) || resolved.isEmpty { return .directory }
        return .missing
    }

    public func text(_ path: String) -> String? {
        guard let resolved = resolve(path) else { return nil }
        return texts[resolved]
    }

    public func bytes(_ path: String) -> [UInt8]? {
        guard let resolved = resolve(path) else { return nil }
        return binaries[resolved]
    }

    public func exists(_ path: String) -> Bool {
        guard let resolved = resolve(path) else { return false }
        return elves[resolved] != nil || others[resolved] != nil || directories.contains(resolved) || texts[resolved] != nil
    }
}

/// A root filesystem on disk (`--sysroot DIR`): paths resolve inside DIR, absolute symlinks
/// included (as in a chroot), so the host's own /lib is never read by mistake.
public final class SysrootTree: ArtifactTree, @unchecked Sendable {
    public let name: String
    public let root: String
    private let lock = NSLock()
    private var cache: [String: TreeLookup] = [:]

    public init(root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        self.name = "sysroot \(root)"
    }

    /// The path inside the root after following symlinks, or nil (missing, or a loop).
    public func resolve(_ path: String) -> String? {
        let parts = resolveLinks(path) { current in
            let host = root + "/" + current
            var st = stat()
            guard lstat(host, &st) == 0 else { return .missing }
            guard st.st_mode & S_IFMT == S_IFLNK else { return .other }
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink(host, &buf, buf.count - 1)
            guard n > 0 else { return .broken }
            return .link(String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.map { "/" + $0.joined(separator: "/") }
    }

    public func lookup(_ path: String) -> TreeLookup {
        lock.lock()
        if let hit = cache[path] { lock.unlock(); return hit }
        lock.unlock()
        let result: TreeLookup
        if let resolved = resolve(path) {
            let host = root + resolved
            var st = stat()
            if stat(host, &st) != 0 {
                result = .missing
            } else if st.st_mode & S_IFMT == S_IFDIR {
                result = .directory
            } else {
                do { result = .elf(try ELFReader.read(path: host, displayPath: resolved), path: resolved) } catch {
                    result = .notELF(path: resolved, reason: error.reason.text)
                }
            }
        } else {
            result = .missing
        }
        lock.lock()
        if cache.count > 8192 { cache.removeAll(keepingCapacity: true) }
        cache[path] = result
        lock.unlock()
        return result
    }

    public func text(_ path: String) -> String? {
        guard let resolved = resolve(path) else { return nil }
        var st = stat()
        guard stat(root + resolved, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_size < 1 << 20 else { return nil }
        return try? String(contentsOfFile: root + resolved, encoding: .utf8)
    }

    public func bytes(_ path: String) -> [UInt8]? { resolve(path).flatMap { smallFileBytes(root + $0) } }

    public func exists(_ path: String) -> Bool {
        guard let resolved = resolve(path) else { return false }
        var st = stat()
        return lstat(root + resolved, &st) == 0
    }
}

/// Paths of a container (where scanned folders are mounted) read from the host folders behind
/// them: the simulation of a loader run in the container resolves $ORIGIN on the host's files.
public final class RemappedTree: ArtifactTree, @unchecked Sendable {
    public let name: String
    /// The host's files: the scan's own tree, so that a file it read is not read again.
    let disk: DiskTree
    /// container prefix → host path, longest prefix first.
    let map: [(container: String, host: String)]

    public init(name: String, map: [(container: String, host: String)], disk: DiskTree = DiskTree(name: "remapped")) {
        self.name = name
        self.disk = disk
        self.map = map.sorted { $0.container.count > $1.container.count }
    }

    func hostPath(_ path: String) -> String? {
        for (c, h) in map {
            if path == c { return h }
            if path.hasPrefix(c + "/") { return h + path.dropFirst(c.count) }
        }
        return nil
    }

    public func lookup(_ path: String) -> TreeLookup {
        guard let host = hostPath(path) else { return .missing }
        switch disk.lookup(host) {
        case .elf(let file, _): return .elf(file, path: path)
        case .notELF(_, let reason): return .notELF(path: path, reason: reason)
        case .directory: return .directory
        case .missing: return .missing
        }
    }

    public func text(_ path: String) -> String? { hostPath(path).flatMap { disk.text($0) } }
    public func exists(_ path: String) -> Bool { hostPath(path).map { disk.exists($0) } ?? false }
    public func bytes(_ path: String) -> [UInt8]? { hostPath(path).flatMap { disk.bytes($0) } }
}

/// The ELF members of top-level archives, written to a private folder as the scan reads them,
/// for the loader probe to run on in a container. Each archive's members go to a folder of their
/// own, named in `finish` by the order the caller gives. Thread-safe: archives are read on many
/// threads. `stop` is asked before each write: true (an interrupt) writes nothing more, and a
/// staging folder removed meanwhile is never made again (folders are made below it only).
public final class ArchiveStaging: @unchecked Sendable {
    public let root: URL
    private let stop: @Sendable () -> Bool
    private let lock = NSLock()
    /// Archive → its folder's name below `root` while the scan runs ("t0", "t1", …).
    private var folders: [String: String] = [:]
    /// Archives whose folder could not be made, with the reason.
    public private(set) var failures: [String: String] = [:]

    public init(root: URL, stop: @escaping @Sendable () -> Bool) {
        self.root = root
        self.stop = stop
    }

    /// Writes one member (path inside the archive) under the archive's folder.
    public func keep(archive: String, member: String, bytes: [UInt8]) {
        guard !stop() else { return }
        lock.lock()
        var folder = folders[archive]
        if folder == nil && failures[archive] == nil {
            let name = "t\(folders.count)"
            let path = root.path + "/" + name
            if mkdir(path, 0o755) == 0 || errno == EEXIST {
                chmod(path, 0o755)
                folders[archive] = name
                folder = name
            } else {
                failures[archive] = "cannot make \(path): \(String(cString: strerror(errno)))"
            }
        }
        lock.unlock()
        // The archive has its folder even when no member may be written (a member reaching out
        // with ".." is not): the loader probe then reports what it cannot load.
        let clean = normalize(member)
        let parts = clean.split(separator: "/")
        guard let folder, !clean.isEmpty, !parts.contains("..") else { return }
        // The member's folders, one at a time below the archive's folder (which is not made again).
        var dir = root.path + "/" + folder
        for part in parts.dropLast() {
            dir += "/" + part
            guard mkdir(dir, 0o755) == 0 || errno == EEXIST else { return }
        }
        _ = FileManager.default.createFile(atPath: root.path + "/" + folder + "/" + clean, contents: Data(bytes),
                                           attributes: [.posixPermissions: 0o755])
    }

    /// Gives the staged archives their final folder names: `order` lists the archives that are
    /// used, in order, and each gets its place there ("0", "1", …); the others' folders are removed.
    /// Returns archive → folder name.
    public func finish(order: [String]) -> [String: String] {
        lock.lock()
        defer { lock.unlock() }
        var named: [String: String] = [:]
        var index = 0
        for archive in order {
            // An archive that could not be staged keeps its place in the numbering.
            if failures[archive] != nil { index += 1; continue }
            guard let temporary = folders.removeValue(forKey: archive) else { continue }
            let name = "\(index)"
            index += 1
            if rename(root.path + "/" + temporary, root.path + "/" + name) == 0 { named[archive] = name }
        }
        for (_, temporary) in folders { try? FileManager.default.removeItem(atPath: root.path + "/" + temporary) }
        folders = [:]
        return named
    }
}

/// pthread's reader-writer lock: many readers at once, one writer alone.
final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    init() { pthread_rwlock_init(lock, nil) }
    deinit { pthread_rwlock_destroy(lock); lock.deallocate() }

    func reading<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func writing<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
