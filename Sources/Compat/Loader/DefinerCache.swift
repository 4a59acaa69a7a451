/// Which objects are known to accept a definition of a name, learned from earlier loads: a
/// later load that has one of them in its list needs no walk to know the name is defined. Like
/// LookupMemo, caches are lent out per load (never used by two threads at once); each is bounded.
final class DefinerCache: @unchecked Sendable {
    /// keys: name hashes (0: empty); a, b: up to two LinkFacts ids per hash (0: none). No names:
    /// a candidate is confirmed by the object's own table, so a hash two names share costs a
    /// look, never a wrong answer (and the cache holds and copies no strings).
    private var slots: HashSlots<Bool>
    private var count = 0
    static let limit = 1 << 16

    init() { slots = HashSlots(size: 1 << 12, empty: 0, noName: false) }

    static let pool = Pool { DefinerCache() }
    static func take() -> DefinerCache { pool.take() }
    static func give(_ cache: DefinerCache) { pool.give(cache) }

    /// The id of an object of `present` (the load's LinkFacts ids) known to define a name of
    /// this hash, confirmed by `defines` (given the object's position in the load), or 0.
    @inline(__always)
    func knownDefiner(hash: UInt64, in present: IDSet, defines: (Int) -> Bool) -> Int {
        let s = slots
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while true {
            let k = s.keys[i]
            if k == 0 { return 0 }
            if k == hash {
                let a = s.a[i], b = s.b[i]
                if case let p = present.position(of: a), p >= 0, defines(p) { return a }
                if case let p = present.position(of: b), p >= 0, defines(p) { return b }
                return 0
            }
            i = (i + 1) & s.mask
        }
    }

    func record(hash: UInt64, definer id: Int) {
        if (count + 1) * 2 > slots.size { grow() }
        let s = slots
        var i = Int(truncatingIfNeeded: hash) & s.mask
        while s.keys[i] != 0 {
            if s.keys[i] == hash {
                if s.a[i] != id && s.b[i] != id { s.b[i] = s.a[i]; s.a[i] = id }
                return
            }
            i = (i + 1) & s.mask
        }
        s.keys[i] = hash
        s.a[i] = id
        s.b[i] = 0
        count += 1
    }

    private func grow() {
        let old = slots
        // Bounded: past the limit it starts over rather than grow.
        let size = old.size >= Self.limit * 2 ? old.size : old.size * 2
        slots = HashSlots(size: size, empty: 0, noName: false)
        count = 0
        guard size > old.size else { return }
        for j in 0..<old.size where old.keys[j] != 0 {
            if old.b[j] != 0 { record(hash: old.keys[j], definer: old.b[j]) }
            record(hash: old.keys[j], definer: old.a[j])
        }
    }
}
