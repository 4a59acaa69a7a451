import Probes

/// One line of what a probe found: a comparison with the baseline ("default thread stack: 8 MiB
/// → 128 KiB", `differs` set), or a field's value ("default thread stack: 128 KiB").
public struct ProbeLine: Sendable, Hashable {
    public var text: String
    /// Whether the image differs from the baseline; nil without a baseline.
    public var differs: Bool?
}

extension ImageProbeReport {
    /// What one probe found, line by line, as every renderer shows it: the comparisons when a
    /// baseline ran, else the catalog's fields in order (those with a value; all of them with
    /// `allFields`), else every value by name.
    public func lines(for probe: ProbeOutcome, catalog: ProbeCatalog?, allFields: Bool = false) -> [ProbeLine] {
        let comparisons = self.comparisons.filter { $0.probe == probe.id }
        if !comparisons.isEmpty { return comparisons.map { ProbeLine(text: $0.text, differs: $0.differs) } }
        if let fields = catalog?.probe(probe.id)?.fields {
            return fields.compactMap { f in
                guard allFields || probe.values[f.name] != nil else { return nil }
                return ProbeLine(text: "\(f.label): \(ProbeRunner.format(probe.values[f.name], unit: f.unit))", differs: nil)
            }
        }
        return probe.values.keys.sorted().map { ProbeLine(text: "\($0): \(ProbeRunner.format(probe.values[$0], unit: nil))", differs: nil) }
    }

    /// Where the image differs from glibc: from the baseline's run when one ran, else from the
    /// catalog's glibc value of each field ("default thread stack: 128 KiB (glibc: 8 MiB)").
    /// Fields measured in time units and fields with no glibc value are left out.
    public func differences(for probe: ProbeOutcome, catalog: ProbeCatalog?) -> [ProbeLine] {
        let comparisons = self.comparisons.filter { $0.probe == probe.id }
        if !comparisons.isEmpty {
            return comparisons.filter(\.differs).map { c in
                let unit = catalog?.probe(probe.id)?.fields.first { $0.name == c.field }?.unit
                return ProbeLine(text: "\(c.label): \(ProbeRunner.format(c.value, unit: unit)) (\(baseline ?? "baseline"): \(ProbeRunner.format(c.baseline, unit: unit)))",
                                 differs: true)
            }
        }
        guard let fields = catalog?.probe(probe.id)?.fields else { return [] }
        return fields.compactMap { f in
            guard let glibc = f.glibc, glibc != .null, let value = probe.values[f.name],
                  !ImageProbeReport.timingUnits.contains(f.unit ?? ""), value != glibc else { return nil }
            return ProbeLine(text: "\(f.label): \(ProbeRunner.format(value, unit: f.unit)) (glibc: \(ProbeRunner.format(glibc, unit: f.unit)))", differs: true)
        }
    }

    /// The loader probe's outcomes counted.
    public var loaderCounts: (confirmed: Int, contradicted: Int, notChecked: Int) {
        let confirmed = loader.filter { $0.agreement == .confirmed }.count
        let contradicted = loader.filter { $0.agreement == .contradicted }.count
        return (confirmed, contradicted, loader.count - confirmed - contradicted)
    }
}
