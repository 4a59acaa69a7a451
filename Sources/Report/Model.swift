import Compat
import Foundation
import Policy
import Probes

/// One compatibility report: everything a run found, in a deterministic order. Its JSON form
/// is documented in the README ("Report JSON") and described by report.schema.json.
public struct CompatibilityReport: Codable, Sendable, Hashable {
    public static let currentSchemaVersion = 1

    public struct Tool: Codable, Sendable, Hashable {
        public var name: String
        public var version: String
        /// The commit the binary was built from ("-modified" when the work tree had changes).
        public var commit: String?
        /// Each bundled data set's date (yyyy-mm-dd), by name.
        public var data: [String: String]?
        public init(name: String = "muslcheck", version: String, commit: String? = nil, data: [String: String]? = nil) {
            self.name = name
            self.version = version
            self.commit = commit
            self.data = data
        }
    }

    public struct Inputs: Codable, Sendable, Hashable {
        public var paths: [String]
        public var images: [String]
        public var targets: [String]
        public var sysroots: [String]
        public var failOn: FailLevel
        /// "i/n" for one shard of a split run.
        public var shard: String?
        public init(paths: [String], images: [String], targets: [String], sysroots: [String], failOn: FailLevel, shard: String? = nil) {
            self.paths = paths
            self.images = images
            self.targets = targets
            self.sysroots = sysroots
            self.failOn = failOn
            self.shard = shard
        }
    }

    public struct TargetInfo: Codable, Sendable, Hashable {
        public var name: String
        /// "profile", "sysroot" or "image".
        public var kind: String
        public var musl: String?
        /// "glibc" or "none" for a target that is not musl (nil: musl).
        public var libc: String?
        /// glibc's version on a glibc target.
        public var glibc: String?
        public var gcompat: Bool
        /// For an image: its id and registry digest.
        public var imageID: String?
        public var digest: String?
        public init(name: String, kind: String, musl: String?, gcompat: Bool, imageID: String? = nil, digest: String? = nil,
                    libc: String? = nil, glibc: String? = nil) {
            self.name = name
            self.kind = kind
            self.libc = libc
            self.glibc = glibc
            self.musl = musl
            self.gcompat = gcompat
            self.imageID = imageID
            self.digest = digest
        }
    }

    /// "musl's loader", or "glibc's loader" on a glibc target: who confirms a verdict in the image.
    public static func loaderName(_ target: String, in targets: [TargetInfo]) -> String {
        targets.first { $0.name == target }?.libc == "glibc" ? "glibc's loader" : "musl's loader"
    }

    public struct Counts: Codable, Sendable, Hashable {
        public var files = 0
        public var elfFiles = 0
        public var nonELFFiles = 0
        public var archives = 0
        public var archiveMembers = 0
        public var specialFiles = 0
        public var duplicates = 0
        public var problems = 0
        public var artifacts = 0
        /// target → verdict → number of artifacts.
        public var verdicts: [String: [String: Int]] = [:]
        /// severity → number of findings.
        public var findings: [String: Int] = [:]
        /// Findings suppressed by ignores and the baseline.
        public var suppressed = 0
        public init() {}
    }

    /// A finding left out by an ignore rule or the baseline, for the record.
    public typealias Suppressed = SuppressedFinding

    public struct Timings: Codable, Sendable, Hashable {
        public var scanSeconds: Double
        public var probeSeconds: Double
        public var totalSeconds: Double
        public init(scanSeconds: Double, probeSeconds: Double, totalSeconds: Double) {
            self.scanSeconds = scanSeconds
            self.probeSeconds = probeSeconds
            self.totalSeconds = totalSeconds
        }
    }

    public var schemaVersion: Int
    public var tool: Tool
    public var inputs: Inputs
    public var targets: [TargetInfo]
    /// Sorted by path.
    public var artifacts: [ArtifactAnalysis]
    /// What could not be read (files, archives), as findings without a target.
    public var problems: [Finding]
    public var counts: Counts
    /// Probe results, one entry per image (empty when no probe ran).
    public var probes: [ImageProbeReport]
    /// Sentences about the run ("no container engine answers: only static analysis ran").
    public var notes: [String]
    /// Findings left out by ignores and the baseline.
    public var suppressed: [Suppressed]
    /// Left out of the JSON unless asked for (--timings), so that reports compare byte for byte.
    public var timings: Timings?

    public init(tool: Tool, inputs: Inputs, targets: [TargetInfo], artifacts: [ArtifactAnalysis], problems: [Finding],
                counts: Counts, probes: [ImageProbeReport] = [], notes: [String] = [], suppressed: [Suppressed] = [],
                timings: Timings? = nil) {
        self.schemaVersion = Self.currentSchemaVersion
        self.tool = tool
        self.inputs = inputs
        self.targets = targets
        self.artifacts = artifacts.sorted { $0.path < $1.path }
        self.problems = problems.sorted(by: Finding.order)
        self.counts = counts
        self.probes = probes
        self.notes = notes
        self.suppressed = suppressed
        self.timings = timings
        self.recount()
    }

    /// Recomputes the artifact, verdict and finding counts from the content.
    public mutating func recount() {
        counts.artifacts = artifacts.count
        var verdicts: [String: [String: Int]] = [:]
        var findings: [String: Int] = [:]
        for a in artifacts {
            for v in a.verdicts { verdicts[v.target, default: [:]][v.verdict.rawValue, default: 0] += 1 }
            for f in a.findings { findings[f.severity.rawValue, default: 0] += 1 }
        }
        for f in problems { findings[f.severity.rawValue, default: 0] += 1 }
        counts.verdicts = verdicts
        counts.findings = findings
        counts.problems = problems.count
        counts.suppressed = suppressed.count
    }

    /// Every finding, artifacts' and problems', in report order.
    public var allFindings: [Finding] { (artifacts.flatMap(\.findings) + problems) }

    /// The worst verdict over every artifact and target.
    public var worstVerdict: Verdict? { artifacts.map(\.worstVerdict).max() }

    /// JSON: sorted keys, so the same inputs give the same bytes.
    public func jsonData() throws -> Data {
        try JSONFormat.data(self)
    }

    public static func decode(_ data: Data) throws -> CompatibilityReport {
        try read(data)
    }
}

extension Finding {
    /// Report order: artifact, target, id, subject, message.
    public static func order(_ a: Finding, _ b: Finding) -> Bool {
        (a.artifact, a.target ?? "", a.id, a.subject ?? "", a.message) < (b.artifact, b.target ?? "", b.id, b.subject ?? "", b.message)
    }
}
