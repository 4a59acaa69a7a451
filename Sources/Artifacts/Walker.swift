import Foundation

/// Walks files and directories depth-first in sorted order (so results are deterministic).
/// Symbolic links are followed, but a directory or file reached twice (a loop, a hard link, a
/// second link to it) is visited once. FIFOs, sockets and devices are counted and never opened.
struct Walker {
    struct Identity: Hashable { var device: UInt64; var inode: UInt64 }

    let scanner: ArtifactScanner
    let handler: @Sendable (ScanEvent) -> Void
    let emit: (ArtifactScanner.WorkItem) -> Void
    var seen: Set<Identity> = []
    /// Real paths of the roots being walked: a symbolic link into them is not followed, because
    /// the walk reaches its target under its own name.
    var roots: [String] = []

    init(scanner: ArtifactScanner, handler: @escaping @Sendable (ScanEvent) -> Void, emit: @escaping (ArtifactScanner.WorkItem) -> Void) {
        self.scanner = scanner
        self.handler = handler
        self.emit = emit
    }

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    func insideRoots(_ real: String) -> Bool {
        roots.contains { real == $0 || real.hasPrefix($0 == "/" ? "/" : $0 + "/") }
    }

    struct Pending {
        var path: String
        var topLevel: Bool
        /// readdir told a regular file, and its identity (no stat needed).
        var regular: Identity?
        /// The open directory the entry was listed in, and its name there (nil for a root).
        var parent: DirectoryHandle? = nil
        var name: String = ""
    }

    /// stat or lstat of an entry, relative to its open directory when it has one.
    static func status(_ p: Pending, _ st: inout stat, follow: Bool) -> Bool {
        if let parent = p.parent { return fstatat(parent.fd, p.name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 }
        return (follow ? stat(p.path, &st) : lstat(p.path, &st)) == 0
    }

    mutating func walk(_ root: String) {
        if let real = Self.realPath(root) { roots.append(real) }
        var stack: [Pending] = [Pending(path: root, topLevel: true, regular: nil)]
        while let next = stack.popLast() {
            let path = next.path
            if let identity = next.regular {
                guard seen.insert(identity).inserted else {
                    scanner.count(.duplicates)
                    continue
                }
                emit(ArtifactScanner.WorkItem(path: path, display: path, directory: next.parent, name: next.name))
                continue
            }
            var st = stat()
            // stat follows symlinks; its errors tell dangling links and loops apart.
            if !Self.status(next, &st, follow: true) {
                let code = errno
                var lst = stat()
                let isLink = Self.status(next, &lst, follow: false) && lst.st_mode & S_IFMT == S_IFLNK
                if isLink && code == ELOOP {
                    scanner.problem(ScanProblem(path: path, kind: .symlink, message: "symbolic link loop; not followed"), handler)
                } else if isLink && code == ENOENT {
                    // A dangling link inside a tree is common (development symlinks); only
                    // a path the user named is worth a problem.
                    if next.topLevel {
                        scanner.problem(ScanProblem(path: path, kind: .symlink, message: "symbolic link points to nothing"), handler)
                    }
                } else {
                    scanner.problem(ScanProblem(path: path, kind: .unreadable, message: String(cString: strerror(code))), handler)
                }
                continue
            }
            let identity = Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            // A link inside the tree to something inside the tree: the target is walked anyway.
            if !next.topLevel {
                var lst = stat()
                if Self.status(next, &lst, follow: false), lst.st_mode & S_IFMT == S_IFLNK, let real = Self.realPath(path), insideRoots(real) {
                    scanner.count(.duplicates)
                    continue
                }
            }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                guard seen.insert(identity).inserted else {
                    scanner.count(.duplicates)
                    continue
                }
                scanner.count(.directories)
                // The directory stays open while its entries wait: they are opened relative to it.
                let flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK
                let dfd = next.parent.map { openat($0.fd, next.name, flags) } ?? open(path, flags)
                guard dfd >= 0, let dir = fdopendir(dfd) else {
                    let code = errno
                    if dfd >= 0 { close(dfd) }
                    scanner.problem(ScanProblem(path: path, kind: .unreadable, message: "cannot list directory: \(String(cString: strerror(code)))"), handler)
                    continue
                }
                let handle = DirectoryHandle(dir)
                var entries: [(String, UInt8, UInt64)] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name != "." && name != ".." { entries.append((name, entry.pointee.d_type, UInt64(entry.pointee.d_ino))) }
                }
                let prefix = path.hasSuffix("/") ? path : path + "/"
                // Reverse-sorted onto the stack, so they pop in sorted order.
                for (name, type, inode) in entries.sorted(by: { $0.0 > $1.0 }) {
                    switch Int32(type) {
                    case Int32(DT_REG):
                        stack.append(Pending(path: prefix + name, topLevel: false, regular: Identity(device: identity.device, inode: inode),
                                             parent: handle, name: name))
                    case Int32(DT_FIFO), Int32(DT_SOCK), Int32(DT_CHR), Int32(DT_BLK):
                        scanner.count(.specialFiles)
                    default:
                        stack.append(Pending(path: prefix + name, topLevel: false, regular: nil, parent: handle, name: name))
                    }
                }
            case S_IFREG:
                guard seen.insert(identity).inserted else {
                    scanner.count(.duplicates)
                    continue
                }
                emit(ArtifactScanner.WorkItem(path: path, display: path, directory: next.parent, name: next.name))
            default:
                scanner.count(.specialFiles)
            }
        }
    }
}

/// An open directory. Its entries are opened and examined relative to it, so the kernel looks up
/// one name instead of every component of the path; closed when the last entry is done with it.
final class DirectoryHandle: @unchecked Sendable {
    private let dir: OpaquePointer
    let fd: Int32
    init(_ dir: OpaquePointer) { self.dir = dir; fd = dirfd(dir) }
    deinit { closedir(dir) }
}
