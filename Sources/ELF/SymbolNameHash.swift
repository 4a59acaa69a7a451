/// The hash muslcheck's symbol tables use for a name: eight bytes at a step, then a final mix,
/// so that low bits (table slots) and high bits (Bloom filters) both depend on every byte.
/// Never 0. `terminatedName(in:at:)` computes the same value while it finds the name's end.
@inline(__always)
public func symbolNameHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let n = bytes.count
    guard n > 0, let raw = bytes.baseAddress else { return 1 }
    var h = NameHash.seed
    var i = 0
    while i &+ 8 <= n {
        h = NameHash.word(h, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
        i &+= 8
    }
    if i < n {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(raw.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift &+= 8
            i &+= 1
        }
        h = NameHash.tail(h, tail)
    }
    return NameHash.finish(h, n)
}

/// The same hash over a string's UTF-8 bytes.
public func symbolNameHash(_ name: String) -> UInt64 {
    var name = name
    return name.withUTF8 { symbolNameHash(UnsafeRawBufferPointer($0)) }
}

enum NameHash {
    static let seed: UInt64 = 0x9e37_79b9_7f4a_7c15

    @inline(__always)
    static func word(_ h: UInt64, _ w: UInt64) -> UInt64 {
        var h = (h ^ w) &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 29
        return h
    }

    @inline(__always)
    static func tail(_ h: UInt64, _ t: UInt64) -> UInt64 { (h ^ t) &* 0xc4ce_b9fe_1a85_ec53 }

    @inline(__always)
    static func finish(_ h: UInt64, _ n: Int) -> UInt64 {
        guard n > 0 else { return 1 }
        var h = h ^ (UInt64(truncatingIfNeeded: n) &* 0x9e37_79b9_7f4a_7c15)
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h == 0 ? 1 : h
    }
}

/// The NUL-terminated string at `offset` in a string table: where it starts, its length and its
/// `symbolNameHash`, found in one pass over its bytes. Nil when the offset or the terminator lies
/// outside the table.
@inline(__always)
public func terminatedName(in table: UnsafeRawBufferPointer, at offset: Int) -> (start: UnsafeRawPointer, length: Int, hash: UInt64)? {
    guard offset >= 0, offset < table.count, let base = table.baseAddress else { return nil }
    let start = base + offset
    let remaining = table.count - offset
    #if _endian(little)
    var h = NameHash.seed
    var i = 0
    while i &+ 8 <= remaining {
        let w = start.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        // The lowest byte this flags is the first zero byte (a borrow only moves upwards from one).
        let zero = (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080
        if zero != 0 {
            let k = zero.trailingZeroBitCount >> 3
            if k > 0 { h = NameHash.tail(h, w & ((1 << (UInt64(k) << 3)) &- 1)) }
            return (start, i &+ k, NameHash.finish(h, i &+ k))
        }
        h = NameHash.word(h, w)
        i &+= 8
    }
    var tail: UInt64 = 0
    var shift: UInt64 = 0
    while i < remaining {
        let b = start.load(fromByteOffset: i, as: UInt8.self)
        if b == 0 {
            if shift > 0 { h = NameHash.tail(h, tail) }
            return (start, i, NameHash.finish(h, i))
        }
        tail |= UInt64(b) << shift
        shift &+= 8
        i &+= 1
    }
    return nil
    #else
    var n = 0
    while n < remaining && start.load(fromByteOffset: n, as: UInt8.self) != 0 { n &+= 1 }
    guard n < remaining else { return nil }
    return (start, n, symbolNameHash(UnsafeRawBufferPointer(start: start, count: n)))
    #endif
}
