/// The positions of one load's objects by LinkFacts id (positive ids), open addressing.
struct IDSet {
    private var slots: [Int]
    private var positions: [Int]
    private let mask: Int

    init(_ ids: [(id: Int, position: Int)]) {
        var size = 8
        while size < ids.count * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        positions = Array(repeating: -1, count: size)
        mask = size - 1
        for (id, position) in ids where id > 0 {
            var i = (id &* 0x9E37_79B9) & mask
            while slots[i] != 0 && slots[i] != id { i = (i + 1) & mask }
            if slots[i] == 0 { slots[i] = id; positions[i] = position }
        }
    }

    /// The position of the object with this id, or -1.
    @inline(__always)
    func position(of id: Int) -> Int {
        guard id > 0 else { return -1 }
        var i = (id &* 0x9E37_79B9) & mask
        while true {
            let s = slots[i]
            if s == id { return positions[i] }
            if s == 0 { return -1 }
            i = (i + 1) & mask
        }
    }

    @inline(__always)
    func contains(_ id: Int) -> Bool { position(of: id) >= 0 }
}
