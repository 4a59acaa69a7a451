/// Text inside XML and HTML, for the JUnit, HTML and Markdown renderers.
enum Markup {
    /// XML 1.0 allows tab, newline, carriage return and characters from U+0020 on (but not the
    /// surrogates or U+FFFE/U+FFFF); anything else, as found in hostile symbol names, becomes U+FFFD.
    static func clean(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            let v = u.value
            let ok = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) || v >= 0x10000
            out.append(ok ? u : "\u{FFFD}")
        }
        return String(out)
    }

    /// Cleaned, with &, < and > escaped; with `quotes`, " and ' too.
    static func escape(_ s: String, quotes: Bool = false) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in clean(s) {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where quotes: out += "&quot;"
            case "'" where quotes: out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
