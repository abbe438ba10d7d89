import Experiments
import Training

/// `lab experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]`: runs an experiment
/// of the `Experiments` library (its setup, measurement, verdict and report live there) and says
/// where the files went. Running the same command again after Ctrl-C continues where it stopped.
func experimentCommand(_ arguments: Arguments) throws {
    guard let name = arguments.positional.first else {
        throw LabError("usage: lab experiment list | NAME [--quick] [--out DIR] [--seeds N] [--data DIR]", usage: true)
    }
    if name == "list" {
        for entry in ExperimentCatalog.all { print(entry.name.padding(20) + entry.claim) }
        return
    }
    guard let entry = ExperimentCatalog.entry(named: name) else {
        throw LabError("unknown experiment '\(name)' (known: \(ExperimentCatalog.all.map(\.name).joined(separator: ", ")))")
    }
    var seedCount: Int?
    if arguments.value("seeds") != nil {
        let count = try arguments.integer("seeds", default: 1)
        guard count >= 1 else { throw LabError("--seeds must be at least 1") }
        seedCount = count
    }
    let directory = arguments.value("out") ?? "experiments"
    let start = now()
    Interrupt.install()
    let outcome: RunOutcome
    do {
        outcome = try entry.run(arguments.flag("quick") ? .quick : .full,
                                options: RunOptions(outputDirectory: directory, seedCount: seedCount, dataDirectory: arguments.value("data")),
                                log: printLine)
    } catch let error as ExperimentError {
        if case .interrupted = error {
            printError("lab: \(error.description)")
            throw ExitRequest(status: 130)
        }
        throw LabError(error.description)
    }
    printLine("\(name): \(outcome.judgement.verdict.rawValue); wrote "
              + outcome.files.map { directory + "/" + $0 }.joined(separator: ", ") + " in \(duration(now() - start))")
}
