/// The fix of every finding: one sentence for each situation that produces it. The analysis,
/// the scan's problems and the probes' findings take their fix texts from here.
public enum Fixes {
    // MARK: - Files and archives (MC001–MC005, MC115)

    public static let unreadableFile = "make the file readable by the user running muslcheck, or leave it out of the paths"
    public static let damagedELF = "download or build the file again; muslcheck checked what it could read"
    public static let damagedArchive = "download or build the archive again; the members before the damage were checked"
    public static let unsupportedArchive = "repack the archive with stored or deflated members, unencrypted"
    public static let archiveLimit = "look inside the archive; if you trust it, unpack it and check its files"
    public static let brokenLink = "fix or remove the link"
    public static let unloadableFile = "download or build the file again: it is cut short or corrupted"

    // MARK: - Loading (MC100–MC115)

    /// MC100: the program's interpreter is not on the target.
    public static func missingInterpreter(_ interpreter: String, target: String, glibc: Bool, gcompatFixes: Bool) -> String {
        guard glibc else { return "rebuild for musl: \(target) has no \(interpreter)" }
        return gcompatFixes
            ? "apk add gcompat, whose loader stub at \(interpreter) starts glibc programs on musl; or rebuild for musl, or statically"
            : "rebuild for musl, or statically: gcompat's loader stub would start it, but it would still fail (see the other findings)"
    }

    /// MC101: a needed library is not found.
    public static func missingLibrary(_ soname: String, package: String?, glibcOnly: GlibcOnlyLibrary?, removed: String?,
                                      inManylinuxWheel: Bool) -> String {
        if let removed { return removed }
        switch glibcOnly {
        case .gcompat?:
            return inManylinuxWheel
                ? "use the musllinux wheel, or apk add gcompat, which provides \(soname), a glibc library"
                : "apk add gcompat, which provides \(soname), a glibc library"
        case .none?:
            return "rebuild for musl: \(soname) is glibc's own and nothing provides it on musl"
        case nil:
            break
        }
        if let package {
            return inManylinuxWheel ? "use the musllinux wheel, which bundles or avoids it, or apk add \(package)" : "apk add \(package)"
        }
        return inManylinuxWheel
            ? "use the musllinux wheel, which bundles or avoids it"
            : "install the package that provides \(soname) on the target, or ship it beside the artifact and point RUNPATH ($ORIGIN) at it"
    }

    /// Whether a missing symbol's fix says the symbol is glibc-internal (its version need names
    /// one of glibc's libraries, GLIBC_PRIVATE), as `missingSymbol` words it.
    public static func isGlibcInternal(fix: String) -> Bool { fix.hasSuffix(glibcInternalEnding) }
    static let glibcInternalEnding = " (outside its public ABI), and neither musl nor gcompat provides it: rebuild against musl"

    /// glibc's own libraries, by soname (libc.so.6, libm.so.6, ld-linux-x86-64.so.2, ...).
    public static func isGlibcLibrary(_ soname: String) -> Bool {
        ["libc.so.", "libm.so.", "libpthread.so.", "libdl.so.", "librt.so.", "libresolv.so.", "libutil.so.", "libcrypt.so.",
         "libanl.so.", "libnsl.so.", "libmvec.so.", "ld-linux", "ld64.so."].contains { soname.hasPrefix($0) }
    }

    /// Libraries that only glibc has: gcompat provides some of them, nothing the rest.
    public enum GlibcOnlyLibrary: Sendable { case gcompat, none }

    /// MC102 and MC103: a symbol no loaded object defines.
    /// - glibc: since which glibc version and in which library it exists, nil when it is not glibc's.
    /// - musl: whether the target's musl has it (a glibc symbol it has is missing only through the LFS64 bug).
    /// - expectedFrom: the library its version need names (libc.so.6), if any.
    public static func missingSymbol(_ symbol: String, advice: CompatData.AdviceText, isDefault: Bool, glibc: (library: String, since: String)?,
                                     expectedFrom: String? = nil, muslVersion: String?, muslHasIt: Bool, gcompatHasIt: Bool,
                                     targetHasGcompat: Bool) -> String {
        guard let glibc else {
            if !isDefault { return "\(symbol) is \(advice.what): \(advice.action)" }
            if gcompatHasIt && !targetHasGcompat {
                return "apk add gcompat, which provides \(symbol); no library loaded on the target defines it"
            }
            if let lib = expectedFrom, isGlibcLibrary(lib) {
                return "\(symbol) is internal to glibc's \(lib)" + glibcInternalEnding
            }
            return "\(symbol) is not a glibc symbol: the library that should define it is missing, or older than the one the artifact was built against"
        }
        let origin = "\(symbol) (in glibc's \(glibc.library) since \(glibc.since))"
        let musl = "musl" + (muslVersion.map { " \($0)" } ?? "")
        if muslHasIt {
            return "\(origin) is \(advice.what): \(advice.action)"
        }
        if gcompatHasIt && !targetHasGcompat {
            return "\(origin) is \(advice.what), which \(musl) lacks and gcompat provides: apk add gcompat, or \(advice.action)"
        }
        if gcompatHasIt {
            return "\(origin) is \(advice.what), which \(musl) lacks: \(advice.action)"
        }
        return "\(origin) is \(advice.what), which neither \(musl) nor gcompat provides: \(advice.action)"
    }

    /// MC104: the only definition is an IFUNC.
    public static func ifuncOnly(definedIn: String?) -> String {
        "rebuild \(definedIn ?? "the library") without IFUNC (no __attribute__((ifunc)), no target_clones)"
    }

    /// MC105: a relocation type musl's loader refuses.
    public static func unsupportedRelocation(irelative: Bool) -> String {
        irelative
            ? "rebuild without IFUNC: no __attribute__((ifunc)), no target_clones, and no glibc static-pie (its multiarch string functions)"
            : "rebuild for musl"
    }

    /// MC106: initial-exec TLS, in a module (an error) or a library that might be one (a note).
    public static let initialExecTLSInModule = "rebuild with -ftls-model=global-dynamic (drop -ftls-model=initial-exec and __attribute__((tls_model(\"initial-exec\"))))"
    public static let initialExecTLSInLibrary = "if it is loaded with dlopen (a plugin), rebuild it with -ftls-model=global-dynamic"

    /// MC107: not a file the target runs.
    public static let notApplicable = "none needed on this target"

    /// MC108: DT_RELR on a musl older than 1.2.4.
    public static let relr = "use musl 1.2.4 or newer (Alpine 3.18+), or relink without -z pack-relative-relocs"

    /// MC109: only a hidden (non-default) version defines the symbol.
    public static func hiddenOnly(_ symbol: String) -> String {
        "export a default version (\(symbol)@@VER) of \(symbol), or rebuild against musl"
    }

    /// MC110: a library of a package the base image lacks.
    public static func package(_ package: String) -> String { "apk add \(package)" }

    /// MC111: symbols of a library whose exports are not known.
    public static let unverifiedSymbols = "check against a real image with --image to verify them"

    /// MC112: loads only with gcompat; or, installed, loads through it.
    public static let needsGcompat = "apk add gcompat"
    public static let loadsThroughGcompat = "keep gcompat installed, and test the program's behaviour: gcompat covers part of glibc only"

    /// MC113: a module needs gcompat preloaded.
    public static func needsGcompatPreloaded(library: String, installed: Bool) -> String {
        (installed ? "" : "apk add gcompat, and ") + "start the host program with LD_PRELOAD=\(library)"
    }

    /// MC114: the first file found under a library's name is not loadable.
    public static func notLoadable(_ soname: String, machine: String) -> String {
        "remove or rename the first \(soname) on the search path, which is not a loadable \(machine) library, or fix the search path"
    }

    // MARK: - Facts about a file (MC120, MC121, MC130, MC140)

    public static let musllinuxWheel = "use the musllinux wheel (pip on Alpine picks it when the project publishes one), or build from source on Alpine"
    public static let staticGlibc = "none to run it; if it resolves names beyond /etc/hosts, converts with iconv or uses locales, build it against musl instead"
    public static let threadStack = "set the stack size with pthread_attr_setstacksize, or link with -Wl,-z,stack-size=8388608 so that musl raises its default"
    public static let hostProvided = "none: the host program provides them"

    // MARK: - In the image (MC150–MC152)

    public static let contradiction = "trust the image's result; please report the case to muslcheck with the artifact"
    public static let listByHand = "check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"
    public static let startByHand = "start it by hand in the image"
    public static let damagedAsFound = "none beyond the damage: musl's loader failed on the file as the analysis expected (MC115)"
    public static let nestedArchive = "unpack the inner archive and check its files, or check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"
    public static let archiveNotStaged = "check the archive's files unpacked, or check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"
    public static func linkOutsideChecked(_ folder: String) -> String {
        "check \(folder) as well, so that the container shows the library where musl finds it, or check it by hand in the image"
    }
    public static let userProbe = "see the probe's output in the report (probes, userProbes), then fix the image or the probe's expectations"
}
