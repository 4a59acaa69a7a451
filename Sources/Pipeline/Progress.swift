import Artifacts
import Foundation

/// Objects kept until the process exits. A scan's files, caches and tables are millions of
/// small allocations: freeing them one by one just before exiting took tens of milliseconds.
enum UntilExit {
    nonisolated(unsafe) private static var kept: [AnyObject] = []
    private static let lock = NSLock()

    static func keep(_ objects: AnyObject...) {
        lock.lock()
        kept += objects
        lock.unlock()
    }
}

/// Scan progress on stderr, on a terminal only: one line rewritten in place.
public final class ScanProgress: @unchecked Sendable {
    private var timer: DispatchSourceTimer?
    private let lock = NSLock()
    private var extra = ""

    public static func forTerminal() -> ScanProgress? {
        isatty(STDERR_FILENO) == 1 ? ScanProgress() : nil
    }

    func start(_ counts: @escaping @Sendable () -> ScanCounts) {
        let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        t.schedule(deadline: .now() + 0.3, repeating: 0.25)
        t.setEventHandler { [self] in
            let c = counts()
            lock.lock(); let e = extra; lock.unlock()
            let line = "scanning: \(c.files) files, \(c.elfFiles) ELF, \(c.archives) archives\(e)"
            FileHandle.standardError.write(Data("\r\u{1b}[K\(line)".utf8))
        }
        t.resume()
        timer = t
    }

    func note(_ text: String) { lock.lock(); extra = text.isEmpty ? "" : "; " + text; lock.unlock() }

    func stop() {
        timer?.cancel()
        timer = nil
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
    }
}
