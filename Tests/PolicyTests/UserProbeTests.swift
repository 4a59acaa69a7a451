import Foundation
import Policy
import Testing

@Suite struct UserProbeTests {
    @Test func aProbeWithACommandAndValidPatternsIsValid() {
        let probe = UserProbe(name: "imports", command: "python3", args: ["-c", "import numpy"],
                              stdout: ["^ok$"], stdoutExcludes: ["Trace(back)?"], stderr: [".*"], stderrExcludes: ["Error relocating"])
        #expect(probe.validate() == nil)
    }

    @Test func aBadRegularExpressionIsNamedWithItsProbe() {
        #expect(UserProbe(name: "imports", command: "python3", stdout: ["("]).validate()
            == "probe 'imports': '(' is not a valid regular expression")
        #expect(UserProbe(name: "p", command: "sh", stdout: ["ok"], stderrExcludes: ["[a-"]).validate()
            == "probe 'p': '[a-' is not a valid regular expression")
    }

    @Test func anEmptyCommandIsRefused() {
        #expect(UserProbe(name: "nothing", command: "").validate() == "probe 'nothing': command is empty")
    }

    @Test func aBadPatternIsReportedBeforeAnEmptyCommand() {
        #expect(UserProbe(name: "both", command: "", stderr: ["*x"]).validate()
            == "probe 'both': '*x' is not a valid regular expression")
    }

    @Test func theDefaultsExpectExitZeroWithinSixtySeconds() {
        let probe = UserProbe(name: "p", command: "true")
        #expect(probe.exitCode == 0)
        #expect(probe.timeout == 60)
        #expect(probe.args.isEmpty && probe.env.isEmpty && probe.setup.isEmpty)
    }

    @Test func aProbeSurvivesAJSONRoundTrip() throws {
        let probe = UserProbe(name: "p", command: "sh", args: ["-c", "echo hi"], env: ["LANG": "C.UTF-8"], setup: [["touch", "/tmp/x"]],
                              exitCode: nil, stdout: ["hi"], stdoutExcludes: ["bye"], stderr: ["warn"], stderrExcludes: ["err"],
                              timeout: 12.5)
        let back = try JSONDecoder().decode(UserProbe.self, from: try JSONEncoder().encode(probe))
        #expect(back == probe)
        #expect(back.exitCode == nil)
    }
}
