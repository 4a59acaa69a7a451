// MC150–MC152: what the probes find in a real image: musl's loader contradicting the static
// verdict, an artifact the loader probe could not check, a failed user probe. The probe runner
// makes these findings; their fixes are here.

extension Fixes {
    /// MC150: the real loader disagrees with the static verdict.
    public static let contradiction = text(.contradiction)

    /// MC151: the loader probe could not check the artifact, for each reason.
    public static let listByHand = text(.listByHand)
    public static let startByHand = text(.startByHand)
    public static let damagedAsFound = text(.damagedAsFound)
    public static let nestedArchive = text(.nestedArchive)
    public static let archiveNotStaged = text(.archiveNotStaged)
    public static func linkOutsideChecked(_ folder: String) -> String {
        text(.linkOutsideChecked, ["folder": folder])
    }

    /// MC152: a user probe failed.
    public static let userProbe = text(.userProbe)
}
