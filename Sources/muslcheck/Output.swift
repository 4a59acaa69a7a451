import Foundation

enum Diagnostics {
    /// One line on stderr, prefixed with the tool's name.
    static func error(_ message: String) {
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
