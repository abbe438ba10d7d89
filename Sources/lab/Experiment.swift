#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Experiments
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
let experiments: [Experiment] = [shatteringExperiment, hessianExperiment, identityMappingsExperiment, highwayExperiment, stochasticDepthExperiment, looksLinearExperiment]

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

/// `lab experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]`.
func experimentCommand(_ arguments: Arguments) throws {
    guard let name = arguments.positional.first else {
        throw LabError("usage: lab experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]", usage: true)
    }
    let names = ExperimentCatalog.all.map(\.name) + experiments.map(\.name)
    if name == "list" {
        for entry in ExperimentCatalog.all { print(entry.name.padding(20) + entry.claim) }
        for experiment in experiments { print(experiment.name.padding(20) + experiment.claim) }
        return
    }
    let seedCount = try arguments.integer("seeds", default: 3)
    guard seedCount >= 1 else { throw LabError("--seeds must be at least 1") }
    let directory = arguments.value("out") ?? "experiments"
    let start = now()
    if let entry = ExperimentCatalog.entry(named: name) {
        Interrupt.install()
        let outcome: RunOutcome
        do {
            outcome = try entry.run(arguments.flag("quick") ? .quick : .full,
                                    options: RunOptions(outputDirectory: directory, seedCount: arguments.value("seeds") == nil ? nil : seedCount,
                                                        dataDirectory: arguments.value("data")),
                                    log: printLine)
        } catch let error as ExperimentError {
            throw LabError(error.description)
        }
        printLine("\(name): \(outcome.judgement.verdict.rawValue); wrote \(outcome.files.map { directory + "/" + $0 }.joined(separator: ", ")) in \(duration(now() - start))")
        return
    }
    guard let experiment = experiments.first(where: { $0.name == name }) else {
        throw LabError("unknown experiment '\(name)' (known: \(names.joined(separator: ", ")))")
    }
    let options = ExperimentOptions(quick: arguments.flag("quick"), outputDirectory: directory,
                                    seeds: (0..<UInt64(seedCount)).map { $0 }, dataDirectory: arguments.value("data"))
    try experiment.run(options)
    printLine("\(name): wrote \(options.outputDirectory)/\(name).csv, .md and plots in \(duration(now() - start))")
}

/// A loss for progress lines, marked when it diverged.
func lossText(_ loss: Double) -> String { isDivergedLoss(loss) ? "\(loss) (diverged)" : formatted(loss, 4) }

