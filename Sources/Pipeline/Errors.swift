import Engine
import Foundation

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
