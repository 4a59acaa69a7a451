import ELF
import Foundation
import Synchronization

/// Bounds that keep a scan's memory and time in check on hostile input.
public struct ScanLimits: Sendable {
    /// Nesting of archives (a jar in a war in a tarball is depth 3).
    public var maxArchiveDepth = 4
    /// The largest single member held in memory (an ELF file or a nested archive).
    public var maxMemberSize: UInt64 = 1 << 30
    /// Bytes all decompression of one top-level archive may produce, nested archives included.
    public var maxArchiveExpansion: UInt64 = 16 << 30
    /// A zip archive on disk is read whole; larger ones are refused.
    public var maxZipSize: UInt64 = 4 << 30
    /// Members of one zip archive.
    public var maxArchiveEntries = 1_000_000
    /// A member that declares more than this ratio of uncompressed to compressed size, and is
    /// larger than 16 MiB, is taken for a zip bomb and not inflated.
    public var maxCompressionRatio: UInt64 = 1000

    public init() {}
}

/// An ELF file the scan found.
public struct ScannedELF: Sendable {
    /// How the user sees it: `dist/app.whl!numpy/core/_umath.so`.
    public var displayPath: String
    /// Its path inside its tree, as the loader would open it once installed.
    public var treePath: String
    public var file: ELFFile

    public init(displayPath: String, treePath: String, file: ELFFile) {
        self.displayPath = displayPath
        self.treePath = treePath
        self.file = file
    }
}

/// ELF files that share a tree: one file on disk (its tree is the disk), or the ELF members of
/// one archive (its tree is the archive).
public struct ArtifactBatch: Sendable {
    public var tree: any ArtifactTree
    /// The archive the items came from (display path), nil for files on disk.
    public var archive: String?
    public var items: [ScannedELF]
}

/// Something the scan could not read, with the file and the cause. The scan goes on.
public struct ScanProblem: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// open/read/stat failed.
        case unreadable
        /// ELF magic but no readable ELF header.
        case malformedELF = "malformed-elf"
        /// A broken archive or member.
        case malformedArchive = "malformed-archive"
        /// A size, ratio, depth or count limit: zip bombs, absurd sizes.
        case limit
        /// Encryption, an unknown compression method.
        case unsupported
        /// A symbolic link that loops, or points nowhere.
        case symlink
    }
    public var path: String
    public var kind: Kind
    public var message: String

    public init(path: String, kind: Kind, message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }
}

/// What the scan saw, counted.
public struct ScanCounts: Sendable, Hashable, Codable {
    public var files = 0
    public var elfFiles = 0
    public var nonELFFiles = 0
    public var archives = 0
    public var archiveMembers = 0
    public var directories = 0
    /// FIFOs, sockets, devices: skipped without being opened.
    public var specialFiles = 0
    /// Files or directories reached a second time (hard links, symlinks, loops).
    public var duplicates = 0
    public var problems = 0
    public var bytesRead: UInt64 = 0
    public init() {}
}

public enum ScanEvent: Sendable {
    case batch(ArtifactBatch)
    case problem(ScanProblem)
}

/// Walks paths (directories, files, archives), finds every ELF file by its magic bytes, and hands
/// them over in batches from several worker threads. Archives are read in memory or streamed,
/// never unpacked to disk.
public final class ArtifactScanner: @unchecked Sendable {
    public let limits: ScanLimits
    public let jobs: Int
    private let counters = Counters()
    /// Given the bytes of every ELF member of a top-level archive as it is read (archive, member
    /// path, bytes): the loader probe stages them from here, so that an archive is read once.
    public var elfMemberBytes: (@Sendable (_ archive: String, _ member: String, _ bytes: [UInt8]) -> Void)?

    /// The counts, updated from every thread without a lock (a lock here was contended per file).
    final class Counters: Sendable {
        let files = Atomic<Int>(0), elfFiles = Atomic<Int>(0), nonELFFiles = Atomic<Int>(0), archives = Atomic<Int>(0),
            archiveMembers = Atomic<Int>(0), directories = Atomic<Int>(0), specialFiles = Atomic<Int>(0),
            duplicates = Atomic<Int>(0), problems = Atomic<Int>(0), bytesRead = Atomic<UInt64>(0)
    }

    enum Counter { case files, elfFiles, nonELFFiles, archives, archiveMembers, directories, specialFiles, duplicates, problems }

    public init(limits: ScanLimits = ScanLimits(), jobs: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.limits = limits
        self.jobs = max(1, jobs)
    }

    /// A snapshot of the counts so far (for progress display).
    public func currentCounts() -> ScanCounts {
        var c = ScanCounts()
        c.files = counters.files.load(ordering: .relaxed)
        c.elfFiles = counters.elfFiles.load(ordering: .relaxed)
        c.nonELFFiles = counters.nonELFFiles.load(ordering: .relaxed)
        c.archives = counters.archives.load(ordering: .relaxed)
        c.archiveMembers = counters.archiveMembers.load(ordering: .relaxed)
        c.directories = counters.directories.load(ordering: .relaxed)
        c.specialFiles = counters.specialFiles.load(ordering: .relaxed)
        c.duplicates = counters.duplicates.load(ordering: .relaxed)
        c.problems = counters.problems.load(ordering: .relaxed)
        c.bytesRead = counters.bytesRead.load(ordering: .relaxed)
        return c
    }

    func count(_ counter: Counter, _ n: Int = 1) {
        let c = counters
        switch counter {
        case .files: c.files.add(n, ordering: .relaxed)
        case .elfFiles: c.elfFiles.add(n, ordering: .relaxed)
        case .nonELFFiles: c.nonELFFiles.add(n, ordering: .relaxed)
        case .archives: c.archives.add(n, ordering: .relaxed)
        case .archiveMembers: c.archiveMembers.add(n, ordering: .relaxed)
        case .directories: c.directories.add(n, ordering: .relaxed)
        case .specialFiles: c.specialFiles.add(n, ordering: .relaxed)
        case .duplicates: c.duplicates.add(n, ordering: .relaxed)
        case .problems: c.problems.add(n, ordering: .relaxed)
        }
    }

    func countBytes(_ n: UInt64) { counters.bytesRead.add(n, ordering: .relaxed) }

    // MARK: - Paths on disk

    struct WorkItem: Sendable {
        /// The path is `prefix + name`, put together only when needed: most files are opened
        /// relative to their directory and never named.
        var prefix: String
        var name: String
        /// The open directory the file was listed in (nil: open by path).
        var directory: DirectoryHandle? = nil
        var path: String { prefix + name }
        var display: String { path }
    }

    /// Scans the given files and directories; `handler` is called from worker threads. `tree`
    /// holds the files on disk (the caller may keep using it after the scan).
    @discardableResult
    public func scan(paths: [String], tree: DiskTree = DiskTree(name: "disk"),
                     handler: @escaping @Sendable (ScanEvent) -> Void) -> ScanCounts {
        // Files go to the workers up to four at a time: one lock round per batch, not per file, and
        // small enough batches that no worker is left alone with the last large files.
        let queue = BoundedQueue<WorkItem>(capacity: 256, consumers: jobs, wakeThreshold: 48)
        let group = DispatchGroup()
        for _ in 0..<jobs {
            group.enter()
            Thread.detachNewThread { [self] in
                while case let items = queue.pop(upTo: 4), !items.isEmpty {
                    for item in items { processFile(item, tree: tree, handler: handler) }
                }
                group.leave()
            }
        }
        var pending: [WorkItem] = []
        pending.reserveCapacity(16)
        var walker = Walker(scanner: self, handler: handler) { item in
            pending.append(item)
            if pending.count == 16 { queue.push(contentsOf: pending); pending.removeAll(keepingCapacity: true) }
        }
        for path in paths { walker.walk(path) }
        queue.push(contentsOf: pending)
        queue.close()
        group.wait()
        return currentCounts()
    }

    func problem(_ p: ScanProblem, _ handler: @Sendable (ScanEvent) -> Void) {
        count(.problems)
        handler(.problem(p))
    }

    func processFile(_ item: WorkItem, tree: DiskTree, handler: @Sendable (ScanEvent) -> Void) {
        count(.files)
        // Three system calls for most files: open, pread of the first bytes, close. pread never
        // blocks and fails on a FIFO or directory that replaced the file since the walk saw it;
        // the regular-file check (fstat) is made only for files that are read further.
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        let fd = item.directory.map { openat($0.fd, item.name, flags) } ?? open(item.path, flags)
        if fd < 0 {
            problem(ScanProblem(path: item.display, kind: .unreadable, message: ArtifactError.errno(item.display, errno, "cannot open").message), handler)
            return
        }
        defer { close(fd) }
        // The first bytes go to the stack: most files are looked at no further.
        withUnsafeTemporaryAllocation(byteCount: 512, alignment: 16) { buffer in
            examine(item, fd: fd, buffer: buffer, tree: tree, handler: handler)
        }
    }

    /// What processFile does with an open file: reads its first bytes into `buffer` and hands
    /// it on as an ELF file, an archive, or counts it.
    private func examine(_ item: WorkItem, fd: Int32, buffer: UnsafeMutableRawBufferPointer, tree: DiskTree,
                         handler: @Sendable (ScanEvent) -> Void) {
        // One read: a file shorter than the buffer (a third of the files of a typical tree) would
        // otherwise take a second read only to learn where it ends.
        var n = 0
        var error: Int32 = 0
        repeat {
            n = pread(fd, buffer.baseAddress!, buffer.count, 0)
            error = n < 0 ? errno : 0
        } while error == EINTR
        n = max(n, 0)
        if error != 0 {
            if error == ESPIPE || error == EISDIR || error == EAGAIN {
                count(.specialFiles)
                return
            }
            problem(ScanProblem(path: item.display, kind: .unreadable, message: ArtifactError.errno(item.display, error, "read failed").message), handler)
            return
        }
        let head = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        if ELFReader.hasMagic(head) {
            let path = item.path
            var st = stat()
            if fstat(fd, &st) != 0 {
                problem(ScanProblem(path: item.display, kind: .unreadable, message: ArtifactError.errno(item.display, errno, "cannot stat").message), handler)
                return
            }
            do throws(ELFError) {
                let file: ELFFile
                if st.st_mode & S_IFMT == S_IFREG, var loaded = tree.known(st) {
                    // A library another artifact loaded before the walk came to it.
                    loaded.path = path
                    file = loaded
                } else {
                    file = try ELFReader.read(fd: fd, status: st, displayPath: path)
                    tree.remember(file, status: st)
                }
                count(.elfFiles)
                handler(.batch(ArtifactBatch(tree: tree, archive: nil, items: [ScannedELF(displayPath: path, treePath: path, file: file)])))
            } catch {
                problem(ScanProblem(path: path, kind: .malformedELF, message: error.reason.text), handler)
            }
            return
        }
        guard let kind = ArchiveKind.detect(name: item.path, head: head, nested: false) else {
            count(.nonELFFiles)
            return
        }
        count(.archives)
        let budget = ExpansionBudget(limit: limits.maxArchiveExpansion)
        do throws(ArtifactError) {
            var st = stat()
            guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
                throw ArtifactError(path: item.display, kind: .io, message: "not a regular file")
            }
            switch kind {
            case .zip:
                guard UInt64(st.st_size) <= limits.maxZipSize else {
                    throw ArtifactError(path: item.display, kind: .limit, message: "zip archive of \(formatBytes(UInt64(st.st_size))) exceeds the \(formatBytes(limits.maxZipSize)) limit")
                }
                // Mapped through the descriptor the walk opened: the file is opened once.
                let size = Int(st.st_size)
                var base: UnsafeMutableRawPointer? = nil
                if size > 0 {
                    guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
                        throw ArtifactError(path: item.display, kind: .io, message: "cannot read: \(String(cString: strerror(errno)))")
                    }
                    base = mapped
                }
                defer { if let base { munmap(base, size) } }
                countBytes(UInt64(size))
                try processZip(UnsafeRawBufferPointer(start: base, count: size), display: item.display, depth: 1, budget: budget, handler: handler)
            case .tar, .gzip, .xz:
                // The stream goes on after the bytes already read (pread left the offset at 0).
                guard lseek(fd, off_t(n), SEEK_SET) == off_t(n) else {
                    throw ArtifactError(path: item.display, kind: .io, message: "not a regular file")
                }
                let source = FileDescriptorSource(fd: fd, name: item.display, owns: false)
                try processTarStream(try kind.decompressing(PrefixedSource(Array(head), then: source), name: item.display, budget: budget),
                                     display: item.display, depth: 1, budget: budget, rooted: false,
                                     textFiles: [], handler: handler)
            }
        } catch {
            problem(ScanProblem(error), handler)
        }
    }

    // MARK: - Archives

    func processArchiveBytes(_ bytes: [UInt8], kind: ArchiveKind, display: String, depth: Int, budget: ExpansionBudget,
                             handler: @Sendable (ScanEvent) -> Void) throws(ArtifactError) {
        guard depth <= limits.maxArchiveDepth else {
            throw ArtifactError(path: display, kind: .limit, message: "archive nested deeper than \(limits.maxArchiveDepth) levels; not opened")
        }
        count(.archives)
        switch kind {
        case .zip:
            try bytes.withBytesTyped { (raw: UnsafeRawBufferPointer) throws(ArtifactError) -> Void in
                try processZip(raw, display: display, depth: depth, budget: budget, handler: handler)
            }
        case .tar, .gzip, .xz:
            try processTarStream(try kind.decompressing(MemorySource(bytes), name: display, budget: budget),
                                 display: display, depth: depth, budget: budget, rooted: false, textFiles: [], handler: handler)
        }
    }

    func processZip(_ raw: UnsafeRawBufferPointer, display: String, depth: Int, budget: ExpansionBudget,
                    handler: @Sendable (ScanEvent) -> Void) throws(ArtifactError) {
        let zip = try ZipReader(bytes: raw, name: display, maxEntries: limits.maxArchiveEntries)
        let tree = MemberTree(name: display, rooted: false)
        var items: [ScannedELF] = []
        for entry in zip.entries.sorted(by: { $0.path < $1.path }) {
            let path = normalize(entry.path)
            if entry.isDirectory { tree.addDirectory(path); continue }
            count(.archiveMembers)
            let member = "\(display)!\(entry.path)"
            do throws(ArtifactError) {
                if entry.isSymlink {
                    let target = try zip.read(entry, limit: 4096, budget: budget)
                    tree.addSymlink(path, target: String(decoding: target, as: UTF8.self))
                    continue
                }
                if entry.uncompressedSize > 16 << 20,
                   entry.uncompressedSize / max(entry.compressedSize, 1) > limits.maxCompressionRatio {
                    throw ArtifactError(path: member, kind: .limit,
                                        message: "declares \(formatBytes(entry.uncompressedSize)) from \(formatBytes(entry.compressedSize)) (ratio over \(limits.maxCompressionRatio):1, a zip bomb?); not inflated")
                }
                let head = try zip.read(entry, limit: 512, budget: budget)
                let isELF = head.starts(with: ELFReader.magic)
                let nested = isELF ? nil : ArchiveKind.detect(name: entry.path, head: head, nested: true)
                guard isELF || nested != nil else {
                    tree.addOther(path, reason: "not an ELF file")
                    count(.nonELFFiles)
                    continue
                }
                guard entry.uncompressedSize <= limits.maxMemberSize else {
                    throw ArtifactError(path: member, kind: .limit, message: "member of \(formatBytes(entry.uncompressedSize)) exceeds the \(formatBytes(limits.maxMemberSize)) limit; skipped")
                }
                let bytes = try zip.read(entry, limit: Int(entry.uncompressedSize), budget: budget)
                if isELF, depth == 1, let keep = elfMemberBytes { keep(display, path, bytes) }
                if isELF {
                    if let item = readELF(bytes, display: member, treePath: path, handler: handler) {
                        tree.addELF(item.file, at: path)
                        items.append(item)
                    } else {
                        tree.addOther(path, reason: "unreadable ELF")
                    }
                } else if let nested {
                    try processArchiveBytes(bytes, kind: nested, display: member, depth: depth + 1, budget: budget, handler: handler)
                }
            } catch {
                if error.kind == .limit && budget.used > budget.limit { throw error }
                problem(ScanProblem(error), handler)
            }
        }
        if !items.isEmpty { handler(.batch(ArtifactBatch(tree: tree, archive: display, items: items))) }
    }

    func readELF(_ bytes: [UInt8], display: String, treePath: String, handler: @Sendable (ScanEvent) -> Void) -> ScannedELF? {
        do throws(ELFError) {
            let file = try ELFReader.read(bytes: bytes, displayPath: display)
            count(.elfFiles)
            return ScannedELF(displayPath: display, treePath: treePath, file: file)
        } catch {
            problem(ScanProblem(path: display, kind: .malformedELF, message: error.reason.text), handler)
            return nil
        }
    }

    /// Reads a tar stream (a tarball, an npm pack, an image export). Returns the tree it built.
    @discardableResult
    func processTarStream(_ source: ByteSource, display: String, depth: Int, budget: ExpansionBudget, rooted: Bool,
                          textFiles: Set<String>, alsoText: ((String) -> Bool)? = nil,
                          handler: @Sendable (ScanEvent) -> Void) throws(ArtifactError) -> MemberTree {
        let tar = TarReader(source: source, name: display)
        let tree = MemberTree(name: display, rooted: rooted)
        var items: [ScannedELF] = []
        var hardlinks: [(String, String)] = []
        defer { if !items.isEmpty { handler(.batch(ArtifactBatch(tree: tree, archive: display, items: items))) } }
        while let entry = try tar.next() {
            let path = entry.path
            switch entry.kind {
            case .directory: tree.addDirectory(path); continue
            case .symlink(let target): tree.addSymlink(path, target: target); continue
            case .hardlink(let target): hardlinks.append((path, target)); continue
            case .other: continue
            case .file: break
            }
            count(.archiveMembers)
            let member = "\(display)!\(path)"
            do throws(ArtifactError) {
                if textFiles.contains(path) || alsoText?(path) == true {
                    if entry.size <= 1 << 20 {
                        let content = try tar.readContent()
                        // A loader cache is binary: kept as bytes.
                        if path.hasSuffix(".cache") { tree.addBytes(path, content) } else { tree.addText(path, String(decoding: content, as: UTF8.self)) }
                    }
                    tree.addOther(path, reason: "not an ELF file")
                    continue
                }
                let head = try tar.readPrefix(512)
                let isELF = head.starts(with: ELFReader.magic)
                let nested = isELF ? nil : ArchiveKind.detect(name: path, head: head, nested: true)
                guard isELF || nested != nil else {
                    tree.addOther(path, reason: "not an ELF file")
                    count(.nonELFFiles)
                    continue
                }
                guard entry.size <= limits.maxMemberSize else {
                    throw ArtifactError(path: member, kind: .limit, message: "member of \(formatBytes(entry.size)) exceeds the \(formatBytes(limits.maxMemberSize)) limit; skipped")
                }
                let bytes = try tar.readContent(prefix: head)
                if isELF, depth == 1, !rooted, let keep = elfMemberBytes { keep(display, path, bytes) }
                if isELF {
                    if let item = readELF(bytes, display: member, treePath: rooted ? "/" + path : path, handler: handler) {
                        tree.addELF(item.file, at: path)
                        items.append(item)
                    } else {
                        tree.addOther(path, reason: "unreadable ELF")
                    }
                } else if let nested {
                    do throws(ArtifactError) {
                        try processArchiveBytes(bytes, kind: nested, display: member, depth: depth + 1, budget: budget, handler: handler)
                    } catch where nested == .gzip || nested == .xz {
                        // A compressed file that is not a tarball: just data.
                        if error.kind == .limit { throw error }
                        count(.nonELFFiles)
                    }
                }
            } catch {
                // A truncated stream cannot go on; anything else is this member's problem only.
                if error.message.contains("truncated") || (error.kind == .limit && budget.used > budget.limit) { throw error }
                problem(ScanProblem(error), handler)
            }
        }
        for (path, target) in hardlinks {
            if let file = tree.elf(at: target) { tree.addELF(file, at: path) } else { tree.addSymlink(path, target: "/" + target) }
        }
        return tree
    }

    /// Reads a whole filesystem as a tar stream (an image export), never unpacking it: returns
    /// its tree (every ELF's facts, symlinks, and the named small text files) after handing
    /// over the ELF files as one batch.
    /// `alsoText`: further paths whose content is kept as text (a package database's file lists).
    public func scanFilesystemStream(_ source: ByteSource, name: String, textFiles: Set<String>, alsoText: ((String) -> Bool)? = nil,
                                     handler: @escaping @Sendable (ScanEvent) -> Void) throws(ArtifactError) -> MemberTree {
        let budget = ExpansionBudget(limit: limits.maxArchiveExpansion)
        return try processTarStream(source, display: name, depth: 1, budget: budget, rooted: true, textFiles: textFiles, alsoText: alsoText,
                                    handler: handler)
    }
}

extension ScanProblem {
    init(_ error: ArtifactError) {
        let kind: Kind
        switch error.kind {
        case .io: kind = .unreadable
        case .malformed: kind = .malformedArchive
        case .limit: kind = .limit
        case .unsupported: kind = .unsupported
        }
        self.init(path: error.path, kind: kind, message: error.message)
    }
}

/// Archive formats, told apart by name and magic bytes.
public enum ArchiveKind: Sendable, Hashable {
    case zip, tar, gzip, xz

    static let zipExtensions = [".whl", ".zip", ".jar", ".war", ".ear", ".egg", ".aar", ".apk"]
    static let tarExtensions = [".tar"]
    static let gzipExtensions = [".tar.gz", ".tgz"]
    static let xzExtensions = [".tar.xz", ".txz"]

    /// Zip archives are recognised by name (many formats are zips: .docx, .xlsx are not wanted);
    /// tar, gzip and xz also by content when nested (image layers have no extension).
    static func detect(name: String, head: [UInt8], nested: Bool) -> ArchiveKind? {
        head.withUnsafeBytes { detect(name: name, head: $0, nested: nested) }
    }

    /// `name` is asked for only when the bytes carry an archive's magic.
    static func detect(name: @autoclosure () -> String, head: UnsafeRawBufferPointer, nested: Bool) -> ArchiveKind? {
        func starts(_ magic: StaticString) -> Bool {
            magic.withUTF8Buffer { m in head.count >= m.count && m.indices.allSatisfy { head[$0] == m[$0] } }
        }
        let zipMagic = starts("PK\u{03}\u{04}") || starts("PK\u{05}\u{06}")
        let gzipMagic = head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b
        let xzMagic = head.count >= 6 && head[0] == 0xfd && head[1] == 0x37 && head[2] == 0x7a && head[3] == 0x58
            && head[4] == 0x5a && head[5] == 0x00
        let tarMagic = head.count >= 262 && head[257..<262].elementsEqual("ustar".utf8)
        // Every kind needs its magic bytes: most files have none, and their names need no look.
        guard zipMagic || gzipMagic || xzMagic || tarMagic else { return nil }
        let lower = name().lowercased()
        if zipExtensions.contains(where: lower.hasSuffix) && zipMagic { return .zip }
        // A plain .gz/.xz file on disk (data.json.gz) is not a tarball; nested members without a
        // name to go by (image layers) are tried, and count as data when they are not tar.
        if gzipMagic && (gzipExtensions.contains(where: lower.hasSuffix) || (nested && !lower.hasSuffix(".gz"))) { return .gzip }
        if xzMagic && (xzExtensions.contains(where: lower.hasSuffix) || (nested && !lower.hasSuffix(".xz"))) { return .xz }
        if tarMagic { return .tar }
        return nil
    }

    func decompressing(_ source: ByteSource, name: String, budget: ExpansionBudget) throws(ArtifactError) -> ByteSource {
        switch self {
        case .gzip: return try GzipSource(source, name: name, budget: budget)
        case .xz: return try XZSource(source, name: name, budget: budget)
        default: return source
        }
    }
}

/// A blocking producer/consumer queue with a fixed capacity, so a fast walker cannot run ahead
/// of the workers and fill memory.
final class BoundedQueue<T>: @unchecked Sendable {
    /// Taken slots are emptied at once: an item must not outlive its turn (a queued file holds
    /// its open directory).
    private var items: [T?] = []
    private var head = 0
    private var closed = false
    private let capacity: Int
    private let consumers: Int
    private let condition = NSCondition()
    /// Threads waiting for room and for items: the others are woken only when someone waits
    /// (a wake-up is a system call; most pushes and pops find no one waiting).
    private var waitingForRoom = 0
    private var waitingForItems = 0

    /// Queued items that wake waiting consumers (fewer wait for the next push or for close).
    private let wakeThreshold: Int

    init(capacity: Int, consumers: Int = 1, wakeThreshold: Int = 1) {
        self.capacity = capacity
        self.consumers = max(1, consumers)
        self.wakeThreshold = max(1, min(wakeThreshold, capacity))
    }

    /// Adds items, all under one lock (waits while the queue is full).
    func push(contentsOf new: [T]) {
        guard !new.isEmpty else { return }
        condition.lock()
        while items.count - head >= capacity {
            waitingForRoom += 1
            condition.wait()
            waitingForRoom -= 1
        }
        for item in new { items.append(item) }
        // Idle consumers are woken once a few batches have gathered, not for every batch: when the
        // producer is the slower side, each wake-up (a system call, and a thread taking a core
        // from the producer) cost more than the handful of items it handed over.
        if waitingForItems > 0 && items.count - head >= wakeThreshold { condition.broadcast() }
        condition.unlock()
    }

    /// Takes up to `limit` items, fewer when few are queued so that every consumer gets a share
    /// (a handful of large archives must not all go to one worker); empty when closed and drained.
    func pop(upTo limit: Int) -> [T] {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed {
            waitingForItems += 1
            condition.wait()
            waitingForItems -= 1
        }
        let available = items.count - head
        guard available > 0 else { return [] }
        let n = max(1, min(limit, available / (2 * consumers)))
        var taken: [T] = []
        taken.reserveCapacity(n)
        for k in head..<(head + n) {
            taken.append(items[k].take()!)
        }
        head += n
        if head > 1024 { items.removeFirst(head); head = 0 }
        // The producer waits until a quarter of the queue is free (fewer wake-ups).
        if waitingForRoom > 0 && items.count - head <= capacity * 3 / 4 { condition.broadcast() }
        return taken
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
