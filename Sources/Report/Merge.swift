import Compat
import Foundation
import Policy
import Probes

extension CompatibilityReport {
    /// Reads a saved report, with a sentence naming the file when it is not one.
    public static func load(_ path: String) throws -> CompatibilityReport {
        // A regular file is mapped, not copied (a report can be tens of megabytes).
        var st = stat()
        let regular = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        guard let data = regular ? try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
                                 : FileManager.default.contents(atPath: path) else {
            throw ReportError("\(path): cannot read the file")
        }
        // One parse in the usual case; the schema version is looked at only to explain a failure.
        do {
            let report = try decode(data)
            guard report.schemaVersion == currentSchemaVersion else {
                throw ReportError("\(path): report schema \(report.schemaVersion); this muslcheck reads schema \(currentSchemaVersion)")
            }
            return report
        } catch let e as ReportError {
            throw e
        } catch {
            struct Version: Decodable { var schemaVersion: Int? }
            if let v = (try? JSONDecoder().decode(Version.self, from: data))?.schemaVersion, v != currentSchemaVersion {
                throw ReportError("\(path): report schema \(v); this muslcheck reads schema \(currentSchemaVersion)")
            }
            throw ReportError("\(path): not a muslcheck report (\(describe(error)))")
        }
    }

    /// Joins reports: the shards of one split run (--shard i/n) give back the unsharded report;
    /// reports of different paths against the same targets are combined.
    public static func merge(_ reports: [CompatibilityReport], names: [String]) throws -> CompatibilityReport {
        guard var merged = reports.first else { throw ReportError("nothing to merge") }
        let first = names.first ?? "the first report"
        for (r, name) in zip(reports, names).dropFirst() {
            if r.targets.map(\.name) != merged.targets.map(\.name) {
                throw ReportError("\(name) checks \(r.targets.map(\.name).joined(separator: ", ")), \(first) checks "
                                  + "\(merged.targets.map(\.name).joined(separator: ", ")): only reports on the same targets merge")
            }
            if r.inputs.failOn != merged.inputs.failOn {
                throw ReportError("\(name) has --fail-on \(r.inputs.failOn.rawValue), \(first) \(merged.inputs.failOn.rawValue)")
            }
        }
        // Shards: the same split, each once.
        let shards = reports.compactMap(\.inputs.shard)
        var notes: [String] = []
        let sameInputs = reports.allSatisfy { $0.inputs.paths == merged.inputs.paths && $0.inputs.images == merged.inputs.images }
        if !shards.isEmpty {
            guard shards.count == reports.count, sameInputs else {
                throw ReportError("shards merge only with the other shards of the same run (same paths and images)")
            }
            let parsed = shards.map { $0.split(separator: "/").compactMap { Int($0) } }
            let counts = Set(parsed.map { $0.last ?? 0 })
            guard counts.count == 1, let n = counts.first else { throw ReportError("the shards come from different splits: \(shards.joined(separator: ", "))") }
            let indices = parsed.map { $0.first ?? 0 }
            if Set(indices).count != indices.count { throw ReportError("a shard is given twice: \(shards.sorted().joined(separator: ", "))") }
            if indices.count != n {
                let missing = (1...n).filter { !indices.contains($0) }.map { "\($0)/\(n)" }
                notes.append("merged \(indices.count) of \(n) shards; missing: \(missing.joined(separator: ", "))")
            }
        }

        // Artifacts: disjoint, or the same result twice.
        var byPath: [String: ArtifactAnalysis] = [:]
        for (r, name) in zip(reports, names) {
            for a in r.artifacts {
                if let seen = byPath[a.path] {
                    if seen != a { throw ReportError("\(a.path) is in two reports with different results (\(name) and an earlier one)") }
                } else {
                    byPath[a.path] = a
                }
            }
        }
        merged.artifacts = byPath.values.sorted { $0.path < $1.path }
        merged.problems = Array(Set(reports.flatMap(\.problems))).sorted(by: Finding.order)
        merged.suppressed = Array(Set(reports.flatMap(\.suppressed))).sorted {
            ($0.artifact, $0.target ?? "", $0.id, $0.subject ?? "") < ($1.artifact, $1.target ?? "", $1.id, $1.subject ?? "")
        }
        if sameInputs {
            merged.inputs.shard = nil
        } else {
            merged.inputs.paths = unique(reports.flatMap(\.inputs.paths))
            merged.inputs.images = unique(reports.flatMap(\.inputs.images))
            merged.inputs.shard = nil
            // Different scans: their file counts add up.
            var c = CompatibilityReport.Counts()
            for r in reports {
                c.files += r.counts.files
                c.elfFiles += r.counts.elfFiles
                c.nonELFFiles += r.counts.nonELFFiles
                c.archives += r.counts.archives
                c.archiveMembers += r.counts.archiveMembers
                c.specialFiles += r.counts.specialFiles
                c.duplicates += r.counts.duplicates
            }
            merged.counts = c
        }

        // Probes per image: the built-in ones from the report that ran them, the loader probe's
        // outcomes from all.
        var images: [String] = []
        var parts: [String: [ImageProbeReport]] = [:]
        for r in reports {
            for p in r.probes {
                if parts[p.image] == nil { images.append(p.image) }
                parts[p.image, default: []].append(p)
            }
        }
        merged.probes = images.map { image in
            let all = parts[image]!
            var base = all.first { !$0.probes.isEmpty || !$0.userProbes.isEmpty } ?? all[0]
            var loader: [String: LoaderProbeOutcome] = [:]
            for p in all { for l in p.loader where loader[l.artifact] == nil { loader[l.artifact] = l } }
            base.loader = loader.values.sorted { $0.artifact < $1.artifact }
            base.notes = Array(Set(all.flatMap(\.notes))).sorted()
            base.error = all.compactMap(\.error).first
            base.osRelease = base.osRelease ?? all.compactMap(\.osRelease).first
            base.musl = base.musl ?? all.compactMap(\.musl).first
            return base
        }
        merged.notes = unique(reports.flatMap(\.notes)) + notes
        if reports.allSatisfy({ $0.timings != nil }) {
            let t = reports.compactMap(\.timings)
            merged.timings = .init(scanSeconds: t.map(\.scanSeconds).max() ?? 0, probeSeconds: t.map(\.probeSeconds).max() ?? 0,
                                   totalSeconds: t.map(\.totalSeconds).max() ?? 0)
        } else {
            merged.timings = nil
        }
        merged.recount()
        return merged
    }
}

func unique(_ items: [String]) -> [String] {
    var seen: Set<String> = []
    return items.filter { seen.insert($0).inserted }
}

/// What changed between two reports.
public struct ReportDiff: Codable, Sendable, Hashable {
    public struct Change: Codable, Sendable, Hashable {
        /// "verdict", "finding", "artifact", "problem", "probe".
        public var kind: String
        public var artifact: String
        public var target: String?
        public var text: String
    }
    public var worse: [Change] = []
    public var better: [Change] = []
    /// Neither better nor worse: probe values that changed, artifacts that came or went.
    public var changed: [Change] = []

    public init(old: CompatibilityReport, new: CompatibilityReport) {
        func pairs(_ r: CompatibilityReport) -> [String: Verdict] {
            var out: [String: Verdict] = [:]
            for a in r.artifacts { for v in a.verdicts { out[a.path + "\u{0}" + v.target] = v.verdict } }
            return out
        }
        let oldPairs = pairs(old), newPairs = pairs(new)
        let oldPaths = Set(old.artifacts.map(\.path)), newPaths = Set(new.artifacts.map(\.path))
        for key in Set(oldPairs.keys).union(newPairs.keys).sorted() {
            let parts = key.split(separator: "\u{0}", maxSplits: 1).map(String.init)
            let (path, target) = (parts[0], parts.count > 1 ? parts[1] : "")
            switch (oldPairs[key], newPairs[key]) {
            case let (o?, n?) where o != n:
                let c = Change(kind: "verdict", artifact: path, target: target, text: "\(o.rawValue) → \(n.rawValue)")
                if o == .notApplicable || n == .notApplicable { changed.append(c) } else if n > o { worse.append(c) } else { better.append(c) }
            case let (nil, n?):
                let c = Change(kind: "artifact", artifact: path, target: target, text: oldPaths.contains(path) ? "newly checked on this target: \(n.rawValue)" : "new artifact: \(n.rawValue)")
                if n >= .needsGcompat && n != .notApplicable { worse.append(c) } else { changed.append(c) }
            case let (o?, nil):
                let c = Change(kind: "artifact", artifact: path, target: target, text: newPaths.contains(path) ? "no longer checked on this target (was \(o.rawValue))" : "gone (was \(o.rawValue))")
                if o >= .needsGcompat && o != .notApplicable { better.append(c) } else { changed.append(c) }
            default:
                break
            }
        }
        func findings(_ r: CompatibilityReport) -> [ReportBaseline.Entry: Finding] {
            var out: [ReportBaseline.Entry: Finding] = [:]
            for f in r.allFindings where f.severity >= .warning { out[ReportBaseline.Entry(f)] = f }
            return out
        }
        let oldFindings = findings(old), newFindings = findings(new)
        for (k, f) in newFindings.sorted(by: { $0.key < $1.key }) where oldFindings[k] == nil {
            worse.append(Change(kind: "finding", artifact: f.artifact, target: f.target, text: "+ \(f.id) \(f.message)"))
        }
        for (k, f) in oldFindings.sorted(by: { $0.key < $1.key }) where newFindings[k] == nil {
            better.append(Change(kind: "finding", artifact: f.artifact, target: f.target, text: "− \(f.id) \(f.message)"))
        }
        // Probe values, per image and field.
        let oldProbes = Dictionary(old.probes.map { ($0.image, $0) }, uniquingKeysWith: { a, _ in a })
        for p in new.probes {
            guard let o = oldProbes[p.image] else { continue }
            let before = Dictionary(o.probes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for probe in p.probes {
                guard let b = before[probe.id] else { continue }
                for key in Set(probe.values.keys).union(b.values.keys).sorted() where probe.values[key] != b.values[key] {
                    changed.append(Change(kind: "probe", artifact: p.image, target: p.image,
                                          text: "\(probe.id).\(key): \(ProbeRunner.format(b.values[key], unit: nil)) → \(ProbeRunner.format(probe.values[key], unit: nil))"))
                }
                if probe.status != b.status {
                    let c = Change(kind: "probe", artifact: p.image, target: p.image, text: "\(probe.id): \(b.status.rawValue) → \(probe.status.rawValue)")
                    if probe.status == .ok { better.append(c) } else if b.status == .ok { worse.append(c) } else { changed.append(c) }
                }
            }
            let passedBefore = Dictionary(o.userProbes.map { ($0.name, $0.passed) }, uniquingKeysWith: { a, _ in a })
            for u in p.userProbes {
                guard let was = passedBefore[u.name], was != u.passed else { continue }
                let c = Change(kind: "probe", artifact: p.image, target: p.image, text: "user probe '\(u.name)': \(was ? "passed" : "failed") → \(u.passed ? "passed" : "failed")")
                if u.passed { better.append(c) } else { worse.append(c) }
            }
        }
    }

    public var isWorse: Bool { !worse.isEmpty }

    public func text() -> String {
        var out: [String] = []
        func section(_ title: String, _ items: [Change], _ mark: String) {
            guard !items.isEmpty else { return }
            out.append("\(title) (\(items.count)):")
            for c in items {
                out.append("  \(mark) \(c.artifact)" + (c.target.map { $0 == c.artifact ? "" : " [\($0)]" } ?? "") + ": \(c.text)")
            }
            out.append("")
        }
        section("worse", worse, "✗")
        section("better", better, "✓")
        section("changed", changed, "~")
        out.append("Summary: \(worse.count) worse, \(better.count) better, \(changed.count) changed")
        return out.joined(separator: "\n") + "\n"
    }
}
