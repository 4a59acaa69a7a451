import CLZMA
import CZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why bytes could not be had from an artifact source.
public struct ArtifactError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// open/read failed.
        case io
        /// The archive's structure is broken.
        case malformed
        /// A size, ratio, depth or count limit was exceeded (zip bombs, absurd sizes).
        case limit
        /// A feature muslcheck does not read (encryption, a compression method).
        case unsupported
    }
    public var path: String
    public var kind: Kind
    public var message: String

    public init(path: String, kind: Kind, message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(path): \(message)" }

    static func errno(_ path: String, _ code: Int32, _ doing: String) -> ArtifactError {
        ArtifactError(path: path, kind: .io, message: "\(doing): \(String(cString: strerror(code)))")
    }
}

/// Bytes read front to back: a file, a pipe, a decompressor over another source.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int
}

extension ByteSource {
    /// Fills `buffer` completely unless the source ends first; returns the number of bytes read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads and discards `count` bytes; returns how many were there.
    func skip(_ count: UInt64) throws(ArtifactError) -> UInt64 {
        var left = count
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
        defer { scratch.deallocate() }
        while left > 0 {
            let want = Int(min(left, UInt64(scratch.count)))
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<want]))
            if n == 0 { break }
            left -= UInt64(n)
        }
        return count - left
    }
}

/// A file descriptor (a regular file or a pipe). Closes it when done if it owns it.
public final class FileDescriptorSource: ByteSource {
    let fd: Int32
    let name: String
    let owns: Bool

    public init(fd: Int32, name: String, owns: Bool = true) {
        self.fd = fd
        self.name = name
        self.owns = owns
    }

    /// Opens a regular file for reading; FIFOs and devices are refused without blocking.
    public convenience init(path: String, displayPath: String? = nil) throws(ArtifactError) {
        let name = displayPath ?? path
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw ArtifactError.errno(name, errno, "cannot open") }
        var st = stat()
        if fstat(fd, &st) != 0 || st.st_mode & S_IFMT != S_IFREG {
            close(fd)
            throw ArtifactError(path: name, kind: .io, message: "not a regular file")
        }
        self.init(fd: fd, name: name)
    }

    deinit { if owns { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if errno == EAGAIN {
                // A pipe opened non-blocking: wait for data.
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&p, 1, 1000)
                continue
            }
            throw ArtifactError.errno(name, errno, "read failed")
        }
    }
}

/// Bytes held in memory.
public final class MemorySource: ByteSource {
    let bytes: [UInt8]
    var offset = 0
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n <= 0 { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + offset, byteCount: n)
        }
        offset += n
        return n
    }
}

/// Counts the bytes a decompressor produces against a budget shared by a whole archive tree,
/// so that nested or repeated expansion (zip bombs) stops with a finding instead of filling memory.
public final class ExpansionBudget: @unchecked Sendable {
    public let limit: UInt64
    private(set) public var used: UInt64 = 0
    public init(limit: UInt64) { self.limit = limit }
    func charge(_ n: Int, path: String) throws(ArtifactError) {
        used += UInt64(n)
        if used > limit {
            throw ArtifactError(path: path, kind: .limit,
                                message: "expands to more than \(formatBytes(limit)) (archive expansion limit; a zip bomb?)")
        }
    }
}

/// 2,097,000 bytes → "2.0 MiB", 2 GiB → "2 GiB", 1,536 → "1.5 KiB": rounded to a tenth below
/// ten units (never cut down: 1.99 MiB is "2.0 MiB", not "1 MiB").
func formatBytes(_ n: UInt64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where n >= 1 << UInt64(shift) {
        if n % (1 << UInt64(shift)) == 0 { return "\(n >> UInt64(shift)) \(unit)" }
        let value = Double(n) / Double(UInt64(1) << UInt64(shift))
        return value < 9.95 ? "\(String(format: "%.1f", value)) \(unit)" : "\(Int(value.rounded())) \(unit)"
    }
    return "\(n) bytes"
}

/// gzip (RFC 1952), possibly several members back to back, through zlib.
public final class GzipSource: ByteSource {
    let input: ByteSource
    let name: String
    let budget: ExpansionBudget
    var stream = z_stream()
    var inBuffer: UnsafeMutableRawBufferPointer
    var finished = false
    var initialized = false

    public init(_ input: ByteSource, name: String, budget: ExpansionBudget) throws(ArtifactError) {
        self.input = input
        self.name = name
        self.budget = budget
        inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
        // 15 + 32: zlib detects the gzip header itself.
        guard muslcheck_inflate_init2(&stream, 15 + 32) == Z_OK else {
            inBuffer.deallocate()
            throw ArtifactError(path: name, kind: .malformed, message: "zlib could not start")
        }
        initialized = true
    }

    deinit {
        if initialized { inflateEnd(&stream) }
        inBuffer.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.avail_out > 0 {
            if stream.avail_in == 0 {
                let n = try input.read(into: inBuffer)
                if n == 0 {
                    if stream.avail_out == UInt32(min(buffer.count, Int(UInt32.max))) {
                        throw ArtifactError(path: name, kind: .malformed, message: "gzip data ends early (truncated file)")
                    }
                    break
                }
                stream.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = UInt32(n)
            }
            let rc = inflate(&stream, Z_NO_FLUSH)
            if rc == Z_STREAM_END {
                // Another gzip member may follow (concatenated .gz files are valid); anything
                // else after the end (padding) is ignored.
                if stream.avail_in < 2 {
                    let have = Int(stream.avail_in)
                    if have > 0 { inBuffer.baseAddress!.copyMemory(from: UnsafeRawPointer(stream.next_in!), byteCount: have) }
                    let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: inBuffer[have...]))
                    stream.next_in = inBuffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = UInt32(have + n)
                }
                if stream.avail_in >= 2 && stream.next_in[0] == 0x1f && stream.next_in[1] == 0x8b {
                    inflateReset(&stream)
                    continue
                }
                finished = true
                break
            }
            if rc != Z_OK && rc != Z_BUF_ERROR {
                let msg = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                throw ArtifactError(path: name, kind: .malformed, message: "gzip data is corrupt (\(msg))")
            }
            if rc == Z_BUF_ERROR && stream.avail_in > 0 { break }
        }
        let produced = buffer.count - Int(stream.avail_out)
        try budget.charge(produced, path: name)
        return produced
    }
}

/// xz (.xz / .txz) through liblzma.
public final class XZSource: ByteSource {
    let input: ByteSource
    let name: String
    let budget: ExpansionBudget
    var stream = lzma_stream()
    var inBuffer: UnsafeMutableRawBufferPointer
    var finished = false
    var inputEnded = false

    public init(_ input: ByteSource, name: String, budget: ExpansionBudget) throws(ArtifactError) {
        self.input = input
        self.name = name
        self.budget = budget
        inBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 8)
        muslcheck_lzma_stream_reset(&stream)
        // 256 MiB of decoder memory at most: enough for any real xz preset.
        // 0x08 = LZMA_CONCATENATED (a macro Swift cannot import): read every xz stream in the file.
        guard lzma_stream_decoder(&stream, 256 << 20, 0x08) == LZMA_OK else {
            inBuffer.deallocate()
            throw ArtifactError(path: name, kind: .malformed, message: "liblzma could not start")
        }
    }

    deinit {
        lzma_end(&stream)
        inBuffer.deallocate()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        guard !finished, buffer.count > 0 else { return 0 }
        stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = buffer.count
        while stream.avail_out > 0 {
            var action = LZMA_RUN
            if stream.avail_in == 0 && !inputEnded {
                let n = try input.read(into: inBuffer)
                if n == 0 { inputEnded = true } else {
                    stream.next_in = UnsafePointer(inBuffer.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    stream.avail_in = n
                }
            }
            if inputEnded { action = LZMA_FINISH }
            let rc = lzma_code(&stream, action)
            if rc == LZMA_STREAM_END { finished = true; break }
            if rc == LZMA_BUF_ERROR && inputEnded {
                throw ArtifactError(path: name, kind: .malformed, message: "xz data ends early (truncated file)")
            }
            if rc != LZMA_OK {
                throw ArtifactError(path: name, kind: .malformed, message: "xz data is corrupt (liblzma code \(rc.rawValue))")
            }
        }
        let produced = buffer.count - stream.avail_out
        try budget.charge(produced, path: name)
        return produced
    }
}

/// Reads at most `limit` bytes of another source.
final class LimitedSource: ByteSource {
    let input: ByteSource
    var left: UInt64
    init(_ input: ByteSource, limit: UInt64) {
        self.input = input
        self.left = limit
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        guard left > 0 else { return 0 }
        let want = Int(min(UInt64(buffer.count), left))
        let n = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        left -= UInt64(n)
        return n
    }
}

/// Replays bytes already read (a sniffed header), then continues with the source.
final class PrefixedSource: ByteSource {
    let prefix: [UInt8]
    var offset = 0
    let rest: ByteSource
    init(_ prefix: [UInt8], then rest: ByteSource) {
        self.prefix = prefix
        self.rest = rest
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        if offset < prefix.count {
            let n = min(buffer.count, prefix.count - offset)
            prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
            offset += n
            return n
        }
        return try rest.read(into: buffer)
    }
}
