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

    /// Whether some UTF-8 byte of `s` is one of `special`, a control character other than tab,
    /// newline and carriage return, or not ASCII: text without any is returned as it is by the
    /// escapers below (almost every path, symbol and message), one pass over its bytes.
    static func needsWork(_ s: String, special: StaticString) -> Bool {
        var s = s
        return s.withUTF8 { bytes in
            special.withUTF8Buffer { specials in
                for b in bytes {
                    if b >= 0x80 || (b < 0x20 && b != 0x09 && b != 0x0A && b != 0x0D) { return true }
                    if specials.contains(b) { return true }
                }
                return false
            }
        }
    }

    /// Cleaned, with &, < and > escaped; with `quotes`, " and ' too.
    static func escape(_ s: String, quotes: Bool = false) -> String {
        guard needsWork(s, special: quotes ? "&<>\"'" : "&<>") else { return s }
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
