import Datasets
import Models
import NN
import SafeTensors
import Tape

/// Loss and accuracy over a set of examples.
public struct Evaluation: Sendable, Equatable {
    /// Mean cross-entropy.
    public var loss: Float
    /// Fraction classified correctly.
    public var accuracy: Float

    /// A loss and an accuracy (a fraction, not a percentage).
    public init(loss: Float, accuracy: Float) {
        self.loss = loss
        self.accuracy = accuracy
    }
}

/// One training step's results.
public struct StepResult: Sendable {
    /// The mean cross-entropy over the batch (before the update).
    public var loss: Float
    /// The fraction of the batch classified correctly (before the update).
    public var accuracy: Float
    /// Images in the batch.
    public var images: Int
    /// Wall-clock seconds of the forward pass, backward pass and update (not the data loading).
    public var seconds: Double
    /// The learning rate the update used.
    public var learningRate: Float
}

/// The running figures of the epoch in progress (or just finished): summed over its steps so
/// far, including those before a checkpoint and resume.
public struct EpochFigures: Sendable, Equatable {
    /// Σ over steps of the batch's mean loss × its images.
    public var lossSum = 0.0
    /// Images classified correctly.
    public var correct = 0
    /// Images trained on.
    public var images = 0
    /// Steps taken.
    public var steps = 0
    /// Σ of the steps' `seconds` (forward, backward, update).
    public var stepSeconds = 0.0

    /// Empty figures (no step yet).
    public init() {}

    /// Mean training loss and accuracy over the epoch's images so far (0 before the first step).
    public var evaluation: Evaluation {
        images == 0 ? Evaluation(loss: 0, accuracy: 0)
            : Evaluation(loss: Float(lossSum / Double(images)), accuracy: Float(Double(correct) / Double(images)))
    }
}

/// Trains a model with SGD on an image set, one mini-batch at a time, with cross-entropy loss,
/// and can be checkpointed and resumed exactly: the data order depends only on (seed, epoch), the
/// forward pass's generator (dropout, stochastic depth), the optimiser state, the warm-up state
/// and the epoch's running figures are saved, so k steps, a checkpoint, a resume and k more steps
/// give the same bits as 2k steps straight.
///
/// Any `Layer` whose output is `[batch, classes]` logits can be trained
/// (`init(model:train:test:options:)`); `lab train` uses the registry form
/// (`init(_:train:test:)`), which builds the model from its name and seed.
///
/// A NaN or infinite loss, gradient or updated weight throws `TrainingError.diverged` naming the
/// epoch and step; a non-finite loss or gradient is never applied, and after a divergence the
/// trainer refuses to step or write a checkpoint, so the last checkpoint written stays the last
/// good one.
public final class Trainer {
    /// The registry run this trainer was built from; nil for a trainer given a model.
    public let configuration: TrainingConfiguration?
    /// How the model is trained.
    public let options: TrainingOptions
    /// The model being trained (its weights change in place).
    public let model: Layer
    /// SGD over the model's parameters; the learning rate is set before every step.
    public let optimizer: SGD
    /// The training and test images (after a registry run's limits).
    public let train: ImageSet, test: ImageSet
    let loader: DataLoader
    /// The generator the forward passes draw from; advanced by every training step.
    public private(set) var forwardRandom: SplitMix64
    /// Completed optimiser steps over the whole run.
    public private(set) var globalStep = 0
    /// The running loss, accuracy and step times of the current epoch (of the finished one, until
    /// the next epoch's first step).
    public private(set) var epochFigures = EpochFigures()
    /// Whether the warm-up rate is still in force (false without a warm-up).
    public private(set) var isWarmingUp: Bool
    /// The warm-up's recent steps: (misclassified, images), oldest first.
    private(set) var warmupWindow: [(wrong: Int, images: Int)] = []
    private var divergence: TrainingError?

    /// The epoch in progress (0-based) and the next batch within it.
    public var epoch: Int { loader.epoch }
    /// The index of the next batch within `epoch` (`batchesPerEpoch` after its last step).
    public var position: Int { loader.position }
    /// Steps in one epoch.
    public var batchesPerEpoch: Int { loader.batchesPerEpoch }
    /// Whether all `options.epochs` epochs are done.
    public var isFinished: Bool { epoch >= options.epochs }

    /// A trainer for any model whose output on a `[N, C, H, W]` batch of `train` is `[N, K]` logits
    /// with K ≥ the number of classes. The model's current weights are the starting point.
    public convenience init(model: Layer, train: ImageSet, test: ImageSet, options: TrainingOptions) throws {
        try self.init(model: model, train: train, test: test, options: options, configuration: nil)
    }

    /// A `lab train` run: builds the registry model `configuration.model` from the seed, checks
    /// it fits the data and applies the configuration's limits.
    public convenience init(_ configuration: TrainingConfiguration, train: ImageSet, test: ImageSet) throws {
        try configuration.validate()
        let entry = try ModelRegistry.entry(named: configuration.model)
        if let mismatch = entry.mismatch(imageShape: [train.channels, train.height, train.width]) {
            throw TrainingError("\(configuration.dataset.rawValue) does not fit: \(mismatch)")
        }
        guard train.classCount <= entry.classes else {
            throw TrainingError("\(entry.name) has \(counted(entry.classes, "output")) but \(configuration.dataset.rawValue) has \(counted(train.classCount, "class", plural: "classes"))")
        }
        let model = try ModelRegistry.make(configuration.model, seed: configuration.seed)
        try self.init(model: model, train: configuration.trainLimit.map { train.prefix($0) } ?? train,
                      test: configuration.testLimit.map { test.prefix($0) } ?? test, options: configuration.options,
                      configuration: configuration)
    }

    private init(model: Layer, train: ImageSet, test: ImageSet, options: TrainingOptions, configuration: TrainingConfiguration?) throws {
        try options.validate()
        guard train.count > 0 else { throw TrainingError("the training set \(train.name) is empty") }
        for set in [train, test] {
            if let normalization = options.normalization, normalization.mean.count != set.channels {
                throw TrainingError("the normalisation has \(counted(normalization.mean.count, "channel")) but \(set.name) has \(set.channels)")
            }
        }
        self.configuration = configuration
        self.options = options
        self.model = model
        self.train = train
        self.test = test
        optimizer = SGD(parameters: model.parameters, learningRate: options.learningRate, momentum: options.momentum,
                        weightDecay: options.weightDecay, nesterov: options.nesterov)
        loader = DataLoader(train, batchSize: options.batchSize, shuffle: true, seed: options.seed,
                            normalization: options.normalization, augmentation: options.augmentation, prefetch: options.prefetch)
        forwardRandom = SplitMix64(seed: options.seed ^ 0xF0_5EED)
        isWarmingUp = options.warmup != nil
    }

    /// The learning rate the next step uses: the warm-up's while warming up, else the schedule's.
    public var learningRate: Float {
        if isWarmingUp, let warmup = options.warmup { return warmup.learningRate }
        let base = options.learningRate
        switch options.schedule {
        case .constant: return base
        case .multiStep(let milestones): return MultiStepSchedule(base: base, milestones: milestones).learningRate(at: epoch)
        case .cosine:
            return CosineSchedule(base: base, totalSteps: options.epochs * batchesPerEpoch).learningRate(at: globalStep)
        }
    }

    /// Trains on the next mini-batch; nil at the end of an epoch (the next call starts the next
    /// one, and resets `epochFigures`).
    ///
    /// - Throws: `TrainingError.diverged` when the loss, a gradient or an updated weight is not
    ///   finite (the trainer is then unusable); `TrainingError.invalid` when the model's output
    ///   does not fit the data.
    public func step() throws -> StepResult? {
        if let divergence { throw divergence }
        if loader.position == 0 { epochFigures = EpochFigures() }
        let (epochNumber, stepNumber) = (loader.epoch + 1, loader.position + 1)
        guard let batch = loader.next() else { return nil }
        let start = now()
        let images = Variable(Tensor(shape: batch.shape, scalars: batch.images))
        var context = ForwardContext(mode: .training, random: forwardRandom)
        let logits = model(images, &context)
        guard logits.shape.count == 2, logits.shape[0] == batch.count, logits.shape[1] >= train.classCount else {
            throw TrainingError("the model's output has shape \(logits.shape) for a batch of \(counted(batch.count, "image")); "
                                + "\(train.name) needs [\(batch.count), \(train.classCount)] logits (or more classes)")
        }
        forwardRandom = context.random
        let loss = crossEntropy(logits: logits, labels: batch.labels)
        let lossValue = loss.scalar
        let rate = learningRate
        func diverged() -> TrainingError {
            divergence = .diverged(epoch: epochNumber, step: stepNumber, loss: lossValue)
            return divergence!
        }
        guard lossValue.isFinite else { throw diverged() }
        optimizer.learningRate = rate
        model.zeroGradients()
        loss.backward()
        guard allFinite(optimizer.parameters.compactMap(\.grad)) else { throw diverged() }
        optimizer.step()
        guard allFinite(optimizer.parameters.map(\.value)) else { throw diverged() }
        globalStep += 1
        let seconds = now() - start
        let batchAccuracy = accuracy(logits: logits.value, labels: batch.labels)
        let correct = Int((batchAccuracy * Float(batch.count)).rounded())
        epochFigures.lossSum += Double(lossValue) * Double(batch.count)
        epochFigures.correct += correct
        epochFigures.images += batch.count
        epochFigures.steps += 1
        epochFigures.stepSeconds += seconds
        if isWarmingUp, let warmup = options.warmup { updateWarmup(warmup, wrong: batch.count - correct, images: batch.count) }
        return StepResult(loss: lossValue, accuracy: batchAccuracy, images: batch.count, seconds: seconds, learningRate: rate)
    }

    /// Trains to the end of the current epoch, calling `onStep` after every step, and returns the
    /// epoch's figures (whose `stepSeconds` times its steps without the data loading). Call it
    /// while `!isFinished`: beyond `options.epochs` it would train further epochs.
    @discardableResult
    public func trainEpoch(onStep: (StepResult) throws -> Void = { _ in }) throws -> EpochFigures {
        while let result = try step() { try onStep(result) }
        return epochFigures
    }

    /// Ends the warm-up once the last `window` steps misclassified less than the threshold.
    private func updateWarmup(_ warmup: Warmup, wrong: Int, images: Int) {
        warmupWindow.append((wrong, images))
        if warmupWindow.count > warmup.window { warmupWindow.removeFirst(warmupWindow.count - warmup.window) }
        guard warmupWindow.count == warmup.window else { return }
        let wrongTotal = warmupWindow.reduce(0) { $0 + $1.wrong }, imageTotal = warmupWindow.reduce(0) { $0 + $1.images }
        if Double(wrongTotal) < Double(warmup.errorThreshold) * Double(imageTotal) {
            isWarmingUp = false
            warmupWindow = []
        }
    }

    /// Loss and accuracy on `set` in evaluation mode (running BatchNorm statistics), normalised as in training.
    public func evaluate(_ set: ImageSet, batchSize: Int = 500) -> Evaluation {
        Training.evaluate(model, on: set, normalization: options.normalization, batchSize: batchSize)
    }

    /// The checkpoint: weights and buffers under `model.`, optimiser state under `optimizer.`;
    /// position, generator, warm-up state, the epoch's running figures and the options (or a
    /// registry run's configuration) in the metadata.
    ///
    /// - Throws: after a divergence (a diverged state is never written).
    public func checkpoint() throws -> SafeTensorsFile {
        if let divergence { throw TrainingError("no checkpoint of a diverged run (\(divergence))") }
        var file = try model.stateDict()
        file.tensors = Dictionary(uniqueKeysWithValues: file.tensors.map { ("model." + $0.key, $0.value) })
        for (key, value) in optimizer.state {
            file["optimizer." + key] = try SafeTensor(floats: value.scalars, shape: value.shape)
        }
        var state = [
            "epoch": "\(epoch)", "position": "\(position)", "global_step": "\(globalStep)",
            "forward_random": "\(forwardRandom.state)", "format": "tape-checkpoint-1",
            "train_images": "\(train.count)", "test_images": "\(test.count)",
            "epoch_loss_sum": "\(epochFigures.lossSum)", "epoch_correct": "\(epochFigures.correct)",
            "epoch_images": "\(epochFigures.images)", "epoch_steps": "\(epochFigures.steps)",
            "epoch_step_seconds": "\(epochFigures.stepSeconds)",
        ]
        if options.warmup != nil {
            state["warmup_done"] = "\(!isWarmingUp)"
            state["warmup_window"] = warmupWindow.map { "\($0.wrong)/\($0.images)" }.joined(separator: ",")
        }
        file.metadata = (configuration?.metadata ?? options.metadata).merging(state) { $1 }
        return file
    }

    /// Restores a registry run (`lab train`) from a checkpoint written by `checkpoint()`; the
    /// model is built from the name and seed in the checkpoint, and the configuration's limits
    /// are applied to `train` and `test`.
    public static func resume(from file: SafeTensorsFile, train: ImageSet, test: ImageSet) throws -> Trainer {
        try checkFormat(file)
        let trainer = try Trainer(try TrainingConfiguration(metadata: file.metadata), train: train, test: test)
        try trainer.restore(from: file)
        return trainer
    }

    /// Restores a run of `model` from a checkpoint written by `checkpoint()`: `model` must have
    /// the checkpoint's architecture (its weights are replaced) and `train`, `test` must be the
    /// sets it was trained on; the options come from the checkpoint. A registry run's checkpoint
    /// works too (its limits are applied).
    public static func resume(from file: SafeTensorsFile, model: Layer, train: ImageSet, test: ImageSet) throws -> Trainer {
        try checkFormat(file)
        let trainer: Trainer
        if file.metadata["train.epochs"] != nil {
            trainer = try Trainer(model: model, train: train, test: test, options: try TrainingOptions(metadata: file.metadata))
        } else {
            let configuration = try TrainingConfiguration(metadata: file.metadata)
            trainer = try Trainer(model: model, train: configuration.trainLimit.map { train.prefix($0) } ?? train,
                                  test: configuration.testLimit.map { test.prefix($0) } ?? test, options: configuration.options,
                                  configuration: configuration)
        }
        try trainer.restore(from: file)
        return trainer
    }

    private static func checkFormat(_ file: SafeTensorsFile) throws {
        guard file.metadata["format"] == "tape-checkpoint-1" else { throw TrainingError("not a Tape training checkpoint (metadata 'format' missing)") }
    }

    /// Loads the weights, optimiser state, position, generator, warm-up state and epoch figures.
    private func restore(from file: SafeTensorsFile) throws {
        let reader = MetadataReader(metadata: file.metadata)
        for (key, set) in [("train_images", train), ("test_images", test)] {
            if let saved = file.metadata[key].flatMap({ Int($0) }), saved != set.count {
                throw TrainingError("the checkpoint was trained with \(counted(saved, key == "train_images" ? "training image" : "test image")) "
                                    + "but \(set.name) has \(set.count)")
            }
        }
        var weights = SafeTensorsFile(tensors: [:])
        var optimizerState: [String: Tensor] = [:]
        for name in file.names {
            let tensor = file[name]!
            if name.hasPrefix("model.") { weights[String(name.dropFirst(6))] = tensor }
            if name.hasPrefix("optimizer.") { optimizerState[String(name.dropFirst(10))] = Tensor(shape: tensor.shape, scalars: tensor.floats()) }
        }
        try model.load(weights)
        try optimizer.load(state: optimizerState)
        let epoch: Int = try reader.number("epoch"), position: Int = try reader.number("position")
        guard position >= 0 && position <= batchesPerEpoch else { throw TrainingError("checkpoint position \(position) outside its epoch") }
        loader.seek(epoch: epoch, position: position)
        globalStep = try reader.number("global_step")
        forwardRandom = SplitMix64(seed: try reader.number("forward_random"))
        // Checkpoints from before the running figures were saved resume with empty ones.
        if file.metadata["epoch_images"] != nil {
            epochFigures.lossSum = try reader.number("epoch_loss_sum")
            epochFigures.correct = try reader.number("epoch_correct")
            epochFigures.images = try reader.number("epoch_images")
            epochFigures.steps = try reader.number("epoch_steps")
            epochFigures.stepSeconds = try reader.number("epoch_step_seconds")
        }
        if options.warmup != nil, let done = file.metadata["warmup_done"] {
            isWarmingUp = done != "true"
            warmupWindow = try (file.metadata["warmup_window"] ?? "").split(separator: ",").map { entry in
                let parts = entry.split(separator: "/")
                guard parts.count == 2, let wrong = Int(parts[0]), let images = Int(parts[1]) else {
                    throw TrainingError("checkpoint metadata: 'warmup_window' entry '\(entry)' is not WRONG/IMAGES")
                }
                return (wrong, images)
            }
        }
    }
}

/// Whether every element of every tensor is finite: Σ 0·x is 0 exactly when no x is NaN or infinite.
private func allFinite(_ tensors: [Tensor]) -> Bool {
    for tensor in tensors {
        let probe = tensor.withUnsafeBufferPointer { x in
            var lanes = SIMD8<Float>()
            let whole = x.count & ~7
            for start in stride(from: 0, to: whole, by: 8) {
                var block = SIMD8<Float>()
                for lane in 0..<8 { block[lane] = x[start + lane] }
                lanes += block * 0
            }
            var total = lanes.sum()
            for i in whole..<x.count { total += x[i] * 0 }
            return total
        }
        if probe != 0 { return false }
    }
    return true
}

/// Loss and accuracy of any model on a data set, in evaluation mode without recording.
public func evaluate(_ model: Layer, on set: ImageSet, normalization: Normalization?, batchSize: Int = 500) -> Evaluation {
    let loader = DataLoader(set, batchSize: batchSize, shuffle: false, normalization: normalization)
    var totalLoss = 0.0, correct = 0.0
    for batch in loader {
        var context = ForwardContext.evaluation
        let logits = withoutGradient { model(Variable(Tensor(shape: batch.shape, scalars: batch.images)), &context) }
        totalLoss += Double(crossEntropy(logits: logits, labels: batch.labels, reduction: .sum).scalar)
        correct += Double(accuracy(logits: logits.value, labels: batch.labels)) * Double(batch.count)
    }
    return Evaluation(loss: Float(totalLoss / Double(set.count)), accuracy: Float(correct / Double(set.count)))
}
