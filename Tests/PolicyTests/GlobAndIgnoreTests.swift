import Policy
import Testing

@Suite struct GlobTests {
    @Test func aStarStaysWithinOnePathComponent() {
        let glob = Glob("lib/*.so")
        #expect(glob.matches("lib/libfoo.so"))
        #expect(glob.matches("lib/.so"))
        #expect(!glob.matches("lib/sub/libfoo.so"))
        #expect(!glob.matches("libfoo.so"))
    }

    @Test func aPatternMatchesTheWholePathNotAPart() {
        #expect(Glob("*.so").matches("libfoo.so"))
        #expect(!Glob("*.so").matches("libfoo.so.1"))
        #expect(!Glob("*.so").matches("dir/libfoo.so"))
        #expect(!Glob("foo").matches("foobar"))
        #expect(!Glob("bar").matches("foobar"))
    }

    @Test func aDoubleStarSpansPathComponents() {
        let glob = Glob("vendor/**")
        #expect(glob.matches("vendor/libx.so"))
        #expect(glob.matches("vendor/a/b/c/libx.so"))
        #expect(!glob.matches("vendored/libx.so"))
        #expect(!glob.matches("src/vendor/libx.so"))
    }

    @Test func aDoubleStarFollowedByASlashAlsoMatchesNoFolderAtAll() {
        let glob = Glob("**/libssl.so*")
        #expect(glob.matches("libssl.so.3"))
        #expect(glob.matches("usr/lib/libssl.so.3"))
        let inner = Glob("app/**/lib.so")
        #expect(inner.matches("app/lib.so"))
        #expect(inner.matches("app/x/y/lib.so"))
        #expect(!inner.matches("other/x/lib.so"))
        // The folders "**/" stands for end at a slash: never part of the name after it.
        #expect(!glob.matches("foo/notlibssl.so"))
        #expect(!glob.matches("notlibssl.so"))
        #expect(!inner.matches("app/xlib.so"))
        // An archive's member is a whole name too.
        #expect(Glob("**/use-versioned-glibc").matches("dist/a.zip!use-versioned-glibc"))
        #expect(Glob("vendor/**/x.so").matches("vendor/a.whl!x.so"))
    }

    @Test func aQuestionMarkIsExactlyOneCharacterOtherThanASlash() {
        let glob = Glob("lib?.so")
        #expect(glob.matches("liba.so"))
        #expect(!glob.matches("lib.so"))
        #expect(!glob.matches("libab.so"))
        #expect(!glob.matches("lib/.so"))
    }

    @Test func everyOtherCharacterIsLiteral() {
        #expect(Glob("lib.so").matches("lib.so"))
        #expect(!Glob("lib.so").matches("libxso"))
        #expect(Glob("a+b(1)[2]{3}^$|.so").matches("a+b(1)[2]{3}^$|.so"))
        #expect(!Glob("a+b.so").matches("aab.so"))
        #expect(Glob("").matches(""))
        #expect(!Glob("").matches("x"))
    }
}

@Suite struct IgnoreRuleTests {
    @Test func aStarIdIgnoresEveryFindingOnMatchingPaths() {
        let rule = IgnoreRule(id: "*", path: "vendor/**", reason: "vendored")
        #expect(rule.matches(id: "MC101", artifact: "vendor/lib/libx.so"))
        #expect(rule.matches(id: "MC130", artifact: "vendor/libx.so"))
        #expect(!rule.matches(id: "MC101", artifact: "app/libx.so"))
    }

    @Test func aSpecificIdIgnoresOnlyThatFinding() {
        let rule = IgnoreRule(id: "MC130", path: "bin/*", reason: "sets its own stack size")
        #expect(rule.matches(id: "MC130", artifact: "bin/server"))
        #expect(!rule.matches(id: "MC131", artifact: "bin/server"))
        #expect(!rule.matches(id: "MC13", artifact: "bin/server"))
        #expect(!rule.matches(id: "MC130", artifact: "bin/tools/server"))
    }
}
