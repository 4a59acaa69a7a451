import Engine
import Foundation

/// A C compiler that builds probes.
public struct Toolchain: Sendable, Hashable, Codable {
    public enum Flavor: String, Sendable, Codable { case musl, glibc }
    public var flavor: Flavor
    /// Absolute path of the compiler.
    public var compiler: String
    /// First line of `--version` (part of the build cache key).
    public var version: String

    static func probe(_ path: String, flavor: Flavor) -> Toolchain? {
        guard let exe = Command.which(path) else { return nil }
        let r = Command.run(exe, ["--version"], timeout: 30)
        guard r.status == 0 else { return nil }
        return Toolchain(flavor: flavor, compiler: exe, version: String(r.stdout.split(separator: "\n").first ?? ""))
    }

    /// A musl C compiler: `override`, $MUSLCHECK_MUSL_CC, musl-gcc, x86_64-linux-musl-gcc.
    public static func musl(override: String? = nil) -> Toolchain? {
        var candidates: [String] = []
        if let override { candidates.append(override) }
        if let env = ProcessInfo.processInfo.environment["MUSLCHECK_MUSL_CC"] { candidates.append(env) }
        candidates += ["musl-gcc", "x86_64-linux-musl-gcc", "x86_64-alpine-linux-musl-gcc"]
        for c in candidates { if let t = probe(c, flavor: .musl) { return t } }
        return nil
    }

    /// The host's C compiler (glibc): $CC, cc, gcc.
    public static func host() -> Toolchain? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["CC"] { candidates.append(env) }
        candidates += ["cc", "gcc", "clang"]
        for c in candidates { if let t = probe(c, flavor: .glibc) { return t } }
        return nil
    }
}

/// Probes built by one toolchain, in a cache folder named by the hash of everything that goes in.
public struct BuiltProbes: Sendable {
    public var toolchain: Toolchain
    /// The folder mounted into containers: <id>/<id> (+ libraries) and driver.
    public var directory: URL
    /// Probes that built.
    public var available: Set<String>
    /// Probes that did not build, with the compiler's message.
    public var failures: [String: String]
    /// Reused from the cache rather than built.
    public var cached: Bool

    public func executable(_ id: String) -> URL { directory.appendingPathComponent(id).appendingPathComponent(id) }
    public var driver: URL { directory.appendingPathComponent("driver") }
}

public enum ProbeBuilder {
    /// Where built probes are cached: $XDG_CACHE_HOME/muslcheck or ~/.cache/muslcheck.
    public static func defaultCacheRoot() -> URL {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: env["HOME"] ?? NSTemporaryDirectory()).appendingPathComponent(".cache")
        return base.appendingPathComponent("muslcheck")
    }

    /// FNV-1a over every file of the catalog and the toolchains: a change anywhere rebuilds.
    static func cacheKey(catalog: ProbeCatalog, toolchains: [Toolchain]) throws -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 } }
        mix("muslcheck-probes-v1".utf8)
        for t in toolchains { mix("\(t.flavor.rawValue)|\(t.compiler)|\(t.version)\n".utf8) }
        let root = catalog.root.resolvingSymlinksInPath().path
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw ProbeError("cannot read \(root)") }
        var files: [String] = []
        while let rel = walker.nextObject() as? String { files.append(rel) }
        for rel in files.sorted() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue else { continue }
            mix(rel.utf8)
            mix(try Data(contentsOf: URL(fileURLWithPath: root + "/" + rel)))
        }
        return String(h, radix: 16)
    }

    /// The build in `dir`, when it is whole: its record, the driver and every probe the record
    /// says built (a build cut short by an interrupt may have lost files to the cleanup).
    static func cached(_ dir: URL, catalog: ProbeCatalog, toolchain: Toolchain) -> BuiltProbes? {
        let files = FileManager.default
        guard let data = files.contents(atPath: dir.appendingPathComponent(".complete").path),
              let record = try? JSONDecoder().decode([String: String].self, from: data),
              files.isExecutableFile(atPath: dir.appendingPathComponent("driver").path),
              record.allSatisfy({ id, r in id == "driver" || r != "ok" || files.isExecutableFile(atPath: dir.appendingPathComponent(id).appendingPathComponent(id).path) })
        else { return nil }
        let available = Set(catalog.probes.map(\.id).filter { record[$0] == "ok" })
        var failures: [String: String] = [:]
        for (id, r) in record where r != "ok" && id != "driver" { failures[id] = r }
        return BuiltProbes(toolchain: toolchain, directory: dir, available: available, failures: failures, cached: true)
    }

    /// Builds (or reuses) the catalog with `toolchain`; "host" libraries use `host`. The driver is
    /// built static with `driverToolchain` so that it runs in any image.
    public static func build(catalog: ProbeCatalog, toolchain: Toolchain, host: Toolchain?, driverToolchain: Toolchain,
                             cacheRoot: URL = defaultCacheRoot()) throws -> BuiltProbes {
        let key = try cacheKey(catalog: catalog, toolchains: [toolchain, driverToolchain] + (host.map { [$0] } ?? []))
        let dir = cacheRoot.appendingPathComponent("probes-\(toolchain.flavor.rawValue)-\(key)")
        if let whole = cached(dir, catalog: catalog, toolchain: toolchain) { return whole }
        try FileManager.default.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        // A build that was killed part-way left its folder: removed when its process is gone.
        CleanupRegistry.removeStaleTemporaries(prefix: "staging-", in: cacheRoot.path)
        let staging: URL
        do { staging = try CleanupRegistry.shared.makeTemporaryDirectory(prefix: "staging-", in: cacheRoot.path) } catch {
            throw ProbeError("\(error)")
        }
        defer { CleanupRegistry.shared.remove(temporary: staging.path) }
        // The compilers' own temporary files go inside the staging folder, removed with it.
        let compilerTemp = staging.appendingPathComponent(".tmp")
        try FileManager.default.createDirectory(at: compilerTemp, withIntermediateDirectories: false)
        let env = ProcessInfo.processInfo.environment.merging(["TMPDIR": compilerTemp.path]) { $1 }
        let src = catalog.root
        var record: [String: String] = [:]

        // The driver: static, so it needs no libc in the image.
        let driver = Command.run(driverToolchain.compiler, ["-static", "-O2", "-Wall", "-o", staging.appendingPathComponent("driver").path,
                                                           src.appendingPathComponent("driver/driver.c").path], environment: env, timeout: 120)
        guard driver.status == 0 else {
            throw ProbeError("building the probe driver with \(driverToolchain.compiler) failed: \(driver.stderr.prefix(2000))")
        }
        record["driver"] = "ok"

        for probe in catalog.probes {
            let out = staging.appendingPathComponent(probe.id)
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let folder = src.appendingPathComponent(probe.id)
            var failure: String? = nil
            for lib in probe.build.libraries where failure == nil {
                let cc = lib.toolchain == "host" ? host : toolchain
                guard let cc else { failure = "needs the host C compiler (gcc) for \(lib.output)"; break }
                let r = Command.run(cc.compiler, ["-O1", "-Wall"] + lib.cflags + lib.sources.map { folder.appendingPathComponent($0).path }
                                        + ["-o", out.appendingPathComponent(lib.output).path] + (lib.ldflags ?? []), environment: env, timeout: 120)
                if r.status != 0 { failure = "\(lib.output): \(r.stderr.prefix(1500))" }
            }
            if failure == nil {
                let r = Command.run(toolchain.compiler, ["-O1", "-Wall", "-I", src.appendingPathComponent("common").path] + probe.build.cflags
                                        + probe.build.sources.map { folder.appendingPathComponent($0).path }
                                        + ["-o", out.appendingPathComponent(probe.id).path] + probe.build.ldflags, environment: env, timeout: 120)
                if r.status != 0 { failure = r.stderr.prefix(1500).description }
            }
            record[probe.id] = failure ?? "ok"
        }
        try? FileManager.default.removeItem(at: compilerTemp)
        // An interrupt's cleanup is removing the staging folder: nothing of it goes to the cache.
        if CleanupRegistry.shared.interruptedStatus != nil { throw ProbeError("the build was interrupted") }
        try JSONEncoder().encode(record).write(to: staging.appendingPathComponent(".complete"))
        // Another muslcheck may have finished the same build meanwhile: either copy is complete.
        if let whole = cached(dir, catalog: catalog, toolchain: toolchain) { return whole }
        try? FileManager.default.removeItem(at: dir)
        unlink(staging.path + "/" + CleanupRegistry.lockName)
        try FileManager.default.moveItem(at: staging, to: dir)
        CleanupRegistry.shared.forget(temporary: staging.path)
        CleanupRegistry.shared.releaseLock(staging.path)
        let available = Set(catalog.probes.map(\.id).filter { record[$0] == "ok" })
        var failures: [String: String] = [:]
        for (id, r) in record where r != "ok" && id != "driver" { failures[id] = r }
        return BuiltProbes(toolchain: toolchain, directory: dir, available: available, failures: failures, cached: false)
    }
}

/// Probes built ahead, shipped beside the binary (a release archive's `probes/musl` and
/// `probes/glibc`) for machines without a C compiler.
public enum ShippedProbes {
    /// The record beside the probes: who built them and for which catalog.
    struct Record: Codable {
        var toolchain: Toolchain
        /// The catalog's hash (ProbeBuilder.cacheKey with no toolchain): probes of another
        /// catalog are not used.
        var catalog: String
    }
    static let recordName = "toolchain.json"

    /// The folder beside the running binary (its real path, through links): BINDIR/probes.
    public static func defaultRoot() -> URL? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("probes")
    }

    /// Copies `built` into `root/<flavor>` with its record (replacing what is there).
    public static func write(_ built: BuiltProbes, catalog: ProbeCatalog, into root: URL) throws {
        let dir = root.appendingPathComponent(built.toolchain.flavor.rawValue)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.copyItem(at: built.directory, to: dir)
        for junk in [CleanupRegistry.lockName, ".tmp"] { try? FileManager.default.removeItem(at: dir.appendingPathComponent(junk)) }
        let record = Record(toolchain: built.toolchain, catalog: try ProbeBuilder.cacheKey(catalog: catalog, toolchains: []))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: dir.appendingPathComponent(recordName))
    }

    /// The probes of `flavor` under `root`, when whole and built for this catalog.
    public static func find(_ flavor: Toolchain.Flavor, catalog: ProbeCatalog, root: URL? = defaultRoot()) -> BuiltProbes? {
        guard let root else { return nil }
        let dir = root.appendingPathComponent(flavor.rawValue)
        guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(recordName).path),
              let record = try? JSONDecoder().decode(Record.self, from: data), record.toolchain.flavor == flavor,
              let key = try? ProbeBuilder.cacheKey(catalog: catalog, toolchains: []), key == record.catalog
        else { return nil }
        return ProbeBuilder.cached(dir, catalog: catalog, toolchain: record.toolchain)
    }
}
