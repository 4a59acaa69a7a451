import Artifacts
import Compat
import ELF
import Foundation
import Testing
import TestSupport

/// auditwheel's expectations (../shared/corpora/MANIFEST.md) for the highest GLIBC needs and
/// the manylinux policy, on auditwheel's own test wheels.
@Suite struct ManylinuxPolicyTests {
    /// The ELF members of a wheel, scanned the way `muslcheck scan` does.
    static func scanWheel(_ path: String) -> [ScannedELF] {
        final class Box: @unchecked Sendable { var items: [ScannedELF] = []; let lock = NSLock() }
        let box = Box()
        ArtifactScanner(jobs: 1).scan(paths: [path]) { event in
            if case .batch(let b) = event { box.lock.lock(); box.items += b.items; box.lock.unlock() }
        }
        return box.items
    }

    static func wheels() -> String? {
        guard let corpora = TestPaths.corpora else {
            print("skipped: ../shared/corpora is absent; auditwheel's expectations were not checked")
            return nil
        }
        return corpora.appendingPathComponent("auditwheel/bundled-wheels").path
    }

    /// Version numbers read byte by byte give what the general Character path gives.
    @Test func versionNumbersReadFromBytesAgreeWithTheGeneralPath() {
        let texts = ["2.17", "3.4.29", "1.3.9", "2.2.5", "", ".", "..", "1..2", "1.", ".5", "12abc.3", "-5.1", "+3",
                     "99999999999999999999.1", "9223372036854775807", "9223372036854775808", "4.x.2", "0.0.0.0",
                     "2.3.4a", "a.b", "GLIBC_2.34", "7.12.3.4.5.6"]
        for t in texts {
            let general = t.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
            #expect(VersionNumber.asciiParts(t) == general, "\(t)")
            #expect(VersionNumber(t).parts == general, "\(t)")
        }
        #expect(VersionNumber.asciiParts("2.\u{00B2}") == nil)
        #expect(VersionNumber("3.4") < VersionNumber("3.4.1"))
        #expect(VersionNumber("2.17") == VersionNumber("2.17.0"))
    }

    @Test func testsimpleFitsManylinux25OnX86AndTheArchBaselineElsewhere() throws {
        guard let dir = Self.wheels() else { return }
        let analyzer = Analyzer(targets: [], data: try CompatData.shared())
        let expected = ["x86_64": "manylinux_2_5", "i686": "manylinux_2_5", "aarch64": "manylinux_2_17",
                        "armv7l": "manylinux_2_17", "ppc64le": "manylinux_2_17", "s390x": "manylinux_2_17",
                        "riscv64": "manylinux_2_31"]
        for (arch, policy) in expected {
            let wheel = "\(dir)/glibc/testsimple-0.0.1-cp313-cp313-linux_\(arch).whl"
            let items = Self.scanWheel(wheel)
            let item = try #require(items.first, "\(wheel) has an extension module")
            #expect(analyzer.manylinuxPolicy(item.file) == policy, "\(arch)")
            // No DT_NEEDED at all: the libc is told from the file name suffix.
            #expect(item.file.needed.isEmpty)
            #expect(analyzer.builtFor(item.file, name: item.displayPath) == .glibc, "\(arch): \(item.displayPath)")
        }
        for wheel in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/musllinux_1_2") {
            for item in Self.scanWheel("\(dir)/musllinux_1_2/\(wheel)") {
                // One musllinux wheel (cp310) names its module -linux-gnu.so: names are a weak signal.
                if wheel.contains("cp310") { continue }
                #expect(analyzer.builtFor(item.file, name: item.displayPath) == .musl, "\(item.displayPath)")
            }
        }
    }

    @Test func testzlibNeedsManylinux212AndFpewheelManylinux25() throws {
        guard let dir = Self.wheels() else { return }
        let analyzer = Analyzer(targets: [], data: try CompatData.shared())
        let zlib = try #require(Self.scanWheel("\(dir)/testzlib-0.0.1-cp310-cp310-linux_x86_64.whl").first)
        let zlibVersions = zlib.file.versionNeeds.flatMap { $0.versions.map(\.name) }
        #expect(zlibVersions.contains("ZLIB_1.2.0"))
        #expect(analyzer.highestVersions(zlib.file)["GLIBC"] == "2.2.5")
        #expect(analyzer.manylinuxPolicy(zlib.file) == "manylinux_2_12")

        let fpe = try #require(Self.scanWheel("\(dir)/fpewheel-0.0.0-cp35-cp35m-linux_x86_64.whl").first)
        #expect(analyzer.highestVersions(fpe.file)["GLIBC"] == "2.4")
        #expect(analyzer.manylinuxPolicy(fpe.file) == "manylinux_2_5")
    }

    @Test func pythonMsclNeedsItsVersions() throws {
        guard let dir = Self.wheels() else { return }
        let analyzer = Analyzer(targets: [], data: try CompatData.shared())
        let items = Self.scanWheel("\(dir)/python_mscl-67.0.1.0-cp313-cp313-manylinux2014_aarch64.whl")
        #expect(!items.isEmpty)
        var highest: [String: VersionNumber] = [:]
        for item in items {
            for (k, v) in analyzer.highestVersions(item.file) where highest[k].map({ $0 < VersionNumber(v) }) ?? true {
                highest[k] = VersionNumber(v)
            }
        }
        #expect(highest.mapValues(\.text) == ["GLIBC": "2.29", "GLIBCXX": "3.4.22", "CXXABI": "1.3.9", "GCC": "4.2.0"])
    }
}
