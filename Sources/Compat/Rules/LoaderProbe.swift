// MC150–MC152: what the probes find in a real image: musl's loader contradicting the static
// verdict, an artifact the loader probe could not check, a failed user probe. The probe runner
// makes these findings; their fixes are here.

extension Fixes {
    /// MC150: the real loader disagrees with the static verdict.
    public static let contradiction = "trust the image's result; please report the case to muslcheck with the artifact"

    /// MC151: the loader probe could not check the artifact, for each reason.
    public static let listByHand = "check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"
    public static let startByHand = "start it by hand in the image"
    public static let damagedAsFound = "none beyond the damage: musl's loader failed on the file as the analysis expected (MC115)"
    public static let nestedArchive = "unpack the inner archive and check its files, or check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"
    public static let archiveNotStaged = "check the archive's files unpacked, or check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"
    public static func linkOutsideChecked(_ folder: String) -> String {
        "check \(folder) as well, so that the container shows the library where musl finds it, or check it by hand in the image"
    }

    /// MC152: a user probe failed.
    public static let userProbe = "see the probe's output in the report (probes, userProbes), then fix the image or the probe's expectations"
}
