import Foundation

/// The id of every finding muslcheck reports (raw value "MC101"). Ids are stable: JSON reports,
/// SARIF rules, JUnit, baselines and the README use them. findings.json has one entry for each
/// case, with the rule's short name, severity, title and help.
public enum FindingID: String, CaseIterable, Codable, Sendable {
    /// A file could not be read.
    case unreadableFile = "MC001"
    /// An ELF file's headers or tables are damaged.
    case malformedELF = "MC002"
    /// An archive is damaged, or a member is encrypted or oddly compressed.
    case malformedArchive = "MC003"
    /// An archive member passed a safety limit (a zip bomb, nesting, expansion).
    case archiveLimit = "MC004"
    /// A symbolic link loops or points nowhere.
    case symlinkProblem = "MC005"
    /// The program's interpreter is not on the target.
    case missingInterpreter = "MC100"
    /// A needed library is not found.
    case missingLibrary = "MC101"
    /// A symbol no loaded object defines.
    case missingSymbol = "MC102"
    /// An LFS64 name musl 1.2.4 and 1.2.5's loader cannot map back (posix_fallocate64).
    case lfs64LoaderBug = "MC103"
    /// The only definition of a symbol is an IFUNC.
    case ifuncDefinition = "MC104"
    /// A relocation type musl's loader refuses.
    case unsupportedRelocation = "MC105"
    /// Initial-exec TLS in a module loaded with dlopen (or a library that might be one).
    case initialExecTLS = "MC106"
    /// Not a file the target runs (another machine or OS ABI, an object file, a core dump).
    case notApplicable = "MC107"
    /// DT_RELR relocations on a musl older than 1.2.4.
    case relrUnsupported = "MC108"
    /// Only a hidden (non-default) version defines the symbol.
    case hiddenDefinitionOnly = "MC109"
    /// A library of a package the base image lacks.
    case libraryFromPackage = "MC110"
    /// Symbols expected from a library whose exports are not known.
    case unverifiedSymbols = "MC111"
    /// Loads only with gcompat; or, installed, loads through it.
    case needsGcompat = "MC112"
    /// A module loads only with gcompat preloaded.
    case needsGcompatPreload = "MC113"
    /// The first file found under a needed library's name is not loadable.
    case libraryNotLoadable = "MC114"
    /// The file is cut short or corrupted: no loader can map it.
    case damagedFile = "MC115"
    /// A glibc (manylinux) wheel.
    case manylinuxWheel = "MC120"
    /// A statically linked glibc program.
    case staticGlibc = "MC121"
    /// Threads created with the default stack size, 128 KiB on musl.
    case threadStackSize = "MC130"
    /// Symbols the host program (Python, Node, the JVM) provides.
    case hostProvidedSymbols = "MC140"
    /// musl's real loader contradicts the static verdict.
    case loaderProbeContradiction = "MC150"
    /// The loader probe could not check an artifact.
    case loaderProbeFailed = "MC151"
    /// A user probe failed in the image.
    case userProbeFailed = "MC152"
    /// glibc: a needed library is not found.
    case glibcMissingLibrary = "MC200"
    /// glibc: a version need the library does not define.
    case glibcVersionNotFound = "MC201"
    /// glibc: an undefined symbol at load.
    case glibcUndefinedSymbol = "MC202"
    /// glibc: an undefined function bound lazily, which fails when first called.
    case glibcLazyUndefinedSymbol = "MC203"
    /// glibc: a weak version need the library does not define.
    case glibcWeakVersion = "MC204"
}

/// A fix sentence of findings.json: the entry of `finding` holds it in "fixes" under this name.
/// Its placeholders ("{soname}") are filled in by the rule code (Rules/).
public enum FixTemplate: String, CaseIterable, Sendable {
    case unreadableFile, damagedELF, damagedArchive, unsupportedArchive, archiveLimit, brokenLink
    case gcompatStub, gcompatStubFails, foreignInterpreter
    case gcompatLibrary, gcompatLibraryInWheel, glibcOwnLibrary, packageLibrary, packageLibraryInWheel, wheelLibrary, unknownLibrary
    case ifuncOnlyLibrary, ifuncOnlyUnnamed, irelative, otherRelocation, initialExecTLSInModule, initialExecTLSInLibrary
    case notApplicable, relr, hiddenOnly, package, unverifiedSymbols
    case needsGcompat, loadsThroughGcompat, needsGcompatPreloaded, preloadGcompat, notLoadable
    case unloadableFile, musllinuxWheel, staticGlibc, threadStack, hostProvided
    case contradiction, listByHand, startByHand, damagedAsFound, nestedArchive, archiveNotStaged, linkOutsideChecked, userProbe
    case noLoader, muslProgram, aptPackage, debianPackage, distrolessPackage, muslLibrary, unknownGlibcLibrary, olderBuild, provideSymbol, provideLazySymbol, weakVersion

    /// The finding whose entry holds it.
    public var finding: FindingID {
        switch self {
        case .unreadableFile: .unreadableFile
        case .damagedELF: .malformedELF
        case .damagedArchive, .unsupportedArchive: .malformedArchive
        case .archiveLimit: .archiveLimit
        case .brokenLink: .symlinkProblem
        case .gcompatStub, .gcompatStubFails, .foreignInterpreter, .noLoader, .muslProgram: .missingInterpreter
        case .gcompatLibrary, .gcompatLibraryInWheel, .glibcOwnLibrary, .packageLibrary, .packageLibraryInWheel, .wheelLibrary, .unknownLibrary:
            .missingLibrary
        case .ifuncOnlyLibrary, .ifuncOnlyUnnamed: .ifuncDefinition
        case .irelative, .otherRelocation: .unsupportedRelocation
        case .initialExecTLSInModule, .initialExecTLSInLibrary: .initialExecTLS
        case .notApplicable: .notApplicable
        case .relr: .relrUnsupported
        case .hiddenOnly: .hiddenDefinitionOnly
        case .package, .aptPackage: .libraryFromPackage
        case .debianPackage, .distrolessPackage, .muslLibrary, .unknownGlibcLibrary: .glibcMissingLibrary
        case .olderBuild: .glibcVersionNotFound
        case .provideSymbol: .glibcUndefinedSymbol
        case .provideLazySymbol: .glibcLazyUndefinedSymbol
        case .weakVersion: .glibcWeakVersion
        case .unverifiedSymbols: .unverifiedSymbols
        case .needsGcompat, .loadsThroughGcompat: .needsGcompat
        case .needsGcompatPreloaded, .preloadGcompat: .needsGcompatPreload
        case .notLoadable: .libraryNotLoadable
        case .unloadableFile: .damagedFile
        case .musllinuxWheel: .manylinuxWheel
        case .staticGlibc: .staticGlibc
        case .threadStack: .threadStackSize
        case .hostProvided: .hostProvidedSymbols
        case .contradiction: .loaderProbeContradiction
        case .listByHand, .startByHand, .damagedAsFound, .nestedArchive, .archiveNotStaged, .linkOutsideChecked: .loaderProbeFailed
        case .userProbe: .userProbeFailed
        }
    }

    /// The placeholders the rule code fills in.
    public var placeholders: Set<String> {
        switch self {
        case .gcompatStub: ["interpreter"]
        case .foreignInterpreter, .muslProgram: ["target", "interpreter"]
        case .gcompatLibrary, .gcompatLibraryInWheel, .glibcOwnLibrary, .unknownLibrary: ["soname"]
        case .packageLibrary, .packageLibraryInWheel, .package, .aptPackage: ["package"]
        case .noLoader: ["target", "libc"]
        case .debianPackage, .distrolessPackage: ["package", "soname"]
        case .muslLibrary, .unknownGlibcLibrary: ["soname"]
        case .olderBuild: ["artifact", "library", "glibc", "glibcMinor", "version"]
        case .provideSymbol, .provideLazySymbol: ["object", "symbol"]
        case .ifuncOnlyLibrary: ["library"]
        case .hiddenOnly: ["symbol"]
        case .needsGcompatPreloaded, .preloadGcompat: ["library"]
        case .notLoadable: ["soname", "machine"]
        case .linkOutsideChecked: ["folder"]
        default: []
        }
    }
}

/// findings.json, read and checked against `FindingID` and `FixTemplate`: every id has exactly
/// one entry, every entry is an id's, and every entry has the fix templates of its id and no
/// other, with no placeholder the rule code does not fill in. A file that breaks this is an
/// error naming the id and the file.
public struct FindingCatalogue: Sendable {
    /// The rules in the file's order (the order SARIF lists them in).
    public let rules: [CompatData.RuleSpec]
    private let byID: [FindingID: CompatData.RuleSpec]
    private let fixes: [FixTemplate: [Piece]]

    /// A piece of a fix template: text as it is, or a placeholder's name.
    enum Piece: Sendable, Hashable {
        case text(String)
        case placeholder(String)
    }

    /// Reads the text of a findings.json; `file` names it in the errors.
    public init(json: Data, file: String = "findings.json") throws {
        struct Entry: Decodable {
            var id: String
            var name: String
            var severity: Severity
            var title: String
            var help: String
            var fixes: [String: String]?
        }
        struct File: Decodable { var rules: [Entry] }
        let entries: [Entry]
        do {
            entries = try JSONDecoder().decode(File.self, from: json).rules
        } catch {
            throw CompatDataError("data file \(file) is unreadable: \(error)")
        }
        var byID: [FindingID: CompatData.RuleSpec] = [:]
        var fixes: [FixTemplate: [Piece]] = [:]
        for entry in entries {
            guard let id = FindingID(rawValue: entry.id) else {
                throw CompatDataError("data file \(file) has an entry for \(entry.id), which is not a finding muslcheck reports")
            }
            guard byID[id] == nil else {
                throw CompatDataError("data file \(file) has two entries for \(entry.id)")
            }
            byID[id] = CompatData.RuleSpec(id: entry.id, name: entry.name, severity: entry.severity, title: entry.title, help: entry.help)
            for (name, text) in (entry.fixes ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let template = FixTemplate(rawValue: name), template.finding == id else {
                    throw CompatDataError("data file \(file) has a fix template \(name) in the entry for \(entry.id), which that finding does not use")
                }
                let pieces = Self.pieces(text)
                for case .placeholder(let p) in pieces where !template.placeholders.contains(p) {
                    throw CompatDataError("data file \(file) has the placeholder {\(p)} in the fix template \(name) of \(entry.id), which muslcheck does not fill in")
                }
                fixes[template] = pieces
            }
        }
        if let missing = FindingID.allCases.first(where: { byID[$0] == nil }) {
            throw CompatDataError("data file \(file) has no entry for \(missing.rawValue), a finding muslcheck reports")
        }
        if let missing = FixTemplate.allCases.first(where: { fixes[$0] == nil }) {
            throw CompatDataError("data file \(file) has no fix template \(missing.rawValue) in the entry for \(missing.finding.rawValue)")
        }
        rules = entries.compactMap { FindingID(rawValue: $0.id).flatMap { byID[$0] } }
        self.byID = byID
        self.fixes = fixes
    }

    /// Reads a findings.json file.
    public init(contentsOf url: URL) throws {
        let json: Data
        do {
            json = try Data(contentsOf: url)
        } catch {
            throw CompatDataError("data file \(url.lastPathComponent) is unreadable: \(error)")
        }
        try self.init(json: json, file: url.lastPathComponent)
    }

    /// The rule of a finding id (the initialiser checked that every id has one).
    public func rule(_ id: FindingID) -> CompatData.RuleSpec { byID[id]! }

    /// A fix sentence, its placeholders filled in with `values` (the initialiser checked that
    /// every template is there).
    public func fix(_ template: FixTemplate, _ values: [String: String] = [:]) -> String {
        var out = ""
        for piece in fixes[template] ?? [] {
            switch piece {
            case .text(let text): out += text
            case .placeholder(let name): out += values[name] ?? "{\(name)}"
            }
        }
        return out
    }

    /// A template's pieces: "{name}" is a placeholder when the name is letters only.
    static func pieces(_ template: String) -> [Piece] {
        var out: [Piece] = []
        var text = Substring(template)
        while let open = text.firstIndex(of: "{"),
              let close = text[open...].firstIndex(of: "}") {
            let name = text[text.index(after: open)..<close]
            if !name.isEmpty && name.allSatisfy({ $0.isASCII && $0.isLetter }) {
                if open > text.startIndex { out.append(.text(String(text[..<open]))) }
                out.append(.placeholder(String(name)))
            } else {
                out.append(.text(String(text[...open])))
                text = text[text.index(after: open)...]
                continue
            }
            text = text[text.index(after: close)...]
        }
        if !text.isEmpty { out.append(.text(String(text))) }
        return out
    }

    /// muslcheck's own findings.json, read once.
    public static let bundled: Result<FindingCatalogue, CompatDataError> = {
        do {
            return .success(try FindingCatalogue(contentsOf: CompatData.resourcesURL().appendingPathComponent("findings.json")))
        } catch let e as CompatDataError {
            return .failure(e)
        } catch {
            return .failure(CompatDataError("cannot read muslcheck's data files: \(error)"))
        }
    }()
}

/// The fix of every finding: one sentence for each situation that produces it. The analysis,
/// the scan's problems and the probes' findings take their fix texts from here; each family of
/// findings has its own in Rules/, whose sentences are the fix templates of findings.json.
public enum Fixes {
    /// A fix sentence of muslcheck's findings.json with its placeholders filled in. Empty only
    /// when findings.json cannot be read, and then `CompatData.shared()` fails with the reason:
    /// no finding is made.
    static func text(_ template: FixTemplate, _ values: [String: String] = [:]) -> String {
        switch FindingCatalogue.bundled {
        case .success(let catalogue): catalogue.fix(template, values)
        case .failure: ""
        }
    }
}
