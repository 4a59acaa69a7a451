import Foundation

/// One program the in-container driver runs (probes/driver/driver.c).
public struct DriverJob: Sendable, Hashable {
    public var id: String
    public var argv: [String]
    public var env: [String: String] = [:]
    public var timeout: TimeInterval
    /// Bytes of stdout and of stderr kept.
    public var outputCap = 64 << 10
    /// Output after which the job is killed (an output flood).
    public var killAt = 16 << 20
    public var cwd: String? = nil

    public init(id: String, argv: [String], env: [String: String] = [:], timeout: TimeInterval, outputCap: Int = 64 << 10,
                killAt: Int = 16 << 20, cwd: String? = nil) {
        self.id = id
        self.argv = argv
        self.env = env
        self.timeout = timeout
        self.outputCap = outputCap
        self.killAt = killAt
        self.cwd = cwd
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// The job file's record.
    var record: String {
        var lines = ["JOB \(Self.escape(id))", "TIMEOUT \(Int(timeout * 1000))", "CAP \(outputCap)", "KILLAT \(killAt)"]
        if let cwd { lines.append("CWD \(Self.escape(cwd))") }
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { lines.append("ENV \(Self.escape(k))=\(Self.escape(v))") }
        for a in argv { lines.append("ARG \(Self.escape(a))") }
        lines.append("END")
        return lines.joined(separator: "\n") + "\n"
    }

    static func file(_ jobs: [DriverJob]) -> String { jobs.map(\.record).joined() }
}

/// What the driver reported for one job.
public struct JobResult: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable {
        case exited, signaled, timeout
        case outputLimit = "output-limit"
        case execFailed = "exec-failed"
        /// The driver never reported the job (the container died, the run timed out).
        case missing
    }
    public var job: String
    public var status: Status
    public var code: Int?
    public var signal: Int?
    public var errno: Int?
    public var ms: Int
    public var stdout: String
    public var stderr: String
    public var stdoutBytes: Int
    public var stderrBytes: Int

    public static func missing(_ id: String, because why: String) -> JobResult {
        JobResult(job: id, status: .missing, code: nil, signal: nil, errno: nil, ms: 0, stdout: "", stderr: why, stdoutBytes: 0, stderrBytes: 0)
    }

    /// The driver writes bytes above 0x7f as \u00XX; give back the UTF-8 text they were.
    func decodingBytes() -> JobResult {
        var r = self
        r.stdout = Self.restore(stdout)
        r.stderr = Self.restore(stderr)
        return r
    }

    static func restore(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: { $0.value >= 0x80 }) else { return s }
        let bytes = s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// "SIGBUS (signal 7)": Linux's numbering, as the container's kernel reports it.
    public static func signalName(_ n: Int) -> String {
        let names = [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
                     9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS"]
        return names[n].map { "\($0) (signal \(n))" } ?? "signal \(n)"
    }

    /// A sentence for the user.
    public var summary: String {
        switch status {
        case .exited: "exited with \(code ?? -1)"
        case .signaled: "killed by \(Self.signalName(signal ?? 0))\(signal == 9 ? ": the memory limit?" : "")"
        case .timeout: "killed at its time limit after \(ms) ms"
        case .outputLimit: "killed after writing \(stdoutBytes + stderrBytes) bytes (output limit)"
        case .execFailed: "could not be started: \(String(cString: strerror(Int32(errno ?? 0))))"
        case .missing: "not run: \(stderr)"
        }
    }
}

/// Parses the driver's output: one JSON object per line, the last one {"driver":"done"}.
enum DriverOutput {
    static func parse(_ text: String, jobs: [DriverJob]) -> (results: [String: JobResult], complete: Bool) {
        var results: [String: JobResult] = [:]
        var complete = false
        let decoder = JSONDecoder()
        for line in text.split(separator: "\n") {
            let data = Data(line.utf8)
            if let r = try? decoder.decode(JobResult.self, from: data) {
                results[r.job] = r.decodingBytes()
            } else if line.contains("\"driver\":\"done\"") {
                complete = true
            }
        }
        return (results, complete)
    }
}

/// The container's restrictions. Every flag is on by default; `enabled: false` (--no-sandbox)
/// keeps only the label, the removal and the time limits.
public struct Sandbox: Sendable, Hashable, Codable {
    public var enabled = true
    public var network = "none"
    public var memory = "256m"
    public var pids = 256
    public var user = "65534:65534"
    public var tmpfsSize = "128m"

    public init() {}

    public var arguments: [String] {
        guard enabled else { return [] }
        return ["--network", network, "--read-only", "--tmpfs", "/tmp:rw,exec,nosuid,size=\(tmpfsSize)",
                "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--pids-limit", "\(pids)",
                "--memory", memory, "--memory-swap", memory, "--user", user]
    }
}
