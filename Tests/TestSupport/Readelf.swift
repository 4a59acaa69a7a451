import Foundation

/// What GNU readelf (binutils) says about a file: the oracle of the differential tests.
public struct ReadelfFacts: Sendable {
    public struct Symbol: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var defined: Bool
        public var binding: String
        public var type: String
        public var version: String?
    }
    public struct VersionNeed: Sendable, Equatable {
        public var file: String
        public var versions: [String]
        public init(file: String, versions: [String]) { self.file = file; self.versions = versions }
    }
    public struct VersionDefinition: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var parents: [String]
        public init(index: Int, name: String, parents: [String]) { self.index = index; self.name = name; self.parents = parents }
    }

    public var interpreter: String?
    public var needed: [String] = []
    public var soname: String?
    public var rpath: String?
    public var runpath: String?
    public var versionNeeds: [VersionNeed] = []
    public var versionDefinitions: [VersionDefinition] = []
    public var symbols: [Symbol] = []
    /// versym entries as printed by `-V`: index → (value, hidden).
    public var versym: [Int: (Int, Bool)] = [:]
    public var hasDynamicSymbolTable = false
    public var stderr: String = ""
    /// The tool and mode that produced these facts.
    public var oracle: String = ""

    /// The oracle complained about the file (a warning or an error on stderr).
    public var complained: Bool { stderr.contains("Warning") || stderr.contains("Error") || stderr.contains("error") || stderr.contains("invalid") }
}

public enum Readelf {
    public enum Tool: String, Sendable {
        /// GNU readelf, reading through the section headers.
        case readelf
        /// GNU readelf -D: the dynamic segment only (for files without section headers).
        case readelfDynamic = "readelf -D"
        /// elfutils' eu-readelf.
        case euReadelf = "eu-readelf"
    }

    /// Runs the oracle in the C locale and parses what it prints.
    public static func facts(_ path: String, tool: Tool = .readelf) throws -> ReadelfFacts {
        let arguments: [String]
        let executable: String
        switch tool {
        case .readelf: executable = "readelf"; arguments = ["-W", "-l", "-d", "-V", "--dyn-syms", path]
        case .readelfDynamic: executable = "readelf"; arguments = ["-W", "-D", "-l", "-d", "-s", path]
        case .euReadelf: executable = "eu-readelf"; arguments = ["-W", "-l", "-d", "-V", "--dyn-syms", path]
        }
        let result = try TestCommand.run(executable, arguments, environment: ["LC_ALL": "C", "LANG": "C"])
        var facts = parse(result.stdout, eu: tool == .euReadelf)
        facts.stderr = result.stderr
        facts.oracle = tool.rawValue
        return facts
    }

    static func bracketed(_ line: Substring, after marker: String) -> String? {
        guard let r = line.range(of: marker) else { return nil }
        let rest = line[r.upperBound...]
        guard let end = rest.lastIndex(of: "]") else { return nil }
        return String(rest[..<end])
    }

    public static func parse(_ text: String, eu: Bool = false) -> ReadelfFacts {
        var facts = ReadelfFacts()
        enum Section { case none, dynsym, versym, verneed, verdef }
        var section = Section.none
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if let v = bracketed(line, after: "[Requesting program interpreter: ") { facts.interpreter = v; continue }
            if let v = bracketed(line, after: "Shared library: [") { facts.needed.append(v); continue }
            if let v = bracketed(line, after: "Library soname: [") { facts.soname = v; continue }
            if let v = bracketed(line, after: "Library rpath: [") { facts.rpath = v; continue }
            if let v = bracketed(line, after: "Library runpath: [") { facts.runpath = v; continue }
            if line.hasPrefix("Symbol table '.dynsym'") || line.hasPrefix("Symbol table for image")
                || (line.hasPrefix("Symbol table [") && line.contains("'.dynsym'")) {
                section = .dynsym
                facts.hasDynamicSymbolTable = true
                continue
            }
            if line.hasPrefix("Version symbols section") { section = .versym; continue }
            if line.hasPrefix("Version needs section") { section = .verneed; continue }
            if line.hasPrefix("Version definition section") { section = .verdef; continue }
            if line.hasPrefix("Symbol table") || line.hasPrefix("Dynamic section") || line.hasPrefix("Dynamic segment") || line.hasPrefix("Program Headers")
                || line.hasPrefix("Elf file type") || line.hasPrefix("There are no") || line.hasPrefix("No version") {
                section = .none
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            switch section {
            case .dynsym:
                // "   1: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND free@GLIBC_2.2.5 (2)"
                guard fields.count >= 7, fields[0].hasSuffix(":"), let index = Int(fields[0].dropLast()) else { continue }
                var rest = Array(fields[3...])  // type bind vis [vis extras] ndx name...
                // "<OS specific>: 10" spans three fields.
                func field() -> String {
                    var token = String(rest.removeFirst())
                    if token.hasPrefix("<") {
                        while !token.contains(">"), !rest.isEmpty { token += " " + rest.removeFirst() }
                        if token.hasSuffix(":"), !rest.isEmpty { token += " " + rest.removeFirst() }
                    }
                    return token
                }
                let type = field()
                let bind = field()
                // Visibility may carry extra bracketed words ("DEFAULT [VARIANT_PCS]").
                rest.removeFirst()
                while let first = rest.first, first.hasPrefix("[") || first.hasSuffix("]") { rest.removeFirst() }
                guard !rest.isEmpty else { continue }
                let ndx = String(rest.removeFirst())
                var name = rest.joined(separator: " ")
                if let r = name.range(of: #" \(\d+\)$"#, options: .regularExpression) { name.removeSubrange(r) }
                var version: String? = nil
                if let r = name.range(of: "@@") {
                    version = String(name[r.upperBound...]); name = String(name[..<r.lowerBound])
                } else if let r = name.range(of: "@") {
                    version = String(name[r.upperBound...]); name = String(name[..<r.lowerBound])
                }
                guard index > 0 else { continue }
                facts.symbols.append(.init(index: index, name: name, defined: ndx != "UND" && ndx != "UNDEF", binding: bind, type: type, version: version))
            case .versym:
                // "  004:   1 (*global*)      2h(VERS_1)        3 (VERS_2)"
                // readelf: "  004:   1 (*global*)   2h(VERS_1)", index and values in hex.
                // eu-readelf: "    4:   1 *global*    2hVERS_1", in decimal.
                guard let first = fields.first, first.hasSuffix(":"), let base = Int(first.dropLast(), radix: eu ? 10 : 16) else { continue }
                let body = line[line.index(after: line.firstIndex(of: ":")!)...]
                let regex = eu
                    ? try! NSRegularExpression(pattern: #"(?:^|\s)(\d+)(h?)\s*(?=[*A-Za-z_.])"#)
                    : try! NSRegularExpression(pattern: #"(?:^|\s)([0-9a-f]+)(h?)\s*\("#)
                let ns = String(body)
                let matches = regex.matches(in: ns, range: NSRange(ns.startIndex..., in: ns))
                for (k, m) in matches.enumerated() {
                    let value = Int((ns as NSString).substring(with: m.range(at: 1)), radix: eu ? 10 : 16)!
                    let hidden = (ns as NSString).substring(with: m.range(at: 2)) == "h"
                    facts.versym[base + k] = (value, hidden)
                }
            case .verneed:
                if let r = line.range(of: "File: ") {
                    let rest = line[r.upperBound...]
                    let file = rest.range(of: "  Cnt:").map { String(rest[..<$0.lowerBound]) } ?? String(rest)
                    facts.versionNeeds.append(.init(file: file, versions: []))
                } else if let r = line.range(of: "Name: "), !facts.versionNeeds.isEmpty {
                    let rest = line[r.upperBound...]
                    let name = rest.range(of: "  Flags:").map { String(rest[..<$0.lowerBound]) } ?? String(rest)
                    facts.versionNeeds[facts.versionNeeds.count - 1].versions.append(name)
                }
            case .verdef:
                if let r = line.range(of: "Index: "), let n = line.range(of: "Name: ") {
                    let idxText = line[r.upperBound...].prefix { $0.isNumber }
                    facts.versionDefinitions.append(.init(index: Int(idxText) ?? -1, name: String(line[n.upperBound...]), parents: []))
                } else if line.contains("Parent "), let c = line.range(of: ": ", options: .backwards), !facts.versionDefinitions.isEmpty {
                    facts.versionDefinitions[facts.versionDefinitions.count - 1].parents.append(String(line[c.upperBound...]))
                }
            case .none:
                break
            }
        }
        return facts
    }
}
