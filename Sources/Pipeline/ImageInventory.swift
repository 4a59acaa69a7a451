import Artifacts
import Compat
import Engine
import Foundation
import Probes
import Report

/// What an application image holds, for `plan --from-image`: its configuration, its
/// distribution's package database, which files no package owns (the application's), and the
/// language runtime the application runs on.
public struct ImageInventory: Sendable {
    public var ref: String
    public var imageID: String
    public var sizeBytes: Int?
    public var config: PlanReport.ImageConfig
    /// "debian" (dpkg), "alpine" (apk), or "unknown" (no package database).
    public var distribution: String
    /// /etc/debian_version or /etc/alpine-release.
    public var release: String?
    /// Installed packages by name.
    public var packages: [String: Package]
    /// A file's path (no leading slash, symbolic links in its folders resolved) → its package.
    public var owners: [String: String]
    /// The application's files: regular files and symbolic links no package owns, outside the
    /// system's own places, plus every --app-path (no leading slash), sorted.
    public var appFiles: [String]
    /// What to copy: folders that hold only application files, and the other files one by one.
    public var appRoots: [String]
    public var runtime: PlanReport.Runtime?
    /// The files of a runtime that sits outside the package manager (/usr/local/...).
    public var runtimeFiles: [String]
    public var tree: MemberTree

    public struct Package: Sendable {
        public var name: String
        public var version: String
        public var installedKiB: Int
        /// Depends and Pre-Depends: each a list of alternatives.
        public var depends: [[String]]
        /// Its paths as its file list names them (no leading slash).
        public var files: [String]
    }

    /// Places the system writes or generates at run or install time: never the application's,
    /// even when no package owns the file.
    static let systemPlaces = ["etc/", "var/", "tmp/", "run/", "proc/", "sys/", "dev/", "root/", "boot/", "lib/apk/",
                               "usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/", "usr/lib/locale/"]

    /// Reads the image: its export streamed (never unpacked), its configuration and size.
    public static func read(_ ref: String, engine: ContainerEngine, pull: PullPolicy, runID: String,
                            appPaths: [String]) -> Swift.Result<ImageInventory, EngineError> {
        do { try engine.ensureImage(ref, pull: pull) } catch { return .failure(error) }
        let identity = engine.imageIdentity(ref)
        let inspect = engine.run(["image", "inspect", "--format", "{{json .Config}}", ref], timeout: 60)
        guard inspect.status == 0 else {
            return .failure(EngineError(.commandFailed, "\(engine.kind.rawValue) image inspect \(ref): \(inspect.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"))
        }
        let config = PlanReport.ImageConfig(inspectJSON: inspect.stdout)
        let texts = Target.textFiles.union(["var/lib/dpkg/status", "etc/passwd", "etc/group"])
        let tree: MemberTree
        switch ImageExport.stream(ref, engine: engine, runID: runID, scanner: ArtifactScanner(jobs: 1), textFiles: texts,
                                  alsoText: { $0.hasPrefix("var/lib/dpkg/info/") && $0.hasSuffix(".list") }, handler: { _ in }) {
        case .success(let t): tree = t
        case .failure(let e): return .failure(e)
        }
        return Result { () throws(EngineError) in
            try ImageInventory(ref: ref, imageID: identity.id, sizeBytes: engine.imageSize(ref), config: config, tree: tree, appPaths: appPaths)
        }
    }

    /// The inventory of an image's tree (read already), with its configuration.
    public init(ref: String, imageID: String, sizeBytes: Int?, config: PlanReport.ImageConfig, tree: MemberTree,
                appPaths: [String]) throws(EngineError) {
        self.ref = ref
        self.imageID = imageID
        self.sizeBytes = sizeBytes
        self.config = config
        self.tree = tree
        var packages: [String: Package] = [:]
        var owners: [String: String] = [:]
        func canonical(_ path: String) -> String { Self.canonical(path, in: tree) }
        if let status = tree.text("/var/lib/dpkg/status") {
            distribution = "debian"
            release = tree.text("/etc/debian_version")?.trimmingCharacters(in: .whitespacesAndNewlines)
            for stanza in Self.stanzas(status) {
                guard let name = stanza["Package"], stanza["Status"]?.hasSuffix(" installed") ?? false else { continue }
                let arch = stanza["Architecture"] ?? ""
                let list = tree.text("/var/lib/dpkg/info/\(name).list") ?? tree.text("/var/lib/dpkg/info/\(name):\(arch).list") ?? ""
                let files = list.split(separator: "\n").map { String($0.hasPrefix("/") ? $0.dropFirst() : $0) }.filter { !$0.isEmpty && $0 != "." }
                var depends: [[String]] = []
                for field in [stanza["Pre-Depends"], stanza["Depends"]].compactMap({ $0 }) {
                    for alternative in field.split(separator: ",") {
                        var names: [String] = []
                        for option in alternative.split(separator: "|") {
                            let word = option.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                            let name = word.split(separator: ":").first.map(String.init) ?? word
                            if !name.isEmpty { names.append(name) }
                        }
                        depends.append(names)
                    }
                }
                packages[name] = Package(name: name, version: stanza["Version"] ?? "", installedKiB: Int(stanza["Installed-Size"] ?? "") ?? 0,
                                         depends: depends, files: files)
                for f in files { owners[canonical(f)] = name }
            }
        } else if let db = tree.text("/lib/apk/db/installed") {
            distribution = "alpine"
            release = tree.text("/etc/alpine-release")?.trimmingCharacters(in: .whitespacesAndNewlines)
            var name = "", version = "", dir = "", size = 0, files: [String] = [], depends: [[String]] = []
            func flush() {
                if !name.isEmpty { packages[name] = Package(name: name, version: version, installedKiB: size / 1024, depends: depends, files: files) }
                name = ""; version = ""; dir = ""; size = 0; files = []; depends = []
            }
            for line in db.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.isEmpty { flush(); continue }
                let value = String(line.dropFirst(2))
                switch line.prefix(2) {
                case "P:": name = value
                case "V:": version = value
                case "I:": size = Int(value) ?? 0
                case "D:": depends = value.split(separator: " ").map { [String($0)] }
                case "F:": dir = value
                case "R:":
                    let path = dir.isEmpty ? value : dir + "/" + value
                    files.append(path)
                    owners[canonical(path)] = name
                default: break
                }
            }
            flush()
        } else if tree.exists("/var/lib/rpm") || tree.exists("/usr/lib/sysimage/rpm") {
            throw EngineError(.commandFailed, "\(ref): an RPM-based image; plan --from-image reads dpkg's and apk's package databases, RPM's is not supported yet")
        } else {
            distribution = "unknown"
            release = nil
            // Without a package database every file would look like the application's.
            if appPaths.isEmpty {
                let why = tree.exists("/var/lib/dpkg/status.d")
                    ? "its dpkg records (status.d, as distroless writes them) list no files"
                    : "it has no package database (dpkg's or apk's)"
                throw EngineError(.commandFailed, "\(ref): \(why), so muslcheck cannot tell the application's files from the system's; name them with --app-path PATH")
            }
        }
        self.packages = packages
        self.owners = owners

        // The runtime: a language runtime outside the package manager (the official python and
        // node images put it in /usr/local), or the distribution's package that owns it.
        var runtime: PlanReport.Runtime?
        var runtimeFiles: [String] = []
        let all = tree.filePaths + Array(tree.symlinkTargets.keys)
        let local = all.filter { $0.hasPrefix("usr/local/") }
        if let python = all.filter({ $0.range(of: #"^usr/local/bin/python3\.[0-9]+$"#, options: .regularExpression) != nil }).sorted().last {
            let version = String(python.dropFirst("usr/local/bin/python".count))
            runtime = PlanReport.Runtime(kind: "python", version: version, executable: "/" + python, package: nil,
                                         note: "Python \(version) in /usr/local, outside the package manager (as the official python images install it)")
            runtimeFiles = local.filter { p in
                p.hasPrefix("usr/local/lib/python\(version)/") || p.hasPrefix("usr/local/lib/libpython\(version)")
                    || p.hasPrefix("usr/local/include/python\(version)") || p.range(of: #"^usr/local/bin/(python|pip|pydoc|idle|2to3)"#, options: .regularExpression) != nil
            }
        } else if all.contains("usr/local/bin/node") {
            // The official node images say their version in NODE_VERSION.
            let version = config.env.first { $0.hasPrefix("NODE_VERSION=") }.map { String($0.dropFirst("NODE_VERSION=".count)) } ?? "unknown"
            runtime = PlanReport.Runtime(kind: "node", version: version, executable: "/usr/local/bin/node", package: nil,
                                         note: "Node.js in /usr/local, outside the package manager (as the official node images install it)")
            runtimeFiles = local.filter { p in
                p == "usr/local/bin/node" || p.hasPrefix("usr/local/lib/node_modules/") || p.hasPrefix("usr/local/include/node/")
                    || ["usr/local/bin/npm", "usr/local/bin/npx", "usr/local/bin/corepack"].contains(p)
            }
        }
        let runtimeSet = Set(runtimeFiles)

        let extra = appPaths.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        func isExtra(_ p: String) -> Bool { extra.contains { p == $0 || p.hasPrefix($0 + "/") } }
        var app: [String] = []
        for p in all where !runtimeSet.contains(p) {
            if isExtra(p) { app.append(p); continue }
            if distribution == "unknown" { continue }
            if owners[canonical(p)] != nil || owners[p] != nil { continue }
            if Self.systemPlaces.contains(where: { p.hasPrefix($0) }) || p == ".dockerenv" { continue }
            // The links update-alternatives makes (/usr/bin/awk → /etc/alternatives/awk).
            if let target = tree.symlinkTargets[p], target.hasPrefix("/etc/alternatives/") { continue }
            // Python's byte-code caches that packages' scripts write beside their files.
            if p.contains("/__pycache__/") && (p.hasPrefix("usr/lib/") || p.hasPrefix("usr/share/")) { continue }
            if p.hasPrefix("usr/lib/") && p.hasSuffix("/gconv-modules.cache") { continue }
            app.append(p)
        }
        appFiles = app.sorted()
        // A top-level folder with only application files is copied whole; other files one by one.
        var roots: [String] = []
        var byTop: [String: [String]] = [:]
        for p in appFiles { byTop[p.split(separator: "/").first.map(String.init) ?? p, default: []].append(p) }
        for (top, files) in byTop.sorted(by: { $0.key < $1.key }) {
            let ownedBelow = owners.keys.contains { $0.hasPrefix(top + "/") } || runtimeFiles.contains { $0.hasPrefix(top + "/") }
            if files == [top] || !ownedBelow { roots.append(top) } else { roots += files }
        }
        // Without a package database only the named paths are known to be the application's.
        let found = app
        appRoots = distribution == "unknown" ? extra.filter { p in found.contains { $0 == p || $0.hasPrefix(p + "/") } }.sorted() : roots

        // A runtime from the distribution: the application has Python modules or node addons,
        // or its command names the interpreter.
        if runtime == nil {
            let command = (config.entrypoint ?? []) + (config.cmd ?? [])
            let wantsPython = appFiles.contains { $0.range(of: #"\.cpython-3[0-9]+-[^/]*\.so$|\.abi3\.so$|\.py$"#, options: .regularExpression) != nil }
                || command.contains { $0.contains("python") }
            let wantsNode = appFiles.contains { $0.hasSuffix(".node") || $0.hasSuffix(".js") } || command.contains { $0.contains("node") }
            if wantsPython, let exe = all.filter({ $0.range(of: #"^usr/bin/python3\.[0-9]+$"#, options: .regularExpression) != nil }).sorted().last {
                let version = String(exe.dropFirst("usr/bin/python".count))
                let owner = owners[canonical(exe)]
                runtime = PlanReport.Runtime(kind: "python", version: version, executable: "/" + exe, package: owner,
                                             note: "Python \(version) from the \(distribution == "alpine" ? "Alpine" : "Debian") package \(owner ?? "?")")
            } else if wantsNode, all.contains("usr/bin/node") {
                let owner = owners[canonical("usr/bin/node")]
                runtime = PlanReport.Runtime(kind: "node", version: owner.flatMap { packages[$0]?.version } ?? "unknown", executable: "/usr/bin/node",
                                             package: owner, note: "Node.js from the package \(owner ?? "?")")
            }
        }
        self.runtime = runtime
        self.runtimeFiles = runtimeFiles.sorted()
    }

    /// The stanzas of a Debian control file (dpkg's status): field → value (continuation lines joined).
    static func stanzas(_ text: String) -> [[String: String]] {
        var out: [[String: String]] = []
        var current: [String: String] = [:]
        var last: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                if !current.isEmpty { out.append(current) }
                current = [:]
                last = nil
                continue
            }
            if line.first == " " || line.first == "\t" {
                if let last { current[last, default: ""] += "\n" + line.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            current[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            last = key
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// The packages `roots` depend on, with theirs, that are installed (the first installed
    /// alternative of each), `roots` included.
    public func closure(_ roots: [String]) -> [String] {
        var seen = Set<String>()
        var queue = roots.filter { packages[$0] != nil }
        while let p = queue.popLast() {
            guard seen.insert(p).inserted, let spec = packages[p] else { continue }
            for alternatives in spec.depends {
                if let first = alternatives.first(where: { packages[$0] != nil }) { queue.append(first) }
            }
        }
        return seen.sorted()
    }

    /// A path (no leading slash) with its folders resolved through the image's symbolic links
    /// (/lib → usr/lib on a merged /usr), as owners are keyed.
    static func canonical(_ path: String, in tree: MemberTree) -> String {
        let p = path.hasPrefix("/") ? String(path.dropFirst()) : path
        guard let slash = p.lastIndex(of: "/") else { return p }
        let dir = tree.resolve(String(p[..<slash])) ?? String(p[..<slash])
        return (dir.isEmpty ? "" : dir + "/") + p[p.index(after: slash)...]
    }

    /// The package that owns a path, its folders' links resolved.
    func package(ofPath path: String) -> String? { owners[Self.canonical(path, in: tree)] }

    /// The package that holds a library of this soname in the image's library folders.
    public func package(ofSoname soname: String) -> String? {
        for dir in ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", "lib", "usr/lib", "lib64", "usr/lib64"] {
            let path = dir + "/" + soname
            guard tree.exists("/" + path) else { continue }
            let real = tree.resolve(path) ?? path
            if let owner = owners[real] ?? owners[path] { return owner }
            // A link the package ships under another name (libz.so.1 → libz.so.1.2.13).
            let dirReal = tree.resolve(dir) ?? dir
            if let owner = owners[dirReal + "/" + soname] { return owner }
        }
        return nil
    }
}

extension PlanReport.ImageConfig {
    /// From `image inspect --format '{{json .Config}}'`.
    init(inspectJSON: String) {
        struct Raw: Decodable {
            var Entrypoint: [String]?
            var Cmd: [String]?
            var Env: [String]?
            var WorkingDir: String?
            var User: String?
            var ExposedPorts: [String: [String: String]]?
        }
        let raw = (try? JSONDecoder().decode(Raw.self, from: Data(inspectJSON.utf8)))
        self.init(entrypoint: raw?.Entrypoint, cmd: raw?.Cmd, env: raw?.Env ?? [], workingDir: raw?.WorkingDir.flatMap { $0.isEmpty ? nil : $0 },
                  user: raw?.User.flatMap { $0.isEmpty ? nil : $0 }, exposedPorts: (raw?.ExposedPorts?.keys).map { Array($0).sorted() } ?? [])
    }
}
