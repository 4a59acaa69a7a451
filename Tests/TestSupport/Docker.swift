import Foundation

/// The local docker daemon and the musl test image that ci/setup builds.
public enum DockerTest {
    /// The image ci/setup builds from Debian's musl and busybox.
    public static let baseImage = ProcessInfo.processInfo.environment["MUSLCHECK_TEST_IMAGE"] ?? "muslcheck-test/musl:latest"
    /// Label on every container and image the tests create.
    public static let label = "org.muslcheck.test=1"

    /// Why container tests cannot run, or nil when they can. MUSLCHECK_SKIP_DOCKER=1 skips them on
    /// purpose; otherwise a missing daemon or image is a failure with the fix in the message.
    public static let unavailableReason: String? = {
        if ProcessInfo.processInfo.environment["MUSLCHECK_SKIP_DOCKER"] == "1" { return "MUSLCHECK_SKIP_DOCKER=1" }
        guard let info = try? TestCommand.run("docker", ["info", "--format", "{{.ServerVersion}}"]), info.status == 0 else {
            return "no docker daemon answers: run ci/setup (it starts dockerd), or set MUSLCHECK_SKIP_DOCKER=1"
        }
        guard let img = try? TestCommand.run("docker", ["image", "inspect", baseImage]), img.status == 0 else {
            return "the test image \(baseImage) is missing: run ci/setup (it builds it)"
        }
        return nil
    }()

    /// True when the container tests should be skipped on purpose (MUSLCHECK_SKIP_DOCKER=1).
    public static var skipped: Bool { ProcessInfo.processInfo.environment["MUSLCHECK_SKIP_DOCKER"] == "1" }

    @discardableResult
    public static func docker(_ arguments: [String]) throws -> CommandResult {
        try TestCommand.run("docker", arguments)
    }

    /// An image made from the base image plus files copied in (host path → path in the image).
    /// Made with create/cp/commit: no registry and no build context needed.
    public static func derivedImage(tag: String, from base: String = baseImage, add: [(String, String)]) throws -> String {
        let created = try docker(["create", "--label", label, base, "/bin/true"])
        guard created.status == 0 else { throw TestSupportError("docker create failed: \(created.stderr)") }
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? docker(["rm", "-f", id]) }
        for (host, path) in add {
            let cp = try docker(["cp", "-L", host, "\(id):\(path)"])
            guard cp.status == 0 else { throw TestSupportError("docker cp \(host) failed: \(cp.stderr)") }
        }
        let commit = try docker(["commit", "--change", "LABEL org.muslcheck.test=1", id, tag])
        guard commit.status == 0 else { throw TestSupportError("docker commit failed: \(commit.stderr)") }
        return tag
    }

    /// What musl's loader printed for one file in `--list` mode.
    public struct ListResult: Sendable {
        public var missingLibraries: Set<String> = []
        /// (object basename, symbol)
        public var missingSymbols: Set<String> = []
        public var unsupportedRelocations: Set<String> = []
        public var tlsErrors: Set<String> = []
        public var otherLines: [String] = []
        public var loaded: [String] = []
        public var status: Int = -1
    }

    /// Runs `/lib/ld-musl-x86_64.so.1 [--preload P] --list FILE` for each file, in one container
    /// with `mounts` (host → container, read-only), and parses what the loader printed.
    public static func realLoaderList(image: String, mounts: [(String, String)], files: [String], preload: String? = nil) throws -> [String: ListResult] {
        var script = ""
        for f in files {
            let pre = preload.map { "--preload \($0) " } ?? ""
            script += "echo '@@@ \(f)'; /lib/ld-musl-x86_64.so.1 \(pre)--list '\(f)' 2>&1; echo \"@@@ status $?\"\n"
        }
        var args = ["run", "--rm", "--label", label, "--network", "none"]
        for (host, path) in mounts { args += ["-v", "\(host):\(path):ro"] }
        args += [image, "/bin/sh", "-c", script]
        let result = try docker(args)
        guard result.status == 0 else { throw TestSupportError("docker run failed: \(result.stderr)") }
        var out: [String: ListResult] = [:]
        var current: String? = nil
        var r = ListResult()
        func base(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
        for line in result.stdout.split(separator: "\n").map(String.init) {
            if line.hasPrefix("@@@ status ") {
                r.status = Int(line.dropFirst(11)) ?? -1
                if let c = current { out[c] = r }
                current = nil
                continue
            }
            if line.hasPrefix("@@@ ") { current = String(line.dropFirst(4)); r = ListResult(); continue }
            if line.hasPrefix("Error loading shared library ") {
                let rest = line.dropFirst("Error loading shared library ".count)
                if let colon = rest.firstIndex(of: ":") { r.missingLibraries.insert(String(rest[..<colon])) }
            } else if line.hasPrefix("Error relocating "), line.hasSuffix(": symbol not found") {
                let body = line.dropFirst("Error relocating ".count).dropLast(": symbol not found".count)
                if let sep = body.range(of: ": ", options: .backwards) {
                    r.missingSymbols.insert(base(String(body[..<sep.lowerBound])) + " " + String(body[sep.upperBound...]))
                }
            } else if line.hasPrefix("Error relocating "), let t = line.range(of: ": unsupported relocation type ") {
                let object = line[line.index(line.startIndex, offsetBy: "Error relocating ".count)..<t.lowerBound]
                r.unsupportedRelocations.insert(base(String(object)) + " " + String(line[t.upperBound...]))
            } else if line.contains("initial-exec TLS") {
                r.tlsErrors.insert(line)
            } else if line.hasPrefix("\t") {
                r.loaded.append(line.trimmingCharacters(in: .whitespaces))
            } else {
                r.otherLines.append(line)
            }
        }
        return out
    }

    /// Removes the test's images.
    public static func removeImage(_ tag: String) {
        _ = try? docker(["rmi", "-f", tag])
    }
}
