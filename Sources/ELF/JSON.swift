// The JSON form of ELF facts, as `muslcheck inspect --format json` prints it. Keys are part of
// the documented interface (README, "inspect JSON"): add keys, never rename or drop them.
// Absent values are written as null or [] so that every key is always present.

extension ELFFile: Encodable {
    enum Keys: String, CodingKey {
        case path, `class`, endianness, osABI, machine, type, linkage, interpreter, needed, soname, rpath,
             runpath, flags, flags1, gnuStack, tls, versionNeeds, versionDefinitions, symbols,
             relocations, notes, partial, problems, sectionOnlyDynamic, loadDamage
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(path, forKey: .path)
        try c.encode(header.fileClass.description, forKey: .class)
        try c.encode(header.data.description, forKey: .endianness)
        try c.encode(header.osABI.description, forKey: .osABI)
        try c.encode(header.isX32 ? "x32" : header.machine.description, forKey: .machine)
        try c.encode(header.type.description, forKey: .type)
        try c.encode(linkage.rawValue, forKey: .linkage)
        try c.encode(interpreter, forKey: .interpreter)
        try c.encode(needed, forKey: .needed)
        try c.encode(soname, forKey: .soname)
        try c.encode(dynamic?.rpath ?? [], forKey: .rpath)
        try c.encode(dynamic?.runpath ?? [], forKey: .runpath)
        try c.encode(dynamic?.flags.names ?? [], forKey: .flags)
        try c.encode(dynamic?.flags1.names ?? [], forKey: .flags1)
        // Only the section headers' dynamic section (no PT_DYNAMIC): what it says, read by no loader.
        try c.encode(sectionOnlyDynamic.map {
            SectionOnlyDynamicJSON(needed: $0.needed, soname: $0.soname, rpath: $0.rpath, runpath: $0.runpath)
        }, forKey: .sectionOnlyDynamic)
        try c.encode(loadDamage, forKey: .loadDamage)
        try c.encode(gnuStack.map { GNUStackJSON(size: $0.size, executable: $0.executable) }, forKey: .gnuStack)
        try c.encode(hasTLS, forKey: .tls)
        try c.encode(versionNeeds.map { VersionNeedJSON(file: $0.file, versions: $0.versions.map(\.name)) }, forKey: .versionNeeds)
        try c.encode(versionDefinitions.map {
            VersionDefinitionJSON(name: $0.name, index: $0.index, base: $0.isBase, parents: $0.parents)
        }, forKey: .versionDefinitions)
        try c.encode(symbols.map(SymbolJSON.init), forKey: .symbols)
        var types: [String: Int] = [:]
        for (type, count) in relocations.countsByType {
            types[RelocationType(machine: header.machine, rawValue: type).name, default: 0] += count
        }
        try c.encode(RelocationsJSON(total: relocations.total, types: types), forKey: .relocations)
        try c.encode(NotesJSON(abiTag: notes.abiTag?.description, buildID: notes.buildID, goBuildID: notes.goBuildID), forKey: .notes)
        try c.encode(isPartial, forKey: .partial)
        try c.encode(problems, forKey: .problems)
    }
}

private struct GNUStackJSON: Encodable { var size: UInt64; var executable: Bool }
private struct VersionNeedJSON: Encodable { var file: String; var versions: [String] }
private struct VersionDefinitionJSON: Encodable { var name: String; var index: UInt16; var base: Bool; var parents: [String] }
private struct RelocationsJSON: Encodable { var total: Int; var types: [String: Int] }
private struct NotesJSON: Encodable {
    var abiTag: String?
    var buildID: String?
    var goBuildID: String?
    enum CodingKeys: CodingKey { case abiTag, buildID, goBuildID }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(abiTag, forKey: .abiTag)
        try c.encode(buildID, forKey: .buildID)
        try c.encode(goBuildID, forKey: .goBuildID)
    }
}

private struct SymbolJSON: Encodable {
    var symbol: DynamicSymbol
    init(_ symbol: DynamicSymbol) { self.symbol = symbol }
    enum CodingKeys: CodingKey { case name, defined, binding, type, visibility, version, hidden, library, relocated }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(symbol.name, forKey: .name)
        try c.encode(symbol.isDefined, forKey: .defined)
        try c.encode(symbol.binding.description, forKey: .binding)
        try c.encode(symbol.type.description, forKey: .type)
        try c.encode(symbol.visibility.description, forKey: .visibility)
        try c.encode(symbol.version, forKey: .version)
        try c.encode(symbol.hidden, forKey: .hidden)
        try c.encode(symbol.library, forKey: .library)
        try c.encode(symbol.relocationUse.contains(.referenced), forKey: .relocated)
    }
}

/// `muslcheck inspect --format json`: a file's facts, or why it could not be read.
public enum InspectItem: Encodable {
    case file(ELFFile)
    case error(path: String, message: String)

    enum Keys: CodingKey { case path, error }

    public init(_ result: Result<ELFFile, ELFError>) {
        switch result {
        case .success(let file): self = .file(file)
        case .failure(let error): self = .error(path: error.path, message: error.reason.text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .file(let file): try file.encode(to: encoder)
        case .error(let path, let message):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(path, forKey: .path)
            try c.encode(message, forKey: .error)
        }
    }
}

struct SectionOnlyDynamicJSON: Encodable {
    var needed: [String]
    var soname: String?
    var rpath: [String]
    var runpath: [String]
    enum Keys: String, CodingKey { case needed, soname, rpath, runpath }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(needed, forKey: .needed)
        try c.encode(soname, forKey: .soname)
        try c.encode(rpath, forKey: .rpath)
        try c.encode(runpath, forKey: .runpath)
    }
}
