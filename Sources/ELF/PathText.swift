/// Path text without Foundation's NSString path methods: `deletingLastPathComponent` traps on a
/// single relative component ("out.json") in this toolchain's Foundation.
public enum PathText {
    /// The folder part of a path, as `deletingLastPathComponent` gives it: "/a/b" → "/a",
    /// "/a" → "/", "a/b/" → "a", "a" → "", "/" → "/".
    public static func parent(_ path: String) -> String {
        var s = Substring(path)
        while s.count > 1 && s.hasSuffix("/") { s = s.dropLast() }
        guard let slash = s.lastIndex(of: "/") else { return "" }
        if slash == s.startIndex { return "/" }
        var head = s[..<slash]
        while head.count > 1 && head.hasSuffix("/") { head = head.dropLast() }
        return String(head)
    }
}
