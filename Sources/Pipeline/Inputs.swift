import Config
import Engine
import Foundation
import Policy

/// Why a path given on the command line cannot be checked, or nil: "a symbolic link loop", "a
/// symbolic link to X, which does not exist", "no such file or directory", "permission denied".
public func inputProblem(_ path: String) -> String? {
    var st = stat()
    if stat(path, &st) == 0 { return nil }
    let error = errno
    if error == ELOOP { return "a symbolic link loop" }
    var link = stat()
    if error == ENOENT, lstat(path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK {
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        return "a symbolic link to \(target), which does not exist"
    }
    return String(cString: strerror(error)).lowercased()
}

/// muslcheck.yml (`--config`, else ./muslcheck.yml when present) and the commandTests of a
/// container-structure-test file (`--cst`): the settings, and every user probe. A problem in
/// either file is a ConfigError naming the file and line.
public func loadConfig(config: String?, cst: String?) throws -> (config: MuslcheckConfig, userProbes: [UserProbe]) {
    do {
        var settings = MuslcheckConfig()
        if let path = config ?? (FileManager.default.fileExists(atPath: "muslcheck.yml") ? "muslcheck.yml" : nil) {
            settings = try MuslcheckConfig.load(path)
        }
        var probes = settings.userProbes
        if let cst {
            let loaded = try MuslcheckConfig.loadContainerStructureTest(cst)
            probes += loaded.probes
            if !loaded.skipped.isEmpty { Diagnostics.note("\(cst): only commandTests run; skipped \(loaded.skipped.joined(separator: ", "))") }
        }
        return (settings, probes)
    }
}

/// A run cut short by a signal: its cleanup and exit status win over the command's.
public enum Interruption {
    public static func finish() {
        guard let status = CleanupRegistry.shared.interruptedStatus else { return }
        CleanupRegistry.shared.cleanUp()
        Foundation.exit(status)
    }
}
