import Compat
import Testing

@testable import Report

/// How an action counts the artifacts it helps: "1 library", "2 libraries", "3 programs".
@Suite struct ActionCoverageTests {
    static func library(_ path: String) -> ArtifactAnalysis {
        let f = Finding(id: "MC108", rule: "relr-unsupported", severity: .error, message: "DT_RELR", subject: nil, fix: "relink",
                        artifact: path, target: "alpine:3.16")
        return ArtifactAnalysis(path: path, archive: nil, kind: .sharedLibrary, machine: "x86_64", linkage: "shared-library",
                                interpreter: nil, needed: [], soname: nil, libc: .musl, highestVersions: [:], manylinux: nil,
                                verdicts: [TargetVerdict(target: "alpine:3.16", verdict: .incompatible, loaded: [], loaderMessages: [])],
                                findings: [f], loadedBy: nil)
    }

    @Test func librariesArePluralisedAsLibraries() throws {
        var plan = ActionPlan()
        plan.add(Self.library("a.so"))
        #expect(plan.actions.first?.coverage == "1 library")
        plan.add(Self.library("b.so"))
        #expect(plan.actions.first?.coverage == "2 libraries")
    }
}
