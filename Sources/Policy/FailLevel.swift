/// What fails a run (--fail-on, muslcheck.yml `failOn`, the report's `inputs.failOn`). The
/// default, `not-runnable`, answers one question: does every artifact run on every target as
/// given? The verdict levels (`incompatible`, `needs-gcompat`, `compatible`) fail every verdict
/// at or above them instead; `never` fails nothing.
public enum FailLevel: String, Sendable, Hashable, CaseIterable, Codable {
    case notRunnable = "not-runnable"
    case incompatible
    case needsGcompat = "needs-gcompat"
    case compatible
    case never

    public static let `default` = FailLevel.notRunnable

    /// What the level fails, in a few words (help texts, the result line).
    public var meaning: String {
        switch self {
        case .notRunnable: "an artifact that does not run on a target as given"
        case .incompatible: "an incompatible artifact"
        case .needsGcompat: "an artifact that needs gcompat or is incompatible"
        case .compatible: "an artifact built for glibc, even one that loads on musl"
        case .never: "nothing"
        }
    }

    /// "not-runnable, incompatible, needs-gcompat, compatible or never".
    public static var spelled: String {
        let names = allCases.map(\.rawValue)
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}
