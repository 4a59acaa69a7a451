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
}

/// findings.json, read and checked against `FindingID`: every id has exactly one entry, and
/// every entry is an id's. A file that breaks this is an error naming the id and the file.
public struct FindingCatalogue: Sendable {
    /// The rules in the file's order (the order SARIF lists them in).
    public let rules: [CompatData.RuleSpec]
    private let byID: [FindingID: CompatData.RuleSpec]

    /// Reads the text of a findings.json; `file` names it in the errors.
    public init(json: Data, file: String = "findings.json") throws {
        struct File: Decodable { var rules: [CompatData.RuleSpec] }
        let entries: [CompatData.RuleSpec]
        do {
            entries = try JSONDecoder().decode(File.self, from: json).rules
        } catch {
            throw CompatDataError("data file \(file) is unreadable: \(error)")
        }
        var byID: [FindingID: CompatData.RuleSpec] = [:]
        for entry in entries {
            guard let id = FindingID(rawValue: entry.id) else {
                throw CompatDataError("data file \(file) has an entry for \(entry.id), which is not a finding muslcheck reports")
            }
            guard byID[id] == nil else {
                throw CompatDataError("data file \(file) has two entries for \(entry.id)")
            }
            byID[id] = entry
        }
        if let missing = FindingID.allCases.first(where: { byID[$0] == nil }) {
            throw CompatDataError("data file \(file) has no entry for \(missing.rawValue), a finding muslcheck reports")
        }
        rules = entries
        self.byID = byID
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
}

/// The fix of every finding: one sentence for each situation that produces it. The analysis,
/// the scan's problems and the probes' findings take their fix texts from here; each family of
/// findings has its own in Rules/.
public enum Fixes {}
