import Compat
import Foundation
import Testing
import TestSupport

/// Every finding's fix, in every situation that produces it, reads as one clear sentence: the
/// exact texts, for each finding id of the catalog.
@Suite struct FixTextTests {
    static let data = try! CompatData.shared()
    static func target(_ name: String) -> Target { try! Target.profile(name, data: data) }

    /// (finding id, situation, the fix muslcheck gives, the sentence expected).
    static func cases() -> [(id: String, situation: String, fix: String, expected: String)] {
        let plain = target("alpine:3.22"), withGcompat = target("alpine:3.22+gcompat"), old = target("alpine:3.16")
        return [
            ("MC001", "a file that cannot be read", Fixes.unreadableFile,
             "make the file readable by the user running muslcheck, or leave it out of the paths"),
            ("MC002", "an ELF file with damaged tables", Fixes.damagedELF,
             "download or build the file again; muslcheck checked what it could read"),
            ("MC003", "a damaged archive", Fixes.damagedArchive,
             "download or build the archive again; the members before the damage were checked"),
            ("MC003", "an encrypted or oddly compressed member", Fixes.unsupportedArchive,
             "repack the archive with stored or deflated members, unencrypted"),
            ("MC004", "a zip bomb", Fixes.archiveLimit, "look inside the archive; if you trust it, unpack it and check its files"),
            ("MC005", "a link loop", Fixes.brokenLink, "fix or remove the link"),
            ("MC100", "a glibc program gcompat would start", Fixes.missingInterpreter("/lib64/ld-linux-x86-64.so.2", target: "alpine:3.22", glibc: true, gcompatFixes: true),
             "apk add gcompat, whose loader stub at /lib64/ld-linux-x86-64.so.2 starts glibc programs on musl; or rebuild for musl, or statically"),
            ("MC100", "a glibc program that fails even with gcompat", Fixes.missingInterpreter("/lib64/ld-linux-x86-64.so.2", target: "alpine:3.22", glibc: true, gcompatFixes: false),
             "rebuild for musl, or statically: gcompat's loader stub would start it, but it would still fail (see the other findings)"),
            ("MC100", "another interpreter", Fixes.missingInterpreter("/lib/ld-linux-armhf.so.3", target: "alpine:3.22", glibc: false, gcompatFixes: false),
             "rebuild for musl: alpine:3.22 has no /lib/ld-linux-armhf.so.3"),
            ("MC101", "a library an Alpine package provides", Fixes.missingLibrary("libstdc++.so.6", package: "libstdc++", glibcOnly: nil, removed: nil, inManylinuxWheel: false),
             "apk add libstdc++"),
            ("MC101", "the same in a manylinux wheel", Fixes.missingLibrary("libstdc++.so.6", package: "libstdc++", glibcOnly: nil, removed: nil, inManylinuxWheel: true),
             "use the musllinux wheel, which bundles or avoids it, or apk add libstdc++"),
            ("MC101", "a glibc library gcompat provides", Fixes.missingLibrary("libresolv.so.2", package: nil, glibcOnly: .gcompat, removed: nil, inManylinuxWheel: false),
             "apk add gcompat, which provides libresolv.so.2, a glibc library"),
            ("MC101", "a glibc library nothing provides", Fixes.missingLibrary("libnsl.so.1", package: nil, glibcOnly: Fixes.GlibcOnlyLibrary.none, removed: nil, inManylinuxWheel: false),
             "rebuild for musl: libnsl.so.1 is glibc's own and nothing provides it on musl"),
            ("MC101", "a library no known package provides", Fixes.missingLibrary("libfoo.so.1", package: nil, glibcOnly: nil, removed: nil, inManylinuxWheel: false),
             "install the package that provides libfoo.so.1 on the target, or ship it beside the artifact and point RUNPATH ($ORIGIN) at it"),
            ("MC101", "a library Alpine dropped", Fixes.missingLibrary("libssl.so.1.1", package: nil, glibcOnly: nil, removed: data.packages.removed["libssl.so.1.1"], inManylinuxWheel: false),
             "OpenSSL 1.1 left Alpine's main repository in 3.17 (OpenSSL 3 only); rebuild against OpenSSL 3, or add openssl1.1-compat from the community repository on 3.17/3.18"),
            ("MC102", "a _FORTIFY_SOURCE function gcompat provides, no gcompat", data.missingSymbolFix("__memcpy_chk", target: plain),
             "__memcpy_chk (in glibc's libc since 2.3.4) is a _FORTIFY_SOURCE check function from glibc's headers, which musl 1.2.5 lacks and gcompat provides: apk add gcompat, or rebuild with -D_FORTIFY_SOURCE=0 (or -U_FORTIFY_SOURCE), or against musl"),
            ("MC102", "a glibc function neither has", data.missingSymbolFix("fcntl64", target: plain),
             "fcntl64 (in glibc's libc since 2.28) is glibc 2.28's name for fcntl with 64-bit offsets, which neither musl 1.2.5 nor gcompat provides: rebuild against glibc older than 2.28, or against musl"),
            ("MC102", "the same with gcompat installed", data.missingSymbolFix("fcntl64", target: withGcompat),
             "fcntl64 (in glibc's libc since 2.28) is glibc 2.28's name for fcntl with 64-bit offsets, which neither musl 1.2.5 nor gcompat provides: rebuild against glibc older than 2.28, or against musl"),
            ("MC102", "a function an older musl lacks", data.missingSymbolFix("statx", target: old),
             "statx (in glibc's libc since 2.28) is a Linux system call wrapper that musl added in 1.2.5, which neither musl 1.2.3 nor gcompat provides: use Alpine 3.20 or newer, or rebuild against musl"),
            ("MC102", "a glibc function with no rule", data.missingSymbolFix("_dl_mcount_wrapper_check", target: plain),
             "_dl_mcount_wrapper_check (in glibc's libc since 2.2.5) is a glibc function, which neither musl 1.2.5 nor gcompat provides: rebuild against musl (Alpine's toolchain)"),
            ("MC102", "a glibc-internal symbol", data.missingSymbolFix("__gconv_transliterate", expectedFrom: "libc.so.6", target: plain),
             "__gconv_transliterate is internal to glibc's libc.so.6 (outside its public ABI), and neither musl nor gcompat provides it: rebuild against musl"),
            ("MC102", "a newer libstdc++ symbol", data.missingSymbolFix("_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_replaceEmmPKcm", target: plain),
             "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEE10_M_replaceEmmPKcm is a libstdc++ symbol newer than the target's libstdc++ (musl ignores GLIBCXX versions, so an old libstdc++ shows as a missing symbol): rebuild with the target's g++, or update the image"),
            ("MC102", "another library's symbol", data.missingSymbolFix("Perl_croak_nocontext", target: plain),
             "Perl_croak_nocontext is not a glibc symbol: the library that should define it is missing, or older than the one the artifact was built against"),
            ("MC102", "a ucontext function gcompat provides", data.missingSymbolFix("getcontext", target: plain),
             "getcontext (in glibc's libc since 2.2.5) is a ucontext function, which musl 1.2.5 lacks and gcompat provides: apk add gcompat, or apk add libucontext and link it, or rebuild without it"),
            ("MC102", "the same in a module, gcompat installed but not preloaded", data.missingSymbolFix("getcontext", target: withGcompat),
             "getcontext (in glibc's libc since 2.2.5) is a ucontext function, which musl 1.2.5 lacks: apk add libucontext and link it, or rebuild without it"),
            ("MC103", "posix_fallocate64 on musl 1.2.5", data.missingSymbolFix("posix_fallocate64", target: plain),
             "posix_fallocate64 (in glibc's libc since 2.2.5) is an LFS64 name that musl 1.2.4 and 1.2.5's loader cannot map back (get_lfs64's 16-byte buffer), which neither musl 1.2.5 nor gcompat provides: rebuild against musl, call posix_fallocate with a 64-bit off_t, or target musl 1.2.3 (Alpine 3.17)"),
            ("MC104", "an IFUNC-only definition", Fixes.ifuncOnly(definedIn: "dist/libifunc.so"),
             "rebuild dist/libifunc.so without IFUNC (no __attribute__((ifunc)), no target_clones)"),
            ("MC105", "R_X86_64_IRELATIVE", Fixes.unsupportedRelocation(irelative: true),
             "rebuild without IFUNC: no __attribute__((ifunc)), no target_clones, and no glibc static-pie (its multiarch string functions)"),
            ("MC105", "another type", Fixes.unsupportedRelocation(irelative: false), "rebuild for musl"),
            ("MC106", "a dlopen'ed module", Fixes.initialExecTLSInModule,
             "rebuild with -ftls-model=global-dynamic (drop -ftls-model=initial-exec and __attribute__((tls_model(\"initial-exec\"))))"),
            ("MC106", "a library that might be a plugin", Fixes.initialExecTLSInLibrary,
             "if it is loaded with dlopen (a plugin), rebuild it with -ftls-model=global-dynamic"),
            ("MC107", "another machine's file", Fixes.notApplicable, "none needed on this target"),
            ("MC108", "DT_RELR before musl 1.2.4", Fixes.relr, "use musl 1.2.4 or newer (Alpine 3.18+), or relink without -z pack-relative-relocs"),
            ("MC109", "a hidden version only", Fixes.hiddenOnly("baz"), "export a default version (baz@@VER) of baz, or rebuild against musl"),
            ("MC110", "a package the base image lacks", Fixes.package("libgcc"), "apk add libgcc"),
            ("MC111", "symbols of a package's library", Fixes.unverifiedSymbols, "check against a real image with --image to verify them"),
            ("MC112", "loads only with gcompat", Fixes.needsGcompat, "apk add gcompat"),
            ("MC112", "loads through installed gcompat", Fixes.loadsThroughGcompat,
             "keep gcompat installed, and test the program's behaviour: gcompat covers part of glibc only"),
            ("MC113", "a module, no gcompat", Fixes.needsGcompatPreloaded(library: "/lib/libgcompat.so.0", installed: false),
             "apk add gcompat, and start the host program with LD_PRELOAD=/lib/libgcompat.so.0"),
            ("MC113", "a module, gcompat installed", Fixes.needsGcompatPreloaded(library: "/lib/libgcompat.so.0", installed: true),
             "start the host program with LD_PRELOAD=/lib/libgcompat.so.0"),
            ("MC114", "a library shadowed by a non-loadable file", Fixes.notLoadable("libz.so.1", machine: "x86_64"),
             "remove or rename the first libz.so.1 on the search path, which is not a loadable x86_64 library, or fix the search path"),
            ("MC115", "a file cut short", Fixes.unloadableFile, "download or build the file again: it is cut short or corrupted"),
            ("MC120", "a manylinux wheel", Fixes.musllinuxWheel,
             "use the musllinux wheel (pip on Alpine picks it when the project publishes one), or build from source on Alpine"),
            ("MC121", "a static glibc program", Fixes.staticGlibc,
             "none to run it; if it resolves names beyond /etc/hosts, converts with iconv or uses locales, build it against musl instead"),
            ("MC130", "threads with the default stack", Fixes.threadStack,
             "set the stack size with pthread_attr_setstacksize, or link with -Wl,-z,stack-size=8388608 so that musl raises its default"),
            ("MC140", "symbols from the host program", Fixes.hostProvided, "none: the host program provides them"),
            ("MC150", "the real loader disagrees", Fixes.contradiction, "trust the image's result; please report the case to muslcheck with the artifact"),
            ("MC151", "the loader probe failed on a listing", Fixes.listByHand, "check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"),
            ("MC151", "a static program did not finish", Fixes.startByHand, "start it by hand in the image"),
            ("MC151", "a damaged file crashed the loader", Fixes.damagedAsFound,
             "none beyond the damage: musl's loader failed on the file as the analysis expected (MC115)"),
            ("MC151", "a member of a nested archive", Fixes.nestedArchive,
             "unpack the inner archive and check its files, or check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"),
            ("MC151", "an archive that could not be staged", Fixes.archiveNotStaged,
             "check the archive's files unpacked, or check it by hand in the image (ld-musl-x86_64.so.1 --list FILE)"),
            ("MC151", "a link to a library outside the checked folders", Fixes.linkOutsideChecked("/opt/lib"),
             "check /opt/lib as well, so that the container shows the library where musl finds it, or check it by hand in the image"),
            ("MC100", "a glibc program on distroless/static", Fixes.glibcInterpreter("/lib64/ld-linux-x86-64.so.2", target: target("distroless/static-debian12")),
             "distroless/static-debian12 has no C library and no loader: only static programs run there; choose a base with glibc (distroless/base-debian12 or larger)"),
            ("MC100", "a musl program on a glibc base", Fixes.glibcInterpreter("/lib/ld-musl-x86_64.so.1", target: target("debian:12-slim")),
             "this program is built for musl: run it on Alpine, or build it for glibc (debian:12-slim has no /lib/ld-musl-x86_64.so.1)"),
            ("MC110", "a Debian package the base image lacks", Fixes.aptInstall("libgomp1"), "apt-get install --no-install-recommends libgomp1"),
            ("MC200", "a library of a Debian package, apt at hand", Fixes.glibcMissingLibrary("libgomp.so.1", package: "libgomp1", canInstall: true),
             "apt-get install --no-install-recommends libgomp1, which provides libgomp.so.1"),
            ("MC200", "a library of a Debian package on distroless", Fixes.glibcMissingLibrary("libstdc++.so.6", package: "libstdc++6", canInstall: false),
             "choose a base that has libstdc++6 (distroless/cc-debian12 adds libstdc++6, libgcc-s1 and libgomp1), or copy libstdc++.so.6 from a Debian 12 build stage"),
            ("MC200", "musl's libc on a glibc base", Fixes.glibcMissingLibrary("libc.musl-x86_64.so.1", package: nil, canInstall: true),
             "libc.musl-x86_64.so.1 is musl's: this artifact is built for musl; run it on Alpine, or build it for glibc"),
            ("MC200", "a library no known package provides", Fixes.glibcMissingLibrary("libfoo.so.1", package: nil, canInstall: false),
             "install the package that provides libfoo.so.1 in the image, or ship it beside the artifact and point RUNPATH ($ORIGIN) at it"),
            ("MC201", "a glibc version the base lacks", Fixes.olderBuild(artifact: "app/x", library: "libc.so.6", glibc: "2.36", version: "GLIBC_2.38"),
             "build app/x against libc.so.6 of the target's age or older (for glibc 2.36: a Debian 12 or manylinux_2_36 build), or choose a base whose libc.so.6 defines GLIBC_2.38"),
            ("MC202", "an undefined symbol at load", Fixes.provideSymbol(object: "libx.so", symbol: "foo", lazy: false),
             "link libx.so against the library that defines foo, or build it against the target's libraries"),
            ("MC203", "an undefined function bound lazily", Fixes.provideSymbol(object: "libx.so", symbol: "foo", lazy: true),
             "link libx.so against the library that defines foo, or make sure the code path that calls it never runs"),
            ("MC204", "a weak version need", Fixes.weakVersion, "none needed to load; a symbol of that version may still be missing"),
            ("MC152", "a user probe failed", Fixes.userProbe,
             "see the probe's output in the report (probes, userProbes), then fix the image or the probe's expectations"),
        ]
    }

    @Test func everyFixReadsAsTheExpectedSentence() {
        for c in Self.cases() {
            #expect(c.fix == c.expected, "\(c.id), \(c.situation)")
        }
    }

    @Test func everyFindingOfTheCatalogHasItsSituationsCovered() {
        let covered = Set(Self.cases().map(\.id))
        let catalog = Set(Self.data.ruleList.map(\.id))
        #expect(catalog.subtracting(covered).isEmpty, "no fix text checked for \(catalog.subtracting(covered).sorted())")
    }

    /// One sentence: no second sentence glued on (". a glibc symbol ..."), no hedge left over.
    @Test func everyFixInARealReportIsOneSentence() throws {
        let run = try CheckedFixtures.best()
        let object = try #require(try JSONSerialization.jsonObject(with: run.json) as? [String: Any])
        var fixes: Set<String> = []
        for a in object["artifacts"] as? [[String: Any]] ?? [] {
            for f in a["findings"] as? [[String: Any]] ?? [] { if let fix = f["fix"] as? String { fixes.insert(fix) } }
        }
        #expect(fixes.count > 10)
        for fix in fixes {
            #expect(fix.range(of: #"\. [a-z]"#, options: .regularExpression) == nil, "\(fix)")
            #expect(!fix.contains("check whether gcompat provides it"), "\(fix)")
            #expect(!fix.hasSuffix("."), "\(fix)")
        }
    }
}
