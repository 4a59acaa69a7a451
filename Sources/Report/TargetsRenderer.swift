import Compat
import Foundation

/// `muslcheck targets`: the bundled profiles, each as is and with gcompat.
public struct TargetsRenderer {
    public struct Row: Encodable, Sendable {
        var name: String
        var musl: String
        var muslPackage: String?
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
        self.rows = rows
        gcompatVersion = data.targets.gcompat.version
    }

    /// A table: each column as wide as its widest cell, two spaces apart.
    public func text() -> String {
        let cells = rows.map { r in
            [r.name + (r.isDefault ? " *" : ""), r.musl + (r.muslPackage.map { " (\($0))" } ?? ""),
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
    }
}
