import Foundation

/// Where the package, its fixtures and the shared corpora live, seen from a test.
public enum TestPaths {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// ../shared/corpora beside the package, when present.
    public static var corpora: URL? {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }
}

extension TestPaths {
    /// The build products folder of this test run (where the test bundle and `muslcheck` are).
    public static let productsDirectory: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe)
        // On Linux the test bundle is an executable inside the products folder.
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("muslcheck").path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    /// The `muslcheck` executable built with the tests.
    public static var muslcheck: String { productsDirectory.appendingPathComponent("muslcheck").path }
}
