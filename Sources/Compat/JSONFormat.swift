import Foundation

/// The one JSON form of everything muslcheck writes: pretty-printed, sorted keys (the same
/// inputs give the same bytes), slashes as they are.
public enum JSONFormat {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// A value's JSON and a final newline.
    public static func data<T: Encodable>(_ value: T) throws -> Data {
        var data = try encoder().encode(value)
        data.append(0x0a)
        return data
    }
}
