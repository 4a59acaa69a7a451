import Artifacts

// MC100, MC101, MC110, MC114: the interpreter or a needed library is not on the target, comes
// from a package the base image lacks, or is shadowed by a file musl cannot load.

extension Fixes {
    /// MC100: the program's interpreter is not on the target.
    public static func missingInterpreter(_ interpreter: String, target: String, glibc: Bool, gcompatFixes: Bool) -> String {
        guard glibc else { return text(.foreignInterpreter, ["target": target, "interpreter": interpreter]) }
        return gcompatFixes ? text(.gcompatStub, ["interpreter": interpreter]) : text(.gcompatStubFails)
    }

    /// Libraries that only glibc has: gcompat provides some of them, nothing the rest.
    public enum GlibcOnlyLibrary: Sendable { case gcompat, none }

    /// MC101: a needed library is not found.
    public static func missingLibrary(_ soname: String, package: String?, glibcOnly: GlibcOnlyLibrary?, removed: String?,
                                      inManylinuxWheel: Bool) -> String {
        if let removed { return removed }
        switch glibcOnly {
        case .gcompat?:
            return text(inManylinuxWheel ? .gcompatLibraryInWheel : .gcompatLibrary, ["soname": soname])
        case .none?:
            return text(.glibcOwnLibrary, ["soname": soname])
        case nil:
            break
        }
        if let package {
            return text(inManylinuxWheel ? .packageLibraryInWheel : .packageLibrary, ["package": package])
        }
        return inManylinuxWheel ? text(.wheelLibrary) : text(.unknownLibrary, ["soname": soname])
    }

    /// MC110: a library of a package the base image lacks.
    public static func package(_ package: String) -> String { text(.package, ["package": package]) }

    /// MC114: the first file found under a library's name is not loadable.
    public static func notLoadable(_ soname: String, machine: String) -> String {
        text(.notLoadable, ["soname": soname, "machine": machine])
    }
}

extension Analyzer {
    /// MC100: the program's interpreter is not on the target; `gcompatFixes`: gcompat's loader
    /// stub would start it and it would load.
    func missingInterpreterFinding(_ error: LoaderError, display: String, target: Target, gcompatFixes: Bool) -> Finding {
        let glibcInterp = target.machineFacts.glibcInterpreters.contains(error.subject)
        return data.finding(.missingInterpreter, message: error.message, subject: error.subject,
                            fix: Fixes.missingInterpreter(error.subject, target: target.name, glibc: glibcInterp, gcompatFixes: gcompatFixes),
                            artifact: display, target: target.name,
                            detail: "the interpreter \(error.subject) does not exist on \(target.name); docker run prints: exec \(display): no such file or directory")
    }

    /// MC101: a needed library is not found.
    func missingLibraryFinding(_ error: LoaderError, item: ScannedELF, archive: String?, target: Target, object: String?) -> Finding {
        data.finding(.missingLibrary, message: error.message, subject: error.subject,
                     fix: libraryFix(error.subject, item: item, archive: archive),
                     artifact: item.displayPath, target: target.name, object: object)
    }

    func libraryFix(_ soname: String, item: ScannedELF, archive: String?) -> String {
        let glibcOnly: Fixes.GlibcOnlyLibrary? = data.packages.glibcOnly.gcompat.contains(soname) ? .gcompat
            : (data.packages.glibcOnly.none.contains(soname) ? Fixes.GlibcOnlyLibrary.none : nil)
        let wheel = archive.map { $0.lowercased().hasSuffix(".whl") && ($0.contains("manylinux") || $0.contains("linux_")) } ?? false
        return Fixes.missingLibrary(soname, package: data.packages.packages[soname], glibcOnly: glibcOnly, removed: data.packages.removed[soname],
                                    inManylinuxWheel: wheel && builtFor(item.file, name: item.displayPath) == .glibc)
    }

    /// MC114: the first file found under a needed library's name is not loadable.
    func libraryNotLoadableFinding(_ error: LoaderError, display: String, target: Target, object: String?) -> Finding {
        data.finding(.libraryNotLoadable, message: error.message, subject: error.subject,
                     fix: Fixes.notLoadable(error.subject, machine: target.machine),
                     artifact: display, target: target.name, object: object)
    }

    /// MC110: a library the target's base image lacks, which `package` provides.
    func packageFinding(soname: String, package: String, display: String, target: Target) -> Finding {
        data.finding(.libraryFromPackage, message: "\(soname) is not in the \(target.name) base image; the \(package) package provides it",
                     subject: soname, fix: Fixes.package(package), artifact: display, target: target.name)
    }
}
