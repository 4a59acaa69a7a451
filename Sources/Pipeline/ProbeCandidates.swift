import Artifacts
import Compat
import ELF
import Engine
import Foundation

/// What a scan's one pass keeps for the loader probe: the artifacts it can run on, grouped as
/// the scan found them (a file, or an archive's members), the scan's problems, and the archives'
/// ELF members, staged as the scan read them. Filled from the scan's worker threads.
final class ProbeCandidates: @unchecked Sendable {
    struct Candidate {
        var item: ScannedELF
        /// Its kind as the loader probe runs it (with the host it was built for).
        var kind: ArtifactKind
        /// A program (the kernel maps it, and its $ORIGIN is where its links lead).
        var isProgram: Bool
        var host: CompatData.HostSpec?
    }

    struct Group {
        /// The archive (display path); nil for a file on disk.
        var archive: String?
        var items: [Candidate]
        var key: String { archive ?? items.first?.item.displayPath ?? "" }
    }

    let staging: ArchiveStaging
    /// The scan's tree of files on disk: what it read is found there again, not read twice.
    var disk = DiskTree(name: "remapped")
    private let lock = NSLock()
    private var found: [Group] = []
    private var scanProblems: [ScanProblem] = []

    init(staging root: URL) {
        staging = ArchiveStaging(root: root) { CleanupRegistry.shared.interruptedStatus != nil }
    }

    /// Archives the scanner reads are staged as it reads them.
    func attach(to scanner: ArtifactScanner) {
        let staging = self.staging
        scanner.elfMemberBytes = { staging.keep(archive: $0, member: $1, bytes: $2) }
    }

    /// Keeps the batch's artifacts that a loader loads: no object files, core dumps or other
    /// machines' files.
    func add(_ batch: ArtifactBatch, analyzer: Analyzer) {
        var items: [Candidate] = []
        for item in batch.items {
            let plain = analyzer.kind(of: item.file, host: nil)
            guard plain != .object, plain != .core, item.file.header.machine == .EM_X86_64, !item.file.header.isX32 else { continue }
            let host = analyzer.host(for: item.file, name: item.displayPath)
            items.append(Candidate(item: item, kind: analyzer.kind(of: item.file, host: host),
                                   isProgram: plain == .executable || plain == .staticExecutable, host: host))
        }
        guard !items.isEmpty else { return }
        lock.lock()
        found.append(Group(archive: batch.archive, items: items))
        lock.unlock()
    }

    func add(_ problem: ScanProblem) {
        lock.lock()
        scanProblems.append(problem)
        lock.unlock()
    }

    /// The groups in the order a walk of `paths` meets them: path by path, depth first, each
    /// folder's entries sorted by name.
    func groups(inOrderOf paths: [String]) -> [Group] {
        lock.lock()
        defer { lock.unlock() }
        return found.sorted { Self.walkOrder($0.key, $1.key, paths: paths) }
    }

    /// The scan's problems in walk order (one archive's problems in the order they were met).
    func problems(inOrderOf paths: [String]) -> [ScanProblem] {
        lock.lock()
        defer { lock.unlock() }
        let outer = { (p: ScanProblem) in String(p.path.split(separator: "!", maxSplits: 1).first ?? "") }
        return scanProblems.enumerated().sorted { a, b in
            let (x, y) = (outer(a.element), outer(b.element))
            return x == y ? a.offset < b.offset : Self.walkOrder(x, y, paths: paths)
        }.map(\.element)
    }

    /// Whether display path `a` comes before `b` in the walk: by the path given first, then
    /// component by component.
    static func walkOrder(_ a: String, _ b: String, paths: [String]) -> Bool {
        func root(_ p: String) -> Int {
            paths.firstIndex { p == $0 || p.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") } ?? paths.count
        }
        let (ra, rb) = (root(a), root(b))
        if ra != rb { return ra < rb }
        let (ca, cb) = (a.split(separator: "/"), b.split(separator: "/"))
        for (x, y) in zip(ca, cb) where x != y { return String(x) < String(y) }
        return ca.count < cb.count
    }
}
