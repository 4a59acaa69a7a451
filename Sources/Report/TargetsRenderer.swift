import Compat
import ELF
import Foundation

/// `muslcheck targets`: the bundled profiles, each as is and with gcompat.
public struct TargetsRenderer {
    public struct Row: Encodable, Sendable {
        var name: String
        var musl: String?
        var muslPackage: String?
        /// "glibc" or "none" for a Debian-based profile (nil: musl).
        var libc: String?
        var glibc: String?
        /// The Debian packages the image holds.
        var packages: [String]?
        var gcompat: Bool
        var baseLibraries: [String]
        var isDefault: Bool
    }

    public let rows: [Row]
    let gcompatVersion: String

    public init(data: CompatData) {
        var rows: [Row] = []
        for p in data.targets.profiles {
            for gc in [false, true] {
                rows.append(Row(name: p.name + (gc ? "+gcompat" : ""), musl: p.musl, muslPackage: p.muslPackage, gcompat: gc,
                                baseLibraries: p.baseLibraries + (gc ? [data.targets.gcompat.library] : []),
                                isDefault: p.name == data.targets.default && !gc))
            }
        }
        if let glibc = try? data.glibcProfiles() {
            for p in glibc.profiles {
                let libraries = glibc.libraries.values.filter { p.packages.contains($0.package) && $0.soname != nil }
                    .map { PathText.parent($0.path) + "/" + $0.soname! }.sorted { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }
                rows.append(Row(name: p.name, musl: nil, muslPackage: nil, libc: p.libc, glibc: p.libc == "glibc" ? glibc.glibcVersion : nil,
                                packages: p.packages, gcompat: false, baseLibraries: libraries, isDefault: false))
            }
        }
        self.rows = rows
        gcompatVersion = data.targets.gcompat.version
    }

    /// A table: each column as wide as its widest cell, two spaces apart.
    public func text() -> String {
        let cells = rows.filter { $0.libc == nil }.map { r in
            [r.name + (r.isDefault ? " *" : ""), (r.musl ?? "") + (r.muslPackage.map { " (\($0))" } ?? ""),
             r.baseLibraries.map { String($0.split(separator: "/").last!) }.joined(separator: " ")]
        }
        let head = ["NAME", "MUSL", "BASE LIBRARIES"]
        let widths = (0..<2).map { i in max(head[i].count, cells.map { $0[i].count }.max() ?? 0) + 2 }
        func line(_ c: [String]) -> String {
            c[0].padding(toLength: widths[0], withPad: " ", startingAt: 0) + c[1].padding(toLength: widths[1], withPad: " ", startingAt: 0) + c[2]
        }
        return ([line(head)] + cells.map(line)).joined(separator: "\n") + "\n"
            + "\n* default. A profile stands for the release: libraries of Alpine packages it lacks are reported as packages to add.\n"
            + "+gcompat: with gcompat \(gcompatVersion) (libgcompat.so.0, the glibc loader stub and its library links).\n"
            + glibcText()
    }

    /// The Debian-based profiles: glibc's version and the image's libraries.
    func glibcText() -> String {
        let glibc = rows.filter { $0.libc != nil }
        guard !glibc.isEmpty else { return "" }
        let width = (glibc.map(\.name.count).max() ?? 0) + 2
        var out = "\nDebian-based profiles (glibc's loader simulated; Debian 12 packages, distroless's package lists):\n"
        for r in glibc {
            let libc = r.glibc.map { "glibc " + $0 } ?? "no libc"
            let libs = r.baseLibraries.map { String($0.split(separator: "/").last!) }
            let shown = libs.count > 8 ? libs.prefix(8).joined(separator: " ") + " and \(libs.count - 8) more" : libs.joined(separator: " ")
            out += r.name.padding(toLength: width, withPad: " ", startingAt: 0) + libc.padding(toLength: 12, withPad: " ", startingAt: 0)
                + (shown.isEmpty ? "(static programs only)" : shown) + "\n"
        }
        return out
    }
}
