import Artifacts
import ELF
import Foundation
@testable import Probes
import Testing
import TestSupport

/// What the loader probe makes of each way a listing or a start can end: only a load that ran to
/// its end confirms a verdict.
@Suite struct LoaderOutcomeTests {
    static func artifact(_ fixture: String, isStatic: Bool = false) throws -> LoaderProbeArtifact {
        let file = try ELFReader.read(path: try Fixtures.path(fixture))
        return LoaderProbeArtifact(display: fixture, containerPath: "/muslcheck/a/0/" + fixture, file: file,
                                   tree: RemappedTree(name: "container", map: []), host: nil, isExecutable: true, isStatic: isStatic)
    }

    static func result(_ status: JobResult.Status, code: Int? = nil, signal: Int? = nil, errno: Int? = nil, stdout: String = "") -> JobResult {
        JobResult(job: "j", status: status, code: code, signal: signal, errno: errno, ms: 5, stdout: stdout, stderr: "",
                  stdoutBytes: stdout.utf8.count, stderrBytes: 0)
    }

    static let runner: ProbeRunner = {
        ProbeRunner(catalog: try! ProbeCatalog.bundled(), musl: nil, glibc: nil, engine: nil, runID: "test")
    }()

    @Test func aLoaderThatCrashedOrTimedOutIsNeverConfirmed() throws {
        let a = try Self.artifact("hello-musl")
        let segv = Self.runner.loaderOutcome(a, result: Self.result(.signaled, signal: 11), exec: nil, target: nil)
        #expect(segv.agreement == .contradicted, "the analysis expected it to load: a crash contradicts it")
        #expect(segv.differences == ["musl's loader was killed by SIGSEGV (signal 11) while listing it; the static analysis expected no crash"])
        let killed = Self.runner.loaderOutcome(a, result: Self.result(.signaled, signal: 9), exec: nil, target: nil)
        #expect(killed.agreement == .notRun)
        #expect(killed.note == "musl's loader was killed by SIGKILL (signal 9)")
        let slow = Self.runner.loaderOutcome(a, result: Self.result(.timeout), exec: nil, target: nil)
        #expect(slow.agreement == .notRun)
        #expect(slow.note == "musl's loader did not finish within 20 s")
        let missing = Self.runner.loaderOutcome(a, result: nil, exec: nil, target: nil)
        #expect(missing.agreement == .notRun)
    }

    @Test func aStaticProgramIsConfirmedOnlyWhenItStarts() throws {
        let a = try Self.artifact("hello-glibc-static-pie", isStatic: true)
        let ran = Self.runner.startOutcome(a, result: Self.result(.exited, code: 0, stdout: "hello 1.0\n"))
        #expect(ran.agreement == .confirmed)
        #expect(ran.execSmoke?.firstLine == "hello 1.0")
        let unknownOption = Self.runner.startOutcome(a, result: Self.result(.exited, code: 2))
        #expect(unknownOption.agreement == .confirmed, "any exit status means the program started")
        let crashed = Self.runner.startOutcome(a, result: Self.result(.signaled, signal: 4))
        #expect(crashed.agreement == .contradicted)
        #expect(crashed.differences == ["it was killed by SIGILL (signal 4) as it started"])
        let notFound = Self.runner.startOutcome(a, result: Self.result(.execFailed, errno: 8))
        #expect(notFound.agreement == .contradicted)
        #expect(notFound.differences == ["the kernel could not start it: Exec format error"])
        let running = Self.runner.startOutcome(a, result: Self.result(.timeout))
        #expect(running.agreement == .notRun)
    }
}
