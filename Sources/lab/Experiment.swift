#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Plot
import Training

/// What every experiment is given.
struct ExperimentOptions {
    var quick: Bool
    var outputDirectory: String
    var seeds: [UInt64]
    /// `--data DIR` for experiments that train on a data set (nil: `$TAPE_DATA`, else ../shared/data).
    var dataDirectory: String? = nil
}

/// A named, seeded study with the claim it tests. `run` writes DIR/NAME.csv, SVG plots and
/// DIR/NAME.md.
struct Experiment: Sendable {
    let name: String
    let claim: String
    let run: @Sendable (ExperimentOptions) throws -> Void
}

/// Every experiment `lab experiment NAME` knows, in the order of the issue.
let experiments: [Experiment] = [shatteringExperiment, explodingExperiment, ensemblesExperiment, hessianExperiment, identityMappingsExperiment, highwayExperiment, stochasticDepthExperiment, looksLinearExperiment]

/// Accumulates an experiment's outputs and writes them atomically.
struct ExperimentWriter {
    let name: String
    let directory: String
    var csvRows: [String] = []
    var markdown: [String] = []
    /// Started with the writer, at the start of the experiment's run.
    let clock = ExperimentClock()

    init(name: String, directory: String, csvHeader: String) throws {
        self.name = name
        self.directory = directory
        try RunFiles.makeDirectory(directory)
        csvRows = [csvHeader]
    }

    mutating func row(_ fields: [CustomStringConvertible]) { csvRows.append(fields.map { "\($0)" }.joined(separator: ",")) }
    mutating func text(_ line: String = "") { markdown.append(line) }

    func write(_ figure: Figure, suffix: String) throws -> String {
        let file = "\(name)-\(suffix).svg"
        do { try figure.write(to: directory + "/" + file) } catch { throw LabError("\(error)") }
        return file
    }

    func finish() throws {
        try RunFiles.writeAtomically(csvRows.joined(separator: "\n") + "\n", to: directory + "/\(name).csv")
        try RunFiles.writeAtomically(markdown.joined(separator: "\n") + "\n", to: directory + "/\(name).md")
    }
}

/// Mean and sample standard deviation.
func meanAndSpread(_ values: [Double]) -> (mean: Double, spread: Double) {
    guard !values.isEmpty else { return (.nan, .nan) }
    let mean = values.reduce(0, +) / Double(values.count)
    guard values.count > 1 else { return (mean, 0) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)
    return (mean, variance.squareRoot())
}

func formatted(_ value: Double, _ decimals: Int = 3) -> String {
    value.isFinite ? format(Float(value), decimals) : "\(value)"
}

/// Scientific notation for wide-ranging values (GSC).
func scientific(_ value: Double) -> String {
    guard value.isFinite, value > 0 else { return "\(value)" }
    var exponent = 0, mantissa = value
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    return format(Float(mantissa), 2) + "e" + (exponent >= 0 ? "+" : "") + "\(exponent)"
}

/// `lab experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]`.
func experimentCommand(_ arguments: Arguments) throws {
    guard let name = arguments.positional.first else {
        throw LabError("usage: lab experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]", usage: true)
    }
    if name == "list" {
        for experiment in experiments { print(experiment.name.padding(20) + experiment.claim) }
        return
    }
    guard let experiment = experiments.first(where: { $0.name == name }) else {
        throw LabError("unknown experiment '\(name)' (known: \(experiments.map(\.name).joined(separator: ", ")))")
    }
    let seedCount = try arguments.integer("seeds", default: 3)
    guard seedCount >= 1 else { throw LabError("--seeds must be at least 1") }
    let options = ExperimentOptions(quick: arguments.flag("quick"), outputDirectory: arguments.value("out") ?? "experiments",
                                    seeds: (0..<UInt64(seedCount)).map { $0 }, dataDirectory: arguments.value("data"))
    let start = now()
    try experiment.run(options)
    printLine("\(name): wrote \(options.outputDirectory)/\(name).csv, .md and plots in \(duration(now() - start))")
}

/// A training loss that is NaN, infinite or above 100 nats (chance level on 10 classes is ln 10 ≈ 2.3)
/// means the run diverged.
func isDivergedLoss(_ loss: Double) -> Bool { !loss.isFinite || loss > 100 }

/// A loss for progress lines, marked when it diverged.
func lossText(_ loss: Double) -> String { isDivergedLoss(loss) ? "\(loss) (diverged)" : formatted(loss, 4) }

/// Final losses over seeds: mean and spread of the runs that did not diverge, and how many did.
struct SeedLossSummary {
    var mean: Double, spread: Double, diverged: Int, count: Int

    init(_ values: [Double]) {
        let finite = values.filter { !isDivergedLoss($0) }
        (mean, spread) = finite.isEmpty ? (.nan, .nan) : meanAndSpread(finite)
        (diverged, count) = (values.count - finite.count, values.count)
    }

    /// Fewer diverged runs first, then the lower mean: how a learning rate is picked.
    func isBetter(than other: SeedLossSummary) -> Bool {
        diverged != other.diverged ? diverged < other.diverged : mean < other.mean
    }

    func text(_ decimals: Int = 4) -> String {
        if diverged == count { return "diverged (\(count)/\(count))" }
        return "\(formatted(mean, decimals)) ± \(formatted(spread, decimals))" + (diverged > 0 ? "; \(diverged)/\(count) diverged" : "")
    }
}

/// Wall-clock and CPU time since an experiment started, for its report.
struct ExperimentClock {
    private let wallStart = now(), cpuStart = processCPUSeconds()

    /// Wall-clock seconds so far.
    var elapsed: Double { now() - wallStart }

    /// "Runtime 3m05s wall-clock, 5m40s CPU (load average 2.1 at the end; release)." CPU time is
    /// what a shared machine's load does not inflate; the load average says how shared it was.
    func runtimeSentence(quick: Bool) -> String {
        var load = [Double](repeating: .nan, count: 1)
        _ = getloadavg(&load, 1)
        return "Runtime \(duration(elapsed)) wall-clock, \(duration(processCPUSeconds() - cpuStart)) CPU (load average "
            + "\(formatted(load[0], 1)) at the end on \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores; "
            + "\(quick ? "quick, debug or release" : "release"))."
    }
}

/// User plus system CPU seconds of this process so far, over all its threads.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
