// MC102, MC103, MC104, MC109, MC111, MC140: symbols. One no loaded object defines (the LFS64
// names musl 1.2.4 and 1.2.5 cannot map back among them), one defined only as an IFUNC or only
// in a hidden version, symbols from libraries whose exports are not known, and symbols the host
// program provides. A missing symbol's fix is made from advice.json and glibc's ABI table.

extension Fixes {
    /// MC102 and MC103: a symbol no loaded object defines. Its sentence is put together here from
    /// advice.json's pieces and glibc's ABI table, not from a fix template.
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

    /// Whether a missing symbol's fix says the symbol is glibc-internal (its version need names
    /// one of glibc's libraries, GLIBC_PRIVATE), as `missingSymbol` words it.
    public static func isGlibcInternal(fix: String) -> Bool { fix.hasSuffix(glibcInternalEnding) }
    static let glibcInternalEnding = " (outside its public ABI), and neither musl nor gcompat provides it: rebuild against musl"

    /// glibc's own libraries, by soname (libc.so.6, libm.so.6, ld-linux-x86-64.so.2, ...).
    public static func isGlibcLibrary(_ soname: String) -> Bool {
        ["libc.so.", "libm.so.", "libpthread.so.", "libdl.so.", "librt.so.", "libresolv.so.", "libutil.so.", "libcrypt.so.",
         "libanl.so.", "libnsl.so.", "libmvec.so.", "ld-linux", "ld64.so."].contains { soname.hasPrefix($0) }
    }

    /// MC104: the only definition is an IFUNC.
    public static func ifuncOnly(definedIn: String?) -> String {
        definedIn.map { text(.ifuncOnlyLibrary, ["library": $0]) } ?? text(.ifuncOnlyUnnamed)
    }

    /// MC109: only a hidden (non-default) version defines the symbol.
    public static func hiddenOnly(_ symbol: String) -> String {
        text(.hiddenOnly, ["symbol": symbol])
    }

    /// MC111: symbols of a library whose exports are not known.
    public static let unverifiedSymbols = text(.unverifiedSymbols)

    /// MC140: symbols the host program provides.
    public static let hostProvided = text(.hostProvided)
}

extension CompatData {
    /// The fix of a missing symbol on a target (MC102, MC103).
    public func missingSymbolFix(_ symbol: String, expectedFrom: String? = nil, target: Target) -> String {
        let (text, isDefault) = advice(for: symbol)
        let g = glibc[symbol]
        let since = g?.introduced.map { $0.hasPrefix("GLIBC_") ? String($0.dropFirst(6)) : $0 }
        let muslHasIt = g.flatMap { s in target.muslVersion.flatMap { s.musl[$0] } }.map { $0 != "no" } ?? false
        let gcompatHasIt = g?.gcompat ?? target.gcompatExports.defines(symbol)
        return Fixes.missingSymbol(symbol, advice: text, isDefault: isDefault, glibc: g.map { ($0.library, since ?? "?") },
                                   expectedFrom: expectedFrom, muslVersion: target.muslVersion, muslHasIt: muslHasIt, gcompatHasIt: gcompatHasIt,
                                   targetHasGcompat: target.hasGcompat)
    }
}

extension Analyzer {
    /// MC102, MC103, MC104, MC109: a symbol no loaded object defines, for the reason the
    /// simulated loader gives.
    func missingSymbolFinding(_ error: LoaderError, display: String, target: Target, object: String?) -> Finding {
        let symbol = error.subject
        switch error.symbolReason {
        case .lfs64Bug:
            return data.finding(.lfs64LoaderBug, message: error.message, subject: symbol, fix: data.missingSymbolFix(symbol, expectedFrom: error.library, target: target),
                                artifact: display, target: target.name, object: object)
        case .ifuncOnly:
            return data.finding(.ifuncDefinition, message: error.message + " (defined only as an IFUNC in \(error.definedIn ?? "?"))", subject: symbol,
                                fix: Fixes.ifuncOnly(definedIn: error.definedIn),
                                artifact: display, target: target.name, object: object)
        case .hiddenOnly:
            return data.finding(.hiddenDefinitionOnly, message: error.message + " (only a non-default version in \(error.definedIn ?? "?"))", subject: symbol,
                                fix: Fixes.hiddenOnly(symbol), artifact: display, target: target.name, object: object)
        default:
            return data.finding(.missingSymbol, message: error.message, subject: symbol, fix: data.missingSymbolFix(symbol, expectedFrom: error.library, target: target),
                                artifact: display, target: target.name, object: object)
        }
    }

    /// MC111: `count` symbols expected from `libraries` (of the target's profile), whose exports
    /// muslcheck does not know.
    func unverifiedSymbolsFinding(count: Int, libraries: String, display: String, target: Target) -> Finding {
        data.finding(.unverifiedSymbols, message: "\(count) symbols expected from \(libraries) were not checked (exports not known for \(target.name))",
                     subject: libraries, fix: Fixes.unverifiedSymbols,
                     artifact: display, target: target.name)
    }

    /// MC140: symbols the host program provides to a module it loads.
    func hostProvidedFinding(symbols: [String], host: CompatData.HostSpec, display: String, target: Target) -> Finding {
        data.finding(.hostProvidedSymbols, message: "\(symbols.count) symbols come from the \(host.name) host program (\(symbols.prefix(3).joined(separator: ", "))\(symbols.count > 3 ? ", ..." : ""))",
                     subject: host.id, fix: Fixes.hostProvided, artifact: display, target: target.name)
    }
}
