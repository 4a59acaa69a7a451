import Foundation

/// `muslcheck check` on the fixtures, run once per test process and shared by the tests that
/// read its report.
public enum CheckedFixtures {
    public struct Run: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// The report (--format json).
        public var json: Data
        /// The folder the formats were written to.
        public var directory: String
    }

    /// A fresh folder for a test's outputs, removed when the test process exits (if the test
    /// has not removed it already).
    public static func scratch(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        ScratchFolders.removeAtExit(dir)
        return dir
    }

    /// Runs `muslcheck ARGS` in the package root (so that paths stay relative: fixtures/build/...).
    public static func muslcheck(_ args: [String], environment: [String: String]? = nil, in directory: String? = nil) throws -> CommandResult {
        try TestCommand.run(TestPaths.muslcheck, args, environment: environment, currentDirectory: directory ?? TestPaths.packageRoot.path)
    }

    static func check(_ extra: [String], name: String) -> Result<Run, TestSupportError> {
        do {
            _ = try Fixtures.directory()
            let dir = try scratch(name)
            let r = try muslcheck(["check", "fixtures/build", "--format", "json=\(dir)/report.json"] + extra)
            guard r.status == 0 || r.status == 1, let json = FileManager.default.contents(atPath: "\(dir)/report.json") else {
                return .failure(TestSupportError("muslcheck check exited \(r.status): \(r.stderr)"))
            }
            return .success(Run(status: r.status, stdout: r.stdout, stderr: r.stderr, json: json, directory: dir))
        } catch let e as TestSupportError {
            return .failure(e)
        } catch {
            return .failure(TestSupportError("\(error)"))
        }
    }

    /// Against the local musl image, with the probes (nil when docker is skipped on purpose).
    public static let withImage: Result<Run, TestSupportError>? = {
        if let reason = DockerTest.unavailableReason {
            return DockerTest.skipped ? nil : .failure(TestSupportError(reason))
        }
        return check(["--image", DockerTest.baseImage], name: "check-image")
    }()

    /// Against two bundled profiles, static analysis only.
    public static let staticOnly: Result<Run, TestSupportError> = check(
        ["--target", "alpine:3.22", "--target", "alpine:3.18+gcompat", "--static-only"], name: "check-static")

    /// The image run when docker is there, else the static one.
    public static func best() throws -> Run {
        if let r = withImage { return try r.get() }
        print("docker skipped (MUSLCHECK_SKIP_DOCKER=1): using the static report")
        return try staticOnly.get()
    }
}

/// Python's jsonschema (ci/setup installs it from PyPI).
public enum JSONSchemaValidator {
    /// The errors of `document` against `schema` ("path: message" each); empty when valid.
    public static func errors(document: String, schema: String) throws -> [String] {
        let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("MISSING"); sys.exit(3)
        schema = json.load(open(sys.argv[2]))
        doc = json.load(open(sys.argv[1]))
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        v = cls(schema, format_checker=cls.FORMAT_CHECKER)
        for e in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
            print("/".join(map(str, e.absolute_path)) + ": " + e.message[:300])
        """
        let r = try TestCommand.run("python3", ["-c", script, document, schema])
        if r.status == 3 { throw TestSupportError("Python's jsonschema is missing: run ci/setup (pip install jsonschema)") }
        guard r.status == 0 else { throw TestSupportError("python3 failed: \(r.stderr)") }
        return r.stdout.split(separator: "\n").map(String.init)
    }
}

/// Headless Chromium (Debian's chromium, installed by ci/setup).
public enum HeadlessBrowser {
    public static let executable: String? = ["chromium", "chromium-browser", "google-chrome"].lazy.compactMap { try? TestCommand.which($0) }.first

    /// The browser's profile, one per test process, removed when it exits.
    static let profile: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-chromium-\(getpid())").path
        ScratchFolders.removeAtExit(dir)
        return dir
    }()

    static func base(_ extra: [String]) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
         "--user-data-dir=" + profile] + extra
    }

    /// The DOM after the page's scripts ran.
    public static func dumpDOM(_ url: String, size: String? = nil) throws -> String {
        guard let exe = executable else { throw TestSupportError("chromium is not installed: run ci/setup (apt-get install chromium)") }
        let r = try TestCommand.run(exe, base(["--virtual-time-budget=2000"] + (size.map { ["--window-size=\($0)"] } ?? []) + ["--dump-dom", url]))
        guard r.status == 0, !r.stdout.isEmpty else { throw TestSupportError("chromium --dump-dom failed (\(r.status)): \(r.stderr.suffix(500))") }
        return r.stdout
    }

    /// A PNG screenshot of the page.
    public static func screenshot(_ url: String, to png: String, size: String = "1280,1600") throws {
        guard let exe = executable else { throw TestSupportError("chromium is not installed: run ci/setup (apt-get install chromium)") }
        let r = try TestCommand.run(exe, base(["--window-size=\(size)", "--hide-scrollbars", "--screenshot=\(png)", url]))
        guard r.status == 0 else { throw TestSupportError("chromium --screenshot failed (\(r.status)): \(r.stderr.suffix(500))") }
    }
}

/// Folders the tests made, removed when the test process exits: nothing a test run makes
/// outlives it.
public enum ScratchFolders {
    nonisolated(unsafe) private static var folders: [String] = []
    private static let lock = NSLock()
    private static let installed: Void = { atexit { ScratchFolders.removeAll() } }()

    public static func removeAtExit(_ dir: String) {
        _ = installed
        lock.lock()
        folders.append(dir)
        lock.unlock()
    }

    static func removeAll() {
        lock.lock()
        let all = folders
        folders = []
        lock.unlock()
        for dir in all { try? FileManager.default.removeItem(atPath: dir) }
    }
}
