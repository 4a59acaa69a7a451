/// Open-addressing slots in manually managed memory: LookupMemo and DefinerCache read them
/// without the exclusivity checks and reference counting that arrays in a class would cost per
/// probe.
final class HashSlots<Name> {
    let keys: UnsafeMutablePointer<UInt64>
    let generations: UnsafeMutablePointer<UInt32>
    let names: UnsafeMutablePointer<Name>
    let a: UnsafeMutablePointer<Int>
    let b: UnsafeMutablePointer<Int>
    let size: Int
    var mask: Int { size - 1 }

    /// `empty`: what the value slots `a` and `b` hold before anything is stored; `noName` what
    /// the name slots hold.
    init(size: Int, empty: Int, noName: Name) {
        self.size = size
        keys = .allocate(capacity: size); keys.initialize(repeating: 0, count: size)
        generations = .allocate(capacity: size); generations.initialize(repeating: 0, count: size)
        names = .allocate(capacity: size); names.initialize(repeating: noName, count: size)
        a = .allocate(capacity: size); a.initialize(repeating: empty, count: size)
        b = .allocate(capacity: size); b.initialize(repeating: empty, count: size)
    }

    deinit {
        keys.deallocate()
        generations.deallocate()
        names.deinitialize(count: size)
        names.deallocate()
        a.deallocate()
        b.deallocate()
    }
}
