import Foundation

/// A command a user wants run in the image, with what its result must look like
/// (muslcheck.yml `probes:`, or a container-structure-test file's `commandTests:`).
public struct UserProbe: Codable, Sendable, Hashable {
    public var name: String
    public var command: String
    public var args: [String]
    public var env: [String: String]
    /// Commands run before it, in the same container (each must exit 0).
    public var setup: [[String]]
    /// Expected exit status (nil: any).
    public var exitCode: Int?
    /// Regular expressions stdout must match / must not match.
    public var stdout: [String]
    public var stdoutExcludes: [String]
    public var stderr: [String]
    public var stderrExcludes: [String]
    public var timeout: Double

    public init(name: String, command: String, args: [String] = [], env: [String: String] = [:], setup: [[String]] = [],
                exitCode: Int? = 0, stdout: [String] = [], stdoutExcludes: [String] = [], stderr: [String] = [],
                stderrExcludes: [String] = [], timeout: Double = 60) {
        self.name = name
        self.command = command
        self.args = args
        self.env = env
        self.setup = setup
        self.exitCode = exitCode
        self.stdout = stdout
        self.stdoutExcludes = stdoutExcludes
        self.stderr = stderr
        self.stderrExcludes = stderrExcludes
        self.timeout = timeout
    }

    /// Every regular expression compiles; otherwise the sentence naming the bad one.
    public func validate() -> String? {
        for pattern in stdout + stdoutExcludes + stderr + stderrExcludes {
            do { _ = try NSRegularExpression(pattern: pattern) } catch {
                return "probe '\(name)': '\(pattern)' is not a valid regular expression"
            }
        }
        if command.isEmpty { return "probe '\(name)': command is empty" }
        return nil
    }

}
