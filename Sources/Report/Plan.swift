import Compat
import Foundation

/// `muslcheck plan`: every candidate base image, whether the artifacts run on it and what it
/// takes, its estimated size, and the recommendation.
public struct PlanReport: Codable, Sendable {
    public struct Tool: Codable, Sendable {
        public var name = "muslcheck"
        public var version: String
        /// As in the check report's tool section.
        public var commit: String?
        public var data: [String: String]?
        public init(version: String, commit: String? = nil, data: [String: String]? = nil) {
            self.version = version
            self.commit = commit
            self.data = data
        }
    }
    public struct Inputs: Codable, Sendable {
        public var paths: [String]
        public var candidates: [String]
        public var indexURL: String?
        public init(paths: [String], candidates: [String], indexURL: String?) {
            self.paths = paths
            self.candidates = candidates
            self.indexURL = indexURL
        }
    }
    public enum Outcome: String, Codable, Sendable {
        case runs
        case runsWithPackages = "runs-with-packages"
        case runsWithGcompat = "runs-with-gcompat"
        case fails
    }
    public struct ArtifactOutcome: Codable, Sendable, Hashable {
        public var path: String
        public var outcome: Outcome
        /// The ids of its findings on this candidate (warnings and errors; MC121 for static glibc).
        public var findings: [String]
        /// Why it fails, in the loader's words (the first message).
        public var message: String?
        public init(path: String, outcome: Outcome, findings: [String], message: String?) {
            self.path = path
            self.outcome = outcome
            self.findings = findings
            self.message = message
        }
    }
    public struct Candidate: Codable, Sendable {
        public var name: String
        /// "musl", "glibc" or "none".
        public var libc: String
        /// The C library's version ("1.2.5", "2.36"), when known.
        public var version: String?
        /// The real image it was checked against (`--candidate NAME=IMAGE`), nil for the bundled profile.
        public var image: String?
        /// Every artifact runs as the base is.
        public var runsAll: Bool
        /// Packages to add (apk or apt names).
        public var packages: [String]
        /// The package manager the packages are for ("apk", "apt"), nil when none can be added.
        public var packageManager: String?
        /// gcompat is needed (or, a +gcompat candidate, part of it).
        public var gcompat: Bool
        public var sizeBytes: Int?
        public var sizeIsEstimate: Bool
        /// Where the size comes from.
        public var sizeSource: String
        public var artifacts: [ArtifactOutcome]
        /// What is left to fix when artifacts fail, worst first.
        public var remaining: [String]
        /// The Debian packages whose files are copied onto a base without apt (distroless): from
        /// the original image (plan --from-image: its exact files), or from a Debian 12 build stage.
        public var copies: [String]?
        /// Where the copies come from: "image" or "build-stage".
        public var copiedFrom: String?
        /// plan --from-image: how the candidate gets the application's runtime.
        public var runtime: String?
        /// No artifact fails once the packages (and gcompat) are added.
        public var viable: Bool { !artifacts.contains { $0.outcome == .fails } }

        public init(name: String, libc: String, version: String?, image: String?, runsAll: Bool, packages: [String],
                    packageManager: String?, gcompat: Bool, sizeBytes: Int?, sizeIsEstimate: Bool, sizeSource: String,
                    artifacts: [ArtifactOutcome], remaining: [String]) {
            self.name = name
            self.libc = libc
            self.version = version
            self.image = image
            self.runsAll = runsAll
            self.packages = packages
            self.packageManager = packageManager
            self.gcompat = gcompat
            self.sizeBytes = sizeBytes
            self.sizeIsEstimate = sizeIsEstimate
            self.sizeSource = sizeSource
            self.artifacts = artifacts
            self.remaining = remaining
        }
        public var failing: Int { artifacts.filter { $0.outcome == .fails }.count }
    }
    public struct Wheel: Codable, Sendable, Hashable {
        public init(file: String, project: String, version: String, musllinux: Bool?, note: String) {
            self.file = file
            self.project = project
            self.version = version
            self.musllinux = musllinux
            self.note = note
        }
        public var file: String
        public var project: String
        public var version: String
        /// Whether that version publishes a musllinux wheel for the machine; nil: unknown (no network).
        public var musllinux: Bool?
        public var note: String
    }

    /// The configuration an image runs with (`image inspect`).
    public struct ImageConfig: Codable, Sendable, Hashable {
        public var entrypoint: [String]?
        public var cmd: [String]?
        public var env: [String]
        public var workingDir: String?
        public var user: String?
        public var exposedPorts: [String]
        public init(entrypoint: [String]?, cmd: [String]?, env: [String], workingDir: String?, user: String?, exposedPorts: [String]) {
            self.entrypoint = entrypoint
            self.cmd = cmd
            self.env = env
            self.workingDir = workingDir
            self.user = user
            self.exposedPorts = exposedPorts
        }
    }
    /// The language runtime an application image's code runs on.
    public struct Runtime: Codable, Sendable, Hashable {
        /// "python" or "node".
        public var kind: String
        /// "3.11", "20.11.1".
        public var version: String
        public var executable: String
        /// The distribution package that owns it; nil when it sits outside the package manager.
        public var package: String?
        public var note: String
        public init(kind: String, version: String, executable: String, package: String?, note: String) {
            self.kind = kind
            self.version = version
            self.executable = executable
            self.package = package
            self.note = note
        }
    }
    /// plan --from-image: the image planned from.
    public struct FromImage: Codable, Sendable {
        public var image: String
        public var imageID: String
        /// Its real size, as the engine reports it (uncompressed).
        public var sizeBytes: Int?
        /// "debian", "alpine" or "unknown".
        public var distribution: String
        public var release: String?
        public var config: ImageConfig
        /// The application's files (no package owns them), absolute paths.
        public var appFiles: [String]
        /// What the Dockerfile copies: whole folders, or single files.
        public var appRoots: [String]
        public var runtime: Runtime?
        /// The runtime's own files, when it sits outside the package manager.
        public var runtimeFiles: Int
        /// The image's user as uid:gid (from its /etc/passwd), when it is named.
        public var numericUser: String?
        public init(image: String, imageID: String, sizeBytes: Int?, distribution: String, release: String?, config: ImageConfig,
                    appFiles: [String], appRoots: [String], runtime: Runtime?, runtimeFiles: Int) {
            self.image = image
            self.imageID = imageID
            self.sizeBytes = sizeBytes
            self.distribution = distribution
            self.release = release
            self.config = config
            self.appFiles = appFiles
            self.appRoots = appRoots
            self.runtime = runtime
            self.runtimeFiles = runtimeFiles
        }
    }
    /// `--build` and `--verify`: the image built from the plan, and what ran in it.
    public struct Verification: Codable, Sendable {
        public struct Check: Codable, Sendable, Hashable {
            /// "loader", "user-probe" or "probe".
            public var kind: String
            public var name: String
            public var passed: Bool
            /// What went wrong, in the loader's or the probe's own words.
            public var messages: [String]
            public init(kind: String, name: String, passed: Bool, messages: [String]) {
                self.kind = kind
                self.name = name
                self.passed = passed
                self.messages = messages
            }
        }
        public var candidate: String
        public var image: String
        public var sizeBytes: Int?
        public var originalSizeBytes: Int?
        public var built: Bool
        public var buildError: String?
        public var verified: Bool?
        public var checks: [Check]
        /// Built-in probes that differ between the original image (baseline) and the built one.
        public var differences: [String]
        public var notes: [String]
        public init(candidate: String, image: String, sizeBytes: Int?, originalSizeBytes: Int?, built: Bool, buildError: String?,
                    verified: Bool?, checks: [Check], differences: [String], notes: [String]) {
            self.candidate = candidate
            self.image = image
            self.sizeBytes = sizeBytes
            self.originalSizeBytes = originalSizeBytes
            self.built = built
            self.buildError = buildError
            self.verified = verified
            self.checks = checks
            self.differences = differences
            self.notes = notes
        }
        public var passed: Bool { built && verified != false && checks.allSatisfy(\.passed) }
    }

    public var tool: Tool
    public var inputs: Inputs
    /// Bytes of the artifacts' own files (counted in every candidate's size).
    public var artifactBytes: Int
    public var candidates: [Candidate]
    public var recommended: String?
    public var reason: String
    /// When no candidate runs everything: the one closest to it.
    public var closest: String?
    public var wheels: [Wheel]
    public var notes: [String]
    /// plan --from-image: the image planned from.
    public var fromImage: FromImage?
    /// --build / --verify: the image built and what ran in it.
    public var verification: Verification?

    enum CodingKeys: String, CodingKey {
        case tool, inputs, artifactBytes, candidates, recommended, reason, closest, wheels, notes, fromImage, verification
    }

    /// `recommended` is always written: a name, or null when no candidate runs everything.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tool, forKey: .tool)
        try c.encode(inputs, forKey: .inputs)
        try c.encode(artifactBytes, forKey: .artifactBytes)
        try c.encode(candidates, forKey: .candidates)
        if let recommended { try c.encode(recommended, forKey: .recommended) } else { try c.encodeNil(forKey: .recommended) }
        try c.encode(reason, forKey: .reason)
        try c.encodeIfPresent(closest, forKey: .closest)
        try c.encode(wheels, forKey: .wheels)
        try c.encode(notes, forKey: .notes)
        try c.encodeIfPresent(fromImage, forKey: .fromImage)
        try c.encodeIfPresent(verification, forKey: .verification)
    }

    public init(tool: Tool, inputs: Inputs, artifactBytes: Int, candidates: [Candidate], recommended: String?, reason: String,
                closest: String?, wheels: [Wheel], notes: [String]) {
        self.tool = tool
        self.inputs = inputs
        self.artifactBytes = artifactBytes
        self.candidates = candidates
        self.recommended = recommended
        self.reason = reason
        self.closest = closest
        self.wheels = wheels
        self.notes = notes
    }
}

/// The formats `plan` writes.
public enum PlanFormat: String, CaseIterable, Sendable {
    case text, json, markdown, html, dockerfile
}

public enum PlanRenderer {
    /// The JSON Schema of `plan --format json` (draft 2020-12), shipped with muslcheck.
    public static var schemaURL: URL? { Bundle.module.url(forResource: "plan.schema", withExtension: "json", subdirectory: "Resources") }

    public static func megabytes(_ bytes: Int?) -> String {
        guard let bytes else { return "?" }
        return String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }

    /// What a candidate needs, in a few words: "apk add libstdc++", "gcompat", "nothing".
    public static func needs(_ c: PlanReport.Candidate) -> String {
        var parts: [String] = []
        if !c.packages.isEmpty {
            parts.append((c.packageManager == "apt" ? "apt-get install " : "apk add ") + c.packages.joined(separator: " "))
        }
        if c.gcompat && !c.name.hasSuffix("+gcompat") { parts.append("gcompat") }
        if let copies = c.copies, !copies.isEmpty {
            parts.append(c.copiedFrom == "build-stage" ? "\(copies.joined(separator: " ")) copied from a Debian 12 stage"
                                                       : "\(copies.count) Debian packages copied from the image")
        }
        return parts.isEmpty ? "nothing" : parts.joined(separator: " + ")
    }

    static func status(_ c: PlanReport.Candidate) -> String {
        if c.runsAll { return "runs all" }
        if c.viable { return "runs with " + needs(c) }
        return "\(c.failing) of \(c.artifacts.count) fail"
    }

    public static func text(_ plan: PlanReport) -> String {
        let nc = plan.candidates.count, na = plan.candidates.first?.artifacts.count ?? 0
        var out = "muslcheck \(plan.tool.version) plan — \(nc) candidate\(nc == 1 ? "" : "s"), \(na) artifact\(na == 1 ? "" : "s") (\(megabytes(plan.artifactBytes)) of their own)\n\n"
        if let r = plan.recommended {
            out += "Recommended: \(r)\n  \(plan.reason)\n\n"
        } else {
            out += "No candidate runs every artifact.\n  \(plan.reason)\n\n"
        }
        if let f = plan.fromImage {
            out += "From \(f.image) (\(megabytes(f.sizeBytes)), \(f.distribution)\(f.release.map { " " + $0 } ?? "")): \(f.appFiles.count) application file\(f.appFiles.count == 1 ? "" : "s") in \(f.appRoots.joined(separator: ", "))\n"
            if let r = f.runtime { out += "  runtime: \(r.note) (\(r.executable))\n" }
            out += "\n"
        }
        out += "Candidates by estimated size\(plan.fromImage?.sizeBytes.map { " (\(plan.fromImage!.image) itself: \(megabytes($0)))" } ?? ""):\n"
        let width = max(10, plan.candidates.map(\.name.count).max() ?? 10)
        for c in plan.candidates {
            let mark = c.runsAll ? "✓" : (c.viable ? "!" : "✗")
            let size = megabytes(c.sizeBytes) + (c.sizeIsEstimate ? "*" : "")
            out += "  \(mark) \(c.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(c.libc.padding(toLength: 5, withPad: " ", startingAt: 0))  \(size.padding(toLength: 10, withPad: " ", startingAt: 0))  \(status(c))\n"
            if plan.fromImage != nil, let r = c.runtime { out += "      runtime: \(r)\n" }
        }
        out += "  (* estimate: base + packages + the artifacts' own bytes; sources in the JSON)\n"
        let others = plan.candidates.filter { !$0.viable }
        if !others.isEmpty {
            out += "\nWhat the others lack:\n"
            for c in others {
                let failing = c.artifacts.filter { $0.outcome == .fails }
                let names = failing.prefix(3).map { ($0.path as NSString).lastPathComponent }.joined(separator: ", ") + (failing.count > 3 ? " and \(failing.count - 3) more" : "")
                out += "  \(c.name): \(names) fail"
                if let first = c.remaining.first { out += "; " + first }
                out += "\n"
            }
        }
        for w in plan.wheels {
            out += "\nwheel \(w.project) \(w.version): \(w.note)"
        }
        if !plan.wheels.isEmpty { out += "\n" }
        for n in plan.notes { out += "\nNote: \(n)\n" }
        if let v = plan.verification { out += "\n" + verification(v) }
        return out
    }

    /// What --build and --verify found, one line a check.
    public static func verification(_ v: PlanReport.Verification) -> String {
        var out = "Built \(v.image) on \(v.candidate): "
        guard v.built else { return out + "FAILED: \(v.buildError ?? "unknown error")\n" }
        out += "\(megabytes(v.sizeBytes)) (the original: \(megabytes(v.originalSizeBytes)))\n"
        if let verified = v.verified {
            out += "Verified in \(v.image): \(verified ? "every check passed" : "FAILED")\n"
            for c in v.checks {
                out += "  \(c.passed ? "✓" : "✗") \(c.kind) \(c.name)\n"
                for m in c.messages.prefix(3) where !c.passed { out += "      \(m)\n" }
            }
            for d in v.differences { out += "  differs from the original: \(d)\n" }
        }
        for n in v.notes { out += "  note: \(n)\n" }
        return out
    }

    public static func json(_ plan: PlanReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(plan), as: UTF8.self) + "\n"
    }

    static func cell(_ o: PlanReport.Outcome?) -> String {
        switch o {
        case .runs?: "runs"
        case .runsWithPackages?: "+packages"
        case .runsWithGcompat?: "+gcompat"
        case .fails?: "FAILS"
        case nil: "n/a"
        }
    }

    /// The artifacts in the first candidate's order.
    static func artifactPaths(_ plan: PlanReport) -> [String] {
        var seen = Set<String>()
        return plan.candidates.flatMap { $0.artifacts.map(\.path) }.filter { seen.insert($0).inserted }
    }

    public static func markdown(_ plan: PlanReport) -> String {
        var out = "# muslcheck plan\n\n"
        out += plan.recommended.map { "**Recommended: `\($0)`** — \(plan.reason)\n\n" } ?? "**No candidate runs every artifact.** \(plan.reason)\n\n"
        out += "| candidate | libc | size (estimate) | needs | result |\n|---|---|---|---|---|\n"
        for c in plan.candidates {
            out += "| `\(c.name)` | \(c.libc) | \(megabytes(c.sizeBytes)) | \(needs(c)) | \(status(c)) |\n"
        }
        let paths = artifactPaths(plan)
        out += "\n## Artifacts × candidates\n\n| artifact | " + plan.candidates.map { "`\($0.name)`" }.joined(separator: " | ") + " |\n"
        out += "|---|" + plan.candidates.map { _ in "---|" }.joined() + "\n"
        for p in paths {
            out += "| `\(p)` | " + plan.candidates.map { c in cell(c.artifacts.first { $0.path == p }?.outcome) }.joined(separator: " | ") + " |\n"
        }
        if !plan.wheels.isEmpty {
            out += "\n## Wheels\n\n" + plan.wheels.map { "- `\($0.project) \($0.version)`: \($0.note)" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    public static func html(_ plan: PlanReport) -> String {
        func esc(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var out = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>muslcheck plan</title>\n"
        out += "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}.runs{background:#e6f4e6}.fails{background:#f8e0e0}.with{background:#fff4d6}</style></head><body>\n"
        out += "<h1>muslcheck plan</h1>\n"
        out += plan.recommended.map { "<p><strong>Recommended: \(esc($0))</strong> — \(esc(plan.reason))</p>\n" }
            ?? "<p><strong>No candidate runs every artifact.</strong> \(esc(plan.reason))</p>\n"
        out += "<table><tr><th>candidate</th><th>libc</th><th>size (estimate)</th><th>needs</th><th>result</th></tr>\n"
        for c in plan.candidates {
            out += "<tr><td>\(esc(c.name))</td><td>\(esc(c.libc))</td><td>\(megabytes(c.sizeBytes))</td><td>\(esc(needs(c)))</td><td>\(esc(status(c)))</td></tr>\n"
        }
        out += "</table>\n<h2>Artifacts × candidates</h2>\n<table><tr><th>artifact</th>" + plan.candidates.map { "<th>\(esc($0.name))</th>" }.joined() + "</tr>\n"
        for p in artifactPaths(plan) {
            out += "<tr><td>\(esc(p))</td>"
            for c in plan.candidates {
                let a = c.artifacts.first { $0.path == p }
                let cls = a?.outcome == .runs ? "runs" : (a?.outcome == .fails ? "fails" : "with")
                let title = a.map { ($0.message ?? "") + ($0.findings.isEmpty ? "" : " [" + $0.findings.joined(separator: ", ") + "]") } ?? ""
                out += "<td class=\"\(cls)\" title=\"\(esc(title))\">\(cell(a?.outcome))</td>"
            }
            out += "</tr>\n"
        }
        out += "</table>\n</body></html>\n"
        return out
    }

    /// The tag a bundled candidate's image is published under (pinned, never latest).
    /// A shell word: single-quoted unless plain.
    static func shellWord(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:=@".contains($0) } ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// A JSON string (exec-form instructions, ENV values).
    static func jsonString(_ s: String) -> String {
        let data = (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
    }

    /// plan --from-image: the original image is the first stage; only the application's files
    /// (and the Debian packages' files the base lacks, and a runtime that no package gives) are
    /// copied onto the base, which keeps the image's command, environment, folder, ports and user.
    static func dockerfile(_ plan: PlanReport, candidate c: PlanReport.Candidate, from: PlanReport.FromImage) -> String {
        var out = "# Written by muslcheck plan --from-image \(from.image). Base: \(c.name) — \(plan.reason)\n"
        if plan.recommended == nil {
            out += "# WARNING: no candidate runs every artifact; on this one \(c.failing) still fail: \(c.artifacts.first { $0.outcome == .fails }?.message ?? c.remaining.first ?? "see muslcheck plan")\n"
        }
        out += "\n# The base, tag pinned (never latest); --build-arg BASE=... points at a mirror or a local copy.\n"
        out += "ARG BASE=\(baseTag(c.name))\n"
        out += "\n# The original image: the application's files are taken from it, nothing else of it is kept.\n"
        out += "FROM \(from.image) AS app\n"
        out += "USER root\n"
        var sources = from.appRoots
        if from.runtime?.package == nil && from.runtimeFiles > 0, let r = from.runtime {
            out += "# \(r.note): copied with the application.\n"
            sources.append(r.kind == "python" ? "/usr/local/bin" : "/usr/local/bin/node")
            sources.append(r.kind == "python" ? "/usr/local/lib" : "/usr/local/lib/node_modules")
        }
        let copies = c.copies ?? []
        out += "# Gathered under /muslcheck-out at their paths: \(sources.joined(separator: ", "))"
        if !copies.isEmpty {
            out += ",\n# and the files of the Debian packages the base lacks (from this image's dpkg database, the same versions):\n#   \(copies.joined(separator: " "))\n"
        } else {
            out += ".\n"
        }
        var script = "set -e; " + (copies.isEmpty ? "" : Self.requireFileLists(copies))
        script += "mkdir -p /muslcheck-out; { printf '%s\\n' \(sources.map(shellWord).joined(separator: " "))"
        if !copies.isEmpty { script += "; " + Self.listPackageFiles(copies) }
        script += "; } | tar -C / -cf - -T - 2>/dev/null | tar -C /muslcheck-out -xf -"
        out += "RUN \(script)\n"
        out += "\n# The chosen base.\n"
        out += "FROM ${BASE}\n"
        var packages = c.packages
        if c.gcompat && c.libc == "musl" && !packages.contains("gcompat") { packages.append("gcompat") }
        if !packages.isEmpty {
            if c.packageManager == "apt" {
                out += "# Packages the base lacks (muslcheck resolved them from the missing sonames).\n"
                out += "RUN apt-get update && apt-get install -y --no-install-recommends \(packages.joined(separator: " ")) && rm -rf /var/lib/apt/lists/*\n"
            } else {
                out += "# Packages the base lacks\(c.gcompat ? ", gcompat for the glibc builds" : "")\(c.runtime.map { "; the runtime: " + $0 } ?? "").\n"
                out += "RUN apk add --no-cache \(packages.joined(separator: " "))\n"
            }
        }
        out += "# The application\(copies.isEmpty ? "" : " and the copied packages' files"), at their paths in \(from.image).\n"
        out += "COPY --from=app /muslcheck-out/ /\n"
        out += "# As \(from.image) runs: its environment, folder, ports and command.\n"
        for e in from.config.env {
            guard let eq = e.firstIndex(of: "=") else { continue }
            out += "ENV \(e[..<eq])=\(jsonString(String(e[e.index(after: eq)...])))\n"
        }
        if let w = from.config.workingDir { out += "WORKDIR \(w)\n" }
        for p in from.config.exposedPorts { out += "EXPOSE \(p)\n" }
        let user = from.config.user ?? ""
        if user.isEmpty || user == "root" || user == "0" || user.hasPrefix("0:") {
            out += "# \(from.image) runs as root; this image runs as a user without privileges.\n"
            out += "USER 65532:65532\n"
        } else {
            out += "# \(from.image)'s user, by number (the base need not know its name).\n"
            out += "USER \(from.numericUser ?? user)\n"
        }
        if let e = from.config.entrypoint, !e.isEmpty { out += "ENTRYPOINT [\(e.map(jsonString).joined(separator: ", "))]\n" }
        if let cmd = from.config.cmd, !cmd.isEmpty { out += "CMD [\(cmd.map(jsonString).joined(separator: ", "))]\n" }
        return out
    }

    /// Shell: stop when a package has no dpkg file list (rather than copying nothing of it).
    static func requireFileLists(_ packages: [String]) -> String {
        "for p in \(packages.joined(separator: " ")); do [ -f /var/lib/dpkg/info/$p.list ] || [ -f /var/lib/dpkg/info/$p:amd64.list ] "
            + "|| { echo \"no file list of $p in /var/lib/dpkg/info\" >&2; exit 1; }; done; "
    }

    /// Shell: the packages' files and links to files, one a line, their folders resolved (a
    /// folder, or a link to one such as /lib on a merged /usr, stays the base's); no docs.
    static func listPackageFiles(_ packages: [String]) -> String {
        "for p in \(packages.joined(separator: " ")); do l=/var/lib/dpkg/info/$p.list; [ -f \"$l\" ] || l=/var/lib/dpkg/info/$p:amd64.list; "
            + "grep -v -e '^/usr/share/doc' -e '^/usr/share/man' -e '^/usr/share/lintian' \"$l\" | while read -r f; do "
            + "if [ ! -d \"$f\" ] && { [ -L \"$f\" ] || [ -f \"$f\" ]; }; then d=$(readlink -f \"$(dirname \"$f\")\"); echo \"${d%/}/$(basename \"$f\")\"; fi; done; done"
    }

    public static func baseTag(_ name: String) -> String {
        let base = name.hasSuffix("+gcompat") ? String(name.dropLast(8)) : name
        if base.hasPrefix("distroless/") { return "gcr.io/" + base + ":nonroot" }
        return base
    }

    /// A multi-stage Dockerfile for the recommendation (or, when none runs everything, the
    /// closest candidate, saying what still fails).
    public static func dockerfile(_ plan: PlanReport) -> String {
        guard let name = plan.recommended ?? plan.closest, let c = plan.candidates.first(where: { $0.name == name }) else {
            return "# muslcheck plan: no candidate to build on\n"
        }
        if let from = plan.fromImage { return dockerfile(plan, candidate: c, from: from) }
        var out = "# Written by muslcheck plan. Base: \(c.name) — \(plan.reason)\n"
        if plan.recommended == nil {
            out += "# WARNING: no candidate runs every artifact; on this one \(c.failing) still fail: \(c.remaining.first ?? "see muslcheck plan")\n"
        }
        out += "\n# The base: the smallest candidate on which every artifact loads, tag pinned (never latest).\n"
        out += "# BASE can point at a mirror or a local copy of the same image (--build-arg BASE=...).\n"
        out += "ARG BASE=\(baseTag(c.name))\n"
        let copies = c.copiedFrom == "build-stage" ? c.copies ?? [] : []
        if !copies.isEmpty { out += "ARG DEBIAN=debian:12-slim\n" }
        out += "\n# The artifacts, as they are in the build context (replace with your own build stage).\n"
        out += "FROM scratch AS artifacts\n"
        for p in plan.inputs.paths {
            let clean = p.hasPrefix("/") ? String(p.dropFirst()) : p
            out += "COPY \(clean) /app/\(clean)\n"
        }
        if !copies.isEmpty {
            out += "\n# Debian 12 packages the artifacts need and the base lacks; the base has no apt, so they are\n"
            out += "# installed in a Debian 12 stage (apt-get only for those it lacks) and their files copied.\n"
            out += "# DEBIAN can point at a mirror or a local Debian 12 image (--build-arg DEBIAN=...).\n"
            out += "FROM ${DEBIAN} AS packages\n"
            out += "USER root\n"
            var script = "set -e; missing=; for p in \(copies.joined(separator: " ")); do dpkg -s \"$p\" >/dev/null 2>&1 || missing=\"$missing $p\"; done; "
            script += "if [ -n \"$missing\" ]; then apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; fi; "
            script += Self.requireFileLists(copies)
            script += "mkdir -p /muslcheck-out; " + Self.listPackageFiles(copies) + " | tar -C / -cf - -T - | tar -C /muslcheck-out -xf -"
            out += "RUN \(script)\n"
        }
        out += "\n# The chosen base.\n"
        out += "FROM ${BASE}\n"
        if !copies.isEmpty {
            out += "# The Debian packages' files, at their paths.\n"
            out += "COPY --from=packages /muslcheck-out/ /\n"
        }
        var packages = c.packages
        if c.gcompat && c.libc == "musl" && !packages.contains("gcompat") { packages.append("gcompat") }
        if !packages.isEmpty {
            if c.packageManager == "apt" {
                out += "# Libraries the artifacts need that the base lacks (muslcheck resolved them from the missing sonames).\n"
                out += "RUN apt-get update && apt-get install -y --no-install-recommends \(packages.joined(separator: " ")) && rm -rf /var/lib/apt/lists/*\n"
            } else {
                out += "# Libraries the artifacts need that the base lacks\(c.gcompat ? ", and gcompat for the glibc builds" : "").\n"
                out += "RUN apk add --no-cache \(packages.joined(separator: " "))\n"
            }
        }
        out += "# The artifacts themselves.\n"
        out += "COPY --from=artifacts /app /app\n"
        out += "# Run as a user without privileges.\n"
        if c.name.hasPrefix("distroless/") {
            out += "USER 65532:65532\n"
        } else if c.libc == "musl" {
            out += "RUN adduser -D -H -u 10001 app\nUSER 10001:10001\n"
        } else {
            out += "RUN useradd --system --no-create-home --uid 10001 app\nUSER 10001:10001\n"
        }
        out += "WORKDIR /app\n"
        return out
    }
}
