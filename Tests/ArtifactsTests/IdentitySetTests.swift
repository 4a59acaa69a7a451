@testable import Artifacts
import Foundation
import Testing
import TestSupport

@Suite struct IdentitySetTests {
    /// Against the standard Set, on identities that share devices, inodes and hash slots, with
    /// zero among them, across several growths of the table.
    @Test func answersLikeASet() {
        var generator = SystemRandomNumberGenerator()
        var ours = IdentitySet()
        var reference = Set<Walker.Identity>()
        for round in 0..<20_000 {
            let device = UInt64.random(in: 0...3, using: &generator)
            let inode = round % 3 == 0 ? UInt64.random(in: 0...5_000, using: &generator) : UInt64.random(in: 0...UInt64.max, using: &generator)
            let id = Walker.Identity(device: device, inode: inode)
            #expect(ours.contains(id) == reference.contains(id))
            #expect(ours.insert(id) == reference.insert(id).inserted)
        }
        #expect(ours.count == reference.count)
        for id in reference { #expect(ours.contains(id)) }
        #expect(!ours.contains(Walker.Identity(device: 9, inode: 0)))
    }

    /// Hard links: one file under 1,500 names is scanned once, the other names count as duplicates.
    @Test func hardLinksAreScannedOnce() throws {
        let dir = try Scratch("hardlinks")
        try FileManager.default.copyItem(atPath: try Fixtures.path("hello-glibc"), toPath: dir.file("hello"))
        for i in 0..<1_500 {
            #expect(link(dir.file("hello"), dir.file("link-\(i)")) == 0)
            try Data("text \(i)".utf8).write(to: URL(fileURLWithPath: dir.file("text-\(i)")))
        }
        let counts = ArtifactScanner(jobs: 2).scan(paths: [dir.path]) { _ in }
        #expect(counts.elfFiles == 1)
        #expect(counts.nonELFFiles == 1_500)
        #expect(counts.duplicates == 1_500)
    }
}

/// Sizes in messages (MC004) round to a tenth and never cut down.
@Suite struct ByteSizeTextTests {
    @Test func sizesRoundToATenthBelowTenUnits() {
        #expect(formatBytes(100) == "100 bytes")
        #expect(formatBytes(1536) == "1.5 KiB")
        #expect(formatBytes(2 << 20) == "2 MiB")
        #expect(formatBytes(2_096_000) == "2.0 MiB", "1.999 MiB is not '1 MiB'")
        #expect(formatBytes(2_000_000) == "1.9 MiB")
        #expect(formatBytes(UInt64(2) << 30) == "2 GiB")
        #expect(formatBytes((UInt64(12) << 20) + 1) == "12 MiB")
    }
}
