import Config
import Policy
import Testing

@Suite struct ConfigFileTests {
    @Test func aFailLevelIsReadAndAWrongOneNamesItsLine() throws {
        #expect(try MuslcheckConfig.parse("failOn: needs-gcompat\n", file: "m.yml").failOn == .needsGcompat)
        #expect(throws: ConfigError.self) { try MuslcheckConfig.parse("paths: [.]\nfailOn: warning\n", file: "m.yml") }
        do {
            _ = try MuslcheckConfig.parse("paths: [.]\nfailOn: warning\n", file: "m.yml")
        } catch let e as ConfigError {
            #expect(e.description == "m.yml:2: failOn must be not-runnable, incompatible, needs-gcompat, compatible or never, not 'warning'")
        }
    }
}
