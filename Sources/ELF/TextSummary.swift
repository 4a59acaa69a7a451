// The human-readable form of ELF facts (`muslcheck inspect`).

extension ELFFile {
    /// A block of lines describing the file; with `listSymbols`, one line per dynamic symbol.
    public func textSummary(listSymbols: Bool = false) -> String {
        var lines: [String] = []
        let machine = header.isX32 ? "x32" : header.machine.description
        lines.append("\(path): \(header.fileClass) \(header.data)-endian \(machine) \(header.type), OS/ABI \(header.osABI), \(linkage.rawValue)")
        func row(_ key: String, _ value: String) {
            lines.append("  " + key.padded(15) + value)
        }
        row("interpreter", interpreter ?? "-")
        if let dynamic {
            row("needed", dynamic.needed.isEmpty ? "-" : dynamic.needed.joined(separator: " "))
            row("soname", dynamic.soname ?? "-")
            if !dynamic.rpath.isEmpty { row("rpath", dynamic.rpath.joined(separator: ":")) }
            if !dynamic.runpath.isEmpty { row("runpath", dynamic.runpath.joined(separator: ":")) }
            let flags = dynamic.flags.names + dynamic.flags1.names.map { "1:" + $0 }
            if !flags.isEmpty { row("flags", flags.joined(separator: " ")) }
        } else if let section = sectionOnlyDynamic {
            row("dynamic", "none: no PT_DYNAMIC; the section headers name one, which no loader reads:")
            row("  needed", section.needed.isEmpty ? "-" : section.needed.joined(separator: " "))
            if let soname = section.soname { row("  soname", soname) }
        } else {
            row("dynamic", "none")
        }
        if let loadDamage { row("load", "fails: \(loadDamage)") }
        if let gnuStack {
            row("stack", "PT_GNU_STACK size \(gnuStack.size)\(gnuStack.executable ? ", executable" : "")")
        }
        if hasTLS { row("tls", "PT_TLS present") }
        if versionNeeds.isEmpty {
            row("version needs", "-")
        } else {
            for (i, need) in versionNeeds.enumerated() {
                row(i == 0 ? "version needs" : "", "\(need.file): " + need.versions.map(\.name).joined(separator: " "))
            }
        }
        if !versionDefinitions.isEmpty {
            for (i, def) in versionDefinitions.enumerated() {
                var text = "\(def.index) \(def.name)"
                if def.isBase { text += " (base)" }
                if !def.parents.isEmpty { text += " <- " + def.parents.joined(separator: " ") }
                row(i == 0 ? "version defs" : "", text)
            }
        }
        let undefined = symbols.filter(\.isUndefined)
        let versioned = undefined.filter { $0.version != nil }.count
        row("symbols", "\(symbols.count) dynamic: \(undefined.count) undefined (\(versioned) versioned), \(symbols.count - undefined.count) defined")
        if relocations.total > 0 {
            let top = relocations.countsByType.sorted { $0.value == $1.value ? $0.key < $1.key : $0.value > $1.value }
                .map { "\(RelocationType(machine: header.machine, rawValue: $0.key).name) \($0.value)" }
            row("relocations", "\(relocations.total): " + top.joined(separator: ", "))
        }
        var noteParts: [String] = []
        if let tag = notes.abiTag { noteParts.append("ABI tag \(tag.description)") }
        if let id = notes.buildID { noteParts.append("build id \(id)") }
        if let go = notes.goBuildID { noteParts.append("Go build id \(go)") }
        if !noteParts.isEmpty { row("notes", noteParts.joined(separator: ", ")) }
        for problem in problems { row("problem", problem) }
        if listSymbols {
            for s in symbols {
                var name = s.name
                if let v = s.version { name += (s.isDefined && !s.hidden ? "@@" : "@") + v }
                let lib = s.library.map { " (\($0))" } ?? ""
                let section = s.isDefined ? "DEF" : "UND"
                lines.append("    \(section) \(s.type.description.padded(6)) \(s.binding.description.padded(6)) \(name)\(lib)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    /// Left-aligned in a column of `width` characters.
    func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
