import Foundation

extension MuslcheckConfig {
    /// `muslcheck init`: a commented muslcheck.yml whose every setting is at its default.
    public static func starter(defaultProfile: String) -> String {
        """
        # muslcheck.yml: settings for `muslcheck check` (and user probes for `muslcheck probe`).
        # Every key is optional; flags on the command line override them. Unknown keys are errors.

        # Files, directories and archives to check (wheels, jars, tarballs are read in place).
        paths:
          - .

        # Bundled target profiles (`muslcheck targets` lists them). With no target, image or sysroot
        # at all, \(defaultProfile) is checked; a profile named here is checked besides any image.
        # targets:
        #   - \(defaultProfile)

        # Images to check against: their filesystem is the target, and the probes and musl's own
        # loader run in them (needs docker or podman). Without an engine, the bundled profile of
        # the same name stands in and the run exits 3.
        # images:
        #   - \(defaultProfile)

        # Root filesystems on disk to check against.
        # sysroots:
        #   - ./rootfs

        # What fails the run (exit 1): not-runnable (default: an artifact that does not run on a
        # target as given), or a verdict at or above incompatible, needs-gcompat or compatible;
        # never: nothing.
        # failOn: not-runnable

        # Built-in probes to run (`muslcheck probe --list`); default: all of them and the loader probe.
        # probes: [loader, thread-stack, resolver, locale, iconv]

        # Run the probes on a glibc image too (or the host: `host`), side by side.
        # baselineImage: debian:12-slim

        # Also start each executable with --version in the images.
        # execSmoke: false

        # LD_LIBRARY_PATH on the target.
        # libraryPath: [/opt/app/lib]

        # Findings to ignore: the finding id (or *), a glob over the artifact path (* within a
        # path component, ** across them), and why. Ignored findings are listed as suppressed.
        ignores: []
        #  - id: MC130
        #    path: "vendor/**"
        #    reason: the application sets its thread stack size

        # Command probes, run in each image (container-structure-test's commandTests work too,
        # with --cst FILE).
        userProbes: []
        #  - name: numpy imports
        #    command: python3
        #    args: ["-c", "import numpy"]
        #    exitCode: 0
        #    stderrExcludes: ["Error relocating"]
        #    timeout: 30

        """
    }
}
