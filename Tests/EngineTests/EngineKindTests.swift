import Engine
import Testing

@Suite struct EngineKindTests {
    @Test func theEnginesAndPullPoliciesAreSpelledAsTheFlagsTakeThem() {
        #expect(ContainerEngine.Kind(rawValue: "podman") == .podman)
        #expect(PullPolicy(rawValue: "never") == .never)
        #expect(PullPolicy(rawValue: "sometimes") == nil)
    }
}
