#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read as ELF at all. A file that is ELF but damaged is read as far as
/// possible instead, and its problems are listed in `ELFFile.problems`.
public struct ELFError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// The first four bytes are not `\x7fELF`.
        case notELF
        /// The file ends before the named structure does.
        case truncated(String)
        /// A header field has a value no ELF reader can work with.
        case invalidHeader(String)
        /// The path is a directory, FIFO, device or socket.
        case notRegularFile(String)
        /// open/read failed: errno and its text.
        case io(Int32, String)
        /// libelf refused the file.
        case libelf(String)

        public var text: String {
            switch self {
            case .notELF: "not an ELF file (no \\x7fELF magic)"
            case .truncated(let what): "truncated: \(what)"
            case .invalidHeader(let what): "invalid ELF header: \(what)"
            case .notRegularFile(let kind): "not a regular file (\(kind))"
            case .io(_, let text): text
            case .libelf(let text): "libelf: \(text)"
            }
        }
    }

    public var path: String
    public var reason: Reason

    public init(path: String, reason: Reason) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason.text)" }

    static func errno(path: String, _ code: Int32) -> ELFError {
        ELFError(path: path, reason: .io(code, String(cString: strerror(code))))
    }
}
