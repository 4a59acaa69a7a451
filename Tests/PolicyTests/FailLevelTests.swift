import Policy
import Testing

@Suite struct FailLevelTests {
    @Test func theLevelsAreSpelledAsTheFlagTakesThem() {
        #expect(FailLevel.default == .notRunnable)
        #expect(FailLevel.spelled == "not-runnable, incompatible, needs-gcompat, compatible or never")
        #expect(FailLevel(rawValue: "needs-gcompat") == .needsGcompat)
        #expect(FailLevel(rawValue: "warning") == nil)
    }
}
