import Compat
import ELF
import Foundation
import Policy
import Probes

/// What a renderer needs to find one artifact, kept in memory while the artifact itself is not.
public struct ArtifactSummary: Sendable, Hashable {
    public var path: String
    public var archive: String?
    public var worst: Verdict
    /// target → verdict.
    public var verdicts: [String: Verdict]
    /// severity → number of findings.
    public var findings: [Severity: Int]
    /// Targets whose verdict is excused by the baseline or an ignore.
    public var excused: Set<String>
    /// Whether the real loader contradicted the static verdict (MC150) on some image.
    public var contradicted: Bool
    /// Targets whose gcompat already makes a needs-gcompat verdict load as the target is (MC112
    /// as a note: gcompat installed, nothing more needed). Elsewhere gcompat is missing, or a
    /// module needs it preloaded (MC113).
    public var gcompatMet: Set<String> = []
    /// Targets where a module needs gcompat preloaded (MC113).
    public var gcompatPreload: Set<String> = []
}

/// A report as renderers read it: the small parts in memory, artifacts one at a time in path order.
public protocol ReportView {
    var schemaVersion: Int { get }
    var tool: CompatibilityReport.Tool { get }
    var inputs: CompatibilityReport.Inputs { get }
    var targets: [CompatibilityReport.TargetInfo] { get }
    var problems: [Finding] { get }
    var counts: CompatibilityReport.Counts { get }
    var timings: CompatibilityReport.Timings? { get }
    var probes: [ImageProbeReport] { get }
    var notes: [String] { get }
    var suppressed: [CompatibilityReport.Suppressed] { get }
    /// One entry per artifact, sorted by path.
    var summaries: [ArtifactSummary] { get }
    /// The artifact at a position of `summaries`.
    func artifact(at index: Int) throws -> ArtifactAnalysis
}

extension ReportView {
    /// Every artifact in path order, read one at a time.
    public func forEachArtifact(_ body: (ArtifactAnalysis) throws -> Void) throws {
        for i in summaries.indices { try body(try artifact(at: i)) }
    }

    public var worstVerdict: Verdict? { summaries.map(\.worst).max() }
}

extension ArtifactSummary {
    init(_ a: ArtifactAnalysis) {
        path = a.path
        archive = a.archive
        worst = a.worstVerdict
        verdicts = Dictionary(a.verdicts.map { ($0.target, $0.verdict) }, uniquingKeysWith: { a, _ in a })
        var f: [Severity: Int] = [:]
        for x in a.findings { f[x.severity, default: 0] += 1 }
        findings = f
        excused = Set(a.verdicts.filter { $0.excused != nil }.map(\.target))
        contradicted = a.findings.contains { $0.findingID == .loaderProbeContradiction }
        for f in a.findings {
            guard let t = f.target else { continue }
            if f.findingID == .needsGcompat && f.severity == .note { gcompatMet.insert(t) }
            if f.findingID == .needsGcompatPreload { gcompatPreload.insert(t) }
        }
    }
}

extension CompatibilityReport: ReportView {
    /// Made anew on each call: a renderer takes them once (or uses `MemoryReport`).
    public var summaries: [ArtifactSummary] { artifacts.map(ArtifactSummary.init) }
    public func artifact(at index: Int) throws -> ArtifactAnalysis { artifacts[index] }
}

/// A report held whole in memory (loaded from a file, or merged), its summaries made once.
public struct MemoryReport: ReportView {
    public let report: CompatibilityReport
    public let summaries: [ArtifactSummary]

    public init(_ report: CompatibilityReport) {
        self.report = report
        summaries = report.artifacts.map(ArtifactSummary.init)
    }

    public var schemaVersion: Int { report.schemaVersion }
    public var tool: CompatibilityReport.Tool { report.tool }
    public var inputs: CompatibilityReport.Inputs { report.inputs }
    public var targets: [CompatibilityReport.TargetInfo] { report.targets }
    public var problems: [Finding] { report.problems }
    public var counts: CompatibilityReport.Counts { report.counts }
    public var timings: CompatibilityReport.Timings? { report.timings }
    public var probes: [ImageProbeReport] { report.probes }
    public var notes: [String] { report.notes }
    public var suppressed: [CompatibilityReport.Suppressed] { report.suppressed }
    public func artifact(at index: Int) throws -> ArtifactAnalysis { report.artifacts[index] }
}

/// Artifacts written to an unlinked temporary file as they are analysed (from any thread), so
/// that a scan's memory does not grow with the number of artifacts; an index stays in memory.
public final class ArtifactStore: @unchecked Sendable {
    struct Entry {
        var summary: ArtifactSummary
        var offset: UInt64
        var length: Int
    }
    private let lock = NSLock()
    private let handle: FileHandle
    private var size: UInt64 = 0
    private var entries: [Entry] = []
    private var positions: [String: Int] = [:]
    private var sorted = true

    public init() throws {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(dir)/muslcheck-results-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw CompatDataError("cannot create a temporary file in \(dir): \(String(cString: strerror(errno)))")
        }
        // Unlinked at once: the file disappears with the process, whatever way it ends.
        unlink(String(cString: template.map { $0 }))
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Where an artifact sits in the report's JSON: inside "artifacts", two levels deep.
    static let depth = 2

    /// Stores one artifact (encoded as the report's JSON will hold it, indentation included).
    public func add(_ artifact: ArtifactAnalysis) throws {
        var json = PrettyJSON()
        json.artifact(artifact, depth: Self.depth)
        let summary = ArtifactSummary(artifact)
        let length = json.withBytes { $0.count }
        // Room is reserved under the lock; the bytes are written outside it (pwrite at the
        // reserved offset), so threads do not wait for each other's writes.
        lock.lock()
        let offset = size
        size += UInt64(length)
        lock.unlock()
        try json.withBytes { (raw: UnsafeRawBufferPointer) throws(CompatDataError) in
            var done = 0
            while done < raw.count {
                let n = pwrite(handle.fileDescriptor, raw.baseAddress! + done, raw.count - done, off_t(offset) + off_t(done))
                if n > 0 { done += n; continue }
                if n < 0 && errno == EINTR { continue }
                throw CompatDataError("writing results to a temporary file: \(n < 0 ? String(cString: strerror(errno)) : "nothing written")")
            }
        }
        lock.lock()
        defer { lock.unlock() }
        let entry = Entry(summary: summary, offset: offset, length: length)
        // The same path again replaces the earlier result (a library judged again in context).
        if let at = positions[summary.path] {
            entries[at] = entry
            return
        }
        if let last = entries.last, last.summary.path > summary.path { sorted = false }
        positions[summary.path] = entries.count
        entries.append(entry)
    }

    var sortedEntries: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        if !sorted {
            entries.sort { $0.summary.path < $1.summary.path }
            positions = Dictionary(uniqueKeysWithValues: entries.enumerated().map { ($1.summary.path, $0) })
            sorted = true
        }
        return entries
    }

    /// The stored JSON of one artifact.
    func data(_ entry: Entry) throws -> Data {
        var data = Data(count: entry.length)
        let got = data.withUnsafeMutableBytes { readFully(handle.fileDescriptor, into: $0, at: off_t(entry.offset)).count }
        guard got == entry.length else { throw CompatDataError("the temporary results file was cut short") }
        return data
    }
}

/// A scan's report with its artifacts in an ArtifactStore.
public struct StoredReport: ReportView {
    public var schemaVersion = CompatibilityReport.currentSchemaVersion
    public var tool: CompatibilityReport.Tool
    public var inputs: CompatibilityReport.Inputs
    public var targets: [CompatibilityReport.TargetInfo]
    public var problems: [Finding]
    public var counts: CompatibilityReport.Counts
    public var timings: CompatibilityReport.Timings?
    public var probes: [ImageProbeReport] = []
    public var notes: [String] = []
    public var suppressed: [CompatibilityReport.Suppressed] = []
    public let summaries: [ArtifactSummary]
    let store: ArtifactStore
    let entries: [ArtifactStore.Entry]

    public init(store: ArtifactStore, tool: CompatibilityReport.Tool, inputs: CompatibilityReport.Inputs,
                targets: [CompatibilityReport.TargetInfo], problems: [Finding], counts: CompatibilityReport.Counts,
                probes: [ImageProbeReport] = [], notes: [String] = [], suppressed: [CompatibilityReport.Suppressed] = [],
                timings: CompatibilityReport.Timings? = nil) {
        self.init(store: store, entries: store.sortedEntries, tool: tool, inputs: inputs, targets: targets, problems: problems,
                  counts: counts, probes: probes, notes: notes, suppressed: suppressed, timings: timings)
    }

    init(store: ArtifactStore, entries: [ArtifactStore.Entry], tool: CompatibilityReport.Tool, inputs: CompatibilityReport.Inputs,
         targets: [CompatibilityReport.TargetInfo], problems: [Finding], counts: CompatibilityReport.Counts,
         probes: [ImageProbeReport], notes: [String], suppressed: [CompatibilityReport.Suppressed],
         timings: CompatibilityReport.Timings?) {
        self.store = store
        self.entries = entries
        self.summaries = entries.map(\.summary)
        self.tool = tool
        self.inputs = inputs
        self.targets = targets
        self.problems = problems.sorted(by: Finding.order)
        self.timings = timings
        self.probes = probes
        self.notes = notes
        self.suppressed = suppressed.sorted { ($0.artifact, $0.target ?? "", $0.id, $0.subject ?? "") < ($1.artifact, $1.target ?? "", $1.id, $1.subject ?? "") }
        var c = counts
        c.artifacts = entries.count
        var verdicts: [String: [String: Int]] = [:]
        var findings: [String: Int] = [:]
        for s in summaries {
            for (t, v) in s.verdicts { verdicts[t, default: [:]][v.rawValue, default: 0] += 1 }
            for (sev, n) in s.findings { findings[sev.rawValue, default: 0] += n }
        }
        for f in problems { findings[f.severity.rawValue, default: 0] += 1 }
        c.verdicts = verdicts
        c.findings = findings
        c.problems = problems.count
        c.suppressed = suppressed.count
        self.counts = c
    }

    public func artifact(at index: Int) throws -> ArtifactAnalysis {
        try ArtifactAnalysis.read(try store.data(entries[index]))
    }

    /// The artifact's JSON as stored (pretty, sorted keys, indented for its place in the report).
    func artifactJSON(at index: Int) throws -> Data { try store.data(entries[index]) }

    /// The whole report in memory (for small reports and tests).
    public func materialize() throws -> CompatibilityReport {
        var artifacts: [ArtifactAnalysis] = []
        try forEachArtifact { artifacts.append($0) }
        var r = CompatibilityReport(tool: tool, inputs: inputs, targets: targets, artifacts: artifacts, problems: problems,
                                    counts: counts, probes: probes, notes: notes, suppressed: suppressed, timings: timings)
        r.recount()
        return r
    }
}

extension StoredReport {
    /// The same report with its parts replaced (the counts follow).
    func rebuilt(entries: [ArtifactStore.Entry]? = nil) -> StoredReport {
        StoredReport(store: store, entries: entries ?? self.entries, tool: tool, inputs: inputs, targets: targets, problems: problems,
                     counts: counts, probes: probes, notes: notes, suppressed: suppressed, timings: timings)
    }

    /// The report over the artifacts `keep` accepts (one shard of a split run).
    public func filtered(_ keep: (ArtifactSummary) -> Bool) -> StoredReport {
        rebuilt(entries: entries.filter { keep($0.summary) })
    }

    /// Passes every artifact through `change`; those it returns changed are stored again.
    public func updating(_ change: (ArtifactAnalysis) throws -> ArtifactAnalysis?) throws -> StoredReport {
        var changed = false
        for i in entries.indices {
            if let new = try change(try artifact(at: i)) {
                try store.add(new)
                changed = true
            }
        }
        guard changed else { return self }
        let current = Dictionary(uniqueKeysWithValues: store.sortedEntries.map { ($0.summary.path, $0) })
        return rebuilt(entries: entries.map { current[$0.summary.path] ?? $0 })
    }

    /// Recounts after problems, probes, notes or suppressed findings changed.
    public func recounted() -> StoredReport { rebuilt() }
}
