import Foundation

/// Objects lent out per load and given back (never used by two threads at once), so that their
/// storage is allocated once per thread rather than once per load.
final class Pool<T: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [T] = []
    private let make: () -> T

    init(_ make: @escaping () -> T) { self.make = make }

    func take() -> T {
        lock.lock()
        let item = free.popLast()
        lock.unlock()
        return item ?? make()
    }

    func give(_ item: T) {
        lock.lock()
        if free.count < 16 { free.append(item) }
        lock.unlock()
    }
}
