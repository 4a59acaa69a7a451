import Compat
import Policy
import Testing

/// Ignores and a baseline applied to analyses built by hand.
@Suite struct SuppressionTests {
    static let target = "alpine-3.20"

    static func finding(_ id: String, _ severity: Severity, artifact: String = "vendor/libx.so", target: String? = SuppressionTests.target,
                        subject: String? = nil, message: String = "a message") -> Finding {
        Finding(id: id, rule: "rule-\(id)", severity: severity, message: message, subject: subject, fix: "the fix",
                artifact: artifact, target: target)
    }

    static func analysis(path: String = "vendor/libx.so", verdicts: [(String, Verdict)], findings: [Finding]) -> ArtifactAnalysis {
        ArtifactAnalysis(path: path, archive: nil, kind: .sharedLibrary, machine: "x86_64", linkage: "dynamic",
                         interpreter: nil, needed: ["libc.so.6"], soname: "libx.so", libc: .glibc, highestVersions: ["GLIBC": "2.17"],
                         manylinux: "manylinux2014", verdicts: verdicts.map { TargetVerdict(target: $0.0, verdict: $0.1, loaded: [], loaderMessages: []) },
                         findings: findings, loadedBy: nil)
    }

    @Test func anIgnoredFindingMovesToTheRemovedListWithItsReason() throws {
        let symbol = Self.finding("MC110", .warning, subject: "memcpy@GLIBC_2.14")
        let other = Self.finding("MC120", .warning, subject: "__libc_start_main")
        let a = Self.analysis(verdicts: [(Self.target, .needsGcompat)], findings: [symbol, other])
        let s = Suppression(ignores: [IgnoreRule(id: "MC110", path: "vendor/*.so", reason: "gcompat is installed")], baseline: nil)
        let (out, removed) = try #require(s.apply(a))
        #expect(out.findings == [other])
        #expect(removed == [SuppressedFinding(id: "MC110", artifact: "vendor/libx.so", target: Self.target, subject: "memcpy@GLIBC_2.14",
                                              reason: "gcompat is installed")])
        // MC120 still stands: the verdict is not excused.
        #expect(out.verdicts[0].excused == nil)
        #expect(out.verdicts[0].verdict == .needsGcompat)
    }

    @Test func aVerdictWhoseEveryWarningAndErrorIsIgnoredIsExcusedWithTheReason() throws {
        let error = Self.finding("MC101", .error, subject: "libfoo.so.1")
        let fileWarning = Self.finding("MC140", .warning, target: nil, subject: "execstack")
        let note = Self.finding("MC900", .note)
        let a = Self.analysis(verdicts: [(Self.target, .incompatible), ("debian-12", .compatible)], findings: [error, fileWarning, note])
        let s = Suppression(ignores: [IgnoreRule(id: "MC101", path: "vendor/**", reason: "libfoo ships with the app"),
                                      IgnoreRule(id: "MC140", path: "**", reason: "reviewed")], baseline: nil)
        let (out, removed) = try #require(s.apply(a))
        #expect(out.findings == [note])
        #expect(removed.map(\.reason) == ["libfoo ships with the app", "reviewed"])
        #expect(removed.map(\.subject) == ["libfoo.so.1", "execstack"])
        // On alpine the target's own finding's reason comes first; on debian only the file's own warning was a cause.
        #expect(out.verdicts.map(\.excused) == ["libfoo ships with the app", "reviewed"])
    }

    @Test func aStarIgnoreOnTheArtifactExcusesEveryVerdictAtOrAboveCompatible() throws {
        let a = Self.analysis(verdicts: [(Self.target, .compatible), ("musl-native", .nativeMusl), ("arm", .notApplicable)], findings: [])
        let s = Suppression(ignores: [IgnoreRule(id: "*", path: "vendor/**", reason: "third-party")], baseline: nil)
        let (out, removed) = try #require(s.apply(a))
        #expect(removed.isEmpty)
        #expect(out.verdicts.map(\.excused) == ["third-party", nil, nil])
    }

    @Test func aBaselineKnownVerdictAtTheSameLevelIsExcusedAsBaseline() throws {
        let missing = Self.finding("MC101", .error, subject: "libfoo.so.1")
        let a = Self.analysis(verdicts: [(Self.target, .incompatible)], findings: [missing])
        let baseline = ReportBaseline(tool: "muslcheck", findings: [ReportBaseline.Entry(missing)],
                                      verdicts: [.init(artifact: "vendor/libx.so", target: Self.target, verdict: .incompatible)])
        let (out, removed) = try #require(Suppression(ignores: [], baseline: baseline).apply(a))
        #expect(out.findings.isEmpty)
        #expect(removed == [SuppressedFinding(id: "MC101", artifact: "vendor/libx.so", target: Self.target, subject: "libfoo.so.1",
                                              reason: "baseline")])
        #expect(out.verdicts[0].excused == "baseline")
    }

    @Test func aBaselineVerdictAlsoExcusesAVerdictWithoutFindings() throws {
        let a = Self.analysis(verdicts: [(Self.target, .compatible)], findings: [])
        let baseline = ReportBaseline(tool: "muslcheck", findings: [],
                                      verdicts: [.init(artifact: "vendor/libx.so", target: Self.target, verdict: .needsGcompat)])
        let (out, removed) = try #require(Suppression(ignores: [], baseline: baseline).apply(a))
        #expect(removed.isEmpty)
        #expect(out.verdicts[0].excused == "baseline")
    }

    @Test func aNewFindingStaysAndKeepsItsVerdictFailing() throws {
        let known = Self.finding("MC110", .warning, subject: "memcpy@GLIBC_2.14")
        let new = Self.finding("MC101", .error, subject: "libbar.so.2")
        let a = Self.analysis(verdicts: [(Self.target, .incompatible)], findings: [known, new])
        let baseline = ReportBaseline(tool: "muslcheck", findings: [ReportBaseline.Entry(known)],
                                      verdicts: [.init(artifact: "vendor/libx.so", target: Self.target, verdict: .incompatible)])
        let (out, removed) = try #require(Suppression(ignores: [], baseline: baseline).apply(a))
        #expect(out.findings == [new])
        #expect(removed.map(\.id) == ["MC110"])
        #expect(out.verdicts[0].excused == nil)
    }

    @Test func aVerdictWorseThanTheBaselineIsNotExcused() {
        let a = Self.analysis(verdicts: [(Self.target, .incompatible)], findings: [])
        let baseline = ReportBaseline(tool: "muslcheck", findings: [],
                                      verdicts: [.init(artifact: "vendor/libx.so", target: Self.target, verdict: .needsGcompat)])
        // Nothing removed and nothing excused: no change at all.
        #expect(Suppression(ignores: [], baseline: baseline).apply(a) == nil)
    }

    @Test func theBaselineOfAnotherTargetOrArtifactDoesNotExcuse() {
        let a = Self.analysis(verdicts: [(Self.target, .needsGcompat)], findings: [])
        let baseline = ReportBaseline(tool: "muslcheck", findings: [],
                                      verdicts: [.init(artifact: "vendor/libx.so", target: "debian-12", verdict: .needsGcompat),
                                                 .init(artifact: "vendor/liby.so", target: Self.target, verdict: .needsGcompat)])
        #expect(Suppression(ignores: [], baseline: baseline).apply(a) == nil)
    }

    @Test func anIgnoreReasonIsPreferredOverTheBaseline() {
        let f = Self.finding("MC110", .warning, subject: "memcpy@GLIBC_2.14")
        let baseline = ReportBaseline(tool: "muslcheck", findings: [ReportBaseline.Entry(f)], verdicts: [])
        let both = Suppression(ignores: [IgnoreRule(id: "MC110", path: "**", reason: "accepted")], baseline: baseline)
        #expect(both.reason(for: f) == "accepted")
        #expect(Suppression(ignores: [], baseline: baseline).reason(for: f) == "baseline")
        var moved = f
        moved.subject = "memmove@GLIBC_2.14"
        #expect(Suppression(ignores: [], baseline: baseline).reason(for: moved) == nil)
    }

    @Test func nothingToApplyChangesNothing() {
        let a = Self.analysis(verdicts: [(Self.target, .incompatible)], findings: [Self.finding("MC101", .error)])
        let none = Suppression(ignores: [], baseline: nil)
        #expect(none.isEmpty)
        #expect(none.apply(a) == nil)
        let elsewhere = Suppression(ignores: [IgnoreRule(id: "*", path: "other/**", reason: "x")], baseline: nil)
        #expect(!elsewhere.isEmpty)
        #expect(elsewhere.apply(a) == nil)
    }

    @Test func problemsAreSplitIntoKeptAndSuppressed() {
        let unreadable = Self.finding("MC002", .error, artifact: "dist/broken.whl", target: nil, subject: nil, message: "cannot read the archive")
        let truncated = Self.finding("MC003", .warning, artifact: "dist/app.tar", target: nil, subject: "member.so")
        let s = Suppression(ignores: [IgnoreRule(id: "MC002", path: "dist/*.whl", reason: "known broken wheel")], baseline: nil)
        let (kept, removed) = s.apply(problems: [unreadable, truncated])
        #expect(kept == [truncated])
        #expect(removed == [SuppressedFinding(id: "MC002", artifact: "dist/broken.whl", target: nil, subject: "cannot read the archive",
                                              reason: "known broken wheel")])
    }
}
