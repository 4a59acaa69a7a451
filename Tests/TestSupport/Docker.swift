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

extension DockerTest {
    /// A small glibc image assembled from this host's own glibc (no registry needed): the
    /// loader, libc, libm, gconv modules, the C.UTF-8 locale, busybox, passwd/group/hosts.
    public static func glibcImage() throws -> String {
        let tag = "muslcheck-test/glibc:latest"
        if (try? docker(["image", "inspect", tag]))?.status == 0 { return tag }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-glibc-root-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let script = """
        set -e
        r=\(root)
        mkdir -p $r/lib64 $r/lib/x86_64-linux-gnu $r/usr/lib/x86_64-linux-gnu $r/usr/lib/locale $r/bin $r/etc $r/tmp $r/usr/share
        cp -L /lib64/ld-linux-x86-64.so.2 $r/lib64/
        for l in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 libresolv.so.2 librt.so.1; do cp -L /lib/x86_64-linux-gnu/$l $r/lib/x86_64-linux-gnu/ 2>/dev/null || true; done
        cp -r /usr/lib/x86_64-linux-gnu/gconv $r/usr/lib/x86_64-linux-gnu/
        cp -r /usr/lib/locale/C.utf8 $r/usr/lib/locale/
        [ -d /usr/share/zoneinfo ] && cp -r /usr/share/zoneinfo $r/usr/share/ || true
        cp /bin/busybox $r/bin/busybox
        for a in sh cat echo id sleep true; do ln -s busybox $r/bin/$a; done
        printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/:/bin/false\\n' > $r/etc/passwd
        printf 'root:x:0:\\nnogroup:x:65534:\\n' > $r/etc/group
        printf '127.0.0.1 localhost\\n' > $r/etc/hosts
        printf 'passwd: files\\ngroup: files\\nhosts: files dns\\n' > $r/etc/nsswitch.conf
        printf 'PRETTY_NAME="muslcheck glibc test image"\\nID=muslcheck-glibc\\n' > $r/etc/os-release
        chmod 1777 $r/tmp
        tar -C $r -cf - . | docker import --change 'CMD ["/bin/sh"]' - \(tag) >/dev/null
        """
        let r = try TestCommand.run("/bin/sh", ["-c", script])
        guard r.status == 0 else { throw TestSupportError("building \(tag) failed: \(r.stderr)") }
        return tag
    }
}
