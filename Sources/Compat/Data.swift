import Foundation

/// The facts muslcheck's analysis runs on, read from the Resources folder: musl and gcompat
/// export lists, glibc's ABI table, loader facts, profiles, package names, hosts, rules, advice.
public final class CompatData: @unchecked Sendable {
    public struct ProfileSpec: Decodable, Sendable {
        public var name: String
        public var musl: String
        public var muslPackage: String?
        public var exports: String
        public var baseLibraries: [String]
    }
    public struct GcompatSpec: Decodable, Sendable {
        public var version: String
        public var package: String
        public var library: String
        public var exports: String
        public var loaderStubs: [String]
        public var links: [String]
    }
    public struct TargetsFile: Decodable, Sendable {
        public var `default`: String
        public var loader: String
        public var libcLinks: [String]
        public var profiles: [ProfileSpec]
        public var gcompat: GcompatSpec
    }
    public struct PackagesFile: Decodable, Sendable {
        public struct GlibcOnly: Decodable, Sendable { public var gcompat: [String]; public var none: [String] }
        public var packages: [String: String]
        public var glibcOnly: GlibcOnly
        public var removed: [String: String]
    }
    public struct MachineFacts: Decodable, Sendable {
        public var muslArch: String
        /// The machine's ELF identity: e_machine, and the class (32 or 64) of its objects.
        public var elfMachine: UInt16
        public var elfClass: Int
        public var glibcInterpreters: [String]
        public var relocations: [UInt32]?
    }
    public struct LoaderFacts: Decodable, Sendable {
        public struct LFS64: Decodable, Sendable {
            public var bufferSize: Int
            public var names: [String]
            public var special: [String: String]
        }
        public var reservedNames: [String]
        public var defaultSystemPath: [String]
        public var lfs64: LFS64
        public var machines: [String: MachineFacts]
    }
    public struct HostSpec: Decodable, Sendable {
        public var id: String
        public var name: String
        public var fileNamePatterns: [String]?
        public var fileNameSuffixes: [String]?
        public var exportPrefixes: [String]
        public var providesPrefixes: [String]
        public var libraries: [String]
        public var dlopenFlags: String
    }
    public struct RuleSpec: Decodable, Sendable {
        public var id: String
        public var name: String
        public var severity: Severity
        public var title: String
        public var help: String
    }
    /// What a missing symbol is, and what to do about it (advice.json).
    public struct AdviceText: Decodable, Sendable, Hashable {
        /// A noun phrase: "SYM is WHAT".
        public var what: String
        /// What to do, an imperative clause.
        public var action: String
        /// The action named once for every artifact it covers.
        public var short: String
        public init(what: String, action: String, short: String) {
            self.what = what
            self.action = action
            self.short = short
        }
    }
    public struct AdviceRule: Decodable, Sendable {
        public var match: String
        public var value: String
        public var prefixAlso: String?
        public var what: String
        public var action: String
        public var short: String
        public var text: AdviceText { AdviceText(what: what, action: action, short: short) }
    }
    public struct AdviceFile: Decodable, Sendable {
        public var rules: [AdviceRule]
        public var `default`: AdviceText
    }
    public struct ManylinuxPolicy: Decodable, Sendable {
        public var name: String
        public var aliases: [String]
        public var priority: Int
        public var symbolVersions: [String: [String: String?]]
        public var libraries: [String]
    }
    /// One row of glibc's ABI table.
    public struct GlibcSymbol: Sendable {
        public var library: String
        public var versions: [String]
        /// musl 1.2.3 / 1.2.4 / 1.2.5: "yes", "remap" (only through the loader's LFS64 fallback), "no".
        var musl123: String, musl124: String, musl125: String
        public var musl: [String: String] { ["1.2.3": musl123, "1.2.4": musl124, "1.2.5": musl125] }
        public var gcompat: Bool
        /// The oldest GLIBC_ version that has the symbol.
        public var introduced: String? { versions.min { VersionNumber($0) < VersionNumber($1) } }
    }

    public let targets: TargetsFile
    public let packages: PackagesFile
    public let loader: LoaderFacts
    public let hosts: [HostSpec]
    /// The findings' rules (findings.json), checked against the finding ids.
    public let catalogue: FindingCatalogue
    /// The rules in findings.json's order.
    public var ruleList: [RuleSpec] { catalogue.rules }
    public let advice: AdviceFile
    public let manylinux: [ManylinuxPolicy]
    public let glibc: [String: GlibcSymbol]
    /// glibc's symbol names, for lookups by a precomputed hash.
    let glibcNames: SymbolTable
    /// The names get_lfs64 maps (NAME64 → NAME when NAME is one of these).
    let lfs64Names: Set<String>
    private let resources: URL
    private let lock = NSLock()
    private var exportCache: [String: Set<String>] = [:]

    /// Where the Resources folder is: the package's resource bundle.
    public static func resourcesURL() throws -> URL {
        if let url = Bundle.module.url(forResource: "targets", withExtension: "json") {
            return url.deletingLastPathComponent()
        }
        throw CompatDataError("muslcheck's data files (targets.json and the export lists) are missing beside the executable; reinstall muslcheck with its muslcheck_Compat.resources folder")
    }

    private static let loaded: Result<CompatData, CompatDataError> = {
        do { return .success(try CompatData(resources: try resourcesURL(), catalogue: try FindingCatalogue.bundled.get())) } catch let e as CompatDataError {
            return .failure(e)
        } catch {
            return .failure(CompatDataError("cannot read muslcheck's data files: \(error)"))
        }
    }()

    /// The shared instance, read once.
    public static func shared() throws -> CompatData { try loaded.get() }

    /// Reads the data files in `resources`; `catalogue`: findings.json, when it is read already.
    init(resources: URL, catalogue: FindingCatalogue? = nil) throws {
        self.resources = resources
        func decode<T: Decodable>(_ name: String, as: T.Type) throws -> T {
            let url = resources.appendingPathComponent(name)
            do {
                return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
            } catch {
                throw CompatDataError("data file \(name) is unreadable: \(error)")
            }
        }
        targets = try decode("targets.json", as: TargetsFile.self)
        packages = try decode("packages.json", as: PackagesFile.self)
        loader = try decode("loader.json", as: LoaderFacts.self)
        struct Hosts: Decodable { var hosts: [HostSpec] }
        hosts = try decode("hosts.json", as: Hosts.self).hosts
        self.catalogue = try catalogue ?? FindingCatalogue(contentsOf: resources.appendingPathComponent("findings.json"))
        advice = try decode("advice.json", as: AdviceFile.self)
        struct Policies: Decodable { var policies: [ManylinuxPolicy] }
        manylinux = try decode("manylinux-policies.json", as: Policies.self).policies.sorted { $0.priority > $1.priority }
        glibc = try CompatData.readGlibcTable(resources.appendingPathComponent("glibc-2.42-x86_64-abi.tsv"))
        glibcNames = SymbolTable(names: glibc.keys)
        lfs64Names = Set(loader.lfs64.names)
    }

    static func readGlibcTable(_ url: URL) throws -> [String: GlibcSymbol] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw CompatDataError("data file \(url.lastPathComponent) is unreadable")
        }
        // One pass over the bytes (the table has thousands of rows and is read at every start).
        var out: [String: GlibcSymbol] = [:]
        out.reserveCapacity(4096)
        var utf8 = text
        utf8.withUTF8 { bytes in
            var fields: [UnsafeBufferPointer<UInt8>] = []
            var lineStart = 0
            var first = true
            func field(_ i: Int) -> String { String(decoding: fields[i], as: UTF8.self) }
            while lineStart < bytes.count {
                var end = lineStart
                while end < bytes.count && bytes[end] != 0x0a { end += 1 }
                defer { lineStart = end + 1 }
                if first { first = false; continue }  // the header
                fields.removeAll(keepingCapacity: true)
                var start = lineStart
                for i in lineStart...end where i == end || bytes[i] == 0x09 {
                    fields.append(UnsafeBufferPointer(rebasing: bytes[start..<i]))
                    start = i + 1
                }
                guard fields.count >= 7 else { continue }
                let versions = fields[2].split(separator: UInt8(ascii: ",")).map { v in
                    String(decoding: v.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 }.reversed(), as: UTF8.self)
                }
                out[field(0)] = GlibcSymbol(library: field(1), versions: versions, musl123: field(3), musl124: field(4),
                                            musl125: field(5), gcompat: fields[6].elementsEqual("yes".utf8))
            }
        }
        return out
    }

    /// An export list by name ("musl-1.2.5-x86_64"), read once.
    public func exports(_ name: String) throws -> Set<String> {
        lock.lock()
        if let hit = exportCache[name] { lock.unlock(); return hit }
        lock.unlock()
        let url = resources.appendingPathComponent(name + ".exports")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw CompatDataError("export list \(name).exports is missing from muslcheck's data")
        }
        let set = Set(text.split(separator: "\n").map(String.init))
        lock.lock()
        exportCache[name] = set
        lock.unlock()
        return set
    }

    /// The rule of a finding id, from findings.json.
    public func rule(_ id: FindingID) -> RuleSpec { catalogue.rule(id) }

    /// What a missing symbol is and what to do, from advice.json; `isDefault` when no rule matched.
    public func advice(for symbol: String) -> (text: AdviceText, isDefault: Bool) {
        // Symbol names are bytes: compared as UTF-8, without Character processing.
        let name = symbol.utf8
        for rule in advice.rules {
            switch rule.match {
            case "exact" where symbol == rule.value: return (rule.text, false)
            case "prefix" where name.starts(with: rule.value.utf8): return (rule.text, false)
            case "suffix" where name.count >= rule.value.utf8.count && name.suffix(rule.value.utf8.count).elementsEqual(rule.value.utf8)
                && name.starts(with: (rule.prefixAlso ?? "").utf8): return (rule.text, false)
            default: continue
            }
        }
        return (advice.default, true)
    }

    public func machine(_ name: String) -> MachineFacts? { loader.machines[name] }

    private var glibcData: Result<GlibcProfileData, CompatDataError>?

    /// The Debian-based profiles' data (Resources/glibc), read on first use.
    public func glibcProfiles() throws -> GlibcProfileData {
        lock.lock()
        defer { lock.unlock() }
        if let glibcData { return try glibcData.get() }
        let result: Result<GlibcProfileData, CompatDataError>
        do { result = .success(try GlibcProfileData(resources: resources)) } catch let e as CompatDataError {
            result = .failure(e)
        } catch {
            result = .failure(CompatDataError("cannot read the glibc profiles: \(error)"))
        }
        glibcData = result
        return try result.get()
    }
}

public struct CompatDataError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Dotted version numbers compared component by component ("2.17" < "2.2.5" is false).
public struct VersionNumber: Comparable, Sendable, CustomStringConvertible {
    public let parts: [Int]
    public let text: String
    public init(_ text: String) {
        self.text = text
        parts = Self.asciiParts(text) ?? text.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
    }

    /// The common case without Character processing: ASCII text, each non-empty dot-separated
    /// part read up to its first non-digit (0 when it starts with none or overflows). Nil for
    /// other text, which takes the general path.
    public static func asciiParts(_ text: String) -> [Int]? {
        var parts: [Int] = []
        var value = 0
        var inPart = false
        var digits = true
        var overflow = false
        for b in text.utf8 {
            guard b < 0x80 else { return nil }
            if b == UInt8(ascii: ".") {
                if inPart { parts.append(overflow ? 0 : value) }
                value = 0; inPart = false; digits = true; overflow = false
                continue
            }
            inPart = true
            guard digits else { continue }
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(b - UInt8(ascii: "0")))
                value = a
                if o1 || o2 { overflow = true }
            } else {
                digits = false
            }
        }
        if inPart { parts.append(overflow ? 0 : value) }
        return parts
    }
    public static func < (a: VersionNumber, b: VersionNumber) -> Bool {
        for i in 0..<max(a.parts.count, b.parts.count) {
            let x = i < a.parts.count ? a.parts[i] : 0
            let y = i < b.parts.count ? b.parts[i] : 0
            if x != y { return x < y }
        }
        return false
    }
    public static func == (a: VersionNumber, b: VersionNumber) -> Bool { !(a < b) && !(b < a) }
    public var description: String { text }
}
