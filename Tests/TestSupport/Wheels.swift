import Foundation

/// Real third-party wheels from PyPI, downloaded once into .build-test-data/wheels (not committed).
public enum Wheels {
    /// Packages with both manylinux and musllinux x86_64 wheels for CPython 3.11.
    public static let packages = ["numpy==2.1.3", "grpcio==1.66.1", "pillow==11.0.0", "cryptography==43.0.3",
                                  "psycopg2-binary==2.9.10", "orjson==3.10.11"]
    static let platforms = [
        ["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"],
        ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64"],
    ]

    private static let downloaded: Result<[String], TestSupportError> = {
        let dir = TestPaths.packageRoot.appendingPathComponent(".build-test-data/wheels").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var failures: [String] = []
        for spec in packages {
            for platforms in platforms {
                let name = spec.split(separator: "=").first!.replacingOccurrences(of: "-", with: "_").lowercased()
                let tag = platforms[0].hasPrefix("musl") ? "musllinux" : "manylinux"
                let have = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains {
                    $0.lowercased().hasPrefix(name + "-") && $0.contains(tag) && $0.hasSuffix(".whl")
                }
                if have { continue }
                var args = ["download", "-q", "--only-binary=:all:", "--no-deps", "--python-version", "3.11", "-d", dir]
                for p in platforms { args += ["--platform", p] }
                let r = (try? TestCommand.run("pip", args + [spec])) ?? CommandResult(status: 1, stdout: "", stderr: "pip not found")
                if r.status != 0 { failures.append("\(spec) [\(tag)]: \(r.stderr.split(separator: "\n").last ?? "")") }
            }
        }
        let wheels = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".whl") }.sorted()
        if wheels.isEmpty {
            return .failure(TestSupportError("no wheel could be downloaded (PyPI unreachable?): " + failures.prefix(3).joined(separator: "; ")))
        }
        return .success(wheels.map { dir + "/" + $0 })
    }()

    /// The downloaded wheels' paths, or why there are none.
    public static func all() -> Result<[String], TestSupportError> { downloaded }

    private static let unpackLock = NSLock()

    /// Unpacks a wheel (test set-up only: the product never unpacks) into `into/<wheel name>/`.
    /// Serialised, and renamed into place when complete, so concurrent tests never see half a tree.
    public static func unpack(_ wheel: String, into: String) throws -> String {
        unpackLock.lock()
        defer { unpackLock.unlock() }
        let out = into + "/" + (wheel as NSString).lastPathComponent
        if FileManager.default.fileExists(atPath: out) { return out }
        let partial = out + ".partial-\(getpid())"
        try? FileManager.default.removeItem(atPath: partial)
        let r = try TestCommand.run("python3", ["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", wheel, partial])
        if r.status != 0 { throw TestSupportError("unpacking \(wheel): \(r.stderr)") }
        try FileManager.default.moveItem(atPath: partial, toPath: out)
        return out
    }
}
