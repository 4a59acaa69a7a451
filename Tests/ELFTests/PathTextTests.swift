import ELF
import Testing

/// The folder part of a path, without Foundation's NSString path methods (which trap on a
/// single relative component here).
@Suite struct PathTextTests {
    @Test func parentIsTheFolderPartAsPathsAreWritten() {
        let cases: [(String, String)] = [
            ("/a/b", "/a"), ("/a", "/"), ("/", "/"), ("a/b/", "a"), ("a", ""), ("s", ""), ("", ""),
            ("/muslcheck/a/0/file", "/muslcheck/a/0"), ("a//b", "a"), ("/a/b//", "/a"), ("report.json", ""),
        ]
        for (path, parent) in cases { #expect(PathText.parent(path) == parent, "\(path)") }
    }
}
