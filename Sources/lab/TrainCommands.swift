import Datasets
import Models
import NN
import SafeTensors
import Tape
import Training

/// `lab train`: trains with progress, per-epoch test evaluation, metrics.csv and checkpoints;
/// `--resume RUN_DIR` continues bit-identically; Ctrl-C stops after the current step and
/// writes a checkpoint; a diverged run (NaN or infinite loss) stops with status 1 and keeps the
/// last good checkpoint.
func trainCommand(_ arguments: Arguments) throws {
    if let threads = arguments.value("threads") {
        // Results do not depend on the thread count, so it is not part of the run's configuration.
        guard let count = Int(threads), count >= 1 else { throw LabError("--threads must be a positive integer, got '\(threads)'") }
        kernelThreadCount = count
    }
    let data = try DataDirectory.resolve(explicit: arguments.value("data"))
    let trainer: Trainer
    let configuration: TrainingConfiguration
    let runDirectory: String
    if let resume = arguments.value("resume") {
        runDirectory = resume
        let path = resume + "/checkpoint.safetensors"
        guard RunFiles.exists(path) else { throw LabError("--resume \(resume): no checkpoint.safetensors there") }
        let checkpoint = try SafeTensorsFile(contentsOf: path)
        configuration = try TrainingConfiguration(metadata: checkpoint.metadata)
        let (train, test) = try loadSplits(configuration.dataset, data)
        trainer = try Trainer.resume(from: checkpoint, train: train, test: test)
        printLine("resuming \(configuration.model) on \(configuration.dataset.rawValue) at epoch \(trainer.epoch + 1), step \(trainer.position)")
    } else {
        runDirectory = try arguments.required("out")
        guard let datasetName = DatasetName(rawValue: try arguments.required("dataset")) else {
            throw LabError("unknown data set '\(arguments.value("dataset")!)' (known: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var newConfiguration = TrainingConfiguration(model: try arguments.required("model"), dataset: datasetName)
        newConfiguration.epochs = try arguments.integer("epochs", default: newConfiguration.epochs)
        newConfiguration.batchSize = try arguments.integer("batch-size", default: newConfiguration.batchSize)
        newConfiguration.learningRate = try arguments.float("lr", default: newConfiguration.learningRate)
        newConfiguration.momentum = try arguments.float("momentum", default: newConfiguration.momentum)
        newConfiguration.weightDecay = try arguments.float("weight-decay", default: newConfiguration.weightDecay)
        newConfiguration.seed = UInt64(try arguments.integer("seed", default: 0))
        if let schedule = arguments.value("schedule") { newConfiguration.schedule = try ScheduleKind(parsing: schedule) }
        if arguments.flag("nesterov") { newConfiguration.nesterov = true }
        if let warmup = arguments.value("warmup") { newConfiguration.warmup = try Warmup(parsing: warmup) }
        if let limit = arguments.value("limit") { newConfiguration.trainLimit = Int(limit) ?? -1 }
        if let limit = arguments.value("test-limit") { newConfiguration.testLimit = Int(limit) ?? -1 }
        if arguments.flag("no-augment") { newConfiguration.augment = false }
        _ = try ModelRegistry.entry(named: newConfiguration.model)
        try newConfiguration.validate()
        configuration = newConfiguration
        if RunFiles.exists(runDirectory + "/checkpoint.safetensors") {
            throw LabError("\(runDirectory) already holds a run; continue it with --resume \(runDirectory) or choose another --out")
        }
        try RunFiles.makeDirectory(runDirectory)
        let (train, test) = try loadSplits(datasetName, data)
        trainer = try Trainer(newConfiguration, train: train, test: test)
        printLine("training \(newConfiguration.model) (\(trainer.model.parameterCount) parameters) on \(datasetName.rawValue): "
              + "\(trainer.train.count) training and \(trainer.test.count) test images, \(newConfiguration.epochs) epochs of \(trainer.batchesPerEpoch) steps")
    }
    try runTraining(trainer, configuration, runDirectory: runDirectory)
}

func loadSplits(_ dataset: DatasetName, _ data: DataDirectory) throws -> (ImageSet, ImageSet) {
    (try dataset.load(.train, from: data), try dataset.load(.test, from: data))
}

func runTraining(_ trainer: Trainer, _ configuration: TrainingConfiguration, runDirectory: String) throws {
    var metrics = MetricsLog(path: runDirectory + "/metrics.csv")
    var progress = ProgressReporter()
    let checkpointPath = runDirectory + "/checkpoint.safetensors"
    Interrupt.install()
    while !trainer.isFinished {
        let epoch = trainer.epoch, start = now(), startStep = trainer.position
        var images = 0
        let learningRate = trainer.learningRate
        do {
            while let result = try trainer.step() {
                images += result.images
                let elapsed = now() - start, running = trainer.epochFigures.evaluation
                progress.update(epoch: epoch, epochs: configuration.epochs, step: trainer.position, steps: trainer.batchesPerEpoch,
                                startStep: startStep, loss: running.loss, accuracy: running.accuracy,
                                imagesPerSecond: Double(images) / Swift.max(elapsed, 1e-9), elapsed: elapsed)
                if Interrupt.isRequested {
                    progress.finishEpoch()
                    try trainer.checkpoint().write(to: checkpointPath)
                    printLine("interrupted: checkpoint written to \(checkpointPath) at epoch \(trainer.epoch + 1), step \(trainer.position); "
                          + "continue with: lab train --resume \(runDirectory)")
                    throw ExitRequest(status: 130)
                }
            }
        } catch let error as TrainingError {
            guard case .diverged = error else { throw error }
            progress.finishEpoch()
            let kept = RunFiles.exists(checkpointPath)
                ? "the last good checkpoint, \(checkpointPath), is kept (from the end of epoch \(epoch))"
                : "no checkpoint was written (it diverged in the first epoch)"
            throw LabError("\(error); \(kept); try a lower --lr")
        }
        progress.finishEpoch()
        let seconds = now() - start
        let test = trainer.evaluate(trainer.test)
        let train = trainer.epochFigures.evaluation
        try metrics.append(epoch: epoch + 1, step: trainer.globalStep, train: train, test: test, learningRate: learningRate,
                           seconds: seconds, imagesPerSecond: Double(images) / Swift.max(seconds, 1e-9))
        try trainer.checkpoint().write(to: checkpointPath)
        printLine("epoch \(epoch + 1)/\(configuration.epochs): train loss \(format(train.loss, 4)) acc \(format(train.accuracy * 100, 2))% | "
              + "test loss \(format(test.loss, 4)) acc \(format(test.accuracy * 100, 2))% | \(duration(seconds))")
    }
    try writeCurves(metrics, to: runDirectory + "/curves.svg", title: "\(configuration.model) on \(configuration.dataset.rawValue)")
    print("done: \(runDirectory)/metrics.csv, \(runDirectory)/curves.svg, \(checkpointPath)")
}

/// Asks `main` to exit with a status after a clean stop.
struct ExitRequest: Error { let status: Int32 }

/// `lab eval`: loss and accuracy of weights (a state dict or a training checkpoint) on a test set.
func evalCommand(_ arguments: Arguments) throws {
    let name = try arguments.required("model")
    let model = try ModelRegistry.make(name)
    guard let dataset = DatasetName(rawValue: try arguments.required("dataset")) else {
        throw LabError("unknown data set '\(arguments.value("dataset")!)' (known: \(DatasetName.allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    let path = try arguments.required("weights")
    var file = try SafeTensorsFile(contentsOf: path)
    if file.names.contains(where: { $0.hasPrefix("model.") }) {
        file = SafeTensorsFile(tensors: Dictionary(uniqueKeysWithValues: file.tensors.compactMap { key, value in
            key.hasPrefix("model.") ? (String(key.dropFirst(6)), value) : nil
        }))
    }
    do { try model.load(file) } catch { throw LabError("cannot load weights for \(name) from \(path): \(error)") }
    var test = try dataset.load(.test, from: DataDirectory.resolve(explicit: arguments.value("data")))
    if let limit = arguments.value("limit") {
        guard let count = Int(limit), count > 0 else { throw LabError("--limit expects a positive integer, got '\(limit)'") }
        test = test.prefix(count)
    }
    let result = evaluate(model, on: test, normalization: dataset.normalization)
    print("\(name) on \(dataset.rawValue) test (\(test.count) images): loss \(format(result.loss, 4)), accuracy \(format(result.accuracy * 100, 2))%")
}
