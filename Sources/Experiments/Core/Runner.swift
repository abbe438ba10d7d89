#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Plot
import Training

/// Which of an experiment's setups to run.
public enum Preset: String, Sendable, CaseIterable {
    /// The smoke test: seconds to a couple of minutes.
    case quick
    /// The version `docs/experiments` shows.
    case full
}

/// How `lab experiment` runs an experiment.
public struct RunOptions: Sendable {
    /// Where the report, CSV, plots, results and saved units go.
    public var outputDirectory: String
    /// Measure seeds 0..<n instead of the setup's seeds.
    public var seedCount: Int?
    /// `--data DIR` (nil: `$TAPE_DATA`, else ../shared/data).
    public var dataDirectory: String?

    /// Options for a run writing into `outputDirectory`.
    public init(outputDirectory: String, seedCount: Int? = nil, dataDirectory: String? = nil) {
        (self.outputDirectory, self.seedCount, self.dataDirectory) = (outputDirectory, seedCount, dataDirectory)
    }
}

/// What a finished run wrote and decided.
public struct RunOutcome: Sendable {
    /// The verdict and its findings.
    public let judgement: Judgement
    /// The files written, relative to the output directory.
    public let files: [String]
    /// The runtime sentence of the report.
    public let runtime: String
}

/// An experiment with its types erased, for listing and running by name.
public struct ExperimentEntry {
    /// The name `lab experiment NAME` takes.
    public let name: String
    /// The claim tested.
    public let claim: String
    /// The paper reproduced.
    public let paper: Paper
    private let runner: (Preset, RunOptions, @escaping (String) -> Void) throws -> RunOutcome

    /// The entry of `experiment`.
    public init<E: Experiment>(_ experiment: E.Type) {
        (name, claim, paper) = (E.name, E.claim, E.paper)
        runner = { preset, options, log in
            var setup = preset == .quick ? E.Setup.quick : E.Setup.full
            if let count = options.seedCount { setup.seeds = (0..<UInt64(count)).map { $0 } }
            return try runExperiment(E.self, setup: setup, options: options, log: log)
        }
    }

    /// Runs the `preset` setup with `options`, sending progress lines to `log`.
    public func run(_ preset: Preset, options: RunOptions, log: @escaping (String) -> Void = { _ in }) throws -> RunOutcome {
        try runner(preset, options, log)
    }
}

/// Measures `setup`, decides the verdict and writes `DIR/NAME.md`, `NAME.csv`, `NAME.json` (the
/// results) and the plots. Finished units are kept in `DIR/NAME.units/`, so running the same
/// setup again after an interruption continues where it stopped.
public func runExperiment<E: Experiment>(_ experiment: E.Type, setup: E.Setup, options: RunOptions,
                                         log: @escaping (String) -> Void = { _ in }) throws -> RunOutcome {
    let directory = options.outputDirectory
    let clock = ExperimentClock()
    let store = try UnitStore(directory: directory + "/\(E.name).units", setup: setup)
    let run = ExperimentRun(name: E.name, store: store, data: ExperimentData(directory: options.dataDirectory), log: log)
    let results = try E.measure(setup, in: run)
    let judgement = E.verdict(results)
    var report = Report(name: E.name)
    try E.report(results, setup: setup, into: &report)
    if run.measuredUnits > 0 {
        try store.record(UnitStore.RecordedRun(wallSeconds: clock.elapsed, cpuSeconds: clock.cpuElapsed, measuredUnits: run.measuredUnits))
    }
    let runtime = clock.runtimeSentence(runs: try store.recordedRuns(), storedUnits: run.storedUnits, measuredUnits: run.measuredUnits)
    var files: [String] = []
    for (suffix, figure) in report.figures {
        let file = report.fileName(suffix)
        do { try figure.write(to: directory + "/" + file) } catch { throw ExperimentError.file("cannot write \(file): \(error)") }
        files.append(file)
    }
    try RunFiles.writeAtomically(report.csvRows.joined(separator: "\n") + "\n", to: directory + "/\(E.name).csv")
    try RunFiles.writeAtomically(try UnitStore.encode(results), to: directory + "/\(E.name).json")
    let markdown = document(E.self, setup: setup, body: report.markdown, judgement: judgement, runtime: runtime)
    try RunFiles.writeAtomically(markdown, to: directory + "/\(E.name).md")
    return RunOutcome(judgement: judgement, files: files + ["\(E.name).csv", "\(E.name).json", "\(E.name).md"], runtime: runtime)
}

/// The report: title and paper, claim, the setup verbatim, the experiment's body, the verdict
/// with each finding, the runtime.
func document<E: Experiment>(_ experiment: E.Type, setup: E.Setup, body: [String], judgement: Judgement, runtime: String) -> String {
    var lines = ["# \(E.name) — \(E.paper.citation), \"\(E.paper.title)\"", "",
                 "**Claim** ([\(E.paper.citation)](\(E.paper.link))): \(E.claim).", "",
                 "**Setup.** Every number that matters, as run:", "", "```json"]
    lines.append(((try? UnitStore.encode(setup)) ?? "(setup could not be encoded)").trimmingTrailingNewlines())
    lines += ["```", ""]
    lines += body
    lines += ["**Verdict: \(judgement.verdict.rawValue).**", ""]
    for finding in judgement.findings {
        lines.append("- \(finding.holds ? "✔" : "✘") \(finding.isCentral ? "" : "(side claim) ")\(finding.claim): \(finding.evidence)")
    }
    lines += ["", runtime, ""]
    return lines.joined(separator: "\n")
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
