import Foundation
import Policy

extension UserProbe {
    /// The verdict on one run.
    public func evaluate(_ result: JobResult, setup setupResults: [JobResult]) -> UserProbeOutcome {
        var failures: [String] = []
        for (i, s) in setupResults.enumerated() where !(s.status == .exited && s.code == 0) {
            failures.append("setup command \(i + 1) (\(setup[i].joined(separator: " "))) \(s.summary): \(s.stderr.prefix(300))")
        }
        switch result.status {
        case .exited:
            if let want = exitCode, result.code != want { failures.append("exit status \(result.code ?? -1), expected \(want)") }
        default:
            failures.append("the command \(result.summary)")
        }
        func check(_ patterns: [String], in text: String, mustMatch: Bool, stream: String) {
            for p in patterns {
                guard let re = try? NSRegularExpression(pattern: p) else { continue }
                let found = re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                if found != mustMatch {
                    failures.append(mustMatch ? "\(stream) does not match '\(p)'" : "\(stream) matches '\(p)', which it must not")
                }
            }
        }
        check(stdout, in: result.stdout, mustMatch: true, stream: "stdout")
        check(stdoutExcludes, in: result.stdout, mustMatch: false, stream: "stdout")
        check(stderr, in: result.stderr, mustMatch: true, stream: "stderr")
        check(stderrExcludes, in: result.stderr, mustMatch: false, stream: "stderr")
        return UserProbeOutcome(name: name, passed: failures.isEmpty, failures: failures, status: result.status.rawValue,
                                exitCode: result.code, stdout: String(result.stdout.prefix(2000)),
                                stderr: String(result.stderr.prefix(2000)), milliseconds: result.ms)
    }
}

/// The result of one user probe.
public struct UserProbeOutcome: Codable, Sendable, Hashable {
    public var name: String
    public var passed: Bool
    /// Why it failed, one sentence each.
    public var failures: [String]
    public var status: String
    public var exitCode: Int?
    public var stdout: String
    public var stderr: String
    public var milliseconds: Int?
}
