import Foundation

/// The bundled data sets and the day each was made (Resources/data.json), for `--version` and
/// the reports' tool section.
public struct DataManifest: Codable, Sendable, Hashable {
    public struct DataSet: Codable, Sendable, Hashable {
        public var name: String
        /// yyyy-mm-dd.
        public var date: String
        public var files: [String]
        public var source: String
    }
    public var sets: [DataSet]
    /// muslcheck's own rule files, versioned with the code (not dated data).
    public var catalogues: [String]

    public init(contentsOf url: URL) throws {
        do {
            self = try JSONDecoder().decode(DataManifest.self, from: Data(contentsOf: url))
        } catch {
            throw CompatDataError("data file data.json is unreadable: \(error)")
        }
    }

    /// The bundled manifest; nil (with why) when the resources are missing.
    public static let bundled: Result<DataManifest, CompatDataError> = {
        do { return .success(try DataManifest(contentsOf: try CompatData.resourcesURL().appendingPathComponent("data.json"))) }
        catch let e as CompatDataError { return .failure(e) }
        catch { return .failure(CompatDataError("\(error)")) }
    }()

    /// name → date, for the reports.
    public var dates: [String: String] {
        Dictionary(sets.map { ($0.name, $0.date) }, uniquingKeysWith: { a, _ in a })
    }
}
