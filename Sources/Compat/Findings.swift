/// How serious a finding is (SARIF's levels).
public enum Severity: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case note, warning, error
    var rank: Int { switch self { case .note: 0; case .warning: 1; case .error: 2 } }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// What muslcheck concludes about one artifact on one target.
public enum Verdict: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// Built for musl, and loads.
    case nativeMusl = "native-musl"
    /// Needs no loader and no shared libc: runs anywhere on the machine.
    case `static`
    /// Built for glibc (or no libc) but loads on musl as it is.
    case compatible
    /// Loads only with gcompat installed (or preloaded).
    case needsGcompat = "needs-gcompat"
    /// Fails to load even with gcompat: a missing interpreter, library or symbol.
    case incompatible
    /// Another machine or OS ABI, an object file, a core dump.
    case notApplicable = "not-applicable"

    /// Worse is larger: what `--fail-on` and "worst first" order by.
    public var rank: Int {
        switch self {
        case .notApplicable: 0
        case .static: 1
        case .nativeMusl: 2
        case .compatible: 3
        case .needsGcompat: 4
        case .incompatible: 5
        }
    }
    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
}

/// One problem or fact about an artifact, with the exact text musl would print and the fix.
public struct Finding: Sendable, Hashable, Codable {
    /// Stable id (MC101), documented in the README and used by SARIF rules and baselines.
    public var id: String
    /// The rule's short name ("missing-library").
    public var rule: String
    public var severity: Severity
    /// The message as musl prints it, or muslcheck's sentence when musl prints nothing.
    public var message: String
    /// The symbol, library or relocation the finding is about.
    public var subject: String?
    /// What to do about it.
    public var fix: String
    /// The artifact (display path).
    public var artifact: String
    /// The target it applies to; nil for facts about the file itself.
    public var target: String?
    /// The loaded object the problem is in, when it is not the artifact itself (a dependency).
    public var object: String?
    /// More about it: consequences, the other form of the message.
    public var detail: String?

    public init(id: String, rule: String, severity: Severity, message: String, subject: String?, fix: String,
                artifact: String, target: String?, object: String? = nil, detail: String? = nil) {
        self.id = id
        self.rule = rule
        self.severity = severity
        self.message = message
        self.subject = subject
        self.fix = fix
        self.artifact = artifact
        self.target = target
        self.object = object
        self.detail = detail
    }
}

extension Finding {
    /// The typed id, nil for an id muslcheck does not know (a report from another version).
    public var findingID: FindingID? { FindingID(rawValue: id) }
}

extension CompatData {
    /// A finding of a catalogued rule.
    public func finding(_ id: FindingID, message: String, subject: String? = nil, fix: String, artifact: String,
                        target: String?, object: String? = nil, severity: Severity? = nil, detail: String? = nil) -> Finding {
        let rule = rule(id)
        return Finding(id: id.rawValue, rule: rule.name, severity: severity ?? rule.severity, message: message, subject: subject,
                       fix: fix, artifact: artifact, target: target, object: object, detail: detail)
    }
}
