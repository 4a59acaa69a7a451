import Artifacts

// MC001–MC005: what the scan could not read or check: unreadable files, damaged ELF files and
// archives, archive members past a safety limit, broken symbolic links.

extension Fixes {
    public static let unreadableFile = text(.unreadableFile)
    public static let damagedELF = text(.damagedELF)
    public static let damagedArchive = text(.damagedArchive)
    public static let unsupportedArchive = text(.unsupportedArchive)
    public static let archiveLimit = text(.archiveLimit)
    public static let brokenLink = text(.brokenLink)
}

extension CompatData {
    /// The finding of something the scan could not read or check.
    public func finding(for problem: ScanProblem) -> Finding {
        let id: FindingID
        let fix: String
        switch problem.kind {
        case .unreadable: id = .unreadableFile; fix = Fixes.unreadableFile
        case .malformedELF: id = .malformedELF; fix = Fixes.damagedELF
        case .malformedArchive: id = .malformedArchive; fix = Fixes.damagedArchive
        case .limit: id = .archiveLimit; fix = Fixes.archiveLimit
        case .unsupported: id = .malformedArchive; fix = Fixes.unsupportedArchive
        case .symlink: id = .symlinkProblem; fix = Fixes.brokenLink
        }
        return finding(id, message: "\(problem.path): \(problem.message)", fix: fix, artifact: problem.path, target: nil)
    }
}

extension Analyzer {
    /// MC002: an ELF file some of whose tables could not be read.
    func damagedTablesFinding(display: String, problems: [String]) -> Finding {
        data.finding(.malformedELF, message: "\(display): " + problems.joined(separator: "; "),
                     fix: Fixes.damagedELF,
                     artifact: display, target: nil)
    }
}
