import Engine
import ELF
import Foundation

/// Where a report goes, in pieces: stdout, or a file. A regular file (or a new one) is written
/// under a temporary name beside it and renamed over it when complete, keeping the permissions
/// of the file it replaces; a symbolic link is followed, and stays. Anything else (a device such
/// as /dev/null, a FIFO) is written in place and never replaced; /dev/stdout, /dev/stderr and
/// /dev/fd/N are the process's own descriptors, written as a shell's redirection set them up.
public final class OutputSink {
    public let path: String?
    private let fd: Int32
    /// The temporary file renamed over `destination` on close (nil: written in place).
    private var temporary: String?
    /// The regular file a temporary file replaces (the path, or where its links lead).
    private var destination: String?
    private var buffer: [UInt8] = []
    private var closed = false

    /// The descriptor a path names: /dev/stdout → 1, /dev/stderr → 2, /dev/fd/N and /proc/self/fd/N → N.
    public static func descriptor(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) { return Int32(path.dropFirst(prefix.count)) }
            return nil
        }
    }

    public init(path: String?) throws {
        self.path = path
        guard let path else {
            fd = STDOUT_FILENO
            return
        }
        func failure(_ why: String) -> RunError { RunError(code: .usage, description: "cannot write \(path): \(why)") }
        if let n = Self.descriptor(path) {
            let copy = fcntl(n, F_DUPFD_CLOEXEC, 0)
            guard copy >= 0 else { throw failure(String(cString: strerror(errno))) }
            fd = copy
            return
        }
        // Where the path leads: a symbolic link is followed to its file (a dangling link to the
        // file it names, created).
        var target = path
        var st = stat()
        var exists = lstat(path, &st) == 0
        if exists && (st.st_mode & S_IFMT) == S_IFLNK {
            if let real = realpath(path, nil) {
                target = String(cString: real)
                free(real)
                exists = stat(target, &st) == 0
            } else {
                // A link to nothing yet: the file is made where it points.
                let opened = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
                guard opened >= 0 else { throw failure(String(cString: strerror(errno))) }
                fd = opened
                return
            }
        }
        if exists && (st.st_mode & S_IFMT) == S_IFDIR { throw failure("it is a directory") }
        if exists && (st.st_mode & S_IFMT) != S_IFREG {
            // A device, FIFO or socket: write to it, never replace it. A FIFO waits here for its
            // reader, as a shell's redirection does.
            let opened = open(target, O_WRONLY | O_CLOEXEC)
            guard opened >= 0 else { throw failure(String(cString: strerror(errno))) }
            fd = opened
            return
        }
        // A regular file or a new one: a temporary file in the same folder, renamed over it.
        let folder = PathText.parent(target)
        let base = (target as NSString).lastPathComponent
        var made: Int32 = -1
        var name = ""
        for _ in 0..<16 {
            name = (folder.isEmpty ? "" : folder + "/") + ".\(base).muslcheck-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"
            made = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if made >= 0 || errno != EEXIST { break }
        }
        guard made >= 0 else { throw failure(String(cString: strerror(errno))) }
        guard CleanupRegistry.shared.register(temporary: name) else {
            Foundation.close(made)
            unlink(name)
            throw failure("the run is being interrupted")
        }
        if exists {
            // Keep the replaced file's owner (when allowed) and permissions.
            _ = fchown(made, st.st_uid, st.st_gid)
            fchmod(made, st.st_mode & 0o7777)
        }
        fd = made
        temporary = name
        destination = target
    }

    public func write(_ data: Data) throws {
        // A large piece goes out as it is, without a copy into the buffer.
        if data.count >= 1 << 16 {
            try flush()
            try data.withUnsafeBytes { try writeAll($0) }
            return
        }
        buffer.append(contentsOf: data)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw RunError(code: .usage, description: "cannot write \(path ?? "to stdout"): \(n < 0 ? String(cString: strerror(errno)) : "nothing written")")
        }
    }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() throws {
        guard !closed else { return }
        closed = true
        do { try flush() } catch {
            discard()
            throw error
        }
        guard let path else { return }
        if let temporary, let destination {
            let closedOK = Foundation.close(fd) == 0
            guard closedOK, rename(temporary, destination) == 0 else {
                let why = String(cString: strerror(errno))
                unlink(temporary)
                CleanupRegistry.shared.forget(temporary: temporary)
                throw RunError(code: .usage, description: "cannot write \(path): \(why)")
            }
            CleanupRegistry.shared.forget(temporary: temporary)
        } else if Foundation.close(fd) != 0 && errno != EINTR {
            throw RunError(code: .usage, description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Gives up: the temporary file is removed, and the target left as it was.
    public func discard() {
        guard path != nil else { return }
        if let temporary {
            Foundation.close(fd)
            unlink(temporary)
            CleanupRegistry.shared.forget(temporary: temporary)
            self.temporary = nil
        } else if fd >= 0 {
            Foundation.close(fd)
        }
    }

    deinit {
        // A sink dropped without close (an error on the way): nothing half-written stays.
        if !closed { closed = true; discard() }
    }
}

