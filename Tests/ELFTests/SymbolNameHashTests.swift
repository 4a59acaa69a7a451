import ELF
import Testing

/// The one-pass reading of a string table entry agrees with finding its end and hashing it apart.
@Suite struct SymbolNameHashTests {
    @Test func terminatedNamesHaveTheLengthAndHashOfTheirBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            // A table of random names (bytes 1...255) with NULs between, sometimes unterminated.
            var table: [UInt8] = [0]
            var starts: [Int] = []
            for _ in 0..<Int.random(in: 1...12, using: &generator) {
                starts.append(table.count)
                table += (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 1...255, using: &generator) }
                table.append(0)
            }
            if Bool.random(using: &generator) { table.removeLast() }
            table.withUnsafeBytes { raw in
                for offset in 0..<table.count {
                    let end = table[offset...].firstIndex(of: 0)
                    let got = terminatedName(in: raw, at: offset)
                    guard let end else {
                        #expect(got == nil, "offset \(offset): no terminator, yet a name")
                        continue
                    }
                    #expect(got?.length == end - offset)
                    #expect(got?.hash == symbolNameHash(UnsafeRawBufferPointer(rebasing: raw[offset..<end])))
                }
                #expect(terminatedName(in: raw, at: table.count) == nil)
                #expect(terminatedName(in: raw, at: -1) == nil)
            }
        }
    }

    @Test func equalNamesHashEquallyAndTheHashIsNeverZero() {
        let names = ["", "a", "memcpy", "__memcpy_chk", "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE9_M_createERmm", "12345678", "123456789"]
        for n in names {
            let bytes = Array(n.utf8)
            let h = bytes.withUnsafeBytes { symbolNameHash($0) }
            #expect(h != 0)
            let again = (bytes + [0, 7]).withUnsafeBytes { terminatedName(in: $0, at: 0)?.hash }
            #expect(again == h, "\(n)")
        }
        let a = Array("memcpy".utf8).withUnsafeBytes { symbolNameHash($0) }
        let b = Array("memcpz".utf8).withUnsafeBytes { symbolNameHash($0) }
        #expect(a != b)
    }
}
