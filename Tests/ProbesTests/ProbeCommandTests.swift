import Foundation
import Probes
import Testing
import TestSupport

/// `muslcheck probe` against the real daemon and the local musl image.
@Suite(.serialized) struct ProbeCommandTests {
    /// One run of every built-in probe, with the host as baseline, shared by the tests below.
    static let catalogRun: Result<String, TestSupportError> = {
        if let reason = DockerTest.unavailableReason { return .failure(TestSupportError(reason)) }
        do {
            let r = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", DockerTest.baseImage, "--pull", "never",
                                                              "--baseline-image", "host", "--format", "json"])
            guard r.status == 0 else { return .failure(TestSupportError("probe exited \(r.status): \(r.stderr)")) }
            return .success(r.stdout)
        } catch {
            return .failure(TestSupportError("\(error)"))
        }
    }()

    func image() throws -> [String: Any]? {
        switch Self.catalogRun {
        case .success(let text):
            let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return try #require((json["images"] as? [[String: Any]])?.first, "no image in the output")
        case .failure(let e):
            if DockerTest.skipped { print("skipped: \(e)"); return nil }
            Issue.record(Comment(rawValue: "\(e)"))
            return nil
        }
    }

    func values(_ image: [String: Any], _ probe: String, baseline: Bool = false) throws -> [String: Any] {
        let list = try #require(image[baseline ? "baselineProbes" : "probes"] as? [[String: Any]])
        let p = try #require(list.first { $0["id"] as? String == probe }, "\(probe) ran")
        #expect(p["status"] as? String == "ok", "\(probe): \(p["error"] ?? "")")
        return try #require(p["values"] as? [String: Any])
    }

    @Test func everyBuiltInProbeRunsAndMeasuresMusl() throws {
        guard let image = try image() else { return }
        #expect(image["musl"] as? String == "1.2.3", "the image's loader banner gives the version")
        #expect((image["osRelease"] as? String)?.contains("muslcheck test image") == true)
        let probes = try #require(image["probes"] as? [[String: Any]])
        #expect(probes.count == 12)
        for p in probes { #expect(p["status"] as? String == "ok", "\(p["id"] ?? ""): \(p["error"] ?? "")") }

        let stack = try values(image, "thread-stack")
        #expect(stack["default_stack_size"] as? Int == 131072)
        #expect(stack["default_guard_size"] as? Int == 8192)
        #expect((stack["recursion_kib"] as? Int).map { $0 > 64 && $0 < 128 } == true)
        let getopt = try values(image, "getopt")
        #expect(getopt["getopt_first"] as? String == "-1", "musl's getopt does not permute")
        #expect(getopt["getopt_optind"] as? Int == 1)
        let iconv = try values(image, "iconv")
        #expect(iconv["to_ascii_translit"] as? Bool == false, "//TRANSLIT is refused")
        #expect(iconv["euro_latin1_behavior"] as? String == "star")
        #expect(iconv["utf16_bom"] as? Bool == false)
        let dl = try values(image, "dlclose")
        #expect(dl["second_bump"] as? Int == 2, "dlclose does not unload")
        #expect(dl["dtor_ran_at_dlclose"] as? Bool == false)
        let locale = try values(image, "locale")
        #expect(locale["default_codeset"] as? String == "UTF-8")
        #expect(locale["unknown_locale_accepted"] as? Bool == true)
        let stdio = try values(image, "stdio-errors")
        #expect(stdio["strerror_0"] as? String == "No error information")
        #expect(stdio["printf_Ld_return"] as? Int == -1)
        let regex = try values(image, "regex-glob")
        #expect(regex["sizeof_regoff_t"] as? Int == 8)
        #expect(regex["glob_brace_defined"] as? Bool == false)
        let time = try values(image, "time")
        #expect(time["zoneinfo_dir"] as? Bool == false)
        #expect(time["bogus_winter_zone"] as? String == "UTC")
        let resolver = try values(image, "resolver")
        #expect(resolver["numeric_null_hints_count"] as? Int == 2)
        #expect(resolver["ndots_queries"] as? [String] == ["a.b"], "no search suffix for a name with enough dots")
        let malloc = try values(image, "malloc")
        #expect((malloc["missing"] as? [String])?.contains("mallinfo") == true)
        let nss = try values(image, "nss")
        #expect(nss["nsswitch_conf"] as? Bool == false)
        let gcompat = try values(image, "gcompat")
        #expect(gcompat["dlopen_ok"] as? Bool == false)
        #expect((gcompat["dlerror"] as? String)?.contains("__snprintf_chk: symbol not found") == true)
    }

    @Test func theHostBaselineDiffersAsTheTableSays() throws {
        guard let image = try image() else { return }
        #expect(image["baseline"] as? String == "host")
        let stack = try values(image, "thread-stack", baseline: true)
        #expect(stack["default_stack_size"] as? Int == 8388608)
        let getopt = try values(image, "getopt", baseline: true)
        #expect(getopt["getopt_first"] as? String == "a", "glibc permutes")
        let iconv = try values(image, "iconv", baseline: true)
        #expect(iconv["to_ascii_translit"] as? Bool == true)
        let stdio = try values(image, "stdio-errors", baseline: true)
        #expect(stdio["strerror_0"] as? String == "Success")
        let regex = try values(image, "regex-glob", baseline: true)
        #expect(regex["sizeof_regoff_t"] as? Int == 4)
        let dl = try values(image, "dlclose", baseline: true)
        #expect(dl["second_bump"] as? Int == 1)
        let comparisons = try #require(image["comparisons"] as? [[String: Any]])
        let stackLine = try #require(comparisons.first { $0["field"] as? String == "default_stack_size" })
        #expect(stackLine["text"] as? String == "default thread stack: 8 MiB → 128 KiB")
        #expect(stackLine["differs"] as? Bool == true)
    }

    @Test func theLoaderProbeConfirmsTheStaticVerdictsOfTheFixtures() throws {
        if let reason = DockerTest.unavailableReason { if DockerTest.skipped { print("skipped: \(reason)"); return }; Issue.record(Comment(rawValue: reason)); return }
        let dir = try Fixtures.directory().path
        let r = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", DockerTest.baseImage, "--pull", "never", "--probe", "loader",
                                                          "--exec-smoke", "--format", "json", dir])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let image = try #require((json["images"] as? [[String: Any]])?.first)
        let loader = try #require(image["loader"] as? [[String: Any]])
        #expect(loader.count >= 20)
        let checked = loader.filter { $0["agreement"] as? String != "not-run" }
        #expect(checked.count >= 18, "static executables are not listed by the loader; the rest are")
        for l in loader where l["agreement"] as? String == "contradicted" {
            Issue.record("contradicted: \(l["artifact"] ?? ""): \(l["differences"] ?? "")")
        }
        let cxx = try #require(loader.first { ($0["artifact"] as? String)?.hasSuffix("libcxxlib.so") == true })
        #expect(((cxx["listing"] as? [String: Any])?["missingLibraries"] as? [String])?.contains("libstdc++.so.6") == true)
        let glibcExe = try #require(loader.first { ($0["artifact"] as? String)?.hasSuffix("/hello-glibc") == true })
        #expect((glibcExe["execSmoke"] as? [String: Any])?["expected"] as? String == "not found")
        #expect((glibcExe["execSmoke"] as? [String: Any])?["agrees"] as? Bool == true)
        let muslExe = try #require(loader.first { ($0["artifact"] as? String)?.hasSuffix("/hello-musl") == true })
        #expect((muslExe["execSmoke"] as? [String: Any])?["firstLine"] as? String == "hello 1.0")
    }

    @Test func aWrongExpectationIsAContradiction() throws {
        // The comparison itself, fed the real loader's listing of libcxxlib.so and an expectation
        // that (wrongly) says it loads.
        let real = LoaderListing.parse(stdout: "\t/lib/ld-musl-x86_64.so.1 (0x7f00)\n",
                                       stderr: "Error loading shared library libstdc++.so.6: No such file or directory (needed by /a/libcxxlib.so)\nError relocating /a/libcxxlib.so: _Znwm: symbol not found\n",
                                       status: 127)
        let wrong = LoaderListing(status: 0)
        let differences = LoaderListing.differences(real: real, simulated: wrong, hostProvided: [])
        #expect(differences.count == 2)
        #expect(differences[0].contains("libstdc++.so.6"))
        #expect(differences[1].contains("libcxxlib.so _Znwm"))
        // Host-provided symbols are dropped on both sides.
        let py = LoaderListing.parse(stdout: "", stderr: "Error relocating /a/x.so: PyLong_FromLong: symbol not found\n", status: 127)
        #expect(LoaderListing.differences(real: py, simulated: LoaderListing(status: 0), hostProvided: ["PyLong_FromLong"]).isEmpty)
    }
}

extension ProbeCommandTests {
    @Test func aBaselineImageRunsTheGlibcBuildInAContainer() throws {
        if let reason = DockerTest.unavailableReason { if DockerTest.skipped { print("skipped: \(reason)"); return }; Issue.record(Comment(rawValue: reason)); return }
        let glibc = try DockerTest.glibcImage()
        let r = try TestCommand.run(TestPaths.muslcheck, ["probe", "--image", DockerTest.baseImage, "--pull", "never", "--baseline-image", glibc,
                                                          "--probe", "thread-stack", "--probe", "getopt", "--probe", "iconv", "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let image = try #require((json["images"] as? [[String: Any]])?.first)
        #expect(image["baseline"] as? String == glibc)
        let stack = try values(image, "thread-stack", baseline: true)
        #expect(stack["default_stack_size"] as? Int == 8388608)
        let getopt = try values(image, "getopt", baseline: true)
        #expect(getopt["getopt_first"] as? String == "a")
        let iconv = try values(image, "iconv", baseline: true)
        #expect(iconv["to_ascii_translit"] as? Bool == true, "glibc's gconv modules are in the image")
        let comparisons = try #require(image["comparisons"] as? [[String: Any]])
        #expect(comparisons.contains { $0["text"] as? String == "default thread stack: 8 MiB → 128 KiB" })
        #expect(Set(comparisons.compactMap { $0["probe"] as? String }) == ["thread-stack", "getopt", "iconv"])
    }
}
