import Artifacts
import Foundation
import Report
import Testing
import TestSupport

@testable import Pipeline

/// What `plan --from-image` makes of an image's filesystem: the package database, the
/// application's files, the runtime. The filesystems are tar streams, as `docker export` gives.
struct ImageInventoryTests {
    /// A root filesystem from (path, content) pairs and symbolic links, as a tar stream, read as an image's export is.
    static func tree(files: [(String, String)], links: [(String, String)] = []) throws -> MemberTree {
        let dir = try CheckedFixtures.scratch("inventory")
        let root = dir + "/root"
        for (path, content) in files {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try content.write(toFile: full, atomically: true, encoding: .utf8)
        }
        for (path, target) in links {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
        }
        let tar = dir + "/fs.tar"
        let r = try TestCommand.run("tar", ["-C", root, "-cf", tar, "."])
        #expect(r.status == 0, "tar: \(r.stderr)")
        let fd = open(tar, O_RDONLY)
        defer { close(fd) }
        let texts = Set(["var/lib/dpkg/status", "etc/passwd", "lib/apk/db/installed", "etc/debian_version", "etc/alpine-release"])
        return try ArtifactScanner(jobs: 1).scanFilesystemStream(
            FileDescriptorSource(fd: fd, name: "test", owns: false), name: "test", textFiles: texts,
            alsoText: { $0.hasPrefix("var/lib/dpkg/info/") && $0.hasSuffix(".list") }, handler: { _ in })
    }

    static let config = PlanReport.ImageConfig(entrypoint: ["python3", "/srv/app/main.py"], cmd: nil, env: ["NODE_VERSION=20.11.1"],
                                               workingDir: "/srv/app", user: "app", exposedPorts: [])

    @Test func dpkgsDatabaseOwnsTheSystemAndTheRestIsTheApplication() throws {
        let status = """
        Package: zlib1g
        Status: install ok installed
        Architecture: amd64
        Version: 1:1.2.13.dfsg-1
        Installed-Size: 168
        Depends: libc6 (>= 2.14)

        Package: libc6
        Status: install ok installed
        Architecture: amd64
        Version: 2.36-9+deb12u9
        Installed-Size: 12000

        Package: python3.11-minimal
        Status: install ok installed
        Architecture: amd64
        Version: 3.11.2-6+deb12u5
        Installed-Size: 5000
        Pre-Depends: libc6 (>= 2.36)
        Depends: libpython3.11-minimal (= 3.11.2-6+deb12u5), zlib1g | libz-ng

        Package: libpython3.11-minimal
        Status: install ok installed
        Architecture: amd64
        Version: 3.11.2-6+deb12u5
        Installed-Size: 4000

        Package: removed-one
        Status: deinstall ok config-files
        Version: 1

        """
        let tree = try Self.tree(files: [
            ("var/lib/dpkg/status", status),
            ("var/lib/dpkg/info/zlib1g:amd64.list", "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libz.so.1.2.13\n/lib/x86_64-linux-gnu/libz.so.1\n"),
            ("var/lib/dpkg/info/libc6.list", "/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n"),
            ("var/lib/dpkg/info/python3.11-minimal.list", "/.\n/usr/bin/python3.11\n/usr/lib/python3.11/os.py\n"),
            ("var/lib/dpkg/info/libpython3.11-minimal.list", "/.\n/usr/lib/python3.11/abc.py\n"),
            ("etc/debian_version", "12.8\n"),
            ("etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/srv:/usr/sbin/nologin\n"),
            ("usr/lib/x86_64-linux-gnu/libz.so.1.2.13", "z"), ("usr/lib/x86_64-linux-gnu/libc.so.6", "c"),
            ("usr/bin/python3.11", "p"), ("usr/lib/python3.11/os.py", ""), ("usr/lib/python3.11/abc.py", ""),
            ("usr/lib/python3.11/__pycache__/os.cpython-311.pyc", ""),
            ("etc/hostname", "x"), ("var/log/dpkg.log", ""), ("usr/share/doc/zlib1g/copyright", ""),
            ("srv/app/main.py", "print(1)"), ("srv/app/lib/native.cpython-311-x86_64-linux-gnu.so", "elf?"),
            ("usr/local/bin/tool", "mine"),
        ], links: [("lib", "usr/lib"), ("usr/lib/x86_64-linux-gnu/libz.so.1", "libz.so.1.2.13"), ("usr/bin/awk", "/etc/alternatives/awk")])
        let inventory = try ImageInventory(ref: "test", imageID: "sha256:0", sizeBytes: 1, config: Self.config, tree: tree, appPaths: [])
        #expect(inventory.distribution == "debian" && inventory.release == "12.8")
        #expect(Set(inventory.packages.keys) == ["zlib1g", "libc6", "python3.11-minimal", "libpython3.11-minimal"])
        // Owned through /lib → usr/lib; byte-code caches, /etc, /var, docs and alternatives links are nobody's application.
        #expect(inventory.appFiles == ["srv/app/lib/native.cpython-311-x86_64-linux-gnu.so", "srv/app/main.py", "usr/local/bin/tool"])
        #expect(inventory.appRoots == ["srv", "usr/local/bin/tool"])
        #expect(inventory.package(ofSoname: "libz.so.1") == "zlib1g")
        #expect(inventory.runtime?.kind == "python" && inventory.runtime?.version == "3.11" && inventory.runtime?.package == "python3.11-minimal")
        // The first installed alternative of each dependency, the roots included.
        #expect(inventory.closure(["python3.11-minimal"]) == ["libc6", "libpython3.11-minimal", "python3.11-minimal", "zlib1g"])
        #expect(inventory.numericUser == "1000:1001")
        // --app-path adds files even where the system's own go.
        let more = try ImageInventory(ref: "test", imageID: "sha256:0", sizeBytes: 1, config: Self.config, tree: tree, appPaths: ["/etc/hostname"])
        #expect(more.appFiles.contains("etc/hostname"))
    }

    @Test func aRuntimeInUsrLocalIsTheRuntimeNotTheApplication() throws {
        let tree = try Self.tree(files: [
            ("lib/apk/db/installed", "C:Q1\nP:musl\nV:1.2.5-r10\nI:1000\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox\nV:1.37.0-r19\nF:bin\nR:busybox\n"),
            ("etc/alpine-release", "3.22.1\n"),
            ("lib/ld-musl-x86_64.so.1", "l"), ("bin/busybox", "b"),
            ("usr/local/bin/node", "n"), ("usr/local/lib/node_modules/npm/package.json", "{}"), ("usr/local/include/node/node.h", ""),
            ("app/server.js", "x"), ("app/node_modules/sharp/build/Release/sharp.node", "y"),
        ], links: [("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js")])
        let inventory = try ImageInventory(ref: "test", imageID: "sha256:0", sizeBytes: 1, config: Self.config, tree: tree, appPaths: [])
        #expect(inventory.distribution == "alpine" && inventory.release == "3.22.1")
        #expect(inventory.owners["lib/ld-musl-x86_64.so.1"] == "musl" && inventory.packages["musl"]?.version == "1.2.5-r10")
        #expect(inventory.runtime?.kind == "node" && inventory.runtime?.version == "20.11.1" && inventory.runtime?.package == nil)
        #expect(Set(inventory.runtimeFiles) == ["usr/local/bin/node", "usr/local/bin/npm", "usr/local/lib/node_modules/npm/package.json",
                                                "usr/local/include/node/node.h"])
        #expect(inventory.appFiles == ["app/node_modules/sharp/build/Release/sharp.node", "app/server.js"])
    }

    @Test func withoutAPackageDatabaseOnlyTheNamedPathsAreTheApplication() throws {
        let tree = try Self.tree(files: [("var/lib/dpkg/status.d/libc6", "Package: libc6\n"), ("lib/x86_64-linux-gnu/libc.so.6", "c"),
                                         ("opt/app/run", "y"), ("opt/app/lib/x.so", "z")])
        #expect {
            _ = try ImageInventory(ref: "distroless-app", imageID: "sha256:0", sizeBytes: 1, config: Self.config, tree: tree, appPaths: [])
        } throws: { error in
            "\(error)" == "distroless-app: its dpkg records (status.d, as distroless writes them) list no files, so muslcheck cannot tell the application's files from the system's; name them with --app-path PATH"
        }
        let named = try ImageInventory(ref: "distroless-app", imageID: "sha256:0", sizeBytes: 1, config: Self.config, tree: tree, appPaths: ["/opt/app"])
        #expect(named.distribution == "unknown" && named.appFiles == ["opt/app/lib/x.so", "opt/app/run"] && named.appRoots == ["opt/app"])
    }

    @Test func anRPMImageIsSaidToBeUnsupported() throws {
        let tree = try Self.tree(files: [("var/lib/rpm/rpmdb.sqlite", "x"), ("opt/app/run", "y")])
        #expect {
            _ = try ImageInventory(ref: "fedora-app", imageID: "sha256:0", sizeBytes: 1, config: Self.config, tree: tree, appPaths: [])
        } throws: { error in
            "\(error)".contains("fedora-app: an RPM-based image") && "\(error)".contains("not supported yet")
        }
    }
}
