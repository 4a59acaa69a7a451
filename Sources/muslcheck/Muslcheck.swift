import ArgumentParser

@main
struct Muslcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "muslcheck",
        abstract: "Tells whether native code (executables, shared libraries, wheels, jars, addons) will run on musl (Alpine), and proves it in the target image.",
        version: MuslcheckVersion.current,
        subcommands: [Inspect.self]
    )
}

enum MuslcheckVersion {
    static let current = "0.1.0"
}
