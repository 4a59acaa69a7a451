import Config
import Foundation
import Policy
import Testing

/// The error a parse of `text` throws (nil when it parses).
func configError(_ text: String, file: String = "muslcheck.yml") -> ConfigError? {
    do {
        _ = try MuslcheckConfig.parse(text, file: file)
        return nil
    } catch let e as ConfigError {
        return e
    } catch {
        Issue.record("not a ConfigError: \(error)")
        return nil
    }
}

@Suite struct ConfigParsingTests {
    @Test func everyKeyIsReadIntoTheConfig() throws {
        let text = """
        paths: [src, "vendor/lib"]
        targets:
          - alpine-3.20
        images: [alpine:3.20, "registry.example/app:1"]
        sysroots: ./rootfs
        probes: [loader, resolver]
        userProbes:
          - name: numpy imports
            command: python3
            args: ["-c", "import numpy"]
            env: {PYTHONPATH: /opt/lib, LANG: C.UTF-8}
            setup:
              - [pip, install, numpy]
              - touch /tmp/ready
            exitCode: 3
            stdout: ["^ok$"]
            stdoutExcludes: [Traceback]
            stderr: "warn.*"
            stderrExcludes: ["Error relocating"]
            timeout: 45
          - name: minimal
            command: /bin/true
        ignores:
          - id: MC130
            path: "vendor/**"
            reason: the application sets its thread stack size
          - {id: "*", path: "tools/*.so", reason: not shipped}
        failOn: needs-gcompat
        baselineImage: debian:12-slim
        execSmoke: yes
        libraryPath: [/opt/app/lib, /usr/local/lib]

        """
        let config = try MuslcheckConfig.parse(text, file: "muslcheck.yml")
        var expected = MuslcheckConfig()
        expected.paths = ["src", "vendor/lib"]
        expected.targets = ["alpine-3.20"]
        expected.images = ["alpine:3.20", "registry.example/app:1"]
        expected.sysroots = ["./rootfs"]
        expected.probes = ["loader", "resolver"]
        expected.userProbes = [
            UserProbe(name: "numpy imports", command: "python3", args: ["-c", "import numpy"],
                      env: ["PYTHONPATH": "/opt/lib", "LANG": "C.UTF-8"], setup: [["pip", "install", "numpy"], ["touch /tmp/ready"]],
                      exitCode: 3, stdout: ["^ok$"], stdoutExcludes: ["Traceback"], stderr: ["warn.*"],
                      stderrExcludes: ["Error relocating"], timeout: 45),
            UserProbe(name: "minimal", command: "/bin/true"),
        ]
        expected.ignores = [
            IgnoreRule(id: "MC130", path: "vendor/**", reason: "the application sets its thread stack size"),
            IgnoreRule(id: "*", path: "tools/*.so", reason: "not shipped"),
        ]
        expected.failOn = .needsGcompat
        expected.baselineImage = "debian:12-slim"
        expected.execSmoke = true
        expected.libraryPath = ["/opt/app/lib", "/usr/local/lib"]
        #expect(config == expected)
        // Field by field, so that a difference names itself.
        #expect(config.userProbes.first?.setup == [["pip", "install", "numpy"], ["touch /tmp/ready"]])
        #expect(config.userProbes.first?.env == ["PYTHONPATH": "/opt/lib", "LANG": "C.UTF-8"])
        #expect(config.userProbes.last?.exitCode == 0)
        #expect(config.userProbes.last?.timeout == 60)
    }

    @Test func anEmptyFileSetsNothing() throws {
        for text in ["", "# only a comment\n"] {
            let config = try MuslcheckConfig.parse(text, file: "m.yml")
            #expect(config == MuslcheckConfig())
            #expect(config.paths == nil && config.targets == nil && config.failOn == nil && config.execSmoke == nil)
        }
    }

    @Test func execSmokeTakesTheYAMLWordsForTrueAndFalse() throws {
        for (word, value) in [("true", true), ("on", true), ("Yes", true), ("false", false), ("no", false), ("OFF", false)] {
            #expect(try MuslcheckConfig.parse("execSmoke: \(word)\n", file: "m.yml").execSmoke == value, "execSmoke: \(word)")
        }
    }

    @Test func everyFailLevelIsRead() throws {
        for level in FailLevel.allCases {
            #expect(try MuslcheckConfig.parse("failOn: \(level.rawValue)\n", file: "m.yml").failOn == level)
        }
    }

    @Test func aFileIsLoadedFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-config-\(UUID().uuidString).yml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "images: [alpine:3.20]\nexecSmoke: false\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try MuslcheckConfig.load(path)
        #expect(config.images == ["alpine:3.20"])
        #expect(config.execSmoke == false)
    }

    @Test func aFileThatCannotBeReadIsAnErrorWithoutALine() {
        let path = "/nonexistent-muslcheck-dir/muslcheck.yml"
        do {
            _ = try MuslcheckConfig.load(path)
            Issue.record("loaded a file that does not exist")
        } catch let e as ConfigError {
            #expect(e.line == nil)
            #expect(e.description == "/nonexistent-muslcheck-dir/muslcheck.yml: cannot read the file")
        } catch {
            Issue.record("not a ConfigError: \(error)")
        }
    }
}

@Suite struct ConfigErrorTests {
    @Test func anUnknownKeyNamesItsLineAndTheKnownKeys() {
        #expect(configError("paths: [.]\nfailon: never\n")?.description
            == "muslcheck.yml:2: unknown key 'failon' in the file; known keys: paths, targets, images, sysroots, probes, userProbes, ignores, failOn, baselineImage, execSmoke, libraryPath")
    }

    @Test func aFileThatIsNotAMappingIsAnError() {
        #expect(configError("- paths\n- images\n")?.description == "muslcheck.yml:1: the file must be a mapping (key: value)")
    }

    @Test func aListKeyGivenAMappingIsAnError() {
        #expect(configError("failOn: never\npaths: {src: yes}\n")?.description == "muslcheck.yml:2: paths must be a list")
    }

    @Test func aListItemThatIsNotAValueIsAnError() {
        #expect(configError("images:\n  - alpine:3.20\n  - [debian, ubuntu]\n")?.description == "muslcheck.yml:3: images must be a single value")
    }

    @Test func aSingleValueKeyGivenAListIsAnError() {
        #expect(configError("baselineImage: [debian:12, ubuntu:24.04]\n")?.description == "muslcheck.yml:1: baselineImage must be a single value")
    }

    @Test func aBooleanMustBeTrueOrFalse() {
        #expect(configError("\nexecSmoke: sometimes\n")?.description == "muslcheck.yml:2: execSmoke must be true or false")
    }

    @Test func aWrongFailLevelListsTheLevels() {
        #expect(configError("failOn: error\n", file: "ci/m.yml")?.description
            == "ci/m.yml:1: failOn must be not-runnable, incompatible, needs-gcompat, compatible or never, not 'error'")
    }

    @Test func userProbesMustBeAList() {
        #expect(configError("userProbes: {name: x}\n")?.description == "muslcheck.yml:1: userProbes must be a list")
    }

    @Test func anUnknownUserProbeKeyNamesItsLine() {
        #expect(configError("userProbes:\n  - name: x\n    command: sh\n    stdin: hello\n")?.description
            == "muslcheck.yml:4: unknown key 'stdin' in a user probe; known keys: name, command, args, env, setup, exitCode, stdout, stdoutExcludes, stderr, stderrExcludes, timeout")
    }

    @Test func aUserProbeWithoutACommandIsAnError() {
        #expect(configError("userProbes:\n  - name: x\n    args: [a]\n")?.description == "muslcheck.yml:2: a user probe needs name and command")
    }

    @Test func aUserProbeNumberMustBeWhole() {
        #expect(configError("userProbes:\n  - name: x\n    command: sh\n    timeout: soon\n")?.description
            == "muslcheck.yml:4: timeout must be a whole number")
        #expect(configError("userProbes:\n  - name: x\n    command: sh\n    exitCode: 1.5\n")?.description
            == "muslcheck.yml:4: exitCode must be a whole number")
    }

    @Test func aUserProbeEnvMustMapNamesToValues() {
        #expect(configError("userProbes:\n  - name: x\n    command: sh\n    env: [A=1]\n")?.description
            == "muslcheck.yml:4: env must be a mapping (key: value)")
        #expect(configError("userProbes:\n  - name: x\n    command: sh\n    env:\n      A: [1, 2]\n")?.description
            == "muslcheck.yml:5: env.A must be a single value")
    }

    @Test func aUserProbeSetupMustBeAListOfCommands() {
        #expect(configError("userProbes:\n  - name: x\n    command: sh\n    setup: touch /tmp/x\n")?.description
            == "muslcheck.yml:4: setup must be a list")
    }

    @Test func anInvalidUserProbeIsNamedAtItsLine() {
        #expect(configError("paths: [.]\nuserProbes:\n  - name: broken\n    command: sh\n    stdout: [\"(\"]\n")?.description
            == "muslcheck.yml:3: probe 'broken': '(' is not a valid regular expression")
        #expect(configError("userProbes:\n  - name: empty\n    command: \"\"\n")?.description
            == "muslcheck.yml:2: probe 'empty': command is empty")
    }

    @Test func anIgnoreMissingAFieldIsAnError() {
        #expect(configError("ignores:\n  - id: MC130\n    path: \"vendor/**\"\n")?.description
            == "muslcheck.yml:2: an ignore needs id, path and reason")
        #expect(configError("ignores:\n  - {path: \"vendor/**\", reason: r}\n")?.description
            == "muslcheck.yml:2: an ignore needs id, path and reason")
    }

    @Test func anUnknownIgnoreKeyIsAnError() {
        #expect(configError("ignores:\n  - id: MC130\n    path: x\n    why: r\n")?.description
            == "muslcheck.yml:4: unknown key 'why' in an ignore; known keys: id, path, reason")
    }

    @Test func anIgnoreFieldMustBeAValue() {
        #expect(configError("ignores:\n  - id: [MC130, MC131]\n    path: x\n    reason: r\n")?.description
            == "muslcheck.yml:2: id must be a single value")
    }

    @Test func invalidYAMLNamesItsLine() throws {
        let e = try #require(configError("paths: [.]\nimages: [alpine\nfailOn: never\n: x\n"))
        #expect(e.line != nil)
        #expect(e.description.hasPrefix("muslcheck.yml:\(e.line!): not valid YAML: "))
        let tab = try #require(configError("paths:\n\t- .\n"))
        #expect(tab.line == 2)
        #expect(tab.description.hasPrefix("muslcheck.yml:2: not valid YAML: "))
    }
}
