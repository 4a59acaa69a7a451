// MC112, MC113: an artifact loads only with gcompat (or, with gcompat installed, through it), or
// a module only with gcompat preloaded.

extension Fixes {
    /// MC112: loads only with gcompat; or, installed, loads through it.
    public static let needsGcompat = text(.needsGcompat)
    public static let loadsThroughGcompat = text(.loadsThroughGcompat)

    /// MC113: a module needs gcompat preloaded.
    public static func needsGcompatPreloaded(library: String, installed: Bool) -> String {
        text(installed ? .preloadGcompat : .needsGcompatPreloaded, ["library": library])
    }
}

extension Analyzer {
    /// MC112 or MC113 for an artifact whose verdict is needs-gcompat. `loadsAsIs`: it loads on the
    /// target as the target is; `preloadNeeded`: only with gcompat preloaded (a module).
    func gcompatFinding(display: String, target: Target, loadsAsIs: Bool, preloadNeeded: Bool) -> Finding {
        let id: FindingID = preloadNeeded ? .needsGcompatPreload : .needsGcompat
        let installed = target.hasGcompat && loadsAsIs
        let fix = preloadNeeded ? Fixes.needsGcompatPreloaded(library: data.targets.gcompat.library, installed: target.hasGcompat)
            : (installed ? Fixes.loadsThroughGcompat : Fixes.needsGcompat)
        return data.finding(id, message: installed
                                ? "\(display) loads on \(target.name) through gcompat"
                                : "\(display) loads on \(target.name) only with gcompat installed\(preloadNeeded ? " and preloaded" : "")",
                            fix: fix, artifact: display, target: target.name, severity: installed ? .note : nil)
    }
}
