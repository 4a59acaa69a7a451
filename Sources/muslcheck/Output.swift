import ArgumentParser
import Config
import Foundation
import Pipeline
import Report

extension MuslcheckExit {
    var exitCode: ExitCode { ExitCode(rawValue) }
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

/// The exit status of a run that wrote its report: 3 on engine errors (each named on stderr),
/// 2 when a report could not be written, 1 when the gate fails, else 0.
func finish(environmentErrors: [String], written: Bool, failed: Bool) throws {
    for e in environmentErrors { Diagnostics.error(e) }
    if !environmentErrors.isEmpty { throw MuslcheckExit.environment.exitCode }
    // A report that was not written is not the gate's answer (1): the run's output is incomplete.
    if !written { throw MuslcheckExit.usage.exitCode }
    if failed { throw MuslcheckExit.findings.exitCode }
}
