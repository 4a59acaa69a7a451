import Compat
import Foundation

/// What musl's loader printed for one file in `--list` mode.
public struct LoaderListing: Codable, Sendable, Hashable {
    /// Libraries it could not load.
    public var missingLibraries: [String] = []
    /// "object-basename symbol" for each symbol not found.
    public var missingSymbols: [String] = []
    /// "object-basename type" for each unsupported relocation type.
    public var unsupportedRelocations: [String] = []
    /// initial-exec TLS and other error lines.
    public var otherErrors: [String] = []
    /// The "\tname => path" lines, without the load address (it changes from run to run).
    public var loaded: [String] = []
    /// The loader's exit status (127 after errors).
    public var status: Int
    /// glibc: "requirer-basename VERSION" for each version need no library defines.
    public var missingVersions: [String]?
    /// The loader's own error lines, as it printed them (at most 20; nil when it printed none).
    public var messages: [String]?

    public init(status: Int) { self.status = status }

    static func base(_ path: Substring) -> String { String(path.split(separator: "/").last ?? path) }

    /// Parses the loader's stdout and stderr.
    public static func parse(stdout: String, stderr: String, status: Int) -> LoaderListing {
        var r = LoaderListing(status: status)
        var libs = Set<String>(), syms = Set<String>(), relocs = Set<String>()
        for line in stdout.split(separator: "\n") where line.hasPrefix("\t") {
            var entry = line.trimmingCharacters(in: .whitespaces)
            // "libc.so => /lib/ld-musl-x86_64.so.1 (0x7f264aa33000)"
            if entry.hasSuffix(")"), let open = entry.range(of: " (0x", options: .backwards) {
                entry = String(entry[..<open.lowerBound])
            }
            r.loaded.append(entry)
        }
        let errorLines = stderr.split(separator: "\n").filter { !$0.isEmpty }
        if !errorLines.isEmpty { r.messages = errorLines.prefix(20).map(String.init) }
        for line in stderr.split(separator: "\n") {
            if line.hasPrefix("Error loading shared library ") {
                let rest = line.dropFirst("Error loading shared library ".count)
                if let colon = rest.firstIndex(of: ":") { libs.insert(String(rest[..<colon])) }
            } else if line.hasPrefix("Error relocating "), line.hasSuffix(": symbol not found") {
                let body = line.dropFirst("Error relocating ".count).dropLast(": symbol not found".count)
                if let sep = body.range(of: ": ", options: .backwards) {
                    syms.insert(base(body[..<sep.lowerBound]) + " " + body[sep.upperBound...])
                }
            } else if line.hasPrefix("Error relocating "), let t = line.range(of: ": unsupported relocation type ") {
                let object = line[line.index(line.startIndex, offsetBy: "Error relocating ".count)..<t.lowerBound]
                relocs.insert(base(object) + " " + line[t.upperBound...])
            } else if !line.isEmpty {
                r.otherErrors.append(String(line))
            }
        }
        r.missingLibraries = libs.sorted()
        r.missingSymbols = syms.sorted()
        r.unsupportedRelocations = relocs.sorted()
        return r
    }

    /// Parses what glibc's loader printed in trace mode (LD_TRACE_LOADED_OBJECTS=1, LD_WARN=yes):
    /// "\tNAME => not found", "undefined symbol: NAME[, version V]\t(OBJECT)" and
    /// "...: version `V' not found (required by R)".
    public static func parseGlibc(_ output: String, status: Int) -> LoaderListing {
        var r = LoaderListing(status: status)
        var libs = Set<String>(), syms = Set<String>(), versions = Set<String>()
        let errorLines = output.split(separator: "\n").filter {
            $0.hasSuffix(" => not found") || $0.contains("undefined symbol: ") || $0.contains("' not found (required by ")
                || $0.contains("error while loading shared libraries")
        }
        if !errorLines.isEmpty { r.messages = errorLines.prefix(20).map { $0.trimmingCharacters(in: .whitespaces) } }
        for line in output.split(separator: "\n") {
            if line.hasPrefix("\t") {
                let entry = line.trimmingCharacters(in: .whitespaces)
                if entry.hasSuffix(" => not found") { libs.insert(String(entry.dropLast(" => not found".count))); continue }
                var shown = entry
                if shown.hasSuffix(")"), let open = shown.range(of: " (0x", options: .backwards) { shown = String(shown[..<open.lowerBound]) }
                r.loaded.append(shown)
            } else if let u = line.range(of: "undefined symbol: ") {
                let rest = line[u.upperBound...]
                let name = rest.prefix { $0 != "," && $0 != "\t" }
                if let open = rest.lastIndex(of: "("), rest.hasSuffix(")") {
                    syms.insert(base(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]) + " " + name)
                }
            } else if let v = line.range(of: ": version `"), let end = line.range(of: "' not found (required by ") {
                let version = line[v.upperBound..<end.lowerBound]
                versions.insert(base(line[end.upperBound...].dropLast()) + " " + version)
            } else if !line.isEmpty {
                r.otherErrors.append(String(line))
            }
        }
        r.missingLibraries = libs.sorted()
        r.missingSymbols = syms.sorted()
        r.missingVersions = versions.sorted()
        return r
    }

    /// The same sets from a simulated load.
    public static func simulated(_ o: LoadOutcome) -> LoaderListing {
        func base(_ p: String) -> String { String(p.split(separator: "/").last ?? Substring(p)) }
        var r = LoaderListing(status: o.errors.isEmpty && o.hostProvided.isEmpty ? 0 : 127)
        r.missingLibraries = Set(o.errors.filter { $0.kind == .missingLibrary || $0.kind == .libraryNotLoadable }.map(\.subject)).sorted()
        r.missingSymbols = Set(o.errors.filter { $0.kind == .missingSymbol }.map { base($0.object) + " " + $0.subject }).sorted()
        r.unsupportedRelocations = Set(o.errors.filter { $0.kind == .unsupportedRelocation }.map { base($0.object) + " " + $0.subject }).sorted()
        let versions = o.errors.filter { $0.kind == .missingVersion }
        if !versions.isEmpty { r.missingVersions = Set(versions.map { base($0.object) + " " + $0.subject }).sorted() }
        return r
    }

    /// Differences between what the real loader printed and what the simulation expected;
    /// symbols the host program provides are left out of both.
    public static func differences(real: LoaderListing, simulated: LoaderListing, hostProvided: Set<String>) -> [String] {
        func dropHost(_ s: [String]) -> Set<String> {
            Set(s.filter { entry in !hostProvided.contains(String(entry.split(separator: " ").last ?? "")) })
        }
        var out: [String] = []
        let rl = Set(real.missingLibraries), sl = Set(simulated.missingLibraries)
        if rl != sl {
            out.append("missing libraries: musl \(rl.subtracting(sl).sorted()) not expected; expected \(sl.subtracting(rl).sorted()) not missing")
        }
        let rs = dropHost(real.missingSymbols), ss = dropHost(simulated.missingSymbols)
        if rs != ss {
            out.append("missing symbols: musl \(rs.subtracting(ss).sorted().prefix(8)) not expected; expected \(ss.subtracting(rs).sorted().prefix(8)) not missing")
        }
        let rr = Set(real.unsupportedRelocations), sr = Set(simulated.unsupportedRelocations)
        if rr != sr { out.append("unsupported relocations: musl \(rr.sorted()), expected \(sr.sorted())") }
        let rv = Set(real.missingVersions ?? []), sv = Set(simulated.missingVersions ?? [])
        if rv != sv { out.append("missing versions: the loader \(rv.subtracting(sv).sorted()) not expected; expected \(sv.subtracting(rv).sorted()) not missing") }
        return out
    }
}
