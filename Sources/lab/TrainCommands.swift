#if canImport(Glibc)
import Glibc
#endif
import Datasets
import Models
import NN
import SafeTensors
import Tape
import Training

/// `lab train`: trains with progress, per-epoch test evaluation, metrics.csv and checkpoints;
/// `--resume RUN_DIR` continues bit-identically, with the data directory remembered in the
/// checkpoint unless `--data` overrides it; Ctrl-C (or `--stop-at-step N`) stops after the
/// current step and writes a checkpoint; a diverged run (NaN or infinite loss) stops with
/// status 1 and keeps the last good checkpoint.
func trainCommand(_ arguments: Arguments) throws {
    if let threads = arguments.value("threads") {
        // Results do not depend on the thread count, so it is not part of the run's configuration.
        guard let count = Int(threads), count >= 1 else { throw LabError("--threads must be a positive integer, got '\(threads)'") }
        kernelThreadCount = count
    }
    var stopAtStep: Int?
    if let text = arguments.value("stop-at-step") {
        guard let step = Int(text), step >= 1 else { throw LabError("--stop-at-step must be a positive integer, got '\(text)'") }
        stopAtStep = step
    }
    let trainer: Trainer
    let configuration: TrainingConfiguration
    let runDirectory: String
    let data: DataDirectory
    var epochSeconds = 0.0
    if let resume = arguments.value("resume") {
        runDirectory = resume
        let path = resume + "/checkpoint.safetensors"
        guard RunFiles.exists(path) else { throw LabError("--resume \(resume): no checkpoint.safetensors there") }
        let checkpoint = try SafeTensorsFile(contentsOf: path)
        configuration = try TrainingConfiguration(metadata: checkpoint.metadata)
        data = try resumedDataDirectory(explicit: arguments.value("data"), remembered: checkpoint.metadata[CheckpointKey.data],
                                        dataset: configuration.dataset, runDirectory: resume)
        let (train, test) = try loadSplits(configuration.dataset, data)
        trainer = try Trainer.resume(from: checkpoint, train: train, test: test)
        epochSeconds = checkpoint.metadata[CheckpointKey.epochSeconds].flatMap { Double($0) } ?? 0
        printLine("resuming \(configuration.model) on \(configuration.dataset.rawValue) (data from \(data.root)) "
                  + "at epoch \(trainer.epoch + 1), step \(trainer.position)")
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
        data = try DataDirectory.resolve(explicit: arguments.value("data"))
        if RunFiles.exists(runDirectory + "/checkpoint.safetensors") {
            throw LabError("\(runDirectory) already holds a run; continue it with --resume \(runDirectory) or choose another --out")
        }
        try RunFiles.makeDirectory(runDirectory)
        let (train, test) = try loadSplits(datasetName, data)
        trainer = try Trainer(newConfiguration, train: train, test: test)
        printLine("training \(newConfiguration.model) (\(counted(trainer.model.parameterCount, "parameter"))) on \(datasetName.rawValue): "
                  + "\(counted(trainer.train.count, "training image")) and \(counted(trainer.test.count, "test image")), "
                  + "\(counted(newConfiguration.epochs, "epoch")) of \(counted(trainer.batchesPerEpoch, "step"))")
    }
    guard arguments.flag("profile") else {
        try runTraining(trainer, configuration, runDirectory: runDirectory, data: data, priorEpochSeconds: epochSeconds, stopAtStep: stopAtStep)
        return
    }
    // --profile: time per op over the whole run (training steps and evaluation), printed and
    // written to RUN_DIR/profile.txt.
    let (_, profile) = try withProfiling {
        try runTraining(trainer, configuration, runDirectory: runDirectory, data: data, priorEpochSeconds: epochSeconds, stopAtStep: stopAtStep)
    }
    printLine("profile (time per op over this run):\n\(profile)")
    try RunFiles.writeAtomically(profile.description + "\n", to: runDirectory + "/profile.txt")
}

/// What `lab train` adds to the trainer's checkpoint metadata.
enum CheckpointKey {
    /// The data directory's absolute path, for `--resume` without `--data`.
    static let data = "lab.data"
    /// Wall-clock seconds spent on the epoch in progress before the checkpoint (for metrics.csv after a resume).
    static let epochSeconds = "lab.epoch_seconds"
}

/// The data directory of a resumed run: `--data` when given, else the one remembered in the
/// checkpoint (an error naming the `--data` to pass when it is gone), else the usual search
/// (checkpoints written before the directory was remembered).
func resumedDataDirectory(explicit: String?, remembered: String?, dataset: DatasetName, runDirectory: String) throws -> DataDirectory {
    if let explicit { return try DataDirectory.resolve(explicit: explicit) }
    guard let remembered else { return try DataDirectory.resolve() }
    guard isDirectory(remembered) else {
        throw LabError("this run's data directory \(remembered) (remembered in its checkpoint) no longer exists; resume with "
                       + "lab train --resume \(runDirectory) --data DIR, where DIR is the directory holding \(dataset.folder)/")
    }
    return DataDirectory(root: remembered)
}

func loadSplits(_ dataset: DatasetName, _ data: DataDirectory) throws -> (ImageSet, ImageSet) {
    (try dataset.load(.train, from: data), try dataset.load(.test, from: data))
}

/// Whether `path` is an existing directory (following symbolic links).
private func isDirectory(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
}

/// `path` made absolute and free of symbolic links (as it is when that fails).
private func absolutePath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// Trains to the end, one epoch at a time: a metrics.csv row and a checkpoint after each epoch.
///
/// - Parameters:
///   - priorEpochSeconds: wall-clock seconds the epoch in progress took before a resume.
///   - stopAtStep: stop with a checkpoint (status 0) once this many steps of the run are done.
func runTraining(_ trainer: Trainer, _ configuration: TrainingConfiguration, runDirectory: String, data: DataDirectory,
                 priorEpochSeconds: Double = 0, stopAtStep: Int? = nil) throws {
    var metrics = MetricsLog(path: runDirectory + "/metrics.csv")
    var progress = ProgressReporter()
    let checkpointPath = runDirectory + "/checkpoint.safetensors"
    let dataRoot = absolutePath(data.root)
    func writeCheckpoint(epochSeconds: Double) throws {
        var file = try trainer.checkpoint()
        file.metadata[CheckpointKey.data] = dataRoot
        file.metadata[CheckpointKey.epochSeconds] = "\(epochSeconds)"
        try file.write(to: checkpointPath)
    }
    Interrupt.install()
    var priorSeconds = priorEpochSeconds
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
                let stopRequested = stopAtStep.map { trainer.globalStep >= $0 } ?? false
                if Interrupt.isRequested || stopRequested {
                    progress.finishEpoch()
                    try writeCheckpoint(epochSeconds: priorSeconds + now() - start)
                    printLine("\(stopRequested ? "stopped" : "interrupted"): checkpoint written to \(checkpointPath) at epoch "
                              + "\(trainer.epoch + 1), step \(trainer.position); continue with: lab train --resume \(runDirectory)")
                    throw ExitRequest(status: stopRequested ? 0 : 130)
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
        let seconds = priorSeconds + now() - start
        priorSeconds = 0
        let test = trainer.evaluate(trainer.test)
        let figures = trainer.epochFigures, train = figures.evaluation
        try metrics.append(epoch: epoch + 1, step: trainer.globalStep, train: train, test: test, learningRate: learningRate,
                           seconds: seconds, imagesPerSecond: Double(figures.images) / Swift.max(seconds, 1e-9))
        try writeCheckpoint(epochSeconds: 0)
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
    print("\(name) on \(dataset.rawValue) test (\(counted(test.count, "image"))): loss \(format(result.loss, 4)), accuracy \(format(result.accuracy * 100, 2))%")
}
