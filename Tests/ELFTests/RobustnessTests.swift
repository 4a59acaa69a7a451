import ELF
import Foundation
import Testing
import TestSupport

/// A deterministic generator, so a failing mutation can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Truncated, bit-flipped and field-smashed copies of real binaries: every read ends with a
/// result or a typed error, never a trap or a hang. CI runs this suite under the address
/// sanitizer too (ci/test).
@Suite struct RobustnessTests {
    enum Outcome { case result(partial: Bool), error }

    /// Reads one mutated image; returns what happened. A trap would end the test process.
    static func read(_ bytes: [UInt8], name: String) -> Outcome {
        do {
            let file = try ELFReader.read(bytes: bytes, displayPath: name)
            // Touch everything a caller would use, so lazily wrong data would show here.
            _ = file.symbols.reduce(0) { $0 &+ $1.name.utf8.count }
            _ = file.versionNeeds.flatMap(\.versions).count
            return .result(partial: file.isPartial)
        } catch {
            #expect(error.path == name, "an error must name the file")
            #expect(!error.reason.text.isEmpty)
            return .error
        }
    }

    /// The inputs: every fixture, system binaries of several shapes, and the corpora when present.
    static func inputs() throws -> [String] {
        var files = try Fixtures.all()
        files += ELFFiles.find(under: ["/usr/bin"], recursive: false, limit: 12)
        files += ELFFiles.find(under: ["/usr/lib/x86_64-linux-gnu"], recursive: false, limit: 12)
        files.append(contentsOf: ["/lib/ld-musl-x86_64.so.1"].filter { FileManager.default.fileExists(atPath: $0) })
        if let corpora = TestPaths.corpora {
            files += ELFFiles.find(under: [corpora.path], limit: 60)
        } else {
            print("note: ../shared/corpora is absent; mutating fixtures and system binaries only")
        }
        return files
    }

    static func load(_ path: String, maxBytes: Int = 4 << 20) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        // Large libraries: keep the head, where headers and dynamic tables live, plus the tail,
        // where section headers live, so mutations hit both.
        if data.count > maxBytes {
            return [UInt8](data.prefix(maxBytes / 2)) + [UInt8](data.suffix(maxBytes / 2))
        }
        return [UInt8](data)
    }

    @Test func truncatedFilesGiveAResultOrAnError() throws {
        var results = 0, errors = 0, partial = 0
        for path in try Self.inputs() {
            guard let bytes = Self.load(path) else { continue }
            var cuts: Set<Int> = [0, 1, 3, 4, 15, 16, 17, 51, 52, 53, 63, 64, 65, bytes.count - 1, bytes.count / 2]
            var rng = SplitMix64(seed: UInt64(truncatingIfNeeded: path.hashValue & 0xffff) ^ 0x5eed)
            for _ in 0..<24 { cuts.insert(Int.random(in: 0..<bytes.count, using: &rng)) }
            for k in stride(from: 64, to: min(bytes.count, 8192), by: 256) { cuts.insert(k) }
            for cut in cuts.sorted() where cut >= 0 && cut < bytes.count {
                switch Self.read(Array(bytes[0..<cut]), name: "\(path)@cut\(cut)") {
                case .result(let p): results += 1; if p { partial += 1 }
                case .error: errors += 1
                }
            }
        }
        print("truncation: \(results) results (\(partial) partial), \(errors) errors")
        #expect(results > 100, "truncations past the headers must still give results")
        #expect(errors > 50, "truncations inside the header must give errors")
        #expect(partial > 50, "truncated tables must be reported as partial")
    }

    @Test func flippedBytesGiveAResultOrAnError() throws {
        var outcomes = 0
        var rng = SplitMix64(seed: 0xE1F)
        for path in try Self.inputs() {
            guard var bytes = Self.load(path, maxBytes: 1 << 20) else { continue }
            let original = bytes
            for round in 0..<120 {
                bytes = original
                // Most flips land in the first 4 KiB: ELF header, program headers, dynamic tables.
                let span = round % 3 == 0 ? bytes.count : min(bytes.count, 4096)
                let flips = 1 + Int.random(in: 0..<4, using: &rng)
                for _ in 0..<flips {
                    let at = Int.random(in: 0..<span, using: &rng)
                    let values: [UInt8] = [0x00, 0xff, 0x7f, 0x80, 0x01, UInt8.random(in: 0...255, using: &rng)]
                    bytes[at] = values.randomElement(using: &rng)!
                }
                _ = Self.read(bytes, name: "\(path)@flip\(round)")
                outcomes += 1
            }
        }
        #expect(outcomes > 1000)
    }

    /// Word-sized fields set to extreme values: counts, offsets and sizes that point anywhere.
    @Test func smashedFieldsGiveAResultOrAnError() throws {
        var outcomes = 0
        var rng = SplitMix64(seed: 0xBAD)
        let extremes: [UInt64] = [0, 1, 0x7fff_ffff, 0xffff_ffff, 0x8000_0000_0000_0000, .max, 0xffff, 0x1_0000]
        for path in try Self.inputs().prefix(40) {
            guard let original = Self.load(path, maxBytes: 1 << 20) else { continue }
            let limit = min(original.count, 8192)
            for offset in stride(from: 16, to: limit - 8, by: 8) where Int.random(in: 0..<4, using: &rng) == 0 {
                var bytes = original
                let value = extremes.randomElement(using: &rng)!
                let width = [2, 4, 8].randomElement(using: &rng)!
                for k in 0..<width { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
                _ = Self.read(bytes, name: "\(path)@smash\(offset)")
                outcomes += 1
            }
        }
        #expect(outcomes > 1000)
    }

    /// The file path (pread) route too: truncated copies on disk, and special files.
    @Test func truncatedFilesOnDiskAndSpecialFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-robust-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = try Fixtures.path("libcxxlib.so")
        let bytes = try #require(Self.load(source))
        for cut in [10, 64, 200, 1000, 3000, bytes.count - 100] {
            let file = dir.appendingPathComponent("cut\(cut).so")
            try Data(bytes[0..<cut]).write(to: file)
            do {
                let result = try ELFReader.read(path: file.path)
                #expect(result.isPartial || cut > 3000, "a file cut at \(cut) must be reported partial")
            } catch {
                #expect(error.path == file.path)
            }
        }
        // A FIFO must be refused without blocking on open or read.
        let fifo = dir.appendingPathComponent("pipe").path
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(throws: ELFError.self) { try ELFReader.read(path: fifo) }
        do { _ = try ELFReader.read(path: fifo) } catch {
            #expect(error.reason == .notRegularFile("FIFO"))
        }
        // A directory, a missing file.
        do { _ = try ELFReader.read(path: dir.path) } catch {
            #expect(error.reason == .notRegularFile("directory"))
        }
        do { _ = try ELFReader.read(path: dir.appendingPathComponent("missing").path) } catch {
            #expect(error.reason == .io(ENOENT, "No such file or directory"))
        }
    }
}
