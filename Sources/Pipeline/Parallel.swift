import Foundation
import Synchronization

/// Runs `body` for every index in 0..<count on `jobs` threads (the calling thread is one of
/// them), each taking the next index as it finishes one, and returns when all are done.
/// libdispatch's concurrentPerform sometimes ran a whole phase on the calling thread alone.
enum Parallel {
    static func forEach(_ count: Int, jobs: Int, _ body: @escaping @Sendable (Int) -> Void) {
        guard count > 0 else { return }
        let threads = max(1, min(jobs, count))
        if threads == 1 {
            for i in 0..<count { body(i) }
            return
        }
        let next = Atomic<Int>(0)
        let work: @Sendable () -> Void = {
            while case let i = next.add(1, ordering: .relaxed).oldValue, i < count { body(i) }
        }
        let group = DispatchGroup()
        for _ in 1..<threads {
            group.enter()
            Thread.detachNewThread {
                work()
                group.leave()
            }
        }
        work()
        group.wait()
    }
}
