import CLibELF

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads from `offset` into `buffer` until it is full, the file ends, or a read fails (EINTR is
/// retried): the bytes read, and the errno that stopped it (0 when none did).
public func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: off_t = 0) -> (count: Int, error: Int32) {
    var done = 0
    while done < buffer.count {
        let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, offset + off_t(done))
        if n > 0 { done += n; continue }
        if n == 0 { break }
        if errno == EINTR { continue }
        return (done, errno)
    }
    return (done, 0)
}

/// Reads ELF files through libelf (elfutils). Thread-safe: each call has its own libelf handle.
public enum ELFReader {
    /// Checked once: libelf requires `elf_version` before any other call.
    private static let libelfReady: Bool = elf_version(UInt32(EV_CURRENT)) != UInt32(EV_NONE)

    /// `\x7fELF`.
    public static let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]

    /// Whether a buffer starts with the ELF magic.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x7f && bytes[1] == 0x45 && bytes[2] == 0x4c && bytes[3] == 0x46
    }

    /// Reads the file at `path`. `displayPath` names it in the result and in errors (defaults to `path`).
    /// Never blocks on a FIFO or device: those are refused before any read.
    public static func read(path: String, displayPath: String? = nil) throws(ELFError) -> ELFFile {
        let name = displayPath ?? path
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw ELFError.errno(path: name, errno) }
        defer { close(fd) }
        return try read(fd: fd, displayPath: name)
    }

    /// Reads the file open at `fd` (which stays open). Only a regular file is read.
    public static func read(fd: Int32, displayPath name: String) throws(ELFError) -> ELFFile {
        var st = stat()
        if fstat(fd, &st) != 0 { throw ELFError.errno(path: name, errno) }
        return try read(fd: fd, status: st, displayPath: name)
    }

    /// Reads the file open at `fd`, whose fstat the caller has made.
    public static func read(fd: Int32, status st: stat, displayPath name: String) throws(ELFError) -> ELFFile {
        let mode = st.st_mode & S_IFMT
        if mode != S_IFREG {
            throw ELFError(path: name, reason: .notRegularFile(fileKindName(mode)))
        }
        // A small file is read whole with one pread and parsed in memory: libelf reading it piece
        // by piece took about twenty system calls.
        if st.st_size > 0 && st.st_size <= wholeFileLimit {
            let image = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(st.st_size), alignment: 16)
            defer { image.deallocate() }
            let (got, error) = readFully(fd, into: image)
            if error != 0 { throw ELFError.errno(path: name, error) }
            // A file that shrank since fstat is parsed as far as it goes, like a truncated one.
            return try read(image: UnsafeMutableRawBufferPointer(rebasing: image[0..<got]), displayPath: name)
        }
        var ident = [UInt8](repeating: 0, count: 64)
        let got = ident.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 64, 0) }
        if got < 0 { throw ELFError.errno(path: name, errno) }
        try checkIdent(ident.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[0..<got]) }, path: name)

        guard libelfReady else { throw ELFError(path: name, reason: .libelf("libelf version mismatch")) }
        // ELF_C_READ: libelf reads the pieces asked for with pread; no mmap, so a file truncated
        // while it is read yields an error rather than SIGBUS.
        guard let elf = elf_begin(fd, ELF_C_READ, nil) else {
            throw ELFError(path: name, reason: .libelf(libelfMessage()))
        }
        defer { elf_end(elf) }
        return try parse(elf: elf, path: name, fileSize: UInt64(st.st_size))
    }

    /// Files up to this size are read whole by `read(fd:)`.
    static let wholeFileLimit: off_t = 128 << 10

    /// Reads an ELF image held in memory (an archive member, say).
    public static func read(bytes: UnsafeRawBufferPointer, displayPath: String) throws(ELFError) -> ELFFile {
        // elf_memory wants a mutable image; give it a private copy so the caller's stays untouched.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        defer { copy.deallocate() }
        if !bytes.isEmpty { copy.copyMemory(from: bytes) }
        return try read(image: copy, displayPath: displayPath)
    }

    /// Reads an image in memory that libelf may use as it is (the caller's own buffer).
    static func read(image: UnsafeMutableRawBufferPointer, displayPath: String) throws(ELFError) -> ELFFile {
        try checkIdent(UnsafeRawBufferPointer(image), path: displayPath)
        guard libelfReady else { throw ELFError(path: displayPath, reason: .libelf("libelf version mismatch")) }
        guard let elf = elf_memory(image.baseAddress!.assumingMemoryBound(to: CChar.self), image.count) else {
            throw ELFError(path: displayPath, reason: .libelf(libelfMessage()))
        }
        defer { elf_end(elf) }
        return try parse(elf: elf, path: displayPath, fileSize: UInt64(image.count))
    }

    /// Reads an ELF image held in an array.
    public static func read(bytes: [UInt8], displayPath: String) throws(ELFError) -> ELFFile {
        let result: Result<ELFFile, ELFError> = bytes.withUnsafeBytes { buffer in
            do throws(ELFError) { return .success(try read(bytes: buffer, displayPath: displayPath)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func checkIdent(_ ident: UnsafeRawBufferPointer, path: String) throws(ELFError) {
        if ident.count < 4 {
            if ident.elementsEqual(magic.prefix(ident.count)) && !ident.isEmpty {
                throw ELFError(path: path, reason: .truncated("file ends inside the ELF magic (\(ident.count) bytes)"))
            }
            throw ELFError(path: path, reason: .notELF)
        }
        guard hasMagic(ident) else { throw ELFError(path: path, reason: .notELF) }
        guard ident.count >= 16 else {
            throw ELFError(path: path, reason: .truncated("file is \(ident.count) bytes, shorter than e_ident (16)"))
        }
        let cls = ident[4]
        let data = ident[5]
        guard cls == 1 || cls == 2 else {
            throw ELFError(path: path, reason: .invalidHeader("EI_CLASS is \(cls), expected 1 (ELFCLASS32) or 2 (ELFCLASS64)"))
        }
        guard data == 1 || data == 2 else {
            throw ELFError(path: path, reason: .invalidHeader("EI_DATA is \(data), expected 1 (little-endian) or 2 (big-endian)"))
        }
        let ehdrSize = cls == 1 ? 52 : 64
        guard ident.count >= ehdrSize else {
            throw ELFError(path: path, reason: .truncated("file is \(ident.count) bytes, shorter than the ELF header (\(ehdrSize))"))
        }
    }

    static func libelfMessage() -> String {
        if let msg = elf_errmsg(-1) { return String(cString: msg) }
        return "unknown error"
    }

    static func fileKindName(_ mode: mode_t) -> String {
        switch mode {
        case S_IFDIR: "directory"
        case S_IFIFO: "FIFO"
        case S_IFCHR: "character device"
        case S_IFBLK: "block device"
        case S_IFSOCK: "socket"
        case S_IFLNK: "symbolic link"
        default: "special file"
        }
    }

    static func parse(elf: OpaquePointer, path: String, fileSize: UInt64) throws(ELFError) -> ELFFile {
        guard elf_kind(elf) == ELF_K_ELF else {
            throw ELFError(path: path, reason: .notELF)
        }
        var parser = try Parser(elf: elf, path: path, fileSize: fileSize)
        return parser.run()
    }
}
