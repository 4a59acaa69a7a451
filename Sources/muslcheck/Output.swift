import Config
import Engine
import Foundation
import Report

enum Diagnostics {
    /// One line on stderr, prefixed with the tool's name.
    static func error(_ message: String) {
        // Work cut short by an interrupt fails in many ways; the interrupt is the one message.
        if CleanupRegistry.shared.interruptedStatus != nil { return }
        FileHandle.standardError.write(Data("muslcheck: error: \(message)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("muslcheck: \(message)\n".utf8))
    }
}

enum JSONOutput {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func write<T: Encodable>(_ value: T) throws {
        var data = try encoder().encode(value)
        data.append(0x0a)
        FileHandle.standardOutput.write(data)
    }
}

/// Runs `body`; muslcheck's own errors become their sentence on stderr and their exit code
/// (a RunError its own, a configuration, baseline or report problem 2).
func exitingOnError<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as RunError {
        Diagnostics.error(e.description)
        throw e.code.exitCode
    } catch let e as ConfigError {
        Diagnostics.error(e.description)
        throw MuslcheckExit.usage.exitCode
    } catch let e as ReportError {
        Diagnostics.error(e.description)
        throw MuslcheckExit.usage.exitCode
    }
}
