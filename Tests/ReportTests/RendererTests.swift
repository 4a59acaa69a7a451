import Compat
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Policy
import Probes
import Report
import Testing
import TestSupport

/// Each renderer on the report of `muslcheck check fixtures/build` against the local musl image
/// (with the probes): the content asserted against the report's own values.
@Suite struct RendererTests {
    static func checked() throws -> (CompatibilityReport, CheckedFixtures.Run) {
        let run = try CheckedFixtures.best()
        return (try CompatibilityReport.decode(run.json), run)
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let path = try CheckedFixtures.scratch("render") + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The error and warning findings of the artifacts that fail the gate.
    static func failing(_ r: CompatibilityReport) -> Set<String> {
        Set(Gate(level: r.inputs.failOn).failures(r).map(\.artifact))
    }

    /// The default gate's reasons, counted from the verdicts themselves: artifacts incompatible
    /// on some target, and artifacts needing gcompat on a target that lacks it.
    static func expectedReasons(_ r: CompatibilityReport) -> String {
        let lacking = Set(r.targets.filter { !$0.gcompat }.map(\.name))
        let incompatible = r.artifacts.filter { $0.verdicts.contains { $0.verdict == .incompatible } }
        let incompatibleTargets = Set(incompatible.flatMap { $0.verdicts.filter { $0.verdict == .incompatible }.map(\.target) })
        let gcompat = r.artifacts.filter { $0.verdicts.contains { $0.verdict == .needsGcompat && lacking.contains($0.target) } }
        let gcompatTargets = Set(gcompat.flatMap { $0.verdicts.filter { $0.verdict == .needsGcompat && lacking.contains($0.target) }.map(\.target) }).sorted()
        let on = { (targets: [String]) in r.targets.count == 1 || targets.count == r.targets.count ? "" : " on " + targets.joined(separator: ", ") }
        var parts = ["\(incompatible.count) artifacts incompatible" + on(incompatibleTargets.sorted())]
        if !gcompat.isEmpty {
            parts.append("\(gcompat.count) artifacts need gcompat" + (r.targets.count > 1 ? on(gcompatTargets) : "")
                         + " (\(gcompatTargets.joined(separator: ", ")) \(gcompatTargets.count == 1 ? "has" : "have") no gcompat)")
        }
        return parts.joined(separator: "; ")
    }

    @Test func theFixturesReportHasTheExpectedShape() throws {
        let (r, run) = try Self.checked()
        #expect(run.status == 1, "incompatible fixtures fail the default gate")
        let path = { (name: String) in "fixtures/build/" + name }
        let byPath = Dictionary(uniqueKeysWithValues: r.artifacts.map { ($0.path, $0) })
        #expect(byPath[path("libifunc.so")]?.worstVerdict == .incompatible)
        #expect(byPath[path("hello-musl")]?.worstVerdict == .nativeMusl)
        #expect(r.counts.artifacts == r.artifacts.count)
        if CheckedFixtures.withImage != nil {
            #expect(r.probes.count == 1)
            let image = try #require(r.probes.first)
            #expect(image.musl == "1.2.3")
            // Every artifact's verdict is confirmed in the image: by the real loader, or (static) by starting it.
            for a in r.artifacts {
                #expect(a.verdicts.first?.loaderProbe == "confirmed", "\(a.path): \(a.verdicts.first?.loaderProbe ?? "nil")")
            }
            #expect(!r.allFindings.contains { $0.id == "MC150" })
            // No durations without --timings.
            #expect(image.probes.allSatisfy { $0.milliseconds == nil })
            #expect(image.probes.first { $0.id == "thread-stack" }?.values["default_stack_size"] == .number(131072))
        }
    }

    @Test func textLeadsWithEachActionOnceThenOneLinePerArtifactThatDoesNotRun() throws {
        let (r, _) = try Self.checked()
        let text = TextRenderer(color: false).render(r)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[3] == "What to do, worst first:")
        let header = try #require(lines.firstIndex { $0.hasPrefix("Does not run as given on ") })
        // Each action once, with the artifacts it covers on the line below.
        let actions = lines[4..<header].filter { $0.hasPrefix("  ✗") || $0.hasPrefix("  !") || $0.hasPrefix("  ✓") }
        #expect(Set(actions).count == actions.count, "each action once: \(actions)")
        let byPath = Dictionary(uniqueKeysWithValues: r.artifacts.map { ($0.path, $0) })
        let needGcompat = r.artifacts.filter { $0.verdicts.contains { $0.verdict == .needsGcompat } }.count
        #expect(actions.contains("  ! apk add gcompat (\(needGcompat) programs)"), "\(actions)")
        let ifunc = try #require(actions.firstIndex { $0.contains("rebuild without IFUNC") })
        #expect(lines[lines.firstIndex(of: actions[ifunc])! + 1] == "      libifunc.so")
        // One line per artifact that does not run as given, worst first, and no other.
        let failing = Self.failing(r)
        let artifactLines = lines[header...].filter { $0.hasPrefix("  ✗") || $0.hasPrefix("  !") }
        #expect(lines[header].hasPrefix("Does not run as given on \(r.targets[0].name): \(failing.count) of \(r.artifacts.count) artifacts"))
        #expect(artifactLines.count == failing.count)
        #expect(artifactLines.first?.hasPrefix("  ✗ incompatible") == true)
        for path in failing {
            let name = (path as NSString).lastPathComponent
            #expect(artifactLines.filter { $0.split(separator: " ").dropFirst(2).first.map(String.init) == name }.count == 1, "\(path)")
            #expect(byPath[path] != nil)
        }
        #expect(artifactLines.contains { $0.contains("libneedsresolv.so") && $0.hasSuffix("needs libresolv.so.2; lacks __res_init") })
        // The per-symbol messages and each finding's fix: --verbose only.
        #expect(!text.contains("MC105 Error relocating"))
        let verbose = TextRenderer(color: false, verbose: true).render(r)
        #expect(verbose.contains("MC105 Error relocating fixtures/build/libifunc.so: unsupported relocation type 37"))
        #expect(verbose.contains("fix: rebuild without IFUNC: no __attribute__((ifunc))"))
        // It ends with the summary and the gate's result.
        #expect(r.inputs.failOn == .notRunnable, "the default gate")
        let nonEmpty = lines.filter { !$0.isEmpty }
        #expect(nonEmpty.last == "Result: fail: " + Self.expectedReasons(r))
        let counts = r.counts.findings
        #expect(nonEmpty.dropLast().last?.hasSuffix("\(counts["error"] ?? 0) errors, \(counts["warning"] ?? 0) warnings, \(counts["note"] ?? 0) notes") == true)
        #expect(!text.contains("\u{1b}["), "no color when asked for none")
        #expect(TextRenderer(color: true).render(r).contains("\u{1b}[31m"))
    }

    @Test func markdownShowsTheResultTheCountsAndEveryFailingFinding() throws {
        let (r, _) = try Self.checked()
        let md = try MarkdownRenderer().render(r)
        let failing = Self.failing(r)
        #expect(md.hasPrefix("## muslcheck: ❌ fail: " + Self.expectedReasons(r) + "\n"), "\(md.prefix(300))")
        for t in r.targets {
            let c = r.counts.verdicts[t.name] ?? [:]
            let row = "| `\(t.name)` | " + Verdict.allCases.sorted(by: >).map { "\(c[$0.rawValue] ?? 0)" }.joined(separator: " | ") + " |"
            #expect(md.contains(row), "verdict row for \(t.name)")
        }
        for a in r.artifacts where failing.contains(a.path) {
            #expect(md.contains("<details open><summary>❌ <code>\(a.path)</code></summary>"))
            for f in a.findings where f.severity == .error { #expect(md.contains("**\(f.id)** `\(f.message)`"), "\(f.id) of \(a.path)") }
        }
        if let image = r.probes.first {
            #expect(md.contains("#### `\(image.image)`"))
            #expect(md.contains("| thread-stack |"))
            #expect(md.contains("Loader probe: \(image.loader.count) artifacts"))
        }
        #expect(md.utf8.count < 1 << 20)
    }

    @Test func markdownIsCutBeforeItsLimitWithANote() throws {
        let (r, _) = try Self.checked()
        let full = try MarkdownRenderer().render(r)
        let limit = 6 * 1024
        #expect(full.utf8.count > limit, "the fixture report is larger than the test limit")
        let cut = try MarkdownRenderer(limit: limit).render(r)
        #expect(cut.utf8.count <= limit)
        let note = try #require(cut.split(separator: "\n").last)
        #expect(note.hasPrefix("> **Cut:** this summary stops at 6 KiB; "))
        // The artifacts shown and the number the note gives add up to all of them.
        let shownDetailed = cut.components(separatedBy: "<details open><summary>").count - 1
            + cut.components(separatedBy: "<details><summary>").count - 1
        let notShown = Int(note.split(separator: ";")[1].split(separator: " ")[0]) ?? -1
        let detailed = r.artifacts.filter { a in Self.failing(r).contains(a.path) || a.findings.contains { $0.severity >= .warning } }.count
        let otherTable = cut.contains("other artifact") ? 1 : 0
        #expect(shownDetailed - otherTable + notShown >= detailed)
        #expect(notShown > 0)
    }

    @Test func junitParsesBackWithASuitePerTargetAndPerImage() throws {
        let (r, _) = try Self.checked()
        let xml = try JUnitRenderer().render(r)
        let doc = try XMLDocument(data: Data(xml.utf8))
        let root = try #require(doc.rootElement())
        #expect(root.name == "testsuites")
        let suites = root.elements(forName: "testsuite")
        #expect(suites.count == r.targets.count + r.probes.count + (r.problems.isEmpty ? 0 : 1))
        let failing = Gate(level: r.inputs.failOn).failures(r)
        var totalTests = 0, totalFailures = 0
        for t in r.targets {
            let suite = try #require(suites.first { $0.attribute(forName: "name")?.stringValue == t.name })
            let cases = suite.elements(forName: "testcase")
            #expect(cases.count == r.artifacts.count)
            let failures = cases.filter { !$0.elements(forName: "failure").isEmpty }
            #expect(failures.count == failing.filter { $0.target == t.name }.count)
            #expect(suite.attribute(forName: "failures")?.stringValue == "\(failures.count)")
            // The failure carries the loader's message.
            let ifunc = try #require(cases.first { $0.attribute(forName: "name")?.stringValue == "fixtures/build/libifunc.so" })
            let failure = try #require(ifunc.elements(forName: "failure").first)
            let verdict = try #require(r.artifacts.first { $0.path == "fixtures/build/libifunc.so" }?.verdicts.first { $0.target == t.name })
            #expect(failure.attribute(forName: "message")?.stringValue == verdict.loaderMessages.first)
            #expect(failure.attribute(forName: "type")?.stringValue == "incompatible")
            #expect(failure.stringValue?.contains("MC105: Error relocating fixtures/build/libifunc.so: unsupported relocation type 37") == true)
        }
        for image in r.probes {
            let suite = try #require(suites.first { $0.attribute(forName: "name")?.stringValue == "probes: \(image.image)" })
            let names = suite.elements(forName: "testcase").compactMap { $0.attribute(forName: "name")?.stringValue }
            #expect(names.filter { $0.hasPrefix("probe ") }.count == image.probes.count)
            #expect(names.contains("probe thread-stack"))
            #expect(names.filter { $0.hasPrefix("fixtures/build/") }.count == image.loader.count)
        }
        for s in suites {
            totalTests += Int(s.attribute(forName: "tests")?.stringValue ?? "") ?? -1000
            totalFailures += Int(s.attribute(forName: "failures")?.stringValue ?? "") ?? -1000
        }
        #expect(root.attribute(forName: "tests")?.stringValue == "\(totalTests)")
        #expect(root.attribute(forName: "failures")?.stringValue == "\(totalFailures)")
    }

    @Test func junitSurvivesHostileText() throws {
        let (r, _) = try Self.checked()
        var hostile = r
        let evil = "sym\u{01}bol<&>\"'\u{7}\u{FFFF}]]>"
        hostile.artifacts[0].findings.append(Finding(id: "MC102", rule: "missing-symbol", severity: .error, message: "Error relocating x: \(evil): symbol not found",
                                                     subject: evil, fix: "fix \(evil)", artifact: hostile.artifacts[0].path, target: r.targets[0].name))
        hostile.artifacts[0].verdicts[0].verdict = .incompatible
        hostile.artifacts[0].verdicts[0].loaderMessages = ["Error relocating x: \(evil): symbol not found"]
        let xml = try JUnitRenderer().render(hostile)
        let doc = try XMLDocument(data: Data(xml.utf8))
        #expect(doc.rootElement()?.name == "testsuites")
        #expect(xml.contains("sym\u{FFFD}bol&lt;&amp;&gt;&quot;"))
    }

    @Test func sarifIsValidAgainstTheOfficialSchemaAndLocatesEachFinding() throws {
        let (r, _) = try Self.checked()
        let data = try CompatData.shared()
        let sarif = try SARIFRenderer(rules: data.ruleList, readme: "https://example.invalid/README.md", workingDirectory: TestPaths.packageRoot.path).render(r)
        let path = try Self.write(String(decoding: sarif, as: UTF8.self), "report.sarif")
        let schema = try #require(Bundle.module.url(forResource: "sarif-schema-2.1.0", withExtension: "json", subdirectory: "Resources"))
        let errors = try JSONSchemaValidator.errors(document: path, schema: schema.path)
        #expect(errors.isEmpty, "\(errors.prefix(10))")

        let log = try #require(try JSONSerialization.jsonObject(with: sarif) as? [String: Any])
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let driver = try #require(((run["tool"] as? [String: Any])?["driver"]) as? [String: Any])
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == data.ruleList.map(\.id))
        #expect(rules.first { $0["id"] as? String == "MC101" }?["helpUri"] as? String == "https://example.invalid/README.md#mc101")
        let results = try #require(run["results"] as? [[String: Any]])
        // One result per finding, the same finding on several targets once.
        var keys = Set<String>()
        for f in r.allFindings { keys.insert([f.id, f.artifact, f.subject ?? "", f.message].joined(separator: "|")) }
        #expect(results.count == keys.count)
        for res in results {
            let id = try #require(res["ruleId"] as? String)
            #expect(rules[res["ruleIndex"] as! Int]["id"] as? String == id)
            let loc = try #require(((res["locations"] as? [[String: Any]])?.first?["physicalLocation"]) as? [String: Any])
            let artifact = try #require(loc["artifactLocation"] as? [String: Any])
            #expect(artifact["uriBaseId"] as? String == "SRCROOT")
            #expect((artifact["uri"] as? String)?.hasPrefix("fixtures/build/") == true)
            #expect((loc["region"] as? [String: Any])?["startLine"] as? Int == 1)
        }
        let ifunc = try #require(results.first { $0["ruleId"] as? String == "MC105" })
        #expect(((ifunc["message"] as? [String: Any])?["text"] as? String)?.hasPrefix("Error relocating fixtures/build/libifunc.so: unsupported relocation type 37") == true)
        #expect(((run["originalUriBaseIds"] as? [String: Any])?["SRCROOT"] as? [String: Any])?["uri"] as? String == "file://" + TestPaths.packageRoot.path + "/")
    }

    @Test func sarifLocatesAnArchiveMemberAtItsArchive() throws {
        let dir = try CheckedFixtures.scratch("sarif-zip")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let zip = try TestCommand.run("python3", ["-c", "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.write(sys.argv[2],'bin/hello-glibc'); z.close()",
                                                  dir + "/app.zip", try Fixtures.path("hello-glibc")])
        try #require(zip.status == 0, "\(zip.stderr)")
        let r = try CheckedFixtures.muslcheck(["check", "app.zip", "--static-only", "--fail-on", "needs-gcompat", "--format", "sarif"], in: dir)
        #expect(r.status == 1, "hello-glibc needs gcompat: \(r.stderr)")
        let log = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let results = try #require(((log["runs"] as? [[String: Any]])?.first?["results"]) as? [[String: Any]])
        let mc100 = try #require(results.first { $0["ruleId"] as? String == "MC100" })
        let loc = try #require(((mc100["locations"] as? [[String: Any]])?.first?["physicalLocation"]) as? [String: Any])
        #expect((loc["artifactLocation"] as? [String: Any])?["uri"] as? String == "app.zip")
        #expect(((mc100["message"] as? [String: Any])?["text"] as? String)?.hasPrefix("In bin/hello-glibc: sh: app.zip!bin/hello-glibc: not found") == true)
    }

    @Test func githubAnnotationsAreOneCommandPerLine() throws {
        let (r, _) = try Self.checked()
        let out = try GitHubRenderer().render(r)
        let lines = out.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.hasPrefix("::error ") || $0.hasPrefix("::warning ") || $0.hasPrefix("::notice ") })
        let failing = Self.failing(r)
        // Errors: the error findings of failing artifacts, the same finding on several targets once.
        var errors = Set<String>()
        for a in r.artifacts where failing.contains(a.path) {
            for f in a.findings where f.severity == .error { errors.insert(f.id + f.artifact + f.message) }
        }
        #expect(lines.filter { $0.hasPrefix("::error ") }.count == errors.count)
        let t = r.targets.map(\.name).joined(separator: ", ").replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
        #expect(lines.contains { $0.hasPrefix("::error file=fixtures/build/libifunc.so,line=1,title=MC105 unsupported-relocation on \(t)::Error relocating fixtures/build/libifunc.so: unsupported relocation type 37%0Afix: ") })
        #expect(lines.last?.hasPrefix("::notice title=muslcheck::Summary: \(r.artifacts.count) artifacts") == true)
    }

    @Test func htmlRendersInHeadlessChromiumWithTheReportsCounts() throws {
        let (r, _) = try Self.checked()
        let html = try HTMLRenderer(catalog: try? ProbeCatalog.bundled(), readme: "https://example.invalid/README.md").render(r)
        #expect(!html.contains("<link"), "no external stylesheet")
        #expect(html.range(of: "src=\"http", options: .caseInsensitive) == nil, "no external script or image")
        #expect(!html.contains("break-all"), "words are not cut anywhere")
        let path = try Self.write(html, "report.html")

        let dom = try HeadlessBrowser.dumpDOM("file://" + path)
        func text(ofID id: String) -> String? {
            guard let r = dom.range(of: "id=\"\(id)\">") else { return nil }
            return String(dom[r.upperBound...].prefix { $0 != "<" })
        }
        var worst: [Verdict: Int] = [:]
        for a in r.artifacts { worst[a.worstVerdict, default: 0] += 1 }
        #expect(text(ofID: "count-artifacts") == "\(r.artifacts.count)")
        for v in Verdict.allCases { #expect(text(ofID: "count-\(v.rawValue)") == "\(worst[v] ?? 0)", "\(v)") }
        #expect(text(ofID: "count-errors") == "\(r.counts.findings["error"] ?? 0)")
        #expect(text(ofID: "shown-count") == "\(r.artifacts.count)", "the script ran and shows every row")
        /// The opening tags of the artifact rows.
        func artifactRows(_ dom: String) -> [Substring] {
            dom.components(separatedBy: "<tr class=\"artifact\"").dropFirst().map { $0.prefix { $0 != ">" } }
        }
        #expect(artifactRows(dom).count == r.artifacts.count)
        #expect(dom.contains("data-status=\"fail\""))
        // The chart has a bar per target and verdict with its count.
        for t in r.targets {
            for (v, n) in r.counts.verdicts[t.name] ?? [:] { #expect(dom.contains("data-verdict=\"\(v)\" data-count=\"\(n)\""), "bar \(t.name) \(v)") }
        }
        // Grouped by folder: the folder once, each row its file's name.
        #expect(dom.contains("■ fixtures/build/ <span class=\"hint\">"))
        #expect(dom.contains("<code>libifunc.so</code>"))
        #expect(!dom.contains("<code>fixtures/build/libifunc.so</code>"), "the folder is not repeated on every row")
        // A needs-gcompat row does not show its errors as failures.
        let glibc = try #require(dom.components(separatedBy: "<tr class=\"artifact\"").first { $0.contains("data-path=\"fixtures/build/hello-glibc\"") })
        let glibcRow = glibc.components(separatedBy: "</tr>")[0]
        #expect(glibcRow.contains("gcompat fixes") && !glibcRow.contains("sev-error"), "\(glibcRow)")
        // Every string of the details is stored once: a fix that many artifacts share, once.
        var fixes: [String: Int] = [:]
        for a in r.artifacts { for f in a.findings { fixes[f.fix, default: 0] += 1 } }
        let shared = try #require(fixes.filter { $0.value > 1 }.max { $0.value < $1.value })
        #expect(html.components(separatedBy: HTMLRenderer.jsonString(shared.key)).count - 1 == 1, "\(shared.key) stored once, used \(shared.value) times")
        // The probes say whether the image differs from glibc, not just that they ran.
        if r.probes.first?.probes.contains(where: { $0.id == "thread-stack" }) == true {
            #expect(dom.contains("data-probe=\"thread-stack\" data-differs=\""))
            #expect(dom.contains("differs from glibc"))
            #expect(dom.contains("default thread stack: 128 KiB (glibc: 8 MiB)"))
        }
        // The filter, from the address: only the incompatible rows are shown.
        let incompatible = r.artifacts.filter { $0.verdicts.contains { $0.verdict == .incompatible } }.count
        let filtered = try HeadlessBrowser.dumpDOM("file://" + path + "#verdict=incompatible")
        #expect(filtered.contains("id=\"shown-count\">\(incompatible)<"))
        #expect(artifactRows(filtered).filter { $0.contains("hidden=\"\"") }.count == r.artifacts.count - incompatible)
        let byPath = try HeadlessBrowser.dumpDOM("file://" + path + "#q=libifunc")
        #expect(byPath.contains("id=\"shown-count\">1<"))
        // Details carry the loader messages and fixes, drawn when opened (#open=PATH opens one).
        let ifunc = try #require(r.artifacts.first { $0.path == "fixtures/build/libifunc.so" })
        // (The browser serialises text with only &, < and > escaped.)
        func serialized(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let opened = try HeadlessBrowser.dumpDOM("file://" + path + "#open=fixtures/build/libifunc.so")
        for f in ifunc.findings { #expect(opened.contains("fix: " + serialized(f.fix)), "fix of \(f.id)") }
        for m in ifunc.verdicts.flatMap(\.loaderMessages) { #expect(opened.contains(serialized(m)), "\(m)") }
        #expect(!dom.contains("fix: " + serialized(ifunc.findings[0].fix)), "closed details are not drawn")

        // An opened detail spans the table's width (measured in the page, at the screenshot's size).
        let measuring = html.replacingOccurrences(of: "</body>", with: """
        <script>
        (function () {
          var button = document.querySelector('tr.artifact[data-path="fixtures/build/libifunc.so"] button.toggle');
          button.click();
          var cell = document.getElementById(button.getAttribute("aria-controls")).firstElementChild;
          var table = document.getElementById("artifact-table");
          var m = document.createElement("pre");
          m.id = "measure";
          m.textContent = Math.round(cell.getBoundingClientRect().width) + " " + Math.round(table.getBoundingClientRect().width)
            + " " + Math.round(button.closest("td").getBoundingClientRect().width);
          document.body.appendChild(m);
        })();
        </script>
        </body>
        """)
        let measured = try HeadlessBrowser.dumpDOM("file://" + (try Self.write(measuring, "measure.html")), size: "1280,1600")
        let numbers = try #require(measured.range(of: "<pre id=\"measure\">").map { measured[$0.upperBound...].prefix { $0 != "<" } })
            .split(separator: " ").compactMap { Double($0) }
        try #require(numbers.count == 3, "\(numbers)")
        #expect(numbers[0] >= numbers[1] * 0.98, "the detail spans the table: \(numbers[0]) of \(numbers[1]) px")
        #expect(numbers[2] < numbers[1] * 0.8, "the first column alone is narrower: \(numbers[2]) px")

        let png = try CheckedFixtures.scratch("shot") + "/report.png"
        try HeadlessBrowser.screenshot("file://" + path + "#open=fixtures/build/libifunc.so", to: png)
        let image = try #require(FileManager.default.contents(atPath: png))
        #expect(image.starts(with: [0x89, 0x50, 0x4E, 0x47]), "a PNG")
        #expect(image.count > 20_000, "a screenshot with content, not a blank page (\(image.count) bytes)")
        print("html: screenshot \(png) (\(image.count) bytes)")
    }

    @Test func theReportIsValidAgainstItsJSONSchema() throws {
        let run = try CheckedFixtures.best()
        let schema = TestPaths.packageRoot.appendingPathComponent("Sources/Report/Resources/report.schema.json").path
        let errors = try JSONSchemaValidator.errors(document: run.directory + "/report.json", schema: schema)
        #expect(errors.isEmpty, "\(errors.prefix(10))")
        // The schema rejects what the report never holds.
        var broken = try #require(try JSONSerialization.jsonObject(with: run.json) as? [String: Any])
        broken["unexpected"] = 1
        var artifacts = try #require(broken["artifacts"] as? [[String: Any]])
        artifacts[0]["kind"] = "spaceship"
        broken["artifacts"] = artifacts
        let bad = try Self.write(String(decoding: try JSONSerialization.data(withJSONObject: broken), as: UTF8.self), "broken.json")
        let badErrors = try JSONSchemaValidator.errors(document: bad, schema: schema)
        #expect(badErrors.contains { $0.hasPrefix("artifacts/0/kind") })
        #expect(badErrors.contains { $0.contains("unexpected") })
        // The one muslcheck prints is the same file.
        let printed = try CheckedFixtures.muslcheck(["report", "schema"])
        #expect(printed.stdout == (try String(contentsOfFile: schema, encoding: .utf8)))
    }
}
