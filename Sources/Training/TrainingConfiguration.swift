import Datasets
import NN

/// Why training cannot start or go on.
public enum TrainingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A problem with a run's inputs: bad options, data or checkpoints; the message names it.
    case invalid(String)
    /// The loss (or a gradient or an updated weight) of step `step` (from 1) of epoch `epoch`
    /// (from 1) was NaN or infinite. The step's update was not kept in any checkpoint: the
    /// trainer refuses to step or checkpoint again.
    case diverged(epoch: Int, step: Int, loss: Float)

    /// A problem with a run's inputs.
    public init(_ description: String) { self = .invalid(description) }

    public var description: String {
        switch self {
        case .invalid(let message): message
        case .diverged(let epoch, let step, let loss):
            "training diverged at epoch \(epoch), step \(step): "
                + (loss.isFinite ? "the gradients or updated weights are not finite (loss \(loss))" : "the loss is \(loss)")
        }
    }
}

/// The data sets `lab train` knows.
public enum DatasetName: String, Sendable, CaseIterable {
    /// MNIST's handwritten digits (`--dataset mnist`).
    case mnist
    /// Fashion-MNIST's clothing images (`--dataset fashion-mnist`).
    case fashionMNIST = "fashion-mnist"
    /// CIFAR-10's binary batches (`--dataset cifar10`).
    case cifar10
    /// CIFAR-100's binary batches, fine labels (`--dataset cifar100`).
    case cifar100

    /// The data set's per-channel mean and standard deviation, applied to training and test images.
    public var normalization: Normalization {
        switch self {
        case .mnist: .mnist
        case .fashionMNIST: .fashionMNIST
        case .cifar10: .cifar10
        case .cifar100: .cifar100
        }
    }

    /// The folder of the data directory that holds its files.
    public var folder: String {
        switch self {
        case .mnist: "mnist"
        case .fashionMNIST: "fashion-mnist"
        case .cifar10: "cifar-10-batches-bin"
        case .cifar100: "cifar-100-binary"
        }
    }

    /// Loads a split, with every file validated.
    public func load(_ split: Split, from directory: DataDirectory) throws -> ImageSet {
        switch self {
        case .mnist: try MNIST.load(split, from: directory)
        case .fashionMNIST: try FashionMNIST.load(split, from: directory)
        case .cifar10: try CIFAR10.load(split, from: directory)
        case .cifar100: try CIFAR100.load(split, from: directory)
        }
    }
}

/// How the learning rate changes over training.
public enum ScheduleKind: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// Divide by 10 at each listed epoch (PyTorch's MultiStepLR, γ = 0.1).
    case multiStep([Int])
    /// Cosine annealing from the base rate to 0 over all steps.
    case cosine

    /// Parses `constant`, `cosine` or `multistep:E1,E2,…`.
    public init(parsing text: String) throws {
        switch text {
        case "constant": self = .constant
        case "cosine": self = .cosine
        default:
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0] == "multistep" else {
                throw TrainingError("unknown schedule '\(text)' (use constant, cosine or multistep:E1,E2,…)")
            }
            let milestones = parts[1].split(separator: ",").map { Int($0) }
            guard !milestones.isEmpty, milestones.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw TrainingError("schedule '\(text)': milestones must be positive epoch numbers")
            }
            self = .multiStep(milestones.map { $0! })
        }
    }

    /// The form `init(parsing:)` reads: `constant`, `cosine` or `multistep:E1,E2,…`.
    public var text: String {
        switch self {
        case .constant: "constant"
        case .cosine: "cosine"
        case .multiStep(let milestones): "multistep:" + milestones.map(String.init).joined(separator: ",")
        }
    }
}

/// A `lab train` run: a registry model, a known data set and the training options; stored in
/// checkpoints so `--resume` needs nothing else.
public struct TrainingConfiguration: Sendable, Equatable {
    /// The registry name of the model (`--model`), built by `ModelRegistry.make(_:seed:)`.
    public var model: String
    /// The data set (`--dataset`).
    public var dataset: DatasetName
    /// Passes over the training set (`--epochs`).
    public var epochs = 10
    /// Images per step (`--batch-size`).
    public var batchSize = 64
    /// SGD's base learning rate (`--lr`).
    public var learningRate: Float = 0.1
    /// SGD momentum μ (`--momentum`; 0 for plain SGD).
    public var momentum: Float = 0.9
    /// L2 weight decay λ (`--weight-decay`).
    public var weightDecay: Float = 0
    /// Nesterov momentum (`--nesterov`).
    public var nesterov = false
    /// How the learning rate changes (`--schedule`).
    public var schedule = ScheduleKind.constant
    /// He et al.'s warm-up (a low rate until the running training error is below a threshold); nil for none.
    public var warmup: Warmup?
    /// The seed of the model's initialisation, the data order, augmentation and the forward
    /// passes' generator (`--seed`).
    public var seed: UInt64 = 0
    /// Use only the first n training images (`--limit`, quick runs); nil for all.
    public var trainLimit: Int?
    /// Use only the first n test images (`--test-limit`); nil for all.
    public var testLimit: Int?
    /// Pad-4 random crops and horizontal flips (on by default for CIFAR).
    public var augment: Bool

    /// A run of `model` on `dataset` with the defaults above; augmentation is on for CIFAR.
    public init(model: String, dataset: DatasetName) {
        self.model = model
        self.dataset = dataset
        augment = dataset == .cifar10 || dataset == .cifar100
    }

    /// Checks ranges; throws a message naming the option.
    public func validate() throws {
        if epochs < 1 { throw TrainingError("--epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 { throw TrainingError("--batch-size must be at least 1, got \(batchSize)") }
        if !(learningRate > 0) { throw TrainingError("--lr must be positive, got \(learningRate)") }
        if momentum < 0 || momentum >= 1 { throw TrainingError("--momentum must be in [0, 1), got \(momentum)") }
        if weightDecay < 0 { throw TrainingError("--weight-decay must be non-negative, got \(weightDecay)") }
        if let trainLimit, trainLimit < 1 { throw TrainingError("--limit must be at least 1, got \(trainLimit)") }
        if let testLimit, testLimit < 1 { throw TrainingError("--test-limit must be at least 1, got \(testLimit)") }
        if nesterov && momentum == 0 { throw TrainingError("--nesterov needs a positive --momentum") }
        do { try warmup?.validate() } catch { throw TrainingError("--warmup: \(error)") }
    }

    /// The general trainer's options for this run: the data set's normalisation, pad-crop-flip
    /// augmentation when `augment`, prefetching on.
    public var options: TrainingOptions {
        TrainingOptions(epochs: epochs, batchSize: batchSize, learningRate: learningRate, momentum: momentum,
                        weightDecay: weightDecay, nesterov: nesterov, schedule: schedule, warmup: warmup, seed: seed,
                        augmentation: augment ? .padCropFlip : .none, normalization: dataset.normalization, prefetch: true)
    }

    /// The configuration as checkpoint metadata.
    public var metadata: [String: String] {
        var result = [
            "config.model": model, "config.dataset": dataset.rawValue, "config.epochs": "\(epochs)",
            "config.batch_size": "\(batchSize)", "config.lr": "\(learningRate)", "config.momentum": "\(momentum)",
            "config.weight_decay": "\(weightDecay)", "config.schedule": schedule.text, "config.seed": "\(seed)",
            "config.augment": "\(augment)",
        ]
        if let trainLimit { result["config.train_limit"] = "\(trainLimit)" }
        if let testLimit { result["config.test_limit"] = "\(testLimit)" }
        if nesterov { result["config.nesterov"] = "true" }
        if let warmup { result["config.warmup"] = warmup.text }
        return result
    }

    /// Reads a configuration back from checkpoint metadata.
    public init(metadata: [String: String]) throws {
        func value(_ key: String) throws -> String {
            guard let value = metadata["config." + key] else { throw TrainingError("checkpoint metadata lacks config.\(key)") }
            return value
        }
        func number<T: LosslessStringConvertible>(_ key: String, as type: T.Type) throws -> T {
            guard let parsed = T(try value(key)) else { throw TrainingError("checkpoint metadata: config.\(key) is not a number") }
            return parsed
        }
        guard let dataset = DatasetName(rawValue: try value("dataset")) else { throw TrainingError("checkpoint metadata: unknown data set") }
        self.init(model: try value("model"), dataset: dataset)
        epochs = try number("epochs", as: Int.self)
        batchSize = try number("batch_size", as: Int.self)
        learningRate = try number("lr", as: Float.self)
        momentum = try number("momentum", as: Float.self)
        weightDecay = try number("weight_decay", as: Float.self)
        schedule = try ScheduleKind(parsing: try value("schedule"))
        seed = try number("seed", as: UInt64.self)
        augment = try value("augment") == "true"
        trainLimit = metadata["config.train_limit"].flatMap { Int($0) }
        testLimit = metadata["config.test_limit"].flatMap { Int($0) }
        nesterov = metadata["config.nesterov"] == "true"
        warmup = try metadata["config.warmup"].map { try Warmup(parsing: $0) }
    }
}
