import Config
import Policy
import Testing

@Suite struct StarterTests {
    static let profile = "alpine-3.20"

    @Test func theStarterParsesAndLeavesTargetsAndFailOnUnset() throws {
        let text = MuslcheckConfig.starter(defaultProfile: Self.profile)
        let config = try MuslcheckConfig.parse(text, file: "muslcheck.yml")
        var expected = MuslcheckConfig()
        expected.paths = ["."]
        #expect(config == expected)
        #expect(config.targets == nil)
        #expect(config.failOn == nil)
        #expect(config.images == nil)
        #expect(config.ignores.isEmpty && config.userProbes.isEmpty)
    }

    @Test func theStarterMentionsEveryKeyAndTheDefaultProfile() {
        let text = MuslcheckConfig.starter(defaultProfile: Self.profile)
        for key in MuslcheckConfig.keys {
            #expect(text.contains("\(key):"), "the starter does not mention \(key)")
        }
        #expect(text.contains("#   - \(Self.profile)"))
        #expect(!MuslcheckConfig.starter(defaultProfile: "debian-12").contains(Self.profile))
    }

    /// The starter with its commented `key: value` lines and the examples under `ignores` and
    /// `userProbes` uncommented.
    static func uncommented(_ text: String) -> String {
        var out: [String] = []
        var inExample = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "ignores: []" || line == "userProbes: []" {
                out.append(String(line.dropLast(3)))
                inExample = true
            } else if inExample && line.hasPrefix("#") {
                out.append(" " + line.dropFirst())
            } else if ["failOn", "baselineImage", "execSmoke", "libraryPath", "probes"].contains(where: { line.hasPrefix("# \($0): ") }) {
                out.append(String(line.dropFirst(2)))
            } else {
                inExample = false
                out.append(line)
            }
        }
        return out.joined(separator: "\n")
    }

    @Test func theStartersCommentedSettingsAndExamplesAreValid() throws {
        let config = try MuslcheckConfig.parse(Self.uncommented(MuslcheckConfig.starter(defaultProfile: Self.profile)), file: "muslcheck.yml")
        // The commented failOn is the default level, and execSmoke is off.
        #expect(config.failOn == FailLevel.default)
        #expect(config.execSmoke == false)
        #expect(config.baselineImage != nil)
        #expect(config.libraryPath?.isEmpty == false)
        #expect(config.probes?.contains("loader") == true)
        #expect(config.ignores.count == 1)
        #expect(config.ignores.first?.id == "MC130")
        #expect(config.ignores.first?.matches(id: "MC130", artifact: "vendor/a/b.so") == true)
        #expect(config.userProbes.count == 1)
        #expect(config.userProbes.first?.validate() == nil)
        #expect(config.userProbes.first?.timeout == 30)
    }
}
