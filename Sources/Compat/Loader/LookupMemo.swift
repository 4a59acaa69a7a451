import ELF

/// One load's answers of find_sym from the head, by name: (index of the defining object or -1,
/// index of the first library known by name only that could define it, or -1). Memos are
/// reused from load to load (`take`/`give`): a new load only bumps the generation, so neither
/// allocation nor clearing is paid per load.
final class LookupMemo: @unchecked Sendable {
    /// Names are the symbols' own name bytes, which outlive the load (the objects of the load
    /// hold their files); a slot of an earlier generation is never read.
    private var slots = HashSlots<NameBytes>(size: 512, empty: -1, noName: .empty)
    private var count = 0
    private var generation: UInt32 = 1

    static let pool = Pool { LookupMemo() }

    /// An empty memo, from the pool when one is free.
    static func take() -> LookupMemo {
        let memo = pool.take()
        memo.reset()
        return memo
    }

    static func give(_ memo: LookupMemo) { pool.give(memo) }

    func reset() {
        count = 0
        generation &+= 1
        if generation == 0 {
            slots.generations.update(repeating: 0, count: slots.size)
            generation = 1
        }
    }

    @inline(__always)
    func find(_ name: NameBytes, hash: UInt64) -> (def: Int, opaque: Int)? {
        let s = slots
        let g = generation
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while true {
            if s.generations[i] != g { return nil }
            if s.keys[i] == hash && s.names[i] == name { return (s.a[i], s.b[i]) }
            i = (i + 1) & s.mask
        }
    }

    func insert(_ name: NameBytes, hash: UInt64, _ value: (def: Int, opaque: Int)) {
        if (count + 1) * 2 > slots.size { grow() }
        let s = slots
        let g = generation
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while s.generations[i] == g {
            if s.keys[i] == hash && s.names[i] == name { s.a[i] = value.def; s.b[i] = value.opaque; return }
            i = (i + 1) & s.mask
        }
        s.keys[i] = hash
        s.generations[i] = g
        s.names[i] = name
        s.a[i] = value.def
        s.b[i] = value.opaque
        count += 1
    }

    private func grow() {
        let old = slots
        let g = generation
        slots = HashSlots(size: old.size * 2, empty: -1, noName: .empty)
        count = 0
        generation = 1
        for j in 0..<old.size where old.generations[j] == g { insert(old.names[j], hash: old.keys[j], (old.a[j], old.b[j])) }
    }
}
