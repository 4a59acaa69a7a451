import Artifacts
import Compat
import Engine
import Foundation

/// An image's filesystem, streamed from `docker create` + `docker export` (never unpacked),
/// scanned, and made a target.
public enum ImageExport {
    public struct Result: Sendable {
        public var target: Target
        public var tree: MemberTree
        public var imageID: String
        public var digest: String?
    }

    /// Pulls the image if the policy says so, streams its filesystem through `scanner` (whose
    /// batches and problems go to `handler`), and returns it as a target.
    public static func read(_ ref: String, engine: ContainerEngine, pull: PullPolicy, runID: String, scanner: ArtifactScanner,
                            data: CompatData, handler: @escaping @Sendable (ScanEvent) -> Void) -> Swift.Result<Result, EngineError> {
        do { try engine.ensureImage(ref, pull: pull) } catch { return .failure(error) }
        let identity = engine.imageIdentity(ref)
        let tree: MemberTree
        switch stream(ref, engine: engine, runID: runID, scanner: scanner, textFiles: Target.textFiles, handler: handler) {
        case .success(let t): tree = t
        case .failure(let e): return .failure(e)
        }
        do {
            let target = try Target.filesystem(name: ref, kind: .image(ref), tree: tree, data: data)
            return .success(Result(target: target, tree: tree, imageID: identity.id, digest: identity.digest))
        } catch {
            return .failure(EngineError(.commandFailed, "\(ref): \(error)"))
        }
    }

    /// An image's filesystem, streamed from a labelled container's export through `scanner`
    /// (never unpacked); the container is removed. `alsoText`: further paths kept as text.
    public static func stream(_ ref: String, engine: ContainerEngine, runID: String, scanner: ArtifactScanner, textFiles: Set<String>,
                              alsoText: ((String) -> Bool)? = nil,
                              handler: @escaping @Sendable (ScanEvent) -> Void) -> Swift.Result<MemberTree, EngineError> {
        let id: String
        do { id = try engine.createContainer(image: ref, runID: runID) } catch { return .failure(error) }
        defer { engine.removeContainer(id) }
        let export: StreamingCommand
        do { export = try engine.startExport(id) } catch { return .failure(error) }
        let source = FileDescriptorSource(fd: export.stdout.fileDescriptor, name: ref, owns: false)
        let tree: MemberTree
        do throws(ArtifactError) {
            tree = try scanner.scanFilesystemStream(source, name: ref, textFiles: textFiles, alsoText: alsoText, handler: handler)
        } catch {
            export.terminate()
            return .failure(EngineError(.commandFailed, "reading the export of \(ref): \(error.message)"))
        }
        do { try export.wait(describing: "\(engine.kind.rawValue) export of \(ref)") } catch { return .failure(error) }
        return .success(tree)
    }
}
