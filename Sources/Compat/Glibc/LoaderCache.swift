import Foundation

/// glibc's /etc/ld.so.cache, as ldconfig writes it and glibc's loader reads it (elf/dl-cache.c,
/// sysdeps/generic/dl-cache.h): the "glibc-ld.so.cache1.1" table of (soname, path) entries,
/// after an optional table of the old "ld.so-1.7.0" format. The loader searches it after
/// DT_RUNPATH and before the default directories.
public struct LoaderCache: Sendable, Hashable {
    /// One entry: a name the loader may be asked for, and the file it gets.
    public struct Entry: Sendable, Hashable {
        public var name: String
        public var path: String
        /// FLAG_ELF_LIBC6 (0x03) and the machine's required flag (x86-64: 0x0300, aarch64: 0x0a00).
        public var flags: Int32
        /// Non-zero for a glibc-hwcaps subdirectory's entry.
        public var hwcap: UInt64
    }

    public let entries: [Entry]
    /// The extension section's generator string ("Debian GLIBC 2.36-9+deb12u14"), when present.
    public let generator: String?

    /// ldconfig's flags for an entry of this machine's libc6: what glibc's _dl_cache_check_flags accepts.
    public static func libc6Flags(elfMachine: UInt16, is64: Bool) -> Int32? {
        switch (elfMachine, is64) {
        case (62, true): return 0x0303   // FLAG_ELF_LIBC6 | FLAG_X8664_LIB64
        case (62, false): return 0x0803  // FLAG_ELF_LIBC6 | FLAG_X8664_LIBX32
        case (183, true): return 0x0a03  // FLAG_ELF_LIBC6 | FLAG_AARCH64_LIB64
        case (3, false): return 0x0003   // FLAG_ELF_LIBC6
        default: return nil
        }
    }

    /// How `ldconfig -p` names an entry's flags: "libc6,x86-64".
    public static func describe(flags: Int32) -> String {
        let type = flags & 0xff == 3 ? "libc6" : flags & 0xff == 1 ? "ELF" : "unknown"
        switch flags & 0xff00 {
        case 0: return type
        case 0x0300: return type + ",x86-64"
        case 0x0800: return type + ",x32"
        case 0x0a00: return type + ",AArch64"
        default: return type + ",flags \(String(flags & 0xff00, radix: 16))"
        }
    }

    /// The path the loader gets for `name` (a DT_NEEDED name without a slash), or nil: the first
    /// entry of that name with the machine's flags, outside glibc-hwcaps subdirectories.
    public func lookup(_ name: String, flags: Int32) -> String? {
        entries.first { $0.name == name && $0.flags == flags && $0.hwcap == 0 }?.path
    }

    public struct Malformed: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    static let oldMagic = Array("ld.so-1.7.0".utf8)
    static let newMagic = Array("glibc-ld.so.cache1.1".utf8)

    /// Reads a cache file's bytes; a damaged cache gives a sentence saying where.
    public init(bytes: [UInt8]) throws {
        func u32(_ at: Int) -> UInt32? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        func fail(_ why: String) -> Malformed { Malformed(description: "ld.so.cache: \(why)") }
        var start = 0
        if bytes.starts(with: Self.oldMagic) {
            // The old table: its entries are 12 bytes; the new table follows, aligned to 8.
            guard let n = u32(Self.oldMagic.count) else { throw fail("the old-format header is cut short") }
            let end = Self.oldMagic.count + 4 + Int(n) * 12
            start = (end + 7) & ~7
        }
        guard start + 48 <= bytes.count, Array(bytes[start..<start + Self.newMagic.count]) == Self.newMagic else {
            throw fail("no \"glibc-ld.so.cache1.1\" table (the format glibc 2.32 and later read)")
        }
        // The header, 48 bytes: magic and version (20), nlibs, len_strings, flags (a byte and 3 of
        // padding), extension_offset, 3 unused words; then 24-byte entries.
        guard let nlibs = u32(start + 20), let stringBytes = u32(start + 24) else { throw fail("the header is cut short") }
        let extensionOffset = u32(start + 32).map(Int.init) ?? 0
        let first = start + 48
        guard Int(nlibs) <= (bytes.count - first) / 24 else {
            throw fail("\(nlibs) entries do not fit in \(bytes.count) bytes")
        }
        _ = stringBytes
        // Strings are NUL-terminated, at offsets from the new table's header.
        func string(_ offset: UInt32) throws -> String {
            let at = start + Int(offset)
            guard at >= first, at < bytes.count, let nul = bytes[at...].firstIndex(of: 0) else {
                throw fail("a string offset (\(offset)) is outside the file")
            }
            return String(decoding: bytes[at..<nul], as: UTF8.self)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(nlibs))
        for i in 0..<Int(nlibs) {
            let at = first + i * 24
            guard let flags = u32(at), let key = u32(at + 4), let value = u32(at + 8), let lo = u32(at + 16), let hi = u32(at + 20) else {
                throw fail("entry \(i) is cut short")
            }
            entries.append(Entry(name: try string(key), path: try string(value), flags: Int32(bitPattern: flags),
                                 hwcap: UInt64(lo) | UInt64(hi) << 32))
        }
        self.entries = entries
        // The extension directory: a magic, a count, and (tag, flags, offset, size) sections;
        // tag 0 is the generator's name.
        var generator: String? = nil
        if extensionOffset > 0, u32(start + extensionOffset) == 0xEAA4_2174, let count = u32(start + extensionOffset + 4), count < 64 {
            for k in 0..<Int(count) {
                let s = start + extensionOffset + 8 + k * 16
                guard let tag = u32(s), let offset = u32(s + 8), let size = u32(s + 12) else { break }
                let from = start + Int(offset)
                if tag == 0, from >= 0, size < 4096, from + Int(size) <= bytes.count {
                    generator = String(decoding: bytes[from..<from + Int(size)], as: UTF8.self)
                }
            }
        }
        self.generator = generator
    }

    /// Reads the cache file of a root (`/etc/ld.so.cache` below it); nil when it has none.
    public static func read(root: String) throws -> LoaderCache? {
        let path = (root.hasSuffix("/") ? String(root.dropLast()) : root) + "/etc/ld.so.cache"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try LoaderCache(bytes: [UInt8](data))
    }
}
