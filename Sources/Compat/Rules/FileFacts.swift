// MC107, MC115, MC120, MC121, MC130: what the file is: not a file the target runs, damaged past
// loading, a manylinux wheel's, a static glibc program, a program whose threads get musl's
// small default stack.

extension Fixes {
    /// MC107: not a file the target runs.
    public static let notApplicable = text(.notApplicable)
    /// MC115: the file is cut short or corrupted.
    public static let unloadableFile = text(.unloadableFile)
    /// MC120: a glibc (manylinux) wheel.
    public static let musllinuxWheel = text(.musllinuxWheel)
    /// MC121: a static glibc program.
    public static let staticGlibc = text(.staticGlibc)
    /// MC130: threads with the default stack size.
    public static let threadStack = text(.threadStack)
}

extension Analyzer {
    /// MC107: the target does not run the file, for `reason`.
    func notApplicableFinding(display: String, reason: String, target: Target) -> Finding {
        data.finding(.notApplicable, message: "\(display): \(reason)", fix: Fixes.notApplicable,
                     artifact: display, target: target.name)
    }

    /// MC115: the file's `damage` stops every loader (the kernel, or musl's map_library).
    func damagedFileFinding(display: String, damage: String, target: Target) -> Finding {
        data.finding(.damagedFile, message: "\(display) cannot be loaded: \(damage)", subject: "load",
                     fix: Fixes.unloadableFile,
                     artifact: display, target: target.name)
    }

    /// MC120: a glibc build from a manylinux wheel.
    func manylinuxWheelFinding(display: String, archive: String) -> Finding {
        data.finding(.manylinuxWheel, message: "\(archive) is a glibc (manylinux) wheel",
                     subject: archive, fix: Fixes.musllinuxWheel,
                     artifact: display, target: nil)
    }

    /// MC121: a static glibc program.
    func staticGlibcFinding(display: String) -> Finding {
        data.finding(.staticGlibc, message: "\(display) is a static glibc program",
                     fix: Fixes.staticGlibc,
                     artifact: display, target: nil)
    }

    /// MC130: a program that creates threads without setting their stack size.
    func threadStackFinding(display: String) -> Finding {
        data.finding(.threadStackSize, message: "\(display) creates threads with the default stack size: 8 MiB on glibc, 128 KiB on musl",
                     subject: "pthread_create",
                     fix: Fixes.threadStack,
                     artifact: display, target: nil)
    }
}
