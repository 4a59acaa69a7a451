/// One entry of a tar archive (POSIX ustar, GNU and pax extensions).
public struct TarEntry: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case file, directory, symlink(target: String), hardlink(target: String), other(UInt8)
    }
    /// The member's path without a leading "./" or "/".
    public var path: String
    public var kind: Kind
    public var size: UInt64
    public var mode: UInt32
}

/// Reads a tar stream front to back without seeking: `next()` yields each entry's header, then
/// the caller reads its content with `readContent` / `readPrefix` or lets `next()` skip it.
public final class TarReader {
    let source: ByteSource
    let name: String
    /// Bytes of the current entry not yet consumed, and the padding after it.
    var remaining: UInt64 = 0
    var padding: UInt64 = 0
    var pendingLongName: String?
    var pendingLongLink: String?
    var pendingPax: [String: String] = [:]
    var globalPax: [String: String] = [:]
    public private(set) var entriesRead = 0

    public init(source: ByteSource, name: String) {
        self.source = source
        self.name = name
    }

    /// The next entry, or nil at the end of the archive.
    public func next() throws(ArtifactError) -> TarEntry? {
        _ = try source.skip(remaining + padding)
        remaining = 0
        padding = 0
        var header = [UInt8](repeating: 0, count: 512)
        while true {
            let n = try header.withMutableBytesTyped { (b: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int in
                try source.readFully(into: b)
            }
            if n == 0 { return nil }  // End without the two zero blocks: accepted, as GNU tar does.
            if n < 512 {
                throw ArtifactError(path: name, kind: .malformed, message: "tar archive ends inside a header (truncated)")
            }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            try verifyChecksum(header)
            entriesRead += 1
            let type = header[156]
            let size = try parseSize(header)
            let pad = (512 - size % 512) % 512
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                // GNU long name / long link: the content is the name of the next entry.
                guard size <= 1 << 20 else { throw ArtifactError(path: name, kind: .limit, message: "tar long-name record of \(size) bytes") }
                let text = try readString(Int(size))
                _ = try source.skip(pad)
                if type == UInt8(ascii: "L") { pendingLongName = text } else { pendingLongLink = text }
                continue
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard size <= 1 << 20 else { throw ArtifactError(path: name, kind: .limit, message: "tar pax header of \(size) bytes") }
                let records = parsePax(try readString(Int(size)))
                _ = try source.skip(pad)
                if type == UInt8(ascii: "x") { pendingPax.merge(records) { $1 } } else { globalPax.merge(records) { $1 } }
                continue
            default:
                break
            }
            var path = pendingLongName ?? pendingPax["path"] ?? globalPax["path"] ?? headerName(header)
            var link = pendingLongLink ?? pendingPax["linkpath"] ?? cString(header, 157, 100)
            var realSize = size
            if let paxSize = pendingPax["size"], let value = UInt64(paxSize) { realSize = value }
            pendingLongName = nil
            pendingLongLink = nil
            pendingPax = [:]
            path = normalize(path)
            link = link.isEmpty ? link : link
            let mode = UInt32(parseOctal(header, 100, 8) ?? 0)
            let kind: TarEntry.Kind
            switch type {
            case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "1"): kind = .hardlink(target: normalize(link))
            case UInt8(ascii: "2"): kind = .symlink(target: link)
            case UInt8(ascii: "5"): kind = .directory
            default: kind = .other(type)
            }
            // Only regular files carry content; others may still declare a size to skip.
            remaining = realSize
            padding = (512 - realSize % 512) % 512
            if case .hardlink = kind { remaining = 0; padding = 0 }
            if case .symlink = kind { remaining = 0; padding = 0 }
            if case .directory = kind { remaining = 0; padding = 0 }
            return TarEntry(path: path, kind: kind, size: kind == .file ? realSize : 0, mode: mode)
        }
    }

    /// Reads up to `count` bytes of the current entry's content.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int {
        guard remaining > 0 else { return 0 }
        let want = Int(min(UInt64(buffer.count), remaining))
        let n = try source.readFully(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        if n < want {
            throw ArtifactError(path: name, kind: .malformed, message: "tar archive ends inside a member (truncated)")
        }
        remaining -= UInt64(n)
        return n
    }

    /// The current entry's whole content; the caller bounds its size first.
    public func readContent(prefix: [UInt8] = []) throws(ArtifactError) -> [UInt8] {
        var out = prefix
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: Int(remaining)))
        try out.withMutableBytesTyped { (b: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Void in
            var at = start
            while at < b.count {
                let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: b[at...]))
                if n == 0 { break }
                at += n
            }
        }
        return out
    }

    /// The first `count` bytes of the current entry (fewer if it is shorter).
    public func readPrefix(_ count: Int) throws(ArtifactError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(min(UInt64(count), remaining)))
        let n = try out.withMutableBytesTyped { (b: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int in
            var at = 0
            while at < b.count {
                let k = try read(into: UnsafeMutableRawBufferPointer(rebasing: b[at...]))
                if k == 0 { break }
                at += k
            }
            return at
        }
        return Array(out[0..<n])
    }

    public var remainingInEntry: UInt64 { remaining }

    // MARK: - Header fields

    func verifyChecksum(_ h: [UInt8]) throws(ArtifactError) {
        guard let stored = parseOctal(h, 148, 8) else {
            throw ArtifactError(path: name, kind: .malformed, message: "not a tar archive (no header checksum at entry \(entriesRead + 1))")
        }
        var sum: UInt64 = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : UInt64(b) }
        if sum != stored {
            throw ArtifactError(path: name, kind: .malformed,
                                message: "tar header checksum mismatch at entry \(entriesRead + 1) (corrupt or not a tar archive)")
        }
    }

    func parseSize(_ h: [UInt8]) throws(ArtifactError) -> UInt64 {
        if h[124] & 0x80 != 0 {
            // GNU base-256: big-endian binary in the remaining bits.
            var v: UInt64 = 0
            for i in 125..<136 {
                if v > (UInt64.max >> 8) { throw ArtifactError(path: name, kind: .limit, message: "tar member size overflows") }
                v = v << 8 | UInt64(h[i])
            }
            return v
        }
        guard let v = parseOctal(h, 124, 12) else {
            throw ArtifactError(path: name, kind: .malformed, message: "tar member size is not a number")
        }
        return v
    }

    func parseOctal(_ h: [UInt8], _ at: Int, _ len: Int) -> UInt64? {
        var v: UInt64 = 0
        var digits = 0
        for i in at..<(at + len) {
            let c = h[i]
            if c == 0 || c == 32 { if digits > 0 { break } else { continue } }
            guard c >= 48 && c <= 55 else { return nil }
            v = v &* 8 &+ UInt64(c - 48)
            digits += 1
        }
        return digits > 0 ? v : (h[at..<(at + len)].allSatisfy { $0 == 0 || $0 == 32 } ? 0 : nil)
    }

    func cString(_ h: [UInt8], _ at: Int, _ len: Int) -> String {
        let slice = h[at..<(at + len)]
        let end = slice.firstIndex(of: 0) ?? slice.endIndex
        return String(decoding: h[at..<end], as: UTF8.self)
    }

    func headerName(_ h: [UInt8]) -> String {
        let name = cString(h, 0, 100)
        // ustar: a prefix field extends the name.
        if h[257..<262].elementsEqual("ustar".utf8) {
            let prefix = cString(h, 345, 155)
            if !prefix.isEmpty { return prefix + "/" + name }
        }
        return name
    }

    func readString(_ count: Int) throws(ArtifactError) -> String {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try bytes.withMutableBytesTyped { (b: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int in try source.readFully(into: b) }
        guard n == count else { throw ArtifactError(path: name, kind: .malformed, message: "tar archive ends inside an extended header") }
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// pax records: "LEN key=value\n".
    func parsePax(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            guard let eq = record.firstIndex(of: "=") else { continue }
            out[String(record[..<eq])] = String(record[record.index(after: eq)...])
        }
        return out
    }
}

/// "./a/b" and "/a/b" → "a/b"; "a//b/./c" → "a/b/c".
func normalize(_ path: String) -> String {
    var parts: [Substring] = []
    for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
        parts.append(part)
    }
    return parts.joined(separator: "/")
}
