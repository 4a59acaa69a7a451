import CSystem
import Foundation
import Synchronization

/// Walks files and directories depth-first in sorted order (so results are deterministic).
/// Symbolic links are followed, but a directory or file reached twice (a loop, a hard link, a
/// second link to it) is visited once. FIFOs, sockets and devices are counted and never opened.
struct Walker {
    typealias Identity = FileIdentity

    let scanner: ArtifactScanner
    let handler: @Sendable (ScanEvent) -> Void
    let emit: (ArtifactScanner.WorkItem) -> Void
    var seen = IdentitySet()
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
        /// The path is `prefix + name` (a root: no prefix), put together only when needed.
        var prefix: String
        var topLevel: Bool
        /// readdir told a regular file, and its identity (no stat needed).
        var regular: Identity?
        /// The open directory the entry was listed in (nil for a root), and its name there.
        var parent: DirectoryHandle? = nil
        var name: String
        var path: String { prefix + name }
        /// readdir told a directory (not a symbolic link): opened at once, no stat needed.
        var directory = false
    }

    /// stat or lstat of an entry, relative to its open directory when it has one.
    static func status(_ p: Pending, _ st: inout stat, follow: Bool) -> Bool {
        if let parent = p.parent { return fstatat(parent.fd, p.name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) == 0 }
        return (follow ? stat(p.path, &st) : lstat(p.path, &st)) == 0
    }

    /// The directory stays open while its entries wait: they are opened relative to it.
    static let directoryFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK

    /// Opens an entry as a directory, relative to its open directory when it has one.
    static func openDirectory(_ p: Pending) -> Int32 {
        p.parent.map { openat($0.fd, p.name, directoryFlags) } ?? open(p.path, directoryFlags)
    }

    /// Lists an open directory (taking its descriptor) onto the stack: a directory reached before
    /// (a loop, a second link) is counted as a duplicate and not listed again.
    mutating func list(_ path: String, fd: Int32, identity: Identity, onto stack: inout [Pending]) {
        guard seen.insert(identity) else {
            close(fd)
            scanner.count(.duplicates)
            return
        }
        scanner.count(.directories)
        // Entries keep their directory open until they are handled, within a budget of open
        // directories; past it they are opened by their full path.
        let handle = DirectoryHandle.make(fd: fd)
        defer { if handle == nil { close(fd) } }
        guard let entries = Self.entries(of: fd) else {
            scanner.problem(ScanProblem(path: path, kind: .unreadable, message: "cannot list directory: \(String(cString: strerror(errno)))"), handler)
            return
        }
        let prefix = path.hasSuffix("/") ? path : path + "/"
        // Reverse-sorted onto the stack, so they pop in sorted order.
        for (name, type, inode) in entries.sorted(by: { $0.0 > $1.0 }) {
            switch Int32(type) {
            case Int32(DT_REG):
                stack.append(Pending(prefix: prefix, topLevel: false, regular: Identity(device: identity.device, inode: inode),
                                     parent: handle, name: name))
            case Int32(DT_FIFO), Int32(DT_SOCK), Int32(DT_CHR), Int32(DT_BLK):
                scanner.count(.specialFiles)
            default:
                stack.append(Pending(prefix: prefix, topLevel: false, regular: nil, parent: handle, name: name,
                                     directory: Int32(type) == Int32(DT_DIR)))
            }
        }
    }

    /// The entries of an open directory but "." and "..": name, d_type, inode. Read with
    /// getdents64 into one buffer (readdir through fdopendir added an fstat and two fcntl per
    /// directory); readdir where getdents64 is missing. Nil when reading fails (errno set).
    static func entries(of fd: Int32) -> [(String, UInt8, UInt64)]? {
        var out: [(String, UInt8, UInt64)] = []
        let size = 32 << 10
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let n = muslcheck_getdents64(fd, buffer, UInt(size))
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ENOSYS { return readdirEntries(of: fd) }
                return nil
            }
            if n == 0 { return out }
            var offset = 0
            // struct linux_dirent64: d_ino (8 bytes), d_off (8), d_reclen (2), d_type (1), d_name.
            while offset + 19 < n {
                let reclen = Int(buffer.loadUnaligned(fromByteOffset: offset + 16, as: UInt16.self))
                guard reclen > 19, offset + reclen <= n else { errno = EIO; return nil }
                let inode = buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                let type = buffer.load(fromByteOffset: offset + 18, as: UInt8.self)
                let name = UnsafeRawBufferPointer(start: buffer + offset + 19, count: reclen - 19)
                let length = name.firstIndex(of: 0) ?? name.count
                let isDot = length == 1 && name[0] == UInt8(ascii: ".")
                let isDotDot = length == 2 && name[0] == UInt8(ascii: ".") && name[1] == UInt8(ascii: ".")
                if !isDot && !isDotDot {
                    out.append((String(decoding: UnsafeRawBufferPointer(rebasing: name[0..<length]), as: UTF8.self), type, inode))
                }
                offset += reclen
            }
        }
    }

    static func readdirEntries(of fd: Int32) -> [(String, UInt8, UInt64)]? {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return nil
        }
        defer { closedir(dir) }
        var out: [(String, UInt8, UInt64)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { out.append((name, entry.pointee.d_type, UInt64(entry.pointee.d_ino))) }
        }
        return out
    }

    mutating func walk(_ root: String) {
        if let real = Self.realPath(root) { roots.append(real) }
        var stack: [Pending] = [Pending(prefix: "", topLevel: true, regular: nil, name: root)]
        while let next = stack.popLast() {
            if let identity = next.regular {
                guard seen.insert(identity) else {
                    scanner.count(.duplicates)
                    continue
                }
                emit(ArtifactScanner.WorkItem(prefix: next.prefix, name: next.name, directory: next.parent))
                continue
            }
            let path = next.path
            // A directory readdir named: open it and learn its identity from the open descriptor
            // (two system calls where stat, lstat and opendir took five). Failures take the general way.
            if next.directory {
                let dfd = Self.openDirectory(next)
                if dfd >= 0 {
                    var st = stat()
                    if fstat(dfd, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR {
                        list(path, fd: dfd, identity: Identity(st), onto: &stack)
                        continue
                    }
                    close(dfd)
                }
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
            let identity = Identity(st)
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
                let dfd = Self.openDirectory(next)
                guard dfd >= 0 else {
                    guard seen.insert(identity) else { scanner.count(.duplicates); continue }
                    scanner.count(.directories)
                    scanner.problem(ScanProblem(path: path, kind: .unreadable, message: "cannot list directory: \(String(cString: strerror(errno)))"), handler)
                    continue
                }
                list(path, fd: dfd, identity: identity, onto: &stack)
            case S_IFREG:
                guard seen.insert(identity) else {
                    scanner.count(.duplicates)
                    continue
                }
                emit(ArtifactScanner.WorkItem(prefix: next.prefix, name: next.name, directory: next.parent))
            default:
                scanner.count(.specialFiles)
            }
        }
    }
}

/// A file by device and inode: the same file under any name.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    init(_ st: stat) { self.init(device: UInt64(st.st_dev), inode: UInt64(st.st_ino)) }
}

/// An open directory. Its entries are opened and examined relative to it, so the kernel looks up
/// one name instead of every component of the path; closed when the last entry is done with it.
final class DirectoryHandle: @unchecked Sendable {
    let fd: Int32
    private init(fd: Int32) { self.fd = fd }
    deinit {
        close(fd)
        Self.open.subtract(1, ordering: .relaxed)
    }

    private static let open = Atomic<Int>(0)
    /// Open directories at most: a quarter of the descriptor limit, at most 512.
    static let budget: Int = {
        var limit = rlimit()
        let soft = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 1024
        return max(16, min(512, soft / 4))
    }()

    /// A handle that owns `fd`, or nil when the budget is spent (the caller keeps the descriptor).
    static func make(fd: Int32) -> DirectoryHandle? {
        guard open.add(1, ordering: .relaxed).newValue <= budget else {
            open.subtract(1, ordering: .relaxed)
            return nil
        }
        return DirectoryHandle(fd: fd)
    }
}

/// The files and directories a walk has reached, by device and inode: an open-addressing table
/// with a multiplicative hash (the standard Set's hashing was a sixth of the walking thread's
/// time, and that thread alone feeds the workers).
struct IdentitySet {
    private var devices: [UInt64]
    private var inodes: [UInt64]
    /// Slot taken (an identity may be all zeros).
    private var used: [Bool]
    private(set) var count = 0

    init() {
        devices = Array(repeating: 0, count: 1024)
        inodes = Array(repeating: 0, count: 1024)
        used = Array(repeating: false, count: 1024)
    }

    @inline(__always)
    private static func slot(_ id: Walker.Identity, _ mask: Int) -> Int {
        let h = (id.inode &+ id.device &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: h >> 32) & mask
    }

    func contains(_ id: Walker.Identity) -> Bool {
        let mask = used.count - 1
        var i = Self.slot(id, mask)
        while used[i] {
            if inodes[i] == id.inode && devices[i] == id.device { return true }
            i = (i + 1) & mask
        }
        return false
    }

    /// Adds the identity; false when it was there already.
    @discardableResult
    mutating func insert(_ id: Walker.Identity) -> Bool {
        if (count + 1) * 2 > used.count { grow() }
        let mask = used.count - 1
        var i = Self.slot(id, mask)
        while used[i] {
            if inodes[i] == id.inode && devices[i] == id.device { return false }
            i = (i + 1) & mask
        }
        used[i] = true
        devices[i] = id.device
        inodes[i] = id.inode
        count += 1
        return true
    }

    private mutating func grow() {
        let oldDevices = devices, oldInodes = inodes, oldUsed = used
        let size = used.count * 2
        devices = Array(repeating: 0, count: size)
        inodes = Array(repeating: 0, count: size)
        used = Array(repeating: false, count: size)
        count = 0
        for j in oldUsed.indices where oldUsed[j] {
            insert(Walker.Identity(device: oldDevices[j], inode: oldInodes[j]))
        }
    }
}
