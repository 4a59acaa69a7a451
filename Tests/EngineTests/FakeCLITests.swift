import Engine
import Foundation
import Testing

/// A fake `podman` on PATH that logs each call's arguments and answers like the real CLI, so
/// that what the engine asks of the CLI is seen exactly.
struct FakeCLI {
    /// PATH is changed only while an engine looks its CLI up, and only under this lock.
    static let pathLock = NSLock()

    static let script = #"""
    #!/bin/sh
    dir=$(dirname "$0")
    for a in "$@"; do printf '%s\037' "$a"; done >> "$dir/calls"
    printf '\n' >> "$dir/calls"
    if [ "$1" = "--context" ]; then shift 2; fi
    case "$1" in
    version)
      if [ -e "$dir/down" ]; then printf 'Cannot connect to the fake daemon\nIs it running?\n' >&2; exit 1; fi
      if [ -e "$dir/silent" ]; then exit 0; fi
      echo 4.9.3 ;;
    image)
      case "$5" in absent*) echo "Error: no such image: $5" >&2; exit 1 ;; esac
      echo 'sha256:0123abcd ["registry.example/app@sha256:feed","mirror.example/app@sha256:feed"]' ;;
    pull)
      printf 'Trying to pull %s...\nError: registry.example: connection refused\n' "$2" >&2; exit 125 ;;
    create)
      case "$*" in *broken*) printf 'Error: broken: image not known\n\n' >&2; exit 125 ;; esac
      echo "  c0ffee  " ;;
    ps)
      [ -e "$dir/empty" ] || printf 'aaa111\nbbb222\n' ;;
    rm) ;;
    export)
      if [ "$2" = "gone" ]; then echo "Error: no container with name or ID gone" >&2; exit 125; fi
      printf 'tar-bytes-of-%s' "$2" ;;
    *) echo "unexpected $1" >&2; exit 2 ;;
    esac
    """#

    let dir: String
    let engine: ContainerEngine

    /// `states`: files that switch the fake's answers (down, silent, empty).
    init(context: String? = nil, states: [String] = []) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-fake-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.script.write(toFile: dir + "/podman", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir + "/podman")
        for s in states { try Data().write(to: URL(fileURLWithPath: dir + "/" + s)) }
        Self.pathLock.lock()
        defer { Self.pathLock.unlock() }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        setenv("PATH", dir + ":" + path, 1)
        defer { setenv("PATH", path, 1) }
        engine = try ContainerEngine(kind: .podman, context: context)
    }

    /// Every call's arguments, in order.
    func calls() -> [[String]] {
        let text = (try? String(contentsOfFile: dir + "/calls", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in line.split(separator: "\u{1F}", omittingEmptySubsequences: false).dropLast().map(String.init) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

@Suite struct FakeCLITests {
    @Test func theCLIIsFoundOnPath() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        #expect(fake.engine.executable == fake.dir + "/podman")
        #expect(fake.engine.kind == .podman)
    }

    @Test func aMissingCLINamesTheOtherEngine() throws {
        FakeCLI.pathLock.lock()
        defer { FakeCLI.pathLock.unlock() }
        guard Command.which("podman") == nil else {
            print("skipped: podman is installed")
            return
        }
        do {
            _ = try ContainerEngine(kind: .podman)
            Issue.record("found a podman that is not on PATH")
        } catch {
            #expect(error.kind == .cliMissing)
            #expect(error.message == "the podman command is not installed (not on PATH); install it or choose --engine docker")
        }
    }

    @Test func aContextPrecedesEveryCommand() throws {
        let fake = try FakeCLI(context: "ci-remote")
        defer { fake.remove() }
        let out = fake.engine.run(["ps", "-q"])
        #expect(out.status == 0)
        #expect(out.stdout == "aaa111\nbbb222\n")
        #expect(!out.timedOut)
        #expect(fake.calls() == [["--context", "ci-remote", "ps", "-q"]])
    }

    @Test func withoutAContextTheCommandIsPassedAsGiven() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        _ = fake.engine.run(["image", "inspect", "--format", "{{.Id}}", "a b"])
        #expect(fake.calls() == [["image", "inspect", "--format", "{{.Id}}", "a b"]])
    }

    @Test func createLabelsTheContainerAndPutsOptionsBeforeTheImage() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        let id = try fake.engine.createContainer(image: "alpine:3.20", runID: "run-7", arguments: ["--network", "none", "-v", "/a:/b:ro"],
                                                 command: ["/bin/sh", "-c", "echo hi"])
        #expect(id == "c0ffee")
        _ = try fake.engine.createContainer(image: "alpine:3.20", runID: "run-7")
        fake.engine.removeContainer(id)
        #expect(fake.calls() == [
            ["create", "--label", "org.muslcheck.run=run-7", "--network", "none", "-v", "/a:/b:ro", "alpine:3.20", "/bin/sh", "-c", "echo hi"],
            ["create", "--label", "org.muslcheck.run=run-7", "alpine:3.20", "/bin/true"],
            ["rm", "-f", "-v", "c0ffee"],
        ])
    }

    @Test func aFailedCreateCarriesTheCLIsError() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        do {
            _ = try fake.engine.createContainer(image: "broken:1", runID: "run-8")
            Issue.record("create of a broken image succeeded")
        } catch {
            #expect(error.kind == .commandFailed)
            #expect(error.message == "podman create broken:1 failed: Error: broken: image not known")
        }
    }

    @Test func removingARunListsItsLabelThenRemovesWhatItFound() throws {
        let fake = try FakeCLI(context: "ctx")
        defer { fake.remove() }
        fake.engine.removeContainers(runID: "run-9")
        #expect(fake.calls() == [
            ["--context", "ctx", "ps", "-aq", "--filter", "label=org.muslcheck.run=run-9"],
            ["--context", "ctx", "rm", "-f", "-v", "aaa111", "bbb222"],
        ])
        let none = try FakeCLI(states: ["empty"])
        defer { none.remove() }
        none.engine.removeContainers(runID: "run-9")
        #expect(none.calls() == [["ps", "-aq", "--filter", "label=org.muslcheck.run=run-9"]])
    }

    @Test func theDaemonCheckAsksForTheServerVersion() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        try fake.engine.checkDaemon()
        #expect(fake.calls() == [["version", "--format", "{{.Server.Version}}"]])
    }

    @Test func anUnreachableDaemonGivesTheCLIsFirstErrorLine() throws {
        let host = ProcessInfo.processInfo.environment["DOCKER_HOST"].map { " at DOCKER_HOST=\($0)" } ?? ""
        let down = try FakeCLI(states: ["down"])
        defer { down.remove() }
        #expect(throws: EngineError.self) { try down.engine.checkDaemon() }
        do { try down.engine.checkDaemon() } catch {
            #expect(error.kind == .daemonUnreachable)
            #expect(error.message == "no podman daemon answers\(host): Cannot connect to the fake daemon")
        }
        // Exit 0 with no version is no answer either.
        let silent = try FakeCLI(states: ["silent"])
        defer { silent.remove() }
        do {
            try silent.engine.checkDaemon()
            Issue.record("a daemon without a version was accepted")
        } catch {
            #expect(error.message == "no podman daemon answers\(host): no answer")
        }
    }

    @Test func pullPoliciesPullOnlyWhenAllowedAndNeeded() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        let inspect = ["image", "inspect", "--format", "{{.Id}}"]
        try fake.engine.ensureImage("app:1", pull: .never)
        try fake.engine.ensureImage("app:1", pull: .missing)
        // .always pulls; a failed pull of a present image keeps the local one.
        try fake.engine.ensureImage("app:1", pull: .always)
        #expect(fake.calls() == [inspect + ["app:1"], inspect + ["app:1"], inspect + ["app:1"], ["pull", "app:1"]])
    }

    @Test func anImageThatCannotBePulledGivesThePullsLastErrorLine() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        for policy in [PullPolicy.missing, .always] {
            do {
                try fake.engine.ensureImage("absent:1", pull: policy)
                Issue.record("ensureImage(\(policy)) accepted an image that could not be pulled")
            } catch {
                #expect(error.kind == .imageMissing)
                #expect(error.message == "image absent:1 is not present and could not be pulled: Error: registry.example: connection refused")
            }
        }
        do {
            try fake.engine.ensureImage("absent:1", pull: .never)
            Issue.record("ensureImage(.never) accepted an absent image")
        } catch {
            #expect(error.message == "image absent:1 is not present locally and --pull never forbids pulling it")
        }
        #expect(fake.calls().map(\.first) == ["image", "pull", "image", "pull", "image"])
    }

    @Test func theImageIdentityIsTheIdAndTheFirstRepoDigest() throws {
        let fake = try FakeCLI()
        defer { fake.remove() }
        let identity = fake.engine.imageIdentity("app:1")
        #expect(identity.id == "sha256:0123abcd")
        #expect(identity.digest == "registry.example/app@sha256:feed")
        #expect(fake.calls() == [["image", "inspect", "--format", "{{.Id}} {{json .RepoDigests}}", "app:1"]])
        let absent = fake.engine.imageIdentity("absent:1")
        #expect(absent.id == "" && absent.digest == nil)
    }

    @Test func anExportIsReadAsAStreamAndAFailureSaysWhat() throws {
        let fake = try FakeCLI(context: "ctx")
        defer { fake.remove() }
        let export = try fake.engine.startExport("ctr1")
        #expect(String(decoding: export.stdout.readDataToEndOfFile(), as: UTF8.self) == "tar-bytes-of-ctr1")
        try export.wait(describing: "export of ctr1")
        let failing = try fake.engine.startExport("gone")
        _ = failing.stdout.readDataToEndOfFile()
        do {
            try failing.wait(describing: "export of gone")
            Issue.record("a failed export was accepted")
        } catch {
            #expect(error.kind == .commandFailed)
            #expect(error.message == "export of gone failed (status 125): Error: no container with name or ID gone")
        }
        #expect(fake.calls() == [["--context", "ctx", "export", "ctr1"], ["--context", "ctx", "export", "gone"]])
    }
}
