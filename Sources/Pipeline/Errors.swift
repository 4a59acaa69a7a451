import Engine
import Compat
import Foundation
import Report

/// An error that ends the run with a given exit code and a sentence for the user.
public struct RunError: Error, CustomStringConvertible {
    public var code: MuslcheckExit
    public var description: String
    public init(code: MuslcheckExit, description: String) {
        self.code = code
        self.description = description
    }
}

/// muslcheck's exit codes (README, "Exit codes").
public enum MuslcheckExit: Int32, Sendable {
    case ok = 0
    /// Findings at or above --fail-on; for inspect, an input that could not be read.
    case findings = 1
    /// Usage or configuration error.
    case usage = 2
    /// Container engine or environment error.
    case environment = 3
}

public enum MuslcheckVersion {
    public static let current = "0.1.0"
    /// The commit this binary was built from, "-modified" added when its work tree had changes;
    /// nil when it was built outside a git checkout.
    public static var commit: String? {
        BuildInfo.commit == "unknown" ? nil : BuildInfo.commit + (BuildInfo.modified ? "-modified" : "")
    }
    /// The bundled data sets' dates, by name (nil when the data is missing).
    public static var dataDates: [String: String]? { try? DataManifest.bundled.get().dates }
    /// What the reports record of the tool.
    public static var reportTool: CompatibilityReport.Tool { .init(version: current, commit: commit, data: dataDates) }
    public static var planTool: PlanReport.Tool { .init(version: current, commit: commit, data: dataDates) }

    /// `muslcheck --version`: the version, the commit, and each bundled data set's date and source.
    public static var long: String {
        var out = "muslcheck \(current)"
        if let commit { out += " (commit \(commit.prefix(12))\(BuildInfo.modified ? ", modified" : ""), \(BuildInfo.commitDate))" }
        else { out += " (built outside a git checkout: commit unknown)" }
        switch DataManifest.bundled {
        case .success(let m):
            out += "\nbundled data:"
            let width = m.sets.map(\.name.count).max() ?? 0
            for s in m.sets { out += "\n  " + s.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + s.date + "  " + s.source }
        case .failure(let e):
            out += "\nbundled data: \(e.description)"
        }
        return out
    }
    /// The README, whose "Findings" table has an anchor per finding id (SARIF rules' helpUri).
    public static let readmeURL = "https://github.com/muslcheck/muslcheck/blob/main/README.md"
}

/// Lines on stderr, prefixed with the tool's name.
public enum Diagnostics {
    public static func error(_ message: String) {
        // Work cut short by an interrupt fails in many ways; the interrupt is the one message.
        if CleanupRegistry.shared.interruptedStatus != nil { return }
        FileHandle.standardError.write(Data("muslcheck: error: \(message)\n".utf8))
    }

    public static func note(_ message: String) {
        FileHandle.standardError.write(Data("muslcheck: \(message)\n".utf8))
    }
}
