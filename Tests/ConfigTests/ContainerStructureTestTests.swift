import Config
import Foundation
import Policy
import Testing

/// Writes `text` to a temporary file, loads it as a container-structure-test file, removes it.
func loadCST(_ text: String) throws -> (probes: [UserProbe], skipped: [String]) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-cst-\(UUID().uuidString).yaml").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return try MuslcheckConfig.loadContainerStructureTest(path)
}

/// The description of the error loading `text` throws, with the temporary path replaced by "cst.yaml".
func cstError(_ text: String) -> String? {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("muslcheck-cst-\(UUID().uuidString).yaml").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try MuslcheckConfig.loadContainerStructureTest(path)
        return nil
    } catch let e as ConfigError {
        #expect(e.file == path)
        return "cst.yaml" + e.description.dropFirst(path.count)
    } catch {
        Issue.record("not a ConfigError: \(error)")
        return nil
    }
}

@Suite struct ContainerStructureTestTests {
    @Test func commandTestsBecomeUserProbesAndOtherSectionsAreSkipped() throws {
        let (probes, skipped) = try loadCST("""
        schemaVersion: 2.0.0
        metadataTest:
          envVars:
            - key: PATH
              value: /usr/bin
        fileExistenceTests:
          - name: shell
            path: /bin/sh
            shouldExist: true
        commandTests:
          - name: python prints
            command: python3
            args: ["-c", "print('hi')"]
            envVars:
              - key: LANG
                value: C.UTF-8
              - key: PYTHONDONTWRITEBYTECODE
                value: "1"
            setup: [[touch, /tmp/x], [mkdir, -p, /tmp/y]]
            teardown: [[rm, /tmp/x]]
            expectedOutput: ["^hi$"]
            excludedOutput: [Traceback]
            expectedError: [".*"]
            excludedError: ["Error relocating"]
            exitCode: 2
          - name: listing
            command: ls
        fileContentTests: []

        """)
        #expect(skipped == ["fileContentTests", "fileExistenceTests", "metadataTest"])
        #expect(probes == [
            UserProbe(name: "python prints", command: "python3", args: ["-c", "print('hi')"],
                      env: ["LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"], setup: [["touch", "/tmp/x"], ["mkdir", "-p", "/tmp/y"]],
                      exitCode: 2, stdout: ["^hi$"], stdoutExcludes: ["Traceback"], stderr: [".*"], stderrExcludes: ["Error relocating"]),
            UserProbe(name: "listing", command: "ls"),
        ])
        // container-structure-test expects exit 0 unless told otherwise.
        #expect(probes.last?.exitCode == 0)
    }

    @Test func aFileWithoutCommandTestsGivesNoProbes() throws {
        let (probes, skipped) = try loadCST("schemaVersion: 2.0.0\nfileExistenceTests: []\n")
        #expect(probes.isEmpty)
        #expect(skipped == ["fileExistenceTests"])
        let empty = try loadCST("")
        #expect(empty.probes.isEmpty && empty.skipped.isEmpty)
    }

    @Test func aCommandTestWithoutACommandIsAnError() {
        #expect(cstError("commandTests:\n  - name: x\n    args: [a]\n") == "cst.yaml:2: a commandTest needs name and command")
    }

    @Test func anEnvVarWithoutAValueIsAnError() {
        #expect(cstError("commandTests:\n  - name: x\n    command: sh\n    envVars:\n      - key: A\n")
            == "cst.yaml:5: an envVar needs key and value")
    }

    @Test func anUnknownCommandTestKeyIsAnError() {
        #expect(cstError("commandTests:\n  - name: x\n    command: sh\n    expectedOutputs: [a]\n")
            == "cst.yaml:4: unknown key 'expectedOutputs' in a commandTest; known keys: name, command, args, envVars, setup, teardown, expectedOutput, excludedOutput, expectedError, excludedError, exitCode")
    }

    @Test func anInvalidPatternInACommandTestIsAnError() {
        #expect(cstError("commandTests:\n  - name: x\n    command: sh\n    excludedError: [\"[\"]\n")
            == "cst.yaml:2: probe 'x': '[' is not a valid regular expression")
    }

    @Test func commandTestsMustBeAList() {
        #expect(cstError("commandTests:\n  name: x\n") == "cst.yaml:2: commandTests must be a list")
    }

    @Test func aMissingFileCannotBeRead() {
        do {
            _ = try MuslcheckConfig.loadContainerStructureTest("/nonexistent-muslcheck-dir/cst.yaml")
            Issue.record("loaded a file that does not exist")
        } catch let e as ConfigError {
            #expect(e.description == "/nonexistent-muslcheck-dir/cst.yaml: cannot read the file")
        } catch {
            Issue.record("not a ConfigError: \(error)")
        }
    }
}
