import Compat
import Foundation
import Testing

/// findings.json is checked against the finding ids when it is read: an id without an entry, an
/// entry without an id and an id with two entries are errors that name the id and the file.
@Suite struct FindingCatalogueTests {
    static func bundledURL() throws -> URL { try CompatData.resourcesURL().appendingPathComponent("findings.json") }

    /// The bundled findings.json with its entries changed by `edit`.
    static func catalogueText(_ edit: (inout [[String: Any]]) throws -> Void) throws -> Data {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: bundledURL())) as? [String: Any])
        var entries = try #require(object["rules"] as? [[String: Any]])
        try edit(&entries)
        object["rules"] = entries
        return try JSONSerialization.data(withJSONObject: object)
    }

    /// The error reading the text gives, nil if it reads.
    static func error(reading json: Data) -> String? {
        do {
            _ = try FindingCatalogue(json: json)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func anIDWithoutAnEntryIsAnError() throws {
        let json = try Self.catalogueText { $0.removeAll { $0["id"] as? String == "MC152" } }
        #expect(Self.error(reading: json) == "data file findings.json has no entry for MC152, a finding muslcheck reports")
    }

    @Test func anEntryForAnUnknownIDIsAnError() throws {
        let json = try Self.catalogueText { entries in
            var entry = entries[0]
            entry["id"] = "MC999"
            entries.append(entry)
        }
        #expect(Self.error(reading: json) == "data file findings.json has an entry for MC999, which is not a finding muslcheck reports")
    }

    @Test func anIDWithTwoEntriesIsAnError() throws {
        let json = try Self.catalogueText { entries in
            let entry = try #require(entries.first { $0["id"] as? String == "MC101" })
            entries.append(entry)
        }
        #expect(Self.error(reading: json) == "data file findings.json has two entries for MC101")
    }

    @Test func theErrorNamesTheFileRead() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("findings-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.catalogueText { $0.removeAll { $0["id"] as? String == "MC001" } }.write(to: url)
        #expect(throws: CompatDataError.self) { try FindingCatalogue(contentsOf: url) }
        do {
            _ = try FindingCatalogue(contentsOf: url)
        } catch {
            #expect("\(error)" == "data file \(url.lastPathComponent) has no entry for MC001, a finding muslcheck reports")
        }
    }

    @Test func theBundledCatalogueHasARuleForEveryID() throws {
        let catalogue = try FindingCatalogue(contentsOf: Self.bundledURL())
        #expect(catalogue.rules.count == FindingID.allCases.count)
        let data = try CompatData.shared()
        for id in FindingID.allCases {
            #expect(catalogue.rule(id).id == id.rawValue)
            #expect(data.rule(id).id == id.rawValue)
            #expect(!data.rule(id).title.isEmpty && !data.rule(id).help.isEmpty, "\(id.rawValue)")
        }
    }

    /// A case is its rule's short name in camel case (missing-library, missingLibrary).
    @Test func everyIDIsNamedAfterItsRule() throws {
        let data = try CompatData.shared()
        for id in FindingID.allCases {
            #expect("\(id)".lowercased() == data.rule(id).name.replacingOccurrences(of: "-", with: ""), "\(id.rawValue)")
        }
    }
}
