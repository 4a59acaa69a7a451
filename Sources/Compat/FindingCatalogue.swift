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
