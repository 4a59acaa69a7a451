import ELF
import Foundation

/// The glibc side of the bundled data (Resources/glibc): Debian 12's libraries with their
/// exports and version definitions, which package holds each, the distroless and slim images'
/// package lists, and size estimates. Written by scripts/glibc-profiles from the real packages.
public final class GlibcProfileData: @unchecked Sendable {
    public struct PackageSpec: Decodable, Sendable {
        public var version: String
        public var installedBytes: Int
        public var depends: [String]
    }
    public struct ProfileSpec: Decodable, Sendable {
        public var name: String
        /// "glibc" or "none".
        public var libc: String
        public var packages: [String]
        public var sizeBytes: Int
        public var sizeSource: String
    }
    struct File: Decodable {
        var note: String
        var source: String
        var generated: String
        var machine: String
        var glibc: String
        var interpreter: String
        var systemDirectories: [String]
        var libraries: String
        var packages: [String: PackageSpec]
        var sonames: [String: String]
        var profiles: [ProfileSpec]
    }

    /// One shared library of a package, as its file says: enough for glibc's loader to find it,
    /// check versions against it and look symbols up in it.
    public final class Library: @unchecked Sendable {
        public let path: String
        public internal(set) var package = ""
        /// Other paths (symbolic links in the package) that lead to it.
        public internal(set) var aliases: [String] = []
        public internal(set) var soname: String?
        public internal(set) var needed: [String] = []
        public internal(set) var rpath: [String] = []
        public internal(set) var runpath: [String] = []
        public internal(set) var flags1: UInt32 = 0
        /// The non-base version definitions in table order: index 2, 3, ...
        public internal(set) var versions: [String] = []
        /// Accepted definitions: name, its symbolNameHash, (version index, hidden). Index 1: unversioned.
        var names: [String] = []
        var hashes: [UInt64] = []
        var definitions: [GlibcDefinition] = []
        /// Open-addressing table over the definitions by name hash (index + 1; 0 is empty).
        var slots: [Int32]?
        private let lock = NSLock()

        /// Hashes the names and builds the table, on first use (most libraries of the data are
        /// not in the profile at hand).
        func seal() -> [Int32] {
            lock.lock()
            defer { lock.unlock() }
            if let slots { return slots }
            hashes = names.map { symbolNameHash($0) }
            var size = 16
            while size < names.count * 2 { size <<= 1 }
            var table = [Int32](repeating: 0, count: size)
            for k in names.indices {
                var i = Int(hashes[k] & UInt64(size - 1))
                while table[i] != 0 { i = (i + 1) & (size - 1) }
                table[i] = Int32(k + 1)
            }
            slots = table
            return table
        }

        /// Calls `body` with each definition of `name` until it returns true.
        @inline(__always)
        func forEachDefinition(_ name: String, hash: UInt64, _ body: (GlibcDefinition) -> Bool) -> Bool {
            // Sealed when its image was made (GlibcImage(library:)), before any lookup.
            guard let slots else { return false }
            let mask = slots.count - 1
            var i = Int(hash & UInt64(mask))
            while slots[i] != 0 {
                let k = Int(slots[i] - 1)
                i = (i + 1) & mask
                if hashes[k] == hash && names[k] == name && body(definitions[k]) { return true }
            }
            return false
        }

        init(path: String) { self.path = path }
    }

    public let source: String
    public let generated: String
    public let machine: String
    public let glibcVersion: String
    public let interpreter: String
    public let systemDirectories: [String]
    public let packages: [String: PackageSpec]
    /// soname → Debian package that provides it.
    public let sonames: [String: String]
    public let profiles: [ProfileSpec]
    /// Every library of the data by its real path.
    public let libraries: [String: Library]
    /// Each library's image, made once for every profile (the data never changes).
    private let imageLock = NSLock()
    private var images: [String: GlibcImage] = [:]

    func image(_ library: Library) -> GlibcImage {
        imageLock.lock()
        defer { imageLock.unlock() }
        if let hit = images[library.path] { return hit }
        let image = GlibcImage(library: library)
        images[library.path] = image
        return image
    }
    /// Every path (real or a link) → the library's real path.
    public let paths: [String: String]

    init(resources: URL) throws {
        let folder = resources.appendingPathComponent("glibc")
        let json = folder.appendingPathComponent("debian12.json")
        let file: File
        do { file = try JSONDecoder().decode(File.self, from: Data(contentsOf: json)) } catch {
            throw CompatDataError("data file glibc/debian12.json is unreadable: \(error)")
        }
        source = file.source
        generated = file.generated
        machine = file.machine
        glibcVersion = file.glibc
        interpreter = file.interpreter
        systemDirectories = file.systemDirectories
        packages = file.packages
        sonames = file.sonames
        profiles = file.profiles
        let libs = folder.appendingPathComponent(file.libraries)
        guard let data = FileManager.default.contents(atPath: libs.path) else {
            throw CompatDataError("data file glibc/\(file.libraries) is missing from muslcheck's data")
        }
        let parsed = try Self.parseLibraries([UInt8](data), name: "glibc/" + file.libraries)
        libraries = parsed
        var paths: [String: String] = [:]
        for (path, lib) in parsed {
            paths[path] = path
            for alias in lib.aliases { paths[alias] = path }
        }
        self.paths = paths
    }

    /// The libraries file: blocks from "library PATH" to "end", a fact per line.
    static func parseLibraries(_ bytes: [UInt8], name: String) throws -> [String: Library] {
        var out: [String: Library] = [:]
        var current: Library? = nil
        var lineNumber = 0
        var start = 0
        func fail(_ why: String) -> CompatDataError { CompatDataError("data file \(name), line \(lineNumber): \(why)") }
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0a { end += 1 }
            defer { start = end + 1 }
            lineNumber += 1
            let line = bytes[start..<end]
            guard let first = line.first, first != UInt8(ascii: "#") else { continue }
            let words = line.split(separator: 0x20).map { String(decoding: $0, as: UTF8.self) }
            guard let key = words.first else { continue }
            if key == "library" {
                guard current == nil, words.count == 2 else { throw fail("a library line needs a PATH, after an end") }
                current = Library(path: words[1])
                continue
            }
            guard let lib = current else { throw fail("\(key) outside a library block") }
            switch key {
            case "package" where words.count == 2: lib.package = words[1]
            case "path" where words.count == 2: lib.aliases.append(words[1])
            case "soname" where words.count == 2: lib.soname = words[1]
            case "needed" where words.count == 2: lib.needed.append(words[1])
            case "rpath" where words.count == 2: lib.rpath = words[1].split(separator: ":").map(String.init)
            case "runpath" where words.count == 2: lib.runpath = words[1].split(separator: ":").map(String.init)
            case "flags1" where words.count == 2: lib.flags1 = UInt32(words[1].dropFirst(2), radix: 16) ?? 0
            case "versions": lib.versions = Array(words.dropFirst())
            case "symbol", "hidden":
                guard words.count == 2 || words.count == 3 else { throw fail("\(key) needs NAME [VERSION]") }
                var index: UInt16 = 1
                if words.count == 3 {
                    guard let k = lib.versions.firstIndex(of: words[2]) else { throw fail("version \(words[2]) is not among the library's versions") }
                    index = UInt16(k + 2)
                }
                lib.names.append(words[1])
                lib.definitions.append(GlibcDefinition(versionIndex: index, hidden: key == "hidden"))
            case "end":
                out[lib.path] = lib
                current = nil
            default:
                throw fail("unknown line '\(key)'")
            }
        }
        if current != nil { throw fail("the last library block has no end") }
        return out
    }
}

/// One definition of a name in an object: its version index (1: unversioned) and whether it is
/// a non-default (`name@VERSION`) one.
struct GlibcDefinition: Sendable, Hashable {
    var versionIndex: UInt16
    var hidden: Bool
    /// An executable's undefined function with a PLT address: matches any lookup but a PLT one.
    var pltAddress = false
    /// For such a PLT address: the version its own need names.
    var neededVersion: String? = nil
}
