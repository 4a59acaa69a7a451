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

    /// Changes the fix templates of an entry.
    static func editFixes(of id: String, _ edit: (inout [String: String]) -> Void) throws -> Data {
        try catalogueText { entries in
            let i = try #require(entries.firstIndex { $0["id"] as? String == id })
            var fixes = entries[i]["fixes"] as? [String: String] ?? [:]
            edit(&fixes)
            entries[i]["fixes"] = fixes
        }
    }

    @Test func aMissingFixTemplateIsAnError() throws {
        let json = try Self.editFixes(of: "MC101") { $0["unknownLibrary"] = nil }
        #expect(Self.error(reading: json) == "data file findings.json has no fix template unknownLibrary in the entry for MC101")
    }

    @Test func aFixTemplateOfAnotherFindingIsAnError() throws {
        let json = try Self.editFixes(of: "MC110") { $0["relr"] = "use musl 1.2.4" }
        #expect(Self.error(reading: json) == "data file findings.json has a fix template relr in the entry for MC110, which that finding does not use")
    }

    @Test func aPlaceholderTheRuleDoesNotFillIsAnError() throws {
        let json = try Self.editFixes(of: "MC110") { $0["package"] = "apk add {pkg}" }
        #expect(Self.error(reading: json) == "data file findings.json has the placeholder {pkg} in the fix template package of MC110, which muslcheck does not fill in")
    }

    @Test func placeholdersAreFilledInOnce() throws {
        let catalogue = try FindingCatalogue(contentsOf: Self.bundledURL())
        #expect(catalogue.fix(.notLoadable, ["soname": "lib{machine}.so", "machine": "x86_64"])
                == "remove or rename the first lib{machine}.so on the search path, which is not a loadable x86_64 library, or fix the search path")
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
