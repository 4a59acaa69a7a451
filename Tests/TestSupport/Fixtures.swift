import Foundation

/// The test binaries of fixtures/, built once per test process by fixtures/build.sh.
public enum Fixtures {
    private static let built: Result<URL, TestSupportError> = {
        let root = TestPaths.packageRoot
        let out = root.appendingPathComponent("fixtures/build")
        do {
            let result = try TestCommand.run(root.appendingPathComponent("fixtures/build.sh").path, [out.path])
            guard result.status == 0 else {
                return .failure(TestSupportError("fixtures/build.sh failed (\(result.status)): \(result.stderr)"))
            }
            return .success(out)
        } catch {
            return .failure(TestSupportError("fixtures/build.sh could not run: \(error)"))
        }
    }()

    /// The build folder; builds on first use.
    public static func directory() throws -> URL { try built.get() }

    /// The path of one built fixture, e.g. `hello-glibc` or `runpath/librunpath.so`.
    public static func path(_ name: String) throws -> String {
        try directory().appendingPathComponent(name).path
    }

    /// Every fixture binary (regular files with the ELF magic).
    public static func all() throws -> [String] {
        try ELFFiles.find(under: [directory().path], limit: nil)
    }
}

/// Finds ELF files on disk for differential and robustness tests.
public enum ELFFiles {
    /// Regular files (not symlinks) starting with the ELF magic, sorted, one per inode.
    public static func find(under roots: [String], recursive: Bool = true, limit: Int?) -> [String] {
        var out: [String] = []
        var seen = Set<String>()
        let fm = FileManager.default
        for root in roots {
            var paths: [String] = []
            if recursive, let e = fm.enumerator(atPath: root) {
                while let rel = e.nextObject() as? String { paths.append(root + "/" + rel) }
            } else {
                paths = ((try? fm.contentsOfDirectory(atPath: root)) ?? []).map { root + "/" + $0 }
            }
            for path in paths.sorted() {
                var st = stat()
                guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
                let key = "\(st.st_dev):\(st.st_ino)"
                guard !seen.contains(key), hasELFMagic(path) else { continue }
                seen.insert(key)
                out.append(path)
            }
        }
        if let limit, out.count > limit {
            // An even spread over the sorted list, so every part of the tree is represented.
            let step = Double(out.count) / Double(limit)
            out = (0..<limit).map { out[Int(Double($0) * step)] }
        }
        return out
    }

    public static func hasELFMagic(_ path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let d = (try? h.read(upToCount: 4)) ?? Data()
        return d == Data([0x7f, 0x45, 0x4c, 0x46])
    }
}
