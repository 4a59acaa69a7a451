// MC105, MC106, MC108: relocations and TLS musl's loader refuses or ignores: a relocation type it
// does not support (IRELATIVE), initial-exec TLS in a module loaded with dlopen, DT_RELR before
// musl 1.2.4.

extension Fixes {
    /// MC105: a relocation type musl's loader refuses.
    public static func unsupportedRelocation(irelative: Bool) -> String {
        text(irelative ? .irelative : .otherRelocation)
    }

    /// MC106: initial-exec TLS, in a module (an error) or a library that might be one (a note).
    public static let initialExecTLSInModule = text(.initialExecTLSInModule)
    public static let initialExecTLSInLibrary = text(.initialExecTLSInLibrary)

    /// MC108: DT_RELR on a musl older than 1.2.4.
    public static let relr = text(.relr)
}

extension Analyzer {
    /// MC105: relocations of a type (number `type`, named `name`) musl's loader refuses.
    func unsupportedRelocationFinding(_ error: LoaderError, type: UInt32, name: String, display: String, target: Target, object: String?) -> Finding {
        data.finding(.unsupportedRelocation, message: error.message + (error.count > 1 ? " (\(error.count) relocations; musl prints each)" : ""),
                     subject: "\(name) (\(type))", fix: Fixes.unsupportedRelocation(irelative: name.hasSuffix("IRELATIVE")),
                     artifact: display, target: target.name, object: object)
    }

    /// MC106: initial-exec TLS in a module loaded with dlopen.
    func initialExecTLSFinding(_ error: LoaderError, display: String, target: Target, object: String?) -> Finding {
        data.finding(.initialExecTLS, message: error.message, subject: error.subject, fix: Fixes.initialExecTLSInModule,
                     artifact: display, target: target.name, object: object)
    }

    /// MC106, a note: a library with initial-exec TLS, which fails if it is loaded with dlopen.
    func initialExecTLSLibraryFinding(display: String) -> Finding {
        data.finding(.initialExecTLS, message: "\(display) uses initial-exec TLS (DF_STATIC_TLS): it loads as a dependency of a program, but dlopen() of it fails on musl with \"initial-exec TLS resolves to dynamic definition\"",
                     subject: "DF_STATIC_TLS",
                     fix: Fixes.initialExecTLSInLibrary,
                     artifact: display, target: nil, severity: .note)
    }

    /// MC108: DT_RELR relocations, which musl before 1.2.4 ignores.
    func relrFinding(_ error: LoaderError, display: String, target: Target, object: String?) -> Finding {
        data.finding(.relrUnsupported, message: error.message, subject: "DT_RELR", fix: Fixes.relr,
                     artifact: display, target: target.name, object: object)
    }
}
