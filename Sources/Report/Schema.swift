import Foundation

/// The JSON Schema of the report (draft 2020-12), shipped with muslcheck.
public enum ReportSchema {
    public static var url: URL? { Bundle.module.url(forResource: "report.schema", withExtension: "json", subdirectory: "Resources") }
    public static var data: Data? { url.flatMap { try? Data(contentsOf: $0) } }
}
