import Datasets
import Models
import NN
import SafeTensors
import Tape

/// Loss and accuracy over a set of examples.
public struct Evaluation: Sendable, Equatable {
    public var loss: Float
    public var accuracy: Float

    public init(loss: Float, accuracy: Float) {
        self.loss = loss
        self.accuracy = accuracy
    }
}

/// One training step's results.
public struct StepResult: Sendable {
    public var loss: Float
    public var accuracy: Float
    public var images: Int
}

/// Trains a registry model with SGD on a data set, one mini-batch at a time, and can be
/// checkpointed and resumed exactly: the data order depends only on (seed, epoch), the forward
/// pass's generator (dropout, stochastic depth) and the optimiser state are saved, so k steps,
/// a checkpoint, a resume and k more steps give the same bits as 2k steps straight.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let model: Layer
    public let optimizer: SGD
    public let train: ImageSet, test: ImageSet
    let loader: DataLoader
    /// The generator the forward passes draw from; advanced by every training step.
    public private(set) var forwardRandom: SplitMix64
    /// Completed optimiser steps over the whole run.
    public private(set) var globalStep = 0

    /// The epoch in progress (0-based) and the next batch within it.
    public var epoch: Int { loader.epoch }
    public var position: Int { loader.position }
    public var batchesPerEpoch: Int { loader.batchesPerEpoch }
    public var isFinished: Bool { epoch >= configuration.epochs }

    public init(_ configuration: TrainingConfiguration, train: ImageSet, test: ImageSet) throws {
        try configuration.validate()
        self.configuration = configuration
        let entry = try ModelRegistry.entry(named: configuration.model)
        if let mismatch = entry.mismatch(imageShape: [train.channels, train.height, train.width]) {
            throw TrainingError("\(configuration.dataset.rawValue) does not fit: \(mismatch)")
        }
        guard train.classCount <= entry.classes else {
            throw TrainingError("\(entry.name) has \(entry.classes) outputs but \(configuration.dataset.rawValue) has \(train.classCount) classes")
        }
        self.train = configuration.trainLimit.map { train.prefix($0) } ?? train
        self.test = configuration.testLimit.map { test.prefix($0) } ?? test
        model = try ModelRegistry.make(configuration.model, seed: configuration.seed)
        optimizer = SGD(parameters: model.parameters, learningRate: configuration.learningRate, momentum: configuration.momentum,
                        weightDecay: configuration.weightDecay)
        loader = DataLoader(self.train, batchSize: configuration.batchSize, shuffle: true, seed: configuration.seed,
                            normalization: configuration.dataset.normalization,
                            augmentation: configuration.augment ? .padCropFlip : .none, prefetch: true)
        forwardRandom = SplitMix64(seed: configuration.seed ^ 0xF0_5EED)
    }

    /// The learning rate in force at the current position.
    public var learningRate: Float {
        let base = configuration.learningRate
        switch configuration.schedule {
        case .constant: return base
        case .multiStep(let milestones): return MultiStepSchedule(base: base, milestones: milestones).learningRate(at: epoch)
        case .cosine:
            return CosineSchedule(base: base, totalSteps: configuration.epochs * batchesPerEpoch).learningRate(at: globalStep)
        }
    }

    /// Trains on the next mini-batch; nil at the end of an epoch (the next call starts the next one).
    public func step() -> StepResult? {
        guard let batch = loader.next() else { return nil }
        let images = Variable(Tensor(shape: batch.shape, scalars: batch.images))
        var context = ForwardContext(mode: .training, random: forwardRandom)
        let logits = model(images, &context)
        forwardRandom = context.random
        let loss = crossEntropy(logits: logits, labels: batch.labels)
        optimizer.learningRate = learningRate
        model.zeroGradients()
        loss.backward()
        optimizer.step()
        globalStep += 1
        return StepResult(loss: loss.scalar, accuracy: accuracy(logits: logits.value, labels: batch.labels), images: batch.count)
    }

    /// Loss and accuracy on `set` in evaluation mode (running BatchNorm statistics).
    public func evaluate(_ set: ImageSet, batchSize: Int = 500) -> Evaluation {
        Training.evaluate(model, on: set, normalization: configuration.dataset.normalization, batchSize: batchSize)
    }

    /// The checkpoint: weights and buffers under `model.`, optimiser state under `optimizer.`,
    /// position, generator state and configuration in the metadata.
    public func checkpoint() throws -> SafeTensorsFile {
        var file = try model.stateDict()
        file.tensors = Dictionary(uniqueKeysWithValues: file.tensors.map { ("model." + $0.key, $0.value) })
        for (key, value) in optimizer.state {
            file["optimizer." + key] = try SafeTensor(floats: value.scalars, shape: value.shape)
        }
        file.metadata = configuration.metadata.merging([
            "epoch": "\(epoch)", "position": "\(position)", "global_step": "\(globalStep)",
            "forward_random": "\(forwardRandom.state)", "format": "tape-checkpoint-1",
        ]) { $1 }
        return file
    }

    /// Restores a trainer from a checkpoint written by `checkpoint()`.
    public static func resume(from file: SafeTensorsFile, train: ImageSet, test: ImageSet) throws -> Trainer {
        guard file.metadata["format"] == "tape-checkpoint-1" else { throw TrainingError("not a Tape training checkpoint (metadata 'format' missing)") }
        let configuration = try TrainingConfiguration(metadata: file.metadata)
        let trainer = try Trainer(configuration, train: train, test: test)
        func integer(_ key: String) throws -> Int {
            guard let value = file.metadata[key].flatMap({ Int($0) }) else { throw TrainingError("checkpoint metadata lacks '\(key)'") }
            return value
        }
        var weights = SafeTensorsFile(tensors: [:])
        var optimizerState: [String: Tensor] = [:]
        for name in file.names {
            let tensor = file[name]!
            if name.hasPrefix("model.") { weights[String(name.dropFirst(6))] = tensor }
            if name.hasPrefix("optimizer.") { optimizerState[String(name.dropFirst(10))] = Tensor(shape: tensor.shape, scalars: tensor.floats()) }
        }
        try trainer.model.load(weights)
        try trainer.optimizer.load(state: optimizerState)
        let epoch = try integer("epoch"), position = try integer("position")
        guard position >= 0 && position <= trainer.batchesPerEpoch else { throw TrainingError("checkpoint position \(position) outside its epoch") }
        trainer.loader.seek(epoch: epoch, position: position)
        trainer.globalStep = try integer("global_step")
        guard let state = file.metadata["forward_random"].flatMap({ UInt64($0) }) else { throw TrainingError("checkpoint metadata lacks 'forward_random'") }
        trainer.forwardRandom = SplitMix64(seed: state)
        return trainer
    }
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
