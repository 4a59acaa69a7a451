import Engine
import Foundation
import Testing
import TestSupport

/// The engine against the local docker daemon and the musl test image.
@Suite(.serialized) struct DockerEngineTests {
    static let image = "muslcheck-test/musl:1.2.3"
    static let absentImage = "muslcheck-test/no-such-image:0"

    static func dockerReady() -> Bool {
        guard let reason = DockerTest.unavailableReason else { return true }
        if DockerTest.skipped { print("skipped: \(reason)") } else { Issue.record(Comment(rawValue: reason)) }
        return false
    }

    /// The ids `docker ps -aq` lists for a run's label.
    static func labelled(_ runID: String) throws -> [String] {
        let r = try DockerTest.docker(["ps", "-aq", "--filter", "label=\(runLabel)=\(runID)"])
        #expect(r.status == 0, "docker ps: \(r.stderr)")
        return r.stdout.split(separator: "\n").map(String.init)
    }

    static func runID() -> String { "engine-test-\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func theDaemonAnswers() throws {
        guard Self.dockerReady() else { return }
        let engine = try ContainerEngine(kind: .docker)
        #expect(engine.executable.hasSuffix("/docker"))
        #expect(engine.context == nil)
        try engine.checkDaemon()
    }

    @Test func aContextThatDoesNotExistIsNamedInTheError() throws {
        guard Self.dockerReady() else { return }
        let engine = try ContainerEngine(kind: .docker, context: "muslcheck-no-such-context")
        do {
            try engine.checkDaemon()
            Issue.record("checkDaemon succeeded through a context that does not exist")
        } catch {
            #expect(error.kind == .daemonUnreachable)
            #expect(error.message.hasPrefix("no docker daemon answers"))
            #expect(error.message.contains("context \"muslcheck-no-such-context\""))
            #expect(error.message.contains("not found"))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func pullNeverRefusesAnImageThatIsNotPresent() throws {
        guard Self.dockerReady() else { return }
        try #require(DockerTest.docker(["image", "inspect", Self.absentImage]).status != 0)
        let engine = try ContainerEngine()
        do {
            try engine.ensureImage(Self.absentImage, pull: .never)
            Issue.record("ensureImage accepted an image that is not present")
        } catch {
            #expect(error.kind == .imageMissing)
            #expect(error.message == "image muslcheck-test/no-such-image:0 is not present locally and --pull never forbids pulling it")
            #expect(error.description == error.message)
        }
    }

    @Test func aPresentImageNeedsNoPull() throws {
        guard Self.dockerReady() else { return }
        let engine = try ContainerEngine()
        // There is no registry: a pull would fail, so these pass only when nothing is pulled.
        try engine.ensureImage(Self.image, pull: .never)
        try engine.ensureImage(Self.image, pull: .missing)
    }

    @Test func theImageIdentityIsTheDaemonsContentId() throws {
        guard Self.dockerReady() else { return }
        let engine = try ContainerEngine()
        let identity = engine.imageIdentity(Self.image)
        let id = try DockerTest.docker(["image", "inspect", "--format", "{{.Id}}", Self.image]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(identity.id == id)
        #expect(identity.id.hasPrefix("sha256:"))
        #expect(identity.id.count == "sha256:".count + 64)
        // Built locally, never pulled: no repo digest.
        let digests = try DockerTest.docker(["image", "inspect", "--format", "{{json .RepoDigests}}", Self.image]).stdout
        #expect(digests.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
        #expect(identity.digest == nil)
        // Another tag of the same image has the same identity.
        #expect(engine.imageIdentity("muslcheck-test/musl:latest").id == identity.id)
    }

    @Test func anImageThatIsNotPresentHasNoIdentity() throws {
        guard Self.dockerReady() else { return }
        let identity = try ContainerEngine().imageIdentity(Self.absentImage)
        #expect(identity.id == "")
        #expect(identity.digest == nil)
    }

    @Test func containersCarryTheRunLabelAndAreRemovedByRun() throws {
        guard Self.dockerReady() else { return }
        let engine = try ContainerEngine()
        let run = Self.runID(), other = Self.runID()
        defer {
            engine.removeContainers(runID: run)
            engine.removeContainers(runID: other)
        }
        let first = try engine.createContainer(image: Self.image, runID: run, arguments: ["--label", DockerTest.label])
        let second = try engine.createContainer(image: Self.image, runID: run, arguments: ["--label", DockerTest.label],
                                                command: ["/bin/sh", "-c", "exit 0"])
        let bystander = try engine.createContainer(image: Self.image, runID: other, arguments: ["--label", DockerTest.label])
        #expect(first.count == 64 && second.count == 64 && first != second)

        let label = try DockerTest.docker(["inspect", "--format", "{{index .Config.Labels \"org.muslcheck.run\"}}", first]).stdout
        #expect(label.trimmingCharacters(in: .whitespacesAndNewlines) == run)
        let cmd = try DockerTest.docker(["inspect", "--format", "{{json .Config.Cmd}}", second]).stdout
        #expect(cmd.trimmingCharacters(in: .whitespacesAndNewlines) == "[\"/bin/sh\",\"-c\",\"exit 0\"]")
        let listed = try Self.labelled(run)
        #expect(listed.count == 2)
        #expect(listed.allSatisfy { first.hasPrefix($0) || second.hasPrefix($0) })

        engine.removeContainers(runID: run)
        #expect(try Self.labelled(run) == [])
        // Another run's container stays.
        let others = try Self.labelled(other)
        #expect(others.count == 1 && bystander.hasPrefix(others[0]))
        engine.removeContainer(bystander)
        #expect(try Self.labelled(other) == [])
    }

    @Test func aCreateThatFailsSaysWhy() throws {
        guard Self.dockerReady() else { return }
        let run = Self.runID()
        do {
            _ = try ContainerEngine().createContainer(image: "Not/A-Valid:Ref", runID: run)
            Issue.record("created a container of an invalid reference")
        } catch {
            #expect(error.kind == .commandFailed)
            #expect(error.message.hasPrefix("docker create Not/A-Valid:Ref failed: "))
            #expect(error.message.contains("invalid reference format"))
        }
        #expect(try Self.labelled(run) == [])
    }

    @Test func anExportStreamsTheContainersFilesystem() throws {
        guard Self.dockerReady() else { return }
        let engine = try ContainerEngine()
        let run = Self.runID()
        defer { engine.removeContainers(runID: run) }
        let id = try engine.createContainer(image: Self.image, runID: run, arguments: ["--label", DockerTest.label])
        let export = try engine.startExport(id)
        let tar = export.stdout.readDataToEndOfFile()
        try export.wait(describing: "export of \(id)")
        #expect(tar.count > 500_000)
        #expect(tar.range(of: Data("lib/ld-musl-x86_64.so.1".utf8)) != nil)
    }
}
