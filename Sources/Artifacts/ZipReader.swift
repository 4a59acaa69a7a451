import CZlib

/// One member of a zip archive, from the central directory (APPNOTE.TXT 4.3.12).
public struct ZipEntry: Sendable, Hashable {
    public var path: String
    public var method: UInt16
    public var flags: UInt16
    public var compressedSize: UInt64
    public var uncompressedSize: UInt64
    public var localHeaderOffset: UInt64
    /// Unix mode from the external attributes, when the archive was made on Unix.
    public var unixMode: UInt32?

    public var isDirectory: Bool { path.hasSuffix("/") }
    public var isEncrypted: Bool { flags & 1 != 0 }
    public var isSymlink: Bool { unixMode.map { $0 & 0o170000 == 0o120000 } ?? false }
}

/// Reads a zip archive held in memory (jar, wheel, egg, war, ear, aar): the central directory,
/// then members on demand, with stored and deflate methods. Never writes to disk.
public struct ZipReader {
    let bytes: UnsafeRawBufferPointer
    let name: String
    public private(set) var entries: [ZipEntry] = []

    public init(bytes: UnsafeRawBufferPointer, name: String, maxEntries: Int) throws(ArtifactError) {
        self.bytes = bytes
        self.name = name
        entries = try readCentralDirectory(maxEntries: maxEntries)
    }

    func u16(_ at: Int) -> UInt16? {
        guard at >= 0, at + 2 <= bytes.count else { return nil }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }
    func u32(_ at: Int) -> UInt32? {
        guard at >= 0, at + 4 <= bytes.count else { return nil }
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
    func u64(_ at: Int) -> UInt64? {
        guard let lo = u32(at), let hi = u32(at + 4) else { return nil }
        return UInt64(lo) | UInt64(hi) << 32
    }

    func malformed(_ message: String) -> ArtifactError {
        ArtifactError(path: name, kind: .malformed, message: message)
    }

    func readCentralDirectory(maxEntries: Int) throws(ArtifactError) -> [ZipEntry] {
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end.
        guard bytes.count >= 22 else { throw malformed("not a zip archive (\(bytes.count) bytes)") }
        var eocd = -1
        var at = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65535)
        while at >= lowest {
            if u32(at) == 0x0605_4b50 { eocd = at; break }
            at -= 1
        }
        guard eocd >= 0 else { throw malformed("not a zip archive (no end of central directory record)") }
        var count = UInt64(u16(eocd + 10) ?? 0)
        var cdSize = UInt64(u32(eocd + 12) ?? 0)
        var cdOffset = UInt64(u32(eocd + 16) ?? 0)
        // ZIP64 end of central directory locator, just before the EOCD.
        if eocd >= 20, u32(eocd - 20) == 0x0706_4b50, let recordOffset = u64(eocd - 12) {
            let r = Int(clamping: recordOffset)
            if u32(r) == 0x0606_4b50 {
                count = u64(r + 32) ?? count
                cdSize = u64(r + 40) ?? cdSize
                cdOffset = u64(r + 48) ?? cdOffset
            }
        }
        guard count <= UInt64(maxEntries) else {
            throw ArtifactError(path: name, kind: .limit, message: "declares \(count) members (limit \(maxEntries))")
        }
        guard cdOffset <= UInt64(bytes.count), cdSize <= UInt64(bytes.count) - cdOffset else {
            throw malformed("central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the archive")
        }
        var out: [ZipEntry] = []
        out.reserveCapacity(Int(count))
        var p = Int(cdOffset)
        for i in 0..<count {
            guard u32(p) == 0x0201_4b50 else { throw malformed("central directory entry \(i + 1) is damaged") }
            guard let madeBy = u16(p + 4), let flags = u16(p + 8), let method = u16(p + 10),
                  let csize32 = u32(p + 20), let usize32 = u32(p + 24), let nameLength = u16(p + 28),
                  let extraLength = u16(p + 30), let commentLength = u16(p + 32), let external = u32(p + 38),
                  let offset32 = u32(p + 42) else { throw malformed("central directory entry \(i + 1) is truncated") }
            let nameStart = p + 46
            let nameEnd = nameStart + Int(nameLength)
            guard nameEnd + Int(extraLength) <= bytes.count else { throw malformed("central directory entry \(i + 1) is truncated") }
            let path = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd]), as: UTF8.self)
            var csize = UInt64(csize32), usize = UInt64(usize32), offset = UInt64(offset32)
            // ZIP64 extended information (header id 0x0001): only the fields that are 0xFFFFFFFF.
            var e = nameEnd
            let extraEnd = nameEnd + Int(extraLength)
            while e + 4 <= extraEnd {
                let id = u16(e)!, size = Int(u16(e + 2)!)
                if id == 0x0001 {
                    var f = e + 4
                    if usize32 == 0xffff_ffff, let v = u64(f) { usize = v; f += 8 }
                    if csize32 == 0xffff_ffff, let v = u64(f) { csize = v; f += 8 }
                    if offset32 == 0xffff_ffff, let v = u64(f) { offset = v }
                }
                e += 4 + size
            }
            let unixMode: UInt32? = madeBy >> 8 == 3 ? external >> 16 : nil
            out.append(ZipEntry(path: path, method: method, flags: flags, compressedSize: csize,
                                uncompressedSize: usize, localHeaderOffset: offset, unixMode: unixMode))
            p = extraEnd + Int(commentLength)
        }
        return out
    }

    /// Where a member's compressed bytes are.
    func dataRange(_ entry: ZipEntry) throws(ArtifactError) -> Range<Int> {
        let h = Int(clamping: entry.localHeaderOffset)
        guard u32(h) == 0x0403_4b50, let nameLength = u16(h + 26), let extraLength = u16(h + 28) else {
            throw malformed("\(entry.path): local header is missing or damaged")
        }
        let start = h + 30 + Int(nameLength) + Int(extraLength)
        guard entry.compressedSize <= UInt64(bytes.count), start <= bytes.count - Int(entry.compressedSize) else {
            throw malformed("\(entry.path): data (\(entry.compressedSize) bytes) lies outside the archive")
        }
        return start..<(start + Int(entry.compressedSize))
    }

    /// Up to `limit` bytes of a member's uncompressed content. `limit` smaller than the member
    /// reads only its head (to sniff magic bytes); reading past the declared size is an error.
    public func read(_ entry: ZipEntry, limit: Int, budget: ExpansionBudget) throws(ArtifactError) -> [UInt8] {
        let memberName = "\(name)!\(entry.path)"
        if entry.isEncrypted {
            throw ArtifactError(path: memberName, kind: .unsupported, message: "encrypted member")
        }
        let range = try dataRange(entry)
        let data = UnsafeRawBufferPointer(rebasing: bytes[range])
        let want = Int(min(UInt64(limit), entry.uncompressedSize))
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw ArtifactError(path: memberName, kind: .malformed, message: "stored member with differing sizes")
            }
            try budget.charge(want, path: memberName)
            return Array(data.prefix(want))
        case 8:
            return try inflateRaw(data, want: want, declared: entry.uncompressedSize, memberName: memberName, budget: budget)
        default:
            throw ArtifactError(path: memberName, kind: .unsupported, message: "compression method \(entry.method) (only stored and deflate are read)")
        }
    }

    func inflateRaw(_ input: UnsafeRawBufferPointer, want: Int, declared: UInt64, memberName: String,
                    budget: ExpansionBudget) throws(ArtifactError) -> [UInt8] {
        var stream = z_stream()
        guard muslcheck_inflate_init2(&stream, -15) == Z_OK else {
            throw ArtifactError(path: memberName, kind: .malformed, message: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        // One byte more than wanted when reading it all, to notice a member longer than declared.
        let readingAll = UInt64(want) == declared
        var out = [UInt8](repeating: 0, count: want + (readingAll ? 1 : 0))
        let produced: Int = try out.withMutableBytesTyped { (o: UnsafeMutableRawBufferPointer) throws(ArtifactError) -> Int in
            guard o.count > 0 else { return 0 }
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = UInt32(clamping: input.count)
            stream.next_out = o.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(clamping: o.count)
            while stream.avail_out > 0 {
                let rc = inflate(&stream, Z_NO_FLUSH)
                if rc == Z_STREAM_END { break }
                if rc == Z_BUF_ERROR { break }
                if rc != Z_OK {
                    let msg = stream.msg.map { String(cString: $0) } ?? "code \(rc)"
                    throw ArtifactError(path: memberName, kind: .malformed, message: "deflate data is corrupt (\(msg))")
                }
            }
            return o.count - Int(stream.avail_out)
        }
        try budget.charge(produced, path: memberName)
        if readingAll {
            if produced > want {
                throw ArtifactError(path: memberName, kind: .limit,
                                    message: "inflates past its declared size of \(declared) bytes (a zip bomb?)")
            }
            if produced < want {
                throw ArtifactError(path: memberName, kind: .malformed,
                                    message: "inflates to \(produced) bytes, not the declared \(declared)")
            }
        }
        out.removeLast(out.count - min(produced, want))
        return out
    }
}
