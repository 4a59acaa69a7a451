import Foundation

/// A finding to ignore: its id, where (a path glob), and why.
public struct IgnoreRule: Codable, Sendable, Hashable {
    public var id: String
    /// Glob over the artifact path (`*` within a path component, `**` across components).
    public var path: String
    public var reason: String

    public init(id: String, path: String, reason: String) {
        self.id = id
        self.path = path
        self.reason = reason
    }

    public func matches(id findingID: String, artifact: String) -> Bool {
        (id == "*" || id == findingID) && Glob(path).matches(artifact)
    }
}

/// Shell-style globs over paths: `*` and `?` stay within a path component, `**` spans them.
public struct Glob: Sendable {
    let regex: NSRegularExpression?
    public init(_ pattern: String) {
        var re = "^"
        var chars = Array(pattern)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "*" {
                if i + 1 < chars.count && chars[i + 1] == "*" {
                    i += 1
                    // "**/": any folders (or archives, "a.whl!"), or none; never part of the next name.
                    if i + 1 < chars.count && chars[i + 1] == "/" { i += 1; re += "(?:.*[/!])?" } else { re += ".*" }
                } else {
                    re += "[^/]*"
                }
            } else if c == "?" {
                re += "[^/]"
            } else {
                re += NSRegularExpression.escapedPattern(for: String(c))
            }
            i += 1
        }
        chars = []
        regex = try? NSRegularExpression(pattern: re + "$")
    }

    public func matches(_ path: String) -> Bool {
        guard let regex else { return false }
        return regex.firstMatch(in: path, range: NSRange(path.startIndex..., in: path)) != nil
    }
}
